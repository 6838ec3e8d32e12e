"""The evaluator: scores arrays against a task, never a detector (as OGB's ``Evaluator``).

>>> from launderbench.benchmarks.evaluator import Evaluator
>>> from launderbench.benchmarks.tasks import RankingTask
>>> import numpy as np
>>> task = RankingTask.from_arrays("tracing", y_true=[1, 0, 1, 0], value=[5.0, 0, 0, 0],
...                                hops=[1, np.nan, 2, np.nan], hours=[1, np.nan, 3, np.nan])
>>> ev = Evaluator(task)
>>> r = ev.eval({"y_score": [0.9, 0.1, 0.2, 0.3]})
>>> r["precision@k"], r["recall@k"], r["value_recall@k"]
(0.5, 0.5, 1.0)

Metrics follow scikit-learn's definitions where it has them: PR-AUC is
:func:`~sklearn.metrics.average_precision_score`, ROC-AUC :func:`~sklearn.metrics.roc_auc_score`,
F1 of the minority class at the threshold that maximises F1 on validation. They are computed
here with the same formulas (``tests/benchmarks/test_evaluator.py`` checks equality with
scikit-learn on random inputs) because every result is broken down into dozens of groups and
scikit-learn's per-call input validation would dominate the run time. Precision, recall and
value-weighted recall at an alert budget ``k`` and the trace depth (hop-balanced recall,
:func:`_depth_recall`) are defined here. Items tied with the ``k``-th score share the remaining budget fractionally, so a
constant score is scored exactly at chance, whatever the order of the items.

Every metric can be broken down (:meth:`Evaluator.eval_groups`) per typology, stage, incident
and chain, as defined by the task's groups.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.metrics import precision_recall_curve

from launderbench.simulator.errors import ConfigError

from .tasks import LinkingTask, RankingTask

NAN = float("nan")


class EvaluationInputError(ConfigError):
    """The input handed to an evaluator is malformed (one line says exactly what is wrong)."""


class Evaluator:
    """Evaluate scores for one task.

    Parameters
    ----------
    task : :class:`~launderbench.benchmarks.tasks.RankingTask` or :class:`~launderbench.benchmarks.tasks.LinkingTask`
    threshold : float, optional
        Linking only: pairs with a score below it are not claimed (default: every listed pair
        is a claim).
    """

    def __init__(self, task, threshold: float | None = None):
        if not isinstance(task, (RankingTask, LinkingTask)):
            raise EvaluationInputError(
                f"Evaluator needs a RankingTask or LinkingTask, got {type(task).__name__}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(
                threshold, numbers.Real) or not np.isfinite(threshold)):
            raise EvaluationInputError(f"threshold must be a finite number or None, got "
                                       f"{threshold!r}")
        self.task = task
        self.threshold = threshold

    # -- the contract, readable at the REPL -----------------------------------------------
    @property
    def expected_input_format(self) -> str:
        t = self.task
        if isinstance(t, LinkingTask):
            return (
                "==== Expected input format of Evaluator for task 'linking'\n"
                "{'links': {'in_tx_id': int array (m,), 'out_tx_id': int array (m,), "
                "'score': float array (m,)}}\n"
                f"- transaction ids in [0, {t.n_transactions}), no duplicate pairs, finite "
                "scores (higher = more confident).\n"
                "- every listed pair is a claimed link (pairs below `threshold` are dropped "
                "when a threshold is set).")
        return (
            f"==== Expected input format of Evaluator for task '{t.name}'\n"
            "{'y_score': y_score} and optionally {'y_true': y_true}\n"
            f"- y_score: numpy array of shape ({t.n_items},), finite floats, one per "
            f"{t.level} id, higher = more suspicious.\n"
            f"- y_true: if given, numpy array of shape ({t.n_items},) of 0/1; it must equal "
            "the task's labels (it is a consistency check, the task holds the truth).")

    @property
    def expected_output_format(self) -> str:
        names = ", ".join(self.metric_names())
        return (f"==== Expected output format of Evaluator for task '{self.task.name}'\n"
                f"{{metric: float}} with metrics: {names}. NaN where a metric is undefined "
                "(e.g. no positive in the test split).")

    def metric_names(self) -> list[str]:
        kind = self.task.kind
        if kind == "linking":
            return ["precision", "recall", "f1", "pr_auc", "n_links", "n_claimed"]
        base = ["pr_auc", "roc_auc", "precision@k", "recall@k", "k", "n_pos", "base_rate"]
        if kind == "classification":
            return base + ["f1", "precision", "recall", "threshold"]
        if kind == "tracing":
            return base + ["value_recall@k", "trace_hops@k", "trace_hours@k", "max_hops",
                           "max_hours", "trace_depth@k"]
        return ["share@k", "value_share@k", "k", "n_pos", "pr_auc"]

    # -- evaluation ---------------------------------------------------------------------------
    def eval(self, input_dict: Mapping) -> dict[str, float]:
        """Metrics over the whole task (the ``all`` group)."""
        return self.eval_groups(input_dict, groups=False)["all"]

    def eval_groups(self, input_dict: Mapping, groups: bool = True) -> dict[str, dict]:
        """Metrics per group: ``{"all": {...}, "typology=peel_chain": {...}, ...}``."""
        if isinstance(self.task, LinkingTask):
            return self._eval_links(input_dict, groups)
        return self._eval_ranking_groups(self._check_ranking_input(input_dict), groups)

    def _eval_ranking_groups(self, score, groups) -> dict[str, dict]:
        t = self.task
        out = {"all": self._ranking(score, t.mask, t.y_true)}
        if groups and t.kind == "typology":
            # one alert list for everything, broken down: the share of each group's laundering
            # that the list covers
            w = np.zeros(t.n_items)
            w[t.mask] = topk_weights(score[t.mask], _budget(t.budget, t.y_true[t.mask]))
            named = [(n, t.mask & t.y_true & p) for n, p in t.groups.positive.items()]
            named += [(n, t.mask & t.y_true & i) for n, i in t.groups.items.items()]
            for name, pos in named:
                v = t.value * pos if t.value is not None else None
                out[name] = {
                    "share@k": float(w[pos].sum() / pos.sum()) if pos.any() else NAN,
                    "value_share@k": (float((w * v).sum() / v.sum()) if v is not None
                                      and v.sum() > 0 else NAN),
                    "n_pos": float(pos.sum()),
                }
        elif groups:
            for name, pos in t.groups.positive.items():
                keep = t.mask & (~t.y_true | pos)
                out[name] = self._ranking(score, keep, t.y_true & pos)
            for name, items in t.groups.items.items():
                out[name] = self._ranking(score, t.mask & items, t.y_true)
        return out

    def curve(self, input_dict: Mapping, max_points: int = 200) -> dict[str, np.ndarray]:
        """Precision-recall curve over the evaluated items (test split for classification)."""
        score = self._check_ranking_input(input_dict)
        t = self.task
        keep = t.mask if t.split is None or t.kind != "classification" else t.mask & (t.split == 2)
        y, s = t.y_true[keep], score[keep]
        if y.sum() == 0 or y.all():
            return {"precision": np.zeros(0), "recall": np.zeros(0)}
        p, r, _ = precision_recall_curve(y, s)
        if len(p) > max_points:
            idx = np.unique(np.linspace(0, len(p) - 1, max_points).astype(int))
            p, r = p[idx], r[idx]
        return {"precision": p, "recall": r}

    # -- ranking tasks ------------------------------------------------------------------------
    def _check_ranking_input(self, input_dict) -> np.ndarray:
        t = self.task
        if not isinstance(input_dict, Mapping):
            raise EvaluationInputError(
                f"input must be a dict like {{'y_score': array}}, got {type(input_dict).__name__}")
        unknown = sorted(set(input_dict) - {"y_score", "y_true"})
        if unknown:
            raise EvaluationInputError(
                f"unknown input key(s) {unknown}; expected 'y_score' and optionally 'y_true'")
        if "y_score" not in input_dict:
            raise EvaluationInputError("missing key 'y_score'")
        score = _as_1d(input_dict["y_score"], "y_score", t.n_items, t.level)
        if not np.issubdtype(score.dtype, np.number) or np.issubdtype(score.dtype,
                                                                      np.complexfloating):
            raise EvaluationInputError(f"y_score must be real numbers, got dtype {score.dtype}")
        score = score.astype(np.float64)
        bad = ~np.isfinite(score)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EvaluationInputError(
                f"y_score has {int(bad.sum())} non-finite value(s) (first at index {i}: "
                f"{score[i]})")
        if "y_true" in input_dict:
            yt = _as_1d(input_dict["y_true"], "y_true", t.n_items, t.level)
            if yt.dtype == bool:
                yt = yt.astype(np.int64)
            if not np.issubdtype(yt.dtype, np.number) or not np.all(np.isin(yt, (0, 1))):
                raise EvaluationInputError("y_true must contain only 0 and 1")
            diff = int((yt.astype(bool) != t.y_true).sum())
            if diff:
                raise EvaluationInputError(
                    f"y_true differs from the task's labels at {diff} of {t.n_items} items")
        return score

    def _ranking(self, score, keep, y_all) -> dict[str, float]:
        t = self.task
        if t.kind == "classification":
            if t.split is None:
                raise EvaluationInputError("a classification task needs a split")
            test = keep & (t.split == 2)
            valid = keep & (t.split == 1)
            r = _rank_metrics(score[test], y_all[test], t.budget)
            r.update(_f1_at_valid(score[valid], y_all[valid], score[test], y_all[test]))
            return r
        y, s = y_all[keep], score[keep]
        if t.kind == "typology":
            k = _budget(t.budget, y)
            w = topk_weights(s, k)
            v = t.value[keep] * y if t.value is not None else None
            npos = int(y.sum())
            return {
                "share@k": float((w * y).sum() / npos) if npos else NAN,
                "value_share@k": (float((w * v).sum() / v.sum()) if v is not None
                                  and v.sum() > 0 else NAN),
                "k": float(k), "n_pos": float(npos),
                "pr_auc": average_precision(y, s),
            }
        r = _rank_metrics(s, y, t.budget)
        if t.kind == "tracing":
            k = int(r["k"])
            w = topk_weights(s, k)
            if t.value is not None:
                v = t.value[keep] * y
                r["value_recall@k"] = float((w * v).sum() / v.sum()) if v.sum() > 0 else NAN
            full = (w >= 1.0) & y
            for name, arr in (("hops", t.hops), ("hours", t.hours)):
                if arr is None:
                    continue
                a = arr[keep]
                fin = y & np.isfinite(a)
                mx = float(a[fin].max()) if fin.any() else NAN
                got = full & np.isfinite(a)
                r[f"trace_{name}@k"] = float(a[got].max()) if got.any() else 0.0
                r[f"max_{name}"] = mx
            if t.hops is not None:
                r["trace_depth@k"] = _depth_recall(w, y, t.hops[keep])
        return r

    # -- linking ------------------------------------------------------------------------------
    def _eval_links(self, input_dict, groups) -> dict[str, dict]:
        t = self.task
        if not isinstance(input_dict, Mapping):
            raise EvaluationInputError(
                f"input must be a dict like {{'links': {{...}}}}, got {type(input_dict).__name__}")
        links = input_dict.get("links", input_dict)
        if links is None:
            links = {"in_tx_id": [], "out_tx_id": [], "score": []}
        if not isinstance(links, Mapping):
            raise EvaluationInputError(
                f"'links' must be a dict of arrays, got {type(links).__name__}")
        missing = [k for k in ("in_tx_id", "out_tx_id", "score") if k not in links]
        if missing:
            raise EvaluationInputError(f"links: missing key(s) {missing}")
        a = np.asarray(links["in_tx_id"])
        b = np.asarray(links["out_tx_id"])
        s = np.asarray(links["score"])
        m = len(a) if a.ndim == 1 else -1
        for name, arr in (("in_tx_id", a), ("out_tx_id", b), ("score", s)):
            if arr.ndim != 1:
                raise EvaluationInputError(f"links['{name}'] must be 1-D, got shape {arr.shape}")
            if len(arr) != m:
                raise EvaluationInputError(
                    f"links['{name}'] has {len(arr)} entries, links['in_tx_id'] has {m}")
        for name, arr in (("in_tx_id", a), ("out_tx_id", b)):
            if m and not np.issubdtype(arr.dtype, np.integer):
                raise EvaluationInputError(f"links['{name}'] must be integers, got {arr.dtype}")
            if m and t.n_transactions is not None and (arr.min() < 0 or
                                                       arr.max() >= t.n_transactions):
                raise EvaluationInputError(
                    f"links['{name}'] has ids outside [0, {t.n_transactions})")
        s = s.astype(np.float64) if m else np.zeros(0)
        if m and not np.all(np.isfinite(s)):
            raise EvaluationInputError("links['score'] has non-finite values")
        a, b = a.astype(np.int64), b.astype(np.int64)
        if self.threshold is not None:
            keep = s >= self.threshold
            a, b, s = a[keep], b[keep], s[keep]
        big = np.int64(max(t.n_transactions or 0, int(max(a.max(initial=0), b.max(initial=0),
                                                           t.in_tx.max(initial=0),
                                                           t.out_tx.max(initial=0))) + 1))
        key = a * big + b
        if len(np.unique(key)) != len(key):
            raise EvaluationInputError("links contain duplicate (in_tx_id, out_tx_id) pairs")
        true_key = t.in_tx * big + t.out_tx
        hit = np.isin(key, true_key)
        found = np.isin(true_key, key)
        n_true, n_claim, n_hit = len(true_key), len(key), int(hit.sum())
        p = n_hit / n_claim if n_claim else NAN
        r = n_hit / n_true if n_true else NAN
        f1 = (2 * p * r / (p + r) if n_claim and n_true and (p + r) > 0
              else (0.0 if n_true else NAN))
        out = {"all": {"precision": p, "recall": r, "f1": f1,
                       "pr_auc": _ranked_ap(s, hit, n_true),
                       "n_links": float(n_true), "n_claimed": float(n_claim)}}
        if groups:
            from launderbench.simulator.schema import LinkKind

            from .tasks import _enum_name
            for code in np.unique(t.kind_code):
                sel = t.kind_code == code
                out[f"kind={_enum_name(LinkKind, code)}"] = {
                    "recall": float(found[sel].mean()), "n_links": float(sel.sum())}
            for inc in np.unique(t.incident):
                sel = t.incident == inc
                name = "incident=benign" if inc < 0 else f"incident={int(inc)}"
                out[name] = {"recall": float(found[sel].mean()), "n_links": float(sel.sum())}
            if t.chain is not None:
                for c in np.unique(t.chain):
                    sel = t.chain == c
                    out[f"chain={c}"] = {"recall": float(found[sel].mean()),
                                         "n_links": float(sel.sum())}
        return out


# ----------------------------------------------------------------------------- helpers
def _as_1d(x, name, n, level) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except Exception as e:  # noqa: BLE001 - report any conversion problem in one line
        raise EvaluationInputError(f"{name} cannot be read as an array: {e}") from None
    if arr.dtype == object:
        raise EvaluationInputError(f"{name} must be a numeric array, got objects")
    if arr.ndim != 1:
        raise EvaluationInputError(f"{name} must be 1-D of shape ({n},), got shape {arr.shape}")
    if len(arr) != n:
        raise EvaluationInputError(
            f"{name} has {len(arr)} entries, the task has {n} {level} items")
    return arr


def _budget(budget, y) -> int:
    if isinstance(budget, str) and budget == "auto":
        return int(y.sum())
    if isinstance(budget, bool) or not isinstance(budget, numbers.Integral):
        raise EvaluationInputError(f"alert budget must be 'auto' or a whole number, got "
                                   f"{budget!r}")
    k = int(budget)
    if k < 0:
        raise EvaluationInputError(f"alert budget must be >= 0, got {budget}")
    return k


def _depth_recall(w: np.ndarray, y: np.ndarray, hops: np.ndarray) -> float:
    """Hop-balanced recall: the mean, over the hop counts that laundering items have, of the
    share of that hop's items in the alert list (``w``: each item's share of the budget).

    Every hop level weighs the same, so following the funds three hops deep counts three
    times as much as finding every address one hop out; a random ranking scores about
    ``k / n`` (near zero on a large ledger), a perfect one 1.
    """
    fin = y & np.isfinite(hops)
    if not fin.any():
        return NAN
    levels, inverse = np.unique(hops[fin], return_inverse=True)
    found = np.bincount(inverse, weights=w[fin], minlength=len(levels))
    count = np.bincount(inverse, minlength=len(levels))
    return float(np.mean(found / count))


def topk_weights(score: np.ndarray, k: int) -> np.ndarray:
    """Weight of each item in a top-``k`` alert list; ties at the cut share the rest.

    Items with a score above the ``k``-th largest get weight 1; the items tied with it share
    the remaining budget equally, so the expected value under a random tie-break is exact.
    """
    n = len(score)
    k = min(int(k), n)
    w = np.zeros(n)
    if k <= 0:
        return w
    kth = np.partition(score, n - k)[n - k]
    greater = score > kth
    tied = score == kth
    w[greater] = 1.0
    w[tied] = (k - greater.sum()) / tied.sum()
    return w


def _rank_metrics(s, y, budget) -> dict[str, float]:
    npos = int(y.sum())
    n = len(y)
    k = _budget(budget, y)
    w = topk_weights(s, k)
    hits = float((w * y).sum())
    return {
        "pr_auc": average_precision(y, s),
        "roc_auc": roc_auc(y, s),
        "precision@k": hits / min(k, n) if min(k, n) else NAN,
        "recall@k": hits / npos if npos else NAN,
        "k": float(k),
        "n_pos": float(npos),
        "base_rate": npos / n if n else NAN,
    }


def _binary_curve(y, s):
    """True and false positives at each distinct score, from the highest down."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    return tps, fps, s[last]


