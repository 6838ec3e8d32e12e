"""Hop chains: value passes through a line of fresh intermediary wallets, one transaction per
hop, with jittered delays (ALEX Lab's December wave: 1-hop tranches then about 4 more hops;
the Chainalysis Japan cascade: 1-3 hops per leg). ``[difficulty] hop_scale`` multiplies the
hop counts, ``time_jitter`` jitters the delays.
"""

from __future__ import annotations

import numpy as np

from ..schema import Role, Typology
from ._core import Ctx, Pos

PARAMS = {"length": ((1, 500), [1, 3]), "delay_hours": ((0.0, 24.0 * 365), [0.1, 6.0])}


def hops(ctx: Ctx, positions: list[Pos], length=(1, 3), delay_hours=(0.1, 6.0),
         typology=Typology.HOP_CHAIN) -> list[Pos]:
    """Every position travels ``length`` hops (int or [lo, hi], times ``hop_scale``)."""
    scale = float(ctx.diff.get("hop_scale", 1.0))
    out = []
    for p in positions:
        L = max(1, int(round(ctx.draw(length) * scale)))
        w, a = ctx.wallets(p.chain, L, Role.INTERMEDIARY)
        gaps = np.atleast_1d(ctx.hours(delay_hours, L))
        t = ctx.start(p.t)
        cur = p
        for j in range(L):
            _, est = ctx.split(cur, t, [a[j]], [1], typology)
            cur = Pos(p.chain, p.asset, int(w[j]), int(a[j]), t, est[0], 1)
            t = t + int(gaps[j])
        out.append(cur)
    return out
