"""Shared helpers of the graph detectors: the address transfer graph and a numba min-tree.

The address transfer graph is built from :meth:`ObservableView.transfers` (one row per
input-address / output pair, value split in proportion to the input amounts). Rows with the
same ``(src, dst)`` are summed; self-loops (UTXO change paid back to an input address) are
dropped, because they say nothing about flows *between* parties and would make every address
with self-change look like a balanced pass-through.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.errors import ConfigError

WEIGHTS = ("usd", "amount", "count")


def edge_weights(tr: dict, weight: str) -> np.ndarray:
    """Per-transfer weight column: USD value, base-unit amount, or 1 per transfer."""
    if weight == "usd":
        return np.asarray(tr["usd"], dtype=np.float64)
    if weight == "amount":
        return np.asarray(tr["amount"], dtype=np.float64)
    if weight == "count":
        return np.ones(len(tr["src"]), dtype=np.float64)
    raise ConfigError(f"weight must be one of {', '.join(WEIGHTS)}, got {weight!r}")


def service_free_transfers(view, weight: str = "usd", exclude_services: bool = True):
    """``(src, dst, w)`` of :meth:`ObservableView.transfers`, optionally without the transfers
    that touch a publicly attributed service address."""
    tr = view.transfers()
    src, dst, w = tr["src"], tr["dst"], edge_weights(tr, weight)
    if exclude_services and len(src):
        svc = np.asarray(view.addresses["service_kind"]) != 0
        keep = ~(svc[src] | svc[dst])
        src, dst, w = src[keep], dst[keep], w[keep]
    return src, dst, w


def aggregate_pairs(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int,
                    drop_self_loops: bool = True):
    """Sum ``w`` over equal ``(src, dst)`` pairs; returns unique ``(src, dst, w)`` sorted by pair.

    Parameters
    ----------
    src, dst : int arrays of shape (E,)
        Endpoint address ids, ``0 <= id < n``.
    w : float array of shape (E,)
    n : int
        Number of addresses.
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w = np.asarray(w, dtype=np.float64)
    if drop_self_loops:
        keep = src != dst
        src, dst, w = src[keep], dst[keep], w[keep]
    if len(src) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0)
    key = src * np.int64(max(n, 1)) + dst
    uniq, inv = np.unique(key, return_inverse=True)
    ws = np.bincount(inv, weights=w, minlength=len(uniq))
    return uniq // max(n, 1), uniq % max(n, 1), ws


def seed_output_ids(view) -> np.ndarray:
    """Output ids of the announced hack transactions (``view.seeds``)."""
    seeds = np.asarray(view.seeds["tx_id"], dtype=np.int64)
    if len(seeds) == 0:
        return np.zeros(0, dtype=np.int64)
    if seeds.min() < 0 or seeds.max() >= view.n_transactions:
        raise ConfigError("view.seeds names a transaction id outside the ledger")
    is_seed = np.zeros(view.n_transactions, dtype=bool)
    is_seed[seeds] = True
    return np.flatnonzero(is_seed[view.outputs["tx_id"]]).astype(np.int64)


def output_usd(view, output_ids: np.ndarray) -> np.ndarray:
    """USD value of the given outputs at the assets' reference prices."""
    price = view.usd_per_base_unit()
    o = view.outputs
    return o["amount"][output_ids].astype(np.float64) * price[o["asset_id"][output_ids]]


def csr_from_edges(a: np.ndarray, b: np.ndarray, n: int):
    """CSR adjacency of node ids ``a`` (0..n-1): ``(indptr, edge_ids)`` with edges grouped by a
    (stable counting sort, O(E + n))."""
    return _counting_csr(np.asarray(a, dtype=np.int64), int(n))


@njit(cache=True)
def _counting_csr(a, n):
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(len(a)):
        indptr[a[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    order = np.empty(len(a), dtype=np.int64)
    for e in range(len(a)):
        order[fill[a[e]]] = e
        fill[a[e]] += 1
    return indptr, order


def dense_relabel(ids: np.ndarray, n: int):
    """``(unique_ids, labels)`` like ``np.unique(ids, return_inverse=True)`` for ids in
    ``0..n-1``, in O(len(ids) + n) without sorting."""
    ids = np.asarray(ids, dtype=np.int64)
    seen = np.zeros(n, dtype=bool)
    seen[ids] = True
    uniq = np.flatnonzero(seen)
    code = np.full(n, -1, dtype=np.int64)
    code[uniq] = np.arange(len(uniq))
    return uniq, code[ids]


# -- min-tree (segment tree) priority queue, as in the Fraudar / FlowScope reference code ----
# A complete binary tree over the leaf values; each inner node holds the min of its children.
# Updating one leaf costs O(log n); the arg-min is found by walking down from the root.


@njit(cache=True)
def tree_build(vals):
    size = 1
    while size < max(len(vals), 1):
        size *= 2
    tree = np.full(2 * size, np.inf)
    for i in range(len(vals)):
        tree[size + i] = vals[i]
    for i in range(size - 1, 0, -1):
        tree[i] = min(tree[2 * i], tree[2 * i + 1])
    return tree


@njit(cache=True)
def tree_update(tree, i, v):
    size = len(tree) // 2
    p = size + i
    tree[p] = v
    p //= 2
    while p >= 1:
        m = min(tree[2 * p], tree[2 * p + 1])
        if tree[p] == m:  # unchanged here, so unchanged above
            break
        tree[p] = m
        p //= 2


@njit(cache=True)
def tree_argmin(tree):
    size = len(tree) // 2
    p = 1
    while p < size:
        if tree[2 * p] <= tree[2 * p + 1]:
            p = 2 * p
        else:
            p = 2 * p + 1
    return p - size


def block_scores(view, blocks, sides):
    """Address and transaction scores from dense blocks.

    An address scores the best ``score`` of any block that holds it (on any side); a
    transaction scores the best block score among blocks that one of its transfers runs inside,
    i.e. with sender in ``block[a]`` and receiver in ``block[b]`` for a pair ``(a, b)`` of
    ``sides`` (e.g. ``[("rows", "cols")]``).
    """
    n = view.n_addresses
    addr = np.zeros(n)
    txs = np.zeros(view.n_transactions)
    if not blocks:
        return addr, txs
    tr = view.transfers()
    src, dst, tid = tr["src"], tr["dst"], tr["tx_id"]
    for b in blocks:
        members = unique_sorted(np.concatenate([b[k] for pair in sides for k in pair]))
        addr[members] = np.maximum(addr[members], b["score"])
        inside = np.zeros(len(src), dtype=bool)
        for a_key, b_key in sides:
            ma = np.zeros(n, dtype=bool)
            ma[b[a_key]] = True
            mb = np.zeros(n, dtype=bool)
            mb[b[b_key]] = True
            inside |= ma[src] & mb[dst] & (src != dst)
        t = tid[inside]
        txs[t] = np.maximum(txs[t], b["score"])
    return addr, txs
