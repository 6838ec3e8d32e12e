"""CoinJoin rules per transaction, shared by the clustering heuristics, the ``coinjoin``
detector and the investigator.

* ``generic``: BlockSci's ``isCoinjoin`` (Kalodner et al., "BlockSci: Design and applications
  of a blockchain analysis platform", USENIX Security 2020; ``src/heuristics/
  tx_identification.cpp``), re-implemented from its description: at least 2 inputs and at
  least 3 outputs; ``p = (n_out + 1) // 2`` participants, with ``p <= n_in`` and ``p <=`` the
  number of distinct input addresses; the most frequent output value occurs exactly ``p``
  times and is not 546 or 2730 satoshi (dust values used by other protocols).
* ``whirlpool`` (Samourai, as detected by Dumplings' ``Scanner.cs``, ``nopara73/Dumplings``):
  exactly 5 inputs and 5 outputs, all outputs equal, the value within ``whirlpool_tol`` BTC of
  a pool size in ``whirlpool_pools``.
* ``wasabi1`` (Dumplings, the rule after the coordinator-address era): at least
  ``wasabi_min_equal`` equal outputs, at least as many inputs, the equal value within
  ``wasabi_tol`` BTC of ``wasabi_denom``.
* ``wasabi2`` (WabiSabi, Dumplings): at least ``wasabi2_min_inputs`` (50) inputs; more than
  ``wasabi2_std_share`` (80%) of the outputs at a standard denomination
  (:func:`standard_denominations`); input values and output values in non-increasing order of
  their ``index``; all scripts P2WPKH. The ledger records no script types, so the last
  condition is not checked (every address counts as P2WPKH).
* ``wasabi2-loose`` (not a default rule): the WabiSabi description of the
  ``Copexit/am-i-exposed`` documentation, a secondary source: at least 5 inputs and 5 outputs,
  at least 60% of the outputs at standard denominations, at least 2 distinct standard values
  and at least 2 outputs at non-decimal ones (not 1, 2 or 5 times a power of ten).

Only non-issuance UTXO transactions can be CoinJoins; account transfers always get False.
BTC amounts are whole units of the transaction's asset; standard denominations are satoshi.
"""

from __future__ import annotations

import numpy as np

from launderbench.simulator.errors import ConfigError

__all__ = ["is_coinjoin", "coinjoin_rules", "standard_denominations", "output_value_stats",
           "RULES", "ALL_RULES", "DUST_VALUES", "WHIRLPOOL_POOLS", "WASABI2_MAX_DENOM"]

#: The ``coinjoin`` detector's default rules; :func:`is_coinjoin` and the clustering
#: heuristics exclude what any of them flags.
RULES = ("generic", "whirlpool", "wasabi1", "wasabi2")
#: Every rule known, including the opt-in ``wasabi2-loose`` variant.
ALL_RULES = RULES + ("wasabi2-loose",)
DUST_VALUES = (546, 2730)
WHIRLPOOL_POOLS = (0.001, 0.01, 0.05, 0.5)
#: Largest standard denomination of Wasabi's list, 2^37 sat (about 1,374 BTC).
WASABI2_MAX_DENOM = 2**37


def standard_denominations(min_sat: int = 5_000, max_sat: int = WASABI2_MAX_DENOM) -> np.ndarray:
    """WabiSabi's standard denominations in satoshi: 2^n, 3^n, 2*3^n, 10^n, 2*10^n, 5*10^n
    between ``min_sat`` and ``max_sat``."""
    vals = set()
    for base, mult in ((2, 1), (3, 1), (3, 2), (10, 1), (10, 2), (10, 5)):
        v = mult
        while v <= max_sat:
            if v >= min_sat:
                vals.add(v)
            v *= base
    return np.array(sorted(vals), dtype=np.int64)


def _decimal_denominations(max_sat: int = WASABI2_MAX_DENOM) -> np.ndarray:
    vals = set()
    for mult in (1, 2, 5):
        v = mult
        while v <= max_sat:
            vals.add(v)
            v *= 10
    return np.array(sorted(vals), dtype=np.int64)


