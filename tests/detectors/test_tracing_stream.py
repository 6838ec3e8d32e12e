"""Streaming tracing: a dataset on disk scored chunk by chunk gives exactly the in-memory
scores, whatever the chunk size; the chunked reader hands out every row once, in order."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from launderbench import detectors
from launderbench.detectors.registry import list_detectors
from launderbench.detectors.tracing.stream import trace_chunks
from launderbench.simulator import make
from launderbench.simulator.chunks import STREAMED_TABLES, ChunkedView
from launderbench.simulator.dataset import Dataset
from launderbench.simulator.errors import DatasetError

POLICIES = ["poison", "haircut", "fifo", "lifo", "tiho"]
PRESETS = ["easy-v1", "dmm-bitcoin-2024-v1", "ronin-2022-v1"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Small datasets of the UTXO and account presets, saved, with their in-memory views."""
    out = {}
    for name in PRESETS:
        path = tmp_path_factory.mktemp(name)
        ds = make(name, seed=3, transactions=400)
        ds.save(path)
        out[name] = (path, ds.observable())
    return out


def _same(stream, ref, view):
    """Every score and the info entries of the streamed result equal the in-memory ones."""
    assert np.array_equal(stream.address, ref.address)
    assert np.array_equal(stream.transaction, ref.transaction)
    assert stream.info["fee_usd"] == ref.info["fee_usd"]
    for key in ("address_id", "usd"):
        assert np.array_equal(stream.info["cashout"][key], ref.info["cashout"][key])
    out = stream.info["tainted_outputs"]
    n_out = view.outputs.num_rows
    taint, depth, usd = np.zeros(n_out), np.full(n_out, -1), np.zeros(n_out)
    taint[out["output_id"]] = out["taint"]
    depth[out["output_id"]] = out["depth"]
    usd[out["output_id"]] = out["usd"]
    assert np.array_equal(taint, ref.info["output_taint"])
    assert np.array_equal(depth, ref.info["output_depth"])
    assert np.array_equal(usd, ref.info["output_usd"])
    fee = np.zeros(view.n_transactions)
    fee[stream.info["tainted_fees"]["tx_id"]] = stream.info["tainted_fees"]["taint"]
    assert np.array_equal(fee, ref.info["fee_taint"])


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("max_hops", [None, 2])
def test_stream_equals_memory(saved, preset, max_hops):
    path, view = saved[preset]
    for policy in POLICIES:
        det = detectors.make(policy, max_hops=max_hops)
        ref = det.fit(view).score(view)
        assert ref.info["output_depth"].max() >= 0  # the seeds' taint is there to follow
        for k in (11, 250, 10**6):
            _same(det.score_stream(path, chunk_transactions=k, per_output=True), ref, view)


# one transaction per chunk is slow (a chunk costs a few ms): each kernel on each chain model
@pytest.mark.parametrize("preset,policy,max_hops", [
    ("easy-v1", "poison", None), ("easy-v1", "lifo", 3),
    ("dmm-bitcoin-2024-v1", "haircut", 1), ("dmm-bitcoin-2024-v1", "tiho", None),
    ("ronin-2022-v1", "fifo", None), ("ronin-2022-v1", "haircut", None),
    ("ronin-2022-v1", "lifo", 1),
])
def test_one_transaction_per_chunk(saved, preset, policy, max_hops):
    path, view = saved[preset]
    det = detectors.make(policy, max_hops=max_hops)
    ref = det.fit(view).score(view)
    _same(det.score_stream(path, chunk_transactions=1, per_output=True), ref, view)


def test_stream_options_match_memory(saved):
    """The trace options (fee convention, XIYO orders, no stop at services, service scores)
    stream too."""
    path, view = saved["ronin-2022-v1"]
    from launderbench.detectors.tracing import trace

    for policy, kw in (("fifo", {"fee": "prorata"}), ("tiho", {"orders": "CL"}),
                       ("haircut", {"stop_at_services": False}), ("fifo", {"orders": "HS"})):
        ref = trace(view, policy, **kw)
        got_taint = np.zeros(view.outputs.num_rows)
        got_fee = np.zeros(view.n_transactions)
        for ct in trace_chunks(path, policy, chunk_transactions=17, **kw):
            got_taint[ct.chunk.outputs["output_id"]] = ct.output_taint
            first = ct.chunk.first_tx
            got_fee[first:first + ct.chunk.n_transactions] = ct.fee_taint
        assert np.array_equal(got_taint, ref.output_taint)
        assert np.array_equal(got_fee, ref.fee_taint)
    det = detectors.make("poison", score_services=True, stop_at_services=False)
    ref = det.fit(view).score(view)
    _same(det.score_stream(path, chunk_transactions=50, per_output=True), ref, view)


