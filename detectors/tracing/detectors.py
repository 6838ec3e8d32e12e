"""Tracing detectors: follow the stolen value from the announced hack transactions.

Each detector scores an address by the tainted value (USD) it received under its policy and a
transaction by the tainted value (USD) of its outputs. All need seeds (``view.seeds``); without
seeds every score is zero. A seed's outputs paid back to its own input addresses (the victim's
change) start clean; the taint of fees goes to the miner and is reported in ``info``.
"""

from __future__ import annotations

import math

import numpy as np

from launderbench.simulator.schema import ServiceKind

from ..base import Detector, Scores, _check_scores
from .core import STOP_SERVICES, trace

__all__ = ["TaintDetector", "Poison", "Haircut", "FIFO", "LIFO", "TIHO"]


class TaintDetector(Detector):
    """Base class of the tracing detectors (the policy is a class variable).

    Parameters
    ----------
    max_hops : int or None, default None
        Taint crosses at most this many transactions after the seed; None is unlimited.
    stop_at_services : bool, default True
        Taint reaching a publicly attributed exchange, OTC desk, marketplace or payment
        processor (a cash-out point) is recorded but not propagated, as investigators do.
    score_services : bool, default False
        Whether publicly attributed service addresses (exchanges, mixers, bridges...) keep
        their address score. By default they score 0: an analyst knows them as services, and
        the taint they received is reported in ``info["cashout"]``.

    Scores
    ------
    address : USD of tainted value received; transaction : USD of tainted value output.
    ``info``: ``output_taint`` (base units per output), ``output_depth`` (hops from the seed,
    -1 if clean), ``output_usd``, ``cashout`` (USD of taint per stop-service address),
    ``fee_taint`` (base units per transaction: taint that went to the miner as fee; USD is
    ``fee_taint`` times the price of the transaction's asset), ``fee_usd`` (their USD total).
    Without ``max_hops``, each non-seed transaction's spent taint equals the taint of its
    outputs plus ``fee_taint``.
    """

    policy = ""
    tags = {"needs_seeds": True, "needs_labels": False, "outputs": ("address", "transaction"),
            "streams": True}

    def __init__(self, max_hops=None, stop_at_services=True, score_services=False):
        self.max_hops = max_hops
        self.stop_at_services = stop_at_services
        self.score_services = score_services

    def _trace_kwargs(self) -> dict:
        return {"max_hops": self.max_hops, "stop_at_services": self.stop_at_services}

    def _score(self, view) -> Scores:
        res = trace(view, self.policy, **self._trace_kwargs())
        outs = view.outputs
        addr = np.bincount(outs["address_id"], weights=res.output_usd,
                           minlength=view.n_addresses).astype(np.float64)
        txs = np.bincount(outs["tx_id"], weights=res.output_usd,
                          minlength=view.n_transactions).astype(np.float64)
        fees = _TxSum()
        fees.add(res.fee_taint * res.tx_price)
        return self._scores(view.addresses, addr, txs, fees.value(), {
            "output_taint": res.output_taint, "output_depth": res.output_depth,
            "output_usd": res.output_usd, "fee_taint": res.fee_taint})

    def _scores(self, addresses, addr, txs, fee_usd: float, extra: dict) -> Scores:
        svc = np.isin(addresses["service_kind"], np.asarray(STOP_SERVICES, np.int64))
        hit = np.flatnonzero(svc & (addr > 0))
        cashout = {"address_id": hit, "usd": addr[hit]}
        if not self.score_services:
            addr = np.where(addresses["service_kind"] != ServiceKind.NONE, 0.0, addr)
        return Scores(address=addr, transaction=txs, info={
            "policy": self.policy, **extra, "cashout": cashout, "fee_usd": fee_usd})

    def score_stream(self, source, chunk_transactions: int = 100_000,
                     per_output: bool = False) -> Scores:
        """Score a dataset on disk chunk by chunk, in bounded memory: the same scores as
        ``score(load(source).observable())``.

        Parameters
        ----------
        source : dataset directory or :class:`~launderbench.simulator.chunks.ChunkedView`
        chunk_transactions : transactions read and traced at a time
        per_output : also return the tainted outputs and fees, sparse:
            ``info["tainted_outputs"]`` (``output_id``, ``taint``, ``depth``, ``usd``) and
            ``info["tainted_fees"]`` (``tx_id``, ``taint``), in place of the dense per-output
            and per-transaction arrays of :meth:`score`.

        The tracing policies learn nothing, so no ``fit`` is needed. The state kept across
        chunks is the taint of live unspent outputs and of account balances
        (:mod:`launderbench.detectors.tracing.stream`); the result holds one float per
        address and one per transaction (the scores themselves).
        """
        from .stream import as_chunked, trace_chunks

        cv = as_chunked(source)
        addr = np.zeros(cv.n_addresses)
        txs = np.zeros(cv.n_transactions)
        fees = _TxSum()
        records: dict[str, list] = {k: [] for k in ("output_id", "taint", "depth", "usd",
                                                     "tx_id", "fee")}
        for ct in trace_chunks(cv, self.policy, chunk_transactions=chunk_transactions,
                               **self._trace_kwargs()):
            outs, n, first = ct.chunk.outputs, ct.chunk.n_transactions, ct.chunk.first_tx
            hit = ct.output_usd != 0.0  # adding zeros changes no sum: same order, same floats
            np.add.at(addr, outs["address_id"][hit], ct.output_usd[hit])
            txs[first:first + n] = np.bincount(outs["tx_id"] - first, weights=ct.output_usd,
                                               minlength=n)
            fees.add(ct.fee_taint * ct.tx_price)
            fee_hit = np.flatnonzero(ct.fee_taint)
            if per_output:
                t = np.flatnonzero(ct.output_depth >= 0)
                for key, vals in (("output_id", outs["output_id"][t]),
                                  ("taint", ct.output_taint[t]), ("depth", ct.output_depth[t]),
                                  ("usd", ct.output_usd[t]), ("tx_id", fee_hit + first),
                                  ("fee", ct.fee_taint[fee_hit])):
                    records[key].append(vals)
        extra = {}
        if per_output:
            cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in records.items()}
            extra = {"tainted_outputs": {"output_id": cat["output_id"].astype(np.int64),
                                         "taint": cat["taint"],
                                         "depth": cat["depth"].astype(np.int64),
                                         "usd": cat["usd"]},
                     "tainted_fees": {"tx_id": cat["tx_id"].astype(np.int64),
                                      "taint": cat["fee"]}}
        return _check_scores(self, cv, self._scores(cv.addresses, addr, txs, fees.value(),
                                                    extra))


