"""Helpers shared by the detectors built on torch: lazy imports, the device, reproducible
training and feature scaling.

torch and torch-geometric come with the ``gnn`` extra (``pip install 'launderbench[gnn]'``)
and are never needed to import this module: :func:`torch_modules` imports them when a
detector is fitted or scored, and turns their absence into a
:class:`~launderbench.simulator.errors.ConfigError` that names the extra.
"""

from __future__ import annotations

import contextlib

import numpy as np

from launderbench.simulator.errors import ConfigError

__all__ = ["REQUIRES", "EXTRA", "torch_modules", "resolve_device", "reproducible",
           "scaling", "scale", "class_weights"]

#: modules the torch-based detectors need (their tag ``requires``)
REQUIRES = ("torch", "torch_geometric")
#: the optional-dependency group of launderbench that installs them
EXTRA = "gnn"


def torch_modules():
    """``(torch, torch_geometric)``, imported now; a :class:`ConfigError` with the install
    command when either is missing."""
    try:
        import torch
        import torch_geometric
    except ImportError as e:
        raise ConfigError(f"the graph neural network detectors need torch and torch_geometric "
                          f"({e}): pip install 'launderbench[{EXTRA}]'") from None
    return torch, torch_geometric


def resolve_device(device):
    """The :class:`torch.device` for the parameter ``device``: ``"auto"`` is the first CUDA
    device when torch sees one, else the CPU; ``"cpu"``, ``"cuda"``, ``"cuda:1"`` name one.
    Asking for CUDA where torch has none is a :class:`ConfigError`."""
    torch, _ = torch_modules()
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as e:
        raise ConfigError(f"bad device {device!r}: {e} (use 'auto', 'cpu' or 'cuda')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r}: this torch ({torch.__version__}) sees no CUDA device; "
            "install a CUDA build of torch on a machine with a GPU, or pass device='cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {device!r}: only 'auto', 'cpu' and 'cuda' are supported")
    return dev


@contextlib.contextmanager
def reproducible(seed: int, device, threads: int = 1):
    """Run the block with torch's random generators seeded with ``seed``, deterministic
    algorithms on and ``threads`` CPU threads; the caller's generator states and settings are
    restored afterwards.

    On the CPU two runs with the same seed, data and thread count give identical results
    (one thread is the default of the detectors: on graphs of thousands of nodes it is also
    the fastest, as OpenMP threads mostly wait for each other on a busy machine).
    On CUDA some kernels (scatter sums with atomics) have no deterministic version: torch
    then warns, and results may differ in the last bits between runs.
    """
    torch, _ = torch_modules()
    if not isinstance(threads, int | np.integer) or isinstance(threads, bool) or threads < 1:
        raise ConfigError(f"threads must be an integer >= 1, got {threads!r}")
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        was = torch.are_deterministic_algorithms_enabled()
        was_warn = torch.is_deterministic_algorithms_warn_only_enabled()
        was_threads = torch.get_num_threads()
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.set_num_threads(int(threads))
        try:
            yield
        finally:
            torch.set_num_threads(was_threads)
            torch.use_deterministic_algorithms(was, warn_only=was_warn)


def scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations of a feature matrix (1 for a constant column)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return np.zeros(x.shape[1]), np.ones(x.shape[1])
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    return mean, np.where(std > 1e-12, std, 1.0)


def scale(x: np.ndarray, mean: np.ndarray, std: np.ndarray, clip: float = 10.0) -> np.ndarray:
    """Standardise ``x`` with a training set's ``mean`` and ``std``, clipped to
    ``[-clip, clip]`` (a value far outside the training range must not dominate), float32."""
    z = (np.nan_to_num(np.asarray(x, dtype=np.float64)) - mean) / std
    return np.clip(z, -clip, clip).astype(np.float32)


def class_weights(y: np.ndarray, illicit_weight) -> tuple[float, float]:
    """Loss weights ``(licit, illicit)``: ``"balanced"`` weighs both classes equally in
    total; a number ``w`` in (0, 1) gives ``(1 - w, w)``."""
    if isinstance(illicit_weight, str):
        if illicit_weight != "balanced":
            raise ConfigError(f"illicit_weight must be 'balanced' or a number in (0, 1), got "
                              f"{illicit_weight!r}")
        n, pos = len(y), int(np.count_nonzero(y))
        return n / (2.0 * max(n - pos, 1)), n / (2.0 * max(pos, 1))
    w = float(illicit_weight)
    if not 0.0 < w < 1.0:
        raise ConfigError(f"illicit_weight must be 'balanced' or a number in (0, 1), got {w}")
    return 1.0 - w, w
