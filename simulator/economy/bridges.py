"""Bridge transfers both ways: lock on one chain, release on the other after the bridge's
delay, minus its fee; bridges with a public deposit id carry it in ``memo`` on both legs."""

from __future__ import annotations

import numpy as np

from ..ops import OP_LINKED
from ..schema import LinkKind
from .context import EconomyContext

#: first public deposit id of benign bridge transfers
FIRST_MEMO = 1_000_000


def bridges(ctx: EconomyContext, n: int) -> None:
    """About ``n`` transfers, 60% from ``asset_a`` to ``asset_b``. A bridge's share of the
    traffic grows with the activity of the chains it joins (the geometric mean of their
    shares)."""
    world, rng = ctx.world, ctx.rng
    chains = ctx.chain_share
    usable = [b for b in ctx.services.bridges if world.asset_chain(b.asset_a) in ctx.users
              and world.asset_chain(b.asset_b) in ctx.users]
    if not usable or n <= 0:
        return
    pw = np.array([np.sqrt(chains.get(world.asset_chain(b.asset_a), 0.0)
                           * chains.get(world.asset_chain(b.asset_b), 0.0)) for b in usable])
    if pw.sum() <= 0:
        return
    per = rng.multinomial(n, pw / pw.sum())
    memo_next = FIRST_MEMO
    for b, k in zip(usable, per):
        if k == 0:
            continue
        fwd = rng.random(k) < 0.6
        for direction in (True, False):
            m = int((fwd == direction).sum())
            if m == 0:
                continue
            a_in, a_out = (b.asset_a, b.asset_b) if direction else (b.asset_b, b.asset_a)
            v_in, v_out = (b.vault_a, b.vault_b) if direction else (b.vault_b, b.vault_a)
            ch_in, ch_out = world.asset_chain(a_in), world.asset_chain(a_out)
            who = ctx.pick(ctx.users[ch_in], m)
            dest = world.add_wallets(ctx.owners(ch_in, who), ch_out)
            t = ctx.times(m)
            memo = np.arange(memo_next, memo_next + m) if b.has_id else -1
            memo_next += m
            ref = ctx.pay_one(ch_in, a_in, t, who, v_in.address, -1,
                              ctx.units(a_in, ctx.usd(m, 2000.0, 1.2)), memo=memo)
            ctx.stream.add(t=t + rng.integers(b.delay[0], b.delay[1], m), chain=ch_out,
                           asset=a_out, code=OP_LINKED, src=v_out.src(world), out_count=1,
                           out_addr=world.main_address(dest), out_value=1, link=ref,
                           link_kind=int(LinkKind.BRIDGE), rate=b.rate(world, direction),
                           memo=memo, change=v_out.address, fee_rate=ctx.fee_base[a_out],
                           aux=ctx.aux(m))
