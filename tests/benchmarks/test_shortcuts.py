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
  laundering in the test part of the split). ``python -m launderbench.benchmarks.leak_survey --placebos
  10`` puts each result beside placebos (:mod:`launderbench.benchmarks.placebo`: a benign twin labelled as
  the laundering), which land beyond the band more often than the real laundering does.
* Placebos (strict): over every preset, a shortcut must not separate the real laundering
  better than all of its placebos more often than chance allows (a laundering-specific leak).
"""

import pytest

from launderbench.benchmarks.chance import CHANCE_TOLERANCE, SHORTCUTS, chance_violations
from launderbench.benchmarks.runner import DetectorSpec, RunConfig, run_config
from launderbench.benchmarks.suites import ScenarioRun, laundering_presets

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


SIZE = {"transactions": 4000}


@pytest.fixture(scope="module")
def shortcut_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def shortcut_rows(shortcut_cache):
    cache = {}

    def rows(preset):
        if preset not in cache:
            mp = pytest.MonkeyPatch()
            mp.setenv("LAUNDERBENCH_CACHE", str(shortcut_cache))
            try:
                cfg = RunConfig(suite="leak-test", scenarios=[ScenarioRun(preset, SIZE)],
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


#: placebos per preset in the placebo test, and its significance level
PLACEBOS = 10
ALPHA = 0.001


@pytest.mark.skipif(not PRESETS, reason="no laundering presets registered")
def test_shortcuts_single_out_laundering_no_more_often_than_benign_twins(shortcut_rows,
                                                                         shortcut_cache):
    """A laundering-specific leak: on the classification tasks, a shortcut separates the
    real laundering better than it separates every one of its placebos (benign twins
    labelled as the laundering, :mod:`launderbench.benchmarks.placebo`) more often than chance allows.

    With k exchangeable placebos the real result is the most extreme of the k + 1 with
    probability 1 / (k + 1) <= 0.1 (k >= 9). Per shortcut, over every preset and both levels
    at seed 0, the count of such results must stay within the binomial (n, 0.1) quantile at
    1 - ALPHA. Datasets with fewer than 9 qualifying twins (Bybit) are left out. A trait that
    laundering has and its twins lack, strong enough to set it apart on most presets, fails
    this test: with a fixed fee rate and Pyongyang office hours for the laundering only (a
    planted leak, measured once), the raw classifier reaches 0.92-1.00 and is set apart on 13
    results (limit 6). It has little power against a subtle trait: a placebo's ROC-AUC spreads
    over 0.4-0.95 at this size, and office hours alone (``fp_time_of_day`` 1.0, which twins
    never have) raise the raw classifier to 0.81-0.94 but set it apart on 6 results only.
    """
    from scipy.stats import binom

    from launderbench.benchmarks.chance import shortcut_aucs
    from launderbench.benchmarks.placebo import placebo_aucs, placebo_p
    from launderbench.benchmarks.suites import load_dataset

    names = [d for d in SHORTCUTS if d != "random"]
    n = dict.fromkeys(names, 0)
    extreme: dict[str, list[str]] = {d: [] for d in names}
    for preset in PRESETS:
        real = {(r["detector"], r["task"]): r["value"]
                for r in shortcut_aucs(shortcut_rows(preset), tasks=CLASSIFICATION)}
        ds = load_dataset(ScenarioRun(preset, SIZE), 0, cache=shortcut_cache)
        placebos = placebo_aucs(ds, names, k=PLACEBOS)
        for (det, task), value in sorted(real.items()):
            pl = placebos.get((det, task), [])
            if det not in n or len(pl) < 9:
                continue
            n[det] += 1
            if placebo_p(value, pl) <= 1.0 / (len(pl) + 1) + 1e-9:
                extreme[det].append(f"{preset} on {task}: {value:.2f}, placebos "
                                    f"{min(pl):.2f}-{max(pl):.2f}")
    assert min(n.values()) >= 10, f"too few results with enough placebos: {n}"
    bad = []
    for det in names:
        limit = int(binom.ppf(1 - ALPHA, n[det], 0.1))
        if len(extreme[det]) > limit:
            bad.append(f"{det}: {len(extreme[det])} of {n[det]} (chance allows {limit}): "
                       + "; ".join(extreme[det]))
    assert not bad, "shortcuts set laundering apart from its placebos: " + " | ".join(bad)
