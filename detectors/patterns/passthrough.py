"""Rapid pass-through / velocity (an industry typology rule; the thresholds are ours)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from launderbench.detectors.base import Detector, Scores
from launderbench.simulator.schema import DAY

from ._common import address_service, check_number, tx_time


@njit(cache=True)
def _fifo_pieces(key, is_in, amount, t):
    """Events sorted by (key, time, out-before-in). Clayton's case per key: each outgoing
    amount pops received lots from the front. Returns the pieces (event row of the outflow,
    holding time, amount)."""
    n = len(key)
    p_row = np.empty(2 * n, np.int64)
    p_hold = np.empty(2 * n, np.int64)
    p_amt = np.empty(2 * n, np.float64)
    lots = np.empty(n, np.int64)       # row of each received lot, in arrival order
    rem = np.empty(n, np.float64)
    k = 0
    g0 = 0
    while g0 < n:
        g1 = g0
        while g1 < n and key[g1] == key[g0]:
            g1 += 1
        head = g0
        tail = g0
        for r in range(g0, g1):
            if is_in[r]:
                lots[tail] = r
                rem[tail] = amount[r]
                tail += 1
            else:
                x = amount[r]
                while x > 0 and head < tail:
                    take = min(rem[head], x)
                    p_row[k] = r
                    p_hold[k] = t[r] - t[lots[head]]
                    p_amt[k] = take
                    k += 1
                    rem[head] -= take
                    x -= take
                    if rem[head] <= 0:
                        head += 1
        g0 = g1
    return p_row[:k], p_hold[:k], p_amt[:k]


def weighted_median_by_group(group, value, weight, n):
    """Per group the weighted median of ``value`` (NaN where the group is empty)."""
    out = np.full(n, np.nan)
    if len(group) == 0:
        return out
    value = np.asarray(value)
    if np.issubdtype(value.dtype, np.integer) and len(value) and value.min() >= 0:
        # one int64 sort key instead of a two-key lexsort
        span = np.int64(value.max()) + 1
        order = np.argsort(np.asarray(group, np.int64) * span + value, kind="stable")
    else:
        order = np.lexsort((value, group))
    g, v, w = group[order], value[order], weight[order]
    cw = np.cumsum(w)
    heads = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[heads[1:], len(g)] - 1
    base = np.r_[0.0, cw[:-1]][heads]
    total = cw[ends] - base
    half = base + 0.5 * total
    # first row in each group whose cumulative weight reaches half
    idx = np.searchsorted(cw, half, "left")
    idx = np.minimum(np.maximum(idx, heads), ends)
    out[g[heads]] = v[idx]
    return out


class PassThrough(Detector):
    """Rapid pass-through (velocity): value comes in and leaves again almost at once.

    This is an industry typology rule (FATF red-flag indicators: funds "moved through
    quickly", pass-through / funnel accounts) with no canonical paper; the exact rule and its
    thresholds are **project-defined**. Address ``a`` is flagged when all four hold:

    1. ``out(a, window) / in(a, window) >= theta``, both summed in USD over the ``window``
       seconds that start at ``a``'s first receipt;
    2. the value-weighted median FIFO-lot holding time is ``<= tau`` (Clayton's case per
       address and asset: each outflow pops received lots from the front, as in Anderson et
       al., "Bitcoin Redux", WEIS 2018; for account chains the fee counts as outflow);
    3. the balance returns to about zero: ``(in - out) <= balance_eps * in`` over the whole
       view;
    4. the address is young: last activity minus first receipt ``< max_age``.

    Publicly attributed service addresses are skipped when ``skip_services``.

    Parameters
    ----------
    theta : float, default 0.9
    tau : int, default 86400 (seconds)
    window : int, default 7 days (seconds)
    balance_eps : float, default 0.05
    max_age : int, default 30 days (seconds)
    min_usd : float, default 0.0
        Ignore addresses that received less than this (dust).
    skip_services : bool, default True

    Scores
    ------
    address : ``(#conditions met / 4) / (1 + median_hold / tau)``; flagged addresses score
        >= 0.5, addresses without outflow 0.
    transaction : the largest score of the transaction's input addresses.
    info : ``ratio``, ``median_hold`` (seconds, NaN if no outflow), ``flagged`` (address ids).
    """

    name: ClassVar[str] = "pass-through"
    description: ClassVar[str] = (
        "Rapid pass-through: out/in >= theta, short FIFO holding time, balance back to ~0, "
        "young address (project rule)")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "transaction")}

    def __init__(self, theta: float = 0.9, tau: int = DAY, window: int = 7 * DAY,
                 balance_eps: float = 0.05, max_age: int = 30 * DAY, min_usd: float = 0.0,
                 skip_services: bool = True):
        self.theta = theta
        self.tau = tau
        self.window = window
        self.balance_eps = balance_eps
        self.max_age = max_age
        self.min_usd = min_usd
        self.skip_services = skip_services

    def _score(self, view) -> Scores:
        theta = float(check_number("theta", self.theta, lo=0, lo_open=True))
        tau = float(check_number("tau", self.tau, lo=0, lo_open=True))
        window = int(check_number("window", self.window, lo=0, integer=True))
        eps = float(check_number("balance_eps", self.balance_eps, lo=0, hi=1))
        max_age = float(check_number("max_age", self.max_age, lo=0, lo_open=True))
        min_usd = float(check_number("min_usd", self.min_usd, lo=0))
        n, n_tx = view.n_addresses, view.n_transactions
        s_addr = np.zeros(n)
        s_tx = np.zeros(n_tx)
        info = {"ratio": np.zeros(n), "median_hold": np.full(n, np.nan),
                "flagged": np.zeros(0, np.int64)}
        if n_tx == 0:
            return Scores(address=s_addr, transaction=s_tx, info=info)
        ttx = tx_time(view)
        price = view.usd_per_base_unit()
        o, i = view.outputs, view.inputs
        n_assets = len(price)
        # events: inflows are outputs, outflows are input legs
        addr = np.concatenate([np.asarray(i["address_id"]), np.asarray(o["address_id"])])
        asset = np.concatenate([np.asarray(i["asset_id"]), np.asarray(o["asset_id"])])
        amt = np.concatenate([np.asarray(i["amount"]), np.asarray(o["amount"])]).astype(float)
        txs = np.concatenate([np.asarray(i["tx_id"]), np.asarray(o["tx_id"])]).astype(np.int64)
        is_in = np.r_[np.zeros(i.num_rows, bool), np.ones(o.num_rows, bool)]
        addr = addr.astype(np.int64)
        t = ttx[txs]
        usd = amt * price[asset]
        key = addr * np.int64(n_assets) + asset
        order = np.argsort((key * np.int64(n_tx) + txs) * 2 + is_in, kind="stable")
        rows, hold, pamt = _fifo_pieces(key[order], is_in[order], amt[order], t[order])
        prow = order[rows]
        pusd = pamt * price[asset[prow]]
        med = weighted_median_by_group(addr[prow], np.maximum(hold, 0), pusd, n).astype(float)

        in_usd = np.bincount(addr[is_in], weights=usd[is_in], minlength=n)
        out_usd = np.bincount(addr[~is_in], weights=usd[~is_in], minlength=n)
        big = np.iinfo(np.int64).max
        first_in = np.full(n, big, dtype=np.int64)
        np.minimum.at(first_in, addr[is_in], t[is_in])
        last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(last, addr, t)
        has_in = first_in < big
        fi = np.where(has_in, first_in, 0)
        inwin = (t >= fi[addr]) & (t <= fi[addr] + window)
        w_in = np.bincount(addr[is_in & inwin], weights=usd[is_in & inwin], minlength=n)
        w_out = np.bincount(addr[~is_in & inwin], weights=usd[~is_in & inwin], minlength=n)
        ratio = np.where(w_in > 0, w_out / np.where(w_in > 0, w_in, 1), 0.0)
        c1 = ratio >= theta
        c2 = np.nan_to_num(med, nan=np.inf) <= tau
        c3 = (in_usd - out_usd) <= eps * in_usd
        c4 = (last - fi) < max_age
        active = has_in & (out_usd > 0) & (in_usd > min_usd) & ~np.isnan(med)
        if self.skip_services:
            active &= address_service(view) == 0
        met = c1.astype(int) + c2 + c3 + c4
        base = 1.0 / (1.0 + np.nan_to_num(med, nan=np.inf) / tau)
        s_addr = np.where(active, met / 4.0 * base, 0.0)
        flagged = np.flatnonzero(active & c1 & c2 & c3 & c4)
        ia = np.asarray(i["address_id"], dtype=np.int64)
        if len(ia):
            np.maximum.at(s_tx, np.asarray(i["tx_id"], dtype=np.int64), s_addr[ia])
        info = {"ratio": ratio, "median_hold": med, "flagged": flagged.astype(np.int64)}
        return Scores(address=s_addr, transaction=s_tx, info=info)
