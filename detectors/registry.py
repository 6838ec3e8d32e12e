"""The detector registry (Gymnasium style): names map to ``"module:Class"`` entry points.

Built-in detectors are listed in :data:`BUILTIN` (one ``"module:Class"`` line each); the
registry name of each is its class's ``name``, read by importing the modules the first time
the registry is asked. Third-party packages add detectors through the entry-point group
``launderbench.detectors`` (``name = "package.module:Class"`` in their ``pyproject.toml``) or at
run time with :func:`register`. :func:`make` also accepts a ``"package.module:Class"`` string.

A detector whose tags name modules it ``requires`` beyond the core install (the graph neural
networks need ``torch`` and ``torch_geometric``, from the ``gnn`` extra) stays listed while they
are missing: :func:`list_detectors` marks it unavailable with the reason, :func:`available`
says so, and :func:`make` raises a :class:`ConfigError` with the install command.

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

from .base import Detector, _unknown_param_msg, missing_requirements, requirement_message

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "make", "list_detectors", "register", "load",
           "builtin_names", "available"]

ENTRY_POINT_GROUP = "launderbench.detectors"

#: Built-in detectors, one ``"module:Class"`` line each. The registry name of each is its
#: class's ``name`` (read when the registry is first asked, by importing the modules).
BUILTIN: tuple[str, ...] = (
    # tracing from the seeds (detectors/tracing)
    "launderbench.detectors.tracing.detectors:Poison",
    "launderbench.detectors.tracing.detectors:Haircut",
    "launderbench.detectors.tracing.detectors:FIFO",
    "launderbench.detectors.tracing.detectors:LIFO",
    "launderbench.detectors.tracing.detectors:TIHO",
    # clustering (detectors/clustering)
    "launderbench.detectors.clustering.detectors:ClusterExpansion",
    # graph methods (detectors/graph) and the composite investigator (detectors/composite)
    "launderbench.detectors.graph.detectors:PPR",
    "launderbench.detectors.graph.detectors:FlowScope",
    "launderbench.detectors.graph.detectors:Fraudar",
    "launderbench.detectors.composite.investigator:Investigator",
    # patterns, mixers, bridges (detectors/patterns, detectors/mixers, detectors/bridges)
    "launderbench.detectors.patterns.peel:PeelChain",
    "launderbench.detectors.patterns.fan:FanPatterns",
    "launderbench.detectors.patterns.passthrough:PassThrough",
    "launderbench.detectors.patterns.smurfing:AASmurf",
    "launderbench.detectors.patterns.structuring:Structuring",
    "launderbench.detectors.mixers.tornado:TornadoHeuristics",
    "launderbench.detectors.mixers.coinjoin:CoinJoinDetector",
    "launderbench.detectors.mixers.custodial:CustodialFlow",
    "launderbench.detectors.bridges.matcher:BridgeMatcher",
    # one-feature baselines (detectors/baselines.py)
    "launderbench.detectors.baselines:RandomScores",
    "launderbench.detectors.baselines:DegreeScores",
    "launderbench.detectors.baselines:AmountScores",
    "launderbench.detectors.baselines:AddressAgeScores",
    "launderbench.detectors.baselines:RawTxClassifier",
    # feature models that learn from labels (detectors/learned)
    "launderbench.detectors.learned.models:RandomForestDetector",
    "launderbench.detectors.learned.models:GradientBoostingDetector",
    # graph neural networks (detectors/learned/gnn.py; need the `gnn` extra: torch, PyG)
    "launderbench.detectors.learned.gnn:GCN",
    "launderbench.detectors.learned.gnn:GIN",
    "launderbench.detectors.learned.gnn:MultiGNN",
)

# Registered at run time: name -> entry point string or Detector subclass.
_REGISTERED: dict[str, str | type] = {}
_ENTRY_POINTS: dict[str, object] | None = None
_BUILTIN_NAMES: dict[str, str] | None = None


def builtin_names() -> dict[str, str]:
    """``{registry name: "module:Class"}`` of the built-in detectors; each name is its class's
    ``name``. A module that cannot be imported is listed under its ``"module:Class"`` string,
    so that :func:`list_detectors` can say why."""
    global _BUILTIN_NAMES
    if _BUILTIN_NAMES is None:
        names = {}
        for spec in BUILTIN:
            try:
                cls = _check_class(_import(spec, f"'{spec}'"), f"'{spec}'")
                key = cls.name
            except ConfigError:
                key = spec
            if key in names:
                raise ConfigError(f"two built-in detectors are named '{key}': "
                                  f"{names[key]} and {spec}")
            names[key] = spec
        _BUILTIN_NAMES = names
    return _BUILTIN_NAMES


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
    return sorted(set(builtin_names()) | set(_entry_points()) | set(_REGISTERED))


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
    elif name in builtin_names():
        cls = _import(builtin_names()[name], f"'{name}'")
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
    missing = missing_requirements(cls)
    if missing:
        raise ConfigError(requirement_message(cls, missing))
    valid = cls._param_names()
    for k in params:
        if k not in valid:
            raise ConfigError(_unknown_param_msg(cls, k, valid))
    return cls(**params)


def list_detectors() -> dict[str, str]:
    """``{name: one-line description}`` of every known detector, sorted by name.

    A detector that cannot run here (its module does not import, or a module it requires is
    not installed) is listed as ``"(unavailable: reason)"`` (see :func:`available`).
    """
    out = {}
    for name in _all_names():
        ok, why = available(name)
        out[name] = load(name).description if ok else f"(unavailable: {why})"
    return out


def available(name: str) -> tuple[bool, str]:
    """``(True, "")`` when the detector ``name`` can be built and run here, else ``(False,
    reason)``: its module does not import, or a module its tags ``require`` (e.g. ``torch``
    for the graph neural networks) is not installed; the reason then names the install
    command. Nothing is imported beyond the detector's own module.

    >>> from launderbench.detectors.registry import available
    >>> available("gcn")                                   # doctest: +SKIP
    (False, "detector 'gcn' needs torch, torch_geometric, which are not installed: pip install 'launderbench[gnn]'")
    """
    try:
        cls = load(name)
    except ConfigError as e:
        return False, str(e)
    missing = missing_requirements(cls)
    if missing:
        return False, requirement_message(cls, missing)
    return True, ""


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
