"""The chance level that the one-feature shortcuts (:mod:`launderbench.detectors.baselines`)
are held to: which tasks, which tolerance on ``|ROC-AUC - 0.5|``, and the results beyond it.

The shortcuts (:data:`SHORTCUTS`) score with one trivial feature each; the raw-field
gradient-boosting classifier learns from the labels and is a learned baseline
(:data:`LEARNED_BASELINES`), which no band binds. Every baseline (:data:`BASELINES`) is held
to its placebos instead (:mod:`launderbench.benchmarks.placebo`,
:mod:`launderbench.benchmarks.validity`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHANCE_TASKS", "CHANCE_TOLERANCE", "SHORTCUTS", "LEARNED_BASELINES", "BASELINES",
           "shortcut_aucs", "chance_violations"]

#: tasks on which a shortcut's distance from chance is reported, and the tolerance on
#: |ROC-AUC - 0.5| (binding on tracing only: tests/benchmarks/test_shortcuts.py)
CHANCE_TASKS = ("tracing/address", "classification/address", "classification/transaction")
CHANCE_TOLERANCE = 0.15
#: the one-feature shortcuts
SHORTCUTS = ("random", "degree", "amount", "address-age")
#: baselines that learn from the training labels (raw per-transaction fields only)
LEARNED_BASELINES = ("raw-tx-classifier",)
#: every baseline the placebo test covers
BASELINES = SHORTCUTS + LEARNED_BASELINES


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
