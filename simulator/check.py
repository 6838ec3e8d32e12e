"""Validity checks of a dataset: the ledger's invariants and the truth's consistency.

Every check reads the tables alone (the Parquet files of a dataset directory, or a
:class:`~launderbench.simulator.dataset.Dataset` in memory), so it applies to generated,
imported and hand-built ledgers alike. The command ``launderbench check DATASET`` runs them.

Ledger (observable tables):

* ids are dense (``tx_id``, ``output_id``, ``address_id`` are ``0..n-1``) and every reference
  (a leg's transaction, address and asset, a spent output, a seed) points at an existing row;
* value is conserved per transaction: inputs = outputs + fee; an issuance has no input and no
  fee; amounts are positive and fees non-negative; the leg counts match ``n_inputs`` /
  ``n_outputs``; every leg carries its transaction's asset;
* on UTXO chains each input spends an earlier output of the same address and amount, and no
  output is spent twice; on account chains inputs spend no output and no address ever holds a
  negative balance of an asset (debits before credits within a transaction, transactions in
  id order);
* timestamps never decrease in transaction order, and block heights never decrease within a
  chain.

A dataset whose metadata says it is ``partial`` (a slice of a real chain, as every import is)
skips, by name, the checks such a slice cannot satisfy (:data:`PARTIAL_SKIPS`); every other
check runs.

Truth (when the dataset has it):

* one ``address_truth`` row per address and one ``tx_truth`` row per transaction, in id order;
  roles, stages, typologies and link kinds are known codes; incident ids are -1 (benign) or an
  incident of ``meta["incidents"]``;
* taint: every row names an existing output and an incident, its amount is positive, the
  taint of an output never exceeds the output's amount, and taint stops at the cash-out point
  (no output of a transaction that spends from a cash-out address is tainted);
* hidden links join existing transactions, the second no earlier than the first.
"""

from __future__ import annotations

import numpy as np

from .errors import DatasetError
from .schema import ChainModel, LinkKind, Role, Stage, Typology

__all__ = ["structural_problems", "ledger_problems", "truth_problems", "problems",
           "check_dataset", "skipped_checks", "PARTIAL_SKIPS"]


def _dense(problems: list[str], table: str, ids: np.ndarray) -> None:
    if not np.array_equal(ids, np.arange(len(ids))):
        problems.append(f"{table}: ids are not 0..{len(ids) - 1} in order")


def _in_range(problems: list[str], what: str, ids: np.ndarray, n: int, allow=()) -> bool:
    ids = np.asarray(ids)
    bad = (ids < 0) | (ids >= n)
    for v in allow:
        bad &= ids != v
    if bad.any():
        problems.append(f"{what}: {int(bad.sum())} value(s) out of range 0..{n - 1} "
                        f"(first: {int(ids[bad][0])})")
        return False
    return True


#: checks that a slice of a real chain cannot satisfy, skipped when ``meta["partial"]``: an
#: address's earlier history is missing (its balance can look negative), and real ledgers
#: carry zero-value transfers (contract calls, approvals)
PARTIAL_SKIPS = ("account-balances", "positive-amounts")


def skipped_checks(ds) -> tuple[str, ...]:
    """The named checks that do not apply to ``ds``: :data:`PARTIAL_SKIPS` when its metadata
    says it is partial (imported data is), none otherwise."""
    return PARTIAL_SKIPS if (getattr(ds, "meta", None) or {}).get("partial") else ()


def structural_problems(ds) -> list[str]:
    """The checks every :meth:`Dataset.load` runs (fast, linear): dense ids, references in
    range (legs, spent outputs, seeds, truth rows), and one truth row per address and per
    transaction."""
    out: list[str] = []
    tx, ins, outs = ds.transactions, ds.inputs, ds.outputs
    n_tx, n_out, n_addr = tx.num_rows, outs.num_rows, ds.addresses.num_rows
    n_chain, n_asset = ds.chains.num_rows, ds.assets.num_rows
    _dense(out, "transactions", tx["tx_id"])
    _dense(out, "outputs", outs["output_id"])
    _dense(out, "addresses", ds.addresses["address_id"])
    _dense(out, "chains", ds.chains["chain_id"])
    _dense(out, "assets", ds.assets["asset_id"])
    _in_range(out, "transactions.chain_id", tx["chain_id"], n_chain)
    _in_range(out, "transactions.asset_id", tx["asset_id"], n_asset)
    _in_range(out, "addresses.chain_id", ds.addresses["chain_id"], n_chain)
    _in_range(out, "inputs.tx_id", ins["tx_id"], n_tx)
    _in_range(out, "outputs.tx_id", outs["tx_id"], n_tx)
    _in_range(out, "inputs.address_id", ins["address_id"], n_addr)
    _in_range(out, "outputs.address_id", outs["address_id"], n_addr)
    _in_range(out, "inputs.asset_id", ins["asset_id"], n_asset)
    _in_range(out, "outputs.asset_id", outs["asset_id"], n_asset)
    _in_range(out, "inputs.spent_output_id", ins["spent_output_id"], n_out, allow=(-1,))
    _in_range(out, "seeds.tx_id", ds.seeds["tx_id"], n_tx)
    tables = getattr(ds, "tables", {})
    if "address_truth" in tables and ds.address_truth.num_rows != n_addr:
        out.append(f"address_truth: {ds.address_truth.num_rows} rows for {n_addr} addresses")
    if "tx_truth" in tables and ds.tx_truth.num_rows != n_tx:
        out.append(f"tx_truth: {ds.tx_truth.num_rows} rows for {n_tx} transactions")
    if "taint" in tables:
        _in_range(out, "taint.output_id", ds.taint["output_id"], n_out)
    if "links" in tables:
        _in_range(out, "links.in_tx_id", ds.links["in_tx_id"], n_tx)
        _in_range(out, "links.out_tx_id", ds.links["out_tx_id"], n_tx)
    return out


