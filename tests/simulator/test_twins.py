"""Benign twins (simulator.laundering.twins): benign entities running an incident's playbook
with their own funds. They are benign in the truth, carry no taint, announce no seeds, and
reproduce the incident's shapes, so shape alone no longer tells laundering apart."""

import numpy as np
import pytest

from launderbench.simulator import make
from launderbench.simulator.check import check_dataset
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.laundering import twins
from launderbench.simulator.schema import EntityKind, LinkKind, Role

N = 3000


def test_counts_split_the_share_between_incidents_by_their_size():
    # 0.5 * 10,000 benign ops = 5,000 twin ops, 2,500 per incident
    assert twins.counts(0.5, 10_000, [250, 1000]) == pytest.approx([10.0, 2.5])
    assert twins.counts(0.0, 10_000, [250]) == [0.0]
    assert twins.counts(1.0, 100, [0]) == pytest.approx([100.0])  # no division by zero


def test_plan_draws_whole_and_fractional_twins_and_caps_their_value():
    rng = np.random.default_rng(0)
    n = [2.0, 0.5]
    got = [twins.plan(n, 60, [10.0, 1.0], np.random.default_rng(s)) for s in range(200)]
    first = [sum(t.incident == 0 for t in p) for p in got]
    second = [sum(t.incident == 1 for t in p) for p in got]
    assert set(first) == {2}
    assert set(second) == {0, 1} and 0.35 < np.mean(second) < 0.65
    lo, hi = twins.VALUE_RANGE
    for p in got:
        for t in p:
            assert 0 <= t.start_day <= twins.START_RANGE[1] * 60
            cap = 10.0 if t.incident == 0 else 1.0
            assert lo - 1e-12 <= t.value <= min(hi, cap) + 1e-12
    # indices number each incident's twins; seeds differ
    p = twins.plan([3.0], 60, [10.0], rng)
    assert [t.index for t in p] == [0, 1, 2] and len({t.seed for t in p}) == 3


def test_plan_draws_nothing_without_twins():
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    assert twins.plan([0.0, 0.0], 60, [1.0, 1.0], rng) == []
    assert rng.bit_generator.state == state


def test_twin_share_zero_leaves_the_dataset_unchanged():
    a = make("ronin-2022-v1", seed=0, transactions=N, difficulty={"twin_share": 0.0})
    b = make("ronin-2022-v1", seed=0, transactions=N)
    if b.meta["params"]["difficulty"].get("twin_share", 0.0) != 0.0:
        b = make("ronin-2022-v1", seed=0, transactions=N, difficulty={"twin_share": 0.0})
    assert a.meta["content_hash"] == b.meta["content_hash"]


@pytest.fixture(scope="module")
def pair():
    """Ronin (Tornado Cash, a custodial mixer, bridges, swaps, exchange deposits) without and
    with twins adding half the benign traffic."""
    plain = make("ronin-2022-v1", seed=1, transactions=N, difficulty={"twin_share": 0.0})
    twinned = make("ronin-2022-v1", seed=1, transactions=N, difficulty={"twin_share": 0.5})
    return plain, twinned


def _twin_addresses(ds):
    ent = np.asarray(ds.address_truth["entity_id"])
    kind = np.asarray(ds.entities["kind"])
    tw = twins.entities(ds.entities)
    is_twin = np.zeros(len(kind), bool)
    is_twin[list(tw)] = True
    assert tw and (kind[is_twin] == EntityKind.RETAIL).all()
    assert set(tw.values()) <= set(range(len(ds.meta["incidents"])))
    return np.asarray(ds.address_truth["address_id"])[is_twin[ent]]


def test_entities_reads_twins_from_their_names():
    table = {"entity_id": np.array([0, 1, 2, 3, 4]),
             "name": ["exchange-0", "twin-0-0", "twin-2-7", "twin-x-1", "attacker-0"]}
    assert twins.entities(table) == {1: 0, 2: 2}
    assert twins.NAME.format(incident=3, index=5) == "twin-3-5"


def test_twins_are_benign_untainted_and_announce_nothing(pair):
    plain, twinned = pair
    check_dataset(twinned)
    addrs = _twin_addresses(twinned)
    assert len(addrs) > 50
    at = twinned.address_truth
    sel = np.isin(np.asarray(at["address_id"]), addrs)
    assert (np.asarray(at["role"])[sel] == Role.BENIGN).all()
    assert (np.asarray(at["incident_id"])[sel] == -1).all()
    # the laundering itself, its taint and its seeds are those of the plain dataset
    def laund(ds):
        return int((np.asarray(ds.tx_truth["incident_id"]) >= 0).sum())
    assert laund(twinned) == laund(plain)
    assert twinned.seeds.num_rows == plain.seeds.num_rows
    assert twinned.meta["incidents"] == plain.meta["incidents"]
    taint_in = np.asarray(twinned.taint["output_id"])
    outs = twinned.outputs
    assert not np.isin(np.asarray(outs["address_id"])[taint_in], addrs).any()
    # the observable view has no more metadata than without twins
    assert set(twinned.observable().meta) == set(plain.observable().meta)


def test_twins_add_about_their_share_of_traffic_in_the_incidents_shapes(pair):
    plain, twinned = pair
    n_plain = plain.transactions.num_rows
    extra = twinned.transactions.num_rows - n_plain
    # half the benign traffic, less what the end of the window cuts off
    assert 0.15 * n_plain < extra < 0.8 * n_plain, (extra, n_plain)
    # twins use the mixers and bridges the incident uses: more benign hidden links
    lk = twinned.links
    benign = np.asarray(lk["incident_id"]) < 0
    kinds = np.asarray(lk["kind"])
    lk0 = plain.links
    benign0 = np.asarray(lk0["incident_id"]) < 0
    kinds0 = np.asarray(lk0["kind"])
    for kind in (LinkKind.MIXER, LinkKind.BRIDGE):
        assert (benign & (kinds == kind)).sum() > (benign0 & (kinds0 == kind)).sum(), kind
    # twin addresses pass funds on about as often as the launderer's
    at = twinned.address_truth
    aid = np.asarray(at["address_id"])
    twin = np.isin(aid, _twin_addresses(twinned))
    laund = (np.asarray(at["incident_id"]) >= 0) & (np.asarray(at["role"]) > Role.VICTIM)
    used = np.isin(aid, np.asarray(twinned.outputs["address_id"]))
    spent = np.isin(aid, np.asarray(twinned.inputs["address_id"]))
    share = {k: spent[m & used].mean() for k, m in
             (("twin", twin), ("laund", laund))}
    assert abs(share["twin"] - share["laund"]) < 0.2, share


def test_twins_are_deterministic():
    a = make("dmm-bitcoin-2024-v1", seed=2, transactions=N, difficulty={"twin_share": 0.3})
    b = make("dmm-bitcoin-2024-v1", seed=2, transactions=N, difficulty={"twin_share": 0.3})
    assert a.meta["content_hash"] == b.meta["content_hash"]


@pytest.mark.parametrize("bad", [-0.1, 4.5, "much"])
def test_twin_share_out_of_range_is_a_one_line_error(bad):
    with pytest.raises(ConfigError, match="difficulty.twin_share"):
        make("ronin-2022-v1", transactions=N, difficulty={"twin_share": bad})
