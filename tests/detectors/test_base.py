"""The detector contract, the registry and the conformance checker."""

import sys
import types

import numpy as np
import pytest

from launderbench import detectors
from launderbench.detectors.base import Detector, DetectorOutputError, NotFittedError, Scores
from launderbench.detectors.registry import load
from launderbench.detectors.testing import check_detector, toy_views
from launderbench.simulator.errors import ConfigError


class Degree(Detector):
    """Out-degree of each address (a trivial reference detector for the tests)."""

    name = "test-degree"
    description = "out-degree"
    tags = {"needs_seeds": False, "needs_labels": False, "outputs": ("address", "transaction")}

    def __init__(self, weight=1.0, log=False):
        self.weight = weight
        self.log = log

    def _score(self, view):
        a = np.bincount(view.inputs["address_id"], minlength=view.n_addresses) * self.weight
        if self.log:
            a = np.log1p(a)
        return Scores(address=a, transaction=view.transactions["n_outputs"].astype(float))


class SeedTouch(Detector):
    """Addresses paid by a seed transaction (toy seed-needing detector)."""

    name = "test-seedtouch"
    description = "paid by a seed"
    tags = {"needs_seeds": True, "needs_labels": False, "outputs": ("address",)}

    def __init__(self, ignore_seeds=False):
        self.ignore_seeds = ignore_seeds

    def _score(self, view):
        s = np.zeros(view.n_addresses)
        if self.ignore_seeds:  # deliberately wrong: scores without seeds
            s[:] = 1.0
            return Scores(address=s)
        seed_out = np.isin(view.outputs["tx_id"], view.seeds["tx_id"])
        s[view.outputs["address_id"][seed_out]] = 1.0
        return Scores(address=s)


def test_reference_detectors_conform():
    check_detector(Degree(weight=2.0, log=True))
    check_detector(SeedTouch())


def test_score_before_fit_and_shape_checks():
    view = toy_views()["mixed"][0]
    with pytest.raises(NotFittedError, match="not fitted"):
        Degree().score(view)

    class Bad(Degree):
        def _score(self, view):
            return Scores(address=np.zeros(3), transaction=np.zeros(view.n_transactions))

    with pytest.raises(DetectorOutputError, match="shape"):
        Bad().fit(view).score(view)

    class Missing(Degree):
        def _score(self, view):
            return Scores(address=np.zeros(view.n_addresses))

    with pytest.raises(DetectorOutputError, match="transaction"):
        Missing().fit(view).score(view)


def test_dataset_instead_of_view_rejected():
    from launderbench.detectors.testing import toy_ledger

    ds = toy_ledger().build()
    with pytest.raises(ConfigError, match="observable"):
        Degree().fit(ds)


def test_params_roundtrip_and_unknown():
    d = Degree(weight=3.0)
    assert d.get_params() == {"weight": 3.0, "log": False}
    assert d.set_params(log=True) is d and d.log is True
    with pytest.raises(ConfigError, match="did you mean 'weight'"):
        d.set_params(wieght=1)


def test_checker_catches_bad_detectors():
    class Learns(Degree):
        def __init__(self, weight=1.0, log=False):
            super().__init__(weight, log)
            self.table_ = {}

    with pytest.raises(AssertionError, match="fitted attribute"):
        check_detector(Learns())

    class Random(Degree):
        def _score(self, view):
            s = super()._score(view)
            s.address = s.address + np.random.random(view.n_addresses)
            return s

    with pytest.raises(AssertionError, match="different scores"):
        check_detector(Random())

    class Mutates(Degree):
        def _score(self, view):
            view.outputs["amount"][:1] += 1
            return super()._score(view)

    with pytest.raises(AssertionError, match="mutated"):
        check_detector(Mutates())

    class NaN(Degree):
        def _score(self, view):
            s = super()._score(view)
            s.address = s.address / 0.0 if view.n_addresses else s.address
            return s

    with pytest.raises(AssertionError, match="non-finite"):
        with np.errstate(all="ignore"):
            check_detector(NaN())

    with pytest.raises(AssertionError, match="without seeds"):
        check_detector(SeedTouch(ignore_seeds=True))


def test_registry_make_register_and_errors():
    with pytest.raises(ConfigError, match="did you mean 'haircut'"):
        detectors.make("haircutt")
    with pytest.raises(ConfigError, match="unknown detector"):
        detectors.make("zzzzzzzz")
    detectors.register("test-degree", Degree, overwrite=True)
    d = detectors.make("test-degree", weight=5.0)
    assert isinstance(d, Degree) and d.weight == 5.0
    with pytest.raises(ConfigError, match="already registered"):
        detectors.register("test-degree", Degree)
    with pytest.raises(ConfigError, match="did you mean 'weight'"):
        detectors.make("test-degree", weigth=1)
    assert detectors.list_detectors()["test-degree"] == "out-degree"
    # "module:Class" strings
    mod = types.ModuleType("lb_fake_plugin")
    mod.Degree = Degree
    sys.modules["lb_fake_plugin"] = mod
    assert load("lb_fake_plugin:Degree") is Degree
    with pytest.raises(ConfigError, match="cannot import"):
        detectors.make("no_such_module_xyz:Thing")
    with pytest.raises(ConfigError, match="not a detectors.Detector"):
        detectors.make("numpy:ndarray")


def test_entry_point_group(monkeypatch):
    from launderbench.detectors import registry

    class FakeEntryPoint:
        name = "ep-degree"

        def load(self):
            return Degree

    monkeypatch.setattr(registry, "_ENTRY_POINTS", {"ep-degree": FakeEntryPoint()})
    assert isinstance(detectors.make("ep-degree", log=True), Degree)
    assert "ep-degree" in detectors.list_detectors()
    with pytest.raises(ConfigError, match="did you mean 'ep-degree'"):
        detectors.make("ep-degre")


def test_scores_zeros():
    view = toy_views()["mixed"][0]
    s = Scores.zeros(view, ("address", "transaction", "link"), note=1)
    assert s.address.shape == (view.n_addresses,) and not s.address.any()
    assert s.transaction.shape == (view.n_transactions,) and len(s.links["score"]) == 0
    assert s.info == {"note": 1}
