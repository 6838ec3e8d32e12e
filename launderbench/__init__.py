"""launderbench: simulation and detection benchmark suite for cryptocurrency money laundering.

One installed root with three layers, each importing only the ones below it::

    launderbench.benchmarks  ->  launderbench.detectors  ->  launderbench.simulator

The short API, in the style of gymnasium's ``make``:

>>> import launderbench
>>> ds = launderbench.make("easy-v1", transactions=2000, seed=0)     # doctest: +SKIP
>>> det = launderbench.detectors.make("haircut")                      # doctest: +SKIP
>>> scores = det.fit(ds.observable()).score(ds.observable())          # doctest: +SKIP

Everything is imported lazily, so ``import launderbench`` is cheap and the command line starts
fast.
"""

from __future__ import annotations

import importlib

from ._version import __version__

__all__ = [
    "__version__", "make", "load", "list_scenarios", "Dataset",
    "simulator", "detectors", "benchmarks",
]

_SUBPACKAGES = ("simulator", "detectors", "benchmarks")
#: short name -> (module, attribute)
_SHORT = {
    "make": ("launderbench.simulator.generate", "make"),
    "list_scenarios": ("launderbench.simulator.registry", "list_scenarios"),
    "Dataset": ("launderbench.simulator.dataset", "Dataset"),
}


def load(path):
    """Load a dataset directory written by ``launderbench generate`` or ``Dataset.save``
    (:meth:`launderbench.simulator.Dataset.load`)."""
    from launderbench.simulator.dataset import Dataset

    return Dataset.load(path)


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _SHORT:
        module, attr = _SHORT[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'launderbench' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
