"""Tornado Cash style fixed-denomination pools: deposit -> withdrawal linking heuristics."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import connected_components

from launderbench.detectors.arrays import unique_sorted
from launderbench.detectors.base import Detector, Scores
from launderbench.detectors.patterns._common import (
    check_number,
    empty_links,
    equi_join,
    first_input_row,
    make_links,
    scatter_max,
)
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY, ChainModel, ServiceKind

HEURISTICS = ("address", "gas", "linked", "multi", "fifo")
#: Link confidence of each deterministic heuristic (ours; the papers report links, not scores).
W_ADDRESS, W_GAS, W_LINKED, W_MULTI = 1.0, 0.9, 0.8, 0.7


def mixer_events(view):
    """Deposits into and withdrawals from account-chain addresses attributed as mixers.

    Returns two dicts of arrays. Deposits: ``tx``, ``pool``, ``addr`` (the depositor, the
    transaction's sender), ``t``, ``gas`` (fee rate), ``amount``. Withdrawals: ``tx``,
    ``pool`` (the paying pool address), ``addr`` (the recipient, the largest output),
    ``relayed`` (more than one output: a relayer fee was paid), ``t``, ``gas``, ``amount``.
    """
    n_tx = view.n_transactions
    tx = view.transactions
    addr_chain = np.asarray(view.addresses["chain_id"], dtype=np.int64)
    models = np.zeros(int(view.chains["chain_id"].max(initial=0)) + 1, dtype=np.int64)
    models[np.asarray(view.chains["chain_id"])] = np.asarray(view.chains["model"])
    pool = ((np.asarray(view.addresses["service_kind"]) == ServiceKind.MIXER)
            & (models[addr_chain] == ChainModel.ACCOUNT)) if len(addr_chain) else np.zeros(0, bool)
    empty = {k: np.zeros(0, np.int64) for k in ("tx", "pool", "addr", "t", "gas", "amount")}
    if n_tx == 0 or not pool.any():
        return empty, {**empty, "relayed": np.zeros(0, bool), "total": np.zeros(0)}
    t = np.asarray(tx["timestamp"], dtype=np.int64)
    gas = np.asarray(tx["fee_rate"], dtype=np.int64)
    acct = ~view.is_utxo_tx() & ~np.asarray(tx["is_issuance"], dtype=bool)
    in_row = first_input_row(view)
    i_addr = np.asarray(view.inputs["address_id"], dtype=np.int64)
    sender = np.where(in_row >= 0, i_addr[np.maximum(in_row, 0)], -1)
    from_pool = acct & (sender >= 0) & pool[np.maximum(sender, 0)]
    o = view.outputs
    o_tx = np.asarray(o["tx_id"], dtype=np.int64)
    o_addr = np.asarray(o["address_id"], dtype=np.int64)
    o_amt = np.asarray(o["amount"], dtype=np.int64)
    dm = pool[o_addr] & acct[o_tx] & ~from_pool[o_tx] & (sender[o_tx] >= 0)
    dep = {"tx": o_tx[dm], "pool": o_addr[dm], "addr": sender[o_tx[dm]], "t": t[o_tx[dm]],
           "gas": gas[o_tx[dm]], "amount": o_amt[dm]}
    # withdrawals: largest non-pool output of a transaction paid by a pool
    wm = from_pool[o_tx] & ~pool[o_addr]
    rows = np.flatnonzero(wm)
    n_paid = np.bincount(o_tx[rows], minlength=n_tx)
    order = np.lexsort((-o_amt[rows], o_tx[rows]))
    rows = rows[order]
    first = np.r_[True, o_tx[rows][1:] != o_tx[rows][:-1]] if len(rows) else np.zeros(0, bool)
    rows = rows[first]
    wt = o_tx[rows]
    paid_total = np.bincount(o_tx[wm], weights=o_amt[wm], minlength=n_tx)
    wd = {"tx": wt, "pool": sender[wt], "addr": o_addr[rows], "relayed": n_paid[wt] > 1,
          "t": t[wt], "gas": gas[wt], "amount": o_amt[rows], "total": paid_total[wt]}
    return dep, wd


def pool_denominations(dep):
    """Per pool address, its denomination: the most frequent deposit amount (ties: smallest),
    or -1 when no amount occurs twice (no denomination can be told).

    Returns (pools, denominations) as sorted int arrays."""
    if len(dep["pool"]) == 0:
        z = np.zeros(0, np.int64)
        return z, z
    pa = np.unique(np.stack([dep["pool"], dep["amount"]]), axis=1, return_counts=True)
    (p, a), c = pa
    order = np.lexsort((a, -c, p))
    p, a, c = p[order], a[order], c[order]
    first = np.r_[True, p[1:] != p[:-1]]
    return p[first], np.where(c[first] >= 2, a[first], -1)


def keep_denominations(dep, wd, max_fee=0.05):
    """Drop deposits that are not exactly the pool's denomination, and withdrawals whose total
    payout is not within ``[denomination * (1 - max_fee), denomination]``."""
    pools, den = pool_denominations(dep)
    if len(pools) == 0:
        return dep, wd, 0, 0
    dd = den[np.minimum(np.searchsorted(pools, dep["pool"]), len(pools) - 1)]
    keep_d = dd == dep["amount"]
    pos = np.minimum(np.searchsorted(pools, wd["pool"]), len(pools) - 1)
    known = pools[pos] == wd["pool"]
    wdn = np.where(known, den[pos], 0)
    keep_w = known & (wd["total"] <= wdn) & (wd["total"] >= wdn * (1.0 - max_fee))
    dep = {k: v[keep_d] for k, v in dep.items()}
    wd = {k: v[keep_w] for k, v in wd.items()}
    return dep, wd, int((~keep_d).sum()), int((~keep_w).sum())


def _rank(*arrays):
    """Dense ranks of the values of several arrays, on one common scale."""
    allv = np.concatenate(arrays)
    _, inv = np.unique(allv, return_inverse=True)
    out, k = [], 0
    for a in arrays:
        out.append(inv[k:k + len(a)].astype(np.int64))
        k += len(a)
    return out


def _window_portfolios(addr, t, pool_idx, n_pools, window):
    """Per event: counts per pool of the same address's events in [t - window, t]."""
    n = len(addr)
    if n == 0:
        return np.zeros((0, n_pools), np.int64)
    a_rank, = _rank(addr)
    t0 = t.min()
    span = np.int64(t.max() - t0 + window + 2)
    key = a_rank * span + (t - t0 + window + 1)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    lo = np.searchsorted(ks, key[order] - window, "left")
    onehot = np.zeros((n + 1, n_pools), np.int64)
    onehot[np.arange(1, n + 1), pool_idx[order]] = 1
    csum = np.cumsum(onehot, axis=0)
    # events at the same time with a later position are included too
    hi = np.searchsorted(ks, ks, "right")
    port_sorted = csum[hi] - csum[lo]
    out = np.empty_like(port_sorted)
    out[order] = port_sorted
    return out


@njit(cache=True)
def _fifo(pool, t, is_dep, used, max_delay):
    """Per pool, in time order: each withdrawal takes the oldest pending deposit (Cristodaro,
    Kraner & Tessone). Returns (deposit event, withdrawal event, pending count)."""
    n = len(pool)
    out_d = np.empty(n, np.int64)
    out_w = np.empty(n, np.int64)
    out_p = np.empty(n, np.int64)
    queue = np.empty(n, np.int64)
    k = 0
    g0 = 0
    while g0 < n:
        g1 = g0
        while g1 < n and pool[g1] == pool[g0]:
            g1 += 1
        head = 0
        tail = 0
        for r in range(g0, g1):
            if is_dep[r]:
                if not used[r]:
                    queue[tail] = r
                    tail += 1
            elif not used[r]:
                while head < tail and t[r] - t[queue[head]] > max_delay:
                    head += 1
                if head < tail and t[queue[head]] < t[r]:
                    out_d[k] = queue[head]
                    out_w[k] = r
                    out_p[k] = tail - head
                    k += 1
                    head += 1
        g0 = g1
    return out_d[:k], out_w[:k], out_p[:k]


class TornadoHeuristics(Detector):
    """Link deposits to withdrawals of fixed-denomination mixer pools (Tornado Cash).

    Pools are account-chain addresses publicly attributed as mixers; a deposit is a transfer
    into a pool (the depositor is its sender), a withdrawal a transfer out of a pool (the
    recipient is its largest output; more than one output means a relayer fee was paid).
    Heuristics of Wang, Chaliasos, Qin, Zhou, Gao, Berrang, Livshits & Gervais, "On How Zero-
    Knowledge Proof Blockchain Mixers Improve, and Worsen User Privacy" (WWW 2023), with the
    rules and parameters of their implementation in Tutela (``TutelaLabs/tutela-app``,
    ``src/tcash/heuristic.py``):

    1. ``address`` (address match): depositor == recipient, same pool, ``t_d < t_w``; every
       such earlier deposit is linked (confidence 1.0).
    2. ``gas`` (unique gas price): withdrawals without a relayer; deposits whose fee rate is
       unique among the pool's deposits; link to the earlier same-pool deposit with the same
       fee rate (0.9).
    3. ``linked`` (linked addresses): depositor and recipient have at least ``linked_k``
       direct transactions with each other outside the mixer in one direction (at least
       ``linked_k`` from D to R, or at least ``linked_k`` from R to D; the two directions are
       not added up); link the withdrawal to the depositor's earlier deposits into the same
       pool (0.8).
    4. ``multi`` (multi-denomination): the recipient's withdrawals per pool in the
       ``multi_window`` before (and including) a withdrawal, in at least two pools, equal
       exactly the per-pool deposit counts of some depositor in a window of the same length
       ending at an earlier deposit; every deposit of that window is linked, with confidence
       ``0.7 / #matching depositors``. (Tutela's ``1 - 1/#matches`` is a *privacy* score;
       Tutela's deposit window also leaves the current deposit out, ours includes it.)
    5. ``fifo`` (FIFO temporal matching, Cristodaro, Kraner & Tessone, arXiv 2510.09433):
       among deposits and withdrawals not linked above, each withdrawal takes the oldest
       still-pending deposit of its pool younger than ``fifo_max_delay``; confidence
       ``fifo_weight / #pending deposits`` (the FIFO anonymity set). The paper's exact rule
       was not available to us; this is our reading of its abstract.

    TORN anonymity-mining claims (Wang et al.'s fifth heuristic) are not in this ledger.
    Linked address pairs are joined into weakly connected components (Tutela's clusters).

    Parameters
    ----------
    heuristics : tuple of str, default all five
    linked_k : int, default 3
    multi_window : int, default 86400 (seconds; Tutela: 1 day)
    fifo_max_delay : int, default 86400
    fifo_weight : float, default 0.5
    exposure_score : float, default 0.1
        Score of every depositor and recipient, linked or not (mixer exposure).
    denomination_only : bool, default True
        Keep only deposits of exactly the pool's denomination (its most frequent deposit
        amount) and withdrawals paying out between 95% and 100% of it; a Tornado pool
        contract accepts nothing else.

    Scores
    ------
    links : (deposit tx, withdrawal tx, confidence), the best confidence per pair.
    address : depositors and recipients: the largest confidence of their links, at least
        ``exposure_score``; pool addresses 0.
    info : ``n_links`` per heuristic, ``clusters`` (list of address arrays, size >= 2),
        ``n_deposits``, ``n_withdrawals``.
    """

    name: ClassVar[str] = "tornado-heuristics"
    description: ClassVar[str] = (
        "Tornado Cash deposit->withdrawal linking: Wang et al./Tutela heuristics + FIFO matching")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "link")}

    def __init__(self, heuristics: tuple = HEURISTICS, linked_k: int = 3,
                 multi_window: int = DAY, fifo_max_delay: int = DAY, fifo_weight: float = 0.5,
                 exposure_score: float = 0.1, denomination_only: bool = True):
        self.heuristics = heuristics
        self.linked_k = linked_k
        self.multi_window = multi_window
        self.fifo_max_delay = fifo_max_delay
        self.fifo_weight = fifo_weight
        self.exposure_score = exposure_score
        self.denomination_only = denomination_only

    def _score(self, view) -> Scores:
        hs = (self.heuristics,) if isinstance(self.heuristics, str) else tuple(self.heuristics)
        for h in hs:
            if h not in HEURISTICS:
                raise ConfigError(f"unknown heuristic {h!r} (known: {', '.join(HEURISTICS)})")
        k_link = int(check_number("linked_k", self.linked_k, lo=1, integer=True))
        win = int(check_number("multi_window", self.multi_window, lo=0, integer=True))
        max_delay = int(check_number("fifo_max_delay", self.fifo_max_delay, lo=0, integer=True))
        fw = float(check_number("fifo_weight", self.fifo_weight, lo=0, hi=1))
        expo = float(check_number("exposure_score", self.exposure_score, lo=0, hi=1))
        n = view.n_addresses
        dep, wd = mixer_events(view)
        n_odd = (0, 0)
        if self.denomination_only:
            dep, wd, *n_odd = keep_denominations(dep, wd)
        info = {"n_links": {h: 0 for h in hs}, "clusters": [],
                "n_deposits": len(dep["tx"]), "n_withdrawals": len(wd["tx"]),
                "n_dropped_deposits": n_odd[0], "n_dropped_withdrawals": n_odd[1]}
        if len(dep["tx"]) == 0 or len(wd["tx"]) == 0:
            s_addr = np.zeros(n)
            s_addr = np.maximum(s_addr, scatter_max(n, dep["addr"], np.full(len(dep["addr"]), expo)))
            s_addr = np.maximum(s_addr, scatter_max(n, wd["addr"], np.full(len(wd["addr"]), expo)))
            return Scores(address=s_addr, links=empty_links(), info=info)
        L_d, L_w, L_s = [], [], []   # event indices (into dep / wd) and confidences

        def add(h, di, wi, sc):
            ok = dep["t"][di] < wd["t"][wi]
            di, wi = di[ok], wi[ok]
            sc = np.broadcast_to(np.asarray(sc, dtype=np.float64), ok.shape)[ok]
            L_d.append(di)
            L_w.append(wi)
            L_s.append(sc)
            info["n_links"][h] = int(len(unique_sorted(di * np.int64(len(wd["tx"]) + 1) + wi)))

        if "address" in hs:
            i, j = equi_join(wd["pool"] * np.int64(n) + wd["addr"],
                             dep["pool"] * np.int64(n) + dep["addr"])
            add("address", j, i, W_ADDRESS)
        if "gas" in hs:
            gd, gw = _rank(dep["gas"], wd["gas"])
            kd = dep["pool"] * np.int64(len(gd) + len(gw) + 1) + gd
            kw = wd["pool"] * np.int64(len(gd) + len(gw) + 1) + gw
            u, cnt = np.unique(kd, return_counts=True)
            unique_d = np.isin(kd, u[cnt == 1])
            dsel = np.flatnonzero(unique_d)
            wsel = np.flatnonzero(~wd["relayed"])
            i, j = equi_join(kw[wsel], kd[dsel])
            add("gas", dsel[j], wsel[i], W_GAS)
        if "linked" in hs:
            self._linked(view, dep, wd, k_link, add)
        if "multi" in hs:
            self._multi(dep, wd, win, add)

        d_idx = np.concatenate(L_d) if L_d else np.zeros(0, np.int64)
        w_idx = np.concatenate(L_w) if L_w else np.zeros(0, np.int64)
        sc = np.concatenate(L_s) if L_s else np.zeros(0)
        n_det = len(sc)
        if "fifo" in hs:
            used_d = np.zeros(len(dep["tx"]), bool)
            used_w = np.zeros(len(wd["tx"]), bool)
            used_d[d_idx] = True
            used_w[w_idx] = True
            pool = np.r_[dep["pool"], wd["pool"]]
            t = np.r_[dep["t"], wd["t"]]
            is_dep = np.r_[np.ones(len(dep["tx"]), bool), np.zeros(len(wd["tx"]), bool)]
            used = np.r_[used_d, used_w]
            order = np.lexsort((is_dep, t, pool))   # withdrawals before deposits at equal t
            fd, fwd, pending = _fifo(pool[order], t[order], is_dep[order], used[order],
                                     np.int64(max_delay))
            fd, fwd = order[fd], order[fwd] - len(dep["tx"])
            info["n_links"]["fifo"] = int(len(fd))
            d_idx = np.r_[d_idx, fd]
            w_idx = np.r_[w_idx, fwd]
            sc = np.r_[sc, fw / np.maximum(pending, 1)]

        links = make_links(dep["tx"][d_idx], wd["tx"][w_idx], sc)
        s_addr = np.zeros(n)
        s_addr = np.maximum(s_addr, scatter_max(n, dep["addr"], np.full(len(dep["addr"]), expo)))
        s_addr = np.maximum(s_addr, scatter_max(n, wd["addr"], np.full(len(wd["addr"]), expo)))
        s_addr = np.maximum(s_addr, scatter_max(n, dep["addr"][d_idx], sc))
        s_addr = np.maximum(s_addr, scatter_max(n, wd["addr"][w_idx], sc))
        # clusters of addresses joined by deterministic links (not FIFO)
        det = np.arange(len(sc)) < n_det
        a, b = dep["addr"][d_idx[det]], wd["addr"][w_idx[det]]
        if len(a):
            g = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
            _, lab = connected_components(g, directed=True, connection="weak")
            members = unique_sorted(np.r_[a, b])
            lab_m = lab[members]
            o = np.argsort(lab_m, kind="stable")
            groups = np.split(members[o], np.flatnonzero(np.diff(lab_m[o])) + 1)
            info["clusters"] = [g_.astype(np.int64) for g_ in groups if len(g_) >= 2]
        return Scores(address=s_addr, links=links, info=info)

    @staticmethod
    def _linked(view, dep, wd, k_link, add):
        n = view.n_addresses
        tr = view.transfers()
        pools = unique_sorted(np.r_[dep["pool"], wd["pool"]])
        src = np.asarray(tr["src"], dtype=np.int64)
        dst = np.asarray(tr["dst"], dtype=np.int64)
        # only transfers between a depositor and a recipient can link them
        is_dep = np.zeros(n, bool)
        is_rec = np.zeros(n, bool)
        is_dep[dep["addr"]] = True
        is_rec[wd["addr"]] = True
        is_pool = np.zeros(n, bool)
        is_pool[pools] = True
        ok = ((src != dst) & ~is_pool[src] & ~is_pool[dst]
              & ((is_dep[src] & is_rec[dst]) | (is_rec[src] & is_dep[dst])))
        a, b = src[ok], dst[ok]
        txs = np.asarray(tr["tx_id"], dtype=np.int64)[ok]
        # distinct transactions per ordered pair (sender, receiver): Tutela counts one
        # direction at a time
        key = a * np.int64(n) + b
        o = np.lexsort((txs, key))
        key, txs = key[o], txs[o]
        first = np.r_[True, (key[1:] != key[:-1]) | (txs[1:] != txs[:-1])] if len(key) else \
            np.zeros(0, bool)
        u, cnt = np.unique(key[first], return_counts=True)
        u = u[cnt >= k_link]
        a, b = u // n, u % n
        u = unique_sorted(np.minimum(a, b) * np.int64(n) + np.maximum(a, b))  # either direction
        pairs = np.stack([u // n, u % n], axis=1)
        if len(pairs) == 0:
            return
        x = np.r_[pairs[:, 0], pairs[:, 1]]
        y = np.r_[pairs[:, 1], pairs[:, 0]]
        wi, pi = equi_join(wd["addr"], x)
        partner = y[pi]
        i, j = equi_join(wd["pool"][wi] * np.int64(n) + partner,
                         dep["pool"] * np.int64(n) + dep["addr"])
        add("linked", j, wi[i], W_LINKED)

    @staticmethod
    def _multi(dep, wd, win, add):
        pools, inv = np.unique(np.r_[dep["pool"], wd["pool"]], return_inverse=True)
        P = len(pools)
        if P < 2:
            return
        pd_, pw = inv[: len(dep["pool"])], inv[len(dep["pool"]):]
        port_d = _window_portfolios(dep["addr"], dep["t"], pd_, P, win)
        port_w = _window_portfolios(wd["addr"], wd["t"], pw, P, win)
        multi = (port_w > 0).sum(axis=1) >= 2
        if not multi.any():
            return
        wsel = np.flatnonzero(multi)
        allp = np.r_[port_d, port_w[wsel]]
        _, pid = np.unique(allp, axis=0, return_inverse=True)
        pid = pid.reshape(-1)
        pid_d, pid_w = pid[: len(port_d)], pid[len(port_d):]
        wi, dj = equi_join(pid_w, pid_d)
        wi = wsel[wi]
        ok = dep["t"][dj] < wd["t"][wi]
        wi, dj = wi[ok], dj[ok]
        if len(wi) == 0:
            return
        # confidence: 1 / number of distinct matching depositors per withdrawal
        u = np.unique(np.stack([wi, dep["addr"][dj]]), axis=1)
        n_dep = np.bincount(u[0], minlength=len(wd["tx"]))
        conf = W_MULTI / n_dep[wi]
        # link the members of both windows, pool by pool (Tutela puts both windows' txs in one
        # cluster): deposits of D in [t_d - win, t_d] x withdrawals of R in [t_w - win, t_w]
        i2, dm = equi_join(dep["addr"][dj], dep["addr"])
        ok = (dep["t"][dm] <= dep["t"][dj[i2]]) & (dep["t"][dm] >= dep["t"][dj[i2]] - win)
        i2, dm = i2[ok], dm[ok]
        i3, wm = equi_join(wd["addr"][wi[i2]], wd["addr"])
        w_end = wd["t"][wi[i2[i3]]]
        ok = (wd["t"][wm] <= w_end) & (wd["t"][wm] >= w_end - win)
        ok &= wd["pool"][wm] == dep["pool"][dm[i3]]
        add("multi", dm[i3][ok], wm[ok], conf[i2[i3]][ok])
