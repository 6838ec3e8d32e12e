"""Export of an incident to GEXF, GraphML and node-link JSON: times and truth survive a round
trip through networkx's readers; --no-truth leaves every truth attribute out."""

import json

import pytest
from click.testing import CliRunner

from launderbench.benchmarks.cli import cli
from launderbench.simulator import make
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.export import FORMATS, read_graph, to_networkx, write_graph


@pytest.fixture(scope="module")
def ds():
    return make("easy-v1", seed=0, transactions=1500)


@pytest.fixture(scope="module")
def saved(ds, tmp_path_factory):
    d = tmp_path_factory.mktemp("edu") / "easy"
    ds.save(d)
    return d


def test_incident_graph_has_times_and_truth(ds):
    g = to_networkx(ds, incident=0, hops=0)
    assert g.number_of_edges() > 5 and g.graph["mode"] == "dynamic"
    for _, d in g.nodes(data=True):
        assert d["start"] > 0 and d["time"].endswith("Z") and "truth_incident" in d
    for u, v, d in g.edges(data=True):
        assert d["start"] == d["timestamp"] >= min(g.nodes[u]["start"], g.nodes[v]["start"])
        assert d["truth_stage"] in ("placement", "layering", "integration", "none")
    roles = {d["truth_role"] for _, d in g.nodes(data=True)}
    assert "thief" in roles
    wider = to_networkx(ds, incident=0, hops=1)
    assert set(g.nodes) <= set(wider.nodes) and wider.number_of_edges() >= g.number_of_edges()


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_times(ds, tmp_path, fmt):
    g = to_networkx(ds, incident=1, hops=0)
    back = read_graph(write_graph(g, tmp_path / f"g.{fmt}"))
    assert set(back.nodes) == set(g.nodes) and back.number_of_edges() == g.number_of_edges()
    for n, d in g.nodes(data=True):
        assert back.nodes[n]["start"] == d["start"]
        assert back.nodes[n]["truth_role"] == d["truth_role"]
    want = sorted((u, v, d["start"], d["tx_id"], d["truth_typology"])
                  for u, v, d in g.edges(data=True))
    got = sorted((u, v, d["start"], d["tx_id"], d["truth_typology"])
                 for u, v, d in back.edges(data=True))
    assert got == want


def test_gexf_is_dynamic(ds, tmp_path):
    p = write_graph(to_networkx(ds, incident=0), tmp_path / "g.gexf")
    head = p.read_text()[:2000]
    assert 'mode="dynamic"' in head and 'timeformat="double"' in head


def test_no_truth_cli(saved, tmp_path):
    r = CliRunner()
    for fmt in FORMATS:
        out = tmp_path / f"x.{fmt}"
        res = r.invoke(cli, ["export", str(saved), "--no-truth", "--hops", "1", "--out", str(out)])
        assert res.exit_code == 0, res.output
        g = read_graph(out)
        assert g.number_of_nodes() > 0
        keys = {k for _, d in g.nodes(data=True) for k in d}
        keys |= {k for *_, d in g.edges(data=True) for k in d}
        assert not [k for k in keys if k.startswith("truth")], keys
        assert "start" in keys and "truth" not in out.read_text()
    res = r.invoke(cli, ["export", str(saved), "--format", "json", "--out", str(tmp_path / "t")])
    assert res.exit_code == 0 and "truth_role" in (tmp_path / "t").read_text()
    json.loads((tmp_path / "t").read_text())


def test_bad_incident_and_format(ds, saved, tmp_path):
    with pytest.raises(ConfigError):
        to_networkx(ds, incident=99)
    with pytest.raises(ConfigError):
        write_graph(to_networkx(ds, incident=0), tmp_path / "g.dot")
