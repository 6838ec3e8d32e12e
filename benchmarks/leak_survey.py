"""Leak survey: every shortcut baseline on every laundering preset over several seeds.

The leak test (``tests/benchmarks/test_shortcuts.py``) looks at one seed; this survey says how
often, and how far, each shortcut leaves the chance band across seeds, so that a change to the
generator can be judged by more than one draw::

    .venv/bin/python -m launderbench.benchmarks.leak_survey --seeds 3 --transactions 4000
    .venv/bin/python -m launderbench.benchmarks.leak_survey --seeds 3 --footprint incidents
    .venv/bin/python -m launderbench.benchmarks.leak_survey --seeds 3 --twin-share 0.5
    .venv/bin/python -m launderbench.benchmarks.leak_survey --footprint fixed --twin-share 0.3 --split-sigma 0

prints one line per (shortcut, task): the number of results, the mean ROC-AUC, the mean and
the largest distance from 0.5, and how many lie beyond :data:`~launderbench.benchmarks.chance.
CHANCE_TOLERANCE`. With more than one seed it then pools each (preset, shortcut, task) over
the seeds (:func:`pooled_table`): how many means over the seeds lie beyond the band, beside how
many single results do, naming each. A preset that cannot be generated at a seed is reported
and skipped.
"""

from __future__ import annotations

import argparse

import numpy as np

from .chance import CHANCE_TOLERANCE, SHORTCUTS, shortcut_aucs
from .placebo import CLASSIFICATION, placebo_aucs, placebo_p
from .runner import DetectorSpec, RunConfig, run_config
from .suites import ScenarioRun, laundering_presets, load_dataset

#: a real result is "beyond its placebos" when :func:`placebo_p` is at most this
PLACEBO_ALPHA = 0.1


def survey(seeds: int = 3, transactions: int = 4000, presets=None, progress=False,
           footprint: str | None = None, twin_share: float | None = None,
           split_sigma: float | None = None):
    """ROC-AUC of every shortcut on every (preset, seed): ``({(detector, task): [auc]},
    [failures])``. Shortcuts without a score (the random baseline aside) are left out.
    ``footprint`` overrides ``economy.footprint`` (:mod:`launderbench.simulator.footprint`), ``twin_share``
    the ``[difficulty] twin_share`` (:mod:`launderbench.simulator.laundering.twins`) and ``split_sigma``
    the spread of fan-out parts (``[difficulty] split_sigma``)."""
    out, _, failed = placebo_survey(seeds, transactions, presets, 0, progress, footprint,
                                    twin_share, split_sigma)
    return out, failed


def placebo_survey(seeds: int = 3, transactions: int = 4000, presets=None, placebos: int = 10,
                   progress=False, footprint: str | None = None,
                   twin_share: float | None = None, split_sigma: float | None = None):
    """:func:`survey`, and each classification result beside its placebos
    (:mod:`launderbench.benchmarks.placebo`): ``(results, records, failures)``, where a record is
    ``{"preset", "seed", "detector", "task", "real", "placebos": [auc, ...]}`` for every
    shortcut result; on the classification tasks, with up to ``placebos`` twins of the dataset
    labelled as laundering in turn (none on tracing, or when ``placebos`` is 0)."""
    over = {"transactions": transactions}
    if footprint:
        over["footprint"] = footprint
    diff = {k: v for k, v in (("twin_share", twin_share), ("split_sigma", split_sigma))
            if v is not None}
    if diff:
        over["difficulty"] = diff
    out: dict[tuple[str, str], list[float]] = {}
    records: list[dict] = []
    failed = []
    names = [d for d in SHORTCUTS if d != "random"]
    dets = [DetectorSpec(d) for d in names]
    for seed in range(seeds):
        for p in presets or laundering_presets():
            run = ScenarioRun(p, dict(over))
            cfg = RunConfig(suite="leak-survey", seeds=[seed], detectors=dets, memory=False,
                            scenarios=[run])
            try:
                rows = run_config(cfg, progress=progress).rows
            except Exception as e:  # an unsatisfiable draw is itself a finding
                failed.append(f"{p} seed {seed}: {e}")
                continue
            real = {}
            for r in shortcut_aucs(rows):
                out.setdefault((r["detector"], r["task"]), []).append(float(r["value"]))
                real[(r["detector"], r["task"])] = float(r["value"])
            pl = (placebo_aucs(load_dataset(run, seed), names, k=placebos, seed=seed)
                  if placebos > 0 else {})
            records += [{"preset": p, "seed": seed, "detector": det, "task": task, "real": v,
                         "placebos": pl.get((det, task), [])}
                        for (det, task), v in sorted(real.items())]
    return out, records, failed


