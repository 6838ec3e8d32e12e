"""The detector contract: one base class (PyOD / scikit-learn style) and one result type.

A detector is built from keyword parameters only (``__init__`` stores them under the same
names and learns nothing), is fitted on an :class:`~launderbench.simulator.dataset.ObservableView`
(``fit(view, labels=None)``), and scores a view (``score(view) -> Scores``). Higher scores mean
more suspicious. Fitted state lives in attributes ending in ``_`` (``fitted_`` at least).

>>> from launderbench import detectors
>>> det = detectors.make("haircut")                        # doctest: +SKIP
>>> scores = det.fit(view).score(view)                     # doctest: +SKIP
>>> scores.address.shape == (view.n_addresses,)            # doctest: +SKIP
True

Labels, for detectors tagged ``needs_labels``, are an integer array with one entry per address:
1 = illicit, 0 = licit, -1 = unknown (the Elliptic convention).
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from launderbench.simulator.errors import ConfigError, LaunderbenchError

__all__ = ["Detector", "Scores", "NotFittedError", "DetectorOutputError", "LINK_KEYS",
           "missing_requirements", "requirement_message"]

#: Keys of ``Scores.links``.
LINK_KEYS = ("in_tx_id", "out_tx_id", "score")
_OUTPUT_KINDS = ("address", "transaction", "link")


class NotFittedError(LaunderbenchError, RuntimeError):
    """``score`` was called on a detector that was not fitted."""


class DetectorOutputError(RuntimeError):
    """A detector returned scores of the wrong type, shape or dtype (a bug in the detector)."""


@dataclass
class Scores:
    """What a detector returns; every array is indexed by the view's dense ids.

    Attributes
    ----------
    address : float64 array of shape ``(view.n_addresses,)`` or None
        Higher = more suspicious.
    transaction : float64 array of shape ``(view.n_transactions,)`` or None
    links : dict or None
        ``{"in_tx_id": int64[k], "out_tx_id": int64[k], "score": float64[k]}``: scored hidden
        links (mixer deposit -> withdrawal, bridge lock -> release, ...).
    info : dict
        Extras (cash-out points, clusters, chains found, per-output taint...).
    """

    address: np.ndarray | None = None
    transaction: np.ndarray | None = None
    links: dict | None = None
    info: dict = field(default_factory=dict)

    def detections(self) -> dict[str, int]:
        """How many items the detector singled out, per output: the items whose score
        differs from the most common score (for a rule that flags items, the flagged ones;
        for a ranking, nearly all). 0 means the detector found nothing there: its ranking
        is one tie, so any metric on it sits at chance. Keys: ``address``, ``transaction``,
        ``link`` (number of claimed links), for the outputs it gives."""
        out = {}
        for key in ("address", "transaction"):
            arr = getattr(self, key)
            if arr is not None:
                out[key] = _singled_out(arr)
        if self.links is not None:
            out["link"] = int(np.count_nonzero(np.asarray(self.links["score"]) > 0))
        return out

    @classmethod
    def zeros(cls, view, outputs=("address",), **info) -> Scores:
        """All-zero scores for the requested outputs (e.g. a tracing detector without seeds)."""
        s = cls(info=dict(info))
        if "address" in outputs:
            s.address = np.zeros(view.n_addresses, dtype=np.float64)
        if "transaction" in outputs:
            s.transaction = np.zeros(view.n_transactions, dtype=np.float64)
        if "link" in outputs:
            s.links = {"in_tx_id": np.zeros(0, np.int64), "out_tx_id": np.zeros(0, np.int64),
                       "score": np.zeros(0, np.float64)}
        return s


def _singled_out(arr: np.ndarray) -> int:
    if len(arr) == 0:
        return 0
    values, counts = np.unique(arr, return_counts=True)
    return int(len(arr) - counts.max())


class Detector:
    """Base class of every detector.

    Subclasses set the class variables, write an ``__init__`` that only stores its keyword
    parameters (same attribute names), and implement :meth:`_score` (and, if they learn
    anything, :meth:`_fit`). Do not override :meth:`fit` / :meth:`score`; they run the checks.

    Class variables
    ---------------
    name : registry name, e.g. ``"haircut"``
    description : one line for listings
    tags : ``{"needs_seeds": bool, "needs_labels": bool, "outputs": tuple, "streams": bool}``,
        where ``outputs`` is a subset of ``("address", "transaction", "link")`` and
        ``streams`` says the detector can also score a dataset on disk chunk by chunk
        (``score_stream(path, chunk_transactions=...)``) instead of loading the whole view.
        Optional keys: ``requires``, a tuple of importable module names the detector needs
        beyond the core install (``("torch", "torch_geometric")``), and ``extra``, the
        optional-dependency group of ``launderbench`` that installs them (``"gnn"``). Such a
        detector's module must import without them (import them inside its methods); the
        registry lists it as unavailable, and :func:`launderbench.detectors.make` and
        :meth:`fit` refuse it with a :class:`ConfigError` naming the extra, while one is
        missing. ``slow`` marks a detector that the suites run only in ``full``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address",), "streams": False, "requires": (),
                            "extra": None, "slow": False}

    # -- parameters ------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = []
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must not take *args or **kwargs")
            names.append(p.name)
        return names

    @classmethod
    def _tag(cls, key: str):
        base = Detector.tags
        return cls.tags.get(key, base.get(key))

    def reads_seeds(self) -> bool:
        """Whether this detector's scores depend on the announced seeds (``view.seeds``):
        those that need them, and those that use them when given (a learned model with
        seed-derived features). The placebo test announces a placebo's own start to such a
        detector."""
        return bool(self._tag("needs_seeds"))

    def get_params(self) -> dict:
        """The constructor parameters, read back from the attributes of the same names."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params) -> Detector:
        """Set constructor parameters; unknown names raise :class:`ConfigError`."""
        valid = self._param_names()
        for k, v in params.items():
            if k not in valid:
                raise ConfigError(_unknown_param_msg(type(self), k, valid))
            setattr(self, k, v)
        return self

    def clone(self) -> Detector:
        """A new, unfitted detector with the same parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fit / score ------------------------------------------------------------------------
    def fit(self, view, labels=None) -> Detector:
        """Check the input, learn from ``view`` (and ``labels`` if needed), return ``self``."""
        missing = missing_requirements(type(self))
        if missing:
            raise ConfigError(requirement_message(type(self), missing))
        _check_view(view)
        if self._tag("needs_labels"):
            if labels is None:
                raise ConfigError(f"detector '{self.name or type(self).__name__}' needs labels")
            labels = np.asarray(labels)
            if labels.shape != (view.n_addresses,):
                raise ConfigError(
                    f"labels must have shape ({view.n_addresses},) (one per address), "
                    f"got {labels.shape}")
        self._fit(view, labels)
        self.fitted_ = True
        return self

    def _fit(self, view, labels=None) -> None:
        """Learn fitted state (attributes ending in ``_``). Default: nothing to learn."""

    def score(self, view) -> Scores:
        """Score ``view``: checks the input, calls :meth:`_score`, checks the output."""
        if not getattr(self, "fitted_", False):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted: call fit(view) before score(view)")
        _check_view(view)
        out = self._score(view)
        return _check_scores(self, view, out)

    def fit_score(self, view, labels=None) -> Scores:
        """``fit(view, labels).score(view)``."""
        return self.fit(view, labels).score(view)

    def _score(self, view) -> Scores:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _score(view)")


