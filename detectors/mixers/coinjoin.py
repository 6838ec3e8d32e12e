"""CoinJoin detection per transaction: BlockSci's generic rule, Whirlpool and Wasabi rules."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.detectors.base import Detector, Scores
from launderbench.detectors.clustering.coinjoin import is_coinjoin
from launderbench.detectors.patterns._common import check_number, scatter_max
from launderbench.simulator.errors import ConfigError

RULES = ("generic", "whirlpool", "wasabi1", "wasabi2")
WHIRLPOOL_POOLS = (0.001, 0.01, 0.05, 0.5)


def standard_denominations(min_sat: int = 5_000, max_sat: int = 10**14) -> np.ndarray:
    """WabiSabi's standard denominations in satoshi: 2^n, 3^n, 2*3^n, 10^n, 2*10^n, 5*10^n."""
    vals = set()
    for base, mult in ((2, 1), (3, 1), (3, 2), (10, 1), (10, 2), (10, 5)):
        v = mult
        while v <= max_sat:
            if v >= min_sat:
                vals.add(v)
            v *= base
    return np.array(sorted(vals), dtype=np.int64)


def _decimal_denominations(max_sat: int = 10**14) -> np.ndarray:
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


class CoinJoinDetector(Detector):
    """CoinJoin transactions under four published rules.

    * ``generic``: BlockSci's ``isCoinjoin`` (Kalodner et al., USENIX Security 2020), from
      :func:`launderbench.detectors.clustering.coinjoin.is_coinjoin`.
    * ``whirlpool`` (Samourai; Dumplings ``Scanner.cs``, ``nopara73/Dumplings``): exactly 5
      inputs and 5 outputs, all outputs equal, the value within ``whirlpool_tol`` BTC of a
      pool size in ``whirlpool_pools`` (0.001, 0.01, 0.05, 0.5 BTC).
    * ``wasabi1`` (Dumplings, post-coordinator-address era): at least ``wasabi_min_equal``
      (10) equal outputs, at least as many inputs, the equal value within ``wasabi_tol``
      (0.02) BTC of ``wasabi_denom`` (0.1 BTC).
    * ``wasabi2`` (WabiSabi, as summarised by ``Copexit/am-i-exposed``; secondary source):
      at least 5 inputs and 5 outputs, at least 60% of the outputs at standard denominations
      (2^n, 3^n, 2*3^n, 10^n, 2*10^n, 5*10^n sat, >= 5,000 sat), at least 2 distinct standard
      values and at least 2 outputs at non-decimal ones. The input/output ordering, nSequence,
      locktime and script-type checks of that description cannot be applied to this ledger.

    BTC amounts are whole units of the transaction's asset; only UTXO transactions qualify.
    The coordinator-address rule of early Wasabi and the TX0 OP_RETURN check of Whirlpool
    need data this ledger does not have.

    Parameters
    ----------
    rules : tuple of str, default all four
    whirlpool_pools : tuple of float, default (0.001, 0.01, 0.05, 0.5)
    whirlpool_tol : float, default 0.01
    wasabi_denom : float, default 0.1
    wasabi_tol : float, default 0.02
    wasabi_min_equal : int, default 10

    Scores
    ------
    transaction : 1.0 for a CoinJoin under any selected rule, else 0.
    address : 1.0 for input addresses and outputs at the equal (mixed) value, 0.5 for the
        other outputs (change) of CoinJoins.
    info : per rule the tx ids it matched (``generic``, ``whirlpool``, ...).
    """

    name: ClassVar[str] = "coinjoin"
    description: ClassVar[str] = (
        "CoinJoin transactions: BlockSci generic, Whirlpool 5x5, Wasabi 1.x and WabiSabi rules")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "transaction")}

    def __init__(self, rules: tuple = RULES, whirlpool_pools: tuple = WHIRLPOOL_POOLS,
                 whirlpool_tol: float = 0.01, wasabi_denom: float = 0.1,
                 wasabi_tol: float = 0.02, wasabi_min_equal: int = 10):
        self.rules = rules
        self.whirlpool_pools = whirlpool_pools
        self.whirlpool_tol = whirlpool_tol
        self.wasabi_denom = wasabi_denom
        self.wasabi_tol = wasabi_tol
        self.wasabi_min_equal = wasabi_min_equal

    def _score(self, view) -> Scores:
        rules = (self.rules,) if isinstance(self.rules, str) else tuple(self.rules)
        for r in rules:
            if r not in RULES:
                raise ConfigError(f"unknown CoinJoin rule {r!r} (known: {', '.join(RULES)})")
        pools = np.asarray(self.whirlpool_pools, dtype=np.float64)
        for name in ("whirlpool_tol", "wasabi_denom", "wasabi_tol"):
            check_number(name, getattr(self, name), lo=0)
        min_eq = int(check_number("wasabi_min_equal", self.wasabi_min_equal, lo=2,
                                  integer=True))
        n_tx, n_addr = view.n_transactions, view.n_addresses
        info = {r: np.zeros(0, np.int64) for r in rules}
        if n_tx == 0:
            return Scores(address=np.zeros(n_addr), transaction=np.zeros(n_tx), info=info)
        tx = view.transactions
        utxo = view.is_utxo_tx() & ~np.asarray(tx["is_issuance"], dtype=bool)
        n_in = np.bincount(np.asarray(view.inputs["tx_id"], dtype=np.int64), minlength=n_tx)
        n_out = np.bincount(np.asarray(view.outputs["tx_id"], dtype=np.int64), minlength=n_tx)
        mfv, mfc, n_vals = output_value_stats(view, utxo & (n_in >= 2) & (n_out >= 2))
        dec = np.zeros(int(view.assets["asset_id"].max(initial=0)) + 1)
        dec[np.asarray(view.assets["asset_id"])] = np.asarray(view.assets["decimals"])
        unit = 10.0 ** dec[np.asarray(tx["asset_id"], dtype=np.int64)]
        v = mfv / unit
        hit = {}
        if "generic" in rules:
            hit["generic"] = is_coinjoin(view) & utxo
        if "whirlpool" in rules:
            near = np.zeros(n_tx, dtype=bool)
            for p in pools:
                near |= np.abs(v - p) <= self.whirlpool_tol
            hit["whirlpool"] = utxo & (n_in == 5) & (n_out == 5) & (n_vals == 1) & near
        if "wasabi1" in rules:
            hit["wasabi1"] = (utxo & (mfc >= min_eq) & (n_in >= mfc)
                              & (np.abs(v - self.wasabi_denom) <= self.wasabi_tol))
        if "wasabi2" in rules:
            hit["wasabi2"] = self._wasabi2(view, utxo & (n_in >= 5) & (n_out >= 5), n_out)
        is_cj = np.zeros(n_tx, dtype=bool)
        for r, h in hit.items():
            is_cj |= h
            info[r] = np.flatnonzero(h).astype(np.int64)
        s_tx = is_cj.astype(np.float64)
        # participants
        i_tx = np.asarray(view.inputs["tx_id"], dtype=np.int64)
        i_addr = np.asarray(view.inputs["address_id"], dtype=np.int64)
        o_tx = np.asarray(view.outputs["tx_id"], dtype=np.int64)
        o_addr = np.asarray(view.outputs["address_id"], dtype=np.int64)
        o_amt = np.asarray(view.outputs["amount"], dtype=np.int64)
        m_in = is_cj[i_tx]
        m_out = is_cj[o_tx]
        o_val = np.where(o_amt[m_out] == mfv[o_tx[m_out]], 1.0, 0.5)
        s_addr = np.maximum(scatter_max(n_addr, i_addr[m_in], np.ones(m_in.sum())),
                            scatter_max(n_addr, o_addr[m_out], o_val))
        return Scores(address=s_addr, transaction=s_tx, info=info)

    @staticmethod
    def _wasabi2(view, cand, n_out):
        n_tx = view.n_transactions
        o = view.outputs
        o_tx = np.asarray(o["tx_id"], dtype=np.int64)
        m = cand[o_tx]
        if not m.any():
            return np.zeros(n_tx, dtype=bool)
        t, a = o_tx[m], np.asarray(o["amount"], dtype=np.int64)[m]
        std = np.isin(a, standard_denominations())
        nondec = std & ~np.isin(a, _decimal_denominations())
        n_std = np.bincount(t[std], minlength=n_tx)
        n_nondec = np.bincount(t[nondec], minlength=n_tx)
        u = np.unique(np.stack([t[std], a[std]]), axis=1)
        n_std_distinct = np.bincount(u[0], minlength=n_tx) if u.size else np.zeros(n_tx, int)
        return (cand & (n_std >= 0.6 * n_out) & (n_std_distinct >= 2) & (n_nondec >= 2))
