"""Dormancy: funds rest in fresh wallets before a second wave (Harmony: about 6.5 months after
the Tornado deposits; ALEX Lab: 7 months; incidents.md section 4 "dormancy of 6.5-7 months").
Delays of a day or more are compressed by the incident's ``day_scale`` (a year of real time
maps onto the scenario span), so a 200-day rest in a 60-day scenario lasts about 33 days.
"""

from __future__ import annotations

from ..schema import Role, Typology
from ._core import DAY, Ctx, Pos

PARAMS = {"days": ((0.0, 3650.0), [150.0, 210.0]), "move": "bool"}


def dormancy(ctx: Ctx, positions: list[Pos], days=(150.0, 210.0), move=True) -> list[Pos]:
    out = []
    for p in positions:
        t = ctx.start(p.t)
        if move:
            w, a = ctx.wallets(p.chain, 1, Role.DORMANT)
            _, est = ctx.split(p, t, a, [1], Typology.DORMANCY)
            p = Pos(p.chain, p.asset, int(w[0]), int(a[0]), t, est[0], 1)
        rest = ctx.secs(float(ctx.uniform(days)) * DAY)
        out.append(Pos(p.chain, p.asset, p.wallet, p.addr, t + int(rest), p.est, p.ncoins))
    return out
