"""The validity benchmark: every baseline on every laundering preset, beside its placebos.

One seed is one draw, and a baseline's ROC-AUC on one preset measures one incident. This
survey runs every baseline (the one-feature shortcuts and the learned ``raw-tx-classifier``,
:data:`~launderbench.benchmarks.chance.BASELINES`) on every preset over several seeds, each
result beside up to K placebos of its dataset (:mod:`launderbench.benchmarks.placebo`: a
benign twin labelled as the laundering, with its own start announced for tracing)::

    .venv/bin/python -m launderbench.benchmarks.validity --transactions 4000 --seeds 3 --placebos 10
    .venv/bin/python -m launderbench.benchmarks.validity --seeds 3 --placebos 0 --footprint incidents
    .venv/bin/python -m launderbench.benchmarks.validity --footprint fixed --twin-share 0.3 --split-sigma 0

It prints two tables (docs/validity.md has the figures):

* **placebos** (with ``--placebos`` K > 0), per baseline and task over every (preset, seed):
  the mean real ROC-AUC, the placebos' mean and 5-95% range, the real results' mean
  percentile among their placebos (50 when the real laundering is as a benign replay), how
  many real results are set apart (farther from 0.5 than every placebo), how many chance
  gives (the sum of ``1 / (k + 1)``), and the probability of at least that many by chance
  (:func:`apart_p`, an exact Poisson-binomial tail);
* **pooled means**, per task, preset and one-feature shortcut: the mean ROC-AUC over the
  seeds with its 95% interval (:func:`launderbench.benchmarks.stats.mean_ci`), marked where
  the mean lies beyond :data:`~launderbench.benchmarks.chance.CHANCE_TOLERANCE`, and how many
  means and single results lie beyond it. One actor's spread shrinks as seeds are pooled; a
  leak built into a preset does not.

``--footprint``, ``--twin-share`` and ``--split-sigma`` override the presets' calibration
knobs, so that a change to the generator can be compared with the settings before it
(``--footprint fixed --twin-share 0.3 --split-sigma 0`` are 0.4.0's). A preset that cannot
be generated at a seed is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from .chance import BASELINES, CHANCE_TOLERANCE, SHORTCUTS
from .placebo import PLACEBO_TASKS, placebo_percentiles
from .stats import mean_ci
from .suites import ScenarioRun, laundering_presets, load_dataset

__all__ = ["survey", "dataset_records", "apart_p", "apart_summary", "gate", "pooled",
           "placebo_table", "pooled_table", "main", "GATE_ALPHA", "MIN_PLACEBOS"]

#: the strict placebo test: significance level, and the placebos a result needs to count
GATE_ALPHA = 0.001
MIN_PLACEBOS = 9


def _overrides(transactions, footprint=None, twin_share=None, split_sigma=None) -> dict:
    over = {"transactions": transactions}
    if footprint:
        over["footprint"] = footprint
    diff = {k: v for k, v in (("twin_share", twin_share), ("split_sigma", split_sigma))
            if v is not None}
    if diff:
        over["difficulty"] = diff
    return over


def dataset_records(preset: str, seed: int, overrides: dict, placebos: int = 10,
                    detectors=BASELINES, cache=None) -> list[dict]:
    """:func:`~launderbench.benchmarks.placebo.placebo_percentiles` of one preset at one seed
    (generated, or read from the dataset cache), each record with its ``preset`` and
    ``seed``; the placebos are drawn with ``seed``."""
    ds = load_dataset(ScenarioRun(preset, dict(overrides)), seed, cache=cache)
    return [dict(r, preset=preset, seed=seed)
            for r in placebo_percentiles(ds, list(detectors), k=placebos, seed=seed)]


def _job(args):
    preset, seed = args[0], args[1]
    t0 = time.perf_counter()
    try:
        return preset, seed, dataset_records(*args), None, time.perf_counter() - t0
    except Exception as e:  # an unsatisfiable draw is itself a finding
        return preset, seed, [], f"{preset} seed {seed}: {e}", time.perf_counter() - t0


def survey(seeds: int = 3, transactions: int = 4000, presets=None, placebos: int = 10,
           detectors=BASELINES, footprint: str | None = None, twin_share: float | None = None,
           split_sigma: float | None = None, jobs: int = 1, progress: bool = False):
    """Every detector on every (preset, seed) beside up to ``placebos`` placebos:
    ``(records, failures)``, a record per (preset, seed, detector, task) as
    :func:`dataset_records` gives it. ``footprint`` overrides ``economy.footprint``
    (:mod:`launderbench.simulator.footprint`), ``twin_share`` the ``[difficulty] twin_share``
    (:mod:`launderbench.simulator.laundering.twins`) and ``split_sigma`` the spread of fan-out
    parts (``[difficulty] split_sigma``). ``jobs`` > 1 runs datasets in that many processes."""
    over = _overrides(transactions, footprint, twin_share, split_sigma)
    work = [(p, s, over, placebos, tuple(detectors))
            for s in range(seeds) for p in (presets or laundering_presets())]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as ex:
            done = list(ex.map(_job, work))
    else:
        done = []
        for w in work:
            done.append(_job(w))
            if progress:
                print(f"  {w[0]} seed {w[1]}: {done[-1][4]:.1f} s", file=sys.stderr, flush=True)
    records = [r for d in done for r in d[2]]
    return records, [d[3] for d in done if d[3]]


def apart_p(ks, count: int) -> float:
    """The probability that at least ``count`` of results with ``ks`` placebos each are set
    apart by chance, each with probability ``1 / (k + 1)`` on its own (the exact tail of a
    Poisson-binomial distribution; 1.0 when ``count`` is 0)."""
    dist = np.ones(1)
    for k in ks:
        q = 1.0 / (k + 1)
        dist = np.concatenate([dist * (1 - q), [0.0]]) + np.concatenate([[0.0], dist * q])
    return float(min(1.0, dist[count:].sum())) if count > 0 else 1.0


def apart_summary(records, by=("detector", "task"), min_placebos: int = 1) -> list[dict]:
    """Per group of ``records`` (keys ``by``), over the results with at least
    ``min_placebos`` placebos: ``n``, the mean ``real`` ROC-AUC, the placebos' ``placebo``
    mean and ``p5``/``p95``, the real results' mean ``percentile``, the ``apart`` records
    (set apart from every placebo), the count ``expected`` by chance and ``p``
    (:func:`apart_p`)."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        if len(r["placebos"]) >= min_placebos:
            groups.setdefault(tuple(r[b] for b in by), []).append(r)
    out = []
    for key, rs in sorted(groups.items()):
        pl = np.concatenate([np.asarray(r["placebos"], np.float64) for r in rs])
        ks = [len(r["placebos"]) for r in rs]
        apart = [r for r in rs if r["set_apart"]]
        p5, p95 = np.percentile(pl, [5, 95])
        out.append({**dict(zip(by, key)), "n": len(rs),
                    "real": float(np.mean([r["real"] for r in rs])),
                    "placebo": float(pl.mean()), "p5": float(p5), "p95": float(p95),
                    "percentile": float(np.mean([r["percentile"] for r in rs])),
                    "apart": apart, "expected": float(sum(1.0 / (k + 1) for k in ks)),
                    "p": apart_p(ks, len(apart))})
    return out


