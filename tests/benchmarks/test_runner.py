"""The runner: tidy rows, failed detectors as rows, exact reproduction, executors, the CLI."""

import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import numpy as np
import pytest

from launderbench import detectors
from launderbench.benchmarks.cli import main
from launderbench.benchmarks.runner import (
    COLUMNS,
    DetectorSpec,
    Results,
    RunConfig,
    compare,
    run_config,
)
from launderbench.benchmarks.suites import TOY_ID, ScenarioRun
from launderbench.detectors.base import Detector, Scores
from launderbench.simulator.errors import ConfigError

TOY = ScenarioRun(TOY_ID, {"transactions": 300, "users": 40, "n_incidents": 5})
DETS = ["random", "degree", "amount", "ppr", "raw-tx-classifier"]


class Exploding(Detector):
    """Raises in score (test double)."""

    name: ClassVar[str] = "exploding"
    description: ClassVar[str] = "always fails"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False, "outputs": ("address",)}

    def __init__(self):
        pass

    def _score(self, view):
        raise RuntimeError("boom\nsecond line")


class TxOnly(Detector):
    """Scores transactions by their row number (test double)."""

    name: ClassVar[str] = "tx-only"
    description: ClassVar[str] = "transaction scores only"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("transaction",)}

    def __init__(self):
        pass

    def _score(self, view):
        return Scores(transaction=np.arange(view.n_transactions, dtype=float))


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    import os

    os.environ["LAUNDERBENCH_CACHE"] = str(tmp_path_factory.getbasetemp() / "cache")
    detectors.register("exploding", Exploding, overwrite=True)
    detectors.register("tx-only", TxOnly, overwrite=True)
    cfg = RunConfig(suite="test", scenarios=[TOY], seeds=[0, 1],
                    detectors=[DetectorSpec(d) for d in DETS + ["exploding", "tx-only"]]
                    + [DetectorSpec("ppr", {"alpha": 0.5})])
    return run_config(cfg, progress=False)


def test_rows_are_tidy_and_complete(result):
    rows = result.rows
    assert rows and all(set(r) == set(COLUMNS) for r in rows)
    ok = [r for r in rows if r["status"] == "ok"]
    assert {r["seed"] for r in ok} == {0, 1}
    assert {r["task"] for r in ok} >= {"classification/address", "classification/transaction",
                                       "tracing/address", "typology", "linking"} - {"linking"}
    groups = {r["group"] for r in ok}
    assert {"all", "incident=0", "chain=ethereum", "chain=tron", "typology=fan_out",
            "stage=integration"} <= groups
    r = ok[0]
    assert r["scenario"].startswith("toy-laundering-v1[") and len(r["dataset_hash"]) == 64
    assert r["fit_s"] >= 0 and r["score_s"] >= 0 and r["peak_mem_mb"] >= 0
    assert "numpy" in json.loads(r["versions"])
    # parameters are recorded as the detector reports them
    ppr = {r["params"] for r in ok if r["detector"] == "ppr"}
    assert len(ppr) == 2 and any('"alpha": 0.5' in p for p in ppr)


def test_failed_detector_is_one_row_with_its_error(result):
    bad = [r for r in result.rows if r["detector"] == "exploding"]
    assert len(bad) == 2  # one per seed
    assert all(r["status"] == "failed" and r["error"] == "RuntimeError: boom" for r in bad)
    assert all(math.isnan(r["value"]) for r in bad)


def test_derived_levels_and_supervised_scope(result):
    tx_only = [r for r in result.rows if r["detector"] == "tx-only" and r["status"] == "ok"]
    assert {r["derived"] for r in tx_only if r["task"] == "classification/address"} == {True}
    assert {r["derived"] for r in tx_only if r["task"] == "typology"} == {False}
    sup = {r["task"] for r in result.rows if r["detector"] == "raw-tx-classifier"}
    assert sup == {"classification/address", "classification/transaction"}


def test_random_baseline_is_near_chance_on_the_toy(result):
    vals = [r["value"] for r in result.rows if r["detector"] == "random"
            and r["group"] == "all" and r["metric"] == "roc_auc" and not math.isnan(r["value"])]
    assert vals and all(abs(v - 0.5) < 0.25 for v in vals)


def test_rerun_reproduces_every_score_and_executors_agree(result, tmp_path):
    result.save(tmp_path / "run")
    loaded = Results.load(tmp_path / "run")
    assert compare(result, loaded) == []
    cfg = RunConfig.load(tmp_path / "run")
    with ThreadPoolExecutor(max_workers=2) as ex:
        again = run_config(cfg, executor=ex, progress=False)
    assert compare(result, again) == []
    # a changed parameter is caught
    cfg.detectors = [DetectorSpec("random", {"seed": 1})]
    other = run_config(cfg, progress=False)
    assert compare(result, other)


