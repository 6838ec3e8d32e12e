"""Temporary directories that a killed process cannot leave behind for ever.

Each directory's name carries the id of the process that made it
(``<prefix><pid>-<random>``). A later process removes the ones whose maker is no longer
running (killed with SIGKILL, or the machine went down) before it makes its own, and leaves
every other process's alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["make_temp_dir", "remove_stale"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(prefix: str, where: str | os.PathLike | None = None) -> list[Path]:
    """Remove the directories ``<prefix><pid>-*`` in ``where`` (default: the system's
    temporary directory) whose process is gone; return what was removed."""
    base = Path(where if where is not None else tempfile.gettempdir())
    removed = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or not entry.is_dir() or entry.is_symlink():
            continue
        pid, sep, _ = name[len(prefix):].partition("-")
        if not sep or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def make_temp_dir(prefix: str, where: str | os.PathLike | None = None) -> Path:
    """Remove stale directories of ``prefix`` in ``where``, then make a new one named after
    this process."""
    remove_stale(prefix, where)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=where))
