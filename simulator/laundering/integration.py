"""Integration: where laundered value leaves the attacker for a cash-out service.

``exchange_deposit``
    Deposits to customer deposit addresses at exchanges (Ronin: Huobi, FTX, Crypto.com;
    Harmony: Binance, Huobi, OKX; ALEX Lab: 5 Coinbase deposit addresses). ``converge = true``
    sends every position to *one* deposit address (the Chainalysis Japan cascade);
    ``per_account`` > 1 makes deposits of different positions share the deposit addresses of
    a few exchange accounts on UTXO chains (each address then receives about that many
    deposits, at the positions' different times). On account
    chains the exchange later sweeps the deposit address into its hot wallet (a benign op);
    on Bitcoin the economy's 6-hourly consolidation sweeps it.
``structuring``
    Zaif 2018 (Fisco lawsuit, BlockTrace): 1,451.7 BTC deposited to Binance as about 7,000
    deposits under the 2-BTC no-KYC withdrawal limit, a new deposit address per deposit. The
    limit is scaled by the scenario's value scale (``limit_usd`` overrides it); mule wallets
    make the deposits one after another with explicit amounts just under the limit.
``otc``
    OTC brokers (OFAC/DOJ April 2023: Wu Huihui, Cheng Hung Man; TRM: DPRK sells USDT on TRON
    to OTC brokers). The desk receives BTC/ETH/USDT and may pay USDT on TRON back (hidden
    ``OTC`` link; ``payout = true``); without payout the value is settled off-chain.
``marketplace``
    A guarantee marketplace escrow taking USDT on TRON (Huione Guarantee: more than $35M of
    DMM Bitcoin funds in July 2024, ZachXBT/Elliptic; FinCEN section 311, May 2025).
"""

from __future__ import annotations

import numpy as np

from ..ops import OP_ISSUE
from ..schema import LinkKind, Role, Stage, Typology
from .block_api import HOUR, Ctx, Pos, fresh_positions, need, sweep_deposits

DEPOSIT_PARAMS = {"converge": "bool", "exchanges": ((-1, 99), -1), "per_position": ((1, 100), 1),
                  "per_account": ((1, 100), 1)}
STRUCT_PARAMS = {"limit_btc": ((0.0001, 1000.0), 2.0), "limit_usd": ((0.0, 1e9), 0.0),
                 "exchange": ((0, 99), 0), "per_mule": ((1, 4000), [30, 80]),
                 "gap_minutes": ((0.0, 10_000.0), [5.0, 60.0])}
OTC_PARAMS = {"desk": ((0, 9), 0), "payout": "bool"}
EXSWAP_PARAMS = {"to": "asset", "exchanges": ((-1, 99), -1),
                 "delay_hours": ((0.0, 24.0 * 365), [1.0, 24.0])}
MARKET_PARAMS = {}


