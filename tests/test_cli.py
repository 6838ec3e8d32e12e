"""The command line: generate, describe, scenarios, and one-line errors with exit code 2."""

import filecmp
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "launderbench", *args],
                          capture_output=True, text=True, timeout=300)


def test_generate_twice_identical_and_describe(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    r = run("generate", "--scenario", "benign", "--transactions", "3000", "--seed", "7",
            "--out", str(a), "-q")
    assert r.returncode == 0, r.stderr
    assert run("generate", "-s", "benign", "-n", "3000", "--seed", "7", "-o", str(b),
               "-q").returncode == 0
    names = sorted(p.name for p in a.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert mismatch == [] and errors == []
    r = run("describe", str(a))
    assert r.returncode == 0 and "transactions" in r.stdout and "degree" in r.stdout
    r = run("describe", str(a), "--json")
    assert r.returncode == 0 and '"transactions"' in r.stdout


@pytest.mark.parametrize("args,needle", [
    (("generate", "--scenario", "benign", "--seed", "-1", "--out", "X"), "seed"),
    (("generate", "--scenario", "benign", "--transactions", "abc", "--out", "X"), "transactions"),
    (("generate", "--scenario", "benign"), "--out"),
    (("generate", "--scenario", "benin", "--out", "X"), "did you mean"),
    (("describe", "NO_SUCH_DIR"), "not found"),
    (("frobnicate",), "No such command"),
])
def test_user_errors_are_one_line_exit_2(tmp_path, args, needle):
    args = tuple(str(tmp_path / a) if a in ("X", "NO_SUCH_DIR") else a for a in args)
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "X").exists()


def test_truncated_parquet_is_one_line(tmp_path):
    d = tmp_path / "d"
    assert run("generate", "-n", "800", "-o", str(d), "-q").returncode == 0
    p = d / "outputs.parquet"
    p.write_bytes(p.read_bytes()[:100])
    r = run("describe", str(d))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "outputs.parquet" in r.stderr


def test_malformed_scenario_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x-v1"\n[economy]\ntransactions = "many"\n')
    r = run("generate", "--scenario", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "economy.transactions" in r.stderr
    bad.write_text("id = = broken")
    r = run("generate", "--scenario", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "malformed TOML" in r.stderr
    assert not (tmp_path / "o").exists()


def test_scenarios_lists_benign():
    r = run("scenarios")
    assert r.returncode == 0 and "benign-v1" in r.stdout


def test_detectors_lists_the_registry():
    r = run("detectors")
    assert r.returncode == 0
    for name in ("haircut", "fifo", "investigator", "bridge-matcher", "random"):
        assert name in r.stdout


def test_run_with_an_unknown_detector_is_one_line(tmp_path):
    r = run("run", "--suite", "quick", "--detector", "hiarcut", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "haircut" in r.stderr  # close-match suggestion
    r = run("run", "--suite", "quick", "--detector", "haircut@bogus=1", "--out",
            str(tmp_path / "o"))
    assert r.returncode == 2 and "bogus" in r.stderr


def test_check_passes_a_generated_dataset_and_fails_a_corrupt_one(tmp_path):
    import numpy as np
    import pyarrow.parquet as pq

    d = tmp_path / "d"
    assert run("generate", "-s", "easy", "-n", "1500", "-o", str(d), "-q").returncode == 0
    r = run("check", str(d))
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr
    # an output now pays more than its transaction spent: value is not conserved
    t = pq.read_table(d / "outputs.parquet")
    amount = t.column("amount").to_numpy().copy()
    amount[np.flatnonzero(amount > 0)[-1]] += 1
    pq.write_table(t.set_column(t.schema.get_field_index("amount"), "amount",
                                pa_array(amount)), d / "outputs.parquet")
    r = run("check", str(d))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "value not conserved" in r.stderr and "Traceback" not in r.stderr


def pa_array(values):
    import pyarrow as pa

    return pa.array(values, type=pa.int64())


def test_generate_never_replaces_what_is_not_a_dataset(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work")
    r = run("generate", "-n", "500", "-o", str(out), "-q")
    assert r.returncode == 2 and "not a launderbench dataset" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert (out / "thesis.txt").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing left beside it
    # the current directory is never replaced, even when empty
    here = tmp_path / "here"
    here.mkdir()
    r = subprocess.run([sys.executable, "-m", "launderbench", "generate", "-n", "500", "-o",
                        ".", "-q"], cwd=here, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "current directory" in r.stderr and "Traceback" not in r.stderr
    # an empty directory or an earlier dataset is replaced, with the umask's permissions
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("generate", "-n", "500", "-o", str(empty), "-q").returncode == 0
    assert (empty / "meta.json").is_file()
    assert run("generate", "-n", "600", "-o", str(empty), "-q").returncode == 0
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(empty.stat().st_mode) == 0o777 & ~mask


def _start_generate(out, n=300_000):
    import os

    env = dict(os.environ, TMPDIR=str(out.parent / "systmp"))
    (out.parent / "systmp").mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "launderbench", "generate", "-n", str(n),
                             "-o", str(out), "-q"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_work(tmp_path, proc, timeout=300):
    """Until generation has made its temporary directories (the work is under way)."""
    import time

    t0 = time.time()
    while time.time() - t0 < timeout and proc.poll() is None:
        if any((tmp_path / "systmp").glob("launderbench-ops-*")):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_a_killed_generate_leaves_the_old_dataset_and_no_leftovers(tmp_path):
    import signal

    out = tmp_path / "out"
    assert run("generate", "-n", "500", "-o", str(out), "-q").returncode == 0
    before = sorted((p.name, p.read_bytes()) for p in out.iterdir())
    # SIGTERM: cleaned up as Ctrl-C is
    proc = _start_generate(out)
    assert _wait_for_work(tmp_path, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode != 0 and "Traceback" not in err
    assert sorted((p.name, p.read_bytes()) for p in out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "systmp"]
    assert not list((tmp_path / "systmp").iterdir())
    # SIGKILL: leftovers stay until the next run, which removes them (and only the dead's)
    proc = _start_generate(out)
    assert _wait_for_work(tmp_path, proc)
    proc.kill()
    proc.communicate(timeout=300)
    assert sorted((p.name, p.read_bytes()) for p in out.iterdir()) == before
    assert list((tmp_path / "systmp").glob("launderbench-ops-*"))
    r = subprocess.run([sys.executable, "-m", "launderbench", "generate", "-n", "500", "-o",
                        str(out), "-q"], capture_output=True, text=True, timeout=300,
                       env=dict(__import__("os").environ, TMPDIR=str(tmp_path / "systmp")))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "systmp"]
    assert not list((tmp_path / "systmp").iterdir())


def test_bare_command_prints_help_and_exits_0():
    r = run()
    assert r.returncode == 0 and "Usage: launderbench" in r.stdout and r.stderr == ""


def test_output_into_a_closed_pipe_is_not_an_error():
    r = subprocess.run(f"{sys.executable} -m launderbench scenarios | head -1", shell=True,
                       capture_output=True, text=True, timeout=300)
    assert r.stdout.count("\n") == 1 and "error" not in r.stderr
