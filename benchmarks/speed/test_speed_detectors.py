"""Every registered detector at three dataset sizes (pytest-benchmark).

Datasets are the `medium-v1` preset (three incidents, so detectors that trace from seeds have
work to do) generated at 1e4, 1e5 and 1e6 benign transactions. Each benchmark times one fit and
one score. `make test` runs the 1e4 size once per detector with --benchmark-disable;
`make bench` (LAUNDERBENCH_BENCH_FULL=1) runs all three sizes and prints the table with the
measured growth with size (`python -m launderbench.benchmarks.benchtable reports/bench.json`).
"""

import os

import numpy as np
import pytest

from launderbench import detectors
from launderbench.simulator import make

SIZES = [10_000]
if os.environ.get("LAUNDERBENCH_BENCH_FULL"):
    SIZES += [100_000, 1_000_000]

_CACHE: dict = {}


def _data(n: int):
    if n not in _CACHE:
        _CACHE.clear()  # one size in memory at a time
        ds = make("medium-v1", transactions=n, seed=0)
        at = ds.tables["address_truth"]
        labels = (np.asarray(at["incident_id"]) >= 0).astype(np.int64)
        _CACHE[n] = (ds.observable(), labels)
    return _CACHE[n]


# sizes vary slowest: every detector runs on one size before the next is generated (the
# preset at 1e6 takes minutes to generate, and only one size is kept in memory)
@pytest.mark.parametrize("name", sorted(detectors.list_detectors()))
@pytest.mark.parametrize("n", SIZES)
def test_detector_fit_score(benchmark, name, n):
    ok, why = detectors.available(name)
    if not ok:  # e.g. the graph neural networks without the gnn extra
        pytest.skip(why)
    view, labels = _data(n)
    det = detectors.make(name)
    needs_labels = det.tags.get("needs_labels", False)

    def run():
        d = detectors.make(name)
        d.fit(view, labels if needs_labels else None)
        return d.score(view)

    scores = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["transactions"] = view.n_transactions
    if scores.address is not None:
        assert scores.address.shape == (view.n_addresses,)
        assert np.isfinite(scores.address).all()
