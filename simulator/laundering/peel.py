"""Peel chains: one input, a small *peel* to a destination and the *change* that continues to
the next fresh address, repeated (Tian Yinyin and Li Jiadong, OFAC March 2020: peel chains of
up to 146 transactions ending at OTC desks and exchanges; Meiklejohn et al. 2013 describe the
shape). On UTXO chains each hop is a one-input, two-output transaction whose peel is an
explicit amount (a round one when the round-amount fingerprint is on); on account chains a
two-way split. Peels go to exchange deposit addresses (cash-out, integration stage; on UTXO
chains a few accounts' addresses, each receiving ``per_account`` peels, as the OFAC case's
peels went to a handful of exchange accounts; one fresh address per peel on account chains) or
to fresh attacker wallets (``dest = "wallet"``), which are returned with the final change.
"""

from __future__ import annotations

import numpy as np

from ..schema import Role, Stage, Typology
from .block_api import OP_PAY, OP_SPLIT, Ctx, Pos, fresh_positions, sweep_deposits

PARAMS = {"length": ((1, 400), [20, 146]), "peel": ((0.0001, 0.5), [0.005, 0.03]),
          "delay_hours": ((0.0, 24.0 * 365), [0.2, 8.0]), "dest": ("exchange", "wallet"),
          "exchange": ((-1, 99), -1), "per_account": ((1, 400), [4, 12])}


def _round_amount(x: int, decimals: int) -> int:
    """Round to two significant digits of whole units (or of the largest unit fraction)."""
    mag = 10 ** max(int(np.floor(np.log10(max(x, 1)))) - 1, 0)
    return int(x // mag * mag) if x >= 100 else int(x)


def peel(ctx: Ctx, positions: list[Pos], length=(20, 146), peel=(0.005, 0.03),
         delay_hours=(0.2, 8.0), dest="exchange", exchange=-1, per_account=(4, 12)
         ) -> list[Pos]:
    scale = float(ctx.difficulty.get("hop_scale", 1.0))
    rnd = ctx.fingerprints.get("round_amounts", False)
    out = []
    for p in positions:
        utxo = ctx.utxo(p.chain)
        L = max(1, int(round(ctx.draw(length) * scale)))
        t = ctx.start(p.time)
        if utxo and p.ncoins > 1:  # consolidate so that every hop has exactly one input
            w0, a0 = ctx.wallets(p.chain, 1, Role.PEEL)
            _, est = ctx.split(p, t, a0, [1], Typology.PEEL_CHAIN)
            p = Pos(p.chain, p.asset, int(w0[0]), int(a0[0]), t, est[0], 1)
            t += int(ctx.hours(delay_hours))
        w, a = ctx.wallets(p.chain, L, Role.PEEL)
        if dest == "exchange":
            ex = None if exchange is None or exchange < 0 else [exchange]
            if utxo:  # a few exchange accounts, each receiving several peels at its address
                n_acc = max(1, -(-L // max(ctx.draw(per_account), 1)))
                acc, acc_hot = ctx.deposit_addresses(p.chain, n_acc, ex)
                pick = ctx.rng.permutation(np.arange(L) % n_acc)
                dst, hot = acc[pick], acc_hot[pick]
            else:  # account chains: one sweep per deposit, so one deposit per address
                dst, hot = ctx.deposit_addresses(p.chain, L, ex)
            stage = Stage.INTEGRATION
        else:
            dw, dst = ctx.wallets(p.chain, L, Role.INTERMEDIARY)
            stage = Stage.LAYERING
        gaps = np.atleast_1d(ctx.hours(delay_hours, L))
        fracs = np.atleast_1d(ctx.uniform(peel, L))
        cur = p
        dec = ctx.world.assets[p.asset].decimals
        rows = {"t": [], "src": [], "dst": [], "val": [], "rate": [], "chg": []}
        for j in range(L):
            rate = ctx.fee_rate(p.asset)
            fee = ctx.fee_bound(cur, 2, rate, n_in=1)
            amt = int(cur.est * fracs[j])
            if rnd:
                amt = _round_amount(amt, dec)
            if amt < 2 * ctx.dust(p.asset) or cur.est - amt - fee < 4 * ctx.dust(p.asset):
                break
            rows["t"].append(t)
            rows["src"].append(cur.src(utxo))
            rows["rate"].append(rate)
            if utxo:
                rows["dst"].append(dst[j])
                rows["val"].append(amt)
                rows["chg"].append(int(a[j]))
                nxt = cur.est - amt - fee
            else:  # a two-way split, the peel and the change in random order
                rest = max(cur.est - amt - fee, 1)
                first = ctx.rng.random() < 0.5
                rows["dst"] += [dst[j], a[j]] if first else [a[j], dst[j]]
                rows["val"] += [amt, rest] if first else [rest, amt]
                nxt = int((cur.est - fee) * rest / (amt + rest)) - 1
            if dest != "exchange":
                out += fresh_positions(ctx, p.chain, p.asset, [dw[j]], [dst[j]], t, [amt - 1])
            cur = Pos(p.chain, p.asset, int(w[j]), int(a[j]), t, int(nxt), 1)
            t += int(gaps[j])
        k = len(rows["t"])
        if k and dest == "exchange":
            sweep_deposits(ctx, p.chain, p.asset, dst[:k], hot[:k], rows["t"])
        if k:
            ctx.add(Typology.PEEL_CHAIN, stage=stage, t=np.array(rows["t"], np.int64),
                    chain=p.chain, asset=p.asset, code=OP_PAY if utxo else OP_SPLIT,
                    src=np.array(rows["src"], np.int64),
                    out_count=np.full(k, 1 if utxo else 2, np.int64),
                    out_addr=np.array(rows["dst"], np.int64),
                    out_value=np.array(rows["val"], np.int64),
                    fee_rate=np.array(rows["rate"], np.int64),
                    change=np.array(rows["chg"], np.int64) if utxo else -1)
        out.append(cur)
    ctx.stage = int(Stage.LAYERING)
    return out
