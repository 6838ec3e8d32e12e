"""Import a UTXO chain from two warehouse tables: its outputs and its inputs.

Public warehouses give a UTXO chain (Bitcoin and its kin) as two tables keyed by
transaction hash and index:

``outputs``  ``transaction_hash, index, address, value, block_timestamp``
``inputs``   ``transaction_hash, index, spent_transaction_hash, spent_output_index,
             address, value`` (a ``block_timestamp`` there is not read: a transaction's
             time is its outputs')

The table with a ``spent_transaction_hash`` column is the inputs, whatever the order the
files are given in. Values are decimal text in satoshi (``amount_scale=8``, the default) or
in whole coins (``amount_scale=0``), parsed exactly and stored in int64 base units (eight
decimals for BTC unless ``--asset`` says otherwise). The result is one chain of model
``utxo``: each input names the output it spends (``spent_output_id``, ``prev_tx_id``,
``prev_index``) and each transaction's fee is its inputs minus its outputs.

Slices. A slice of a chain has inputs that spend outputs created before it. Each such
earlier transaction becomes a synthetic issuance at the slice's first timestamp, keeping
its hash and carrying only the outputs the slice spends (at their original indices, with
the address and value the spending inputs give). The data then holds every invariant of a
whole ledger, and ``meta["source"]["partial"]`` is true with the counts in
``meta["source"]["outside"]``. An input with no spent transaction hash is a coinbase: its
transaction is an issuance (no inputs, no fee).

Outputs of zero value (data carriers) are left out, counted in the warnings; an output with
no address is named ``nonstandard:<hash>:<index>``. Every bad value is one line naming the
file and row: a missing column, an output or input key given twice, an output spent twice,
an input whose address or value differs from the output it spends, an amount that does not
fit, a transaction paying out more than it spends, a transaction that spends an output of a
later one.
"""

from __future__ import annotations

import heapq
import re
from pathlib import Path

import numpy as np

from launderbench.simulator.dataset import Dataset
from launderbench.simulator.errors import DatasetError
from launderbench.simulator.schema import ChainModel, EntityKind

from .import_knowledge import apply_attribution, read_attribution, read_seed_file, seed_transactions
from .import_values import (
    USD_RATES,
    _np,
    _read,
    choose_decimals,
    parse_amounts,
    parse_time_unit,
    parse_timestamps,
    to_base_units,
)

#: column names per field (the first the table has)
OUTPUT_COLUMNS = {
    "tx_hash": ["transaction_hash", "tx_hash", "hash", "txid"],
    "index": ["index", "output_index", "vout", "n"],
    "address": ["address", "addresses", "recipient"],
    "amount": ["value", "amount"],
    "timestamp": ["block_timestamp", "timestamp", "time"],
}
INPUT_COLUMNS = {
    "tx_hash": ["transaction_hash", "tx_hash", "hash", "txid"],
    "index": ["index", "input_index", "vin"],
    "spent_tx": ["spent_transaction_hash", "prev_tx_hash", "spent_tx_hash"],
    "spent_index": ["spent_output_index", "prev_output_index", "spent_index"],
    "address": ["address", "addresses", "sender"],
    "amount": ["value", "amount"],
}
_WHOLE = re.compile(r"^\d+$")


def _columns(path: Path, cols: dict, wanted: dict, what: str) -> dict:
    """field -> column text (stripped), every field required."""
    out = {}
    for field, names in wanted.items():
        name = next((c for c in names if c in cols), None)
        if name is None:
            raise DatasetError(f"{path.name}: no {' or '.join(repr(n) for n in names[:2])} "
                               f"column in the {what} table (columns: {', '.join(cols)})")
        out[field] = np.char.strip(_np(cols[name]))
        out[field + ":name"] = name
    if len(out["tx_hash"]) == 0:
        raise DatasetError(f"{path.name}: no rows")
    return out


