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

The searches are computed part by part, with the same result to the bit
(:mod:`~launderbench.detectors.graph.peeling`): the first peels groups of whole connected parts
of at most :data:`GROUP_NODES` nodes (one larger part alone), whose trees fit in the cache, and
merges their orders; deleting a block's edges changes only the parts that held it, so the next
search peels those parts again and merges their order into the other parts' order from the
search before. On a ledger of 1e6 transactions, whose blocks sit in parts of a few thousand
nodes, the ten searches cost little more than the first.
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

#: nodes peeled together in the first search: whole connected parts, grouped up to this many
#: so that each peeling's trees stay in the cache, then merged (one part may be larger)
GROUP_NODES = 1 << 15


@njit(cache=True)
def _mid_priority(f, q, alpha):
    return min(f, q) - alpha * abs(f - q)


@njit(cache=True)
def _peel_sequence(nx, nm, nz, alpha, x_ptr, x_m, x_w, m1_ptr, m1_x, m1_w, m2_ptr, m2_z, m2_w,
                   z_ptr, z_m, z_w):
    """The reference's peeling loop, run until every node is removed, with what replaying it
    needs.

    Takes adjacency lists that hold each node's neighbours and edge weights in edge order
    (``x_m[x_ptr[i]:x_ptr[i + 1]]`` are the middle nodes source ``i`` pays, with weights
    ``x_w[...]``; ``m1_*``: a middle node's sources, ``m2_*``: its sinks, ``z_*``: a sink's
    middle nodes). Reading neighbours and weights in place, instead of through edge ids, keeps
    the loop on sequential memory; sums and updates run in the same order as over the edge
    list, so the result is the same to the bit.

    The source and sink trees hold the remaining weights; they are compared with the middle
    tree after multiplying by ``1 + alpha``. The loop does not stop when a layer is empty
    (:func:`~launderbench.detectors.graph.peeling.replay` does): the rest of the order is what
    a later search needs when this graph is one part of a larger one (see
    :mod:`~launderbench.detectors.graph.peeling`).

    Returns ``(order, key, dptr, dval, pm0)``: the node removed at each step (source ``i`` as
    ``i``, middle node ``j`` as ``nx + j``, sink ``k`` as ``nx + nm + k``), its priority when removed (the tree value, before the
    ``1 + alpha`` factor), the changes to the numerator of g that each removal made, in the
    order they were made (``dval[dptr[k]:dptr[k + 1]]`` for step ``k``), and the middle
    nodes' priorities before any removal.
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
    for j in range(nm):
        pm[j] = _mid_priority(f[j], q[j], alpha)
    pm0 = pm.copy()
    alive_x = np.ones(nx, dtype=np.bool_)
    alive_m = np.ones(nm, dtype=np.bool_)
    alive_z = np.ones(nz, dtype=np.bool_)
    tx = tree_build(sx)
    tm = tree_build(pm)
    tz = tree_build(sz)
    left_x, left_m, left_z = nx, nm, nz
    size = nx + nm + nz
    order = np.empty(size, dtype=np.int64)
    key = np.empty(size)
    dptr = np.zeros(size + 1, dtype=np.int64)
    dval = np.empty(nm + len(x_m) + len(z_m))
    nd = 0
    k = 0
    while left_x + left_m + left_z > 0:
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
            key[k] = tm[1]
            dval[nd] = -pm[j]  # num - pm[j], to the bit
            nd += 1
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
            key[k] = tx[1]
            alive_x[i] = False
            left_x -= 1
            tree_update(tx, i, np.inf)
            order[k] = i
            for p in range(x_ptr[i], x_ptr[i + 1]):
                j = x_m[p]
                if alive_m[j]:
                    f[j] -= x_w[p]
                    new = _mid_priority(f[j], q[j], alpha)
                    dval[nd] = new - pm[j]
                    nd += 1
                    pm[j] = new
                    tree_update(tm, j, new)
        else:
            z = tree_argmin(tz)
            key[k] = tz[1]
            alive_z[z] = False
            left_z -= 1
            tree_update(tz, z, np.inf)
            order[k] = nx + nm + z
            for p in range(z_ptr[z], z_ptr[z + 1]):
                j = z_m[p]
                if alive_m[j]:
                    q[j] -= z_w[p]
                    new = _mid_priority(f[j], q[j], alpha)
                    dval[nd] = new - pm[j]
                    nd += 1
                    pm[j] = new
                    tree_update(tm, j, new)
        k += 1
        dptr[k] = nd
    return order, key, dptr, dval[:nd], pm0


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
        Value moved (USD); pairs whose summed weight is not positive are dropped. The total,
        times ``1 + alpha``, must be finite (``ConfigError`` otherwise).
    n : int
    alpha : float, default 4.0
        Penalty on the in/out imbalance of middle nodes (the reference default); finite.
    n_blocks : int
        Blocks to search for (the reference's ``k``). The search ends early when no edge is
        left.

    Returns
    -------
    list of dict with ``x``, ``m``, ``z`` (address ids per layer) and ``score`` (g(S)); as in
    the reference, a block's score may be zero or negative (no dense balanced flow was left).
    """
    alpha = float(alpha)  # one float for the kernel and the merge's comparisons
    if not alpha >= 0 or alpha == np.inf:
        raise ConfigError(f"alpha must be a finite number >= 0, got {alpha}")
    if n_blocks < 1:
        raise ConfigError(f"n_blocks must be >= 1, got {n_blocks}")
    x_ids, m_ids, z_ids, e1x, e1m, w1, e2m, e2z, w2 = flowscope_layers(src, dst, weight, n)
    # every priority is at most the total weight times 1 + alpha in size: finite, so that an
    # empty layer's tree (infinite) is never taken for a node
    with np.errstate(over="ignore"):
        total = (w1.sum() + w2.sum()) * (1.0 + alpha)
    if not np.isfinite(total):
        raise ConfigError("flowscope: the transfer weights must be finite, and their total "
                          "times 1 + alpha too")
    nx, nm, nz = len(x_ids), len(m_ids), len(z_ids)
    size = nx + nm + nz
    graph = PartGraph(np.concatenate([e1x, nx + e2m]), np.concatenate([nx + e1m, nx + nm + e2z]),
                      size)
    weight = np.concatenate([w1, w2])
    bounds = np.array([0, nx, nx + nm, size])
    factor = np.array([1.0 + alpha, 1.0, 1.0 + alpha])  # as the kernel multiplies
    rank = np.array([0, 2, 1])  # on a tie: sources, then sinks, then middle nodes
    counts = np.array([nx, nm, nz])
    pm0 = np.zeros(nm)  # middle priorities before any removal
    local = np.empty(size, dtype=np.int64)

    def peel(nodes, edges):
        """The removal order of whole parts (sorted node ids, their edges), pm0 updated."""
        sizes, lists = _part_lists(nodes, edges, graph, weight, nx, nm, len(e1x), local)
        order, key, dptr, dval, part_pm0 = _peel_sequence(*sizes, alpha, *lists)
        pm0[nodes[sizes[0]:sizes[0] + sizes[1]] - nx] = part_pm0
        return nodes[order], key, dptr, dval

    removal = RemovalOrder(bounds, factor, rank)
    redo = None  # the nodes to search again: whole parts that held the last block
    blocks = []
    for b in range(n_blocks):
        if nm == 0 or not graph.alive.any():
            break
        if redo is None:  # group by group of whole parts, merged
            removal.first([peel(nodes, edges) for nodes, edges in graph.groups(GROUP_NODES)])
        else:
            removal.replace(redo, *peel(redo, graph.edges_of(redo)))
        best_k, best_g = removal.best(sequential_sum(pm0), counts, False, False)
        block = removal.after(best_k)
        blocks.append({"x": x_ids[block[block < nx]],
                       "m": m_ids[block[(block >= nx) & (block < nx + nm)] - nx],
                       "z": z_ids[block[block >= nx + nm] - nx - nm], "score": float(best_g)})
        if b + 1 < n_blocks:
            # the next search redoes only the connected parts that held the block
            redo = graph.parts_of(block)
        # the reference's del_block: every edge touching a node of the block goes
        graph.alive[graph.edge[spans(graph.ptr, block)]] = False
    return blocks


def _part_lists(nodes, edges, graph, weight, nx, nm, n1, local):
    """The layer sizes of the subgraph on ``nodes`` (sorted ids of whole connected parts) and
    the adjacency lists :func:`_peel_sequence` takes, its nodes numbered per layer in the whole
    graph's order and each node's ``edges`` (all of the part's, in edge order) in that order."""
    sx = int(np.searchsorted(nodes, nx))
    sm = int(np.searchsorted(nodes, nx + nm)) - sx
    sz = len(nodes) - sx - sm
    local[nodes] = np.arange(len(nodes))
    first = edges < n1
    e1, e2 = edges[first], edges[~first]
    x, m1 = local[graph.tail[e1]], local[graph.head[e1]] - sx
    m2, z = local[graph.tail[e2]] - sx, local[graph.head[e2]] - sx - sm
    lists = []
    for owner, other, w, n in ((x, m1, weight[e1], sx), (m1, x, weight[e1], sm),
                               (m2, z, weight[e2], sm), (z, m2, weight[e2], sz)):
        ptr, order = csr_from_edges(owner, None, n)
        lists += [ptr, other[order], w[order]]
    return (sx, sm, sz), lists
