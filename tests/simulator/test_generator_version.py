"""The generated data of a few presets, pinned to the generator version: a change that alters
what is generated (whatever the code path: ops in memory or on disk, any shard size) must
bump ``GENERATOR_VERSION`` (and the figures measured on its datasets), never go unnoticed.

The hashes are :attr:`content_hash` values (the columns' values, independent of the Parquet
encoding). numpy's random streams are what the generator draws from, and numpy does not
promise them across versions, so the pin is checked with the numpy minor version it was
recorded with and skipped, with the reason, under another.
"""

import numpy as np
import pytest

from launderbench.simulator import GENERATOR_VERSION, make, ops

#: numpy version the hashes were recorded with (major, minor)
NUMPY = (2, 4)
#: (scenario, transactions, seed) -> content_hash, per generator version
PINNED = {
    "0.6.0": {
        ("benign-v1", 1500, 3):
            "774ae1570779827c0b9d12484b8fee427024142240907d1d2f5ebbf7236eadde",
        ("ronin-2022-v1", 600, 3):
            "6c69d2255f3f234fbb1813a1bb629399132d19828c75ed5c16e83bd12e64490e",
        ("dmm-bitcoin-2024-v1", 600, 3):
            "1e2f556a5fdace45bcae742d4b3c68fffd38755c400dfc3838c493e662152601",
        ("bybit-2025-v1", 600, 3):
            "4a48fe249efe72c2d43aa1444341463f1eb9a15bc3a9b366b7fe66d07c811b05",
    },
}


def _numpy_minor():
    return tuple(int(x) for x in np.__version__.split(".")[:2])


@pytest.mark.skipif(_numpy_minor() != NUMPY,
                    reason=f"hashes recorded with numpy {NUMPY[0]}.{NUMPY[1]}, "
                           f"running {np.__version__}")
@pytest.mark.parametrize("key", sorted(PINNED.get(GENERATOR_VERSION, {})), ids=str)
@pytest.mark.parametrize("spill", [None, 20_000], ids=["ops-in-memory", "ops-on-disk"])
def test_generated_data_is_pinned_to_the_generator_version(monkeypatch, key, spill):
    monkeypatch.setattr(ops, "SPILL_BYTES", spill)
    scenario, n, seed = key
    got = make(scenario, seed=seed, transactions=n, shard_size=5).meta["content_hash"]
    assert got == PINNED[GENERATOR_VERSION][key], (
        f"{scenario} (transactions={n}, seed={seed}) generates other data than generator "
        f"{GENERATOR_VERSION} did: find the change, or bump GENERATOR_VERSION and record "
        "the new hashes here")


def test_this_generator_version_has_pinned_data():
    assert PINNED.get(GENERATOR_VERSION), (
        f"no pinned hashes for generator {GENERATOR_VERSION}: record them in PINNED")