def test_detector_from_an_entry_point_string():
    cfg = RunConfig(suite="t", scenarios=[TOY], seeds=[0],
                    detectors=[DetectorSpec.parse("launderbench.detectors.baselines:RandomScores@seed=3")])
    rows = run_config(cfg, progress=False).rows
    assert {r["status"] for r in rows} == {"ok"}
    assert rows[0]["detector"] == "launderbench.detectors.baselines:RandomScores"
    assert json.loads(rows[0]["params"]) == {"seed": 3}


def test_config_errors():
    with pytest.raises(ConfigError, match="bad detector parameter"):
        DetectorSpec.parse("ppr@alpha")
    assert DetectorSpec.parse("ppr@alpha=0.5,direction=both").params == {
        "alpha": 0.5, "direction": "both"}
    with pytest.raises(ConfigError, match="unknown suite"):
        RunConfig.from_suite("quik")
    with pytest.raises(ConfigError, match="malformed"):
        RunConfig.from_dict({"scenarios": [{}]})


def test_cli_run_writes_results_and_report(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["run", "--scenario", TOY_ID, "-n", "200", "--detector", "random",
              "--detector", "degree", "--seeds", "0", "--out", str(out), "--no-memory"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "random *" in text and "report:" in text
    for f in ("results.parquet", "results.csv", "config.json", "curves.json",
              "report/index.html", "report/report.md", "report/pr_tracing_address.png",
              "report/typology_heatmap.png", "report/runtime.png", "report/incident.png"):
        assert (out / f).is_file(), f
    assert "| detector |" in (out / "report/report.md").read_text()
    with pytest.raises(SystemExit) as e:
        main(["reproduce", str(out), "-q"])
    assert e.value.code == 0
    assert "reproduced all" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["run", "--suite", "nope", "-q"])
    assert e.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_quick_suite_runs_in_seconds():
    cfg = RunConfig.from_suite("quick", detectors=["random", "haircut"])
    assert cfg.scenarios[0].id == TOY_ID and cfg.seeds == [0]
    res = run_config(cfg, progress=False)
    assert {r["status"] for r in res.rows} == {"ok"}
    assert {r["scenario"].split("[")[0] for r in res.rows} == {s.id for s in cfg.scenarios}
    haircut = [r["value"] for r in res.rows if r["detector"] == "haircut"
               and r["task"] == "tracing/address" and r["group"] == "all"
               and r["metric"] == "recall@k"]
    assert haircut and all(v > 0 for v in haircut)


def test_report_has_a_validity_section(tmp_path):
    from launderbench.benchmarks.report import write_report
    from launderbench.benchmarks.runner import Results

    base = {"suite": "s", "scenario": "x-v1", "status": "ok", "group": "all",
            "task": "classification/transaction", "metric": "roc_auc", "params": "{}",
            "fit_s": 0.0, "score_s": 0.0, "peak_mem_mb": 1.0, "derived": False,
            "n_transactions": 100, "error": ""}
    rows = []
    for seed, (amount, fifo) in enumerate([(0.91, 0.8), (0.89, 0.9)]):
        rows += [dict(base, seed=seed, detector="amount", value=amount),
                 dict(base, seed=seed, detector="random", value=0.5),
                 dict(base, seed=seed, detector="fifo", value=fifo),
                 dict(base, seed=seed, detector="fifo", value=fifo, metric="pr_auc"),
                 dict(base, seed=seed, detector="amount", value=0.3, metric="pr_auc")]
    out = write_report(Results(rows=rows, curves=[]), tmp_path / "r")
    md = (out / "report.md").read_text()
    assert "## Validity" in md and "## Leak check" not in md
    assert "| x-v1 | 0.500 ± 0.00 | **0.900 ± 0.13** |" in md  # amount beyond the band, bold
    assert "beats every one-feature shortcut on 1 of 1" in md
    assert "| x-v1 | classification/transaction | fifo | 0.850 | amount | 0.300 | +0.550 |" in md
    html = (out / "index.html").read_text()
    assert "<h2>Validity</h2>" in html and "<strong>0.900 ± 0.13</strong>" in html
    assert "`" not in html.split("<body>")[1]  # Markdown is rendered, not shown raw


def test_run_output_reads_the_validity_gates(tmp_path, capsys):
    from launderbench.benchmarks.commands import _finish
    from launderbench.benchmarks.runner import Results

    base = {"suite": "s", "scenario": "x-v1", "seed": 0, "status": "ok", "group": "all",
            "task": "tracing/address", "metric": "roc_auc", "params": "{}",
            "fit_s": 0.0, "score_s": 0.0, "peak_mem_mb": 1.0, "derived": False,
            "n_transactions": 100, "error": ""}
    placebos = [{"detector": "degree", "task": "tracing/address", "real": 0.8,
                 "placebos": [0.5, 0.55, 0.6], "percentile": 100.0, "set_apart": True,
                 "scenario": "x-v1", "seed": 0}]
    _finish(Results(rows=[dict(base, detector="degree", value=0.8)], curves=[],
                    placebos=placebos), tmp_path / "o", quiet=True, example=False)
    out = capsys.readouterr().out
    assert "leak check: 1 one-feature shortcut result(s) beyond 0.5 ± 0.15" in out
    assert "placebos: 1 of 1 baseline results set apart from their benign look-alikes " \
           "(0.2 by chance" in out
    # classification beyond the band is information (the report), not a gate
    _finish(Results(rows=[dict(base, detector="degree", value=0.8,
                               task="classification/address")], curves=[]),
            tmp_path / "p", quiet=True, example=False)
    out = capsys.readouterr().out
    assert "leak check" not in out and "placebos:" not in out


def test_dataset_cache_key_follows_the_generator_code(monkeypatch, tmp_path):
    # a cached dataset made by other generator code is never reused: the key holds a hash of
    # the simulator's sources and presets
    from launderbench.benchmarks import suites

    run = suites.ScenarioRun("easy-v1", {"transactions": 2000})
    a = suites.dataset_path(run, 0, tmp_path)
    assert a == suites.dataset_path(run, 0, tmp_path)  # stable
    assert a != suites.dataset_path(run, 1, tmp_path)
    suites.generator_fingerprint.cache_clear()
    monkeypatch.setattr(suites, "generator_fingerprint", lambda: "other-code")
    assert suites.dataset_path(run, 0, tmp_path) != a


def test_run_exits_1_when_a_detector_fails_and_still_writes_results(tmp_path, capsys):
    detectors.register("exploding", Exploding, overwrite=True)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["run", "--scenario", TOY_ID, "-n", "200", "--detector", "random",
              "--detector", "exploding", "--seeds", "0", "--out", str(out), "--no-memory",
              "-q"])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "failed: exploding on" in err and "RuntimeError: boom" in err
    assert (out / "results.parquet").is_file() and (out / "report/index.html").is_file()


