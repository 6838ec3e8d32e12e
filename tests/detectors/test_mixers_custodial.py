"""Custodial-mixer flow-through on a hand-built UTXO ledger."""

from __future__ import annotations

import pytest

from launderbench.detectors.mixers.custodial import CustodialFlow, custodial_events
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000
H = 3600


def build():
    led = ToyLedger()
    mix_dep = [led.address(service=ServiceKind.MIXER, name="blender") for _ in range(3)]
    reserve = led.address(service=ServiceKind.MIXER, name="blender")
    other_mix = led.address(service=ServiceKind.MIXER, name="chipmixer")
    users = [led.address() for _ in range(4)]
    outs = [led.address() for _ in range(4)]
    shop = led.address()
    coins = led.issue(0, [(u, 10 * BTC) for u in users])
    (res,) = led.issue(0, [(reserve, 100 * BTC)])
    (res2,) = led.issue(0, [(other_mix, 100 * BTC)])
    ids = {}
    # deposits: 1, 2.5, 4 BTC into blender; 3 BTC into chipmixer
    ids["d0"] = led.utxo_tx(100, [coins[0]], [(mix_dep[0], 1 * BTC), (users[0], 9 * BTC - 500)])[0]
    ids["d1"] = led.utxo_tx(200, [coins[1]], [(mix_dep[1], int(2.5 * BTC)), (users[1], int(7.5 * BTC) - 500)])[0]
    ids["d2"] = led.utxo_tx(300, [coins[2]], [(mix_dep[2], 4 * BTC), (users[2], 6 * BTC - 500)])[0]
    ids["d3"] = led.utxo_tx(400, [coins[3]], [(other_mix, 3 * BTC), (users[3], 7 * BTC - 500)])[0]
    # payouts from the reserve, 2% fee, hours later; one unrelated payment to a shop
    ids["p0"], (_, res) = led.utxo_tx(3 * H, [res], [(outs[0], int(0.98 * BTC)), (reserve, 99 * BTC)])
    ids["p1"], (_, res) = led.utxo_tx(5 * H, [res], [(outs[1], int(2.45 * BTC)), (reserve, int(96.5 * BTC))])
    ids["p_shop"], (_, res) = led.utxo_tx(6 * H, [res], [(shop, int(5.0 * BTC)), (reserve, int(91.4 * BTC))])
    # chipmixer pays out an amount that would fit blender's d2 (3.92 BTC): other service
    ids["p_other"], _ = led.utxo_tx(7 * H, [res2], [(outs[3], int(3.92 * BTC)), (other_mix, 96 * BTC)])
    # too late for d3's delay window: 4 days
    ids["p_late"], _ = led.utxo_tx(4 * 24 * H, [res], [(outs[2], int(3.92 * BTC)), (reserve, int(87.4 * BTC))])
    return led.build().observable(), ids, users, outs, shop


def links_of(s):
    L = s.links
    return {(int(a), int(b)): float(c) for a, b, c in zip(L["in_tx_id"], L["out_tx_id"],
                                                          L["score"])}



def test_events():
    view, ids, *_ = build()
    dep, pay = custodial_events(view)
    assert sorted(set(dep["tx"].tolist())) == sorted(ids[k] for k in ("d0", "d1", "d2", "d3"))
    assert ids["p0"] in pay["tx"] and ids["p_other"] in pay["tx"]


def test_matches_deposits_to_payouts():
    view, ids, users, outs, shop = build()
    s = CustodialFlow(fee_min=0.005, fee_max=0.05, max_delay=3 * 24 * H).fit(view).score(view)
    L = links_of(s)
    assert L == {(ids["d0"], ids["p0"]): 1.0, (ids["d1"], ids["p1"]): 1.0}
    assert s.address[users[0]] == 1.0 and s.address[outs[1]] == 1.0
    assert s.address[shop] == 0 and s.address[outs[3]] == 0 and s.address[outs[2]] == 0
    # a longer window picks up the late payout for d2
    s = CustodialFlow(fee_min=0.005, max_delay=5 * 24 * H).fit(view).score(view)
    assert (ids["d2"], ids["p_late"]) in links_of(s)


def test_split_payout_is_summed_per_transaction():
    led = ToyLedger()
    dep_addr = led.address(service=ServiceKind.MIXER, name="blender")
    reserve = led.address(service=ServiceKind.MIXER, name="blender")
    user, a, b = led.address(), led.address(), led.address()
    (c,) = led.issue(0, [(user, 2 * BTC)])
    (r,) = led.issue(0, [(reserve, 50 * BTC)])
    d, _ = led.utxo_tx(100, [c], [(dep_addr, int(1.5 * BTC)), (user, int(0.5 * BTC) - 500)])
    p, _ = led.utxo_tx(2 * H, [r], [(a, int(0.9 * BTC)), (b, int(0.57 * BTC)),
                                    (reserve, int(48.53 * BTC))])
    view = led.build().observable()
    s = CustodialFlow().fit(view).score(view)
    assert links_of(s) == {(d, p): 1.0}
    assert s.address[a] == 1.0 and s.address[b] == 1.0 and s.address[user] == 1.0
    assert links_of(CustodialFlow(per_tx=False).fit(view).score(view)) == {}


def test_fee_band():
    view, ids, *_ = build()
    s = CustodialFlow(fee_min=0.03, fee_max=0.05).fit(view).score(view)
    assert links_of(s) == {}


def test_bad_params():
    view, *_ = build()
    with pytest.raises(ConfigError):
        CustodialFlow(fee_min=0.1, fee_max=0.05).fit(view).score(view)
    with pytest.raises(ConfigError):
        CustodialFlow(assignment="x").fit(view).score(view)
