"""Custodial mixers (ChipMixer, Blender, Sinbad...): flow-through deposit -> payout matching."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.detectors.arrays import unique_sorted
from launderbench.detectors.base import Detector, Scores
from launderbench.detectors.bridges.assign import METHODS, assign
from launderbench.detectors.patterns._common import (
    check_choice,
    check_number,
    empty_links,
    expand_ranges,
    make_links,
    scatter_max,
    tx_has_input_in,
)
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY, ServiceKind


def _payout_tx(view, utxo_only=True) -> np.ndarray:
    """Per transaction: a non-issuance transaction (on a UTXO chain, with ``utxo_only``) with
    an input at an address publicly attributed as a mixer."""
    mixer = np.asarray(view.addresses["service_kind"]) == ServiceKind.MIXER
    ok = ~np.asarray(view.transactions["is_issuance"], dtype=bool)
    if utxo_only:
        ok &= view.is_utxo_tx()
    return ok & tx_has_input_in(view, mixer)


def reserve_addresses(view, utxo_only=True) -> np.ndarray:
    """Per address: the mixers' own side, that is every address attributed as a mixer and
    every address that funds a payout transaction (an input of a transaction with a mixer
    input). An output of a payout to such an address is the reserve's change, not a payout;
    the investigator's value/time matcher leaves it out the same way."""
    reserve = np.asarray(view.addresses["service_kind"]) == ServiceKind.MIXER
    if view.n_transactions == 0 or not reserve.any():
        return reserve
    payout = _payout_tx(view, utxo_only)
    i_tx = np.asarray(view.inputs["tx_id"], dtype=np.int64)
    i_addr = np.asarray(view.inputs["address_id"], dtype=np.int64)
    reserve[i_addr[payout[i_tx]]] = True
    return reserve


def custodial_events(view, utxo_only=True, per_tx=True):
    """Deposits into and payouts from addresses publicly attributed as mixers.

    A deposit is an output paid to a mixer address by a transaction with no mixer input; a
    payout is an output of a transaction with a mixer input (the mixer's reserve) to an
    address outside the reserve (:func:`reserve_addresses`: the reserve's change, even to an
    unattributed address, is not a payout); with ``per_tx`` the payout outputs of one
    transaction are summed into one payout (mixers pay a withdrawal in several outputs). Both
    are keyed by the mixer's service name. Returns two dicts of arrays: ``tx``, ``output``
    (the largest output, for payouts), ``service`` (code), ``asset``, ``t``, ``amount``,
    ``addr`` (depositor: the transaction's first input address; payout: the receiver of the
    largest output).
    """
    keys = ("tx", "output", "service", "asset", "t", "amount", "addr")
    empty = {k: np.zeros(0, np.int64) for k in keys}
    n_tx = view.n_transactions
    kind = np.asarray(view.addresses["service_kind"])
    mixer = kind == ServiceKind.MIXER
    if n_tx == 0 or not mixer.any():
        return empty, dict(empty)
    names = np.asarray([str(x) if x is not None else "" for x in view.addresses["service_name"]],
                       dtype=object)
    _, svc = np.unique(names, return_inverse=True)
    tx = view.transactions
    ok_tx = ~np.asarray(tx["is_issuance"], dtype=bool)
    if utxo_only:
        ok_tx &= view.is_utxo_tx()
    mixer_in = tx_has_input_in(view, mixer)
    # the service of a payout: the service of the transaction's first mixer input
    i_tx = np.asarray(view.inputs["tx_id"], dtype=np.int64)
    i_addr = np.asarray(view.inputs["address_id"], dtype=np.int64)
    pay_svc = np.full(n_tx, -1, dtype=np.int64)
    m = mixer[i_addr]
    pay_svc[i_tx[m][::-1]] = svc[i_addr[m]][::-1]
    first_in = np.full(n_tx, -1, dtype=np.int64)
    first_in[i_tx[::-1]] = i_addr[::-1]
    o = view.outputs
    o_tx = np.asarray(o["tx_id"], dtype=np.int64)
    o_addr = np.asarray(o["address_id"], dtype=np.int64)
    o_amt = np.asarray(o["amount"], dtype=np.int64)
    o_asset = np.asarray(o["asset_id"], dtype=np.int64)
    t = np.asarray(tx["timestamp"], dtype=np.int64)
    dm = np.flatnonzero(mixer[o_addr] & ok_tx[o_tx] & ~mixer_in[o_tx])
    reserve = reserve_addresses(view, utxo_only)
    pm = np.flatnonzero(~reserve[o_addr] & ok_tx[o_tx] & mixer_in[o_tx])

    def pack(rows, service, addr):
        return {"tx": o_tx[rows], "output": rows.astype(np.int64), "service": service,
                "asset": o_asset[rows], "t": t[o_tx[rows]], "amount": o_amt[rows], "addr": addr}

    dep = pack(dm, svc[o_addr[dm]], first_in[o_tx[dm]])
    if per_tx and len(pm):
        total = np.bincount(o_tx[pm], weights=o_amt[pm], minlength=n_tx).astype(np.int64)
        order = np.lexsort((-o_amt[pm], o_tx[pm]))
        rows = pm[order]
        rows = rows[np.r_[True, o_tx[rows][1:] != o_tx[rows][:-1]]]
        pay = pack(rows, pay_svc[o_tx[rows]], o_addr[rows])
        pay["amount"] = total[o_tx[rows]]
    else:
        pay = pack(pm, pay_svc[o_tx[pm]], o_addr[pm])
    return dep, pay


