"""Taint tracing from announced hack transactions: leg preparation and the policy table.

:func:`trace` runs one policy over an :class:`~launderbench.simulator.dataset.ObservableView` and returns
the tainted amount of every output and of every transaction's fee. UTXO transactions spend named
outputs; account transfers draw on per-(address, asset) balances (lots under Clayton's case for
the ordered policies).

A seed transaction's outputs start fully tainted, except those paid back to one of its own input
addresses: the payer's change (an exchange robbed of 6 BTC from a 10 BTC coin keeps 4 BTC) is
not stolen value. The taint of a fee goes to the miner; the ledger's issuances do not collect
fees, so it stops there and is reported per transaction (``fee_taint``).

Policies
--------
``poison``  Möser, Böhme & Breuker (2014): every output of a transaction with a tainted input
            is fully tainted (and so is its fee).
``haircut`` Möser, Böhme & Breuker (2014): outputs get taint in proportion to their value,
            ``t_j = w_j * T / (sum(w) + fee)``; the fee takes the rest.
``fifo``    Anderson, Shumailov, Ahmed & Rietmann, "Bitcoin Redux" (WEIS 2018): inputs and
            outputs in their natural order on one value line, the fee is the last segment.
``lifo``    Tironsakkul, Maarek, Eross & Just, "Probing the mystery of cryptocurrency theft"
            (CRC 2019): the pooled input value reversed (last in, first out, inside each coin
            too), outputs in natural order, fee removed pro rata.
``tiho``    Tironsakkul et al. (2019): tainted inputs first, highest-value outputs first, fee
            removed pro rata; taint lands in the largest outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind

from . import kernels as K

__all__ = ["POLICIES", "STOP_SERVICES", "TraceResult", "trace", "seed_mask", "seed_change",
           "stop_mask"]

#: policy -> (kind, input order, output order, fee last by default)
POLICIES = {
    "poison": ("scalar", None, None, True),
    "haircut": ("scalar", None, None, True),
    "fifo": ("ordered", K.IN_F, K.OUT_F, True),
    "lifo": ("ordered", K.IN_L, K.OUT_F, False),
    "tiho": ("ordered", K.IN_T, K.OUT_H, False),
}
_IN_CODES = {"F": K.IN_F, "L": K.IN_L, "T": K.IN_T, "C": K.IN_C, "H": K.IN_H, "S": K.IN_S}
_OUT_CODES = {"F": K.OUT_F, "L": K.OUT_L, "H": K.OUT_H, "S": K.OUT_S}

#: Publicly attributed services where investigators stop: custodial cash-out points whose
#: later spends are the service's own funds, not the depositor's.
STOP_SERVICES = (ServiceKind.EXCHANGE, ServiceKind.OTC, ServiceKind.MARKETPLACE,
                 ServiceKind.PAYMENT_PROCESSOR)


@dataclass
class TraceResult:
    """Result of :func:`trace`.

    Attributes
    ----------
    output_taint : float64 per output, tainted amount in base units of the output's asset
    output_depth : int64 per output, transactions from the seed (0 = a seed output), -1 clean
    output_usd : float64 per output, ``output_taint`` in USD
    fee_taint : float64 per transaction, tainted amount of its fee (gone to the miner; 0 for
        seeds), in base units of the transaction's asset
    fee_usd : float64 per transaction, ``fee_taint`` in USD (computed when asked)
    """

    output_taint: np.ndarray
    output_depth: np.ndarray
    output_usd: np.ndarray
    fee_taint: np.ndarray
    tx_price: np.ndarray = field(repr=False)  # USD per base unit of each transaction's asset

    @property
    def fee_usd(self) -> np.ndarray:
        return self.fee_taint * self.tx_price


def seed_mask(view) -> np.ndarray:
    """Boolean per transaction: announced hack transactions (``view.seeds``)."""
    m = np.zeros(view.n_transactions, dtype=bool)
    ids = np.asarray(view.seeds["tx_id"], dtype=np.int64)
    ids = ids[(ids >= 0) & (ids < view.n_transactions)]
    m[ids] = True
    return m


def seed_change(view, seeds: np.ndarray) -> np.ndarray:
    """Boolean per output: an output of a ``seeds`` transaction paid back to one of that
    transaction's own input addresses (the payer's change, or a payer paying itself)."""
    legs = _legs(view) if seeds.any() else None
    return _own_change(seeds, legs, view.inputs["address_id"], view.outputs["address_id"],
                       view.n_addresses, view.outputs.num_rows)


def _own_change(seeds, legs, in_addr, out_addr, n_addr: int, n_out: int) -> np.ndarray:
    """:func:`seed_change` on leg arrays (``legs``: the CSR offsets and rows)."""
    own = np.zeros(n_out, dtype=bool)
    tx = np.flatnonzero(seeds)
    if len(tx) == 0 or n_out == 0:
        return own
    o_tx, o_rows = _rows_of(tx, legs["out_start"], legs["out_rows"])
    i_tx, i_rows = _rows_of(tx, legs["in_start"], legs["in_rows"])
    if len(i_rows) == 0:
        return own
    n_addr = max(int(n_addr), 1)
    out_keys = o_tx * n_addr + np.asarray(out_addr, np.int64)[o_rows]
    in_keys = i_tx * n_addr + np.asarray(in_addr, np.int64)[i_rows]
    in_keys = np.sort(in_keys)
    pos = np.minimum(np.searchsorted(in_keys, out_keys), len(in_keys) - 1)
    own[o_rows] = in_keys[pos] == out_keys
    return own


def _rows_of(tx: np.ndarray, start: np.ndarray, rows: np.ndarray):
    """(transaction, leg row) of every leg of the transactions ``tx`` (CSR look-up)."""
    cnt = start[tx + 1] - start[tx]
    first = np.repeat(start[tx] - np.cumsum(cnt) + cnt, cnt)
    return np.repeat(tx, cnt), rows[first + np.arange(int(cnt.sum()))]


def _cached(view, key: str, make):
    cache = getattr(view, "_cache", None)
    if cache is None:
        return make()
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _csr(tx_ids: np.ndarray, index: np.ndarray, n_tx: int):
    order = np.lexsort((index, tx_ids)).astype(np.int64)
    counts = np.bincount(tx_ids, minlength=n_tx)
    start = np.zeros(n_tx + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return start, order


def _legs(view) -> dict:
    """Leg arrays shared by all policies (cached on the view)."""
    return _cached(view, "tracing_legs", lambda: _build_legs(view))


def _build_legs(view) -> dict:
    ins, outs = view.inputs, view.outputs
    n_tx = view.n_transactions
    utxo = np.asarray(view.is_utxo_tx(), dtype=bool) if n_tx else np.zeros(0, bool)
    in_start, in_rows = _csr(ins["tx_id"], ins["index"], n_tx)
    out_start, out_rows = _csr(outs["tx_id"], outs["index"], n_tx)
    n_assets = int(max(view.assets["asset_id"].max(initial=-1) + 1, 1))
    in_acct = ~utxo[ins["tx_id"]] if ins.num_rows else np.zeros(0, bool)
    out_acct = ~utxo[outs["tx_id"]] if outs.num_rows else np.zeros(0, bool)
    key_in = ins["address_id"] * n_assets + ins["asset_id"]
    key_out = outs["address_id"] * n_assets + outs["asset_id"]
    keys = np.concatenate([key_in[in_acct], key_out[out_acct]])
    uniq, inv = np.unique(keys, return_inverse=True)
    in_pair = np.full(ins.num_rows, -1, dtype=np.int64)
    out_pair = np.full(outs.num_rows, -1, dtype=np.int64)
    n_in_acct = int(in_acct.sum())
    in_pair[in_acct] = inv[:n_in_acct]
    out_pair[out_acct] = inv[n_in_acct:]
    spent = np.asarray(ins["spent_output_id"], dtype=np.int64)
    spent = np.where((spent >= 0) & (spent < outs.num_rows), spent, -1)
    return {
        "tx_utxo": utxo, "in_start": in_start, "in_rows": in_rows,
        "in_amt": ins["amount"].astype(np.float64), "in_spent": spent, "in_pair": in_pair,
        "out_start": out_start, "out_rows": out_rows,
        "out_amt": outs["amount"].astype(np.float64), "out_pair": out_pair,
        "n_pairs": len(uniq),
        # USD per base unit of each transaction's asset (its fee's asset)
        "tx_price": view.usd_per_base_unit()[view.transactions["asset_id"]],
    }


def stop_mask(view, stop_at_services: bool = True, kinds=STOP_SERVICES) -> np.ndarray:
    """Boolean per output: paid to a publicly attributed stop service."""
    outs = view.outputs
    if not stop_at_services or outs.num_rows == 0:
        return np.zeros(outs.num_rows, dtype=bool)
    svc = np.isin(view.addresses["service_kind"], np.asarray(kinds, dtype=np.int64))
    return svc[outs["address_id"]]


def _settings(policy, max_hops, fee, orders):
    """Checked parameters of a trace: (kind, input order, output order, fee last, hop limit)."""
    if policy not in POLICIES:
        import difflib

        close = difflib.get_close_matches(str(policy), list(POLICIES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (one of {', '.join(POLICIES)})"
        raise ConfigError(f"unknown tracing policy '{policy}'{hint}")
    if max_hops is not None and (not isinstance(max_hops, int | np.integer) or max_hops < 0):
        raise ConfigError(f"max_hops must be a non-negative integer or None, got {max_hops!r}")
    if fee not in (None, "last", "prorata"):
        raise ConfigError(f"fee must be 'last' or 'prorata', got {fee!r}")
    kind, in_code, out_code, fee_last = POLICIES[policy]
    if orders is not None:
        if (kind != "ordered" or len(orders) != 2 or orders[0] not in _IN_CODES
                or orders[1] not in _OUT_CODES):
            raise ConfigError(f"bad XIYO orders {orders!r} for policy '{policy}'")
        in_code, out_code = _IN_CODES[orders[0]], _OUT_CODES[orders[1]]
    if fee is not None:
        fee_last = fee == "last"
    hops = K.NO_LIMIT if max_hops is None else int(max_hops)
    return kind, in_code, out_code, fee_last, hops


def trace(view, policy: str = "haircut", *, max_hops: int | None = None,
          stop_at_services: bool = True, fee: str | None = None,
          orders: str | None = None, seed_tx: np.ndarray | None = None,
          stop: np.ndarray | None = None) -> TraceResult:
    """Propagate the taint of the seed transactions' outputs through the ledger.

    Parameters
    ----------
    view : ObservableView
    policy : {"poison", "haircut", "fifo", "lifo", "tiho"}
    max_hops : int or None
        Taint crosses at most this many transactions after the seed (None: unlimited).
    stop_at_services : bool
        Taint reaching a publicly attributed exchange, OTC desk, marketplace or payment
        processor is recorded but not propagated further.
    fee : {"last", "prorata"} or None
        Fee handling of the ordered policies (None: the policy's own convention).
    orders : str or None
        Two XIYO letters overriding the ordered policy's input and output orders, e.g. ``"TH"``
        (inputs: F, L, T, C, H, S; outputs: F, L, H, S).
    seed_tx : bool array per transaction, or None
        Transactions whose outputs start fully tainted (default: ``view.seeds``), except the
        outputs paid back to one of the transaction's own input addresses (the payer's change).
        Composite detectors use it to re-seed from the far side of a mixer or bridge.
    stop : bool array per output, or None
        Outputs where taint is recorded but not propagated (overrides ``stop_at_services``).

    Returns
    -------
    TraceResult
    """
    kind, in_code, out_code, fee_last, hops = _settings(policy, max_hops, fee, orders)
    n_out = view.outputs.num_rows
    own = None
    if seed_tx is None:
        seeds = seed_mask(view)
        own = _cached(view, "tracing_seed_change", lambda: seed_change(view, seeds))
    else:
        seeds = np.asarray(seed_tx, dtype=bool)
        if seeds.shape != (view.n_transactions,):
            raise ConfigError(f"seed_tx must be a bool array of shape ({view.n_transactions},)")
    if n_out == 0 or not seeds.any():
        z = np.zeros(n_out)
        zf = np.zeros(view.n_transactions)
        return TraceResult(z, np.full(n_out, -1, np.int64), z.copy(), zf, zf.copy())
    legs = _legs(view)
    if stop is None:
        stop = stop_mask(view, stop_at_services)
    else:
        stop = np.asarray(stop, dtype=bool)
        if stop.shape != (n_out,):
            raise ConfigError(f"stop must be a bool array of shape ({n_out},)")
    common = (legs["tx_utxo"], seeds, legs["in_start"], legs["in_rows"], legs["in_amt"],
              legs["in_spent"], legs["in_pair"], legs["out_start"], legs["out_rows"],
              legs["out_amt"], legs["out_pair"], stop,
              seed_change(view, seeds) if own is None else own, legs["n_pairs"])
    fee_taint = np.zeros(view.n_transactions)  # filled by the kernel
    if kind == "scalar":
        taint, depth = K.trace_scalar(*common, fee_taint, policy == "poison", hops)
    else:
        taint, depth = K.trace_ordered(*common, fee_taint, in_code, out_code, fee_last, hops)
    # float noise must not exceed the output value
    taint = np.minimum(taint, legs["out_amt"])
    usd = taint * view.usd_per_base_unit()[view.outputs["asset_id"]]
    return TraceResult(taint, depth, usd, fee_taint, legs["tx_price"])
