"""The sampling context: state shared by the behaviours while one economy is generated.

:class:`EconomyContext` holds the world, the op stream, the configuration and the random
generator, and draws what every behaviour needs: timestamps with a daily and weekly cycle,
heavy-tailed choices of users, log-normal USD amounts with round numbers, wallet fee rates,
and batches of payments and issuances. Every draw goes through ``rng`` in call order, so the
order of calls is part of what a seed produces.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..ops import CHANGE_MAIN, FRESH, OP_ISSUE, OP_PAY, OpStream
from ..schema import DAY, HOUR
from ..world import HOURLY_ACTIVITY, World
from .config import (
    FEE_BASE,
    FEE_SIGMA,
    FIXED_FEE_MULTIPLIERS,
    EconomyConfig,
    default_asset_weight,
)
from .services import Services


class EconomyContext:
    """Shared state while generating one economy.

    Parameters
    ----------
    world : World
        Entities, wallets and addresses; the economy adds its own.
    stream : OpStream
        Where the behaviours add their ops.
    config : EconomyConfig
        The economy's knobs.
    rng : numpy.random.Generator
        The one source of randomness.

    Attributes
    ----------
    chain_share : dict[int, float]
        Chain id -> its normalised share of ``config.chain_share``.
    users : dict[int, numpy.ndarray]
        Chain id -> the retail users' wallets there (set by :func:`.users.add_users`).
    user_entities : dict[int, numpy.ndarray]
        Chain id -> the entity owning each wallet of ``users`` (same positions).
    services : Services
        The economy's services (set by :func:`.providers.open_services`).
    """

    def __init__(self, world: World, stream: OpStream, config: EconomyConfig,
                 rng: np.random.Generator):
        self.world = world
        self.stream = stream
        self.config = config
        self.rng = rng
        self.t_start = world.t0 + HOUR
        self.t_end = world.t0 + config.days * DAY
        self.fee_base = {world.asset_id(k): v for k, v in FEE_BASE.items()}
        self.wallet_fixed_fee: np.ndarray | None = None
        self._wealth = np.ones(0)
        shares = {world.chain_id(n): s for n, s in config.chain_share}
        tot = sum(shares.values()) or 1.0
        self.chain_share = {k: v / tot for k, v in shares.items()}
        self.users: dict[int, np.ndarray] = {}
        self.user_entities: dict[int, np.ndarray] = {}
        self.services: Services | None = None

    # ------------------------------------------------------------------------- wealth, fees
    def set_wealth(self, wallets: np.ndarray, mult: np.ndarray) -> None:
        """Record the wealth multiplier of the owners of ``wallets``."""
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

    def draw_fee_styles(self) -> None:
        """Give each wallet that exists now its fee style: a share ``fixed_fee_rate`` of them
        pays a fixed multiple of the typical rate, the others (and every later wallet) run
        an estimator."""
        n_w = self.world.wallets.n
        self.wallet_fixed_fee = np.where(self.rng.random(n_w) < self.config.fixed_fee_rate,
                                         self.rng.choice(FIXED_FEE_MULTIPLIERS, n_w), 0.0)

    def fee_rate(self, asset: int, src_wallet: np.ndarray) -> np.ndarray:
        """Fee rate each paying wallet's software chooses for ``asset``."""
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

    # ------------------------------------------------------------------------- draws
    def times(self, n: int, start: int | None = None, end: int | None = None) -> np.ndarray:
        """Timestamps in [start, end] with a daily cycle and calmer weekends (UTC)."""
        start = self.t_start if start is None else start
        end = self.t_end if end is None else end
        days = max((end - start) // DAY, 1)
        week = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.7])  # t0 is a Monday
        dw = week[(np.arange(days) + (start - self.world.t0) // DAY) % 7]
        day = self.rng.choice(days, n, p=dw / dw.sum())
        cdf = np.cumsum(HOURLY_ACTIVITY)
        hour = np.searchsorted(cdf / cdf[-1], self.rng.random(n))
        t = start + day * DAY + hour * HOUR + self.rng.integers(0, HOUR, n)
        return np.minimum(t, end).astype(np.int64)

    def pick(self, pool: np.ndarray, n: int) -> np.ndarray:
        """Heavy-tailed choice: rank power law through a fixed random relabelling."""
        if len(pool) == 0:
            raise ConfigError("the economy is too small for its behaviours; raise transactions")
        k = self.config.activity_exponent
        r = np.minimum((len(pool) * self.rng.random(n) ** k).astype(np.int64), len(pool) - 1)
        return pool[r]

    def sample(self, pool: np.ndarray, k) -> np.ndarray:
        """Up to ``k`` distinct elements of ``pool`` (all of it when it is smaller)."""
        return self.rng.choice(pool, min(int(k), len(pool)), replace=False)

    def split(self, shares: dict, n: int) -> dict[int, int]:
        """``n`` ops shared out over the keys of ``shares`` (normalised weights), at random."""
        ks = list(shares)
        counts = self.rng.multinomial(max(n, 0), np.array([shares[k] for k in ks]))
        return dict(zip(ks, counts))

    def usd(self, n: int, median: float, sigma: float) -> np.ndarray:
        """``n`` log-normal USD amounts around ``median`` (times ``value_scale``)."""
        return np.exp(np.log(median * self.config.value_scale)
                      + sigma * self.rng.standard_normal(n))

    def units(self, asset: int, usd: np.ndarray) -> np.ndarray:
        """USD to base units, rounded to 1-2 significant whole-unit digits at the round rate."""
        a = self.world.assets[asset]
        x = np.asarray(usd, float) / a.usd_price  # whole units
        rnd = self.rng.random(len(x)) < self.config.round_amount_rate
        mag = 10.0 ** np.floor(np.log10(np.maximum(x, 1e-12)))
        digits = np.where(self.rng.random(len(x)) < 0.5, 1.0, 0.1)
        rounded = np.maximum(np.round(x / (mag * digits)), 1) * mag * digits
        x = np.where(rnd, rounded, x)
        return np.maximum(np.round(x * 10.0 ** a.decimals), a.dust * 2).astype(np.int64)

    def aux(self, n: int) -> np.ndarray:
        """``n`` random op tie-breakers."""
        return self.rng.integers(0, 1 << 30, n)

    # ------------------------------------------------------------------------- lookups
    def source(self, chain: int, wallets: np.ndarray) -> np.ndarray:
        """What an op's ``src`` takes for ``wallets``: themselves on UTXO chains, their main
        address on account ones."""
        return wallets if self.world.is_utxo(chain) else self.world.main_address(wallets)

    def assets_on(self, chain: int) -> list[int]:
        """Ids of the assets that live on ``chain``."""
        return [i for i in range(len(self.world.assets)) if self.world.asset_chain(i) == chain]

    def asset_weights(self, assets: list[int]) -> np.ndarray:
        """Shares of a chain's assets in its payments, exchange flows and merchant sales."""
        given = dict(self.config.asset_share)
        w = np.array([given.get(a.symbol, default_asset_weight(a))
                      for a in (self.world.assets[i] for i in assets)], dtype=np.float64)
        if w.sum() <= 0:
            w = np.ones(len(assets))
        return w / w.sum()

    def owners(self, chain: int, wallets) -> np.ndarray:
        """Entity of each of the user ``wallets`` on ``chain``."""
        pos = np.searchsorted(self.users[chain], wallets)
        return self.user_entities[chain][pos]

    # ------------------------------------------------------------------------- op batches
    def issue(self, t, asset: int, addrs, amounts, per_tx: int = 1000) -> None:
        """Issuance (genesis allocation or mint) at time ``t``, at most ``per_tx`` outputs a
        tx."""
        addrs = np.asarray(addrs, np.int64)
        amounts = np.broadcast_to(np.asarray(amounts, np.int64), addrs.shape)
        n_tx = -(-len(addrs) // per_tx)
        if n_tx == 0:
            return
        cnt = np.full(n_tx, per_tx)
        cnt[-1] = len(addrs) - per_tx * (n_tx - 1)
        self.stream.add(t=np.full(n_tx, t), chain=self.world.asset_chain(asset), asset=asset,
                        code=OP_ISSUE, src=-1, out_count=cnt, out_addr=addrs,
                        out_value=amounts)

    def pay_one(self, chain: int, asset: int, t, src_wallet, dst_addr, dst_wallet, amount,
                **kw):
        """A batch of single-output PAY ops (plus change on UTXO chains); returns their
        insertion indices (for linked ops)."""
        n = len(t)
        if self.world.is_utxo(chain) and "change" not in kw:
            kw["change"] = np.where(self.rng.random(n) < self.config.change_reuse_rate,
                                    CHANGE_MAIN, FRESH)
        return self.stream.add(
            t=t, chain=chain, asset=asset, code=OP_PAY, src=self.source(chain, src_wallet),
            out_count=1, out_addr=dst_addr, out_wallet=dst_wallet, out_value=amount,
            fee_rate=self.fee_rate(asset, src_wallet), aux=self.aux(n), **kw)
