"""Sharded generation: the ledger kernel runs over shards of ops with its state carried
across them, and the files do not depend on the shard size."""

import hashlib

import numpy as np
import pyarrow.parquet as pq
import pytest

from launderbench.simulator import ledger, make, ops, write
from launderbench.simulator.dataset import ROW_GROUP, DatasetWriter, Spool, Table


def _file_hashes(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("scenario, n", [("benign-v1", 1500), ("ronin-2022-v1", 600)])
def test_written_files_do_not_depend_on_the_shard_size(tmp_path, scenario, n):
    hashes = {}
    for size in (0, 3, 50, 1000, None):
        out = tmp_path / f"s{size}"
        write(scenario, out, seed=3, transactions=n, shard_size=size)
        hashes[size] = _file_hashes(out)
    assert "inputs.parquet" in hashes[0]
    assert all(h == hashes[0] for h in hashes.values())
    ds = make(scenario, seed=3, transactions=n, shard_size=0)
    ds.save(tmp_path / "m")
    assert _file_hashes(tmp_path / "m") == hashes[0]


@pytest.mark.parametrize("scenario, n", [("benign-v1", 1500), ("ronin-2022-v1", 600)])
def test_ops_on_disk_give_the_same_files(tmp_path, monkeypatch, scenario, n):
    """Planned ops that go to disk (past ``ops.SPILL_BYTES``) are put in time order there and
    read back shard by shard: the files are those of ops held in memory throughout."""
    monkeypatch.setattr(ops, "SPILL_BYTES", None)
    write(scenario, tmp_path / "memory", seed=3, transactions=n)
    flushes = []
    flush = ops.OpStream._flush

    def counting(self):
        flushes[-1] += 1
        flush(self)

    monkeypatch.setattr(ops.OpStream, "_flush", counting)
    hashes = {}
    for limit, size in ((0, None), (0, 7), (20_000, 0), (20_000, 1000)):
        monkeypatch.setattr(ops, "SPILL_BYTES", limit)
        flushes.append(0)
        write(scenario, tmp_path / f"disk{limit}-{size}", seed=3, transactions=n,
              shard_size=size)
        hashes[(limit, size)] = _file_hashes(tmp_path / f"disk{limit}-{size}")
    # with a limit of 0 every batch went to disk; with 20 kB some did, not all
    assert flushes[0] > 10 and 0 < flushes[2] < flushes[0], flushes
    reference = _file_hashes(tmp_path / "memory")
    assert all(h == reference for h in hashes.values())
    # in memory (make) with the ops on disk: the same dataset
    ds = make(scenario, seed=3, transactions=n)
    ds.save(tmp_path / "m")
    assert _file_hashes(tmp_path / "m") == reference


def test_ops_on_disk_are_removed_after_generation_and_on_error(tmp_path, monkeypatch):
    import tempfile

    from launderbench.simulator import tempdirs

    monkeypatch.setattr(ops, "SPILL_BYTES", 0)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    made = []
    make_temp_dir = tempdirs.make_temp_dir

    def recording(prefix, where=None):
        made.append(prefix)
        return make_temp_dir(prefix, where)

    monkeypatch.setattr(tempdirs, "make_temp_dir", recording)
    write("easy-v1", tmp_path / "d", seed=1, transactions=400)
    assert "launderbench-plan-" in made  # the ops did go to disk
    assert list((tmp_path / "tmp").iterdir()) == []

    # an error while the ops are on disk (putting them in time order): the files go at once,
    # while the error (and its traceback, which holds the stream) is still alive
    def failing(*args, **kwargs):
        raise RuntimeError("sorting failed")

    monkeypatch.setattr(ops, "_in_order", failing)
    with pytest.raises(RuntimeError, match="sorting failed") as err:
        write("easy-v1", tmp_path / "e", seed=1, transactions=400)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "e").exists()
    del err


