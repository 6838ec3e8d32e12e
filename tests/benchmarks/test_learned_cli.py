"""``launderbench features``: one row per address or transaction, the id column and the
feature columns, equal to the Python API; an existing file is kept unless --overwrite."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from launderbench.benchmarks.cli import main
from launderbench.detectors.learned.features import address_features, transaction_features
from launderbench.simulator.dataset import Dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("feat") / "ds"
    with pytest.raises(SystemExit) as e:
        main(["generate", "-s", "easy", "-n", "400", "-o", str(out), "-q"])
    assert e.value.code == 0
    return out


def _run(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code


@pytest.mark.parametrize("level,func,id_col", [
    ("address", address_features, "address_id"),
    ("transaction", transaction_features, "tx_id")])
def test_features_file_matches_the_api(dataset, tmp_path, level, func, id_col):
    out = tmp_path / "f.parquet"
    assert _run(["features", str(dataset), "--out", str(out), "--level", level]) == 0
    table = pq.read_table(out)
    X, names = func(Dataset.load(dataset).observable())
    assert table.column_names == [id_col, *names]
    assert np.array_equal(table[id_col].to_numpy(), np.arange(len(X)))
    got = np.column_stack([table[n].to_numpy() for n in names])
    assert got.dtype == np.float32 and np.array_equal(got, X)
    assert [p.name for p in tmp_path.iterdir()] == ["f.parquet"]  # no temporary file left


def test_default_level_is_address_and_overwrite_is_explicit(dataset, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    out.write_text("the user's own file")
    assert _run(["features", str(dataset), "--out", str(out)]) == 2
    assert out.read_text() == "the user's own file"
    assert _run(["features", str(dataset), "--out", str(out), "--overwrite"]) == 0
    assert pq.read_table(out).column_names[0] == "address_id"
    assert "addresses" in capsys.readouterr().out
