"""Tornado Cash heuristics on a hand-built account ledger where each link is known."""

from __future__ import annotations

import pytest

from launderbench.detectors.mixers.tornado import (
    TornadoHeuristics,
    mixer_events,
    pool_denominations,
)
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY, ServiceKind
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000


def build():
    led = ToyLedger()
    P1 = led.address("ethereum", service=ServiceKind.MIXER, name="tornado-1eth")
    P10 = led.address("ethereum", service=ServiceKind.MIXER, name="tornado-10eth")
    U = {k: led.address("ethereum") for k in ("U1", "U2", "U3", "U4", "U5", "U6", "U7")}
    R = {k: led.address("ethereum") for k in ("R2", "R3", "R4", "R5", "R6")}
    relayer = led.address("ethereum")
    led.issue(0, [(a, 100 * GWEI) for a in U.values()], asset="ETH")
    led.issue(0, [(R["R3"], 5 * GWEI)], asset="ETH")

    def dep(t, u, pool, eth=1, gas=10):
        return led.transfer(t, U[u], pool, eth * GWEI, fee=0, fee_rate=gas)[0]

    def wd(t, pool, r, eth=1, gas=10, relay=True):
        if relay:
            return led.transfer(t, pool, [(r, eth * GWEI - 10**7), (relayer, 10**7)], fee=0,
                                fee_rate=gas)[0]
        return led.transfer(t, pool, r, eth * GWEI, fee=0, fee_rate=gas)[0]

    d = {}
    d["U1"] = dep(100, "U1", P1)
    d["U2"] = dep(200, "U2", P1, gas=77)
    d["U3"] = dep(300, "U3", P1)
    d["U4a"] = dep(400, "U4", P1)
    d["U4b"] = dep(500, "U4", P10, eth=10)
    d["U7"] = dep(550, "U7", P10, eth=10)      # a second 10-ETH note: the pool's denomination
    d["U6"] = dep(600, "U6", P1)
    for k in range(3):                       # U3 and R3 know each other
        led.transfer(700 + 100 * k, U["U3"], R["R3"], GWEI // 10, fee=0)
    w = {}
    w["U1"] = wd(5000, P1, U["U1"], relay=False)
    w["R2"] = wd(5100, P1, R["R2"], gas=77, relay=False)
    w["R3"] = wd(5200, P1, R["R3"])
    w["R4a"] = wd(5300, P1, R["R4"])
    w["R4b"] = wd(5400, P10, R["R4"], eth=10)
    t = 600 + 2 * DAY
    d["U5"] = dep(t, "U5", P1)
    w["R5"] = wd(t + 600, P1, R["R5"])
    w["R6"] = wd(t + 4 * DAY, P1, R["R6"])   # nothing pending within a day: no link
    view = led.build().observable()
    return view, d, w, U, R, (P1, P10)


def links_of(s):
    L = s.links
    return {(int(a), int(b)): float(c) for a, b, c in zip(L["in_tx_id"], L["out_tx_id"],
                                                          L["score"])}



def test_events():
    view, d, w, U, R, pools = build()
    dep, wd = mixer_events(view)
    assert sorted(dep["tx"].tolist()) == sorted(d.values())
    pools_, den = pool_denominations(dep)
    assert dict(zip(pools_.tolist(), den.tolist())) == {pools[0]: GWEI, pools[1]: 10 * GWEI}
    assert sorted(wd["tx"].tolist()) == sorted(w.values())
    i = wd["tx"].tolist().index(w["R3"])
    assert wd["addr"][i] == R["R3"] and wd["relayed"][i]


def test_each_heuristic_links_what_it_should():
    view, d, w, U, R, pools = build()
    s = TornadoHeuristics().fit(view).score(view)
    L = links_of(s)
    assert L[(d["U1"], w["U1"])] == 1.0                         # address match
    assert L[(d["U2"], w["R2"])] == pytest.approx(0.9)           # unique gas price
    assert L[(d["U3"], w["R3"])] == pytest.approx(0.8)           # linked addresses
    assert L[(d["U4a"], w["R4a"])] == pytest.approx(0.7)         # multi-denomination
    assert L[(d["U4b"], w["R4b"])] == pytest.approx(0.7)
    assert L[(d["U5"], w["R5"])] == pytest.approx(0.5)           # FIFO, one pending
    assert all(k[1] != w["R6"] for k in L)                       # nothing to match
    assert all(k[0] != d["U6"] for k in L)                       # expired, never matched
    assert all(k[0] != d["U7"] for k in L)                       # never withdrawn
    assert len(L) == 6
    n = s.info["n_links"]
    assert n["address"] == 1 and n["gas"] == 1 and n["linked"] == 1 and n["fifo"] == 1
    # addresses: linked ones high, unlinked participants keep the exposure score
    assert s.address[R["R2"]] == pytest.approx(0.9)
    assert s.address[U["U6"]] == pytest.approx(0.1) and s.address[R["R6"]] == pytest.approx(0.1)
    assert s.address[list(pools)].max() == 0
    clusters = [set(c.tolist()) for c in s.info["clusters"]]
    assert {U["U3"], R["R3"]} in clusters and {U["U4"], R["R4"]} in clusters


def test_heuristic_selection_and_no_false_gas_link():
    view, d, w, U, R, pools = build()
    s = TornadoHeuristics(heuristics=("gas",)).fit(view).score(view)
    assert links_of(s) == {(d["U2"], w["R2"]): pytest.approx(0.9)}
    s = TornadoHeuristics(heuristics=("linked",), linked_k=4).fit(view).score(view)
    assert links_of(s) == {}


def test_odd_amounts_are_not_pool_deposits():
    led = ToyLedger()
    pool = led.address("ethereum", service=ServiceKind.MIXER, name="tornado-1eth")
    u = led.address("ethereum")
    led.issue(0, [(u, 100 * GWEI)], asset="ETH")
    d1 = led.transfer(10, u, pool, GWEI)[0]
    d2 = led.transfer(20, u, pool, GWEI)[0]
    odd = led.transfer(30, u, pool, GWEI // 3)[0]          # not the denomination
    w = led.transfer(40, pool, u, GWEI // 3)[0]            # nor is this withdrawal
    view = led.build().observable()
    s = TornadoHeuristics().fit(view).score(view)
    assert s.info["n_dropped_deposits"] == 1 and s.info["n_dropped_withdrawals"] == 1
    assert odd not in s.links["in_tx_id"] and w not in s.links["out_tx_id"]
    s = TornadoHeuristics(denomination_only=False).fit(view).score(view)
    assert {(d1, w), (d2, w), (odd, w)} <= set(zip(s.links["in_tx_id"].tolist(),
                                                    s.links["out_tx_id"].tolist()))


def test_bad_params():
    view, *_ = build()
    with pytest.raises(ConfigError):
        TornadoHeuristics(heuristics=("torn",)).fit(view).score(view)
    with pytest.raises(ConfigError):
        TornadoHeuristics(fifo_weight=2).fit(view).score(view)
