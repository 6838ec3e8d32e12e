"""Turn pytest-benchmark JSON (``make bench``) into the README's speed table.

    python -m launderbench.benchmarks.benchtable reports/bench.json

One row per benchmark function, one column per size (the first integer parameter of the
test, e.g. ``n``), mean seconds per call, and the measured growth with size: the slope of
log(time) against log(size) fitted over the sizes run (1.0 = linear). Where every size of a row
recorded the dataset's actual number of transactions (``extra_info["transactions"]``), the
slope is fitted on those counts rather than on the parameter.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

from launderbench.simulator.errors import ConfigError


def _size(bench: dict):
    for v in (bench.get("params") or {}).values():
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def growth_exponent(sizes, times) -> float:
    """Least-squares slope of log(time) on log(size); NaN with fewer than two sizes."""
    pts = [(math.log(s), math.log(t)) for s, t in zip(sizes, times) if s > 0 and t > 0]
    if len(pts) < 2:
        return math.nan
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else math.nan


def table(path) -> str:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"no benchmark JSON at {p} (run `make bench` first)")
    try:
        data = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"corrupt benchmark JSON {p}: {e}") from None
    rows = defaultdict(dict)
    actual = defaultdict(dict)
    for b in data.get("benchmarks", []):
        n = _size(b)
        base = b.get("name", "?").split("[")[0]
        extra = [f"{k}={v}" for k, v in (b.get("params") or {}).items() if v != n]
        key = (b.get("fullname", base).split("::")[0].rsplit("/", 1)[-1],
               base + (f" ({', '.join(extra)})" if extra else ""))
        rows[key][n] = b["stats"]["mean"]
        tx = (b.get("extra_info") or {}).get("transactions")
        if isinstance(tx, int) and not isinstance(tx, bool) and tx > 0:
            actual[key][n] = tx
    sizes = sorted({n for r in rows.values() for n in r if n is not None})
    head = ["file", "benchmark"] + [f"{n:.0e}".replace("+0", "") for n in sizes] + ["growth"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(sizes) + 1)]
    for (f, name), r in sorted(rows.items()):
        cells = [f"{r[n]:.3g} s" if n in r else "–" for n in sizes]
        ks = [n for n in sizes if n in r]
        xs = [actual[(f, name)][n] for n in ks] if all(
            n in actual[(f, name)] for n in ks) else ks
        g = growth_exponent(xs, [r[n] for n in ks])
        out.append("| " + " | ".join([f, name] + cells + ["–" if math.isnan(g) else f"n^{g:.2f}"])
                   + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        print(table(argv[0] if argv else "reports/bench.json"))
    except ConfigError as e:
        print(f"launderbench: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
