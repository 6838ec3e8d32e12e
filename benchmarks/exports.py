"""Ranked addresses out of the benchmark, by the strings an investigator knows.

:func:`export_scores` runs one detector on a dataset's observable view and writes its
address ranking as CSV: ``rank, address, score, service, address_id``. For a dataset made by
``launderbench import`` the address is the original string kept beside the tables
(:func:`launderbench.benchmarks.importer.read_identity`, EVM addresses lowercased); for a
generated dataset it is the address id.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from launderbench.simulator.errors import ConfigError, DatasetError
from launderbench.simulator.schema import ServiceKind


def ranked_addresses(dataset, detector: str = "haircut", top: int | None = None,
                     stream: bool = False) -> list[dict]:
    """The dataset's addresses ranked by ``detector``'s address score, highest first (ties
    by address id). ``stream=True`` scores the dataset on disk chunk by chunk
    (``score_stream``, for detectors tagged ``streams``) instead of loading it."""
    from launderbench.detectors.registry import make
    from launderbench.simulator.dataset import Dataset

    from .importer import read_identity

    det = make(detector)
    if det._tag("needs_labels"):
        raise ConfigError(f"detector '{detector}' needs training labels; export-scores ranks "
                          "with unsupervised and tracing detectors")
    if stream and not det._tag("streams"):
        raise ConfigError(f"detector '{detector}' does not stream (it loads the whole view); "
                          "drop --stream or use a tracing detector")
    if stream:
        from launderbench.simulator.chunks import ChunkedView

        view = ChunkedView(dataset)
    else:
        view = Dataset.load(dataset).observable()
    if det._tag("needs_seeds") and not view.seeds.num_rows:
        raise DatasetError(f"detector '{detector}' traces from seeds and {dataset} has none "
                           "(import with --seed-address, --seed-tx or --seeds)")
    scores = det.score_stream(view) if stream else det.fit_score(view)
    if scores.address is None:
        raise ConfigError(f"detector '{detector}' gives no address scores")
    names = read_identity(dataset)["address"]
    kind = view.addresses["service_kind"]
    score = np.asarray(scores.address, float)
    order = np.lexsort((np.arange(len(score)), -score))
    if top is not None:
        order = order[:top]
    return [{"rank": r + 1,
             "address": str(names[i]) if names is not None else str(i),
             "score": float(score[i]),
             "service": ServiceKind(int(kind[i])).name.lower() if kind[i] else "",
             "address_id": int(i)} for r, i in enumerate(order)]


def export_scores(dataset, detector: str, out, top: int | None = None,
                  stream: bool = False) -> list[dict]:
    """Write :func:`ranked_addresses` to the CSV ``out`` (atomically) and return the rows."""
    out = Path(out)
    if out.is_dir():
        raise DatasetError(f"{out} is a directory; give a CSV file name")
    rows = ranked_addresses(dataset, detector, top, stream=stream)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["rank", "address", "score", "service",
                                              "address_id"])
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DatasetError(f"cannot write {out}: {e.strerror or e}") from None
    return rows


__all__ = ["ranked_addresses", "export_scores"]
