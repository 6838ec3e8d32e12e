"""The temporal split that ships with every dataset: train, validation and test parts in time
order (the dataset decides the split, as OGB's ``get_idx_split`` does).

The generator cuts its time span 60 / 20 / 20 (:func:`time_bounds`, written to
``meta["split"]`` as ``train_end`` / ``valid_end`` timestamps); a dataset without such bounds
(an import, a hand-built ledger) is cut 60 / 20 / 20 by time rank (:func:`temporal_split`,
or ``meta["split"]["fractions"]`` when given). An address belongs to the part of the first
transaction it appears in.

>>> ds = launderbench.make("easy-v1", transactions=2000)              # doctest: +SKIP
>>> idx = ds.split()                  # {"train": tx ids, "valid": tx ids, "test": tx ids}
"""

from __future__ import annotations

import numpy as np

from .errors import DatasetError

__all__ = ["SPLITS", "FRACTIONS", "time_bounds", "temporal_split", "first_appearance",
           "split_codes", "split_index"]

#: the parts, in time order; split codes are their positions (-1: address never used)
SPLITS = ("train", "valid", "test")
#: share of each part (of the time span for generated data, of the time rank otherwise)
FRACTIONS = (0.6, 0.2, 0.2)


def time_bounds(t0: int, span: int, fractions=FRACTIONS) -> dict:
    """``meta["split"]`` for data generated over ``[t0, t0 + span)``: the train part ends at
    ``t0 + 0.6 span``, the validation part at ``t0 + 0.8 span`` (default fractions)."""
    return {"kind": "temporal",
            "train_end": int(t0 + fractions[0] * span),
            "valid_end": int(t0 + (fractions[0] + fractions[1]) * span)}


def temporal_split(timestamps: np.ndarray, fractions=FRACTIONS) -> np.ndarray:
    """Split codes (0 train, 1 valid, 2 test) for items with the given times.

    The cut points are the times at the 60 % and 80 % ranks (for the default fractions), so
    that items with equal times always fall into the same part.
    """
    ts = np.asarray(timestamps)
    f = np.asarray(fractions, dtype=float)
    if f.shape != (3,) or np.any(f < 0) or not np.isclose(f.sum(), 1.0):
        raise DatasetError(f"split fractions must be three non-negative numbers summing to 1, "
                           f"got {list(fractions)}")
    n = len(ts)
    code = np.full(n, 2, dtype=np.int8)
    if n == 0:
        return code
    srt = np.sort(ts, kind="stable")
    cuts = []
    for q in np.cumsum(f)[:2]:
        r = int(np.floor(q * n))
        cuts.append(srt[r] if r < n else srt[-1] + 1)
    code[ts < cuts[1]] = 1
    code[ts < cuts[0]] = 0
    return code


def first_appearance(view) -> np.ndarray:
    """First transaction id (hence time rank) in which each address appears, as input or
    output; -1 if never."""
    n = view.n_addresses
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for leg in (view.inputs, view.outputs):
        np.minimum.at(first, leg["address_id"], leg["tx_id"])
    first[first == np.iinfo(np.int64).max] = -1
    return first


def split_codes(ds) -> dict[str, np.ndarray]:
    """Split codes per level: ``{"transaction": int8[n_tx], "address": int8[n_addr]}``.

    Codes: 0 train, 1 valid, 2 test, -1 address never used. ``ds`` is a dataset or an
    observable view; its ``meta["split"]`` decides (see the module docstring).
    """
    view = ds.observable() if hasattr(ds, "observable") else ds
    ts = view.transactions["timestamp"]
    spec = ds.meta.get("split") or {}
    if not isinstance(spec, dict):
        raise DatasetError(f"meta split must be a table, got {spec!r}")
    if "train_end" in spec and "valid_end" in spec:
        a, b = int(spec["train_end"]), int(spec["valid_end"])
        if b < a:
            raise DatasetError(f"meta split: valid_end {b} is before train_end {a}")
        tx_code = np.full(len(ts), 2, dtype=np.int8)
        tx_code[ts < b] = 1
        tx_code[ts < a] = 0
    else:
        tx_code = temporal_split(ts, tuple(spec.get("fractions", FRACTIONS)))
    first = first_appearance(view)
    addr_code = np.full(view.n_addresses, -1, dtype=np.int8)
    used = first >= 0
    addr_code[used] = tx_code[first[used]]
    return {"transaction": tx_code, "address": addr_code}


def split_index(ds, level: str = "transaction") -> dict[str, np.ndarray]:
    """``{"train": ids, "valid": ids, "test": ids}``: the ids of each part at ``level``
    (``"transaction"`` or ``"address"``; unused addresses are in no part)."""
    codes = split_codes(ds)
    if level not in codes:
        raise DatasetError(f"unknown split level '{level}' (address or transaction)")
    return {name: np.flatnonzero(codes[level] == i) for i, name in enumerate(SPLITS)}
