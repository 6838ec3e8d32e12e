"""Reference test of the bridge matcher's id path: XChainWatcher's ``CCTX_Deposit`` rule.

Augusto, Belchior, Pfannschmidt, Vasconcelos & Correia, "XChainWatcher", arXiv 2410.02029;
``acceptance-rules.dl``: a source deposit and a target release are one cross-chain transfer
when they carry the same deposit id, the tokens are mapped from the origin chain to another
chain, the amounts are equal and ``t_src < t_dst``. Every case below carries a deposit id; only
the first meets every rule, and each of the others breaks exactly one.
"""

from __future__ import annotations

import numpy as np

from launderbench.detectors.bridges.matcher import BridgeMatcher
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000      # satoshi per BTC (WBTC has the same 8 decimals)
ETH = 1_000_000_000    # base units per ETH
USD6 = 1_000_000       # base units per USDT


def xchainwatcher_ledger():
    led = ToyLedger()
    b_btc = led.address("bitcoin", service=ServiceKind.BRIDGE, name="wrapped")
    b_eth = led.address("ethereum", service=ServiceKind.BRIDGE, name="wrapped")
    b_avax = led.address("avalanche", service=ServiceKind.BRIDGE, name="wrapped")
    user_btc = led.address("bitcoin")
    user_eth = led.address("ethereum")
    ben = {k: led.address("ethereum") for k in ("ok", "chain", "eq", "neg", "amount")}
    ben["token"] = led.address("avalanche")
    coins = led.issue(0, [(user_btc, 2 * BTC)] * 4)
    led.issue(0, [(user_eth, 10 * ETH), (b_eth, 10 * ETH)], asset="ETH")
    led.issue(0, [(user_eth, 10_000 * USD6)], asset="USDT")
    led.issue(0, [(b_eth, 100 * BTC)], asset="WBTC")
    led.issue(0, [(b_avax, 1_000 * ETH)], asset="AVAX")
    tx = {}

    def lock_btc(t, coin, memo):
        return led.utxo_tx(t, [coin], [(b_btc, BTC), (user_btc, BTC - 1_000)], memo=memo)[0]

    # 1. valid: 1 BTC locked at t=100, 0.999 WBTC (the 0.1% fee) released at t=200
    tx["lock_ok"] = lock_btc(100, coins[0], 7)
    tx["rel_ok"] = led.transfer(200, b_eth, ben["ok"], 99_900_000, asset="WBTC", memo=7)[0]
    # 2. same chain: 1 ETH "locked" on ethereum and 0.999 ETH "released" on ethereum
    tx["lock_chain"] = led.transfer(250, user_eth, b_eth, ETH, memo=8)[0]
    tx["rel_chain"] = led.transfer(300, b_eth, ben["chain"], 999_000_000, memo=8)[0]
    # 3. equal times: t_src = t_dst
    tx["lock_eq"] = lock_btc(500, coins[1], 9)
    tx["rel_eq"] = led.transfer(500, b_eth, ben["eq"], 99_900_000, asset="WBTC", memo=9)[0]
    # 4. negative delay: the release comes first
    tx["rel_neg"] = led.transfer(600, b_eth, ben["neg"], 99_900_000, asset="WBTC", memo=10)[0]
    tx["lock_neg"] = lock_btc(700, coins[2], 10)
    # 5. unequal amounts: 0.995 WBTC (inside a 1% fee band, not the stated 0.1% fee)
    tx["lock_amount"] = lock_btc(800, coins[3], 11)
    tx["rel_amount"] = led.transfer(900, b_eth, ben["amount"], 99_500_000, asset="WBTC",
                                    memo=11)[0]
    # 6. unmapped token: 3,000 USDT locked, 100 AVAX (3,000 USD less 0.1%) released
    tx["lock_token"] = led.transfer(1000, user_eth, b_eth, 3_000 * USD6, asset="USDT",
                                    memo=12)[0]
    tx["rel_token"] = led.transfer(1100, b_avax, ben["token"], 99_900_000_000, asset="AVAX",
                                   memo=12)[0]
    return led.build().observable(), tx, ben


def test_reference_xchainwatcher_cctx_deposit_rules():
    view, tx, ben = xchainwatcher_ledger()
    s = BridgeMatcher().fit(view).score(view)
    links = {(int(a), int(b)): float(c) for a, b, c in
             zip(s.links["in_tx_id"], s.links["out_tx_id"], s.links["score"])}
    # only the pair that meets every rule links, with score 1
    assert links == {(tx["lock_ok"], tx["rel_ok"]): 1.0}
    assert s.info["n_id_matched"] == 1 and s.info["n_heuristic"] == 0
    # each other same-id pair is reported with the rule it breaks
    got = {(int(a), int(b)): str(r) for (a, b), r in
           zip(s.info["id_mismatches"].tolist(), s.info["id_mismatch_reasons"])}
    assert got == {(tx["lock_chain"], tx["rel_chain"]): "chain",
                   (tx["lock_eq"], tx["rel_eq"]): "time",
                   (tx["lock_neg"], tx["rel_neg"]): "time",
                   (tx["lock_amount"], tx["rel_amount"]): "amount",
                   (tx["lock_token"], tx["rel_token"]): "token"}
    # and their releases stay unmatched: the exploit signal
    assert sorted(s.info["unmatched_releases"].tolist()) == sorted(
        tx[k] for k in ("rel_chain", "rel_eq", "rel_neg", "rel_amount", "rel_token"))
    assert s.address[ben["ok"]] == 1.0
    assert all(s.address[ben[k]] == 0.0 for k in ("chain", "eq", "neg", "amount", "token"))


def test_reference_xchainwatcher_token_mapping_default():
    """Without a configured mapping, a token maps to its one-to-one representation on another
    chain: BTC <-> WBTC and USDT <-> USDT-AVAX / USDT-TRON, never ETH -> AVAX or ETH -> ETH."""
    from launderbench.detectors.bridges.matcher import representation_map

    view, *_ = xchainwatcher_ledger()
    m = representation_map(view)
    sym = {str(s): int(i) for s, i in zip(view.assets["symbol"], view.assets["asset_id"])}
    assert m[sym["BTC"], sym["WBTC"]] and m[sym["WBTC"], sym["BTC"]]
    assert m[sym["USDT"], sym["USDT-AVAX"]] and m[sym["USDT-AVAX"], sym["USDT-TRON"]]
    assert not m[sym["ETH"], sym["AVAX"]] and not m[sym["ETH"], sym["ETH"]]
    assert not m[sym["USDT"], sym["USDC"]]          # same price, same chain
    assert np.all(~np.diag(m))
