"""The leaderboard: headline metrics per detector with their 95 % intervals over seeds, as an
aggregate over scenarios and as one table per scenario (terminal text and Markdown).

How a cell is formed is in :mod:`launderbench.benchmarks.stats`: a scenario's cell is the
mean over seeds with a Student-t interval; the aggregate is the mean over scenarios formed per
seed, then over seeds. Detectors are marked by kind: ``*`` a one-feature shortcut (uses no
laundering knowledge: how far chance reaches), ``+`` a detector that learns from labels
(evaluated on the classification tasks only, under the run's protocol and label policy).
"""

from __future__ import annotations

import math
from collections import defaultdict

from .chance import SHORTCUTS
from .stats import aggregate, cell_table

__all__ = ["HEADLINE", "leaderboard", "scenario_boards", "format_table", "markdown_table",
           "found_nothing", "NOTHING",
           "format_cell", "FOOTNOTE",
           "detector_kind", "MARKS"]

#: leaderboard columns: (header, task, metric)
HEADLINE = (
    ("trace value@k", "tracing/address", "value_recall@k"),
    ("trace PR-AUC", "tracing/address", "pr_auc"),
    ("trace depth", "tracing/address", "trace_depth@k"),
    ("addr PR-AUC", "classification/address", "pr_auc"),
    ("tx PR-AUC", "classification/transaction", "pr_auc"),
    ("tx F1", "classification/transaction", "f1"),
    ("typology share", "typology", "share@k"),
    ("link F1", "linking", "f1"),
)
TIMING = ("fit+score s", "warm-up s", "peak MB")
NOTHING = "no detections"
MARKS = {"shortcut": " *", "learned": " +", "detector": ""}


def detector_kind(name: str) -> str:
    """``"shortcut"`` (one-feature baseline), ``"learned"`` (needs labels) or ``"detector"``."""
    if name in SHORTCUTS:
        return "shortcut"
    try:
        from launderbench import detectors

        if detectors.registry.load(name)._tag("needs_labels"):
            return "learned"
    except Exception:  # noqa: BLE001 - a detector from another installation
        pass
    return "detector"


def _mean(vals):
    v = [x for x in vals if x is not None and not math.isnan(x)]
    return sum(v) / len(v) if v else math.nan


def _status_and_timing(rows, scenario=None):
    status, timing = {}, defaultdict(dict)
    for r in rows:
        if scenario is not None and r["scenario"] != scenario:
            continue
        d = r["detector"]
        status.setdefault(d, "ok")
        if r["status"] == "skipped":  # a task the dataset cannot support: not a failure
            continue
        if r["status"] != "ok":
            status[d] = f"failed: {r['error']}"
            continue
        timing[d][(r["scenario"], r["seed"])] = (
            r["fit_s"] + r["score_s"], r.get("warmup_s", math.nan), r["peak_mem_mb"])
    return status, timing


def found_nothing(rows) -> tuple[set, set]:
    """Where a detector singled out no item (``detections`` 0 in every seed; see
    :meth:`launderbench.detectors.base.Scores.detections`): ``({(detector, scenario, task)},
    {(detector, scenario)})``, the second where it found nothing at any level."""
    seen = defaultdict(set)
    for r in rows:
        if r["status"] == "ok" and r["group"] == "all" and r.get("detections") is not None:
            seen[(r["detector"], r["scenario"], r["task"])].add(int(r["detections"]))
    tasks = {k for k, v in seen.items() if v == {0}}
    pairs = defaultdict(set)
    for (d, s, _), v in seen.items():
        pairs[(d, s)] |= v
    return tasks, {k for k, v in pairs.items() if v == {0}}


def _board(status, timing, cell_of, nothing=lambda d, task: False,
           nothing_count=None) -> list[dict]:
    out = []
    for d in status:
        row = {"detector": d, "kind": detector_kind(d), "status": status[d]}
        for head, task, metric in HEADLINE:
            row[head] = (NOTHING if nothing(d, task)
                         else cell_of(task, metric).get(d, (math.nan, math.nan, 0)))
        if nothing_count is not None:
            row[NOTHING] = nothing_count(d)
        t = list(timing[d].values())
        for i, head in enumerate(TIMING):
            row[head] = _mean([x[i] for x in t if x[i] is not None])
        out.append(row)

    def key(r):
        a, b = (_mean_of(r["trace value@k"]), _mean_of(r["addr PR-AUC"]))
        return (r["status"] != "ok", -(a if not math.isnan(a) else -1),
                -(b if not math.isnan(b) else -1), r["detector"])

    return sorted(out, key=key)


