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

Later searches are computed incrementally, with the same result to the bit. A node's priority
depends only on its neighbours, so on a graph of several connected parts the greedy order is
the interleaving of each part's own greedy order, taking at every step whichever part's next
node is removed first by the reference's rule. Deleting a block's edges changes only the
parts that held the block; the next search peels those parts again, keeps every other part's
order from the previous search, and replays the merged order (the changes to g's numerator are
recorded per removal and added in the same order) to find the best set. On a ledger of 1e6
transactions, whose blocks sit in parts of a few thousand nodes, the ten searches cost little
more than the first.
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
    """One search of the reference: the peeling until a layer is empty, and its best set.

    Returns ``(order, best_k, best_g)``: the nodes removed until the first layer is empty, how
    many of them leave the best set, and its g. See :func:`_peel_sequence` for the arguments.
    """
    order, key, dptr, dval, pm0 = _peel_sequence(
        nx, nm, nz, alpha, x_ptr, x_m, x_w, m1_ptr, m1_x, m1_w, m2_ptr, m2_z, m2_w,
        z_ptr, z_m, z_w)
    stop, best_k, best_g = _replay(order, dptr[:-1], dptr[1:], dval, _sequential_sum(pm0),
                                   nx, nm, nz)
    return order[:stop], best_k, best_g


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
    (:func:`_replay` does): the rest of the order is what a later search needs when this
    graph is one part of a larger one (see :func:`flowscope_blocks`).

    Returns ``(order, key, dptr, dval, pm0)``: the node removed at each step (ids as in
    :func:`_flowscope_peel`), its priority when removed (the tree value, before the
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


@njit(cache=True)
def _sequential_sum(values):
    """Left-to-right float sum, the order the reference's loop adds in (``np.sum`` pairs)."""
    total = 0.0
    for v in values:
        total += v
    return total


@njit(cache=True)
def _replay(order, start, stop, pool, num0, nx, nm, nz):
    """The reference's stop and best set from a removal order: removes until a layer is empty,
    adding each step's changes to the numerator of g (``pool[start[k]:stop[k]]`` for step
    ``k``) in order, and keeps the latest step with the highest g (``>=``). Returns ``(steps
    until the stop, best_k, best_g)``."""
    left_x, left_m, left_z = nx, nm, nz
    num = num0
    best_g = -np.inf
    best_k = 0
    k = 0
    while left_x > 0 and left_m > 0 and left_z > 0:
        v = order[k]
        for p in range(start[k], stop[k]):
            num += pool[p]
        if v < nx:
            left_x -= 1
        elif v < nx + nm:
            left_m -= 1
        else:
            left_z -= 1
        k += 1
        left = left_x + left_m + left_z
        g = num / left if left > 0 else 0.0
        if g >= best_g:
            best_g = g
            best_k = k
    return k, best_k, best_g


@njit(cache=True)
def _goes_first(a, ka, b, kb, nx, nm, alpha):
    """Whether the reference removes node ``a`` (priority ``ka``) before node ``b`` when each
    is the next removal of its own part of the graph: within a layer the lower priority, then
    the lower id; across layers the lower of the compared values (``1 + alpha`` times a
    source's or sink's priority, a middle node's own), then sources, sinks, middle nodes."""
    la = 0 if a < nx else (1 if a < nx + nm else 2)
    lb = 0 if b < nx else (1 if b < nx + nm else 2)
    if la == lb:
        return ka < kb or (ka == kb and a < b)
    va = ka if la == 1 else ka * (1.0 + alpha)
    vb = kb if lb == 1 else kb * (1.0 + alpha)
    if va != vb:
        return va < vb
    rank_a = 2 if la == 1 else la // 2  # source 0, sink 1, middle 2
    rank_b = 2 if lb == 1 else lb // 2
    return rank_a < rank_b


@njit(cache=True)
def _merge(order, key, start, stop, drop, new_order, new_key, new_start, new_stop, nx, nm,
           alpha):
    """The removal order of the whole graph after the parts flagged in ``drop`` were searched
    again: the old order without them, merged with their new order (``new_*``) by taking, at
    each step, whichever next node the reference removes first (:func:`_goes_first`). Each
    step keeps its span of recorded changes (``start``, ``stop``)."""
    n = len(order)
    out = np.empty(n, dtype=np.int64)
    out_key = np.empty(n)
    out_start = np.empty(n, dtype=np.int64)
    out_stop = np.empty(n, dtype=np.int64)
    a = 0
    b = 0
    for k in range(n):
        while a < n and drop[order[a]]:
            a += 1
        if a < n and (b == len(new_order) or _goes_first(order[a], key[a], new_order[b],
                                                         new_key[b], nx, nm, alpha)):
            out[k], out_key[k], out_start[k], out_stop[k] = order[a], key[a], start[a], stop[a]
            a += 1
        else:
            out[k], out_key[k] = new_order[b], new_key[b]
            out_start[k], out_stop[k] = new_start[b], new_stop[b]
            b += 1
    return out, out_key, out_start, out_stop


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
    size = nx + nm + nz
    graph = _LayerGraph(nx, nm, nz, e1x, e1m, w1, e2m, e2z, w2)
    redo = np.arange(size)  # nodes whose removal order must be found (again)
    pm0 = np.zeros(nm)  # middle priorities before any removal
    seq = None
    blocks = []
    for b in range(n_blocks):
        if nm == 0 or not graph.alive.any():
            break
        sizes, node, lists = graph.part(redo)
        order, key, dptr, dval, sub_pm0 = _peel_sequence(*sizes, float(alpha), *lists)
        order = node[order]
        pm0[node[sizes[0]:sizes[0] + sizes[1]] - nx] = sub_pm0
        if seq is None:
            seq = (order, key, dptr[:-1], dptr[1:])
            pool = dval
        else:
            drop = np.zeros(size, dtype=bool)
            drop[redo] = True
            seq = _merge(*seq, drop, order, key, dptr[:-1] + len(pool), dptr[1:] + len(pool),
                         nx, nm, float(alpha))
            pool = np.concatenate([pool, dval])
        _, best_k, best_g = _replay(seq[0], seq[2], seq[3], pool, _sequential_sum(pm0),
                                    nx, nm, nz)
        block = np.sort(seq[0][best_k:])
        blocks.append({"x": x_ids[block[block < nx]],
                       "m": m_ids[block[(block >= nx) & (block < nx + nm)] - nx],
                       "z": z_ids[block[block >= nx + nm] - nx - nm], "score": float(best_g)})
        if b + 1 < n_blocks:
            # the next search redoes only the connected parts that held the block
            redo = np.sort(_reach(block, graph.ptr, graph.nbr, graph.edge, graph.alive))
        # the reference's del_block: every edge touching a node of the block goes
        graph.alive[graph.edge[_spans(graph.ptr, block)]] = False
    return blocks


class _LayerGraph:
    """The three-layer graph as node ids (source ``i`` -> ``i``, middle ``j`` -> ``nx + j``,
    sink ``k`` -> ``nx + nm + k``) and edge ids (layer-1 edges first, then layer 2), with each
    node's incident edges (``edge[ptr[v]:ptr[v + 1]]``, in edge order; ``nbr``: the other ends)
    and the flags of the edges still alive."""

    def __init__(self, nx, nm, nz, e1x, e1m, w1, e2m, e2z, w2):
        self.nx, self.nm, self.nz = nx, nm, nz
        self.tail = np.concatenate([e1x, nx + e2m])  # source, or middle for layer 2
        self.head = np.concatenate([nx + e1m, nx + nm + e2z])
        self.w = np.concatenate([w1, w2])
        self.n1 = len(e1x)
        self.alive = np.ones(len(self.tail), dtype=bool)
        size = nx + nm + nz
        ends = np.concatenate([self.tail, self.head])
        self.ptr, slots = csr_from_edges(ends, None, size)
        self.edge = slots % len(self.tail)
        self.nbr = np.concatenate([self.head, self.tail])[slots]
        self.local = np.empty(size, dtype=np.int64)

    def part(self, nodes):
        """The subgraph on ``nodes`` (sorted ids forming whole connected parts of the graph
        left, so no alive edge crosses its border), numbered per layer in the whole graph's
        order. Returns ``(sizes, node, lists)``: its layer sizes, the whole graph's id of each
        of its nodes, and the adjacency lists :func:`_peel_sequence` takes (each node's edges
        in edge order, as in the whole graph)."""
        nx, nm = self.nx, self.nm
        sx = int(np.searchsorted(nodes, nx))
        sm = int(np.searchsorted(nodes, nx + nm)) - sx
        sizes = (sx, sm, len(nodes) - sx - sm)
        if len(nodes) == len(self.local):
            e = np.flatnonzero(self.alive)
        else:
            # each edge once: layer-1 edges from their source, layer-2 from their middle node
            tails = nodes[nodes < nx + nm]
            e = self.edge[_spans(self.ptr, tails)]
            owner = np.repeat(tails, self.ptr[tails + 1] - self.ptr[tails])
            e = np.sort(e[self.alive[e] & (self.tail[e] == owner)])
        self.local[nodes] = np.arange(len(nodes))
        first = e < self.n1
        e1, e2 = e[first], e[~first]
        x, m1 = self.local[self.tail[e1]], self.local[self.head[e1]] - sx
        m2, z = self.local[self.tail[e2]] - sx, self.local[self.head[e2]] - sx - sizes[1]
        lists = []
        for owner, other, w, n in ((x, m1, self.w[e1], sx), (m1, x, self.w[e1], sm),
                                   (m2, z, self.w[e2], sm), (z, m2, self.w[e2], sizes[2])):
            ptr, edges = csr_from_edges(owner, None, n)
            lists += [ptr, other[edges], w[edges]]
        return sizes, nodes, lists


def _spans(ptr, nodes):
    """The positions ``ptr[v]:ptr[v + 1]`` of every node ``v`` in ``nodes``, concatenated."""
    lo, hi = ptr[nodes], ptr[nodes + 1]
    n = hi - lo
    return np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())


@njit(cache=True)
def _reach(start, ptr, nbr, edge, alive):
    """The nodes connected to ``start`` by alive edges (``start`` included)."""
    seen = np.zeros(len(ptr) - 1, dtype=np.bool_)
    stack = np.empty(len(ptr) - 1, dtype=np.int64)
    top = 0
    for v in start:
        if not seen[v]:
            seen[v] = True
            stack[top] = v
            top += 1
    found = 0
    out = np.empty(len(ptr) - 1, dtype=np.int64)
    while top > 0:
        top -= 1
        v = stack[top]
        out[found] = v
        found += 1
        for p in range(ptr[v], ptr[v + 1]):
            if alive[edge[p]]:
                u = nbr[p]
                if not seen[u]:
                    seen[u] = True
                    stack[top] = u
                    top += 1
    return out[:found]
