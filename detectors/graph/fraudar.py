"""Fraudar: camouflage-resistant dense-block detection on the bipartite who-pays-whom matrix.

Hooi, Song, Beutel, Shah, Shin & Faloutsos, "FRAUDAR: Bounding Graph Fraud in the Face of
Camouflage", KDD 2016. Rows are senders, columns are receivers (an address that both sends and
receives appears once on each side). Each unique ``(sender, receiver)`` pair is one edge of the
binary matrix; an edge into column ``j`` weighs ``c_j = 1 / log(deg_j + 5)`` (column-weighted
suspiciousness, which down-weights edges to popular receivers and so resists camouflage: a
fraudster paying honest, popular addresses gains little). With node priors ``a_i`` (zero by
default) the block score is ``f(S) = sum_{i in S} a_i + sum_{(i,j) in E(S)} c_ij`` and the
density ``g(S) = f(S) / |S|``.

The greedy algorithm removes, one at a time, the node whose removal lowers ``f`` the least (its
prior plus the weight of its remaining edges), using one min-tree per side, and keeps the
densest intermediate set: a 2-approximation of the densest block in O(|E| log |V|). As in the
reference code (``greedy.py``: ``fastGreedyDecreasing``), a row is removed before a column on a
tie, the lowest index first within a side, the full set is a candidate, a later set replaces
the best only when strictly denser (``>``), and peeling stops as soon as one side is empty.
Several blocks are found by deleting the edges inside each found block and running again on
the remaining matrix, column weights recomputed (the reference's ``detectMultiple``). The
searches after the first peel again only the connected parts that held the last block and
merge their order into the rest (:mod:`~launderbench.detectors.graph.peeling`; the same blocks
to the bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from launderbench.simulator.errors import ConfigError

from ._common import (
    aggregate_pairs,
    csr_from_edges,
    dense_relabel,
    tree_argmin,
    tree_build,
    tree_update,
)
from .peeling import PartGraph, RemovalOrder, sequential_sum, spans

COLUMN_WEIGHTS = ("log", "none")


@njit(cache=True)
def _fraudar_sequence(n_rows, n_cols, prior_r, prior_c, r_ptr, r_col, r_w, c_ptr, c_row, c_w):
    """The reference's greedy loop, run until every node is removed, with what replaying it
    needs (see :mod:`~launderbench.detectors.graph.peeling`).

    ``r_col[r_ptr[i]:r_ptr[i + 1]]`` are the columns of row ``i`` with the edge weights
    ``r_w[...]``, in edge order; ``c_row`` and ``c_w`` the same per column. A node's priority
    is its prior plus the weight of its remaining edges (what removing it takes from ``f``).
    Returns ``(order, key, dptr, dval)``: the node removed at each step (row ``i`` as ``i``,
    column ``j`` as ``n_rows + j``), its priority then, and the change to ``f`` it made
    (``dval[dptr[k]:dptr[k + 1]]``, one value per step).
    """
    pr = prior_r.copy()
    pc = prior_c.copy()
    for i in range(n_rows):
        for p in range(r_ptr[i], r_ptr[i + 1]):
            pr[i] += r_w[p]
    for j in range(n_cols):
        for p in range(c_ptr[j], c_ptr[j + 1]):
            pc[j] += c_w[p]
    alive_r = np.ones(n_rows, dtype=np.bool_)
    alive_c = np.ones(n_cols, dtype=np.bool_)
    tr = tree_build(pr)
    tc = tree_build(pc)
    size = n_rows + n_cols
    order = np.empty(size, dtype=np.int64)
    key = np.empty(size)
    dval = np.empty(size)
    left_r, left_c = n_rows, n_cols
    for k in range(size):
        if tr[1] <= tc[1]:  # a row on a tie, as the reference
            i = tree_argmin(tr)
            key[k] = pr[i]
            dval[k] = -pr[i]  # f - pr[i], to the bit
            alive_r[i] = False
            left_r -= 1
            tree_update(tr, i, np.inf)
            order[k] = i
            for p in range(r_ptr[i], r_ptr[i + 1]):
                j = r_col[p]
                if alive_c[j]:
                    pc[j] -= r_w[p]
                    tree_update(tc, j, pc[j])
        else:
            j = tree_argmin(tc)
            key[k] = pc[j]
            dval[k] = -pc[j]
            alive_c[j] = False
            left_c -= 1
            tree_update(tc, j, np.inf)
            order[k] = n_rows + j
            for p in range(c_ptr[j], c_ptr[j + 1]):
                i = c_row[p]
                if alive_r[i]:
                    pr[i] -= c_w[p]
                    tree_update(tr, i, pr[i])
    return order, key, np.arange(size + 1), dval


def fraudar_blocks(src, dst, n, *, n_blocks=3, column_weights="log", prior=None):
    """Find up to ``n_blocks`` dense sender->receiver blocks.

    Parameters
    ----------
    src, dst : int arrays of shape (E,)
        Directed edges between node ids ``0..n-1``; duplicates are merged (binary matrix) and
        self-loops dropped.
    n : int
    n_blocks : int
        Blocks to extract; after each, the edges inside the block are deleted.
    column_weights : {"log", "none"}
        ``log`` is Fraudar's ``1/log(deg + 5)``; ``none`` weighs every edge 1 (plain average
        degree density, the paper's non-camouflage-resistant baseline).
    prior : float array of shape (n,), optional
        Node suspiciousness priors ``a_i``, applied to both the sender and receiver copy;
        finite, with a finite total (``ConfigError`` otherwise).

    Returns
    -------
    list of dict with ``rows`` (sender ids), ``cols`` (receiver ids) and ``score`` (g(S)).
    """
    if column_weights not in COLUMN_WEIGHTS:
        raise ConfigError(f"column_weights must be one of {', '.join(COLUMN_WEIGHTS)}")
    if n_blocks < 1:
        raise ConfigError(f"n_blocks must be >= 1, got {n_blocks}")
    s, d, _ = aggregate_pairs(src, dst, np.ones(len(src)), n)
    prior = np.zeros(n) if prior is None else np.asarray(prior, dtype=np.float64)
    if prior.shape != (n,):
        raise ConfigError("prior must have shape (n_addresses,)")
    with np.errstate(over="ignore"):
        total = np.abs(prior).sum() + len(s)
    if not np.isfinite(total):  # NaN or infinite priors, or too large a total
        # every priority (prior plus edge weights below 1) stays finite, so that an empty
        # side's tree (infinite) is never taken for a node
        raise ConfigError("prior must be finite, and its total too")
    # nodes: address a as a sender (row) is a, as a receiver (column) n + a
    graph = PartGraph(s, n + d, 2 * n)
    bounds = np.array([0, n, 2 * n])
    factor = np.ones(2)
    rank = np.array([0, 1])  # a row before a column on a tie
    removal = RemovalOrder(bounds, factor, rank)
    redo = None  # nodes whose removal order must be found (again); None: all
    blocks = []
    for b in range(n_blocks):
        alive = graph.alive  # the edges left (changed in place after each block)
        if not alive.any():
            break
        if column_weights == "log":
            deg = np.bincount(d[alive], minlength=n).astype(np.float64)
            w = (1.0 / np.log(deg + 5.0))[d]
        else:
            w = np.ones(len(d))
        # f of the whole matrix left, summed as the reference does
        live_rows = np.flatnonzero(np.bincount(s[alive], minlength=n))
        live_cols = np.flatnonzero(np.bincount(d[alive], minlength=n))
        f = sequential_sum(w[alive], sequential_sum(prior[live_rows])
                           + sequential_sum(prior[live_cols]))
        counts = np.array([len(live_rows), len(live_cols)])
        # the removal order of the parts to search, merged into the order of the others
        edges = np.flatnonzero(alive) if redo is None else graph.edges_of(redo)
        r_ids, rows = dense_relabel(s[edges], n)
        c_ids, cols = dense_relabel(d[edges], n)
        nr, nc = len(r_ids), len(c_ids)
        r_ptr, r_edges = csr_from_edges(rows, None, nr)
        c_ptr, c_edges = csr_from_edges(cols, None, nc)
        we = w[edges]
        order, key, dptr, dval = _fraudar_sequence(
            nr, nc, prior[r_ids], prior[c_ids], r_ptr, cols[r_edges], we[r_edges], c_ptr,
            rows[c_edges], we[c_edges])
        order = np.concatenate([r_ids, n + c_ids])[order]
        if redo is None:
            removal.first([(order, key, dptr, dval)])
        else:
            removal.replace(redo, order, key, dptr, dval)
        best_k, best_g = removal.best(f, counts, True, True)
        block = removal.after(best_k)
        br, bc = block[block < n], block[block >= n] - n
        if best_g <= 0 or len(br) == 0 or len(bc) == 0:
            break
        blocks.append({"rows": br, "cols": bc, "score": float(best_g)})
        if b + 1 < n_blocks:
            # the next search redoes only the connected parts that held the block
            redo = graph.parts_of(block)
        # the reference's detectMultiple: the edges inside the block go
        inside = graph.edge[spans(graph.ptr, br)]
        inside = inside[np.isin(graph.head[inside], n + bc)]
        graph.alive[inside] = False
    return blocks
