"""The world a ledger lives in: chains, assets, entities, wallets and their initial addresses.

Entities own wallets; wallets own addresses. On UTXO chains a wallet pools the coins of its
addresses (coin selection spends across them); on account chains each address has its own
balance and the wallet only records ownership. Everything is stored as growable numpy columns
so that behaviours can create thousands of entities with one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .schema import ChainModel, EntityKind, Role


@dataclass(frozen=True)
class Chain:
    name: str
    model: ChainModel
    block_interval: int  # seconds


@dataclass(frozen=True)
class Asset:
    symbol: str
    chain: str
    decimals: int
    usd_price: float
    native: bool
    dust: int  # smallest output worth creating, base units


#: The chains and assets every scenario has. Prices are reference prices (USD per unit).
DEFAULT_CHAINS = (
    Chain("bitcoin", ChainModel.UTXO, 600),
    Chain("ethereum", ChainModel.ACCOUNT, 12),
    Chain("tron", ChainModel.ACCOUNT, 3),
    Chain("avalanche", ChainModel.ACCOUNT, 2),
)
# ETH amounts are in gwei (9 decimals) so that the largest thefts fit in int64.
DEFAULT_ASSETS = (
    Asset("BTC", "bitcoin", 8, 60_000.0, True, 546),
    Asset("ETH", "ethereum", 9, 3_000.0, True, 10_000),
    Asset("USDT", "ethereum", 6, 1.0, False, 10_000),
    Asset("USDC", "ethereum", 6, 1.0, False, 10_000),
    Asset("WBTC", "ethereum", 8, 60_000.0, False, 546),
    Asset("TRX", "tron", 6, 0.12, True, 100_000),
    Asset("USDT-TRON", "tron", 6, 1.0, False, 10_000),
    Asset("AVAX", "avalanche", 9, 30.0, True, 100_000),
    Asset("USDT-AVAX", "avalanche", 6, 1.0, False, 10_000),
)


#: relative activity per hour of the day (UTC): quiet nights, busy afternoons. Benign
#: timestamps follow it (:meth:`launderbench.simulator.economy.context.EconomyContext.times`)
#: and so do the moments launderers choose to act
#: (:meth:`launderbench.simulator.laundering.block_api.Ctx.start`).
HOURLY_ACTIVITY = np.array([0.45, 0.4, 0.35, 0.35, 0.4, 0.5, 0.65, 0.8, 0.95, 1.05, 1.1, 1.15,
                            1.2, 1.25, 1.3, 1.35, 1.35, 1.3, 1.25, 1.15, 1.0, 0.85, 0.7, 0.55])


class _Columns:
    """Growable struct of arrays (capacity doubles, so adding rows is amortised O(rows)).

    :meth:`column` returns a view of the rows so far: writing into it changes the column.
    """

    def __init__(self, dtypes: dict[str, type], defaults: dict | None = None):
        self._dtypes = dtypes
        self._defaults = defaults or {}
        self._bufs = {k: np.empty(16, dtype=dt) for k, dt in dtypes.items()}
        self.n = 0

    def add(self, n: int, **cols) -> np.ndarray:
        arrays = {}
        for k, dt in self._dtypes.items():
            v = cols.get(k, self._defaults.get(k))
            if v is None:
                raise ValueError(f"column '{k}' is required")
            arr = np.asarray(v)
            if arr.dtype == object or dt is object:
                arr = np.asarray(v, dtype=object)
                arr = np.full(n, arr.item(), dtype=object) if arr.ndim == 0 else arr
            else:
                arr = np.asarray(v, dtype=dt)
                arr = np.full(n, arr, dtype=dt) if arr.ndim == 0 else arr
            if len(arr) != n:
                raise ValueError(f"column '{k}': {len(arr)} values for {n} rows")
            arrays[k] = arr
        end = self.n + n
        for k, arr in arrays.items():
            buf = self._bufs[k]
            if len(buf) < end:
                grown = np.empty(max(end, 2 * len(buf)), dtype=buf.dtype)
                grown[: self.n] = buf[: self.n]
                self._bufs[k] = buf = grown
            buf[self.n:end] = arr
        idx = np.arange(self.n, end, dtype=np.int64)
        self.n = end
        return idx

    def column(self, k: str) -> np.ndarray:
        return self._bufs[k][: self.n]


@dataclass
class World:
    """Chains, assets, entities, wallets and pre-created addresses of one scenario."""

    chains: tuple[Chain, ...] = DEFAULT_CHAINS
    assets: tuple[Asset, ...] = DEFAULT_ASSETS
    t0: int = 1_704_067_200  # 2024-01-01T00:00:00Z
    entities: _Columns = field(
        default_factory=lambda: _Columns({"kind": np.int8, "name": object})
    )
    wallets: _Columns = field(
        default_factory=lambda: _Columns(
            {"entity": np.int64, "chain": np.int16, "incident": np.int32, "role": np.int8,
             "attribution": np.float64, "main": np.int64, "lifo": np.bool_},
            defaults={"lifo": False},
        )
    )
    addresses: _Columns = field(
        default_factory=lambda: _Columns({"wallet": np.int64, "chain": np.int16})
    )
    #: per-address role overrides applied after generation: address -> (role, incident)
    role_overrides: dict = field(default_factory=dict)

    # -- lookups ---------------------------------------------------------------------------
    def chain_id(self, name: str) -> int:
        for i, c in enumerate(self.chains):
            if c.name == name:
                return i
        raise KeyError(f"unknown chain '{name}'")

    def asset_id(self, symbol: str) -> int:
        for i, a in enumerate(self.assets):
            if a.symbol == symbol:
                return i
        raise KeyError(f"unknown asset '{symbol}'")

    def asset_chain(self, asset: int) -> int:
        return self.chain_id(self.assets[asset].chain)

    def native_asset(self, chain: int) -> int:
        name = self.chains[chain].name
        for i, a in enumerate(self.assets):
            if a.chain == name and a.native:
                return i
        raise KeyError(f"chain '{name}' has no native asset")

    def units(self, asset: int, amount: float) -> int:
        """Whole units of an asset to base units."""
        return int(round(amount * 10 ** self.assets[asset].decimals))

    def usd_to_units(self, asset: int, usd):
        a = self.assets[asset]
        return np.asarray(usd, dtype=np.float64) / a.usd_price * 10.0**a.decimals

    def is_utxo(self, chain: int) -> bool:
        return self.chains[chain].model == ChainModel.UTXO

    # -- creation --------------------------------------------------------------------------
    def add_entities(self, kind: EntityKind, n: int, name=None) -> np.ndarray:
        return self.entities.add(n, kind=int(kind), name=name if name is not None else "")

    def add_wallets(self, entity, chain: int, n: int | None = None, *, incident=-1,
                    role=Role.BENIGN, attribution=0.0, n_addresses=1, lifo=False) -> np.ndarray:
        """Create wallets (one per entity given, or ``n`` for a scalar entity), each with
        ``n_addresses`` addresses; the first becomes the wallet's main address. ``lifo``
        wallets (UTXO chains) spend their newest coins first, others their oldest."""
        entity = np.atleast_1d(np.asarray(entity, dtype=np.int64))
        if n is None:
            n = len(entity)
        elif len(entity) == 1:
            entity = np.full(n, entity[0])
        w = self.wallets.add(n, entity=entity, chain=chain, incident=incident, role=int(role),
                             attribution=attribution, main=-1, lifo=lifo)
        a = self.addresses.add(n * n_addresses, wallet=np.repeat(w, n_addresses), chain=chain)
        main = self.wallets.column("main")
        main[w] = a[::n_addresses]
        return w

    def add_addresses(self, wallet, n_per_wallet=1) -> np.ndarray:
        """Extra addresses for existing wallets (e.g. exchange deposit addresses)."""
        wallet = np.atleast_1d(np.asarray(wallet, dtype=np.int64))
        w = np.repeat(wallet, n_per_wallet)
        chains = self.wallets.column("chain")[w]
        return self.addresses.add(len(w), wallet=w, chain=chains)

    def main_address(self, wallet) -> np.ndarray:
        return self.wallets.column("main")[np.asarray(wallet, dtype=np.int64)]
