"""The investigator on a hand-built ledger: hack -> mixer -> bridge -> exchange cash-out."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench import detectors
from launderbench.detectors.composite import _links as L
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import LinkKind, ServiceKind
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000
BTC = 100_000_000


def laundering_ledger():
    """Ethereum: victim -> thief (seed) -> hop -> mixer pool (unique gas price 77) -> fresh
    withdrawal address -> bridge lock (deposit id 4242). Bitcoin: bridge release (same id) ->
    exchange deposit address -> exchange hot wallet. A benign user deposits into and withdraws
    from the same pool in between, then cashes out at the same exchange."""
    led = ToyLedger()
    a = {}
    for k in ("victim", "thief", "hop", "recv", "benign", "benign2", "benign_other"):
        a[k] = led.address("ethereum")
    a["pool"] = led.address("ethereum", service=ServiceKind.MIXER, name="pool-10eth")
    a["vault_eth"] = led.address("ethereum", service=ServiceKind.BRIDGE, name="bridge")
    a["vault_btc"] = led.address("bitcoin", service=ServiceKind.BRIDGE, name="bridge")
    for k in ("q", "dep", "bob", "bob_dep", "carl"):
        a[k] = led.address("bitcoin")
    a["hot"] = led.address("bitcoin", service=ServiceKind.EXCHANGE, name="exch")
    led.issue(0, [(a["victim"], 100 * GWEI), (a["benign"], 30 * GWEI),
                  (a["benign_other"], 30 * GWEI)], asset="ETH")
    vb, vb2 = led.issue(0, [(a["vault_btc"], 5 * BTC), (a["vault_btc"], BTC)])
    (bob0,) = led.issue(0, [(a["bob"], 2 * BTC)])
    tx = {}
    tx["seed"], _ = led.transfer(10, a["victim"], a["thief"], 100 * GWEI)
    led.seed(0, tx["seed"])
    led.transfer(20, a["thief"], a["hop"], 10 * GWEI)
    tx["dep"], _ = led.transfer(30, a["hop"], a["pool"], 10 * GWEI, fee_rate=77)
    tx["bdep"], _ = led.transfer(35, a["benign"], a["pool"], 10 * GWEI, fee_rate=5)
    led.transfer(36, a["benign_other"], a["pool"], 10 * GWEI, fee_rate=5)
    tx["wd"], _ = led.transfer(200, a["pool"], a["recv"], 10 * GWEI, fee_rate=77)
    tx["bwd"], _ = led.transfer(300, a["pool"], a["benign2"], 10 * GWEI, fee_rate=5)
    tx["lock"], _ = led.transfer(400, a["recv"], a["vault_eth"], 10 * GWEI, memo=4242)
    tx["release"], (oq, _) = led.utxo_tx(1000, [vb], [(a["q"], BTC // 2),
                                                        (a["vault_btc"], 4 * BTC + BTC // 2 - 2000)],
                                           memo=4242)
    # an unrelated release with another deposit id, to a benign user
    led.utxo_tx(1100, [vb2], [(a["carl"], BTC // 4), (a["vault_btc"], 3 * BTC // 4 - 1000)],
                memo=777)
    _, (od,) = led.utxo_tx(1200, [oq], [(a["dep"], BTC // 2 - 1000)])
    led.utxo_tx(1400, [od], [(a["hot"], BTC // 2 - 2000)])
    # benign: bob pays his exchange deposit address, which sweeps to the same hot wallet
    _, (ob,) = led.utxo_tx(1450, [bob0], [(a["bob_dep"], 2 * BTC - 1000)])
    led.utxo_tx(1500, [ob], [(a["hot"], 2 * BTC - 2000)])
    led.link(LinkKind.MIXER, tx["dep"], tx["wd"], 0)
    led.link(LinkKind.MIXER, tx["bdep"], tx["bwd"], -1)
    led.link(LinkKind.BRIDGE, tx["lock"], tx["release"], 0)
    return led.build().observable(), a, tx



def test_builtin_linkers_find_the_mixer_and_bridge_links():
    view, a, tx = laundering_ledger()
    i, o = L.bridge_memo_links(view)
    assert list(zip(i.tolist(), o.tolist())) == [(tx["lock"], tx["release"])]
    i, o = L.mixer_links(view)
    pairs = set(zip(i.tolist(), o.tolist()))
    assert (tx["dep"], tx["wd"]) in pairs  # unique gas price 77
    assert (tx["dep"], tx["bwd"]) not in pairs  # never to the benign withdrawal


def test_reference_investigation_haircut_through_tornado_gas_price_and_bridge_memo():
    """The investigator's components as their sources define them, on a hand-built case:
    haircut taint from the seed (Möser, Böhme & Breuker 2014), the Tornado unique-gas-price
    link (Tutela, Béres et al. 2021), the bridge deposit-id link (XChainWatcher, Augusto et
    al. 2024), stopping at the attributed exchange, whose deposit address is the cash-out
    point carrying the whole stolen value (half a BTC less fees, at $60,000 per BTC)."""
    view, a, tx = laundering_ledger()
    s = detectors.make("investigator").fit(view).score(view)
    sc = s.address
    for k in ("thief", "hop", "recv", "q", "dep"):
        assert sc[a[k]] > 0, k
    # the benign mixer user, her withdrawal address and bob are untouched
    for k in ("benign", "benign2", "benign_other", "bob", "bob_dep", "carl"):
        assert sc[a[k]] == 0, k
    # services are crossed, not scored
    assert sc[a["pool"]] == 0 and sc[a["vault_eth"]] == 0 and sc[a["hot"]] == 0
    fl = s.info["followed_links"]
    followed = set(zip(fl["in_tx_id"].tolist(), fl["out_tx_id"].tolist()))
    # every resolved link is reported, the benign mixer pass included; only tainted ones followed
    assert (tx["bdep"], tx["bwd"]) in set(zip(s.links["in_tx_id"].tolist(),
                                              s.links["out_tx_id"].tolist()))
    assert followed == {(tx["dep"], tx["wd"]), (tx["lock"], tx["release"])}
    co = s.info["cashout"]
    assert co["address_id"].tolist() == [a["dep"]]
    assert co["service_id"].tolist() == [a["hot"]]
    assert co["usd"][0] == pytest.approx((BTC // 2 - 2000) * 60_000 / BTC)
    # the cash-out point outranks the intermediaries carrying the same value
    assert sc[a["dep"]] > sc[a["q"]]
    assert s.transaction[tx["release"]] > 0 and s.transaction[tx["bwd"]] == 0


def test_investigator_without_links_stops_at_the_mixer():
    view, a, tx = laundering_ledger()
    s = detectors.make("investigator", builtin_links=False, link_detectors=(),
                       amount_links=False).fit(view)
    s = s.score(view)
    assert s.address[a["hop"]] > 0
    assert s.address[a["recv"]] == 0 and s.address[a["q"]] == 0
    assert len(s.info["cashout"]["address_id"]) == 0
    assert len(s.info["followed_links"]["in_tx_id"]) == 0


def test_plain_tracing_smears_the_pool_but_the_investigator_does_not():
    view, a, _ = laundering_ledger()
    hc = detectors.make("haircut", stop_at_services=True).fit(view).score(view)
    assert hc.address[a["benign2"]] > 0  # haircut through the pooled mixer balance
    inv = detectors.make("investigator").fit(view).score(view)
    assert inv.address[a["benign2"]] == 0


def test_cluster_lift_reaches_co_spending_addresses():
    led = ToyLedger()
    v, t, t2, x = (led.address("bitcoin") for _ in range(4))
    (o0,) = led.issue(0, [(v, BTC)])
    (o1,) = led.issue(0, [(t2, BTC)])
    seed, (ot,) = led.utxo_tx(10, [o0], [(t, BTC - 1000)])
    led.seed(0, seed)
    led.utxo_tx(20, [ot, o1], [(x, 2 * BTC - 3000)])  # thief co-spends with t2
    view = led.build().observable()
    s = detectors.make("investigator", cluster_lift=0.5).fit(view).score(view)
    assert s.address[t2] > 0
    assert s.address[t2] == pytest.approx(0.5 * s.address[:].max())
    s0 = detectors.make("investigator", cluster_lift=0.0).fit(view).score(view)
    assert s0.address[t2] == 0


def test_investigator_rejects_bad_parameters():
    view, _, _ = laundering_ledger()
    for bad in ({"policy": "lottery"}, {"max_rounds": 0}, {"link_detectors": "bridge"}):
        with pytest.raises(ConfigError):
            detectors.make("investigator", **bad).fit(view)


def test_amount_time_links_match_value_and_window_one_to_one():
    led = ToyLedger()
    u1, u2, r1, r2 = (led.address("ethereum") for _ in range(4))
    pool = led.address("ethereum", service=ServiceKind.MIXER, name="cust")
    led.issue(0, [(u1, 50 * GWEI), (u2, 50 * GWEI), (pool, 100 * GWEI)], asset="ETH")
    d1, _ = led.transfer(10, u1, pool, 20 * GWEI)
    d2, _ = led.transfer(20, u2, pool, 7 * GWEI)
    w_far, _ = led.transfer(30, pool, r2, 30 * GWEI)  # larger than any deposit
    w2, _ = led.transfer(40, pool, r2, int(6.825 * GWEI))  # the pool's 2.5% fee on d2
    w1, _ = led.transfer(50, pool, r1, int(19.5 * GWEI))  # 2.5% fee on d1
    i, o, n_cand = L.amount_time_links(led.build().observable(), phi=0.05,
                                       return_candidates=True)
    assert sorted(zip(i.tolist(), o.tolist())) == [(d1, w1), (d2, w2)]
    assert n_cand.tolist() == [1, 1]  # unambiguous: one candidate at the pool's rate each
    i, o = L.amount_time_links(led.build().observable(), phi=0.01)  # fees above tolerance
    assert len(i) == 0


class _FixedLinks(detectors.Detector):
    """Test double: a link detector that returns the pairs it was given (no source)."""

    name = "test-fixed-links"
    description = "fixed links for tests"
    tags = {"needs_seeds": False, "needs_labels": False, "outputs": ("link",)}
    PAIRS: list = []

    def __init__(self):
        pass

    def _score(self, view):
        p = np.asarray(self.PAIRS, dtype=np.float64).reshape(-1, 3)
        return detectors.Scores(links={"in_tx_id": p[:, 0].astype(np.int64),
                                       "out_tx_id": p[:, 1].astype(np.int64),
                                       "score": p[:, 2]})


def test_registered_link_detectors_are_followed_and_weak_guesses_dropped():
    view, a, tx = laundering_ledger()
    detectors.register("test-fixed-links", _FixedLinks, overwrite=True)
    # a strong link from the registered detector alone is enough to cross the mixer
    _FixedLinks.PAIRS = [(tx["dep"], tx["wd"], 1.0)]
    s = detectors.make("investigator", builtin_links=False, amount_links=False,
                       link_detectors=("test-fixed-links",)).fit(view).score(view)
    assert s.address[a["recv"]] > 0 and s.info["link_sources"] == ["test-fixed-links"]
    # a weak guess to the benign withdrawal loses to the gas-price fingerprint
    _FixedLinks.PAIRS = [(tx["dep"], tx["bwd"], 0.3)]
    s = detectors.make("investigator", link_detectors=("test-fixed-links",)).fit(view)
    s = s.score(view)
    assert s.address[a["benign2"]] == 0 and s.address[a["recv"]] > 0
    # unknown link detectors are reported, not fatal
    s = detectors.make("investigator", link_detectors=("no-such-linker",)).fit(view)
    assert "no-such-linker" in s.score(view).info["unavailable"][0]


def test_coinjoin_stops_the_trace_until_post_mix_consolidation():
    """The thief (two coins) and two benign peers join a CoinJoin (4 equal outputs plus
    changes). The thief's two mixed coins are then paid to one aggregator; the peers spend
    theirs to a shop and a friend."""
    led = ToyLedger()
    victim, thief, thief2, p1, p2 = (led.address("bitcoin") for _ in range(5))
    m1, m2, q1, q2, agg, shop, friend = (led.address("bitcoin") for _ in range(7))
    chg = [led.address("bitcoin") for _ in range(3)]
    v0, a0, b0 = led.issue(0, [(victim, 2 * BTC + 10_000), (p1, BTC), (p2, BTC)])
    seed, (t0, t1) = led.utxo_tx(10, [v0], [(thief, BTC), (thief2, BTC + 5_000)])
    led.seed(0, seed)
    cj, (o1, o2, o3, o4, *_) = led.utxo_tx(
        20, [t0, t1, a0, b0], [(m1, BTC // 2), (q1, BTC // 2), (m2, BTC // 2), (q2, BTC // 2),
                               (chg[0], BTC // 2 + 1000), (chg[1], BTC // 2 - 2000),
                               (chg[2], BTC // 2 - 2000)])
    led.utxo_tx(30, [o1], [(agg, BTC // 2 - 1000)])
    led.utxo_tx(31, [o3], [(agg, BTC // 2 - 1000)])
    led.utxo_tx(32, [o2], [(shop, BTC // 2 - 1000)])
    led.utxo_tx(33, [o4], [(friend, BTC // 2 - 1000)])
    view = led.build().observable()
    from launderbench.detectors.clustering import is_coinjoin

    assert is_coinjoin(view)[cj]
    kw = {"consolidation_min": 2, "cluster_lift": 0.0}
    s = detectors.make("investigator", **kw).fit(view).score(view)
    assert s.address[agg] > 0 and s.address[m1] > 0 and s.address[m2] > 0
    assert s.address[shop] == 0 and s.address[friend] == 0
    # the peers' mixed coins keep only a discounted share, below the thief's consolidated ones
    assert 0 < s.address[q1] < 0.2 * s.address[m1]
    # plain tracing through the CoinJoin reaches the shop and the friend
    t = detectors.make("investigator", coinjoin="trace", **kw).fit(view).score(view)
    assert t.address[shop] > 0 and t.address[friend] > 0


@pytest.mark.parametrize("attributed_payout", [True, False])
def test_unattributed_otc_intake_is_matched_to_the_desks_payouts(attributed_payout):
    """An OTC desk takes ETH at an unattributed intake address (20 clients) and pays USDT on
    TRON from an endpoint (attributed or not) at its rate (1% spread). The thief is one
    client."""
    led = ToyLedger()
    victim, thief = led.address("ethereum"), led.address("ethereum")
    clients = [led.address("ethereum") for _ in range(20)]
    intake = led.address("ethereum")
    payout = (led.address("tron", service=ServiceKind.OTC, name="desk") if attributed_payout
              else led.address("tron"))
    recv = [led.address("tron") for _ in range(21)]
    led.issue(0, [(victim, 50 * GWEI)] + [(c, 10 * GWEI) for c in clients], asset="ETH")
    led.issue(0, [(payout, 10**12)], asset="USDT-TRON")
    seed, _ = led.transfer(5, victim, thief, 50 * GWEI)
    led.seed(0, seed)
    payers = [(thief, 7.0)] + [(c, 1.0 + 0.37 * k) for k, c in enumerate(clients)]
    t = 100
    for k, (who, eth) in enumerate(payers):
        led.transfer(t, who, intake, int(eth * GWEI))
        usdt = int(round(eth * 3000 * 0.99 * 10**6))
        led.transfer(t + 600, payout, recv[k], usdt, asset="USDT-TRON")
        t += 1000
    view = led.build().observable()
    assert L.hub_sinks(view)[intake] and L.hub_sinks(view).sum() == 1
    s = detectors.make("investigator").fit(view).score(view)
    assert s.address[recv[0]] > 0  # the thief's payout
    assert s.address[recv[1:]].max() == 0  # other clients' payouts
    off = detectors.make("investigator", follow_otc=False).fit(view).score(view)
    assert off.address[recv[0]] == 0


def test_purity_ranks_a_pure_launderer_above_a_pooled_wallet():
    """The thief sends 10 ETH to a launderer L and 30 ETH to a busy pooled wallet P that also
    holds 970 ETH of clean deposits: P received more stolen value, L is the suspect."""
    led = ToyLedger()
    victim, thief, lau, pool = (led.address("ethereum") for _ in range(4))
    users = [led.address("ethereum") for _ in range(10)]
    led.issue(0, [(victim, 40 * GWEI)] + [(u, 100 * GWEI) for u in users], asset="ETH")
    seed, _ = led.transfer(1, victim, thief, 40 * GWEI)
    led.seed(0, seed)
    for k, u in enumerate(users):
        led.transfer(2 + k, u, pool, 97 * GWEI)
    led.transfer(20, thief, lau, 10 * GWEI)
    led.transfer(21, thief, pool, 30 * GWEI)
    view = led.build().observable()
    s = detectors.make("investigator").fit(view).score(view)
    assert s.address[lau] > s.address[pool] > 0
    raw = detectors.make("investigator", purity_weight=0.0).fit(view).score(view)
    assert raw.address[pool] > raw.address[lau]


def test_trade_through_an_exchange_is_followed_at_the_exchange_rate():
    """The thief pays three deposit addresses of an exchange (swept into its ETH hot wallet),
    and the exchange's BTC hot wallet pays the value back in BTC at its 0.2% fee. Benign
    customers withdraw BTC of similar value (at no common rate) in between."""
    led = ToyLedger()
    victim, thief = led.address("ethereum"), led.address("ethereum")
    deps = [led.address("ethereum") for _ in range(3)]
    hot_eth = led.address("ethereum", service=ServiceKind.EXCHANGE, name="exch")
    hot_btc = led.address("bitcoin", service=ServiceKind.EXCHANGE, name="exch")
    outs_to = [led.address("bitcoin") for _ in range(3)]
    benign = [led.address("bitcoin") for _ in range(3)]
    led.issue(0, [(victim, 30 * GWEI)], asset="ETH")
    (reserve,) = led.issue(0, [(hot_btc, 100 * BTC)])
    seed, _ = led.transfer(1, victim, thief, 30 * GWEI)
    led.seed(0, seed)
    t, coin = 100, reserve
    for k, (eth, bad) in enumerate([(4.0, 0.9751), (6.0, 0.9612), (8.0, 0.9833)]):
        led.transfer(t, thief, deps[k], int(eth * GWEI))
        led.transfer(t + 60, deps[k], hot_eth, int(eth * GWEI))
        usd = eth * 3000
        sats = [int(round(usd * 0.998 / 60_000 * BTC)), int(round(usd * bad / 60_000 * BTC))]
        _, (_, coin) = led.utxo_tx(t + 300, [coin], [
            (benign[k], sats[1]), (hot_btc, led._out[coin][4] - sats[1] - 1000)])
        _, (_, coin) = led.utxo_tx(t + 600, [coin], [
            (outs_to[k], sats[0]), (hot_btc, led._out[coin][4] - sats[0] - 1000)])
        t += 1000
    view = led.build().observable()
    s = detectors.make("investigator").fit(view).score(view)
    assert s.address[outs_to].min() > 0
    assert s.address[benign].max() == 0
    assert set(s.info["cashout"]["address_id"].tolist()) >= set(deps)
    off = detectors.make("investigator", follow_exchanges=False).fit(view).score(view)
    assert off.address[outs_to].max() == 0
