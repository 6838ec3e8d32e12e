"""Peer-to-peer payments between users: the peel and pass-through look-alikes.

On UTXO chains a payment spends coins and returns change (to a fresh address or, at
``change_reuse_rate``, back to the wallet's main address); payees give a fresh address at
``fresh_address_rate``. A share ``forward_rate`` of payments is passed on within hours by the
payee, who keeps a little: at a fresh address on UTXO chains, through a short-lived relay
account on account chains.
"""

from __future__ import annotations

import numpy as np

from ..ops import FRESH, OP_PAY, OP_SPLIT
from ..schema import HOUR
from .context import EconomyContext


def payments(ctx: EconomyContext, n: int) -> None:
    """About ``n`` transactions of payments, forwarded ones included."""
    world, rng, config = ctx.world, ctx.rng, ctx.config
    # forwarded payments add a transaction each: keep the total near n
    n = int(round(n / (1.0 + config.forward_rate)))
    for ch, k in ctx.split(ctx.chain_share, n).items():
        if k == 0:
            continue
        ws = ctx.users[ch]
        payer = ctx.pick(ws, k)
        payee = ws[rng.integers(0, len(ws), k)]
        assets = ctx.assets_on(ch)
        a_pick = rng.choice(np.array(assets), k, p=ctx.asset_weights(assets))
        t = ctx.times(k)
        fresh = (rng.random(k) < config.fresh_address_rate) & world.is_utxo(ch)
        usd = ctx.usd(k, 200.0, 1.4) * ctx.wealth(payer)
        fwd = rng.random(k) < config.forward_rate
        nxt = ws[rng.integers(0, len(ws), k)]
        # account chains: a payment that is passed on arrives at a temporary account of the
        # payee (a fresh address), which forwards it: short-lived relay addresses
        relay = np.full(k, -1, np.int64)
        if not world.is_utxo(ch) and fwd.any():
            relay[fwd] = world.main_address(world.add_wallets(world.wallets.column("entity")[
                payee[fwd]], ch))
        dst = np.where(fresh, FRESH, np.where(relay >= 0, relay, world.main_address(payee)))
        for a in assets:
            m = a_pick == a
            if m.any():
                ctx.pay_one(ch, a, t[m], payer[m], dst[m], payee[m], ctx.units(a, usd[m]))
            # pass-through look-alike: the payee passes most of its balance on within hours,
            # keeping the rest at a fresh address (UTXO) or where it is (account)
            f = m & fwd
            kf = int(f.sum())
            if kf == 0:
                continue
            # delays log-uniform from 2 minutes to 12 hours: bots, traders, impatient users
            tf = t[f] + np.exp(rng.uniform(np.log(120), np.log(12 * HOUR), kf)).astype(np.int64)
            keep = rng.integers(500, 4000, kf)
            if world.is_utxo(ch):
                ctx.stream.add(
                    t=tf, chain=ch, asset=a, code=OP_SPLIT, src=payee[f], out_count=2,
                    out_addr=np.column_stack([np.full(kf, FRESH), np.full(kf, FRESH)]).ravel(),
                    out_wallet=np.column_stack([nxt[f], payee[f]]).ravel(),
                    out_value=np.column_stack([10_000 - keep, keep]).ravel(),
                    fee_rate=ctx.fee_rate(a, payee[f]), aux=ctx.aux(kf))
            else:
                ctx.stream.add(t=tf, chain=ch, asset=a, code=OP_PAY, src=relay[f],
                               out_count=1, out_addr=world.main_address(nxt[f]),
                               out_value=ctx.units(a, usd[f] * (10_000 - keep) / 10_000),
                               fee_rate=ctx.fee_rate(a, payee[f]), aux=ctx.aux(kf))
