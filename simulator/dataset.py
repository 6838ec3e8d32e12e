"""Datasets: columnar tables in memory (numpy), Parquet plus ``meta.json`` on disk.

>>> from launderbench.simulator import make
>>> ds = make("benign-v1", transactions=2000, seed=1)     # doctest: +SKIP
>>> view = ds.observable()                                 # what detectors receive
>>> ds.save("data/benign")                                 # atomic write
>>> Dataset.load("data/benign").meta["content_hash"] == ds.meta["content_hash"]   # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DatasetError
from .schema import (
    ALL_TABLES,
    OBSERVABLE_META_KEYS,
    OBSERVABLE_TABLES,
    SCHEMA_VERSION,
    TRUTH_TABLES,
    ChainModel,
    enum_names,
)
from .tempdirs import make_temp_dir

META_FILE = "meta.json"

#: meta.json keys that describe the truth and so are removed from the observable view.


def _same_kind(a: pa.DataType, b: pa.DataType) -> bool:
    """Whether a stored column type may stand for the schema's (integers for integers,
    booleans for booleans, floats for floats, strings for strings)."""
    kinds = (pa.types.is_integer, pa.types.is_boolean, pa.types.is_floating, pa.types.is_string)
    return any(k(a) and k(b) for k in kinds)


#: how every table file is written (the streamed and the whole-table paths share it):
#: zstd, strings with a dictionary and integers delta-encoded (:func:`_parquet_options`)
_PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": ["name", "symbol", "service_name"],
                    "write_statistics": False}


def _parquet_options(schema: pa.Schema) -> dict:
    """The writer options for a table of ``schema``: :data:`_PARQUET_OPTIONS`, and every
    integer column encoded as DELTA_BINARY_PACKED. Ids, times and heights mostly rise
    row by row, so their deltas are small: measured on a 1M-transaction dataset, writing
    takes 0.45 CPU-s instead of 0.78 with plain encoding, reading 0.19 instead of 0.46,
    and the files are 9% smaller (45 MB instead of 49.5)."""
    delta = {f.name: "DELTA_BINARY_PACKED" for f in schema if pa.types.is_integer(f.type)}
    return dict(_PARQUET_OPTIONS, column_encoding=delta)


#: rows per Parquet row group: pyarrow's default for a table written whole, so a table
#: written in pieces (:meth:`DatasetWriter.write_spool`) has the same layout and bytes
ROW_GROUP = 1024 * 1024
#: a spooled table of at most this many bytes is read back whole and written at once
#: (:meth:`DatasetWriter.write_spool`): each column is then read once, not once for the
#: content hash and again for the file. Larger ones go one row group at a time.
WHOLE_TABLE_BYTES = 128 << 20


def _numpy_dtype(field: pa.Field):
    return object if pa.types.is_string(field.type) else field.type.to_pandas_dtype()


class Spool:
    """The rows of one table as they arrive in pieces (one per kernel shard), in the
    schema's dtypes: in raw column files under ``directory``, or in memory without one.

    Read back in order by :meth:`read` (a row range of one column) or whole by :meth:`table`;
    ``remap`` maps columns through a lookup array on the way out (``{"address_id": perm}``).
    """

    def __init__(self, name: str, directory: str | os.PathLike | None = None):
        self.name = name
        self.fields = list(ALL_TABLES[name])
        if any(pa.types.is_string(f.type) for f in self.fields):
            raise ValueError(f"table '{name}' has string columns and cannot be spooled")
        self.dir = None if directory is None else Path(directory)
        self.parts: dict[str, list[np.ndarray]] = {f.name: [] for f in self.fields}
        self.n = 0

    @property
    def row_bytes(self) -> int:
        """Bytes of one row in memory (the columns' item sizes)."""
        return sum(np.dtype(_numpy_dtype(f)).itemsize for f in self.fields)

    def _file(self, col: str) -> Path:
        return self.dir / f"{self.name}.{col}.bin"

    def append(self, columns: Mapping[str, np.ndarray]) -> None:
        n = None
        for f in self.fields:
            arr = np.ascontiguousarray(np.asarray(columns[f.name]).astype(
                _numpy_dtype(f), copy=False))
            if n is None:
                n = len(arr)
            elif len(arr) != n:
                raise DatasetError(f"table '{self.name}': column '{f.name}' has {len(arr)} "
                                   f"rows, expected {n}")
            if self.dir is None:
                self.parts[f.name].append(arr)
            else:
                with open(self._file(f.name), "ab") as fh:
                    arr.tofile(fh)
        self.n += n or 0

    def read(self, col: str, start: int, stop: int, remap: Mapping | None = None) -> np.ndarray:
        f = next(f for f in self.fields if f.name == col)
        dtype = np.dtype(_numpy_dtype(f))
        if self.dir is None:
            whole = self.parts[col]
            if len(whole) != 1:
                whole[:] = [np.concatenate(whole) if whole else np.zeros(0, dtype)]
            arr = whole[0][start:stop]
        elif stop <= start:
            arr = np.zeros(0, dtype)
        else:
            arr = np.fromfile(self._file(col), dtype, count=stop - start,
                              offset=start * dtype.itemsize)
        if remap and col in remap:
            arr = remap[col][arr].astype(dtype, copy=False)
        return arr

    def table(self, remap: Mapping | None = None) -> Table:
        """The whole table (in memory)."""
        return Table(self.name, {f.name: self.read(f.name, 0, self.n, remap)
                                 for f in self.fields})


class Table(Mapping):
    """An immutable-by-convention set of equally long numpy columns with a known schema."""

    __slots__ = ("name", "_cols", "_n")

    def __init__(self, name: str, columns: Mapping[str, np.ndarray]):
        schema = ALL_TABLES[name]
        missing = [f.name for f in schema if f.name not in columns]
        if missing:
            raise DatasetError(f"table '{name}' is missing column(s): {', '.join(missing)}")
        cols = {}
        n = None
        for field in schema:
            arr = np.asarray(columns[field.name])
            if pa.types.is_string(field.type):
                arr = arr.astype(object, copy=False)
            else:
                arr = arr.astype(field.type.to_pandas_dtype(), copy=False)
            if n is None:
                n = len(arr)
            elif len(arr) != n:
                raise DatasetError(
                    f"table '{name}': column '{field.name}' has {len(arr)} rows, expected {n}"
                )
            cols[field.name] = arr
        self.name = name
        self._cols = cols
        self._n = n or 0

    # Mapping interface: table["amount"] -> numpy array
    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self._cols[key]
        except KeyError:
            raise KeyError(f"table '{self.name}' has no column '{key}'") from None

    def __iter__(self):
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)

    @property
    def num_rows(self) -> int:
        return self._n

    def take(self, idx: np.ndarray) -> Table:
        return Table(self.name, {k: v[idx] for k, v in self._cols.items()})

    def to_arrow(self) -> pa.Table:
        schema = ALL_TABLES[self.name]
        arrays = []
        for f in schema:
            col = self._cols[f.name]
            if pa.types.is_string(f.type):
                arrays.append(pa.array(col, type=f.type))  # None: null
            else:
                arrays.append(pa.array(col, type=f.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def digest(self) -> bytes:
        """SHA-256 of the columns (names, dtypes and values; independent of file encoding)."""
        h = hashlib.sha256()
        for col in ALL_TABLES[self.name].names:
            arr = self._cols[col]
            h.update(col.encode())
            if arr.dtype == object:
                h.update("\x1f".join("" if v is None else str(v) for v in arr).encode())
            else:
                h.update(memoryview(np.ascontiguousarray(arr)).cast("B"))
        return h.digest()

    def write_parquet(self, path: Path) -> None:
        table = self.to_arrow()
        pq.write_table(table, path, **_parquet_options(table.schema))

    @classmethod
    def from_arrow(cls, name: str, table: pa.Table) -> Table:
        cols = {}
        for f in ALL_TABLES[name]:
            if f.name not in table.column_names:
                raise DatasetError(f"table '{name}' is missing column '{f.name}'")
            col = table.column(f.name)
            if col.type != f.type:
                try:  # a narrower or equal integer type is fine; floats, strings are not
                    col = col.cast(f.type, safe=True)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise DatasetError(f"table '{name}' column '{f.name}' has type {col.type}, "
                                       f"expected {f.type}") from None
                if not _same_kind(table.column(f.name).type, f.type):
                    raise DatasetError(f"table '{name}' column '{f.name}' has type "
                                       f"{table.column(f.name).type}, expected {f.type}")
            if col.null_count and not pa.types.is_string(f.type):
                raise DatasetError(f"table '{name}' column '{f.name}' has {col.null_count} "
                                   "missing value(s)")
            if pa.types.is_string(f.type):
                cols[f.name] = np.array(col.to_pylist(), dtype=object)
            else:
                cols[f.name] = col.to_numpy(zero_copy_only=False)
        return cls(name, cols)

    @classmethod
    def empty(cls, name: str) -> Table:
        cols = {}
        for f in ALL_TABLES[name]:
            dtype = object if pa.types.is_string(f.type) else f.type.to_pandas_dtype()
            cols[f.name] = np.zeros(0, dtype=dtype)
        return cls(name, cols)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, rows={self._n}, columns={list(self._cols)})"


class ObservableView:
    """What an investigator sees: transactions, legs, addresses with public labels, and seeds.

    Detectors receive only this object. It has no truth tables, and of the metadata only the
    keys an investigator knows (:data:`~launderbench.simulator.schema.OBSERVABLE_META_KEYS`).
    Attributes are :class:`Table` objects named as in :mod:`launderbench.simulator.schema`.
    """

    def __init__(self, tables: Mapping[str, Table], meta: Mapping):
        for name in OBSERVABLE_TABLES:
            setattr(self, name, tables[name])
        self.meta = {k: v for k, v in meta.items() if k in OBSERVABLE_META_KEYS}
        self._cache: dict = {}

    # -- derived, cached helpers shared by detectors -------------------------------------
    @property
    def n_addresses(self) -> int:
        return self.addresses.num_rows

    @property
    def n_transactions(self) -> int:
        return self.transactions.num_rows

    def chain_model(self) -> np.ndarray:
        """Chain model code per transaction (``ChainModel``)."""
        if "chain_model" not in self._cache:
            models = np.zeros(max(self.chains["chain_id"].max(initial=-1) + 1, 1), dtype=np.int8)
            models[self.chains["chain_id"]] = self.chains["model"]
            self._cache["chain_model"] = models[self.transactions["chain_id"]]
        return self._cache["chain_model"]

    def is_utxo_tx(self) -> np.ndarray:
        return self.chain_model() == ChainModel.UTXO

    def usd_per_base_unit(self) -> np.ndarray:
        """USD value of one base unit of each asset, indexed by asset id."""
        a = self.assets
        out = np.zeros(max(a["asset_id"].max(initial=-1) + 1, 1))
        out[a["asset_id"]] = a["usd_price"] / (10.0 ** a["decimals"].astype(np.float64))
        return out

    def transfers(self) -> dict[str, np.ndarray]:
        """Address-to-address value flow, one row per (input address, output) pair.

        For a transaction with inputs I and outputs O each output's value is attributed to the
        input addresses in proportion to their input amounts. Columns: ``src``, ``dst``,
        ``amount`` (float, base units), ``usd``, ``tx_id``, ``timestamp``, ``asset_id``.
        Cached; used by graph detectors.
        """
        if "transfers" not in self._cache:
            self._cache["transfers"] = _address_transfers(self)
        return self._cache["transfers"]

    def clear_cache(self) -> None:
        """Forget the derived arrays built so far (transfers, leg indexes and the like), for
        example to time a detector from scratch on a view other detectors have used."""
        self._cache.clear()

    def __repr__(self) -> str:
        return (
            f"ObservableView(transactions={self.n_transactions}, addresses={self.n_addresses}, "
            f"seeds={self.seeds.num_rows})"
        )


def _address_transfers(view: ObservableView) -> dict[str, np.ndarray]:
    tx = view.transactions
    ins, outs = view.inputs, view.outputs
    n_tx = tx.num_rows
    # Per-transaction input total and, per input, its share.
    in_tot = np.bincount(ins["tx_id"], weights=ins["amount"], minlength=n_tx)
    # Pair each output with each input of its transaction (inputs sorted by tx_id).
    order = np.argsort(ins["tx_id"], kind="stable")
    in_tx = ins["tx_id"][order]
    start = np.searchsorted(in_tx, np.arange(n_tx), "left")
    count = np.searchsorted(in_tx, np.arange(n_tx), "right") - start
    o_tx = outs["tx_id"]
    reps = count[o_tx]
    out_rep = np.repeat(np.arange(outs.num_rows), reps)
    # position of each pair within its tx's input block
    offs = np.arange(len(out_rep)) - np.repeat(np.cumsum(reps) - reps, reps)
    in_rows = order[start[o_tx[out_rep]] + offs]
    share = ins["amount"][in_rows] / np.maximum(in_tot[o_tx[out_rep]], 1)
    amount = outs["amount"][out_rep] * share
    usd = view.usd_per_base_unit()[outs["asset_id"][out_rep]] * amount
    t = o_tx[out_rep]
    return {
        "src": ins["address_id"][in_rows],
        "dst": outs["address_id"][out_rep],
        "amount": amount,
        "usd": usd,
        "tx_id": t,
        "output_id": out_rep.astype(np.int64),
        "timestamp": tx["timestamp"][t],
        "asset_id": outs["asset_id"][out_rep],
    }


class Dataset:
    """A generated (or imported) ledger: the observable view plus the ground truth.

    Parameters
    ----------
    tables : mapping of table name to :class:`Table` (or to a mapping of numpy columns)
    meta : dict, the content of ``meta.json`` (scenario id, parameters, seed, ...)
    """

    def __init__(self, tables: Mapping[str, Table | Mapping], meta: Mapping):
        self.tables: dict[str, Table] = {}
        for name in ALL_TABLES:
            t = tables.get(name)
            if t is None:
                t = Table.empty(name)
            elif not isinstance(t, Table):
                t = Table(name, t)
            self.tables[name] = t
        self.meta = dict(meta)
        self.meta.setdefault("schema_version", SCHEMA_VERSION)
        if "content_hash" not in self.meta:
            self.meta["content_hash"] = self.content_hash()

    def __getattr__(self, name: str) -> Table:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def observable(self) -> ObservableView:
        """The view handed to detectors: every truth table and truth key dropped."""
        return ObservableView({k: self.tables[k] for k in OBSERVABLE_TABLES}, self.meta)

    def split(self, level: str = "transaction") -> dict[str, np.ndarray]:
        """The ids of the ``"train"``, ``"valid"`` and ``"test"`` parts at ``level``
        (``"transaction"`` or ``"address"``): the temporal split that ships with the dataset
        (:mod:`launderbench.simulator.split`)."""
        from .split import split_index

        return split_index(self, level)

    # -- persistence ------------------------------------------------------------------------

    def content_hash(self) -> str:
        """SHA-256 over every table's digest, in table-name order."""
        return combine_digests({name: self.tables[name].digest() for name in ALL_TABLES})

    def save(self, path: str | os.PathLike, overwrite: bool = True) -> Path:
        """Write the dataset atomically: into a temporary sibling directory, then rename."""
        with DatasetWriter(path, overwrite=overwrite) as w:
            for name in ALL_TABLES:
                w(name, self.tables[name])
            w.finish(self.meta)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike, tables: Iterable[str] | None = None) -> Dataset:
        """Read a dataset directory; any missing or corrupt part raises :class:`DatasetError`:
        a missing file or column, a column of the wrong type or with missing values, ids that
        are not dense or point outside their table, truth tables of the wrong length
        (:func:`launderbench.simulator.check.structural_problems`)."""
        meta = read_meta(path)
        path = Path(path)
        names = list(ALL_TABLES) if tables is None else list(tables)
        loaded = {}
        for name in names:
            f = path / f"{name}.parquet"
            if not f.is_file():
                raise DatasetError(f"{path}: missing table file {f.name}")
            try:
                at = pq.read_table(f)
            except (pa.ArrowException, OSError) as e:
                msg = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise DatasetError(f"corrupt table file {f}: {msg}") from None
            loaded[name] = Table.from_arrow(name, at)
        ds = cls(loaded, meta)
        if tables is None:
            from .check import structural_problems

            found = structural_problems(ds)
            if found:
                raise DatasetError(f"{path}: {found[0]}"
                                   + (f" (and {len(found) - 1} more problem(s); run "
                                      "`launderbench check`)" if len(found) > 1 else ""))
        return ds

    # -- export -----------------------------------------------------------------------------
    def to_networkx(self, addresses: Iterable[int] | None = None, hops: int = 1,
                    max_edges: int = 200_000, *, incident: int | None = None,
                    truth: bool = True):
        """Address graph as a networkx MultiDiGraph (one edge per input-address/output pair):
        :func:`launderbench.simulator.export.to_networkx` (``addresses`` and their ``hops``
        neighbourhood, or one ``incident``; ``truth=False`` leaves the ``truth_*``
        attributes out). Meant for small graphs, teaching and drawing."""
        from .export import to_networkx

        return to_networkx(self, addresses=addresses, hops=hops, max_edges=max_edges,
                           incident=incident, truth=truth)

    def __repr__(self) -> str:
        return (
            f"Dataset(scenario={self.meta.get('scenario')!r}, seed={self.meta.get('seed')!r}, "
            f"transactions={self.transactions.num_rows}, addresses={self.addresses.num_rows}, "
            f"incidents={len(self.meta.get('incidents', []))})"
        )


