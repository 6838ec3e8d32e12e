"""The dataset card: a short ``DATASET.md`` written into every dataset directory (after the
datasheets for datasets of Gebru et al., CACM 64(12), 2021): what the data is, how it was
made, what each label means, the split, and what it cannot tell.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

__all__ = ["dataset_card", "CARD_FILE"]

CARD_FILE = "DATASET.md"

_LABELS = """\
| table | what it says |
|---|---|
| `address_truth` | per address: its entity, its role (benign, victim, thief, splitter, intermediary, aggregator, peel, mixer depositor or recipient, bridge user, swapper, dormant, cash-out, mule) and its incident (-1: benign) |
| `tx_truth` | per transaction: its incident (-1: benign), laundering stage (placement, layering, integration) and typology (fan-out, peel chain, mixer, bridge, ...) |
| `taint` | per output and incident: the exact amount that derives from the theft (taint stops at cash-out services) |
| `links` | hidden links a ledger does not show: mixer deposit to withdrawal, bridge lock to release, swap and OTC legs, benign ones included |
| `entities` | who owns the addresses: retail users, exchanges, services, attackers |

Detectors see only the observable tables (`transactions`, `inputs`, `outputs`, `addresses`,
`chains`, `assets`, `seeds`: the announced thefts) and the metadata an investigator knows."""

_LIMITATIONS = """\
- The data is synthetic. The laundering follows public accounts of real incidents, scaled
  down (amounts and delays), and runs inside a synthetic benign economy; a detector's figures
  here are not its figures on a real chain.
- Benign look-alikes (`twin_share`): benign entities replay each incident's playbook with
  their own funds. They keep one-feature shortcuts from separating laundering by its shape
  alone, and they make the task harder than one with no look-alikes.
- One incident is one actor: figures for one scenario and seed vary with that actor; read
  them over several seeds.
- See the project's docs/benchmarks.md (Known issues) and docs/sources.md (the incidents)."""


def _when(t0) -> str:
    try:
        return _dt.datetime.fromtimestamp(int(t0), _dt.UTC).strftime("%Y-%m-%d")
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def dataset_card(meta: Mapping) -> str:
    """The Markdown text of ``DATASET.md`` for a dataset with metadata ``meta``."""
    counts = meta.get("counts") or {}
    incidents = meta.get("incidents") or []
    split = meta.get("split") or {}
    lines = [f"# {meta.get('scenario', 'dataset')}", ""]
    if meta.get("description"):
        lines += [str(meta["description"]), ""]
    made = [f"- scenario: `{meta.get('scenario', '?')}`",
            f"- generator version: {meta.get('generator_version', 'not generated')}",
            f"- seed: {meta.get('seed')}",
            f"- starts: {_when(meta.get('t0'))} (UTC)"]
    for key in ("transactions", "addresses", "inputs", "outputs"):
        if key in counts:
            made.append(f"- {key}: {int(counts[key]):,}")
    made.append(f"- incidents: {len(incidents)}")
    if meta.get("content_hash"):
        made.append(f"- content hash: `{meta['content_hash']}`")
    lines += ["## What it is", "", *made, ""]
    if meta.get("sources"):
        lines += ["Sources: " + "; ".join(map(str, meta["sources"])), ""]
    lines += ["## Labels", "", _LABELS, ""]
    if "train_end" in split:
        part = (f"Temporal: transactions before {_when(split['train_end'])} are the training "
                f"part, before {_when(split['valid_end'])} the validation part, the rest the "
                "test part (60 / 20 / 20 of the time span).")
    else:
        part = "Temporal: 60 / 20 / 20 of the transactions by time rank."
    lines += ["## Split", "", part + " An address belongs to the part in which it first "
              "appears. `Dataset.split()` gives each part's ids.", ""]
    lines += ["## Known limitations", "", _LIMITATIONS, ""]
    return "\n".join(lines)
