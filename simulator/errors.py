"""User-facing errors. The CLI turns any of them into one line on stderr and exit code 2."""


class LaunderbenchError(Exception):
    """Base class of errors caused by user input (config, files, arguments)."""


class ConfigError(LaunderbenchError):
    """A scenario or run configuration is malformed or names something unknown."""


class DatasetError(LaunderbenchError):
    """A dataset directory is missing, incomplete, corrupt or of another schema version."""


class ScenarioUnsatisfiable(LaunderbenchError):
    """A scenario asks for something the ledger cannot do (e.g. spend more than was stolen)."""