# ----------------------------------------------------------------------------- requirements


def missing_requirements(cls) -> list[str]:
    """The modules of ``cls.tags["requires"]`` that cannot be found here (looked up with
    :func:`importlib.util.find_spec`, not imported)."""
    missing = []
    for module in cls._tag("requires") or ():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    return missing


def requirement_message(cls, missing) -> str:
    """Why ``cls`` cannot run, and the command that installs what it lacks."""
    extra = cls._tag("extra")
    how = (f"pip install 'launderbench[{extra}]'" if extra
           else f"pip install {' '.join(m.replace('_', '-') for m in missing)}")
    return (f"detector '{cls.name or cls.__name__}' needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {how}")


# ----------------------------------------------------------------------------- checks


def _unknown_param_msg(cls, key: str, valid: list[str]) -> str:
    msg = f"{cls.__name__} has no parameter '{key}'"
    close = difflib.get_close_matches(key, valid, n=1)
    if close:
        msg += f"; did you mean '{close[0]}'?"
    elif valid:
        msg += f" (valid: {', '.join(valid)})"
    return msg


def _check_view(view) -> None:
    from launderbench.simulator.dataset import Dataset

    if isinstance(view, Dataset):
        raise ConfigError("detectors take the observable view: pass dataset.observable()")
    for attr in ("transactions", "inputs", "outputs", "addresses", "seeds"):
        if not hasattr(view, attr):
            raise ConfigError(
                f"expected an ObservableView, got {type(view).__name__} (no '{attr}')")