def exchange_deposit(ctx: Ctx, positions: list[Pos], converge=False, exchanges=-1,
                     per_position=1, per_account=1) -> list[Pos]:
    ex = None if exchanges is None or (isinstance(exchanges, int) and exchanges < 0) else \
        ([exchanges] if isinstance(exchanges, int) else list(exchanges))
    one: dict[int, tuple] = {}  # chain -> (deposit address, hot wallet) when converging
    singles, sweeps = [], []
    counts = [ctx.draw(per_position) for _ in positions]
    pools: dict[int, list] = {}  # UTXO chain -> [addresses, hot wallets, next index]
    acc = ctx.draw(per_account)
    if acc > 1 and not converge:  # deposits from several positions share account addresses
        for ch in {p.chain for p in positions if ctx.utxo(p.chain)}:
            n = sum(k for p, k in zip(positions, counts) if p.chain == ch)
            n_acc = max(max(k for p, k in zip(positions, counts) if p.chain == ch),
                        -(-n // acc))
            a, h = ctx.deposit_addresses(ch, n_acc, ex)
            perm = ctx.rng.permutation(n_acc)
            pools[ch] = [a[perm], h[perm], 0]
    for p, k in zip(positions, counts):
        if converge:
            if p.chain not in one:
                one[p.chain] = ctx.deposit_addresses(p.chain, 1, ex)
            singles.append((p, one[p.chain][0][0], one[p.chain][1][0]))
            continue
        if p.chain in pools:  # k distinct account addresses, cycling through the pool
            a, h, i = pools[p.chain]
            idx = (i + np.arange(k)) % len(a)
            pools[p.chain][2] = i + k
            dst, hot = a[idx], h[idx]
        else:
            dst, hot = ctx.deposit_addresses(p.chain, k, ex)
        if len(dst) == 1:
            singles.append((p, dst[0], hot[0]))
            continue
        t = ctx.start(p.time)
        ctx.split(p, t, dst, ctx.weights(len(dst)), Typology.EXCHANGE_DEPOSIT,
                  stage=Stage.INTEGRATION)
        sweeps += [(p.chain, p.asset, d, h, t) for d, h in zip(dst, hot)]
    if singles:
        ps = [x[0] for x in singles]
        ts = np.array([ctx.start(p.time) for p in ps], np.int64)
        ctx.split_each(ps, ts, [x[1] for x in singles], Typology.EXCHANGE_DEPOSIT,
                       stage=Stage.INTEGRATION)
        if converge:  # one sweep per deposit address and asset, after the last deposit
            last: dict[tuple, tuple] = {}
            for (p, d, h), t in zip(singles, ts):
                key = (p.chain, p.asset, d, h)
                last[key] = max(last.get(key, 0), int(t))
            sweeps += [(c, a, d, h, t) for (c, a, d, h), t in last.items()]
        else:
            sweeps += [(p.chain, p.asset, d, h, t) for (p, d, h), t in zip(singles, ts)]
    groups: dict[tuple, list] = {}
    for c, a, d, h, t in sweeps:
        groups.setdefault((c, a), []).append((d, h, t))
    for (c, a), rows in groups.items():
        sweep_deposits(ctx, c, a, [r[0] for r in rows], [r[1] for r in rows],
                       [r[2] for r in rows])
    return []


def structuring(ctx: Ctx, positions: list[Pos], limit_btc=2.0, limit_usd=0.0, exchange=0,
                per_mule=(30, 80), gap_minutes=(5.0, 60.0)) -> list[Pos]:
    W = ctx.world
    out = []
    rnd = ctx.fingerprints.get("round_amounts", False)
    for p in positions:
        usd_lim = limit_usd or limit_btc * W.assets[W.asset_id("BTC")].usd_price * ctx.scale
        lim = int(W.usd_to_units(p.asset, usd_lim))
        need(lim > 10 * ctx.dust(p.asset),
             f"incident {ctx.incident}: structuring limit is below the dust limit")
        rate_max = ctx.services.fee_base[p.asset] * 3
        n_dep = int(p.est * 0.97 // lim)
        if n_dep < 1:
            out.append(p)
            continue
        sizes = ctx.partition(n_dep, per_mule)
        t = ctx.start(p.time)
        mw, ma = ctx.wallets(p.chain, len(sizes), Role.MULE)
        _, est = ctx.split(p, t, ma, np.array(sizes) * 1000, Typology.STRUCTURING)
        for i, s in enumerate(sizes):
            fee = ctx.fee_bound(Pos(p.chain, p.asset, 0, 0, 0, 0, 1), 1, rate_max, n_in=1)
            budget = est[i] - s * fee
            if budget < s * ctx.dust(p.asset) * 4:
                continue
            amt = np.minimum(lim * ctx.rng.uniform(0.85, 0.995, s), budget / s).astype(np.int64)
            if rnd:  # "1.99 BTC" style: just under the limit, two significant digits
                mag = 10 ** max(int(np.log10(max(lim, 1))) - 2, 0)
                amt = np.maximum(amt // mag * mag, ctx.dust(p.asset) * 2)
            dst, hot = ctx.deposit_addresses(p.chain, s, [exchange])
            gaps = ctx.rng.uniform(*(gap_minutes if isinstance(gap_minutes, (list, tuple))
                                     else (gap_minutes, gap_minutes)), s) * 60
            ts = t + int(ctx.hours([0.1, 2.0])) + np.cumsum(np.maximum(gaps, 1)).astype(np.int64)
            mule = Pos(p.chain, p.asset, int(mw[i]), int(ma[i]), t, est[i], 1)
            ctx.pay(mule, ts, dst, amt, Typology.STRUCTURING, stage=Stage.INTEGRATION,
                    change=-2)
            sweep_deposits(ctx, p.chain, p.asset, dst, hot, ts)
    return out


def otc(ctx: Ctx, positions: list[Pos], desk=0, payout=False) -> list[Pos]:
    W, sv = ctx.world, ctx.services
    need(0 <= desk < len(sv.otc), f"incident {ctx.incident}: otc desk {desk} out of range")
    d = sv.otc[desk]
    usdt_t = W.asset_id("USDT-TRON")
    trx = W.asset_chain(usdt_t)
    out = []
    for p in positions:
        need(p.asset in d.endpoints, f"incident {ctx.incident}: the OTC desk does not take "
                                     f"{ctx.sym(p.asset)}")
    for a_in in sorted({p.asset for p in positions}):
        ps = [p for p in positions if p.asset == a_in]
        n = len(ps)
        ts = np.array([ctx.start(p.time) for p in ps], np.int64)
        ref, est = ctx.split_each(ps, ts, np.full(n, d.endpoints[a_in].address), Typology.OTC,
                                  stage=Stage.INTEGRATION)
        if not payout:
            continue
        w, a = ctx.wallets(trx, n, Role.SWAPPER)
        rate = (W.assets[a_in].usd_price / W.assets[usdt_t].usd_price
                * 10.0 ** (W.assets[usdt_t].decimals - W.assets[a_in].decimals)
                * (1 - d.spread))
        t2 = ts + ctx.rng.integers(10 * 60, 6 * HOUR, n)
        # the desk's float: topped up at t0 so that large payouts fit its reserve
        ctx.stream.add(t=W.t0, chain=trx, asset=usdt_t, code=OP_ISSUE, src=-1, out_count=1,
                       out_addr=[d.endpoints[usdt_t].address],
                       out_value=[int(est.sum() * rate * 1.05) + 1])
        ctx.linked_each(t2, trx, usdt_t, d.endpoints[usdt_t].address, ref, rate, LinkKind.OTC,
                        a, Typology.OTC, stage=Stage.INTEGRATION)
        out += fresh_positions(ctx, trx, usdt_t, w, a, 0,
                               (est * rate).astype(np.int64) - sv.fee_base[usdt_t] * 90_000)
        for q, t in zip(out[-n:], t2):
            q.time = int(t)
    return out


def exchange_swap(ctx: Ctx, positions: list[Pos], to="BTC", exchanges=-1,
                  delay_hours=(1.0, 24.0)) -> list[Pos]:
    """Deposit at an exchange, trade there, withdraw another asset to a fresh wallet (hidden
    ``SWAP`` link from the deposit to the withdrawal). Ronin's CEX test: ETH deposited at
    Huobi became BTC, and 439 BTC went on to Blender (Chainalysis 2022); Harmony's 2023 waves
    were sold for BTC at Binance, Huobi and OKX (Elliptic)."""
    W, sv = ctx.world, ctx.services
    target = W.asset_id(to)
    ch_out = W.asset_chain(target)
    ex = None if exchanges is None or exchanges < 0 else [exchanges]
    out = [p for p in positions if p.asset == target]
    todo = [p for p in positions if p.asset != target]
    for p in todo:
        need(p.chain in sv.exchanges[0].deposit_wallet and ch_out in sv.exchanges[0].hot,
             f"incident {ctx.incident}: exchange_swap: no exchange on that chain")
    for a_in in sorted({p.asset for p in todo}):
        ps = [p for p in todo if p.asset == a_in]
        n = len(ps)
        chain = ps[0].chain
        dst, hot = ctx.deposit_addresses(chain, n, ex)
        ts = np.array([ctx.start(p.time) for p in ps], np.int64)
        ref, est = ctx.split_each(ps, ts, dst, Typology.EXCHANGE_DEPOSIT)
        sweep_deposits(ctx, chain, a_in, dst, hot, ts)
        rate = (W.assets[a_in].usd_price / W.assets[target].usd_price
                * 10.0 ** (W.assets[target].decimals - W.assets[a_in].decimals) * 0.998)
        ex_of = {int(e.hot[chain].address): e for e in sv.exchanges}
        w, a = ctx.wallets(ch_out, n, Role.SWAPPER)
        t2 = ts + np.atleast_1d(ctx.hours(delay_hours, n)).astype(np.int64)
        for i in range(n):  # the exchange that got the deposit pays from its hot wallet
            src = ex_of[int(hot[i])].hot[ch_out]
            ctx.stream.add(t=W.t0, chain=ch_out, asset=target, code=OP_ISSUE, src=-1,
                           out_count=1, out_addr=[src.address],
                           out_value=[int(est[i] * rate * 1.05) + 1])
            ctx.linked_each([t2[i]], ch_out, target, src.src(W), [ref[i]], rate,
                            LinkKind.SWAP, [a[i]], Typology.SWAP, change=src.address)
        fee = sv.fee_base[target] * 90_000
        out += fresh_positions(ctx, ch_out, target, w, a, 0,
                               (est * rate).astype(np.int64) - fee)
        for q, t in zip(out[-n:], t2):
            q.time = int(t)
    return out


def marketplace(ctx: Ctx, positions: list[Pos]) -> list[Pos]:
    sv = ctx.services
    usdt_t = ctx.world.asset_id("USDT-TRON")
    for p in positions:
        need(p.asset == usdt_t, f"incident {ctx.incident}: the marketplace takes USDT-TRON, got "
                                f"{ctx.sym(p.asset)} (bridge first)")
    ts = [ctx.start(p.time) for p in positions]
    ctx.split_each(positions, ts, np.full(len(positions), sv.marketplace.address),
                   Typology.MARKETPLACE, stage=Stage.INTEGRATION)
    return []
