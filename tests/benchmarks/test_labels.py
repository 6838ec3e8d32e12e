"""Training labels as investigators have them (partial, noisy, delayed), and the two
protocols (transductive, inductive) of the runner."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench import make
from launderbench.benchmarks.labels import LabelPolicy, training_labels
from launderbench.benchmarks.runner import DetectorSpec, RunConfig, run
from launderbench.benchmarks.suites import ScenarioRun
from launderbench.benchmarks.tasks import TaskSet
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY


@pytest.fixture(scope="module")
def ts():
    return TaskSet(make("easy-v1", transactions=4000, seed=1))


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_exact_labels_are_the_training_part_of_the_truth(ts):
    y = training_labels(ts)
    train = ts.split["address"] == 0
    assert np.array_equal(y[train], ts.addr_label[train].astype(int))
    assert (y[~train] == -1).all()
    assert (y == 1).sum() > 5, "the fixture needs laundering in the training part"
    every = training_labels(ts, part="all")
    used = ts.split["address"] >= 0
    assert np.array_equal(every[used], ts.addr_label[used].astype(int))
    assert (every[~used] == -1).all()


def test_partial_labels_keep_a_share_of_the_laundering_and_call_the_rest_licit(ts):
    exact = training_labels(ts, part="all")
    pos = exact == 1
    y = training_labels(ts, LabelPolicy(share=0.5, seed=3), part="all")
    assert np.array_equal(y == -1, exact == -1), "partial labels hide nothing as unknown"
    assert (y[~pos] == exact[~pos]).all(), "licit labels stay licit"
    kept = (y[pos] == 1).mean()
    assert 0.3 < kept < 0.7, kept
    assert (y[pos & (y != 1)] == 0).all()
    again = training_labels(ts, LabelPolicy(share=0.5, seed=3), part="all")
    other = training_labels(ts, LabelPolicy(share=0.5, seed=4), part="all")
    assert np.array_equal(y, again)
    assert not np.array_equal(y, other)


def test_noisy_labels_flip_known_labels_both_ways(ts):
    exact = training_labels(ts, part="all")
    y = training_labels(ts, LabelPolicy(noise=0.2, seed=1), part="all")
    known = exact >= 0
    assert (y[~known] == -1).all()
    flipped = (y != exact) & known
    assert 0.15 < flipped.sum() / known.sum() < 0.25
    assert (flipped & (exact == 1)).any() and (flipped & (exact == 0)).any()


def test_delayed_labels_are_unknown_until_the_lag_has_passed(ts):
    from launderbench.simulator.split import first_appearance

    exact = training_labels(ts)
    t = ts.view.transactions["timestamp"]
    end = t[ts.split["transaction"] == 0].max()
    first_t = t[np.maximum(first_appearance(ts.view), 0)]
    y = training_labels(ts, LabelPolicy(delay_days=10))
    late = first_t + 10 * DAY > end
    assert (y[(exact >= 0) & late] == -1).all()
    assert np.array_equal(y[~late], exact[~late])
    assert ((exact >= 0) & late).any() and ((exact >= 0) & ~late).any()
    assert (training_labels(ts, LabelPolicy(delay_days=10_000)) == -1).all()


@pytest.mark.parametrize("kw,needle", [
    ({"share": 0}, "label share"), ({"share": 1.5}, "label share"),
    ({"noise": 0.5}, "label noise"), ({"noise": -0.1}, "label noise"),
    ({"delay_days": -1}, "label delay"), ({"share": float("nan")}, "finite"),
    ({"share": "half"}, "number"), ({"seed": -1}, "seed"),
])
def test_bad_label_policies_are_refused(kw, needle):
    with pytest.raises(ConfigError, match=needle):
        LabelPolicy(**kw)


def test_label_policy_text_and_round_trip():
    p = LabelPolicy(share=0.5, noise=0.05, delay_days=30, seed=2)
    assert p.label() == "share=0.5,noise=0.05,delay=30d"
    assert LabelPolicy().label() == "exact"
    assert LabelPolicy.from_dict(p.to_dict()) == p
    with pytest.raises(ConfigError, match="unknown label policy key"):
        LabelPolicy.from_dict({"shares": 1})


def test_protocols_are_recorded_and_inductive_fits_on_another_dataset():
    easy = ScenarioRun("easy-v1", {"transactions": 2500})
    dets = [DetectorSpec("raw-tx-classifier"), DetectorSpec("degree")]
    base = RunConfig("t", [easy], [0], dets, memory=False)
    ind = RunConfig("t", [easy], [0], dets, memory=False, protocol="inductive",
                    labels=LabelPolicy(share=0.5))
    jobs = ind.jobs()
    learned = [j for j in jobs if j.detector.name == "raw-tx-classifier"][0]
    assert learned.train == (easy, 1) and learned.labels.share == 0.5
    assert [j for j in jobs if j.detector.name == "degree"][0].train is None
    rows = run(base.jobs(), progress=False).rows + run(jobs, progress=False).rows
    got = {(r["detector"], r["protocol"], r["labels"], r["trained_on"]) for r in rows
           if r["status"] == "ok"}
    assert ("raw-tx-classifier", "transductive", "exact", "") in got
    assert ("raw-tx-classifier", "inductive", "share=0.5",
            "easy-v1[transactions=2500] seed 1") in got
    assert ("degree", "", "", "") in got
    # the inductive fit sees another dataset: its scores differ from the transductive ones
    val = {(r["protocol"], r["task"]): r["value"] for r in rows
           if r["detector"] == "raw-tx-classifier" and r["metric"] == "roc_auc"
           and r["group"] == "all"}
    assert val[("inductive", "classification/address")] != val[
        ("transductive", "classification/address")]
    assert {t for _, t in val} == {"classification/address", "classification/transaction"}


def test_inductive_configuration_checks_and_round_trip():
    easy = ScenarioRun("easy-v1", {"transactions": 2500})
    dets = [DetectorSpec("raw-tx-classifier")]
    with pytest.raises(ConfigError, match="unknown protocol"):
        RunConfig("t", [easy], [0], dets, protocol="magic")
    with pytest.raises(ConfigError, match="inductive"):
        RunConfig("t", [easy], [0], dets, train_seed=3)
    with pytest.raises(ConfigError, match="also tested"):
        RunConfig("t", [easy], [0, 1], dets, protocol="inductive", train_seed=1).jobs()
    other = ScenarioRun("ronin-2022-v1", {"transactions": 2500})
    cfg = RunConfig("t", [easy], [0, 1], dets, protocol="inductive", train_seed=1,
                    train_scenario=other, labels=LabelPolicy(delay_days=7))
    assert cfg.jobs()[0].train == (other, 1)  # another scenario may share a tested seed
    back = RunConfig.from_dict(cfg.to_dict())
    assert (back.protocol, back.train_seed, back.train_scenario, back.labels) == (
        "inductive", 1, other, LabelPolicy(delay_days=7))
