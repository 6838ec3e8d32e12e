"""Reference tests of the pattern detectors, each from its source's definition, on tiny
ledgers whose answers are worked out by hand in the docstrings."""

from __future__ import annotations

import pytest

from launderbench import detectors
from launderbench.simulator.schema import DAY
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000   # base units per ETH
BTC = 100_000_000      # satoshi per BTC


def test_reference_blocksci_is_peeling_chain():
    """BlockSci (``tx_identification.cpp``): a transaction *looks like* a peel when it has one
    input and two outputs, and *is* one when the transaction it spends or one that spends its
    outputs also looks like one.

    * T1..T5: each spends the previous change and peels 10% of its input to a new address: all
      five are peels, one chain of length 5 = L, so each scores 5 / (5 + 5) = 1/2; the input
      addresses and the last change score 1/2, the peel recipients 1/4.
    * A -> B: two peel-looking transactions, B spending A's change: both are peels (each has a
      peel-looking neighbour), a chain of 2 scoring 2 / 7, not flagged.
    * L: one input, two outputs, but it spends an issuance and nobody spends its outputs: not
      a peel. E: it looks like one but its parent D has two inputs: not a peel.
    """
    led = ToyLedger()
    chain = [led.address() for _ in range(6)]
    peel = [led.address() for _ in range(5)]
    a, b, pa, pb, cb, x, px, d1, d2, e, pe, ce = (led.address() for _ in range(12))
    (c0, ca, cx, cd1, cd2) = led.issue(0, [(chain[0], 100_000), (a, 100_000), (x, 100_000),
                                           (d1, 50_000), (d2, 50_000)])
    t = 10
    coin, value, txs = c0, 100_000, []
    for k in range(5):
        cut = value // 10
        tx, (_, coin) = led.utxo_tx(t, [coin], [(peel[k], cut), (chain[k + 1], value - cut)])
        txs.append(tx)
        value -= cut
        t += 10
    ta, (_, ca2) = led.utxo_tx(t, [ca], [(pa, 20_000), (b, 80_000)])
    tb, _ = led.utxo_tx(t + 10, [ca2], [(pb, 20_000), (cb, 60_000)])
    tl, _ = led.utxo_tx(t + 20, [cx], [(px, 30_000), (x, 70_000)])
    td, (od,) = led.utxo_tx(t + 30, [cd1, cd2], [(e, 100_000)])
    te, _ = led.utxo_tx(t + 40, [od], [(pe, 10_000), (ce, 90_000)])
    view = led.build().observable()
    s = detectors.make("peel-chain").fit(view).score(view)
    assert s.info["n_peel_like"] == 7
    assert [c.tolist() for c in s.info["chains"]] == [txs]
    assert s.transaction[txs].tolist() == [0.5] * 5
    assert s.address[chain].tolist() == [0.5] * 6
    assert s.address[peel].tolist() == [0.25] * 5
    assert s.transaction[[ta, tb]].tolist() == pytest.approx([2 / 7, 2 / 7])
    assert s.transaction[[tl, td, te]].tolist() == [0.0, 0.0, 0.0]


