"""Scenario registry in the manner of gymnasium: versioned ids, ``make``, plugins.

* Ids are ``name-vN``. Any change to the bytes a scenario generates bumps its version.
* Every TOML file in ``simulator/scenarios/`` registers itself under its ``id``.
* ``make("ronin-2022")`` (no version) picks the latest version; ``make("ronin-2022-v1")`` that
  exact one; a mistyped id gets close-match suggestions; a path to a ``.toml`` file works too.
* Third-party packages register scenarios through the ``launderbench.scenarios`` entry-point
  group: each entry point loads to a TOML path, a :class:`Scenario`, or a callable returning one.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from .config import Scenario, load_scenario_file
from .errors import ConfigError

ID_RE = re.compile(r"^(?:(?P<ns>[\w.-]+)/)?(?P<name>[a-z0-9][a-z0-9_.-]*?)(?:-v(?P<v>\d+))?$")
ENTRY_POINT_GROUP = "launderbench.scenarios"


@dataclass(frozen=True)
class ScenarioSpec:
    id: str
    description: str
    source: object  # Path to a TOML file, a Scenario, or a callable returning one

    def load(self) -> Scenario:
        src = self.source
        if isinstance(src, Scenario):
            return src
        if callable(src):
            s = src()
            if not isinstance(s, Scenario):
                raise ConfigError(f"scenario plugin '{self.id}' did not return a Scenario")
            return s
        return load_scenario_file(src)


_REGISTRY: dict[str, ScenarioSpec] = {}
_LOADED = False


def register(id: str, source, description: str = "") -> None:
    """Register a scenario id (``name-vN``) with a TOML path, a Scenario or a factory."""
    m = ID_RE.match(id)
    if not m or m.group("v") is None:
        raise ConfigError(f"scenario id '{id}' must look like 'name-v1'")
    _REGISTRY[id] = ScenarioSpec(id, description, source)


def _load_builtins() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    folder = resources.files(__package__) / "scenarios"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            path = Path(str(entry))
            s = load_scenario_file(path)
            register(s.id, path, s.description)
    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # pragma: no cover - very old importlib
        eps = []
    for ep in eps:
        try:
            obj = ep.load()
        except Exception as e:
            raise ConfigError(f"scenario plugin '{ep.name}' failed to load: {e}") from None
        if isinstance(obj, (str, Path)):
            s = load_scenario_file(obj)
            register(s.id, Path(obj), s.description)
        else:
            sid = ep.name if ID_RE.match(ep.name) and "-v" in ep.name else f"{ep.name}-v1"
            register(sid, obj, getattr(obj, "__doc__", "") or "")


def list_scenarios() -> dict[str, str]:
    """Registered ids with one-line descriptions, sorted."""
    _load_builtins()
    return {k: _REGISTRY[k].description for k in sorted(_REGISTRY)}


def _latest(name: str) -> str | None:
    versions = []
    for sid in _REGISTRY:
        m = ID_RE.match(sid)
        full = (m.group("ns") + "/" if m.group("ns") else "") + m.group("name")
        if full == name:
            versions.append((int(m.group("v")), sid))
    return max(versions)[1] if versions else None


def resolve(id_or_path: str) -> Scenario:
    """The Scenario for a registered id (with or without version) or a TOML file path."""
    if not isinstance(id_or_path, str) or not id_or_path:
        raise ConfigError("scenario must be a registered id or a path to a TOML file")
    if id_or_path.endswith(".toml") or "/" in id_or_path and Path(id_or_path).exists():
        return load_scenario_file(id_or_path)
    _load_builtins()
    if id_or_path in _REGISTRY:
        return _REGISTRY[id_or_path].load()
    m = ID_RE.match(id_or_path)
    if m and m.group("v") is None:
        latest = _latest(id_or_path)
        if latest:
            return _REGISTRY[latest].load()
    names = sorted(set(_REGISTRY) | {re.sub(r"-v\d+$", "", k) for k in _REGISTRY})
    close = difflib.get_close_matches(id_or_path, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else \
        "; run `launderbench scenarios` for the list"
    if m and m.group("v") is not None and _latest(m.group("name")):
        hint = f"; available: {_latest(m.group('name'))}"
    raise ConfigError(f"unknown scenario '{id_or_path}'{hint}")