def _mean_of(cell) -> float:
    return cell[0] if isinstance(cell, tuple) else math.nan


def leaderboard(results) -> list[dict]:
    """One row per detector: each headline metric as ``(mean, half-width, seeds)`` of the
    aggregate over scenarios, mean timings (fit + score, warm-up, peak memory), and on how
    many scenarios it found nothing (``no detections``)."""
    status, timing = _status_and_timing(results.rows)
    _, nothing = found_nothing(results.rows)
    n_scen = len({r["scenario"] for r in results.rows})
    cache = {}

    def cell_of(task, metric):
        if (task, metric) not in cache:
            cache[(task, metric)] = aggregate(results.rows, task, metric)
        return cache[(task, metric)]

    def count(d):
        k = sum(1 for dd, _ in nothing if dd == d)
        return f"{k} of {n_scen}" if k else ""

    return _board(status, timing, cell_of, nothing_count=count)


def scenario_boards(results) -> dict[str, list[dict]]:
    """``{scenario: leaderboard rows}``: the same columns, one scenario at a time (mean and
    interval over its seeds)."""
    cells = {(t, m): cell_table(results.rows, t, m) for _, t, m in HEADLINE}
    nothing, _ = found_nothing(results.rows)
    out = {}
    for scen in sorted({r["scenario"] for r in results.rows}):
        status, timing = _status_and_timing(results.rows, scen)
        out[scen] = _board(status, timing,
                           lambda task, metric, s=scen: cells[(task, metric)].get(s, {}),
                           nothing=lambda d, task, s=scen: (d, s, task) in nothing)
    return out


def format_cell(v, digits=3) -> str:
    if isinstance(v, tuple):
        m, h, _ = v
        if math.isnan(m):
            return "–"
        return format_cell(m, digits) + ("" if math.isnan(h) else f" ± {h:.{min(digits, 2)}f}")
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}f}"


def _empty(v) -> bool:
    m = v[0] if isinstance(v, tuple) else v
    return (isinstance(m, float) and math.isnan(m)) or m == ""


def _columns(board):
    cols = ["detector"] + [h for h, _, _ in HEADLINE] + list(TIMING) + [NOTHING]
    # drop metric columns empty for every detector (e.g. no linking task anywhere)
    return [c for c in cols if c == "detector" or any(not _empty(r.get(c, "")) for r in board)]


def _cells(r, cols):
    name = r["detector"] + MARKS[r["kind"]]
    if r["status"] != "ok":
        name += " (failed)"
    return [name] + [format_cell(r.get(c, ""), 2 if c in TIMING else 3) for c in cols[1:]]


FOOTNOTE = ("* one-feature shortcut (no laundering knowledge: how far chance reaches); "
            "+ learns from labels (classification tasks only); cells: mean ± 95% interval "
            "over seeds (no interval with one seed); no detections: scores that are one tie "
            "(the detector singled out nothing, so its metrics sit at chance)")


def format_table(board: list[dict]) -> str:
    """The leaderboard as a plain-text table for the terminal."""
    if not board:
        return "(no results)"
    cols = _columns(board)
    rows = [cols] + [_cells(r, cols) for r in board]
    w = [max(len(x[i]) for x in rows) for i in range(len(cols))]
    lines = ["  ".join(x[i].ljust(w[i]) if i == 0 else x[i].rjust(w[i]) for i in range(len(cols)))
             for x in rows]
    lines.insert(1, "  ".join("-" * n for n in w))
    fails = [f"  {r['detector']}: {r['status']}" for r in board if r["status"] != "ok"]
    return "\n".join(lines + [FOOTNOTE] + (["failed:"] + fails if fails else []))


def markdown_table(board: list[dict]) -> str:
    """The leaderboard as a Markdown table."""
    if not board:
        return "(no results)"
    cols = _columns(board)
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join(
        "---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    for r in board:
        out.append("| " + " | ".join(_cells(r, cols)) + " |")
    return "\n".join(out)
