"""Union-find over address ids: pairs of addresses known to share an owner -> cluster ids.

Connected components of the undirected "same owner" graph are computed with
:func:`scipy.sparse.csgraph.connected_components` (near-linear, no Python loop). Cluster ids are
canonical: each address gets the smallest address id of its cluster, so singletons keep their
own id and the labelling does not depend on the order of the pairs.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["union_find", "relabel_dense", "cluster_sizes"]


def union_find(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cluster id per element ``0..n-1`` after merging every pair ``(a[k], b[k])``.

    Parameters
    ----------
    n : int
        Number of elements (addresses).
    a, b : int arrays of equal length with values in ``[0, n)``

    Returns
    -------
    int64 array of shape ``(n,)``: the smallest member id of each element's cluster.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.shape != b.shape:
        raise ValueError("union_find: a and b must have the same length")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if len(a) == 0:
        return np.arange(n, dtype=np.int64)
    if a.min() < 0 or b.min() < 0 or a.max() >= n or b.max() >= n:
        raise ValueError("union_find: ids out of range")
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, lab = connected_components(g, directed=False)
    rep = np.full(lab.max() + 1, n, dtype=np.int64)
    np.minimum.at(rep, lab, np.arange(n, dtype=np.int64))
    return rep[lab]


def relabel_dense(clusters: np.ndarray) -> np.ndarray:
    """Map cluster ids to ``0..k-1`` (in order of first appearance of the smallest member)."""
    _, inv = np.unique(clusters, return_inverse=True)
    return inv.astype(np.int64)


def cluster_sizes(clusters: np.ndarray) -> np.ndarray:
    """Size of each address's cluster (per address)."""
    dense = relabel_dense(clusters)
    return np.bincount(dense)[dense]
