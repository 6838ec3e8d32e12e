"""Dataset persistence, the observable view, export and corrupt input."""

import json

import numpy as np
import pytest

from launderbench.simulator import make
from launderbench.simulator.dataset import Dataset, Table
from launderbench.simulator.errors import DatasetError
from launderbench.simulator.schema import OBSERVABLE_TABLES, TRUTH_TABLES


@pytest.fixture(scope="module")
def small():
    return make("benign-v1", seed=3, transactions=1500)


def test_roundtrip(small, tmp_path):
    small.save(tmp_path / "d")
    back = Dataset.load(tmp_path / "d")
    assert back.meta["content_hash"] == small.meta["content_hash"]
    assert back.content_hash() == small.content_hash()
    for name in small.tables:
        for col in small.tables[name]:
            a, b = small.tables[name][col], back.tables[name][col]
            assert a.dtype == b.dtype and np.array_equal(a, b), (name, col)


def test_files_are_zstd_with_integers_delta_encoded(small, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    small.save(tmp_path / "d")
    seen = set()
    for f in sorted((tmp_path / "d").glob("*.parquet")):
        meta = pq.ParquetFile(f).metadata
        if meta.num_rows == 0:  # no data pages to encode
            continue
        schema = pq.read_schema(f)
        for j in range(meta.num_columns):
            col = meta.row_group(0).column(j)
            assert col.compression == "ZSTD"
            if pa.types.is_integer(schema.field(col.path_in_schema).type):
                assert "DELTA_BINARY_PACKED" in col.encodings, (f.name, col.path_in_schema)
                seen.add(f.stem)
            else:
                assert "DELTA_BINARY_PACKED" not in col.encodings
    assert {"transactions", "inputs", "outputs", "addresses"} <= seen


def test_observable_view_has_no_truth(small):
    view = small.observable()
    for name in TRUTH_TABLES:
        assert not hasattr(view, name)
    for name in OBSERVABLE_TABLES:
        assert getattr(view, name).num_rows == small.tables[name].num_rows
    assert "incidents" not in view.meta


def test_clear_cache_rebuilds_the_same_derived_arrays(small):
    view = small.observable()
    first = view.transfers()
    assert view.transfers() is first  # cached
    view.clear_cache()
    again = view.transfers()
    assert again is not first
    assert first.keys() == again.keys()
    for key in first:
        assert np.array_equal(first[key], again[key]), key


#: every metadata key a detector may read, and nothing more (see schema.OBSERVABLE_META_KEYS)
ALLOWED_META = {"scenario", "description", "sources", "source", "schema_version",
                "generator_version", "enums", "split", "t0", "partial"}


@pytest.mark.parametrize("scenario", ["medium-v1", "harmony-2022-v1", "amlsim-typologies-v1"])
def test_observable_metadata_is_what_an_investigator_knows(scenario):
    """The scenario's parameters (playbooks, start days, waves, difficulty knobs, footprint),
    the generator's seed and the incidents never reach a detector."""
    from launderbench.simulator import make
    from launderbench.simulator.schema import OBSERVABLE_META_KEYS

    assert set(OBSERVABLE_META_KEYS) == ALLOWED_META
    ds = make(scenario, seed=0, transactions=800)
    meta = ds.observable().meta
    assert set(meta) <= ALLOWED_META
    for key in ("params", "seed", "incidents", "footprint", "counts", "content_hash"):
        assert key not in meta
    assert {"params", "seed", "incidents"} <= set(ds.meta)  # kept with the truth
    text = json.dumps(meta)
    for needle in ("playbook", "start_day", "waves", "twin_share", "amount_usd"):
        assert needle not in text


def test_address_ids_carry_no_degree_information(small):
    deg = np.bincount(small.outputs["address_id"], minlength=small.addresses.num_rows)
    from scipy.stats import spearmanr

    rho = spearmanr(np.arange(len(deg)), deg).statistic  # ties averaged
    assert abs(rho) < 0.08


def test_atomic_save_leaves_nothing_on_failure(small, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = Table.write_parquet

    def failing(self, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, path)

    monkeypatch.setattr(Table, "write_parquet", failing)
    with pytest.raises(OSError):
        small.save(tmp_path / "d")
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_an_existing_dataset(small, tmp_path):
    small.save(tmp_path / "d")
    other = make("benign-v1", seed=4, transactions=800)
    other.save(tmp_path / "d")
    assert Dataset.load(tmp_path / "d").meta["content_hash"] == other.meta["content_hash"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


@pytest.mark.parametrize("damage", ["missing_dir", "no_meta", "bad_meta", "old_schema",
                                    "missing_table", "truncated", "missing_column"])
def test_corrupt_datasets_raise_one_line(small, tmp_path, damage):
    d = tmp_path / "d"
    small.save(d)
    if damage == "missing_dir":
        d = tmp_path / "nope"
    elif damage == "no_meta":
        (d / "meta.json").unlink()
    elif damage == "bad_meta":
        (d / "meta.json").write_text("{not json")
    elif damage == "old_schema":
        m = json.loads((d / "meta.json").read_text())
        m["schema_version"] = 0
        (d / "meta.json").write_text(json.dumps(m))
    elif damage == "missing_table":
        (d / "outputs.parquet").unlink()
    elif damage == "truncated":
        raw = (d / "transactions.parquet").read_bytes()
        (d / "transactions.parquet").write_bytes(raw[: len(raw) // 2])
    elif damage == "missing_column":
        import pyarrow.parquet as pq

        t = pq.read_table(d / "inputs.parquet").drop(["amount"])
        pq.write_table(t, d / "inputs.parquet")
    with pytest.raises(DatasetError) as e:
        Dataset.load(d)
    assert "\n" not in str(e.value) and str(e.value)


def test_to_networkx_neighbourhood(small):
    g_all = small.to_networkx(max_edges=10**6)
    a = int(small.outputs["address_id"][small.transactions.num_rows // 2])
    g = small.to_networkx([a], hops=1)
    assert a in g and g.number_of_nodes() <= g_all.number_of_nodes()
    for *_, d in g.edges(data=True):
        assert {"tx_id", "timestamp", "asset", "amount", "truth_incident"} <= set(d)
    with pytest.raises(DatasetError):
        small.to_networkx(max_edges=5)


def test_every_dataset_directory_has_a_card(tmp_path, small):
    small.save(tmp_path / "d")
    card = (tmp_path / "d" / "DATASET.md").read_text()
    for heading in ("## What it is", "## Labels", "## Split", "## Known limitations"):
        assert heading in card
    assert f"`{small.meta['scenario']}`" in card
    assert f"{small.transactions.num_rows:,}" in card or "transactions" not in small.meta.get(
        "counts", {})
    assert Dataset.load(tmp_path / "d").content_hash() == small.content_hash()


def _rewrite(path, table, column, values, type_=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(path / f"{table}.parquet")
    arr = pa.array(values, type=type_) if type_ is not None else pa.array(values)
    i = t.schema.get_field_index(column)
    pq.write_table(t.set_column(i, column, arr), path / f"{table}.parquet")


@pytest.mark.parametrize("table,column,make_values,needle", [
    ("outputs", "amount", lambda a: a.astype(float) + 0.5, "has type double"),
    ("outputs", "amount", lambda a: np.where(np.arange(len(a)) == 0, np.nan, a), "type double"),
    ("transactions", "timestamp", lambda a: [None] + list(a[1:]), "missing value"),
    ("outputs", "address_id", lambda a: np.where(np.arange(len(a)) == 0, 10**12, a),
     "outputs.address_id"),
    ("inputs", "tx_id", lambda a: a - 10**9, "inputs.tx_id"),
])
def test_load_refuses_a_corrupt_table(tmp_path, small, table, column, make_values, needle):
    small.save(tmp_path / "d")
    col = small.tables[table][column]
    _rewrite(tmp_path / "d", table, column, make_values(col))
    with pytest.raises(DatasetError, match=needle):
        Dataset.load(tmp_path / "d")


def test_load_refuses_truncated_truth(tmp_path, small):
    import pyarrow.parquet as pq

    small.save(tmp_path / "d")
    f = tmp_path / "d" / "tx_truth.parquet"
    pq.write_table(pq.read_table(f).slice(0, 5), f)
    with pytest.raises(DatasetError, match="tx_truth: 5 rows"):
        Dataset.load(tmp_path / "d")


@pytest.mark.parametrize("bad", [None, 123, 4.5])
def test_load_of_a_non_path_is_a_dataset_error(bad):
    with pytest.raises(DatasetError, match="must be a string or a path"):
        Dataset.load(bad)
