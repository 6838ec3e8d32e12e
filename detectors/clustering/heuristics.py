"""Address-clustering heuristics: each returns pairs of addresses believed to share an owner.

* ``multi-input`` — Meiklejohn et al., "A Fistful of Bitcoins: Characterizing Payments Among
  Men with No Names", IMC 2013, Heuristic 1: all input addresses of a (non-coinbase) UTXO
  transaction belong to one user. Transactions that look like CoinJoins under any rule of the
  ``coinjoin`` detector (BlockSci's generic rule, Whirlpool, Wasabi 1.x and WabiSabi:
  :func:`~launderbench.detectors.clustering.coinjoin.is_coinjoin`) are skipped, since several
  users co-sign (later practice: BlockSci, GraphSense; H1 itself has no exception).
* ``change`` — Meiklejohn et al. 2013, Heuristic 2 / Definition 4.3 (one-time change): an
  output address is change, and joins the inputs' cluster, iff (a) this transaction is its
  first appearance, (b) the transaction is not a coinbase, (c) no output address is also an
  input address (no self-change), and (d) it is the only output meeting (a). We also require at
  least two outputs (as BlockSci's legacy change heuristic does) and skip CoinJoins.
* ``deposit`` — F. Victor, "Address Clustering Heuristics for Ethereum", FC 2020 (rule as in
  Tutela's ``DepositCluster``): on account chains, X is an exchange *deposit address* if an
  address pays X and X forwards to a publicly attributed exchange address within ``t_max``
  blocks (3200) with ``received - forwarded`` in ``[0, a_max]`` (0.01 ETH; here in USD at the
  reference price, 30 USD). All (non-service) addresses paying the same deposit address form
  one cluster; the deposit address itself belongs to the exchange and is not merged. By default
  we also require that the deposit address sends only to exchange addresses (see
  :func:`deposit_addresses`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.split import first_appearance

from .coinjoin import RULES, is_coinjoin

__all__ = ["multi_input_pairs", "change_pairs", "coinjoin_skip_rules", "deposit_pairs", "deposit_addresses",
           "first_appearance", "HEURISTICS"]


def _empty():
    return np.zeros(0, np.int64), np.zeros(0, np.int64)


def _star(groups: np.ndarray, members: np.ndarray):
    """Pairs linking every member of a group to the group's first member (groups sorted)."""
    if len(groups) == 0:
        return _empty()
    start = np.ones(len(groups), dtype=bool)
    start[1:] = groups[1:] != groups[:-1]
    head_idx = np.maximum.accumulate(np.where(start, np.arange(len(groups)), 0))
    head = members[head_idx]
    keep = head != members
    return head[keep].astype(np.int64), members[keep].astype(np.int64)


def coinjoin_skip_rules(skip_coinjoin) -> tuple[str, ...]:
    """The CoinJoin rules a heuristic skips: True means every default rule of the ``coinjoin``
    detector, False none, a tuple of rule names those rules (``("generic",)``: BlockSci's
    rule alone)."""
    if skip_coinjoin is True:
        return RULES
    if skip_coinjoin is False or skip_coinjoin is None:
        return ()
    return (skip_coinjoin,) if isinstance(skip_coinjoin, str) else tuple(skip_coinjoin)


def _not_coinjoin(view, skip_coinjoin) -> np.ndarray:
    rules = coinjoin_skip_rules(skip_coinjoin)
    if not rules:
        return np.ones(view.n_transactions, dtype=bool)
    return ~is_coinjoin(view, rules)


def multi_input_pairs(view, skip_coinjoin=True):
    """Meiklejohn H1: pairs (first input address, other input address) per UTXO transaction,
    leaving out the CoinJoins of :func:`coinjoin_skip_rules` ``(skip_coinjoin)``."""
    ins = view.inputs
    if ins.num_rows == 0:
        return _empty()
    ok = view.is_utxo_tx() & ~view.transactions["is_issuance"]
    ok &= _not_coinjoin(view, skip_coinjoin)
    n_in = np.bincount(ins["tx_id"], minlength=view.n_transactions)
    ok &= n_in >= 2
    m = ok[ins["tx_id"]]
    tx, addr = ins["tx_id"][m], ins["address_id"][m]
    order = np.argsort(tx, kind="stable")
    return _star(tx[order], addr[order])