def test_reference_amlworld_fan_and_scatter_gather():
    """AMLworld (Altman et al., NeurIPS 2023 D&B) laundering topologies, with this project's
    thresholds (k_fan 10, k_sg = k_gs 5, delta 1 day; score x / (x + k)):

    * fan-out: F pays R1..R10 within an hour: 10 distinct receivers, score 10/20 = 1/2.
      E pays ten receivers two days apart: never two in one window, score 0.
    * scatter-gather: S pays M1..M5, each passes the value on to D within the day: 5
      intermediaries for the pair (S, D), so S, M1..M5 and D score 5/10 = 1/2.
    * gather-scatter: G1..G5 pay H, which pays K1..K5 within the day: 5 sources and 5
      destinations, the hub H scores 1/2.
    """
    led = ToyLedger()
    names = (["F", "E", "S", "D", "H"] + [f"R{i}" for i in range(10)]
             + [f"Q{i}" for i in range(10)] + [f"M{i}" for i in range(5)]
             + [f"G{i}" for i in range(5)] + [f"K{i}" for i in range(5)])
    ad = {k: led.address("ethereum") for k in names}
    led.issue(0, [(v, 100 * GWEI) for v in ad.values()], asset="ETH")
    events = [(100 + 60 * i, "F", f"R{i}", 1) for i in range(10)]
    events += [(200 + 2 * DAY * i, "E", f"Q{i}", 1) for i in range(10)]
    events += [(300 + i, "S", f"M{i}", 2) for i in range(5)]
    events += [(900 + i, f"M{i}", "D", 2) for i in range(5)]
    events += [(1000 + i, f"G{i}", "H", 3) for i in range(5)]
    events += [(2000 + i, "H", f"K{i}", 3) for i in range(5)]
    for t, src, dst, eth in sorted(events):
        led.transfer(t, ad[src], ad[dst], eth * GWEI)
    view = led.build().observable()
    s = detectors.make("fan").fit(view).score(view)
    assert s.info["fan_out"][ad["F"]] == 10 and s.info["fan_out"][ad["E"]] == 1
    assert s.address[ad["F"]] == 0.5 and s.address[ad["E"]] == 0.0
    sg = s.info["scatter_gather"]
    assert list(zip(sg["src"].tolist(), sg["dst"].tolist(), sg["k"].tolist())) == [
        (ad["S"], ad["D"], 5)]
    assert [s.address[ad[k]] for k in ["S", "D"] + [f"M{i}" for i in range(5)]] == [0.5] * 7
    gs = s.info["gather_scatter"]
    assert (gs["hub"].tolist(), gs["n_src"].tolist(), gs["n_dst"].tolist()) == (
        [ad["H"]], [5], [5])
    assert s.address[ad["H"]] == 0.5


def test_reference_pass_through_clayton_fifo_rule():
    """The project's pass-through rule (FATF pass-through red flag; holding times by Clayton's
    case, first in first out, as in Anderson et al., "Bitcoin Redux", WEIS 2018).

    The mule receives 10 ETH at t = 0 and 10 ETH at t = 1,000, and pays 15 ETH at t = 3,600
    and 5 ETH at t = 7,200. FIFO pieces: 10 held 3,600 s and 5 held 2,600 s (first payment),
    5 held 6,200 s (second). The value-weighted median holding time is 3,600 s (cumulative 5
    at 2,600 s, 15 at 3,600 s, past half of 20). out/in = 1, the balance is back to 0 and the
    address is 7,200 s old, so all four conditions hold and the score is
    1 / (1 + 3,600 / 86,400) = 24/25. The keeper receives 10 ETH and pays 10 ETH after 60
    days: three conditions fail, score (1/4) / (1 + 60) = 1/244.
    """
    led = ToyLedger()
    f1, f2, mule, o1, o2, keeper, o3 = (led.address("ethereum") for _ in range(7))
    led.issue(0, [(f1, 100 * GWEI), (f2, 100 * GWEI)], asset="ETH")
    # funders' coins are 30 days old when they pay; only the mule and the keeper are checked
    t0 = 30 * DAY
    led.transfer(t0, f1, mule, 10 * GWEI)
    led.transfer(t0 + 1, f2, keeper, 10 * GWEI)
    led.transfer(t0 + 1_000, f2, mule, 10 * GWEI)
    led.transfer(t0 + 3_600, mule, o1, 15 * GWEI)
    led.transfer(t0 + 7_200, mule, o2, 5 * GWEI)
    led.transfer(t0 + 1 + 60 * DAY, keeper, o3, 10 * GWEI)
    view = led.build().observable()
    s = detectors.make("pass-through").fit(view).score(view)
    assert s.info["median_hold"][mule] == 3_600
    assert s.info["ratio"][mule] == 1.0
    assert s.address[mule] == pytest.approx(24 / 25, rel=1e-12)
    assert s.address[keeper] == pytest.approx(1 / 244, rel=1e-12)
    assert s.info["flagged"].tolist() == [mule]


