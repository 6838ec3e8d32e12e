"""launderbench simulator: labelled multi-chain ledgers with laundering embedded in benign traffic.

The simulator owns the data model (:mod:`launderbench.simulator.schema`, :class:`Dataset`) and knows
nothing of detectors.

>>> from launderbench import simulator
>>> ds = simulator.make("benign-v1", transactions=5000, seed=1)   # doctest: +SKIP
>>> view = ds.observable()                                        # what detectors see
"""

from .dataset import Dataset, ObservableView, Table
from .errors import ConfigError, DatasetError, LaunderbenchError, ScenarioUnsatisfiable
from .generate import generate, make, write
from .registry import list_scenarios, register
from .version import GENERATOR_VERSION

__all__ = [
    "Dataset", "ObservableView", "Table", "make", "write", "generate", "register", "list_scenarios",
    "LaunderbenchError", "ConfigError", "DatasetError", "ScenarioUnsatisfiable", "GENERATOR_VERSION",
]
