"""The detector registry (Gymnasium style): names map to ``"module:Class"`` entry points.

Built-in detectors are listed in :data:`BUILTIN` (one line each) and imported only when
:func:`make` asks for them. Third-party packages add detectors through the entry-point group
``launderbench.detectors`` (``name = "package.module:Class"`` in their ``pyproject.toml``) or at
run time with :func:`register`. :func:`make` also accepts a ``"package.module:Class"`` string.

>>> from launderbench import detectors
>>> det = detectors.make("haircut", max_hops=10)         # doctest: +SKIP
>>> sorted(detectors.list_detectors())[:2]               # doctest: +SKIP
['cluster-expansion', 'fifo']
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points

from launderbench.simulator.errors import ConfigError

from .base import Detector, _unknown_param_msg

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "make", "list_detectors", "register", "load"]

ENTRY_POINT_GROUP = "launderbench.detectors"

#: Built-in detectors: registry name -> "module:Class". One line per detector.
BUILTIN: dict[str, str] = {
    # tracing from the seeds (detectors/tracing)
    "poison": "launderbench.detectors.tracing.detectors:Poison",
    "haircut": "launderbench.detectors.tracing.detectors:Haircut",
    "fifo": "launderbench.detectors.tracing.detectors:FIFO",
    "lifo": "launderbench.detectors.tracing.detectors:LIFO",
    "tiho": "launderbench.detectors.tracing.detectors:TIHO",
    # clustering (detectors/clustering)
    "cluster-expansion": "launderbench.detectors.clustering.detectors:ClusterExpansion",
    # graph methods (detectors/graph) and the composite investigator (detectors/composite)
    "ppr": "launderbench.detectors.graph.detectors:PPR",
    "flowscope": "launderbench.detectors.graph.detectors:FlowScope",
    "fraudar": "launderbench.detectors.graph.detectors:Fraudar",
    "investigator": "launderbench.detectors.composite.investigator:Investigator",
    # patterns, mixers, bridges (detectors/patterns, detectors/mixers, detectors/bridges)
    "peel-chain": "launderbench.detectors.patterns.peel:PeelChain",
    "fan": "launderbench.detectors.patterns.fan:FanPatterns",
    "pass-through": "launderbench.detectors.patterns.passthrough:PassThrough",
    "aa-smurf": "launderbench.detectors.patterns.smurfing:AASmurf",
    "structuring": "launderbench.detectors.patterns.structuring:Structuring",
    "tornado-heuristics": "launderbench.detectors.mixers.tornado:TornadoHeuristics",
    "coinjoin": "launderbench.detectors.mixers.coinjoin:CoinJoinDetector",
    "custodial-flow": "launderbench.detectors.mixers.custodial:CustodialFlow",
    "bridge-matcher": "launderbench.detectors.bridges.matcher:BridgeMatcher",
    # shortcut baselines (benchmarks/baselines.py): must stay near chance on every preset
    "random": "launderbench.benchmarks.baselines:RandomScores",
    "degree": "launderbench.benchmarks.baselines:DegreeScores",
    "amount": "launderbench.benchmarks.baselines:AmountScores",
    "address-age": "launderbench.benchmarks.baselines:AddressAgeScores",
    "raw-tx-classifier": "launderbench.benchmarks.baselines:RawTxClassifier",
}

# Registered at run time: name -> entry point string or Detector subclass.
_REGISTERED: dict[str, str | type] = {}
_ENTRY_POINTS: dict[str, object] | None = None


def _entry_points() -> dict[str, object]:
    global _ENTRY_POINTS
    if _ENTRY_POINTS is None:
        try:
            eps = entry_points(group=ENTRY_POINT_GROUP)
        except Exception:  # pragma: no cover - broken metadata must not break the registry
            eps = ()
        _ENTRY_POINTS = {ep.name: ep for ep in eps}
    return _ENTRY_POINTS


def _all_names() -> list[str]:
    return sorted(set(BUILTIN) | set(_entry_points()) | set(_REGISTERED))


def _import(spec: str, what: str) -> type:
    mod_name, sep, attr = spec.partition(":")
    if not sep or not mod_name or not attr:
        raise ConfigError(f"bad entry point '{spec}' for {what}: expected 'package.module:Class'")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise ConfigError(f"cannot import detector {what} ('{spec}'): {e}") from None
    obj = mod
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"cannot import detector {what}: '{mod_name}' has no "
                              f"'{attr}'") from None
    return obj


def _check_class(obj, what: str) -> type:
    if not (isinstance(obj, type) and issubclass(obj, Detector)):
        raise ConfigError(f"{what} is not a detectors.Detector subclass")
    return obj


def load(name: str) -> type:
    """The detector class registered as ``name`` (or named by a ``"module:Class"`` string)."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"detector name must be a non-empty string, got {name!r}")
    if name in _REGISTERED:
        obj = _REGISTERED[name]
        cls = _import(obj, f"'{name}'") if isinstance(obj, str) else obj
    elif name in BUILTIN:
        cls = _import(BUILTIN[name], f"'{name}'")
    elif name in _entry_points():
        try:
            cls = _entry_points()[name].load()
        except Exception as e:
            raise ConfigError(f"cannot load detector '{name}' from its entry point: {e}") from None
    elif ":" in name:
        cls = _import(name, f"'{name}'")
    else:
        msg = f"unknown detector '{name}'"
        close = difflib.get_close_matches(name, _all_names(), n=1)
        if close:
            msg += f"; did you mean '{close[0]}'?"
        else:
            msg += " (see `launderbench detectors` for the list)"
        raise ConfigError(msg)
    return _check_class(cls, f"detector '{name}'")


def make(name: str, **params) -> Detector:
    """Build the detector registered as ``name`` with ``params``.

    Parameters
    ----------
    name : str
        A registry name (``"haircut"``) or an entry point ``"package.module:Class"``.
    **params
        Constructor parameters; unknown ones raise :class:`ConfigError`.
    """
    cls = load(name)
    valid = cls._param_names()
    for k in params:
        if k not in valid:
            raise ConfigError(_unknown_param_msg(cls, k, valid))
    return cls(**params)


def list_detectors() -> dict[str, str]:
    """``{name: one-line description}`` of every known detector, sorted by name.

    A detector whose module cannot be imported is listed as ``"(unavailable: reason)"``.
    """
    out = {}
    for name in _all_names():
        try:
            out[name] = load(name).description
        except ConfigError as e:
            out[name] = f"(unavailable: {e})"
    return out


def register(name: str, entry_point: str | type, *, overwrite: bool = False) -> None:
    """Register a detector under ``name``.

    Parameters
    ----------
    name : str
    entry_point : ``"package.module:Class"`` (imported lazily) or a Detector subclass.
    overwrite : bool
        Replace an existing registration instead of raising :class:`ConfigError`.
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ConfigError(f"bad detector name {name!r}")
    if isinstance(entry_point, str):
        if entry_point.count(":") != 1:
            raise ConfigError(f"bad entry point '{entry_point}': expected 'package.module:Class'")
    else:
        _check_class(entry_point, f"{entry_point!r}")
    if not overwrite and name in _all_names():
        raise ConfigError(f"detector '{name}' is already registered (pass overwrite=True)")
    _REGISTERED[name] = entry_point
