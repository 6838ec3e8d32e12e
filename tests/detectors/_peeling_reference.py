"""The peeling kernels of FlowScope and Fraudar as the package had them before searches were
merged part by part (package 0.7.1): one search of the whole graph, stopping when a layer is
empty. The tests compare the package's part-by-part searches with loops over these."""

import numpy as np
from numba import njit

from launderbench.detectors.graph._common import tree_argmin, tree_build, tree_update


@njit
def _mid_priority(f, q, alpha):
    return min(f, q) - alpha * abs(f - q)


@njit
def flowscope_search(nx, nm, nz, alpha, x_ptr, x_m, x_w, m1_ptr, m1_x, m1_w, m2_ptr, m2_z,
                     m2_w, z_ptr, z_m, z_w):
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



@njit
def fraudar_search(rows, cols, w, n_rows, n_cols, prior_r, prior_c, r_ptr, r_edges, c_ptr,
                  c_edges):
    """Greedy peeling. Returns (order of removal as signed ids, best number removed, best g).

    Row ``i`` is encoded as ``i`` and column ``j`` as ``n_rows + j`` in the removal order.
    """
    pr = prior_r.copy()  # current priority = prior + weight of edges to alive neighbours
    pc = prior_c.copy()
    f = prior_r.sum() + prior_c.sum()
    for e in range(len(rows)):
        pr[rows[e]] += w[e]
        pc[cols[e]] += w[e]
        f += w[e]
    alive_r = np.ones(n_rows, dtype=np.bool_)
    alive_c = np.ones(n_cols, dtype=np.bool_)
    tr = tree_build(pr)
    tc = tree_build(pc)
    size = n_rows + n_cols
    best_g = f / size
    best_k = 0
    order = np.empty(size, dtype=np.int64)
    left_r, left_c = n_rows, n_cols
    k = 0
    while left_r > 0 and left_c > 0:  # the reference stops when one side is empty
        if tr[1] <= tc[1]:
            i = tree_argmin(tr)
            f -= pr[i]
            alive_r[i] = False
            left_r -= 1
            tree_update(tr, i, np.inf)
            order[k] = i
            for p in range(r_ptr[i], r_ptr[i + 1]):
                e = r_edges[p]
                j = cols[e]
                if alive_c[j]:
                    pc[j] -= w[e]
                    tree_update(tc, j, pc[j])
        else:
            j = tree_argmin(tc)
            f -= pc[j]
            alive_c[j] = False
            left_c -= 1
            tree_update(tc, j, np.inf)
            order[k] = n_rows + j
            for p in range(c_ptr[j], c_ptr[j + 1]):
                e = c_edges[p]
                i = rows[e]
                if alive_r[i]:
                    pr[i] -= w[e]
                    tree_update(tr, i, pr[i])
        k += 1
        g = f / (left_r + left_c)
        if g > best_g:
            best_g = g
            best_k = k
    return order[:k], best_k, best_g