def gate(records, alpha: float = GATE_ALPHA, min_placebos: int = MIN_PLACEBOS) -> list[str]:
    """The strict placebo test: per detector, over every preset and task of ``records``
    (results with at least ``min_placebos`` placebos), the real results set apart from all
    of their placebos must not be more than chance allows (:func:`apart_p` at least
    ``alpha``). One line per detector that fails, naming its results set apart."""
    bad = []
    for g in apart_summary(records, by=("detector",), min_placebos=min_placebos):
        if g["p"] < alpha:
            bad.append(f"{g['detector']}: {len(g['apart'])} of {g['n']} set apart "
                       f"({g['expected']:.1f} expected, p = {g['p']:.1e}): " + "; ".join(
                           f"{r['preset']} seed {r['seed']} on {r['task']}: {r['real']:.2f}, "
                           f"placebos {min(r['placebos']):.2f}-{max(r['placebos']):.2f}"
                           for r in g["apart"]))
    return bad


def placebo_table(records, min_placebos: int = 1) -> str:
    """:func:`apart_summary` per detector and task, one line each."""
    lines = [f"{'baseline':18s} {'task':27s} {'n':>3s} {'real':>5s} {'placebo':>7s} "
             f"{'5-95%':>9s} {'pctile':>6s} {'apart':>5s} {'chance':>6s} {'p':>7s}"]
    for g in apart_summary(records, min_placebos=min_placebos):
        lines.append(f"{g['detector']:18s} {g['task']:27s} {g['n']:3d} {g['real']:5.2f} "
                     f"{g['placebo']:7.2f} {g['p5']:4.2f}-{g['p95']:4.2f} "
                     f"{g['percentile']:6.1f} {len(g['apart']):5d} {g['expected']:6.1f} "
                     f"{g['p']:7.3f}")
    return "\n".join(lines)