def pooled(records, tol: float = CHANCE_TOLERANCE) -> list[dict]:
    """Each (preset, shortcut, task) over the seeds of ``records``: ``{"preset", "detector",
    "task", "n", "mean", "beyond"}``, where ``beyond`` is the count of single results farther
    than ``tol`` from 0.5. The mean over seeds is the pooled reading of "near chance on every
    preset": one actor's spread shrinks with the seeds, a leak built into a preset does not."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in records:
        groups.setdefault((r["preset"], r["detector"], r["task"]), []).append(r["real"])
    return [{"preset": p, "detector": d, "task": t, "n": len(v), "mean": float(np.mean(v)),
             "beyond": int(np.sum(np.abs(np.asarray(v) - 0.5) > tol))}
            for (p, d, t), v in sorted(groups.items())]


def pooled_table(records, tol: float = CHANCE_TOLERANCE) -> str:
    """How many (preset, shortcut, task) means over the seeds lie beyond the band, per task,
    against how many single results do, and one line per mean beyond it."""
    rows = pooled(records, tol)
    far = [r for r in rows if abs(r["mean"] - 0.5) > tol]
    lines = [f"{'task':28s} {'means':>5s} {'beyond':>6s} {'results':>7s} {'beyond':>6s}"]
    for task in sorted({r["task"] for r in rows}):
        rs = [r for r in rows if r["task"] == task]
        n_far = sum(r["task"] == task for r in far)
        lines.append(f"{task:28s} {len(rs):5d} {n_far:6d} {sum(r['n'] for r in rs):7d} "
                     f"{sum(r['beyond'] for r in rs):6d}")
    if far:
        lines.append("means beyond the band:")
    lines += [f"  {r['preset']}: {r['detector']} on {r['task']}: {r['mean']:.2f} over "
              f"{r['n']} seeds ({r['beyond']} beyond)" for r in far]
    return "\n".join(lines)


def placebo_table(records, tol: float = CHANCE_TOLERANCE, alpha: float = PLACEBO_ALPHA) -> str:
    """Per (shortcut, task): the real results, their mean, the placebos' mean, 5-95% range
    and share beyond the band (how often the band flags a benign replay), how many real
    results lie beyond the band, and how many of those are also beyond their own placebos
    (:func:`placebo_p` at most ``alpha``): the leaks a placebo does not explain."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        if r["task"] in CLASSIFICATION:
            groups.setdefault((r["detector"], r["task"]), []).append(r)
    lines = [f"{'shortcut':18s} {'task':28s} {'n':>3s} {'real':>6s} {'placebo':>8s} "
             f"{'5-95%':>11s} {'pl. beyond':>10s} beyond {'beyond placebos':>15s}"]
    for (det, task), rs in sorted(groups.items()):
        real = np.array([r["real"] for r in rs])
        pl = np.concatenate([np.asarray(r["placebos"], np.float64) for r in rs])
        lo, hi = np.percentile(pl, [5, 95]) if len(pl) else (np.nan, np.nan)
        beyond = [r for r in rs if abs(r["real"] - 0.5) > tol]
        odd = [r for r in beyond if r["placebos"] and placebo_p(r["real"], r["placebos"]) <= alpha]
        pm = pl.mean() if len(pl) else np.nan
        share = float((np.abs(pl - 0.5) > tol).mean()) if len(pl) else np.nan
        lines.append(f"{det:18s} {task:28s} {len(rs):3d} {real.mean():6.3f} {pm:8.3f} "
                     f"{lo:5.2f}-{hi:4.2f} {share:10.0%} {len(beyond):6d} {len(odd):15d}")
    return "\n".join(lines)


def table(results: dict, tol: float = CHANCE_TOLERANCE) -> str:
    lines = [f"{'shortcut':18s} {'task':28s} {'n':>3s} {'mean':>6s} {'mean|d|':>8s} "
             f"{'max|d|':>7s} beyond"]
    for (det, task), v in sorted(results.items()):
        a = np.asarray(v)
        d = np.abs(a - 0.5)
        lines.append(f"{det:18s} {task:28s} {len(a):3d} {a.mean():6.3f} {d.mean():8.3f} "
                     f"{d.max():7.3f} {int((d > tol).sum()):3d}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    ap.add_argument("--transactions", type=int, default=4000)
    ap.add_argument("--scenario", action="append", help="preset id (default: all)")
    ap.add_argument("--footprint", choices=("fixed", "incidents"),
                    help="economy.footprint of every preset (default: as the preset says)")
    ap.add_argument("--twin-share", type=float,
                    help="[difficulty] twin_share of every preset (default: as the preset says)")
    ap.add_argument("--split-sigma", type=float,
                    help="[difficulty] split_sigma of every preset (default: as the preset says)")
    ap.add_argument("--placebos", type=int, default=0, metavar="K",
                    help="also evaluate K placebos per dataset (benchmarks.placebo): twins "
                         "labelled as the laundering, the spread a shortcut reaches by chance")
    a = ap.parse_args(argv)
    res, records, failed = placebo_survey(a.seeds, a.transactions, a.scenario, a.placebos,
                                          footprint=a.footprint, twin_share=a.twin_share,
                                          split_sigma=a.split_sigma)
    for f in failed:
        print("could not generate:", f)
    print(table(res))
    if a.seeds > 1:
        print()
        print(f"per preset, the mean over {a.seeds} seeds:")
        print(pooled_table(records))
    if a.placebos > 0:
        print()
        print(f"classification beside its placebos (up to {a.placebos} per dataset):")
        print(placebo_table(records))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
