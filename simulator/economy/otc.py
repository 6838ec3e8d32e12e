"""OTC desks and the guarantee marketplace, both settling in USDT on TRON.

OTC clients sell BTC or ETH to a desk and receive USDT on TRON (less the desk's spread) at a
new wallet of their own; marketplace buyers pay USDT into escrow, released to the seller
hours to days later.
"""

from __future__ import annotations

from ..ops import OP_LINKED
from ..schema import DAY, HOUR, LinkKind
from .context import EconomyContext
from .services import conversion


def otc(ctx: EconomyContext, n: int) -> None:
    """``max(1, n // 2)`` sales of BTC and as many of ETH, spread over the desks."""
    world, rng = ctx.world, ctx.rng
    trx = world.chain_id("tron")
    usdt_t = world.asset_id("USDT-TRON")
    if trx not in ctx.users:
        return
    desks = ctx.services.otc
    for sym in ("BTC", "ETH"):
        a = world.asset_id(sym)
        ch = world.asset_chain(a)
        if ch not in ctx.users or n <= 0:
            continue
        k = max(1, n // 2)
        who = ctx.pick(ctx.users[ch], k)
        dest = world.add_wallets(ctx.owners(ch, who), trx)
        desk = rng.integers(0, len(desks), k)
        t = ctx.times(k)
        for i, d in enumerate(desks):
            m = desk == i
            km = int(m.sum())
            if km == 0:
                continue
            ref = ctx.pay_one(ch, a, t[m], who[m], d.endpoints[a].address, -1,
                              ctx.units(a, ctx.usd(km, 20_000.0, 1.0)))
            rate = conversion(world, a, usdt_t) * (1 - d.spread)
            ctx.stream.add(t=t[m] + rng.integers(10 * 60, 6 * HOUR, km), chain=trx,
                           asset=usdt_t, code=OP_LINKED, src=d.endpoints[usdt_t].address,
                           out_count=1, out_addr=world.main_address(dest[m]), out_value=1,
                           link=ref, link_kind=int(LinkKind.OTC), rate=rate,
                           fee_rate=ctx.fee_base[usdt_t], aux=ctx.aux(km))


def marketplace(ctx: EconomyContext, n: int) -> None:
    """``n`` escrowed sales between TRON users, released (less 2%) 1 hour to 3 days later."""
    world, rng = ctx.world, ctx.rng
    trx = world.chain_id("tron")
    usdt_t = world.asset_id("USDT-TRON")
    if trx not in ctx.users or n <= 0:
        return
    escrow = ctx.services.marketplace
    buyers = ctx.pick(ctx.users[trx], n)
    sellers = ctx.pick(ctx.users[trx], n)
    t = ctx.times(n)
    ref = ctx.pay_one(trx, usdt_t, t, buyers, escrow.address, -1,
                      ctx.units(usdt_t, ctx.usd(n, 300.0, 1.2)))
    ctx.stream.add(t=t + rng.integers(HOUR, 3 * DAY, n), chain=trx, asset=usdt_t,
                   code=OP_LINKED, src=escrow.address, out_count=1,
                   out_addr=world.main_address(sellers), out_value=1, link=ref,
                   link_kind=int(LinkKind.OTC), rate=0.98, fee_rate=ctx.fee_base[usdt_t],
                   aux=ctx.aux(n))
