"""launderbench simulator: labelled multi-chain ledgers with laundering embedded in benign traffic.

The simulator owns the data model (:mod:`simulator.schema`, :class:`Dataset`) and knows
nothing of detectors.
"""

__version__ = "0.1.0"
