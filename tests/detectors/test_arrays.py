"""Array helpers shared by detectors."""

import numpy as np
import pytest

from launderbench.detectors.arrays import unique_sorted


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint64, np.uint8, np.int8, bool])
def test_unique_sorted_is_np_unique_for_integers(dtype):
    rng = np.random.default_rng(1)
    for n in (0, 1, 2, 3, 17, 1000):
        high = 2 if dtype is bool else 60
        values = rng.integers(0, high, n).astype(dtype)
        for x in (values, values.reshape(-1, 1)):
            want = np.unique(x)
            got = unique_sorted(x)
            assert got.dtype == want.dtype
            assert got.tolist() == want.tolist()


def test_unique_sorted_leaves_other_dtypes_to_np_unique():
    x = np.array([2.0, np.nan, 1.0, np.nan, 2.0])
    assert np.array_equal(unique_sorted(x), np.unique(x), equal_nan=True)  # one NaN
    s = np.array(["b", "a", "b"], dtype=object)
    assert unique_sorted(s).tolist() == ["a", "b"]
