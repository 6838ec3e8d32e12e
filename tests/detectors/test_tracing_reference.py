"""Reference tests of the tracing policies: each source's rule on a tiny ledger, by hand.

Sources: Möser, Böhme & Breuker, "Towards Risk Scoring of Bitcoin Transactions" (FC 2014
Workshops) for poison and haircut; Anderson, Shumailov, Ahmed & Rietmann, "Bitcoin Redux"
(WEIS 2018) for FIFO; Tironsakkul, Maarek, Eross & Just, "Probing the Mystery of Cryptocurrency
Theft" (CRC 2019) and its code (tintiron/taintedtx) for LIFO and TIHO. Amounts are satoshis or
wei; every expected value is worked out in the comments.
"""

import numpy as np
import pytest

from launderbench import detectors
from launderbench.detectors.tracing import trace
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

POLICIES = ["poison", "haircut", "fifo", "lifo", "tiho"]
BTC_USD = 60_000 / 1e8  # USD per satoshi in the toy world


def two_hops():
    """Seed: V pays T 1000. T's coin and B's clean 3000 pay P 1000 and Q 2800 (fee 200);
    then Q pays R 2700 (fee 100)."""
    led = ToyLedger()
    v, b, t, p, q, r = (led.address() for _ in range(6))
    ov, ob = led.issue(0, [(v, 1000), (b, 3000)])
    seed, (ot,) = led.utxo_tx(10, [ov], [(t, 1000)])
    led.seed(1, seed)
    tx1, (op, oq) = led.utxo_tx(20, [ot, ob], [(p, 1000), (q, 2800)])
    tx2, (orr,) = led.utxo_tx(30, [oq], [(r, 2700)])
    return led.build().observable(), {"p": op, "q": oq, "r": orr, "tx1": tx1, "tx2": tx2,
                                      "seed": seed}


def test_reference_moser2014_poison_taints_every_output_and_the_fee():
    # any tainted input taints every output in full, and the fee (paid to the miner)
    view, o = two_hops()
    res = trace(view, "poison")
    assert res.output_taint[[o["p"], o["q"], o["r"]]] == pytest.approx([1000, 2800, 2700])
    assert res.fee_taint[o["tx1"]] == pytest.approx(200)
    assert res.fee_taint[o["tx2"]] == pytest.approx(100)
    assert res.fee_taint[o["seed"]] == 0


def test_reference_moser2014_haircut_shares_taint_by_value():
    # tx1 spends 4000 of which 1000 tainted: every satoshi out is 1/4 tainted, so P 250,
    # Q 700 and the fee 50. tx2 spends Q (700 of 2800): R gets 2700/4 = 675, the fee 25.
    # Nothing is lost: 1000 = 250 + 675 + 25 + 50.
    view, o = two_hops()
    res = trace(view, "haircut")
    assert res.output_taint[[o["p"], o["q"], o["r"]]] == pytest.approx([250, 700, 675])
    assert res.fee_taint[o["tx1"]] == pytest.approx(50)
    assert res.fee_taint[o["tx2"]] == pytest.approx(25)
    total = (res.output_taint[o["p"]] + res.output_taint[o["r"]] + res.fee_taint.sum())
    assert total == pytest.approx(1000)


def test_reference_anderson2018_fifo_value_line_with_fee_last():
    """Inputs [clean 3000][stolen 5000] on one line, outputs P 4000 and Q 3000, fee 1000 as the
    last segment: P = [0, 4000) holds 1000 of taint, Q = [4000, 7000) 3000, the fee
    [7000, 8000) 1000, which goes to the miner. P's coin keeps its order [C 3000][T 1000]: P
    paying X 3500 and Y 500 gives X 500 (the first 3000 are clean) and Y 500."""
    led = ToyLedger()
    v, b, t, p, q, x, y = (led.address() for _ in range(7))
    ov, ob = led.issue(0, [(v, 5000), (b, 3000)])
    seed, (ot,) = led.utxo_tx(10, [ov], [(t, 5000)])
    led.seed(1, seed)
    tx1, (op, oq) = led.utxo_tx(20, [ob, ot], [(p, 4000), (q, 3000)])
    tx2, (ox, oy) = led.utxo_tx(30, [op], [(x, 3500), (y, 500)])
    view = led.build().observable()
    res = trace(view, "fifo")
    assert res.output_taint[[op, oq]] == pytest.approx([1000, 3000])
    assert res.fee_taint[tx1] == pytest.approx(1000)
    assert res.output_taint[[ox, oy]] == pytest.approx([500, 500])
    assert res.fee_taint[tx2] == 0
    # lossless accounting: the 5000 stolen end in Q, X, Y and the miner's fee
    assert res.output_taint[[oq, ox, oy]].sum() + res.fee_taint.sum() == pytest.approx(5000)
    s = detectors.make("fifo").fit(view).score(view)
    assert s.info["fee_taint"][tx1] == pytest.approx(1000)
    assert res.fee_usd[tx1] == pytest.approx(1000 * BTC_USD)
    assert s.info["fee_usd"] == pytest.approx(1000 * BTC_USD)  # the miner's total