class _TxSum:
    """The sum of one value per transaction, the same however the transactions are chunked:
    values are summed (numpy) in fixed blocks of :attr:`BLOCK` consecutive transactions, the
    block sums exactly (:class:`_ExactSum`), and the total is rounded once. Feed the values in
    transaction order; a block cut by a chunk boundary waits for its rest."""

    BLOCK = 4096

    def __init__(self):
        self._rest = np.zeros(0)
        self._blocks = _ExactSum()

    def add(self, values: np.ndarray) -> None:
        v = np.concatenate([self._rest, values]) if len(self._rest) else np.asarray(values)
        full = len(v) - len(v) % self.BLOCK
        self._blocks.add(np.array([np.sum(v[i:i + self.BLOCK])
                                   for i in range(0, full, self.BLOCK)]))
        self._rest = v[full:].copy()

    def value(self) -> float:
        total = _ExactSum(self._blocks.parts)
        total.add(np.array([np.sum(self._rest)]))  # the last, shorter block
        return total.value()


class _ExactSum:
    """A float sum independent of the order and grouping of its terms: the exact total is
    kept as a few non-overlapping floats (each the correctly rounded rest of the previous
    ones, by ``math.fsum``) and rounded once by :meth:`value`. The miner's USD total is then
    the same whether the fees come all at once or chunk by chunk."""

    def __init__(self, parts=()):
        self.parts: list[float] = list(parts)

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        terms = self.parts + values[values != 0].tolist()
        parts: list[float] = []
        while True:
            rest = math.fsum(terms + [-p for p in parts])
            if rest == 0.0:
                break
            parts.append(rest)
            if not math.isfinite(rest):  # overflow or NaN: nothing exact to keep
                parts = [rest]
                break
        self.parts = parts

    def value(self) -> float:
        return math.fsum(self.parts)


