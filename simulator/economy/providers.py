"""The service providers of the economy: the entities and wallets behind
:class:`~.services.Services`.

:func:`open_services` creates them in a fixed order (entity and wallet ids follow it):
exchanges (hot, cold and deposit wallets on every chain), the DEX (one pool contract per
account chain), bridges, the fixed-denomination mixer and its relayer, custodial mixers, OTC
desks and the guarantee marketplace.
"""

from __future__ import annotations

import numpy as np

from ..schema import HOUR, EntityKind
from ..world import World
from .context import EconomyContext
from .services import (
    Bridge,
    CustodialMixer,
    Endpoint,
    Exchange,
    MixerPool,
    OTCDesk,
    Services,
)


def endpoint(world: World, entity: int, chain: int, attribution: float) -> Endpoint:
    """A new wallet of ``entity`` on ``chain`` and its main address, as an :class:`Endpoint`."""
    w = world.add_wallets(entity, chain, attribution=attribution)
    return Endpoint(chain, int(w[0]), int(world.main_address(w)[0]))


#: bridges the economy opens: name, asset a, asset b, fee, public deposit id, delay (s)
BRIDGE_SPECS = (
    ("wrapped-btc-bridge", "BTC", "WBTC", 0.001, True, (HOUR, 3 * HOUR)),
    ("thorchain-like", "ETH", "BTC", 0.005, False, (10 * 60, 40 * 60)),
    ("tron-stable-bridge", "USDT", "USDT-TRON", 0.001, False, (2 * 60, 15 * 60)),
    ("avalanche-bridge", "USDT", "USDT-AVAX", 0.001, True, (5 * 60, 25 * 60)),
    ("avalanche-btc-bridge", "BTC", "AVAX", 0.002, False, (20 * 60, 60 * 60)),
)


def open_services(ctx: EconomyContext) -> Services:
    """Create the economy's services in the world (no balances yet: see :mod:`.genesis`).

    Parameters
    ----------
    ctx : EconomyContext
        The economy being built; its users already exist.

    Returns
    -------
    Services
        The handles, with ``coinjoin_wallets`` still empty (the CoinJoin behaviour fills it).
    """
    world, config = ctx.world, ctx.config
    chains = ctx.chain_share
    btc, eth, trx = world.chain_id("bitcoin"), world.chain_id("ethereum"), world.chain_id("tron")
    attr_s = config.service_attribution

    exchanges = []
    ex_ent = world.add_entities(
        EntityKind.EXCHANGE, config.exchanges,
        name=np.array([f"exchange-{i:02d}" for i in range(config.exchanges)], object))
    for i, e in enumerate(ex_ent):
        hot, cold, dep = {}, {}, {}
        for ch in chains:
            hot[ch] = endpoint(world, e, ch, attr_s)
            cold[ch] = endpoint(world, e, ch, attr_s * 0.8)
            dep[ch] = int(world.add_wallets(e, ch, attribution=config.deposit_attribution,
                                            n_addresses=1)[0])
        exchanges.append(Exchange(int(e), f"exchange-{i:02d}", hot, cold, dep))

    dex_ent = world.add_entities(EntityKind.DEX, 1, name="dex")[0]
    dex = {ch: endpoint(world, dex_ent, ch, 1.0) for ch in chains if not world.is_utxo(ch)}

    bridges = []
    for name, a_sym, b_sym, fee, has_id, delay in BRIDGE_SPECS:
        a, b = world.asset_id(a_sym), world.asset_id(b_sym)
        ca, cb = world.asset_chain(a), world.asset_chain(b)
        ent = world.add_entities(EntityKind.BRIDGE, 1, name=name)[0]
        bridges.append(Bridge(int(ent), name, a, b, endpoint(world, ent, ca, 1.0),
                              endpoint(world, ent, cb, 1.0), fee, has_id, delay))

    mix_ent = world.add_entities(EntityKind.MIXER, 1, name="tornado-like")[0]
    eth_asset = world.asset_id("ETH")
    denoms = [world.units(eth_asset, d) for d in (0.1, 1.0, 10.0, 100.0)]
    relayer_ent = world.add_entities(EntityKind.RETAIL, 1, name="relayer")[0]
    mixer_pool = MixerPool(int(mix_ent), "tornado-like", eth, eth_asset,
                           {d: endpoint(world, mix_ent, eth, 1.0) for d in denoms},
                           endpoint(world, relayer_ent, eth, 0.0), 0.003)
    custodial = []
    for name, fee in (("blender-like", 0.03), ("sinbad-like", 0.025)):
        ent = world.add_entities(EntityKind.MIXER, 1, name=name)[0]
        custodial.append(CustodialMixer(int(ent), name, endpoint(world, ent, btc, attr_s),
                                        world.asset_id("BTC"), fee, (HOUR, 24 * HOUR)))
    otc = []
    for i in range(2):
        ent = world.add_entities(EntityKind.OTC, 1, name=f"otc-desk-{i}")[0]
        eps = {}
        for sym in ("BTC", "ETH", "USDT", "USDT-TRON"):
            a = world.asset_id(sym)
            eps[a] = endpoint(world, ent, world.asset_chain(a), attr_s * 0.6)
        otc.append(OTCDesk(int(ent), f"otc-desk-{i}", eps, 0.01))
    mkt_ent = world.add_entities(EntityKind.MARKETPLACE, 1, name="guarantee-market")[0]
    marketplace = endpoint(world, mkt_ent, trx, attr_s * 0.5)

    return Services(
        exchanges=exchanges, dex=dex, dex_fee=0.003, bridges=bridges, mixer_pool=mixer_pool,
        coinjoin_wallets=np.zeros(0, np.int64),
        coinjoin_denoms=tuple(world.units(world.asset_id("BTC"), d)
                              for d in (0.001, 0.01, 0.05, 0.1)),
        custodial_mixers=custodial, otc=otc, marketplace=marketplace, fee_base=ctx.fee_base,
        fixed_fee_rate=config.fixed_fee_rate, users=ctx.users, days=config.days,
    )