def test_reference_taintedtx_lifo_reverses_within_a_coin():
    """LIFO reverses the transaction's pooled value, inside each coin too. Inputs T 1000
    (stolen) then C 500 go to R: reversed, R = [C 500][T 1000]. R pays S 500 and U 1000: the
    pooled value reversed is [T 1000][C 500], so S = 500 and U = 500 (reversing the inputs
    only would give S 0, U 1000). The account model agrees: W receives T 1000 then C 500 and
    pays X 1,500, popping from the back ([C 500][T 1000]); X's lot popped from the back pays S
    the stolen 500 first."""
    led = ToyLedger()
    v, c, t, r, s, u = (led.address() for _ in range(6))
    ov, oc = led.issue(0, [(v, 1000), (c, 500)])
    seed, (ot,) = led.utxo_tx(10, [ov], [(t, 1000)])
    led.seed(1, seed)
    _, (orr,) = led.utxo_tx(20, [ot, oc], [(r, 1500)])
    _, (os_, ou) = led.utxo_tx(30, [orr], [(s, 500), (u, 1000)])
    view = led.build().observable()
    lifo = trace(view, "lifo").output_taint
    assert lifo[orr] == pytest.approx(1000)
    assert lifo[[os_, ou]] == pytest.approx([500, 500])

    led = ToyLedger()
    v, c, w, x, s, u = (led.address("ethereum") for _ in range(6))
    led.issue(0, [(v, 1000), (c, 500)], asset="ETH")
    seed, _ = led.transfer(10, v, w, 1000)
    led.seed(1, seed)
    led.transfer(20, c, w, 500)
    _, (ox,) = led.transfer(30, w, x, 1500)
    _, (os_,) = led.transfer(40, x, s, 500)
    _, (ou,) = led.transfer(50, x, u, 1000)
    lifo = trace(led.build().observable(), "lifo").output_taint
    assert lifo[ox] == pytest.approx(1000)
    assert lifo[[os_, ou]] == pytest.approx([500, 500])


def test_reference_taintedtx_lifo_fee_pro_rata():
    # inputs C 3000 then T 1000 reversed: [T 1000][C 3000]; the fee (200 of 4000) is removed
    # pro rata: [T 950][C 2850]; P 1000 takes T 950 + C 50, Q 2800 the rest; the fee took 50
    led = ToyLedger()
    v, b, t, p, q = (led.address() for _ in range(5))
    ov, ob = led.issue(0, [(v, 1000), (b, 3000)])
    seed, (ot,) = led.utxo_tx(10, [ov], [(t, 1000)])
    led.seed(1, seed)
    tx, (op, oq) = led.utxo_tx(20, [ob, ot], [(p, 1000), (q, 2800)])
    res = trace(led.build().observable(), "lifo")
    assert res.output_taint[[op, oq]] == pytest.approx([950, 0])
    assert res.fee_taint[tx] == pytest.approx(50)


def test_reference_tironsakkul2019_tiho_taint_to_the_highest_outputs():
    # inputs C 600, T 900 (1500), outputs A 300, B 700, D 400, fee 100. Tainted first and the
    # fee pro rata (1400/1500): [T 840][C 560]. Highest output first: B 700 <- T 700,
    # D 400 <- T 140 + C 260, A 300 <- C 300. The fee took 900 - 840 = 60 of the taint.
    led = ToyLedger()
    v, c, t, a, b, d = (led.address() for _ in range(6))
    ov, oc = led.issue(0, [(v, 900), (c, 600)])
    seed, (ot,) = led.utxo_tx(10, [ov], [(t, 900)])
    led.seed(1, seed)
    tx, (oa, ob, od) = led.utxo_tx(20, [oc, ot], [(a, 300), (b, 700), (d, 400)])
    res = trace(led.build().observable(), "tiho")
    assert res.output_taint[[oa, ob, od]] == pytest.approx([0, 700, 140])
    assert res.fee_taint[tx] == pytest.approx(60)


