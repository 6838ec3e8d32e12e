"""Cross-chain bridge matching: lock/deposit on chain A -> mint/release on chain B."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.detectors.base import Detector, Scores
from launderbench.detectors.patterns._common import (
    check_choice,
    check_number,
    empty_links,
    expand_ranges,
    first_input_row,
    make_links,
    scatter_max,
)
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY, ServiceKind

from .assign import METHODS, assign


def bridge_events(view):
    """Deposits into and releases from addresses publicly attributed as bridges.

    A deposit (lock) is a transaction that pays a bridge address and has no bridge input
    (one event per transaction: the value paid to bridge addresses); a release (mint/unlock)
    is a transaction whose first input is a bridge address, and its beneficiary is the
    largest output to a non-bridge address. Returns two dicts of arrays: ``tx``, ``chain``,
    ``asset``, ``t``, ``amount`` (base units), ``usd``, ``memo``, ``addr`` (depositor /
    beneficiary), ``bridge`` (the bridge address paid by a deposit, the largest such output;
    the bridge address a release pays from) and ``fee`` (the transaction's network fee, base
    units of its asset).
    """
    n_tx = view.n_transactions
    keys = ("tx", "chain", "asset", "t", "amount", "usd", "memo", "addr", "bridge", "fee")
    empty = {k: np.zeros(0, np.float64 if k == "usd" else np.int64) for k in keys}
    bridge = np.asarray(view.addresses["service_kind"]) == ServiceKind.BRIDGE
    if n_tx == 0 or not bridge.any():
        return empty, dict(empty)
    tx = view.transactions
    price = view.usd_per_base_unit()
    in_row = first_input_row(view)
    i_addr = np.asarray(view.inputs["address_id"], dtype=np.int64)
    sender = np.where(in_row >= 0, i_addr[np.maximum(in_row, 0)], -1)
    has_bridge_in = np.zeros(n_tx, bool)
    if len(i_addr):
        has_bridge_in[np.asarray(view.inputs["tx_id"], dtype=np.int64)[bridge[i_addr]]] = True
    o = view.outputs
    o_tx = np.asarray(o["tx_id"], dtype=np.int64)
    o_addr = np.asarray(o["address_id"], dtype=np.int64)
    o_amt = np.asarray(o["amount"], dtype=np.int64)
    not_iss = ~np.asarray(tx["is_issuance"], dtype=bool)

    def pack(txs, amount, addr, via):
        a = np.asarray(tx["asset_id"], dtype=np.int64)[txs]
        return {"tx": txs, "chain": np.asarray(tx["chain_id"], dtype=np.int64)[txs],
                "asset": a, "t": np.asarray(tx["timestamp"], dtype=np.int64)[txs],
                "amount": amount, "usd": amount * price[a],
                "memo": np.asarray(tx["memo"], dtype=np.int64)[txs], "addr": addr,
                "bridge": via, "fee": np.asarray(tx["fee"], dtype=np.int64)[txs]}

    dm = bridge[o_addr] & ~has_bridge_in[o_tx] & not_iss[o_tx]
    paid = np.bincount(o_tx[dm], weights=o_amt[dm], minlength=n_tx)
    dtx = np.flatnonzero(paid > 0)
    d_rows = np.flatnonzero(dm)
    d_rows = d_rows[np.lexsort((-o_amt[d_rows], o_tx[d_rows]))]
    paid_to = np.full(n_tx, -1, dtype=np.int64)
    paid_to[o_tx[d_rows][::-1]] = o_addr[d_rows][::-1]  # the largest bridge output per tx
    dep = pack(dtx, paid[dtx].astype(np.int64), sender[dtx], paid_to[dtx])
    from_bridge = (sender >= 0) & bridge[np.maximum(sender, 0)] & not_iss
    rm = from_bridge[o_tx] & ~bridge[o_addr]
    rows = np.flatnonzero(rm)
    order = np.lexsort((-o_amt[rows], o_tx[rows]))
    rows = rows[order]
    if len(rows):
        rows = rows[np.r_[True, o_tx[rows][1:] != o_tx[rows][:-1]]]
    rel = pack(o_tx[rows], o_amt[rows], o_addr[rows], sender[o_tx[rows]])
    return dep, rel


def _token_allowed(view, token_map):
    """Boolean matrix [deposit asset, release asset] of allowed token mappings (None: all)."""
    syms = [str(s) for s in view.assets["symbol"]]
    ids = np.asarray(view.assets["asset_id"], dtype=np.int64)
    n = int(ids.max(initial=0)) + 1
    if token_map is None:
        return np.ones((n, n), dtype=bool)
    if not isinstance(token_map, dict):
        raise ConfigError("token_map must be None or a dict {symbol: [symbols]}")
    allowed = np.zeros((n, n), dtype=bool)
    sid = dict(zip(syms, ids.tolist()))
    for k, vs in token_map.items():
        if isinstance(vs, str):
            vs = [vs]
        for v in vs:
            if k not in sid or v not in sid:
                raise ConfigError(f"token_map names an unknown asset: {k!r} -> {v!r}")
            allowed[sid[k], sid[v]] = True
    return allowed


def representation_map(view) -> np.ndarray:
    """Boolean matrix [deposit asset, release asset]: the release asset is a one-to-one
    representation of the deposit asset on another chain (BTC and WBTC, USDT and USDT-AVAX):
    an asset of a different chain with the same reference price per whole unit. The id path's
    token mapping when no ``token_map`` is given."""
    a = view.assets
    ids = np.asarray(a["asset_id"], dtype=np.int64)
    n = int(ids.max(initial=0)) + 1
    chain = np.full(n, -1, dtype=np.int64)
    chain[ids] = np.asarray(a["chain_id"], dtype=np.int64)
    usd = np.full(n, np.nan)
    usd[ids] = np.asarray(a["usd_price"], dtype=np.float64)
    same = np.isclose(usd[:, None], usd[None, :], rtol=1e-12, atol=0.0)
    return same & (chain[:, None] != chain[None, :]) & (chain[:, None] >= 0)


def _bridge_fees(view, bridge_fee, bridge_addr) -> np.ndarray:
    """Stated proportional fee of each bridge address in ``bridge_addr``."""
    if isinstance(bridge_fee, dict):
        names = np.asarray(view.addresses["service_name"]).astype(str)
        bridge = np.asarray(view.addresses["service_kind"]) == ServiceKind.BRIDGE
        known = set(names[bridge].tolist())
        fee = np.zeros(len(bridge_addr))
        for name, f in bridge_fee.items():
            if name not in known:
                raise ConfigError(f"bridge_fee names an unknown bridge {name!r} (known: "
                                  f"{', '.join(sorted(known))})")
            fee[names[bridge_addr] == name] = float(check_number("bridge_fee", f, lo=0, hi=1,
                                                                 lo_open=False))
        return fee
    return np.full(len(bridge_addr), float(check_number("bridge_fee", bridge_fee, lo=0, hi=1)))


#: reasons an id pair is not linked, in the order the rules are checked
ID_RULES = ("chain", "time", "token", "amount")


class BridgeMatcher(Detector):
    """Match bridge deposits (locks) on one chain to releases (mints/unlocks) on another.

    Deposits are payments into addresses publicly attributed as bridges; releases are
    payments out of them (:func:`bridge_events`). Two paths:

    * **By deposit id** (XChainWatcher; Augusto, Belchior, Pfannschmidt, Vasconcelos &
      Correia, arXiv 2410.02029, ``acceptance-rules.dl``, rule ``CCTX_Deposit``): a deposit
      and a release that carry the same ``memo`` (the bridge's deposit id) are one cross-chain
      transfer when all of these hold, checked in this order:

      1. ``chain``: the two are on different chains;
      2. ``time``: ``t_src < t_dst`` (strictly);
      3. ``token``: the token mapping allows the pair (``token_map``; by default the release
         asset must be a one-to-one representation of the deposit asset on the other chain,
         :func:`representation_map`);
      4. ``amount``: equal amounts after the bridge's stated fee. The release's amount plus
         its network fee (paid out of the released value in this ledger) equals
         ``amount_src * conversion * (1 - bridge_fee)`` rounded down to a base unit, within
         ``amount_tol`` base units; ``conversion`` is the ratio of the reference prices per
         base unit (1 for one-to-one representations of equal decimals).

      Such a pair links with score 1. Same-id pairs that fail a rule are not linked; they are
      reported in ``info["id_mismatches"]`` with the first failed rule in
      ``info["id_mismatch_reasons"]``. Id-carrying releases left unlinked are reported as
      ``unmatched_releases`` (how the Ronin and Nomad exploits showed up).
    * **Heuristic** (Yan, Huang & Tessone, "Tracing cross-chain transactions between
      EVM-based blockchains", Ledger 2025; the benchmark's own matcher design) for events
      without an id: candidate pairs on different chains with an allowed token mapping
      (``token_map``; None allows any pair, compared in USD),
      ``0 <= t_dst - t_src <= window`` and, comparing USD values at the reference prices
      (``view.usd_per_base_unit()``, so that a lock of X may release Y),
      ``usd_dst in [usd_src * (1 - phi) - fee_max_usd, usd_src * (1 + price_tol)]``
      (``price_tol`` only when the two assets differ). Each pair's cost is
      ``|usd_src - usd_dst| / (phi * usd_src + fee_max_usd) + delta_t / window`` and its
      score ``1 / (1 + cost)``; a one-to-one subset is chosen by ``assignment``: ``greedy``
      (cheapest first), ``fifo`` (deposits in time order take the earliest feasible release)
      or ``hungarian`` (scipy ``linear_sum_assignment`` per connected component).

    XChainWatcher also requires the same beneficiary on both sides; a deposit in this ledger
    does not name its beneficiary, so that rule is not available. Yan et al. also require the
    same address on both EVM chains; addresses in this ledger are per chain.

    Parameters
    ----------
    phi : float, default 0.01
        Heuristic path: largest proportional bridge fee.
    fee_max_usd : float, default 50.0
        Heuristic path: largest fixed fee, USD.
    window : int, default 86400
        Heuristic path: largest delay between deposit and release, seconds.
    price_tol : float, default 0.0
        Heuristic path: tolerance above the deposit's value when the assets differ.
    token_map : dict or None, default None
        ``{deposit symbol: [release symbols]}`` for both paths. None: the heuristic path
        allows any pair and the id path the one-to-one representations.
    bridge_fee : float or dict, default 0.001
        Id path: the bridges' stated proportional fee, one for all or
        ``{bridge service name: fee}`` (bridges left out charge none). 0.001 is the fee the
        id-carrying bridges of the benchmark's economy state.
    amount_tol : float, default 1.0
        Id path: largest difference in base units of the release asset (the rounding of
        the release to a whole base unit).
    assignment : "greedy" | "fifo" | "hungarian", default "greedy"
    use_memo : bool, default True

    Scores
    ------
    links : (deposit tx, release tx, score).
    address : depositors and beneficiaries of linked pairs get the link score.
    info : ``n_id_matched``, ``n_heuristic``, ``id_mismatches`` (pairs of tx ids),
        ``id_mismatch_reasons`` (the first rule each of them fails, one of ``ID_RULES``),
        ``unmatched_releases`` / ``unmatched_deposits`` (tx ids of id-carrying events left
        unmatched), ``n_deposits``, ``n_releases``.
    """

    name: ClassVar[str] = "bridge-matcher"
    description: ClassVar[str] = (
        "Bridge lock->release matching: XChainWatcher id rules, else amount/time heuristic")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "link")}

    def __init__(self, phi: float = 0.01, fee_max_usd: float = 50.0, window: int = DAY,
                 price_tol: float = 0.0, token_map: dict | None = None,
                 bridge_fee: float | dict = 0.001, amount_tol: float = 1.0,
                 assignment: str = "greedy", use_memo: bool = True):
        self.phi = phi
        self.fee_max_usd = fee_max_usd
        self.window = window
        self.price_tol = price_tol
        self.token_map = token_map
        self.bridge_fee = bridge_fee
        self.amount_tol = amount_tol
        self.assignment = assignment
        self.use_memo = use_memo

    def _id_pairs(self, view, dep, rel, allowed_id, amount_tol):
        """Same-id (deposit, release) pairs and the first XChainWatcher rule each fails
        (-1 when it passes every rule)."""
        dm = np.flatnonzero(dep["memo"] >= 0)
        rm = np.flatnonzero(rel["memo"] >= 0)
        order = np.argsort(dep["memo"][dm], kind="stable")
        lo = np.searchsorted(dep["memo"][dm][order], rel["memo"][rm], "left")
        hi = np.searchsorted(dep["memo"][dm][order], rel["memo"][rm], "right")
        own, pos = expand_ranges(lo, hi)
        i, j = dm[order[pos]], rm[own]
        price = view.usd_per_base_unit()
        a_src, a_dst = dep["asset"][i], rel["asset"][j]
        conv = price[a_src] / np.where(price[a_dst] > 0, price[a_dst], np.nan)
        fee = _bridge_fees(view, self.bridge_fee, rel["bridge"][j])
        expect = np.floor(dep["amount"][i] * conv * (1.0 - fee))
        paid = (rel["amount"][j] + rel["fee"][j]).astype(np.float64)
        slack = amount_tol + 1e-9 * np.abs(expect)
        fails = np.stack([dep["chain"][i] == rel["chain"][j],
                          rel["t"][j] <= dep["t"][i],
                          ~allowed_id[a_src, a_dst],
                          ~(np.abs(paid - expect) <= slack)])
        reason = np.where(fails.any(axis=0), np.argmax(fails, axis=0), -1)
        return i, j, reason, dm, rm

    def _score(self, view) -> Scores:
        phi = float(check_number("phi", self.phi, lo=0, hi=1))
        fee_max = float(check_number("fee_max_usd", self.fee_max_usd, lo=0))
        window = int(check_number("window", self.window, lo=0, integer=True))
        ptol = float(check_number("price_tol", self.price_tol, lo=0, hi=1))
        amount_tol = float(check_number("amount_tol", self.amount_tol, lo=0))
        check_choice("assignment", self.assignment, METHODS)
        allowed = _token_allowed(view, self.token_map)
        allowed_id = representation_map(view) if self.token_map is None else allowed
        n = view.n_addresses
        dep, rel = bridge_events(view)
        z = np.zeros(0, np.int64)
        info = {"n_id_matched": 0, "n_heuristic": 0, "id_mismatches": np.zeros((0, 2), np.int64),
                "id_mismatch_reasons": np.zeros(0, dtype="<U6"),
                "unmatched_releases": z, "unmatched_deposits": z,
                "n_deposits": len(dep["tx"]), "n_releases": len(rel["tx"])}
        if len(dep["tx"]) == 0 or len(rel["tx"]) == 0:
            if self.use_memo:
                info["unmatched_releases"] = rel["tx"][rel["memo"] >= 0]
                info["unmatched_deposits"] = dep["tx"][dep["memo"] >= 0]
            return Scores(address=np.zeros(n), links=empty_links(), info=info)

        L_i, L_j, L_s = [], [], []
        dep_used = np.zeros(len(dep["tx"]), bool)
        rel_used = np.zeros(len(rel["tx"]), bool)
        if self.use_memo:
            i, j, reason, dm, rm = self._id_pairs(view, dep, rel, allowed_id, amount_tol)
            good = reason < 0
            dt = (rel["t"][j] - dep["t"][i]).astype(float)
            sel = assign(i[good], j[good], dt[good], len(dep["tx"]), len(rel["tx"]), "greedy")
            gi, gj = i[good][sel], j[good][sel]
            L_i.append(gi)
            L_j.append(gj)
            L_s.append(np.ones(len(gi)))
            dep_used[gi] = True
            rel_used[gj] = True
            bad = ~good
            info["n_id_matched"] = int(len(gi))
            info["id_mismatches"] = np.stack([dep["tx"][i[bad]], rel["tx"][j[bad]]], axis=1)
            info["id_mismatch_reasons"] = np.asarray(ID_RULES)[reason[bad]]
            info["unmatched_releases"] = rel["tx"][rm[~rel_used[rm]]]
            info["unmatched_deposits"] = dep["tx"][dm[~dep_used[dm]]]
            di = np.flatnonzero(~dep_used & (dep["memo"] < 0))
            rj = np.flatnonzero(~rel_used & (rel["memo"] < 0))
        else:
            di = np.arange(len(dep["tx"]))
            rj = np.arange(len(rel["tx"]))

        # heuristic path: candidates by time window, then chain, token and amount rules
        if len(di) and len(rj):
            order = np.argsort(rel["t"][rj], kind="stable")
            rt = rel["t"][rj][order]
            lo = np.searchsorted(rt, dep["t"][di], "left")
            hi = np.searchsorted(rt, dep["t"][di] + window, "right")
            own, pos = expand_ranges(lo, hi)
            i, j = di[own], rj[order[pos]]
            du, ru = dep["usd"][i], rel["usd"][j]
            same = dep["asset"][i] == rel["asset"][j]
            top = du * np.where(same, 1.0, 1.0 + ptol)
            bottom = du * (1.0 - phi) - fee_max
            ok = ((ru >= bottom - 1e-9) & (ru <= top + 1e-9)
                  & allowed[dep["asset"][i], rel["asset"][j]]
                  & (dep["chain"][i] != rel["chain"][j]))
            i, j = i[ok], j[ok]
            du, ru = du[ok], ru[ok]
            dt = rel["t"][j] - dep["t"][i]
            cost = np.abs(du - ru) / np.maximum(phi * du + fee_max, 1e-12) + dt / max(window, 1)
            sel = assign(i, j, cost, len(dep["tx"]), len(rel["tx"]), self.assignment,
                         t_a=dep["t"], t_b=rel["t"])
            L_i.append(i[sel])
            L_j.append(j[sel])
            L_s.append(1.0 / (1.0 + cost[sel]))
            info["n_heuristic"] = int(sel.sum())
        li = np.concatenate(L_i) if L_i else z
        lj = np.concatenate(L_j) if L_j else z
        ls = np.concatenate(L_s) if L_s else np.zeros(0)
        links = make_links(dep["tx"][li], rel["tx"][lj], ls)
        s_addr = np.maximum(scatter_max(n, dep["addr"][li], ls),
                            scatter_max(n, rel["addr"][lj], ls))
        return Scores(address=s_addr, links=links, info=info)
