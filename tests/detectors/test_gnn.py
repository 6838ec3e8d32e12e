"""The graph neural network detectors (detectors/learned/gnn.py): conformance, determinism,
the graphs they build, and that each learns (trained on one seed of a small preset, it beats
the chance level on another seed's classification tasks).

Needs the ``gnn`` extra (torch and torch-geometric): ``make test-gnn``. Without it the module
is skipped with that reason; tests/detectors/test_gnn_absent.py checks what a user without
torch sees.
"""

from __future__ import annotations

import numpy as np
import pytest

REASON = "needs the gnn extra (torch, torch-geometric): pip install 'launderbench[gnn]'"
torch = pytest.importorskip("torch", reason=REASON)
pytest.importorskip("torch_geometric", reason=REASON)

from launderbench import detectors  # noqa: E402
from launderbench.detectors.learned.gnn import (  # noqa: E402
    address_graph,
    port_numbers,
    transfer_graph,
)
from launderbench.detectors.testing import parametrize_with_checks, toy_views  # noqa: E402
from launderbench.simulator.errors import ConfigError  # noqa: E402

pytestmark = pytest.mark.gnn

NAMES = ("gcn", "gin", "multi-gnn")
#: small settings that keep each fit to about a second on the test ledgers
QUICK = {"gcn": {"epochs": 5, "hidden": 16},
         "gin": {"epochs": 5, "hidden": 16, "layers": 2},
         "multi-gnn": {"epochs": 5, "hidden": 16}}
#: settings of the learning test (fewer epochs than the defaults, enough to learn)
LEARN = {"gcn": {"epochs": 60},
         "gin": {"epochs": 60, "hidden": 32, "layers": 2},
         "multi-gnn": {"epochs": 30}}


@parametrize_with_checks([detectors.make(name, **QUICK[name]) for name in NAMES])
def test_gnn_conforms(detector, check):
    check(detector)


def test_registered_and_available():
    for name in NAMES:
        assert detectors.available(name) == (True, "")
        assert "unavailable" not in detectors.list_detectors()[name]
        cls = detectors.registry.load(name)
        assert cls.tags["needs_labels"]
        assert cls._tag("requires") == ("torch", "torch_geometric")


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_seed(name):
    view, labels = toy_views()["mixed"]

    def fit(seed):
        d = detectors.make(name, seed=seed, **QUICK[name]).fit(view, labels)
        return d.score(view), d.losses_

    (a, la), (b, lb), (_, lc) = fit(0), fit(0), fit(1)
    assert np.array_equal(a.address, b.address)
    assert np.array_equal(a.transaction, b.transaction)
    assert la == lb
    assert la != lc  # another seed, another initialisation


def test_fitted_detector_pickles():
    import pickle

    view, labels = toy_views()["mixed"]
    for name in NAMES:
        d = detectors.make(name, **QUICK[name]).fit(view, labels)
        again = pickle.loads(pickle.dumps(d))
        assert np.array_equal(again.score(view).transaction, d.score(view).transaction)


def test_torch_settings_restored():
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    was = torch.are_deterministic_algorithms_enabled()
    view, labels = toy_views()["mixed"]
    detectors.make("gcn", threads=1, **QUICK["gcn"]).fit(view, labels).score(view)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.are_deterministic_algorithms_enabled() == was


def test_bad_parameters_are_config_errors():
    view, labels = toy_views()["mixed"]
    for params in ({"hidden": 0}, {"layers": 0}, {"epochs": -1}, {"learning_rate": 0},
                   {"dropout": 1.0}, {"illicit_weight": 2.0}, {"illicit_weight": "heavy"},
                   {"threads": 0}, {"device": "tpu"}):
        with pytest.raises(ConfigError):
            detectors.make("gin", **{**QUICK["gin"], **params}).fit(view, labels)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_gpu_is_a_config_error():
    view, labels = toy_views()["mixed"]
    with pytest.raises(ConfigError, match="CUDA"):
        detectors.make("gcn", device="cuda", **QUICK["gcn"]).fit(view, labels)
    d = detectors.make("gcn", device="auto", **QUICK["gcn"]).fit(view, labels)
    assert d.device_ == "cpu"


def test_one_class_gives_constant_scores():
    view, labels = toy_views()["mixed"]
    for name in NAMES:
        d = detectors.make(name, **QUICK[name]).fit(view, np.zeros_like(labels))
        s = d.score(view)
        assert d.model_ is None
        assert np.all(s.address == 0) and np.all(s.transaction == 0)


def test_port_numbers_by_first_contact():
    # node 0 hears from 5 (t=3), 7 (t=1), 5 again (t=9), 6 (t=1): order 7, 6 (tie: id), 5
    node = np.array([0, 0, 0, 0, 1])
    other = np.array([5, 7, 5, 6, 5])
    time = np.array([3, 1, 9, 1, 0])
    assert port_numbers(node, other, time, 8).tolist() == [2, 1, 2, 0, 0]
    assert port_numbers(np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), 3).size == 0


def test_graphs_of_the_toy_ledger():
    view, _ = toy_views()["mixed"]
    tr = view.transfers()
    ei = address_graph(view)
    assert ei.shape[0] == 2 and ei.shape[1] % 2 == 0
    assert not np.any(ei[0] == ei[1])  # no self-loops
    pairs = set(zip(ei[0].tolist(), ei[1].tolist()))
    assert len(pairs) == ei.shape[1]  # parallel edges merged
    for a, b in zip(tr["src"].tolist(), tr["dst"].tolist()):
        assert a == b or ((a, b) in pairs and (b, a) in pairs)
    g = transfer_graph(view)
    assert g["edge_index"].shape == (2, len(tr["src"]))  # one edge per transfer
    assert np.array_equal(g["tx_id"], tr["tx_id"])
    assert g["edge_attr"].dtype == np.float32 and len(g["edge_attr"]) == len(tr["src"])
    assert np.isfinite(g["edge_attr"]).all()


@pytest.fixture(scope="module")
def two_seeds():
    from launderbench.benchmarks.tasks import TaskSet
    from launderbench.simulator import make

    only = ["classification/address", "classification/transaction"]
    return [TaskSet(make("easy-v1", seed=s, transactions=1500), only=only) for s in (0, 1)]


@pytest.mark.parametrize("name", NAMES)
def test_learns_on_a_held_out_seed(two_seeds, name):
    """Trained on seed 0 (labels of its training part only), scored on seed 1: the PR-AUC of
    the level the model classifies is well above the chance level (the base rate) and above
    every one-feature shortcut's on the same held-out draw (easy-v1)."""
    from launderbench.benchmarks.chance import SHORTCUTS
    from launderbench.benchmarks.scoring import evaluate_scores, training_labels

    train, test = two_seeds
    det = detectors.make(name, **LEARN[name]).fit(train.view, training_labels(train))
    level = "transaction" if name == "multi-gnn" else "address"
    task = f"classification/{level}"

    def pr_auc(scores):
        rows, _ = evaluate_scores(test, scores, supervised=True)
        return {r["metric"]: r["value"] for r in rows
                if r["task"] == task and r["group"] == "all"}

    got = pr_auc(det.score(test.view))
    assert got["pr_auc"] > 2 * got["base_rate"], got
    for short in SHORTCUTS:
        other = pr_auc(detectors.make(short).fit(test.view).score(test.view))["pr_auc"]
        assert got["pr_auc"] > other, (short, other, got)
