"""Repeated greedy peeling that searches again only the connected parts a block changed.

FlowScope and Fraudar find several blocks by greedy peeling: remove the node of lowest
priority, update its neighbours, keep the densest set seen; then delete some edges of the
block and peel the whole graph again. A node's priority depends only on its own edges, so on
a graph made of several connected parts the greedy order is the interleaving of each part's
own greedy order: at every step the next node of whichever part the rule removes first. So a
search can peel groups of whole parts, each small enough for its trees to stay in the cache,
and merge the groups' orders (:meth:`PartGraph.groups`, :func:`merge_many`). And a block's
deletion changes only the parts that held it: the next search can peel those parts again, keep
every other part's order from the search before, merge the two orders (:func:`merge_orders`),
and replay the merged order to find the densest set (:func:`replay`). The result is the full search's to the bit, provided that the peeling kernel
records, for every removal, the changes it made to the density's numerator in the order it
made them, and that the parts' orders run until every node is removed (the stop rule is
applied by :func:`replay`, on the whole graph).

Layers (FlowScope's sources, middle nodes and sinks; Fraudar's rows and columns) are ranges
of node ids given by ``bounds`` (layer ``L`` holds ids ``bounds[L]`` to ``bounds[L + 1] - 1``).
The rule that picks the next node, shared by both methods: within a layer the lowest priority,
then the lowest id; across layers the lowest of ``priority * factor[layer]``, then the lowest
``rank[layer]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._common import csr_from_edges


@njit(cache=True)
def sequential_sum(values, total=0.0):
    """Left-to-right float sum from ``total``, the order a peeling loop adds in (``np.sum``
    adds in pairs)."""
    for v in values:
        total += v
    return total


@njit(cache=True)
def _layer(v, bounds):
    layer = 0
    while v >= bounds[layer + 1]:
        layer += 1
    return layer


@njit(cache=True)
def goes_first(a, ka, b, kb, bounds, factor, rank):
    """Whether node ``a`` (priority ``ka``) is removed before node ``b`` (priority ``kb``) when
    each is the next removal of its own part of the graph (the rule in the module docstring)."""
    la = _layer(a, bounds)
    lb = _layer(b, bounds)
    if la == lb:
        return ka < kb or (ka == kb and a < b)
    va = ka * factor[la]
    vb = kb * factor[lb]
    if va != vb:
        return va < vb
    return rank[la] < rank[lb]


@njit(cache=True)
def merge_orders(order, key, start, stop, drop, new_order, new_key, new_start, new_stop,
                 bounds, factor, rank):
    """The removal order of the whole graph after the nodes flagged in ``drop`` (whole parts)
    were peeled again: the old order without them merged with their new order (``new_*``),
    taking at each step whichever next node :func:`goes_first`. ``key`` is a node's priority
    when removed; ``start`` and ``stop`` its span of recorded changes, carried along."""
    n = 0
    for v in order:
        if not drop[v]:
            n += 1
    n += len(new_order)
    out = np.empty(n, dtype=np.int64)
    out_key = np.empty(n)
    out_start = np.empty(n, dtype=np.int64)
    out_stop = np.empty(n, dtype=np.int64)
    a = 0
    b = 0
    for k in range(n):
        while a < len(order) and drop[order[a]]:
            a += 1
        if a < len(order) and (b == len(new_order) or goes_first(
                order[a], key[a], new_order[b], new_key[b], bounds, factor, rank)):
            out[k], out_key[k], out_start[k], out_stop[k] = order[a], key[a], start[a], stop[a]
            a += 1
        else:
            out[k], out_key[k] = new_order[b], new_key[b]
            out_start[k], out_stop[k] = new_start[b], new_stop[b]
            b += 1
    return out, out_key, out_start, out_stop


@njit(cache=True)
def merge_many(order, key, start, stop, ptr, bounds, factor, rank):
    """The removal order of a graph from the orders of groups of its parts (group ``g``:
    positions ``ptr[g]:ptr[g + 1]`` of the arrays), taking at each step whichever group's next
    node :func:`goes_first` (a heap of the groups). Returns the merged arrays."""
    n = ptr[-1]
    groups = len(ptr) - 1
    pos = ptr[:-1].copy()
    heap = np.empty(groups, dtype=np.int64)
    size = 0
    for g in range(groups):
        if pos[g] < ptr[g + 1]:
            heap[size] = g
            size += 1
            _sift_up(heap, size - 1, pos, order, key, bounds, factor, rank)
    out = np.empty(n, dtype=np.int64)
    out_key = np.empty(n)
    out_start = np.empty(n, dtype=np.int64)
    out_stop = np.empty(n, dtype=np.int64)
    for k in range(n):
        g = heap[0]
        p = pos[g]
        out[k], out_key[k], out_start[k], out_stop[k] = order[p], key[p], start[p], stop[p]
        pos[g] += 1
        if pos[g] == ptr[g + 1]:
            size -= 1
            heap[0] = heap[size]
        _sift_down(heap, size, pos, order, key, bounds, factor, rank)
    return out, out_key, out_start, out_stop


@njit(cache=True)
def _before(g, h, pos, order, key, bounds, factor, rank):
    return goes_first(order[pos[g]], key[pos[g]], order[pos[h]], key[pos[h]], bounds, factor,
                      rank)


@njit(cache=True)
def _sift_up(heap, i, pos, order, key, bounds, factor, rank):
    while i > 0:
        parent = (i - 1) // 2
        if not _before(heap[i], heap[parent], pos, order, key, bounds, factor, rank):
            break
        heap[i], heap[parent] = heap[parent], heap[i]
        i = parent


@njit(cache=True)
def _sift_down(heap, size, pos, order, key, bounds, factor, rank):
    i = 0
    while True:
        first = i
        for c in (2 * i + 1, 2 * i + 2):
            if c < size and _before(heap[c], heap[first], pos, order, key, bounds, factor,
                                    rank):
                first = c
        if first == i:
            return
        heap[i], heap[first] = heap[first], heap[i]
        i = first


@njit(cache=True)
def replay(order, start, stop, pool, num0, bounds, counts, strict, whole_set):
    """The densest set of a removal order, as the peeling loop finds it.

    Removes in ``order`` while every layer still holds a node (``counts``: nodes per layer
    before any removal), adds each step's changes to the numerator (``pool[start[k]:
    stop[k]]``, in order, from ``num0``) and evaluates the density ``num / nodes left`` after
    every removal. The best set is the latest with a density above (``strict``) or at least
    (otherwise) the best so far; with ``whole_set`` the set before any removal is the first
    candidate, otherwise the best starts at minus infinity. Returns ``(steps until the stop,
    removals before the best set, its density)``.
    """
    left = counts.copy()
    total = left.sum()
    empty = 0  # layers without a node
    for c in left:
        empty += c == 0
    num = num0
    best_g = num0 / total if whole_set and total > 0 else -np.inf
    best_k = 0
    k = 0
    while empty == 0:
        for p in range(start[k], stop[k]):
            num += pool[p]
        layer = _layer(order[k], bounds)
        left[layer] -= 1
        empty += left[layer] == 0
        total -= 1
        k += 1
        g = num / total if total > 0 else 0.0
        if g > best_g or (not strict and g == best_g):
            best_g = g
            best_k = k
    return k, best_k, best_g


class RemovalOrder:
    """The removal order of a whole graph, built from its parts' orders and kept from one
    search to the next.

    A part's order comes from a peeling kernel as ``(order, key, dptr, dval)``: the nodes in
    the order removed, each one's priority then, and each step's changes to the numerator
    (``dval[dptr[k]:dptr[k + 1]]``). The changes of every step are kept in one pool, and each
    step keeps its span there. ``bounds``, ``factor`` and ``rank`` are the rule's (module
    docstring).
    """

    def __init__(self, bounds, factor, rank):
        self.bounds, self.factor, self.rank = bounds, factor, rank
        self.steps = None  # (node, priority, start, stop) per step
        self.pool = np.zeros(0)

    def first(self, parts):
        """The first search: the orders of groups of whole parts, merged."""
        at = np.cumsum([0] + [len(p[3]) for p in parts])
        self.pool = np.concatenate([p[3] for p in parts])
        steps = [(o, k, d[:-1] + a, d[1:] + a) for (o, k, d, _), a in zip(parts, at)]
        if len(steps) == 1:
            self.steps = steps[0]
            return
        ptr = np.cumsum([0] + [len(s[0]) for s in steps])
        self.steps = merge_many(*(np.concatenate(c) for c in zip(*steps)), ptr, self.bounds,
                                self.factor, self.rank)

    def replace(self, nodes, order, key, dptr, dval):
        """A later search: the parts on ``nodes`` were peeled again and have this order."""
        drop = np.zeros(int(self.bounds[-1]), dtype=bool)
        drop[nodes] = True
        at = len(self.pool)
        self.steps = merge_orders(*self.steps, drop, order, key, dptr[:-1] + at,
                                  dptr[1:] + at, self.bounds, self.factor, self.rank)
        self.pool = np.concatenate([self.pool, dval])

    def best(self, num0, counts, strict, whole_set):
        """``(removals before the densest set, its density)``: :func:`replay` of the order."""
        _, best_k, best_g = replay(self.steps[0], self.steps[2], self.steps[3], self.pool,
                                   num0, self.bounds, counts, strict, whole_set)
        return best_k, best_g

    def after(self, k):
        """The sorted ids of the nodes left after the first ``k`` removals."""
        return np.sort(self.steps[0][k:])


class PartGraph:
    """A graph whose nodes are ``0..n-1`` and whose edges run ``tail -> head``, with the flags
    of the edges still alive and each node's incident edges (``edge[ptr[v]:ptr[v + 1]]`` in
    edge order, ``other`` their other ends), for finding the connected parts a block touches
    and the edges of a set of parts."""

    def __init__(self, tail, head, n):
        self.tail = np.asarray(tail, dtype=np.int64)
        self.head = np.asarray(head, dtype=np.int64)
        self.n = int(n)
        self.alive = np.ones(len(self.tail), dtype=bool)
        self.ptr, slots = csr_from_edges(np.concatenate([self.tail, self.head]), None, n)
        self.edge = slots % max(len(self.tail), 1)
        self.other = np.concatenate([self.head, self.tail])[slots]

    def parts_of(self, nodes):
        """The sorted ids of every node connected to ``nodes`` by alive edges (``nodes``
        included)."""
        return np.sort(_reach(np.asarray(nodes, dtype=np.int64), self.ptr, self.other,
                              self.edge, self.alive))

    def groups(self, max_nodes):
        """The nodes cut into groups of whole connected parts (alive edges), each of at most
        ``max_nodes`` nodes unless one part alone is larger: a list of ``(nodes, edges)``, the
        sorted ids of a group's nodes and its alive edges in edge order. Peeling group by group
        keeps each peeling's trees small enough for the cache."""
        label, n_parts = _labels(self.ptr, self.other, self.edge, self.alive)
        group = _pack(np.bincount(label, minlength=n_parts), int(max_nodes))[label]
        n_groups = int(group.max()) + 1 if len(group) else 0
        ptr, nodes = csr_from_edges(group, None, n_groups)
        alive = np.flatnonzero(self.alive)
        e_ptr, e_at = csr_from_edges(group[self.tail[alive]], None, n_groups)
        edges = alive[e_at]
        return [(nodes[ptr[g]:ptr[g + 1]], edges[e_ptr[g]:e_ptr[g + 1]])
                for g in range(n_groups)]

    def edges_of(self, nodes):
        """The alive edges with their tail in ``nodes`` (sorted ids), in edge order; for whole
        parts, every alive edge of them."""
        e = self.edge[spans(self.ptr, nodes)]
        owner = np.repeat(nodes, self.ptr[nodes + 1] - self.ptr[nodes])
        return np.sort(e[self.alive[e] & (self.tail[e] == owner)])


