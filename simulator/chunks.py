"""Reading a saved dataset's observable tables chunk by chunk, in transaction-id order.

A ledger of billions of transactions does not fit in memory, but a detector that walks the
legs in time order needs only a window of them at a time. :class:`ChunkedView` opens a
dataset directory, reads the small observable tables whole (chains, assets, addresses,
seeds) and yields the transactions with their input and output legs in chunks of at most
``K`` transactions (:meth:`ChunkedView.chunks`). The Parquet files are read batch by batch
(``ParquetFile.iter_batches``, buffered column reads), whatever their row-group layout, so
the memory held by the reader is one chunk plus one read batch per leg table: it does not grow
with the number of transactions. Truth tables are never opened.

>>> from launderbench.simulator.chunks import ChunkedView
>>> cv = ChunkedView("data/big")                                      # doctest: +SKIP
>>> for chunk in cv.chunks(transactions=100_000):                     # doctest: +SKIP
...     chunk.transactions["tx_id"][0], chunk.inputs.num_rows, chunk.outputs.num_rows

The legs must be stored in transaction order (``tx_id`` non-decreasing), as every writer of
the project does; the reader checks it, and that transaction ids are dense, as it goes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .dataset import ObservableView, Table, read_meta
from .errors import DatasetError
from .schema import OBSERVABLE_META_KEYS, ChainModel

__all__ = ["Chunk", "ChunkedView", "SMALL_TABLES", "STREAMED_TABLES"]

#: Observable tables read whole (one row per chain, asset, address or seed).
SMALL_TABLES = ("chains", "assets", "addresses", "seeds")
#: Observable tables read in transaction-id chunks.
STREAMED_TABLES = ("transactions", "inputs", "outputs")
#: Rows per Parquet read (the reader's own working set, independent of the chunk size).
READ_ROWS = 65_536
#: Bytes of read buffering per column (Parquet column chunks are not read whole).
_BUFFER_BYTES = 1 << 20


@dataclass
class Chunk:
    """Consecutive transactions ``first_tx .. first_tx + n_transactions - 1`` with all their
    legs: :class:`~launderbench.simulator.dataset.Table` objects of the observable schema, the
    legs in their stored (transaction) order."""

    transactions: Table
    inputs: Table
    outputs: Table

    @property
    def first_tx(self) -> int:
        tx = self.transactions["tx_id"]
        return int(tx[0]) if len(tx) else 0

    @property
    def n_transactions(self) -> int:
        return self.transactions.num_rows


def _open(path: Path, name: str) -> pq.ParquetFile:
    f = path / f"{name}.parquet"
    if not f.is_file():
        raise DatasetError(f"{path}: missing table file {f.name}")
    try:
        return pq.ParquetFile(f, buffer_size=_BUFFER_BYTES, pre_buffer=False)
    except (pa.ArrowException, OSError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DatasetError(f"corrupt table file {f}: {msg}") from None


class _OrderedRows:
    """The rows of one table, ordered by ``tx_id``, handed out up to a given transaction.

    Each Parquet batch is checked and converted to numpy columns once; chunks are slices of
    the converted batches (cheap even for chunks of one transaction)."""

    def __init__(self, pf: pq.ParquetFile, name: str, read_rows: int):
        self.name = name
        self._batches = pf.iter_batches(batch_size=read_rows, use_threads=False)
        self._pending: dict[str, np.ndarray] | None = None
        self._at = 0  # first unread row of the pending batch
        self._last = -1
        self._exhausted = False

    def _next_batch(self) -> dict[str, np.ndarray] | None:
        if self._exhausted:
            return None
        try:
            b = next(self._batches)
        except StopIteration:
            self._exhausted = True
            return None
        except (pa.ArrowException, OSError) as e:
            raise DatasetError(f"corrupt table file {self.name}.parquet: {e}") from None
        cols = dict(Table.from_arrow(self.name, pa.Table.from_batches([b])))
        tx = cols["tx_id"]
        if len(tx) and (tx[0] < self._last or np.any(tx[1:] < tx[:-1])):
            raise DatasetError(f"{self.name}.parquet is not in tx_id order: a chunked read "
                               "needs the rows sorted by transaction")
        if len(tx):
            self._last = int(tx[-1])
        return cols

    def _fill(self) -> bool:
        """Make sure unread rows are pending; False at the end of the file."""
        while self._pending is None or self._at >= len(self._pending["tx_id"]):
            self._pending = self._next_batch()
            self._at = 0
            if self._pending is None:
                return False
        return True

    def take_before(self, end: int) -> Table:
        """The next rows whose ``tx_id`` is below ``end``."""
        parts = []
        while self._fill():
            cols, at = self._pending, self._at
            n = len(cols["tx_id"])
            k = at + int(np.searchsorted(cols["tx_id"][at:], end, "left"))
            parts.append({c: v[at:k] for c, v in cols.items()})
            self._at = k
            if k < n:
                break
        if len(parts) == 1:
            return Table(self.name, parts[0])
        if not parts:
            return Table.empty(self.name)
        return Table(self.name, {c: np.concatenate([p[c] for p in parts]) for c in parts[0]})

    def left_over(self) -> bool:
        return self._fill()


class ChunkedView:
    """The observable view of a dataset directory, for detectors that read it in chunks.

    Holds what :class:`~launderbench.simulator.dataset.ObservableView` holds except the
    transactions and their legs, which :meth:`chunks` reads from disk on demand: the small
    tables ``chains``, ``assets``, ``addresses``, ``seeds`` (:class:`Table`), the observable
    ``meta``, and the row counts ``n_transactions``, ``n_inputs``, ``n_outputs``.

    Parameters
    ----------
    path : dataset directory (written by ``launderbench generate`` or ``Dataset.save``)
    read_rows : rows per Parquet read (memory of the reader; default :data:`READ_ROWS`)
    """

    def __init__(self, path: str | os.PathLike, read_rows: int = READ_ROWS):
        self.path = Path(path)
        meta = read_meta(self.path)
        self.meta = {k: v for k, v in meta.items() if k in OBSERVABLE_META_KEYS}
        for name in SMALL_TABLES:
            pf = _open(self.path, name)
            try:
                at = pf.read()
            except (pa.ArrowException, OSError) as e:
                raise DatasetError(f"corrupt table file {name}.parquet: {e}") from None
            setattr(self, name, Table.from_arrow(name, at))
        counts = {name: _open(self.path, name).metadata.num_rows for name in STREAMED_TABLES}
        self.n_transactions = counts["transactions"]
        self.n_inputs = counts["inputs"]
        self.n_outputs = counts["outputs"]
        if int(read_rows) < 1:
            raise ValueError(f"read_rows must be at least 1, got {read_rows!r}")
        self.read_rows = int(read_rows)

    @property
    def n_addresses(self) -> int:
        return self.addresses.num_rows

    # the same prices as the in-memory view (only the assets table is needed)
    usd_per_base_unit = ObservableView.usd_per_base_unit

    def utxo_chains(self) -> np.ndarray:
        """Boolean per chain id: the chain follows the UTXO model."""
        c = self.chains
        utxo = np.zeros(max(int(c["chain_id"].max(initial=-1)) + 1, 1), dtype=bool)
        utxo[c["chain_id"]] = c["model"] == ChainModel.UTXO
        return utxo

    def chunks(self, transactions: int = 100_000) -> Iterator[Chunk]:
        """Yield the transactions in id order, at most ``transactions`` per :class:`Chunk`,
        each with all its input and output legs. Raises :class:`DatasetError` when a table is
        not in transaction order, when transaction ids are not dense, or when a leg names a
        transaction that does not exist."""
        if isinstance(transactions, bool) or not isinstance(transactions, int | np.integer) \
                or transactions < 1:
            raise ValueError(f"chunk size must be a positive integer, got {transactions!r}")
        k = int(transactions)
        streams = {name: _OrderedRows(_open(self.path, name), name, self.read_rows)
                   for name in STREAMED_TABLES}
        start = 0
        while start < self.n_transactions:
            end = min(start + k, self.n_transactions)
            tables = {name: s.take_before(end) for name, s in streams.items()}
            tx = tables["transactions"]["tx_id"]
            if not np.array_equal(tx, np.arange(start, start + len(tx))) or len(tx) != end - start:
                raise DatasetError(f"transactions.parquet: tx_id is not the row number near "
                                   f"row {start}")
            yield Chunk(**tables)
            start = end
        for name in ("inputs", "outputs"):
            if streams[name].left_over():
                raise DatasetError(f"{name}.parquet has rows of transactions beyond the last "
                                   f"one ({self.n_transactions - 1})")

    def __repr__(self) -> str:
        return (f"ChunkedView({str(self.path)!r}, transactions={self.n_transactions}, "
                f"addresses={self.n_addresses}, seeds={self.seeds.num_rows})")
