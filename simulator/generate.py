"""Generate a dataset from a scenario and a seed (deterministic, byte-identical)."""

from __future__ import annotations

import dataclasses

import numpy as np
from tqdm.auto import tqdm

from . import ledger
from .config import Scenario
from .dataset import DatasetWriter, check_output_dir
from .economy import build_economy
from .memory import check_memory
from .ops import OpStream
from .registry import resolve
from .split import time_bounds
from .version import GENERATOR_VERSION
from .world import World


def generate(scenario: Scenario, seed: int = 0, progress: bool = False, out=None,
             shard_size: int | None = None):
    """Build the world, the benign economy and the incidents, then run the ledger kernel.

    Randomness comes from ``numpy.random.SeedSequence(seed)`` children, one per stage, so no
    global state is touched and each stage's stream is independent of the others' sizes.
    Returns a :class:`~launderbench.simulator.dataset.Dataset`; with ``out`` (a directory path) the tables
    are instead streamed to disk as they are built (atomically) and the metadata is returned.
    ``shard_size`` is the number of ops the ledger kernel runs at a time (default
    :data:`~launderbench.simulator.ledger.SHARD_OPS`, 0 for all at once): it bounds the
    memory of the kernel's output rows and never changes the dataset.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        from .errors import ConfigError

        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if shard_size is not None and (not isinstance(shard_size, (int, np.integer))
                                   or shard_size < 0):
        from .errors import ConfigError

        raise ConfigError(f"shard_size must be a non-negative integer, got {shard_size!r}")
    shard = ledger.SHARD_OPS if shard_size is None else int(shard_size)
    check_memory(scenario)
    if out is not None:
        check_output_dir(out)  # before any work: refuse early what would be refused at the end
    ss_econ, ss_laund, ss_ledger = np.random.SeedSequence(int(seed)).spawn(3)
    bar = tqdm(total=4, desc=f"generate {scenario.id}", disable=not progress, leave=False)
    economy = scenario.economy
    if scenario.incidents and economy.footprint == "incidents":
        economy = _scoped(scenario, ss_econ, ss_laund, ss_ledger)
    world, stream, incidents_meta, seed_ops = _plan(scenario, economy, ss_econ, ss_laund)
    bar.update(2)
    t_end = world.t0 + scenario.economy.days * 86_400
    span = t_end - world.t0
    meta = {
        "scenario": scenario.id,
        "description": scenario.description,
        "sources": list(scenario.sources),
        "params": scenario.to_dict(),
        "seed": int(seed),
        "generator_version": GENERATOR_VERSION,
        "incidents": incidents_meta,
        # what economy.footprint = "incidents" chose (simulator.footprint)
        **({"footprint": {"chain_share": dict(economy.chain_share),
                          "asset_share": dict(economy.asset_share),
                          "value_scale": economy.value_scale}}
           if economy is not scenario.economy else {}),
        "split": time_bounds(world.t0, span),
    }
    try:
        if out is None:
            ds = ledger.build(world, stream, rng=np.random.default_rng(ss_ledger), meta=meta,
                              seed_ops=seed_ops, horizon=t_end, shard_size=shard)
            bar.update(2)
            bar.close()
            return ds
        with DatasetWriter(out) as writer:
            meta = ledger.build(world, stream, rng=np.random.default_rng(ss_ledger), meta=meta,
                                seed_ops=seed_ops, sink=writer, horizon=t_end, shard_size=shard)
            meta = writer.finish(meta)
    finally:
        stream.close()
    bar.update(2)
    bar.close()
    return meta


def _plan(scenario: Scenario, economy, ss_econ, ss_laund, with_twins: bool = True):
    """The world and the op stream of the benign economy and the incidents (and, with
    ``with_twins``, their benign twins), before the ledger kernel runs:
    ``(world, stream, incidents_meta, seed_ops)``."""
    world = World()
    stream = OpStream()
    try:
        services = build_economy(world, stream, economy, np.random.default_rng(ss_econ))
        if not scenario.incidents:
            return world, stream, [], {}
        from . import laundering

        metas, seed_ops = laundering.add_incidents(
            world, stream, services, list(scenario.incidents), dict(scenario.difficulty),
            np.random.default_rng(ss_laund), with_twins=with_twins)
    except BaseException:
        stream.close()  # planned ops on disk go at once, not when the traceback is dropped
        raise
    return world, stream, metas, seed_ops


def _scoped(scenario: Scenario, ss_econ, ss_laund, ss_ledger):
    """The economy configuration with the chain and asset shares and the value level of the
    scenario's incidents, measured on probe runs with the same seed streams
    (:mod:`launderbench.simulator.footprint`). The probes leave the benign twins out: the everyday benign
    traffic is what moves toward the incidents (the twins already share their chains, assets
    and value level), and the probes stay cheap."""
    from . import footprint

    economy = scenario.economy
    for _ in range(footprint.ROUNDS):
        world, stream, _, _ = _plan(scenario, economy, ss_econ, ss_laund, with_twins=False)
        economy = footprint.calibrated(economy, world, *footprint.measure(world, stream))
        stream.close()
    # the value level: one run of the kernel on the calibrated mix
    world, stream, _, seed_ops = _plan(scenario, economy, ss_econ, ss_laund, with_twins=False)
    try:
        ds = ledger.build(world, stream, rng=np.random.default_rng(ss_ledger), meta={},
                          seed_ops=seed_ops, horizon=world.t0 + economy.days * 86_400)
    finally:
        stream.close()
    r = np.clip(footprint.value_ratio(ds) ** footprint.VALUE_MATCH,
                1 / footprint.MAX_VALUE_SCALE, footprint.MAX_VALUE_SCALE)
    return dataclasses.replace(economy, value_scale=float(economy.value_scale * r))


def make(id_or_path: str, seed: int = 0, progress: bool = False,
         shard_size: int | None = None, **overrides):
    """Generate a registered scenario (``"ronin-2022-v1"``), by latest version
    (``"ronin-2022"``), or from a TOML file; keyword overrides change economy fields
    (``transactions=``, ``days=``) or ``difficulty=``.

    >>> ds = make("benign-v1", transactions=2000, seed=7)      # doctest: +SKIP
    """
    return generate(_scenario(id_or_path, overrides), seed=seed, progress=progress,
                    shard_size=shard_size)


def write(id_or_path: str, out, seed: int = 0, progress: bool = False,
          shard_size: int | None = None, **overrides) -> dict:
    """Like :func:`make`, but stream the dataset to directory ``out`` table by table (the
    low-memory path used by ``launderbench generate``); returns the metadata written.
    The files are byte-identical to ``make(...).save(out)``, whatever ``shard_size``.
    """
    return generate(_scenario(id_or_path, overrides), seed=seed, progress=progress, out=out,
                    shard_size=shard_size)


def _scenario(id_or_path: str, overrides: dict) -> Scenario:
    scenario = resolve(id_or_path)
    if overrides:
        scenario = scenario.with_overrides(**overrides)
    return scenario
