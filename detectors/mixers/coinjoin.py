"""CoinJoin detection per transaction: BlockSci's generic rule, Whirlpool and Wasabi rules."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.detectors.base import Detector, Scores
from launderbench.detectors.clustering.coinjoin import (
    ALL_RULES,
    RULES,
    WHIRLPOOL_POOLS,
    check_rules,
    coinjoin_rules,
    output_value_stats,
    standard_denominations,
)
from launderbench.detectors.patterns._common import check_number, scatter_max

__all__ = ["CoinJoinDetector", "RULES", "ALL_RULES", "WHIRLPOOL_POOLS", "output_value_stats",
           "standard_denominations"]


class CoinJoinDetector(Detector):
    """CoinJoin transactions under four published rules (and one opt-in variant).

    The rules are those of :mod:`launderbench.detectors.clustering.coinjoin`, which the
    clustering heuristics and the investigator share:

    * ``generic``: BlockSci's ``isCoinjoin`` (Kalodner et al., USENIX Security 2020).
    * ``whirlpool`` (Samourai; Dumplings ``Scanner.cs``, ``nopara73/Dumplings``): exactly 5
      inputs and 5 outputs, all outputs equal, the value within ``whirlpool_tol`` BTC of a
      pool size in ``whirlpool_pools`` (0.001, 0.01, 0.05, 0.5 BTC).
    * ``wasabi1`` (Dumplings, post-coordinator-address era): at least ``wasabi_min_equal``
      (10) equal outputs, at least as many inputs, the equal value within ``wasabi_tol``
      (0.02) BTC of ``wasabi_denom`` (0.1 BTC).
    * ``wasabi2`` (WabiSabi, Dumplings): at least ``wasabi2_min_inputs`` (50) inputs, more
      than ``wasabi2_std_share`` (80%) of the outputs at standard denominations (2^n, 3^n,
      2*3^n, 10^n, 2*10^n, 5*10^n sat from 5,000 sat to 2^37 sat), inputs and outputs in
      non-increasing order of value along their ``index``. Dumplings also requires P2WPKH
      scripts; the ledger records no script types, so that condition is not checked.
    * ``wasabi2-loose`` (opt-in, not in the default ``rules``): the WabiSabi summary of
      ``Copexit/am-i-exposed``, a secondary source: at least 5 inputs and 5 outputs, at least
      60% of the outputs at standard denominations, at least 2 distinct standard values and
      at least 2 outputs at non-decimal ones.

    BTC amounts are whole units of the transaction's asset; only UTXO transactions qualify.
    The coordinator-address rule of early Wasabi and the TX0 OP_RETURN check of Whirlpool
    need data this ledger does not have.

    Parameters
    ----------
    rules : tuple of str, default ("generic", "whirlpool", "wasabi1", "wasabi2")
    whirlpool_pools : tuple of float, default (0.001, 0.01, 0.05, 0.5)
    whirlpool_tol : float, default 0.01
    wasabi_denom : float, default 0.1
    wasabi_tol : float, default 0.02
    wasabi_min_equal : int, default 10
    wasabi2_min_inputs : int, default 50
    wasabi2_std_share : float, default 0.8
        Share of the outputs at standard denominations that must be exceeded.

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
                 wasabi_tol: float = 0.02, wasabi_min_equal: int = 10,
                 wasabi2_min_inputs: int = 50, wasabi2_std_share: float = 0.8):
        self.rules = rules
        self.whirlpool_pools = whirlpool_pools
        self.whirlpool_tol = whirlpool_tol
        self.wasabi_denom = wasabi_denom
        self.wasabi_tol = wasabi_tol
        self.wasabi_min_equal = wasabi_min_equal
        self.wasabi2_min_inputs = wasabi2_min_inputs
        self.wasabi2_std_share = wasabi2_std_share

    def _score(self, view) -> Scores:
        rules = check_rules(self.rules)
        for name in ("whirlpool_tol", "wasabi_denom", "wasabi_tol"):
            check_number(name, getattr(self, name), lo=0)
        min_eq = int(check_number("wasabi_min_equal", self.wasabi_min_equal, lo=2,
                                  integer=True))
        min_in = int(check_number("wasabi2_min_inputs", self.wasabi2_min_inputs, lo=1,
                                  integer=True))
        share = float(check_number("wasabi2_std_share", self.wasabi2_std_share, lo=0, hi=1))
        n_tx, n_addr = view.n_transactions, view.n_addresses
        info = {r: np.zeros(0, np.int64) for r in rules}
        if n_tx == 0:
            return Scores(address=np.zeros(n_addr), transaction=np.zeros(n_tx), info=info)
        hit = coinjoin_rules(view, rules, whirlpool_pools=tuple(self.whirlpool_pools),
                             whirlpool_tol=self.whirlpool_tol, wasabi_denom=self.wasabi_denom,
                             wasabi_tol=self.wasabi_tol, wasabi_min_equal=min_eq,
                             wasabi2_min_inputs=min_in, wasabi2_std_share=share)
        is_cj = np.zeros(n_tx, dtype=bool)
        for r, h in hit.items():
            is_cj |= h
            info[r] = np.flatnonzero(h).astype(np.int64)
        s_tx = is_cj.astype(np.float64)
        # participants: inputs and outputs at the most frequent value 1.0, other outputs 0.5
        mfv, _, _ = output_value_stats(view, is_cj)
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