def output_value_stats(view, tx_mask=None):
    """Per transaction: the most frequent output value (ties: smallest), its count, and the
    number of distinct output values (only for transactions in ``tx_mask``, if given)."""
    n_tx = view.n_transactions
    o = view.outputs
    tx = np.asarray(o["tx_id"], dtype=np.int64)
    amt = np.asarray(o["amount"], dtype=np.int64)
    if tx_mask is not None:
        sel = tx_mask[tx]
        tx, amt = tx[sel], amt[sel]
    mfv = np.zeros(n_tx, dtype=np.int64)
    mfc = np.zeros(n_tx, dtype=np.int64)
    n_vals = np.zeros(n_tx, dtype=np.int64)
    if len(tx) == 0:
        return mfv, mfc, n_vals
    order = np.lexsort((amt, tx))
    t, a = tx[order], amt[order]
    new = np.r_[True, (t[1:] != t[:-1]) | (a[1:] != a[:-1])]
    starts = np.flatnonzero(new)
    cnt = np.diff(np.r_[starts, len(t)])
    gt, ga = t[starts], a[starts]
    n_vals[:] = np.bincount(gt, minlength=n_tx)
    o2 = np.lexsort((ga, -cnt, gt))
    gt2, ga2, c2 = gt[o2], ga[o2], cnt[o2]
    first = np.r_[True, gt2[1:] != gt2[:-1]]
    mfv[gt2[first]] = ga2[first]
    mfc[gt2[first]] = c2[first]
    return mfv, mfc, n_vals


def _generic(view, n_in, n_out) -> np.ndarray:
    """BlockSci's ``isCoinjoin``."""
    n_tx = view.n_transactions
    out = np.zeros(n_tx, dtype=bool)
    ins = view.inputs
    p = (n_out + 1) // 2
    cand = view.is_utxo_tx() & (n_in >= 2) & (n_out >= 3) & (p <= n_in)
    if not cand.any():
        return out
    # distinct input addresses per transaction
    m = cand[ins["tx_id"]]
    pairs = np.unique(np.stack([ins["tx_id"][m], ins["address_id"][m]]), axis=1)
    n_addr = np.bincount(pairs[0], minlength=n_tx)
    cand &= p <= n_addr
    # most frequent output value per transaction (ties: the smallest value, as a sorted map)
    mfv, mfc, _ = output_value_stats(view, cand)
    ok = cand & (mfc == p) & ~np.isin(mfv, DUST_VALUES)
    return ok


def _descending(view, table, cand) -> np.ndarray:
    """Per transaction in ``cand``: its rows of ``table`` (inputs or outputs), taken in
    ``index`` order, have non-increasing amounts."""
    t = np.asarray(table["tx_id"], dtype=np.int64)
    m = cand[t]
    t = t[m]
    idx = np.asarray(table["index"], dtype=np.int64)[m]
    amt = np.asarray(table["amount"], dtype=np.int64)[m]
    order = np.lexsort((idx, t))
    t, amt = t[order], amt[order]
    rise = (t[1:] == t[:-1]) & (amt[1:] > amt[:-1])
    ok = cand.copy()
    ok[t[1:][rise]] = False
    return ok


def _standard_counts(view, cand):
    """Per transaction in ``cand``: outputs at a standard denomination, outputs at a
    non-decimal standard denomination, distinct standard values."""
    n_tx = view.n_transactions
    o_tx = np.asarray(view.outputs["tx_id"], dtype=np.int64)
    m = cand[o_tx]
    t, a = o_tx[m], np.asarray(view.outputs["amount"], dtype=np.int64)[m]
    std = np.isin(a, standard_denominations())
    nondec = std & ~np.isin(a, _decimal_denominations())
    n_std = np.bincount(t[std], minlength=n_tx)
    n_nondec = np.bincount(t[nondec], minlength=n_tx)
    u = np.unique(np.stack([t[std], a[std]]), axis=1)
    n_distinct = np.bincount(u[0], minlength=n_tx) if u.size else np.zeros(n_tx, np.int64)
    return n_std, n_nondec, n_distinct


