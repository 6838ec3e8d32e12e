"""Moving scores between the address and the transaction level of an observable view.

A transaction's legs are its inputs and outputs; each leg names one address. A detector that
scores one level derives the other by taking the maximum over the legs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["legs", "tx_to_address", "address_to_tx"]


def legs(view) -> tuple[np.ndarray, np.ndarray]:
    """(tx_id, address_id) of every input and output leg."""
    tx = np.concatenate([view.inputs["tx_id"], view.outputs["tx_id"]]).astype(np.int64)
    ad = np.concatenate([view.inputs["address_id"],
                         view.outputs["address_id"]]).astype(np.int64)
    return tx, ad


def tx_to_address(view, tx_score: np.ndarray, fill: float | None = None) -> np.ndarray:
    """Address score = maximum score of the transactions it takes part in."""
    tx, ad = legs(view)
    lo = float(tx_score.min()) if len(tx_score) else 0.0
    out = np.full(view.n_addresses, lo if fill is None else fill, dtype=np.float64)
    if len(tx):
        np.maximum.at(out, ad, tx_score[tx])
    return out


def address_to_tx(view, addr_score: np.ndarray, fill: float | None = None) -> np.ndarray:
    """Transaction score = maximum score of the addresses on its legs."""
    tx, ad = legs(view)
    lo = float(addr_score.min()) if len(addr_score) else 0.0
    out = np.full(view.n_transactions, lo if fill is None else fill, dtype=np.float64)
    if len(tx):
        np.maximum.at(out, tx, addr_score[ad])
    return out
