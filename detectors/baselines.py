"""One-feature baselines: scores that use no laundering knowledge, to expose shortcuts.

They sit beside the detectors as scikit-learn keeps its dummy models in ``sklearn.dummy``; the
benchmark harness decides what they must show (:mod:`launderbench.benchmarks.chance`) and
compares the real laundering with benign look-alikes (:mod:`launderbench.benchmarks.placebo`).

A benchmark leaks when a trivial feature separates laundering from benign activity (the
"payment format" of AMLworld, see Altman et al. 2023 and the re-evaluation in arXiv
2604.19514). Each baseline below scores with one such feature only, and the report shows
them beside the real detectors.

``random``             uniform random scores (the chance level itself).
``degree``             number of transaction legs touching an address / of a transaction.
``amount``             USD volume received by an address / moved by a transaction.
``address-age``        short-lived addresses and transactions between fresh addresses first.
``raw-tx-classifier``  a gradient-boosted classifier on raw per-transaction fields only
                       (value, fee, fee rate, input and output counts, chain, asset, memo,
                       hour of day), trained on the training period: the "LightGBM on raw
                       transaction features" baseline of Egressy et al. (AAAI 2024).

Address scores derived from transaction scores take the maximum over the address's
transactions (:mod:`launderbench.detectors.projection`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.simulator.errors import ConfigError

from .base import Detector, Scores
from .learned.labels import labelled_period_end, tx_labels
from .projection import legs, tx_to_address

__all__ = ["RandomScores", "DegreeScores", "AmountScores", "AddressAgeScores",
           "RawTxClassifier"]

_BOTH = ("address", "transaction")


def _tx_usd(view) -> np.ndarray:
    outs = view.outputs
    usd = view.usd_per_base_unit()[outs["asset_id"]] * outs["amount"]
    return np.bincount(outs["tx_id"], weights=usd, minlength=view.n_transactions)[
        :view.n_transactions].astype(np.float64)


class RandomScores(Detector):
    """Uniform random scores for addresses and transactions: the chance level.

    Parameters
    ----------
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.

    References
    ----------
    The random-ranking reference of every information-retrieval evaluation; Saito & Rehmsmeier,
    "The precision-recall plot is more informative than the ROC plot when evaluating binary
    classifiers on imbalanced datasets", PLoS ONE 10(3), 2015 (chance PR-AUC = base rate).
    """

    name: ClassVar[str] = "random"
    description: ClassVar[str] = "Shortcut baseline: uniform random scores (chance level)"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False, "outputs": _BOTH}

    def __init__(self, seed=0):
        self.seed = seed

    def _score(self, view) -> Scores:
        rng = np.random.default_rng(self.seed)
        return Scores(address=rng.random(view.n_addresses),
                      transaction=rng.random(view.n_transactions))


class DegreeScores(Detector):
    """Degree: the number of transaction legs of an address, and of a transaction.

    A structural shortcut: if laundering addresses are busier (or quieter) than benign ones
    by construction, this baseline finds them without any laundering knowledge.

    References
    ----------
    Weber et al., "Anti-money laundering in Bitcoin: experimenting with graph convolutional
    networks for financial forensics", KDD workshop 2019 (degree features of the Elliptic data).
    """

    name: ClassVar[str] = "degree"
    description: ClassVar[str] = "Shortcut baseline: number of transaction legs (degree)"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False, "outputs": _BOTH}

    def __init__(self):
        pass

    def _score(self, view) -> Scores:
        tx, ad = legs(view)
        a = np.bincount(ad, minlength=view.n_addresses)[:view.n_addresses]
        t = np.bincount(tx, minlength=view.n_transactions)[:view.n_transactions]
        return Scores(address=a.astype(np.float64), transaction=t.astype(np.float64))


class AmountScores(Detector):
    """Amount: the USD value an address receives, and that a transaction moves.

    References
    ----------
    Altman et al., "Realistic synthetic financial transactions for anti-money laundering
    models", NeurIPS 2023 Datasets and Benchmarks (amount as a raw transaction feature).
    """

    name: ClassVar[str] = "amount"
    description: ClassVar[str] = "Shortcut baseline: USD value received / moved"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False, "outputs": _BOTH}

    def __init__(self):
        pass

    def _score(self, view) -> Scores:
        outs = view.outputs
        usd = view.usd_per_base_unit()[outs["asset_id"]] * outs["amount"]
        a = np.bincount(outs["address_id"], weights=usd, minlength=view.n_addresses)
        return Scores(address=np.log1p(a[:view.n_addresses]),
                      transaction=np.log1p(_tx_usd(view)))


class AddressAgeScores(Detector):
    """Address age: short-lived addresses, and transactions between fresh addresses, first.

    Address score = −(last − first time the address is seen), in days. Transaction score =
    share of its legs whose address appears for the first time in this transaction.

    References
    ----------
    Address age and lifetime are standard features of Bitcoin illicit-activity classifiers,
    e.g. Harlev et al., "Breaking bad: de-anonymising entity types on the Bitcoin blockchain
    using supervised machine learning", HICSS 2018.
    """

    name: ClassVar[str] = "address-age"
    description: ClassVar[str] = "Shortcut baseline: short-lived / fresh addresses first"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False, "outputs": _BOTH}

    def __init__(self):
        pass

    def _score(self, view) -> Scores:
        tx, ad = legs(view)
        ts = view.transactions["timestamp"].astype(np.float64)
        n_a, n_t = view.n_addresses, view.n_transactions
        first = np.full(n_a, np.inf)
        last = np.full(n_a, -np.inf)
        first_tx = np.full(n_a, np.iinfo(np.int64).max, dtype=np.int64)
        if len(tx):
            np.minimum.at(first, ad, ts[tx])
            np.maximum.at(last, ad, ts[tx])
            np.minimum.at(first_tx, ad, tx)
        seen = np.isfinite(first)
        addr = np.zeros(n_a)
        addr[seen] = -(last[seen] - first[seen]) / 86_400.0
        fresh = (first_tx[ad] == tx).astype(np.float64) if len(tx) else np.zeros(0)
        cnt = np.bincount(tx, minlength=n_t)[:n_t]
        share = np.bincount(tx, weights=fresh, minlength=n_t)[:n_t] / np.maximum(cnt, 1)
        return Scores(address=addr, transaction=share.astype(np.float64))


def _cap_benign(train, y, cap, seed):
    """``train`` with at most ``cap`` of its benign rows (``y == 0``), drawn at random."""
    if cap is None:
        return train
    if int(cap) < 1:
        raise ConfigError(f"max_benign_rows must be >= 1 or None, got {cap}")
    benign = np.flatnonzero(train & (y == 0))
    if len(benign) <= int(cap):
        return train
    drop = np.random.default_rng(seed).choice(benign, len(benign) - int(cap), replace=False)
    train = train.copy()
    train[drop] = False
    return train


class RawTxClassifier(Detector):
    """Gradient-boosted trees on raw per-transaction fields only (no graph features).

    Features per transaction: log USD value, log USD fee, fee rate, number of inputs and
    outputs, chain, asset, whether it carries a memo, whether it is an issuance, hour of day.
    Transaction labels come from the address labels (a transaction is laundering when one of
    its addresses is labelled illicit, benign when all are labelled licit). Only transactions
    up to the last first-appearance of a labelled address are used for training, so that a
    temporal split stays temporal. Address scores are the maximum over their transactions.

    It is the simplest member of the learned family (:mod:`launderbench.detectors.learned`):
    the feature models there add address and neighbourhood features to these fields.

    Parameters
    ----------
    max_iter : int, default 100
        Boosting iterations of :class:`sklearn.ensemble.HistGradientBoostingClassifier`.
    learning_rate : float, default 0.1
    seed : int, default 0
    max_benign_rows : int or None, default 200_000
        At most this many benign transactions are trained on, drawn at random (with ``seed``)
        when there are more; every laundering transaction is kept. The classes are weighted
        to equal totals either way (``class_weight="balanced"``), so the sample only makes the
        benign side's estimate noisier, and it bounds the fit's cost on large ledgers
        (docs/speed.md). ``None`` trains on every row. No preset at its default size reaches
        the cap.

    References
    ----------
    Egressy et al., "Provably powerful graph neural networks for directed multigraphs",
    AAAI 2024 ("LightGBM on raw transaction features", F1 21.3 on AMLworld HI-Small);
    Ke et al., "LightGBM", NeurIPS 2017 (histogram gradient boosting).
    """

    name: ClassVar[str] = "raw-tx-classifier"
    description: ClassVar[str] = (
        "Shortcut baseline: gradient boosting on raw per-transaction fields (needs labels)")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": True, "outputs": _BOTH}

    def __init__(self, max_iter=100, learning_rate=0.1, seed=0, max_benign_rows=200_000):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.seed = seed
        self.max_benign_rows = max_benign_rows

    @staticmethod
    def features(view) -> np.ndarray:
        """Raw per-transaction fields, shape (n_transactions, 10)."""
        t = view.transactions
        n = view.n_transactions
        price = view.usd_per_base_unit()[t["asset_id"]] if n else np.zeros(0)
        return np.column_stack([
            np.log1p(_tx_usd(view)),
            np.log1p(t["fee"] * price),
            np.log1p(np.maximum(t["fee_rate"], 0)),
            t["n_inputs"], t["n_outputs"], t["chain_id"], t["asset_id"],
            (t["memo"] >= 0), t["is_issuance"],
            (t["timestamp"] // 3600) % 24,
        ]).astype(np.float64).reshape(n, 10)

    @staticmethod
    def tx_labels(view, labels) -> np.ndarray:
        """Transaction labels from address labels: 1, 0 or -1 (unknown)
        (:func:`launderbench.detectors.learned.labels.tx_labels`)."""
        return tx_labels(view, labels)

    def _fit(self, view, labels=None) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        y = self.tx_labels(view, labels)
        # only the labelled period (:mod:`launderbench.detectors.learned.labels`): an address
        # labelled for training may appear again later, in the test part, and those later
        # transactions must not be trained on
        k = labelled_period_end(view, labels)
        train = (y >= 0) & (np.arange(view.n_transactions) < k)
        train = _cap_benign(train, y, self.max_benign_rows, self.seed)
        self.n_train_ = int(train.sum())
        if train.sum() == 0 or len(np.unique(y[train])) < 2:
            self.model_ = None
            self.constant_ = float(y[train].mean()) if train.any() else 0.0
            return
        from threadpoolctl import threadpool_limits

        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.seed,
            class_weight="balanced", early_stopping=False)
        with threadpool_limits(1):  # OpenMP threads only slow small fits down
            self.model_.fit(self.features(view)[train], y[train])

    def _score(self, view) -> Scores:
        n = view.n_transactions
        if self.model_ is None or n == 0:
            t = np.full(n, getattr(self, "constant_", 0.0), dtype=np.float64)
        else:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1):
                t = self.model_.predict_proba(self.features(view))[:, 1].astype(np.float64)
        return Scores(address=tx_to_address(view, t, fill=0.0), transaction=t)