def ledger_problems(ds) -> list[str]:
    """One line per violated ledger invariant (empty when the ledger is valid)."""
    out = structural_problems(ds)
    if out:
        return out  # the checks below index with these ids
    tx, ins, outs = ds.transactions, ds.inputs, ds.outputs
    n_tx = tx.num_rows
    n_chain = ds.chains.num_rows

    # conservation, exact in integers
    s_in = np.zeros(n_tx, np.int64)
    np.add.at(s_in, ins["tx_id"], ins["amount"])
    s_out = np.zeros(n_tx, np.int64)
    np.add.at(s_out, outs["tx_id"], outs["amount"])
    iss = tx["is_issuance"].astype(bool)
    bad = ~iss & (s_in != s_out + tx["fee"])
    if bad.any():
        out.append(f"value not conserved (inputs != outputs + fee) in {int(bad.sum())} "
                   f"transaction(s), first tx {int(np.flatnonzero(bad)[0])}")
    if (s_in[iss] != 0).any() or (tx["fee"][iss] != 0).any():
        out.append("an issuance has inputs or a fee")
    if (tx["fee"] < 0).any():
        out.append("negative fee")
    skip = skipped_checks(ds)
    if "positive-amounts" not in skip and ((outs["amount"] <= 0).any()
                                           or (ins["amount"] <= 0).any()):
        out.append("non-positive leg amount")
    if not np.array_equal(np.bincount(ins["tx_id"], minlength=n_tx), tx["n_inputs"]):
        out.append("transactions.n_inputs disagrees with the inputs table")
    if not np.array_equal(np.bincount(outs["tx_id"], minlength=n_tx), tx["n_outputs"]):
        out.append("transactions.n_outputs disagrees with the outputs table")
    if ((ins["asset_id"] != tx["asset_id"][ins["tx_id"]]).any()
            or (outs["asset_id"] != tx["asset_id"][outs["tx_id"]]).any()):
        out.append("a leg's asset differs from its transaction's")

    # UTXO spends
    models = np.zeros(n_chain, np.int8)
    models[ds.chains["chain_id"]] = ds.chains["model"]
    utxo_in = models[tx["chain_id"][ins["tx_id"]]] == ChainModel.UTXO
    sp = ins["spent_output_id"][utxo_in]
    if (sp < 0).any():
        out.append("a UTXO input spends no output")
    sp = sp[sp >= 0]
    if len(np.unique(sp)) != len(sp):
        out.append("an output is spent twice")
    spending = ins["tx_id"][utxo_in][ins["spent_output_id"][utxo_in] >= 0]
    mask = ins["spent_output_id"][utxo_in] >= 0
    if (outs["tx_id"][sp] >= spending).any():
        out.append("an output is spent before (or in) the transaction that created it")
    if ((outs["address_id"][sp] != ins["address_id"][utxo_in][mask]).any()
            or (outs["amount"][sp] != ins["amount"][utxo_in][mask]).any()):
        out.append("a UTXO input's address or amount differs from the output it spends")
    if ((outs["tx_id"][sp] != ins["prev_tx_id"][utxo_in][mask]).any()
            or (outs["index"][sp] != ins["prev_index"][utxo_in][mask]).any()):
        out.append("a UTXO input's prev_tx_id/prev_index disagree with its spent output")
    if (ins["spent_output_id"][~utxo_in] != -1).any():
        out.append("an account-chain input spends an output")

    # account balances never negative
    acc_out = models[tx["chain_id"][outs["tx_id"]]] == ChainModel.ACCOUNT
    key = np.concatenate([ins["address_id"][~utxo_in] * 1024 + ins["asset_id"][~utxo_in],
                          outs["address_id"][acc_out] * 1024 + outs["asset_id"][acc_out]])
    when = np.concatenate([ins["tx_id"][~utxo_in] * 2, outs["tx_id"][acc_out] * 2 + 1])
    delta = np.concatenate([-ins["amount"][~utxo_in], outs["amount"][acc_out]])
    if len(key) and "account-balances" not in skip:
        order = np.lexsort((when, key))
        k, d = key[order], delta[order]
        run = np.cumsum(d)
        starts = np.r_[0, np.flatnonzero(np.diff(k)) + 1]
        base = np.repeat(np.r_[0, run[starts[1:] - 1]], np.diff(np.r_[starts, len(k)]))
        neg = (run - base) < 0
        if neg.any():
            first = int(k[np.flatnonzero(neg)[0]])
            out.append(f"an account address overspent (negative balance): {int(neg.sum())} "
                       f"debit(s), first address {first // 1024} in asset {first % 1024}")

    # time order and blocks
    ts = tx["timestamp"]
    if (np.diff(ts) < 0).any():
        out.append("timestamps decrease in transaction order")
    chain = tx["chain_id"]
    order = np.argsort(chain, kind="stable")
    same = np.diff(chain[order]) == 0
    if (np.diff(tx["block_height"][order])[same] < 0).any():
        out.append("block heights decrease within a chain")
    return out


