"""Bridges: lock on one chain, release on the other after the bridge's delay minus its fee
(hidden ``BRIDGE`` link). Bridges with a public deposit id carry the same ``memo`` on the lock
and the release (renBridge / wrapped-BTC style); the others do not (THORChain-like), so the
hop can only be matched by amount and time. A list in ``to`` hops across several bridges
(chain hopping: Harmony BTC -> Avalanche -> USDT -> TRON; DMM BTC -> ETH/AVAX -> USDT on
TRON; illicit bridge inflows $312M (2022) -> $744M (2023), Chainalysis).
"""

from __future__ import annotations

import numpy as np

from ..schema import LinkKind, Role, Typology
from .block_api import Ctx, Pos, need

PARAMS = {"to": "assets", "via": "str"}


def find_bridge(ctx: Ctx, a: int, b: int, via: str | None = None):
    for br in ctx.services.bridges:
        if via and br.name != via:
            continue
        if (br.asset_a, br.asset_b) == (a, b):
            return br, True
        if (br.asset_b, br.asset_a) == (a, b):
            return br, False
    return None, True


def bridge_once(ctx: Ctx, positions: list[Pos], to: str, via: str | None = None) -> list[Pos]:
    W = ctx.world
    target = W.asset_id(to)
    out = [p for p in positions if p.asset == target]
    todo = [p for p in positions if p.asset != target]
    for a_in in sorted({p.asset for p in todo}):
        ps = [p for p in todo if p.asset == a_in]
        br, fwd = find_bridge(ctx, a_in, target, via)
        need(br is not None, f"incident {ctx.incident}: no bridge from {ctx.sym(a_in)} to {to}"
                             + (f" via '{via}'" if via else ""))
        v_in, v_out = (br.vault_a, br.vault_b) if fwd else (br.vault_b, br.vault_a)
        n = len(ps)
        memo = np.array([ctx.new_memo() for _ in ps], np.int64) if br.has_id else None
        ts = np.array([ctx.start(p.time) for p in ps], np.int64)
        ref, est = ctx.split_each(ps, ts, np.full(n, v_in.address), Typology.BRIDGE,
                                  memo=memo)
        ch_out = W.asset_chain(target)
        w, a = ctx.wallets(ch_out, n, Role.BRIDGE_USER)
        t2 = ts + ctx.rng.integers(br.delay[0], br.delay[1], n)
        rate = br.rate(W, fwd)
        ctx.linked_each(t2, ch_out, target, v_out.src(W), ref, rate, LinkKind.BRIDGE, a,
                        Typology.BRIDGE, change=v_out.address, memo=memo)
        fee = ctx.services.fee_base[target] * 90_000
        out += [Pos(ch_out, target, int(w[i]), int(a[i]), int(t2[i]),
                    int(est[i] * rate) - fee - 1, 1) for i in range(n)]
    return out


def bridge(ctx: Ctx, positions: list[Pos], to="BTC", via=None) -> list[Pos]:
    route = [to] if isinstance(to, str) else list(to)
    for i, hop in enumerate(route):
        if i:  # a position too small to cross again stays on the chain it reached
            positions = [p for p in positions if p.est >= ctx.min_amount(p)]
        positions = bridge_once(ctx, positions, hop, via if len(route) == 1 else None)
    return positions
