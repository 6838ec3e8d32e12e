"""Learned detectors: feature matrices (:mod:`.features`) and the models trained on them
(:mod:`.models`), with the labelled-period helper they share (:mod:`.labels`)."""
