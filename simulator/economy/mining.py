"""Bitcoin mining pools: coinbase issuance, then payouts to many miners (benign fan-outs)."""

from __future__ import annotations

import numpy as np

from ..ops import CHANGE_MAIN, FRESH, OP_ISSUE, OP_PAY
from ..schema import DAY, EntityKind
from .context import EconomyContext


def mining(ctx: EconomyContext, n: int) -> None:
    """Three pools; about ``n / 2`` coinbases and as many payouts, each to one pool's 10-40
    miners."""
    world, rng = ctx.world, ctx.rng
    btc = world.chain_id("bitcoin")
    if btc not in ctx.users or n <= 0:
        return
    a = world.native_asset(btc)
    ents = world.add_entities(EntityKind.MINING_POOL, 3,
                              name=np.array(["pool-a", "pool-b", "pool-c"], object))
    pw = world.add_wallets(ents, btc, attribution=ctx.config.service_attribution)
    n_cb = max(3, n // 2)
    t_cb = np.sort(rng.integers(ctx.t_start, ctx.t_end, n_cb))
    pool = rng.integers(0, 3, n_cb)
    ctx.stream.add(t=t_cb, chain=btc, asset=a, code=OP_ISSUE, src=-1, out_count=1,
                   out_addr=world.main_address(pw[pool]), out_value=world.units(a, 3.125))
    miners = [ctx.sample(ctx.users[btc], rng.integers(10, 40)) for _ in range(3)]
    n_pay = max(3, n - n_cb)
    t_pay = np.sort(rng.integers(ctx.t_start + DAY, ctx.t_end, n_pay))
    which = rng.integers(0, 3, n_pay)
    cnt = np.array([len(miners[p]) for p in which])
    rec = np.concatenate([miners[p] for p in which])
    amt = ctx.units(a, ctx.usd(len(rec), 150.0, 1.0))
    ctx.stream.add(t=t_pay, chain=btc, asset=a, code=OP_PAY, src=pw[which], out_count=cnt,
                   out_addr=np.where(rng.random(len(rec)) < 0.5, world.main_address(rec), FRESH),
                   out_wallet=rec, out_value=amt, change=CHANGE_MAIN,
                   fee_rate=ctx.fee_base[a], aux=ctx.aux(n_pay))