def average_precision(y, s) -> float:
    """Average precision, sum over thresholds of (R_n - R_{n-1}) P_n.

    The same definition and value as :func:`sklearn.metrics.average_precision_score` (checked
    in the tests); computed directly because every result is broken down into many groups and
    scikit-learn's per-call input validation would dominate. NaN without both classes.
    """
    y = np.asarray(y, bool)
    if len(y) == 0 or y.all() or not y.any():
        return NAN
    tps, fps, _ = _binary_curve(y, np.asarray(s, np.float64))
    prec = tps / (tps + fps)
    rec = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


def roc_auc(y, s) -> float:
    """Area under the ROC curve (trapezoids), as :func:`sklearn.metrics.roc_auc_score`."""
    y = np.asarray(y, bool)
    if len(y) == 0 or y.all() or not y.any():
        return NAN
    tps, fps, _ = _binary_curve(y, np.asarray(s, np.float64))
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _f1_at_valid(s_val, y_val, s_test, y_test) -> dict[str, float]:
    """Minority-class F1 on test at the threshold that maximises F1 on validation.

    Among thresholds with equal validation F1 the lowest is taken (as ``argmax`` over
    :func:`sklearn.metrics.precision_recall_curve`'s increasing thresholds does).
    """
    out = {"f1": NAN, "precision": NAN, "recall": NAN, "threshold": NAN}
    if not y_val.any() or not y_test.any():
        return out
    tps, fps, thr = _binary_curve(y_val, s_val)
    p, r = tps / (tps + fps), tps / tps[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    best = len(f) - 1 - int(np.argmax(f[::-1]))  # thresholds run high to low
    th = float(thr[best])
    pred = s_test >= th
    tp = float((pred & y_test).sum())
    n_pred, n_pos = float(pred.sum()), float(y_test.sum())
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_pos
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    out.update(threshold=th, f1=f1, precision=prec, recall=rec)
    return out


def _ranked_ap(score, hit, n_true) -> float:
    """Average precision of a ranked claim list against ``n_true`` true items.

    As scikit-learn's step-wise definition, with recall measured against all true items
    (items never listed contribute zero precision).
    """
    if n_true == 0:
        return NAN
    if len(score) == 0:
        return 0.0
    order = np.argsort(-score, kind="stable")
    s, h = score[order], hit[order].astype(float)
    # group ties: evaluate at the last index of each distinct score
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(h)[last]
    cnt = last + 1
    prec = tp / cnt
    rec = tp / n_true
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


__all__ = ["Evaluator", "EvaluationInputError", "topk_weights", "average_precision", "roc_auc"]
