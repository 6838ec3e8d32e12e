"""What an investigator knows about an imported table, apart from any truth labels.

``seeds``        where tracing starts: addresses (every transaction they send) and
                 transaction hashes, given on the command line or in a file (one per line,
                 ``#`` starts a comment).
``attribution``  a tag list: a CSV with the columns ``address, kind, name``, ``kind`` one of
                 the service kinds of :class:`~launderbench.simulator.schema.ServiceKind`
                 (``exchange``, ``mixer``, ``bridge``, ``dex``, ``otc``, ``mining_pool``,
                 ``marketplace``, ``payment_processor``, ``issuer``). It fills the observable
                 ``service_kind`` and ``service_name`` of the addresses; tagged addresses
                 absent from the table are counted and left out.

Addresses are compared in the table's form: EVM addresses lowercased (and checked),
others as written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from launderbench.simulator.errors import DatasetError
from launderbench.simulator.schema import ServiceKind

from .import_values import _EVM

KINDS = {k.name.lower(): int(k) for k in ServiceKind if k != ServiceKind.NONE}


def normalise(text: str, evm: bool, what: str) -> str:
    text = str(text).strip()
    if evm:
        if not _EVM.match(text):
            raise DatasetError(f"{what}: not an EVM address (0x and 40 hex digits): {text!r}")
        return text.lower()
    return text


def read_seed_file(path) -> list[str]:
    """The seeds listed in a file: one address or transaction hash per line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read seeds file {path}: {getattr(e, 'strerror', e)}"
                           ) from None
    out = [ln.split("#")[0].strip() for ln in lines]
    out = [s for s in out if s]
    if not out:
        raise DatasetError(f"seeds file {path}: no seeds")
    return out


def seed_transactions(addresses, hashes, names: np.ndarray, a_src: np.ndarray,
                      tx_hash: np.ndarray | None, evm: bool) -> np.ndarray:
    """Transaction ids of the seeds: every transaction an address sends, and the
    transactions with the given hashes. A seed not in the table is an error. ``names`` maps
    address id to address string; ``a_src`` is each transaction's sending address."""
    by_name = {s: i for i, s in enumerate(names.tolist())}
    by_hash = ({} if tx_hash is None else
               {h.lower(): i for i, h in enumerate(tx_hash.tolist())})
    out: list[np.ndarray] = []
    for a in addresses:
        key = str(a).strip()
        if by_hash and key.lower() in by_hash and key.lower() not in by_name:
            out.append(np.array([by_hash[key.lower()]]))  # a seeds file mixes both
            continue
        key = normalise(key, evm, "seed address")
        if key not in by_name:
            raise DatasetError(f"seed address {key} is not in the table")
        sent = np.flatnonzero(a_src == by_name[key])
        if not len(sent):
            raise DatasetError(f"seed address {key} sends no transaction in the table; "
                               "seed the transaction that paid it (--seed-tx) or the next "
                               "address")
        out.append(sent)
    for h in hashes:
        if tx_hash is None:
            raise DatasetError("--seed-tx needs a transaction hash column (--tx-hash)")
        if str(h).strip().lower() not in by_hash:
            raise DatasetError(f"seed transaction {str(h).strip()} is not in the table")
        out.append(np.array([by_hash[str(h).strip().lower()]]))
    return np.unique(np.concatenate(out)).astype(np.int64) if out else np.zeros(0, np.int64)


def read_attribution(path, evm: bool) -> dict[str, tuple[int, str]]:
    """``{address: (service kind, name)}`` from an attribution CSV."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DatasetError(f"cannot read attribution file {path}: "
                           f"{getattr(e, 'strerror', None) or e}") from None
    if not rows or [c.strip().lower() for c in rows[0][:3]] != ["address", "kind", "name"]:
        raise DatasetError(f"attribution file {path}: the header must be address,kind,name")
    out = {}
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2:
            raise DatasetError(f"attribution file {path}: line {i} has no kind")
        kind = row[1].strip().lower().replace(" ", "_")
        if kind not in KINDS:
            raise DatasetError(f"attribution file {path}: line {i}: unknown kind {row[1]!r} "
                               f"({', '.join(KINDS)})")
        addr = normalise(row[0], evm, f"attribution file {path}: line {i}")
        out[addr] = (KINDS[kind], row[2].strip() if len(row) > 2 else "")
    return out


def apply_attribution(tags: dict, names: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(service_kind, service_name, tagged addresses found) for the addresses ``names``."""
    kind = np.zeros(len(names), np.int64)
    label = np.full(len(names), "", dtype=object)
    found = 0
    for i, s in enumerate(names.tolist()):
        if s in tags:
            kind[i], label[i] = tags[s]
            found += 1
    return kind, label, found


__all__ = ["read_seed_file", "seed_transactions", "read_attribution", "apply_attribution",
           "KINDS"]
