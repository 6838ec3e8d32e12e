"""The eight AMLSim / AMLworld laundering typologies among attacker-controlled accounts.

IBM AMLSim (Suzumura and Kanezashi 2021) and AMLworld (Altman et al. 2023, "Realistic
Synthetic Financial Transactions for Anti-Money Laundering Models", NeurIPS Datasets and
Benchmarks) inject these shapes into bank-transfer graphs: fan-out, fan-in, cycle,
bipartite, stack, scatter-gather, gather-scatter and random. Here they run on a blockchain:
every arrow is a whole-balance ``SPLIT`` (one transaction per sending account), so the
shapes carry real value and conserve it minus fees. Where a shape needs several source
accounts and the incoming value sits in fewer, it is first split into them (``SPLIT``
typology, so the shape itself keeps its own label).
"""

from __future__ import annotations

import numpy as np

from ..schema import Role, Typology
from .block_api import Ctx, Pos, fresh_positions

N = ((2, 1000), [3, 8])
PARAMS = {
    "fan_out": {"n": N},
    "fan_in": {"n": N},
    "cycle": {"n": N},
    "bipartite": {"m": N, "n": N},
    "stack": {"m": N, "n": N, "k": N},
    "scatter_gather": {"n": N},
    "gather_scatter": {"m": N, "n": N},
    "random": {"n": N, "steps": ((1, 1000), [5, 15])},
}


def _gap(ctx: Ctx) -> int:
    return int(ctx.hours([0.2, 6.0]))


def _layer(ctx: Ctx, src: list[Pos], n: int, typ: Typology, role=Role.INTERMEDIARY,
           wallets=None) -> list[Pos]:
    """Every source pays every one of ``n`` accounts (complete bipartite layer)."""
    chain, asset = src[0].chain, src[0].asset
    w, a = wallets if wallets is not None else ctx.wallets(chain, n, role)
    tot = np.zeros(len(a), np.int64)
    t_max = 0
    for p in src:
        t = ctx.start(p.time) + _gap(ctx)
        # no part below what a later layer still moves (``split_sigma`` spreads the parts)
        _, est = ctx.split(p, t, a, ctx.weights(len(a), p.est, 2 * ctx.min_amount(p)), typ)
        tot += np.array(est)
        t_max = max(t_max, t)
    out = fresh_positions(ctx, chain, asset, w, a, t_max, tot)
    for q in out:
        q.ncoins = len(src)
    return out


def _sources(ctx: Ctx, positions: list[Pos], m: int) -> list[list[Pos]]:
    """Group positions by (chain, asset) and make sure each group has ``m`` accounts."""
    groups: dict[tuple, list[Pos]] = {}
    for p in positions:
        groups.setdefault((p.chain, p.asset), []).append(p)
    out = []
    for ps in groups.values():
        if len(ps) < m:
            from .split import split
            ps = split(ctx, ps, max(2, -(-m // len(ps))), role=Role.SPLITTER)
        out.append(ps)
    return out


def fan_out(ctx, positions, n=(3, 8)):
    return [q for p in positions for q in _layer(ctx, [p], ctx.draw(n), Typology.FAN_OUT)]


def fan_in(ctx, positions, n=(3, 8)):
    out = []
    for ps in _sources(ctx, positions, ctx.draw(n)):
        out += _layer(ctx, ps, 1, Typology.FAN_IN, Role.AGGREGATOR)
    return out


def scatter_gather(ctx, positions, n=(3, 8)):
    out = []
    for p in positions:
        mid = _layer(ctx, [p], ctx.draw(n), Typology.SCATTER_GATHER)
        out += _layer(ctx, mid, 1, Typology.SCATTER_GATHER, Role.AGGREGATOR)
    return out


def gather_scatter(ctx, positions, m=(3, 8), n=(3, 8)):
    out = []
    for ps in _sources(ctx, positions, ctx.draw(m)):
        hub = _layer(ctx, ps, 1, Typology.GATHER_SCATTER, Role.AGGREGATOR)
        out += _layer(ctx, hub, ctx.draw(n), Typology.GATHER_SCATTER)
    return out


def bipartite(ctx, positions, m=(3, 8), n=(3, 8)):
    out = []
    for ps in _sources(ctx, positions, ctx.draw(m)):
        out += _layer(ctx, ps, ctx.draw(n), Typology.BIPARTITE)
    return out


def stack(ctx, positions, m=(3, 8), n=(3, 8), k=(3, 8)):
    out = []
    for ps in _sources(ctx, positions, ctx.draw(m)):
        mid = _layer(ctx, ps, ctx.draw(n), Typology.STACK)
        out += _layer(ctx, mid, ctx.draw(k), Typology.STACK)
    return out


def cycle(ctx, positions, n=(3, 8)):
    """origin -> A1 -> ... -> A(n-1) -> origin: the value comes back where it started."""
    out = []
    for p in positions:
        L = max(2, ctx.draw(n))
        w, a = ctx.wallets(p.chain, L - 1, Role.INTERMEDIARY)
        cur = p
        t = ctx.start(p.time)
        for j in range(L):
            last = j == L - 1
            dst_w, dst_a = (p.wallet, p.addr) if last else (int(w[j]), int(a[j]))
            _, est = ctx.split(cur, t, [dst_a], [1], Typology.CYCLE)
            cur = Pos(p.chain, p.asset, dst_w, dst_a, t, est[0], 1)
            t += _gap(ctx)
        out.append(cur)
    return out


def random(ctx, positions, n=(3, 8), steps=(5, 15)):
    """A random walk of the whole value among ``n`` accounts (revisits allowed)."""
    out = []
    for p in positions:
        k = max(2, ctx.draw(n))
        w, a = ctx.wallets(p.chain, k, Role.INTERMEDIARY)
        cur, at = p, -1
        t = ctx.start(p.time)
        for _ in range(ctx.draw(steps)):
            nxt = int(ctx.rng.integers(0, k - (1 if at >= 0 else 0)))
            if at >= 0 and nxt >= at:
                nxt += 1
            _, est = ctx.split(cur, t, [a[nxt]], [1], Typology.RANDOM)
            cur, at = Pos(p.chain, p.asset, int(w[nxt]), int(a[nxt]), t, est[0], 1), nxt
            t += _gap(ctx)
        out.append(cur)
    return out


BLOCKS = {"fan_out": fan_out, "fan_in": fan_in, "cycle": cycle, "bipartite": bipartite,
          "stack": stack, "scatter_gather": scatter_gather, "gather_scatter": gather_scatter,
          "random": random}
