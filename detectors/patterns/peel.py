"""Peel chains (BlockSci's rule, followed to maximal chains)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from launderbench.detectors.base import Detector, Scores

from ._common import check_number, first_input_row, outputs_sorted_by_tx, spender_tx


@njit(cache=True)
def _walk(nxt, prv, is_node):
    """Label maximal chains: per tx its chain id (-1 if none) and position; chain lengths."""
    n = len(nxt)
    chain = np.full(n, -1, np.int64)
    pos = np.full(n, -1, np.int64)
    lengths = np.zeros(n, np.int64)
    heads = np.zeros(n, np.int64)
    c = 0
    for t in range(n):
        if not is_node[t] or prv[t] >= 0:
            continue
        k = 0
        u = t
        while u >= 0:
            chain[u] = c
            pos[u] = k
            k += 1
            u = nxt[u]
        lengths[c] = k
        heads[c] = t
        c += 1
    return chain, pos, lengths[:c], heads[:c]


class PeelChain(Detector):
    """Peel chains: BlockSci's peeling-chain rule followed to maximal chains.

    A transaction *looks like* a peel if it has exactly one input and two outputs; it *is*
    a peel if its parent (the transaction whose output it spends) or one of its children
    also looks like one (BlockSci ``isPeelingChain``, ``citp/BlockSci``
    ``tx_identification.cpp``). The chain continues through the change output, the output
    spent by the next peel-looking transaction (BlockSci's ``PeelingChain`` change
    heuristic); when both outputs are spent by peel-looking transactions the larger output is
    taken as the change and the other starts a new chain. Chains are followed to their
    maximal length.

    A chain is flagged when it has at least ``min_length`` transactions and every peel (the
    output that leaves the chain; for the last transaction, the smaller output) is at most
    ``rho`` times the transaction's input. ``min_length`` and ``rho`` are this project's
    parameters, not BlockSci's.

    Parameters
    ----------
    min_length : int, default 5
        L, the number of transactions a chain needs to be flagged.
    rho : float, default 0.3
        Largest peel as a fraction of the transaction's input value.

    Scores
    ------
    transaction : ``len / (len + L)`` for transactions of chains whose peels all satisfy
        ``rho`` (so flagged chains score >= 0.5), else 0.
    address : the chain's own addresses (input addresses and the final change) get their
        chain's score; peel recipients get half of it.
    info : ``chains`` (list of int64 arrays of tx ids, flagged chains only, longest first),
        ``n_peel_like`` and ``n_chains``.

    References
    ----------
    Kalodner et al., "BlockSci: Design and applications of a blockchain analysis platform",
    USENIX Security 2020; Meiklejohn et al., "A fistful of bitcoins", IMC 2013 (peeling chains).
    """

    name: ClassVar[str] = "peel-chain"
    description: ClassVar[str] = (
        "Peel chains: BlockSci's 1-in/2-out rule followed to maximal chains (length >= L, "
        "peels <= rho*input)")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "transaction")}

    def __init__(self, min_length: int = 5, rho: float = 0.3):
        self.min_length = min_length
        self.rho = rho

    def _score(self, view) -> Scores:
        L = int(check_number("min_length", self.min_length, lo=2, integer=True))
        rho = float(check_number("rho", self.rho, lo=0, hi=1, lo_open=True))
        tx = view.transactions
        n_tx, n_addr = view.n_transactions, view.n_addresses
        s_tx = np.zeros(n_tx)
        s_addr = np.zeros(n_addr)
        if n_tx == 0:
            return Scores(address=s_addr, transaction=s_tx,
                          info={"chains": [], "n_peel_like": 0, "n_chains": 0})
        looks = ((np.asarray(tx["n_inputs"]) == 1) & (np.asarray(tx["n_outputs"]) == 2)
                 & view.is_utxo_tx() & ~np.asarray(tx["is_issuance"], dtype=bool))
        order, start, count = outputs_sorted_by_tx(view)
        o_amt = np.asarray(view.outputs["amount"], dtype=np.int64)
        o_addr = np.asarray(view.outputs["address_id"], dtype=np.int64)
        spender = spender_tx(view)
        ins = view.inputs
        in_row = first_input_row(view)

        cand = np.flatnonzero(looks & (count == 2))
        o1 = order[start[cand]]
        o2 = order[start[cand] + 1]
        c1, c2 = spender[o1], spender[o2]
        l1 = (c1 >= 0) & looks[np.maximum(c1, 0)]
        l2 = (c2 >= 0) & looks[np.maximum(c2, 0)]
        parent = np.asarray(ins["prev_tx_id"], dtype=np.int64)[in_row[cand]]
        lp = (parent >= 0) & looks[np.maximum(parent, 0)]
        is_peel = np.zeros(n_tx, dtype=bool)
        is_peel[cand[lp | l1 | l2]] = True

        # continuation: the output spent by a peel-looking child (the larger one if both)
        take1 = l1 & (~l2 | (o_amt[o1] >= o_amt[o2]))
        take2 = l2 & ~take1
        nxt = np.full(n_tx, -1, dtype=np.int64)
        nxt[cand[take1]] = c1[take1]
        nxt[cand[take2]] = c2[take2]
        cont_out = np.full(n_tx, -1, dtype=np.int64)
        cont_out[cand[take1]] = o1[take1]
        cont_out[cand[take2]] = o2[take2]
        prv = np.full(n_tx, -1, dtype=np.int64)
        has = nxt >= 0
        prv[nxt[has]] = np.flatnonzero(has)
        chain, pos, lengths, heads = _walk(nxt, prv, is_peel)

        # peel of each chain tx: the non-continuing output (last tx: the smaller output)
        members = np.flatnonzero(chain >= 0)
        first = order[start[members]]
        second = order[start[members] + 1]
        co = cont_out[members]
        smaller = np.where(o_amt[first] <= o_amt[second], first, second)
        peel_out = np.where(co == first, second, np.where(co == second, first, smaller))
        change_out = np.where(peel_out == first, second, first)
        in_amt = np.asarray(ins["amount"], dtype=np.float64)[in_row[members]]
        ok = o_amt[peel_out] <= rho * in_amt
        bad_chain = np.zeros(len(lengths), dtype=bool)
        bad_chain[chain[members][~ok]] = True
        ch = chain[members]
        good = ~bad_chain[ch] & (lengths[ch] >= 2)
        sc = np.where(good, lengths[ch] / (lengths[ch] + float(L)), 0.0)
        s_tx[members] = sc
        in_addr = np.asarray(ins["address_id"], dtype=np.int64)[in_row[members]]
        np.maximum.at(s_addr, in_addr, sc)
        last = pos[members] == lengths[ch] - 1
        np.maximum.at(s_addr, o_addr[change_out[last]], sc[last])
        np.maximum.at(s_addr, o_addr[peel_out], 0.5 * sc)

        flagged = np.flatnonzero((lengths >= L) & ~bad_chain)
        chains = []
        if len(flagged):
            fl = np.zeros(len(lengths), dtype=bool)
            fl[flagged] = True
            m = members[fl[ch]]
            key = np.lexsort((pos[m], chain[m]))
            m = m[key]
            cuts = np.flatnonzero(np.diff(chain[m])) + 1
            chains = sorted(np.split(m.astype(np.int64), cuts), key=lambda a: (-len(a), a[0]))
        info = {"chains": chains, "n_peel_like": int(is_peel.sum()), "n_chains": len(chains)}
        return Scores(address=s_addr, transaction=s_tx, info=info)
