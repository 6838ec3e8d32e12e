"""Benchmark suites and data sources.

A suite names scenarios (with size overrides), seeds and detectors:

``quick``    seconds: the toy laundering ledger and easy-v1, small; used by the tests.
``default``     the demo (``make demo``): every laundering preset at 10,000 benign
                transactions, three seeds, every detector: about five minutes on two cores.
``robustness``  benign look-alikes (``twin_share`` 0, 0.3, 1.0) on three presets, three
                seeds: how each detector degrades as look-alikes grow (the report's
                robustness figure).
``full``        every preset at its own size, three seeds, every detector, the slow ones
                (graph neural networks, extra ``gnn``) included when installed.

A *data source* is resolved by :func:`load_dataset`: a registered scenario id (generated with
:func:`launderbench.simulator.make` and cached on disk), the built-in ``toy-laundering-v1`` fixture, or a
dataset directory (``launderbench generate`` / ``launderbench import`` output).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from launderbench.simulator.errors import ConfigError, DatasetError

TOY_ID = "toy-laundering-v1"


@dataclass(frozen=True)
class ScenarioRun:
    """One data source: a scenario id (or dataset path) with its overrides."""

    id: str
    overrides: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "overrides": dict(self.overrides)}

    @property
    def label(self) -> str:
        if not self.overrides:
            return self.id
        ov = ",".join(f"{k}={v}" for k, v in sorted(self.overrides.items()))
        return f"{self.id}[{ov}]"


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    scenarios: tuple  # callable -> list[ScenarioRun], resolved late (presets appear over time)
    seeds: tuple[int, ...]
    detectors: tuple[str, ...] | None = None  # None: every registered detector
    placebos: int = 0  # benign look-alikes per dataset against which the baselines are read
    slow: bool = False  # with the detectors tagged slow (the graph neural networks)
    placebo_learners: bool = False  # placebos also for the detectors that learn

    def scenario_runs(self) -> list[ScenarioRun]:
        return list(self.scenarios[0]())


def laundering_presets() -> list[str]:
    """Registered scenario ids that contain laundering (every one but the benign economy)."""
    try:
        from launderbench.simulator import list_scenarios
    except ImportError:  # pragma: no cover
        return []
    return sorted(s for s in list_scenarios() if not s.startswith("benign"))


def _quick():
    runs = [ScenarioRun(TOY_ID, {"transactions": 800, "users": 80})]
    presets = laundering_presets()
    if presets:
        easy = next((p for p in presets if p.startswith("easy-")), presets[0])
        runs.append(ScenarioRun(easy, {"transactions": 3000}))
    return runs


#: transactions per preset in the default suite: three seeds of every preset, every detector,
#: in about five minutes on two cores (``make demo``)
DEFAULT_TRANSACTIONS = 10_000


def _default():
    # the laundering presets only: the hand-made toy ledger of the quick suite has no
    # look-alikes and would enter the aggregate as a scenario like the others
    return [ScenarioRun(p, {"transactions": DEFAULT_TRANSACTIONS})
            for p in laundering_presets()]


#: presets and look-alike shares of the robustness suite
ROBUSTNESS_PRESETS = ("medium-v1", "dmm-bitcoin-2024-v1", "ronin-2022-v1")
ROBUSTNESS_TWIN_SHARES = (0.0, 0.3, 1.0)


def _robustness():
    presets = set(laundering_presets())
    return [ScenarioRun(p, {"transactions": DEFAULT_TRANSACTIONS, "twin_share": share})
            for p in ROBUSTNESS_PRESETS if p in presets for share in ROBUSTNESS_TWIN_SHARES]


def _full():
    return [ScenarioRun(TOY_ID, {})] + [ScenarioRun(p, {}) for p in laundering_presets()]


SUITES: dict[str, Suite] = {
    "quick": Suite("quick", "seconds: the toy ledger and easy-v1, small", (_quick,), (0,)),
    "default": Suite("default", "the demo: every preset at 10k transactions, three seeds",
                     (_default,), (0, 1, 2), placebos=5),
    "robustness": Suite("robustness", "benign look-alikes as a difficulty axis: twin_share "
                        "0, 0.3 and 1.0 on three presets at 10k transactions, three seeds",
                        (_robustness,), (0, 1, 2)),
    "full": Suite("full", "every preset at its own size, three seeds, the slow detectors "
                  "(graph neural networks) included when their extra is installed",
                  (_full,), (0, 1, 2), placebos=10, slow=True, placebo_learners=True),
}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        import difflib

        close = difflib.get_close_matches(name, SUITES, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (suites: {', '.join(SUITES)})"
        raise ConfigError(f"unknown suite '{name}'{hint}")
    return SUITES[name]


# ----------------------------------------------------------------------------- data sources
def cache_dir() -> Path:
    """Dataset cache: ``$LAUNDERBENCH_CACHE`` or ``~/.cache/launderbench``."""
    env = os.environ.get("LAUNDERBENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "launderbench"


@functools.lru_cache(maxsize=1)
def generator_fingerprint() -> str:
    """Hash of the generator's code and presets (every ``.py`` and ``.toml`` file of the
    simulator package, and the toy ledger's fixture): a cache entry made by other code is
    never reused, even between releases (a development checkout changes the generator
    without a version bump)."""
    from launderbench import simulator

    from . import fixtures

    root = Path(simulator.__file__).parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.suffix in (".py", ".toml") and f.is_file():
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    h.update(Path(fixtures.__file__).read_bytes())  # the toy ledger is generated data too
    return h.hexdigest()[:16]


def _key(run: ScenarioRun, seed: int) -> str:
    from launderbench.simulator.version import GENERATOR_VERSION

    blob = json.dumps({"id": run.id, "ov": run.overrides, "seed": seed, "v": GENERATOR_VERSION,
                       "code": generator_fingerprint()}, sort_keys=True)
    h = hashlib.sha256(blob.encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run.id)
    return f"{safe}-s{seed}-{h}"


def dataset_path(run: ScenarioRun, seed: int, cache: Path | None = None) -> Path:
    """Where a data source lives on disk: its own directory, or its cache entry."""
    p = Path(run.id)
    if p.is_dir() and (p / "meta.json").is_file():
        return p
    return (cache or cache_dir()) / "datasets" / _key(run, seed)


def generate_dataset(run: ScenarioRun, seed: int):
    """Build the dataset of a data source in memory (no cache)."""
    p = Path(run.id)
    if p.is_dir():
        from launderbench.simulator.dataset import Dataset

        if run.overrides:
            raise ConfigError(f"a dataset directory takes no overrides: {run.label}")
        return Dataset.load(p)
    if run.id == TOY_ID:
        from .fixtures import toy_laundering

        try:
            return toy_laundering(seed=seed, **run.overrides)
        except TypeError as e:
            raise ConfigError(f"{TOY_ID}: bad override ({e})") from None
    if os.sep in run.id or run.id.startswith("."):
        raise DatasetError(f"dataset directory not found: {run.id}")
    from launderbench.simulator import make

    return make(run.id, seed=seed, **run.overrides)


def ensure_dataset(run: ScenarioRun, seed: int, cache: Path | None = None,
                   refresh: bool = False) -> Path:
    """Generate the dataset into the cache unless it is there already; return its path.

    Processes that fill the same cache entry at once take turns (a lock file beside the
    entry): the first generates it, the others then find it complete and use it.
    """
    path = dataset_path(run, seed, cache)
    if path.is_dir() and (path / "meta.json").is_file() and not refresh:
        return path
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not refresh and path.is_dir() and (path / "meta.json").is_file():
                return path  # another process made it while this one waited
            ds = generate_dataset(run, seed)
            ds.save(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path


def load_dataset(run: ScenarioRun, seed: int, cache: Path | None = None):
    from launderbench.simulator.dataset import Dataset

    return Dataset.load(ensure_dataset(run, seed, cache))


__all__ = ["SUITES", "Suite", "ScenarioRun", "get_suite", "load_dataset", "ensure_dataset",
           "dataset_path", "cache_dir", "laundering_presets", "TOY_ID"]
