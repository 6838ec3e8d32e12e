"""The feature models (detectors/learned/models.py): conformance at the transaction level,
determinism for a fixed seed, the shared labelled period, and a held-out test that each model
learns (trained on one seed of a preset, it beats every one-feature shortcut on another)."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench import detectors
from launderbench.benchmarks.chance import SHORTCUTS
from launderbench.benchmarks.evaluator import average_precision
from launderbench.benchmarks.tasks import TaskSet
from launderbench.detectors.learned.labels import labelled_period_end, prefix_view, tx_labels
from launderbench.detectors.testing import parametrize_with_checks, toy_views
from launderbench.simulator import make
from launderbench.simulator.errors import ConfigError

MODELS = ("random-forest", "gradient-boosting")
#: small models, so that the held-out test runs in seconds
SMALL = {"random-forest": {"n_estimators": 40}, "gradient-boosting": {"max_iter": 60}}


@parametrize_with_checks([detectors.make(m, level="transaction") for m in MODELS])
def test_transaction_level_conforms(detector, check):
    check(detector)


def test_bad_level_is_a_config_error():
    view, labels = toy_views()["mixed"]
    for m in MODELS:
        with pytest.raises(ConfigError, match="level"):
            detectors.make(m, level="block").fit(view, labels)


def test_labelled_period_and_prefix():
    view, labels = toy_views()["mixed"]
    k = labelled_period_end(view, labels)
    assert 0 < k <= view.n_transactions
    assert labelled_period_end(view, np.full(view.n_addresses, -1)) == 0
    cut = prefix_view(view, 3)
    assert cut.n_transactions == 3 and cut.n_addresses == view.n_addresses
    assert np.all(cut.inputs["tx_id"] < 3) and np.all(cut.outputs["tx_id"] < 3)
    y = tx_labels(view, labels)
    assert set(np.unique(y)) <= {-1, 0, 1} and (y == 1).any()


def _labels(ts) -> np.ndarray:
    return np.where(ts.addr_victim, -1, ts.addr_label.astype(np.int64))


@pytest.fixture(scope="module", params=["easy-v1", "medium-v1"])
def held_out(request):
    """A preset drawn twice: seed 0 to train on (every address label), seed 1 to test on."""
    only = ["classification/address"]
    train = TaskSet(make(request.param, seed=0, transactions=800), only=only)
    test = TaskSet(make(request.param, seed=1, transactions=800), only=only)
    return request.param, train, test


@pytest.mark.parametrize("model", MODELS)
def test_each_model_beats_every_shortcut_on_a_held_out_draw(held_out, model):
    preset, train, test = held_out
    view = test.view
    mask = (test.split["address"] >= 0) & ~test.addr_victim
    y_addr, y_tx = test.addr_label[mask].astype(int), test.tx_label.astype(int)
    assert y_addr.any() and y_tx.any()

    def pr_auc(s):
        return average_precision(y_addr, s.address[mask]), average_precision(y_tx,
                                                                             s.transaction)

    det = detectors.make(model, seed=3, **SMALL[model]).fit(train.view, _labels(train))
    got_addr, got_tx = pr_auc(det.score(view))
    for name in SHORTCUTS:
        base_addr, base_tx = pr_auc(detectors.make(name).fit(view).score(view))
        assert got_addr > base_addr, (preset, model, name, got_addr, base_addr)
        assert got_tx > base_tx, (preset, model, name, got_tx, base_tx)


@pytest.mark.parametrize("model", MODELS)
def test_fixed_seed_is_deterministic_and_max_train_subsamples(held_out, model):
    _, train, _ = held_out
    labels = _labels(train)
    kw = dict(SMALL[model], max_train=400, seed=5)
    a = detectors.make(model, **kw).fit(train.view, labels)
    b = detectors.make(model, **kw).fit(train.view, labels)
    assert a.n_train_ > 400  # more labelled rows than max_train: a subsample was fitted
    sa, sb = a.score(train.view), b.score(train.view)
    assert np.array_equal(sa.address, sb.address)
    assert np.array_equal(sa.transaction, sb.transaction)


@parametrize_with_checks([detectors.make("gradient-boosting", engine="sklearn")])
def test_sklearn_engine_conforms(detector, check):
    check(detector)


def test_both_engines_learn_as_well(held_out):
    _, train, test = held_out
    mask = (test.split["address"] >= 0) & ~test.addr_victim
    y = test.addr_label[mask].astype(int)
    got = {}
    for engine in ("sklearn", "lightgbm"):
        det = detectors.make("gradient-boosting", engine=engine, max_iter=60, seed=3)
        s = det.fit(train.view, _labels(train)).score(test.view)
        got[engine] = average_precision(y, s.address[mask])
    assert abs(got["lightgbm"] - got["sklearn"]) < 0.1, got


def test_lightgbm_is_the_default_engine():
    assert detectors.make("gradient-boosting").engine == "lightgbm"


def test_unknown_engine_and_missing_lightgbm_are_config_errors(monkeypatch):
    import sys

    view, labels = toy_views()["mixed"]
    with pytest.raises(ConfigError, match="engine"):
        detectors.make("gradient-boosting", engine="xgb").fit(view, labels)
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # as if it were not installed
    with pytest.raises(ConfigError, match="pip install lightgbm"):
        detectors.make("gradient-boosting").fit(view, labels)
