"""The ``features`` command: the feature matrix of the learned detectors, as Parquet.

``launderbench features DATASET --out features.parquet`` writes one row per address (or, with
``--level transaction``, per transaction) of a dataset directory: the id column, then one
float32 column per feature of :mod:`launderbench.detectors.learned.features`, computed from
the observable view only. It follows the conventions of the teaching commands
(:mod:`launderbench.benchmarks.edu_commands`): an existing file is replaced only with
``--overwrite`` and the file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import click

from launderbench.simulator.errors import ConfigError

from .edu_commands import _atomic, _check_out, _overwrite

#: id column per level
ID_COLUMNS = {"address": "address_id", "transaction": "tx_id"}


def feature_table(view, level: str = "address"):
    """A :class:`pyarrow.Table`: the id column, then one float32 column per feature."""
    import numpy as np
    import pyarrow as pa

    from launderbench.detectors.learned.features import address_features, transaction_features

    if level not in ID_COLUMNS:
        raise ConfigError(f"level must be one of {', '.join(ID_COLUMNS)}, got {level!r}")
    X, names = (address_features if level == "address" else transaction_features)(view)
    cols = {ID_COLUMNS[level]: pa.array(np.arange(len(X), dtype=np.int64))}
    for j, name in enumerate(names):
        cols[name] = pa.array(np.ascontiguousarray(X[:, j]))
    return pa.table(cols)


@click.command("features")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Parquet file to write (.parquet).")
@click.option("--level", type=click.Choice(["address", "transaction"]), default="address",
              show_default=True, help="One row per address or per transaction.")
@_overwrite
def features_cmd(dataset, out, level, overwrite):
    """Write the learned detectors' features of a dataset directory as Parquet: an id column
    (address_id or tx_id) and one column per feature (see docs/detectors-learned.md)."""
    import pyarrow.parquet as pq

    from launderbench.simulator.dataset import Dataset
    from launderbench.simulator.schema import OBSERVABLE_TABLES

    _check_out(out, overwrite)
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"cannot write '{out.name}': use a .parquet file")
    view = Dataset.load(dataset, tables=list(OBSERVABLE_TABLES)).observable()
    table = feature_table(view, level)
    with _atomic(out) as tmp:
        pq.write_table(table, tmp)
    noun = "addresses" if level == "address" else "transactions"
    click.echo(f"wrote {out}: {table.num_rows:,} {noun}, {table.num_columns - 1} features")
