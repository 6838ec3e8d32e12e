"""The benign economy: the traffic that laundering hides in.

Entities and behaviours (every laundering shape has a benign look-alike here):

* retail users with heavy-tailed activity (rank power law), lognormal amounts with a preference
  for round numbers, change outputs to fresh addresses or back to a reused address, and fee
  rates chosen the way their wallet software does (an estimator with noise, or a fixed rate);
* exchanges: one deposit address per customer, swept into the hot wallet (fan-in: a
  consolidation of many inputs on UTXO chains, one sweep per deposit address on account
  chains), batched withdrawals from the hot wallet (fan-out), cold-wallet moves;
* mining pools (coinbase, then payouts to many miners: fan-out), payroll (batched payouts),
  airdrops, merchants (customers pay fresh invoice addresses; weekly sweep to an exchange: a
  benign integration look-alike) and payment processors (settle daily to merchants);
* DEX pools (swap in, swap out: a hidden link), bridges (lock on one chain, release on another
  after a delay minus a fee; with and without a public deposit id in ``memo``), mixers used by
  privacy-minded users (fixed-denomination pools with relayers, CoinJoin rounds with equal
  outputs, a custodial mixer paying from its reserve), OTC desks and a guarantee marketplace.

All of it is expressed as ops (:mod:`launderbench.simulator.ops`), generated with vectorised
numpy; the ledger kernel then executes them in time order against real balances. The
:class:`Services` returned by :func:`build_economy` are the handles laundering playbooks use.

Modules: :mod:`.config` (the knobs and shared constants), :mod:`.services` (the services'
handles), :mod:`.context` (the sampling context), :mod:`.users`, :mod:`.providers` (the
services' entities), :mod:`.genesis` (opening balances), one module per behaviour family (:mod:`.payments`, :mod:`.exchanges`,
:mod:`.merchants`, :mod:`.payroll`, :mod:`.mining`, :mod:`.swaps`, :mod:`.bridges`,
:mod:`.mixers`, :mod:`.otc`, :mod:`.processors`) and :mod:`.behaviours`, the table
:func:`build_economy` walks.
"""

from __future__ import annotations

import numpy as np

from ..ops import OpStream
from ..world import World
from .behaviours import BEHAVIOUR_CHAINS, BEHAVIOURS, run_behaviours
from .config import (
    FEE_BASE,
    FEE_SIGMA,
    FIXED_FEE_MULTIPLIERS,
    SWEEP_MULT,
    EconomyConfig,
    default_asset_weight,
)
from .context import EconomyContext
from .genesis import fund
from .providers import open_services
from .services import (
    Bridge,
    CustodialMixer,
    Endpoint,
    Exchange,
    MixerPool,
    OTCDesk,
    Services,
)
from .users import add_users

__all__ = [
    "BEHAVIOURS", "BEHAVIOUR_CHAINS", "FEE_BASE", "FEE_SIGMA", "FIXED_FEE_MULTIPLIERS",
    "SWEEP_MULT", "Bridge", "CustodialMixer", "EconomyConfig", "EconomyContext", "Endpoint",
    "Exchange", "MixerPool", "OTCDesk", "Services", "build_economy", "default_asset_weight",
]


def build_economy(world: World, stream: OpStream, cfg: EconomyConfig,
                  rng: np.random.Generator) -> Services:
    """Create the benign entities and add their activity to ``stream``.

    Parameters
    ----------
    world : World
        Receives the economy's entities, wallets and addresses.
    stream : OpStream
        Receives the genesis issuances and every behaviour's ops.
    cfg : EconomyConfig
        The economy's knobs (validated here).
    rng : numpy.random.Generator
        Every draw, in a fixed order: users, services' fee styles, genesis, then the
        behaviours in the order of :data:`BEHAVIOURS`.

    Returns
    -------
    Services
        Handles on the services, for laundering playbooks.
    """
    cfg.validate()
    ctx = EconomyContext(world, stream, cfg, rng)
    add_users(ctx)
    ctx.services = open_services(ctx)
    # per-wallet fee style, now that the initial wallets exist (later ones are estimators)
    ctx.draw_fee_styles()
    fund(ctx)
    run_behaviours(ctx)
    return ctx.services
