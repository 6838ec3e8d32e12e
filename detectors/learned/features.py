"""Feature matrices for learned detectors: one row per address, one row per transaction.

Everything is computed from the observable view alone (transactions, legs, addresses with
their public attribution, asset prices): no truth table and no metadata an investigator would
not have. Every computation is vectorised (numpy and scipy.sparse), and the result depends only
on the view, so two calls give identical matrices.

The design follows the Elliptic data set (Weber et al., "Anti-money laundering in Bitcoin:
experimenting with graph convolutional networks for financial forensics", KDD workshop on
anomaly detection in finance, 2019): *local* features describe an item by itself, *aggregated*
features summarise the same quantities over its neighbourhood in the graph (there one hop of
the transaction graph; here one and two hops of the address graph, as GraphSAGE-style mean and
max aggregates).

Conventions
-----------
* Amounts are in US dollars at the reference price of their asset
  (:meth:`~launderbench.simulator.dataset.ObservableView.usd_per_base_unit`); heavy-tailed
  quantities are ``log1p``-scaled; durations are in hours before scaling.
* A quantity that is undefined for an item (the holding time of an address that never
  spends, the gap between transactions of an address seen once) is :data:`MISSING` (-1), a
  value no defined ``log1p`` quantity takes. Neighbourhood aggregates of an item without
  neighbours are 0 (the degree columns tell the two cases apart).
* Time of day is UTC (timestamps are Unix seconds).

The address graph has an edge ``a -> b`` when a transaction has ``a`` among its inputs and
``b`` among its outputs (self-loops dropped, parallel edges merged).

Public API: :func:`address_features` and :func:`transaction_features`, each returning
``(X, names)`` with ``X`` a C-contiguous float32 array and ``names`` one string per column
(the tables in ``docs/detectors-learned.md`` explain every name).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.schema import HOUR, ChainModel

__all__ = ["address_features", "transaction_features", "ADDRESS_LOCAL", "AGGREGATED",
           "TX_LOCAL", "TX_AGGREGATED", "MISSING"]

#: value of a quantity that is undefined for an item
MISSING = -1.0
#: hops followed downstream from the announced seeds; farther addresses get one more
SEED_HOPS = 8

#: local address features, in column order
ADDRESS_LOCAL = (
    "n_tx", "n_received", "n_spent", "n_senders", "n_recipients", "self_tx_frac",
    "usd_in", "usd_out", "usd_in_mean", "usd_in_max", "usd_out_max", "balance_frac",
    "round_in_frac", "digits_in_mean",
    "lifetime", "hold_mean", "hold_min", "hold_max", "unspent_frac",
    "gap_mean", "gap_min", "burstiness",
    "hour_sin", "hour_cos", "hour_conc",
    "fee_rate_mean", "fee_rate_std", "fee_usd_mean",
    "is_utxo", "chain_id", "service_kind", "is_service", "seed_hops",
)

#: local address features summarised over neighbourhoods (prefixes ``in1_mean_``,
#: ``out1_mean_``, ``nb1_max_``, ``nb2_mean_``)
AGGREGATED = (
    "n_tx", "n_senders", "n_recipients", "usd_in", "usd_out", "lifetime", "hold_mean",
    "round_in_frac", "fee_rate_mean", "is_service", "seed_hops",
)
_AGG_PREFIXES = ("in1_mean_", "out1_mean_", "nb1_max_", "nb2_mean_")

#: a transaction's own fields
TX_LOCAL = (
    "usd", "fee_usd", "fee_rate", "n_inputs", "n_outputs", "n_in_addresses",
    "n_out_addresses", "self_change", "max_out_share", "round_out_frac", "in_hold_mean",
    "fresh_out_frac", "in_age_mean", "hour_sin", "hour_cos", "is_utxo", "chain_id",
    "asset_id", "has_memo", "is_issuance",
)

#: address features summarised over a transaction's input and output addresses (prefixes
#: ``in_mean_``, ``in_max_``, ``out_mean_``, ``out_max_``)
TX_AGGREGATED = (
    "n_tx", "n_senders", "n_recipients", "usd_in", "usd_out", "lifetime", "hold_mean",
    "gap_mean", "round_in_frac", "fee_rate_mean", "is_service", "seed_hops",
    "nb1_max_is_service", "nb2_mean_n_tx",
)
_TX_AGG_PREFIXES = ("in_mean_", "in_max_", "out_mean_", "out_max_")


# ----------------------------------------------------------------------------- helpers


def _log(x) -> np.ndarray:
    return np.log1p(np.maximum(np.asarray(x, dtype=np.float64), 0.0))


def _hours_log(seconds) -> np.ndarray:
    return _log(np.asarray(seconds, dtype=np.float64) / HOUR)


def _safe_div(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)


def _count(idx, n, weights=None) -> np.ndarray:
    return np.bincount(idx, weights=weights, minlength=n)[:n].astype(np.float64)


def _group_min_max(idx, values, n, fill):
    """Per-group minimum and maximum of ``values`` (groups ``idx`` in ``[0, n)``); ``fill``
    where a group is empty."""
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    if len(idx):
        np.minimum.at(lo, idx, values)
        np.maximum.at(hi, idx, values)
    return np.where(np.isinf(lo), fill, lo), np.where(np.isinf(hi), fill, hi)


def _significant_digits(amount: np.ndarray) -> np.ndarray:
    """Number of significant decimal digits of positive integers (0 for 0)."""
    a = np.asarray(amount, dtype=np.int64).copy()
    for _ in range(19):  # strip trailing zeros, one decimal place per pass
        m = (a != 0) & (a % 10 == 0)
        if not m.any():
            break
        a[m] //= 10
    out = np.zeros(len(a))
    pos = a > 0
    out[pos] = np.floor(np.log10(a[pos].astype(np.float64))) + 1
    return out


def _incidence(tx, ad, n_tx, n_addr) -> sp.csr_matrix:
    """Binary (transaction x address) incidence, duplicates merged."""
    m = sp.csr_matrix((np.ones(len(tx), dtype=np.float32), (tx, ad)), shape=(n_tx, n_addr))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _row_max(m: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    """For each row of the binary matrix ``m``, the column-wise maximum of ``values`` over the
    row's nonzero columns (0 for an empty row)."""
    out = np.zeros((m.shape[0], values.shape[1]), dtype=np.float32)
    _csr_row_max(m.indptr, m.indices, np.ascontiguousarray(values, dtype=np.float32), out)
    return out


