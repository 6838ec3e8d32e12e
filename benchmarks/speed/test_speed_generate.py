"""Speed suite for generation (pytest-benchmark).

Budgets on the project's 2-core machine (issue 2): 1M benign transactions with all legs and
ground truth generated and written to Parquet in under 10 s; 10M in under 100 s and 3 GB peak
memory; cost linear in size. By default this runs at 1e4 and 1e5 so that `make test` stays fast
(there with --benchmark-disable, once each); `LAUNDERBENCH_BENCH_FULL=1 make bench` adds 1e6
and 1e7.
"""

import os
import resource

import pytest

from launderbench.simulator import make, write

SIZES = [10_000, 100_000]
if os.environ.get("LAUNDERBENCH_BENCH_FULL"):
    SIZES += [1_000_000, 10_000_000]


@pytest.fixture(scope="module", autouse=True)
def _warm():
    make("benign-v1", transactions=500, seed=0)  # load the compiled kernel once


@pytest.mark.parametrize("n", SIZES)
def test_generate_and_write(benchmark, tmp_path, n):
    """Generate ``n`` benign transactions and stream the dataset to Parquet (the CLI path)."""

    def run():
        return write("benign-v1", tmp_path / "d", transactions=n, seed=1)

    meta = benchmark.pedantic(run, rounds=1, iterations=1)
    got = meta["counts"]["transactions"]
    benchmark.extra_info["transactions"] = got
    # ru_maxrss is the process's peak so far: run sizes in increasing order (as listed)
    benchmark.extra_info["peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    assert abs(got - n) < 0.1 * n + 500