def change_pairs(view, skip_coinjoin=True):
    """Meiklejohn H2 (Def. 4.3): pairs (an input address, the one-time change address),
    leaving out CoinJoins as :func:`multi_input_pairs` does."""
    ins, outs = view.inputs, view.outputs
    n_tx = view.n_transactions
    if ins.num_rows == 0 or outs.num_rows == 0:
        return _empty()
    ok = view.is_utxo_tx() & ~view.transactions["is_issuance"]
    ok &= _not_coinjoin(view, skip_coinjoin)
    ok &= np.bincount(outs["tx_id"], minlength=n_tx) >= 2
    # (c) no self-change: no output address is an input address of the same transaction
    n_addr = max(view.n_addresses, 1)
    in_key = unique_sorted(ins["tx_id"] * n_addr + ins["address_id"])
    out_key = outs["tx_id"] * n_addr + outs["address_id"]
    self_change = np.isin(out_key, in_key)
    ok[outs["tx_id"][self_change]] = False
    # (a) first appearance, (d) exactly one such output
    first = first_appearance(view)
    fresh = first[outs["address_id"]] == outs["tx_id"]
    n_fresh = np.bincount(outs["tx_id"][fresh], minlength=n_tx)
    ok &= n_fresh == 1
    m = fresh & ok[outs["tx_id"]]
    change_tx, change_addr = outs["tx_id"][m], outs["address_id"][m]
    # link the change to the transaction's first input address (H1 links the other inputs)
    first_in = np.full(n_tx, -1, dtype=np.int64)
    order = np.lexsort((ins["index"], ins["tx_id"]))
    t_sorted = ins["tx_id"][order]
    head = np.ones(len(order), dtype=bool)
    head[1:] = t_sorted[1:] != t_sorted[:-1]
    first_in[t_sorted[head]] = ins["address_id"][order][head]
    a = first_in[change_tx]
    keep = a >= 0
    return a[keep], change_addr[keep].astype(np.int64)


@njit(cache=True)
def _match_deposits(f_src, f_block, f_usd, f_asset, i_start, i_block, i_usd, i_asset, i_tx,
                    f_tx, t_max, a_max):
    n = f_src.shape[0]
    hit = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        x = f_src[k]
        for j in range(i_start[x], i_start[x + 1]):
            if i_asset[j] != f_asset[k] or i_tx[j] >= f_tx[k]:
                continue
            db = f_block[k] - i_block[j]
            if db < 0 or db > t_max:
                continue
            da = i_usd[j] - f_usd[k]
            if 0.0 <= da <= a_max:
                hit[k] = True
                break
    return hit


def _account_edges(view):
    """One row per account-chain output: (src, dst, usd, asset, block, tx)."""
    ins, outs = view.inputs, view.outputs
    n_tx = view.n_transactions
    acct = ~view.is_utxo_tx()
    src_of_tx = np.full(n_tx, -1, dtype=np.int64)
    m_in = acct[ins["tx_id"]]
    src_of_tx[ins["tx_id"][m_in]] = ins["address_id"][m_in]
    m = acct[outs["tx_id"]]
    tx = outs["tx_id"][m]
    src = src_of_tx[tx]
    keep = src >= 0
    tx = tx[keep]
    usd = (outs["amount"][m][keep] * view.usd_per_base_unit()[outs["asset_id"][m][keep]])
    return {"src": src[keep], "dst": outs["address_id"][m][keep], "usd": usd,
            "asset": outs["asset_id"][m][keep].astype(np.int64),
            "block": view.transactions["block_height"][tx], "tx": tx}


def deposit_addresses(view, t_max: int = 3200, a_max_usd: float = 30.0,
                      only_forwards: bool = False):
    """Victor (2020): boolean per address, True for detected exchange deposit addresses.

    With ``only_forwards`` (our refinement) a deposit address must send *only* to attributed
    exchange addresses: it is exchange-controlled and just sweeps to the hot wallet, whereas a
    personal address that sometimes pays an exchange also pays others.

    Returns ``(is_deposit, edges)`` where ``edges`` are the account edges used.
    """
    n = view.n_addresses
    is_dep = np.zeros(n, dtype=bool)
    if view.n_transactions == 0 or view.inputs.num_rows == 0:
        return is_dep, None
    e = _account_edges(view)
    if len(e["src"]) == 0:
        return is_dep, e
    exch = view.addresses["service_kind"] == ServiceKind.EXCHANGE
    service = view.addresses["service_kind"] != ServiceKind.NONE
    fwd = exch[e["dst"]] & ~service[e["src"]]
    inc = ~service[e["dst"]] & ~service[e["src"]] & (e["src"] != e["dst"])
    if not fwd.any() or not inc.any():
        return is_dep, e
    ii = np.flatnonzero(inc)
    ii = ii[np.argsort(e["dst"][ii], kind="stable")]
    i_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(e["dst"][ii], minlength=n), out=i_start[1:])
    ff = np.flatnonzero(fwd)
    hit = _match_deposits(e["src"][ff], e["block"][ff], e["usd"][ff], e["asset"][ff], i_start,
                          e["block"][ii], e["usd"][ii], e["asset"][ii], e["tx"][ii],
                          e["tx"][ff], int(t_max), float(a_max_usd))
    is_dep[e["src"][ff][hit]] = True
    if only_forwards:
        other = ~exch[e["dst"]]
        is_dep[e["src"][other]] = False
    return is_dep, e


def deposit_pairs(view, t_max: int = 3200, a_max_usd: float = 30.0,
                  only_forwards: bool = False):
    """Victor (2020): pairs of (non-service) addresses paying the same deposit address."""
    is_dep, e = deposit_addresses(view, t_max, a_max_usd, only_forwards)
    if e is None or not is_dep.any():
        return _empty()
    service = view.addresses["service_kind"] != ServiceKind.NONE
    m = is_dep[e["dst"]] & ~service[e["src"]] & (e["src"] != e["dst"])
    dst, src = e["dst"][m], e["src"][m]
    order = np.lexsort((src, dst))
    return _star(dst[order], src[order])


HEURISTICS = {
    "multi-input": multi_input_pairs,
    "change": change_pairs,
    "deposit": deposit_pairs,
}
