"""The economy's knobs (:class:`EconomyConfig`, a scenario's ``[economy]`` table) and the
constants its behaviours share: fee styles, exchange sweep schedules, default asset weights."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..world import DEFAULT_ASSETS


@dataclass(frozen=True)
class EconomyConfig:
    """Knobs of the benign economy. ``transactions`` is the approximate size."""

    transactions: int = 20_000
    days: int = 60
    chain_share: tuple[tuple[str, float], ...] = (
        ("bitcoin", 0.40), ("ethereum", 0.35), ("tron", 0.17), ("avalanche", 0.08))
    # weight of an asset among its chain's payments, exchange flows and merchant sales;
    # assets not listed keep the default (3 for native coins and USDT, 1 for the others)
    asset_share: tuple[tuple[str, float], ...] = ()
    # "fixed": chain_share, asset_share and value_scale as written; "incidents": they follow
    # the incidents' own chains, assets and value level (simulator.footprint)
    footprint: str = "fixed"
    users_per_transaction: float = 0.12
    activity_exponent: float = 2.5  # rank power law N*u^k: larger k, heavier tail
    fresh_address_rate: float = 0.7  # UTXO payees that give a fresh address
    change_reuse_rate: float = 0.15  # UTXO change back to the wallet's main address
    round_amount_rate: float = 0.35
    fixed_fee_rate: float = 0.2  # wallets whose software uses one fixed fee rate
    value_scale: float = 1.0  # every benign USD amount times this (footprint: "incidents" sets it)
    wealth_sigma: float = 1.5  # per-user wealth multiplier exp(sigma * N(0,1)): whales
    fresh_deposit_rate: float = 0.8  # UTXO deposits to a fresh per-deposit exchange address
    forward_rate: float = 0.25  # payments the payee passes on within hours (pass-through)
    sweep_hours: int = 2  # the most frequent UTXO exchange consolidation (see SWEEP_MULT)
    newest_first_rate: float = 0.5  # UTXO user wallets whose coin selection spends newest first
    privacy_user_rate: float = 0.04  # users who use mixers for privacy
    service_attribution: float = 0.9  # public label coverage of service hot/contract addresses
    deposit_attribution: float = 0.1  # coverage of exchange deposit addresses
    exchanges: int = 5
    # shares of benign activity (ops), normalised; one entry per behaviour of the table
    # (simulator.economy.behaviours.BEHAVIOURS), which runs them in its own order
    mix: tuple[tuple[str, float], ...] = (
        ("payment", 0.30), ("exchange_deposit", 0.13), ("exchange_withdrawal", 0.10),
        ("merchant", 0.10), ("payroll", 0.02), ("mining", 0.01), ("airdrop", 0.01),
        ("swap", 0.05), ("bridge", 0.02), ("mixer_pool", 0.015), ("coinjoin", 0.004),
        ("custodial_mixer", 0.006), ("otc", 0.01), ("marketplace", 0.01),
        ("processor", 0.03),
    )

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a knob out of its range or an unknown name."""
        if self.transactions < 100:
            raise ConfigError("economy.transactions must be at least 100")
        if self.days < 1:
            raise ConfigError("economy.days must be at least 1")
        for name, v in (("fresh_address_rate", self.fresh_address_rate),
                        ("change_reuse_rate", self.change_reuse_rate),
                        ("round_amount_rate", self.round_amount_rate),
                        ("fixed_fee_rate", self.fixed_fee_rate),
                        ("fresh_deposit_rate", self.fresh_deposit_rate),
                        ("forward_rate", self.forward_rate),
                        ("newest_first_rate", self.newest_first_rate),
                        ("privacy_user_rate", self.privacy_user_rate),
                        ("service_attribution", self.service_attribution),
                        ("deposit_attribution", self.deposit_attribution)):
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"economy.{name} must be between 0 and 1, got {v}")
        if self.exchanges < 1:
            raise ConfigError("economy.exchanges must be at least 1")
        if self.sweep_hours < 1:
            raise ConfigError("economy.sweep_hours must be at least 1")
        if not 0.01 <= self.value_scale <= 1000.0:
            raise ConfigError(f"economy.value_scale must be between 0.01 and 1000, got "
                              f"{self.value_scale}")
        if not 0.0 <= self.wealth_sigma <= 4.0:
            raise ConfigError(f"economy.wealth_sigma must be between 0 and 4, got "
                              f"{self.wealth_sigma}")
        known = {"bitcoin", "ethereum", "tron", "avalanche"}
        for name, share in self.chain_share:
            if name not in known:
                raise ConfigError(f"economy.chain_share: unknown chain '{name}'")
            if share < 0:
                raise ConfigError("economy.chain_share values must be >= 0")
        symbols = {a.symbol for a in DEFAULT_ASSETS}
        for name, share in self.asset_share:
            if name not in symbols:
                raise ConfigError(f"economy.asset_share: unknown asset '{name}'")
            if share < 0:
                raise ConfigError("economy.asset_share values must be >= 0")
        if self.footprint not in ("incidents", "fixed"):
            raise ConfigError(f"economy.footprint must be 'incidents' or 'fixed', got "
                              f"{self.footprint!r}")
        kinds = {k for k, _ in EconomyConfig.mix}
        for name, share in self.mix:
            if name not in kinds:
                raise ConfigError(f"economy.mix: unknown behaviour '{name}'")
            if share < 0:
                raise ConfigError("economy.mix values must be >= 0")


#: fee estimators draw ``base * exp(FEE_SIGMA * N(0, 1))``; wallets with a fixed fee rate
#: pay ``base`` times one of ``FIXED_FEE_MULTIPLIERS``
FEE_SIGMA = 0.35
FIXED_FEE_MULTIPLIERS = (0.5, 1.0, 1.5, 2.0, 3.0)

#: typical fee rate per asset: sat/vbyte on UTXO chains, base units per gas on account chains
FEE_BASE = {"BTC": 12, "ETH": 20, "USDT": 30, "USDC": 30, "WBTC": 1, "TRX": 48,
            "USDT-TRON": 15, "AVAX": 30, "USDT-AVAX": 1}

#: consolidation interval of UTXO exchange i, in units of ``sweep_hours``: exchanges batch
#: their deposit addresses on different schedules (every 2 h to once a day by default)
SWEEP_MULT = (1, 12, 3, 6, 2)


def default_asset_weight(asset) -> float:
    """An asset's weight among its chain's payments unless ``economy.asset_share`` sets it:
    3 for the native coin and USDT, 1 for the others."""
    return 3.0 if asset.native or asset.symbol.startswith("USDT") else 1.0