@pytest.mark.parametrize("spec,needle", [
    ("ppr@alpha=5", "alpha must be in (0, 1)"),
    ("haircut@max_hops=abc", "max_hops"),
    ("haircut@budget=3", "has no parameter 'budget'"),
    ("no-such-detector", "unknown detector"),
])
def test_bad_detector_parameters_stop_the_run_before_any_work(tmp_path, capsys, spec, needle):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["run", "--scenario", TOY_ID, "-n", "200", "--detector", spec, "--seeds", "0",
              "--out", str(out), "-q"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err
    assert not out.exists()


class CompilesOnce(Detector):
    """Spends 0.5 s the first time it scores in a process, as a just-in-time compiled kernel
    does (test double)."""

    name: ClassVar[str] = "compiles-once"
    description: ClassVar[str] = "slow first call"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False, "outputs": ("address",)}
    compiled: ClassVar[bool] = False

    def __init__(self):
        pass

    def _score(self, view):
        import time

        if not CompilesOnce.compiled:
            time.sleep(0.5)
            CompilesOnce.compiled = True
        return Scores(address=np.zeros(view.n_addresses))


def test_timings_exclude_compilation(monkeypatch):
    from launderbench.benchmarks import runner

    monkeypatch.setattr(runner, "_WARM", {})
    monkeypatch.setattr(CompilesOnce, "compiled", False)
    detectors.register("compiles-once", CompilesOnce, overwrite=True)
    cfg = RunConfig(suite="t", scenarios=[TOY], seeds=[0, 1],
                    detectors=[DetectorSpec("compiles-once")], memory=False)
    rows = run_config(cfg, progress=False).rows
    by_seed = {r["seed"]: r for r in rows}
    # the warm-up before the first run in the process holds the "compilation", recorded
    # apart; neither timed pass holds it
    assert by_seed[0]["warmup_s"] >= 0.5 and by_seed[1]["warmup_s"] >= 0.5
    for r in by_seed.values():
        assert r["fit_s"] + r["score_s"] < 0.5


class Constant(Detector):
    """Scores every address the same (test double: finds nothing)."""

    name: ClassVar[str] = "constant"
    description: ClassVar[str] = "one tie"
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False, "outputs": ("address",)}

    def __init__(self):
        pass

    def _score(self, view):
        return Scores(address=np.full(view.n_addresses, 0.5))


