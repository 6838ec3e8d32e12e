"""The leak survey: its table arithmetic on known figures, and one small real run."""

import pytest

from launderbench.benchmarks.leak_survey import (
    main,
    placebo_survey,
    pooled,
    pooled_table,
    survey,
    table,
)


def test_table_counts_results_beyond_the_band():
    res = {("amount", "tracing/address"): [0.5, 0.7, 0.2],
           ("degree", "classification/address"): [0.6]}
    lines = table(res, tol=0.15).splitlines()
    assert lines[0].split()[:2] == ["shortcut", "task"]
    amount = next(ln for ln in lines if ln.startswith("amount")).split()
    # n, mean, mean|d|, max|d|, beyond
    assert amount[2:] == ["3", "0.467", "0.167", "0.300", "2"]
    degree = next(ln for ln in lines if ln.startswith("degree")).split()
    assert degree[2:] == ["1", "0.600", "0.100", "0.100", "0"]


def _rec(preset, detector, task, seed, real):
    return {"preset": preset, "seed": seed, "detector": detector, "task": task, "real": real,
            "placebos": []}


def test_pooled_means_over_seeds_tell_a_steady_leak_from_spread():
    c, t = "classification/address", "tracing/address"
    recs = ([_rec("a", "amount", c, s, v) for s, v in enumerate([0.8, 0.75, 0.7])]    # steady
            + [_rec("b", "amount", c, s, v) for s, v in enumerate([0.8, 0.3, 0.55])]  # spread
            + [_rec("a", "degree", t, s, v) for s, v in enumerate([0.5, 0.6, 0.9])])
    rows = {(r["preset"], r["detector"], r["task"]): r for r in pooled(recs, tol=0.15)}
    assert rows[("a", "amount", c)]["mean"] == pytest.approx(0.75)
    assert rows[("a", "amount", c)]["beyond"] == 3 and rows[("a", "amount", c)]["n"] == 3
    assert rows[("b", "amount", c)]["mean"] == pytest.approx(0.55)
    assert rows[("b", "amount", c)]["beyond"] == 2
    assert rows[("a", "degree", t)]["mean"] == pytest.approx(2.0 / 3)
    text = pooled_table(recs, tol=0.15).splitlines()
    # task, means, means beyond, results, results beyond
    assert next(ln for ln in text if ln.startswith(c)).split()[1:] == ["2", "1", "6", "5"]
    assert next(ln for ln in text if ln.startswith(t)).split()[1:] == ["1", "1", "3", "1"]
    named = [ln for ln in text if ln.startswith("  ")]
    assert len(named) == 2 and "a: amount on classification/address: 0.75" in named[0]
    assert not any(ln.startswith("means beyond") for ln in pooled_table(recs[3:6]).splitlines())


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path))


def test_survey_runs_every_shortcut_on_a_preset(capsys):
    res, failed = survey(seeds=1, transactions=2000, presets=["easy-v1"])
    assert not failed
    dets = {d for d, _ in res}
    assert dets == {"degree", "amount", "address-age", "raw-tx-classifier"}
    assert all(0.0 <= v <= 1.0 for vs in res.values() for v in vs)
    assert ("degree", "tracing/address") in res
    assert main(["--seeds", "1", "--transactions", "2000", "--scenario", "easy-v1"]) == 0
    out = capsys.readouterr().out
    assert "raw-tx-classifier" in out and "mean over" not in out  # one seed: nothing to pool


def test_survey_records_every_result_and_pools_two_seeds(capsys):
    res, records, failed = placebo_survey(seeds=2, transactions=2000, presets=["easy-v1"],
                                          placebos=0)
    assert not failed
    assert len(records) == sum(len(v) for v in res.values())
    assert {r["seed"] for r in records} == {0, 1}
    assert all(r["placebos"] == [] for r in records)
    assert {p["n"] for p in pooled(records)} == {2}
    assert main(["--seeds", "2", "--transactions", "2000", "--scenario", "easy-v1"]) == 0
    out = capsys.readouterr().out
    assert "the mean over 2 seeds" in out and "classification/transaction" in out.split(
        "mean over 2 seeds")[1]


@pytest.fixture
def seen_overrides(monkeypatch):
    """The scenario overrides every run of the survey passes to the runner."""
    import launderbench.benchmarks.leak_survey as ls

    seen = []
    real = ls.run_config

    def spy(cfg, progress=False):
        seen.extend(s.overrides for s in cfg.scenarios)
        return real(cfg, progress=progress)

    monkeypatch.setattr(ls, "run_config", spy)
    return seen


def test_survey_footprint_override_reaches_the_generator(seen_overrides):
    seen = seen_overrides
    res, failed = survey(seeds=1, transactions=2000, presets=["easy-v1"], footprint="incidents")
    assert not failed and res
    assert seen == [{"transactions": 2000, "footprint": "incidents"}]


def test_survey_difficulty_overrides_reach_the_generator(seen_overrides):
    """``--footprint fixed --twin-share 0.3 --split-sigma 0``: the presets with 0.4.0's settings."""
    seen = seen_overrides
    assert main(["--seeds", "1", "--transactions", "2000", "--scenario", "easy-v1",
                 "--footprint", "fixed", "--twin-share", "0.3", "--split-sigma", "0"]) == 0
    assert seen == [{"transactions": 2000, "footprint": "fixed",
                     "difficulty": {"twin_share": 0.3, "split_sigma": 0.0}}]
