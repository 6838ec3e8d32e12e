"""Payment processors on TRON: customers pay per-merchant receiving addresses of a processor,
which settles each to its merchant daily."""

from __future__ import annotations

import numpy as np

from ..ops import OP_SPLIT
from ..schema import DAY, HOUR, EntityKind
from .context import EconomyContext


def processors(ctx: EconomyContext, n: int) -> None:
    """Two processors, ``max(4, n // 100)`` merchants, ``n`` customer payments in USDT."""
    world, rng = ctx.world, ctx.rng
    trx = world.chain_id("tron")
    if trx not in ctx.users or n <= 0:
        return
    a = world.asset_id("USDT-TRON")
    ents = world.add_entities(EntityKind.PAYMENT_PROCESSOR, 2,
                              name=np.array(["processor-a", "processor-b"], object))
    n_m = max(4, n // 100)
    m_ent = world.add_entities(EntityKind.MERCHANT, n_m)
    mw = world.add_wallets(m_ent, trx)
    proc = rng.integers(0, 2, n_m)
    attribution = ctx.config.service_attribution * 0.5
    pw = np.array([world.add_wallets(ents[p], trx, attribution=attribution)[0] for p in proc])
    recv = world.main_address(pw)
    who = ctx.pick(ctx.users[trx], n)
    mer = ctx.pick(np.arange(n_m), n)
    ctx.pay_one(trx, a, ctx.times(n), who, recv[mer], -1,
                ctx.units(a, ctx.usd(n, 35.0, 0.8) * ctx.wealth(who)))
    ts = np.arange(ctx.t_start + DAY, ctx.t_end, DAY)
    if len(ts):
        tt = (ts[None, :] + rng.integers(0, 2 * HOUR, (n_m, len(ts)))).ravel()
        ctx.stream.add(t=tt, chain=trx, asset=a, code=OP_SPLIT, src=np.repeat(recv, len(ts)),
                       out_count=1, out_addr=np.repeat(world.main_address(mw), len(ts)),
                       out_value=1, fee_rate=ctx.fee_base[a], aux=ctx.aux(len(tt)))
