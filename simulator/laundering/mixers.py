"""Mixers: a fixed-denomination pool (Tornado-Cash-like), CoinJoin rounds, a custodial mixer.

``tornado``
    Ronin (tayvano/lazarus-bluenoroff-research demix table, docs/sources.md#ronin-2022): 100-ETH notes;
    each depositor (funded by a fresh split, "2,000 ETH -> fresh address -> 20 x 100") sends
    30-55 notes within 1-5 hours; notes are withdrawn 1-10 hours later to fresh addresses that
    each receive 2-9 notes, mostly through a relayer that keeps a fee. Harmony (Elliptic):
    100-ETH notes every 6-8 minutes, 5-6 notes per withdrawal address. Each withdrawal is a
    hidden ``MIXER`` link to one deposit. Fingerprints (rates per incident): withdrawal to the
    depositing address (``address_reuse``), withdrawal straight to an exchange deposit
    address (``mixer_to_deposit``), a direct gas transfer depositor -> withdrawer
    (``direct_link``); heuristics of Wang et al. 2023 / Du et al. 2023 (Tornado Cash
    de-anonymisation) look for exactly these.
``coinjoin``
    Equal-output CoinJoin rounds (Whirlpool 5 participants, Wasabi >= 10) in which attacker
    inputs (pre-split into one wallet per slot) sit beside benign co-participants drawn from
    ``services.coinjoin_wallets`` (DMM Bitcoin; Bybit's 944 BTC through Wasabi).
``custodial``
    Blender/Sinbad/YoMix-like: a deposit to a fresh address of the mixer, then, after the
    mixer's delay, a payout from its reserve to 1-3 fresh addresses minus the fee (Ronin 439
    BTC to Blender; Atomic and Stake to Sinbad).
"""

from __future__ import annotations

import numpy as np

from ..ops import FRESH, OP_COINJOIN, OP_LINKED
from ..schema import LinkKind, Role, Stage, Typology
from .block_api import HOUR, Ctx, Pos, fresh_positions, merge, need, sweep_deposits

TORNADO_PARAMS = {
    "denomination": (0.1, 1.0, 10.0, 100.0), "notes_per_depositor": ((1, 1000), [30, 55]),
    "deposit_hours": ((0.0, 48.0), [1.0, 5.0]), "notes_per_withdrawer": ((1, 100), [2, 9]),
    "withdraw_hours": ((0.0, 24.0 * 365), [1.0, 10.0]), "relayer": ((0.0, 1.0), 0.7),
}
COINJOIN_PARAMS = {"denomination": ((0.0001, 100.0), 0.0), "peers": ((0, 200), [4, 20]),
                   "slots": ((1, 1000), [5, 50]), "max_outputs": ((1, 20000), 600),
                   "gap_hours": ((0.0, 48.0), [0.2, 3.0])}
CUSTODIAL_PARAMS = {"mixer": ((0, 9), 0), "outputs": ((1, 50), [1, 3])}


