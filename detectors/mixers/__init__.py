"""Mixer detectors: Tornado Cash heuristics, CoinJoin rules, custodial flow-through.
See ``docs/detectors-patterns.md``."""
