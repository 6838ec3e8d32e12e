"""Every registered detector at three dataset sizes (pytest-benchmark).

Datasets are the `medium-v1` preset (three incidents, so detectors that trace from seeds have
work to do) holding about 1e4, 1e5 and 1e6 transactions in all (benign, their twins and
footprint, and the laundering). The preset's ``transactions`` parameter counts benign
transactions only, and a `medium-v1` dataset holds about 2.4 times as many (3 times at 1e4), so
each size is generated from the nominal count in ``NOMINAL`` and the test checks that the
dataset holds its size within 15%. Each benchmark times one fit and one score (the actual count
is in the benchmark's ``extra_info``), after one untimed run of the detector on another dataset
of the smallest size, so that imports and numba functions loaded from their cache are not
counted, and from a view without derived arrays (``ObservableView.clear_cache``), so that each
detector pays for the transfers and leg indexes it builds, whichever ran before it. `make test`
runs the 1e4 size once per detector with --benchmark-disable;
`make bench` (LAUNDERBENCH_BENCH_FULL=1) runs all three sizes and prints the table with the
measured growth with size (`python -m launderbench.benchmarks.benchtable reports/bench.json`).
"""

import functools
import os

import numpy as np
import pytest

from launderbench import detectors
from launderbench.simulator import make

#: transactions in the dataset -> the preset's nominal (benign) ``transactions`` that gives it
NOMINAL = {10_000: 3_200, 100_000: 40_200, 1_000_000: 420_000}
SIZE_TOLERANCE = 0.15
#: timed rounds per size (one where not listed)
ROUNDS = {10_000: 5, 100_000: 3}

SIZES = [10_000]
if os.environ.get("LAUNDERBENCH_BENCH_FULL"):
    SIZES += [100_000, 1_000_000]

_CACHE: dict = {}
_WARM: set = set()  # detectors already run once in this process


def _medium(n: int, seed: int = 0):
    ds = make("medium-v1", transactions=NOMINAL[n], seed=seed)
    at = ds.tables["address_truth"]
    return ds.observable(), (np.asarray(at["incident_id"]) >= 0).astype(np.int64)


@functools.cache
def _warmup():
    """Another dataset of the smallest size, for the untimed first run of each detector."""
    return _medium(SIZES[0], seed=1)


def _data(n: int):
    if n not in _CACHE:
        _CACHE.clear()  # one size in memory at a time
        _CACHE[n] = _medium(n)
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
    assert abs(view.n_transactions / n - 1) <= SIZE_TOLERANCE, (
        f"medium-v1 at {NOMINAL[n]} nominal holds {view.n_transactions} transactions, not about "
        f"{n}: recalibrate NOMINAL")
    det = detectors.make(name)
    needs_labels = det.tags.get("needs_labels", False)

    def run(view=view, labels=labels):
        d = detectors.make(name)
        d.fit(view, labels if needs_labels else None)
        return d.score(view)

    if benchmark.enabled and name not in _WARM:
        # one untimed run on another dataset of the smallest size first: imports, numba
        # functions loaded from their cache and other first-call costs are not the detector's
        # run time
        run(*_warmup())
        _WARM.add(name)
    # every round starts without the arrays a view derives and caches (transfers, leg
    # indexes): each detector pays for what it builds, whichever detector ran before it; the
    # smaller sizes take milliseconds, so their mean over a few rounds is steadier
    scores = benchmark.pedantic(run, setup=view.clear_cache, rounds=ROUNDS.get(n, 1),
                                iterations=1)
    benchmark.extra_info["transactions"] = view.n_transactions
    benchmark.extra_info["nominal"] = NOMINAL[n]
    if scores.address is not None:
        assert scores.address.shape == (view.n_addresses,)
        assert np.isfinite(scores.address).all()
