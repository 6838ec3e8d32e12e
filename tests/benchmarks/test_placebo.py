"""Placebo incidents: a twin labelled as the laundering, the real incident as benign; for
tracing, with the twin's own start announced."""

import numpy as np
import pytest

from launderbench.benchmarks.evaluator import Evaluator
from launderbench.benchmarks.placebo import (
    CLASSIFICATION,
    PLACEBO_TASKS,
    actor_masks,
    actor_seeds,
    placebo_aucs,
    placebo_candidates,
    placebo_dataset,
    placebo_p,
    placebo_percentile,
    placebo_percentiles,
    placebo_rows,
    set_apart,
)
from launderbench.benchmarks.tasks import TaskSet
from launderbench.detectors.projection import legs
from launderbench.simulator import make
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.laundering import twins
from launderbench.simulator.schema import OBSERVABLE_TABLES, Role


@pytest.fixture(scope="module")
def ds():
    return make("easy-v1", seed=0, transactions=2000)


@pytest.fixture(scope="module")
def preset_ds(ds):
    """A preset's dataset at seed 0 (4,000 transactions; easy-v1 at 2,000), made once."""
    made = {"easy-v1": ds}

    def get(preset):
        if preset not in made:
            made[preset] = make(preset, seed=0, transactions=4000)
        return made[preset]
    return get


@pytest.fixture(scope="module")
def twin(ds):
    return placebo_candidates(ds, k=1)[0]


def _twin_tx(ds, entity):
    """(the twin's own addresses, its transactions), computed here from the truth."""
    view = ds.observable()
    at = ds.address_truth
    mine = np.zeros(view.n_addresses, bool)
    mine[at["address_id"][at["entity_id"] == entity]] = True
    tx, ad = legs(view)
    return mine, np.isin(np.arange(view.n_transactions), tx[mine[ad]])


@pytest.mark.parametrize("preset", ["easy-v1", "zaif-2018-v1", "harmony-2022-v1"])
def test_actor_masks_give_back_the_real_labels(preset, preset_ds):
    """The rule a placebo labels a twin by, applied to the incidents' attackers, gives back
    their laundering labels: the transactions and addresses, cash-out deposit addresses
    included."""
    d = preset_ds(preset)
    ts = TaskSet(d)
    names = np.asarray(d.entities["name"], dtype=object)
    attackers = [i for i, n in enumerate(names) if str(n).startswith("attacker-")]
    addr, tx = actor_masks(d, attackers)
    assert (addr == ts.addr_label).all() and (tx == ts.tx_label).all()
    assert (ts.addr_label & (ts.addr_role == int(Role.CASHOUT))).any()
    if preset == "harmony-2022-v1":  # Tornado withdrawals paid straight to a deposit address
        wallets = np.isin(d.address_truth["entity_id"], attackers)
        own = np.zeros(d.observable().n_addresses, bool)
        own[d.address_truth["address_id"][wallets]] = True
        t_idx, a_idx = legs(d.observable())
        touching = np.zeros_like(tx)
        touching[t_idx[own[a_idx]]] = True
        assert (tx & ~touching).any()  # reached through the hidden links only


@pytest.mark.parametrize("preset", ["easy-v1", "zaif-2018-v1", "harmony-2022-v1"])
def test_actor_seeds_give_back_the_announced_theft(preset, preset_ds):
    """The rule a tracing placebo announces a twin's start by, applied to each attacker,
    gives back its incident's announced seeds (one transaction for Zaif, several for
    Harmony); every twin of an incident starts with as many such transactions."""
    d = preset_ds(preset)
    names = np.asarray(d.entities["name"], dtype=object)
    attackers = {i: int(str(n).split("-")[1]) for i, n in enumerate(names)
                 if str(n).startswith("attacker-")}
    at = d.address_truth
    for e, inc in attackers.items():
        seeds, source = actor_seeds(d, [e])
        want = np.sort(d.seeds["tx_id"][d.seeds["incident_id"] == inc])
        assert len(want) and (seeds == want).all()
        # the sources are the incident's victims
        victims = at["address_id"][(at["role"] == int(Role.VICTIM)) & (at["incident_id"] == inc)]
        assert set(np.flatnonzero(source)) == set(victims)
    n_seeds = {inc: int((d.seeds["incident_id"] == inc).sum()) for inc in attackers.values()}
    for e, inc in twins.entities(d.entities).items():
        assert len(actor_seeds(d, [e])[0]) == n_seeds[inc]