def test_one_op_shards_in_memory_give_the_same_dataset():
    whole = make("easy-v1", seed=4, transactions=800, shard_size=0)
    tiny = make("easy-v1", seed=4, transactions=800, shard_size=1)
    assert tiny.meta["content_hash"] == whole.meta["content_hash"]
    assert tiny.meta["counts"] == whole.meta["counts"]
    assert tiny.meta["counts"]["transactions"] > 800


def test_shards_that_stop_early_for_room_give_the_same_dataset(monkeypatch):
    """A shard's input buffer that is too small for the next op ends the shard there (and
    grows when even one op does not fit): the dataset stays the same."""
    whole = make("benign-v1", seed=2, transactions=1200, shard_size=0)
    calls = []
    execute = ledger.kn.execute

    def counting(i0, i1, *args):
        execute(i0, i1, *args)
        calls.append((i0, i1, int(args[-17][ledger.kn.C_NEXT])))

    monkeypatch.setattr(ledger, "_MIN_IN_ROWS", 0)
    monkeypatch.setattr(ledger.kn, "execute", counting)
    small = make("benign-v1", seed=2, transactions=1200, shard_size=2)
    assert small.meta["content_hash"] == whole.meta["content_hash"]
    assert any(nxt < i1 for _, i1, nxt in calls)  # some shard stopped early
    assert any(nxt == i0 for i0, _, nxt in calls)  # and some buffer had to grow


@pytest.mark.parametrize("whole_bytes", [0, 1 << 30])
def test_a_table_written_in_pieces_has_the_bytes_of_the_whole_table(tmp_path, monkeypatch,
                                                                    whole_bytes):
    """Read back one row group at a time (past ``WHOLE_TABLE_BYTES``) or whole."""
    from launderbench.simulator import dataset

    monkeypatch.setattr(dataset, "WHOLE_TABLE_BYTES", whole_bytes)
    reads = []
    read = Spool.read
    monkeypatch.setattr(Spool, "read", lambda self, col, a, b, remap=None: (
        reads.append(b - a), read(self, col, a, b, remap))[1])
    rng = np.random.default_rng(0)
    n = ROW_GROUP + 12_345  # two row groups
    cols = {"output_id": np.sort(rng.choice(4 * n, n, replace=False)),
            "incident_id": rng.integers(0, 5, n), "amount": rng.integers(1, 10**12, n)}
    whole = Table("taint", cols)
    spool = Spool("taint", tmp_path)
    for a, b in [(0, 1), (1, 70_000), (70_000, ROW_GROUP + 3), (ROW_GROUP + 3, n)]:
        spool.append({k: v[a:b] for k, v in cols.items()})
    with DatasetWriter(tmp_path / "w") as w:
        w.write_spool("taint", spool)
        w("outputs", Table.empty("outputs"))
        got = w.digests["taint"]
        piece = (w.tmp / "taint.parquet").read_bytes()
    whole.write_parquet(tmp_path / "whole.parquet")
    assert piece == (tmp_path / "whole.parquet").read_bytes()
    assert got == whole.digest()
    assert pq.ParquetFile(tmp_path / "whole.parquet").metadata.num_row_groups == 2
    # whole: each of the 3 columns read once; in pieces: twice (hash, file), per row group
    assert sorted(reads) == (sorted([n] * 3) if whole_bytes else
                             sorted([ROW_GROUP, 12_345] * 6))


def test_remapped_column_matches_in_memory_and_on_disk(tmp_path):
    perm = np.array([3, 0, 2, 1], np.int64)
    cols = {"output_id": np.arange(5), "tx_id": np.arange(5), "index": np.zeros(5),
            "address_id": np.array([0, 1, 2, 3, 1]), "asset_id": np.zeros(5),
            "amount": np.arange(5) + 7}
    for where in (None, tmp_path):
        spool = Spool("outputs", where)
        spool.append({k: v[:2] for k, v in cols.items()})
        spool.append({k: v[2:] for k, v in cols.items()})
        t = spool.table({"address_id": perm})
        assert t["address_id"].tolist() == [3, 0, 2, 1, 0]
        assert t["amount"].tolist() == [7, 8, 9, 10, 11]


