"""Scoring a detector's output on a dataset's tasks: the labels a learning detector may see
while fitting (:func:`training_labels`), and the evaluation of its
:class:`~launderbench.detectors.base.Scores` on every task (:func:`evaluate_scores`), shared
by the runner and the placebos.
"""

from __future__ import annotations

import numpy as np

__all__ = ["training_labels", "evaluate_scores"]


def training_labels(ts, policy=None, part: str = "train") -> np.ndarray:
    """The labels a detector that learns may see: by default the exact address labels of the
    training part of the temporal split, -1 (unknown) everywhere else; ``policy`` (a
    :class:`~launderbench.benchmarks.labels.LabelPolicy`) makes them partial, noisy or
    delayed, ``part="all"`` labels the whole dataset (the inductive protocol)."""
    from .labels import training_labels as _labels

    return _labels(ts, policy, part)


def evaluate_scores(ts, scores, supervised: bool = False) -> tuple[list[dict], list[dict]]:
    """Evaluate one detector's :class:`~launderbench.detectors.base.Scores` on every task of ``ts``.

    Address scores are derived from transaction scores (maximum over its transactions) when a
    detector gives only those, and back; such rows have ``derived = True``. Detectors that
    learn from labels are evaluated on the classification tasks only (their scores on the
    training period are fitted, so tracing and typology would flatter them). A task the
    dataset cannot support (``ts.skipped``) gives one row with status ``skipped`` and the
    reason in ``error``.
    """
    from launderbench.detectors.projection import address_to_tx, tx_to_address

    from .evaluator import Evaluator

    view = ts.view
    addr, tx = scores.address, scores.transaction
    d_addr = d_tx = False
    if addr is None and tx is not None:
        addr, d_addr = tx_to_address(view, tx), True
    if tx is None and addr is not None:
        tx, d_tx = address_to_tx(view, addr), True
    from launderbench.detectors.base import Scores

    # items singled out at each level (0: one tie, the detector found nothing there)
    found = Scores(address=addr, transaction=tx, links=scores.links).detections()
    rows, curves = [], []
    for name, task in ts.tasks.items():
        if supervised and task.kind not in ("classification",):
            continue
        if task.kind == "linking":
            if scores.links is None:
                continue
            inp, derived = {"links": scores.links}, False
        else:
            if addr is None:
                continue
            level_addr = task.level == "address"
            inp = {"y_score": addr if level_addr else tx}
            derived = d_addr if level_addr else d_tx
        ev = Evaluator(task)
        for group, metrics in ev.eval_groups(inp).items():
            for m, v in metrics.items():
                rows.append({"task": name, "group": group, "metric": m,
                             "value": float(v), "derived": derived,
                             "detections": found.get(task.level)})
        if task.kind in ("classification", "tracing"):
            c = ev.curve(inp)
            curves.append({"task": name, "precision": c["precision"].tolist(),
                           "recall": c["recall"].tolist()})
    for name, reason in getattr(ts, "skipped", {}).items():
        if supervised and not name.startswith("classification"):
            continue
        rows.append({"task": name, "group": "all", "metric": "skipped", "value": float("nan"),
                     "derived": False, "detections": None, "status": "skipped",
                     "error": reason})
    return rows, curves
