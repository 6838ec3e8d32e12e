"""The incidents' footprint: benign traffic on the laundering's chains, assets and value level.

A benchmark leaks when the benign traffic lives elsewhere than the laundering. With the default
economy (benign activity spread over four chains) and the Ronin laundering on Ethereum, a
transaction's chain or asset alone separates the two (a raw-field classifier reached ROC-AUC
0.84-0.94 on either alone), and laundering moves larger sums than the median benign payment.
An investigator's data set is scoped the other way round: it covers the chains and assets the
case touches. With ``economy.footprint = "incidents"`` the generator first plans the incidents
on probe economies (:data:`ROUNDS` of them), measures the share of their operations per asset
(each asset lives on one chain) against the benign share, and moves the benign chain and asset
shares (and the share of behaviours tied to one chain, such as mining) toward the incidents'.
One more probe runs the ledger kernel and raises the benign value level (``value_scale``) by
the ratio of the median laundering to the median benign transaction value, to the power
:data:`VALUE_MATCH`. The probes use the scenario's own seed streams: the result is
deterministic.

The default is ``"fixed"`` (``chain_share``, ``asset_share`` and ``value_scale`` as written);
every laundering preset sets ``"incidents"`` (generator 0.5.0). On its own it trades one leak
for another on this economy: it lowers the raw-field classifier's ROC-AUC, but an
Ethereum-centred benign economy, whose account-model users reuse one address, makes benign
addresses busier and richer than the launderers' fresh ones, and the degree and amount
shortcuts on the tracing task fell below the chance band on several presets (generator
0.3.0). The benign twins (:mod:`launderbench.simulator.laundering.twins`, ``twin_share`` 1.0 in the
presets) supply fresh, laundering-sized benign addresses and keep tracing within the band;
the probes leave the twins out, so that the everyday traffic is what moves (README "Known
limitations" has the survey figures).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .economy.behaviours import BEHAVIOUR_CHAINS
from .economy.config import EconomyConfig, default_asset_weight
from .ops import OP_ISSUE, OpStream
from .world import World

#: no chain or asset of the economy drops below this share of benign traffic
FLOOR = 0.01
#: probe rounds: each re-measures the benign traffic the previous shares produced (behaviours
#: tied to one chain, such as mining or the guarantee marketplace, do not follow the shares)
ROUNDS = 2

#: the benign value level moves by at most this factor either way
MAX_VALUE_SCALE = 100.0
#: the benign value level moves by this power of the ratio of median transaction values:
#: 1 matches the medians per transaction, but then benign addresses, which collect many
#: payments, receive far more than laundering ones (the address-level amount shortcut turns
#: to ROC-AUC 0.3); 0.5 balances the two (the geometric midpoint)
VALUE_MATCH = 0.5

__all__ = ["FLOOR", "ROUNDS", "MAX_VALUE_SCALE", "VALUE_MATCH", "measure", "calibrated",
           "value_ratio"]


def measure(world: World, stream: OpStream) -> tuple[np.ndarray, np.ndarray]:
    """Shares of the incidents' ops and of the benign ops (issuances aside) per asset (each
    asset lives on one chain, so this is the (chain, asset) mix)."""
    n_assets = len(world.assets)
    laund = np.zeros(n_assets)
    benign = np.zeros(n_assets)
    for b in stream.batches("code", "incident", "asset"):
        keep = b["code"] != OP_ISSUE
        inc = b["incident"] >= 0
        laund += np.bincount(b["asset"][keep & inc], minlength=n_assets)
        benign += np.bincount(b["asset"][keep & ~inc], minlength=n_assets)
    return laund / max(laund.sum(), 1), benign / max(benign.sum(), 1)


def calibrated(cfg: EconomyConfig, world: World, laund: np.ndarray,
               benign: np.ndarray) -> EconomyConfig:
    """``cfg`` with chain and asset shares moved so that the benign (chain, asset) mix
    approaches the incidents' ``laund`` mix: each cell's weight is multiplied by
    ``laund / benign`` (floored at ``FLOOR``). Unchanged when no incident op was measured;
    chains the configuration leaves out (or gives a share of 0) stay out. Behaviours tied to
    chains (``economy.BEHAVIOUR_CHAINS``: mining, payment processors...) have their share of
    ``mix`` scaled by the change of their chains' shares."""
    if laund.sum() == 0:
        return cfg
    chains = dict(cfg.chain_share)
    tot = sum(chains.values()) or 1.0
    given = dict(cfg.asset_share)
    on_chain = {ch.name: [a for a in range(len(world.assets)) if world.asset_chain(a) == c]
                for c, ch in enumerate(world.chains)}
    cell = np.zeros(len(world.assets))
    for ch in world.chains:
        ids = on_chain[ch.name]
        w = np.array([given.get(world.assets[a].symbol, default_asset_weight(world.assets[a]))
                      for a in ids], dtype=np.float64)
        cell[ids] = chains.get(ch.name, 0.0) / tot * w / max(w.sum(), 1e-12)
    new = cell * (np.maximum(laund, FLOOR) / np.maximum(benign, FLOOR))
    new = np.maximum(new / new.sum(), FLOOR) * (cell > 0)
    share = [(ch.name, float(new[on_chain[ch.name]].sum())) for ch in world.chains
             if ch.name in chains]
    asset_share = tuple((world.assets[a].symbol, float(new[a])) for a in range(len(new)))
    # behaviours tied to a chain follow that chain's change of share
    ratio = {n: v / (chains[n] / tot) if chains[n] > 0 else 0.0 for n, v in share}
    mix = tuple((k, v * float(np.mean([ratio.get(n, 0.0) for n in BEHAVIOUR_CHAINS[k]]))
                 if k in BEHAVIOUR_CHAINS else v) for k, v in cfg.mix)
    return dataclasses.replace(cfg, chain_share=tuple(share), asset_share=asset_share, mix=mix)


def value_ratio(ds) -> float:
    """Median USD value moved by an incident's transaction over that of a benign one
    (issuances aside) in a generated dataset; 1.0 when either side is empty."""
    v = ds.observable()
    outs, n = v.outputs, v.n_transactions
    usd = np.bincount(outs["tx_id"], minlength=n,
                      weights=v.usd_per_base_unit()[outs["asset_id"]] * outs["amount"])[:n]
    inc = np.asarray(ds.tx_truth["incident_id"]) >= 0
    benign = ~inc & ~np.asarray(v.transactions["is_issuance"], bool)
    if not inc.any() or not benign.any():
        return 1.0
    return float(np.median(usd[inc]) / max(np.median(usd[benign]), 1e-12))
