"""Draw one small example per laundering block (docs/img/<name>.png).

Each example is a tiny scenario (300 benign transactions) with one incident running one
block; the picture is the incident's transactions taken from ``Dataset.to_networkx``:
nodes are addresses coloured by their truth role, edges are transfers (hidden mixer/bridge/swap/OTC
links dashed), laid out left to right by distance from the victim. Run: ``.venv/bin/python docs/img/draw_typologies.py``.
"""

from __future__ import annotations

import sys
from collections import deque
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from launderbench.simulator.config import scenario_from_dict  # noqa: E402
from launderbench.simulator.generate import generate  # noqa: E402
from launderbench.simulator.schema import Role  # noqa: E402

OUT = Path(__file__).resolve().parent
N = "n"
EXAMPLES = {
    "split": ({"BTC": 1}, 2e7, [{"block": "split", N: 6}]),
    "hops": ({"BTC": 1}, 2e7, [{"block": "hops", "length": 5}]),
    "peel": ({"BTC": 1}, 2e7, [{"block": "peel", "length": 8}]),
    "aggregate": ({"BTC": 1}, 2e7, [{"block": "split", N: 5}, {"block": "aggregate", N: 1}]),
    "cascade": ({"ETH": 1}, 2e7, [{"block": "cascade", "fan1": 4, "fan2": 3, "hops": 1}]),
    "swap": ({"USDC": 1}, 2e7, [{"block": "swap", "to": "ETH", "fresh": True}]),
    "bridge": ({"BTC": 1}, 2e7, [{"block": "bridge", "to": ["AVAX"]},
                                 {"block": "swap", "to": "USDT-AVAX"},
                                 {"block": "bridge", "to": ["USDT", "USDT-TRON"]}]),
    "tornado": ({"ETH": 1}, 4e7, [{"block": "tornado", "denomination": 10.0,
                                   "notes_per_depositor": [5, 7],
                                   "notes_per_withdrawer": [2, 4]}]),
    "coinjoin": ({"BTC": 1}, 4e5, [{"block": "coinjoin", "denomination": 0.01,
                                      "peers": [2, 3], "slots": [3, 3]}]),
    "custodial_mixer": ({"BTC": 1}, 2e7, [{"block": "custodial_mixer", "outputs": 3}]),
    "dormancy": ({"ETH": 1}, 2e7, [{"block": "dormancy", "days": 100},
                                   {"block": "hops", "length": 1}]),
    "exchange_deposit": ({"ETH": 1}, 2e7, [{"block": "split", N: 3},
                                           {"block": "exchange_deposit"}]),
    "structuring": ({"BTC": 1}, 2e7, [{"block": "structuring", "limit_usd": 20_000,
                                       "per_mule": [4, 6]}]),
    "exchange_swap": ({"ETH": 1}, 2e7, [{"block": "split", N: 2},
                                        {"block": "exchange_swap", "to": "BTC"}]),
    "otc_marketplace": ({"ETH": 1}, 2e7, [{"block": "otc", "payout": True},
                                          {"block": "marketplace"}]),
    "fan_out": ({"USDT": 1}, 2e7, [{"block": "fan_out", N: 5}]),
    "fan_in": ({"USDT": 1}, 2e7, [{"block": "fan_in", N: 5}]),
    "cycle": ({"USDT": 1}, 2e7, [{"block": "cycle", N: 5}]),
    "bipartite": ({"USDT": 1}, 2e7, [{"block": "bipartite", "m": 3, N: 4}]),
    "stack": ({"USDT": 1}, 2e7, [{"block": "stack", "m": 2, N: 3, "k": 2}]),
    "scatter_gather": ({"USDT": 1}, 2e7, [{"block": "scatter_gather", N: 4}]),
    "gather_scatter": ({"USDT": 1}, 2e7, [{"block": "gather_scatter", "m": 3, N: 3}]),
    "random": ({"USDT": 1}, 2e7, [{"block": "random", N: 4, "steps": 8}]),
}

COLORS = {
    "VICTIM": "#d62728", "THIEF": "#ff7f0e", "SPLITTER": "#bcbd22", "INTERMEDIARY": "#8c564b",
    "AGGREGATOR": "#9467bd", "PEEL": "#e377c2", "MIXER_DEPOSITOR": "#17becf",
    "MIXER_RECIPIENT": "#1f77b4", "BRIDGE_USER": "#2ca02c", "SWAPPER": "#98df8a",
    "DORMANT": "#7f7f7f", "CASHOUT": "#000000", "MULE": "#ffbb78", "BENIGN": "#dddddd",
}


