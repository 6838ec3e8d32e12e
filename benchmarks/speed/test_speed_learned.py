"""Speed of the learned detectors: the feature matrices and a feature model's fit
(pytest-benchmark).

The ledger is the `medium-v1` preset, generated large enough and cut to its first N
transactions (N = 10k by default; ``LAUNDERBENCH_BENCH_FULL=1`` adds 1M, the size of the
budgets: features in under 10 s, a model fitted in under 60 s, both CPU seconds on one
core)::

    LAUNDERBENCH_BENCH_FULL=1 .venv/bin/python -m pytest -q benchmarks/speed/test_speed_learned.py

At 1M the preset takes minutes to generate; it is generated once for the whole module. Labels
are known for every address (the fit then reads the whole ledger, the largest training set),
and a fit includes computing its features.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from launderbench import detectors
from launderbench.detectors.learned.features import address_features, transaction_features
from launderbench.detectors.learned.labels import prefix_view
from launderbench.simulator import make

FULL = os.environ.get("LAUNDERBENCH_BENCH_FULL") == "1"
SIZES = [10_000] + ([1_000_000] if FULL else [])
#: seconds allowed at 1M transactions (checked in the full run only)
BUDGET = {"features": 10.0, "fit": 60.0}
#: benign transactions of medium-v1 that give a little more than N transactions in all
_BENIGN = {10_000: 4_500, 1_000_000: 430_000}

_CACHE: dict = {}


def _data(n: int):
    if n not in _CACHE:
        _CACHE.clear()  # one size in memory at a time
        ds = make("medium-v1", transactions=_BENIGN[n], seed=0)
        view = prefix_view(ds.observable(), n)
        at = ds.tables["address_truth"]
        labels = (np.asarray(at["incident_id"]) >= 0).astype(np.int64)
        _CACHE[n] = (view, labels)
    return _CACHE[n]


def _timed(benchmark, func, budget: float, n: int):
    """Run ``func`` once under the benchmark; record its wall and CPU seconds. The budget
    holds the CPU seconds (one core: the work is single-threaded), which other jobs on a
    shared machine do not inflate as they do the wall-clock time."""
    spent = []

    def run():
        t, c = time.perf_counter(), time.process_time()
        out = func()
        spent.append((time.perf_counter() - t, time.process_time() - c))
        return out

    out = benchmark.pedantic(run, rounds=1, iterations=1)
    wall, cpu = spent[0]
    benchmark.extra_info.update(transactions=n, cpu_s=round(cpu, 2), wall_s=round(wall, 2))
    if FULL and n >= 1_000_000:
        assert cpu < budget, f"{cpu:.1f} CPU s (wall {wall:.1f} s), budget {budget:.0f} s"
    return out


@pytest.mark.parametrize("level", ["address", "transaction"])
@pytest.mark.parametrize("n", SIZES)
def test_features(benchmark, n, level):
    view, _ = _data(n)
    assert view.n_transactions == n
    func = address_features if level == "address" else transaction_features
    X, names = _timed(benchmark, lambda: func(view), BUDGET["features"], n)
    rows = view.n_addresses if level == "address" else n
    assert X.shape == (rows, len(names)) and np.isfinite(X).all()


@pytest.mark.parametrize("name,params", [
    ("gradient-boosting", {}), ("random-forest", {}),
    ("gradient-boosting", {"engine": "sklearn"})], ids=["gb", "rf", "gb-sklearn"])
@pytest.mark.parametrize("n", SIZES)
def test_fit(benchmark, n, name, params):
    view, labels = _data(n)

    def fit():
        return detectors.make(name, **params).fit(view, labels)

    det = _timed(benchmark, fit, BUDGET["fit"], n)
    assert det.n_train_ > 0 and det.model_ is not None
