"""Speed of the pattern, mixer and bridge detectors on a generated ledger.

Default size: the ``hard-v1`` scenario (four thefts: mixers, bridges, CoinJoin, peel chains,
dormancy, OTC) with 20k benign transactions, quick and also run under
``--benchmark-disable``. ``LAUNDERBENCH_BENCH_FULL=1`` switches to 1M transactions::

    LAUNDERBENCH_BENCH_FULL=1 .venv/bin/python -m pytest -q benchmarks/speed/test_speed_patterns.py

The dataset is generated once per module and ``view.transfers()`` is built before timing, so
the figures are each detector's own cost (fit + score). Numba kernels are compiled on a tiny
ledger first.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from launderbench import detectors
from launderbench.simulator import make

FULL = os.environ.get("LAUNDERBENCH_BENCH_FULL") == "1"
N_TX = 1_000_000 if FULL else 20_000
NAMES = ["peel-chain", "fan", "pass-through", "aa-smurf", "structuring", "tornado-heuristics",
         "coinjoin", "custodial-flow", "bridge-matcher"]


@pytest.fixture(scope="module")
def view():
    small = make("hard-v1", transactions=2_000, seed=0).observable()
    for name in NAMES:  # compile the numba kernels outside the timed region
        detectors.make(name).fit(small).score(small)
    v = make("hard-v1", transactions=N_TX, seed=1).observable()
    v.transfers()
    return v


@pytest.mark.parametrize("name", NAMES)
def test_detector_speed(benchmark, view, name):
    det = detectors.make(name)
    s = benchmark.pedantic(lambda: det.fit(view).score(view), rounds=1, iterations=1)
    benchmark.extra_info["transactions"] = view.n_transactions
    benchmark.extra_info["transfers"] = len(view.transfers()["src"])
    arrays = [a for a in (s.address, s.transaction) if a is not None]
    if s.links is not None:
        arrays.append(s.links["score"])
    assert arrays and all(np.all(np.isfinite(a)) for a in arrays)
