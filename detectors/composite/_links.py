"""Minimal building blocks of the investigator that no other package provides (or, where a
package provides them, a fallback used when its detector is not registered).

* :func:`trace_from` runs a :mod:`launderbench.detectors.tracing` policy from an arbitrary set of seed
  transactions with an arbitrary per-output stop mask.
* :func:`bridge_memo_links` pairs bridge locks and releases that carry the same public deposit
  id, the identifier-based rule of XChainWatcher (Augusto et al., arXiv 2410.02029).
* :func:`swap_return_links` pairs a payment into a DEX pool with the pool's next payment back
  to the same address within a window (a swap's two legs).
* :func:`mixer_links` applies two Tornado Cash heuristics of Wang et al. (WWW'23, as in Tutela):
  address match (the recipient is the depositor) and unique gas price (a deposit whose fee rate
  is unique in its pool, matched to a later withdrawal with that fee rate), on mixer pools that
  are publicly attributed.
* :func:`amount_time_links`: one-to-one value and time matching inside a service, the last
  resort for tainted deposits that nothing else explains.

Every link is ``(in_tx_id, out_tx_id)`` with ``t(in) <= t(out)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.schema import ServiceKind

from ..bridges.assign import take_in_order
from ..graph._common import dense_relabel

_EMPTY = np.zeros(0, dtype=np.int64)
#: Services whose payouts a payment into an unattributed intake endpoint may match.
WILDCARD_KINDS = np.asarray((ServiceKind.OTC, ServiceKind.MARKETPLACE), dtype=np.int64)


def trace_from(view, policy, seed_tx, stop_out, max_hops=None):
    """Taint per output (base units, USD) tracing ``policy`` from the outputs of ``seed_tx``,
    recording but not propagating taint on the outputs flagged in ``stop_out``
    (:func:`launderbench.detectors.tracing.trace` with its ``seed_tx`` / ``stop`` overrides)."""
    from launderbench.detectors.tracing import trace

    n_out = view.outputs.num_rows
    if n_out == 0 or not np.any(seed_tx):
        return np.zeros(n_out), np.zeros(n_out)
    res = trace(view, policy, max_hops=max_hops, seed_tx=seed_tx, stop=stop_out)
    return res.output_taint, res.output_usd


def tx_first_input_address(view) -> np.ndarray:
    """Address of each transaction's first input (-1 for issuance)."""
    ins = view.inputs
    first = np.full(view.n_transactions, -1, dtype=np.int64)
    if ins.num_rows:
        m = ins["index"] == 0
        first[ins["tx_id"][m]] = ins["address_id"][m]
    return first


def service_payments(view, kinds, extra=None):
    """(tx_id, output_id, service address) of outputs paid into attributed ``kinds`` services
    (or into the addresses flagged in ``extra``) by a transaction whose first input is not such
    an address."""
    svc = np.isin(view.addresses["service_kind"], np.asarray(kinds, dtype=np.int64))
    if extra is not None:
        svc = svc | extra
    outs = view.outputs
    src = tx_first_input_address(view)
    to_svc = svc[outs["address_id"]]
    from_svc = np.zeros(outs.num_rows, dtype=bool)
    s = src[outs["tx_id"]]
    from_svc[s >= 0] = svc[s[s >= 0]]
    m = np.flatnonzero(to_svc & ~from_svc & (s >= 0))
    return outs["tx_id"][m], m, outs["address_id"][m]


