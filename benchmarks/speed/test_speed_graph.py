"""Speed of the graph detectors (PPR, FlowScope, Fraudar) and the investigator.

The investigator's figure on this ledger (no services, so no links to follow) is the cost of
its tracing, linking and clustering passes, not of a real investigation.

Default size: 100k transfers (quick, also runs under ``--benchmark-disable``).
``LAUNDERBENCH_BENCH_FULL=1`` switches to 1M transfers, the size of the project's budget
(PPR on 1M edges in under 0.5 s)::

    LAUNDERBENCH_BENCH_FULL=1 .venv/bin/python -m pytest -q benchmarks/speed/test_speed_graph.py

The ledger is a synthetic account-model (ETH) ledger with heavy-tailed sender and receiver
degrees; ``view.transfers()`` is built once before timing, so the figures are the detectors'
own cost.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from launderbench import detectors
from launderbench.simulator.dataset import Dataset
from launderbench.simulator.world import World

FULL = os.environ.get("LAUNDERBENCH_BENCH_FULL") == "1"
N_EDGES = 1_000_000 if FULL else 100_000


def synthetic_account_view(n_edges: int, n_addr: int | None = None, seed: int = 0):
    """A valid ETH-only ledger: one issuance, then ``n_edges`` one-to-one transfers."""
    rng = np.random.default_rng(seed)
    n_addr = n_addr or max(n_edges // 10, 10)
    w = World()
    eth = w.asset_id("ETH")
    chain = w.asset_chain(eth)
    # rank power law endpoints (heavy tails), then a random relabelling
    perm = rng.permutation(n_addr)
    src = perm[(n_addr * rng.random(n_edges) ** 2.5).astype(np.int64)]
    dst = perm[(n_addr * rng.random(n_edges) ** 2.0).astype(np.int64)]
    amount = np.maximum((rng.lognormal(0, 1.5, n_edges) * 1e8).astype(np.int64), 1)
    n_tx = n_edges + 1
    t = np.arange(n_tx, dtype=np.int64) * 12
    zeros = np.zeros(n_tx, np.int64)
    ones = np.ones(n_tx, np.int64)
    is_issue = np.zeros(n_tx, bool)
    is_issue[0] = True
    n_in = ones.copy()
    n_in[0] = 0
    n_out = ones.copy()
    n_out[0] = n_addr
    out_tx = np.concatenate([np.zeros(n_addr, np.int64), np.arange(1, n_tx)])
    out_addr = np.concatenate([np.arange(n_addr), dst])
    out_amt = np.concatenate([np.full(n_addr, 10**15, np.int64), amount])
    out_index = np.concatenate([np.arange(n_addr), np.zeros(n_edges, np.int64)])
    tables = {
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
                         "asset_id": np.full(n_tx, eth), "timestamp": t,
                         "block_height": t // 12, "fee": zeros, "fee_rate": zeros,
                         "n_inputs": n_in, "n_outputs": n_out, "is_issuance": is_issue,
                         "memo": -ones},
        "inputs": {"tx_id": np.arange(1, n_tx), "index": np.zeros(n_edges, np.int64),
                   "address_id": src, "asset_id": np.full(n_edges, eth), "amount": amount,
                   "spent_output_id": np.full(n_edges, -1), "prev_tx_id": np.full(n_edges, -1),
                   "prev_index": np.full(n_edges, -1)},
        "outputs": {"output_id": np.arange(len(out_tx)), "tx_id": out_tx, "index": out_index,
                    "address_id": out_addr, "asset_id": np.full(len(out_tx), eth),
                    "amount": out_amt},
        "addresses": {"address_id": np.arange(n_addr), "chain_id": np.full(n_addr, chain),
                      "service_kind": np.zeros(n_addr, np.int64),
                      "service_name": np.array([None] * n_addr, object)},
        "seeds": {"incident_id": np.zeros(3, np.int64), "tx_id": np.array([1, 2, 3])},
    }
    view = Dataset(tables, {"scenario": "bench-synthetic", "seed": seed,
                            "content_hash": "synthetic"}).observable()
    view.transfers()  # build and cache outside the timed region
    return view


@pytest.fixture(scope="module")
def view():
    return synthetic_account_view(N_EDGES)


@pytest.mark.parametrize("name", ["ppr", "flowscope", "fraudar", "investigator"])
def test_speed_graph_detector(benchmark, view, name):
    det = detectors.make(name).fit(view)
    det.score(view)  # warm-up: numba compile / load from cache
    s = benchmark(det.score, view)
    assert s.address.shape == (view.n_addresses,)
    assert np.all(np.isfinite(s.address))
