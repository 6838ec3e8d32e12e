"""Intents ("ops"): what wallets want to do, before the ledger kernel executes them.

Benign behaviours and laundering playbooks both describe their activity as ops; the ledger
kernel (:mod:`launderbench.simulator.kernel`) then executes every op in time order against real balances,
so no generated transaction can overspend, every UTXO is spent at most once, and value is
conserved per asset. An op is one of:

``ISSUE``     new coins (coinbase, mint, genesis allocation): explicit amounts, no inputs.
``PAY``       explicit amounts to outputs; a UTXO wallet selects coins first-in-first-out and
              returns change to ``change`` (``FRESH``: a new address of the paying wallet).
``SPLIT``     spend the whole balance of ``src`` (all its coins) minus the fee, divided among
              the outputs in proportion to their weights (sweeps, fan-outs, peels, hops).
``LINKED``    a service payout whose total is ``floor(realized[link] * rate)`` where ``link``
              is an earlier op (mixer withdrawal, bridge release, swap payout, OTC payout);
              the fee comes out of that total and the rest is split by weights. The kernel
              records the hidden link (truth).
``COINJOIN``  several wallets each pay ``amount`` to one output and take change: equal outputs.

``src`` is a wallet id on UTXO chains (a wallet pools the coins of several addresses, which is
what the multi-input heuristic discovers) and an address id on account chains. Soft ops
(benign) shrink or are skipped when funds are short; exact ops are skipped rather than shrunk;
hard ops (laundering) must succeed or the scenario is reported as unsatisfiable.
"""

from __future__ import annotations

import os
import shutil
import weakref

import numpy as np
from numba import njit

OP_ISSUE = 0
OP_PAY = 1
OP_SPLIT = 2
OP_LINKED = 3
OP_COINJOIN = 4

#: address placeholder: create a fresh address in the given wallet when the op executes.
FRESH = -1
#: change placeholder: return change to the paying wallet's main address (address reuse).
CHANGE_MAIN = -2

#: values of an op's ``hard`` field: what happens when the payer is short of funds
SOFT = 0  # pay what it can (benign payments)
HARD = 1  # must succeed, or the scenario is unsatisfiable (laundering)
EXACT = 2  # the exact amount or nothing (a fixed-denomination mixer note)

# Compact dtypes: ids fit in int32 (up to 2**31 addresses, wallets and ops); times, amounts
# and memos stay int64.
def release_free_memory() -> None:
    """Hand freed heap memory back to the OS (glibc ``malloc_trim``; a no-op elsewhere).

    Generation frees large temporaries between phases; without this, glibc keeps them in the
    process and the peak resident memory is the sum of the phases rather than their maximum.
    """
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None

_OP_FIELDS = {
    "t": np.int64,
    "chain": np.int8,
    "asset": np.int8,
    "code": np.int8,
    "src": np.int32,
    "amount": np.int64,
    "fee_rate": np.int32,
    "change": np.int32,
    "hard": np.int8,
    "incident": np.int32,
    "stage": np.int8,
    "typology": np.int8,
    "link": np.int32,
    "link_kind": np.int8,
    "rate": np.float64,
    "aux": np.int32,
    "memo": np.int32,  # public deposit ids; widened to int64 in the tables
    "out_count": np.int32,
    "part_count": np.int32,
}
_OUT_FIELDS = {"addr": np.int32, "wallet": np.int32, "value": np.int64, "incident": np.int32}
_PART_FIELDS = {"wallet": np.int32, "addr": np.int32}

_DEFAULTS = {
    "amount": 0,
    "fee_rate": 1,
    "change": FRESH,
    "hard": False,
    "incident": -1,
    "stage": 0,
    "typology": 0,
    "link": -1,
    "link_kind": -1,
    "rate": 1.0,
    "aux": 0,
    "memo": -1,
    "part_count": 0,
}


#: bytes of planned ops an :class:`OpStream` holds in memory before it moves them to disk
#: (``None``: never). Small datasets never reach it, and their ops stay in memory throughout.
SPILL_BYTES: int | None = 64 << 20

