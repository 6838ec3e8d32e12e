"""Retail users: the people behind most benign traffic.

Each user gets one wallet on a home chain drawn from ``chain_share`` (every chain keeps at
least 8 users, borrowed from elsewhere when too few live there) and a heavy-tailed wealth
multiplier ``exp(wealth_sigma * N(0, 1))``, a property of the person, the same on every chain.
On UTXO chains a share ``newest_first_rate`` of wallets selects coins newest first.
"""

from __future__ import annotations

import numpy as np

from ..schema import EntityKind
from .context import EconomyContext


def add_users(ctx: EconomyContext) -> None:
    """Create the users and their wallets; fill ``ctx.users`` and ``ctx.user_entities`` and
    record each wallet's wealth."""
    world, config, rng = ctx.world, ctx.config, ctx.rng
    chains = ctx.chain_share
    n_users = max(60, int(config.transactions * config.users_per_transaction))
    user_ent = world.add_entities(EntityKind.RETAIL, n_users)
    home = rng.choice(np.array(list(chains)), n_users, p=np.array(list(chains.values())))
    ent_wealth = np.exp(config.wealth_sigma * rng.standard_normal(n_users))
    for ch in chains:
        ents = user_ent[home == ch]
        if len(ents) < 8:
            ents = np.concatenate([ents, ctx.sample(user_ent, 8)])
        lifo = rng.random(len(ents)) < config.newest_first_rate if world.is_utxo(ch) else False
        ctx.users[ch] = world.add_wallets(ents, ch, attribution=0.0, lifo=lifo)
        ctx.user_entities[ch] = ents
        ctx.set_wealth(ctx.users[ch], ent_wealth[ents - user_ent[0]])