def read_meta(path: str | os.PathLike) -> dict:
    """The ``meta.json`` of a dataset directory, checked (a directory holding it, the schema
    version this launderbench reads, a well-formed split); the code names are dropped."""
    if not isinstance(path, (str, os.PathLike)):
        raise DatasetError(f"a dataset path must be a string or a path, got {path!r}")
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"dataset directory not found: {path}")
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise DatasetError(f"not a launderbench dataset (no {META_FILE}): {path}")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(f"corrupt {meta_path}: {e}") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"corrupt {meta_path}: expected a JSON object")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DatasetError(
            f"{path}: schema version {version!r}, this launderbench reads {SCHEMA_VERSION}"
        )
    meta.pop("enums", None)
    split = meta.get("split")
    if split is not None and not (isinstance(split, dict) and (
            "fractions" in split or {"train_end", "valid_end"} <= set(split))):
        raise DatasetError(f"corrupt {meta_path}: 'split' must be a table with train_end "
                           f"and valid_end (or fractions), got {split!r}")
    return meta


def combine_digests(digests: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(ALL_TABLES):
        h.update(name.encode())
        h.update(digests[name])
    return h.hexdigest()


#: the files a dataset directory may hold (anything else belongs to someone)
def _dataset_files() -> set[str]:
    from .card import CARD_FILE

    return {f"{name}.parquet" for name in ALL_TABLES} | {META_FILE, CARD_FILE}


def _check_replaceable(path: Path) -> None:
    """Refuse to replace anything but an empty directory or a launderbench dataset (only
    dataset files, with a readable ``meta.json``): nothing a user owns is ever deleted."""
    if not path.is_dir():
        raise DatasetError(f"{path} exists and is not a directory")
    cwd = Path(os.getcwd())
    if path == cwd or path in cwd.parents:
        raise DatasetError(f"refusing to replace {path}: it holds the current directory")
    entries = {e.name for e in path.iterdir()}
    if not entries:
        return
    foreign = sorted(entries - _dataset_files())
    meta = path / META_FILE
    try:
        is_dataset = "schema_version" in json.loads(meta.read_text())
    except (OSError, ValueError, TypeError):
        is_dataset = False
    if foreign or not is_dataset:
        what = f"it holds {foreign[0]!r}" + (f" and {len(foreign) - 1} more" if
                                              len(foreign) > 1 else "") if foreign else (
            "it has no readable meta.json")
        raise DatasetError(f"refusing to replace {path}: not a launderbench dataset ({what}); "
                           "choose another output directory or empty it")


def check_output_dir(path: str | os.PathLike) -> None:
    """Raise :class:`DatasetError` unless ``path`` may receive a dataset: it does not exist,
    or it is an empty directory or a launderbench dataset (which is then replaced)."""
    p = Path(os.path.abspath(path))
    if p.exists():
        _check_replaceable(p)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class DatasetWriter:
    """Writes a dataset table by table into a temporary directory, then renames it.

    Used by :meth:`Dataset.save` and by streaming generation (``generate(..., out=path)``),
    so both produce the same bytes. Use as a context manager: on an exception nothing is left
    behind, and an existing dataset at ``path`` is only replaced by a complete one.
    """

    def __init__(self, path: str | os.PathLike, overwrite: bool = True):
        self.path = Path(os.path.abspath(path))
        if self.path.exists():
            if not overwrite:
                raise DatasetError(f"{self.path} already exists")
            _check_replaceable(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = make_temp_dir(f".{self.path.name}.tmp-", self.path.parent)
            os.chmod(self.tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would outlive the rename
        except OSError as e:
            raise DatasetError(f"cannot write {self.path}: {e.strerror or e}") from None
        self.digests: dict[str, bytes] = {}
        self.done = False

    def __call__(self, name: str, table: Table) -> None:
        if name not in ALL_TABLES or table.name != name:
            raise ValueError(f"unknown table '{name}'")
        table.write_parquet(self.tmp / f"{name}.parquet")
        self.digests[name] = table.digest()
        from .ops import release_free_memory

        release_free_memory()  # a streaming producer frees each table after this call

    def write_spool(self, name: str, spool: Spool, remap: Mapping | None = None) -> None:
        """Write a table that arrived in pieces: the file and the digest are those
        :meth:`__call__` gives for the whole table. A table of up to one row group or
        :data:`WHOLE_TABLE_BYTES` is read whole; a larger one one row group at a time, so
        that at most :data:`ROW_GROUP` rows are in memory at once."""
        if name not in ALL_TABLES or spool.name != name:
            raise ValueError(f"unknown table '{name}'")
        if spool.n <= ROW_GROUP or spool.n * spool.row_bytes <= WHOLE_TABLE_BYTES:
            self(name, spool.table(remap))
            return
        schema = ALL_TABLES[name]
        bounds = [(a, min(a + ROW_GROUP, spool.n)) for a in range(0, spool.n, ROW_GROUP)]
        h = hashlib.sha256()  # as Table.digest: column by column, in schema order
        for f in schema:
            h.update(f.name.encode())
            for a, b in bounds:
                h.update(memoryview(spool.read(f.name, a, b, remap)).cast("B"))
        with pq.ParquetWriter(self.tmp / f"{name}.parquet", schema,
                              **_parquet_options(schema)) as pw:
            for a, b in bounds:
                arrays = [pa.array(spool.read(f.name, a, b, remap), type=f.type)
                          for f in schema]
                pw.write_table(pa.Table.from_arrays(arrays, schema=schema))
        self.digests[name] = h.digest()

    def finish(self, meta: Mapping) -> dict:
        """Write ``meta.json`` (with the content hash) and the dataset card ``DATASET.md``,
        and move the directory into place."""
        missing = [n for n in ALL_TABLES if n not in self.digests]
        for name in missing:  # tables a producer had no rows for
            self(name, Table.empty(name))
        meta = dict(meta)
        meta["schema_version"] = SCHEMA_VERSION
        meta["content_hash"] = combine_digests(self.digests)
        meta["enums"] = enum_names()
        (self.tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        from .card import CARD_FILE, dataset_card

        (self.tmp / CARD_FILE).write_text(dataset_card(meta))
        if self.path.exists():
            old = make_temp_dir(f".{self.path.name}.old-", self.path.parent)
            os.rename(self.path, old / "d")
            os.rename(self.tmp, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.tmp, self.path)
        self.done = True
        meta.pop("enums")
        return meta

    def abort(self) -> None:
        if not self.done:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.abort()


__all__ = ["Dataset", "DatasetWriter", "ObservableView", "Spool", "Table", "TRUTH_TABLES", "OBSERVABLE_TABLES",
           "check_output_dir"]
