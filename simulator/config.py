"""Scenario configuration: TOML files validated into frozen dataclasses.

A scenario file looks like::

    id = "ronin-2022-v1"
    description = "Ronin bridge 2022: USDC swapped to ETH, Tornado Cash notes, renBTC"
    sources = ["Chainalysis 2022", "tayvano/lazarus-bluenoroff-research"]

    [economy]            # EconomyConfig fields; anything else is an error
    transactions = 20000
    days = 60

    [difficulty]         # knobs read by the laundering playbooks
    hop_jitter = 0.3

    [[incident]]         # one table per incident, read by simulator.laundering
    playbook = "ronin-2022"

Unknown keys, wrong types and impossible values raise :class:`~launderbench.simulator.errors.ConfigError`
with a one-line message naming the key.
"""

from __future__ import annotations

import dataclasses
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .economy.config import EconomyConfig
from .errors import ConfigError

TOP_KEYS = {"id", "description", "sources", "economy", "difficulty", "incident"}


@dataclass(frozen=True)
class Scenario:
    """A benign economy, incidents and difficulty knobs."""

    id: str
    description: str = ""
    economy: EconomyConfig = field(default_factory=EconomyConfig)
    incidents: tuple[dict, ...] = ()
    difficulty: dict = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def with_overrides(self, **overrides: Any) -> Scenario:
        """Override economy fields (``transactions=...``, ``days=...``), difficulty knobs
        (``twin_share=...``, or a whole ``difficulty={...}`` table)."""
        from .laundering.spec import DIFFICULTY

        econ = {}
        diff = dict(self.difficulty)
        for k, v in overrides.items():
            if k == "difficulty":
                if not isinstance(v, dict):
                    raise ConfigError("difficulty override must be a table of knobs")
                diff.update(v)
            elif k in _ECON_FIELDS:
                econ[k] = v
            elif k in DIFFICULTY:
                diff[k] = v
            else:
                raise ConfigError(f"unknown scenario override '{k}'")
        s = dataclasses.replace(self, economy=_economy_from_dict(
            {**_economy_to_dict(self.economy), **econ}), difficulty=diff)
        s.validate()
        return s

    def validate(self) -> None:
        self.economy.validate()
        if self.incidents or self.difficulty:
            from . import laundering

            laundering.validate(list(self.incidents), dict(self.difficulty), self.economy)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "description": self.description,
            "sources": list(self.sources),
            "economy": _economy_to_dict(self.economy),
            "difficulty": dict(self.difficulty),
            "incident": [dict(i) for i in self.incidents],
        }


_ECON_FIELDS = {f.name: f for f in dataclasses.fields(EconomyConfig)}


def _economy_to_dict(e: EconomyConfig) -> dict:
    d = dataclasses.asdict(e)
    d["chain_share"] = dict(e.chain_share)
    d["mix"] = dict(e.mix)
    d["asset_share"] = dict(e.asset_share)
    return d


def _economy_from_dict(d: dict) -> EconomyConfig:
    if not isinstance(d, dict):
        raise ConfigError("[economy] must be a table")
    kw = {}
    for k, v in d.items():
        if k not in _ECON_FIELDS:
            raise ConfigError(f"unknown key economy.{k}")
        default = _ECON_FIELDS[k].default
        if k in ("chain_share", "mix", "asset_share"):
            if not isinstance(v, dict):
                raise ConfigError(f"economy.{k} must be a table of name = share")
            if k == "mix":
                v = {**dict(EconomyConfig.mix), **v}
            try:
                v = tuple((str(n), float(x)) for n, x in v.items())
            except (TypeError, ValueError):
                raise ConfigError(f"economy.{k} values must be numbers") from None
        elif isinstance(default, str):
            if not isinstance(v, str):
                raise ConfigError(f"economy.{k} must be a string, got {v!r}")
        elif isinstance(default, bool):
            if not isinstance(v, bool):
                raise ConfigError(f"economy.{k} must be true or false")
        elif isinstance(default, int):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ConfigError(f"economy.{k} must be an integer, got {v!r}")
            v = int(v)  # numpy integers too
        elif isinstance(default, float):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ConfigError(f"economy.{k} must be a number, got {v!r}")
            v = float(v)
        kw[k] = v
    return EconomyConfig(**kw)


def scenario_from_dict(d: dict, origin: str = "<dict>") -> Scenario:
    """Validate a parsed TOML document into a :class:`Scenario`."""
    if not isinstance(d, dict):
        raise ConfigError(f"{origin}: a scenario must be a table")
    unknown = set(d) - TOP_KEYS
    if unknown:
        raise ConfigError(f"{origin}: unknown key '{sorted(unknown)[0]}' "
                          f"(expected {', '.join(sorted(TOP_KEYS))})")
    sid = d.get("id")
    if not isinstance(sid, str) or not sid:
        raise ConfigError(f"{origin}: 'id' must be a non-empty string")
    incidents = d.get("incident", [])
    if isinstance(incidents, dict):
        incidents = [incidents]
    if not isinstance(incidents, list) or not all(isinstance(i, dict) for i in incidents):
        raise ConfigError(f"{origin}: [[incident]] entries must be tables")
    diff = d.get("difficulty", {})
    if not isinstance(diff, dict):
        raise ConfigError(f"{origin}: [difficulty] must be a table")
    sources = d.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(f"{origin}: 'sources' must be a list of strings")
    try:
        s = Scenario(id=sid, description=str(d.get("description", "")),
                     economy=_economy_from_dict(d.get("economy", {})),
                     incidents=tuple(incidents), difficulty=dict(diff),
                     sources=tuple(sources))
        s.validate()
    except ConfigError as e:
        msg = str(e)
        raise ConfigError(msg if msg.startswith(origin) else f"{origin}: {msg}") from None
    return s


def load_scenario_file(path: str | Path) -> Scenario:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"scenario file not found: {path}")
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: malformed TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    return scenario_from_dict(doc, origin=str(path))
