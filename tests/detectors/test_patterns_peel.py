"""Peel-chain detector on hand-built UTXO ledgers."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench.detectors.patterns.peel import PeelChain
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000


def peel_ledger(n_peels=6, peel_frac=0.1, t0=0):
    """One coin peeled ``n_peels`` times: each hop pays ``peel_frac`` of its input away and
    sends the rest to a fresh change address. Plus benign traffic."""
    led = ToyLedger()
    start = led.address()
    shop = led.address()
    alice, bob = led.address(), led.address()
    (o,), (a0,) = led.issue(t0, [(start, 100 * BTC)]), led.issue(t0, [(alice, 3 * BTC)])
    t = t0 + 600
    chain_txs, change_addrs, recipients = [], [start], []
    for _ in range(n_peels):
        amt = led._out[o][4]
        peel = int(amt * peel_frac)
        nxt, rec = led.address(), led.address()
        tx, (p, o) = led.utxo_tx(t, [o], [(rec, peel), (nxt, amt - peel - 1000)])
        chain_txs.append(tx)
        change_addrs.append(nxt)
        recipients.append(rec)
        t += 600
    # benign: a single ordinary payment with change (1 in, 2 out), never continued
    pay, (_, _) = led.utxo_tx(t, [a0], [(shop, 1 * BTC), (alice, 2 * BTC - 500)])
    # benign: a 2-in/2-out payment
    b0, b1 = led.issue(t, [(bob, BTC), (bob, BTC)])
    led.utxo_tx(t + 600, [b0, b1], [(shop, BTC), (bob, BTC - 500)])
    return led.build().observable(), chain_txs, change_addrs, recipients, pay



def test_finds_chain_and_ignores_ordinary_payment():
    view, chain_txs, change_addrs, recipients, pay = peel_ledger(n_peels=6)
    s = PeelChain(min_length=5, rho=0.3).fit(view).score(view)
    assert len(s.info["chains"]) == 1
    assert s.info["chains"][0].tolist() == chain_txs
    assert np.all(s.transaction[chain_txs] > 0.5)
    assert s.transaction[pay] == 0.0          # payment with change, no peel neighbour
    assert np.all(s.address[change_addrs] > 0.5)
    assert np.all(s.address[recipients] > 0) and np.all(s.address[recipients] < 0.5)
    mask = np.ones(view.n_transactions, bool)
    mask[chain_txs] = False
    assert np.all(s.transaction[mask] == 0)


def test_short_chain_not_flagged_but_ranked():
    view, chain_txs, *_ = peel_ledger(n_peels=3)
    s = PeelChain(min_length=5).fit(view).score(view)
    assert s.info["chains"] == []
    assert np.all((s.transaction[chain_txs] > 0) & (s.transaction[chain_txs] < 0.5))
    # longer chains rank above shorter ones
    view6, chain6, *_ = peel_ledger(n_peels=6)
    s6 = PeelChain(min_length=5).fit(view6).score(view6)
    assert s6.transaction[chain6].min() > s.transaction[chain_txs].max()


def test_large_peels_violate_rho():
    view, chain_txs, *_ = peel_ledger(n_peels=6, peel_frac=0.45)
    assert PeelChain(rho=0.3).fit(view).score(view).info["chains"] == []
    s = PeelChain(rho=0.5).fit(view).score(view)
    assert s.info["chains"][0].tolist() == chain_txs


def test_branch_takes_larger_output_as_change():
    led = ToyLedger()
    a = led.address()
    (o,) = led.issue(0, [(a, 10 * BTC)])
    # root: both outputs continue into peel-looking transactions
    root, (small, big) = led.utxo_tx(1, [o], [(led.address(), 2 * BTC), (led.address(), 8 * BTC - 1000)])
    main = [root]
    for k in range(4):
        amt = led._out[big][4]
        tx, (_, big) = led.utxo_tx(2 + k, [big], [(led.address(), amt // 10), (led.address(), amt - amt // 10 - 100)])
        main.append(tx)
    side, _ = led.utxo_tx(10, [small], [(led.address(), BTC // 10), (led.address(), BTC)])
    view = led.build().observable()
    s = PeelChain(min_length=5).fit(view).score(view)
    assert [c.tolist() for c in s.info["chains"]] == [main]
    # the side branch is a peel by BlockSci's rule (its parent looks like one) but a chain of
    # length 1 does not score
    assert s.transaction[side] == 0.0
    assert s.info["n_peel_like"] == 6


def test_bad_params():
    view, *_ = peel_ledger(3)
    with pytest.raises(ConfigError):
        PeelChain(min_length=1).fit(view).score(view)
    with pytest.raises(ConfigError):
        PeelChain(rho=0).fit(view).score(view)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def random_utxo_ledger(draw):
    """Random valid UTXO ledgers: each step spends 1-2 unspent coins into 1-3 outputs."""
    led = ToyLedger()
    addrs = [led.address() for _ in range(6)]
    unspent = led.issue(0, [(a, 10 * BTC) for a in addrs[:3]])
    for step in range(draw(st.integers(1, 25))):
        if not unspent:
            break
        k = draw(st.integers(1, min(2, len(unspent))))
        picks = draw(st.permutations(range(len(unspent))))[:k]
        spend = [unspent[i] for i in picks]
        total = sum(led._out[o][4] for o in spend) - 1000
        n_out = draw(st.integers(1, 3))
        if total < n_out * 1000:
            continue
        cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=n_out - 1,
                                    max_size=n_out - 1, unique=True)))
        amounts = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
        if min(amounts) <= 0:
            continue
        outs = [(led.address(), x) for x in amounts]
        _, new = led.utxo_tx(600 * (step + 1), spend, outs)
        unspent = [o for j, o in enumerate(unspent) if j not in picks] + new
    return led.build().observable()


@settings(max_examples=40, deadline=None)
@given(random_utxo_ledger(), st.integers(2, 4))
def test_chains_are_disjoint_paths_of_peel_like_transactions(view, L):
    s = PeelChain(min_length=L, rho=1.0).fit(view).score(view)
    seen = set()
    tx = view.transactions
    ins = view.inputs
    for chain in s.info["chains"]:
        assert len(chain) >= L
        assert not (set(chain.tolist()) & seen)
        seen |= set(chain.tolist())
        for a, b in zip(chain[:-1], chain[1:]):
            assert tx["n_inputs"][a] == 1 and tx["n_outputs"][a] == 2
            assert ins["prev_tx_id"][ins["tx_id"] == b][0] == a   # b spends an output of a
    assert np.all((s.transaction >= 0) & (s.transaction < 1))
    flagged = np.zeros(view.n_transactions, bool)
    if seen:
        flagged[list(seen)] = True
    assert np.all(s.transaction[flagged] >= 0.5)
    assert np.all(s.transaction[~flagged] < 0.5)
