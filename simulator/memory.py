"""How much memory a scenario needs, and whether this machine has it.

Generation keeps its planned ops on disk past 64 MiB and the tables go to disk shard by shard
(docs/generation.md "Sharded generation"); what stays in memory is mostly the kernel's state:
about 100 bytes per generated transaction above a fixed base (10 million benign transactions
peaked at 1.1 GiB, 50 million at 4.5 GiB; docs/speed.md). The estimate counts 150. Incidents add their benign look-alikes
(``twin_share``) and their own flows; at small sizes these can outnumber the benign traffic
several times over, so the estimate takes a generous factor for them. The estimate errs
high: it only has to stop requests that cannot fit (a hundred million days, a trillion
transactions) before any work starts.
"""

from __future__ import annotations

import os

from .errors import ConfigError

__all__ = ["estimate_bytes", "available_bytes", "check_memory", "BYTES_PER_TRANSACTION"]

BYTES_PER_TRANSACTION = 150
BASE_BYTES = 300 * 2**20
#: environment variable that skips the check (the CLI's --no-memory-check sets it too)
SKIP_ENV = "LAUNDERBENCH_NO_MEMORY_CHECK"


def estimate_bytes(scenario) -> int:
    """Bytes that generating ``scenario`` may need at its peak (an upper estimate)."""
    n = scenario.economy.transactions
    factor = 1.5
    if scenario.incidents:
        twins = float(dict(scenario.difficulty).get("twin_share", 0.0) or 0.0)
        factor += 1.0 + 2.0 * twins
    return int(BASE_BYTES + BYTES_PER_TRANSACTION * factor * n)


def available_bytes() -> int | None:
    """Memory this machine can give now (``MemAvailable``), or its physical memory; None
    when neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(scenario) -> None:
    """Raise :class:`ConfigError` when ``scenario`` needs more memory than is available
    (unless ``LAUNDERBENCH_NO_MEMORY_CHECK=1``)."""
    if os.environ.get(SKIP_ENV, "") not in ("", "0"):
        return
    need, have = estimate_bytes(scenario), available_bytes()
    if have is not None and need > have:
        raise ConfigError(
            f"scenario '{scenario.id}' needs about {need / 2**30:.1f} GiB "
            f"({scenario.economy.transactions:,} transactions) and this machine has "
            f"{have / 2**30:.1f} GiB available; generate fewer transactions, or pass "
            f"--no-memory-check ({SKIP_ENV}=1) to try anyway")