def test_reference_autoaudit_aa_smurf_mdl_and_purity():
    """AutoAudit AA-Smurf (Lee et al., IEEE BigData 2020; ``AA-Smurf.py``): candidates are the
    pairs with at least c = 8 intermediaries in A^2; a block is taken when it lowers the
    description length (``compute_mdl``).

    s pays m1..m8, each pays d; m1 also pays o. n = 11 addresses, 17 edges; a zero costs
    2 ceil(log2 11) = 8 bits, so MDL_0 = (121 - 17) x 8 = 832. The block {s, m1..m8, d}
    (k = 10) holds its 16 expected edges (no unexpected edge: 0 bits), one edge leaves it
    (m1 -> o: ceil(log2 11) + ceil(log2 1) = 4 bits), the rest {o} has one zero (8 bits), and
    the header costs log*(1) + log*(8) + (2 + 8) ceil(log2 11) + log*(1) = 1 + 7 + 40 + 1 = 49
    bits: MDL_1 = 61. Purity = 2 (k - 2) / (edges touching the block) = 16/17, so members score
    0.5 + 0.5 x 16/17 = 33/34; o scores 0.
    """
    led = ToyLedger()
    s_, *rest = (led.address("ethereum") for _ in range(11))
    mids, d, o = rest[:8], rest[8], rest[9]
    led.issue(0, [(a, 100 * GWEI) for a in [s_, *rest]], asset="ETH")
    t = 10
    for m in mids:
        led.transfer(t, s_, m, GWEI)
        t += 1
    for m in mids:
        led.transfer(t, m, d, GWEI // 2)
        t += 1
    led.transfer(t, mids[0], o, GWEI // 4)
    view = led.build().observable()
    s = detectors.make("aa-smurf").fit(view).score(view)
    assert s.info["mdl"].tolist() == [832.0, 61.0]
    (blk,) = s.info["blocks"]
    assert (blk["src"], blk["dst"], blk["mids"].tolist()) == (s_, d, mids)
    assert blk["purity"] == pytest.approx(16 / 17) and blk["kept"]
    assert s.address[[s_, *mids, d]].tolist() == pytest.approx([33 / 34] * 10)
    assert s.address[o] == 0.0


def test_reference_structuring_band_under_threshold():
    """Structuring (the Zaif 2018 cash-out: deposits kept under 2 BTC). Sender A pays six
    outputs of 1.90-1.99 BTC and two of 0.5 BTC (change back to itself is not a payment):
    with the known threshold 2.0 BTC and margin 10%, the band is [1.8, 2.0), so 6 of its 8
    payments are in it: share 3/4, score 3/4 x 6 / (6 + 5) = 9/22, flagged. Sender B pays
    2.05 BTC once: above the threshold, score 0; bunching = 6 / (1 + 1) = 3. With the
    threshold unknown ("auto"), each sender's largest payment stands in for it: A's band is
    [1.791, 1.99], the same six (9/22); B's one payment is its own maximum: 1 x 1/6.
    """
    led = ToyLedger()
    a, b = led.address(), led.address()
    dest = [led.address() for _ in range(9)]
    coins = led.issue(0, [(a, 3 * BTC)] * 8 + [(b, 3 * BTC)])
    amounts = [190, 192, 194, 196, 198, 199, 50, 50]  # hundredths of a BTC
    for k, (coin, c) in enumerate(zip(coins[:8], amounts)):
        pay = c * BTC // 100
        led.utxo_tx(10 + k, [coin], [(dest[k], pay), (a, 3 * BTC - pay - 1_000)])
    led.utxo_tx(100, [coins[8]], [(dest[8], 205 * BTC // 100), (b, 95 * BTC // 100 - 1_000)])
    view = led.build().observable()
    fixed = detectors.make("structuring", threshold=2.0).fit(view).score(view)
    assert fixed.info["band_count"][a] == 6
    assert fixed.address[a] == pytest.approx(9 / 22) and fixed.address[b] == 0.0
    assert fixed.info["flagged"].tolist() == [a]
    assert fixed.info["bunching"] == 3.0
    auto = detectors.make("structuring").fit(view).score(view)
    assert auto.address[a] == pytest.approx(9 / 22) and auto.address[b] == pytest.approx(1 / 6)
    assert auto.info["flagged"].tolist() == [a]