def test_a_detector_that_finds_nothing_says_so(tmp_path):
    from launderbench.benchmarks.leaderboard import format_table, leaderboard, scenario_boards
    from launderbench.benchmarks.report import write_report

    detectors.register("constant", Constant, overwrite=True)
    cfg = RunConfig(suite="t", scenarios=[TOY], seeds=[0, 1],
                    detectors=[DetectorSpec("constant"), DetectorSpec("degree")], memory=False)
    res = run_config(cfg, progress=False)
    found = {r["detector"]: r["detections"] for r in res.rows
             if r["task"] == "classification/address" and r["group"] == "all"}
    assert found["constant"] == 0 and found["degree"] > 0
    board = {r["detector"]: r for r in leaderboard(res)}
    assert board["constant"]["no detections"] == "1 of 1"
    assert board["degree"]["no detections"] == ""
    (scen,) = scenario_boards(res).values()
    row = next(r for r in scen if r["detector"] == "constant")
    assert row["addr PR-AUC"] == "no detections"
    assert "1 of 1" in format_table(leaderboard(res))
    md = (write_report(res, tmp_path / "r") / "report.md").read_text()
    assert "| no detections |" in md


def test_results_are_written_atomically_and_read_back_safely(tmp_path, capsys):
    res = Results(rows=[], curves=[])
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="notes.txt"):
        res.save(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    good = tmp_path / "good"
    res.save(good, also=lambda d: (d / "report").mkdir())
    assert {p.name for p in good.iterdir()} == {"results.parquet", "results.csv",
                                                "curves.json", "report"}

    def boom(d):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # interrupted while writing: the old one stays
        Results(rows=[], curves=[{"x": 1}]).save(good, also=boom)
    assert (good / "curves.json").read_text() == "[]\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good", "out"]
    # truncated or corrupt files are one-line errors
    (good / "curves.json").write_text("{not json")
    with pytest.raises(ConfigError, match="corrupt .*curves.json"):
        Results.load(good)
    (good / "results.parquet").write_bytes(b"")
    with pytest.raises(ConfigError, match="corrupt results file"):
        Results.load(good)
    with pytest.raises(SystemExit) as e:
        main(["reproduce", str(good), "-q"])
    assert e.value.code == 2 and capsys.readouterr().err.count("\n") == 1
    assert not (good / "reproduced").exists()


def test_two_processes_filling_one_cache_entry_both_succeed(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from launderbench.benchmarks.suites import ScenarioRun, "
            "ensure_dataset; from pathlib import Path; "
            "print(ensure_dataset(ScenarioRun('benign-v1', {'transactions': 3000}), 0, "
            "Path(sys.argv[1])))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    assert len({o.strip() for o, _ in outs}) == 1
    from launderbench.simulator.dataset import Dataset

    assert Dataset.load(outs[0][0].strip()).transactions.num_rows > 0


def test_a_run_reads_its_baselines_against_placebos(tmp_path):
    from launderbench.benchmarks.report import write_report

    cfg = RunConfig(suite="t", scenarios=[ScenarioRun("easy-v1", {"transactions": 3000})],
                    seeds=[0], detectors=[DetectorSpec("amount"), DetectorSpec("haircut")],
                    memory=False, placebos=3)
    res = run_config(cfg, progress=False)
    assert res.placebos and {r["detector"] for r in res.placebos} == {"amount"}
    r = res.placebos[0]
    assert {"task", "real", "placebos", "percentile", "set_apart", "scenario", "seed"} <= set(r)
    assert 1 <= len(r["placebos"]) <= 3
    res.save(tmp_path / "out")
    back = Results.load(tmp_path / "out")
    assert back.placebos == res.placebos and back.config.placebos == 3
    md = (write_report(back, tmp_path / "rep") / "report.md").read_text()
    assert "### Placebos" in md and "| amount * | classification/address |" in md


def test_a_task_the_dataset_cannot_support_is_skipped_with_its_reason(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["run", "--scenario", "benign-v1", "-n", "600", "--detector", "random",
              "--seeds", "0", "--out", str(out), "--no-memory", "-q"])
    assert e.value.code == 0  # nothing failed: the data has no laundering to find
    printed = capsys.readouterr().out
    assert "skipped: tracing/address on benign-v1[transactions=600]: no announced seed" \
        in printed
    rows = Results.load(out).rows
    skipped = {r["task"]: r["error"] for r in rows if r["status"] == "skipped"}
    # the benign economy still has hidden links (benign mixer and bridge users): linking runs
    assert set(skipped) == {"classification/address", "classification/transaction",
                            "tracing/address", "typology"}
    assert "no laundering" in skipped["classification/address"]
    md = (out / "report" / "report.md").read_text()
    assert "**Tasks skipped**" in md and "- typology on benign-v1" in md
