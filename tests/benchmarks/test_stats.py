"""Spread over seeds, hand-computed: intervals, the aggregate, Kendall's tau, headroom."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from launderbench.benchmarks.stats import (
    aggregate,
    cell_table,
    headroom,
    mean_ci,
    ranking_stability,
)


def row(det, scen, seed, value, task="tracing/address", metric="pr_auc"):
    return {"detector": det, "scenario": scen, "seed": seed, "value": value, "task": task,
            "metric": metric, "status": "ok", "group": "all"}


def test_mean_ci_is_the_student_t_interval():
    m, h, n = mean_ci([0.2, 0.4, 0.6])
    assert (m, n) == (pytest.approx(0.4), 3)
    # sd = 0.2, t(0.975, 2) = 4.3027 -> 4.3027 * 0.2 / sqrt(3)
    assert h == pytest.approx(sps.t.ppf(0.975, 2) * 0.2 / math.sqrt(3))
    assert h == pytest.approx(0.4968, abs=1e-4)
    assert mean_ci([0.5])[1] != mean_ci([0.5])[1]  # one seed: no interval (NaN)
    assert mean_ci([math.nan, 1.0])[:1] == (1.0,) and mean_ci([])[2] == 0


def test_aggregate_is_formed_per_seed_then_over_seeds():
    rows = [row("a", "s1", 0, 0.2), row("a", "s2", 0, 0.4),   # seed 0: mean 0.3
            row("a", "s1", 1, 0.6), row("a", "s2", 1, 0.8),   # seed 1: mean 0.7
            row("a", "s1", 2, 0.4), row("a", "s2", 2, 0.6)]   # seed 2: mean 0.5
    m, h, n = aggregate(rows, "tracing/address", "pr_auc")["a"]
    assert (m, n) == (pytest.approx(0.5), 3)
    assert h == pytest.approx(mean_ci([0.3, 0.7, 0.5])[1])
    cells = cell_table(rows, "tracing/address", "pr_auc")
    assert cells["s1"]["a"][0] == pytest.approx(0.4) and cells["s2"]["a"][2] == 3
    # failed rows and break-downs are not counted
    bad = rows + [dict(row("a", "s1", 0, 9.0), status="failed"),
                  dict(row("a", "s1", 0, 9.0), group="chain=bitcoin")]
    assert aggregate(bad, "tracing/address", "pr_auc")["a"][0] == pytest.approx(0.5)


def test_ranking_stability_is_kendall_tau_over_seed_pairs():
    rows = []
    for seed, order in enumerate([(0.9, 0.5, 0.1), (0.9, 0.5, 0.1), (0.1, 0.5, 0.9)]):
        for det, v in zip("abc", order):
            rows.append(row(det, "s", seed, v))
    # pairs (0,1): tau 1; (0,2): -1; (1,2): -1 -> mean -1/3
    assert ranking_stability(rows, "tracing/address", "pr_auc") == pytest.approx(-1 / 3)
    same = [r for r in rows if r["seed"] < 2]
    assert ranking_stability(same, "tracing/address", "pr_auc") == pytest.approx(1.0)
    assert np.isnan(ranking_stability([r for r in rows if r["seed"] == 0],
                                      "tracing/address", "pr_auc"))


def test_headroom_compares_the_best_detector_with_the_best_shortcut():
    rows = [row("fifo", "p", s, v) for s, v in enumerate([0.8, 0.9])]
    rows += [row("ppr", "p", s, v) for s, v in enumerate([0.5, 0.5])]
    rows += [row("degree", "p", s, v) for s, v in enumerate([0.3, 0.5])]
    rows += [row("random", "p", s, 0.1) for s in range(2)]
    (h,) = headroom(rows, shortcuts=("random", "degree"),
                    metric_of={"tracing/address": "pr_auc"})
    assert (h["detector"], h["shortcut"]) == ("fifo", "degree")
    assert h["headroom"] == pytest.approx(0.85 - 0.4)
