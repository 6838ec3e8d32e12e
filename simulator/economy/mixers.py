"""Benign privacy users of the three mixer kinds: a fixed-denomination pool (Tornado-Cash-like),
CoinJoin rounds (Whirlpool-like and Wasabi-like) and custodial mixers paying from a reserve.

The CoinJoin users sampled here (``services.coinjoin_wallets``) are also the custodial mixers'
customers and the benign co-participants of laundering CoinJoin rounds.
"""

from __future__ import annotations

import numpy as np

from ..ops import EXACT, FRESH, OP_COINJOIN, OP_LINKED
from ..schema import DAY, HOUR, LinkKind
from .context import EconomyContext


def mixer_pool(ctx: EconomyContext, n: int) -> None:
    """``n`` pool notes: deposit a note, withdraw it later to a fresh wallet (relayed or
    not), by a share ``privacy_user_rate`` of the pool chain's users."""
    world, rng = ctx.world, ctx.rng
    pool = ctx.services.mixer_pool
    eth = pool.chain
    if eth not in ctx.users or n <= 0:
        return
    users = ctx.users[eth]
    priv = ctx.sample(users, max(4, int(len(users) * ctx.config.privacy_user_rate)))
    who = priv[rng.integers(0, len(priv), n)]
    den = np.array(sorted(pool.pools))
    d = den[rng.choice(len(den), n, p=[0.35, 0.4, 0.2, 0.05])]
    t = ctx.times(n)
    ents = ctx.owners(eth, who)
    for dv in den:
        m = d == dv
        k = int(m.sum())
        if k == 0:
            continue
        ep = pool.pools[int(dv)]
        # a pool takes the exact note or nothing (EXACT: skipped when the user is short)
        ref = ctx.pay_one(eth, pool.asset, t[m], who[m], ep.address, -1, np.full(k, dv),
                          hard=EXACT)
        # 5% withdraw back to the depositing address (the address-match fingerprint)
        reuse = rng.random(k) < 0.05
        fresh_w = world.add_wallets(ents[m], eth)
        dst = np.where(reuse, world.main_address(who[m]), world.main_address(fresh_w))
        relayed = rng.random(k) < 0.7
        cnt = np.where(relayed, 2, 1)
        # relayed withdrawals pay the relayer a share: outputs [recipient, relayer]
        fee_w = int(round(pool.relayer_fee * 10_000))
        first = np.cumsum(cnt) - cnt
        out_addr = np.full(int(cnt.sum()), pool.relayer.address, np.int64)
        out_addr[first] = dst
        out_val = np.full(int(cnt.sum()), fee_w, np.int64)
        out_val[first] = np.where(relayed, 10_000 - fee_w, 1)
        ctx.stream.add(t=t[m] + rng.integers(HOUR, 7 * DAY, k), chain=eth, asset=pool.asset,
                       code=OP_LINKED, src=ep.address, out_count=cnt, out_addr=out_addr,
                       out_value=out_val, link=ref, link_kind=int(LinkKind.MIXER), rate=1.0,
                       fee_rate=ctx.fee_rate(pool.asset, who[m]), aux=ctx.aux(k))


def coinjoin(ctx: EconomyContext, n: int) -> None:
    """Sample the Bitcoin CoinJoin users (twice ``privacy_user_rate``, at least 12) into
    ``services.coinjoin_wallets``, then ``max(1, n)`` rounds: Whirlpool-like (5 equal
    outputs) and Wasabi-like (10-24 outputs of 0.1 BTC)."""
    world, rng, services = ctx.world, ctx.rng, ctx.services
    btc = world.chain_id("bitcoin")
    if btc not in ctx.users:
        return
    a = world.native_asset(btc)
    users = ctx.users[btc]
    cj_wallets = ctx.sample(users, max(12, int(len(users) * 2 * ctx.config.privacy_user_rate)))
    services.coinjoin_wallets = cj_wallets
    denoms = services.coinjoin_denoms
    n_rounds = max(1, n)
    t = ctx.times(n_rounds)
    wasabi = rng.random(n_rounds) < 0.3
    size = np.where(wasabi, rng.integers(10, 25, n_rounds), 5)
    size = np.minimum(size, len(cj_wallets))
    den = np.where(wasabi, denoms[3], np.array(denoms[:3])[rng.integers(0, 3, n_rounds)])
    parts = np.concatenate([ctx.sample(cj_wallets, s) for s in size])
    ctx.stream.add(t=t, chain=btc, asset=a, code=OP_COINJOIN, src=-1, amount=den, out_count=0,
                   out_addr=np.zeros(0, np.int64), out_value=np.zeros(0, np.int64),
                   part_count=size, part_wallet=parts, part_addr=FRESH,
                   fee_rate=ctx.fee_base[a], aux=ctx.aux(n_rounds))


def custodial_mixers(ctx: EconomyContext, n: int) -> None:
    """``n`` deposits by CoinJoin users (run :func:`coinjoin` first) into the custodial
    mixers, each paid back from the reserve in 1-3 outputs after the mixer's delay, minus
    its fee."""
    world, rng = ctx.world, ctx.rng
    btc = world.chain_id("bitcoin")
    mixers = ctx.services.custodial_mixers
    if btc not in ctx.users or n <= 0 or not mixers:
        return
    a = world.native_asset(btc)
    cj_wallets = ctx.services.coinjoin_wallets
    who = cj_wallets[rng.integers(0, len(cj_wallets), n)]
    which = rng.integers(0, len(mixers), n)
    t = ctx.times(n)
    amt = ctx.units(a, ctx.usd(n, 2000.0, 1.0))
    for i, mixer in enumerate(mixers):
        m = which == i
        k = int(m.sum())
        if k == 0:
            continue
        ref = ctx.pay_one(btc, a, t[m], who[m], FRESH, mixer.endpoint.wallet, amt[m])
        cnt = rng.integers(1, 4, k)
        rec = np.repeat(who[m], cnt)
        ctx.stream.add(t=t[m] + rng.integers(mixer.delay[0], mixer.delay[1], k), chain=btc,
                       asset=a, code=OP_LINKED, src=mixer.endpoint.wallet, out_count=cnt,
                       out_addr=FRESH, out_wallet=rec,
                       out_value=rng.integers(50, 150, int(cnt.sum())), link=ref,
                       link_kind=int(LinkKind.MIXER), rate=1.0 - mixer.fee,
                       change=mixer.endpoint.address, fee_rate=ctx.fee_base[a], aux=ctx.aux(k))
