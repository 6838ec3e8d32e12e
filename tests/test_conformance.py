"""Every registered detector, baselines included, passes every conformance check
(:mod:`launderbench.detectors.testing`), one test case per detector and check: registering a
detector is all it takes to have it checked.

Some detectors are also checked with non-default parameters that change their code path.
"""

from __future__ import annotations

from launderbench import detectors
from launderbench.detectors.testing import detector_checks, parametrize_with_checks

REGISTERED = sorted(detectors.list_detectors())
TRACERS = ("poison", "haircut", "fifo", "lifo", "tiho")
VARIANTS = [
    *(detectors.make(name, max_hops=2, stop_at_services=False) for name in TRACERS),
    detectors.make("cluster-expansion", heuristics=("multi-input", "change")),
]


def test_every_builtin_detector_is_registered():
    from launderbench.detectors.registry import BUILTIN

    assert len(REGISTERED) >= len(BUILTIN)
    for name in REGISTERED:
        assert "unavailable" not in detectors.list_detectors()[name], name


def test_every_detector_gets_every_check():
    n = len(list(detector_checks(detectors.make("random"))))
    assert n >= 9


@parametrize_with_checks([detectors.make(name) for name in REGISTERED] + VARIANTS)
def test_detector_conforms(detector, check):
    check(detector)
