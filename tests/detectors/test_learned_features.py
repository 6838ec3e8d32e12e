"""Address and transaction features (detectors/learned/features.py): shapes, names,
determinism, values checked by hand on a tiny ledger, and use of the observable view only."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench.detectors.learned.features import (
    ADDRESS_LOCAL,
    MISSING,
    address_features,
    transaction_features,
)
from launderbench.detectors.testing import toy_views
from launderbench.simulator.schema import HOUR
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000
GWEI = 1_000_000_000
T0 = 1_704_067_200  # a midnight, UTC


@pytest.fixture(scope="module")
def tiny():
    """A -> (B, A change) after 2 h; B -> C after 3 more hours; X -> Y (account) after 5 h."""
    led = ToyLedger()
    a, b, c = (led.address("bitcoin") for _ in range(3))
    x, y = (led.address("ethereum") for _ in range(2))
    (oa,) = led.issue(T0, [(a, 10 * BTC)])
    led.issue(T0, [(x, 50 * GWEI)], asset="ETH")
    spend_a, (ob, _) = led.utxo_tx(T0 + 2 * HOUR, [oa], [(b, 4 * BTC), (a, 6 * BTC - 1234)])
    spend_b, _ = led.utxo_tx(T0 + 5 * HOUR, [ob], [(c, 4 * BTC - 1000)])
    spend_x, _ = led.transfer(T0 + 5 * HOUR, x, y, 7 * GWEI, fee=21_000)
    view = led.build().observable()
    ids = dict(a=a, b=b, c=c, x=x, y=y, spend_a=spend_a, spend_b=spend_b, spend_x=spend_x)
    return view, ids


def _col(X, names, name):
    return X[:, names.index(name)]


def test_shapes_names_and_dtype():
    for view, _ in toy_views().values():
        X, names = address_features(view)
        assert X.dtype == np.float32 and X.shape == (view.n_addresses, len(names))
        assert X.flags["C_CONTIGUOUS"] and np.isfinite(X).all()
        assert len(set(names)) == len(names) and names[:len(ADDRESS_LOCAL)] == list(
            ADDRESS_LOCAL)
        T, tnames = transaction_features(view)
        assert T.dtype == np.float32 and T.shape == (view.n_transactions, len(tnames))
        assert np.isfinite(T).all() and len(set(tnames)) == len(tnames)


def test_deterministic_and_independent_of_metadata():
    view, _ = toy_views()["mixed"]
    X1, _ = address_features(view)
    T1, _ = transaction_features(view)
    meta = dict(view.meta)
    view.meta = {}
    try:
        X2, _ = address_features(view)
        T2, _ = transaction_features(view)
    finally:
        view.meta = meta
    assert np.array_equal(X1, X2) and np.array_equal(T1, T2)


def test_address_values_by_hand(tiny):
    view, i = tiny
    X, names = address_features(view)

    def f(name, who):
        return float(_col(X, names, name)[i[who]])

    assert f("hold_mean", "a") == pytest.approx(np.log1p(2.0), rel=1e-6)  # UTXO: 2 h
    assert f("hold_mean", "b") == pytest.approx(np.log1p(3.0), rel=1e-6)
    assert f("hold_mean", "x") == pytest.approx(np.log1p(5.0), rel=1e-6)  # account: 5 h
    assert f("hold_mean", "c") == MISSING and f("gap_mean", "c") == MISSING
    assert f("n_tx", "a") == pytest.approx(np.log1p(2))
    assert f("n_recipients", "a") == pytest.approx(np.log1p(1))  # B; the change is no edge
    assert f("n_senders", "b") == pytest.approx(np.log1p(1))
    assert f("self_tx_frac", "a") == pytest.approx(0.5)
    assert f("round_in_frac", "b") == 1.0  # 4 BTC
    assert f("round_in_frac", "a") == pytest.approx(0.5)  # 10 BTC, then an odd change
    assert f("lifetime", "b") == pytest.approx(np.log1p(3.0), rel=1e-6)
    assert f("unspent_frac", "a") == pytest.approx(0.5)
    assert f("is_utxo", "a") == 1.0 and f("is_utxo", "x") == 0.0
    # one hop: B's only sender is A; two hops reach C from A
    assert f("in1_mean_n_tx", "b") == pytest.approx(f("n_tx", "a"))
    assert f("nb1_max_hold_mean", "c") == pytest.approx(f("hold_mean", "b"))
    assert f("nb2_mean_n_tx", "a") > 0


def test_transaction_values_by_hand(tiny):
    view, i = tiny
    T, names = transaction_features(view)
    X, anames = address_features(view)

    def f(name, tx):
        return float(_col(T, names, name)[i[tx]])

    assert f("n_in_addresses", "spend_a") == 1 and f("n_out_addresses", "spend_a") == 2
    assert f("self_change", "spend_a") == 1 and f("self_change", "spend_b") == 0
    assert f("fresh_out_frac", "spend_a") == pytest.approx(0.5)  # B new, A not
    assert f("in_hold_mean", "spend_b") == pytest.approx(np.log1p(3.0), rel=1e-6)
    assert f("max_out_share", "spend_b") == pytest.approx(1.0)
    assert f("in_max_n_tx", "spend_b") == pytest.approx(X[i["b"], anames.index("n_tx")])
    assert f("out_mean_n_tx", "spend_a") == pytest.approx(
        X[[i["a"], i["b"]], anames.index("n_tx")].mean(), rel=1e-6)


def test_features_of_a_prefix_do_not_see_later_transactions(tiny):
    """Computed on the ledger cut before B spends, B's features show no spending."""
    from launderbench.detectors.testing import _prefix_view

    view, i = tiny
    cut = _prefix_view(view, i["spend_b"])
    X, names = address_features(cut)
    assert _col(X, names, "hold_mean")[i["b"]] == MISSING
    assert _col(X, names, "n_spent")[i["b"]] == 0


def test_row_max_folds_as_numpy_maximum():
    """The compiled row maximum against ``np.maximum.reduceat`` over each row's neighbours:
    NaNs, signed zeros, ties, empty rows and duplicate columns included."""
    import scipy.sparse as sp

    from launderbench.detectors.learned.features import _row_max

    rng = np.random.default_rng(0)
    for trial in range(40):
        n_rows, n_cols, k = rng.integers(1, 60), rng.integers(1, 40), rng.integers(1, 5)
        nnz = int(rng.integers(0, 3 * n_rows))
        m = sp.csr_matrix((np.ones(nnz, np.float32), (rng.integers(0, n_rows, nnz),
                                                      rng.integers(0, n_cols, nnz))),
                          shape=(n_rows, n_cols))
        values = rng.choice(np.array([-1.5, -0.0, 0.0, 0.5, 2.0, np.nan], np.float32),
                            size=(n_cols, k), p=[0.2, 0.2, 0.2, 0.2, 0.1, 0.1])
        want = np.zeros((n_rows, k), np.float32)
        nz = np.flatnonzero(np.diff(m.indptr) > 0)
        if len(nz):
            want[nz] = np.maximum.reduceat(values[m.indices], m.indptr[nz], axis=0)
        got = _row_max(m, values)
        assert got.dtype == np.float32 and got.shape == want.shape
        # equal values and NaNs where numpy has them (-0.0 and 0.0 are equal values)
        assert np.array_equal(got, want, equal_nan=True), trial