def _codes(out: list[str], what: str, values: np.ndarray, enum) -> None:
    bad = ~np.isin(values, np.array([int(e) for e in enum]))
    if bad.any():
        out.append(f"{what}: unknown code {int(values[bad][0])} in {int(bad.sum())} row(s)")


def truth_problems(ds) -> list[str]:
    """One line per inconsistency of the truth tables (empty when consistent, or when the
    dataset carries no truth)."""
    tables = getattr(ds, "tables", {})
    if "address_truth" not in tables:
        return []
    out: list[str] = []
    n_tx, n_out, n_addr = ds.transactions.num_rows, ds.outputs.num_rows, ds.addresses.num_rows
    n_inc = len(ds.meta.get("incidents", []) or [])
    at, tt = ds.address_truth, ds.tx_truth
    if not np.array_equal(at["address_id"], np.arange(n_addr)):
        out.append(f"address_truth: not one row per address in id order "
                   f"({at.num_rows} rows, {n_addr} addresses)")
    if not np.array_equal(tt["tx_id"], np.arange(n_tx)):
        out.append(f"tx_truth: not one row per transaction in id order "
                   f"({tt.num_rows} rows, {n_tx} transactions)")
    _codes(out, "address_truth.role", at["role"], Role)
    _codes(out, "tx_truth.stage", tt["stage"], Stage)
    _codes(out, "tx_truth.typology", tt["typology"], Typology)
    for name, ids in (("address_truth", at["incident_id"]), ("tx_truth", tt["incident_id"])):
        _in_range(out, f"{name}.incident_id", ids, n_inc, allow=(-1,))
    if "taint" in tables:
        taint = ds.taint
        ok = _in_range(out, "taint.output_id", taint["output_id"], n_out)
        _in_range(out, "taint.incident_id", taint["incident_id"], n_inc)
        if (taint["amount"] <= 0).any():
            out.append("taint: non-positive amount")
        if ok and taint.num_rows:
            total = np.zeros(n_out, np.int64)
            np.add.at(total, taint["output_id"], taint["amount"])
            over = total > ds.outputs["amount"]
            if over.any():
                out.append(f"taint: {int(over.sum())} output(s) carry more taint than value "
                           f"(first output {int(np.flatnonzero(over)[0])})")
            # taint stops at the cash-out point: what a cash-out address pays on (an
            # exchange sweeping a deposit address) carries none
            cash = np.asarray(ds.address_truth["role"]) == Role.CASHOUT
            if cash.any() and len(cash) == n_addr:
                ins = ds.inputs
                from_cash = np.zeros(n_tx, bool)
                from_cash[ins["tx_id"][cash[ins["address_id"]]]] = True
                past = from_cash[ds.outputs["tx_id"][taint["output_id"]]]
                if past.any():
                    out.append(f"taint: {int(past.sum())} tainted output(s) are paid on from "
                               "a cash-out address (taint must stop at the cash-out point)")
    if "links" in tables:
        links = ds.links
        _codes(out, "links.kind", links["kind"], LinkKind)
        ok = (_in_range(out, "links.in_tx_id", links["in_tx_id"], n_tx)
              & _in_range(out, "links.out_tx_id", links["out_tx_id"], n_tx))
        if ok and links.num_rows:
            ts = ds.transactions["timestamp"]
            if (ts[links["out_tx_id"]] < ts[links["in_tx_id"]]).any():
                out.append("links: a hidden link's second transaction is earlier than its first")
    return out


def problems(ds) -> list[str]:
    """Every ledger and truth problem of ``ds``, one line each."""
    return list(dict.fromkeys(ledger_problems(ds) + truth_problems(ds)))


def check_dataset(ds) -> None:
    """Raise :class:`~launderbench.simulator.errors.DatasetError` naming every problem of
    ``ds`` (see :func:`problems`); return ``None`` when it is valid."""
    found = problems(ds)
    if found:
        raise DatasetError(f"{len(found)} problem(s): " + "; ".join(found))
