"""Tracing stolen funds from announced hack transactions (poison, haircut, FIFO, LIFO, TIHO).

See :mod:`launderbench.detectors.tracing.core` for the policies and their sources.
"""

from .core import POLICIES, STOP_SERVICES, TraceResult, trace
from .detectors import FIFO, LIFO, TIHO, Haircut, Poison, TaintDetector

__all__ = ["trace", "TraceResult", "POLICIES", "STOP_SERVICES", "TaintDetector", "Poison",
           "Haircut", "FIFO", "LIFO", "TIHO"]
