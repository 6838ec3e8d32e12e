"""FlowScope: dense, balanced multi-layer money flows (sources -> middle -> sinks).

Li, Liu, Li, Han, Shi, Hooi, Huang & Cheng, "FlowScope: Spotting Money Laundering Based on
Graphs", AAAI 2020 (reference implementation: ``BGT-M/spartan2``, ``spartan.model.flowscope``;
read, not copied). Laundering accounts in the middle of a flow receive a lot and pass almost
all of it on; FlowScope looks for a set ``S = S_X ∪ S_M ∪ S_Z`` of a k-partite graph where the
middle nodes' inflow ``f_j`` (from ``S_X``) and outflow ``q_j`` (to ``S_Z``) are both large and
nearly equal. The objective is

    g(S) = [ sum_{j in S_M} min(f_j, q_j) - alpha * sum_{j in S_M} |f_j - q_j| ] / |S|

with ``|S|`` counting the nodes of all layers. It is maximised by greedy peeling with one
min-tree per layer: a middle node's priority is its own term ``min(f,q) - alpha |f - q|``; a
source's or sink's priority is ``(1 + alpha) *`` its remaining weight into (out of) the middle
layer (an upper bound of what its removal costs). The arg-min over the layers is deleted (on a
tie the source layer first, then the sink layer, then the middle layer; within a layer the
lowest index), its neighbours are updated, and ``g`` is evaluated after every deletion; the
set after the latest deletion with the highest ``g`` is kept (``>=``, so a tie keeps the
smaller set; the full set before any deletion is not a candidate). Peeling stops as soon as
one layer is empty. O(|E| log |V|).

Layers (our construction, since a ledger has no given partition): every address can play every
role, so the three layers are copies of the address set taken from the one transfer graph:

* ``M`` (middle): addresses with both incoming and outgoing transfers (self-loops excluded);
* ``X`` (sources): every address that sends to an ``M`` address; layer-1 edges ``X -> M`` are
  the transfers into ``M``, weighted by summed USD value;
* ``Z`` (sinks): every address that receives from an ``M`` address; layer-2 edges ``M -> Z``
  are the transfers out of ``M``.

An address can thus sit in several layers of one block (its copies are separate nodes). A hub
that only receives is never a middle node (at most a sink); one that receives far more than it
sends has a very negative middle priority and is peeled first. The layers are built once.
After each block, every edge that touches one of its nodes is deleted (a layer-1 edge whose
source or middle node is in the block, a layer-2 edge whose middle or sink node is in it) and
the search is repeated on the remaining edges, ``k`` times, as the reference does.
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


@njit(cache=True)
def _mid_priority(f, q, alpha):
    return min(f, q) - alpha * abs(f - q)


def _flowscope_peel(e1x, e1m, w1, e2m, e2z, w2, nx, nm, nz, alpha, x_ptr, x_edges, m1_ptr,
                    m1_edges, m2_ptr, m2_edges, z_ptr, z_edges):
    """Greedy peeling of the reference. Returns (removal order, best number removed, best g).

    Node ids in the order: source ``i`` -> ``i``, middle ``j`` -> ``nx + j``,
    sink ``k`` -> ``nx + nm + k``. Takes the layer edges and their adjacency
    (:func:`~launderbench.detectors.graph._common.csr_from_edges`, edge ids per node) and runs
    :func:`_peel_kernel` on the neighbours and weights gathered per node.
    """
    return _peel_kernel(nx, nm, nz, float(alpha),
                        x_ptr, e1m[x_edges], w1[x_edges], m1_ptr, e1x[m1_edges], w1[m1_edges],
                        m2_ptr, e2z[m2_edges], w2[m2_edges], z_ptr, e2m[z_edges], w2[z_edges])


@njit(cache=True)
def _peel_kernel(nx, nm, nz, alpha, x_ptr, x_m, x_w, m1_ptr, m1_x, m1_w, m2_ptr, m2_z, m2_w,
                 z_ptr, z_m, z_w):
    """The peeling loop on adjacency lists that hold each node's neighbours and edge weights
    in edge order (``x_m[x_ptr[i]:x_ptr[i + 1]]`` are the middle nodes source ``i`` pays, with
    weights ``x_w[...]``; ``m1_*``: a middle node's sources, ``m2_*``: its sinks, ``z_*``: a
    sink's middle nodes). Reading neighbours and weights in place, instead of through edge ids,
    keeps the loop on sequential memory; sums and updates run in the same order as over the
    edge list, so the result is the same to the bit.

    The source and sink trees hold the remaining weights; they are compared with the middle
    tree after multiplying by ``1 + alpha``.
    """
    f = np.zeros(nm)
    q = np.zeros(nm)
    sx = np.zeros(nx)
    sz = np.zeros(nz)
    for i in range(nx):
        for p in range(x_ptr[i], x_ptr[i + 1]):
            sx[i] += x_w[p]
    for j in range(nm):
        for p in range(m1_ptr[j], m1_ptr[j + 1]):
            f[j] += m1_w[p]
        for p in range(m2_ptr[j], m2_ptr[j + 1]):
            q[j] += m2_w[p]
    for z in range(nz):
        for p in range(z_ptr[z], z_ptr[z + 1]):
            sz[z] += z_w[p]
    pm = np.empty(nm)
    num = 0.0
    for j in range(nm):
        pm[j] = _mid_priority(f[j], q[j], alpha)
        num += pm[j]
    alive_x = np.ones(nx, dtype=np.bool_)
    alive_m = np.ones(nm, dtype=np.bool_)
    alive_z = np.ones(nz, dtype=np.bool_)
    tx = tree_build(sx)
    tm = tree_build(pm)
    tz = tree_build(sz)
    left_x, left_m, left_z = nx, nm, nz
    best_g = -np.inf
    best_k = 0
    size = nx + nm + nz
    order = np.empty(size, dtype=np.int64)
    k = 0
    while left_x > 0 and left_m > 0 and left_z > 0:
        # the reference's order on ties: sources, then sinks, then middle nodes (strict <)
        layer = 0
        low = tx[1] * (1.0 + alpha)
        if tz[1] * (1.0 + alpha) < low:
            layer = 2
            low = tz[1] * (1.0 + alpha)
        if tm[1] < low:
            layer = 1
        if layer == 1:
            j = tree_argmin(tm)
            num -= pm[j]
            alive_m[j] = False
            left_m -= 1
            tree_update(tm, j, np.inf)
            order[k] = nx + j
            for p in range(m1_ptr[j], m1_ptr[j + 1]):
                i = m1_x[p]
                if alive_x[i]:
                    sx[i] -= m1_w[p]
                    tree_update(tx, i, sx[i])
            for p in range(m2_ptr[j], m2_ptr[j + 1]):
                z = m2_z[p]
                if alive_z[z]:
                    sz[z] -= m2_w[p]
                    tree_update(tz, z, sz[z])
        elif layer == 0:
            i = tree_argmin(tx)
            alive_x[i] = False
            left_x -= 1
            tree_update(tx, i, np.inf)
            order[k] = i
            for p in range(x_ptr[i], x_ptr[i + 1]):
                j = x_m[p]
                if alive_m[j]:
                    f[j] -= x_w[p]
                    new = _mid_priority(f[j], q[j], alpha)
                    num += new - pm[j]
                    pm[j] = new
                    tree_update(tm, j, new)
        else:
            z = tree_argmin(tz)
            alive_z[z] = False
            left_z -= 1
            tree_update(tz, z, np.inf)
            order[k] = nx + nm + z
            for p in range(z_ptr[z], z_ptr[z + 1]):
                j = z_m[p]
                if alive_m[j]:
                    q[j] -= z_w[p]
                    new = _mid_priority(f[j], q[j], alpha)
                    num += new - pm[j]
                    pm[j] = new
                    tree_update(tm, j, new)
        k += 1
        left = left_x + left_m + left_z
        g = num / left if left > 0 else 0.0
        if g >= best_g:
            best_g = g
            best_k = k
    return order[:k], best_k, best_g


class _Adjacency:
    """Edge ids grouped by one endpoint (stable, so in edge order within a node), built once;
    :meth:`alive` gives the lists of the edges still alive, in the same order as a fresh
    :func:`~launderbench.detectors.graph._common.csr_from_edges` over them."""

    def __init__(self, owner, n):
        self.n = int(n)
        self.ptr, self.edges = csr_from_edges(owner, None, n)
        self.owner = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.ptr))

    def alive(self, nbr, w, alive):
        """``(indptr, neighbour, weight)`` over the edges flagged in ``alive``."""
        keep = alive[self.edges]
        e = self.edges[keep]
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.owner[keep], minlength=self.n), out=ptr[1:])
        return ptr, nbr[e], w[e]


def flowscope_layers(src, dst, weight, n):
    """The three-layer graph of a transfer graph (see the module docstring).

    Returns ``(x_ids, m_ids, z_ids, e1x, e1m, w1, e2m, e2z, w2)``: the address ids of each
    layer and the layer-1 (X -> M) and layer-2 (M -> Z) edges in layer-local ids.
    """
    s, d, w = aggregate_pairs(src, dst, weight, n)
    pos = w > 0
    s, d, w = s[pos], d[pos], w[pos]
    has_in = np.zeros(n, dtype=bool)
    has_in[d] = True
    has_out = np.zeros(n, dtype=bool)
    has_out[s] = True
    mid = has_in & has_out
    l1 = mid[d]  # transfers into the middle layer
    l2 = mid[s]  # transfers out of it
    m_ids = np.flatnonzero(mid)
    m_of = np.full(n, -1, dtype=np.int64)
    m_of[m_ids] = np.arange(len(m_ids))
    x_ids, e1x = dense_relabel(s[l1], n)
    z_ids, e2z = dense_relabel(d[l2], n)
    return x_ids, m_ids, z_ids, e1x, m_of[d[l1]], w[l1], m_of[s[l2]], e2z, w[l2]


def flowscope_blocks(src, dst, weight, n, *, alpha=4.0, n_blocks=3):
    """Find ``n_blocks`` X -> M -> Z flows, the densest balanced one first.

    Parameters
    ----------
    src, dst : int arrays of shape (E,)
        Transfers between address ids ``0..n-1``; equal pairs are summed, self-loops dropped.
    weight : float array of shape (E,)
        Value moved (USD).
    n : int
    alpha : float, default 4.0
        Penalty on the in/out imbalance of middle nodes (the reference default).
    n_blocks : int
        Blocks to search for (the reference's ``k``). The search ends early when no edge is
        left.

    Returns
    -------
    list of dict with ``x``, ``m``, ``z`` (address ids per layer) and ``score`` (g(S)); as in
    the reference, a block's score may be zero or negative (no dense balanced flow was left).
    """
    if alpha < 0:
        raise ConfigError(f"alpha must be >= 0, got {alpha}")
    if n_blocks < 1:
        raise ConfigError(f"n_blocks must be >= 1, got {n_blocks}")
    x_ids, m_ids, z_ids, e1x, e1m, w1, e2m, e2z, w2 = flowscope_layers(src, dst, weight, n)
    nx, nm, nz = len(x_ids), len(m_ids), len(z_ids)
    alive1 = np.ones(len(e1x), dtype=bool)
    alive2 = np.ones(len(e2m), dtype=bool)
    # adjacency of every layer edge, built once; each block keeps the slots of the edges left
    adj = [(_Adjacency(e1x, nx), e1m, w1, alive1), (_Adjacency(e1m, nm), e1x, w1, alive1),
           (_Adjacency(e2m, nm), e2z, w2, alive2), (_Adjacency(e2z, nz), e2m, w2, alive2)]
    blocks = []
    for _ in range(n_blocks):
        if nm == 0 or not (alive1.any() or alive2.any()):
            break
        lists = [x for a, nbr, w, alive in adj for x in a.alive(nbr, w, alive)]
        order, best_k, best_g = _peel_kernel(nx, nm, nz, float(alpha), *lists)
        keep = np.ones(nx + nm + nz, dtype=bool)
        keep[order[:best_k]] = False
        in_x, in_m, in_z = keep[:nx], keep[nx:nx + nm], keep[nx + nm:]
        blocks.append({"x": x_ids[in_x], "m": m_ids[in_m], "z": z_ids[in_z],
                       "score": float(best_g)})
        # the reference's del_block: every edge touching a node of the block goes
        alive1 &= ~(in_x[e1x] | in_m[e1m])
        alive2 &= ~(in_m[e2m] | in_z[e2z])
    return blocks