_KINDS = (("op", _OP_FIELDS), ("out", _OUT_FIELDS), ("part", _PART_FIELDS))
#: op columns the sorted ops on disk keep under their own name (the ledger reads them by row)
SPILLED_BY_NAME = ("t", "stage", "typology", "memo")


def _ids(values) -> np.ndarray:
    """Address or wallet ids (or the placeholders) as int32, refusing what does not fit."""
    arr = np.asarray(values)
    if arr.dtype != np.int32:
        if arr.size and (arr.min() < np.iinfo(np.int32).min or arr.max() > np.iinfo(np.int32).max):
            raise ValueError("address and wallet ids must fit in int32")
        arr = arr.astype(np.int32)
    return arr


@njit(cache=True)
def _gather_slices(src, counts, order, out):
    """``out`` = the per-op slices of ``src`` (``counts`` long each, in insertion order),
    taken in ``order``: what fancy indexing by every row would give, without the row index."""
    starts = np.empty(counts.shape[0], np.int64)
    acc = 0
    for i in range(counts.shape[0]):
        starts[i] = acc
        acc += counts[i]
    pos = 0
    for j in range(order.shape[0]):
        i = order[j]
        a = starts[i]
        for r in range(counts[i]):
            out[pos + r] = src[a + r]
        pos += counts[i]