def test_shard_size_must_be_a_non_negative_integer():
    from launderbench.simulator.errors import ConfigError

    with pytest.raises(ConfigError, match="shard_size"):
        make("benign-v1", transactions=500, shard_size=-1)


def test_cli_shard_size_gives_the_same_files(tmp_path):
    import subprocess
    import sys

    def run(out, *extra):
        r = subprocess.run([sys.executable, "-m", "launderbench", "generate", "-s", "benign",
                            "-n", "900", "--seed", "2", "-o", str(out), "-q", *extra],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr

    run(tmp_path / "a")
    run(tmp_path / "b", "--shard-size", "40")
    assert _file_hashes(tmp_path / "a") == _file_hashes(tmp_path / "b")
    r = subprocess.run([sys.executable, "-m", "launderbench", "generate", "--shard-size", "-3",
                        "-o", str(tmp_path / "c")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "shard-size" in r.stderr


def test_finalize_gives_the_same_columns_from_memory_from_disk_and_sorted_on_disk(
        tmp_path, monkeypatch):
    """The three ways to put the planned ops in time order agree column by column: in memory,
    read back from disk into memory (``finalize()`` without a directory), and out of core
    (``finalize(spill=...)``), with a horizon that drops the last ops."""
    import numpy as np

    from launderbench.simulator.generate import _plan, _scenario

    scenario = _scenario("ronin-2022-v1", {"transactions": 600})

    def planned(limit):
        monkeypatch.setattr(ops, "SPILL_BYTES", limit)
        ss = np.random.SeedSequence(4).spawn(3)
        return _plan(scenario, scenario.economy, ss[0], ss[1])[1]

    memory = planned(None)
    horizon = int(np.quantile(np.concatenate([b["t"] for b in memory.batches("t")]), 0.9))
    ref_ops, ref_outs, ref_parts = memory.finalize(horizon)
    back = planned(0)
    assert back._on_disk["op"] > 0
    got_ops, got_outs, got_parts = back.finalize(horizon)
    spill = tmp_path / "sorted"
    spill.mkdir()
    disk = planned(0)
    sorted_ops = disk.finalize(horizon, spill=str(spill))
    assert isinstance(sorted_ops, ops.SortedOps) and sorted_ops.n_ops == len(ref_ops["t"])
    for kind, ref, got in (("op", ref_ops, got_ops), ("out", ref_outs, got_outs),
                           ("part", ref_parts, got_parts)):
        for k, col in ref.items():
            assert np.array_equal(got[k], col), (kind, k)
            assert np.array_equal(sorted_ops.column(kind, k), col), (kind, k)
    some = np.arange(0, memory.n, 97)
    assert np.array_equal(disk.position(some), memory.position(some))
    assert (memory.position(some) == -1).any()  # the horizon dropped some
    for s in (memory, back, disk):
        s.close()


@pytest.mark.parametrize("failing", ["outputs", "addresses"])
def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, failing):
    """A table that fails to write (spooled, or an address table): the error reaches the
    caller, and neither a dataset nor its temporary directory is left."""
    from launderbench.simulator import dataset

    call, spool = dataset.DatasetWriter.__call__, dataset.DatasetWriter.write_spool

    def broken_call(self, name, table):
        if name == failing:
            raise OSError(28, "No space left on device")
        return call(self, name, table)

    def broken_spool(self, name, sp, remap=None):
        if name == failing:
            raise OSError(28, "No space left on device")
        return spool(self, name, sp, remap)

    monkeypatch.setattr(dataset.DatasetWriter, "__call__", broken_call)
    monkeypatch.setattr(dataset.DatasetWriter, "write_spool", broken_spool)
    with pytest.raises(OSError, match="No space"):
        write("benign-v1", tmp_path / "out", seed=1, transactions=600)
    assert list(tmp_path.iterdir()) == []
