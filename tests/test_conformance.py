"""Every registered detector, baselines included, passes every conformance check
(:mod:`launderbench.detectors.testing`), one test case per detector and check: registering a
detector is all it takes to have it checked.

Some detectors are also checked with non-default parameters that change their code path.
A detector that needs an optional extra which is not installed (the graph neural networks
without torch) gets one skipped case that says so.
"""

from __future__ import annotations

import pytest

from launderbench import detectors
from launderbench.detectors.testing import detector_checks, parametrize_with_checks

_STATUS = {name: detectors.available(name) for name in sorted(detectors.list_detectors())}
REGISTERED = [name for name, (ok, _) in _STATUS.items() if ok]
#: registered detectors that cannot run here, with the reason
UNAVAILABLE = {name: why for name, (ok, why) in _STATUS.items() if not ok}
TRACERS = ("poison", "haircut", "fifo", "lifo", "tiho")
VARIANTS = [
    *(detectors.make(name, max_hops=2, stop_at_services=False) for name in TRACERS),
    detectors.make("cluster-expansion", heuristics=("multi-input", "change")),
]


def test_every_builtin_detector_is_registered():
    from launderbench.detectors.registry import BUILTIN

    assert len(REGISTERED) + len(UNAVAILABLE) >= len(BUILTIN)
    for name in REGISTERED:
        assert "unavailable" not in detectors.list_detectors()[name], name
    for name, why in UNAVAILABLE.items():  # only an optional extra may be missing
        assert detectors.registry.load(name)._tag("requires"), (name, why)
        assert "pip install 'launderbench[" in why, (name, why)


def test_every_detector_gets_every_check():
    n = len(list(detector_checks(detectors.make("random"))))
    assert n >= 9


@parametrize_with_checks([detectors.make(name) for name in REGISTERED] + VARIANTS)
def test_detector_conforms(detector, check):
    check(detector)


@pytest.mark.parametrize("name", sorted(UNAVAILABLE) or [
    pytest.param(None, marks=pytest.mark.skip(reason="every registered detector can run"))])
def test_unavailable_detector_is_skipped(name):
    pytest.skip(f"conformance of '{name}' not checked: {UNAVAILABLE[name]}")
