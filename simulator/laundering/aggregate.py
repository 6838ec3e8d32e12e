"""Fan-in (aggregation) and the Chainalysis Japan cascade.

``aggregate``: positions of the same asset are swept into ``n`` collection wallets (ALEX Lab,
June 2024: ETH withdrawn to 22 addresses, then 2 consolidators). On UTXO chains the
collector then holds many coins, and its next spend is a multi-input transaction.

``cascade``: the topology of Chainalysis, "Crypto Money Laundering in Japan" (Dec 2024):
fan-out to intermediary wallets -> aggregation in one private wallet -> second fan-out ->
convergence on *one* exchange deposit address. Fan-out sizes 3-10 and 1-3 hops per leg are
our parameters (the report publishes the shape, not the numbers).
"""

from __future__ import annotations

import numpy as np

from ..schema import Role, Stage, Typology
from .block_api import Ctx, Pos

PARAMS = {"n": ((1, 1000), 1)}
CASCADE_PARAMS = {"fan1": ((2, 1000), [3, 10]), "fan2": ((2, 1000), [3, 10]),
                  "hops": ((1, 50), [1, 3]), "exchange": ((-1, 99), -1)}


def aggregate(ctx: Ctx, positions: list[Pos], n=1, typology=Typology.FAN_IN,
              role=Role.AGGREGATOR) -> list[Pos]:
    """Sweep each (chain, asset) group into ``n`` collectors (round-robin)."""
    groups: dict[tuple, list[Pos]] = {}
    for p in positions:
        groups.setdefault((p.chain, p.asset), []).append(p)
    out = []
    for (chain, asset), ps in groups.items():
        k = max(1, min(ctx.draw(n), len(ps)))
        w, a = ctx.wallets(chain, k, role)
        ps = sorted(ps, key=lambda q: q.time)
        j = np.arange(len(ps)) % k
        ts = np.array([ctx.start(p.time) for p in ps], np.int64)
        _, est = ctx.split_each(ps, ts, a[j], typology)
        tot = np.bincount(j, weights=est, minlength=k)
        cnt = np.bincount(j, minlength=k)
        tmax = np.zeros(k, np.int64)
        np.maximum.at(tmax, j, ts)
        out += [Pos(chain, asset, int(w[i]), int(a[i]), int(tmax[i]), int(tot[i]), int(cnt[i]))
                for i in range(k)]
    return out


def cascade(ctx: Ctx, positions: list[Pos], fan1=(3, 10), fan2=(3, 10), hops=(1, 3),
            exchange=-1) -> list[Pos]:
    """fan-out -> hops -> one private aggregator -> fan-out -> hops -> one deposit address."""
    from .hops import hops as hop_chain
    from .integration import exchange_deposit
    from .split import split

    prev = ctx.typology
    ctx.typology = int(Typology.CASCADE)
    try:
        ps = split(ctx, positions, fan1)
        ps = hop_chain(ctx, ps, hops)
        ps = aggregate(ctx, ps, 1)
        ps = split(ctx, ps, fan2)
        ps = hop_chain(ctx, ps, hops)
        ex = None if exchange is None or exchange < 0 else [exchange]
        return exchange_deposit(ctx, ps, converge=True, exchanges=ex)
    finally:
        ctx.typology = prev
        ctx.stage = int(Stage.LAYERING)
