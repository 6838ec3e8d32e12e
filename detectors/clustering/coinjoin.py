"""CoinJoin detection (BlockSci's generic rule), reusable by the clustering and mixer code.

Source: Kalodner et al., "BlockSci: Design and applications of a blockchain analysis
platform", USENIX Security 2020; rule of BlockSci's ``isCoinjoin`` (heuristics/
tx_identification), re-implemented here from its description:

* at least 2 inputs and at least 3 outputs;
* ``p = (n_out + 1) // 2`` participants, with ``p <= n_in`` and ``p <=`` the number of distinct
  input addresses;
* the most frequent output value occurs exactly ``p`` times;
* that value is not 546 or 2730 satoshi (dust values used by other protocols).

Only UTXO transactions can be CoinJoins; account transfers always get False.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_coinjoin", "DUST_VALUES"]

DUST_VALUES = (546, 2730)


def is_coinjoin(view) -> np.ndarray:
    """Boolean per transaction: looks like a CoinJoin under BlockSci's generic rule.

    Parameters
    ----------
    view : ObservableView

    Returns
    -------
    bool array of shape ``(view.n_transactions,)``
    """
    n_tx = view.n_transactions
    out = np.zeros(n_tx, dtype=bool)
    if n_tx == 0:
        return out
    ins, outs = view.inputs, view.outputs
    n_in = np.bincount(ins["tx_id"], minlength=n_tx)
    n_out = np.bincount(outs["tx_id"], minlength=n_tx)
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
    m = cand[outs["tx_id"]]
    tx, amt = outs["tx_id"][m], outs["amount"][m]
    if len(tx) == 0:
        return out
    vals, counts = np.unique(np.stack([tx, amt]), axis=1, return_counts=True)
    order = np.lexsort((vals[1], -counts, vals[0]))  # by tx, then count desc, then value asc
    vt, va, vc = vals[0][order], vals[1][order], counts[order]
    first = np.ones(len(vt), dtype=bool)
    first[1:] = vt[1:] != vt[:-1]
    t, v, c = vt[first], va[first], vc[first]
    ok = (c == p[t]) & ~np.isin(v, DUST_VALUES)
    out[t[ok]] = True
    return out & cand
