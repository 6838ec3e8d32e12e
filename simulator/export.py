"""Export small datasets, an incident, or the neighbourhood of some addresses, to networkx and
to files for Gephi (GEXF with a timeline), yEd and Cytoscape (GraphML) and web tools
(node-link JSON).

For teaching, drawing and Gephi: never on a hot path. Observable attributes (what an
investigator sees on chain and in a tag database) have plain names; ground-truth attributes
start with ``truth_`` and are left out with ``truth=False``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx
import numpy as np

from .errors import ConfigError, DatasetError
from .schema import Role, ServiceKind, Stage, Typology

#: the file formats :func:`write_graph` knows
FORMATS = ("gexf", "graphml", "json")
TRUTH_PREFIX = "truth_"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def incident_addresses(ds, incident: int) -> np.ndarray:
    """Addresses that send or receive in ``incident``'s laundering transactions (the announced
    hack transaction included)."""
    txs = incident_transactions(ds, incident)
    view = ds.observable()
    ins = np.asarray(view.inputs["address_id"])[np.isin(view.inputs["tx_id"], txs)]
    outs = np.asarray(view.outputs["address_id"])[np.isin(view.outputs["tx_id"], txs)]
    return np.union1d(ins, outs).astype(np.int64)


def incident_transactions(ds, incident: int) -> np.ndarray:
    """Transaction ids of ``incident``: its laundering transactions and its seeds."""
    tt = np.asarray(ds.tables["tx_truth"]["incident_id"])
    seeds = ds.tables["seeds"]
    txs = np.union1d(np.flatnonzero(tt == incident),
                     np.asarray(seeds["tx_id"])[np.asarray(seeds["incident_id"]) == incident])
    if txs.size == 0:
        known = sorted(set(np.unique(tt[tt >= 0]).tolist())
                       | set(np.asarray(seeds["incident_id"]).tolist()))
        raise ConfigError(f"no incident {incident} in this dataset (incidents: "
                          f"{', '.join(map(str, known)) or 'none'})")
    return txs.astype(np.int64)


def to_networkx(ds, addresses: Iterable[int] | None = None, hops: int = 1,
                max_edges: int = 200_000, *, incident: int | None = None,
                truth: bool = True) -> nx.MultiDiGraph:
    """Address graph of ``ds`` as a :class:`networkx.MultiDiGraph`.

    One edge per (input address, output) pair of each transaction. Observable edge attributes:
    ``tx_id``, ``timestamp`` (seconds), ``time`` (ISO 8601, UTC), ``start`` (the timestamp as a
    float, for Gephi's timeline), ``chain``, ``asset`` (symbol), ``amount`` (base units
    attributed to that input address in proportion to its inputs), ``value`` (whole units) and
    ``usd``. Observable node attributes: ``chain``, the public ``service`` label and
    ``service_name``, ``start``/``time`` (first transaction seen in the export).

    With ``truth`` the ground truth is added under ``truth_`` names: edges get
    ``truth_incident`` (-1 unless the output is tainted), ``truth_stage`` and
    ``truth_typology`` of the transaction; nodes get ``truth_role`` and ``truth_incident``.

    With ``incident``, the incident's laundering transactions (and its announced hack) are
    exported, plus ``hops`` hops of surrounding context (``hops=0``: the laundering only).
    With ``addresses``, only edges within ``hops`` of them (either direction) are kept.
    """
    view = ds.observable()
    tr = view.transfers()
    keep = np.ones(len(tr["src"]), bool)
    if incident is not None:
        txs = incident_transactions(ds, incident)
        keep = np.isin(tr["tx_id"], txs)
        if hops > 0:
            addresses = np.union1d(tr["src"][keep], tr["dst"][keep])
        else:
            addresses = None
    if addresses is not None:
        frontier = np.unique(np.asarray(list(addresses), np.int64))
        if frontier.size and (frontier.min() < 0 or frontier.max() >= view.n_addresses):
            raise DatasetError("to_networkx: address id out of range")
        nodes = frontier
        for _ in range(max(hops, 0)):
            touch = np.isin(tr["src"], nodes) | np.isin(tr["dst"], nodes)
            nodes = np.union1d(nodes, np.concatenate([tr["src"][touch], tr["dst"][touch]]))
        keep = keep | (np.isin(tr["src"], nodes) & np.isin(tr["dst"], nodes)) \
            if incident is not None else np.isin(tr["src"], nodes) & np.isin(tr["dst"], nodes)
    idx = np.flatnonzero(keep)
    if len(idx) > max_edges:
        raise DatasetError(f"to_networkx: {len(idx):,} edges exceed max_edges={max_edges:,}; "
                           "export a neighbourhood instead")
    taint = ds.tables["taint"]
    out_inc = np.full(view.outputs.num_rows, -1, np.int64)
    out_inc[taint["output_id"]] = taint["incident_id"]
    stage = np.asarray(ds.tables["tx_truth"]["stage"])
    typology = np.asarray(ds.tables["tx_truth"]["typology"])
    tx_chain = np.asarray(view.transactions["chain_id"])
    symbols = view.assets["symbol"]
    decimals = np.asarray(view.assets["decimals"])
    chains = view.chains["name"]
    g = nx.MultiDiGraph(name=str(ds.meta.get("scenario", "dataset")), mode="dynamic")
    if incident is not None:
        g.graph["incident"] = int(incident)
    node_ids = np.unique(np.concatenate([tr["src"][idx], tr["dst"][idx]])) if len(idx) else \
        np.zeros(0, np.int64)
    first = {}
    for i in idx.tolist():
        t = int(tr["timestamp"][i])
        for a in (int(tr["src"][i]), int(tr["dst"][i])):
            if t < first.get(a, t + 1):
                first[a] = t
    at = ds.tables["address_truth"]
    # original address strings of imported data (``ds.identity``, set by whoever loaded them)
    original = (getattr(ds, "identity", None) or {}).get("address")
    for a in node_ids.tolist():
        attrs = dict(chain=str(chains[view.addresses["chain_id"][a]]),
                     service=ServiceKind(int(view.addresses["service_kind"][a])).name.lower(),
                     service_name=view.addresses["service_name"][a] or "",
                     start=float(first[a]), time=_iso(first[a]))
        if original is not None:
            attrs["address"] = str(original[a])
        if truth:
            attrs.update(truth_role=Role(int(at["role"][a])).name.lower(),
                         truth_incident=int(at["incident_id"][a]))
        g.add_node(a, **attrs)
    for k, i in enumerate(idx.tolist()):
        t = int(tr["tx_id"][i])
        ts = int(tr["timestamp"][i])
        asset = int(tr["asset_id"][i])
        attrs = dict(tx_id=t, timestamp=ts, time=_iso(ts), start=float(ts),
                     chain=str(chains[tx_chain[t]]), asset=str(symbols[asset]),
                     amount=float(tr["amount"][i]),
                     value=float(tr["amount"][i]) / 10 ** int(decimals[asset]),
                     usd=float(tr["usd"][i]))
        if truth:
            attrs.update(truth_incident=int(out_inc[tr["output_id"][i]]),
                         truth_stage=Stage(int(stage[t])).name.lower(),
                         truth_typology=Typology(int(typology[t])).name.lower())
        g.add_edge(int(tr["src"][i]), int(tr["dst"][i]), key=k, **attrs)
    return g


def write_graph(g: nx.MultiDiGraph, path, fmt: str | None = None) -> Path:
    """Write ``g`` as GEXF (dynamic: Gephi's timeline replays it), GraphML (times as
    attributes) or node-link JSON; ``fmt`` defaults to the file's suffix."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format '{fmt}' (choose {', '.join(FORMATS)})")
    if fmt == "gexf":
        nx.write_gexf(g, path)
    elif fmt == "graphml":
        h = g.copy()  # GraphML has no dynamic mode: the timeline lives in the attributes
        h.graph.pop("mode", None)
        nx.write_graphml(h, path)
    else:
        data = nx.node_link_data(g, edges="links")
        path.write_text(json.dumps(data, indent=1))
    return path


def read_graph(path, fmt: str | None = None) -> nx.MultiDiGraph:
    """Read back a file written by :func:`write_graph` (node ids as integers)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "gexf":
        return nx.read_gexf(path, node_type=int)
    if fmt == "graphml":
        return nx.read_graphml(path, node_type=int, force_multigraph=True)
    if fmt == "json":
        return nx.node_link_graph(json.loads(path.read_text()), edges="links")
    raise ConfigError(f"unknown export format '{fmt}' (choose {', '.join(FORMATS)})")
