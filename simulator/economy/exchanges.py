"""Exchange flows: customer deposits swept into the hot wallet (fan-in), batched withdrawals
from it (fan-out) and weekly moves between the hot and cold wallets.

Each user has one deposit address at a home exchange. On account chains every deposit
address is swept on its own within hours; on UTXO chains most deposits go to a fresh
per-deposit address (``fresh_deposit_rate``) and each exchange consolidates them all in one
many-input transaction on its own schedule (``sweep_hours`` times ``SWEEP_MULT``).
"""

from __future__ import annotations

import numpy as np

from ..ops import CHANGE_MAIN, FRESH, OP_PAY, OP_SPLIT
from ..schema import DAY, HOUR
from .config import SWEEP_MULT
from .context import EconomyContext


def _per_exchange(exchanges, ch):
    """Lookup arrays indexed by exchange number: hot address, hot wallet, deposit wallet."""
    return (np.array([ex.hot[ch].address for ex in exchanges]),
            np.array([ex.hot[ch].wallet for ex in exchanges]),
            np.array([ex.deposit_wallet[ch] for ex in exchanges]))


def exchange_deposits(ctx: EconomyContext, n: int) -> None:
    """About ``n`` customer deposits, and the sweeps that follow them."""
    world, rng = ctx.world, ctx.rng
    exchanges = ctx.services.exchanges
    for ch, k in ctx.split(ctx.chain_share, n).items():
        if k == 0:
            continue
        hot_addr, hot_wallet, dep_wallet = _per_exchange(exchanges, ch)
        ws = ctx.users[ch]
        # each user has one deposit address at its home exchange (created on first use)
        ex_of = rng.integers(0, len(exchanges), len(ws))
        dep_addr = np.empty(len(ws), np.int64)
        for i, ex in enumerate(exchanges):
            sel = np.flatnonzero(ex_of == i)
            dep_addr[sel] = ex.new_deposit_addresses(world, ch, len(sel))
        who = ctx.pick(np.arange(len(ws)), k)
        t = ctx.times(k)
        assets = ctx.assets_on(ch)
        a_pick = rng.choice(np.array(assets), k, p=ctx.asset_weights(assets))
        usd = ctx.usd(k, 400.0, 1.3) * ctx.wealth(ws[who])
        for a in assets:
            m = a_pick == a
            if not m.any():
                continue
            dst = dep_addr[who[m]]
            dwal = np.full(len(dst), -1, np.int64)
            if world.is_utxo(ch):
                # many UTXO exchanges hand out a fresh deposit address per deposit
                fr = rng.random(len(dst)) < ctx.config.fresh_deposit_rate
                dst = np.where(fr, FRESH, dst)
                dwal = dep_wallet[ex_of[who[m]]]
            ctx.pay_one(ch, a, t[m], ws[who[m]], dst, dwal, ctx.units(a, usd[m]))
            if not world.is_utxo(ch):
                # account chains: each deposit address is swept on its own (fan-in over time)
                d = dep_addr[who[m]]
                ex_i = ex_of[who[m]]
                hot = hot_addr[ex_i]
                ts = t[m] + rng.integers(10 * 60, 12 * HOUR, m.sum())
                ctx.stream.add(t=ts, chain=ch, asset=a, code=OP_SPLIT, src=d, out_count=1,
                               out_addr=hot, out_value=1, fee_rate=ctx.fee_base[a],
                               aux=ctx.aux(len(d)))
        if world.is_utxo(ch):
            # UTXO chains: one consolidation per exchange every few hours (many inputs); each
            # exchange has its own schedule, from every ``sweep_hours`` to 12 times slower
            a = world.native_asset(ch)
            for i, ex in enumerate(exchanges):
                step = ctx.config.sweep_hours * SWEEP_MULT[i % len(SWEEP_MULT)] * HOUR
                ts = np.arange(ctx.t_start + step, ctx.t_end, step)
                ctx.stream.add(t=ts + rng.integers(0, min(1800, step // 2), len(ts)), chain=ch,
                               asset=a, code=OP_SPLIT, src=ex.deposit_wallet[ch], out_count=1,
                               out_addr=ex.hot[ch].address, out_value=1,
                               fee_rate=ctx.fee_base[a] // 2 + 1, aux=ctx.aux(len(ts)))


def exchange_withdrawals(ctx: EconomyContext, n: int) -> None:
    """About ``n`` withdrawals (batched on UTXO chains), and the hot/cold wallet moves."""
    world, rng = ctx.world, ctx.rng
    exchanges = ctx.services.exchanges
    for ch, k in ctx.split(ctx.chain_share, n).items():
        if k == 0:
            continue
        hot_addr, hot_wallet, dep_wallet = _per_exchange(exchanges, ch)
        ws = ctx.users[ch]
        assets = ctx.assets_on(ch)
        if world.is_utxo(ch):
            a = world.native_asset(ch)
            # batched withdrawals: about 5 recipients per transaction
            n_batches = max(1, k // 5)
            cnt = 1 + rng.poisson(4.0, n_batches)
            cnt = np.minimum(cnt, 60)
            rec = ctx.pick(ws, int(cnt.sum()))
            fresh = rng.random(len(rec)) < ctx.config.fresh_address_rate
            dst = np.where(fresh, FRESH, world.main_address(rec))
            amt = ctx.units(a, ctx.usd(len(rec), 500.0, 1.3) * ctx.wealth(rec))
            ex_i = rng.integers(0, len(exchanges), n_batches)
            src = hot_wallet[ex_i]
            ctx.stream.add(t=ctx.times(n_batches), chain=ch, asset=a, code=OP_PAY, src=src,
                           out_count=cnt, out_addr=dst, out_wallet=rec, out_value=amt,
                           change=CHANGE_MAIN, fee_rate=ctx.fee_rate(a, src),
                           aux=ctx.aux(n_batches))
        else:
            rec = ctx.pick(ws, k)
            a_pick = rng.choice(np.array(assets), k, p=ctx.asset_weights(assets))
            ex_i = rng.integers(0, len(exchanges), k)
            src = hot_addr[ex_i]
            usd = ctx.usd(k, 500.0, 1.3) * ctx.wealth(rec)
            t = ctx.times(k)
            for a in assets:
                m = a_pick == a
                if m.any():
                    ctx.stream.add(t=t[m], chain=ch, asset=a, code=OP_PAY, src=src[m],
                                   out_count=1, out_addr=world.main_address(rec[m]),
                                   out_value=ctx.units(a, usd[m]), fee_rate=ctx.fee_base[a],
                                   aux=ctx.aux(int(m.sum())))
        # cold-wallet moves: a few large transfers each week, both ways
        a = world.native_asset(ch)
        for ex in exchanges:
            ts = np.arange(ctx.t_start + DAY, ctx.t_end, 7 * DAY)
            for j, t in enumerate(ts):
                frm, to = (ex.hot[ch], ex.cold[ch]) if j % 2 == 0 else (ex.cold[ch], ex.hot[ch])
                ctx.stream.add(t=[t], chain=ch, asset=a, code=OP_PAY, src=frm.src(world),
                               out_count=1, out_addr=[to.address],
                               out_value=ctx.units(a, np.array([2e6])), change=CHANGE_MAIN,
                               fee_rate=ctx.fee_base[a], aux=ctx.aux(1))
