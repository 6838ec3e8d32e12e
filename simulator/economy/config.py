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
        """Raise :class:`ConfigError` for a knob of the wrong type, out of its range (see
        :data:`RANGES`), not finite, or an unknown name."""
        for name, (lo, hi) in RANGES.items():
            _check_range(name, getattr(self, name), lo, hi,
                         integer=isinstance(EconomyConfig.__dataclass_fields__[name].default,
                                            int))
        known = {"bitcoin", "ethereum", "tron", "avalanche"}
        for name, share in self.chain_share:
            if name not in known:
                raise ConfigError(f"economy.chain_share: unknown chain '{name}'")
            _check_range(f"chain_share.{name}", share, 0.0, 1e6)
        symbols = {a.symbol for a in DEFAULT_ASSETS}
        for name, share in self.asset_share:
            if name not in symbols:
                raise ConfigError(f"economy.asset_share: unknown asset '{name}'")
            _check_range(f"asset_share.{name}", share, 0.0, 1e6)
        if self.footprint not in ("incidents", "fixed"):
            raise ConfigError(f"economy.footprint must be 'incidents' or 'fixed', got "
                              f"{self.footprint!r}")
        kinds = {k for k, _ in EconomyConfig.mix}
        for name, share in self.mix:
            if name not in kinds:
                raise ConfigError(f"economy.mix: unknown behaviour '{name}'")
            _check_range(f"mix.{name}", share, 0.0, 1e6)
        if self.chain_share and not any(share > 0 for _, share in self.chain_share):
            raise ConfigError("economy.chain_share: at least one chain needs a positive share")


#: the range of every numeric knob, ends included: beyond them a scenario is either
#: meaningless (a negative rate) or would not fit a machine (a hundred million days)
RANGES: dict[str, tuple[float, float]] = {
    "transactions": (100, 1_000_000_000),
    "days": (1, 3_650),
    "users_per_transaction": (1e-4, 10.0),
    "activity_exponent": (0.1, 10.0),
    "fresh_address_rate": (0.0, 1.0),
    "change_reuse_rate": (0.0, 1.0),
    "round_amount_rate": (0.0, 1.0),
    "fixed_fee_rate": (0.0, 1.0),
    "value_scale": (0.01, 1000.0),
    "wealth_sigma": (0.0, 4.0),
    "fresh_deposit_rate": (0.0, 1.0),
    "forward_rate": (0.0, 1.0),
    "sweep_hours": (1, 24 * 30),
    "newest_first_rate": (0.0, 1.0),
    "privacy_user_rate": (0.0, 1.0),
    "service_attribution": (0.0, 1.0),
    "deposit_attribution": (0.0, 1.0),
    "exchanges": (1, 1_000),
}


def _check_range(name: str, v, lo, hi, integer: bool = False) -> None:
    import math
    import numbers

    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ConfigError(f"economy.{name} must be a number, got {v!r}")
    if integer and not float(v).is_integer():
        raise ConfigError(f"economy.{name} must be a whole number, got {v!r}")
    if not math.isfinite(float(v)) or not lo <= v <= hi:
        raise ConfigError(f"economy.{name} must be between {lo:g} and {hi:g}, got {v!r}")


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