def test_default_result_is_small(saved):
    """Without ``per_output`` the result has the scores and totals, no per-output arrays."""
    path, view = saved["easy-v1"]
    s = detectors.make("haircut").score_stream(ChunkedView(path), chunk_transactions=500)
    assert s.address.shape == (view.n_addresses,)
    assert s.transaction.shape == (view.n_transactions,)
    assert "output_taint" not in s.info and "tainted_outputs" not in s.info
    assert s.address.max() > 0


def test_chunks_cover_the_tables_in_order(saved, tmp_path):
    """Concatenated chunks are the stored tables, whatever the row-group layout on disk."""
    path, view = saved["dmm-bitcoin-2024-v1"]
    # rewrite the leg tables with small, uneven row groups
    for name in STREAMED_TABLES:
        table = pq.read_table(path / f"{name}.parquet")
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=37)
    for f in path.iterdir():
        if not (tmp_path / f.name).exists():
            (tmp_path / f.name).write_bytes(f.read_bytes())
    for where, read_rows in ((path, 65_536), (tmp_path, 5), (tmp_path, 1000)):
        cv = ChunkedView(where, read_rows=read_rows)
        assert cv.n_transactions == view.n_transactions
        assert cv.n_addresses == view.n_addresses
        for k in (1_000, 7):
            chunks = list(cv.chunks(k))
            assert all(0 < c.n_transactions <= k for c in chunks)
            for name in STREAMED_TABLES:
                full = getattr(view, name)
                for col in full:
                    got = np.concatenate([getattr(c, name)[col] for c in chunks])
                    assert np.array_equal(got, full[col]), (name, col)
            for c in chunks:  # each chunk holds all legs of its transactions
                lo, hi = c.first_tx, c.first_tx + c.n_transactions
                for legs in (c.inputs, c.outputs):
                    assert np.all((legs["tx_id"] >= lo) & (legs["tx_id"] < hi))
    # the streamed scores do not depend on the layout either
    det = detectors.make("lifo")
    ref = det.fit(view).score(view)
    _same(det.score_stream(ChunkedView(tmp_path, read_rows=10), chunk_transactions=64,
                           per_output=True), ref, view)


def test_reader_refuses_unsorted_legs(saved, tmp_path):
    path, view = saved["easy-v1"]
    ds = Dataset.load(path)
    ins = ds.tables["inputs"]
    order = np.argsort(-ins["tx_id"], kind="stable")
    for f in path.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    ins.take(order).write_parquet(tmp_path / "inputs.parquet")
    with pytest.raises(DatasetError, match="not in tx_id order"):
        for _ in ChunkedView(tmp_path).chunks(100):
            pass
    with pytest.raises(ValueError, match="chunk size"):
        next(ChunkedView(path).chunks(0))
    with pytest.raises(DatasetError):
        ChunkedView(tmp_path / "missing")


def test_every_detector_says_whether_it_streams():
    """The ``streams`` tag is a bool on every detector; the streaming ones score a path."""
    streaming = []
    for name in list_detectors():
        cls = detectors.registry.load(name)
        tag = cls._tag("streams")
        assert isinstance(tag, bool), name
        if tag:
            assert callable(getattr(cls, "score_stream", None)), name
            streaming.append(name)
    assert set(POLICIES) <= set(streaming)


def test_export_scores_stream(saved, tmp_path):
    """``launderbench export-scores --stream`` ranks as the in-memory export does."""
    from click.testing import CliRunner

    from launderbench.benchmarks.cli import cli
    from launderbench.benchmarks.exports import ranked_addresses
    from launderbench.simulator.errors import ConfigError

    path, _ = saved["ronin-2022-v1"]
    ref = ranked_addresses(path, "fifo", top=50)
    assert ranked_addresses(path, "fifo", top=50, stream=True) == ref
    with pytest.raises(ConfigError, match="does not stream"):
        ranked_addresses(path, "degree", stream=True)
    out = tmp_path / "ranked.csv"
    res = CliRunner().invoke(cli, ["export-scores", str(path), "-d", "fifo", "--stream",
                                    "--top", "5", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[1].split(",")[4] == str(ref[0]["address_id"])
