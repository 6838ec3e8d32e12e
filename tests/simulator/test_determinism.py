"""Same scenario, parameters and seed give byte-identical files."""

import filecmp

from simulator import make


def test_same_seed_same_bytes(tmp_path):
    a = make("benign-v1", seed=11, transactions=3000)
    b = make("benign-v1", seed=11, transactions=3000)
    assert a.meta["content_hash"] == b.meta["content_hash"]
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "transactions.parquet" in names and "meta.json" in names
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names,
                                               shallow=False)
    assert mismatch == [] and errors == []


def test_different_seed_differs():
    a = make("benign-v1", seed=1, transactions=2000)
    b = make("benign-v1", seed=2, transactions=2000)
    assert a.meta["content_hash"] != b.meta["content_hash"]
