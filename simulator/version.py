"""The generator's version, written into every dataset's ``meta.json`` as ``generator_version``.

It changes whenever some scenario and seed would give different bytes; the package version
(:data:`launderbench.__version__`) changes with any release, so a release that leaves the
generator alone keeps this one and its datasets stay byte-identical.
"""

#: 0.6.0: the tables are byte-identical to 0.5.0's; ``meta.json`` cites docs/sources.md in
#: its ``sources`` and every dataset directory carries a dataset card (``DATASET.md``)
GENERATOR_VERSION = "0.6.0"
