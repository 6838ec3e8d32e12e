"""Leak survey: every shortcut baseline on every laundering preset over several seeds.

The leak test (``tests/benchmarks/test_shortcuts.py``) looks at one seed; this survey says how
often, and how far, each shortcut leaves the chance band across seeds, so that a change to the
generator can be judged by more than one draw::

    .venv/bin/python -m benchmarks.leak_survey --seeds 3 --transactions 4000
    .venv/bin/python -m benchmarks.leak_survey --seeds 3 --footprint incidents
    .venv/bin/python -m benchmarks.leak_survey --seeds 3 --twin-share 0.5
    .venv/bin/python -m benchmarks.leak_survey --footprint fixed --twin-share 0.3 --split-sigma 0

prints one line per (shortcut, task): the number of results, the mean ROC-AUC, the mean and
the largest distance from 0.5, and how many lie beyond :data:`~benchmarks.baselines.
CHANCE_TOLERANCE`. A preset that cannot be generated at a seed is reported and skipped.
"""

from __future__ import annotations

import argparse

import numpy as np

from .baselines import CHANCE_TOLERANCE, SHORTCUTS, shortcut_aucs
from .runner import DetectorSpec, RunConfig, run_config
from .suites import ScenarioRun, laundering_presets


def survey(seeds: int = 3, transactions: int = 4000, presets=None, progress=False,
           footprint: str | None = None, twin_share: float | None = None,
           split_sigma: float | None = None):
    """ROC-AUC of every shortcut on every (preset, seed): ``({(detector, task): [auc]},
    [failures])``. Shortcuts without a score (the random baseline aside) are left out.
    ``footprint`` overrides ``economy.footprint`` (:mod:`simulator.footprint`), ``twin_share``
    the ``[difficulty] twin_share`` (:mod:`simulator.laundering.twins`) and ``split_sigma``
    the spread of fan-out parts (``[difficulty] split_sigma``)."""
    over = {"transactions": transactions}
    if footprint:
        over["footprint"] = footprint
    diff = {k: v for k, v in (("twin_share", twin_share), ("split_sigma", split_sigma))
            if v is not None}
    if diff:
        over["difficulty"] = diff
    out: dict[tuple[str, str], list[float]] = {}
    failed = []
    dets = [DetectorSpec(d) for d in SHORTCUTS if d != "random"]
    for seed in range(seeds):
        for p in presets or laundering_presets():
            cfg = RunConfig(suite="leak-survey", seeds=[seed], detectors=dets, memory=False,
                            scenarios=[ScenarioRun(p, dict(over))])
            try:
                rows = run_config(cfg, progress=progress).rows
            except Exception as e:  # an unsatisfiable draw is itself a finding
                failed.append(f"{p} seed {seed}: {e}")
                continue
            for r in shortcut_aucs(rows):
                out.setdefault((r["detector"], r["task"]), []).append(float(r["value"]))
    return out, failed


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
    a = ap.parse_args(argv)
    res, failed = survey(a.seeds, a.transactions, a.scenario, footprint=a.footprint,
                         twin_share=a.twin_share, split_sigma=a.split_sigma)
    for f in failed:
        print("could not generate:", f)
    print(table(res))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
