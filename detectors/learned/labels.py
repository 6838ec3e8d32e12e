"""The labelled period shared by the detectors that learn from labels.

Labels come one per address (1 illicit, 0 licit, -1 unknown). A labelled address may appear
again after the period in which it was labelled, in the part of the ledger a detector is
tested on; a model must not learn from those later transactions. The labelled period therefore
ends with the last transaction in which a labelled address appears for the first time
(transaction ids are in time order), and a learned detector is fitted on the ledger cut there
(:func:`labelled_prefix`): its features see nothing after it, which is what
:func:`~launderbench.detectors.testing.check_fit_ignores_the_future` checks.
"""

from __future__ import annotations

import numpy as np

from launderbench.simulator.split import first_appearance

from ..projection import legs

__all__ = ["labelled_period_end", "prefix_view", "labelled_prefix", "tx_labels"]


def labelled_period_end(view, labels) -> int:
    """Number of transactions in the labelled period: one past the last first appearance of
    an address with a known label (0 when no labelled address appears)."""
    first = first_appearance(view)
    known = (np.asarray(labels) >= 0) & (first >= 0)
    return int(first[known].max()) + 1 if known.any() else 0


def prefix_view(view, k: int):
    """The view as it stood before transaction ``k``: every address, chain and asset, the
    first ``k`` transactions with their legs and seeds."""
    from launderbench.simulator.dataset import ObservableView

    if k >= view.n_transactions:
        return view
    tables = {name: getattr(view, name) for name in ("chains", "assets", "addresses")}
    tables["transactions"] = view.transactions.take(np.arange(k))
    for name in ("inputs", "outputs", "seeds"):
        t = getattr(view, name)
        tables[name] = t.take(np.flatnonzero(np.asarray(t["tx_id"]) < k))
    return ObservableView(tables, view.meta)


def labelled_prefix(view, labels):
    """``(prefix, k)``: the view cut at the end of the labelled period, and its length."""
    k = labelled_period_end(view, labels)
    return prefix_view(view, k), k


def tx_labels(view, labels) -> np.ndarray:
    """Transaction labels from address labels: 1 when one of its addresses is labelled
    illicit, 0 when all are labelled licit, -1 otherwise (unknown)."""
    tx, ad = legs(view)
    n = view.n_transactions
    lab = np.asarray(labels)[ad]
    pos = np.bincount(tx, weights=(lab == 1), minlength=n)[:n] > 0
    unk = np.bincount(tx, weights=(lab < 0), minlength=n)[:n] > 0
    return np.where(pos, 1, np.where(unk, -1, 0)).astype(np.int64)
