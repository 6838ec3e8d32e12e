"""DEX swaps: the position is paid into the chain's DEX pool and the pool pays the target
asset back (hidden ``SWAP`` link). Ronin: 25.5M USDC -> 8,562.86 ETH; Harmony: every token ->
ETH within hours; Ronin: ETH -> renBTC (here WBTC) before bridging (docs/sources.md#ronin-2022, #harmony-2022).
By default the payout returns to the same address (``fresh = false``), as a wallet swapping
in place does; ``fresh = true`` sends it to a new address.
"""

from __future__ import annotations

import numpy as np

from ..schema import LinkKind, Role, Typology
from .block_api import Ctx, Pos, merge, need

PARAMS = {"to": "asset", "fresh": "bool", "delay_hours": ((0.0, 24.0 * 365), [0.0, 2.0])}


def swap(ctx: Ctx, positions: list[Pos], to="ETH", fresh=False,
         delay_hours=(0.0, 2.0)) -> list[Pos]:
    W, sv = ctx.world, ctx.services
    target = W.asset_id(to)
    out = [p for p in positions if p.asset == target]
    todo = [p for p in positions if p.asset != target]
    for p in todo:
        need(not W.is_utxo(p.chain) and p.chain in sv.dex,
             f"incident {ctx.incident}: swap to {to}: no DEX for {ctx.sym(p.asset)} "
             f"(use a bridge step first)")
        need(W.asset_chain(target) == p.chain,
             f"incident {ctx.incident}: swap {ctx.sym(p.asset)} -> {to} crosses chains "
             "(use a bridge step)")
    for a_in in sorted({p.asset for p in todo}):
        ps = [p for p in todo if p.asset == a_in]
        chain = ps[0].chain
        pool = sv.dex[chain].address
        n = len(ps)
        ts = np.array([ctx.start(p.time) for p in ps], np.int64) + \
            np.atleast_1d(ctx.hours(delay_hours, n)).astype(np.int64)
        ref, est = ctx.split_each(ps, ts, np.full(n, pool), Typology.SWAP)
        if fresh:
            w, a = ctx.wallets(chain, n, Role.SWAPPER)
        else:
            w, a = np.array([p.wallet for p in ps]), np.array([p.addr for p in ps])
        t2 = ts + ctx.rng.integers(12, 60, n)
        rate = sv.swap_rate(W, a_in, target)
        ctx.linked_each(t2, chain, target, pool, ref, rate, LinkKind.SWAP, a, Typology.SWAP)
        fee = sv.fee_base[target] * 90_000
        out += [Pos(chain, target, int(w[i]), int(a[i]), int(t2[i]),
                    int(est[i] * rate) - fee - 1, 1) for i in range(n)]
    return merge(ctx, out)
