"""The evaluator against metrics computed by hand on small cases."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launderbench.benchmarks.evaluator import EvaluationInputError, Evaluator, topk_weights
from launderbench.benchmarks.tasks import Groups, LinkingTask, RankingTask

NAN = float("nan")


def tracing_task(**kw):
    # items 0..5: positives 0, 2, 4; item 4 is an integration point worth 30, item 2 worth 10
    return RankingTask.from_arrays(
        "tracing", y_true=[1, 0, 1, 0, 1, 0],
        value=[0, 0, 10.0, 0, 30.0, 0],
        hops=[1, NAN, 2, NAN, 4, NAN], hours=[0.5, NAN, 3, NAN, 12, NAN], **kw)


def test_tracing_metrics_by_hand():
    ev = Evaluator(tracing_task())
    #        ranking: 0 (.9, pos), 3 (.8), 2 (.7, pos), 1 (.2), 4 (.1, pos), 5 (.0)
    r = ev.eval({"y_score": [0.9, 0.2, 0.7, 0.8, 0.1, 0.0]})
    assert r["k"] == 3  # budget "auto" = number of positives
    assert r["precision@k"] == pytest.approx(2 / 3)
    assert r["recall@k"] == pytest.approx(2 / 3)
    assert r["value_recall@k"] == pytest.approx(10 / 40)
    # hand AP: hits at ranks 1, 3, 5 -> (1/1 + 2/3 + 3/5) / 3
    assert r["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    # ROC-AUC: positive-negative pairs ranked correctly: 0 beats 3 negs; 2 beats 2; 4 beats 1
    assert r["roc_auc"] == pytest.approx((3 + 2 + 1) / 9)
    assert r["trace_hops@k"] == 2 and r["max_hops"] == 4
    assert r["trace_hours@k"] == 3 and r["max_hours"] == 12
    # hop-balanced recall: hop levels 1, 2, 4 hold one laundering item each; the alert list
    # holds the items at hops 1 and 2 -> (1 + 1 + 0) / 3
    assert r["trace_depth@k"] == pytest.approx(2 / 3)
    assert r["base_rate"] == pytest.approx(0.5)


def test_fixed_budget_and_nothing_found():
    ev = Evaluator(tracing_task(budget=2))
    r = ev.eval({"y_score": [0, 1, 0, 1, 0, 0.5]})  # budget spent on negatives 1 and 3
    assert r["k"] == 2 and r["precision@k"] == 0 and r["recall@k"] == 0
    assert r["value_recall@k"] == 0 and r["trace_hops@k"] == 0 and r["trace_hours@k"] == 0


def test_ties_share_the_budget_so_constant_scores_are_chance():
    ev = Evaluator(tracing_task())
    r = ev.eval({"y_score": np.zeros(6)})
    assert r["precision@k"] == pytest.approx(0.5)  # = base rate, whatever the item order
    assert r["recall@k"] == pytest.approx(0.5)
    assert r["value_recall@k"] == pytest.approx(0.5)
    assert r["trace_hops@k"] == 0  # nobody fully inside the alert list
    assert r["trace_depth@k"] == pytest.approx(0.5)  # every level half inside: k / n
    assert r["pr_auc"] == pytest.approx(0.5)


def test_trace_depth_weighs_every_hop_level_the_same():
    # hop 1 holds four laundering items, hop 2 one, hop 3 one; 94 benign items
    y = np.zeros(100, bool)
    y[:6] = True
    hops = np.full(100, NAN)
    hops[:6] = [1, 1, 1, 1, 2, 3]
    def ev(k):
        return Evaluator(RankingTask.from_arrays("tracing", y_true=y, hops=hops, hours=hops,
                                                 budget=k))

    shallow = np.zeros(100)
    shallow[:4] = 1.0  # every hop-1 item, nothing deeper: recall 4/6 but depth 1/3
    r = ev(4).eval({"y_score": shallow})
    assert r["recall@k"] == pytest.approx(4 / 6)
    assert r["trace_depth@k"] == pytest.approx(1 / 3)
    deep = np.zeros(100)
    deep[[0, 4, 5]] = 1.0  # one item per level: recall 3/6, depth (1/4 + 1 + 1) / 3
    assert ev(3).eval({"y_score": deep})["trace_depth@k"] == pytest.approx((0.25 + 2) / 3)


def test_trace_depth_of_a_random_ranking_is_near_zero():
    rng = np.random.default_rng(0)
    n = 5000
    y = np.zeros(n, bool)
    y[:50] = True
    hops = np.full(n, NAN)
    hops[:50] = np.repeat(np.arange(1, 11), 5)
    task = RankingTask.from_arrays("tracing", y_true=y, hops=hops, hours=hops)
    depths = [Evaluator(task).eval({"y_score": rng.random(n)})["trace_depth@k"]
              for _ in range(20)]
    assert np.mean(depths) < 0.03  # about k / n = 0.01


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=30), st.integers(0, 40),
       st.randoms(use_true_random=False))
def test_topk_weights_invariants(scores, k, rnd):
    s = np.array(scores, float)
    w = topk_weights(s, k)
    assert w.sum() == pytest.approx(min(k, len(s)))
    assert np.all((w >= 0) & (w <= 1))
    # equal scores get equal weight; a higher score never gets less weight
    order = np.argsort(s)
    assert np.all(np.diff(w[order]) >= -1e-12)
    perm = list(range(len(s)))
    rnd.shuffle(perm)
    assert np.allclose(topk_weights(s[perm], k), w[perm])


def test_classification_threshold_chosen_on_validation():
    # split: 0 train, 1 valid, 2 test
    y = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0]
    split = [0, 0, 1, 1, 1, 2, 2, 2, 2, 2]
    task = RankingTask.from_arrays("classification", y_true=y, split=split)
    s = [0.0, 0.0, 0.8, 0.6, 0.2, 0.7, 0.75, 0.5, 0.1, 0.65]
    r = Evaluator(task).eval({"y_score": s})
    # validation (items 2,3,4): best F1 at threshold 0.8 (F1 = 1)
    assert r["threshold"] == pytest.approx(0.8)
    # test (items 5..9) at >= 0.8: nothing predicted -> F1 0
    assert r["f1"] == 0 and r["precision"] == 0 and r["recall"] == 0
    # test ranking: .75 (neg), .7 (pos), .65 (neg), .5 (pos), .1 (neg) -> AP = (1/2 + 2/4)/2
    assert r["pr_auc"] == pytest.approx(0.5)
    assert r["n_pos"] == 2 and r["base_rate"] == pytest.approx(0.4)

    s2 = [0.0, 0.0, 0.8, 0.6, 0.2, 0.9, 0.3, 0.85, 0.1, 0.65]
    r2 = Evaluator(task).eval({"y_score": s2})
    assert r2["f1"] == pytest.approx(1.0) and r2["pr_auc"] == pytest.approx(1.0)
    assert r2["roc_auc"] == pytest.approx(1.0)


def test_undefined_metrics_are_nan_not_errors():
    task = RankingTask.from_arrays("classification", y_true=[1, 0, 0, 0], split=[0, 1, 2, 2])
    r = Evaluator(task).eval({"y_score": [1, 0, 0, 0]})
    assert math.isnan(r["pr_auc"]) and math.isnan(r["f1"]) and math.isnan(r["roc_auc"])


def test_groups_break_down_by_positive_subset_and_by_items():
    g = Groups(positive={"typology=peel_chain": np.array([1, 0, 0, 0, 0, 0], bool)},
               items={"chain=bitcoin": np.array([1, 1, 1, 0, 0, 0], bool)})
    task = RankingTask.from_arrays("tracing", y_true=[1, 0, 1, 0, 1, 0], groups=g)
    out = Evaluator(task).eval_groups({"y_score": [0.9, 0.2, 0.1, 0.8, 0.3, 0.0]})
    assert set(out) == {"all", "typology=peel_chain", "chain=bitcoin"}
    peel = out["typology=peel_chain"]  # items: 0 (pos) and negatives 1, 3, 5
    assert peel["n_pos"] == 1 and peel["pr_auc"] == pytest.approx(1.0)
    btc = out["chain=bitcoin"]  # items 0, 1, 2: positives 0 and 2; 2 ranks below 1
    assert btc["n_pos"] == 2 and btc["recall@k"] == pytest.approx(0.5)


def test_typology_share_breaks_one_alert_list_down():
    g = Groups(positive={"typology=a": np.array([1, 1, 0, 0, 0], bool),
                         "typology=b": np.array([0, 0, 1, 0, 0], bool)},
               items={"chain=x": np.array([1, 0, 1, 1, 1], bool)})
    task = RankingTask(kind="typology", level="transaction", y_true=[1, 1, 1, 0, 0],
                       value=[5.0, 5.0, 90.0, 0, 0], groups=g)
    out = Evaluator(task).eval_groups({"y_score": [0.5, 0.4, 0.9, 0.95, 0.1]})
    # k = 3 positives: the alert list is items 3, 2, 0
    assert out["all"]["share@k"] == pytest.approx(2 / 3)
    assert out["all"]["value_share@k"] == pytest.approx(95 / 100)
    assert out["typology=a"]["share@k"] == pytest.approx(0.5)
    assert out["typology=a"]["value_share@k"] == pytest.approx(0.5)
    assert out["typology=b"]["share@k"] == pytest.approx(1.0)
    assert out["chain=x"]["share@k"] == pytest.approx(1.0)  # its positives: 0 and 2


def test_linking_by_hand():
    task = LinkingTask(in_tx=[1, 2, 3, 4], out_tx=[10, 20, 30, 40], kind_code=[0, 0, 1, 1],
                       incident=[0, 0, -1, -1], n_transactions=50)
    ev = Evaluator(task)
    claims = {"in_tx_id": np.array([1, 2, 3, 5]), "out_tx_id": np.array([10, 21, 30, 11]),
              "score": np.array([0.9, 0.8, 0.7, 0.6])}
    out = ev.eval_groups({"links": claims})
    r = out["all"]
    assert r["precision"] == pytest.approx(0.5) and r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(0.5)
    # ranked: hit, miss, hit, miss -> AP = (1/1 * 1/4) + (2/3 * 1/4)
    assert r["pr_auc"] == pytest.approx(0.25 + 2 / 12)
    assert out["kind=mixer"]["recall"] == pytest.approx(0.5)
    assert out["kind=bridge"]["recall"] == pytest.approx(0.5)
    assert out["incident=0"]["recall"] == pytest.approx(0.5)
    assert Evaluator(task, threshold=0.75).eval({"links": claims})["precision"] == 0.5
    empty = ev.eval({"links": None})
    assert empty["recall"] == 0 and math.isnan(empty["precision"])


@pytest.mark.parametrize("bad, msg", [
    ({"y_score": [1, 2, 3]}, "has 3 entries, the task has 6"),
    ({"y_score": np.zeros((6, 1))}, "must be 1-D"),
    ({"y_score": [0, 0, NAN, 0, 0, 0]}, "non-finite"),
    ({"y_score": ["a"] * 6}, "real numbers"),
    ({"y_score": np.zeros(6), "oops": 1}, "unknown input key"),
    ({}, "missing key 'y_score'"),
    ({"y_score": np.zeros(6), "y_true": [1, 1, 1, 0, 1, 0]}, "differs from the task's labels"),
    ({"y_score": np.zeros(6), "y_true": [2, 0, 1, 0, 1, 0]}, "only 0 and 1"),
    ([0] * 6, "must be a dict"),
])
def test_input_checks_say_what_is_wrong(bad, msg):
    with pytest.raises(EvaluationInputError, match=msg):
        Evaluator(tracing_task()).eval(bad)


@pytest.mark.parametrize("claims, msg", [
    ({"in_tx_id": [1], "out_tx_id": [2]}, "missing key"),
    ({"in_tx_id": [1, 1], "out_tx_id": [2, 2], "score": [1, 1]}, "duplicate"),
    ({"in_tx_id": [1], "out_tx_id": [99], "score": [1]}, r"outside \[0, 50\)"),
    ({"in_tx_id": [1, 2], "out_tx_id": [2], "score": [1, 1]}, "has 1 entries"),
    ({"in_tx_id": [1.5], "out_tx_id": [2], "score": [1]}, "must be integers"),
])
def test_link_input_checks(claims, msg):
    task = LinkingTask(in_tx=[1], out_tx=[2], n_transactions=50)
    with pytest.raises(EvaluationInputError, match=msg):
        Evaluator(task).eval({"links": claims})


def test_expected_formats_are_readable():
    ev = Evaluator(tracing_task())
    assert "shape (6,)" in ev.expected_input_format
    assert "value_recall@k" in ev.expected_output_format
    assert "in_tx_id" in Evaluator(LinkingTask(in_tx=[1], out_tx=[2])).expected_input_format
    with pytest.raises(EvaluationInputError):
        Evaluator("tracing")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=2, max_size=40))
def test_ranking_metrics_equal_scikit_learn(pairs):
    from sklearn.metrics import average_precision_score, roc_auc_score

    from launderbench.benchmarks.evaluator import average_precision, roc_auc

    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs], float) / 3
    if y.all() or not y.any():
        assert math.isnan(average_precision(y, s)) and math.isnan(roc_auc(y, s))
        return
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5), st.integers(1, 2)),
                min_size=4, max_size=40))
def test_f1_at_validation_threshold_equals_scikit_learn(rows):
    from sklearn.metrics import f1_score, precision_recall_curve

    from launderbench.benchmarks.evaluator import _f1_at_valid

    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows], float)
    part = np.array([r[2] for r in rows])
    yv, sv, yt, st_ = y[part == 1], s[part == 1], y[part == 2], s[part == 2]
    got = _f1_at_valid(sv, yv, st_, yt)
    if not yv.any() or not yt.any():
        assert math.isnan(got["f1"])
        return
    p, r, thr = precision_recall_curve(yv, sv)
    f = np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), 0)[:-1]
    th = thr[int(np.argmax(f))]
    assert got["threshold"] == th
    assert got["f1"] == pytest.approx(f1_score(yt, st_ >= th, zero_division=0), abs=1e-12)


def test_bench_table_growth(tmp_path):
    import json

    from launderbench.benchmarks.benchtable import growth_exponent, table

    assert growth_exponent([1e4, 1e5, 1e6], [0.1, 1.0, 10.0]) == pytest.approx(1.0)
    assert growth_exponent([1e4, 1e5], [0.1, 10.0]) == pytest.approx(2.0)
    assert math.isnan(growth_exponent([1e4], [0.1]))
    f = tmp_path / "b.json"
    f.write_text(json.dumps({"benchmarks": [
        {"name": "test_x[10000]", "fullname": "benchmarks/speed/t.py::test_x[10000]",
         "params": {"n": 10000}, "stats": {"mean": 0.5}},
        {"name": "test_x[100000]", "fullname": "benchmarks/speed/t.py::test_x[100000]",
         "params": {"n": 100000}, "stats": {"mean": 5.0}}]}))
    assert "| t.py | test_x | 0.5 s | 5 s | n^1.00 |" in table(f)


@pytest.mark.parametrize("kwargs,inp,needle", [
    ({"threshold": "x"}, None, "threshold must be a finite number"),
    ({"threshold": float("nan")}, None, "threshold must be a finite number"),
    ({}, {"y_score": ["a", "b", "c", "d", "e", "f"]}, "must be real numbers"),
])
def test_bad_evaluator_input_is_the_projects_own_error(kwargs, inp, needle):
    from launderbench.benchmarks.evaluator import EvaluationInputError

    with pytest.raises(EvaluationInputError, match=needle):
        Evaluator(tracing_task(), **kwargs).eval(inp or {"y_score": np.zeros(6)})


def test_alert_budget_must_be_auto_or_a_whole_number():
    from launderbench.benchmarks.evaluator import EvaluationInputError

    with pytest.raises(EvaluationInputError, match="alert budget"):
        Evaluator(tracing_task(budget="x")).eval({"y_score": np.zeros(6)})
    assert Evaluator(tracing_task(budget=np.int64(2))).eval({"y_score": np.zeros(6)})["k"] == 2