def test_placebo_keeps_the_observable_view_and_swaps_the_labels(ds, twin):
    pl = placebo_dataset(ds, twin)
    for name in OBSERVABLE_TABLES:
        assert pl.tables[name].digest() == ds.tables[name].digest()
    assert pl.meta["content_hash"] != ds.meta["content_hash"]
    inc = pl.meta["placebo"]["incident"]
    assert pl.meta["placebo"] == {"entity": twin, "twin_of": twins.entities(ds.entities)[twin],
                                  "incident": inc, "announce": False}
    assert inc not in set(ds.seeds["incident_id"]) | set(ds.address_truth["incident_id"])
    real, fake = TaskSet(ds), TaskSet(pl, only=CLASSIFICATION)
    mine, mine_tx = _twin_tx(ds, twin)
    assert mine.any() and mine_tx.any()
    # the twin is the laundering now (its wallets and its cash-out addresses), the incident not
    assert (fake.addr_label == actor_masks(ds, [twin])[0]).all()
    assert (fake.addr_label[mine]).all()
    assert (fake.tx_label == mine_tx).all()
    assert not (fake.tx_label & real.tx_label).any() and real.tx_label.any()
    # the same addresses are evaluated (victims stay out), and no theft is announced
    assert (fake["classification/address"].mask == real["classification/address"].mask).all()
    assert (fake.addr_victim == real.addr_victim).all() and real.addr_victim.any()
    assert fake.names() == list(CLASSIFICATION)
    assert pl.taint.num_rows == 0 and real.ds.taint.num_rows > 0
    assert (pl.links["incident_id"] == -1).all()
    assert (pl.address_truth["role"][mine[pl.address_truth["address_id"]]]
            == int(Role.INTERMEDIARY)).all()


def test_a_score_that_knows_the_twin_ranks_it_first(ds, twin):
    """The placebo labels are what the evaluator scores against: a score that is 1 on the
    twin's transactions and 0 elsewhere has ROC-AUC 1 on the placebo, and on the real
    labels it ranks no laundering first."""
    _, mine_tx = _twin_tx(ds, twin)
    score = {"y_score": mine_tx.astype(float)}
    fake = Evaluator(TaskSet(placebo_dataset(ds, twin), only=CLASSIFICATION)[
        "classification/transaction"])
    real = Evaluator(TaskSet(ds)["classification/transaction"])
    assert fake.eval(score)["roc_auc"] == pytest.approx(1.0)
    assert real.eval(score)["roc_auc"] < 0.5


def test_placebo_refuses_an_entity_that_is_not_a_twin(ds):
    attacker = int(ds.address_truth["entity_id"][ds.address_truth["incident_id"] >= 0][0])
    with pytest.raises(ConfigError, match="not a benign twin"):
        placebo_dataset(ds, attacker)


def test_candidates_reach_both_parts_of_the_split(ds):
    from launderbench.simulator.split import split_codes

    split = split_codes(ds)["transaction"]
    c = placebo_candidates(ds, k=4, min_train=20, min_test=10)
    assert len(c) == 4 and c == sorted(c) and set(c) <= set(twins.entities(ds.entities))
    for e in c:
        _, t = _twin_tx(ds, e)
        assert (t & (split == 0)).sum() >= 20 and (t & (split == 2)).sum() >= 10
    assert placebo_candidates(ds, k=4, seed=1) != c or len(placebo_candidates(ds, k=99)) <= 4
    assert placebo_candidates(ds, k=4) == c  # deterministic
    assert placebo_candidates(ds, min_train=10**6) == []


def test_tracing_placebo_announces_the_twins_start(ds, twin):
    """With ``announce``, the seeds are the twin's start, the tracing task exists for the
    placebo, its positives are the twin's addresses (hop 1: the receivers of its seeds) and
    the real incident is benign in it."""
    pl = placebo_dataset(ds, twin, announce=True)
    for name in OBSERVABLE_TABLES:
        if name != "seeds":
            assert pl.tables[name].digest() == ds.tables[name].digest()
    inc = pl.meta["placebo"]["incident"]
    assert pl.meta["placebo"]["announce"] is True
    seeds, source = actor_seeds(ds, [twin])
    assert len(seeds) and set(pl.seeds["tx_id"]) == set(seeds)
    assert set(pl.seeds["incident_id"]) == {inc}
    assert not set(seeds) & set(ds.seeds["tx_id"])
    real, fake = TaskSet(ds), TaskSet(pl)
    assert "tracing/address" in fake.names()
    tr = fake["tracing/address"]
    addr, _ = actor_masks(ds, [twin])
    assert (tr.y_true == addr).all() and tr.y_true.any()
    # the real laundering is benign: none of its addresses is a positive
    assert real["tracing/address"].y_true.any()
    assert not (tr.y_true & real["tracing/address"].y_true).any()
    # hops from the twin's theft: the receivers of its seed transactions are hop 1
    view = ds.observable()
    hop1 = np.zeros(view.n_addresses, bool)
    hop1[view.outputs["address_id"][np.isin(view.outputs["tx_id"], seeds)]] = True
    assert (tr.hops[hop1 & tr.y_true] == 1).all() and (hop1 & tr.y_true).any()
    assert np.isfinite(tr.hops[tr.y_true]).mean() > 0.9
    assert np.isnan(tr.hops[~tr.y_true]).all()
    # its source is the placebo's victim, out of the tasks as the real victims are
    assert source.any() and fake.addr_victim[source].all() and not tr.mask[source].any()
    assert not tr.mask[real.addr_victim].any()