def _in_order(src: np.ndarray, counts: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The rows of per-op slices of ``src`` in the op ``order`` (kept ops only)."""
    total = int(counts[order].sum(dtype=np.int64)) if len(order) else 0
    out = np.empty(total, src.dtype)
    _gather_slices(src, counts, order, out)
    return out


def _time_order(t: np.ndarray) -> np.ndarray:
    """Positions sorting ``t`` by time, insertion order breaking ties (a stable sort), as a
    quicksort of unique keys ``(t - min) * n + index`` where these fit in int64."""
    n = len(t)
    if n == 0:
        return np.zeros(0, np.int64)
    lo = int(t.min())
    if (int(t.max()) - lo + 1) * n >= 2**62:
        return np.argsort(t, kind="stable")
    key = t - lo
    key *= n
    key += np.arange(n, dtype=np.int64)
    order = np.argsort(key)
    del key
    return order


def _remap_links(link: np.ndarray, inv: np.ndarray) -> None:
    """Turn ``link`` (ops in time order, each linking to an insertion index or -1) into
    sorted positions, in place, through ``inv`` (insertion index -> sorted position, -1 for
    an op past the horizon); refuse a link to an op that does not happen before it."""
    has = link >= 0
    link[has] = inv[link[has]]
    if (has & ((link >= np.arange(len(link))) | (link < 0))).any():
        raise ValueError("an op links to an op that does not happen before it")


class OpStream:
    """Accumulates batches of ops (struct of arrays) and returns them sorted by time.

    Each ``add`` returns the global indices of the ops it added, so that later ops can link to
    them (``link=``). Indices refer to insertion order; :meth:`finalize` remaps them.
    """

    def __init__(self):
        self._ops: list[dict[str, np.ndarray]] = []
        self._outs: list[dict[str, np.ndarray]] = []
        self._parts: list[dict[str, np.ndarray]] = []
        self.n = 0
        self._final = None
        self._buffered = 0  # bytes of the batches in memory
        self._dir = None  # where batches go once they pass SPILL_BYTES (raw column files)
        self._on_disk = {"op": 0, "out": 0, "part": 0}  # rows written there

    def add(self, *, t, chain, asset, code, src, out_count, out_addr, out_wallet=None,
            out_value, out_incident=None, part_count=None, part_wallet=None, part_addr=None,
            **fields) -> np.ndarray:
        """Add a batch of ops. Scalars broadcast; ``out_*`` are flat arrays of length
        ``sum(out_count)``; ``part_*`` likewise for COINJOIN participants."""
        if self._final is not None:
            raise RuntimeError("ops cannot be added after finalize()")
        t = np.atleast_1d(np.asarray(t, dtype=np.int64))
        n = len(t)
        batch = {"t": t}
        given = {"chain": chain, "asset": asset, "code": code, "src": src,
                 "out_count": out_count, **fields}
        if part_count is not None:
            given["part_count"] = part_count
        for k, dt in _OP_FIELDS.items():
            if k == "t":
                continue
            v = given.get(k, _DEFAULTS.get(k))
            if v is None:
                raise ValueError(f"op field '{k}' is required")
            arr = np.asarray(v, dtype=dt)
            batch[k] = np.broadcast_to(arr, (n,)).copy() if arr.ndim == 0 else arr
            if len(batch[k]) != n:
                raise ValueError(f"op field '{k}' has {len(batch[k])} values for {n} ops")
        unknown = set(fields) - set(_OP_FIELDS)
        if unknown:
            raise ValueError(f"unknown op field(s): {sorted(unknown)}")
        m = int(batch["out_count"].sum())
        outs = {
            "addr": _ids(out_addr),
            "wallet": np.full(m, -1, np.int32) if out_wallet is None else _ids(out_wallet),
            "value": np.asarray(out_value, dtype=np.int64),
            "incident": np.full(m, -1, np.int32) if out_incident is None
            else np.asarray(out_incident, dtype=np.int32),
        }
        for k, v in outs.items():
            if v.ndim == 0:
                outs[k] = np.full(m, v, dtype=v.dtype)
            elif len(v) != m:
                raise ValueError(f"out_{k} has {len(v)} values, expected {m}")
        pm = int(batch["part_count"].sum())
        parts = {
            "wallet": _ids(part_wallet if part_wallet is not None else []),
            "addr": _ids(part_addr if part_addr is not None else []),
        }
        for k, v in parts.items():
            if v.ndim == 0:
                parts[k] = np.full(pm, v, dtype=np.int32)
            elif len(parts[k]) != pm:
                raise ValueError(f"part_{k} has {len(parts[k])} values, expected {pm}")
        self._ops.append(batch)
        self._outs.append(outs)
        self._parts.append(parts)
        idx = np.arange(self.n, self.n + n, dtype=np.int64)
        self.n += n
        self._buffered += sum(a.nbytes for d in (batch, outs, parts) for a in d.values())
        if SPILL_BYTES is not None and self._buffered > SPILL_BYTES:
            self._flush()
        return idx

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self._dir, f"{kind}_{key}.bin")

    def _flush(self) -> None:
        """Append the batches in memory to the raw column files on disk (insertion order)."""
        if self._dir is None:
            from .tempdirs import make_temp_dir

            self._dir = str(make_temp_dir("launderbench-plan-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)
        for (kind, fields), batches in zip(_KINDS, (self._ops, self._outs, self._parts),
                                           strict=True):
            for k, dt in fields.items():
                with open(self._path(kind, k), "ab") as f:
                    for b in batches:
                        np.ascontiguousarray(b[k], dtype=dt).tofile(f)
            self._on_disk[kind] += sum(len(b[next(iter(fields))]) for b in batches)
        self._ops, self._outs, self._parts = [], [], []
        self._buffered = 0
        release_free_memory()

    def _read(self, kind: str, key: str, start: int = 0, count: int = -1) -> np.ndarray:
        dt = np.dtype(dict(_KINDS)[kind][key])
        return np.fromfile(self._path(kind, key), dtype=dt, count=count,
                           offset=start * dt.itemsize)

    def batches(self, *fields: str):
        """The planned ops' columns ``fields`` (op fields), batch by batch: those on disk in
        pieces of a million ops, then the batches in memory. For readers that do not depend
        on the order (sets, counts)."""
        n = self._on_disk["op"]
        for a in range(0, n, 1 << 20):
            yield {k: self._read("op", k, a, min(1 << 20, n - a)) for k in fields}
        for b in self._ops:
            yield {k: b[k] for k in fields}

    def release(self) -> None:
        """Drop the finalized arrays (after execution). :meth:`position` stays usable as long
        as the directory the ops were sorted into exists (ops sorted in memory: always)."""
        self._final = ()
        self.close()

    def close(self) -> None:
        """Remove the planned ops' files on disk, if any (at once, rather than when the stream
        is collected: generation calls it on success and on error)."""
        if self._dir is not None:
            self._cleanup()
            self._dir = None

    def position(self, idx: np.ndarray) -> np.ndarray:
        """Sorted position of ops given by insertion index (after :meth:`finalize`); -1 for
        ops dropped at the horizon."""
        idx = np.asarray(idx, dtype=np.int64)
        if isinstance(self._inv, str):  # on disk (ops sorted out of core)
            if not os.path.exists(self._inv):
                raise RuntimeError("the ops' positions were removed with their directory")
            inv = np.load(self._inv, mmap_mode="r")
            out = np.array(inv[idx])
            del inv
            return out
        return self._inv[idx]

    def finalize(self, horizon: int | None = None, spill: str | None = None):
        """Concatenate and sort by time (stable: insertion order breaks ties).

        Returns ``(ops, outs, parts)``, all in time order: the outputs (participants) of op i
        follow those of op i-1; a CoinJoin's ``amount`` becomes ``parts["denom"]``. ``link``
        is remapped to sorted positions; a link must point to an earlier op.

        ``horizon`` (a timestamp) ends the observation window: ops at or after it are dropped
        (:meth:`position` gives -1 for them). Every op depends only on earlier ops, so what
        is kept is causally complete; funds an op past the horizon would have moved simply
        stay where they are (laundering still under way when the ledger snapshot is taken).

        When the planned ops went to disk (more than :data:`SPILL_BYTES`) and ``spill`` (a
        directory) is given, they are put in time order out of core, one column at a time,
        into ``.npy`` files in ``spill`` (:meth:`_finalize_on_disk`), and a
        :class:`SortedOps` describing them is returned instead of the three dicts; the
        values are the same.
        """
        if self._final == ():
            raise RuntimeError("the ops were released after execution")
        if self._final is not None:
            return self._final
        if self._on_disk["op"]:
            if spill is not None:
                self._final = self._finalize_on_disk(horizon, spill)
                return self._final
            self._flush()  # no directory to sort into: everything back in memory, one batch
            self._ops = [{k: self._read("op", k) for k in _OP_FIELDS}]
            self._outs = [{k: self._read("out", k) for k in _OUT_FIELDS}]
            self._parts = [{k: self._read("part", k) for k in _PART_FIELDS}]
            self.close()
            self._on_disk = {"op": 0, "out": 0, "part": 0}
        if self.n == 0:
            ops = {k: np.zeros(0, dt) for k, dt in _OP_FIELDS.items() if k != "amount"}
            parts = {k: np.zeros(0, dt) for k, dt in _PART_FIELDS.items()}
            parts["denom"] = np.zeros(0, np.int64)
            return ops, {k: np.zeros(0, dt) for k, dt in _OUT_FIELDS.items()}, parts
        ops = {}
        # Concatenate field by field, freeing the batches as we go and handing their memory
        # back at once: the peak is then the op arrays plus one field, not twice the arrays.
        for k in _OP_FIELDS:
            ops[k] = np.concatenate([b.pop(k) for b in self._ops])
            release_free_memory()
        outs, parts = {}, {}
        for k in _OUT_FIELDS:
            outs[k] = np.concatenate([b.pop(k) for b in self._outs])
            release_free_memory()
        for k in _PART_FIELDS:
            parts[k] = np.concatenate([b.pop(k) for b in self._parts])
        self._ops, self._outs, self._parts = [], [], []
        order = _time_order(ops["t"])
        inv = np.empty(len(order), np.int32)
        inv[order] = np.arange(len(order), dtype=np.int32)
        self._inv = inv
        # outputs and participants follow their ops into time order, so the kernel walks
        # them with a running offset (no per-op start arrays)
        for k in list(outs):
            outs[k] = _in_order(outs.pop(k), ops["out_count"], order)
            release_free_memory()
        for k in list(parts):
            parts[k] = _in_order(parts.pop(k), ops["part_count"], order)
        for k in list(ops):
            ops[k] = ops[k][order]
            release_free_memory()
        if horizon is not None:
            keep = int(np.searchsorted(ops["t"], horizon, side="left"))
            if keep < len(order):
                n_out = int(ops["out_count"][:keep].sum())
                n_part = int(ops["part_count"][:keep].sum())
                # one column at a time, so that the peak is one column more, not twice all
                for cols, n in ((ops, keep), (outs, n_out), (parts, n_part)):
                    for k in list(cols):
                        cols[k] = cols[k][:n].copy()
                        release_free_memory()
                inv[inv >= keep] = -1
                order = order[:keep]
                release_free_memory()
        # only CoinJoin ops use ``amount`` (the round's denomination): it moves to their
        # participants' rows, sparing a column over every op
        parts["denom"] = np.repeat(ops.pop("amount"), ops["part_count"])
        _remap_links(ops["link"], inv)
        self._final = (ops, outs, parts)
        release_free_memory()
        return self._final

    def _finalize_on_disk(self, horizon, spill: str) -> SortedOps:
        """:meth:`finalize` out of core: the same columns in the same time order, written to
        ``spill`` one at a time (``op_KEY.npy``, ``out_KEY.npy``, ``part_KEY.npy``, and the
        columns of :data:`SPILLED_BY_NAME` as ``KEY.npy``). In memory at once: the order and
        its inverse (12 bytes per op), the counts of outputs or participants per op, and one
        column before and after ordering."""
        self._flush()
        n = self._on_disk["op"]
        t = self._read("op", "t")
        order = _time_order(t)
        ts = t[order]
        del t
        inv = np.empty(n, np.int32)
        inv[order] = np.arange(n, dtype=np.int32)
        keep = n if horizon is None else int(np.searchsorted(ts, horizon, side="left"))
        if keep < n:
            inv[inv >= keep] = -1
            order = order[:keep].copy()
        np.save(os.path.join(spill, "t.npy"), ts[:keep])
        del ts
        release_free_memory()

        def save(name, arr):
            np.save(os.path.join(spill, name + ".npy"), arr)

        for k in _OP_FIELDS:
            if k == "t":
                continue
            col = self._read("op", k)[order]
            if k == "link":
                _remap_links(col, inv)
            if k == "amount":
                # only CoinJoin ops use it: it moves to their participants' rows
                col = np.repeat(col, self._read("op", "part_count")[order])
                save("part_denom", col)
            else:
                save(k if k in SPILLED_BY_NAME else "op_" + k, col)
            del col
            release_free_memory()
        # the inverse is read for a few announced ops only (:meth:`position`): it waits on
        # disk
        self._inv = os.path.join(spill, "inverse_order.npy")
        np.save(self._inv, inv)
        del inv
        release_free_memory()
        n_rows = {}
        for kind, fields, count_key in (("out", _OUT_FIELDS, "out_count"),
                                        ("part", _PART_FIELDS, "part_count")):
            raw = self._read("op", count_key)  # insertion order, as the rows are
            for k in fields:
                col = _in_order(self._read(kind, k), raw, order)
                n_rows[kind] = len(col)
                save(f"{kind}_{k}", col)
                del col
                release_free_memory()
            del raw
        self.close()
        release_free_memory()
        return SortedOps(spill, keep, n_rows["out"], n_rows["part"])


class SortedOps:
    """Ops in time order on disk (what :meth:`OpStream.finalize` returns when the planned
    ops went to disk): ``n_ops`` ops with ``n_outs`` output rows and ``n_parts`` participant
    rows, one ``.npy`` file per column in ``spill``."""

    def __init__(self, spill: str, n_ops: int, n_outs: int, n_parts: int):
        self.spill, self.n_ops, self.n_outs, self.n_parts = spill, n_ops, n_outs, n_parts

    def path(self, kind: str, key: str) -> str:
        name = key if kind == "op" and key in SPILLED_BY_NAME else f"{kind}_{key}"
        return os.path.join(self.spill, name + ".npy")

    def column(self, kind: str, key: str) -> np.ndarray:
        """A whole column."""
        return np.load(self.path(kind, key))

    def rows(self, kind: str, key: str, a: int, b: int) -> np.ndarray:
        """Rows ``a:b`` of a column (read through a mapping that is closed right after)."""
        m = np.load(self.path(kind, key), mmap_mode="r")
        out = np.array(m[a:b])
        del m
        return out
