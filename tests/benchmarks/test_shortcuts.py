"""Shortcut baselines stay near chance on every preset (a leak test of the generator).

Each laundering preset is generated small; the five shortcut baselines (random, degree,
amount, address age, a classifier on raw per-transaction fields) are run and evaluated.

* Tracing (rank every address from the announced theft): every shortcut's ROC-AUC must lie
  within ``CHANCE_TOLERANCE`` of 0.5. A failure names the preset, the shortcut and the task.
* Classification (laundering versus benign on the test part of the temporal split): known to
  leak on most presets (issue #5, README "Known limitations"). The presets put the benign
  traffic on the incidents' chains and assets (``economy.footprint``), add benign twins of
  every incident (``difficulty.twin_share``) and spread fan-out parts (``split_sigma``), but
  the laundering's transaction values still sit in a narrower band than the benign ones (the
  raw-transaction classifier, the amount shortcut). Each case is reported as an expected
  failure (``pytest -rx`` prints the measured ROC-AUCs); a preset within the band passes (at
  generator 0.5.0, hard-v1 and medium-v1). It fails outright if the task is undefined (no
  laundering in the test part of the split). ``python -m benchmarks.leak_survey --placebos
  10`` puts each result beside placebos (:mod:`benchmarks.placebo`: a benign twin labelled as
  the laundering), which land beyond the band more often than the real laundering does.
"""

import pytest

from benchmarks.baselines import CHANCE_TOLERANCE, SHORTCUTS, chance_violations
from benchmarks.runner import DetectorSpec, RunConfig, run_config
from benchmarks.suites import ScenarioRun, laundering_presets

PRESETS = laundering_presets()
CLASSIFICATION = ("classification/address", "classification/transaction")


def test_chance_violations_flags_leaks_both_ways():
    base = {"scenario": "x", "seed": 0, "status": "ok", "group": "all",
            "task": "tracing/address", "metric": "roc_auc"}
    rows = [dict(base, detector="amount", value=0.9), dict(base, detector="degree", value=0.2),
            dict(base, detector="random", value=0.55), dict(base, detector="ppr", value=0.99),
            dict(base, detector="amount", value=0.9, group="chain=bitcoin"),
            dict(base, detector="amount", value=0.9, task="classification/address")]
    v = chance_violations(rows)
    assert len(v) == 3 and "amount" in v[0] and "degree" in v[1]
    assert len(chance_violations(rows, tasks=("tracing/address",))) == 2


@pytest.fixture(scope="module")
def shortcut_rows(tmp_path_factory):
    cache = {}

    def rows(preset):
        if preset not in cache:
            mp = pytest.MonkeyPatch()
            mp.setenv("LAUNDERBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
            try:
                cfg = RunConfig(suite="leak-test",
                                scenarios=[ScenarioRun(preset, {"transactions": 4000})],
                                seeds=[0], detectors=[DetectorSpec(d) for d in SHORTCUTS],
                                memory=False)
                cache[preset] = run_config(cfg, progress=False).rows
            finally:
                mp.undo()
        return cache[preset]
    return rows


@pytest.mark.skipif(not PRESETS, reason="no laundering presets registered")
@pytest.mark.parametrize("preset", PRESETS)
def test_shortcuts_near_chance_on_tracing(preset, shortcut_rows):
    rows = shortcut_rows(preset)
    assert all(r["status"] == "ok" for r in rows)
    assert any(r["task"] == "tracing/address" and r["metric"] == "roc_auc" for r in rows)
    bad = chance_violations(rows, tasks=("tracing/address",))
    assert not bad, (f"shortcuts beyond 0.5 +- {CHANCE_TOLERANCE} on {preset}: "
                     + "; ".join(bad))


@pytest.mark.skipif(not PRESETS, reason="no laundering presets registered")
@pytest.mark.parametrize("preset", PRESETS)
def test_shortcuts_near_chance_on_classification(preset, shortcut_rows):
    rows = shortcut_rows(preset)
    # the classification task is defined: laundering reaches the test part of the split
    defined = [r for r in rows if r["task"] in CLASSIFICATION and r["metric"] == "roc_auc"
               and r["group"] == "all" and r["value"] == r["value"]]
    assert defined, f"{preset}: no laundering in the test part of the temporal split"
    bad = chance_violations(rows, tasks=CLASSIFICATION)
    if bad:
        pytest.xfail("known classification leak (issue #5): " + "; ".join(bad))
