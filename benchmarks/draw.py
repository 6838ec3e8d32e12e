"""Draw one incident's laundering flow (matplotlib): hop layers left to right in time, chains
as horizontal bands, nodes coloured by role (fill) and stage (ring), services as distinct
shapes, edges sized by value, hidden service links dashed.

:func:`flow_graph` builds the graph (aggregated past ``max_nodes``) with its layout; the
drawing (:func:`draw_incident`) and the HTML explorer both use it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import numpy as np

from launderbench.simulator.errors import ConfigError
from launderbench.simulator.export import to_networkx
from launderbench.simulator.schema import LinkKind

__all__ = ["flow_graph", "draw_incident", "ROLE_COLOURS", "STAGE_COLOURS", "SERVICE_MARKERS"]

#: fill colour per truth role (names as ``to_networkx`` writes them)
ROLE_COLOURS = {
    "victim": "#d62728", "thief": "#ff7f0e", "splitter": "#bcbd22", "intermediary": "#8c564b",
    "aggregator": "#9467bd", "peel": "#e377c2", "mixer_depositor": "#17becf",
    "mixer_recipient": "#1f77b4", "bridge_user": "#2ca02c", "swapper": "#98df8a",
    "dormant": "#7f7f7f", "cashout": "#111111", "mule": "#ffbb78", "benign": "#e6e6e6",
}
#: ring colour per stage of the transfer that first reached the address
STAGE_COLOURS = {"placement": "#c00000", "layering": "#e69500", "integration": "#1a7f1a",
                 "none": "#9a9a9a"}
#: marker per public service attribution; plain addresses are circles
SERVICE_MARKERS = {"none": "o", "exchange": "s", "mixer": "h", "bridge": "D", "otc": "P",
                   "dex": "^", "marketplace": "v", "payment_processor": "p",
                   "mining_pool": "*", "issuer": "X"}
STAGE_ORDER = ("placement", "layering", "integration", "none")
#: the most addresses drawn one above the other in one layer of one chain before bundling
COLUMN_CAP = 60


def _hidden_links(ds, g: nx.MultiDiGraph, incident: int) -> None:
    """Add the incident's hidden service links (truth): the service address that received the
    deposit -> the address that paid the withdrawal, dashed in drawings."""
    links = ds.tables["links"]
    sel = np.flatnonzero(np.asarray(links["incident_id"]) == incident)
    if not len(sel):
        return
    view = ds.observable()
    o_tx, o_addr = np.asarray(view.outputs["tx_id"]), np.asarray(view.outputs["address_id"])
    i_tx, i_addr = np.asarray(view.inputs["tx_id"]), np.asarray(view.inputs["address_id"])
    ts = np.asarray(view.transactions["timestamp"])
    for j in sel.tolist():
        a, b = int(links["in_tx_id"][j]), int(links["out_tx_id"][j])
        recv = [int(x) for x in o_addr[o_tx == a]
                if int(x) in g and g.nodes[int(x)].get("service", "none") != "none"]
        pay = [int(x) for x in i_addr[i_tx == b] if int(x) in g]
        if recv and pay and recv[0] != pay[0]:
            g.add_edge(recv[0], pay[0], hidden=True, start=float(ts[b]),
                       link=LinkKind(int(links["kind"][j])).name.lower(), usd=0.0,
                       truth_stage="layering", truth_incident=incident)


def _layers(g: nx.MultiDiGraph) -> dict:
    """Hop layer of each node: 0 for the victim, then one more than the latest sender,
    following transfers in time order (an address that has already sent keeps its layer, so
    cycles end)."""
    layer: dict = {n: 0 for n, d in g.nodes(data=True) if d.get("truth_role") == "victim"}
    if not layer:  # no victim in view: the earliest senders start
        t0 = min((d["start"] for *_, d in g.edges(data=True)), default=0)
        layer = {u: 0 for u, _, d in g.edges(data=True) if d["start"] == t0}
    sent = set()
    # a hidden link comes before the payout made at the same time
    for u, v, _ in sorted(g.edges(data=True),
                          key=lambda e: (e[2]["start"], not e[2].get("hidden"))):
        if u in layer and u != v and v not in sent:
            layer[v] = max(layer.get(v, 0), layer[u] + 1)
        sent.add(u)
    for n in g.nodes:  # a sink (a cash-out address, reused or not) next to its first payer
        if n in layer and n not in sent and layer[n] > 0:
            pred = [layer[u] for u in g.predecessors(n) if u in layer and u != n]
            if pred:
                layer[n] = min(pred) + 1
    for _ in range(3):  # peers met only backwards (CoinJoin co-participants) and context
        for n in g.nodes:
            if n in layer:
                continue
            succ = [layer[v] for v in g.successors(n) if v in layer]
            pred = [layer[u] for u in g.predecessors(n) if u in layer]
            if pred:
                layer[n] = max(pred) + 1
            elif succ:
                layer[n] = max(min(succ) - 1, 0)
    for n in g.nodes:
        layer.setdefault(n, 0)
    return layer


def _node_stage(g: nx.MultiDiGraph, n) -> str:
    """Stage of the first laundering transfer into (else out of) ``n``; ``none`` if none."""
    for edges in (g.in_edges(n, data=True), g.out_edges(n, data=True)):
        st = [(d["start"], d.get("truth_stage", "none")) for *_, d in edges
              if d.get("truth_incident", -1) >= 0 and d.get("truth_stage", "none") != "none"]
        if st:
            return min(st)[1]
    return "none"


def _aggregate(g: nx.MultiDiGraph, layer: dict, max_nodes: int,
               column_cap: int | None = COLUMN_CAP) -> nx.MultiDiGraph:
    """Collapse groups of like addresses (same layer, role, service and chain) into bundles,
    largest groups first, until at most ``max_nodes`` remain. Edges between the same pair of
    (bundled) nodes are merged: values summed, transfers counted."""
    groups = defaultdict(list)
    for n, d in g.nodes(data=True):
        groups[(layer[n], d.get("truth_role", "?"), d.get("service"), d.get("chain"),
                d.get("service_name", ""))].append(n)
    rep = {n: n for n in g.nodes}
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))
    column = Counter((layer[n], d.get("chain")) for n, d in g.nodes(data=True))

    def bundle(key, members):
        for m in members:
            rep[m] = ("bundle",) + key
        column[(key[0], key[3])] -= len(members) - 1
        return len(members) - 1

    for key, members in ranked:  # no column taller than column_cap
        if column_cap and column[(key[0], key[3])] > column_cap and len(members) > 1:
            bundle(key, members)
    count = len(set(rep.values()))
    for key, members in ranked:  # then the largest groups left, up to max_nodes
        if count <= max_nodes:
            break
        if len(members) > 1 and rep[members[0]] == members[0]:
            count -= bundle(key, members)
    h = nx.MultiDiGraph(**g.graph)
    for n, d in g.nodes(data=True):
        r = rep[n]
        if r in h:
            h.nodes[r]["count"] += 1
            h.nodes[r]["members"].append(n)
            h.nodes[r]["start"] = min(h.nodes[r]["start"], d["start"])
        else:
            h.add_node(r, **d, count=1, members=[n], layer=layer[n], stage=_node_stage(g, n),
                       label=str(n))
    merged: dict = {}
    for u, v, d in g.edges(data=True):
        key = (rep[u], rep[v], bool(d.get("hidden")))
        if key[0] == key[1] and key[0] != u:
            continue  # inside a bundle
        if key in merged:
            m = merged[key]
            m["usd"] += d.get("usd", 0.0)
            m["n"] += 1
            m["start"] = min(m["start"], d["start"])
            m["stages"][d.get("truth_stage", "none")] += 1
        else:
            merged[key] = dict(d, n=1, stages=Counter([d.get("truth_stage", "none")]))
    for (u, v, _), d in merged.items():
        d["truth_stage"] = d.pop("stages").most_common(1)[0][0]
        h.add_edge(u, v, **d)
    for _, d in h.nodes(data=True):
        if d["count"] > 1:
            d["label"] = f"{d['count']} x {d.get('truth_role', 'address')}"
    return h


def _positions(h: nx.MultiDiGraph) -> tuple[dict, list]:
    """Layer on x; on y, one band per chain (in order of first use), nodes in a layer ordered
    by the mean height of their senders. Returns positions and bands (chain, y0, y1)."""
    first_use: dict = {}
    for _, d in h.nodes(data=True):
        c = d.get("chain", "?")
        first_use[c] = min(first_use.get(c, math.inf), d["start"])
    chains = sorted(first_use, key=first_use.get)
    per = defaultdict(list)
    for n, d in h.nodes(data=True):
        per[(d["layer"], d.get("chain", "?"))].append(n)
    height = {c: max(len(v) for (_, cc), v in per.items() if cc == c) for c in chains}
    bands, top = [], 0.0
    for c in chains:  # first chain on top
        bands.append((c, top - height[c] - 0.5, top + 0.5))
        top -= height[c] + 1.5
    base = {c: y1 - 0.5 for c, _, y1 in bands}
    pos: dict = {}
    for lay in sorted({k[0] for k in per}):
        for c in chains:
            ns = per.get((lay, c), [])
            if not ns:
                continue

            def key(n):  # addresses that pass funds on above the sinks that keep them
                ys = [pos[u][1] for u in h.predecessors(n) if u in pos]
                sink = not any(v != n for v in h.successors(n))
                return (sink, -(sum(ys) / len(ys)) if ys else 0.0, h.nodes[n]["start"],
                        str(n))

            ns.sort(key=key)
            off = (height[c] - len(ns)) / 2
            for i, n in enumerate(ns):
                pos[n] = (float(lay), base[c] - off - i)
    return pos, bands


def flow_graph(ds, incident: int | None = None, hops: int = 0, max_nodes: int = 500,
               column_cap: int | None = COLUMN_CAP) -> nx.MultiDiGraph:
    """The incident's flow graph, ready to draw: nodes carry ``layer``, ``stage``, ``count``
    and ``members`` (the addresses of a bundle), ``label`` and ``pos``; the graph carries
    ``bands`` (chain, y0, y1) and ``bundled`` (addresses folded into bundles)."""
    if incident is None:
        if not ds.seeds.num_rows:
            raise ConfigError("this dataset has no announced incident to draw")
        incident = int(ds.seeds["incident_id"][0])
    g = to_networkx(ds, incident=incident, hops=hops, truth=True)
    _hidden_links(ds, g, incident)
    layer = _layers(g)
    h = _aggregate(g, layer, max_nodes, column_cap)
    pos, bands = _positions(h)
    for n, p in pos.items():
        h.nodes[n]["pos"] = p
    h.graph.update(incident=incident, bands=bands, addresses=g.number_of_nodes(),
                   transfers=sum(1 for *_, d in g.edges(data=True) if not d.get("hidden")),
                   bundled=g.number_of_nodes() - h.number_of_nodes(),
                   scenario=str(ds.meta.get("scenario", "dataset")))
    names = [i.get("name") for i in ds.meta.get("incidents", []) if i.get("id") == incident]
    h.graph["playbook"] = names[0] if names else ""
    return h


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _width(usd: np.ndarray) -> np.ndarray:
    lo = np.log10(np.maximum(usd, 1.0))
    span = max(float(lo.max() - lo.min()), 1e-9) if len(lo) else 1.0
    return 0.4 + 3.6 * (lo - (lo.min() if len(lo) else 0)) / span


def draw_incident(ds, path, incident: int | None = None, hops: int = 0,
                  max_nodes: int = 500, title: str | None = None, dpi: int = 110,
                  column_cap: int | None = COLUMN_CAP) -> Path:
    """Draw ``incident`` of ``ds`` (default: the first announced one) to ``path`` (PNG, SVG or
    PDF, from the suffix). ``hops`` adds benign context; past ``max_nodes`` addresses, like
    addresses of a layer are bundled into one node labelled with their number, as are the
    addresses of any layer taller than ``column_cap`` (None: no such limit)."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ConfigError(f"cannot draw to '{path.name}': use a .png, .svg or .pdf file")
    h = flow_graph(ds, incident, hops, max_nodes, column_cap)
    pos = nx.get_node_attributes(h, "pos")
    n_layers = max((p[0] for p in pos.values()), default=0) + 1
    y_span = -min((b[1] for b in h.graph["bands"]), default=-1)
    n = h.number_of_nodes()
    plt = _plt()
    fig_w = min(max(4.0 + 0.5 * n_layers, 9.0), 26.0)
    n_legend = 22 + len({d.get("service") for _, d in h.nodes(data=True)})
    fig_h = min(max(1.5 + 0.16 * y_span, 0.3 * fig_w, 0.15 * n_legend, 4.5), 20.0)
    fig, ax = plt.subplots(figsize=(fig_w + 2.6, fig_h))
    for i, (chain, y0, y1) in enumerate(h.graph["bands"]):
        ax.axhspan(y0, y1, color="#f3f6fa" if i % 2 == 0 else "#fbf8f1", zorder=0)
        ax.text(-0.6, (y0 + y1) / 2, chain, rotation=90, va="center", ha="center",
                fontsize=8, color="#445", fontweight="bold")
        if i:
            ax.axhline(y1, color="#8899aa", lw=0.8, ls=(0, (4, 3)), zorder=0.5)
    edges = [(u, v, d) for u, v, d in h.edges(data=True) if u != v]
    for hidden in (False, True):
        sub = [(u, v, d) for u, v, d in edges if bool(d.get("hidden")) == hidden]
        if not sub:
            continue
        segs = [(pos[u], pos[v]) for u, v, _ in sub]
        if hidden:
            lc = LineCollection(segs, colors="#3b6fb6", linewidths=1.0, linestyles="dashed",
                                alpha=0.8, zorder=1)
        else:
            w = _width(np.array([d.get("usd", 0.0) for *_, d in sub]))
            cols = [STAGE_COLOURS.get(d.get("truth_stage", "none"), "#999999")
                    if d.get("truth_incident", -1) >= 0 else "#bbbbbb" for *_, d in sub]
            lc = LineCollection(segs, colors=cols, linewidths=w, alpha=0.55, zorder=1)
        ax.add_collection(lc)
    size = float(np.clip(4000.0 / max(n, 1), 14.0, 110.0))
    by_marker = defaultdict(list)
    for node, d in h.nodes(data=True):
        by_marker[SERVICE_MARKERS.get(d.get("service", "none"), "o")].append(node)
    for marker, ns in by_marker.items():
        xs = [pos[v][0] for v in ns]
        ys = [pos[v][1] for v in ns]
        s = [size * (2.2 if h.nodes[v]["count"] > 1 or marker != "o" else 1.0) for v in ns]
        ax.scatter(xs, ys, s=s, marker=marker, zorder=3,
                   c=[ROLE_COLOURS.get(h.nodes[v].get("truth_role"), "#ff00ff") for v in ns],
                   edgecolors=[STAGE_COLOURS[h.nodes[v]["stage"]] for v in ns],
                   linewidths=1.4)
    named = set()  # a service's name once per layer
    for node, d in h.nodes(data=True):
        text = None
        if d["count"] > 1:
            text = f"x{d['count']}"
        elif d.get("service", "none") != "none" and n <= 200:
            text = d.get("service_name") or d["service"]
            if (d["layer"], text) in named:
                text = None
            named.add((d["layer"], text))
        if text:
            x, y = pos[node]
            ax.annotate(text, (x, y), xytext=(0, -9), textcoords="offset points",
                        ha="center", va="top", fontsize=6, color="#222", zorder=4)
    # hop layers, and the date each layer starts
    first = defaultdict(lambda: math.inf)
    for _, d in h.nodes(data=True):
        first[d["layer"]] = min(first[d["layer"]], d["start"])
    step = max(1, int(math.ceil(n_layers / 16)))
    ticks = list(range(0, int(n_layers), step))
    import datetime as _dt

    ax.set_xticks(ticks, [f"{t}\n{_dt.datetime.fromtimestamp(first[t], _dt.UTC):%d %b %y}"
                          if math.isfinite(first[t]) else str(t) for t in ticks], fontsize=7)
    ax.set_xlabel("hop from the theft (first date in the layer); time runs left to right",
                  fontsize=8)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(-1.0, n_layers - 0.4)
    ax.set_ylim(min((b[1] for b in h.graph["bands"]), default=-1) - 0.3, 0.8)
    # legend: roles present, stages, service shapes present, edge kinds
    roles = [r for r in ROLE_COLOURS if any(d.get("truth_role") == r
                                            for _, d in h.nodes(data=True))]
    hs = [Line2D([], [], marker="o", ls="", markerfacecolor=ROLE_COLOURS[r],
                 markeredgecolor="#555", label=r.replace("_", " ")) for r in roles]
    hs.append(Line2D([], [], ls="", label=""))
    hs += [Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgewidth=1.6,
                  markeredgecolor=STAGE_COLOURS[s], label=f"ring/edge: {s}")
           for s in STAGE_ORDER]
    svcs = sorted({d.get("service", "none") for _, d in h.nodes(data=True)} - {"none"})
    if svcs:
        hs.append(Line2D([], [], ls="", label=""))
        hs += [Line2D([], [], marker=SERVICE_MARKERS.get(s, "o"), ls="", markerfacecolor="white",
                      markeredgecolor="#333", label=s.replace("_", " ")) for s in svcs]
    hs.append(Line2D([], [], ls="", label=""))
    hs.append(Line2D([], [], color="#3b6fb6", ls="--", label="hidden service link (truth)"))
    hs.append(Line2D([], [], color="#888", lw=3, label="width: value (log USD)"))
    if len(h.graph["bands"]) > 1:
        hs.append(Line2D([], [], color="#8899aa", ls=(0, (4, 3)), label="chain boundary"))
    ax.legend(handles=hs, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False, borderaxespad=0.0)
    g = h.graph
    bundled = f"; {g['bundled']:,} addresses bundled" if g["bundled"] else ""
    ax.set_title(title or (f"{g['scenario']}, incident {g['incident']}"
                           + (f" ({g['playbook']})" if g["playbook"] else "")
                           + f": {g['addresses']:,} addresses, {g['transfers']:,} transfers"
                           + bundled), fontsize=9, loc="left")
    fig.subplots_adjust(left=0.03, right=1 - 2.6 / (fig_w + 2.6), top=1 - 0.45 / fig_h,
                        bottom=0.75 / fig_h)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
