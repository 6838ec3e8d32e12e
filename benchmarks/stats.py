"""Spread over seeds: means with 95 % intervals, the aggregate over scenarios, the stability
of the ranking (Kendall's tau) and each preset's headroom over the one-feature shortcuts.

Every figure here is computed from the tidy result rows (:mod:`launderbench.benchmarks.runner`,
``group = all``), one value per (detector, scenario, seed, task, metric):

* **a cell** (one detector on one scenario) is the mean over seeds with a Student-t 95 %
  interval (``scipy.stats.t``), the usual interval for a handful of independent seeds;
* **the aggregate** of a detector is formed per seed, as the mean over the scenarios where the
  detector has a value, and then averaged over seeds with the same interval: the interval so
  reflects how the whole suite moves from seed to seed;
* **ranking stability** is Kendall's tau-b (``scipy.stats.kendalltau``) between the detectors'
  per-seed aggregates, averaged over every pair of seeds;
* **headroom** on a preset and task is the best real detector's mean minus the best
  one-feature shortcut's (random, degree, amount, address age), pooled over seeds.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np

from .chance import SHORTCUTS

__all__ = ["mean_ci", "cell_table", "aggregate", "per_seed_aggregate", "ranking_stability",
           "headroom", "HEADROOM_METRIC"]

#: the metric headroom compares, per task (PR-AUC: threshold-free and base-rate aware)
HEADROOM_METRIC = {"tracing/address": "pr_auc", "classification/address": "pr_auc",
                   "classification/transaction": "pr_auc"}


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, int]:
    """``(mean, half-width, n)`` of the finite ``values``: the half-width of the Student-t
    interval at ``confidence`` (NaN with fewer than two values)."""
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    m = float(v.mean())
    if n < 2:
        return m, math.nan, n
    from scipy import stats

    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, half, n


def _ok(rows):
    return (r for r in rows if r["status"] == "ok" and r["group"] == "all")


def _values(rows, task: str, metric: str) -> dict:
    """``{detector: {scenario: {seed: value}}}`` for one task and metric."""
    out = defaultdict(lambda: defaultdict(dict))
    for r in _ok(rows):
        if r["task"] == task and r["metric"] == metric and not math.isnan(r["value"]):
            out[r["detector"]][r["scenario"]][r["seed"]] = r["value"]
    return out


def cell_table(rows, task: str, metric: str) -> dict:
    """``{scenario: {detector: (mean, half-width, n seeds)}}``."""
    out = defaultdict(dict)
    for det, by_scen in _values(rows, task, metric).items():
        for scen, by_seed in by_scen.items():
            out[scen][det] = mean_ci(by_seed.values())
    return dict(out)


def per_seed_aggregate(rows, task: str, metric: str) -> dict:
    """``{detector: {seed: mean over the scenarios}}``."""
    out = {}
    for det, by_scen in _values(rows, task, metric).items():
        acc = defaultdict(list)
        for by_seed in by_scen.values():
            for seed, v in by_seed.items():
                acc[seed].append(v)
        out[det] = {seed: float(np.mean(v)) for seed, v in acc.items()}
    return out


def aggregate(rows, task: str, metric: str) -> dict:
    """``{detector: (mean, half-width, n seeds)}``: the mean over scenarios, formed per seed,
    then over seeds (see the module docstring)."""
    return {det: mean_ci(by_seed.values())
            for det, by_seed in per_seed_aggregate(rows, task, metric).items()}


def ranking_stability(rows, task: str, metric: str) -> float:
    """Mean Kendall tau-b over every pair of seeds between the detectors' per-seed aggregates
    (detectors with a value in both seeds; NaN with fewer than two seeds or three detectors)."""
    from scipy.stats import kendalltau

    agg = per_seed_aggregate(rows, task, metric)
    seeds = sorted({s for by_seed in agg.values() for s in by_seed})
    taus = []
    for a, b in itertools.combinations(seeds, 2):
        dets = [d for d in agg if a in agg[d] and b in agg[d]]
        if len(dets) < 3:
            continue
        tau = kendalltau([agg[d][a] for d in dets], [agg[d][b] for d in dets]).statistic
        if not math.isnan(tau):
            taus.append(float(tau))
    return float(np.mean(taus)) if taus else math.nan


def headroom(rows, shortcuts=SHORTCUTS, metric_of=None) -> list[dict]:
    """Per scenario and task: the best real detector and the best shortcut by their mean over
    seeds, and the difference (``headroom``; positive when the detector beats every shortcut).

    Real detectors are those not in ``shortcuts``; the learned baselines count as real.
    """
    metric_of = metric_of or HEADROOM_METRIC
    out = []
    for task, metric in metric_of.items():
        for scen, cells in sorted(cell_table(rows, task, metric).items()):
            real = {d: c[0] for d, c in cells.items() if d not in shortcuts}
            short = {d: c[0] for d, c in cells.items() if d in shortcuts}
            if not real or not short:
                continue
            best = max(real, key=real.get)
            best_short = max(short, key=short.get)
            out.append({"scenario": scen, "task": task, "metric": metric,
                        "detector": best, "value": real[best],
                        "shortcut": best_short, "shortcut_value": short[best_short],
                        "headroom": real[best] - short[best_short]})
    return out