class Poison(TaintDetector):
    """Poison tainting: any tainted input taints every output in full.

    Source: M. Möser, R. Böhme, D. Breuker, "Towards Risk Scoring of Bitcoin Transactions",
    FC 2014 Workshops (Bitcoin). The most aggressive policy: taint spreads without dilution.
    On account chains an address balance that received any taint is wholly tainted until spent.
    """

    name = "poison"
    description = "Poison taint from the seeds (Möser, Böhme & Breuker 2014)"
    policy = "poison"


class Haircut(TaintDetector):
    """Haircut tainting: outputs receive taint in proportion to their value.

    Source: M. Möser, R. Böhme, D. Breuker, "Towards Risk Scoring of Bitcoin Transactions",
    FC 2014 Workshops; rule as in BlockSci's haircut taint. A transaction with inputs worth V
    of which T is tainted gives output j ``w_j * T / V``; the fee absorbs the rest. On account
    chains each address balance keeps its tainted share.
    """

    name = "haircut"
    description = "Haircut (proportional) taint from the seeds (Möser, Böhme & Breuker 2014)"
    policy = "haircut"


class _Ordered(TaintDetector):
    """Shared parameters of the ordered policies (one allocator, see tracing.kernels)."""

    def __init__(self, max_hops=None, stop_at_services=True, score_services=False, fee=None):
        self.max_hops = max_hops
        self.stop_at_services = stop_at_services
        self.score_services = score_services
        self.fee = fee

    def _trace_kwargs(self) -> dict:
        return {**super()._trace_kwargs(), "fee": self.fee}


class FIFO(_Ordered):
    """First-in-first-out taint (Clayton's case).

    Source: R. Anderson, I. Shumailov, M. Ahmed, A. Rietmann, "Bitcoin Redux", WEIS 2018.
    Inputs and outputs are laid on one value line in their natural order, the fee being the
    last segment (``fee="last"``); each output is tainted by the overlap of its interval with
    the tainted input intervals; the fee segment's taint goes to the miner
    (``info["fee_taint"]``), so no taint is lost. Positions inside a coin are kept. On account
    chains each address keeps a queue of received lots and spends the oldest first.

    Parameters
    ----------
    fee : {"last", "prorata"} or None
        None keeps the paper's convention (``"last"``).
    """

    name = "fifo"
    description = "FIFO / Clayton's-case taint from the seeds (Anderson et al. 2018)"
    policy = "fifo"


class LIFO(_Ordered):
    """Last-in-first-out taint.

    Source: T. Tironsakkul, M. Maarek, A. Eross, M. Just, "Probing the Mystery of
    Cryptocurrency Theft: An Investigation into Methods for Taint Analysis", CRC 2019 (LIFO
    policy; reference code ``tintiron/taintedtx``). The transaction's pooled input value is
    reversed, last in first out: the inputs in reverse order and each coin's runs reversed
    too, so a coin made of [tainted 1000][clean 500] pays its clean part first. Outputs in
    natural order, fee removed pro rata from the inputs (``fee=None``). On account chains the
    most recently received lot is spent first (the same rule on a balance's lots).
    """

    name = "lifo"
    description = "LIFO taint from the seeds (Tironsakkul et al. 2019)"
    policy = "lifo"


class TIHO(_Ordered):
    """Taint-in, highest-out taint.

    Source: T. Tironsakkul, M. Maarek, A. Eross, M. Just, CRC 2019 (TIHO policy). Tainted
    inputs first, outputs by descending value, fee removed pro rata: taint lands in the largest
    outputs, following a thief who moves the loot on in the biggest payments. On account chains
    tainted lots are spent before clean ones.
    """

    name = "tiho"
    description = "TIHO (taint in, highest out) taint from the seeds (Tironsakkul et al. 2019)"
    policy = "tiho"
