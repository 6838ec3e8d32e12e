"""Drain: the announced hack. A benign service (exchange hot wallet, bridge vault, DEX pool)
pays the thief; these transactions are the public *seeds* tracing starts from.

Every preset incident starts with a drain (Chainalysis 2022; docs/sources.md#incidents): a single
transaction for DMM Bitcoin (4,502.9 BTC), two for Ronin (ETH and USDC), eleven for Harmony.
The victim gets a dedicated wallet of the service's entity, funded at t0 with the stolen amount
(plus 1%), so thefts of any size fit without touching the service's other reserves; its
address is marked ``Role.VICTIM`` in the truth tables.
"""

from __future__ import annotations

import numpy as np

from ..ops import OP_ISSUE, OP_PAY
from ..schema import EntityKind, Role, Stage, Typology
from .block_api import Ctx, Pos, need

VICTIMS = ("exchange", "bridge", "dex")


def victim_entity(ctx: Ctx, victim: str, chain: int, index: int = 0) -> tuple[int, str, float]:
    """(entity id, name, attribution) of the service that is robbed on ``chain``."""
    sv, W = ctx.services, ctx.world
    if victim == "exchange":
        ex = sv.exchanges[index % len(sv.exchanges)]
        att = float(W.wallets.column("attribution")[ex.hot[chain].wallet])
        return ex.entity, ex.name, att
    if victim == "bridge":
        for b in sv.bridges:
            if chain in (b.vault_a.chain, b.vault_b.chain):
                return b.entity, b.name, 1.0
    if victim == "dex" and chain in sv.dex:
        ent = int(W.wallets.column("entity")[sv.dex[chain].wallet])
        return ent, "dex", 1.0
    need(False, f"incident victim '{victim}' has no service on chain "
                f"'{W.chains[chain].name}'")
    raise AssertionError


def _fee_margin(ctx: Ctx, chain: int, asset: int) -> int:
    """Generous fee of one drain transaction (the victim pays fees in the stolen asset)."""
    size = 1_000 if ctx.utxo(chain) else 200_000  # vbytes / gas
    return int(ctx.services.fee_base[asset]) * size * 3


def drain(ctx: Ctx, t: int, victim: str, amounts: dict[int, int], n_tx: int = 1,
          index: int = 0) -> tuple[list[Pos], np.ndarray, dict]:
    """The victim pays the thief ``amounts`` ({asset: base units}) in ``n_tx`` transactions
    per asset (a few minutes apart). Returns (positions, insertion indices of the drain ops,
    victim metadata)."""
    W = ctx.world
    positions, seeds, vic = [], [], {}
    thieves: dict[int, tuple[int, int]] = {}
    for asset, amount in amounts.items():
        chain = W.asset_chain(asset)
        ent, name, att = victim_entity(ctx, victim, chain, index)
        vw, va = ctx.alloc.wallets(ent, chain, 1, attribution=att)
        va = int(va[0])
        if not ctx.twin:  # a twin's source is a benign service payout, not a victim
            W.role_overrides[va] = (int(Role.VICTIM), ctx.incident)
        ctx.stream.add(t=W.t0, chain=chain, asset=asset, code=OP_ISSUE, src=-1, out_count=1,
                       out_addr=[va], out_value=[int(amount * 1.01) + 10 * W.assets[asset].dust
                                                 + n_tx * _fee_margin(ctx, chain, asset)])
        if chain not in thieves:
            tw, ta = ctx.wallets(chain, 1, Role.THIEF)
            thieves[chain] = (int(tw[0]), int(ta[0]))
        tw, ta = thieves[chain]
        parts = np.full(n_tx, amount // n_tx, np.int64)
        parts[0] += amount - parts.sum()
        ts = t + np.arange(n_tx) * int(ctx.rng.integers(60, 600))
        src = int(vw[0]) if W.is_utxo(chain) else va
        idx = ctx.add(Typology.DRAIN, stage=Stage.PLACEMENT, t=ts, chain=chain, asset=asset,
                      code=OP_PAY, src=src, out_count=1, out_addr=np.full(n_tx, ta),
                      out_value=parts, out_incident=np.full(n_tx, ctx.incident, np.int32),
                      fee_rate=ctx.services.fee_base[asset], change=va)
        seeds.append(idx)
        positions.append(Pos(chain, asset, tw, ta, int(ts[-1]), int(amount), n_tx))
        vic[ctx.sym(asset)] = {"entity_id": int(ent), "service": name,
                               "kind": EntityKind(int(W.entities.column("kind")[ent])).name.lower()}
    return positions, np.concatenate(seeds), vic
