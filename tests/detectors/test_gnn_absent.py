"""Without the ``gnn`` extra the project imports, lists and runs: the graph neural network
detectors are listed as unavailable with the install command, building one is a ConfigError
naming the extra, and nothing imports torch until a GNN is fitted. Always runs: where torch is
installed, its absence is simulated (``sys.modules[name] = None`` makes both the import and
the registry's look-up fail)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from launderbench import detectors
from launderbench.detectors.learned.gnn import GCN
from launderbench.detectors.testing import toy_views
from launderbench.simulator.errors import ConfigError

NAMES = ("gcn", "gin", "multi-gnn")
INSTALL = "pip install 'launderbench[gnn]'"


@pytest.fixture
def no_torch(monkeypatch):
    for name in ("torch", "torch_geometric"):
        monkeypatch.setitem(sys.modules, name, None)


def test_make_names_the_extra(no_torch):
    for name in NAMES:
        with pytest.raises(ConfigError, match=r"needs torch, torch_geometric") as e:
            detectors.make(name)
        assert INSTALL in str(e.value)


def test_listed_as_unavailable_with_the_reason(no_torch):
    listing = detectors.list_detectors()
    for name in NAMES:
        assert listing[name].startswith("(unavailable: ")
        assert INSTALL in listing[name]
        ok, why = detectors.available(name)
        assert not ok and INSTALL in why
        assert detectors.registry.load(name).name == name  # the class itself imports
    assert detectors.available("haircut") == (True, "")


def test_fit_without_torch_is_a_config_error(no_torch):
    view, labels = toy_views()["mixed"]
    with pytest.raises(ConfigError, match=r"launderbench\[gnn\]"):
        GCN(epochs=1).fit(view, labels)


def test_nothing_imports_torch():
    code = ("import sys; import launderbench; from launderbench import detectors; "
            "detectors.list_detectors(); detectors.available('gcn'); "
            "import launderbench.detectors.learned.gnn; "
            "import launderbench.benchmarks.runner; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'torch_geometric')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
