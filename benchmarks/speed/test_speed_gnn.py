"""Training speed of the graph neural network detectors (gcn, gin, multi-gnn) on the CPU:
seconds per full-batch epoch, with the default parameters (one torch thread).

Default size: 100k transfers (quick, also runs under ``--benchmark-disable``).
``LAUNDERBENCH_BENCH_FULL=1`` switches to 1M transfers::

    LAUNDERBENCH_BENCH_FULL=1 .venv-gnn/bin/python -m pytest -q benchmarks/speed/test_speed_gnn.py

The ledger is the synthetic account-model ledger of ``test_speed_graph.py`` (heavy-tailed
degrees, one transfer per transaction, so the multigraph has one edge per transaction), with
every address labelled and 1% of them illicit at random. Every address of that ledger first
appears in its opening issuance, so the labelled period would end there: the benchmark trains
on the whole ledger instead (the labelled-period cut is patched out). Building the graph, the
features and the network is timed once and reported as ``prepare_s`` in the benchmark's extra info; the
benchmark itself times one training epoch (forward, backward and Adam step over every edge).
Needs the ``gnn`` extra; skipped without it.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

REASON = "needs the gnn extra (torch, torch-geometric): pip install 'launderbench[gnn]'"
pytest.importorskip("torch", reason=REASON)
pytest.importorskip("torch_geometric", reason=REASON)

from test_speed_graph import synthetic_account_view  # noqa: E402

from launderbench import detectors  # noqa: E402
from launderbench.detectors.learned import gnn, torch_utils  # noqa: E402

FULL = os.environ.get("LAUNDERBENCH_BENCH_FULL") == "1"
N_EDGES = 1_000_000 if FULL else 100_000


@pytest.fixture(scope="module")
def data():
    view = synthetic_account_view(N_EDGES)
    rng = np.random.default_rng(0)
    labels = (rng.random(view.n_addresses) < 0.01).astype(np.int64)
    return view, labels


@pytest.mark.parametrize("name", ["gcn", "gin", "multi-gnn"])
def test_speed_gnn_epoch(benchmark, data, name, monkeypatch):
    view, labels = data
    monkeypatch.setattr(gnn, "labelled_prefix", lambda v, lab: (v, v.n_transactions))
    det = detectors.make(name, device="cpu")
    device = torch_utils.resolve_device("cpu")
    with torch_utils.reproducible(det.seed, device, det.threads):
        t0 = time.perf_counter()
        training = det._training(view, labels)
        prepare = time.perf_counter() - t0
        assert training is not None and int(training.mask.sum()) > 0
        training.step()  # warm-up: first-call allocations
        losses = benchmark.pedantic(training.step, rounds=3, iterations=1)
    benchmark.extra_info.update(edges=N_EDGES, addresses=view.n_addresses,
                                prepare_s=round(prepare, 2), threads=det.threads)
    assert np.isfinite(losses)
