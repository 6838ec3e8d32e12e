"""The explorer page: self-contained, truth kept apart, and end to end in headless Chromium
with the network disabled (renders every node, no console output, the slider replays, a click
shows details, the search finds an address, the quiz scores picks). Screenshots of each state
are kept in the test's temporary directory."""

import json
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from launderbench.benchmarks.cli import cli
from launderbench.benchmarks.explore import CYTOSCAPE_VERSION, explorer_data, write_explorer
from launderbench.simulator import make

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
STATES = ("initial", "slider", "click", "quiz")


@pytest.fixture(scope="module")
def ds():
    return make("dmm-bitcoin-2024-v1", seed=0, transactions=1000)


def test_page_is_self_contained(ds, tmp_path):
    page = write_explorer(ds, tmp_path / "flow.html").read_text()
    assert "<script src" not in page and "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "The Cytoscape Consortium" in page and CYTOSCAPE_VERSION in page
    assert "#test=" not in page  # the self-test is only in test pages


def test_data_keeps_truth_apart(ds):
    d = explorer_data(ds, hops=1)
    assert len(d["nodes"]) <= 500 and d["addresses"] >= len(d["nodes"])
    for n in d["nodes"]:
        assert set(n["truth"]) == {"role", "stage", "laundering"}
        assert not any(k.startswith("truth_") or k in ("role", "stage") for k in n)
    assert any(n["truth"]["laundering"] for n in d["nodes"])
    assert any(not n["truth"]["laundering"] for n in d["nodes"])  # decoys for the quiz
    assert len({b["chain"] for b in d["bands"]}) >= 2


def test_explore_command(tmp_path):
    out = tmp_path / "e.html"
    res = CliRunner().invoke(cli, ["explore", "easy-v1", "-n", "500", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 400_000  # the library is inside
    res = CliRunner().invoke(cli, ["explore", "easy-v1", "--out", str(tmp_path / "e.png")])
    assert res.exit_code != 0


def _chromium(args, tmp_path):
    offline = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-extensions",
               "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
               "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *offline, *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs "
                    "the Debian package; apt-get install chromium)")
def test_explorer_in_headless_chromium(ds, tmp_path):
    page = write_explorer(ds, tmp_path / "flow.html", test_harness=True)
    url = page.resolve().as_uri()
    r = _chromium(["--dump-dom", f"{url}#test=all"], tmp_path)
    m = re.search(r'<pre id="test-result"[^>]*>(.*?)</pre>', r.stdout, re.S)
    assert m, (r.stdout[-2000:], r.stderr[-2000:])
    import html

    res = json.loads(html.unescape(m.group(1)))
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    assert res["errors"] == [] and console == [], (res["errors"], console)
    st = res["steps"]
    n = len(explorer_data(ds)["nodes"])
    assert st["render"]["nodes"] == st["render"]["expected"] == st["render"]["visible"] == n
    assert st["render"]["canvas"] and st["render"]["edges"] > 0
    # the flow replays: addresses and transfers appear as the slider moves
    assert 0 < st["slider0"]["visible"] <= st["slider"]["visible"] <= n
    assert 0 <= st["slider0"]["edges"] < st["slider"]["edges"] < st["render"]["edges"]
    assert st["slider0"]["visible"] < n
    assert st["slider0"]["hidden_drawn"] == st["slider"]["hidden_drawn"] == 0
    assert "role (truth)thief" in st["click"]["text"]
    assert st["search"]["selected"] == [st["search"]["want"]]
    assert "(truth)" not in st["quiz_click_info"]  # the quiz hides the truth
    q = st["quiz"]["score"]
    assert q["picked"] == st["quiz"]["picks"] and 0 < q["right"] < q["total"]
    assert 0 < q["precision"] < 1 and 0 < q["recall"] < 1 and "recall" in st["quiz"]["text"]
    for state in STATES:  # kept next to the page for a look
        shot = tmp_path / f"{state}.png"
        _chromium(["--window-size=1400,900", f"--screenshot={shot}", f"{url}#test={state}"],
                  tmp_path)
        assert shot.exists() and shot.stat().st_size > 10_000, state


def test_vendored_library_is_package_data():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cfg = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "launderbench.benchmarks.vendor" in cfg["packages"]
    assert {"*.js", "*LICENSE*"} <= set(cfg["package-data"]["launderbench.benchmarks.vendor"])
    lib = root / "benchmarks" / "vendor" / "cytoscape.min.js"
    assert lib.stat().st_size > 100_000 and (lib.parent / "cytoscape.LICENSE").exists()
