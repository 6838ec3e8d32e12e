"""The block API: the types and helpers every laundering block is written with.

A block is a function ``fn(ctx, positions, **params) -> positions`` (see the package
docstring for how one is added). It uses only this module: :class:`Ctx` (one incident's
context: randomness, time, wallets, fees, and the op helpers that append to the stream),
:class:`Pos`, :func:`fresh_positions`, :func:`merge`, :func:`need` and
:func:`sweep_deposits`. :class:`OpBuffer` and :class:`Allocator` are what the engine gives a
:class:`Ctx` as its stream and its wallet allocator; :class:`PositionTooSmall` is what
:meth:`Ctx.split` raises when a position cannot pay for its split.

A *position* (:class:`Pos`) is a parcel of laundered value the attacker controls: a wallet (UTXO
chains) or an address (account chains) holding one asset, from a given time on, with a
conservative estimate of how much it holds. Blocks take a list of positions, append ops to the
stream and return the positions where the value ends up. Because the ledger kernel executes
``SPLIT`` ops against real balances (spend everything, divide by weights), blocks never need
exact amounts; estimates are only used to size explicit payments (mixer notes, structured
deposits, peels) and are kept below the true balance (fees are over-estimated).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..economy.config import FEE_SIGMA, FIXED_FEE_MULTIPLIERS
from ..errors import ConfigError
from ..kernel import (
    GAS_EXTRA_OUTPUT,
    GAS_NATIVE,
    GAS_TOKEN,
    UTXO_IN_SIZE,
    UTXO_OUT_SIZE,
    UTXO_TX_OVERHEAD,
)
from ..ops import _DEFAULTS, _OP_FIELDS, OP_LINKED, OP_PAY, OP_SPLIT
from ..schema import DAY, HOUR, Role, Stage, Typology
from ..world import HOURLY_ACTIVITY

MIN_GAP = 60  # seconds between a payment and the next spend of what it paid
PACE_SIGMA = 1.5  # log-spread of the launderer's handling delay (see Ctx.start)
_HOUR_CDF = np.cumsum(HOURLY_ACTIVITY)
_FEE_CAP = float(max(FIXED_FEE_MULTIPLIERS))


class OpBuffer:
    """Collects ops as Python lists and hands them to the
    :class:`~launderbench.simulator.ops.OpStream` in one batch (thousands of one-op
    ``OpStream.add`` calls would dominate the cost).

    Insertion indices are predicted (``stream.n`` at creation plus the running count), so
    nothing else may add to the stream until :meth:`flush`.
    """

    _OUT = ("out_addr", "out_wallet", "out_value", "out_incident")
    _PART = ("part_wallet", "part_addr")

    def __init__(self, stream):
        self.stream = stream
        self.base = stream.n  # insertion index of the first buffered op
        self.n_buffered = 0
        self.cols = {k: [] for k in _OP_FIELDS}
        self.outs = {k: [] for k in self._OUT}
        self.parts = {k: [] for k in self._PART}

    def add(self, **fields) -> np.ndarray:
        """Buffer ops given as :meth:`OpStream.add <launderbench.simulator.ops.OpStream.add>`
        takes them; returns their (predicted) insertion indices."""
        t = fields["t"]
        n = 1 if _scalar(t) else len(t)
        fields.setdefault("part_count", 0)
        if n == 1:  # fast path: one op
            get = fields.get
            for k, col in self.cols.items():
                v = get(k, _DEFAULTS.get(k))
                if isinstance(v, (np.ndarray, list, tuple)):
                    v = v[0]
                col.append(v)
            m = self.cols["out_count"][-1]
            for k, col in self.outs.items():
                v = get(k)
                if v is None:
                    col.extend([-1] * m)
                elif isinstance(v, np.ndarray):
                    col.extend(v.tolist())
                elif isinstance(v, (list, tuple)):
                    col.extend(v)
                else:
                    col.extend([v] * m)
            pm = self.cols["part_count"][-1]
            if pm:
                for k, col in self.parts.items():
                    v = get(k)
                    col.extend([v] * pm if _scalar(v) else np.asarray(v).tolist())
            self.n_buffered += 1
            return np.array([self.base + self.n_buffered - 1], np.int64)
        for k, col in self.cols.items():
            v = fields.get(k, _DEFAULTS.get(k))
            if v is None:
                raise ValueError(f"op field '{k}' is required")
            if _scalar(v):
                col.extend([v] * n)
            else:
                v = v.tolist() if isinstance(v, np.ndarray) else list(v)
                if len(v) != n:
                    raise ValueError(f"op field '{k}' has {len(v)} values for {n} ops")
                col.extend(v)
        m = sum(self.cols["out_count"][-n:])
        for k, col in self.outs.items():
            v = fields.get(k)
            if v is None:
                v = -1
            if _scalar(v):
                col.extend([v] * m)
            else:
                v = v.tolist() if isinstance(v, np.ndarray) else list(v)
                if len(v) != m:
                    raise ValueError(f"{k} has {len(v)} values, expected {m}")
                col.extend(v)
        pm = sum(self.cols["part_count"][-n:])
        if pm:
            for k, col in self.parts.items():
                v = fields.get(k)
                col.extend([v] * pm if _scalar(v) else np.asarray(v).tolist())
        first = self.base + self.n_buffered
        idx = np.arange(first, first + n, dtype=np.int64)
        self.n_buffered += n
        return idx

    def flush(self) -> None:
        """Hand the buffered ops to the stream."""
        if self.stream.n != self.base:
            raise RuntimeError("the op stream grew while laundering ops were buffered")
        if self.n_buffered == 0:
            return
        c = {k: np.asarray(v, dtype=_OP_FIELDS[k]) for k, v in self.cols.items()}
        self.stream.add(
            **c, out_addr=np.asarray(self.outs["out_addr"], np.int64),
            out_wallet=np.asarray(self.outs["out_wallet"], np.int64),
            out_value=np.asarray(self.outs["out_value"], np.int64),
            out_incident=np.asarray(self.outs["out_incident"], np.int32),
            part_wallet=np.asarray(self.parts["part_wallet"], np.int64),
            part_addr=np.asarray(self.parts["part_addr"], np.int64))
        self.base, self.n_buffered = self.stream.n, 0
        self.cols = {k: [] for k in _OP_FIELDS}
        self.outs = {k: [] for k in self._OUT}
        self.parts = {k: [] for k in self._PART}


class Allocator:
    """Creates wallets and addresses with predicted ids and adds them to the world in one
    batch (``World.add_wallets`` re-concatenates its columns on every call, which is linear
    in the world's size). Nothing else may add wallets or addresses until :meth:`flush`."""

    def __init__(self, world):
        self.world = world
        self.first_wallet, self.first_address = world.wallets.n, world.addresses.n
        self.new_wallets = {k: [] for k in ("entity", "chain", "incident", "role",
                                            "attribution", "main")}
        self.new_addresses = {"wallet": [], "chain": []}

    def wallets(self, entity: int, chain: int, count: int, incident=-1, role=0,
                attribution=0.0) -> tuple[np.ndarray, np.ndarray]:
        """``count`` new wallets of ``entity`` on ``chain``, one new (main) address each;
        returns their wallet ids and address ids."""
        first = self.first_wallet + len(self.new_wallets["entity"])
        w = np.arange(first, first + count)
        a = self.addresses_of(w, chain)
        for k, v in (("entity", entity), ("chain", chain), ("incident", incident),
                     ("role", int(role)), ("attribution", attribution)):
            self.new_wallets[k].extend([v] * count)
        self.new_wallets["main"].extend(a.tolist())
        return w.astype(np.int64), a

    def addresses_of(self, wallets, chain: int) -> np.ndarray:
        """One new address on ``chain`` for each of ``wallets``; returns their ids."""
        wallets = np.asarray(wallets, np.int64)
        start = self.first_address + len(self.new_addresses["wallet"])
        self.new_addresses["wallet"].extend(wallets.tolist())
        self.new_addresses["chain"].extend([chain] * len(wallets))
        return np.arange(start, start + len(wallets), dtype=np.int64)

    def flush(self) -> None:
        """Add the allocated wallets and addresses to the world."""
        world = self.world
        if world.wallets.n != self.first_wallet or world.addresses.n != self.first_address:
            raise RuntimeError("the world grew while laundering wallets were allocated")
        nw, na = len(self.new_wallets["entity"]), len(self.new_addresses["wallet"])
        if nw:
            world.wallets.add(nw, **{k: np.asarray(v) for k, v in self.new_wallets.items()})
        if na:
            world.addresses.add(na, wallet=np.asarray(self.new_addresses["wallet"], np.int64),
                                chain=np.asarray(self.new_addresses["chain"], np.int16))
        self.__init__(world)


def _scalar(v) -> bool:
    return not isinstance(v, (np.ndarray, list, tuple))


_TYP_NAMES = {int(t): t.name.lower() for t in Typology}


@dataclass
class Pos:
    """Value held by the attacker: ``wallet``/``addr`` on ``chain``, in ``asset``, from
    ``time`` on."""

    chain: int
    asset: int
    wallet: int
    addr: int
    time: int  # when the value is there to be moved on
    est: int  # conservative estimate of the balance (base units)
    ncoins: int = 1  # UTXO coins in the wallet (for fee estimates)

    def src(self, utxo: bool) -> int:
        """What an op spends from: the wallet on UTXO chains, the address on account chains."""
        return self.wallet if utxo else self.addr


@dataclass
class Ctx:
    """Everything a block needs for one incident."""

    world: object
    stream: object
    services: object
    rng: np.random.Generator
    incident: int  # incident id (-1 for a benign twin)
    entity: int  # attacker entity
    difficulty: dict  # the scenario's [difficulty] knobs, defaults filled in
    fingerprints: dict  # rates of this incident (already drawn to on/off where per-incident)
    scale: float  # value scale (real USD -> scenario USD)
    t_end: int
    day_scale: float  # compression of delays of a day or more
    stage: int = int(Stage.LAYERING)
    typology: int | None = None  # forced typology (composite blocks such as the cascade)
    fixed_fee: dict = field(default_factory=dict)  # asset -> fixed fee rate (fingerprint)
    memo_used: set = field(default_factory=set)
    n_ops: dict = field(default_factory=dict)  # typology name -> ops added
    used_deposits: list = field(default_factory=list)
    alloc: Allocator | None = None
    twin: bool = False  # a benign twin of the incident (see .twins): benign truth, no taint
    _utxo: dict = field(default_factory=dict)

    # -- randomness and time -------------------------------------------------------------
    def draw(self, value) -> int:
        """``value`` (an int), or a uniform integer from an inclusive ``[lo, hi]`` range."""
        if isinstance(value, (list, tuple)):
            return int(self.rng.integers(int(value[0]), int(value[1]) + 1))
        return int(value)

    def uniform(self, value, count=None):
        """``value`` (a number), or uniform draws from a ``[lo, hi]`` range; ``count`` of
        them in an array, or one float when ``count`` is None."""
        if isinstance(value, (list, tuple)):
            return self.rng.uniform(float(value[0]), float(value[1]), count)
        return np.full(count, float(value)) if count is not None else float(value)

    def secs(self, seconds):
        """Delays of a day or more are compressed by ``day_scale`` (a year of real time maps
        onto the scenario span); shorter delays are kept as they are."""
        s = np.asarray(seconds, dtype=np.float64)
        out = np.where(s >= DAY, DAY + (s - DAY) * self.day_scale, s)
        return out.astype(np.int64) if out.ndim else int(out)

    def hours(self, value, count=None):
        """Delays in hours drawn from ``value`` (number or range), jittered, compressed;
        returned in seconds."""
        h = self.uniform(value, count)
        jit = float(self.difficulty.get("time_jitter", 0.3))
        if jit > 0:
            h = h * np.exp(jit * self.rng.uniform(-1, 1, np.shape(h) or None))
        return np.maximum(self.secs(np.asarray(h) * HOUR), MIN_GAP)

    def start(self, time: int) -> int:
        """When the attacker acts on funds available at ``t``: after a handling delay drawn
        log-normally around ``[difficulty] pace_hours`` (median; ``PACE_SIGMA`` = 1.5, so
        95% of delays lie between 1/19 and 19 times the median: launderers, like benign
        holders, leave funds for minutes to days before moving them on), moved within half
        a day to an hour of the benign daily cycle (:meth:`_busy_hour`) or, if the
        time-of-day fingerprint is on, to office hours (work starts 00:00-01:00 UTC, 9 h a
        day)."""
        t = int(time) + MIN_GAP
        pace = float(self.difficulty.get("pace_hours", 0.0))
        if pace > 0:  # handling delay: log-normal, median ``pace``, minutes to weeks
            d = pace * HOUR * np.exp(PACE_SIGMA * self.rng.standard_normal())
            if not self.fingerprints.get("time_of_day"):
                t = self._busy_hour(t + int(self.secs(d)), earliest=t)
            else:
                t += int(self.secs(d))
        if self.fingerprints.get("time_of_day"):
            h0 = int(self.fingerprints.get("work_start_hour", 0))
            hour = ((t - self.world.t0) // HOUR - h0) % 24
            if hour >= 9:
                t += (24 - hour) * HOUR + int(self.rng.integers(0, 1800))
        return t

    def _busy_hour(self, time: int, earliest: int) -> int:
        """The moment nearest ``time`` (within half a day, and not before ``earliest``) in an
        hour of the day drawn from the benign daily cycle
        (:data:`~launderbench.simulator.world.HOURLY_ACTIVITY`, as the economy draws its hours): a
        launderer acting at leisure keeps the hours everyone keeps, so the hour alone tells
        nothing, and the handling delay keeps its median."""
        hour = int(np.searchsorted(_HOUR_CDF, self.rng.random() * _HOUR_CDF[-1], "right"))
        c = time - (time - self.world.t0) % DAY + hour * HOUR + int(self.rng.integers(0, HOUR))
        c += DAY * (int(c < time - DAY // 2) - int(c >= time + DAY // 2))
        return c if c >= earliest else c + DAY

    def partition(self, count: int, bounds) -> list[int]:
        """Split ``count`` items into groups whose sizes lie in ``bounds`` ([lo, hi] or an
        int) whenever that is possible (one group of ``count`` when ``count`` is below
        ``lo``)."""
        n = count
        lo, hi = (int(bounds[0]), int(bounds[1])) if isinstance(bounds, (list, tuple)) \
            else (int(bounds), int(bounds))
        lo, hi = max(lo, 1), max(hi, 1)
        m_min, m_max = -(-n // hi), n // lo
        if n <= 0:
            return []
        if m_max < m_min:  # no exact partition: as close as possible
            m = max(m_min, 1)
        else:
            m = int(self.rng.integers(m_min, m_max + 1))
        sizes = np.full(m, min(lo, n // m), np.int64)
        rest = n - int(sizes.sum())
        cap = np.maximum(hi - sizes, 0) if m_max >= m_min else np.full(m, n)
        while rest > 0:
            open_ = np.flatnonzero(cap > 0)
            j = open_[int(self.rng.integers(0, len(open_)))]
            add = min(rest, int(cap[j]), max(1, rest // len(open_)))
            sizes[j] += add
            cap[j] -= add
            rest -= add
        return [int(s) for s in self.rng.permutation(sizes)]

    def weights(self, count: int, total: int | None = None, least: int = 0) -> np.ndarray:
        """Integer weights for a ``count``-way split: the difficulty's amount jitter times a
        log-normal spread (``split_sigma``), so that the parts vary in size the way benign
        payments do rather than sitting in one narrow band. With ``total`` and ``least``, no
        part of ``total`` split by these weights falls below ``least``."""
        n = count
        j = float(self.difficulty.get("amount_jitter", 0.3))
        sigma = float(self.difficulty.get("split_sigma", 0.0))
        w = 1.0 + j * self.rng.uniform(-1, 1, n)
        if sigma > 0:
            w = w * np.exp(sigma * self.rng.standard_normal(n))
            w = w / w.mean()
        if total and least and n * least < total:
            f = least / total
            for _ in range(12):  # raising the small parts raises the sum: a few rounds
                w = np.maximum(w, f * w.sum() * 1.001)
        elif total and least:
            w = np.ones(n)
        return np.maximum(np.round(w * 10_000), 1).astype(np.int64)

    # -- world ----------------------------------------------------------------------------
    def utxo(self, chain: int) -> bool:
        """Whether ``chain`` is a UTXO chain (else an account chain)."""
        u = self._utxo.get(chain)
        if u is None:
            u = self._utxo[chain] = self.world.is_utxo(chain)
        return u

    def wallets(self, chain: int, count: int, role: Role) -> tuple[np.ndarray, np.ndarray]:
        """``count`` fresh wallets of the attacker on ``chain`` (one address each); returns
        their wallet ids and address ids."""
        return self.alloc.wallets(self.entity, chain, count, incident=self.incident,
                                  role=Role.BENIGN if self.twin else role)

    def fee_rate(self, asset: int) -> int:
        """The fee rate of one attacker transaction. Unless the fixed-fee fingerprint is on,
        the attacker's wallets price fees as benign wallets do (the economy's
        ``fixed_fee_rate`` share pays a fixed multiple of the typical rate, the rest
        estimate it log-normally), so the fee alone tells nothing."""
        if asset in self.fixed_fee:
            return self.fixed_fee[asset]
        base = self.services.fee_base[asset]
        if self.rng.random() < self.services.fixed_fee_rate:
            x = base * FIXED_FEE_MULTIPLIERS[int(self.rng.integers(len(FIXED_FEE_MULTIPLIERS)))]
        else:  # capped at the largest fixed multiple (a 1-in-1,000 tail of the estimate)
            x = base * min(np.exp(FEE_SIGMA * self.rng.standard_normal()), _FEE_CAP)
        return int(max(round(x), 1))

    def max_fee_rate(self, asset: int) -> int:
        """The highest rate :meth:`fee_rate` can give: budgets that must cover the fee use it."""
        if asset in self.fixed_fee:
            return self.fixed_fee[asset]
        return int(max(round(self.services.fee_base[asset] * _FEE_CAP), 1))

    def fee_bound(self, pos: Pos, n_out: int, rate: int, n_in: int | None = None) -> int:
        """An upper bound on the fee of spending ``pos`` (``n_in`` coins, by default all of
        them) into ``n_out`` outputs at ``rate``."""
        if self.utxo(pos.chain):
            k = pos.ncoins if n_in is None else n_in
            return rate * (UTXO_TX_OVERHEAD + UTXO_IN_SIZE * k + UTXO_OUT_SIZE * (n_out + 1))
        gas = GAS_NATIVE if self.world.assets[pos.asset].native else GAS_TOKEN
        return rate * (gas + GAS_EXTRA_OUTPUT * max(n_out - 1, 0))

    def min_amount(self, pos: Pos) -> int:
        """Smallest position a step still moves (below it the value is left where it is)."""
        rate = self.services.fee_base[pos.asset] * 3
        return max(200 * self.dust(pos.asset),
                   50 * self.fee_bound(pos, 2, rate, n_in=max(pos.ncoins, 1)))

    def dust(self, asset: int) -> int:
        """The dust limit of ``asset`` (base units)."""
        return self.world.assets[asset].dust

    def usd(self, asset: int, amount) -> float:
        """``amount`` base units of ``asset`` in USD."""
        a = self.world.assets[asset]
        return float(amount) * a.usd_price / 10.0**a.decimals

    def sym(self, asset: int) -> str:
        """The symbol of ``asset``."""
        return self.world.assets[asset].symbol

    # -- ops -------------------------------------------------------------------------------
    def add(self, typology: Typology, *, stage: Stage | None = None, hard=True, **fields):
        """Append laundering ops (incident, stage, typology and hard set; the other op
        ``fields`` as the stream takes them)."""
        typ = int(self.typology if self.typology is not None else typology)
        n = 1 if _scalar(fields["t"]) else len(fields["t"])
        fields.setdefault("aux", int(self.rng.integers(0, 1 << 30)) if n == 1
                      else self.rng.integers(0, 1 << 30, n))
        stg = self.stage if stage is None else stage
        stg = int(stg) if _scalar(stg) else np.asarray(stg, np.int64)
        if self.twin:  # benign in the truth tables: no incident, stage or typology
            idx = self.stream.add(hard=hard, incident=-1, stage=int(Stage.NONE),
                                  typology=int(Typology.NONE), **fields)
        else:
            idx = self.stream.add(hard=hard, incident=self.incident, stage=stg, typology=typ,
                                  **fields)
        name = _TYP_NAMES[typ]
        self.n_ops[name] = self.n_ops.get(name, 0) + n
        return idx

    def split(self, pos: Pos, time: int, dst_addr, weights, typology: Typology, *,
              stage: Stage | None = None, dst_wallet=None, out_incident=None,
              memo=-1) -> tuple[int, list[int]]:
        """Spend the whole position into ``dst_addr`` by ``weights`` at ``time``; returns the
        op index and a conservative estimate of each output."""
        dst_addr = np.asarray(dst_addr, np.int64)
        w = np.asarray(weights, np.int64)
        m = len(dst_addr)
        rate = self.fee_rate(pos.asset)
        avail = pos.est - self.fee_bound(pos, m, rate)
        if avail < self.dust(pos.asset) * m * 2:
            raise PositionTooSmall(pos)
        kw = {}
        if dst_wallet is not None:
            kw["out_wallet"] = dst_wallet
        if out_incident is not None:
            kw["out_incident"] = out_incident
        idx = self.add(typology, stage=stage, t=time, chain=pos.chain, asset=pos.asset,
                       code=OP_SPLIT, src=pos.src(self.utxo(pos.chain)), out_count=m,
                       out_addr=dst_addr, out_value=w, fee_rate=rate, memo=memo, **kw)
        est = [int(avail * wi / w.sum()) - 1 for wi in w]
        return int(idx[0]), est

    def split_each(self, positions: list[Pos], times, dst_addr, typology: Typology, *,
                   stage: Stage | None = None, dst_wallet=None, memo=None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """One whole-balance, one-output SPLIT per position (at its element of ``times``),
        in one batch. Returns the op indices and a conservative estimate of each output."""
        n = len(positions)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rates = np.array([self.fee_rate(p.asset) for p in positions], np.int64)
        est = np.array([p.est - self.fee_bound(p, 1, r) - 1 for p, r in zip(positions, rates)],
                       np.int64)
        for p, e in zip(positions, est):
            if e < 2 * self.dust(p.asset):
                raise PositionTooSmall(p)
        kw = {}
        if dst_wallet is not None:
            kw["out_wallet"] = np.asarray(dst_wallet, np.int64)
        idx = self.add(typology, stage=stage, t=np.asarray(times, np.int64),
                       chain=np.array([p.chain for p in positions], np.int64),
                       asset=np.array([p.asset for p in positions], np.int64), code=OP_SPLIT,
                       src=np.array([p.src(self.utxo(p.chain)) for p in positions], np.int64),
                       out_count=np.ones(n, np.int64), out_addr=np.asarray(dst_addr, np.int64),
                       out_value=np.ones(n, np.int64), fee_rate=rates,
                       memo=-1 if memo is None else np.asarray(memo, np.int64), **kw)
        return idx, est

    def linked_each(self, times, chain: int, asset: int, src: int, links, rate: float,
                    link_kind, dst_addr, typology: Typology, *, change=-1, memo=None,
                    stage: Stage | None = None, out_count=None, weights=None):
        """Service payouts (one per element of ``links``, at its element of ``times``) in
        one batch."""
        n = len(links)
        if n == 0:
            return np.zeros(0, np.int64)
        oc = np.ones(n, np.int64) if out_count is None else np.asarray(out_count, np.int64)
        m = int(oc.sum())
        return self.add(typology, stage=stage, t=np.asarray(times, np.int64), chain=chain,
                        asset=asset, code=OP_LINKED, src=src, out_count=oc,
                        out_addr=np.asarray(dst_addr, np.int64),
                        out_value=np.ones(m, np.int64) if weights is None
                        else np.asarray(weights, np.int64),
                        out_incident=np.full(m, self.incident, np.int32),
                        link=np.asarray(links, np.int64), link_kind=int(link_kind), rate=rate,
                        fee_rate=self.services.fee_base[asset], change=change,
                        memo=-1 if memo is None else np.asarray(memo, np.int64))

    def pay(self, pos: Pos, times, dst_addr, amounts, typology: Typology, *, change,
            stage: Stage | None = None, dst_wallet=None, hard=True, n_in=None):
        """Explicit amounts (one op per element of ``times``, one output each)."""
        t = np.atleast_1d(np.asarray(times, np.int64))
        rate = self.fee_rate(pos.asset)
        kw = {}
        if dst_wallet is not None:
            kw["out_wallet"] = dst_wallet
        idx = self.add(typology, stage=stage, hard=hard, t=t, chain=pos.chain, asset=pos.asset,
                       code=OP_PAY, src=pos.src(self.utxo(pos.chain)), out_count=1,
                       out_addr=dst_addr, out_value=amounts, fee_rate=rate, change=change,
                       **kw)
        return idx, rate

    def linked(self, times, chain: int, asset: int, src: int, link, rate: float, link_kind,
               dst_addr, weights, typology: Typology, *, out_count=1, out_incident=None,
               change=-1, memo=-1, stage: Stage | None = None):
        """A service payout to the launderer, linked (hidden truth) to its deposit."""
        t = np.atleast_1d(np.asarray(times, np.int64))
        m = int(np.sum(out_count))
        oi = np.full(m, self.incident, np.int32) if out_incident is None else out_incident
        return self.add(typology, stage=stage, t=t, chain=chain, asset=asset, code=OP_LINKED,
                        src=src, out_count=out_count, out_addr=dst_addr, out_value=weights,
                        out_incident=oi, link=link, link_kind=int(link_kind), rate=rate,
                        fee_rate=self.services.fee_base[asset], change=change, memo=memo)

    def new_memo(self) -> int:
        """A public bridge deposit id no one else uses, drawn from the gaps of the range the
        benign bridge users occupy (so that its value does not set it apart)."""
        used = self.memo_used
        if "_free" not in self.__dict__:
            ids = [m for m in used if isinstance(m, int)]
            lo, hi = (min(ids), max(ids)) if ids else (1_000_000, 1_000_000)
            self._free = sorted(set(range(lo, hi + 1)) - used)
            self._next = hi + 1
        if self._free:
            m = self._free.pop(int(self.rng.integers(0, len(self._free))))
        else:
            while self._next in used:
                self._next += 1
            m = self._next
        used.add(m)
        return m

    def deposit_addresses(self, chain: int, count: int, exchanges=None) -> np.ndarray:
        """``count`` fresh customer deposit addresses at the given exchanges (indices),
        round-robin; returns them and the hot wallet address of each one's exchange."""
        exs = self.services.exchanges
        which = list(range(len(exs))) if exchanges is None else list(exchanges)
        pick = np.array([which[i % len(which)] for i in self.rng.permutation(count)], np.int64)
        out = np.empty(count, np.int64)
        for e in sorted(set(pick.tolist())):
            sel = np.flatnonzero(pick == e)
            out[sel] = self.alloc.addresses_of(
                np.full(len(sel), exs[e].deposit_wallet[chain]), chain)
        hot = np.array([exs[e].hot[chain].address for e in pick], np.int64)
        self.used_deposits.extend(out.tolist())
        return out, hot


class PositionTooSmall(Exception):
    """A position is too small for the step (the engine reports the scenario unsatisfiable)."""

    def __init__(self, pos):
        super().__init__("position too small")
        self.pos = pos


def need(cond: bool, msg: str) -> None:
    """Raise a :class:`~launderbench.simulator.errors.ConfigError` with ``msg`` unless
    ``cond`` holds (a step's parameters do not fit the scenario)."""
    if not cond:
        raise ConfigError(msg)


def fresh_positions(ctx: Ctx, chain: int, asset: int, wallets, addrs, time: int,
                    est) -> list[Pos]:
    """One position per element of ``wallets``/``addrs``/``est``, all from ``time`` on."""
    return [Pos(chain, asset, int(w), int(a), int(time), int(e), 1)
            for w, a, e in zip(wallets, addrs, est)]


def merge(ctx: Ctx, positions: list[Pos]) -> list[Pos]:
    """Positions at the same wallet/address and asset become one."""
    out: dict[tuple, Pos] = {}
    for p in positions:
        key = (p.chain, p.asset, p.wallet if ctx.utxo(p.chain) else p.addr)
        if key in out:
            q = out[key]
            out[key] = replace(q, time=max(q.time, p.time), est=q.est + p.est,
                               ncoins=q.ncoins + p.ncoins)
        else:
            out[key] = p
    return list(out.values())




def sweep_deposits(ctx: Ctx, chain: int, asset: int, deposits, hot, times) -> None:
    """The exchange sweeps account-chain customer deposit addresses into its hot wallet.

    Parameters
    ----------
    ctx : Ctx
        The incident's context.
    chain, asset : int
        Where the deposits were made.
    deposits, hot : array-like of int
        Each deposit address and the hot wallet address of its exchange (as
        :meth:`Ctx.deposit_addresses` returns them).
    times : array-like of int
        When each deposit was made; its sweep follows 10 minutes to 12 hours later.

    Notes
    -----
    The sweep is a benign op of the exchange (no incident, stage or typology). On UTXO
    chains it adds nothing: there the economy's periodic consolidation sweeps deposits.
    """
    if ctx.utxo(chain):
        return
    deposits = np.asarray(deposits, np.int64)
    ts = np.asarray(times, np.int64) + ctx.rng.integers(10 * 60, 12 * HOUR, len(deposits))
    ctx.stream.add(t=ts, chain=chain, asset=asset, code=OP_SPLIT, src=deposits, out_count=1,
                   out_addr=np.asarray(hot, np.int64), out_value=1,
                   fee_rate=ctx.services.fee_base[asset],
                   aux=ctx.rng.integers(0, 1 << 30, len(deposits)))


__all__ = ["Pos", "Ctx", "OpBuffer", "Allocator", "PositionTooSmall", "HOUR", "DAY", "MIN_GAP",
           "need", "fresh_positions", "merge", "sweep_deposits", "OP_PAY", "OP_SPLIT",
           "OP_LINKED"]
