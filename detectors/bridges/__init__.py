"""Cross-chain bridge matching (XChainWatcher id rules, heuristic amount/time matching).
See ``docs/detectors-patterns.md``."""
