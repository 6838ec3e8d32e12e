"""Ledger validity checks shared by tests (and usable on any dataset)."""

import numpy as np


def check_ledger_invariants(ds) -> None:
    """Assert every validity invariant of a dataset's observable ledger.

    * value is conserved per transaction: inputs == outputs + fee (issuance: no inputs, no fee);
    * UTXO inputs spend an existing earlier output of the same address, asset and amount, and
      every output is spent at most once;
    * no account address ever holds a negative balance of any asset (debits before credits
      within a transaction, transactions in id order);
    * timestamps are non-decreasing in transaction order and agree with block heights per chain;
    * address and transaction ids are dense.
    """
    tx, ins, outs = ds.transactions, ds.inputs, ds.outputs
    n_tx = tx.num_rows
    assert np.array_equal(tx["tx_id"], np.arange(n_tx))
    assert np.array_equal(outs["output_id"], np.arange(outs.num_rows))
    assert np.array_equal(ds.addresses["address_id"], np.arange(ds.addresses.num_rows))
    # conservation
    s_in = np.bincount(ins["tx_id"], weights=ins["amount"].astype(float), minlength=n_tx)
    # exact integer check (float sums could round): compare with int64 accumulation
    s_in_i = np.zeros(n_tx, np.int64)
    np.add.at(s_in_i, ins["tx_id"], ins["amount"])
    s_out_i = np.zeros(n_tx, np.int64)
    np.add.at(s_out_i, outs["tx_id"], outs["amount"])
    iss = tx["is_issuance"]
    assert np.array_equal(s_in_i[~iss], s_out_i[~iss] + tx["fee"][~iss])
    assert (s_in[iss] == 0).all() and (tx["fee"][iss] == 0).all()
    assert (tx["fee"] >= 0).all() and (outs["amount"] > 0).all() and (ins["amount"] > 0).all()
    assert np.array_equal(np.bincount(ins["tx_id"], minlength=n_tx), tx["n_inputs"])
    assert np.array_equal(np.bincount(outs["tx_id"], minlength=n_tx), tx["n_outputs"])
    # one asset per transaction, legs agree
    assert (ins["asset_id"] == tx["asset_id"][ins["tx_id"]]).all()
    assert (outs["asset_id"] == tx["asset_id"][outs["tx_id"]]).all()
    # UTXO spends
    models = np.zeros(ds.chains.num_rows, np.int8)
    models[ds.chains["chain_id"]] = ds.chains["model"]
    utxo_in = models[tx["chain_id"][ins["tx_id"]]] == 0
    sp = ins["spent_output_id"][utxo_in]
    assert (sp >= 0).all()
    assert len(np.unique(sp)) == len(sp), "an output is spent twice"
    assert (outs["tx_id"][sp] < ins["tx_id"][utxo_in]).all(), "spent before created"
    assert (outs["address_id"][sp] == ins["address_id"][utxo_in]).all()
    assert (outs["amount"][sp] == ins["amount"][utxo_in]).all()
    assert (outs["tx_id"][sp] == ins["prev_tx_id"][utxo_in]).all()
    assert (outs["index"][sp] == ins["prev_index"][utxo_in]).all()
    assert (ins["spent_output_id"][~utxo_in] == -1).all()
    # account balances never negative
    acc_out = models[tx["chain_id"][outs["tx_id"]]] == 1
    key = np.concatenate([
        ins["address_id"][~utxo_in] * 64 + ins["asset_id"][~utxo_in],
        outs["address_id"][acc_out] * 64 + outs["asset_id"][acc_out]])
    when = np.concatenate([ins["tx_id"][~utxo_in] * 2, outs["tx_id"][acc_out] * 2 + 1])
    delta = np.concatenate([-ins["amount"][~utxo_in], outs["amount"][acc_out]])
    order = np.lexsort((when, key))
    k, d = key[order], delta[order]
    run = np.cumsum(d)
    starts = np.r_[0, np.flatnonzero(np.diff(k)) + 1]
    base = np.repeat(np.r_[0, run[starts[1:] - 1]], np.diff(np.r_[starts, len(k)]))
    assert ((run - base) >= 0).all(), "an account address overspent"
    # time order and blocks
    ts = tx["timestamp"]
    assert (np.diff(ts) >= 0).all()
    for cid in ds.chains["chain_id"]:
        m = tx["chain_id"] == cid
        if m.sum() > 1:
            assert (np.diff(tx["block_height"][m]) >= 0).all()
            assert (np.diff(ts[m])[np.diff(tx["block_height"][m]) > 0] >= 0).all()
