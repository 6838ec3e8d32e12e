"""launderbench simulator: labelled multi-chain ledgers with laundering embedded in benign traffic.

The simulator owns the data model (:mod:`simulator.schema`, :class:`Dataset`) and knows
nothing of detectors.

>>> import simulator
>>> ds = simulator.make("benign-v1", transactions=5000, seed=1)   # doctest: +SKIP
>>> view = ds.observable()                                        # what detectors see
"""

__version__ = "0.5.0"

from .dataset import Dataset, ObservableView, Table  # noqa: E402
from .errors import ConfigError, DatasetError, LaunderbenchError, ScenarioUnsatisfiable  # noqa: E402
from .generate import generate, make, write  # noqa: E402
from .registry import list_scenarios, register  # noqa: E402

__all__ = [
    "Dataset", "ObservableView", "Table", "make", "write", "generate", "register", "list_scenarios",
    "LaunderbenchError", "ConfigError", "DatasetError", "ScenarioUnsatisfiable",
]
