"""Benign twins: benign entities that move their own funds through an incident's playbook.

Every laundering shape has benign counterparts on real chains, and at scale. Airdrop farmers
fund hundreds of fresh wallets from one source, bridge and swap on each, and consolidate at an
exchange deposit address (LayerZero's 2024 Sybil review flagged about 800,000 addresses);
exchanges and market makers rotate cold wallets, rebalance across chains through bridges and
settle with OTC desks; privacy-minded holders use mixers. The economy (:mod:`launderbench.simulator.economy`)
has a look-alike of each single shape; a *twin* is the whole multi-stage flow: the incident's
resolved playbook (its steps, blocks and parameters, waves and fingerprints) run again by a
benign retail entity, funded by a large payout of the same kind of service the incident robbed
(an exchange withdrawal, a bridge release, a DEX payout), at another time and another value.

A twin is benign in the truth tables (role, incident, stage, typology), carries no taint and
announces no seeds. Only the link to the announced theft, which tracing follows, and nothing
in a transaction's or an address's own fields, tells the incident from its twins. This is what
pushes the shortcut baselines (degree, amount, address age, a classifier on raw transaction
fields; :mod:`launderbench.detectors.baselines`) toward chance on the classification task (README "Known
limitations" says how far they still are; every preset sets ``twin_share`` 1.0): with laundering
made of shapes that benign traffic rarely makes, a classifier separates them by shape, which
is a leak of the generator rather than a property of laundering (Deprez et al., 2024, on
synthetic data over-flattering models; Altman et al., NeurIPS 2023 Datasets and Benchmarks,
on AMLworld's payment-format shortcut).

``[difficulty] twin_share`` sets how much traffic the twins add, as a share of the benign
economy's operations (split equally between the incidents; see :func:`counts`); 0 (the
default of a bare scenario) adds none and draws no random numbers, so datasets without twins
are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a twin's value, relative to its incident's: log-uniform in this range
VALUE_RANGE = (0.4, 1.6)
#: when twins start, as fractions of the scenario span (laundering waves fill the window too)
START_RANGE = (0.0, 0.9)
#: the name of a twin's entity in the ``entities`` truth table
NAME = "twin-{incident}-{index}"


@dataclass(frozen=True)
class Twin:
    """One benign replay of incident ``incident``: its ``index`` among that incident's
    twins, its start (days after the scenario's t0), its value relative to the incident's
    and the seed of its own random stream."""

    incident: int
    index: int
    start_day: float
    value: float
    seed: int


def counts(share: float, n_benign_ops: int, incident_ops: list[int]) -> list[float]:
    """How many twins each incident gets so that they add about ``share`` times the benign
    economy's ``n_benign_ops`` operations, in equal parts per incident: incident ``k`` (which
    took ``incident_ops[k]`` operations) gets ``share * n_benign_ops / n / incident_ops[k]``
    twins, where ``n`` is the number of incidents. The share, not a count, is the knob, so
    the twins keep their weight in the traffic at every scenario size."""
    n = len(incident_ops)
    return [share * n_benign_ops / n / max(ops, 1) if share > 0 else 0.0
            for ops in incident_ops]


def plan(n_twins: list[float], days: float, max_value: list[float],
         rng: np.random.Generator) -> list[Twin]:
    """The twins of each incident: ``floor(n_twins[k])`` of incident ``k``, plus one more
    with probability ``n_twins[k] - floor(n_twins[k])``. ``max_value[k]`` caps the value
    factor of incident ``k``'s twins (the service reserves bound how much one flow can move).
    No random numbers are drawn when no incident gets twins."""
    x = np.asarray(n_twins, np.float64)
    if not (x > 0).any():
        return []
    whole = np.floor(x).astype(np.int64)
    counts = whole + (rng.random(len(x)) < x - whole).astype(np.int64)
    lo, hi = np.log(VALUE_RANGE[0]), np.log(VALUE_RANGE[1])
    out = []
    for k, n in enumerate(counts.tolist()):
        starts = rng.uniform(*START_RANGE, n) * days
        values = np.minimum(np.exp(rng.uniform(lo, hi, n)), max_value[k])
        seeds = rng.integers(0, 2**63 - 1, n)
        out += [Twin(k, j, float(s), float(v), int(sd))
                for j, (s, v, sd) in enumerate(zip(starts, values, seeds))]
    return out


def entities(table) -> dict[int, int]:
    """The twins of a dataset, from its ``entities`` truth table: ``{entity_id: incident}``
    (the index of the incident whose playbook the twin replays), in entity order."""
    out = {}
    for e, name in zip(np.asarray(table["entity_id"]).tolist(), table["name"]):
        parts = str(name).split("-")
        if len(parts) == 3 and parts[0] == "twin" and parts[1].isdigit() and parts[2].isdigit():
            out[int(e)] = int(parts[1])
    return out


__all__ = ["Twin", "plan", "counts", "entities", "VALUE_RANGE", "START_RANGE", "NAME"]