def _as_scores(det, arr, n: int, what: str) -> np.ndarray:
    a = np.asarray(arr)
    if a.shape != (n,):
        raise DetectorOutputError(
            f"{type(det).__name__}: Scores.{what} has shape {a.shape}, expected ({n},)")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)
            or a.dtype == bool):
        raise DetectorOutputError(
            f"{type(det).__name__}: Scores.{what} has dtype {a.dtype}, expected float64")
    return a.astype(np.float64, copy=False)


def _check_scores(det, view, out) -> Scores:
    name = type(det).__name__
    if not isinstance(out, Scores):
        raise DetectorOutputError(f"{name}._score returned {type(out).__name__}, not Scores")
    outputs = det._tag("outputs") or ()
    for kind in outputs:
        if kind not in _OUTPUT_KINDS:
            raise DetectorOutputError(f"{name}: unknown output kind '{kind}' in tags")
    if "address" in outputs and out.address is None:
        raise DetectorOutputError(f"{name}: tags promise address scores, got None")
    if "transaction" in outputs and out.transaction is None:
        raise DetectorOutputError(f"{name}: tags promise transaction scores, got None")
    if "link" in outputs and out.links is None:
        raise DetectorOutputError(f"{name}: tags promise link scores, got None")
    if out.address is not None:
        out.address = _as_scores(det, out.address, view.n_addresses, "address")
    if out.transaction is not None:
        out.transaction = _as_scores(det, out.transaction, view.n_transactions, "transaction")
    if out.links is not None:
        links = out.links
        if not isinstance(links, dict) or set(LINK_KEYS) - set(links):
            raise DetectorOutputError(f"{name}: Scores.links must be a dict with keys {LINK_KEYS}")
        k = len(np.asarray(links["score"]))
        fixed: dict[str, Any] = dict(links)
        for key in ("in_tx_id", "out_tx_id"):
            ids = np.asarray(links[key])
            if ids.shape != (k,) or not (np.issubdtype(ids.dtype, np.integer) or k == 0):
                raise DetectorOutputError(
                    f"{name}: Scores.links['{key}'] must be an integer array of length {k}")
            ids = ids.astype(np.int64, copy=False)
            if k and (ids.min() < 0 or ids.max() >= view.n_transactions):
                raise DetectorOutputError(f"{name}: Scores.links['{key}'] has unknown tx ids")
            fixed[key] = ids
        fixed["score"] = _as_scores(det, links["score"], k, "links['score']")
        out.links = fixed
    if not isinstance(out.info, dict):
        raise DetectorOutputError(f"{name}: Scores.info must be a dict")
    return out
