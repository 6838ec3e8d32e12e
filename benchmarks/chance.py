"""The chance level that one-feature shortcuts (:mod:`launderbench.detectors.baselines`) are
held to: which tasks, which tolerance on ``|ROC-AUC - 0.5|``, and the results beyond it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHANCE_TASKS", "CHANCE_TOLERANCE", "SHORTCUTS", "shortcut_aucs", "chance_violations"]

#: tasks on which a shortcut must stay near chance, and the tolerance on |ROC-AUC - 0.5|
CHANCE_TASKS = ("tracing/address", "classification/address", "classification/transaction")
CHANCE_TOLERANCE = 0.15
SHORTCUTS = ("random", "degree", "amount", "address-age", "raw-tx-classifier")


def shortcut_aucs(rows, tasks=CHANCE_TASKS):
    """The rows the leak checks look at: a shortcut's overall ROC-AUC on one of ``tasks``
    (status ok, a number)."""
    return [r for r in rows
            if r["detector"] in SHORTCUTS and r["status"] == "ok" and r["group"] == "all"
            and r["task"] in tasks and r["metric"] == "roc_auc" and not np.isnan(r["value"])]


def chance_violations(rows, tol: float = CHANCE_TOLERANCE, tasks=CHANCE_TASKS) -> list[str]:
    """Shortcut results that are not near chance: ``|ROC-AUC - 0.5| > tol`` (either way).

    A ROC-AUC far below 0.5 is as much a leak as one far above it (flip the sign of the
    score). Takes result rows (:mod:`launderbench.benchmarks.runner`); returns one line per violation,
    for the given ``tasks``.
    """
    return [f"{r['scenario']} seed {r['seed']}: {r['detector']} on {r['task']}: "
            f"ROC-AUC {r['value']:.2f}"
            for r in shortcut_aucs(rows, tasks) if abs(r["value"] - 0.5) > tol]
