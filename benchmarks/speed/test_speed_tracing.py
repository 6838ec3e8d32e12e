"""Speed of the tracing policies (poison, haircut, FIFO, LIFO, TIHO) on UTXO and account legs.

Default size: 200k legs per ledger (quick, also runs under ``--benchmark-disable``).
``LAUNDERBENCH_BENCH_FULL=1`` switches to 10M legs (inputs + outputs), the project's budget
(each policy under 10 s after compilation)::

    LAUNDERBENCH_BENCH_FULL=1 .venv/bin/python -m pytest -q benchmarks/speed/test_speed_tracing.py

``test_speed_tracing_stream`` scores the same ledgers saved to disk, chunk by chunk
(``score_stream``, 10 chunks), and ``test_memory_tracing_stream`` compares the peak resident
memory (``VmHWM``) of a process that loads the view and scores it with one that streams it
(under ``LAUNDERBENCH_BENCH_FULL=1`` streaming must use less).

Ledgers are synthetic and valid (value conserved, each coin spent once): a UTXO ledger where
each transaction spends 1-3 random unspent coins into 1-3 outputs, and an account ledger of
one-to-one transfers between random funded addresses. 20 early transactions are seeds, so taint
reaches a large part of the ledger (poison taints almost everything: the worst case). The leg
arrays are prepared once outside the timed region; the figure is the kernel plus scoring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from launderbench import detectors
from launderbench.detectors.tracing.core import _legs
from launderbench.simulator.dataset import Dataset
from launderbench.simulator.world import World

FULL = os.environ.get("LAUNDERBENCH_BENCH_FULL") == "1"
N_LEGS = 10_000_000 if FULL else 200_000
POLICIES = ["poison", "haircut", "fifo", "lifo", "tiho"]


@njit(cache=True)
def _gen_utxo(n_tx, n_coins, seed):
    np.random.seed(seed)
    max_legs = n_coins + 3 * n_tx
    in_tx = np.empty(max_legs, np.int64)
    in_idx = np.empty(max_legs, np.int64)
    in_spent = np.empty(max_legs, np.int64)
    out_tx = np.empty(max_legs, np.int64)
    out_idx = np.empty(max_legs, np.int64)
    out_amt = np.empty(max_legs, np.int64)
    out_addr = np.empty(max_legs, np.int64)
    n_addr = max(n_tx // 2, 10)
    pool = np.empty(max_legs, np.int64)
    n_pool = 0
    n_in = 0
    n_out = 0
    for k in range(n_coins):  # tx 0: issuance
        out_tx[n_out] = 0
        out_idx[n_out] = k
        out_amt[n_out] = 10**10
        out_addr[n_out] = np.random.randint(n_addr)
        pool[n_pool] = n_out
        n_pool += 1
        n_out += 1
    for t in range(1, n_tx):
        k_in = min(np.random.randint(1, 4), n_pool)
        total = 0
        for j in range(k_in):
            p = np.random.randint(n_pool)
            o = pool[p]
            pool[p] = pool[n_pool - 1]
            n_pool -= 1
            in_tx[n_in] = t
            in_idx[n_in] = j
            in_spent[n_in] = o
            n_in += 1
            total += out_amt[o]
        fee = min(total // 1000, 10_000)
        left = total - fee
        k_out = np.random.randint(1, 4)
        if left < k_out:
            k_out = 1
        for j in range(k_out):
            if j == k_out - 1:
                a = left
            else:
                a = max(1, int(left * np.random.random() * 0.8))
                a = min(a, left - (k_out - 1 - j))
            left -= a
            out_tx[n_out] = t
            out_idx[n_out] = j
            out_amt[n_out] = a
            out_addr[n_out] = np.random.randint(n_addr)
            pool[n_pool] = n_out
            n_pool += 1
            n_out += 1
    return (in_tx[:n_in], in_idx[:n_in], in_spent[:n_in], out_tx[:n_out], out_idx[:n_out],
            out_amt[:n_out], out_addr[:n_out], n_addr)


@njit(cache=True)
def _gen_account(n_tx, n_addr, seed):
    np.random.seed(seed)
    bal = np.zeros(n_addr, np.int64)
    src = np.empty(n_tx, np.int64)
    dst = np.empty(n_tx, np.int64)
    amt = np.empty(n_tx, np.int64)
    fee = np.empty(n_tx, np.int64)
    for a in range(n_addr):
        bal[a] = 10**12
    src[0] = -1
    for t in range(1, n_tx):
        s = np.random.randint(n_addr)
        while bal[s] < 100_000:
            s = np.random.randint(n_addr)
        d = np.random.randint(n_addr)
        f = 21_000
        x = max(1, int((bal[s] - f) * np.random.random() * 0.6))
        bal[s] -= x + f
        bal[d] += x
        src[t], dst[t], amt[t], fee[t] = s, d, x, f
    return src, dst, amt, fee


def _seeds(n_tx: int) -> np.ndarray:
    """Seeds: 20 early transactions plus 1% of all transactions (a stress case: taint mixes
    with clean value everywhere and lots fragment)."""
    rng = np.random.default_rng(1)
    extra = rng.choice(np.arange(1, n_tx), size=max(n_tx // 100, 1), replace=False)
    return np.unique(np.concatenate([np.arange(1, min(21, n_tx)), extra]))


def _tables(w, chain, asset, n_tx, ins, outs, n_addr, fee, n_inputs, n_outputs, seeds):
    t = np.arange(n_tx, dtype=np.int64) * 10
    is_issue = np.zeros(n_tx, bool)
    is_issue[0] = True
    n_in_rows = len(ins["tx_id"])
    n_out_rows = len(outs["tx_id"])
    return {
        "chains": {"chain_id": np.arange(len(w.chains)),
                   "name": np.array([c.name for c in w.chains], object),
                   "model": np.array([int(c.model) for c in w.chains]),
                   "block_interval": np.array([c.block_interval for c in w.chains])},
        "assets": {"asset_id": np.arange(len(w.assets)),
                   "symbol": np.array([a.symbol for a in w.assets], object),
                   "chain_id": np.array([w.chain_id(a.chain) for a in w.assets]),
                   "decimals": np.array([a.decimals for a in w.assets]),
                   "usd_price": np.array([a.usd_price for a in w.assets])},
        "transactions": {"tx_id": np.arange(n_tx), "chain_id": np.full(n_tx, chain),
                         "asset_id": np.full(n_tx, asset), "timestamp": t,
                         "block_height": t // 600, "fee": fee, "fee_rate": np.ones(n_tx),
                         "n_inputs": n_inputs, "n_outputs": n_outputs,
                         "is_issuance": is_issue, "memo": np.full(n_tx, -1)},
        "inputs": {**ins, "asset_id": np.full(n_in_rows, asset),
                   "prev_tx_id": np.full(n_in_rows, -1), "prev_index": np.full(n_in_rows, -1)},
        "outputs": {**outs, "output_id": np.arange(n_out_rows),
                    "asset_id": np.full(n_out_rows, asset)},
        "addresses": {"address_id": np.arange(n_addr), "chain_id": np.full(n_addr, chain),
                      "service_kind": np.zeros(n_addr, np.int64),
                      "service_name": np.full(n_addr, None, dtype=object)},
        "seeds": {"incident_id": np.zeros(len(seeds), np.int64), "tx_id": seeds},
    }


def synthetic_utxo_view(n_legs: int, seed: int = 0):
    """A valid BTC ledger with about ``n_legs`` input + output rows."""
    return synthetic_utxo_dataset(n_legs, seed).observable()


def synthetic_utxo_dataset(n_legs: int, seed: int = 0) -> Dataset:
    """:func:`synthetic_utxo_view` as a Dataset (to be saved)."""
    w = World()
    btc = w.asset_id("BTC")
    n_tx = max(n_legs // 4, 20)
    in_tx, in_idx, spent, out_tx, out_idx, out_amt, out_addr, n_addr = _gen_utxo(
        n_tx, max(n_tx // 20, 30), seed)
    in_amt = out_amt[spent]
    in_addr = out_addr[spent]
    n_inputs = np.bincount(in_tx, minlength=n_tx)
    n_outputs = np.bincount(out_tx, minlength=n_tx)
    fee = (np.bincount(in_tx, weights=in_amt, minlength=n_tx)
           - np.bincount(out_tx, weights=out_amt, minlength=n_tx)).astype(np.int64)
    fee[0] = 0
    ins = {"tx_id": in_tx, "index": in_idx, "address_id": in_addr, "amount": in_amt,
           "spent_output_id": spent}
    outs = {"tx_id": out_tx, "index": out_idx, "address_id": out_addr, "amount": out_amt}
    tables = _tables(w, w.asset_chain(btc), btc, n_tx, ins, outs, n_addr, fee, n_inputs,
                     n_outputs, _seeds(n_tx))
    return Dataset(tables, {"scenario": "bench-utxo", "content_hash": "synthetic"})


def synthetic_account_view(n_legs: int, seed: int = 0):
    """A valid ETH ledger of one-to-one transfers with about ``n_legs`` rows."""
    return synthetic_account_dataset(n_legs, seed).observable()


def synthetic_account_dataset(n_legs: int, seed: int = 0) -> Dataset:
    """:func:`synthetic_account_view` as a Dataset (to be saved)."""
    w = World()
    eth = w.asset_id("ETH")
    n_tx = max(n_legs // 2, 20)
    n_addr = max(n_tx // 10, 10)
    src, dst, amt, fee = _gen_account(n_tx, n_addr, seed)
    fee[0] = 0
    out_tx = np.concatenate([np.zeros(n_addr, np.int64), np.arange(1, n_tx)])
    outs = {"tx_id": out_tx,
            "index": np.concatenate([np.arange(n_addr), np.zeros(n_tx - 1, np.int64)]),
            "address_id": np.concatenate([np.arange(n_addr), dst[1:]]),
            "amount": np.concatenate([np.full(n_addr, 10**12, np.int64), amt[1:]])}
    ins = {"tx_id": np.arange(1, n_tx), "index": np.zeros(n_tx - 1, np.int64),
           "address_id": src[1:], "amount": amt[1:] + fee[1:],
           "spent_output_id": np.full(n_tx - 1, -1)}
    n_inputs = np.ones(n_tx, np.int64)
    n_inputs[0] = 0
    n_outputs = np.ones(n_tx, np.int64)
    n_outputs[0] = n_addr
    tables = _tables(w, w.asset_chain(eth), eth, n_tx, ins, outs, n_addr, fee, n_inputs,
                     n_outputs, _seeds(n_tx))
    return Dataset(tables, {"scenario": "bench-account", "content_hash": "synthetic"})


@pytest.fixture(scope="module", params=["utxo", "account"])
def view(request):
    make = synthetic_utxo_view if request.param == "utxo" else synthetic_account_view
    v = make(N_LEGS)
    _legs(v)  # leg arrays are built once and cached on the view
    v.usd_per_base_unit()
    return v


@pytest.mark.parametrize("name", POLICIES)
def test_speed_tracing(benchmark, view, name):
    det = detectors.make(name).fit(view)
    det.score(view)  # warm-up: numba compile / load from cache
    s = benchmark.pedantic(det.score, args=(view,), rounds=1 if FULL else 3, iterations=1)
    n_legs = view.inputs.num_rows + view.outputs.num_rows
    assert n_legs >= 0.8 * N_LEGS
    assert s.address.shape == (view.n_addresses,)
    assert np.all(np.isfinite(s.address)) and s.address.max() > 0


@pytest.fixture(scope="module", params=["utxo", "account"])
def saved(request, tmp_path_factory):
    make = synthetic_utxo_dataset if request.param == "utxo" else synthetic_account_dataset
    path = tmp_path_factory.mktemp(f"trace-{request.param}")
    ds = make(N_LEGS)
    ds.save(path)
    return path, ds.observable()


@pytest.mark.parametrize("name", ["haircut", "fifo"])
def test_speed_tracing_stream(benchmark, saved, name):
    path, view = saved
    det = detectors.make(name)
    chunk = max(view.n_transactions // 10, 1)
    det.score_stream(path, chunk_transactions=chunk)  # warm-up: numba cache
    s = benchmark.pedantic(det.score_stream, args=(path,),
                           kwargs={"chunk_transactions": chunk}, rounds=1, iterations=1)
    ref = det.fit(view).score(view)
    assert np.array_equal(s.address, ref.address)
    assert np.array_equal(s.transaction, ref.transaction)


_PEAK = """
import json, sys