def tornado(ctx: Ctx, positions: list[Pos], denomination=100.0, notes_per_depositor=(30, 55),
            deposit_hours=(1.0, 5.0), notes_per_withdrawer=(2, 9), withdraw_hours=(1.0, 10.0),
            relayer=0.7) -> list[Pos]:
    W, pool = ctx.world, ctx.services.mixer_pool
    den_units = {round(d / 10 ** W.assets[pool.asset].decimals, 6): d for d in pool.pools}
    need(round(float(denomination), 6) in den_units,
         f"incident {ctx.incident}: tornado denomination must be one of {sorted(den_units)} ETH")
    den = den_units[round(float(denomination), 6)]
    # a smaller note when the (scaled) position cannot make two notes
    total = sum(p.est for p in positions if p.asset == pool.asset)
    for d in sorted(pool.pools, reverse=True):
        if d <= den and total >= 4 * d:
            den = d
            break
    ep = pool.pools[den]
    fp = ctx.fingerprints
    out: list[Pos] = []
    notes = []  # (deposit op index, deposit time, depositor address)
    for p in positions:
        need(p.asset == pool.asset,
             f"incident {ctx.incident}: tornado takes {ctx.sym(pool.asset)}, "
             f"got {ctx.sym(p.asset)} (add a swap step first)")
        rate = ctx.services.fee_base[pool.asset] * 3
        per_note = den + rate * 21_000
        avail = p.est - ctx.fee_bound(p, 64, rate * 2)
        n_notes = int(avail // per_note)
        if n_notes < 1:
            out.append(p)
            continue
        sizes = ctx.partition(n_notes, notes_per_depositor)
        t = ctx.start(p.time)
        dw, da = ctx.wallets(p.chain, len(sizes), Role.MIXER_DEPOSITOR)
        _, est = ctx.split(p, t, da, np.array(sizes) * 1000, Typology.MIXER_POOL)
        for i, s in enumerate(sizes):
            t0 = t + int(ctx.hours([0.1, 1.0])) + i * int(ctx.rng.integers(HOUR // 4, 2 * HOUR))
            win = max(int(np.atleast_1d(ctx.hours(deposit_hours, 1))[0]), 60 * s)
            ts = np.sort(t0 + ctx.rng.integers(0, win, s))
            ts = ts + np.arange(s)  # strictly increasing
            dep = Pos(p.chain, p.asset, int(dw[i]), int(da[i]), t, est[i], 1)
            idx, _ = ctx.pay(dep, ts, np.full(s, ep.address), np.full(s, den),
                             Typology.MIXER_POOL, change=-1, stage=Stage.LAYERING)
            notes += [(int(j), int(tt), int(da[i]), int(dw[i])) for j, tt in zip(idx, ts)]
    if not notes:
        return out
    order = ctx.rng.permutation(len(notes))
    groups = np.split(order, np.cumsum(ctx.partition(len(order), notes_per_withdrawer))[:-1])
    fee_w = int(round(pool.relayer_fee * 10_000))
    W_t, W_link, W_cnt, W_addr, W_val, W_inc, W_stage = [], [], [], [], [], [], []
    sweeps = []
    for g in groups:
        dep_t = np.array([notes[j][1] for j in g])
        wt = dep_t + np.atleast_1d(ctx.hours(withdraw_hours, len(g)))
        wt = np.maximum(wt, dep_t + 60)
        reuse = ctx.rng.random() < fp.get("address_reuse", 0.0)
        to_dep = ctx.rng.random() < fp.get("mixer_to_deposit", 0.0)
        stage = Stage.LAYERING
        if to_dep:
            dst, hot = ctx.deposit_addresses(pool.chain, 1)
            addr, wal = int(dst[0]), -1
            stage = Stage.INTEGRATION
            sweeps.append((addr, int(hot[0]), int(wt.max())))
        elif reuse:
            addr, wal = notes[g[0]][2], notes[g[0]][3]
        else:
            w, a = ctx.wallets(pool.chain, 1, Role.MIXER_RECIPIENT)
            addr, wal = int(a[0]), int(w[0])
        relayed = ctx.rng.random(len(g)) < relayer
        got = 0
        for j, tt, rl in zip(g, wt, relayed):
            W_t.append(int(tt))
            W_link.append(notes[j][0])
            W_stage.append(int(stage))
            if rl:
                W_cnt.append(2)
                W_addr += [addr, pool.relayer.address]
                W_val += [10_000 - fee_w, fee_w]
                W_inc += [ctx.incident, -1]
                got += den * (10_000 - fee_w) // 10_000
            else:
                W_cnt.append(1)
                W_addr.append(addr)
                W_val.append(1)
                W_inc.append(ctx.incident)
                got += den
            got -= ctx.services.fee_base[pool.asset] * 50_000
        if ctx.rng.random() < fp.get("direct_link", 0.0) and wal >= 0:
            src = Pos(pool.chain, pool.asset, notes[g[0]][3], notes[g[0]][2], 0, 0, 1)
            last = max(tt for _, tt, da, _ in notes if da == notes[g[0]][2])
            ctx.pay(src, [last + 60], [addr], [ctx.world.units(pool.asset, 0.001)],
                    Typology.MIXER_POOL, change=-1, hard=False)
        if wal >= 0:
            out.append(Pos(pool.chain, pool.asset, wal, addr, int(wt.max()), max(got, 0), 1))
    ctx.add(Typology.MIXER_POOL, stage=np.array(W_stage), t=np.array(W_t, np.int64),
            chain=pool.chain, asset=pool.asset, code=OP_LINKED, src=ep.address,
            out_count=np.array(W_cnt, np.int64), out_addr=np.array(W_addr, np.int64),
            out_value=np.array(W_val, np.int64), out_incident=np.array(W_inc, np.int32),
            link=np.array(W_link, np.int64), link_kind=int(LinkKind.MIXER), rate=1.0,
            fee_rate=ctx.services.fee_base[pool.asset])
    if sweeps:  # the exchange sweeps the deposit addresses the mixer paid into
        sweep_deposits(ctx, pool.chain, pool.asset, [s[0] for s in sweeps],
                       [s[1] for s in sweeps], [s[2] + 3600 for s in sweeps])
    return merge(ctx, out)


def coinjoin(ctx: Ctx, positions: list[Pos], denomination=0.0, peers=(4, 20), slots=(5, 50),
             max_outputs=600, gap_hours=(0.2, 3.0)) -> list[Pos]:
    W, sv = ctx.world, ctx.services
    btc = W.chain_id("bitcoin")
    a_btc = W.native_asset(btc)
    for p in positions:
        need(p.asset == a_btc,
             f"incident {ctx.incident}: coinjoin takes BTC, got {ctx.sym(p.asset)}")
    if not positions:
        return []
    total = sum(p.est for p in positions)
    rate = sv.fee_base[a_btc]
    share = rate * (11 + 68 + 62) * 2
    if denomination:
        den = W.units(a_btc, denomination)
    else:  # the largest pool denomination the positions can fill (smaller pools when scaled)
        big = max(p.est - ctx.fee_bound(p, 64, rate) for p in positions)
        floor = 2 * ctx.min_amount(Pos(btc, a_btc, 0, 0, 0, 0, 1))  # outputs move on
        fits = [d for d in sv.coinjoin_denoms
                if d >= floor and big >= d + share + 2 * ctx.dust(a_btc)]
        den = max(fits) if fits else max(sv.coinjoin_denoms)
    if total / den > max_outputs:  # larger equal outputs (multiples of the denomination)
        den = int(np.ceil(total / max_outputs / den) * den)
    slot_w, slot_a, slot_t = [], [], []
    unit = den + share + 2 * ctx.dust(a_btc)
    top = ctx.max_fee_rate(a_btc)  # the split into slots may pay up to this rate
    for p in positions:
        n = min(int((p.est - ctx.fee_bound(p, 64, top)) // unit), 3000)
        # the fee of a split into n slots grows with n: size it for n outputs
        n = min(n, int((p.est - ctx.fee_bound(p, max(n, 1), top)) // unit))
        if n < 1:
            continue
        t = ctx.start(p.time)
        w, a = ctx.wallets(btc, n, Role.MIXER_DEPOSITOR)
        ctx.split(p, t, a, np.ones(n, np.int64), Typology.COINJOIN)
        slot_w += list(w)
        slot_a += list(a)
        slot_t += [t] * n
    if not slot_w:
        return list(positions)
    n_slots = len(slot_w)
    rw, ra = ctx.wallets(btc, n_slots, Role.MIXER_RECIPIENT)
    order = np.argsort(slot_t, kind="stable")
    benign = np.asarray(sv.coinjoin_wallets, np.int64)
    i = 0
    t = int(max(slot_t)) + 600
    t_round = []
    out = []
    for s in ctx.partition(n_slots, slots):
        sel = order[i:i + s]
        k = min(ctx.draw(peers), len(benign))
        peer = ctx.rng.choice(benign, k, replace=False) if k > 0 else np.zeros(0, np.int64)
        parts_w = np.concatenate([np.array(slot_w)[sel], peer]).astype(np.int64)
        parts_a = np.concatenate([np.array(ra)[sel],
                                  np.full(k, FRESH)]).astype(np.int64)
        perm = ctx.rng.permutation(len(parts_w))
        ctx.add(Typology.COINJOIN, t=t, chain=btc, asset=a_btc, code=OP_COINJOIN, src=-1,
                amount=den, out_count=0, out_addr=np.zeros(0, np.int64),
                out_value=np.zeros(0, np.int64), part_count=len(parts_w),
                part_wallet=parts_w[perm], part_addr=parts_a[perm], fee_rate=rate)
        out += fresh_positions(ctx, btc, a_btc, np.array(rw)[sel], np.array(ra)[sel], t,
                               [den] * s)
        t_round.append(t)
        t += int(ctx.hours(gap_hours))
        i += s
    return out


def custodial(ctx: Ctx, positions: list[Pos], mixer=0, outputs=(1, 3)) -> list[Pos]:
    sv = ctx.services
    need(0 <= mixer < len(sv.custodial_mixers),
         f"incident {ctx.incident}: custodial mixer index {mixer} out of range "
         f"(0-{len(sv.custodial_mixers) - 1})")
    m = sv.custodial_mixers[mixer]
    for p in positions:
        need(p.asset == m.asset, f"incident {ctx.incident}: custodial mixer takes "
                                 f"{ctx.sym(m.asset)}, got {ctx.sym(p.asset)}")
    if not positions:
        return []
    n = len(positions)
    ts = np.array([ctx.start(p.time) for p in positions], np.int64)
    ref, est = ctx.split_each(positions, ts, np.full(n, FRESH), Typology.CUSTODIAL_MIXER,
                              dst_wallet=np.full(n, m.endpoint.wallet))
    ks = np.array([ctx.draw(outputs) for _ in positions], np.int64)
    chain = positions[0].chain
    w, a = ctx.wallets(chain, int(ks.sum()), Role.MIXER_RECIPIENT)
    t2 = ts + ctx.rng.integers(m.delay[0], m.delay[1], n)
    wts = ctx.weights(int(ks.sum()))
    ctx.linked_each(t2, chain, m.asset, m.endpoint.wallet, ref, 1.0 - m.fee, LinkKind.MIXER,
                    a, Typology.CUSTODIAL_MIXER, change=m.endpoint.address, out_count=ks,
                    weights=wts)
    out = []
    o = 0
    for i in range(n):
        k = int(ks[i])
        sl = slice(o, o + k)
        tot = int(est[i] * (1 - m.fee)) - sv.fee_base[m.asset] * (11 + 68 * 50 + 31 * (k + 1))
        out += fresh_positions(ctx, chain, m.asset, w[sl], a[sl], int(t2[i]),
                               [int(tot * x / wts[sl].sum()) - 1 for x in wts[sl]])
        o += k
    return out