def test_placebo_rows_cover_every_placebo_and_baseline(ds):
    rows = placebo_rows(ds, ["amount", "raw-tx-classifier"], k=2)
    aucs = [r for r in rows if r["metric"] == "roc_auc" and r["group"] == "all"]
    assert {r["task"] for r in aucs} == set(PLACEBO_TASKS)
    assert {r["placebo"] for r in aucs} == set(placebo_candidates(ds, k=2))
    assert {r["detector"] for r in aucs} == {"amount", "raw-tx-classifier"}
    # the learned classifier has classification results only, as in the runner
    assert {r["task"] for r in aucs if r["detector"] == "raw-tx-classifier"} == set(
        CLASSIFICATION)
    assert len(aucs) == 2 * (3 + 2) and all(0.0 <= r["value"] <= 1.0 for r in aucs)
    by_key = placebo_aucs(ds, ["amount", "raw-tx-classifier"], k=2)
    assert sorted(sum(by_key.values(), [])) == sorted(r["value"] for r in aucs)
    # the supervised baseline is fitted on each placebo's own labels
    raw = {r["placebo"]: r["value"] for r in aucs if r["detector"] == "raw-tx-classifier"
           and r["task"] == "classification/transaction"}
    assert len(set(raw.values())) == 2
    # without the break-down groups, the overall rows are the same
    lean = placebo_rows(ds, ["amount"], k=2, tasks=CLASSIFICATION, groups=False)
    assert {r["group"] for r in lean} == {"all"}
    assert sorted(r["value"] for r in lean if r["metric"] == "roc_auc") == sorted(
        r["value"] for r in aucs if r["detector"] == "amount" and r["task"] in CLASSIFICATION)


def test_placebo_p_counts_placebos_at_least_as_far_from_chance():
    # |real - .5| = .3; placebos .4, .3 are as far or farther, 0 and .1 are not
    assert placebo_p(0.8, [0.5, 0.9, 0.2, 0.6]) == pytest.approx(3 / 5)
    assert placebo_p(0.2, [0.5, 0.55]) == pytest.approx(1 / 3)
    assert placebo_p(0.9, []) == 1.0


def test_percentile_and_set_apart():
    assert placebo_percentile(0.7, [0.5, 0.6, 0.7, 0.8]) == pytest.approx(62.5)  # 2 + half
    assert placebo_percentile(0.9, [0.5, 0.6]) == 100.0
    assert placebo_percentile(0.1, [0.5, 0.6]) == 0.0
    assert np.isnan(placebo_percentile(0.5, []))
    # set apart: farther from 0.5 than every placebo, either way
    assert set_apart(0.1, [0.5, 0.8, 0.3])
    assert set_apart(0.9, [0.5, 0.2])
    assert not set_apart(0.8, [0.5, 0.2])  # 0.2 is as far
    assert not set_apart(0.9, [])


def _planted(ds):
    """A detector that knows the attackers (a planted leak): 1 on their flow, 0 elsewhere."""
    from launderbench.detectors.base import Detector, Scores

    names = np.asarray(ds.entities["name"], dtype=object)
    addr, tx = actor_masks(ds, [i for i, n in enumerate(names)
                                if str(n).startswith("attacker-")])

    class Planted(Detector):
        name = "planted-leak"
        tags = {"needs_seeds": False, "needs_labels": False,
                "outputs": ("address", "transaction")}

        def __init__(self):
            pass

        def _score(self, view):
            return Scores(address=addr.astype(float), transaction=tx.astype(float))

    return Planted