@pytest.mark.parametrize("service", [ServiceKind.EXCHANGE, None])
def test_reference_victim_change_is_not_stolen(service):
    """An exchange's 10 BTC coin pays the thief 6 BTC and 4 BTC change back to itself (fee
    10,000 sat). Only the 6 BTC are stolen: the change, the exchange's next payout from it and
    the seed's fee stay clean, and the victim is no cash-out point. Same with an unattributed
    victim: the customer it pays next holds no taint."""
    led = ToyLedger()
    vic = led.address(service=service, name="ex" if service else None)
    thief, customer = led.address(), led.address()
    (ov,) = led.issue(0, [(vic, 10 * 10**8 + 10_000)])
    seed, (o_thief, o_change) = led.utxo_tx(10, [ov], [(thief, 6 * 10**8), (vic, 4 * 10**8)])
    led.seed(1, seed)
    _, (o_cust, o_back) = led.utxo_tx(20, [o_change], [(customer, 3 * 10**8),
                                                        (vic, 10**8 - 5_000)])
    view = led.build().observable()
    for policy in POLICIES:
        res = trace(view, policy)
        assert res.output_taint[o_thief] == pytest.approx(6 * 10**8)
        assert res.output_taint[[o_change, o_cust, o_back]].tolist() == [0, 0, 0]
        assert res.output_depth[o_change] == -1
        assert not res.fee_taint.any()
        s = detectors.make(policy).fit(view).score(view)
        assert len(s.info["cashout"]["address_id"]) == 0
        assert s.address[thief] == pytest.approx(6 * 10**8 * BTC_USD)
        assert s.address[customer] == 0 and s.address[vic] == 0


def test_reference_victim_paying_itself_on_an_account_chain():
    """Account transfers have no change output; a seed transfer from the victim to itself
    steals nothing, and the fee of a seed transfer does not taint the victim's balance."""
    led = ToyLedger()
    vic, thief, x = (led.address("ethereum") for _ in range(3))
    led.issue(0, [(vic, 10_000)], asset="ETH")
    self_pay, (o_self,) = led.transfer(5, vic, vic, 1_000, fee=10)
    seed, (o_thief,) = led.transfer(10, vic, thief, 6_000, fee=10)
    led.seed(1, self_pay)
    led.seed(1, seed)
    _, (o_x,) = led.transfer(20, vic, x, 3_000, fee=10)
    view = led.build().observable()
    for policy in POLICIES:
        res = trace(view, policy)
        assert res.output_taint[o_self] == 0
        assert res.output_taint[o_thief] == pytest.approx(6_000)
        assert res.output_taint[o_x] == 0
        assert not res.fee_taint.any()


def test_fee_taint_balances_on_an_account_chain():
    # X holds [C 10,000] then receives the stolen 5,000; X pays Y 7,900 + fee 100 then Z
    # 6,900 + fee 100. FIFO, fee last: Y's 8,000 drawn are clean; Z's draw is [C 2,000][T 5,000]
    # and the fee is its last 100: Z 4,900, fee 100. Haircut: a third of X's balance is
    # tainted, so the fees carry 100/3 each.
    led = ToyLedger()
    v, x, y, z = (led.address("ethereum") for _ in range(4))
    led.issue(0, [(x, 10_000), (v, 6_000)], asset="ETH")
    seed, _ = led.transfer(10, v, x, 5_000)
    led.seed(7, seed)
    ty, (oy,) = led.transfer(20, x, y, 7_900, fee=100)
    tz, (oz,) = led.transfer(30, x, z, 6_900, fee=100)
    view = led.build().observable()
    f = trace(view, "fifo")
    assert f.output_taint[[oy, oz]] == pytest.approx([0, 4_900])
    assert f.fee_taint[[ty, tz]] == pytest.approx([0, 100])
    h = trace(view, "haircut")
    assert h.output_taint[[oy, oz]] == pytest.approx([7_900 / 3, 6_900 / 3])
    assert h.fee_taint[[ty, tz]] == pytest.approx([100 / 3, 100 / 3])
    assert np.sum(h.output_taint[[oy, oz]]) + h.fee_taint.sum() == pytest.approx(5_000)
