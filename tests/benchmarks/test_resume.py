"""The run journal and ``--resume``: an interrupted run, resumed, gives the results of an
uninterrupted one, and nothing half-written is ever taken for a finished job."""

import os
import signal
import subprocess
import sys
import time

import pytest

from launderbench.benchmarks import runner
from launderbench.benchmarks.runner import (
    DetectorSpec,
    Journal,
    Results,
    RunConfig,
    compare,
    job_key,
    run_config,
)
from launderbench.benchmarks.suites import TOY_ID, ScenarioRun
from launderbench.simulator.errors import ConfigError

TOY = ScenarioRun(TOY_ID, {"transactions": 300, "users": 40, "n_incidents": 5})
EASY = ScenarioRun("easy-v1", {"transactions": 2000})  # has benign look-alikes: placebos
CFG = dict(suite="test", scenarios=[EASY], seeds=[0, 1],
           detectors=[DetectorSpec(d) for d in ("random", "degree", "amount")], placebos=2,
           memory=False)


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    """One dataset cache for the module, the environment restored after it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAUNDERBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """An uninterrupted run, its journal kept."""
    path = tmp_path_factory.mktemp("journal") / "journal"
    res = run_config(RunConfig(**CFG), progress=False, journal=Journal(path))
    return res, path


def _counting(monkeypatch):
    calls = []
    real = runner.run_one

    def counted(job):
        calls.append(job)
        return real(job)

    monkeypatch.setattr(runner, "run_one", counted)
    return calls


def test_every_finished_job_is_journaled(full):
    res, path = full
    cfg = RunConfig(**CFG)
    entries = sorted(p.stem for p in path.glob("*.pkl"))
    keys = {job_key(j) for j in cfg.jobs()}
    assert len(keys) == 6 and keys <= set(entries)
    assert len(entries) == 6 + 2  # and one placebo entry per dataset
    assert not list(path.glob("*.tmp"))
    assert res.placebos


def test_resume_reruns_only_missing_and_truncated_entries(full, tmp_path, monkeypatch):
    res, path = full
    jobs = RunConfig(**CFG).jobs()
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    for p in path.glob("*.pkl"):
        (journal_dir / p.name).write_bytes(p.read_bytes())
    missing, truncated, foreign = (job_key(j) for j in jobs[:3])
    (journal_dir / f"{missing}.pkl").unlink()
    whole = (journal_dir / f"{truncated}.pkl").read_bytes()
    (journal_dir / f"{truncated}.pkl").write_bytes(whole[: len(whole) // 2])
    # a complete entry under the wrong name is not this job's result
    (journal_dir / f"{foreign}.pkl").write_bytes(
        (journal_dir / f"{job_key(jobs[3])}.pkl").read_bytes())
    (journal_dir / f".{missing}.abc.tmp").write_bytes(whole[:10])  # a write cut short
    calls = _counting(monkeypatch)
    again = run_config(RunConfig(**CFG), progress=False,
                       journal=Journal(journal_dir, resume=True))
    assert sorted(job_key(j) for j in calls) == sorted([missing, truncated, foreign])
    assert compare(res, again) == []
    assert len(again.rows) == len(res.rows) and again.placebos == res.placebos
    assert again.curves == res.curves
    # the entries rerun are journaled again, whole
    assert Journal(journal_dir, resume=True).get(truncated) is not None


def test_without_resume_the_journal_starts_empty(full, tmp_path, monkeypatch):
    _, path = full
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    for p in path.glob("*.pkl"):
        (journal_dir / p.name).write_bytes(p.read_bytes())
    calls = _counting(monkeypatch)
    run_config(RunConfig(**CFG), progress=False, journal=Journal(journal_dir))
    assert len(calls) == 6


def test_a_task_that_crashes_is_retried_then_a_failed_row(tmp_path, monkeypatch):
    attempts = []
    real = runner.run_one

    def flaky(job):  # degree crashes once, amount always (not detector errors)
        attempts.append(job.detector.name)
        if job.detector.name == "degree" and attempts.count("degree") == 1:
            raise MemoryError("worker ran out of memory")
        if job.detector.name == "amount":
            raise OSError("disk gone")
        return real(job)

    monkeypatch.setattr(runner, "run_one", flaky)
    cfg = RunConfig(**{**CFG, "seeds": [0], "placebos": 0})
    lines = []
    journal = Journal(tmp_path / "journal")
    res = runner.run(cfg.jobs(), progress=False, journal=journal, retries=2, log=lines.append)
    assert attempts.count("degree") == 2 and attempts.count("amount") == 3
    assert any("retry 1 of 2" in s and "degree" in s for s in lines)
    assert any("giving up after 3 attempts" in s and "amount" in s for s in lines)
    degree = [r for r in res.rows if r["detector"] == "degree"]
    assert degree and {r["status"] for r in degree} == {"ok"}
    amount = [r for r in res.rows if r["detector"] == "amount"]
    assert len(amount) == 1 and amount[0]["status"] == "failed"
    assert amount[0]["error"] == "failed after 3 attempts: OSError: disk gone"
    assert amount[0]["dataset_hash"] and amount[0]["scenario"].startswith("easy-v1")
    # a job that never finished is not journaled: a resume runs it again
    assert journal.get(job_key(cfg.jobs()[2])) is None
    assert journal.get(job_key(cfg.jobs()[1])) is not None


def test_a_user_error_in_a_task_is_not_retried(tmp_path):
    cfg = RunConfig(**{**CFG, "scenarios": [ScenarioRun(TOY_ID, {"nonsense": 1})],
                       "placebos": 0})
    with pytest.raises(ConfigError, match="bad override"):
        runner.run(cfg.jobs(), progress=False, retries=5, log=pytest.fail)


def _cli(*args):
    return [sys.executable, "-c", "from launderbench.benchmarks.cli import main; main()", *args]


def test_cli_resume_after_a_killed_run(tmp_path):
    """Kill a ``--workers 2`` run once some jobs are journaled; ``--resume`` finishes it with
    the results of an uninterrupted run, and the journal goes with the final save."""
    env = {**os.environ, "LAUNDERBENCH_CACHE": str(tmp_path / "cache")}
    args = ["run", "--suite", "quick", "--scenario", TOY_ID, "-n", "400", "--seeds", "0,1,2", "--no-memory", "-q",
            "--detector", "random", "--detector", "degree", "--detector", "amount",
            "--detector", "haircut", "--detector", "fifo", "--detector", "poison"]
    out = tmp_path / "out"
    proc = subprocess.Popen(_cli(*args, "--workers", "2", "--out", str(out)), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "journal").glob("*.pkl"))) < 2:
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its pool's processes
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not (out / "results.parquet").exists()
    done = len(list((out / "journal").glob("*.pkl")))
    assert 2 <= done < 18
    r = subprocess.run(_cli(*args, "--workers", "2", "--out", str(out), "--resume"), env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resume: {done} finished task(s)" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "curves.json", "report",
                                                     "results.csv", "results.parquet"]
    r = subprocess.run(_cli(*args, "--out", str(tmp_path / "whole")), env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert compare(Results.load(tmp_path / "whole"), Results.load(out)) == []
