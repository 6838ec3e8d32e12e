"""Personalized PageRank from the announced hack transactions.

Personalized PageRank (Page, Brin, Motwani & Winograd, "The PageRank citation ranking",
Stanford TR 1999; topic-sensitive / personalized variant: Haveliwala, WWW'02; Jeh & Widom,
WWW'03) is a random walk that follows edges with probability ``alpha`` and otherwise jumps back
to a restart distribution. With the restart set on the receivers of stolen funds and edges
weighted by USD value, the stationary distribution ranks addresses by how much of the walk's
mass reaches them from the theft: "follow the money", softly, without a tracing policy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from launderbench.simulator.errors import ConfigError

from ._common import edge_weights, output_usd, seed_output_ids

DIRECTIONS = ("forward", "backward", "both")


def personalized_pagerank(src, dst, weight, n, restart, *, alpha=0.85, direction="forward",
                          tol=1e-10, max_iter=200):
    """Weighted personalized PageRank by sparse power iteration.

    Parameters
    ----------
    src, dst : int arrays of shape (E,)
        Directed edges ``src -> dst`` between node ids ``0..n-1`` (duplicates are summed).
    weight : float array of shape (E,)
        Non-negative edge weights (e.g. USD value moved).
    n : int
        Number of nodes.
    restart : float array of shape (n,)
        Restart (personalization) weights; normalised to sum to one.
    alpha : float, default 0.85
        Probability of following an edge (the damping factor); ``1 - alpha`` restarts.
    direction : {"forward", "backward", "both"}
        Walk along the money (``forward``), against it, or on the symmetrised graph.
    tol : float
        Stop when the L1 change of the iterate drops below ``tol``.
    max_iter : int

    Returns
    -------
    x : float array of shape (n,), a probability vector. Mass of dangling nodes (no out-edges)
        is returned to the restart distribution, so ``x`` always sums to one.
    n_iter : int
    """
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha}")
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    if np.any(weight < 0):
        raise ConfigError("edge weights must be non-negative")
    r = np.asarray(restart, dtype=np.float64)
    if r.shape != (n,) or r.sum() <= 0:
        raise ConfigError("restart must be a non-negative vector of shape (n,) with positive sum")
    r = r / r.sum()
    if direction == "backward":
        src, dst = dst, src
    elif direction == "both":
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
        weight = np.concatenate([weight, weight])
    # Transposed transition matrix: row = receiver, column = sender (sums duplicate edges).
    mt = sp.csr_matrix((weight, (dst, src)), shape=(n, n))
    out_w = np.bincount(src, weights=weight, minlength=n)
    ok = out_w >= np.finfo(np.float64).tiny  # subnormal totals count as dangling (1/w overflows)
    dangling = np.flatnonzero(~ok)
    inv = np.zeros(n)
    np.divide(1.0, out_w, out=inv, where=ok)
    x = r.copy()
    xs = np.empty(n)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        lost = x[dangling].sum()
        np.multiply(x, inv, out=xs)
        x_new = mt @ xs
        x_new *= alpha
        x_new += (alpha * lost + (1.0 - alpha)) * r
        err = np.abs(x_new - x).sum()
        x = x_new
        if err < tol:
            break
    return x, n_iter


def seed_restart(view) -> np.ndarray:
    """Restart weights: USD value of the seed outputs received by each address."""
    oids = seed_output_ids(view)
    r = np.zeros(view.n_addresses)
    if len(oids):
        usd = output_usd(view, oids)
        np.add.at(r, view.outputs["address_id"][oids], usd)
        if r.sum() <= 0:  # assets without a price: fall back to uniform over receivers
            r[view.outputs["address_id"][oids]] = 1.0
    return r


def ppr_scores(view, alpha=0.85, direction="forward", weight="usd", tol=1e-10, max_iter=200,
               exclude_services=False):
    """Address scores of :class:`PPR` (see there); returns ``(scores, info)``."""
    n = view.n_addresses
    r = seed_restart(view)
    if r.sum() <= 0:
        raise ConfigError("ppr needs seeds: the view announces no hack transaction")
    tr = view.transfers()
    s, d, w = tr["src"], tr["dst"], edge_weights(tr, weight)
    keep = s != d  # self-loops (change back to an input address) carry no flow between parties
    if exclude_services:  # the walk neither enters nor crosses publicly attributed services
        svc = np.asarray(view.addresses["service_kind"]) != 0
        keep &= ~(svc[s] | svc[d])
    s, d, w = s[keep], d[keep], w[keep]
    x, it = personalized_pagerank(s, d, w, n, r, alpha=alpha, direction=direction, tol=tol,
                                  max_iter=max_iter)
    return x, {"n_iter": int(it), "n_transfers": int(len(s)), "n_restart": int((r > 0).sum())}