def fan_counts(view):
    """(distinct senders, distinct recipients, USD in, USD out) per address (what
    :func:`hub_sinks` and :func:`hub_sources` read; compute it once and pass it to both)."""
    n = view.n_addresses
    tr = view.transfers()
    keep = tr["src"] != tr["dst"]
    src, dst, usd = tr["src"][keep], tr["dst"][keep], tr["usd"][keep]
    pairs = unique_sorted(src * np.int64(n) + dst)
    recipients = np.bincount(pairs // n, minlength=n)
    senders = np.bincount(pairs % n, minlength=n)
    inflow = np.bincount(dst, weights=usd, minlength=n)
    outflow = np.bincount(src, weights=usd, minlength=n)
    return senders, recipients, inflow, outflow


def hub_sinks(view, min_senders=20, max_out_ratio=0.5, max_recipients=10,
              counts=None) -> np.ndarray:
    """Unattributed addresses that look like a service's intake endpoint: paid by at least
    ``min_senders`` distinct addresses, paying at most ``max_recipients`` distinct addresses
    and passing on at most ``max_out_ratio`` of the USD they received (an OTC desk or mixer
    intake that settles elsewhere). ``counts``: :func:`fan_counts` of the view, if already
    computed. Bool per address."""
    n = view.n_addresses
    if n == 0 or len(view.transfers()["src"]) == 0:
        return np.zeros(n, dtype=bool)
    senders, recipients, inflow, outflow = fan_counts(view) if counts is None else counts
    attributed = np.asarray(view.addresses["service_kind"]) != ServiceKind.NONE
    return (~attributed & (senders >= min_senders) & (recipients <= max_recipients)
            & (inflow > 0) & (outflow <= max_out_ratio * inflow))


def hub_sources(view, min_recipients=20, max_senders=10, counts=None) -> np.ndarray:
    """Unattributed addresses that look like a service's payout endpoint: paying at least
    ``min_recipients`` distinct addresses while funded by at most ``max_senders``
    (``counts`` as in :func:`hub_sinks`). Bool per address."""
    n = view.n_addresses
    if n == 0 or len(view.transfers()["src"]) == 0:
        return np.zeros(n, dtype=bool)
    senders, recipients, _, _ = fan_counts(view) if counts is None else counts
    attributed = np.asarray(view.addresses["service_kind"]) != ServiceKind.NONE
    return ~attributed & (recipients >= min_recipients) & (senders <= max_senders)


def bridge_memo_links(view):
    """Bridge lock -> release pairs sharing a public deposit id (``memo``)."""
    memo = view.transactions["memo"]
    svc = np.asarray(view.addresses["service_kind"]) == ServiceKind.BRIDGE
    src = tx_first_input_address(view)
    has_memo = memo >= 0
    if not has_memo.any():
        return _EMPTY, _EMPTY.copy()
    tx_ids = np.flatnonzero(has_memo)
    from_bridge = np.zeros(len(tx_ids), dtype=bool)
    ok = src[tx_ids] >= 0
    from_bridge[ok] = svc[src[tx_ids[ok]]]
    lock, release = tx_ids[~from_bridge], tx_ids[from_bridge]
    if len(lock) == 0 or len(release) == 0:
        return _EMPTY, _EMPTY.copy()
    # first release with the same memo at or after the lock
    ts = view.transactions["timestamp"]
    order = np.lexsort((ts[release], memo[release]))
    rel_sorted = release[order]
    keys = memo[rel_sorted]
    pos = np.searchsorted(keys, memo[lock], "left")
    ins, outs = [], []
    for lk, p in zip(lock, pos):
        while p < len(rel_sorted) and keys[p] == memo[lk]:
            if ts[rel_sorted[p]] >= ts[lk]:
                ins.append(lk)
                outs.append(rel_sorted[p])
                break
            p += 1
    return np.asarray(ins, np.int64), np.asarray(outs, np.int64)


def _payouts(view, kinds, extra=None):
    """(tx_id, recipient, pool address) of outputs paid by an attributed ``kinds`` service (or
    an address flagged in ``extra``) to a non-service address."""
    svc = np.isin(view.addresses["service_kind"], np.asarray(kinds, dtype=np.int64))
    payer = svc if extra is None else (svc | extra)
    outs = view.outputs
    src = tx_first_input_address(view)
    s = src[outs["tx_id"]]
    ok = s >= 0
    from_svc = np.zeros(outs.num_rows, dtype=bool)
    from_svc[ok] = payer[s[ok]]
    m = np.flatnonzero(from_svc & ~svc[outs["address_id"]])
    return outs["tx_id"][m], outs["address_id"][m], s[m]


def swap_return_links(view, window=3600):
    """DEX swap legs: payment from ``a`` into a DEX pool, then the pool's first payment back to
    ``a`` within ``window`` seconds."""
    d_tx, _, d_pool = service_payments(view, (ServiceKind.DEX,))
    if len(d_tx) == 0:
        return _EMPTY, _EMPTY.copy()
    src = tx_first_input_address(view)
    d_from = src[d_tx]
    w_tx, w_to, w_pool = _payouts(view, (ServiceKind.DEX,))
    ts = view.transactions["timestamp"]
    return _match_first_after(d_tx, d_from, d_pool, w_tx, w_to, w_pool, ts, window)


def _match_first_after(d_tx, d_key, d_pool, w_tx, w_key, w_pool, ts, window):
    """For each deposit, the first payout with the same (key, pool) in [t_d, t_d + window]."""
    if len(w_tx) == 0:
        return _EMPTY, _EMPTY.copy()
    order = np.lexsort((ts[w_tx], w_pool, w_key))
    wk, wp, wt, wx = w_key[order], w_pool[order], ts[w_tx][order], w_tx[order]
    ins, outs = [], []
    for i in range(len(d_tx)):
        t0 = ts[d_tx[i]]
        lo = np.searchsorted(wk, d_key[i], "left")
        hi = np.searchsorted(wk, d_key[i], "right")
        for p in range(lo, hi):
            if wp[p] == d_pool[i] and t0 <= wt[p] <= t0 + window and wx[p] != d_tx[i]:
                ins.append(d_tx[i])
                outs.append(wx[p])
                break
    return np.asarray(ins, np.int64), np.asarray(outs, np.int64)


def mixer_links(view):
    """Tornado-style heuristics on attributed mixer pools: address match and unique gas price.

    Address match (Wang et al. H1): the withdrawal pays the depositing address, same pool, later.
    Unique gas price (H2): on account chains, a deposit whose fee rate no other deposit into the
    same pool uses is linked to the first later withdrawal from that pool with that fee rate.
    """
    d_tx, _, d_pool = service_payments(view, (ServiceKind.MIXER,))
    if len(d_tx) == 0:
        return _EMPTY, _EMPTY.copy()
    src = tx_first_input_address(view)
    d_from = src[d_tx]
    w_tx, w_to, w_pool = _payouts(view, (ServiceKind.MIXER,))
    ts = view.transactions["timestamp"]
    big = np.iinfo(np.int64).max // 4
    a_in, a_out = _match_first_after(d_tx, d_from, d_pool, w_tx, w_to, w_pool, ts, big)
    fr = view.transactions["fee_rate"]
    acct = ~np.asarray(view.is_utxo_tx(), dtype=bool)
    keep = acct[d_tx]
    key = np.stack([d_pool[keep], fr[d_tx][keep]], axis=1)
    if len(key):
        _, inv, cnt = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        uniq_dep = d_tx[keep][cnt[inv.ravel()] == 1]
        uniq_pool = d_pool[keep][cnt[inv.ravel()] == 1]
    else:
        uniq_dep, uniq_pool = _EMPTY, _EMPTY
    wa = acct[w_tx]
    w_tx1, w_pool1 = np.unique(np.stack([w_tx[wa], w_pool[wa]], axis=1), axis=0).T \
        if wa.any() else (_EMPTY, _EMPTY)
    g_in, g_out = _match_first_after(uniq_dep, fr[uniq_dep], uniq_pool, w_tx1, fr[w_tx1],
                                     w_pool1, ts, big)
    pairs = np.unique(np.stack([np.concatenate([a_in, g_in]), np.concatenate([a_out, g_out])],
                               axis=1), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def _pool_keys(view) -> np.ndarray:
    """Pool id per address: attributed services group by ``service_name`` (a mixer's or
    bridge's addresses on every chain), any other address is its own pool."""
    names = view.addresses["service_name"]
    kind = np.asarray(view.addresses["service_kind"], dtype=np.int64)
    n = view.n_addresses
    key = np.arange(n, dtype=np.int64) + 1_000_000_000  # distinct from name codes
    named = np.flatnonzero((kind != ServiceKind.NONE)
                           & np.array([bool(x) for x in names], dtype=bool))
    if len(named):
        _, code = np.unique(np.asarray([str(names[i]) for i in named]), return_inverse=True)
        key[named] = code
    return key


def amount_time_links(view, kinds=(ServiceKind.MIXER, ServiceKind.BRIDGE), phi=0.05,
                      max_delay=7 * 86_400, return_candidates=False, max_candidates=64,
                      rate_tol=1e-3, extra_deposit=None, strict_kinds=None,
                      extra_payer=None):
    """One-to-one deposit -> payout matching by value and time within a service.

    A deposit of USD value ``v`` at time ``t`` into an attributed service pool may match a
    payout of the same pool (same address, or same ``service_name`` across chains) to a
    non-service address with value ``w`` in ``[v (1 - phi), v]`` and time in
    ``(t, t + max_delay]`` (at most ``max_candidates`` per deposit, earliest first). A service
    applies one rate (a desk's spread, a mixer's or bridge's fee), so per pool and asset pair
    the most common ratio ``w / v`` (binned to ``rate_tol / 2``) is taken as the service's rate
    (credible when its bin holds at least 2 pairs and 4 times the band's average), and each
    candidate costs ``|w / v - rate|``. Candidates are then assigned one-to-one by
    increasing cost, then delay. This is the benchmark's bridge matcher design
    (detection-methods §5) with FIFO-style tie breaking as in the temporal matching of
    Cristodaro, Kraner & Tessone (arXiv 2510.09433). Pools with fixed denominations stay
    ambiguous; it is meant as the last resort after identifier and fingerprint links.

    ``extra_deposit`` (bool per address, e.g. :func:`hub_sinks`) adds payments into
    unattributed endpoints (CoinJoins excluded); those may match a payout of any OTC desk or
    marketplace among ``kinds``.

    ``extra_payer`` (bool per address, e.g. :func:`hub_sources`) lets payouts of unattributed
    endpoints answer payments into unattributed intakes and into attributed desks and
    marketplaces. For those, and for services in
    ``strict_kinds`` (exchanges, which pay arbitrary amounts all the time), only matches at the
    estimated rate are kept.

    With ``return_candidates`` a third array gives the ambiguity of each match: the number of
    the deposit's candidates within ``rate_tol`` of the rate (1 = unambiguous), or twice its
    number of candidates when the chosen one is off the rate.
    """
    empty = (_EMPTY, _EMPTY.copy(), _EMPTY.copy()) if return_candidates else \
        (_EMPTY, _EMPTY.copy())
    d_tx, d_out, d_addr = service_payments(view, kinds, extra_deposit)
    if extra_deposit is not None and len(d_tx):  # a CoinJoin pays no service
        from launderbench.detectors.clustering.coinjoin import RULES, is_coinjoin

        # every default rule of the coinjoin detector (generic, Whirlpool, Wasabi 1.x, WabiSabi)
        keep = ~is_coinjoin(view, RULES)[d_tx]
        d_tx, d_out, d_addr = d_tx[keep], d_out[keep], d_addr[keep]
    w_tx, w_to, w_pool = _payouts(view, kinds, extra_payer)
    if len(d_tx) == 0 or len(w_tx) == 0:
        return empty
    pool = _pool_keys(view)
    wild = np.zeros(view.n_addresses, dtype=bool) if extra_deposit is None else \
        extra_deposit & ~np.isin(view.addresses["service_kind"], np.asarray(kinds, np.int64))
    price = view.usd_per_base_unit()
    outs = view.outputs
    tx_asset = np.asarray(view.transactions["asset_id"], dtype=np.int64)
    out_usd = outs["amount"] * price[outs["asset_id"]]
    d_tx_u, first, d_rank = np.unique(d_tx, return_index=True, return_inverse=True)
    d_usd = np.bincount(d_rank.ravel(), weights=out_usd[d_out])
    d_pool = pool[d_addr[first]]
    d_wild = wild[d_addr[first]]
    if extra_payer is not None:  # a desk's payout endpoint may be unattributed as well
        d_wild |= np.isin(np.asarray(view.addresses["service_kind"], np.int64)[d_addr[first]],
                          WILDCARD_KINDS)
    # payout value: the tx's outputs to non-service addresses (one row per payout tx)
    w_tx_u, w_first = np.unique(w_tx, return_index=True)
    w_usd = np.zeros(len(w_tx_u))
    svc = np.isin(view.addresses["service_kind"], np.asarray(kinds, dtype=np.int64))
    # ...excluding change: outputs to addresses that themselves fund a payout (a UTXO vault's
    # or reserve's change address)
    ins = view.inputs
    payer_side = np.zeros(view.n_addresses, dtype=bool)
    payer_side[ins["address_id"][np.isin(ins["tx_id"], w_tx_u)]] = True
    m = np.isin(outs["tx_id"], w_tx_u) & ~svc[outs["address_id"]] & ~payer_side[outs["address_id"]]
    np.add.at(w_usd, np.searchsorted(w_tx_u, outs["tx_id"][m]), out_usd[m])
    w_p = pool[w_pool[w_first]]
    ts = view.transactions["timestamp"]
    order = np.lexsort((ts[w_tx_u], w_p))
    w_tx_u, w_usd, w_p = w_tx_u[order], w_usd[order], w_p[order]
    w_t = ts[w_tx_u]
    # an endpoint of unknown pool is matched only to desks and marketplaces (cash-out services)
    kind = np.asarray(view.addresses["service_kind"], dtype=np.int64)
    w_payer = w_pool[w_first][order]
    w_extra = np.zeros(len(w_payer), dtype=bool) if extra_payer is None else \
        extra_payer[w_payer] & (kind[w_payer] == ServiceKind.NONE)
    w_cash = np.isin(kind[w_payer], WILDCARD_KINDS) | w_extra
    by_time = np.argsort(w_t, kind="stable")  # all pools, for endpoints of unknown pool
    cash_seq = by_time[w_cash[by_time]].astype(np.int64)
    lo = np.searchsorted(w_p, d_pool, "left")
    hi = np.searchsorted(w_p, d_pool, "right")
    perm_p, vals_p = _value_blocks(w_usd)
    perm_c, vals_c = _value_blocks(w_usd[cash_seq])
    cd, cw = _band_candidates(ts[d_tx_u], d_usd, d_tx_u, d_wild, lo, hi, w_t, w_tx_u,
                              cash_seq, w_t[cash_seq], perm_p, vals_p, perm_c, vals_c,
                              float(phi), int(max_delay), int(max_candidates))
    if len(cd) == 0:
        return empty
    ratio = w_usd[cw] / d_usd[cd]
    # the service's rate: the most common ratio per (pool, deposit asset, payout asset)
    grp = _row_ranks([d_pool[cd], w_p[cw], tx_asset[d_tx_u[cd]], tx_asset[w_tx_u[cw]]])
    rbin = np.round(ratio / (rate_tol / 2)).astype(np.int64)
    pairs, cnt = _unique_rows([grp, rbin])
    o = np.lexsort((-cnt, pairs[:, 0]))
    head = np.r_[True, pairs[o][1:, 0] != pairs[o][:-1, 0]]
    rate = np.zeros(grp.max() + 1)
    rate[pairs[o][head, 0]] = pairs[o][head, 1] * (rate_tol / 2)
    # a rate is credible when its bin holds clearly more pairs than chance would put there
    # (candidate ratios of unrelated payouts spread over the whole band)
    n_grp = np.bincount(grp, minlength=len(rate))
    top = np.zeros(len(rate), dtype=np.int64)
    top[pairs[o][head, 0]] = cnt[o][head]
    n_bins = max(phi / (rate_tol / 2), 1.0)
    credible = (top >= 2) & (top >= 4.0 * n_grp / n_bins)
    cost = np.abs(ratio - rate[grp])
    close = (cost <= rate_tol) & credible[grp]
    n_close = np.bincount(cd, weights=close, minlength=len(d_tx_u))
    n_all = np.bincount(cd, minlength=len(d_tx_u))
    delay = ts[w_tx_u[cw]] - ts[d_tx_u[cd]]
    order = np.lexsort((delay, cost)).astype(np.int64)
    keep = take_in_order(order, cd, cw, len(d_tx_u), len(w_tx_u))
    cd, cw, close = cd[keep], cw[keep], close[keep]
    if strict_kinds is not None or extra_payer is not None:
        # services with arbitrary payouts, and payers that are only presumed services: only
        # matches at the rate
        strict = w_extra[cw]
        if strict_kinds is not None:
            strict = strict | np.isin(kind[d_addr[first][cd]], np.asarray(strict_kinds, np.int64))
        ok = close | ~strict
        cd, cw, close = cd[ok], cw[ok], close[ok]
    amb = np.where(close, n_close[cd], 2 * n_all[cd]).astype(np.int64)
    ins, outs_ = d_tx_u[cd].astype(np.int64), w_tx_u[cw].astype(np.int64)
    o = np.argsort(ins, kind="stable")
    if return_candidates:
        return ins[o], outs_[o], np.maximum(amb[o], 1)
    return ins[o], outs_[o]




def _row_ranks(cols) -> np.ndarray:
    """Rank of each row of the int columns ``cols`` among the distinct rows in lexicographic
    order: ``np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)[1]``, computed on
    one packed int64 key (rows sort as their keys do) instead of sorting rows."""
    key = np.zeros(len(cols[0]), dtype=np.int64)
    span = 1
    for c in cols:
        c_r, n_u = _dense_ranks(np.asarray(c, dtype=np.int64))
        span *= max(n_u, 1)
        if span >= 2**62:  # too many distinct rows to pack: sort the rows themselves
            return np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)[1].ravel()
        key = key * n_u + c_r
    return _dense_ranks(key)[0]


def _dense_ranks(values):
    """``(rank of each value among the distinct values, number of distinct values)``, as
    ``np.unique(values, return_inverse=True)`` gives them; without a sort
    (:func:`~launderbench.detectors.graph._common.dense_relabel`) when their range is at most
    a few times their number."""
    if len(values) == 0:
        return values.copy(), 0
    lo = int(values.min())
    width = int(values.max()) - lo + 1
    if width > 8 * len(values) + 1024:
        uniq, rank = np.unique(values, return_inverse=True)
        return rank.ravel(), len(uniq)
    uniq, rank = dense_relabel(values - lo, width)
    return rank, len(uniq)


def _unique_rows(cols):
    """``np.unique(np.stack(cols, axis=1), axis=0, return_counts=True)`` for int columns, by
    packing the rows into one int64 key."""
    rows = np.stack(cols, axis=1)
    ranks = _row_ranks(cols)
    n = int(ranks.max()) + 1 if len(ranks) else 0
    first = np.full(n, len(ranks), dtype=np.int64)
    np.minimum.at(first, ranks, np.arange(len(ranks)))
    return rows[first], np.bincount(ranks, minlength=n)


#: Payouts per block of the value index of :func:`_band_candidates`.
_BLOCK = 128


def _value_blocks(values):
    """Index of a time-ordered sequence for value-band queries: the sequence is cut into
    blocks of ``_BLOCK`` consecutive positions and each block's positions are sorted by value.
    Returns ``(positions, sorted values)``, block after block."""
    pos = np.arange(len(values), dtype=np.int64)
    perm = np.lexsort((values, pos // _BLOCK)).astype(np.int64)
    return perm, values[perm]


@njit(cache=True)
def _scan_band(perm, vals, a, b, v_lo, v_hi, w_tx, seq, d_tx, room, buf):
    """Positions ``a <= p < b`` of a sequence (indexed by :func:`_value_blocks`) whose value
    lies in ``[v_lo, v_hi]`` and whose payout (``seq[p]``, or ``p`` when ``seq`` is empty) is
    not the deposit's own transaction, in order; at most ``room``. Writes them to ``buf`` and
    returns how many."""
    n = 0
    blk = a // _BLOCK
    while blk * _BLOCK < b and n < room:
        s0 = blk * _BLOCK
        s1 = min(s0 + _BLOCK, len(perm))
        # first value >= v_lo in the block's sorted values
        lo, hi = s0, s1
        while lo < hi:
            mid = (lo + hi) // 2
            if vals[mid] >= v_lo:
                hi = mid
            else:
                lo = mid + 1
        start = n
        q = lo
        while q < s1 and vals[q] <= v_hi:
            p = perm[q]
            if a <= p < b:
                j = seq[p] if len(seq) else p
                if w_tx[j] != d_tx:
                    buf[n] = p
                    n += 1
            q += 1
        buf[start:n] = np.sort(buf[start:n])
        blk += 1
    return min(n, room)


@njit(cache=True)
def _band_candidates(d_t, d_usd, d_tx, d_wild, lo, hi, w_t, w_tx, cash_seq, cash_t,
                     perm_p, vals_p, perm_c, vals_c, phi, max_delay, max_candidates):
    """Candidate payouts of each deposit for :func:`amount_time_links`: payouts in
    ``(t, t + max_delay]`` with value in ``[v (1 - phi), v]``, earliest first, at most
    ``max_candidates``. Ordinary deposits search their pool's payouts (``w_*[lo[k]:hi[k]]``,
    sorted by time); deposits into an endpoint of unknown pool (``d_wild``) search every
    cash-out payout in time order (``cash_seq``). Each search walks the value index of the
    time window (:func:`_value_blocks`), so a busy pool costs the number of its blocks in the
    window, not its payouts. Returns ``(deposit, payout)`` index pairs grouped by deposit."""
    cap = max(16, 2 * len(d_t))
    cd = np.empty(cap, dtype=np.int64)
    cw = np.empty(cap, dtype=np.int64)
    buf = np.empty(max_candidates + 2 * _BLOCK, dtype=np.int64)
    no_seq = np.empty(0, dtype=np.int64)
    n = 0
    for k in range(len(d_t)):
        t0, v = d_t[k], d_usd[k]
        if v <= 0:
            continue
        v_lo, v_hi = v * (1 - phi), v * (1 + 1e-9)
        if d_wild[k]:
            a = np.searchsorted(cash_t, t0, "right")
            b = np.searchsorted(cash_t, t0 + max_delay, "right")
            got = _scan_band(perm_c, vals_c, a, b, v_lo, v_hi, w_tx, cash_seq, d_tx[k],
                             max_candidates, buf)
        else:
            a = lo[k] + np.searchsorted(w_t[lo[k]:hi[k]], t0, "right")
            b = lo[k] + np.searchsorted(w_t[lo[k]:hi[k]], t0 + max_delay, "right")
            got = _scan_band(perm_p, vals_p, a, b, v_lo, v_hi, w_tx, no_seq, d_tx[k],
                             max_candidates, buf)
        if n + got > cap:
            cap = 2 * (n + got)
            cd2 = np.empty(cap, dtype=np.int64)
            cw2 = np.empty(cap, dtype=np.int64)
            cd2[:n] = cd[:n]
            cw2[:n] = cw[:n]
            cd, cw = cd2, cw2
        for g in range(got):
            cd[n] = k
            cw[n] = cash_seq[buf[g]] if d_wild[k] else buf[g]
            n += 1
    return cd[:n].copy(), cw[:n].copy()
