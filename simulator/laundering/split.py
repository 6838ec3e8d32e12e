"""Fan-out (split): one position is spent into ``n`` fresh attacker wallets in one transaction.

The first move after most DPRK-attributed thefts (docs/sources.md): DMM Bitcoin 1 -> 10 addresses
of about 450 BTC each; Bybit 1 -> about 48 addresses of about 10,000 ETH; Ronin's CEX test
1 -> 5 new addresses. Shares are jittered by ``[difficulty] amount_jitter``.
"""

from __future__ import annotations

from ..schema import Role, Typology
from .block_api import Ctx, Pos, fresh_positions

PARAMS = {"n": ((2, 4000), 10)}


def split(ctx: Ctx, positions: list[Pos], n=10, role=Role.SPLITTER,
          typology=Typology.SPLIT) -> list[Pos]:
    """Each position -> ``n`` (int or [lo, hi]) fresh wallets (one SPLIT each), fewer when
    the parts would fall below twice the smallest amount a later step moves."""
    out = []
    for p in positions:
        # no part below what a later step still moves (a scaled theft splits into fewer)
        k = max(2, min(ctx.draw(n), int(p.est // (2 * ctx.min_amount(p)))))
        w, a = ctx.wallets(p.chain, k, role)
        t = ctx.start(p.time)
        _, est = ctx.split(p, t, a, ctx.weights(k, p.est, 2 * ctx.min_amount(p)), typology)
        out += fresh_positions(ctx, p.chain, p.asset, w, a, t, est)
    return out
