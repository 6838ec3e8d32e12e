"""Genesis: every balance of the economy starts as an issuance at ``t0``.

Users hold log-normal amounts (around 3,000 USD times their wealth) of their chain's native
coin and, each with probability 0.6, of its other assets; services hold reserves scaled by
``value_scale``.
"""

from __future__ import annotations

import numpy as np

from .context import EconomyContext

#: USD scale of service reserves (times ``value_scale``)
RESERVE_USD = 10.0 ** 9


def fund(ctx: EconomyContext) -> None:
    """Issue the opening balances of the users and of ``ctx.services``."""
    world, rng, services = ctx.world, ctx.rng, ctx.services
    big = RESERVE_USD * ctx.config.value_scale

    def genesis(addrs, asset_id, usd):
        ctx.issue(world.t0, asset_id, addrs, ctx.units(asset_id, usd))

    for ch, ws in ctx.users.items():
        main = world.main_address(ws)
        for a_id, a in enumerate(world.assets):
            if world.asset_chain(a_id) != ch:
                continue
            share = 1.0 if a.native else 0.6
            sel = main[rng.random(len(main)) < share]
            wsel = ws[np.isin(main, sel)]
            genesis(sel, a_id, ctx.usd(len(sel), 3000.0, 1.3) * ctx.wealth(wsel))
    for ex in services.exchanges:
        for ch in ctx.chain_share:
            for a_id in range(len(world.assets)):
                if world.asset_chain(a_id) == ch:
                    genesis([ex.hot[ch].address], a_id, np.array([big * 0.02]))
                    genesis([ex.cold[ch].address], a_id, np.array([big * 0.1]))
    for ch, ep in services.dex.items():
        for a_id in range(len(world.assets)):
            if world.asset_chain(a_id) == ch:
                genesis([ep.address], a_id, np.array([big * 0.5]))
    for b in services.bridges:
        genesis([b.vault_a.address], b.asset_a, np.array([big * 0.3]))
        genesis([b.vault_b.address], b.asset_b, np.array([big * 0.3]))
    for m in services.custodial_mixers:
        genesis([m.endpoint.address], m.asset, np.array([big * 0.01]))
    for d in services.otc:
        for a_id, ep in d.endpoints.items():
            genesis([ep.address], a_id, np.array([big * 0.05]))
    genesis([services.marketplace.address], world.asset_id("USDT-TRON"),
            np.array([big * 0.01]))
