"""DEX swaps: asset X into the chain's pool contract, asset Y back to the user (a swap link
the ledger hides, as a DEX does)."""

from __future__ import annotations

import numpy as np

from ..ops import OP_LINKED, OP_PAY
from ..schema import LinkKind
from .context import EconomyContext


def swaps(ctx: EconomyContext, n: int) -> None:
    """About ``n`` swaps between two different assets of one account chain; each chain's
    share of swaps follows its share of activity."""
    world, rng, services = ctx.world, ctx.rng, ctx.services
    dex = services.dex
    dex_chains = {ch: ctx.chain_share[ch] for ch in dex if ch in ctx.users}
    tot = sum(dex_chains.values())
    if not dex_chains or tot <= 0:
        return
    for ch, k in ctx.split({k: v / tot for k, v in dex_chains.items()}, n).items():
        if k == 0:
            continue
        assets = ctx.assets_on(ch)
        ws = ctx.users[ch]
        who = ctx.pick(ws, k)
        arr = np.array(assets)
        i_in = rng.integers(0, len(arr), k)
        i_out = (i_in + rng.integers(1, len(arr), k)) % len(arr)
        a_in, a_out = arr[i_in], arr[i_out]
        t = ctx.times(k)
        usd = ctx.usd(k, 800.0, 1.2)
        pool = dex[ch].address
        for ai in assets:
            for ao in assets:
                m = (a_in == ai) & (a_out == ao)
                if not m.any():
                    continue
                km = int(m.sum())
                ref = ctx.stream.add(t=t[m], chain=ch, asset=ai, code=OP_PAY,
                                     src=world.main_address(who[m]), out_count=1,
                                     out_addr=pool, out_value=ctx.units(ai, usd[m]),
                                     fee_rate=ctx.fee_rate(ai, who[m]), aux=ctx.aux(km))
                ctx.stream.add(t=t[m] + rng.integers(12, 60, km), chain=ch, asset=ao,
                               code=OP_LINKED, src=pool, out_count=1,
                               out_addr=world.main_address(who[m]), out_value=1, link=ref,
                               link_kind=int(LinkKind.SWAP),
                               rate=services.swap_rate(world, ai, ao),
                               fee_rate=ctx.fee_base[ao], aux=ctx.aux(km))
