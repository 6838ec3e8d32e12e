"""Reference cases for address clustering, each built from its source's own definition with
hand-computed answers.

* Meiklejohn et al., "A Fistful of Bitcoins", IMC 2013: Heuristic 1 (all inputs of a
  transaction share an owner) and Heuristic 2 / Definition 4.3 (one-time change).
* The CoinJoin exclusion: what the ``coinjoin`` detector flags (BlockSci's ``isCoinjoin``,
  Dumplings' Whirlpool and Wasabi rules) is not a multi-input transaction of one owner.
* Victor, "Address Clustering Heuristics for Ethereum", FC 2020: exchange deposit addresses,
  ``t_max`` = 3200 blocks.
"""

from __future__ import annotations

import numpy as np
import pytest

from launderbench import detectors
from launderbench.detectors.clustering import (
    change_pairs,
    cluster_addresses,
    deposit_addresses,
    is_coinjoin,
)
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000
GWEI = 1_000_000_000
BTC_USD = 60_000.0


def test_reference_meiklejohn_h1_joins_inputs_transitively():
    # t1 spends a, b, c; t2 spends c (again) and d: H1 gives {a, b, c, d}; e spends alone
    led = ToyLedger()
    a, b, c, d, e, x = (led.address() for _ in range(6))
    oa, ob, oc, oc2, od, oe = led.issue(0, [(a, BTC), (b, BTC), (c, BTC), (c, BTC), (d, BTC),
                                            (e, BTC)])
    led.utxo_tx(1, [oa, ob, oc], [(x, 3 * BTC - 1000)])
    led.utxo_tx(2, [oc2, od], [(x, 2 * BTC - 1000)])
    led.utxo_tx(3, [oe], [(x, BTC - 1000)])
    cl = cluster_addresses(led.build().observable(), ("multi-input",))
    assert cl.tolist() == [a, a, a, a, e, x]      # canonical id: the smallest member


def test_reference_meiklejohn_h2_definition_4_3():
    # a pays shop (seen before) and fresh c1: c1 is a's one-time change. The second payment
    # has two fresh outputs (condition d fails), the third pays back to a (condition c fails).
    led = ToyLedger()
    a, shop, old, c1, c2, x, c3 = (led.address() for _ in range(7))
    o_old, oa1, oa2, oa3 = led.issue(0, [(old, BTC), (a, BTC), (a, BTC), (a, BTC)])
    led.utxo_tx(1, [o_old], [(shop, BTC - 1000)])
    led.utxo_tx(2, [oa1], [(shop, BTC // 2), (c1, BTC // 2 - 1000)])
    led.utxo_tx(3, [oa2], [(x, BTC // 2), (c2, BTC // 2 - 1000)])
    led.utxo_tx(4, [oa3], [(shop, BTC // 2), (a, 100), (c3, BTC // 2 - 1100)])
    a_, b_ = change_pairs(led.build().observable())
    assert list(zip(a_.tolist(), b_.tolist())) == [(a, c1)]


def _mixed_rounds():
    """A Whirlpool 5x5 round (0.01 BTC pool) and a 12-input Wasabi 1.x round (11 outputs of
    0.1 BTC and two changes), neither of which BlockSci's generic rule flags: in the first the
    equal value occurs 5 times for p = 3 participants, in the second 11 times for p = 7."""
    led = ToyLedger()
    wp = [led.address() for _ in range(5)]
    wa = [led.address() for _ in range(12)]
    outs = [led.address() for _ in range(18)]
    c_wp = led.issue(0, [(x, int(0.0102 * BTC)) for x in wp])
    c_wa = led.issue(0, [(x, int(0.15 * BTC)) for x in wa])
    t_wp, _ = led.utxo_tx(10, c_wp, [(outs[k], int(0.01 * BTC)) for k in range(5)])
    t_wa, _ = led.utxo_tx(20, c_wa, [(outs[5 + k], int(0.1 * BTC)) for k in range(11)]
                          + [(outs[16], int(0.3 * BTC)), (outs[17], int(0.2 * BTC))])
    return led, wp, wa, t_wp, t_wa


def test_reference_h1_skips_whirlpool_and_wasabi_rounds():
    led, wp, wa, t_wp, t_wa = _mixed_rounds()
    view = led.build().observable()
    assert not is_coinjoin(view, ("generic",))[[t_wp, t_wa]].any()
    assert is_coinjoin(view)[[t_wp, t_wa]].all()      # the coinjoin detector's rules
    cl = cluster_addresses(view, ("multi-input",))
    assert len({int(cl[x]) for x in wp}) == 5          # every participant stays alone
    assert len({int(cl[x]) for x in wa}) == 12
    # BlockSci's rule alone (the earlier exclusion) merges both rounds
    cl = cluster_addresses(view, ("multi-input",), skip_coinjoin=("generic",))
    assert len({int(cl[x]) for x in wp}) == 1 and len({int(cl[x]) for x in wa}) == 1


def test_reference_cluster_expansion_stops_at_a_whirlpool_round():
    # the thief's seed receiver joins a Whirlpool round with four strangers; H1 must not make
    # the strangers the thief's: only the receiver scores the seed's USD (6 BTC at 60,000)
    led = ToyLedger()
    victim, thief, shop = led.address(), led.address(), led.address()
    strangers = [led.address() for _ in range(4)]
    mixed = [led.address() for _ in range(5)]
    (ov,) = led.issue(0, [(victim, 10 * BTC)])
    seed, (o_th, _) = led.utxo_tx(1, [ov], [(thief, 6 * BTC), (victim, 4 * BTC - 1000)])
    led.seed(1, seed)
    _, (o_th2, _) = led.utxo_tx(2, [o_th], [(thief, int(0.0102 * BTC)),
                                            (shop, 6 * BTC - int(0.0102 * BTC) - 1000)])
    c = led.issue(3, [(x, int(0.0102 * BTC)) for x in strangers])
    led.utxo_tx(4, [o_th2, *c], [(m, int(0.01 * BTC)) for m in mixed])
    view = led.build().observable()
    s = detectors.make("cluster-expansion").fit(view).score(view)
    assert s.address[thief] == pytest.approx(6 * BTC_USD)
    assert np.count_nonzero(s.address) == 1
    assert s.address[strangers].max() == 0


def _deposit_ledger(gap_blocks: int):
    led = ToyLedger()
    u1, u2, x = (led.address("ethereum") for _ in range(3))
    ex = led.address("ethereum", service=ServiceKind.EXCHANGE, name="ex")
    led.issue(0, [(u1, 10 * GWEI), (u2, 10 * GWEI)], asset="ETH")
    led.transfer(12, u1, x, 2 * GWEI)                              # block 1
    led.transfer(12 + 12 * gap_blocks, x, ex, 2 * GWEI - 10**6)     # kept 0.001 ETH
    led.transfer(24 + 12 * gap_blocks, u2, x, GWEI)
    return led.build().observable(), u1, u2, x


@pytest.mark.parametrize("gap,is_deposit", [(3200, True), (3201, False)])
def test_reference_victor_deposit_address_t_max(gap, is_deposit):
    # Victor's rule: the forward at most t_max = 3200 blocks after the payment in, with
    # 0 <= received - forwarded <= a_max; the payers of one deposit address are one user
    view, u1, u2, x = _deposit_ledger(gap)
    assert deposit_addresses(view)[0][x] == is_deposit
    cl = cluster_addresses(view, ("deposit",))
    assert (cl[u1] == cl[u2]) == is_deposit
    assert cl[x] == x                                   # the exchange's, not merged