def hwm():  # peak resident memory of this process's own address space (KiB)
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))

from launderbench import detectors
from launderbench.simulator.dataset import Dataset
from launderbench.simulator.schema import OBSERVABLE_TABLES
mode, path, name, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
det = detectors.make(name)
base = hwm()
if mode == "memory":
    view = Dataset.load(path, tables=OBSERVABLE_TABLES).observable()
    s = det.fit(view).score(view)
else:
    s = det.score_stream(path, chunk_transactions=chunk)
print(json.dumps({"base_kib": base, "peak_kib": hwm(), "address_sum": float(s.address.sum())}))
"""


def peak_memory(mode: str, path, name: str, chunk: int) -> dict:
    """Peak resident memory (KiB, Linux ``VmHWM``) of a fresh process that scores the
    dataset at ``path`` with detector ``name``: ``mode="memory"`` loads the observable view,
    ``mode="stream"`` streams it in chunks of ``chunk`` transactions. ``base_kib`` is the peak
    after the imports. (``ru_maxrss`` would not do: a child started by ``subprocess`` may
    inherit the parent's peak.)"""
    out = subprocess.run([sys.executable, "-c", _PEAK, mode, str(path), name, str(chunk)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc")
def test_memory_tracing_stream(benchmark, saved):
    path, view = saved
    chunk = max(view.n_transactions // 10, 1)
    mem = peak_memory("memory", path, "haircut", chunk)
    stream = benchmark.pedantic(peak_memory, args=("stream", path, "haircut", chunk),
                                rounds=1, iterations=1)
    benchmark.extra_info.update({"memory_peak_mib": mem["peak_kib"] / 1024,
                                 "stream_peak_mib": stream["peak_kib"] / 1024})
    assert stream["address_sum"] == mem["address_sum"]
    if FULL:  # small ledgers are dominated by the imports
        assert stream["peak_kib"] - stream["base_kib"] < mem["peak_kib"] - mem["base_kib"]
