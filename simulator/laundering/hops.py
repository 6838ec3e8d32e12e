"""Hop chains: value passes through a line of fresh intermediary wallets, one transaction per
hop, with jittered delays (ALEX Lab's December wave: 1-hop tranches then about 4 more hops;
the Chainalysis Japan cascade: 1-3 hops per leg). ``[difficulty] hop_scale`` multiplies the
hop counts, ``time_jitter`` jitters the delays.
"""

from __future__ import annotations

import numpy as np

from ..schema import Role, Typology
from .block_api import Ctx, Pos

PARAMS = {"length": ((1, 500), [1, 3]), "delay_hours": ((0.0, 24.0 * 365), [0.1, 6.0])}


def hops(ctx: Ctx, positions: list[Pos], length=(1, 3), delay_hours=(0.1, 6.0),
         typology=Typology.HOP_CHAIN) -> list[Pos]:
    """Every position travels ``length`` hops (int or [lo, hi], times ``hop_scale``)."""
    scale = float(ctx.difficulty.get("hop_scale", 1.0))
    if not positions:
        return []
    Ls = [max(1, int(round(ctx.draw(length) * scale))) for _ in positions]
    chains = {}
    for i, p in enumerate(positions):
        chains.setdefault(p.chain, []).append(i)
    wal, adr = [None] * len(positions), [None] * len(positions)
    for ch, idx in chains.items():  # one allocation per chain
        w, a = ctx.wallets(ch, sum(Ls[i] for i in idx), Role.INTERMEDIARY)
        o = 0
        for i in idx:
            wal[i], adr[i] = w[o:o + Ls[i]], a[o:o + Ls[i]]
            o += Ls[i]
    cur = list(positions)
    t = [ctx.start(p.time) for p in positions]
    for j in range(max(Ls)):
        act = [i for i in range(len(cur)) if Ls[i] > j]
        ts = np.array([t[i] for i in act], np.int64)
        dst = np.array([adr[i][j] for i in act], np.int64)
        _, est = ctx.split_each([cur[i] for i in act], ts, dst, typology)
        gaps = np.atleast_1d(ctx.hours(delay_hours, len(act)))
        for q, i in enumerate(act):
            p = cur[i]
            cur[i] = Pos(p.chain, p.asset, int(wal[i][j]), int(adr[i][j]), int(ts[q]),
                         int(est[q]), 1)
            t[i] = int(ts[q]) + int(gaps[q])
    return cur