@njit(cache=True)
def _csr_row_max(indptr, indices, values, out):
    """``out[r]`` = the column-wise maximum of the rows ``values[indices[indptr[r]:indptr[r +
    1]]]``, as ``np.maximum`` folds them (a NaN stays NaN, of equal values the later one, which
    tells -0.0 from 0.0); empty rows are left as they are.

    One pass over each row's neighbours, where ``np.maximum.reduceat`` first copies their
    rows out (twice as slow at 1e6)."""
    k = values.shape[1]
    for r in range(indptr.shape[0] - 1):
        a, b = indptr[r], indptr[r + 1]
        if a == b:
            continue
        i = indices[a]
        for c in range(k):
            out[r, c] = values[i, c]
        for p in range(a + 1, b):
            i = indices[p]
            for c in range(k):
                m = out[r, c]
                v = values[i, c]
                if m == m and not m > v:  # a tie takes the later value, as numpy does
                    out[r, c] = v


def _row_mean(m: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    deg = np.diff(m.indptr).astype(np.float32)
    s = np.asarray(m @ values, dtype=np.float32)
    return s / np.maximum(deg, 1.0)[:, None]


def _hour_angle(ts) -> np.ndarray:
    return 2 * np.pi * ((np.asarray(ts) % 86_400) / 86_400.0)


# ----------------------------------------------------------------------------- addresses


def _address_parts(view) -> dict:
    """Shared intermediate arrays of one view (incidences, graph, per-leg values)."""
    t = view.transactions
    ins, outs = view.inputs, view.outputs
    n_tx, n_addr = view.n_transactions, view.n_addresses
    ts = np.asarray(t["timestamp"], dtype=np.int64)
    price = view.usd_per_base_unit()
    b_in = _incidence(ins["tx_id"], ins["address_id"], n_tx, n_addr)
    b_out = _incidence(outs["tx_id"], outs["address_id"], n_tx, n_addr)
    # directed address graph: input address -> output address of the same transaction
    g = (b_in.T @ b_out).tocsr()
    g.setdiag(0)
    g.eliminate_zeros()
    g.data[:] = 1.0
    return {"ts": ts, "price": price, "b_in": b_in, "b_out": b_out, "graph": g,
            "n_tx": n_tx, "n_addr": n_addr}


def _holding_times(view, ts) -> np.ndarray:
    """Seconds between receiving and spending, one per input leg (NaN when unknown).

    A UTXO input spends a named output: the time since that output's transaction. An account
    input spends from a balance: the time since the address last received, in an earlier
    transaction (NaN if it never did).
    """
    ins, outs = view.inputs, view.outputs
    n_tx = view.n_transactions
    in_tx = np.asarray(ins["tx_id"], dtype=np.int64)
    in_ad = np.asarray(ins["address_id"], dtype=np.int64)
    hold = np.full(len(in_tx), np.nan)
    spent = np.asarray(ins["spent_output_id"], dtype=np.int64)
    out_ids = np.asarray(outs["output_id"], dtype=np.int64)
    out_tx = np.asarray(outs["tx_id"], dtype=np.int64)
    utxo = spent >= 0
    if utxo.any() and len(out_ids):
        born = np.full(int(max(out_ids.max(), spent.max())) + 1, -1, dtype=np.int64)
        born[out_ids] = out_tx
        src = born[spent[utxo]]
        ok = src >= 0
        h = np.full(int(utxo.sum()), np.nan)
        h[ok] = ts[in_tx[utxo][ok]] - ts[src[ok]]
        hold[utxo] = h
    acc = ~utxo
    if acc.any() and len(out_tx):
        base = n_tx + 1
        rkey = np.sort(np.asarray(outs["address_id"], dtype=np.int64) * base + out_tx)
        skey = in_ad[acc] * base + in_tx[acc]
        # sorted queries walk the sorted keys once instead of jumping through them
        by_key = np.argsort(skey, kind="stable")
        j = np.empty(len(skey), np.int64)
        j[by_key] = np.searchsorted(rkey, skey[by_key], side="left") - 1
        ok = j >= 0
        ok[ok] = (rkey[j[ok]] // base) == in_ad[acc][ok]
        h = np.full(int(acc.sum()), np.nan)
        h[ok] = ts[in_tx[acc][ok]] - ts[rkey[j[ok]] % base]
        hold[acc] = h
    return hold


def _seed_hops(view, parts) -> np.ndarray:
    """Hops downstream from the announced seed transactions: 1 for their output addresses,
    then one more per edge of the address graph, :data:`SEED_HOPS` + 1 beyond the cap or
    when unreached (public knowledge: the seeds are announced)."""
    n_addr = parts["n_addr"]
    hops = np.full(n_addr, SEED_HOPS + 1, dtype=np.float64)
    seeds = np.asarray(view.seeds["tx_id"], dtype=np.int64)
    if not len(seeds) or not n_addr:
        return hops
    frontier = np.zeros(n_addr, dtype=bool)
    frontier[parts["b_out"][unique_sorted(seeds)].indices] = True
    gt = parts["graph"].T.tocsr()
    for h in range(1, SEED_HOPS + 1):
        hops[frontier] = h
        reached = gt @ frontier.astype(np.float32) > 0
        frontier = reached & (hops > SEED_HOPS)
        if not frontier.any():
            break
    return hops


def _address_local(view, parts) -> np.ndarray:
    t = view.transactions
    ins, outs = view.inputs, view.outputs
    n_addr, n_tx = parts["n_addr"], parts["n_tx"]
    ts, price = parts["ts"], parts["price"]
    b_in, b_out, g = parts["b_in"], parts["b_out"], parts["graph"]
    cols: dict[str, np.ndarray] = {}

    # activity and degree
    both = (b_in + b_out).tocsc()
    both.data[:] = 1.0
    both.sort_indices()
    n_txa = np.diff(both.indptr).astype(np.float64)
    cols["n_tx"] = _log(n_txa)
    in_ad = np.asarray(ins["address_id"], dtype=np.int64)
    out_ad = np.asarray(outs["address_id"], dtype=np.int64)
    cols["n_received"] = _log(_count(out_ad, n_addr))
    cols["n_spent"] = _log(_count(in_ad, n_addr))
    cols["n_senders"] = _log(np.diff(g.tocsc().indptr))
    cols["n_recipients"] = _log(np.diff(g.indptr))
    self_tx = np.diff(b_in.multiply(b_out).tocsc().indptr)
    cols["self_tx_frac"] = _safe_div(self_tx, n_txa)

    # value in USD
    in_usd = price[ins["asset_id"]] * ins["amount"] if len(in_ad) else np.zeros(0)
    out_usd = price[outs["asset_id"]] * outs["amount"] if len(out_ad) else np.zeros(0)
    usd_in = _count(out_ad, n_addr, out_usd)
    usd_out = _count(in_ad, n_addr, in_usd)
    n_recv = _count(out_ad, n_addr)
    cols["usd_in"] = _log(usd_in)
    cols["usd_out"] = _log(usd_out)
    cols["usd_in_mean"] = _log(_safe_div(usd_in, n_recv))
    cols["usd_in_max"] = _log(_group_min_max(out_ad, out_usd, n_addr, 0.0)[1])
    cols["usd_out_max"] = _log(_group_min_max(in_ad, in_usd, n_addr, 0.0)[1])
    cols["balance_frac"] = _safe_div(usd_in - usd_out, usd_in + usd_out)
    digits = _significant_digits(outs["amount"]) if len(out_ad) else np.zeros(0)
    cols["round_in_frac"] = _safe_div(_count(out_ad, n_addr, (digits <= 2) & (digits > 0)),
                                      n_recv)
    cols["digits_in_mean"] = _safe_div(_count(out_ad, n_addr, digits), n_recv)

    # time: lifetime, holding times, unspent outputs, gaps between transactions
    seq_ts = ts[both.indices]  # per address, its transactions in time order
    col = np.repeat(np.arange(n_addr), np.diff(both.indptr))
    has = n_txa > 0
    first_ts = np.zeros(n_addr)
    last_ts = np.zeros(n_addr)
    first_ts[has] = seq_ts[both.indptr[:-1][has]]
    last_ts[has] = seq_ts[both.indptr[1:][has] - 1]
    cols["lifetime"] = np.where(has, _hours_log(last_ts - first_ts), MISSING)
    hold = _holding_times(view, ts)
    known = ~np.isnan(hold)
    h_ad, h = in_ad[known], hold[known]
    n_h = _count(h_ad, n_addr)
    cols["hold_mean"] = np.where(n_h > 0, _hours_log(_safe_div(_count(h_ad, n_addr, h), n_h)),
                                 MISSING)
    lo, hi = _group_min_max(h_ad, h, n_addr, np.nan)
    cols["hold_min"] = np.where(n_h > 0, _hours_log(lo), MISSING)
    cols["hold_max"] = np.where(n_h > 0, _hours_log(hi), MISSING)
    out_utxo = view.is_utxo_tx()[outs["tx_id"]] if len(out_ad) else np.zeros(0, bool)
    spent_rows = np.zeros(len(out_ad), dtype=bool)
    sid = np.asarray(ins["spent_output_id"], dtype=np.int64)
    sid = sid[(sid >= 0) & (sid < len(out_ad))]
    spent_rows[sid] = True
    n_utxo_out = _count(out_ad, n_addr, out_utxo)
    cols["unspent_frac"] = np.where(
        n_utxo_out > 0, _safe_div(_count(out_ad, n_addr, out_utxo & ~spent_rows), n_utxo_out),
        MISSING)
    same = col[1:] == col[:-1]
    gaps = np.diff(seq_ts).astype(np.float64)[same]
    g_ad = col[1:][same]
    n_g = _count(g_ad, n_addr)
    g_mean = _safe_div(_count(g_ad, n_addr, gaps), n_g)
    g_sq = _safe_div(_count(g_ad, n_addr, gaps * gaps), n_g)
    g_std = np.sqrt(np.maximum(g_sq - g_mean * g_mean, 0.0))
    cols["gap_mean"] = np.where(n_g > 0, _hours_log(g_mean), MISSING)
    cols["gap_min"] = np.where(n_g > 0, _hours_log(_group_min_max(g_ad, gaps, n_addr,
                                                                  0.0)[0]), MISSING)
    # burstiness (sigma - mu) / (sigma + mu) of Goh & Barabasi, "Burstiness and memory in
    # complex systems", EPL 81, 2008: -1 regular, 0 Poisson, towards 1 bursty
    cols["burstiness"] = np.where(n_g > 1, _safe_div(g_std - g_mean, g_std + g_mean), 0.0)

    # hour of day (circular mean over the address's transactions)
    ang = _hour_angle(seq_ts)
    s = _safe_div(_count(col, n_addr, np.sin(ang)), n_txa)
    c = _safe_div(_count(col, n_addr, np.cos(ang)), n_txa)
    cols["hour_sin"], cols["hour_cos"] = s, c
    cols["hour_conc"] = np.sqrt(s * s + c * c)

    # fees of the transactions the address spends in (the sender chooses the fee)
    bin_c = b_in.tocsc()
    sp_tx = bin_c.indices
    sp_ad = np.repeat(np.arange(n_addr), np.diff(bin_c.indptr))
    fr = _log(t["fee_rate"])[sp_tx]
    fee_usd = _log(t["fee"] * price[t["asset_id"]])[sp_tx] if n_tx else np.zeros(0)
    n_sp = _count(sp_ad, n_addr)
    fr_mean = _safe_div(_count(sp_ad, n_addr, fr), n_sp)
    fr_sq = _safe_div(_count(sp_ad, n_addr, fr * fr), n_sp)
    cols["fee_rate_mean"] = np.where(n_sp > 0, fr_mean, MISSING)
    cols["fee_rate_std"] = np.where(n_sp > 0, np.sqrt(np.maximum(fr_sq - fr_mean ** 2, 0)),
                                    MISSING)
    cols["fee_usd_mean"] = np.where(n_sp > 0, _safe_div(_count(sp_ad, n_addr, fee_usd), n_sp),
                                    MISSING)

    # public context
    a = view.addresses
    chain = np.asarray(a["chain_id"], dtype=np.int64)
    size = max(int(view.chains["chain_id"].max(initial=-1)), int(chain.max(initial=-1))) + 1
    models = np.full(max(size, 1), -1, dtype=np.int64)  # chain id -> chain model
    models[view.chains["chain_id"]] = view.chains["model"]
    cols["is_utxo"] = (models[chain] == ChainModel.UTXO).astype(np.float64)
    cols["chain_id"] = chain.astype(np.float64)
    cols["service_kind"] = np.asarray(a["service_kind"], dtype=np.float64)
    cols["is_service"] = (cols["service_kind"] > 0).astype(np.float64)
    cols["seed_hops"] = _seed_hops(view, parts)

    # column by column into rows (contiguous writes), then one transpose: twice as fast as
    # writing each column down a row-major matrix
    xt = np.empty((len(ADDRESS_LOCAL), n_addr), dtype=np.float32)
    for j, name in enumerate(ADDRESS_LOCAL):
        xt[j] = cols[name]
    return np.ascontiguousarray(xt.T)


def address_features(view) -> tuple[np.ndarray, list[str]]:
    """Per-address features of ``view``: local ones, then neighbourhood aggregates.

    Returns
    -------
    X : float32 array of shape ``(view.n_addresses, k)``, row ``i`` = address id ``i``
    names : list of the ``k`` column names

    Aggregates, for each feature of :data:`AGGREGATED`: the mean over the addresses that sent
    to it (``in1_mean_``), over those it sent to (``out1_mean_``), the maximum over its
    neighbours either way (``nb1_max_``) and the mean of its neighbours' neighbourhood means
    (two hops, ``nb2_mean_``).
    """
    x, names = _address_matrix(view, _address_parts(view))
    return x, names


def _address_matrix(view, parts) -> tuple[np.ndarray, list[str]]:
    local = _address_local(view, parts)
    g = parts["graph"]
    und = (g + g.T).tocsr()
    und.data[:] = 1.0
    idx = [ADDRESS_LOCAL.index(n) for n in AGGREGATED]
    base = np.ascontiguousarray(local[:, idx])
    nb1_mean = _row_mean(und, base)
    blocks = [
        local,
        _row_mean(g.T.tocsr(), base),  # senders
        _row_mean(g, base),  # recipients
        _row_max(und, base),
        _row_mean(und, nb1_mean),
    ]
    names = list(ADDRESS_LOCAL) + [p + n for p in _AGG_PREFIXES for n in AGGREGATED]
    return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32), names


# ----------------------------------------------------------------------------- transactions


def transaction_features(view) -> tuple[np.ndarray, list[str]]:
    """Per-transaction features of ``view``: its own fields, then aggregates of the address
    features (:func:`address_features`) of its input and output addresses.

    Returns
    -------
    X : float32 array of shape ``(view.n_transactions, k)``, row ``i`` = transaction id ``i``
    names : list of the ``k`` column names

    For each feature of :data:`TX_AGGREGATED`: the mean and the maximum over the distinct
    input addresses (``in_mean_``, ``in_max_``) and over the distinct output addresses
    (``out_mean_``, ``out_max_``).
    """
    parts = _address_parts(view)
    ax, anames = _address_matrix(view, parts)
    t = view.transactions
    ins, outs = view.inputs, view.outputs
    n_tx, ts, price = parts["n_tx"], parts["ts"], parts["price"]
    b_in, b_out = parts["b_in"], parts["b_out"]
    cols: dict[str, np.ndarray] = {}
    out_tx = np.asarray(outs["tx_id"], dtype=np.int64)
    in_tx = np.asarray(ins["tx_id"], dtype=np.int64)
    out_usd = price[outs["asset_id"]] * outs["amount"] if len(out_tx) else np.zeros(0)
    usd = _count(out_tx, n_tx, out_usd)
    cols["usd"] = _log(usd)
    cols["fee_usd"] = _log(t["fee"] * price[t["asset_id"]]) if n_tx else np.zeros(0)
    cols["fee_rate"] = _log(t["fee_rate"])
    cols["n_inputs"] = np.asarray(t["n_inputs"], dtype=np.float64)
    cols["n_outputs"] = np.asarray(t["n_outputs"], dtype=np.float64)
    cols["n_in_addresses"] = np.diff(b_in.indptr).astype(np.float64)
    cols["n_out_addresses"] = np.diff(b_out.indptr).astype(np.float64)
    cols["self_change"] = (np.diff(b_in.multiply(b_out).tocsr().indptr) > 0).astype(float)
    cols["max_out_share"] = _safe_div(_group_min_max(out_tx, out_usd, n_tx, 0.0)[1], usd)
    digits = _significant_digits(outs["amount"]) if len(out_tx) else np.zeros(0)
    cols["round_out_frac"] = _safe_div(_count(out_tx, n_tx, (digits <= 2) & (digits > 0)),
                                       _count(out_tx, n_tx))
    hold = _holding_times(view, ts)
    known = ~np.isnan(hold)
    n_h = _count(in_tx[known], n_tx)
    cols["in_hold_mean"] = np.where(
        n_h > 0, _hours_log(_safe_div(_count(in_tx[known], n_tx, hold[known]), n_h)), MISSING)
    # first appearance of each address (transaction ids are in time order)
    first = np.full(parts["n_addr"], np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, np.asarray(outs["address_id"], dtype=np.int64), out_tx)
    np.minimum.at(first, np.asarray(ins["address_id"], dtype=np.int64), in_tx)
    bo = b_out.tocoo()
    cols["fresh_out_frac"] = _safe_div(_count(bo.row, n_tx, first[bo.col] == bo.row),
                                       np.diff(b_out.indptr))
    bi = b_in.tocoo()
    age = ts[bi.row] - ts[np.minimum(first[bi.col], max(n_tx - 1, 0))]
    cols["in_age_mean"] = np.where(
        np.diff(b_in.indptr) > 0,
        _hours_log(_safe_div(_count(bi.row, n_tx, age), np.diff(b_in.indptr))), MISSING)
    ang = _hour_angle(ts)
    cols["hour_sin"], cols["hour_cos"] = np.sin(ang), np.cos(ang)
    cols["is_utxo"] = view.is_utxo_tx().astype(np.float64) if n_tx else np.zeros(0)
    cols["chain_id"] = np.asarray(t["chain_id"], dtype=np.float64)
    cols["asset_id"] = np.asarray(t["asset_id"], dtype=np.float64)
    cols["has_memo"] = (np.asarray(t["memo"]) >= 0).astype(np.float64)
    cols["is_issuance"] = np.asarray(t["is_issuance"], dtype=np.float64)
    local = np.empty((n_tx, len(TX_LOCAL)), dtype=np.float32)
    for j, name in enumerate(TX_LOCAL):
        local[:, j] = cols[name]
    idx = [anames.index(n) for n in TX_AGGREGATED]
    base = np.ascontiguousarray(ax[:, idx])
    blocks = [local, _row_mean(b_in, base), _row_max(b_in, base), _row_mean(b_out, base),
              _row_max(b_out, base)]
    names = list(TX_LOCAL) + [p + n for p in _TX_AGG_PREFIXES for n in TX_AGGREGATED]
    return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32), names
