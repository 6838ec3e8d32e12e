"""Speed of drawing an incident (pytest-benchmark): the Bybit-like preset's incident, about
950 addresses at 1,000 benign transactions, drawn as PNG with the default limit of 500
nodes (so the layout, the bundling and the figure are all timed). Target: under 5 s.

    .venv/bin/python -m pytest -q benchmarks/speed/test_speed_draw.py
"""

from __future__ import annotations

import pytest

from launderbench.benchmarks.draw import draw_incident, flow_graph
from launderbench.simulator import make


@pytest.fixture(scope="module")
def big_incident():
    return make("bybit-2025-v1", seed=0, transactions=1000)


def test_draw_500_node_incident(benchmark, big_incident, tmp_path):
    g = flow_graph(big_incident, max_nodes=500)
    assert g.graph["addresses"] >= 500
    benchmark.extra_info["addresses"] = g.graph["addresses"]
    benchmark.extra_info["drawn_nodes"] = g.number_of_nodes()
    path = benchmark(draw_incident, big_incident, tmp_path / "incident.png", max_nodes=500)
    assert path.stat().st_size > 10_000


def test_draw_500_nodes_unbundled(benchmark, big_incident, tmp_path):
    """The same incident with no bundling at all (every address drawn)."""
    g = flow_graph(big_incident, max_nodes=10_000, column_cap=None)
    assert g.number_of_nodes() == g.graph["addresses"]
    benchmark.extra_info["drawn_nodes"] = g.number_of_nodes()
    benchmark(draw_incident, big_incident, tmp_path / "all.png", max_nodes=10_000,
              column_cap=None)
