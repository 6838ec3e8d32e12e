"""Fan-in, fan-out, scatter-gather and gather-scatter in a time window (AMLworld topologies)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from launderbench.detectors.base import Detector, Scores
from launderbench.simulator.schema import DAY

from ._common import (
    address_service,
    check_number,
    expand_ranges,
    saturate,
    scatter_max,
    sorted_unique,
)


@njit(cache=True)
def _window_distinct(key, other, t, delta, n_other):
    """Rows sorted by (key, t). Per key: the largest number of distinct ``other`` within any
    window of length ``delta``, and that window's [first, last] row."""
    n = len(key)
    cnt = np.zeros(n_other, np.int32)
    best = np.zeros(n, np.int64)       # indexed by row of the group's first row
    best_lo = np.zeros(n, np.int64)
    best_hi = np.zeros(n, np.int64)
    g0 = 0
    while g0 < n:
        g1 = g0
        while g1 < n and key[g1] == key[g0]:
            g1 += 1
        left = g0
        distinct = 0
        b, blo, bhi = 0, g0, g0
        for r in range(g0, g1):
            o = other[r]
            if cnt[o] == 0:
                distinct += 1
            cnt[o] += 1
            while t[r] - t[left] > delta:
                ol = other[left]
                cnt[ol] -= 1
                if cnt[ol] == 0:
                    distinct -= 1
                left += 1
            if distinct > b:
                b, blo, bhi = distinct, left, r
        for r in range(left, g1):
            cnt[other[r]] = 0
        best[g0] = b
        best_lo[g0] = blo
        best_hi[g0] = bhi
        g0 = g1
    return best, best_lo, best_hi


def window_fan(key, other, t, delta, n):
    """Max distinct counterparties per key within ``delta``; also the rows of that window.

    Returns ``(score_per_key (n,), rows_sorted_order, window_row_mask)``.
    """
    if len(t) < 2 or np.all(t[1:] >= t[:-1]):
        order = np.argsort(key, kind="stable")   # rows are in time order already
    else:
        order = np.lexsort((t, key))
    k, o, tt = key[order], other[order], t[order]
    best, lo, hi = _window_distinct(k, o, tt, np.int64(delta), n)
    heads = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.zeros(0, np.int64)
    per_key = np.zeros(n, dtype=np.int64)
    per_key[k[heads]] = best[heads]
    return per_key, order, k, heads, lo, hi


def two_hop_paths(src, dst, t, delta, eligible_mid, max_paths=50_000_000):
    """Time-respecting 2-hop paths s -> m -> d with t1 <= t2 <= t1 + delta, s != d, through
    ``eligible_mid`` intermediaries. Returns arrays (s, m, d, t1, t2)."""
    out_order = np.argsort(src, kind="stable")
    ptr = np.zeros(len(eligible_mid) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(src, minlength=len(eligible_mid)))
    keep = eligible_mid[dst] & (src != dst)
    in_rows = np.flatnonzero(keep)
    m = dst[in_rows]
    lo = ptr[m]
    hi = ptr[m + 1]
    cnt = hi - lo
    res = []
    # chunk the expansion to bound memory
    csum = np.cumsum(cnt)
    total = int(csum[-1]) if len(csum) else 0
    if total > max_paths:
        from launderbench.simulator.errors import ConfigError

        raise ConfigError(f"fan: {total} two-hop paths exceed max_paths={max_paths}; lower "
                          "max_mid_degree")
    chunk = 5_000_000
    a = 0
    while a < len(in_rows):
        b = int(np.searchsorted(csum, (csum[a - 1] if a else 0) + chunk, "right"))
        b = max(b, a + 1)
        c = cnt[a:b]
        i = np.repeat(np.arange(a, b), c)
        offs = np.arange(len(i)) - np.repeat(np.cumsum(c) - c, c)
        e2 = out_order[lo[i] + offs]
        e1 = in_rows[i]
        t1, t2 = t[e1], t[e2]
        ok = (t2 >= t1) & (t2 - t1 <= delta) & (dst[e2] != src[e1]) & (dst[e2] != dst[e1])
        res.append((src[e1[ok]], dst[e1[ok]], dst[e2[ok]], t1[ok], t2[ok], e1[ok], e2[ok]))
        a = b
    if not res:
        z = np.zeros(0, np.int64)
        return z, z, z, z, z, z, z
    return tuple(np.concatenate([r[k] for r in res]) for k in range(7))


