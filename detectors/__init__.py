"""launderbench detectors: tracing, clustering, patterns, mixers, bridges, graph and ML methods.

Every detector follows one contract (:class:`Detector`, :class:`Scores`) and is built by name:

>>> from launderbench import detectors
>>> det = detectors.make("haircut")                 # doctest: +SKIP
>>> scores = det.fit(view).score(view)              # doctest: +SKIP
"""

from .base import Detector, NotFittedError, Scores
from .registry import available, list_detectors, make, register

__all__ = ["Detector", "Scores", "NotFittedError", "make", "list_detectors", "register",
           "available"]
