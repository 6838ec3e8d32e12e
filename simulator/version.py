"""The generator's version, written into every dataset's ``meta.json`` as ``generator_version``.

It changes whenever some scenario and seed would give different bytes; the package version
(:data:`launderbench.__version__`) changes with any release, so a release that leaves the
generator alone keeps this one and its datasets stay byte-identical.
"""

GENERATOR_VERSION = "0.5.0"
