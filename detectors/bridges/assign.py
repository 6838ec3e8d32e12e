"""One-to-one assignment of candidate (in, out) pairs: greedy, FIFO or optimal (Hungarian)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components

from launderbench.simulator.errors import ConfigError

METHODS = ("greedy", "fifo", "hungarian")


@njit(cache=True)
def take_in_order(order, a, b, n_a, n_b):
    """Walk candidate pairs ``(a[k], b[k])`` in ``order`` and keep each one whose two sides are
    both still unused: a one-to-one subset (bool mask over the candidates)."""
    used_a = np.zeros(n_a, np.bool_)
    used_b = np.zeros(n_b, np.bool_)
    keep = np.zeros(len(a), np.bool_)
    for k in order:
        if not used_a[a[k]] and not used_b[b[k]]:
            used_a[a[k]] = True
            used_b[b[k]] = True
            keep[k] = True
    return keep


def assign(a, b, cost, n_a, n_b, method="greedy", t_a=None, t_b=None, max_block=2000):
    """Choose a one-to-one subset of candidate pairs ``(a[k], b[k])``.

    Parameters
    ----------
    a, b : int arrays (K,)
        Left (deposit) and right (release / payout) indices, ``0 <= a < n_a``, ``0 <= b < n_b``.
    cost : float array (K,)
        Lower is better.
    method : "greedy" | "fifo" | "hungarian"
        greedy: pairs by increasing cost, each side used once. fifo: left items in time
        order (``t_a``), each takes its earliest feasible unused right item (``t_b``).
        hungarian: minimum total cost over each connected component of the candidate graph
        (scipy ``linear_sum_assignment``), maximising the number of matches first; a
        component larger than ``max_block`` on a side falls back to greedy.

    Returns
    -------
    bool array (K,): the chosen pairs.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    cost = np.asarray(cost, dtype=np.float64)
    if method not in METHODS:
        raise ConfigError(f"assignment must be one of {', '.join(METHODS)}, got {method!r}")
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    if method == "greedy":
        order = np.lexsort((b, a, cost))
        return take_in_order(order, a, b, n_a, n_b)
    if method == "fifo":
        if t_a is None or t_b is None:
            raise ConfigError("fifo assignment needs the times of both sides")
        order = np.lexsort((b, cost, np.asarray(t_b)[b], a, np.asarray(t_a)[a]))
        return take_in_order(order, a, b, n_a, n_b)
    # hungarian, per connected component
    keep = np.zeros(len(a), dtype=bool)
    g = sp.coo_matrix((np.ones(len(a)), (a, b + n_a)), shape=(n_a + n_b, n_a + n_b))
    _, lab = connected_components(g, directed=False)
    comp = lab[a]
    order = np.argsort(comp, kind="stable")
    cuts = np.flatnonzero(np.diff(comp[order])) + 1
    big = float(cost.max() - cost.min() + 1.0) * (len(a) + 1)
    for grp in np.split(order, cuts):
        ua, ia = np.unique(a[grp], return_inverse=True)
        ub, ib = np.unique(b[grp], return_inverse=True)
        if len(ua) == 1 or len(ub) == 1 or max(len(ua), len(ub)) > max_block:
            sub = take_in_order(np.lexsort((b[grp], a[grp], cost[grp])), ia, ib, len(ua), len(ub))
            keep[grp[sub]] = True
            continue
        # non-edges cost "big" so that a larger matching always beats a cheaper one
        M = np.full((len(ua), len(ub)), 2 * big)
        c = cost[grp] - cost.min()
        M[ia, ib] = np.minimum(M[ia, ib], c)
        r, cidx = linear_sum_assignment(M)
        real = M[r, cidx] < 2 * big
        chosen = set(zip(r[real].tolist(), cidx[real].tolist()))
        # one candidate per chosen cell (the cheapest)
        seen = set()
        for k in np.argsort(c, kind="stable"):
            cell = (int(ia[k]), int(ib[k]))
            if cell in chosen and cell not in seen:
                seen.add(cell)
                keep[grp[k]] = True
    return keep
