"""Bridge matching on hand-built two-chain ledgers (id path, heuristic path, assignments)."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench.detectors.bridges.assign import assign
from launderbench.detectors.bridges.matcher import BridgeMatcher, bridge_events
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000
USD6 = 1_000_000
BTC = 100_000_000


def build():
    led = ToyLedger()
    b_eth = led.address("ethereum", service=ServiceKind.BRIDGE, name="br")
    b_avax = led.address("avalanche", service=ServiceKind.BRIDGE, name="br")
    b_btc = led.address("bitcoin", service=ServiceKind.BRIDGE, name="ren")
    u = {k: led.address("ethereum") for k in ("u1", "u2", "u3")}
    v = {k: led.address("avalanche") for k in ("v1", "v2", "v3", "v4", "thief")}
    ub = led.address("bitcoin")
    ve = led.address("ethereum")
    led.issue(0, [(u["u1"], 10 * GWEI)], asset="ETH")
    led.issue(0, [(u["u2"], 10_000 * USD6), (u["u3"], 10_000 * USD6)], asset="USDT")
    led.issue(0, [(b_avax, 1_000_000 * GWEI)], asset="AVAX")
    led.issue(0, [(b_avax, 1_000_000 * USD6)], asset="USDT-AVAX")
    led.issue(0, [(b_eth, 100 * BTC)], asset="WBTC")
    (ob,) = led.issue(0, [(ub, 2 * BTC)])
    ids = {}
    # id-bearing: 1 ETH (3,000 USD) -> 99.9 AVAX (2,997 USD, after a 0.1% fee), memo 42
    ids["d1"] = led.transfer(100, u["u1"], b_eth, GWEI, memo=42)[0]
    ids["r1"] = led.transfer(400, b_avax, v["v1"], 99_900_000_000, asset="AVAX", memo=42)[0]
    # exploit-like release: an id no deposit carries
    ids["r_bad"] = led.transfer(500, b_avax, v["thief"], 5000 * GWEI, asset="AVAX", memo=99)[0]
    # no ids: USDT on ethereum -> USDT-AVAX
    ids["d2"] = led.transfer(1000, u["u2"], b_eth, 1000 * USD6, asset="USDT")[0]
    ids["d3"] = led.transfer(1100, u["u3"], b_eth, 2000 * USD6, asset="USDT")[0]
    ids["r2"] = led.transfer(1600, b_avax, v["v2"], 995 * USD6, asset="USDT-AVAX")[0]
    ids["r_decoy"] = led.transfer(1650, b_avax, v["v4"], 500 * USD6, asset="USDT-AVAX")[0]
    ids["r3"] = led.transfer(1700, b_avax, v["v3"], 1990 * USD6, asset="USDT-AVAX")[0]
    # bitcoin lock -> WBTC release on ethereum
    ids["d4"] = led.utxo_tx(2000, [ob], [(b_btc, 2 * BTC - 1000)])[0]
    ids["r4"] = led.transfer(5000, b_eth, ve, 2 * BTC - 3000, asset="WBTC")[0]
    return led.build().observable(), ids, u, v


def links_of(s):
    L = s.links
    return {(int(a), int(b)): float(c) for a, b, c in zip(L["in_tx_id"], L["out_tx_id"],
                                                          L["score"])}



def test_events():
    view, ids, u, v = build()
    dep, rel = bridge_events(view)
    assert sorted(dep["tx"].tolist()) == sorted([ids[k] for k in ("d1", "d2", "d3", "d4")])
    assert sorted(rel["tx"].tolist()) == sorted(
        [ids[k] for k in ("r1", "r_bad", "r2", "r_decoy", "r3", "r4")])


@pytest.mark.parametrize("method", ["greedy", "fifo", "hungarian"])
def test_id_and_heuristic_matching(method):
    view, ids, u, v = build()
    tm = {"ETH": ["AVAX"], "USDT": ["USDT-AVAX"], "BTC": ["WBTC"]}
    s = BridgeMatcher(phi=0.01, fee_max_usd=5, token_map=tm, assignment=method).fit(view).score(view)
    L = links_of(s)
    assert L[(ids["d1"], ids["r1"])] == 1.0
    for d, r in (("d2", "r2"), ("d3", "r3"), ("d4", "r4")):
        assert (ids[d], ids[r]) in L and 0.3 < L[(ids[d], ids[r])] < 1.0
    assert len(L) == 4
    assert all(k[1] != ids["r_decoy"] for k in L)
    assert s.info["unmatched_releases"].tolist() == [ids["r_bad"]]
    assert s.info["n_id_matched"] == 1 and s.info["n_heuristic"] == 3
    assert s.address[v["v2"]] > 0 and s.address[v["thief"]] == 0


def test_token_map_blocks_unmapped_pairs():
    view, ids, u, v = build()
    s = BridgeMatcher(token_map={"ETH": ["AVAX"]}, fee_max_usd=5).fit(view).score(view)
    L = links_of(s)
    assert list(L) == [(ids["d1"], ids["r1"])]


def test_amount_rule_on_id_match():
    view, ids, u, v = build()
    tm = {"ETH": ["AVAX"]}
    # a bridge stating a 0.5% fee should release 99.5 AVAX, not 99.9: reported, not linked
    s = BridgeMatcher(token_map=tm, bridge_fee=0.005).fit(view).score(view)
    assert (ids["d1"], ids["r1"]) not in links_of(s)
    k = s.info["id_mismatches"].tolist().index([ids["d1"], ids["r1"]])
    assert s.info["id_mismatch_reasons"][k] == "amount"
    assert ids["r1"] in s.info["unmatched_releases"].tolist()
    # a fee per bridge, by service name; the heuristic fee band plays no part in the id path
    s = BridgeMatcher(token_map=tm, bridge_fee={"br": 0.001}, phi=0.0,
                      fee_max_usd=0.0).fit(view).score(view)
    assert links_of(s)[(ids["d1"], ids["r1"])] == 1.0
    with pytest.raises(ConfigError):
        BridgeMatcher(bridge_fee={"nope": 0.001}).fit(view).score(view)


def test_default_id_token_mapping_is_one_to_one_representation():
    view, ids, u, v = build()
    # ETH -> AVAX is a swap, not a representation of ETH: no id link without a token_map
    s = BridgeMatcher(fee_max_usd=5).fit(view).score(view)
    assert (ids["d1"], ids["r1"]) not in links_of(s)
    k = s.info["id_mismatches"].tolist().index([ids["d1"], ids["r1"]])
    assert s.info["id_mismatch_reasons"][k] == "token"


def test_window():
    view, ids, u, v = build()
    s = BridgeMatcher(window=550, fee_max_usd=5).fit(view).score(view)
    L = links_of(s)
    assert (ids["d2"], ids["r2"]) not in L and (ids["d3"], ids["r3"]) not in L


def test_assignment_methods_differ_where_they_should():
    # deposits A (1000), B (1010); releases X (1000, fits both), Y (995, fits A only)
    a = np.array([0, 1, 0])
    b = np.array([0, 0, 1])
    cost = np.array([0.0, 0.1, 0.5])
    g = assign(a, b, cost, 2, 2, "greedy")
    h = assign(a, b, cost, 2, 2, "hungarian")
    assert g.tolist() == [True, False, False]          # A-X first, B and Y left alone
    assert h.tolist() == [False, True, True]           # maximum matching: B-X, A-Y
    f = assign(a, b, cost, 2, 2, "fifo", t_a=np.array([0, 5]), t_b=np.array([10, 20]))
    assert f.tolist() == [True, False, False]          # A (first) takes the earliest release


def test_bad_params():
    view, *_ = build()
    with pytest.raises(ConfigError):
        BridgeMatcher(assignment="auction").fit(view).score(view)
    with pytest.raises(ConfigError):
        BridgeMatcher(token_map={"ETH": ["DOGE"]}).fit(view).score(view)
    with pytest.raises(ConfigError):
        BridgeMatcher(phi=2).fit(view).score(view)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.floats(0, 10)),
                min_size=0, max_size=25))
def test_assignments_are_matchings_and_hungarian_is_maximum(cands):
    a = np.array([c[0] for c in cands], dtype=np.int64)
    b = np.array([c[1] for c in cands], dtype=np.int64)
    cost = np.array([c[2] for c in cands], dtype=np.float64)
    t = np.arange(6)
    sizes = {}
    for m in ("greedy", "fifo", "hungarian"):
        k = assign(a, b, cost, 6, 6, m, t_a=t, t_b=t)
        assert len(set(a[k].tolist())) == k.sum() == len(set(b[k].tolist()))
        sizes[m] = int(k.sum())
    # maximum cardinality, checked against networkx on the unique pairs
    import networkx as nx

    g = nx.Graph()
    g.add_edges_from({(f"a{x}", f"b{y}") for x, y in zip(a.tolist(), b.tolist())})
    best = len(nx.max_weight_matching(g, maxcardinality=True))
    assert sizes["hungarian"] == best >= sizes["greedy"]