def test_placebo_percentiles_for_a_report(ds, monkeypatch):
    """Per detector and task: the real ROC-AUC (as the runner evaluates it), the placebos'
    and the percentile; a planted leak is set apart from its placebos on every task."""
    from launderbench import detectors
    from launderbench.benchmarks.scoring import evaluate_scores, training_labels
    from launderbench.benchmarks.validity import gate
    from launderbench.detectors import registry

    monkeypatch.setitem(registry._REGISTERED, "planted-leak", _planted(ds))
    recs = placebo_percentiles(ds, ["degree", "raw-tx-classifier", "planted-leak"], k=3)
    assert {(r["detector"], r["task"]) for r in recs} == (
        {(d, t) for d in ("degree", "planted-leak") for t in PLACEBO_TASKS}
        | {("raw-tx-classifier", t) for t in CLASSIFICATION})
    ts = TaskSet(ds)
    view = ds.observable()
    real = {
        (name, r["task"]): r["value"]
        for name, sc, sup in (
            ("degree", detectors.make("degree").fit(view).score(view), False),
            ("raw-tx-classifier", detectors.make("raw-tx-classifier").fit(
                view, training_labels(ts)).score(view), True))
        for r in evaluate_scores(ts, sc, supervised=sup)[0]
        if r["metric"] == "roc_auc" and r["group"] == "all"}
    for r in recs:
        assert set(r) == {"detector", "task", "real", "placebos", "percentile", "p",
                          "set_apart"}
        assert len(r["placebos"]) == 3
        assert r["percentile"] == placebo_percentile(r["real"], r["placebos"])
        assert r["set_apart"] == set_apart(r["real"], r["placebos"])
        if r["detector"] != "planted-leak":
            assert r["real"] == pytest.approx(real[(r["detector"], r["task"])])
    planted = [r for r in recs if r["detector"] == "planted-leak"]
    assert all(r["real"] > 0.95 and r["percentile"] == 100.0 and r["set_apart"]
               for r in planted)
    # three results set apart of three, with 3 placebos each: (1/4)^3 by chance
    planted = [dict(r, preset="easy-v1", seed=0) for r in planted]
    (line,) = gate(planted, alpha=0.05, min_placebos=3)
    assert line.startswith("planted-leak: 3 of 3 set apart")


def test_a_tracer_finds_the_laundering_and_not_its_placebos(ds):
    """Haircut taint follows the announced theft: it separates the real laundering, and a
    benign twin that runs the same playbook with clean funds gets no taint at all; with the
    twin's own start announced (the tracing placebo), it finds the twin as it finds the
    laundering."""
    from launderbench import detectors
    from launderbench.benchmarks.scoring import evaluate_scores

    view = ds.observable()
    real = {r["task"]: r["value"] for r in evaluate_scores(
        TaskSet(ds), detectors.make("haircut").fit(view).score(view))[0]
        if r["metric"] == "roc_auc" and r["group"] == "all" and r["task"] in PLACEBO_TASKS}
    assert min(real.values()) > 0.8 and len(real) == 3
    rows = [r for r in placebo_rows(ds, ["haircut"], k=3)
            if r["metric"] == "roc_auc" and r["group"] == "all"]
    fake = [r["value"] for r in rows if r["task"] in CLASSIFICATION]
    assert len(fake) == 6 and max(fake) < 0.6
    traced = [r["value"] for r in rows if r["task"] == "tracing/address"]
    assert len(traced) == 3 and min(traced) > 0.8


def test_learners_that_read_the_seeds_meet_the_twins_start_announced(ds, monkeypatch):
    """A learned model with seed-derived features is evaluated, in each placebo, on the view
    that announces the twin's own start (as the real laundering has its theft announced);
    a learner blind to the seeds, on the unchanged view. Each gets one classification result
    per placebo and task, never two."""
    from launderbench import detectors
    from launderbench.benchmarks import placebo

    assert detectors.make("random-forest").reads_seeds()
    assert not detectors.make("random-forest", use_seeds=False).reads_seeds()
    assert not detectors.make("raw-tx-classifier").reads_seeds()
    assert detectors.make("haircut").reads_seeds()
    seen = []
    real_fit = placebo._evaluate

    def spy(ts, name, cache):
        out = real_fit(ts, name, cache)
        if out and any(r["task"] in CLASSIFICATION for r in out):
            seen.append((name, bool(getattr(ts, "announced", False)),
                         int(ts.view.seeds["tx_id"][0])))
        return out

    monkeypatch.setattr(placebo, "_evaluate", spy)
    rows = placebo_rows(ds, ["random-forest", "raw-tx-classifier", "amount"], k=2,
                        tasks=PLACEBO_TASKS, groups=False)
    real_seed = int(ds.seeds["tx_id"][0])
    assert {(n, a) for n, a, _ in seen} == {("random-forest", True),
                                           ("raw-tx-classifier", False), ("amount", False)}
    assert all(s != real_seed for n, _, s in seen if n == "random-forest")
    aucs = [r for r in rows if r["metric"] == "roc_auc"]
    for name, tasks in (("random-forest", set(CLASSIFICATION)),
                        ("raw-tx-classifier", set(CLASSIFICATION)),
                        ("amount", set(PLACEBO_TASKS))):
        mine = [r for r in aucs if r["detector"] == name]
        assert {r["task"] for r in mine} == tasks
        assert len(mine) == 2 * len(tasks), name  # one per placebo and task
