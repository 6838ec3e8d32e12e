"""Merchants: customers pay them, and they settle to an exchange deposit address (a benign
integration look-alike).

UTXO merchants take payments at per-invoice (fresh) addresses and settle them daily, as
payment processors do; account-chain merchants receive at one address and sweep weekly,
after which the exchange sweeps the deposit address into its hot wallet.
"""

from __future__ import annotations

import numpy as np

from ..ops import FRESH, OP_SPLIT
from ..schema import DAY, HOUR, EntityKind
from .context import EconomyContext


def merchants(ctx: EconomyContext, n: int) -> None:
    """About ``n`` customer payments to merchants, and the merchants' settlements."""
    world, rng = ctx.world, ctx.rng
    exchanges = ctx.services.exchanges
    for ch, k in ctx.split(ctx.chain_share, n).items():
        if k == 0 or ch not in ctx.users:
            continue
        n_m = max(3, k // 150)
        ents = world.add_entities(EntityKind.MERCHANT, n_m)
        mw = world.add_wallets(ents, ch)
        ws = ctx.users[ch]
        payer = ctx.pick(ws, k)
        merchant = ctx.pick(mw, k)
        a = world.native_asset(ch) if world.is_utxo(ch) else ctx.assets_on(ch)[1]
        dst = FRESH if world.is_utxo(ch) else world.main_address(merchant)
        # what a customer spends grows with their wealth (the same multiplier as payments)
        ctx.pay_one(ch, a, ctx.times(k), payer, dst, merchant,
                    ctx.units(a, ctx.usd(k, 45.0, 0.9) * ctx.wealth(payer)))
        ex_i = rng.integers(0, len(exchanges), n_m)
        dep = np.array([exchanges[e].new_deposit_addresses(world, ch, 1)[0] for e in ex_i])
        # UTXO merchants settle their invoice addresses daily, account-chain ones weekly
        step = DAY if world.is_utxo(ch) else 7 * DAY
        ts = np.arange(ctx.t_start + step, ctx.t_end, step)
        if len(ts) == 0:
            continue
        tt = (ts[None, :] + rng.integers(0, min(step, DAY) // 2, (n_m, len(ts)))).ravel()
        src = np.repeat(ctx.source(ch, mw), len(ts))
        dd = np.repeat(dep, len(ts))
        ctx.stream.add(t=tt, chain=ch, asset=a, code=OP_SPLIT, src=src, out_count=1,
                       out_addr=dd, out_value=1, fee_rate=ctx.fee_base[a], aux=ctx.aux(len(tt)))
        if not world.is_utxo(ch):
            hot = np.repeat(np.array([exchanges[e].hot[ch].address for e in ex_i]), len(ts))
            ctx.stream.add(t=tt + HOUR, chain=ch, asset=a, code=OP_SPLIT, src=dd, out_count=1,
                           out_addr=hot, out_value=1, fee_rate=ctx.fee_base[a],
                           aux=ctx.aux(len(tt)))