def check_rules(rules) -> tuple[str, ...]:
    """The rule names as a tuple; an unknown name raises :class:`ConfigError`."""
    rules = (rules,) if isinstance(rules, str) else tuple(rules)
    for r in rules:
        if r not in ALL_RULES:
            raise ConfigError(f"unknown CoinJoin rule {r!r} (known: {', '.join(ALL_RULES)})")
    return rules


def coinjoin_rules(view, rules=RULES, *, whirlpool_pools=WHIRLPOOL_POOLS,
                   whirlpool_tol: float = 0.01, wasabi_denom: float = 0.1,
                   wasabi_tol: float = 0.02, wasabi_min_equal: int = 10,
                   wasabi2_min_inputs: int = 50, wasabi2_std_share: float = 0.8) -> dict:
    """One boolean array per rule in ``rules``: the transactions it flags (see the module
    docstring for the rules and their sources).

    Returns
    -------
    dict ``{rule: bool array of shape (view.n_transactions,)}``, in the order of ``rules``.
    """
    rules = check_rules(rules)
    n_tx = view.n_transactions
    if n_tx == 0:
        return {r: np.zeros(0, dtype=bool) for r in rules}
    tx = view.transactions
    utxo = view.is_utxo_tx() & ~np.asarray(tx["is_issuance"], dtype=bool)
    n_in = np.bincount(np.asarray(view.inputs["tx_id"], dtype=np.int64), minlength=n_tx)
    n_out = np.bincount(np.asarray(view.outputs["tx_id"], dtype=np.int64), minlength=n_tx)
    hit = {}
    if "generic" in rules:
        hit["generic"] = _generic(view, n_in, n_out) & utxo
    if "whirlpool" in rules or "wasabi1" in rules:
        mfv, mfc, n_vals = output_value_stats(view, utxo & (n_in >= 2) & (n_out >= 2))
        dec = np.zeros(int(view.assets["asset_id"].max(initial=0)) + 1)
        dec[np.asarray(view.assets["asset_id"])] = np.asarray(view.assets["decimals"])
        v = mfv / 10.0 ** dec[np.asarray(tx["asset_id"], dtype=np.int64)]
        if "whirlpool" in rules:
            near = np.zeros(n_tx, dtype=bool)
            for pool in np.asarray(whirlpool_pools, dtype=np.float64):
                near |= np.abs(v - pool) <= whirlpool_tol
            hit["whirlpool"] = utxo & (n_in == 5) & (n_out == 5) & (n_vals == 1) & near
        if "wasabi1" in rules:
            hit["wasabi1"] = (utxo & (mfc >= wasabi_min_equal) & (n_in >= mfc)
                              & (np.abs(v - wasabi_denom) <= wasabi_tol))
    if "wasabi2" in rules:
        cand = utxo & (n_in >= wasabi2_min_inputs) & (n_out >= 1)
        n_std, _, _ = _standard_counts(view, cand)
        cand &= n_std > wasabi2_std_share * n_out
        cand = _descending(view, view.inputs, cand)
        hit["wasabi2"] = _descending(view, view.outputs, cand)
    if "wasabi2-loose" in rules:
        cand = utxo & (n_in >= 5) & (n_out >= 5)
        n_std, n_nondec, n_distinct = _standard_counts(view, cand)
        hit["wasabi2-loose"] = (cand & (n_std >= 0.6 * n_out) & (n_distinct >= 2)
                                & (n_nondec >= 2))
    return {r: hit[r] for r in rules}


def is_coinjoin(view, rules=RULES) -> np.ndarray:
    """Boolean per transaction: a CoinJoin under any of ``rules`` (default: the ``coinjoin``
    detector's default rules; ``("generic",)`` is BlockSci's rule alone).

    Parameters
    ----------
    view : ObservableView
    rules : tuple of str, default :data:`RULES`

    Returns
    -------
    bool array of shape ``(view.n_transactions,)``
    """
    out = np.zeros(view.n_transactions, dtype=bool)
    for h in coinjoin_rules(view, rules).values():
        out |= h
    return out