class FanPatterns(Detector):
    """Fan-out, fan-in, scatter-gather and gather-scatter within a time window.

    The four laundering topologies of AMLworld (Altman et al., "Realistic Synthetic
    Financial Transactions for Anti-Money Laundering Models", NeurIPS 2023 Datasets and
    Benchmarks), detected with degree thresholds in a window ``delta`` on the address transfer
    graph (:meth:`ObservableView.transfers`, self-transfers dropped):

    * **fan-out** of ``a``: the largest number of distinct receivers ``a`` pays within any
      window of length ``delta``; flagged at ``k_fan``.
    * **fan-in**: the same for distinct senders.
    * **scatter-gather** ``s -> {m_1..m_k} -> d``: ``k >= k_sg`` distinct intermediaries with
      time-respecting paths ``s -> m_i`` at ``t1`` and ``m_i -> d`` at ``t2``,
      ``t1 <= t2 <= t1 + delta``.
    * **gather-scatter** ``{s_i} -> h -> {d_j}``: a hub ``h`` on time-respecting 2-hop paths
      (same condition) from at least ``k_gs`` distinct sources to ``k_gs`` distinct
      destinations.

    * **bipartite** K_{m,n}: at least ``k_bip`` sources paying exactly the same set of at
      least ``k_bip`` destinations (over the whole view, not windowed); a **stack** is two
      such blocks back to back (the first block's destinations are the second's sources).

    Intermediaries of 2-hop patterns are restricted to addresses with at most
    ``max_mid_degree`` transfers in and out (AMLworld's intermediaries are ordinary accounts;
    without the cap exchange hot wallets make the path join quadratic). Publicly attributed
    service addresses score 0 when ``skip_services`` (their fans are their business).
    Cycles and random topologies are not implemented.

    Parameters
    ----------
    delta : int, default 86400
        Window length in seconds.
    k_fan : int, default 10
        Distinct counterparties that flag a fan-in / fan-out.
    k_sg : int, default 5
        Distinct intermediaries that flag a scatter-gather.
    k_gs : int, default 5
        Distinct sources and destinations that flag a gather-scatter hub.
    k_bip : int, default 3
        Smallest side of a bipartite block.
    max_mid_degree : int, default 100
    skip_services : bool, default True

    Scores
    ------
    address : max over the patterns of ``x / (x + k)`` (0.5 at the threshold). Fan-in and
        fan-out score the hub; scatter-gather scores source, intermediaries and destination;
        gather-scatter scores the hub; bipartite blocks score every member with
        ``min(m, n) / (min(m, n) + k_bip)``.
    transaction : max score of the pattern a transaction belongs to (fan windows, paths).
    info : ``fan_out``, ``fan_in`` (int arrays per address), ``scatter_gather`` (dict of
        arrays ``src``, ``dst``, ``k``), ``gather_scatter`` (``hub``, ``n_src``, ``n_dst``),
        ``bipartite`` (list of ``{"src", "dst"}``), ``stack`` (pairs of bipartite indices).
    """

    name: ClassVar[str] = "fan"
    description: ClassVar[str] = (
        "AMLworld fan-in/fan-out, scatter-gather and gather-scatter within a time window")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "transaction")}

    def __init__(self, delta: int = DAY, k_fan: int = 10, k_sg: int = 5, k_gs: int = 5,
                 k_bip: int = 3, max_mid_degree: int = 100, skip_services: bool = True):
        self.delta = delta
        self.k_fan = k_fan
        self.k_sg = k_sg
        self.k_gs = k_gs
        self.k_bip = k_bip
        self.max_mid_degree = max_mid_degree
        self.skip_services = skip_services

    def _score(self, view) -> Scores:
        delta = int(check_number("delta", self.delta, lo=0, integer=True))
        k_fan = int(check_number("k_fan", self.k_fan, lo=1, integer=True))
        k_sg = int(check_number("k_sg", self.k_sg, lo=1, integer=True))
        k_gs = int(check_number("k_gs", self.k_gs, lo=1, integer=True))
        cap = int(check_number("max_mid_degree", self.max_mid_degree, lo=1, integer=True))
        n, n_tx = view.n_addresses, view.n_transactions
        s_addr = np.zeros(n)
        s_tx = np.zeros(n_tx)
        tr = view.transfers()
        src = np.asarray(tr["src"], dtype=np.int64)
        dst = np.asarray(tr["dst"], dtype=np.int64)
        keep = src != dst
        src, dst = src[keep], dst[keep]
        t = np.asarray(tr["timestamp"], dtype=np.int64)[keep]
        txid = np.asarray(tr["tx_id"], dtype=np.int64)[keep]
        service = address_service(view) != 0 if self.skip_services else np.zeros(n, bool)
        info = {}
        if len(src) == 0:
            z = np.zeros(0, np.int64)
            info.update(fan_out=np.zeros(n, np.int64), fan_in=np.zeros(n, np.int64),
                        scatter_gather={"src": z, "dst": z, "k": z},
                        gather_scatter={"hub": z, "n_src": z, "n_dst": z},
                        bipartite=[], stack=[])
            return Scores(address=s_addr, transaction=s_tx, info=info)

        for what, key, other in (("fan_out", src, dst), ("fan_in", dst, src)):
            per_key, order, k_sorted, heads, lo, hi = window_fan(key, other, t, delta, n)
            per_key[service] = 0
            sc = np.where(per_key >= 1, saturate(per_key, k_fan), 0.0)
            # only degree >= 2 is a fan at all
            sc[per_key < 2] = 0.0
            s_addr = np.maximum(s_addr, sc)
            info[what] = per_key
            # transactions of each key's best window, if flagged
            hk = k_sorted[heads]
            flag = per_key[hk] >= k_fan
            if flag.any():
                own, pos = expand_ranges(lo[heads][flag], hi[heads][flag] + 1)
                rows = order[pos]
                np.maximum.at(s_tx, txid[rows], sc[hk[flag]][own])

        # 2-hop patterns
        deg_out = np.bincount(src, minlength=n)
        deg_in = np.bincount(dst, minlength=n)
        eligible = (deg_out <= cap) & (deg_in <= cap) & ~service
        ps, pm, pd, pt1, pt2, pe1, pe2 = two_hop_paths(src, dst, t, delta, eligible)
        sg = {"src": np.zeros(0, np.int64), "dst": np.zeros(0, np.int64),
              "k": np.zeros(0, np.int64)}
        gs = {"hub": np.zeros(0, np.int64), "n_src": np.zeros(0, np.int64),
              "n_dst": np.zeros(0, np.int64)}
        if len(ps):
            # scatter-gather: distinct intermediaries per (s, d)
            k_sd = ps * np.int64(n) + pd
            o = np.lexsort((pm, k_sd))
            k_sd_o, pm_o = k_sd[o], pm[o]
            first = np.r_[True, (k_sd_o[1:] != k_sd_o[:-1]) | (pm_o[1:] != pm_o[:-1])]
            trip = np.stack([k_sd_o[first] // n, k_sd_o[first] % n, pm_o[first]], axis=1)
            u_sd, k_cnt = np.unique(k_sd_o[first], return_counts=True)
            sd = np.stack([u_sd // n, u_sd % n], axis=1)
            hit = k_cnt >= 2
            sd, k_cnt = sd[hit], k_cnt[hit]
            sc = saturate(k_cnt, k_sg)
            ok = ~service[sd[:, 0]] | ~service[sd[:, 1]]
            sd, k_cnt, sc = sd[ok], k_cnt[ok], sc[ok]
            flag = k_cnt >= k_sg
            sg = {"src": sd[flag, 0].astype(np.int64), "dst": sd[flag, 1].astype(np.int64),
                  "k": k_cnt[flag].astype(np.int64)}
            pair_sc = {}
            if len(sd):
                s_addr = np.maximum(s_addr, scatter_max(n, sd[:, 0], sc))
                s_addr = np.maximum(s_addr, scatter_max(n, sd[:, 1], sc))
                # intermediaries: look up each triple's pair score
                key_sd = sd[:, 0] * np.int64(n) + sd[:, 1]
                key_tr = trip[:, 0] * np.int64(n) + trip[:, 1]
                order = np.argsort(key_sd)
                pos = np.searchsorted(key_sd[order], key_tr)
                pos = np.minimum(pos, len(order) - 1)
                found = key_sd[order][pos] == key_tr
                s_addr = np.maximum(s_addr, scatter_max(n, trip[found, 2], sc[order][pos[found]]))
                pair_sc = (key_sd, sc)
            # gather-scatter: distinct sources and destinations per hub
            u_sm = sorted_unique(pm * np.int64(n) + ps)
            u_md = sorted_unique(pm * np.int64(n) + pd)
            n_src = np.bincount(u_sm // n, minlength=n)
            n_dst = np.bincount(u_md // n, minlength=n)
            m_cnt = np.minimum(n_src, n_dst)
            m_cnt[service] = 0
            gsc = np.where(m_cnt >= 2, saturate(m_cnt, k_gs), 0.0)
            s_addr = np.maximum(s_addr, gsc)
            hubs = np.flatnonzero(m_cnt >= k_gs)
            gs = {"hub": hubs.astype(np.int64), "n_src": n_src[hubs].astype(np.int64),
                  "n_dst": n_dst[hubs].astype(np.int64)}
            # transactions on flagged paths
            if len(pair_sc):
                key_sd, scs = pair_sc
                fl = {int(k): float(v) for k, v in zip(key_sd[scs >= 0.5], scs[scs >= 0.5])}
                if fl:
                    fk = np.fromiter(fl.keys(), np.int64)
                    fv = np.fromiter(fl.values(), np.float64)
                    o2 = np.argsort(fk)
                    pk = ps * np.int64(n) + pd
                    p = np.minimum(np.searchsorted(fk[o2], pk), len(fk) - 1)
                    m = fk[o2][p] == pk
                    _mark_paths(s_tx, txid, pe1[m], pe2[m], fv[o2][p[m]])
            if len(hubs):
                hm = gsc[pm] >= 0.5
                _mark_paths(s_tx, txid, pe1[hm], pe2[hm], gsc[pm[hm]])
        info["scatter_gather"] = sg
        info["gather_scatter"] = gs
        k_bip = int(check_number("k_bip", self.k_bip, lo=2, integer=True))
        groups = bipartite_groups(src, dst, n, k_bip, service)
        if groups:
            # the block's transfers, and how many transactions carry them: one multi-input,
            # multi-output transaction (a CoinJoin, a batch) is a complete bipartite block of
            # the transfer graph on its own, so at least k_bip transactions are required
            keys, gid = [], []
            for j, g in enumerate(groups):
                kk = (g["src"][:, None] * np.int64(n) + g["dst"][None, :]).ravel()
                keys.append(kk)
                gid.append(np.full(len(kk), j))
            keys, gid = np.concatenate(keys), np.concatenate(gid)
            o = np.argsort(keys, kind="stable")
            keys, gid = keys[o], gid[o]
            q = src * np.int64(n) + dst
            pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
            hit = np.flatnonzero(keys[pos] == q)
            g_of = gid[pos[hit]]
            u = sorted_unique(g_of * np.int64(n_tx + 1) + txid[hit])
            n_txs = np.bincount(u // (n_tx + 1), minlength=len(groups))
            keep = n_txs >= k_bip
            sc = np.array([float(saturate(min(len(g["src"]), len(g["dst"])), k_bip))
                           for g in groups])
            sc[~keep] = 0.0
            for j in np.flatnonzero(keep):
                g = groups[j]
                s_addr[g["src"]] = np.maximum(s_addr[g["src"]], sc[j])
                s_addr[g["dst"]] = np.maximum(s_addr[g["dst"]], sc[j])
            np.maximum.at(s_tx, txid[hit], sc[g_of])
            groups = [g for g, k_ in zip(groups, keep) if k_]
        info["bipartite"] = groups
        info["stack"] = stacks(groups)
        return Scores(address=s_addr, transaction=s_tx, info=info)


def bipartite_groups(src, dst, n, k, exclude):
    """Complete bipartite blocks K_{m,n} (m, n >= k) of sources paying exactly the same set of
    destinations (an order-free 64-bit hash of each source's destination set, then grouping).

    Returns a list of dicts ``{"src": int64[], "dst": int64[]}``."""
    if len(src) == 0:
        return []
    key = sorted_unique(src * np.int64(n) + dst)
    s, d = key // n, key % n
    ok = ~exclude[s] & ~exclude[d]
    s, d = s[ok], d[ok]
    rng = np.random.default_rng(0x5EED)
    h = rng.integers(0, 2**63 - 1, n, dtype=np.int64).astype(np.uint64)
    sig = np.zeros(n, dtype=np.uint64)
    np.add.at(sig, s, h[d])
    deg = np.bincount(s, minlength=n)
    cand = np.flatnonzero(deg >= k)
    if len(cand) == 0:
        return []
    order = np.lexsort((cand, deg[cand], sig[cand]))
    c = cand[order]
    brk = np.r_[True, (sig[c][1:] != sig[c][:-1]) | (deg[c][1:] != deg[c][:-1])]
    starts = np.flatnonzero(brk)
    sizes = np.diff(np.r_[starts, len(c)])
    out = []
    for a, m in zip(starts, sizes):
        if m < k:
            continue
        members = np.sort(c[a:a + m])
        lo, hi = np.searchsorted(s, members[0], "left"), np.searchsorted(s, members[0], "right")
        dsts = np.sort(d[lo:hi])
        out.append({"src": members.astype(np.int64), "dst": dsts.astype(np.int64)})
    return out


def stacks(groups):
    """Pairs (i, j) of bipartite blocks where block i's destinations are block j's sources
    (AMLworld's stack: two bipartite layers back to back)."""
    by_src = {tuple(g["src"].tolist()): j for j, g in enumerate(groups)}
    return [(i, by_src[tuple(g["dst"].tolist())]) for i, g in enumerate(groups)
            if tuple(g["dst"].tolist()) in by_src]


def _mark_paths(s_tx, txid, e1, e2, val):
    """Give the transactions carrying the path edges (transfer rows e1, e2) score ``val``."""
    if len(e1):
        np.maximum.at(s_tx, txid[e1], val)
        np.maximum.at(s_tx, txid[e2], val)
