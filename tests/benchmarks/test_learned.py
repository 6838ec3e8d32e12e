"""The learned-detector study: the two protocols side by side and the generalisation table
(:mod:`launderbench.benchmarks.learned`)."""

from __future__ import annotations

import math

import pytest

from launderbench.benchmarks import learned
from launderbench.benchmarks.runner import run
from launderbench.benchmarks.suites import ScenarioRun


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LAUNDERBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    scen = [ScenarioRun("easy-v1", {"transactions": 2500}),
            ScenarioRun("ronin-2022-v1", {"transactions": 2500})]
    cfgs = learned.study_configs(scen, [0], 1, ["raw-tx-classifier"], scen)
    jobs = learned.unique_jobs(cfgs)
    yield cfgs, jobs, run(jobs, progress=False).rows
    mp.undo()


def test_the_study_runs_each_job_once(study):
    cfgs, jobs, _ = study
    assert set(cfgs) == {"transductive", "inductive", "generalisation:easy-v1[transactions=2500]",
                         "generalisation:ronin-2022-v1[transactions=2500]"}
    # 2 scenarios x (1 learned + 4 shortcuts) transductive, 2 inductive (= the diagonal),
    # 2 off the diagonal
    assert len(jobs) == 2 * 5 + 2 + 2


def test_protocol_table_keeps_own_scenario_training_apart(study):
    _, _, rows = study
    table = learned.protocol_table(rows)
    assert {r["metric"] for r in table} == {"addr PR-AUC", "tx PR-AUC"}
    for r in table:
        for col in ("raw-tx-classifier (transductive)", "raw-tx-classifier (inductive)",
                    "best shortcut"):
            assert not math.isnan(r[col][0]), (r["scenario"], col)
    own = {(r["scenario"], r["value"]) for r in rows if r.get("protocol") == "inductive"
           and r["trained_on"].startswith(r["scenario"] + " seed")
           and r["task"] == "classification/address" and r["metric"] == "pr_auc"
           and r["group"] == "all"}
    for r in table:
        if r["metric"] == "addr PR-AUC":
            assert (r["scenario"], r["raw-tx-classifier (inductive)"][0]) in own


def test_generalisation_table_and_markdown(study):
    _, _, rows = study
    g = learned.generalisation_table(rows, "raw-tx-classifier")
    assert set(g) == {"easy-v1[transactions=2500] seed 1", "ronin-2022-v1[transactions=2500] seed 1"}
    for tr in g:
        assert set(g[tr]) == {"easy-v1[transactions=2500]", "ronin-2022-v1[transactions=2500]"}
    md = learned.format_markdown(rows, ["raw-tx-classifier"])
    assert "## Generalisation: `raw-tx-classifier`" in md
    assert "| trained on \\ tested | easy-v1 | ronin-2022-v1 |" in md


def test_learned_detectors_lists_the_label_learners():
    names = learned.learned_detectors()
    assert "raw-tx-classifier" in names
    assert "degree" not in names


def test_main_refuses_bad_input(tmp_path, capsys):
    assert learned.main(["--seeds", "0", "--label-share", "3", "--out",
                         str(tmp_path / "o")]) == 2
    assert "label share" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("seeds", ["", "a", "-1"])
def test_main_refuses_bad_seeds(tmp_path, capsys, seeds):
    assert learned.main(["--seeds", seeds, "--out", str(tmp_path / "o")]) == 2
    assert "--seeds" in capsys.readouterr().err
