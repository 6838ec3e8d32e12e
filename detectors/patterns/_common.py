"""Helpers shared by the pattern, mixer and bridge detectors (vectorised joins, validation).

Nothing here is a detector. Every function works on the columns of an
:class:`~launderbench.simulator.dataset.ObservableView` and returns plain numpy arrays.
"""

from __future__ import annotations

import numpy as np

from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind

# ----------------------------------------------------------------------------- validation


def check_number(name: str, value, *, lo=None, hi=None, lo_open=False, integer=False):
    """Raise :class:`ConfigError` unless ``value`` is a real number in the given range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if integer and int(value) != value:
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if not np.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ConfigError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise ConfigError(f"{name} must be <= {hi}, got {value!r}")
    return value


def check_choice(name: str, value, choices):
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def service_kinds(name: str, value) -> np.ndarray:
    """A tuple of ServiceKind names or codes -> int array of codes."""
    if value is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(value, (str, int, ServiceKind)):
        value = (value,)
    out = []
    for v in value:
        if isinstance(v, str):
            try:
                out.append(int(ServiceKind[v.upper()]))
            except KeyError:
                raise ConfigError(f"{name}: unknown service kind {v!r}") from None
        else:
            try:
                out.append(int(ServiceKind(int(v))))
            except (ValueError, TypeError):
                raise ConfigError(f"{name}: unknown service kind {v!r}") from None
    return np.asarray(out, dtype=np.int64)


# ----------------------------------------------------------------------------- scoring


def saturate(x, k) -> np.ndarray:
    """``x / (x + k)``: 0 at 0, 0.5 at the threshold ``k``, towards 1 above it."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x / (x + float(k)), 0.0)


def scatter_max(n: int, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
    """``out[i] = max(val[idx == i])`` (0 where nothing lands), float64 of shape (n,)."""
    out = np.zeros(n, dtype=np.float64)
    if len(idx):
        np.maximum.at(out, np.asarray(idx, dtype=np.int64), np.asarray(val, dtype=np.float64))
    return out


# ----------------------------------------------------------------------------- joins


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based; faster than hash-based ``np.unique`` on int64)."""
    x = np.sort(np.asarray(x))
    if len(x) == 0:
        return x
    return x[np.r_[True, x[1:] != x[:-1]]]


def group_ranges(sorted_keys: np.ndarray, query: np.ndarray):
    """For each query key, the [start, stop) range of equal keys in ``sorted_keys``."""
    return (np.searchsorted(sorted_keys, query, "left"),
            np.searchsorted(sorted_keys, query, "right"))


def expand_ranges(start: np.ndarray, stop: np.ndarray):
    """Flatten ranges: returns (owner index, position) for every element of every range."""
    start = np.asarray(start, dtype=np.int64)
    cnt = np.maximum(np.asarray(stop, dtype=np.int64) - start, 0)
    total = int(cnt.sum())
    if total == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy()
    owner = np.repeat(np.arange(len(start), dtype=np.int64), cnt)
    offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return owner, start[owner] + offs


def equi_join(left_keys: np.ndarray, right_keys: np.ndarray):
    """All index pairs (i, j) with ``left_keys[i] == right_keys[j]`` (int64 keys)."""
    left_keys = np.asarray(left_keys, dtype=np.int64)
    right_keys = np.asarray(right_keys, dtype=np.int64)
    order = np.argsort(right_keys, kind="stable")
    lo, hi = group_ranges(right_keys[order], left_keys)
    i, pos = expand_ranges(lo, hi)
    return i, order[pos]


def pair_key(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return np.asarray(a, dtype=np.int64) * np.int64(max(n, 1)) + np.asarray(b, dtype=np.int64)


# ----------------------------------------------------------------------------- ledger views


def tx_time(view) -> np.ndarray:
    return np.asarray(view.transactions["timestamp"], dtype=np.int64)


def outputs_sorted_by_tx(view):
    """(order, start, count): output rows grouped by transaction (stable)."""
    o_tx = np.asarray(view.outputs["tx_id"], dtype=np.int64)
    n_tx = view.n_transactions
    if len(o_tx) and np.any(np.diff(o_tx) < 0):
        order = np.argsort(o_tx, kind="stable")
    else:
        order = np.arange(len(o_tx), dtype=np.int64)
    s = o_tx[order]
    start = np.searchsorted(s, np.arange(n_tx), "left")
    stop = np.searchsorted(s, np.arange(n_tx), "right")
    return order, start, stop - start


def first_input_row(view) -> np.ndarray:
    """Per transaction, the row of its first input leg (-1 if none)."""
    ins = view.inputs
    out = np.full(view.n_transactions, -1, dtype=np.int64)
    if ins.num_rows:
        tx = np.asarray(ins["tx_id"], dtype=np.int64)
        rows = np.arange(ins.num_rows, dtype=np.int64)
        # reversed assignment leaves the smallest row per tx
        out[tx[::-1]] = rows[::-1]
    return out


def spender_tx(view) -> np.ndarray:
    """Per output, the transaction that spends it (-1 if unspent or account-model)."""
    ins = view.inputs
    out = np.full(view.outputs.num_rows, -1, dtype=np.int64)
    so = np.asarray(ins["spent_output_id"], dtype=np.int64)
    ok = so >= 0
    out[so[ok]] = np.asarray(ins["tx_id"], dtype=np.int64)[ok]
    return out


def tx_has_input_in(view, addr_mask: np.ndarray) -> np.ndarray:
    """Per transaction: does any input address satisfy ``addr_mask``?"""
    ins = view.inputs
    out = np.zeros(view.n_transactions, dtype=bool)
    if ins.num_rows:
        hit = addr_mask[np.asarray(ins["address_id"], dtype=np.int64)]
        out[np.asarray(ins["tx_id"], dtype=np.int64)[hit]] = True
    return out


def account_tx(view) -> np.ndarray:
    if view.n_transactions == 0:
        return np.zeros(0, dtype=bool)
    return ~view.is_utxo_tx()


def address_service(view) -> np.ndarray:
    return np.asarray(view.addresses["service_kind"], dtype=np.int64)


def asset_id_of(view, symbol: str) -> int:
    syms = list(view.assets["symbol"])
    if symbol not in syms:
        raise ConfigError(f"unknown asset {symbol!r} (known: {', '.join(map(str, syms))})")
    return int(view.assets["asset_id"][syms.index(symbol)])


def empty_links() -> dict:
    return {"in_tx_id": np.zeros(0, np.int64), "out_tx_id": np.zeros(0, np.int64),
            "score": np.zeros(0, np.float64)}


def make_links(in_tx, out_tx, score) -> dict:
    """Links with duplicate (in, out) pairs merged (max score), sorted by (in, out)."""
    in_tx = np.asarray(in_tx, dtype=np.int64)
    out_tx = np.asarray(out_tx, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    if len(in_tx) == 0:
        return empty_links()
    order = np.lexsort((-score, out_tx, in_tx))
    in_tx, out_tx, score = in_tx[order], out_tx[order], score[order]
    first = np.ones(len(in_tx), dtype=bool)
    first[1:] = (in_tx[1:] != in_tx[:-1]) | (out_tx[1:] != out_tx[:-1])
    return {"in_tx_id": in_tx[first], "out_tx_id": out_tx[first], "score": score[first]}
