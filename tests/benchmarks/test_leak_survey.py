"""The leak survey: its table arithmetic on known figures, and one small real run."""

import pytest

from benchmarks.leak_survey import main, survey, table


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
    assert "raw-tx-classifier" in capsys.readouterr().out


@pytest.fixture
def seen_overrides(monkeypatch):
    """The scenario overrides every run of the survey passes to the runner."""
    import benchmarks.leak_survey as ls

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
