"""The benign economy: the traffic that laundering hides in.

Entities and behaviours (every laundering shape has a benign look-alike here):

* retail users with heavy-tailed activity (rank power law), lognormal amounts with a preference
  for round numbers, change outputs to fresh addresses or back to a reused address, and fee
  rates chosen the way their wallet software does (an estimator with noise, or a fixed rate);
* exchanges: one deposit address per customer, swept into the hot wallet (fan-in: a
  consolidation of many inputs on UTXO chains, one sweep per deposit address on account
  chains), batched withdrawals from the hot wallet (fan-out), cold-wallet moves;
* mining pools (coinbase, then payouts to many miners: fan-out), payroll (batched payouts),
  airdrops, merchants (customers pay fresh invoice addresses; weekly sweep to an exchange: a
  benign integration look-alike) and payment processors (settle daily to merchants);
* DEX pools (swap in, swap out: a hidden link), bridges (lock on one chain, release on another
  after a delay minus a fee; with and without a public deposit id in ``memo``), mixers used by
  privacy-minded users (fixed-denomination pools with relayers, CoinJoin rounds with equal
  outputs, a custodial mixer paying from its reserve), OTC desks and a guarantee marketplace.

All of it is expressed as ops (:mod:`launderbench.simulator.ops`), generated with vectorised numpy; the ledger
kernel then executes them in time order against real balances. The :class:`Services` returned by
:func:`build_economy` are the handles laundering playbooks use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigError
from .ops import (
    CHANGE_MAIN,
    EXACT,
    FRESH,
    OP_COINJOIN,
    OP_ISSUE,
    OP_LINKED,
    OP_PAY,
    OP_SPLIT,
    OpStream,
)
from .schema import DAY, HOUR, EntityKind, LinkKind
from .world import HOURLY_ACTIVITY, World


# ----------------------------------------------------------------------------- config
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
    # shares of benign activity (ops), normalised
    mix: tuple[tuple[str, float], ...] = (
        ("payment", 0.30), ("exchange_deposit", 0.13), ("exchange_withdrawal", 0.10),
        ("merchant", 0.10), ("payroll", 0.02), ("mining", 0.01), ("airdrop", 0.01),
        ("swap", 0.05), ("bridge", 0.02), ("mixer_pool", 0.015), ("coinjoin", 0.004),
        ("custodial_mixer", 0.006), ("otc", 0.01), ("marketplace", 0.01),
        ("processor", 0.03),
    )

    def validate(self) -> None:
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
        from .world import DEFAULT_ASSETS

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


#: behaviours that live on given chains whatever ``chain_share`` says; the footprint
#: calibration (:mod:`launderbench.simulator.footprint`) scales their share of ``mix`` with their chains'
BEHAVIOUR_CHAINS = {
    "payroll": ("ethereum", "tron"), "mining": ("bitcoin",), "airdrop": ("ethereum",),
    "mixer_pool": ("ethereum",),
    "coinjoin": ("bitcoin",), "custodial_mixer": ("bitcoin",), "marketplace": ("tron",),
    "processor": ("tron",),
}

#: fee estimators draw ``base * exp(FEE_SIGMA * N(0, 1))``; wallets with a fixed fee rate
#: pay ``base`` times one of ``FIXED_FEE_MULTIPLIERS``
FEE_SIGMA = 0.35
FIXED_FEE_MULTIPLIERS = (0.5, 1.0, 1.5, 2.0, 3.0)

#: consolidation interval of UTXO exchange i, in units of ``sweep_hours``: exchanges batch
#: their deposit addresses on different schedules (every 2 h to once a day by default)
SWEEP_MULT = (1, 12, 3, 6, 2)


# ----------------------------------------------------------------------------- services
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
        a, b = (self.asset_a, self.asset_b) if forward else (self.asset_b, self.asset_a)
        return _conversion(world, a, b) * (1.0 - self.fee)


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
    entity: int
    name: str
    endpoint: Endpoint
    asset: int
    fee: float
    delay: tuple[int, int]


@dataclass
class OTCDesk:
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
        return _conversion(world, asset_in, asset_out) * (1.0 - self.dex_fee)


def _conversion(world: World, a: int, b: int) -> float:
    """Base units of asset b worth one base unit of asset a, at reference prices."""
    A, B = world.assets[a], world.assets[b]
    return A.usd_price / B.usd_price * 10.0 ** (B.decimals - A.decimals)


#: typical fee rate per asset: sat/vbyte on UTXO chains, base units per gas on account chains
FEE_BASE = {"BTC": 12, "ETH": 20, "USDT": 30, "USDC": 30, "WBTC": 1, "TRX": 48,
            "USDT-TRON": 15, "AVAX": 30, "USDT-AVAX": 1}


# ----------------------------------------------------------------------------- helpers
class _Ctx:
    """Shared state while generating one economy."""

    def __init__(self, world: World, stream: OpStream, cfg: EconomyConfig,
                 rng: np.random.Generator):
        self.w = world
        self.s = stream
        self.cfg = cfg
        self.rng = rng
        self.t_start = world.t0 + HOUR
        self.t_end = world.t0 + cfg.days * DAY
        self.fee_base = {world.asset_id(k): v for k, v in FEE_BASE.items()}
        self.wallet_fixed_fee: np.ndarray | None = None
        self._wealth = np.ones(0)

    def set_wealth(self, wallets: np.ndarray, mult: np.ndarray) -> None:
        size = max(len(self._wealth), int(wallets.max(initial=-1)) + 1)
        w = np.ones(size)
        w[: len(self._wealth)] = self._wealth
        w[wallets] = mult
        self._wealth = w

    def wealth(self, wallets) -> np.ndarray:
        """Wealth multiplier of each wallet's owner (1 for wallets without one)."""
        wallets = np.asarray(wallets, np.int64)
        inside = wallets < len(self._wealth)
        return np.where(inside, self._wealth[np.where(inside, wallets, 0)], 1.0)

    def times(self, n: int, start: int | None = None, end: int | None = None) -> np.ndarray:
        """Timestamps in [start, end] with a daily cycle and calmer weekends (UTC)."""
        start = self.t_start if start is None else start
        end = self.t_end if end is None else end
        days = max((end - start) // DAY, 1)
        week = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.7])  # t0 is a Monday
        dw = week[(np.arange(days) + (start - self.w.t0) // DAY) % 7]
        day = self.rng.choice(days, n, p=dw / dw.sum())
        cdf = np.cumsum(HOURLY_ACTIVITY)
        hour = np.searchsorted(cdf / cdf[-1], self.rng.random(n))
        t = start + day * DAY + hour * HOUR + self.rng.integers(0, HOUR, n)
        return np.minimum(t, end).astype(np.int64)

    def pick(self, pool: np.ndarray, n: int) -> np.ndarray:
        """Heavy-tailed choice: rank power law through a fixed random relabelling."""
        if len(pool) == 0:
            raise ConfigError("the economy is too small for its behaviours; raise transactions")
        k = self.cfg.activity_exponent
        r = np.minimum((len(pool) * self.rng.random(n) ** k).astype(np.int64), len(pool) - 1)
        return pool[r]

    def usd(self, n: int, median: float, sigma: float) -> np.ndarray:
        """``n`` log-normal USD amounts around ``median`` (times ``value_scale``)."""
        return np.exp(np.log(median * self.cfg.value_scale)
                      + sigma * self.rng.standard_normal(n))

    def units(self, asset: int, usd: np.ndarray) -> np.ndarray:
        """USD to base units, rounded to 1-2 significant whole-unit digits at the round rate."""
        a = self.w.assets[asset]
        x = np.asarray(usd, float) / a.usd_price  # whole units
        rnd = self.rng.random(len(x)) < self.cfg.round_amount_rate
        mag = 10.0 ** np.floor(np.log10(np.maximum(x, 1e-12)))
        digits = np.where(self.rng.random(len(x)) < 0.5, 1.0, 0.1)
        rounded = np.maximum(np.round(x / (mag * digits)), 1) * mag * digits
        x = np.where(rnd, rounded, x)
        return np.maximum(np.round(x * 10.0 ** a.decimals), a.dust * 2).astype(np.int64)

    def fee_rate(self, asset: int, src_wallet: np.ndarray) -> np.ndarray:
        base = self.fee_base[asset]
        n = len(src_wallet)
        est = np.maximum(np.round(base * np.exp(FEE_SIGMA * self.rng.standard_normal(n))), 1)
        ff = self.wallet_fixed_fee
        if ff is None:
            fixed = np.zeros(n)
        else:
            src_wallet = np.asarray(src_wallet, np.int64)
            fixed = np.where(src_wallet < len(ff), ff[np.minimum(src_wallet, len(ff) - 1)], 0.0)
        fixed_rate = np.maximum(np.round(base * fixed), 1)
        return np.where(fixed > 0, fixed_rate, est).astype(np.int64)

    def aux(self, n: int) -> np.ndarray:
        return self.rng.integers(0, 1 << 30, n)


def _sample(rng: np.random.Generator, pool: np.ndarray, k) -> np.ndarray:
    """Up to ``k`` distinct elements of ``pool`` (all of it when it is smaller)."""
    return rng.choice(pool, min(int(k), len(pool)), replace=False)


def _endpoint(world: World, entity: int, chain: int, attribution: float) -> Endpoint:
    w = world.add_wallets(entity, chain, attribution=attribution)
    return Endpoint(chain, int(w[0]), int(world.main_address(w)[0]))


# ----------------------------------------------------------------------------- economy
def build_economy(world: World, stream: OpStream, cfg: EconomyConfig,
                  rng: np.random.Generator) -> Services:
    """Create the benign entities and add their activity to ``stream``."""
    cfg.validate()
    c = _Ctx(world, stream, cfg, rng)
    W = world
    N = cfg.transactions
    chains = {W.chain_id(n): s for n, s in cfg.chain_share}
    tot = sum(chains.values()) or 1.0
    chains = {k: v / tot for k, v in chains.items()}
    btc, eth, trx = W.chain_id("bitcoin"), W.chain_id("ethereum"), W.chain_id("tron")
    attr_s = cfg.service_attribution

    # -- users: one wallet on their home chain; multi-chain users get more wallets lazily
    n_users = max(60, int(N * cfg.users_per_transaction))
    user_ent = W.add_entities(EntityKind.RETAIL, n_users)
    home = rng.choice(np.array(list(chains)), n_users, p=np.array(list(chains.values())))
    users: dict[int, np.ndarray] = {}
    user_of_wallet: dict[int, np.ndarray] = {}
    # wealth is a property of the person: heavy-tailed, the same on every chain
    ent_wealth = np.exp(cfg.wealth_sigma * rng.standard_normal(n_users))
    for ch in chains:
        ents = user_ent[home == ch]
        if len(ents) < 8:
            ents = np.concatenate([ents, _sample(rng, user_ent, 8)])
        lifo = rng.random(len(ents)) < cfg.newest_first_rate if W.is_utxo(ch) else False
        users[ch] = W.add_wallets(ents, ch, attribution=0.0, lifo=lifo)
        user_of_wallet[ch] = ents
        c.set_wealth(users[ch], ent_wealth[ents - user_ent[0]])

    # -- services
    big = 10.0 ** 9 * cfg.value_scale  # USD scale of service reserves
    exchanges = []
    ex_ent = W.add_entities(EntityKind.EXCHANGE, cfg.exchanges,
                            name=np.array([f"exchange-{i:02d}" for i in range(cfg.exchanges)],
                                          object))
    for i, e in enumerate(ex_ent):
        hot, cold, dep = {}, {}, {}
        for ch in chains:
            hot[ch] = _endpoint(W, e, ch, attr_s)
            cold[ch] = _endpoint(W, e, ch, attr_s * 0.8)
            dep[ch] = int(W.add_wallets(e, ch, attribution=cfg.deposit_attribution,
                                        n_addresses=1)[0])
        exchanges.append(Exchange(int(e), f"exchange-{i:02d}", hot, cold, dep))

    dex_ent = W.add_entities(EntityKind.DEX, 1, name="dex")[0]
    dex = {ch: _endpoint(W, dex_ent, ch, 1.0) for ch in chains if not W.is_utxo(ch)}

    def asset(sym):
        return W.asset_id(sym)

    bridge_specs = [
        ("wrapped-btc-bridge", "BTC", "WBTC", 0.001, True, (HOUR, 3 * HOUR)),
        ("thorchain-like", "ETH", "BTC", 0.005, False, (10 * 60, 40 * 60)),
        ("tron-stable-bridge", "USDT", "USDT-TRON", 0.001, False, (2 * 60, 15 * 60)),
        ("avalanche-bridge", "USDT", "USDT-AVAX", 0.001, True, (5 * 60, 25 * 60)),
        ("avalanche-btc-bridge", "BTC", "AVAX", 0.002, False, (20 * 60, 60 * 60)),
    ]
    bridges = []
    for name, a_sym, b_sym, fee, has_id, delay in bridge_specs:
        a, b = asset(a_sym), asset(b_sym)
        ca, cb = W.asset_chain(a), W.asset_chain(b)
        ent = W.add_entities(EntityKind.BRIDGE, 1, name=name)[0]
        bridges.append(Bridge(int(ent), name, a, b, _endpoint(W, ent, ca, 1.0),
                              _endpoint(W, ent, cb, 1.0), fee, has_id, delay))

    mix_ent = W.add_entities(EntityKind.MIXER, 1, name="tornado-like")[0]
    E = asset("ETH")
    denoms = [W.units(E, d) for d in (0.1, 1.0, 10.0, 100.0)]
    relayer_ent = W.add_entities(EntityKind.RETAIL, 1, name="relayer")[0]
    mixer_pool = MixerPool(int(mix_ent), "tornado-like", eth, E,
                           {d: _endpoint(W, mix_ent, eth, 1.0) for d in denoms},
                           _endpoint(W, relayer_ent, eth, 0.0), 0.003)
    cust = []
    for name, fee in (("blender-like", 0.03), ("sinbad-like", 0.025)):
        ent = W.add_entities(EntityKind.MIXER, 1, name=name)[0]
        cust.append(CustodialMixer(int(ent), name, _endpoint(W, ent, btc, attr_s),
                                   asset("BTC"), fee, (HOUR, 24 * HOUR)))
    otc = []
    for i in range(2):
        ent = W.add_entities(EntityKind.OTC, 1, name=f"otc-desk-{i}")[0]
        eps = {}
        for sym in ("BTC", "ETH", "USDT", "USDT-TRON"):
            a = asset(sym)
            eps[a] = _endpoint(W, ent, W.asset_chain(a), attr_s * 0.6)
        otc.append(OTCDesk(int(ent), f"otc-desk-{i}", eps, 0.01))
    mkt_ent = W.add_entities(EntityKind.MARKETPLACE, 1, name="guarantee-market")[0]
    marketplace = _endpoint(W, mkt_ent, trx, attr_s * 0.5)

    # per-wallet fee style, now that the initial wallets exist (later ones are estimators)
    n_w = W.wallets.n
    fixed = np.where(rng.random(n_w) < cfg.fixed_fee_rate,
                     rng.choice(FIXED_FEE_MULTIPLIERS, n_w), 0.0)
    c.wallet_fixed_fee = fixed

    # -- genesis: every balance starts as an issuance at t0
    def genesis(addrs, asset_id, usd):
        _issue(c, W.t0, asset_id, addrs, c.units(asset_id, usd))

    for ch, ws in users.items():
        main = W.main_address(ws)
        for a_id, a in enumerate(W.assets):
            if W.asset_chain(a_id) != ch:
                continue
            share = 1.0 if a.native else 0.6
            sel = main[rng.random(len(main)) < share]
            wsel = ws[np.isin(main, sel)]
            genesis(sel, a_id, c.usd(len(sel), 3000.0, 1.3) * c.wealth(wsel))
    for ex in exchanges:
        for ch in chains:
            for a_id in range(len(W.assets)):
                if W.asset_chain(a_id) == ch:
                    genesis([ex.hot[ch].address], a_id, np.array([big * 0.02]))
                    genesis([ex.cold[ch].address], a_id, np.array([big * 0.1]))
    for ch, ep in dex.items():
        for a_id in range(len(W.assets)):
            if W.asset_chain(a_id) == ch:
                genesis([ep.address], a_id, np.array([big * 0.5]))
    for b in bridges:
        genesis([b.vault_a.address], b.asset_a, np.array([big * 0.3]))
        genesis([b.vault_b.address], b.asset_b, np.array([big * 0.3]))
    for m in cust:
        genesis([m.endpoint.address], m.asset, np.array([big * 0.01]))
    for d in otc:
        for a_id, ep in d.endpoints.items():
            genesis([ep.address], a_id, np.array([big * 0.05]))
    genesis([marketplace.address], asset("USDT-TRON"), np.array([big * 0.01]))

    services = Services(
        exchanges=exchanges, dex=dex, dex_fee=0.003, bridges=bridges, mixer_pool=mixer_pool,
        coinjoin_wallets=np.zeros(0, np.int64),
        coinjoin_denoms=tuple(W.units(asset("BTC"), d) for d in (0.001, 0.01, 0.05, 0.1)),
        custodial_mixers=cust, otc=otc, marketplace=marketplace, fee_base=c.fee_base,
        fixed_fee_rate=cfg.fixed_fee_rate,
        users=users, days=cfg.days,
    )

    # -- behaviours
    mix = dict(cfg.mix)
    tot = sum(mix.values()) or 1.0
    # Some soft ops find their payer short of funds and are skipped by the kernel, while
    # sweeps and payouts add ops of their own; the factor brings the realised count close
    # to ``transactions`` (within a few percent, see tests).
    n_of = {k: int(round(1.03 * N * v / tot)) for k, v in mix.items()}
    # forwarded payments add a transaction each: keep the total near ``transactions``
    n_of["payment"] = int(round(n_of["payment"] / (1.0 + cfg.forward_rate)))
    _payments(c, users, chains, n_of["payment"])
    _exchange_flows(c, users, chains, exchanges, n_of["exchange_deposit"],
                    n_of["exchange_withdrawal"])
    _merchants(c, users, chains, exchanges, n_of["merchant"])
    _payroll_and_airdrops(c, users, n_of["payroll"], n_of["airdrop"])
    _mining(c, users, n_of["mining"])
    _swaps(c, users, chains, dex, services, n_of["swap"])
    _bridges(c, users, chains, user_of_wallet, bridges, n_of["bridge"])
    services.coinjoin_wallets = _mixers(c, users, user_of_wallet, mixer_pool, cust,
                                        services.coinjoin_denoms, n_of["mixer_pool"],
                                        n_of["coinjoin"], n_of["custodial_mixer"])
    _otc_and_market(c, users, user_of_wallet, otc, marketplace, n_of["otc"],
                    n_of["marketplace"])
    _processors(c, users, n_of["processor"])
    return services


def _issue(c: _Ctx, t, asset: int, addrs, amounts, per_tx: int = 1000):
    """Issuance (genesis allocation or mint) at time ``t``, at most ``per_tx`` outputs a tx."""
    addrs = np.asarray(addrs, np.int64)
    amounts = np.broadcast_to(np.asarray(amounts, np.int64), addrs.shape)
    n_tx = -(-len(addrs) // per_tx)
    if n_tx == 0:
        return
    cnt = np.full(n_tx, per_tx)
    cnt[-1] = len(addrs) - per_tx * (n_tx - 1)
    c.s.add(t=np.full(n_tx, t), chain=c.w.asset_chain(asset), asset=asset, code=OP_ISSUE,
            src=-1, out_count=cnt, out_addr=addrs, out_value=amounts)


def _src_of(c: _Ctx, chain: int, wallets: np.ndarray) -> np.ndarray:
    return wallets if c.w.is_utxo(chain) else c.w.main_address(wallets)


def _assets_of(c: _Ctx, chain: int) -> list[int]:
    return [i for i in range(len(c.w.assets)) if c.w.asset_chain(i) == chain]


def _pay_one(c: _Ctx, chain: int, asset: int, t, src_wallet, dst_addr, dst_wallet, amount,
             **kw):
    """A batch of single-output PAY ops (plus change on UTXO chains)."""
    n = len(t)
    utxo = c.w.is_utxo(chain)
    if utxo and "change" not in kw:
        kw["change"] = np.where(c.rng.random(n) < c.cfg.change_reuse_rate, CHANGE_MAIN, FRESH)
    return c.s.add(
        t=t, chain=chain, asset=asset, code=OP_PAY, src=_src_of(c, chain, src_wallet),
        out_count=1, out_addr=dst_addr, out_wallet=dst_wallet, out_value=amount,
        fee_rate=c.fee_rate(asset, src_wallet), aux=c.aux(n), **kw)


def _split(chains: dict, n: int, rng) -> dict[int, int]:
    ks = list(chains)
    counts = rng.multinomial(max(n, 0), np.array([chains[k] for k in ks]))
    return dict(zip(ks, counts))


def _payments(c: _Ctx, users, chains, n):
    """Peer-to-peer payments between users (UTXO: change outputs; the peel look-alike)."""
    for ch, k in _split(chains, n, c.rng).items():
        if k == 0:
            continue
        ws = users[ch]
        payer = c.pick(ws, k)
        payee = ws[c.rng.integers(0, len(ws), k)]
        assets = _assets_of(c, ch)
        a_pick = c.rng.choice(np.array(assets), k,
                              p=_asset_weights(c, assets))
        t = c.times(k)
        fresh = (c.rng.random(k) < c.cfg.fresh_address_rate) & c.w.is_utxo(ch)
        usd = c.usd(k, 200.0, 1.4) * c.wealth(payer)
        fwd = c.rng.random(k) < c.cfg.forward_rate
        nxt = ws[c.rng.integers(0, len(ws), k)]
        # account chains: a payment that is passed on arrives at a temporary account of the
        # payee (a fresh address), which forwards it: short-lived relay addresses
        relay = np.full(k, -1, np.int64)
        if not c.w.is_utxo(ch) and fwd.any():
            relay[fwd] = c.w.main_address(c.w.add_wallets(c.w.wallets.column("entity")[
                payee[fwd]], ch))
        dst = np.where(fresh, FRESH, np.where(relay >= 0, relay, c.w.main_address(payee)))
        for a in assets:
            m = a_pick == a
            if m.any():
                _pay_one(c, ch, a, t[m], payer[m], dst[m], payee[m], c.units(a, usd[m]))
            # pass-through look-alike: the payee passes most of its balance on within hours,
            # keeping the rest at a fresh address (UTXO) or where it is (account)
            f = m & fwd
            kf = int(f.sum())
            if kf == 0:
                continue
            # delays log-uniform from 2 minutes to 12 hours: bots, traders, impatient users
            tf = t[f] + np.exp(c.rng.uniform(np.log(120), np.log(12 * HOUR), kf)).astype(np.int64)
            keep = c.rng.integers(500, 4000, kf)
            if c.w.is_utxo(ch):
                c.s.add(t=tf, chain=ch, asset=a, code=OP_SPLIT, src=payee[f], out_count=2,
                        out_addr=np.column_stack([np.full(kf, FRESH), np.full(kf, FRESH)]).ravel(),
                        out_wallet=np.column_stack([nxt[f], payee[f]]).ravel(),
                        out_value=np.column_stack([10_000 - keep, keep]).ravel(),
                        fee_rate=c.fee_rate(a, payee[f]), aux=c.aux(kf))
            else:
                c.s.add(t=tf, chain=ch, asset=a, code=OP_PAY, src=relay[f],
                        out_count=1, out_addr=c.w.main_address(nxt[f]),
                        out_value=c.units(a, usd[f] * (10_000 - keep) / 10_000),
                        fee_rate=c.fee_rate(a, payee[f]), aux=c.aux(kf))


def default_asset_weight(asset) -> float:
    """An asset's weight among its chain's payments unless ``economy.asset_share`` sets it:
    3 for the native coin and USDT, 1 for the others."""
    return 3.0 if asset.native or asset.symbol.startswith("USDT") else 1.0


def _asset_weights(c: _Ctx, assets: list[int]) -> np.ndarray:
    """Shares of a chain's assets in its payments, exchange flows and merchant sales."""
    given = dict(c.cfg.asset_share)
    w = np.array([given.get(a.symbol, default_asset_weight(a))
                  for a in (c.w.assets[i] for i in assets)], dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones(len(assets))
    return w / w.sum()


def _exchange_flows(c: _Ctx, users, chains, exchanges, n_dep, n_wd):
    W, rng = c.w, c.rng

    def per_exchange(ch):
        """Lookup arrays indexed by exchange number: hot address, hot wallet, deposit wallet."""
        return (np.array([ex.hot[ch].address for ex in exchanges]),
                np.array([ex.hot[ch].wallet for ex in exchanges]),
                np.array([ex.deposit_wallet[ch] for ex in exchanges]))

    for ch, k in _split(chains, n_dep, rng).items():
        if k == 0:
            continue
        hot_addr, hot_wallet, dep_wallet = per_exchange(ch)
        ws = users[ch]
        # each user has one deposit address at its home exchange (created on first use)
        ex_of = rng.integers(0, len(exchanges), len(ws))
        dep_addr = np.empty(len(ws), np.int64)
        for i, ex in enumerate(exchanges):
            sel = np.flatnonzero(ex_of == i)
            dep_addr[sel] = ex.new_deposit_addresses(W, ch, len(sel))
        who = c.pick(np.arange(len(ws)), k)
        t = c.times(k)
        assets = _assets_of(c, ch)
        a_pick = rng.choice(np.array(assets), k, p=_asset_weights(c, assets))
        usd = c.usd(k, 400.0, 1.3) * c.wealth(ws[who])
        for a in assets:
            m = a_pick == a
            if not m.any():
                continue
            dst = dep_addr[who[m]]
            dwal = np.full(len(dst), -1, np.int64)
            if W.is_utxo(ch):
                # many UTXO exchanges hand out a fresh deposit address per deposit
                fr = rng.random(len(dst)) < c.cfg.fresh_deposit_rate
                dst = np.where(fr, FRESH, dst)
                dwal = dep_wallet[ex_of[who[m]]]
            _pay_one(c, ch, a, t[m], ws[who[m]], dst, dwal, c.units(a, usd[m]))
            if not W.is_utxo(ch):
                # account chains: each deposit address is swept on its own (fan-in over time)
                d = dep_addr[who[m]]
                ex_i = ex_of[who[m]]
                hot = hot_addr[ex_i]
                ts = t[m] + rng.integers(10 * 60, 12 * HOUR, m.sum())
                c.s.add(t=ts, chain=ch, asset=a, code=OP_SPLIT, src=d, out_count=1,
                        out_addr=hot, out_value=1, fee_rate=c.fee_base[a], aux=c.aux(len(d)))
        if W.is_utxo(ch):
            # UTXO chains: one consolidation per exchange every few hours (many inputs); each
            # exchange has its own schedule, from every ``sweep_hours`` to 12 times slower
            a = W.native_asset(ch)
            for i, ex in enumerate(exchanges):
                step = c.cfg.sweep_hours * SWEEP_MULT[i % len(SWEEP_MULT)] * HOUR
                ts = np.arange(c.t_start + step, c.t_end, step)
                c.s.add(t=ts + rng.integers(0, min(1800, step // 2), len(ts)), chain=ch, asset=a,
                        code=OP_SPLIT, src=ex.deposit_wallet[ch], out_count=1,
                        out_addr=ex.hot[ch].address, out_value=1, fee_rate=c.fee_base[a] // 2 + 1,
                        aux=c.aux(len(ts)))
    for ch, k in _split(chains, n_wd, rng).items():
        if k == 0:
            continue
        hot_addr, hot_wallet, dep_wallet = per_exchange(ch)
        ws = users[ch]
        assets = _assets_of(c, ch)
        if W.is_utxo(ch):
            a = W.native_asset(ch)
            # batched withdrawals: about 5 recipients per transaction
            n_batches = max(1, k // 5)
            cnt = 1 + rng.poisson(4.0, n_batches)
            cnt = np.minimum(cnt, 60)
            rec = c.pick(ws, int(cnt.sum()))
            fresh = rng.random(len(rec)) < c.cfg.fresh_address_rate
            dst = np.where(fresh, FRESH, W.main_address(rec))
            amt = c.units(a, c.usd(len(rec), 500.0, 1.3) * c.wealth(rec))
            ex_i = rng.integers(0, len(exchanges), n_batches)
            src = hot_wallet[ex_i]
            c.s.add(t=c.times(n_batches), chain=ch, asset=a, code=OP_PAY, src=src,
                    out_count=cnt, out_addr=dst, out_wallet=rec, out_value=amt,
                    change=CHANGE_MAIN, fee_rate=c.fee_rate(a, src), aux=c.aux(n_batches))
        else:
            rec = c.pick(ws, k)
            a_pick = rng.choice(np.array(assets), k, p=_asset_weights(c, assets))
            ex_i = rng.integers(0, len(exchanges), k)
            src = hot_addr[ex_i]
            usd = c.usd(k, 500.0, 1.3) * c.wealth(rec)
            t = c.times(k)
            for a in assets:
                m = a_pick == a
                if m.any():
                    c.s.add(t=t[m], chain=ch, asset=a, code=OP_PAY, src=src[m], out_count=1,
                            out_addr=W.main_address(rec[m]), out_value=c.units(a, usd[m]),
                            fee_rate=c.fee_base[a], aux=c.aux(int(m.sum())))
        # cold-wallet moves: a few large transfers each week, both ways
        a = W.native_asset(ch)
        for ex in exchanges:
            ts = np.arange(c.t_start + DAY, c.t_end, 7 * DAY)
            for j, t in enumerate(ts):
                frm, to = (ex.hot[ch], ex.cold[ch]) if j % 2 == 0 else (ex.cold[ch], ex.hot[ch])
                c.s.add(t=[t], chain=ch, asset=a, code=OP_PAY, src=frm.src(W), out_count=1,
                        out_addr=[to.address], out_value=c.units(a, np.array([2e6])),
                        change=CHANGE_MAIN, fee_rate=c.fee_base[a], aux=c.aux(1))


def _merchants(c: _Ctx, users, chains, exchanges, n):
    """Customers pay merchants; merchants sweep weekly to their exchange deposit address."""
    W, rng = c.w, c.rng
    for ch, k in _split(chains, n, rng).items():
        if k == 0 or ch not in users:
            continue
        n_m = max(3, k // 150)
        ents = W.add_entities(EntityKind.MERCHANT, n_m)
        mw = W.add_wallets(ents, ch)
        ws = users[ch]
        payer = c.pick(ws, k)
        merchant = c.pick(mw, k)
        a = W.native_asset(ch) if W.is_utxo(ch) else _assets_of(c, ch)[1]
        dst = FRESH if W.is_utxo(ch) else W.main_address(merchant)
        # what a customer spends grows with their wealth (the same multiplier as payments)
        _pay_one(c, ch, a, c.times(k), payer, dst, merchant,
                 c.units(a, c.usd(k, 45.0, 0.9) * c.wealth(payer)))
        ex_i = rng.integers(0, len(exchanges), n_m)
        dep = np.array([exchanges[e].new_deposit_addresses(W, ch, 1)[0] for e in ex_i])
        # UTXO merchants take payments at per-invoice addresses and settle them daily (as
        # payment processors do); account-chain merchants sweep weekly
        step = DAY if W.is_utxo(ch) else 7 * DAY
        ts = np.arange(c.t_start + step, c.t_end, step)
        if len(ts) == 0:
            continue
        tt = (ts[None, :] + rng.integers(0, min(step, DAY) // 2, (n_m, len(ts)))).ravel()
        src = np.repeat(_src_of(c, ch, mw), len(ts))
        dd = np.repeat(dep, len(ts))
        c.s.add(t=tt, chain=ch, asset=a, code=OP_SPLIT, src=src, out_count=1, out_addr=dd,
                out_value=1, fee_rate=c.fee_base[a], aux=c.aux(len(tt)))
        if not W.is_utxo(ch):
            hot = np.repeat(np.array([exchanges[e].hot[ch].address for e in ex_i]), len(ts))
            c.s.add(t=tt + HOUR, chain=ch, asset=a, code=OP_SPLIT, src=dd, out_count=1,
                    out_addr=hot, out_value=1, fee_rate=c.fee_base[a], aux=c.aux(len(tt)))


def _payroll_and_airdrops(c: _Ctx, users, n_payroll, n_airdrop):
    """Batched payouts (fan-out): employers pay staff in one multi-output transaction."""
    W, rng = c.w, c.rng
    for ch_name, sym in (("ethereum", "USDT"), ("tron", "USDT-TRON")):
        ch = W.chain_id(ch_name)
        if ch not in users:
            continue
        a = W.asset_id(sym)
        n_emp = max(1, n_payroll // 40)
        ents = W.add_entities(EntityKind.EMPLOYER, n_emp)
        ew = W.add_wallets(ents, ch)
        size = rng.integers(5, 40, n_emp)
        staff = rng.choice(users[ch], int(size.sum()))
        sal = c.units(a, c.usd(len(staff), 3000.0, 0.4))
        ts = np.arange(c.t_start + 14 * DAY, c.t_end, 14 * DAY)
        k = len(ts)
        _issue(c, W.t0, a, W.main_address(ew),
               np.bincount(np.repeat(np.arange(n_emp), size), weights=sal,
                           minlength=n_emp).astype(np.int64) * (k + 1))
        if k == 0:
            continue
        # one batched payout per employer and pay day (a benign fan-out)
        emp = np.repeat(np.arange(n_emp), k)
        starts = np.cumsum(size) - size
        idx = np.concatenate([np.arange(starts[e], starts[e] + size[e]) for e in emp])
        c.s.add(t=np.tile(ts, n_emp) + rng.integers(0, 3 * HOUR, n_emp * k), chain=ch, asset=a,
                code=OP_PAY, src=W.main_address(ew)[emp], out_count=size[emp],
                out_addr=W.main_address(staff[idx]), out_value=sal[idx],
                fee_rate=c.fee_base[a], aux=c.aux(n_emp * k))
    # airdrops: a distributor sends small amounts of USDC to many users, 200 per transaction
    eth = W.chain_id("ethereum")
    if eth in users and n_airdrop > 0:
        a = W.asset_id("USDC")
        ent = W.add_entities(EntityKind.AIRDROP, 1, name="airdrop")
        aw = W.add_wallets(ent, eth)
        n_rec = min(n_airdrop * 200, len(users[eth]))
        rec = _sample(rng, users[eth], n_rec)
        amt = c.units(a, np.full(n_rec, 25.0))
        c.s.add(t=W.t0, chain=eth, asset=a, code=OP_ISSUE, src=-1, out_count=1,
                out_addr=W.main_address(aw), out_value=[int(amt.sum() * 2)])
        n_tx = max(1, -(-n_rec // 200))
        cnt = np.full(n_tx, 200)
        cnt[-1] = n_rec - 200 * (n_tx - 1)
        t = c.t_start + DAY * rng.integers(1, max(2, c.cfg.days - 1)) + np.arange(n_tx) * 30
        c.s.add(t=t, chain=eth, asset=a, code=OP_PAY, src=int(W.main_address(aw)[0]),
                out_count=cnt, out_addr=W.main_address(rec), out_value=amt,
                fee_rate=c.fee_base[a], aux=c.aux(n_tx))


def _mining(c: _Ctx, users, n):
    """Bitcoin mining pools: coinbase issuance, then daily payouts to many miners."""
    W, rng = c.w, c.rng
    btc = W.chain_id("bitcoin")
    if btc not in users or n <= 0:
        return
    a = W.native_asset(btc)
    ents = W.add_entities(EntityKind.MINING_POOL, 3,
                          name=np.array(["pool-a", "pool-b", "pool-c"], object))
    pw = W.add_wallets(ents, btc, attribution=c.cfg.service_attribution)
    n_cb = max(3, n // 2)
    t_cb = np.sort(c.rng.integers(c.t_start, c.t_end, n_cb))
    pool = rng.integers(0, 3, n_cb)
    c.s.add(t=t_cb, chain=btc, asset=a, code=OP_ISSUE, src=-1, out_count=1,
            out_addr=W.main_address(pw[pool]), out_value=W.units(a, 3.125))
    miners = [_sample(rng, users[btc], rng.integers(10, 40)) for _ in range(3)]
    n_pay = max(3, n - n_cb)
    t_pay = np.sort(c.rng.integers(c.t_start + DAY, c.t_end, n_pay))
    which = rng.integers(0, 3, n_pay)
    cnt = np.array([len(miners[p]) for p in which])
    rec = np.concatenate([miners[p] for p in which])
    amt = c.units(a, c.usd(len(rec), 150.0, 1.0))
    c.s.add(t=t_pay, chain=btc, asset=a, code=OP_PAY, src=pw[which], out_count=cnt,
            out_addr=np.where(rng.random(len(rec)) < 0.5, W.main_address(rec), FRESH),
            out_wallet=rec, out_value=amt, change=CHANGE_MAIN,
            fee_rate=c.fee_base[a], aux=c.aux(n_pay))


def _swaps(c: _Ctx, users, chains, dex, services, n):
    """DEX swaps: asset X into the pool, asset Y back to the user (hidden swap link); each
    chain's share of swaps follows its share of activity."""
    W, rng = c.w, c.rng
    dex_chains = {ch: chains[ch] for ch in dex if ch in users}
    tot = sum(dex_chains.values())
    if not dex_chains or tot <= 0:
        return
    for ch, k in _split({k: v / tot for k, v in dex_chains.items()}, n, rng).items():
        if k == 0:
            continue
        assets = _assets_of(c, ch)
        ws = users[ch]
        who = c.pick(ws, k)
        arr = np.array(assets)
        i_in = rng.integers(0, len(arr), k)
        i_out = (i_in + rng.integers(1, len(arr), k)) % len(arr)
        a_in, a_out = arr[i_in], arr[i_out]
        t = c.times(k)
        usd = c.usd(k, 800.0, 1.2)
        pool = dex[ch].address
        for ai in assets:
            for ao in assets:
                m = (a_in == ai) & (a_out == ao)
                if not m.any():
                    continue
                km = int(m.sum())
                ref = c.s.add(t=t[m], chain=ch, asset=ai, code=OP_PAY,
                              src=W.main_address(who[m]), out_count=1, out_addr=pool,
                              out_value=c.units(ai, usd[m]), fee_rate=c.fee_rate(ai, who[m]),
                              aux=c.aux(km))
                c.s.add(t=t[m] + rng.integers(12, 60, km), chain=ch, asset=ao,
                        code=OP_LINKED, src=pool, out_count=1,
                        out_addr=W.main_address(who[m]), out_value=1, link=ref,
                        link_kind=int(LinkKind.SWAP), rate=services.swap_rate(W, ai, ao),
                        fee_rate=c.fee_base[ao], aux=c.aux(km))


def _owner_entities(c: _Ctx, users, user_of_wallet, chain: int, wallets) -> np.ndarray:
    pos = np.searchsorted(users[chain], wallets)
    return user_of_wallet[chain][pos]


def _bridges(c: _Ctx, users, chains, user_of_wallet, bridges, n):
    """Bridge transfers both ways: lock on one chain, release on the other after a delay.
    A bridge's share of the traffic grows with the activity of the chains it joins (the
    geometric mean of their shares)."""
    W, rng = c.w, c.rng
    usable = [b for b in bridges if W.asset_chain(b.asset_a) in users
              and W.asset_chain(b.asset_b) in users]
    if not usable or n <= 0:
        return
    pw = np.array([np.sqrt(chains.get(W.asset_chain(b.asset_a), 0.0)
                           * chains.get(W.asset_chain(b.asset_b), 0.0)) for b in usable])
    if pw.sum() <= 0:
        return
    per = rng.multinomial(n, pw / pw.sum())
    memo_next = 1_000_000
    for b, k in zip(usable, per):
        if k == 0:
            continue
        fwd = rng.random(k) < 0.6
        for direction in (True, False):
            m = int((fwd == direction).sum())
            if m == 0:
                continue
            a_in, a_out = (b.asset_a, b.asset_b) if direction else (b.asset_b, b.asset_a)
            v_in, v_out = (b.vault_a, b.vault_b) if direction else (b.vault_b, b.vault_a)
            ch_in, ch_out = W.asset_chain(a_in), W.asset_chain(a_out)
            who = c.pick(users[ch_in], m)
            ents = _owner_entities(c, users, user_of_wallet, ch_in, who)
            dest = W.add_wallets(ents, ch_out)
            t = c.times(m)
            memo = np.arange(memo_next, memo_next + m) if b.has_id else -1
            memo_next += m
            ref = _pay_one(c, ch_in, a_in, t, who, v_in.address, -1,
                           c.units(a_in, c.usd(m, 2000.0, 1.2)), memo=memo)
            c.s.add(t=t + rng.integers(b.delay[0], b.delay[1], m), chain=ch_out, asset=a_out,
                    code=OP_LINKED, src=v_out.src(W), out_count=1, out_addr=W.main_address(dest),
                    out_value=1, link=ref, link_kind=int(LinkKind.BRIDGE),
                    rate=b.rate(W, direction), memo=memo, change=v_out.address,
                    fee_rate=c.fee_base[a_out], aux=c.aux(m))


def _mixers(c: _Ctx, users, user_of_wallet, pool: MixerPool, cust, cj_denoms, n_pool, n_cj,
            n_cust) -> np.ndarray:
    """Benign privacy users of the three mixer kinds."""
    W, rng = c.w, c.rng
    eth, btc = pool.chain, W.chain_id("bitcoin")
    # fixed-denomination pool: deposit a note, withdraw later to a fresh wallet (relayed or not)
    if eth in users and n_pool > 0:
        priv = _sample(rng, users[eth], max(4, int(len(users[eth]) * c.cfg.privacy_user_rate)))
        who = priv[rng.integers(0, len(priv), n_pool)]
        den = np.array(sorted(pool.pools))
        d = den[rng.choice(len(den), n_pool, p=[0.35, 0.4, 0.2, 0.05])]
        t = c.times(n_pool)
        ents = _owner_entities(c, users, user_of_wallet, eth, who)
        for dv in den:
            m = d == dv
            k = int(m.sum())
            if k == 0:
                continue
            ep = pool.pools[int(dv)]
            # a pool takes the exact note or nothing (EXACT: skipped when the user is short)
            ref = _pay_one(c, eth, pool.asset, t[m], who[m], ep.address, -1, np.full(k, dv),
                           hard=EXACT)
            # 5% withdraw back to the depositing address (the address-match fingerprint)
            reuse = rng.random(k) < 0.05
            fresh_w = W.add_wallets(ents[m], eth)
            dst = np.where(reuse, W.main_address(who[m]), W.main_address(fresh_w))
            relayed = rng.random(k) < 0.7
            cnt = np.where(relayed, 2, 1)
            # relayed withdrawals pay the relayer a share: outputs [recipient, relayer]
            fee_w = int(round(pool.relayer_fee * 10_000))
            first = np.cumsum(cnt) - cnt
            out_addr = np.full(int(cnt.sum()), pool.relayer.address, np.int64)
            out_addr[first] = dst
            out_val = np.full(int(cnt.sum()), fee_w, np.int64)
            out_val[first] = np.where(relayed, 10_000 - fee_w, 1)
            c.s.add(t=t[m] + rng.integers(HOUR, 7 * DAY, k), chain=eth, asset=pool.asset,
                    code=OP_LINKED, src=ep.address, out_count=cnt, out_addr=out_addr,
                    out_value=out_val, link=ref, link_kind=int(LinkKind.MIXER), rate=1.0,
                    fee_rate=c.fee_rate(pool.asset, who[m]), aux=c.aux(k))
    cj_wallets = np.zeros(0, np.int64)
    if btc in users:
        a = W.native_asset(btc)
        cj_wallets = _sample(rng, users[btc], max(12, int(len(users[btc]) * 2 * c.cfg.privacy_user_rate)))
        # CoinJoin rounds: Whirlpool-like (5 equal outputs) and Wasabi-like (>= 10 at 0.1 BTC)
        n_rounds = max(1, n_cj)
        t = c.times(n_rounds)
        wasabi = rng.random(n_rounds) < 0.3
        size = np.where(wasabi, rng.integers(10, 25, n_rounds), 5)
        size = np.minimum(size, len(cj_wallets))
        den = np.where(wasabi, cj_denoms[3],
                       np.array(cj_denoms[:3])[rng.integers(0, 3, n_rounds)])
        parts = np.concatenate([_sample(rng, cj_wallets, s) for s in size])
        c.s.add(t=t, chain=btc, asset=a, code=OP_COINJOIN, src=-1, amount=den, out_count=0,
                out_addr=np.zeros(0, np.int64), out_value=np.zeros(0, np.int64),
                part_count=size, part_wallet=parts, part_addr=FRESH,
                fee_rate=c.fee_base[a], aux=c.aux(n_rounds))
        # custodial mixers: deposit, then payout from the reserve (1-3 outputs) minus a fee
        if n_cust > 0 and cust:
            who = cj_wallets[rng.integers(0, len(cj_wallets), n_cust)]
            which = rng.integers(0, len(cust), n_cust)
            t = c.times(n_cust)
            amt = c.units(a, c.usd(n_cust, 2000.0, 1.0))
            for i, m_ in enumerate(cust):
                m = which == i
                k = int(m.sum())
                if k == 0:
                    continue
                ref = _pay_one(c, btc, a, t[m], who[m], FRESH, m_.endpoint.wallet, amt[m])
                cnt = rng.integers(1, 4, k)
                rec = np.repeat(who[m], cnt)
                c.s.add(t=t[m] + rng.integers(m_.delay[0], m_.delay[1], k), chain=btc, asset=a,
                        code=OP_LINKED, src=m_.endpoint.wallet, out_count=cnt,
                        out_addr=FRESH, out_wallet=rec,
                        out_value=rng.integers(50, 150, int(cnt.sum())), link=ref,
                        link_kind=int(LinkKind.MIXER), rate=1.0 - m_.fee,
                        change=m_.endpoint.address, fee_rate=c.fee_base[a], aux=c.aux(k))
    return cj_wallets


def _otc_and_market(c: _Ctx, users, user_of_wallet, otc, market, n_otc, n_mkt):
    """OTC clients sell BTC/ETH for USDT on TRON; a guarantee marketplace escrows USDT."""
    W, rng = c.w, c.rng
    trx = W.chain_id("tron")
    usdt_t = W.asset_id("USDT-TRON")
    if trx not in users:
        return
    for sym in ("BTC", "ETH"):
        a = W.asset_id(sym)
        ch = W.asset_chain(a)
        if ch not in users or n_otc <= 0:
            continue
        k = max(1, n_otc // 2)
        who = c.pick(users[ch], k)
        ents = _owner_entities(c, users, user_of_wallet, ch, who)
        dest = W.add_wallets(ents, trx)
        desk = rng.integers(0, len(otc), k)
        t = c.times(k)
        for i, d in enumerate(otc):
            m = desk == i
            km = int(m.sum())
            if km == 0:
                continue
            ref = _pay_one(c, ch, a, t[m], who[m], d.endpoints[a].address, -1,
                           c.units(a, c.usd(km, 20_000.0, 1.0)))
            rate = _conversion(W, a, usdt_t) * (1 - d.spread)
            c.s.add(t=t[m] + rng.integers(10 * 60, 6 * HOUR, km), chain=trx, asset=usdt_t,
                    code=OP_LINKED, src=d.endpoints[usdt_t].address, out_count=1,
                    out_addr=W.main_address(dest[m]), out_value=1, link=ref,
                    link_kind=int(LinkKind.OTC), rate=rate, fee_rate=c.fee_base[usdt_t],
                    aux=c.aux(km))
    if n_mkt > 0:
        buyers = c.pick(users[trx], n_mkt)
        sellers = c.pick(users[trx], n_mkt)
        t = c.times(n_mkt)
        ref = _pay_one(c, trx, usdt_t, t, buyers, market.address, -1,
                       c.units(usdt_t, c.usd(n_mkt, 300.0, 1.2)))
        c.s.add(t=t + rng.integers(HOUR, 3 * DAY, n_mkt), chain=trx, asset=usdt_t,
                code=OP_LINKED, src=market.address, out_count=1,
                out_addr=W.main_address(sellers), out_value=1, link=ref,
                link_kind=int(LinkKind.OTC), rate=0.98, fee_rate=c.fee_base[usdt_t],
                aux=c.aux(n_mkt))


def _processors(c: _Ctx, users, n):
    """Payment processors on TRON: customers pay per-merchant addresses, settled daily."""
    W, rng = c.w, c.rng
    trx = W.chain_id("tron")
    if trx not in users or n <= 0:
        return
    a = W.asset_id("USDT-TRON")
    ents = W.add_entities(EntityKind.PAYMENT_PROCESSOR, 2,
                          name=np.array(["processor-a", "processor-b"], object))
    n_m = max(4, n // 100)
    m_ent = W.add_entities(EntityKind.MERCHANT, n_m)
    mw = W.add_wallets(m_ent, trx)
    proc = rng.integers(0, 2, n_m)
    pw = np.array([W.add_wallets(ents[p], trx, attribution=c.cfg.service_attribution * 0.5)[0]
                   for p in proc])
    recv = W.main_address(pw)
    who = c.pick(users[trx], n)
    mer = c.pick(np.arange(n_m), n)
    _pay_one(c, trx, a, c.times(n), who, recv[mer], -1,
             c.units(a, c.usd(n, 35.0, 0.8) * c.wealth(who)))
    ts = np.arange(c.t_start + DAY, c.t_end, DAY)
    if len(ts):
        tt = (ts[None, :] + rng.integers(0, 2 * HOUR, (n_m, len(ts)))).ravel()
        c.s.add(t=tt, chain=trx, asset=a, code=OP_SPLIT, src=np.repeat(recv, len(ts)),
                out_count=1, out_addr=np.repeat(W.main_address(mw), len(ts)), out_value=1,
                fee_rate=c.fee_base[a], aux=c.aux(len(tt)))