class CustodialFlow(Detector):
    """Flow-through matching for custodial mixers: a deposit comes back out, minus a fee.

    A custodial mixer (ChipMixer, Blender/Sinbad, the BTC mixers of the Lazarus playbook)
    takes deposits into its own addresses and pays out of a reserve, so there is no
    transaction link. The flow-through heuristic matches each deposit to a later payout of
    the same service with ``min_delay <= t_pay - t_dep <= max_delay`` and
    ``deposit * (1 - fee_max) <= payout <= deposit * (1 - fee_min)``, same asset, then keeps
    a one-to-one subset (``assignment``; default greedy by cost). This is the amount/time
    correlation that Tironsakkul et al. ("Tracking mixed bitcoins", DPM/CBT 2020) and
    blockchain-forensics practice use against custodial mixers; the parameters are ours.
    With ``per_tx`` (default) the outputs of one payout transaction are summed into one
    payout, leaving out the reserve's change (outputs to mixer addresses and to addresses that
    themselves fund a payout, attributed or not); payouts split over several transactions are
    not recombined.

    Parameters
    ----------
    fee_min, fee_max : float, default 0.0, 0.05
        Range of the mixer's fee, as a fraction of the deposit.
    min_delay, max_delay : int, default 0, 3 days (seconds)
    assignment : "greedy" | "fifo" | "hungarian", default "greedy"
    utxo_only : bool, default True
        Only UTXO chains (account-chain mixer pools are the Tornado detector's job).
    per_tx : bool, default True
        A payout is the sum of a payout transaction's outputs outside the reserve (False:
        each such output on its own).

    Scores
    ------
    links : (deposit tx, payout tx, score) with score ``1 / #candidates`` of the deposit,
        times the same for the payout (1 for an unambiguous pair).
    address : depositors and payout receivers (every output of the payout transaction
        outside the reserve) get their link's score.
    info : ``n_deposits``, ``n_payouts``, ``n_candidates``.
    """

    name: ClassVar[str] = "custodial-flow"
    description: ClassVar[str] = (
        "Custodial mixer flow-through: deposit -> payout of ~deposit*(1-fee) within a delay")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "link")}

    def __init__(self, fee_min: float = 0.0, fee_max: float = 0.05, min_delay: int = 0,
                 max_delay: int = 3 * DAY, assignment: str = "greedy", utxo_only: bool = True,
                 per_tx: bool = True):
        self.fee_min = fee_min
        self.fee_max = fee_max
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.assignment = assignment
        self.utxo_only = utxo_only
        self.per_tx = per_tx

    def _score(self, view) -> Scores:
        fmin = float(check_number("fee_min", self.fee_min, lo=0, hi=1))
        fmax = float(check_number("fee_max", self.fee_max, lo=0, hi=1))
        if fmin > fmax:
            raise ConfigError(f"fee_min ({fmin}) must be <= fee_max ({fmax})")
        dmin = int(check_number("min_delay", self.min_delay, lo=0, integer=True))
        dmax = int(check_number("max_delay", self.max_delay, lo=0, integer=True))
        if dmin > dmax:
            raise ConfigError(f"min_delay ({dmin}) must be <= max_delay ({dmax})")
        check_choice("assignment", self.assignment, METHODS)
        n = view.n_addresses
        dep, pay = custodial_events(view, bool(self.utxo_only), bool(self.per_tx))
        info = {"n_deposits": len(dep["tx"]), "n_payouts": len(pay["tx"]), "n_candidates": 0}
        if len(dep["tx"]) == 0 or len(pay["tx"]) == 0:
            return Scores(address=np.zeros(n), links=empty_links(), info=info)
        # candidates: same service and asset, payout amount in the fee band (sorted search)
        big = np.int64(max(pay["asset"].max(), dep["asset"].max()) + 1)
        kp = pay["service"] * big + pay["asset"]
        kd = dep["service"] * big + dep["asset"]
        groups = unique_sorted(kp)
        r_p = np.searchsorted(groups, kp)
        r_d = np.minimum(np.searchsorted(groups, kd), len(groups) - 1)
        valid = groups[r_d] == kd
        span = np.int64(max(pay["amount"].max(), dep["amount"].max()) + 2)
        comp = r_p * span + pay["amount"]
        order = np.argsort(comp, kind="stable")
        comp_s = comp[order]
        lo_amt = np.ceil(dep["amount"] * (1.0 - fmax)).astype(np.int64)
        hi_amt = np.floor(dep["amount"] * (1.0 - fmin)).astype(np.int64)
        lo = np.searchsorted(comp_s, r_d * span + lo_amt, "left")
        hi = np.searchsorted(comp_s, r_d * span + hi_amt, "right")
        hi = np.where(valid, hi, lo)
        own, pos = expand_ranges(lo, hi)
        i, j = own, order[pos]
        dt = pay["t"][j] - dep["t"][i]
        ok = (dt >= dmin) & (dt <= dmax) & (pay["tx"][j] != dep["tx"][i])
        i, j, dt = i[ok], j[ok], dt[ok]
        info["n_candidates"] = int(len(i))
        if len(i) == 0:
            return Scores(address=np.zeros(n), links=empty_links(), info=info)
        n_i = np.bincount(i, minlength=len(dep["tx"]))
        n_j = np.bincount(j, minlength=len(pay["tx"]))
        score = 1.0 / (n_i[i] * n_j[j])
        rel = np.abs((1.0 - pay["amount"][j] / np.maximum(dep["amount"][i], 1)) -
                     0.5 * (fmin + fmax))
        cost = -score + 1e-3 * (rel + dt / max(dmax, 1))
        sel = assign(i, j, cost, len(dep["tx"]), len(pay["tx"]), self.assignment,
                     t_a=dep["t"], t_b=pay["t"])
        i, j, score = i[sel], j[sel], score[sel]
        links = make_links(dep["tx"][i], pay["tx"][j], score)
        s_addr = scatter_max(n, dep["addr"][i], score)
        # every receiver of a linked payout transaction outside the reserve
        o_tx = np.asarray(view.outputs["tx_id"], dtype=np.int64)
        o_addr = np.asarray(view.outputs["address_id"], dtype=np.int64)
        pay_score = np.zeros(view.n_transactions)
        np.maximum.at(pay_score, pay["tx"][j], score)
        recv = (pay_score[o_tx] > 0) & ~reserve_addresses(view, bool(self.utxo_only))[o_addr]
        s_addr = np.maximum(s_addr, scatter_max(n, o_addr[recv], pay_score[o_tx[recv]]))
        return Scores(address=s_addr, links=links, info=info)
