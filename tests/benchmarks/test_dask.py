"""Sweeps on a real Dask cluster started as a user would (``dask scheduler`` and two
``dask worker`` processes): the results are the serial run's, a worker killed mid-sweep loses
nothing, and ``--scheduler`` / ``DASK_SCHEDULER_ADDRESS`` leave the cluster running.

Select with ``-m dask``; skipped without the ``dask`` extra.
"""

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from launderbench.benchmarks.cli import main
from launderbench.benchmarks.runner import Results, compare
from launderbench.benchmarks.suites import TOY_ID

distributed = pytest.importorskip(
    "dask.distributed", reason="the Dask tests need the 'dask' extra (pip install -e '.[dask]')")
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")

pytestmark = [pytest.mark.dask,
              pytest.mark.skipif(DASK is None, reason="the `dask` command is not installed")]

#: the sweep: 2 scenarios x 2 seeds x 3 fast detectors, small
SWEEP = ["run", "--suite", "quick", "--scenario", TOY_ID, "--scenario", "easy-v1",
         "-n", "1500", "--seeds", "0,1", "--detector", "random", "--detector", "degree",
         "--detector", "haircut", "--no-memory", "-q"]


class Cluster:
    """A scheduler and its workers as subprocesses; every one is killed at teardown."""

    def __init__(self, root: Path):
        self.root = root
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.address = ""

    def _start(self, *args) -> subprocess.Popen:
        log = open(self.root / f"{len(self.procs)}.log", "w")  # noqa: SIM115 - closed below
        p = subprocess.Popen([DASK, *args], cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(p)
        return p

    def start(self) -> None:
        info = self.root / "scheduler.json"
        sched = self._start("scheduler", "--host", "127.0.0.1", "--port", "0",
                            "--no-dashboard", "--scheduler-file", str(info))
        deadline = time.monotonic() + 60
        while not self.address:
            assert sched.poll() is None, "dask scheduler exited"
            assert time.monotonic() < deadline, "dask scheduler did not start"
            try:
                self.address = json.loads(info.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        self.add_worker("w0")
        self.add_worker("w1")
        self.wait_for(2)

    def add_worker(self, name: str) -> None:
        # no nanny: the process is the worker, so that killing it kills the worker
        self.workers[name] = self._start("worker", self.address, "--host", "127.0.0.1",
                                         "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                         "--name", name)

    def client(self):
        return distributed.Client(self.address, timeout=30)

    def wait_for(self, n: int) -> None:
        with self.client() as c:
            c.wait_for_workers(n, timeout=90)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The sweep run serially, in its own cache."""
    root = tmp_path_factory.mktemp("serial")
    old = os.environ.get("LAUNDERBENCH_CACHE")
    os.environ["LAUNDERBENCH_CACHE"] = str(root / "cache")
    try:
        with pytest.raises(SystemExit) as e:
            main([*SWEEP, "--out", str(root / "out")])
        assert e.value.code == 0
    finally:
        if old is None:
            os.environ.pop("LAUNDERBENCH_CACHE", None)
        else:
            os.environ["LAUNDERBENCH_CACHE"] = old
    return Results.load(root / "out")


def _alive(cluster: Cluster, n: int = 2) -> None:
    assert all(p.poll() is None for p in cluster.procs[:1]), "the scheduler was stopped"
    with cluster.client() as c:
        assert len(c.scheduler_info()["workers"]) == n


def test_sweep_on_the_cluster_gives_the_serial_results(cluster, serial, tmp_path, monkeypatch,
                                                       capsys):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path / "cache"))  # nothing generated yet
    with cluster.client() as c, distributed.get_task_stream(client=c) as stream:
        with pytest.raises(SystemExit) as e:
            main([*SWEEP, "--scheduler", cluster.address, "--out", str(tmp_path / "out")])
    assert e.value.code == 0, capsys.readouterr().err
    assert compare(serial, Results.load(tmp_path / "out")) == []
    keys = [t["key"] for t in stream.data]
    # one task per (scenario, seed) generation, one per (detector, dataset) run
    assert sum(k.startswith("_generate-") for k in keys) == 4
    assert sum(k.startswith("run_one-") for k in keys) == 12
    assert not (tmp_path / "out" / "journal").exists()
    _alive(cluster)


def test_a_worker_killed_mid_sweep_loses_no_result(cluster, serial, tmp_path):
    env = {**os.environ, "LAUNDERBENCH_CACHE": str(tmp_path / "cache")}
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from launderbench.benchmarks.cli import main; main()",
         *SWEEP, "--scheduler", cluster.address, "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        victim = cluster.workers["w0"]
        with cluster.client() as c:
            deadline = time.monotonic() + 120
            while True:  # wait until w0 runs a task of the sweep, then kill it
                assert proc.poll() is None, "the sweep ended before a worker could be killed"
                assert time.monotonic() < deadline, "w0 never got a task"
                busy = {c.scheduler_info()["workers"][a]["name"]: keys
                        for a, keys in c.processing().items()
                        if a in c.scheduler_info()["workers"]}
                if busy.get("w0"):
                    break
                time.sleep(0.05)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
        cluster.add_worker("w2")  # a replacement, as a cluster manager would start
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "lost with" in err  # the loss is reported
    res = Results.load(out)
    assert not [r for r in res.rows if r["status"] == "failed"]
    assert compare(serial, res) == []
    cluster.wait_for(2)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_users_cluster_keeps_running(cluster, tmp_path, monkeypatch, capsys, how):
    args = ["run", "--suite", "quick", "--scenario", TOY_ID, "-n", "300", "--seeds", "0",
            "--detector", "degree", "--no-memory", "-q", "--out", str(tmp_path / "out")]
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path / "cache"))
    if how == "flag":
        args += ["--scheduler", cluster.address]
    else:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.address)
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 0
    if how == "environment":
        assert f"running on {cluster.address}" in capsys.readouterr().err
    time.sleep(1)  # a shutdown, had there been one, would have taken effect by now
    _alive(cluster)
    assert all(p.poll() is None for p in cluster.procs if p is not cluster.workers["w0"])


def test_dask_flag_runs_on_a_local_cluster_and_closes_it(serial, tmp_path, monkeypatch,
                                                         capsys):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with pytest.raises(SystemExit) as e:
        main([*SWEEP, "--dask", "--workers", "2", "--out", str(tmp_path / "out")])
    assert e.value.code == 0, capsys.readouterr().err
    assert compare(serial, Results.load(tmp_path / "out")) == []
    deadline = time.monotonic() + 30  # the local workers are gone with their cluster
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not multiprocessing.active_children()
