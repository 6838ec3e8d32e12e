"""Batched payouts (benign fan-outs): payroll in USDT on Ethereum and TRON, and airdrops of
USDC on Ethereum."""

from __future__ import annotations

import numpy as np

from ..ops import OP_ISSUE, OP_PAY
from ..schema import DAY, HOUR, EntityKind
from .context import EconomyContext


def payroll(ctx: EconomyContext, n: int) -> None:
    """Employers (one per 40 of ``n``, at least one a chain) pay 5-40 staff every two weeks
    in one multi-output transaction."""
    world, rng = ctx.world, ctx.rng
    for ch_name, sym in (("ethereum", "USDT"), ("tron", "USDT-TRON")):
        ch = world.chain_id(ch_name)
        if ch not in ctx.users:
            continue
        a = world.asset_id(sym)
        n_emp = max(1, n // 40)
        ents = world.add_entities(EntityKind.EMPLOYER, n_emp)
        ew = world.add_wallets(ents, ch)
        size = rng.integers(5, 40, n_emp)
        staff = rng.choice(ctx.users[ch], int(size.sum()))
        sal = ctx.units(a, ctx.usd(len(staff), 3000.0, 0.4))
        ts = np.arange(ctx.t_start + 14 * DAY, ctx.t_end, 14 * DAY)
        k = len(ts)
        ctx.issue(world.t0, a, world.main_address(ew),
                  np.bincount(np.repeat(np.arange(n_emp), size), weights=sal,
                              minlength=n_emp).astype(np.int64) * (k + 1))
        if k == 0:
            continue
        # one batched payout per employer and pay day (a benign fan-out)
        emp = np.repeat(np.arange(n_emp), k)
        starts = np.cumsum(size) - size
        idx = np.concatenate([np.arange(starts[e], starts[e] + size[e]) for e in emp])
        ctx.stream.add(t=np.tile(ts, n_emp) + rng.integers(0, 3 * HOUR, n_emp * k), chain=ch,
                       asset=a, code=OP_PAY, src=world.main_address(ew)[emp],
                       out_count=size[emp], out_addr=world.main_address(staff[idx]),
                       out_value=sal[idx], fee_rate=ctx.fee_base[a], aux=ctx.aux(n_emp * k))


def airdrops(ctx: EconomyContext, n: int) -> None:
    """A distributor sends small amounts of USDC to ``200 n`` Ethereum users (at most all of
    them), 200 per transaction, on one day."""
    world, rng = ctx.world, ctx.rng
    eth = world.chain_id("ethereum")
    if eth not in ctx.users or n <= 0:
        return
    a = world.asset_id("USDC")
    ent = world.add_entities(EntityKind.AIRDROP, 1, name="airdrop")
    aw = world.add_wallets(ent, eth)
    n_rec = min(n * 200, len(ctx.users[eth]))
    rec = ctx.sample(ctx.users[eth], n_rec)
    amt = ctx.units(a, np.full(n_rec, 25.0))
    ctx.stream.add(t=world.t0, chain=eth, asset=a, code=OP_ISSUE, src=-1, out_count=1,
                   out_addr=world.main_address(aw), out_value=[int(amt.sum() * 2)])
    n_tx = max(1, -(-n_rec // 200))
    cnt = np.full(n_tx, 200)
    cnt[-1] = n_rec - 200 * (n_tx - 1)
    t = ctx.t_start + DAY * rng.integers(1, max(2, ctx.config.days - 1)) + np.arange(n_tx) * 30
    ctx.stream.add(t=t, chain=eth, asset=a, code=OP_PAY, src=int(world.main_address(aw)[0]),
                   out_count=cnt, out_addr=world.main_address(rec), out_value=amt,
                   fee_rate=ctx.fee_base[a], aux=ctx.aux(n_tx))