def incident_graph(ds) -> nx.MultiDiGraph:
    tt = ds.tables["tx_truth"]
    txs = set(np.flatnonzero(np.asarray(tt["incident_id"]) == 0).tolist())
    at = ds.tables["address_truth"]
    addrs = np.flatnonzero(np.asarray(at["incident_id"]) == 0)
    g = ds.to_networkx(addresses=addrs, hops=1)
    h = nx.MultiDiGraph()
    for u, v, d in g.edges(data=True):
        if d["tx_id"] in txs and u != v:
            h.add_node(u, **g.nodes[u])
            h.add_node(v, **g.nodes[v])
            h.add_edge(u, v, **d)
    # hidden links (mixer, bridge, swap, OTC): deposit receiver -> payout payer, dashed
    links = ds.tables["links"]
    sel = np.asarray(links["incident_id"]) == 0
    o_tx, o_addr = np.asarray(ds.outputs["tx_id"]), np.asarray(ds.outputs["address_id"])
    i_tx, i_addr = np.asarray(ds.inputs["tx_id"]), np.asarray(ds.inputs["address_id"])
    inc_addr = set(addrs.tolist())
    for a, b in zip(np.asarray(links["in_tx_id"])[sel], np.asarray(links["out_tx_id"])[sel]):
        recv = [int(x) for x in o_addr[o_tx == a] if int(x) not in inc_addr]
        pay = [int(x) for x in i_addr[i_tx == b]]
        for u in recv[:1]:
            for v in pay[:1]:
                if u != v and u in h and v in h:
                    h.add_edge(u, v, hidden=True)
    return h


def layered(g: nx.MultiDiGraph) -> dict:
    roots = [n for n, d in g.nodes(data=True) if role_name(d.get("truth_role", 0)) == "VICTIM"]
    depth = {r: 0 for r in roots}
    q = deque(roots)
    while q:
        u = q.popleft()
        for v in g.successors(u):
            if v not in depth:
                depth[v] = depth[u] + 1
                q.append(v)
    for n in g.nodes:  # peers only reached backwards (CoinJoin co-participants)
        if n not in depth:
            succ = [depth[v] for v in g.successors(n) if v in depth]
            depth[n] = (min(succ) - 1) if succ else 0
    layers: dict[int, list] = {}
    for n, d in sorted(depth.items(), key=lambda x: (x[1], str(x[0]))):
        layers.setdefault(d, []).append(n)
    pos = {}
    for d in sorted(layers):  # order each layer by the mean height of its predecessors
        ns = layers[d]
        def key(n):
            ys = [pos[u][1] for u in g.predecessors(n) if u in pos]
            cash = role_name(g.nodes[n].get("truth_role", 0)) == "CASHOUT"
            return (np.mean(ys) if ys else 0.0, cash, str(n))
        ns.sort(key=key)
        for i, n in enumerate(ns):
            pos[n] = (d, (len(ns) - 1) / 2 - i)
    return pos


def role_name(r) -> str:
    return r.upper() if isinstance(r, str) else Role(int(r)).name


def draw(name: str, assets, amount, steps) -> Path:
    doc = {"id": f"img-{name}-v1", "economy": {"transactions": 300, "days": 30},
           "difficulty": {"time_jitter": 0.0, "fp_time_of_day": 0.0},
           "incident": [{"steps": steps, "assets": assets, "amount_usd": amount,
                         "start_day": 2}]}
    ds = generate(scenario_from_dict(doc), seed=3)
    g = incident_graph(ds)
    pos = layered(g)
    roles = {n: role_name(d.get("truth_role", "BENIGN")) for n, d in g.nodes(data=True)}
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=90)
    seen = [(u, v) for u, v, d in g.edges(data=True) if not d.get("hidden")]
    hidden = [(u, v) for u, v, d in g.edges(data=True) if d.get("hidden")]
    nx.draw_networkx_edges(g, pos, edgelist=seen, ax=ax, edge_color="#555555", width=0.8,
                           arrowsize=8, connectionstyle="arc3,rad=0.08", node_size=160)
    if hidden:
        nx.draw_networkx_edges(g, pos, edgelist=hidden, ax=ax, edge_color="#1f77b4",
                               style="dashed", width=0.8, arrowsize=8, node_size=160,
                               connectionstyle="arc3,rad=0.2")
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=160, edgecolors="#333333",
                           linewidths=0.5,
                           node_color=[COLORS.get(roles[n], "#dddddd") for n in g.nodes])
    for n, d in g.nodes(data=True):
        svc = d.get("service")
        if svc not in (None, "", 0) and str(svc).lower() != "none":
            x, y = pos[n]
            ax.annotate(str(svc).lower(), (x, y), xytext=(0, -11), textcoords="offset points",
                        ha="center", fontsize=6, color="#333333")
    used = sorted(set(roles.values()), key=list(COLORS).index)
    handles = [plt.Line2D([], [], marker="o", ls="", color=COLORS[r], markeredgecolor="#333",
                          label=r.lower()) for r in used if r in COLORS]
    ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              frameon=False)
    ax.set_title(f"{name}: {len(seen)} transfers, {g.number_of_nodes()} addresses"
                 + (f", {len(hidden)} hidden links (dashed)" if hidden else ""), fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    path = OUT / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


if __name__ == "__main__":
    names = sys.argv[1:] or list(EXAMPLES)
    for n in names:
        print(draw(n, *EXAMPLES[n]))
