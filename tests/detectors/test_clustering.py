"""Address clustering on hand-built ledgers with known owners."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launderbench import detectors
from launderbench.detectors.clustering import (
    change_pairs,
    cluster_addresses,
    deposit_addresses,
    is_coinjoin,
    lift_to_entities,
    union_find,
)
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000
GWEI = 1_000_000_000


def same(cl, *addrs):
    return len({int(cl[a]) for a in addrs}) == 1



def test_multi_input_merges_cospenders_but_not_coinjoin_participants():
    led = ToyLedger()
    a, b, c, d, e, f, p, q = (led.address() for _ in range(8))
    cj_in = [led.address() for _ in range(3)]
    cj_out = [led.address() for _ in range(6)]
    oa, ob, oc, od, oe, *ocj = led.issue(0, [(a, BTC), (b, BTC), (c, BTC), (d, BTC), (e, BTC)]
                                         + [(x, 2 * BTC) for x in cj_in])
    txm, _ = led.utxo_tx(10, [oa, ob, oc], [(p, BTC), (q, BTC + 7), (f, BTC - 1000)])  # a,b,c
    led.utxo_tx(10, [od], [(p, BTC // 2), (q, BTC // 2 - 500)])                 # d alone
    # CoinJoin: three participants, three equal 1 BTC outputs plus three changes
    txj, _ = led.utxo_tx(20, ocj, [(cj_out[0], BTC), (cj_out[1], BTC), (cj_out[2], BTC)]
                         + [(cj_out[3 + k], BTC - 10_000 - k) for k in range(3)])
    view = led.build().observable()
    cj = is_coinjoin(view)
    assert cj[txj] and not cj[txm] and cj.sum() == 1
    cl = cluster_addresses(view, ("multi-input",))
    assert same(cl, a, b, c) and not same(cl, a, d) and not same(cl, a, e)
    assert len({int(cl[x]) for x in cj_in}) == 3          # participants stay apart
    assert cl[a] == min(a, b, c)                           # canonical id: smallest member
    # without the CoinJoin filter the participants collapse into one (the false merge)
    cl2 = cluster_addresses(view, ("multi-input",), skip_coinjoin=False)
    assert same(cl2, *cj_in)


def test_coinjoin_rule_edges():
    led = ToyLedger()
    a, b, c = (led.address() for _ in range(3))
    outs = [led.address() for _ in range(5)]
    oa1, oa2, ob, oc, od = led.issue(0, [(a, BTC), (a, BTC), (b, BTC), (c, BTC), (c, BTC)])
    # p = 2 equal outputs but both inputs are the same address: not a CoinJoin
    t1, _ = led.utxo_tx(1, [oa1, oa2], [(outs[0], 50_000), (outs[1], 50_000), (outs[2], 10**7)])
    # equal value is the 546-sat dust value: excluded
    t2, _ = led.utxo_tx(1, [ob, oc], [(outs[0], 546), (outs[1], 546), (outs[2], 10**7)])
    # genuine two-party join: two inputs, two equal outputs and one change
    t3, _ = led.utxo_tx(1, [od, oa := led.issue(1, [(b, BTC)])[0]],
                        [(outs[3], 10**7), (outs[4], 10**7), (outs[0], 10**6)])
    view = led.build().observable()
    cj = is_coinjoin(view)
    assert not cj[t1] and not cj[t2] and cj[t3]
    del oa


def test_one_time_change():
    led = ToyLedger()
    a, shop, old = (led.address() for _ in range(3))
    c1, c2, c3, x, y = (led.address() for _ in range(5))
    oa, oo, oa2, oa3 = led.issue(0, [(a, BTC), (old, BTC), (a, BTC), (a, BTC)])
    led.utxo_tx(1, [oo], [(shop, BTC - 1000)])                   # shop has appeared before
    led.utxo_tx(2, [oa], [(shop, BTC // 2), (c1, BTC // 2 - 1000)])   # c1 is change
    led.utxo_tx(3, [oa2], [(x, BTC // 2), (c2, BTC // 2 - 1000)])    # two fresh: no change
    led.utxo_tx(4, [oa3], [(shop, BTC // 2), (a, 100), (c3, BTC // 2 - 1100)])  # self-change
    view = led.build().observable()
    a_, b_ = change_pairs(view)
    assert list(zip(a_.tolist(), b_.tolist())) == [(a, c1)]
    cl = cluster_addresses(view, ("change",))
    assert same(cl, a, c1) and not same(cl, a, c2) and not same(cl, a, c3)
    assert not same(cl, a, shop)
    del y


def _deposit_ledger(gap_blocks: int, diff_gwei: int, also_pays: bool = False):
    led = ToyLedger()
    u1, u2, u3 = (led.address("ethereum") for _ in range(3))
    x = led.address("ethereum")
    ex = led.address("ethereum", service=ServiceKind.EXCHANGE, name="ex")
    led.issue(0, [(u1, 10 * GWEI), (u2, 10 * GWEI), (u3, 10 * GWEI)], asset="ETH")
    led.transfer(12, u1, x, 2 * GWEI)
    led.transfer(12 + 12 * gap_blocks, x, ex, 2 * GWEI - diff_gwei - 1000, fee=1000)
    led.transfer(24 + 12 * gap_blocks, u2, x, 3 * GWEI)
    led.transfer(36 + 12 * gap_blocks, u3, u1, GWEI)  # a plain payment links nothing
    if also_pays:  # x also pays a non-exchange address: a personal wallet, not a deposit
        led.transfer(48 + 12 * gap_blocks, x, u3, GWEI)
    return led.build().observable(), (u1, u2, u3, x, ex)


def test_exchange_deposit_address_clustering():
    view, (u1, u2, u3, x, ex) = _deposit_ledger(gap_blocks=10, diff_gwei=1_000_000)
    is_dep, _ = deposit_addresses(view)
    assert np.flatnonzero(is_dep).tolist() == [x]
    cl = cluster_addresses(view, ("deposit",))
    assert same(cl, u1, u2) and not same(cl, u1, u3)
    assert not same(cl, u1, x) and not same(cl, u1, ex)   # the deposit address is the exchange's
    # forwarded too late (beyond t_max blocks) or too much kept (beyond a_max): no deposit
    for gap, diff in ((4000, 1_000_000), (10, 20_000_000)):
        view, (u1, u2, *_r) = _deposit_ledger(gap_blocks=gap, diff_gwei=diff)
        assert not deposit_addresses(view)[0].any()
        assert not same(cluster_addresses(view, ("deposit",)), u1, u2)
    # a deposit address that also pays elsewhere: Victor's rule (the default) still clusters
    # its payers; the project's refinement (deposit_only_forwards=True) does not
    view, (u1, u2, *_r) = _deposit_ledger(gap_blocks=10, diff_gwei=1_000_000, also_pays=True)
    assert same(cluster_addresses(view, ("deposit",)), u1, u2)
    assert not same(cluster_addresses(view, ("deposit",), deposit_only_forwards=True), u1, u2)


def test_lift_to_entities():
    s = np.array([1.0, 5.0, 0.0, 2.0])
    c = np.array([0, 0, 2, 2])
    assert lift_to_entities(s, c, "max").tolist() == [5, 5, 2, 2]
    assert lift_to_entities(s, c, "sum").tolist() == [6, 6, 2, 2]
    assert lift_to_entities(s, c, "mean").tolist() == [3, 3, 1, 1]
    with pytest.raises(ConfigError):
        lift_to_entities(s, c[:2])
    with pytest.raises(ConfigError, match="did you mean 'change'"):
        cluster_addresses(None, ("chnage",))


def test_cluster_expansion():
    led = ToyLedger()
    victim, thief, t2, bob, carol, shop = (led.address() for _ in range(6))
    ov, ot2, ob, oc = led.issue(0, [(victim, 10 * BTC), (t2, BTC), (bob, BTC), (carol, BTC)])
    seed, (o_th, _) = led.utxo_tx(1, [ov], [(thief, 6 * BTC), (victim, 4 * BTC - 1000)])
    led.seed(1, seed)
    led.utxo_tx(2, [o_th, ot2], [(shop, 7 * BTC - 1000)])   # thief co-spends with t2
    led.utxo_tx(2, [ob, oc], [(shop, 2 * BTC - 1000)])      # bob + carol: another owner
    view = led.build().observable()
    s = detectors.make("cluster-expansion").fit(view).score(view)
    usd = 6 * 60_000
    assert s.address[thief] == pytest.approx(usd) and s.address[t2] == pytest.approx(usd)
    for a in (victim, bob, carol, shop):   # the victim's change is not a thief address
        assert s.address[a] == 0
    assert s.info["seed_receivers"].tolist() == [thief]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40))))
def test_union_find_matches_networkx(case):
    n, pairs = case
    a = np.array([p[0] for p in pairs], np.int64)
    b = np.array([p[1] for p in pairs], np.int64)
    cl = union_find(n, a, b)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(pairs)
    for comp in nx.connected_components(g):
        comp = sorted(comp)
        assert all(cl[x] == comp[0] for x in comp)
    assert len(np.unique(cl)) == nx.number_connected_components(g)
