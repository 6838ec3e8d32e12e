"""Validity invariants of generated ledgers, over many seeds and parameters (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launderbench.simulator import make
from launderbench.simulator.dataset import Dataset
from launderbench.simulator.toy import ToyLedger

from .invariants import check_ledger_invariants


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(300, 3000), days=st.integers(2, 40),
       reuse=st.floats(0, 1), fresh=st.floats(0, 1))
def test_benign_ledger_is_valid(seed, n, days, reuse, fresh):
    ds = make("benign-v1", seed=seed, transactions=n, days=days, change_reuse_rate=reuse,
              fresh_address_rate=fresh)
    check_ledger_invariants(ds)
    # sizes are close to what was asked
    assert 0.5 * n <= ds.transactions.num_rows <= 1.6 * n + 400


def test_invariant_checker_catches_a_double_spend():
    led = ToyLedger()
    a, b, c = led.address(), led.address(), led.address()
    o1, o2 = led.issue(0, [(a, 1000), (a, 1000)])
    led.utxo_tx(1, [o1], [(b, 900)])
    led.utxo_tx(2, [o2], [(c, 900)])
    ds = led.build()
    check_ledger_invariants(ds)
    tables = {k: dict(t) for k, t in ds.tables.items()}
    spent = tables["inputs"]["spent_output_id"].copy()
    spent[1] = o1  # the second transaction now spends the first output again
    tables["inputs"]["spent_output_id"] = spent
    tables["inputs"]["prev_index"] = np.array([0, 0])
    with pytest.raises(AssertionError, match="spent twice"):
        check_ledger_invariants(Dataset(tables, {"scenario": "forged"}))


def test_invariant_checker_catches_an_overspent_account():
    led = ToyLedger()
    a, b = led.address("ethereum"), led.address("ethereum")
    led.issue(0, [(a, 1000)], asset="ETH")
    led.transfer(1, a, b, 900, fee=100)
    ds = led.build()
    check_ledger_invariants(ds)
    tables = {k: dict(t) for k, t in ds.tables.items()}
    # the transfer now claims to move 1,900 out of an address that held 1,000
    tables["inputs"]["amount"] = np.array([2000])
    tables["outputs"]["amount"] = np.array([1000, 1900])
    with pytest.raises(AssertionError, match="overspent"):
        check_ledger_invariants(Dataset(tables, {"scenario": "forged"}))
