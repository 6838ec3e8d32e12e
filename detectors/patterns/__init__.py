"""Pattern detectors that need no labels: peel chains, fan patterns, pass-through, AA-Smurf,
structuring. See ``docs/detectors-patterns.md``."""
