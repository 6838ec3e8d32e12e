"""Speed suite for incident generation (pytest-benchmark).

Budget (issue 3): a 1M-transaction scenario with 10 incidents of mixed playbooks generates
within 20% of the time of the benign economy alone. By default this runs at 2e4 (with
``--benchmark-disable`` in ``make test``, once each); ``LAUNDERBENCH_BENCH_FULL=1`` adds 1e6,
where the ratio is asserted (at small sizes the incidents' fixed cost dominates).
"""

import os
import time

import pytest

from launderbench.simulator import generate, make
from launderbench.simulator.config import scenario_from_dict

SIZES = [20_000]
if os.environ.get("LAUNDERBENCH_BENCH_FULL"):
    SIZES += [1_000_000]

TEN = [
    {"playbook": "bybit"}, {"playbook": "ronin"}, {"playbook": "dmm-bitcoin"},
    {"playbook": "harmony"}, {"playbook": "zaif"}, {"playbook": "generic-hard"},
    {"playbook": "exchange-cascade"}, {"playbook": "alex-lab"},
    {"playbook": "amlsim", "params": {"typology": "stack"}},
    {"playbook": "amlsim", "params": {"typology": "random", "asset": "BTC"}},
]


def ten_incidents(n: int):
    return scenario_from_dict({
        "id": "speed-ten-v1", "economy": {"transactions": n, "days": 60},
        "incident": [{**inc, "start_day": 2 + 2 * i} for i, inc in enumerate(TEN)]})


@pytest.fixture(scope="module", autouse=True)
def _warm():
    make("easy-v1", transactions=1000, seed=0)  # load the compiled kernel once


@pytest.mark.parametrize("n", SIZES)
def test_ten_incidents_vs_benign(benchmark, n):
    """Generate ``n`` benign transactions plus 10 incidents; compare with benign alone.

    Both are timed as the best of ``rounds`` runs (the shared machine is noisy)."""
    rounds = 2 if n >= 1_000_000 else 1
    t_benign = []
    for _ in range(rounds):
        t = time.perf_counter()
        base = make("benign-v1", transactions=n, seed=1)
        t_benign.append(time.perf_counter() - t)
    scenario = ten_incidents(n)
    ds = benchmark.pedantic(lambda: generate(scenario, seed=1), rounds=rounds, iterations=1)
    if benchmark.stats:
        t_laund = benchmark.stats.stats.min
    else:  # --benchmark-disable
        t = time.perf_counter()
        generate(scenario, seed=1)
        t_laund = time.perf_counter() - t
    ratio = t_laund / min(t_benign)
    benchmark.extra_info.update(transactions=int(ds.meta["counts"]["transactions"]),
                                benign_s=round(min(t_benign), 3), ratio=round(ratio, 3))
    assert len(ds.meta["incidents"]) == 10
    assert ds.meta["counts"]["transactions"] > base.meta["counts"]["transactions"]
    if n >= 1_000_000:
        assert ratio < 1.2, f"10 incidents cost {ratio:.2f}x the benign economy"
