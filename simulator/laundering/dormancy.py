"""Dormancy: funds rest in fresh wallets before a second wave (Harmony: about 6.5 months after
the Tornado deposits; ALEX Lab: 7 months; docs/sources.md#timing-and-dormancy).
Delays of a day or more are compressed by the incident's ``day_scale`` (a year of real time
maps onto the scenario span), so a 200-day rest in a 60-day scenario lasts about 33 days.
"""

from __future__ import annotations

import numpy as np

from ..schema import Role, Typology
from .block_api import DAY, Ctx, Pos

PARAMS = {"days": ((0.0, 3650.0), [150.0, 210.0]), "move": "bool"}


def dormancy(ctx: Ctx, positions: list[Pos], days=(150.0, 210.0), move=True) -> list[Pos]:
    if not positions:
        return []
    ts = np.array([ctx.start(p.time) for p in positions], np.int64)
    if move:
        out = []
        for ch in sorted({p.chain for p in positions}):
            sel = [i for i, p in enumerate(positions) if p.chain == ch]
            w, a = ctx.wallets(ch, len(sel), Role.DORMANT)
            _, est = ctx.split_each([positions[i] for i in sel], ts[sel], a, Typology.DORMANCY)
            out += [(i, Pos(ch, positions[i].asset, int(w[q]), int(a[q]), int(ts[i]),
                            int(est[q]), 1)) for q, i in enumerate(sel)]
        positions = [p for _, p in sorted(out, key=lambda x: x[0])]
    rest = [ctx.secs(float(ctx.uniform(days)) * DAY) for _ in positions]
    return [Pos(p.chain, p.asset, p.wallet, p.addr, int(t) + int(r), p.est, p.ncoins)
            for p, t, r in zip(positions, ts, rest)]
