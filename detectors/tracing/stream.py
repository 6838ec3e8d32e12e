"""Taint tracing over a dataset on disk, chunk by chunk, in bounded memory.

:func:`trace_chunks` runs the same kernels as :func:`~launderbench.detectors.tracing.core.trace`
on consecutive chunks of transactions read by
:class:`~launderbench.simulator.chunks.ChunkedView`, and yields each chunk's results. The
kernels' state is carried from one chunk to the next, and only the state the policies need:

* **UTXO outputs**: the taint of the *live* outputs, those that carry taint the policy would
  propagate (tainted, not at a stop service, within ``max_hops``) and are not spent yet,
  keyed by output id (poison and haircut: tainted amount and depth; FIFO, LIFO, TIHO: the
  output's runs of clean and tainted value and its depth). A spent output leaves the state.
* **Account balances**: one entry per (address, asset) pair seen so far: balance, tainted
  amount and depth (all policies), plus the queue of received lots for the ordered policies.

Before a chunk runs, each of its inputs that spends a live output from an earlier chunk is
pointed at an extra row holding that output's state, so the kernels see exactly what the
in-memory pass sees and the results are identical whatever the chunk size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.chunks import Chunk, ChunkedView
from launderbench.simulator.errors import ConfigError

from . import kernels as K
from .core import STOP_SERVICES, _csr, _own_change, _settings

__all__ = ["ChunkTrace", "trace_chunks", "as_chunked"]


@dataclass
class ChunkTrace:
    """The results of one chunk (arrays over the chunk's rows, as in
    :class:`~launderbench.detectors.tracing.core.TraceResult`)."""

    chunk: Chunk
    output_taint: np.ndarray  # per chunk output row, base units
    output_depth: np.ndarray  # per chunk output row, -1 when clean
    output_usd: np.ndarray  # per chunk output row
    fee_taint: np.ndarray  # per chunk transaction, base units
    tx_price: np.ndarray  # per chunk transaction, USD per base unit of its asset
    live_outputs: int = 0  # UTXO outputs whose taint is carried to the next chunk
    pairs: int = 0  # (address, asset) balances carried to the next chunk


def as_chunked(source) -> ChunkedView:
    """A :class:`ChunkedView` of ``source`` (a dataset directory or a ChunkedView)."""
    if isinstance(source, ChunkedView):
        return source
    if isinstance(source, str | os.PathLike):
        return ChunkedView(source)
    raise ConfigError(f"expected a dataset directory or a ChunkedView, got "
                      f"{type(source).__name__}")


class _Pairs:
    """Dense ids of the (address, asset) pairs met so far (keys kept sorted with their ids).

    Ids are labels only: the kernels' results do not depend on which id a pair gets."""

    def __init__(self):
        self.keys = np.zeros(0, np.int64)
        self.ids = np.zeros(0, np.int64)

    @property
    def n(self) -> int:
        return len(self.keys)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The id of every key; keys not met before get the next ids."""
        if len(keys) == 0:
            return np.zeros(0, np.int64)
        uniq, inv = np.unique(keys, return_inverse=True)  # sorted queries: fast look-ups
        pos = np.searchsorted(self.keys, uniq)
        found = pos < len(self.keys)
        found[found] = self.keys[pos[found]] == uniq[found]
        if not found.all():
            new = uniq[~found]
            at = pos[~found]
            fresh = np.arange(self.n, self.n + len(new))
            self.keys = np.insert(self.keys, at, new)
            self.ids = np.insert(self.ids, at, fresh)
            pos = np.searchsorted(self.keys, uniq)
        return self.ids[pos][inv]


class _Live:
    """Live UTXO outputs: sorted output ids with their carried state (columns)."""

    def __init__(self, columns: dict[str, np.ndarray]):
        self.ids = np.zeros(0, np.int64)
        self.cols = {k: np.asarray(v)[:0] for k, v in columns.items()}

    def find(self, ids: np.ndarray) -> np.ndarray:
        """Position of each id among the live outputs, -1 when it is not live."""
        pos = np.searchsorted(self.ids, ids)
        hit = pos < len(self.ids)
        hit[hit] = self.ids[pos[hit]] == ids[hit]
        return np.where(hit, pos, -1)

    def replace(self, keep: np.ndarray, ids: np.ndarray, cols: dict[str, np.ndarray]) -> None:
        """Keep the live entries ``keep`` (bool) and add ``ids`` with ``cols``."""
        all_ids = np.concatenate([self.ids[keep], ids])
        merged = {k: np.concatenate([v[keep], cols[k]]) for k, v in self.cols.items()}
        if len(all_ids) > 1 and np.any(all_ids[1:] < all_ids[:-1]):
            order = np.argsort(all_ids, kind="stable")
            all_ids = all_ids[order]
            merged = {k: v[order] for k, v in merged.items()}
        self.ids, self.cols = all_ids, merged

    @property
    def n(self) -> int:
        return len(self.ids)


def trace_chunks(source, policy: str = "haircut", *, max_hops: int | None = None,
                 stop_at_services: bool = True, fee: str | None = None,
                 orders: str | None = None,
                 chunk_transactions: int = 100_000) -> Iterator[ChunkTrace]:
    """Trace ``policy`` over a dataset on disk, yielding one :class:`ChunkTrace` per chunk of
    at most ``chunk_transactions`` transactions (in id order).

    ``source`` is a dataset directory or a :class:`ChunkedView`; the other parameters are
    those of :func:`~launderbench.detectors.tracing.core.trace` (the seeds are the view's;
    ``seed_tx`` and ``stop`` overrides are in-memory only). The outputs' taint, depth and USD
    and the fees' taint are exactly what ``trace`` gives on the loaded view, chunk by chunk.
    """
    kind, in_code, out_code, fee_last, hops = _settings(policy, max_hops, fee, orders)
    cv = as_chunked(source)
    utxo_chain = cv.utxo_chains()
    price = cv.usd_per_base_unit()
    n_assets = int(max(cv.assets["asset_id"].max(initial=-1) + 1, 1))
    seed_ids = unique_sorted(np.asarray(cv.seeds["tx_id"], np.int64))
    svc_stop = np.zeros(cv.n_addresses, dtype=bool)
    if stop_at_services:
        svc_stop = np.isin(cv.addresses["service_kind"], np.asarray(STOP_SERVICES, np.int64))
    pairs = _Pairs()
    if kind == "scalar":
        live = _Live({"taint": np.zeros(0), "depth": np.zeros(0, np.int64)})
        pair_state = {"bal": np.zeros(0), "taint": np.zeros(0),
                      "depth": np.zeros(0, np.int64)}
        ordered = None
    else:
        live = _Live({"ptr": np.zeros(0, np.int64), "cnt": np.zeros(0, np.int64),
                      "depth": np.zeros(0, np.int64)})
        ordered = K.OrderedState(0)
    for chunk in cv.chunks(chunk_transactions):
        tx, ins, outs = chunk.transactions, chunk.inputs, chunk.outputs
        n_tx, n_out = tx.num_rows, outs.num_rows
        first = chunk.first_tx
        tx_utxo = utxo_chain[tx["chain_id"]]
        seeds = np.isin(tx["tx_id"], seed_ids)
        in_tx = ins["tx_id"] - first
        out_tx = outs["tx_id"] - first
        in_start, in_rows = _csr(in_tx, ins["index"], n_tx)
        out_start, out_rows = _csr(out_tx, outs["index"], n_tx)
        legs = {"in_start": in_start, "in_rows": in_rows, "out_start": out_start,
                "out_rows": out_rows}
        # account legs: persistent (address, asset) pair ids
        in_acct = ~tx_utxo[in_tx]
        out_acct = ~tx_utxo[out_tx]
        in_pair = np.full(ins.num_rows, -1, dtype=np.int64)
        out_pair = np.full(n_out, -1, dtype=np.int64)
        in_pair[in_acct] = pairs.lookup(
            (ins["address_id"] * n_assets + ins["asset_id"])[in_acct])
        out_pair[out_acct] = pairs.lookup(
            (outs["address_id"] * n_assets + outs["asset_id"])[out_acct])
        # spent outputs: this chunk's own rows, then one extra row per live output spent here
        spent = np.asarray(ins["spent_output_id"], np.int64)
        out_ids = np.asarray(outs["output_id"], np.int64)
        by_id = (np.arange(n_out) if np.all(out_ids[1:] >= out_ids[:-1])
                 else np.argsort(out_ids, kind="stable"))
        pos = np.minimum(np.searchsorted(out_ids[by_id], spent), max(n_out - 1, 0))
        in_chunk = (spent >= 0) & (n_out > 0)
        in_chunk[in_chunk] = out_ids[by_id[pos[in_chunk]]] == spent[in_chunk]
        in_spent = np.full(len(spent), -1, dtype=np.int64)
        in_spent[in_chunk] = by_id[pos[in_chunk]]
        carried = live.find(np.where(in_chunk | (spent < 0), -1, spent))
        used = unique_sorted(carried[carried >= 0])
        extra = np.searchsorted(used, carried[carried >= 0])
        in_spent[carried >= 0] = n_out + extra
        n_rows = n_out + len(used)
        out_stop = np.zeros(n_rows, dtype=bool)
        out_stop[:n_out] = svc_stop[outs["address_id"]]
        out_own = _own_change(seeds, legs, ins["address_id"], outs["address_id"],
                              cv.n_addresses, n_out)
        out_amt = outs["amount"].astype(np.float64)
        in_amt = ins["amount"].astype(np.float64)
        out_taint = np.zeros(n_rows)
        out_depth = np.full(n_rows, -1, dtype=np.int64)
        out_depth[n_out:] = live.cols["depth"][used]
        fee_taint = np.zeros(n_tx)
        common = (tx_utxo, seeds, in_start, in_rows, in_amt, in_spent, in_pair, out_start,
                  out_rows, out_amt, out_pair, out_stop, out_own)
        if kind == "scalar":
            out_taint[n_out:] = live.cols["taint"][used]
            if pairs.n > len(pair_state["bal"]):
                pair_state = _grow_pairs(pair_state, pairs.n)
            K.scalar_run(*common, fee_taint, policy == "poison", hops, out_taint, out_depth,
                         pair_state["bal"], pair_state["taint"], pair_state["depth"])
            keep = (out_taint[:n_out] > 0.0) & ~out_stop[:n_out] & (out_depth[:n_out] < hops)
            new_cols = {"taint": out_taint[:n_out], "depth": out_depth[:n_out]}
        else:
            out_ptr = np.full(n_rows, -1, dtype=np.int64)
            out_cnt = np.zeros(n_rows, dtype=np.int64)
            out_ptr[n_out:] = live.cols["ptr"][used]
            out_cnt[n_out:] = live.cols["cnt"][used]
            ordered.grow_pairs(pairs.n)
            ordered.run(*common, in_code, out_code, fee_last, hops, out_taint, out_depth,
                        fee_taint, out_ptr, out_cnt)
            keep = out_ptr[:n_out] >= 0
            new_cols = {"ptr": out_ptr[:n_out], "cnt": out_cnt[:n_out],
                        "depth": out_depth[:n_out]}
        # live state after the chunk: minus what it spent, plus its live unspent outputs
        keep &= tx_utxo[out_tx]
        spent_here = np.zeros(n_out, dtype=bool)
        spent_here[in_spent[(in_spent >= 0) & (in_spent < n_out)]] = True
        keep &= ~spent_here
        still = np.ones(live.n, dtype=bool)
        still[used] = False
        live.replace(still, out_ids[keep], {k: v[keep] for k, v in new_cols.items()})
        if ordered is not None:
            _compact_pool(ordered, live)
        taint = np.minimum(out_taint[:n_out], out_amt)
        yield ChunkTrace(chunk, taint, out_depth[:n_out].copy(),
                         taint * price[outs["asset_id"]], fee_taint, price[tx["asset_id"]],
                         live.n, pairs.n)


def _grow_pairs(state: dict, n: int) -> dict:
    n = max(n, 2 * len(state["bal"]))
    grown = {}
    for key, fill in (("bal", 0.0), ("taint", 0.0), ("depth", K.NO_LIMIT)):
        a = np.full(n, fill, dtype=state[key].dtype)
        a[:len(state[key])] = state[key]
        grown[key] = a
    return grown


def _compact_pool(ordered: K.OrderedState, live: _Live) -> None:
    """Keep in the run pool only the runs of the live outputs (repointing them)."""
    ptr, cnt = live.cols["ptr"], live.cols["cnt"]
    total = int(cnt.sum())
    new_ptr = np.cumsum(cnt) - cnt
    idx = np.repeat(ptr - new_ptr, cnt) + np.arange(total)
    pool_amt, pool_lab = ordered.bufs["pool_amt"], ordered.bufs["pool_lab"]
    ordered.set_pool(pool_amt[idx], pool_lab[idx])
    live.cols["ptr"] = new_ptr
