"""The economy's services and the handles laundering playbooks take on them.

:class:`Services` is the contract between the economy and the laundering blocks
(:mod:`launderbench.simulator.laundering`): exchanges, the DEX, bridges, mixers, OTC desks and
the guarantee marketplace, each reached through :class:`Endpoint` handles.
:func:`.providers.open_services` creates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..world import World


@dataclass(frozen=True)
class Endpoint:
    """A service's wallet and main address on one chain."""

    chain: int
    wallet: int
    address: int

    def src(self, world: World) -> int:
        """What an op's ``src`` takes: the wallet on UTXO chains, the address on account ones."""
        return self.wallet if world.is_utxo(self.chain) else self.address


@dataclass
class Exchange:
    """A custodial exchange: hot and cold endpoints per chain and one wallet per chain that
    holds its customers' deposit addresses."""

    entity: int
    name: str
    hot: dict[int, Endpoint]
    cold: dict[int, Endpoint]
    deposit_wallet: dict[int, int]

    def new_deposit_addresses(self, world: World, chain: int, n: int = 1) -> np.ndarray:
        """Fresh customer deposit addresses (swept into the hot wallet by the exchange only
        for deposits the economy scheduled; laundering playbooks sweep their own)."""
        return world.add_addresses(self.deposit_wallet[chain], n)


@dataclass
class Bridge:
    """A two-way bridge between ``asset_a`` and ``asset_b``: lock in one vault, release from
    the other after ``delay`` minus ``fee``."""

    entity: int
    name: str
    asset_a: int
    asset_b: int
    vault_a: Endpoint
    vault_b: Endpoint
    fee: float  # proportional fee
    has_id: bool  # lock and release carry the same public deposit id (memo)
    delay: tuple[int, int]  # seconds

    def rate(self, world: World, forward: bool = True) -> float:
        """Base units released per base unit locked (``forward``: a to b)."""
        a, b = (self.asset_a, self.asset_b) if forward else (self.asset_b, self.asset_a)
        return conversion(world, a, b) * (1.0 - self.fee)


@dataclass
class MixerPool:
    """Fixed-denomination pools (Tornado-Cash-like) on one chain, one contract per note size."""

    entity: int
    name: str
    chain: int
    asset: int
    pools: dict[int, Endpoint]  # denomination (base units) -> pool contract
    relayer: Endpoint
    relayer_fee: float


@dataclass
class CustodialMixer:
    """A mixer that takes deposits and pays out of its own reserve after a delay, minus a fee."""

    entity: int
    name: str
    endpoint: Endpoint
    asset: int
    fee: float
    delay: tuple[int, int]


@dataclass
class OTCDesk:
    """An over-the-counter desk that buys one asset and pays in another, less ``spread``."""

    entity: int
    name: str
    endpoints: dict[int, Endpoint]  # asset -> endpoint holding it
    spread: float


@dataclass
class Services:
    """Handles on the economy's services, for laundering playbooks."""

    exchanges: list[Exchange]
    dex: dict[int, Endpoint]  # chain -> pool contract (holds every asset of that chain)
    dex_fee: float
    bridges: list[Bridge]
    mixer_pool: MixerPool
    coinjoin_wallets: np.ndarray  # benign BTC privacy users, co-participants in rounds
    coinjoin_denoms: tuple[int, ...]
    custodial_mixers: list[CustodialMixer]
    otc: list[OTCDesk]
    marketplace: Endpoint  # guarantee marketplace escrow (USDT on TRON)
    fee_base: dict[int, int]  # typical fee rate per asset
    fixed_fee_rate: float = 0.0  # share of wallets whose software pays a fixed fee rate
    users: dict[int, np.ndarray] = field(default_factory=dict)  # chain -> user wallets
    days: int = 60

    def swap_rate(self, world: World, asset_in: int, asset_out: int) -> float:
        """Base units of ``asset_out`` the DEX pays per base unit of ``asset_in``."""
        return conversion(world, asset_in, asset_out) * (1.0 - self.dex_fee)


def conversion(world: World, a: int, b: int) -> float:
    """Base units of asset b worth one base unit of asset a, at reference prices."""
    A, B = world.assets[a], world.assets[b]
    return A.usd_price / B.usd_price * 10.0 ** (B.decimals - A.decimals)