def _indices(path: Path, values: np.ndarray, column: str) -> np.ndarray:
    ok = np.array([bool(_WHOLE.match(v)) and len(v) < 10 for v in values], bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise DatasetError(f"{path.name}: column '{column}': not an index (a whole number "
                           f"under 10^9) at row {i + 1}: {str(values[i])!r}")
    return values.astype(np.int64)


def _once(path: Path, what: str, tx: np.ndarray, idx: np.ndarray) -> dict[tuple, int]:
    """(hash, index) -> row, each key once."""
    at: dict[tuple, int] = {}
    for r, key in enumerate(zip(tx.tolist(), idx.tolist())):
        if key in at:
            raise DatasetError(f"{path.name}: {what} {key[0]}:{key[1]} at row {r + 1} is listed "
                               f"twice (first at row {at[key] + 1})")
        at[key] = r
    return at


def _prefixed(path: Path, fn, *args):
    try:
        return fn(*args)
    except DatasetError as e:
        raise DatasetError(f"{path.name}: {e}") from None


def _nonstandard(address: np.ndarray, tx: np.ndarray, idx) -> np.ndarray:
    """Addresses, an empty one named after its output."""
    out = address.astype(object)
    for k in np.flatnonzero(address == ""):
        out[k] = f"nonstandard:{tx[k]}:{int(idx[k])}"
    return out.astype(str)


def _split_tables(paths, reader) -> tuple[Path, dict, Path, dict]:
    if len(paths) != 2:
        raise DatasetError(f"the utxo layout takes two tables, outputs and inputs "
                           f"({len(paths)} given)")
    read = [(p, reader(p)) for p in paths]
    is_in = [any(c in cols for c in INPUT_COLUMNS["spent_tx"]) for _, cols in read]
    if sum(is_in) != 1:
        raise DatasetError("utxo layout: exactly one table (the inputs) must have a "
                           "'spent_transaction_hash' column")
    (pi, ci), (po, co) = (read[0], read[1]) if is_in[0] else (read[1], read[0])
    return po, co, pi, ci


def import_utxo(paths, name: str | None = None, assets: dict | None = None,
                time_unit: str | None = None, amount_scale: int | None = None,
                native: str | None = None, seed_addresses=(), seed_txs=(), seeds_file=None,
                attribution=None) -> Dataset:
    """A UTXO chain from its outputs and inputs tables (module docstring). Options as
    :func:`~launderbench.benchmarks.importer.import_table`; ``native`` names the coin
    (default ``BTC``)."""
    paths = [Path(p) for p in paths]
    po, co, pi, ci = _split_tables(paths, _read)
    o = _columns(po, co, OUTPUT_COLUMNS, "outputs")
    i = _columns(pi, ci, INPUT_COLUMNS, "inputs")
    scale = 8 if amount_scale is None else amount_scale
    if not 0 <= scale <= 36:
        raise DatasetError(f"amount scale {scale}: 0 to 36 decimals")
    sym = native or "BTC"
    given = {k.lower(): v for k, v in (assets or {}).items()}.get(sym.lower(), {})
    warnings: list[str] = []

    o_idx = _indices(po, o["index"], o["index:name"])
    o_ts = _prefixed(po, parse_timestamps, o["timestamp"], o["timestamp:name"], time_unit)
    o_amt = _prefixed(po, parse_amounts, o["amount"], o["amount:name"], scale)
    i_idx = _indices(pi, i["index"], i["index:name"])
    coinbase = i["spent_tx"] == ""
    sp_idx_text = np.where(coinbase, "0", i["spent_index"])
    i_sp_idx = _indices(pi, sp_idx_text, i["spent_index:name"])
    i_amt_text = np.where(coinbase & (i["amount"] == ""), "0", i["amount"])
    i_amt = _prefixed(pi, parse_amounts, i_amt_text, i["amount:name"], scale)
    for e in (o, i):
        empty = e["tx_hash"] == ""
        if empty.any():
            p = po if e is o else pi
            raise DatasetError(f"{p.name}: column '{e['tx_hash:name']}': missing transaction "
                               f"hash at row {int(np.flatnonzero(empty)[0]) + 1}")
    o_tx = np.char.lower(o["tx_hash"])
    i_tx = np.char.lower(i["tx_hash"])
    i_sp = np.char.lower(i["spent_tx"])
    o_addr = _nonstandard(o["address"], o_tx, o_idx)
    i_addr = _nonstandard(i["address"], i_sp, i_sp_idx)

    # keys: outputs and inputs once each, outputs spent once
    out_at = _once(po, "output", o_tx, o_idx)
    _once(pi, "input", i_tx, i_idx)
    spent_by: dict[tuple, int] = {}
    for r in np.flatnonzero(~coinbase).tolist():
        sk = (i_sp[r], int(i_sp_idx[r]))
        if sk in spent_by:
            raise DatasetError(f"{pi.name}: input at row {r + 1} spends output {sk[0]}:{sk[1]}"
                               f", already spent at row {spent_by[sk] + 1}")
        spent_by[sk] = r

    # transactions of the slice: every hash with an output, in first-seen order
    tx_ts: dict[str, int] = {}
    tx_row: dict[str, int] = {}
    for r, (h, t) in enumerate(zip(o_tx.tolist(), o_ts.tolist())):
        if h in tx_ts and tx_ts[h] != t:
            raise DatasetError(f"{po.name}: row {r + 1}: transaction {h} has two timestamps")
        tx_ts.setdefault(h, t)
        tx_row.setdefault(h, r)
    for r, h in enumerate(i_tx.tolist()):
        if h not in tx_ts:
            raise DatasetError(f"{pi.name}: row {r + 1}: transaction {h} has inputs but no "
                               f"output in {po.name}")
    cb_tx = set(i_tx[coinbase].tolist())
    mixed = ~coinbase  # inputs that spend an output
    both = cb_tx & set(i_tx[mixed].tolist())
    if both:
        h = sorted(both)[0]
        r = int(np.flatnonzero((i_tx == h) & mixed)[0])
        raise DatasetError(f"{pi.name}: row {r + 1}: coinbase transaction {h} has other inputs")

    # inputs against the outputs they spend (in the slice) or synthetic ones (outside)
    outside: dict[str, list[int]] = {}
    for r in np.flatnonzero(mixed).tolist():
        sk = (i_sp[r], int(i_sp_idx[r]))
        if sk in out_at:
            k = out_at[sk]
            if i["address"][r] != "" and i_addr[r] != o_addr[k]:
                raise DatasetError(f"{pi.name}: row {r + 1}: address "
                                   f"{str(i['address'][r])!r} differs from the output it "
                                   f"spends ({po.name} row {k + 1})")
            if i["amount"][r] != "" and i_amt[r] != o_amt[k]:
                raise DatasetError(f"{pi.name}: row {r + 1}: value {str(i['amount'][r])!r} "
                                   f"differs from the output it spends ({po.name} row {k + 1})")
            if tx_ts[sk[0]] > tx_ts[i_tx[r]]:
                raise DatasetError(f"{pi.name}: row {r + 1}: spends an output of a later "
                                   f"transaction ({sk[0]})")
        elif sk[0] in tx_ts:
            raise DatasetError(f"{pi.name}: row {r + 1}: spends output {sk[0]}:{sk[1]}, which "
                               f"its transaction in {po.name} does not have")
        else:
            if i["amount"][r] == "":
                raise DatasetError(f"{pi.name}: column '{i['amount:name']}': missing value at "
                                   f"row {r + 1} (its output is outside the slice)")
            outside.setdefault(sk[0], []).append(r)

    # order: by time, spenders after creators (synthetic issuances first)
    t0 = min(tx_ts.values())
    children: dict[str, list[str]] = {}
    waiting = {h: 0 for h in tx_ts}
    for r in np.flatnonzero(mixed).tolist():
        if i_sp[r] in tx_ts:
            children.setdefault(i_sp[r], []).append(i_tx[r])
            waiting[i_tx[r]] += 1
    heap = [(tx_ts[h], tx_row[h], h) for h, w in waiting.items() if w == 0]
    heapq.heapify(heap)
    order: list[str] = list(outside)
    while heap:
        _, _, h = heapq.heappop(heap)
        order.append(h)
        for c in children.get(h, []):
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(heap, (tx_ts[c], tx_row[c], c))
    if len(order) != len(outside) + len(tx_ts):
        h = next(h for h, w in waiting.items() if w > 0)
        raise DatasetError(f"{pi.name}: transaction {h} is part of a cycle of spends")
    tx_id = {h: k for k, h in enumerate(order)}
    n_tx = len(order)
    ts = np.array([t0 if h in outside else tx_ts[h] for h in order], np.int64)
    issuance = np.array([h in outside or h in cb_tx for h in order], bool)

    # outputs: the slice's (zero values left out) and the synthetic ones
    syn = [(h, r) for h, rows in outside.items() for r in rows]
    all_amounts = list(o_amt) + [i_amt[r] for _, r in syn]
    if "decimals" in given:
        d = given["decimals"]
    else:
        d, rounded = choose_decimals(all_amounts, 8)
        if d < 0:
            k = int(np.argmax(all_amounts))
            where = (f"{po.name}: column '{o['amount:name']}'" if k < len(o_amt) else
                     f"{pi.name}: column '{i['amount:name']}'")
            row = k + 1 if k < len(o_amt) else syn[k - len(o_amt)][1] + 1
            raise DatasetError(f"{where}: amount at row {row} ({all_amounts[k]}) does not fit "
                               f"in int64 base units of {sym} (the total exceeds 9.2e18 "
                               "whole units)")
        if rounded:
            warnings.append(f"{sym}: amounts rounded to {d} decimals so that they fit in int64")
    o_units = _prefixed(po, to_base_units, list(o_amt), np.arange(len(o_amt)), d,
                        o["amount:name"], sym)
    i_units = _prefixed(pi, to_base_units, list(i_amt), np.arange(len(i_amt)), d,
                        i["amount:name"], sym)
    kept = np.flatnonzero(o_units > 0)
    if len(kept) < len(o_units):
        warnings.append(f"{len(o_units) - len(kept)} output(s) of zero value left out")
    dropped = set((o_tx[k], int(o_idx[k])) for k in np.flatnonzero(o_units == 0).tolist())
    for r in np.flatnonzero(mixed).tolist():
        if (i_sp[r], int(i_sp_idx[r])) in dropped:
            raise DatasetError(f"{pi.name}: row {r + 1}: spends an output of zero value")
    leg_tx = np.concatenate([[tx_id[h] for h in o_tx[kept]], [tx_id[h] for h, _ in syn]])
    leg_tx = leg_tx.astype(np.int64)
    leg_idx = np.concatenate([o_idx[kept], [int(i_sp_idx[r]) for _, r in syn]]).astype(np.int64)
    leg_addr = np.concatenate([o_addr[kept], [i_addr[r] for _, r in syn]]).astype(str)
    leg_amt = np.concatenate([o_units[kept], [i_units[r] for _, r in syn]]).astype(np.int64)
    leg_order = np.lexsort((leg_idx, leg_tx))
    leg_tx, leg_idx, leg_addr, leg_amt = (a[leg_order] for a in (leg_tx, leg_idx, leg_addr,
                                                                 leg_amt))
    out_id = {(order[t], x): k for k, (t, x) in enumerate(zip(leg_tx.tolist(),
                                                              leg_idx.tolist()))}

    # inputs of the slice (coinbase markers dropped), by transaction and index
    rows = np.flatnonzero(mixed)
    in_tx = np.array([tx_id[h] for h in i_tx[rows]], np.int64)
    rows = rows[np.lexsort((i_idx[rows], in_tx))]
    in_tx = np.array([tx_id[h] for h in i_tx[rows]], np.int64)
    spent = np.array([out_id[(i_sp[r], int(i_sp_idx[r]))] for r in rows], np.int64)
    in_amt = leg_amt[spent] if len(spent) else np.zeros(0, np.int64)

    s_in = np.zeros(n_tx, np.int64)
    np.add.at(s_in, in_tx, in_amt)
    s_out = np.zeros(n_tx, np.int64)
    np.add.at(s_out, leg_tx, leg_amt)
    fee = np.where(issuance, 0, s_in - s_out)
    if (fee < 0).any():
        h = order[int(np.flatnonzero(fee < 0)[0])]
        raise DatasetError(f"{po.name}: row {tx_row[h] + 1}: transaction {h} pays out more "
                           f"than its inputs spend")

    # addresses: ids in order of first appearance among the outputs
    keys, first, inv = np.unique(leg_addr, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    leg_aid = rank[inv].astype(np.int64)
    names = keys[np.argsort(rank)]
    n_addr = len(names)
    in_aid = leg_aid[spent] if len(spent) else np.zeros(0, np.int64)

    hashes = np.array(order, dtype=object)
    listed = list(seed_addresses) + (read_seed_file(seeds_file) if seeds_file else [])
    as_hash = [s for s in listed if str(s).strip().lower() in tx_id]
    as_addr = [s for s in listed if str(s).strip().lower() not in tx_id]
    by_input = seed_transactions(as_addr, [], names, in_aid, None, False)
    seeds_tx = np.unique(np.concatenate([
        in_tx[by_input],
        seed_transactions([], [str(h).lower() for h in (*as_hash, *seed_txs)], names,
                          np.zeros(0, np.int64), hashes.astype(str), False)])).astype(np.int64)
    service_kind, service_name = np.zeros(n_addr, np.int64), np.full(n_addr, "", object)
    tagged = 0
    if attribution is not None:
        service_kind, service_name, tagged = apply_attribution(
            read_attribution(attribution, False), names)

    price = given.get("usd", USD_RATES.get(sym.lower()))
    if price is None:
        price = 1.0
        warnings.append(f"{sym}: no USD price known, 1.0 assumed (give --asset {sym}:usd=PRICE)")
    span = int(ts.max() - ts.min())
    if span < 86400:
        warnings.append(f"the data spans {span:,} seconds, under a day (numeric timestamps "
                        "are read in --time-unit, seconds by default)")
    n_in, n_out = len(rows), len(leg_amt)
    zt, zi, zo = (np.zeros(k, np.int64) for k in (n_tx, n_in, n_out))
    tables = {
        "chains": {"chain_id": [0], "name": np.array(["imported"], object),
                   "model": [int(ChainModel.UTXO)], "block_interval": [1]},
        "assets": {"asset_id": [0], "symbol": np.array([sym], object), "chain_id": [0],
                   "decimals": np.array([d], np.int64), "usd_price": np.array([price], float)},
        "transactions": {"tx_id": np.arange(n_tx), "chain_id": zt, "asset_id": zt,
                         "timestamp": ts, "block_height": ts - t0, "fee": fee,
                         "fee_rate": zt, "n_inputs": np.bincount(in_tx, minlength=n_tx),
                         "n_outputs": np.bincount(leg_tx, minlength=n_tx),
                         "is_issuance": issuance, "memo": np.full(n_tx, -1, np.int64)},
        "inputs": {"tx_id": in_tx, "index": i_idx[rows], "address_id": in_aid,
                   "asset_id": zi, "amount": in_amt, "spent_output_id": spent,
                   "prev_tx_id": leg_tx[spent] if n_in else zi,
                   "prev_index": leg_idx[spent] if n_in else zi},
        "outputs": {"output_id": np.arange(n_out), "tx_id": leg_tx, "index": leg_idx,
                    "address_id": leg_aid, "asset_id": zo, "amount": leg_amt},
        "addresses": {"address_id": np.arange(n_addr), "chain_id": np.zeros(n_addr),
                      "service_kind": service_kind, "service_name": service_name},
        "seeds": {"incident_id": np.zeros(len(seeds_tx), np.int64), "tx_id": seeds_tx},
        "entities": {"entity_id": np.arange(n_addr),
                     "kind": np.full(n_addr, int(EntityKind.RETAIL)),
                     "name": names.astype(object)},
        "address_truth": {"address_id": np.arange(n_addr), "entity_id": np.arange(n_addr),
                          "role": np.zeros(n_addr, np.int64),
                          "incident_id": np.full(n_addr, -1, np.int64)},
        "tx_truth": {"tx_id": np.arange(n_tx), "incident_id": np.full(n_tx, -1, np.int64),
                     "stage": zt, "typology": zt},
        "taint": {"output_id": np.zeros(0, np.int64), "incident_id": np.zeros(0, np.int64),
                  "amount": np.zeros(0, np.int64)},
    }
    meta = {"scenario": name or f"imported:{po.stem}", "seed": None, "partial": True,
            "source": {"file": f"{po.name}, {pi.name}", "layout": "utxo",
                       "evm_addresses": False, "time_unit": parse_time_unit(time_unit)[0],
                       "amount_scale": scale, "warnings": warnings,
                       "partial": bool(outside),
                       "outside": {"transactions": len(outside), "outputs": len(syn),
                                   "first_tx_id": 0, "timestamp": t0},
                       "coinbase_transactions": len(cb_tx),
                       "seeds_given": len(listed) + len(seed_txs),
                       "attribution": None if attribution is None else {
                           "file": Path(attribution).name, "tagged_addresses": tagged},
                       "columns": {"outputs": {f: o[f + ":name"] for f in OUTPUT_COLUMNS},
                                   "inputs": {f: i[f + ":name"] for f in INPUT_COLUMNS}}},
            "incidents": [], "t0": t0}
    ds = Dataset(tables, meta)
    ds.identity = {"address": names.astype(object), "tx": hashes}
    return ds


__all__ = ["import_utxo", "OUTPUT_COLUMNS", "INPUT_COLUMNS"]
