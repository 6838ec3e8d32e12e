"""Drawing: every incident of every preset draws (small sizes), every laundering block shows
up in some drawn incident, big incidents are bundled, the command writes PNG/SVG/PDF and the
report's figure is the same drawing."""

import networkx as nx
import pytest
from click.testing import CliRunner

from launderbench.benchmarks.cli import cli
from launderbench.benchmarks.draw import SERVICE_MARKERS, draw_incident, flow_graph
from launderbench.benchmarks.figures import plot_incident
from launderbench.simulator import make, registry
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.laundering.playbooks import BLOCKS

PRESETS = sorted(s for s in registry.list_scenarios() if s != "benign-v1")
SMALL = 1000


@pytest.fixture(scope="module")
def easy():
    return make("easy-v1", seed=0, transactions=SMALL)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Every incident of every preset, drawn once: ``{preset: [(png, blocks), ...]}``."""
    out = {}
    for sid in PRESETS:
        ds = make(sid, seed=0, transactions=SMALL)
        assert ds.seeds.num_rows, sid
        d = tmp_path_factory.mktemp(sid)
        out[sid] = [(draw_incident(ds, d / f"{inc['id']}.png", incident=inc["id"], dpi=40),
                     {step["block"] for step in inc["steps"]})
                    for inc in ds.meta["incidents"]]
    return out


@pytest.mark.parametrize("sid", PRESETS)
def test_every_incident_of_every_preset_draws(drawn, sid):
    assert drawn[sid]
    for png, _ in drawn[sid]:
        assert png.stat().st_size > 5_000 and png.read_bytes()[:4] == b"\x89PNG"


def test_every_block_was_drawn(drawn):
    blocks = set().union(*(b for pngs in drawn.values() for _, b in pngs))
    assert set(BLOCKS) <= blocks, sorted(set(BLOCKS) - blocks)


def test_flow_graph_layout_and_bundles():
    ds = make("bybit-2025-v1", seed=0, transactions=SMALL)
    full = flow_graph(ds, max_nodes=10**6)
    small = flow_graph(ds, max_nodes=150)
    assert small.number_of_nodes() <= 150 < small.graph["addresses"]
    assert small.graph["bundled"] == small.graph["addresses"] - small.number_of_nodes()
    assert sum(d["count"] for _, d in small.nodes(data=True)) == small.graph["addresses"]
    assert full.graph["addresses"] == small.graph["addresses"]
    chains = {d["chain"] for _, d in full.nodes(data=True)}
    assert len(full.graph["bands"]) == len(chains) >= 2  # the flow crosses chains
    assert any(d.get("hidden") for *_, d in full.edges(data=True))
    for _, d in full.nodes(data=True):
        assert d["service"] in SERVICE_MARKERS and "pos" in d and d["layer"] >= 0
    victim = [n for n, d in full.nodes(data=True) if d["truth_role"] == "victim"]
    assert victim and all(full.nodes[v]["layer"] == 0 for v in victim)
    # laundering flows left to right: most transfers go to a later layer
    fwd = [full.nodes[v]["layer"] > full.nodes[u]["layer"] for u, v in full.edges() if u != v]
    assert sum(fwd) > 0.8 * len(fwd)
    assert isinstance(full, nx.MultiDiGraph)


def test_context_hops_add_benign_addresses(easy):
    bare, wide = flow_graph(easy, 0, hops=0), flow_graph(easy, 0, hops=1, max_nodes=10**6)
    assert wide.graph["addresses"] > bare.graph["addresses"]


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_draw_command(easy, tmp_path, suffix):
    d = tmp_path / "easy"
    easy.save(d)
    out = tmp_path / f"fig{suffix}"
    res = CliRunner().invoke(cli, ["draw", str(d), "--incident", "1", "--hops", "1",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 1_000


def test_draw_scenario_id_and_errors(tmp_path):
    out = tmp_path / "z.png"
    res = CliRunner().invoke(cli, ["draw", "zaif-2018-v1", "-n", "500", "--out", str(out)])
    assert res.exit_code == 0 and out.exists(), res.output
    for args in (["draw", "easy-v1", "--out", str(tmp_path / "x.jpg")],
                 ["draw", "easy-v1", "-n", "500", "--incident", "9", "--out", str(out)]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code != 0 and isinstance(res.exception, (ConfigError, SystemExit))


def test_report_uses_the_drawing(easy, tmp_path):
    assert plot_incident(easy, tmp_path / "i.png").exists()
    assert plot_incident(make("benign-v1", seed=0, transactions=300), tmp_path / "b.png") is None
