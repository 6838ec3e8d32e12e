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
layer (an upper bound of what its removal costs). The arg-min over the layers is deleted, its
neighbours are updated, and the best intermediate ``S`` is kept: O(|E| log |V|).

Layers (our construction, since a ledger has no given partition): every address can play every
role, so the three layers are copies of the address set taken from the one transfer graph:

* ``M`` (middle): addresses with both incoming and outgoing transfers (self-loops excluded);
* ``X`` (sources): every address that sends to an ``M`` address; layer-1 edges ``X -> M`` are
  the transfers into ``M``, weighted by summed USD value;
* ``Z`` (sinks): every address that receives from an ``M`` address; layer-2 edges ``M -> Z``
  are the transfers out of ``M``.

An address can thus sit in several layers of one block (its copies are separate nodes). A hub
that only receives is never a middle node (at most a sink); one that receives far more than it
sends has a very negative middle priority and is peeled first. After each block, its layer-1 and layer-2 edges are deleted and
the search is repeated for the next block (as the reference does for ``k`` blocks).
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


@njit(cache=True)
def _flowscope_peel(e1x, e1m, w1, e2m, e2z, w2, nx, nm, nz, alpha, x_ptr, x_edges, m1_ptr,
                    m1_edges, m2_ptr, m2_edges, z_ptr, z_edges):
    """Greedy peeling. Returns (removal order, best number removed, best g).

    Node ids in the order: source ``i`` -> ``i``, middle ``j`` -> ``nx + j``,
    sink ``k`` -> ``nx + nm + k``.
    """
    f = np.zeros(nm)
    q = np.zeros(nm)
    sx = np.zeros(nx)
    sz = np.zeros(nz)
    for e in range(len(e1x)):
        f[e1m[e]] += w1[e]
        sx[e1x[e]] += w1[e]
    for e in range(len(e2m)):
        q[e2m[e]] += w2[e]
        sz[e2z[e]] += w2[e]
    pm = np.empty(nm)
    num = 0.0
    for j in range(nm):
        pm[j] = _mid_priority(f[j], q[j], alpha)
        num += pm[j]
    alive_x = np.ones(nx, dtype=np.bool_)
    alive_m = np.ones(nm, dtype=np.bool_)
    alive_z = np.ones(nz, dtype=np.bool_)
    tx = tree_build((1.0 + alpha) * sx)
    tm = tree_build(pm)
    tz = tree_build((1.0 + alpha) * sz)
    size = nx + nm + nz
    best_g = num / size
    best_k = 0
    order = np.empty(size, dtype=np.int64)
    for k in range(size):
        if tm[1] <= tx[1] and tm[1] <= tz[1]:
            j = tree_argmin(tm)
            num -= pm[j]
            alive_m[j] = False
            tree_update(tm, j, np.inf)
            order[k] = nx + j
            for p in range(m1_ptr[j], m1_ptr[j + 1]):
                e = m1_edges[p]
                i = e1x[e]
                if alive_x[i]:
                    sx[i] -= w1[e]
                    tree_update(tx, i, (1.0 + alpha) * sx[i])
            for p in range(m2_ptr[j], m2_ptr[j + 1]):
                e = m2_edges[p]
                z = e2z[e]
                if alive_z[z]:
                    sz[z] -= w2[e]
                    tree_update(tz, z, (1.0 + alpha) * sz[z])
        elif tx[1] <= tz[1]:
            i = tree_argmin(tx)
            alive_x[i] = False
            tree_update(tx, i, np.inf)
            order[k] = i
            for p in range(x_ptr[i], x_ptr[i + 1]):
                e = x_edges[p]
                j = e1m[e]
                if alive_m[j]:
                    f[j] -= w1[e]
                    new = _mid_priority(f[j], q[j], alpha)
                    num += new - pm[j]
                    pm[j] = new
                    tree_update(tm, j, new)
        else:
            z = tree_argmin(tz)
            alive_z[z] = False
            tree_update(tz, z, np.inf)
            order[k] = nx + nm + z
            for p in range(z_ptr[z], z_ptr[z + 1]):
                e = z_edges[p]
                j = e2m[e]
                if alive_m[j]:
                    q[j] -= w2[e]
                    new = _mid_priority(f[j], q[j], alpha)
                    num += new - pm[j]
                    pm[j] = new
                    tree_update(tm, j, new)
        left = size - k - 1
        if left > 0:
            g = num / left
            if g > best_g:
                best_g = g
                best_k = k + 1
    return order, best_k, best_g


def flowscope_blocks(src, dst, weight, n, *, alpha=4.0, n_blocks=3):
    """Find up to ``n_blocks`` dense balanced X -> M -> Z flows.

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

    Returns
    -------
    list of dict with ``x``, ``m``, ``z`` (address ids per layer) and ``score`` (g(S) > 0).
    """
    if alpha < 0:
        raise ConfigError(f"alpha must be >= 0, got {alpha}")
    if n_blocks < 1:
        raise ConfigError(f"n_blocks must be >= 1, got {n_blocks}")
    s, d, w = aggregate_pairs(src, dst, weight, n)
    alive = w > 0
    blocks = []
    for _ in range(n_blocks):
        es, ed, ew = s[alive], d[alive], w[alive]
        has_in = np.zeros(n, dtype=bool)
        has_in[ed] = True
        has_out = np.zeros(n, dtype=bool)
        has_out[es] = True
        mid = has_in & has_out
        if not mid.any():
            break
        l1 = mid[ed]  # transfers into the middle layer
        l2 = mid[es]  # transfers out of it
        m_ids = np.flatnonzero(mid)
        m_of = np.full(n, -1, dtype=np.int64)
        m_of[m_ids] = np.arange(len(m_ids))
        x_ids, e1x = dense_relabel(es[l1], n)
        z_ids, e2z = dense_relabel(ed[l2], n)
        e1m = m_of[ed[l1]]
        e2m = m_of[es[l2]]
        w1, w2 = ew[l1], ew[l2]
        nx, nm, nz = len(x_ids), len(m_ids), len(z_ids)
        x_ptr, x_edges = csr_from_edges(e1x, e1m, nx)
        m1_ptr, m1_edges = csr_from_edges(e1m, e1x, nm)
        m2_ptr, m2_edges = csr_from_edges(e2m, e2z, nm)
        z_ptr, z_edges = csr_from_edges(e2z, e2m, nz)
        order, best_k, best_g = _flowscope_peel(
            e1x, e1m, w1, e2m, e2z, w2, nx, nm, nz, float(alpha), x_ptr, x_edges, m1_ptr,
            m1_edges, m2_ptr, m2_edges, z_ptr, z_edges)
        kept = order[best_k:]
        bx = x_ids[kept[kept < nx]]
        bm = m_ids[kept[(kept >= nx) & (kept < nx + nm)] - nx]
        bz = z_ids[kept[kept >= nx + nm] - nx - nm]
        if best_g <= 0 or len(bm) == 0:
            break
        blocks.append({"x": bx, "m": bm, "z": bz, "score": float(best_g)})
        in_x = np.zeros(n, dtype=bool)
        in_x[bx] = True
        in_m = np.zeros(n, dtype=bool)
        in_m[bm] = True
        in_z = np.zeros(n, dtype=bool)
        in_z[bz] = True
        alive &= ~((in_x[s] & in_m[d]) | (in_m[s] & in_z[d]))
    return blocks