def spans(ptr, nodes):
    """The positions ``ptr[v]:ptr[v + 1]`` of every node ``v`` in ``nodes``, concatenated."""
    lo, hi = ptr[nodes], ptr[nodes + 1]
    n = hi - lo
    return np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())


@njit(cache=True)
def _reach(start, ptr, other, edge, alive):
    """The nodes connected to ``start`` by alive edges (``start`` included), unsorted."""
    n = len(ptr) - 1
    seen = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    top = 0
    for v in start:
        if not seen[v]:
            seen[v] = True
            stack[top] = v
            top += 1
    found = 0
    while top > 0:
        top -= 1
        v = stack[top]
        out[found] = v
        found += 1
        for p in range(ptr[v], ptr[v + 1]):
            if alive[edge[p]]:
                u = other[p]
                if not seen[u]:
                    seen[u] = True
                    stack[top] = u
                    top += 1
    return out[:found]


@njit(cache=True)
def _labels(ptr, other, edge, alive):
    """Connected-part label of every node (alive edges), numbered in order of each part's
    lowest id; and the number of parts."""
    n = len(ptr) - 1
    label = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    parts = 0
    for root in range(n):
        if label[root] >= 0:
            continue
        label[root] = parts
        stack[0] = root
        top = 1
        while top > 0:
            top -= 1
            v = stack[top]
            for p in range(ptr[v], ptr[v + 1]):
                if alive[edge[p]]:
                    u = other[p]
                    if label[u] < 0:
                        label[u] = parts
                        stack[top] = u
                        top += 1
        parts += 1
    return label, parts


@njit(cache=True)
def _pack(sizes, cap):
    """Group of each part: parts in order, a new group when the next part would take the
    current one past ``cap`` nodes."""
    group = np.empty(len(sizes), dtype=np.int64)
    g = 0
    filled = 0
    for p in range(len(sizes)):
        if filled > 0 and filled + sizes[p] > cap:
            g += 1
            filled = 0
        group[p] = g
        filled += sizes[p]
    return group
