"""The table of benign behaviours: what :func:`~launderbench.simulator.economy.build_economy`
runs once users and services exist.

A behaviour is a function ``behaviour(ctx, n)`` that adds about ``n`` operations' worth of
activity to ``ctx.stream``, drawing everything from ``ctx`` (an
:class:`~.context.EconomyContext`). ``n`` comes from the behaviour's share of
``EconomyConfig.mix`` (its key there is its name here). To add one: write its module, give it
a line below and a default share in ``EconomyConfig.mix``.

The table's order is the order of random draws, so it is part of what a seed produces: new
behaviours go at the end. ``custodial_mixer`` draws its customers from the users that
``coinjoin`` samples and must come after it.
"""

from __future__ import annotations

from collections.abc import Callable

from . import (
    bridges,
    exchanges,
    merchants,
    mining,
    mixers,
    otc,
    payments,
    payroll,
    processors,
    swaps,
)
from .context import EconomyContext

#: behaviour name -> (function, chains it lives on whatever ``chain_share`` says; empty when
#: it follows ``chain_share``)
BEHAVIOURS: dict[str, tuple[Callable[[EconomyContext, int], None], tuple[str, ...]]] = {
    "payment": (payments.payments, ()),
    "exchange_deposit": (exchanges.exchange_deposits, ()),
    "exchange_withdrawal": (exchanges.exchange_withdrawals, ()),
    "merchant": (merchants.merchants, ()),
    "payroll": (payroll.payroll, ("ethereum", "tron")),
    "airdrop": (payroll.airdrops, ("ethereum",)),
    "mining": (mining.mining, ("bitcoin",)),
    "swap": (swaps.swaps, ()),
    "bridge": (bridges.bridges, ()),
    "mixer_pool": (mixers.mixer_pool, ("ethereum",)),
    "coinjoin": (mixers.coinjoin, ("bitcoin",)),
    "custodial_mixer": (mixers.custodial_mixers, ("bitcoin",)),
    "otc": (otc.otc, ()),
    "marketplace": (otc.marketplace, ("tron",)),
    "processor": (processors.processors, ("tron",)),
}

#: behaviours that live on given chains whatever ``chain_share`` says; the footprint
#: calibration (:mod:`launderbench.simulator.footprint`) scales their share of ``mix`` with
#: their chains'
BEHAVIOUR_CHAINS = {name: chains for name, (_, chains) in BEHAVIOURS.items() if chains}


def operation_counts(ctx: EconomyContext) -> dict[str, int]:
    """Each behaviour's ``n``: its share of ``mix`` times ``transactions``, plus 3%.

    Some soft ops find their payer short of funds and are skipped by the kernel, while sweeps
    and payouts add ops of their own; the factor brings the realised count close to
    ``transactions`` (within a few percent, see tests).
    """
    config = ctx.config
    mix = dict(config.mix)
    tot = sum(mix.values()) or 1.0
    return {k: int(round(1.03 * config.transactions * v / tot)) for k, v in mix.items()}


def run_behaviours(ctx: EconomyContext) -> None:
    """Run every behaviour of :data:`BEHAVIOURS`, in the table's order."""
    counts = operation_counts(ctx)
    for name, (behaviour, _) in BEHAVIOURS.items():
        behaviour(ctx, counts.get(name, 0))
