"""Supervised feature models: a random forest and histogram gradient boosting on the features
of :mod:`launderbench.detectors.learned.features`.

Both learn from the training labels only (one per address: 1 illicit, 0 licit, -1 unknown),
on the ledger cut at the end of the labelled period
(:func:`~launderbench.detectors.learned.labels.labelled_prefix`), so that nothing after that
period reaches the model: neither later transactions nor features computed from them. This is
the setting of Weber et al. (2019), where a random forest on local and aggregated transaction
features beat the graph convolutional network on the Elliptic data set.

``level="address"`` (the default) trains one row per labelled address on
:func:`~launderbench.detectors.learned.features.address_features`; a transaction's score is the
maximum over its addresses. ``level="transaction"`` trains one row per transaction whose label
the address labels decide (as :class:`~launderbench.detectors.baselines.RawTxClassifier`, the
simplest member of this family, does) on
:func:`~launderbench.detectors.learned.features.transaction_features`; an address's score is the
maximum over its transactions. ``docs/detectors-learned.md`` gives the measured comparison.

Class imbalance: the classes are weighted inversely to their frequency
(``class_weight="balanced"``). Training rows beyond ``max_train`` are subsampled, positives
kept, negatives drawn with the detector's seed (undersampling the majority class), which
bounds the fit time on large ledgers.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.simulator.errors import ConfigError

from ..base import Detector, Scores
from ..projection import address_to_tx, tx_to_address
from .features import address_features, transaction_features
from .labels import labelled_prefix, tx_labels

__all__ = ["RandomForestDetector", "GradientBoostingDetector", "LEVELS", "ENGINES"]

LEVELS = ("address", "transaction")
#: implementations of the gradient-boosting detector
ENGINES = ("lightgbm", "sklearn")
_BOTH = ("address", "transaction")


def _features(view, level: str, use_seeds: bool) -> np.ndarray:
    """The feature matrix of ``level``; without ``use_seeds`` every column derived from the
    announced seeds (``seed_hops`` and its aggregates) is a constant, so the model cannot use
    them."""
    X, names = (address_features if level == "address" else transaction_features)(view)
    if not use_seeds:
        X[:, [j for j, n in enumerate(names) if "seed_hops" in n]] = 0.0
    return X


def _training_rows(view, labels, level: str, use_seeds: bool = True):
    """``(X, y)`` of the labelled items of the labelled period, features computed on the
    ledger cut at its end."""
    prefix, k = labelled_prefix(view, labels)
    labels = np.asarray(labels)
    if level == "address":
        if k == 0:
            return np.zeros((0, 1), np.float32), np.zeros(0, np.int64)
        X = _features(prefix, "address", use_seeds)
        # addresses seen in the labelled period with a known label
        seen = np.zeros(view.n_addresses, bool)
        for leg in (prefix.inputs, prefix.outputs):
            seen[np.asarray(leg["address_id"], dtype=np.int64)] = True
        keep = seen & (labels >= 0)
        return X[keep], labels[keep].astype(np.int64)
    y = tx_labels(prefix, labels)
    keep = y >= 0
    if not keep.any():
        return np.zeros((0, 1), np.float32), np.zeros(0, np.int64)
    X = _features(prefix, "transaction", use_seeds)
    return X[keep], y[keep]


def _subsample(y: np.ndarray, max_train: int | None, seed: int) -> np.ndarray:
    """Row indices: all of them, or every positive and a seeded sample of negatives so that
    ``max_train`` rows remain (never fewer than the positives)."""
    n = len(y)
    if max_train is None or n <= max_train:
        return np.arange(n)
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y != 1)
    take = max(int(max_train) - len(pos), min(len(neg), len(pos)))
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(neg, size=min(take, len(neg)), replace=False))
    return np.sort(np.concatenate([pos, chosen]))


class _FeatureModel(Detector):
    """Shared fit and score of the feature models; subclasses build the estimator."""

    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": True, "outputs": _BOTH}

    def _estimator(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def reads_seeds(self) -> bool:
        return bool(self.use_seeds)

    def _check(self) -> None:
        if self.level not in LEVELS:
            raise ConfigError(f"{type(self).__name__}: level must be one of "
                              f"{', '.join(LEVELS)}, got {self.level!r}")
        if self.max_train is not None and int(self.max_train) < 2:
            raise ConfigError(f"{type(self).__name__}: max_train must be at least 2 or None")

    def _fit(self, view, labels=None) -> None:
        from threadpoolctl import threadpool_limits

        self._check()
        X, y = _training_rows(view, labels, self.level, self.use_seeds)
        self.n_train_ = int(len(y))
        if len(y) == 0 or len(np.unique(y)) < 2:
            # nothing to separate: a constant score (the share of illicit items, if any)
            self.model_ = None
            self.constant_ = float(y.mean()) if len(y) else 0.0
            return
        rows = _subsample(y, self.max_train, self.seed)
        self.model_ = self._estimator()
        # one thread: deterministic, and the parallel helpers on a shared machine are not
        # slowed down (the estimator's own n_jobs is a parameter where it has one)
        with threadpool_limits(1):
            self.model_.fit(X[rows], y[rows])

    def _score(self, view) -> Scores:
        from threadpoolctl import threadpool_limits

        n = view.n_addresses if self.level == "address" else view.n_transactions
        if self.model_ is None or n == 0:
            s = np.full(n, getattr(self, "constant_", 0.0), dtype=np.float64)
        else:
            X = _features(view, self.level, self.use_seeds)
            with threadpool_limits(1):
                s = self.model_.predict_proba(X)[:, 1].astype(np.float64)
        if self.level == "address":
            return Scores(address=s, transaction=address_to_tx(view, s, fill=0.0))
        return Scores(address=tx_to_address(view, s, fill=0.0), transaction=s)


class RandomForestDetector(_FeatureModel):
    """Random forest on local and neighbourhood features, trained on the labelled period.

    Parameters
    ----------
    level : {"address", "transaction"}, default "address"
        Train one row per labelled address, or per transaction (labels from its addresses).
    n_estimators : int, default 100
    min_samples_leaf : int, default 2
    max_train : int or None, default 100_000
        At most this many training rows: every illicit one and a seeded sample of the rest.
    n_jobs : int, default 1
        Trees grown in parallel (scikit-learn's ``n_jobs``); the scores do not depend on it.
    use_seeds : bool, default True
        Use the features derived from the announced seeds (``seed_hops``: hops downstream of
        the thefts, and its aggregates). False makes the model blind to the seeds, a pure
        behavioural classifier.
    seed : int, default 0

    References
    ----------
    Breiman, "Random forests", Machine Learning 45(1), 2001. Weber et al., "Anti-money
    laundering in Bitcoin: experimenting with graph convolutional networks for financial
    forensics", KDD workshop on anomaly detection in finance, 2019 (random forest on 94 local
    and 72 aggregated features, the strongest model on Elliptic).
    """

    name: ClassVar[str] = "random-forest"
    description: ClassVar[str] = (
        "Random forest on address features and their 1-2 hop aggregates (needs labels)")

    def __init__(self, level="address", n_estimators=100, min_samples_leaf=2,
                 max_train=100_000, n_jobs=1, use_seeds=True, seed=0):
        self.level = level
        self.use_seeds = use_seeds
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_train = max_train
        self.n_jobs = n_jobs
        self.seed = seed

    def _estimator(self):
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features="sqrt", class_weight="balanced_subsample", n_jobs=self.n_jobs,
            random_state=self.seed)


class GradientBoostingDetector(_FeatureModel):
    """Histogram gradient boosting on local and neighbourhood features, trained on the
    labelled period.

    Parameters
    ----------
    level : {"address", "transaction"}, default "address"
        Train one row per labelled address, or per transaction (labels from its addresses).
    max_iter : int, default 200
        Boosting iterations (trees).
    learning_rate : float, default 0.1
    max_train : int or None, default 100_000
        At most this many training rows: every illicit one and a seeded sample of the rest.
    engine : {"lightgbm", "sklearn"}, default "lightgbm"
        ``"lightgbm"`` fits :class:`lightgbm.LGBMClassifier` (31 leaves, one thread,
        deterministic); ``"sklearn"`` fits
        :class:`sklearn.ensemble.HistGradientBoostingClassifier` with the same settings, at
        equal quality but four to seven times slower (most of a fit on a small ledger is its
        binning of the features under the class weights).
    use_seeds : bool, default True
        Use the features derived from the announced seeds (see :class:`RandomForestDetector`).
    seed : int, default 0

    References
    ----------
    Friedman, "Greedy function approximation: a gradient boosting machine", Annals of
    Statistics 29(5), 2001. Ke et al., "LightGBM: a highly efficient gradient boosting
    decision tree", NeurIPS 2017 (histogram-based split finding, as scikit-learn implements
    it). Weber et al. 2019 (the Elliptic feature design).
    """

    name: ClassVar[str] = "gradient-boosting"
    description: ClassVar[str] = (
        "Gradient boosting on address features and their 1-2 hop aggregates (needs labels)")

    def __init__(self, level="address", max_iter=200, learning_rate=0.1, max_train=100_000,
                 engine="lightgbm", use_seeds=True, seed=0):
        self.level = level
        self.use_seeds = use_seeds
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_train = max_train
        self.engine = engine
        self.seed = seed

    def _check(self) -> None:
        super()._check()
        if self.engine not in ENGINES:
            raise ConfigError(f"GradientBoostingDetector: engine must be one of "
                              f"{', '.join(ENGINES)}, got {self.engine!r}")

    def _estimator(self):
        if self.engine == "lightgbm":
            try:
                import lightgbm
            except ImportError:
                raise ConfigError("engine='lightgbm' needs the lightgbm package (a dependency "
                                  "of launderbench): pip install lightgbm, or pass "
                                  "engine='sklearn'") from None
            return lightgbm.LGBMClassifier(
                n_estimators=self.max_iter, learning_rate=self.learning_rate, num_leaves=31,
                class_weight="balanced", random_state=self.seed, n_jobs=1,
                deterministic=True, force_row_wise=True, verbose=-1)
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            class_weight="balanced", early_stopping=False, random_state=self.seed)