def pooled(records, shortcuts=SHORTCUTS, tol: float = CHANCE_TOLERANCE) -> list[dict]:
    """Each (preset, shortcut, task) over the seeds of ``records``: ``{"preset",
    "detector", "task", "n", "mean", "half", "beyond"}``: the mean ROC-AUC with the
    half-width of its 95% interval (:func:`~launderbench.benchmarks.stats.mean_ci`; NaN with
    one seed) and the count of single results farther than ``tol`` from 0.5."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in records:
        if r["detector"] in shortcuts:
            groups.setdefault((r["preset"], r["detector"], r["task"]), []).append(r["real"])
    out = []
    for (p, d, t), v in sorted(groups.items()):
        m, half, n = mean_ci(v)
        out.append({"preset": p, "detector": d, "task": t, "n": n, "mean": m, "half": half,
                    "beyond": int(np.sum(np.abs(np.asarray(v) - 0.5) > tol))})
    return out


def pooled_table(records, shortcuts=SHORTCUTS, tol: float = CHANCE_TOLERANCE) -> str:
    """Per task, a preset x shortcut matrix of :func:`pooled` means (``mean±half``; ``*``
    where the mean lies beyond ``tol``), then how many means and single results lie beyond
    the band."""
    rows = pooled(records, shortcuts, tol)
    lines = []
    for task in [t for t in PLACEBO_TASKS if any(r["task"] == t for r in rows)]:
        rs = {(r["preset"], r["detector"]): r for r in rows if r["task"] == task}
        dets = [d for d in shortcuts if any(k[1] == d for k in rs)]
        lines.append(f"{task}: mean ROC-AUC over seeds, 95% interval (* beyond 0.5 +- {tol})")
        lines.append(f"  {'preset':22s}" + "".join(f"{d:>14s}" for d in dets))
        for preset in sorted({k[0] for k in rs}):
            cells = []
            for d in dets:
                r = rs.get((preset, d))
                if r is None:
                    cells.append(f"{'-':>14s}")
                    continue
                ci = "" if math.isnan(r["half"]) else f"±{r['half']:.2f}"
                star = "*" if abs(r["mean"] - 0.5) > tol else " "
                cells.append(f"{r['mean']:9.2f}{ci:4s}{star}")
            lines.append(f"  {preset:22s}" + "".join(cells))
        far = sum(abs(r["mean"] - 0.5) > tol for r in rs.values())
        lines.append(f"  means beyond the band: {far} of {len(rs)}; single results beyond: "
                     f"{sum(r['beyond'] for r in rs.values())} of "
                     f"{sum(r['n'] for r in rs.values())}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    ap.add_argument("--transactions", type=int, default=4000)
    ap.add_argument("--placebos", type=int, default=10, metavar="K",
                    help="placebos per dataset (default 10; 0: the pooled means only)")
    ap.add_argument("--scenario", action="append", help="preset id (default: all)")
    ap.add_argument("--detector", action="append",
                    help="detector name (default: every baseline)")
    ap.add_argument("--footprint", choices=("fixed", "incidents"),
                    help="economy.footprint of every preset (default: as the preset says)")
    ap.add_argument("--twin-share", type=float,
                    help="[difficulty] twin_share of every preset (default: as the preset says)")
    ap.add_argument("--split-sigma", type=float,
                    help="[difficulty] split_sigma of every preset (default: as the preset says)")
    ap.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    ap.add_argument("--progress", action="store_true", help="time each dataset on stderr")
    ap.add_argument("--out", metavar="FILE", help="also write every record to FILE (JSON)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    records, failed = survey(a.seeds, a.transactions, a.scenario, a.placebos,
                             a.detector or BASELINES, a.footprint, a.twin_share,
                             a.split_sigma, a.jobs, a.progress)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"records": records, "failed": failed}, f)
    for f in failed:
        print("could not generate:", f)
    if a.placebos > 0:
        print(f"beside their placebos (up to {a.placebos} per dataset):")
        print(placebo_table(records))
        print()
    print(f"one-feature shortcuts, pooled over {a.seeds} seed(s):")
    print(pooled_table(records))
    print(f"\n{len(records)} results in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
