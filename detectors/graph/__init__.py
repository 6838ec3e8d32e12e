"""Graph detectors on the address transfer graph: personalized PageRank, FlowScope, Fraudar."""

from .detectors import PPR, FlowScope, Fraudar

__all__ = ["PPR", "FlowScope", "Fraudar"]
