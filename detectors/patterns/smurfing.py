"""AutoAudit AA-Smurf: MDL-guided greedy selection of smurfing blocks, on scipy.sparse."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from numba import njit

from launderbench.detectors.base import Detector, Scores

from ._common import address_service, check_number, scatter_max


@njit(cache=True)
def _has_edge(indptr, indices, a, b):
    lo = indptr[a]
    hi = indptr[a + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        v = indices[mid]
        if v == b:
            return True
        if v < b:
            lo = mid + 1
        else:
            hi = mid
    return False


@njit(cache=True)
def _clog2(x):
    if x <= 1:
        return 0.0
    return float(np.ceil(np.log2(x)))


@njit(cache=True)
def _log_star(x):
    # the reference's "universal code length" approximation: 2 log2(x) + 1
    return float(np.ceil(2.0 * np.log2(max(x, 1)) + 1.0))


@njit(cache=True)
def _header(p, m, n):
    # counts of patterns and intermediaries, the indexes of senders, receivers and
    # intermediaries, and the number of blocks (AutoAudit's compute_mdl)
    if p == 0:
        return 0.0
    return _log_star(p) + _log_star(m) + (2 * p + m) * _clog2(n) + _log_star(p)


@njit(cache=True)
def _count_inside(out_ptr, out_idx, buf, k, mark, stamp):
    """Edges among the k nodes of ``buf`` (their ``mark`` equals ``stamp``)."""
    e = 0
    for a in range(k):
        u = buf[a]
        deg = out_ptr[u + 1] - out_ptr[u]
        if deg <= 4 * k:
            for j in range(out_ptr[u], out_ptr[u + 1]):
                if mark[out_idx[j]] == stamp:
                    e += 1
        else:
            for b in range(k):
                if b != a and _has_edge(out_ptr, out_idx, u, buf[b]):
                    e += 1
    return e


@njit(cache=True)
def _members(c, cs, cd, cptr, cmids, placed, buf):
    """Sender, still-unplaced intermediaries, receiver of candidate c into ``buf``; size."""
    k = 0
    buf[k] = cs[c]
    k += 1
    for j in range(cptr[c], cptr[c + 1]):
        m = cmids[j]
        if not placed[m]:
            buf[k] = m
            k += 1
    buf[k] = cd[c]
    return k + 1


@njit(cache=True)
def _greedy(out_ptr, out_idx, in_ptr, in_idx, n, n_edges, cs, cd, cptr, cmids, max_iter,
            node_ptr, node_cand):
    """AA-Smurf's greedy loop with incremental MDL (see AASmurf's docstring).

    ``node_ptr``/``node_cand`` list the candidates each node belongs to, so that the cached
    count of edges inside a candidate block is recomputed only when one of its nodes is
    placed."""
    placed = np.zeros(n, np.bool_)
    out_r = (out_ptr[1:] - out_ptr[:-1]).astype(np.int64)
    in_r = (in_ptr[1:] - in_ptr[:-1]).astype(np.int64)
    n_r = n
    e_rr = n_edges
    cost_d = 2.0 * _clog2(n)
    mdl = float(n_r * n_r - e_rr) * cost_d
    n_cand = len(cs)
    max_blocks = n_cand if max_iter < 0 else min(n_cand, max_iter)
    blk_s = np.empty(max_blocks, np.int64)
    blk_d = np.empty(max_blocks, np.int64)
    blk_ptr = np.zeros(max_blocks + 1, np.int64)
    blk_mids = np.empty(max(1, len(cmids)), np.int64)
    blk_mdl = np.empty(max_blocks + 1, np.float64)
    blk_pur = np.empty(max_blocks, np.float64)
    blk_mdl[0] = mdl
    used = np.zeros(n_cand, np.bool_)
    dirty = np.ones(n_cand, np.bool_)
    c_k = np.zeros(n_cand, np.int64)
    c_ebb = np.zeros(n_cand, np.int64)
    buf = np.empty(n, np.int64)
    mark = np.full(n, -1, np.int64)
    p_cnt = 0
    m_cnt = 0
    pur_sum = 0.0
    nb = 0
    while nb < max_blocks:
        best = -1
        best_score = 0.0
        best_mdl = 0.0
        best_pur = 0.0
        for c in range(n_cand):
            if used[c]:
                continue
            if placed[cs[c]] or placed[cd[c]]:
                used[c] = True
                continue
            k = _members(c, cs, cd, cptr, cmids, placed, buf)
            if k == 2:
                used[c] = True
                continue
            if dirty[c]:
                for a in range(k):
                    mark[buf[a]] = c
                c_ebb[c] = _count_inside(out_ptr, out_idx, buf, k, mark, c)
                for a in range(k):
                    mark[buf[a]] = -1
                c_k[c] = k
                dirty[c] = False
            e_bb = c_ebb[c]
            n_mid = k - 2
            sum_out = 0
            sum_in = 0
            for a in range(k):
                sum_out += out_r[buf[a]]
                sum_in += in_r[buf[a]]
            e_out = sum_out - e_bb
            e_in = sum_in - e_bb
            unexpected = e_bb - 2 * n_mid
            e1 = unexpected * 2.0 * _clog2(k - 1)
            ext = _clog2(n) + _clog2(max(n - k, 1))
            blk_cost = e1 + (e_in + e_out) * ext
            n_r2 = n_r - k
            e_rr2 = e_rr - e_out - e_in - e_bb
            new = (mdl - float(n_r * n_r - e_rr) * cost_d + float(n_r2 * n_r2 - e_rr2) * cost_d
                   + blk_cost - _header(p_cnt, m_cnt, n) + _header(p_cnt + 1, m_cnt + n_mid, n))
            pur = 2.0 * n_mid / max(e_bb + e_in + e_out, 1)
            score = (mdl - new) / mdl * ((pur_sum + pur) / (nb + 1)) if mdl > 0 else 0.0
            if new < mdl and score > best_score:
                best = c
                best_score = score
                best_mdl = new
                best_pur = pur
        if best < 0:
            break
        # place the best block
        k = _members(best, cs, cd, cptr, cmids, placed, buf)
        n_mid = k - 2
        start = blk_ptr[nb]
        for a in range(n_mid):
            blk_mids[start + a] = buf[1 + a]
        e_bb = c_ebb[best]
        e_out = 0
        e_in = 0
        for a in range(k):
            e_out += out_r[buf[a]]
            e_in += in_r[buf[a]]
        e_rr -= (e_out - e_bb) + (e_in - e_bb) + e_bb
        n_r -= k
        for a in range(k):
            v = buf[a]
            placed[v] = True
            for j in range(in_ptr[v], in_ptr[v + 1]):
                out_r[in_idx[j]] -= 1
            for j in range(out_ptr[v], out_ptr[v + 1]):
                in_r[out_idx[j]] -= 1
            for j in range(node_ptr[v], node_ptr[v + 1]):
                dirty[node_cand[j]] = True
        used[best] = True
        blk_s[nb] = buf[0]
        blk_d[nb] = buf[k - 1]
        blk_ptr[nb + 1] = start + n_mid
        blk_pur[nb] = best_pur
        pur_sum += best_pur
        p_cnt += 1
        m_cnt += n_mid
        mdl = best_mdl
        nb += 1
        blk_mdl[nb] = mdl
    return (blk_s[:nb], blk_d[:nb], blk_ptr[: nb + 1], blk_mids[: blk_ptr[nb]],
            blk_mdl[: nb + 1], blk_pur[:nb])


def smurf_candidates(A: sp.csr_matrix, c: int, mid_ok: np.ndarray):
    """Pairs (s, d), s != d, with at least ``c`` intermediaries m (A[s,m] = A[m,d] = 1) among
    ``mid_ok``; returns (s, d, count, mids_ptr, mids) with candidates sorted by count desc."""
    n = A.shape[0]
    Am = sp.csr_matrix(A.multiply(mid_ok.astype(np.int64)[None, :]))
    # a pair needs c intermediaries, so only senders paying >= c eligible intermediaries and
    # receivers paid by >= c of them can qualify: prune before the product
    rows = np.flatnonzero(np.diff(Am.indptr) >= c)
    Bm = sp.csr_matrix(A.multiply(mid_ok.astype(np.int64)[:, None]))
    cols = np.flatnonzero(np.bincount(Bm.indices, minlength=n) >= c)
    A2 = (Am[rows] @ Bm[:, cols]).tocoo()
    keep = (A2.data >= c) & (rows[A2.row] != cols[A2.col])
    s = rows[A2.row[keep]].astype(np.int64)
    d = cols[A2.col[keep]].astype(np.int64)
    cnt = A2.data[keep]
    # the reference scans candidates by count, descending, equal counts by (s, d) descending
    order = np.lexsort((-d, -s, -cnt))
    s, d, cnt = s[order], d[order], cnt[order].astype(np.int64)
    # intermediaries m with s -> m -> d: expand the smaller of out(s) and in(d), then check
    # the other edge against the sorted edge keys
    indptr, indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    At = A.T.tocsr()
    t_ptr, t_idx = At.indptr.astype(np.int64), At.indices.astype(np.int64)
    coo = A.tocoo()
    edge_keys = np.sort(coo.row.astype(np.int64) * n + coo.col)
    from_s = (indptr[s + 1] - indptr[s]) <= (t_ptr[d + 1] - t_ptr[d])
    owns, mids = [], []
    for side in (True, False):
        sel = np.flatnonzero(from_s == side)
        ptr, idx, node = (indptr, indices, s) if side else (t_ptr, t_idx, d)
        deg = ptr[node[sel] + 1] - ptr[node[sel]]
        own = np.repeat(sel, deg)
        offs = np.arange(len(own)) - np.repeat(np.cumsum(deg) - deg, deg)
        m = idx[ptr[node[own]] + offs]
        q = m * n + d[own] if side else s[own] * n + m
        pos = np.minimum(np.searchsorted(edge_keys, q), max(len(edge_keys) - 1, 0))
        hit = (edge_keys[pos] == q) & mid_ok[m] if len(edge_keys) else np.zeros(0, bool)
        owns.append(own[hit])
        mids.append(m[hit])
    own = np.concatenate(owns)
    m = np.concatenate(mids)
    o = np.argsort(own, kind="stable")
    own, m = own[o], m[o]
    ptr = np.zeros(len(s) + 1, dtype=np.int64)
    np.add.at(ptr, own + 1, 1)
    return s, d, cnt, np.cumsum(ptr), m


class AASmurf(Detector):
    """AutoAudit AA-Smurf: smurfing blocks ``s -> {m_1..m_k} -> d`` chosen by MDL.

    Lee, Zhao, Wang, Liang, Akoglu, Tseng & Faloutsos, "AutoAudit: Mining Accounting and
    Time-Evolving Graphs", IEEE BigData 2020; reference code ``mengchillee/AutoAudit``
    (``AA-Smurf.py``). No labels.

    1. A is the binary adjacency matrix of the address transfer graph (self-loops dropped).
       Every pair (s, d) with ``A^2[s, d] >= c`` intermediaries is a candidate smurf.
    2. Greedy: each round, every candidate whose sender and receiver are still unplaced is
       tried as the next block (sender, its still-unplaced intermediaries, receiver); the
       description length of the reordered matrix is computed as in the reference
       ``compute_mdl``: unexpected edges inside the block cost ``2 ceil(log2(k-1))`` bits,
       edges between the block and later-placed nodes ``ceil(log2 n) + ceil(log2(n-k))``, the
       rest region is encoded by its zeros at ``2 ceil(log2 n)`` bits each, plus the counts
       and indexes. The candidate maximising ``((MDL_prev - MDL_new) / MDL_prev) * purity``
       (purity = mean over blocks of ``2(k-2) / edges touching the block``) is added. Stop
       when no candidate lowers the MDL.
    3. Keep the shortest prefix of blocks whose MDL is within ``tolerance`` (10%) of the
       minimum. Because the zero-run cost of a large sparse matrix dwarfs the blocks, the
       tolerance is applied to the MDL *reduction* (the prefix that achieves 90% of it); the
       reference applies it to the absolute MDL, which on large graphs keeps every block.

    Candidates are tried in the reference's order (more intermediaries first, equal counts by
    sender and receiver id, descending) and a later candidate replaces the round's best only
    with a strictly higher score, as in the reference.

    Differences from the reference: the matrix is scipy.sparse (the reference is dense,
    O(n^2) memory); the MDL is updated incrementally (adding a block at the end only changes
    that block's terms and the rest region). The regions are exact, where the reference's
    slices drop the last row and column of the matrix and, inside a block, the receiver's row
    and column: its purity of a perfect smurf is 2(k-2)/(k-2) = 2, here 1, and its unexpected
    edges are only those from intermediaries back into the block. The reference returns the
    prefix *before* the first one within the tolerance (``idx - 1``), which with a single
    block found returns none; here the first prefix within it, and at least one block.
    ``max_iter`` caps the blocks at ``max_iter`` (the reference's loop allows one more). Pairs
    with ``s = d`` (round trips) are not candidates. Intermediaries are limited to addresses
    with at most ``max_mid_degree`` neighbours (mules, not hubs), which bounds the cost of
    ``A^2``; attributed service addresses are never intermediaries when ``skip_services``.

    Parameters
    ----------
    c : int, default 8
        Intermediaries a candidate needs (the reference default).
    tolerance : float, default 0.1
    max_iter : int or None, default None
        At most this many blocks (the reference's ``--i``).
    max_mid_degree : int, default 200
    skip_services : bool, default True

    Scores
    ------
    address : ``0.5 + 0.5 * purity`` for members (sender, intermediaries, receiver) of kept
        blocks, ``0.5 * purity`` for blocks found after the cut, else 0.
    transaction : the score of the block whose edge the transaction carries.
    info : ``blocks`` (list of dicts: src, dst, mids, purity, kept), ``mdl`` (per step).
    """

    name: ClassVar[str] = "aa-smurf"
    description: ClassVar[str] = (
        "AutoAudit AA-Smurf: A^2 >= c candidate smurfs chosen greedily by MDL and purity")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "transaction")}

    def __init__(self, c: int = 8, tolerance: float = 0.1, max_iter: int | None = None,
                 max_mid_degree: int = 200, skip_services: bool = True):
        self.c = c
        self.tolerance = tolerance
        self.max_iter = max_iter
        self.max_mid_degree = max_mid_degree
        self.skip_services = skip_services

    def _score(self, view) -> Scores:
        c = int(check_number("c", self.c, lo=1, integer=True))
        tol = float(check_number("tolerance", self.tolerance, lo=0, hi=1))
        max_iter = -1 if self.max_iter is None else int(
            check_number("max_iter", self.max_iter, lo=1, integer=True))
        cap = int(check_number("max_mid_degree", self.max_mid_degree, lo=1, integer=True))
        n_addr, n_tx = view.n_addresses, view.n_transactions
        s_addr, s_tx = np.zeros(n_addr), np.zeros(n_tx)
        info = {"blocks": [], "mdl": np.zeros(0)}
        tr = view.transfers()
        src = np.asarray(tr["src"], dtype=np.int64)
        dst = np.asarray(tr["dst"], dtype=np.int64)
        keep = src != dst
        src, dst = src[keep], dst[keep]
        txid = np.asarray(tr["tx_id"], dtype=np.int64)[keep]
        if len(src) == 0:
            return Scores(address=s_addr, transaction=s_tx, info=info)
        # compact ids of active addresses
        active, inv = np.unique(np.r_[src, dst], return_inverse=True)
        n = len(active)
        a, b = inv[: len(src)], inv[len(src):]
        A = sp.csr_matrix((np.ones(len(a), np.int64), (a, b)), shape=(n, n))
        A.sum_duplicates()
        A.data[:] = 1
        A.sort_indices()
        At = A.T.tocsr()
        At.sort_indices()
        deg = np.diff(A.indptr) + np.diff(At.indptr)
        mid_ok = deg <= cap
        if self.skip_services:
            mid_ok &= address_service(view)[active] == 0
        cs, cd, cnt, cptr, cmids = smurf_candidates(A, c, mid_ok)
        if len(cs) == 0:
            return Scores(address=s_addr, transaction=s_tx, info=info)
        # which candidates each node belongs to (sender, receiver or intermediary)
        own = np.r_[np.arange(len(cs)), np.arange(len(cs)),
                    np.repeat(np.arange(len(cs)), np.diff(cptr))].astype(np.int64)
        nodes = np.r_[cs, cd, cmids].astype(np.int64)
        o = np.argsort(nodes, kind="stable")
        node_ptr = np.zeros(n + 1, np.int64)
        np.add.at(node_ptr, nodes + 1, 1)
        node_ptr = np.cumsum(node_ptr)
        bs, bd, bptr, bmids, mdl, pur = _greedy(
            A.indptr.astype(np.int64), A.indices.astype(np.int64),
            At.indptr.astype(np.int64), At.indices.astype(np.int64), n, int(A.nnz),
            cs, cd, cptr, cmids, max_iter, node_ptr, own[o])
        nb = len(bs)
        if nb == 0:
            info["mdl"] = mdl
            return Scores(address=s_addr, transaction=s_tx, info=info)
        red = mdl[0] - mdl
        need = (1.0 - tol) * red[-1]
        n_keep = int(np.argmax(red >= need - 1e-9 * abs(mdl[0])))  # prefix length
        n_keep = max(n_keep, 1)
        blocks = []
        block_score = np.where(np.arange(nb) < n_keep, 0.5 + 0.5 * pur, 0.5 * pur)
        mem_addr, mem_score = [], []
        edge_s, edge_d, edge_score = [], [], []
        for j in range(nb):
            mids = bmids[bptr[j]: bptr[j + 1]]
            blocks.append({"src": int(active[bs[j]]), "dst": int(active[bd[j]]),
                           "mids": active[mids].astype(np.int64), "purity": float(pur[j]),
                           "kept": bool(j < n_keep)})
            members = np.r_[bs[j], mids, bd[j]]
            mem_addr.append(active[members])
            mem_score.append(np.full(len(members), block_score[j]))
            edge_s.append(np.r_[np.full(len(mids), bs[j]), mids])
            edge_d.append(np.r_[mids, np.full(len(mids), bd[j])])
            edge_score.append(np.full(2 * len(mids), block_score[j]))
        s_addr = scatter_max(n_addr, np.concatenate(mem_addr), np.concatenate(mem_score))
        # transactions carrying block edges
        ek = np.concatenate(edge_s) * np.int64(n) + np.concatenate(edge_d)
        ev = np.concatenate(edge_score)
        o = np.argsort(ek)
        ek, ev = ek[o], ev[o]
        q = a * np.int64(n) + b
        pos = np.minimum(np.searchsorted(ek, q), len(ek) - 1)
        hit = ek[pos] == q
        s_tx = scatter_max(n_tx, txid[hit], ev[pos[hit]])
        info = {"blocks": blocks, "mdl": mdl, "n_candidates": int(len(cs)), "n_kept": n_keep}
        return Scores(address=s_addr, transaction=s_tx, info=info)

