"""Validity invariants of generated ledgers, over many seeds and parameters (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launderbench.simulator import make
from launderbench.simulator.check import check_dataset
from launderbench.simulator.dataset import Dataset
from launderbench.simulator.errors import DatasetError
from launderbench.simulator.toy import ToyLedger


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(300, 3000), days=st.integers(2, 40),
       reuse=st.floats(0, 1), fresh=st.floats(0, 1))
def test_benign_ledger_is_valid(seed, n, days, reuse, fresh):
    ds = make("benign-v1", seed=seed, transactions=n, days=days, change_reuse_rate=reuse,
              fresh_address_rate=fresh)
    check_dataset(ds)
    # sizes are close to what was asked
    assert 0.5 * n <= ds.transactions.num_rows <= 1.6 * n + 400


def test_invariant_checker_catches_a_double_spend():
    led = ToyLedger()
    a, b, c = led.address(), led.address(), led.address()
    o1, o2 = led.issue(0, [(a, 1000), (a, 1000)])
    led.utxo_tx(1, [o1], [(b, 900)])
    led.utxo_tx(2, [o2], [(c, 900)])
    ds = led.build()
    check_dataset(ds)
    tables = {k: dict(t) for k, t in ds.tables.items()}
    spent = tables["inputs"]["spent_output_id"].copy()
    spent[1] = o1  # the second transaction now spends the first output again
    tables["inputs"]["spent_output_id"] = spent
    tables["inputs"]["prev_index"] = np.array([0, 0])
    with pytest.raises(DatasetError, match="spent twice"):
        check_dataset(Dataset(tables, {"scenario": "forged"}))


def test_invariant_checker_catches_an_overspent_account():
    led = ToyLedger()
    a, b = led.address("ethereum"), led.address("ethereum")
    led.issue(0, [(a, 1000)], asset="ETH")
    led.transfer(1, a, b, 900, fee=100)
    ds = led.build()
    check_dataset(ds)
    tables = {k: dict(t) for k, t in ds.tables.items()}
    # the transfer now claims to move 1,900 out of an address that held 1,000
    tables["inputs"]["amount"] = np.array([2000])
    tables["outputs"]["amount"] = np.array([1000, 1900])
    with pytest.raises(DatasetError, match="overspent"):
        check_dataset(Dataset(tables, {"scenario": "forged"}))


def _forged(ds, table, column, values):
    tables = {k: dict(t) for k, t in ds.tables.items()}
    tables[table][column] = values
    return Dataset(tables, dict(ds.meta))


def test_checker_reads_truth_and_taint():
    from launderbench.simulator.check import problems

    ds = make("easy-v1", seed=0, transactions=1500)
    assert problems(ds) == []
    taint = ds.taint
    assert taint.num_rows > 0
    # one output now carries more taint than its value
    amount = taint["amount"].copy()
    amount[0] = ds.outputs["amount"][taint["output_id"][0]] + 1
    found = problems(_forged(ds, "taint", "amount", amount))
    assert any("more taint than value" in p for p in found), found
    # an incident that the metadata does not know
    inc = ds.tx_truth["incident_id"].copy()
    inc[0] = 99
    assert any("tx_truth.incident_id" in p for p in problems(_forged(ds, "tx_truth",
                                                                    "incident_id", inc)))
    # an unknown role code
    role = ds.address_truth["role"].copy()
    role[0] = 120
    assert any("address_truth.role" in p for p in problems(_forged(ds, "address_truth",
                                                                  "role", role)))


def test_checker_reports_dangling_references_without_crashing():
    from launderbench.simulator.check import problems

    ds = make("benign-v1", seed=0, transactions=600)
    addr = ds.outputs["address_id"].copy()
    addr[3] = 10**9
    found = problems(_forged(ds, "outputs", "address_id", addr))
    assert any("outputs.address_id" in p and "out of range" in p for p in found), found


def test_taint_stops_at_the_cash_out_point_in_the_toy_ledger_too():
    """The toy ledger of the quick suite follows the generator's rule: an exchange sweeping a
    deposit address is past the cash-out point (it used to carry the taint on)."""
    from launderbench.benchmarks.fixtures import toy_laundering
    from launderbench.simulator.check import problems

    for seed in range(3):
        assert problems(toy_laundering(seed=seed, transactions=800, users=80)) == []


def test_checker_finds_taint_past_the_cash_out_point():
    from launderbench.simulator.check import problems
    from launderbench.simulator.schema import Role

    led = ToyLedger()
    thief = led.address("ethereum", role=Role.THIEF, incident=0)
    dep = led.address("ethereum", role=Role.CASHOUT, incident=0)
    hot = led.address("ethereum")
    led.issue(0, [(thief, 1000)], asset="ETH")
    led.transfer(1, thief, dep, 900, fee=100, taint={0: (0, 900)})
    ds = led.build(meta={"incidents": [{"incident_id": 0}]})
    assert problems(ds) == []
    led.transfer(2, dep, hot, 800, fee=100, taint={0: (0, 800)})  # the sweep, tainted
    found = problems(led.build(meta={"incidents": [{"incident_id": 0}]}))
    assert any("cash-out point" in p for p in found), found


def test_a_partial_dataset_skips_by_name_what_a_slice_cannot_satisfy():
    """A slice of a real chain lacks its addresses' earlier history and carries zero-value
    transfers: with ``meta["partial"]`` those two checks are skipped, the others run."""
    from launderbench.simulator.check import PARTIAL_SKIPS, problems, skipped_checks

    led = ToyLedger()
    a, b = led.address("ethereum"), led.address("ethereum")
    led.issue(0, [(a, 1000)], asset="ETH")
    led.transfer(1, a, b, 900, fee=100)
    ds = led.build()
    tables = {k: dict(t) for k, t in ds.tables.items()}
    # the transfer spends more than the slice shows a to hold (history before the slice)
    tables["inputs"]["amount"] = np.array([2000])
    tables["outputs"]["amount"] = np.array([1000, 1900])
    whole = Dataset(tables, {"scenario": "slice"})
    assert any("overspent" in p for p in problems(whole)) and skipped_checks(whole) == ()
    part = Dataset(tables, {"scenario": "slice", "partial": True})
    assert skipped_checks(part) == PARTIAL_SKIPS
    assert problems(part) == []
    # every other check still runs on a partial dataset
    tables["transactions"]["fee"] = np.array([0, 5])
    assert any("not conserved" in p for p in problems(
        Dataset(tables, {"scenario": "slice", "partial": True})))
