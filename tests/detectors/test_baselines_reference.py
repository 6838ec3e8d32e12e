"""Reference tests of the baselines (``launderbench.detectors.baselines``): each one-feature
score computed by hand on a tiny ledger, as its definition states it, and the raw-field
classifier's features as Egressy et al. (AAAI 2024) list them for their LightGBM baseline."""

import math

import numpy as np
import pytest

from launderbench import detectors
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000


def ledger():
    """Bitcoin at the toy price: a pays b 1 BTC (change to a), b pays c 0.5 BTC later."""
    led = ToyLedger()
    a, b, c = led.address(), led.address(), led.address()
    (o,) = led.issue(0, [(a, 3 * BTC)])
    _, (ob, _) = led.utxo_tx(3_600, [o], [(b, BTC), (a, 2 * BTC - 1_000)])
    led.utxo_tx(2 * 86_400 + 3_600, [ob], [(c, BTC // 2), (b, BTC // 2 - 1_000)])
    ds = led.build()
    return ds.observable(), (a, b, c)


def fit_score(name, view, labels=None):
    return detectors.make(name).fit(view, labels).score(view)


def test_reference_degree_counts_transaction_legs():
    view, (a, b, c) = ledger()
    s = fit_score("degree", view)
    # a: issuance output, input of tx1, change output of tx1 -> 3 legs; b: output of tx1,
    # input and change output of tx2 -> 3; c: one output -> 1
    assert s.address[[a, b, c]].tolist() == [3.0, 3.0, 1.0]
    # legs per transaction: issuance 1 (one output), tx1 3, tx2 3
    assert s.transaction.tolist() == [1.0, 3.0, 3.0]


def test_reference_amount_is_log_usd_received_and_moved():
    view, (a, b, c) = ledger()
    usd = view.usd_per_base_unit()[0]  # asset 0 is BTC
    s = fit_score("amount", view)
    received_c = BTC // 2 * usd
    assert s.address[c] == pytest.approx(math.log1p(received_c))
    moved_tx2 = (BTC // 2 + BTC // 2 - 1_000) * usd
    assert s.transaction[2] == pytest.approx(math.log1p(moved_tx2))


def test_reference_address_age_is_minus_the_lifetime_in_days():
    view, (a, b, c) = ledger()
    s = fit_score("address-age", view)
    # a lives from t=0 to t=3,600 s; b from 3,600 to 2 days + 3,600; c is seen once
    assert s.address[a] == pytest.approx(-3_600 / 86_400)
    assert s.address[b] == pytest.approx(-2.0)
    assert s.address[c] == 0.0
    # share of a transaction's legs at addresses seen there first: tx1 has a (seen before)
    # as input and output and b (new) as output -> 1/3; tx2: c new of 3 legs -> 1/3
    assert s.transaction[1:].tolist() == pytest.approx([1 / 3, 1 / 3])


def test_reference_random_is_seeded_uniform():
    view, _ = ledger()
    s = detectors.make("random", seed=7).fit(view).score(view)
    rng = np.random.default_rng(7)
    assert np.array_equal(s.address, rng.random(view.n_addresses))
    assert np.array_equal(s.transaction, rng.random(view.n_transactions))


def test_reference_raw_transaction_fields():
    """The raw per-transaction fields of the "LightGBM on raw transaction features" baseline
    (Egressy et al., AAAI 2024): value, fee, fee rate, input and output counts, chain, asset,
    memo, issuance, hour of day; no graph feature."""
    from launderbench.detectors.baselines import RawTxClassifier

    view, _ = ledger()
    f = RawTxClassifier.features(view)
    usd = view.usd_per_base_unit()[0]
    assert f.shape == (3, 10)
    assert f[1, 0] == pytest.approx(math.log1p((3 * BTC - 1_000) * usd))  # value moved
    assert f[1, 1] == pytest.approx(math.log1p(1_000 * usd))  # fee in USD
    assert f[1, 3:5].tolist() == [1.0, 2.0]  # one input, two outputs
    assert f[1, 9] == 1.0 and f[2, 9] == 1.0  # hour of day (3,600 s after midnight)
    assert f[0, 8] == 1.0 and f[1, 8] == 0.0  # issuance
