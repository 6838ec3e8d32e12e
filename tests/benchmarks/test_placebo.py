"""Placebo incidents: a twin labelled as the laundering, the real incident as benign."""

import numpy as np
import pytest

from launderbench.benchmarks.evaluator import Evaluator
from launderbench.benchmarks.leak_survey import main, placebo_table
from launderbench.benchmarks.placebo import (
    CLASSIFICATION,
    actor_masks,
    placebo_aucs,
    placebo_candidates,
    placebo_dataset,
    placebo_p,
    placebo_rows,
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
def test_actor_masks_give_back_the_real_labels(preset, request):
    """The rule a placebo labels a twin by, applied to the incidents' attackers, gives back
    their laundering labels: the transactions and addresses, cash-out deposit addresses
    included."""
    d = (request.getfixturevalue("ds") if preset == "easy-v1"
         else make(preset, seed=0, transactions=4000))
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


def test_placebo_keeps_the_observable_view_and_swaps_the_labels(ds, twin):
    pl = placebo_dataset(ds, twin)
    for name in OBSERVABLE_TABLES:
        assert pl.tables[name].digest() == ds.tables[name].digest()
    assert pl.meta["content_hash"] != ds.meta["content_hash"]
    inc = pl.meta["placebo"]["incident"]
    assert pl.meta["placebo"] == {"entity": twin, "twin_of": twins.entities(ds.entities)[twin],
                                  "incident": inc}
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


def test_placebo_rows_cover_every_placebo_and_shortcut(ds):
    rows = placebo_rows(ds, ["amount", "raw-tx-classifier"], k=2)
    aucs = [r for r in rows if r["metric"] == "roc_auc" and r["group"] == "all"]
    assert {r["task"] for r in aucs} == {"classification/address",
                                         "classification/transaction"}
    assert {r["placebo"] for r in aucs} == set(placebo_candidates(ds, k=2))
    assert {r["detector"] for r in aucs} == {"amount", "raw-tx-classifier"}
    assert len(aucs) == 2 * 2 * 2 and all(0.0 <= r["value"] <= 1.0 for r in aucs)
    by_key = placebo_aucs(ds, ["amount", "raw-tx-classifier"], k=2)
    assert sorted(sum(by_key.values(), [])) == sorted(r["value"] for r in aucs)
    # the supervised shortcut is fitted on each placebo's own labels
    raw = {r["placebo"]: r["value"] for r in aucs if r["detector"] == "raw-tx-classifier"
           and r["task"] == "classification/transaction"}
    assert len(set(raw.values())) == 2


def test_placebo_p_counts_placebos_at_least_as_far_from_chance():
    # |real - .5| = .3; placebos .4, .3 are as far or farther, 0 and .1 are not
    assert placebo_p(0.8, [0.5, 0.9, 0.2, 0.6]) == pytest.approx(3 / 5)
    assert placebo_p(0.2, [0.5, 0.55]) == pytest.approx(1 / 3)
    assert placebo_p(0.9, []) == 1.0


def test_placebo_table_separates_leaks_from_placebo_like_results():
    base = {"preset": "x", "seed": 0, "detector": "amount", "task": "classification/address"}
    recs = [dict(base, real=0.9, placebos=[0.5] * 10),          # beyond, beyond placebos
            dict(base, seed=1, real=0.8, placebos=[0.2, 0.85] * 5),  # beyond, placebo-like
            dict(base, seed=2, real=0.55, placebos=[0.5] * 10),     # within the band
            dict(base, task="tracing/address", real=0.1, placebos=[])]  # not classification
    line = next(ln for ln in placebo_table(recs).splitlines() if ln.startswith("amount"))
    cols = line.split()
    assert cols[2] == "3" and cols[3] == "0.750"
    assert cols[-3:] == ["33%", "2", "1"]  # placebos beyond: the 0.2s and 0.85s, 10 of 30


def test_survey_prints_the_placebo_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path))
    assert main(["--seeds", "1", "--transactions", "2000", "--scenario", "easy-v1",
                 "--placebos", "2"]) == 0
    out = capsys.readouterr().out
    assert "beside its placebos" in out
    table = out.split("beside its placebos")[1]
    assert any(ln.startswith("raw-tx-classifier") for ln in table.splitlines())


def test_a_tracer_finds_the_laundering_and_not_its_placebos(ds):
    """Haircut taint follows the announced theft: it separates the real laundering, and a
    benign twin that runs the same playbook with clean funds gets no taint at all."""
    from launderbench import detectors
    from launderbench.benchmarks.runner import evaluate_scores

    view = ds.observable()
    real = {r["task"]: r["value"] for r in evaluate_scores(
        TaskSet(ds, only=CLASSIFICATION), detectors.make("haircut").fit(view).score(view))[0]
        if r["metric"] == "roc_auc" and r["group"] == "all"}
    assert min(real.values()) > 0.8
    fake = [r["value"] for r in placebo_rows(ds, ["haircut"], k=3)
            if r["metric"] == "roc_auc" and r["group"] == "all"]
    assert len(fake) == 6 and max(fake) < 0.6
