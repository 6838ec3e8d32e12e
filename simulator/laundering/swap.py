"""DEX swaps: the position is paid into the chain's DEX pool and the pool pays the target
asset back (hidden ``SWAP`` link). Ronin: 25.5M USDC -> 8,562.86 ETH; Harmony: every token ->
ETH within hours; Ronin: ETH -> renBTC (here WBTC) before bridging (incidents.md 1.3, 1.4).
By default the payout returns to the same address (``fresh = false``), as a wallet swapping
in place does; ``fresh = true`` sends it to a new address.
"""

from __future__ import annotations

import numpy as np

from ..schema import LinkKind, Role, Typology
from ._core import Ctx, Pos, merge, need

PARAMS = {"to": "asset", "fresh": "bool", "delay_hours": ((0.0, 24.0 * 365), [0.0, 2.0])}


def swap(ctx: Ctx, positions: list[Pos], to="ETH", fresh=False,
         delay_hours=(0.0, 2.0)) -> list[Pos]:
    W, sv = ctx.world, ctx.services
    target = W.asset_id(to)
    out = []
    for p in positions:
        if p.asset == target:
            out.append(p)
            continue
        need(not W.is_utxo(p.chain) and p.chain in sv.dex,
             f"incident {ctx.k}: swap to {to}: no DEX for {ctx.sym(p.asset)} "
             f"(use a bridge step first)")
        need(W.asset_chain(target) == p.chain,
             f"incident {ctx.k}: swap {ctx.sym(p.asset)} -> {to} crosses chains "
             "(use a bridge step)")
        pool = sv.dex[p.chain].address
        t = ctx.start(p.t) + int(np.atleast_1d(ctx.hours(delay_hours, 1))[0])
        ref, est = ctx.split(p, t, [pool], [1], Typology.SWAP)
        if fresh:
            w, a = ctx.wallets(p.chain, 1, Role.SWAPPER)
            w, a = int(w[0]), int(a[0])
        else:
            w, a = p.wallet, p.addr
        t2 = t + int(ctx.rng.integers(12, 60))
        rate = sv.swap_rate(W, p.asset, target)
        ctx.linked(t2, p.chain, target, pool, ref, rate, LinkKind.SWAP, [a], [1],
                   Typology.SWAP)
        fee = sv.fee_base[target] * 90_000
        out.append(Pos(p.chain, target, w, a, t2, int(est[0] * rate) - fee - 1, 1))
    return merge(ctx, out)
