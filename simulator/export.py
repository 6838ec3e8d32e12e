"""Export small datasets, or the neighbourhood of some addresses, to networkx.

For teaching, drawing and Gephi (``networkx.write_gexf``): never on a hot path.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np

from .errors import DatasetError
from .schema import Role, ServiceKind


def to_networkx(ds, addresses: Iterable[int] | None = None, hops: int = 1,
                max_edges: int = 200_000) -> nx.MultiDiGraph:
    """Address graph of ``ds`` as a :class:`networkx.MultiDiGraph`.

    One edge per (input address, output) pair of each transaction, carrying ``tx_id``,
    ``timestamp``, ``asset`` (symbol), ``amount`` (base units attributed to that input address
    in proportion to its inputs), ``incident`` (-1 unless the output is tainted) and ``stage``.
    Nodes carry ``chain``, the public ``service`` label and the truth ``role``/``incident``.
    With ``addresses``, only edges within ``hops`` of them (either direction) are kept.
    """
    view = ds.observable()
    tr = view.transfers()
    keep = np.ones(len(tr["src"]), bool)
    if addresses is not None:
        frontier = np.unique(np.asarray(list(addresses), np.int64))
        if frontier.size and (frontier.min() < 0 or frontier.max() >= view.n_addresses):
            raise DatasetError("to_networkx: address id out of range")
        nodes = frontier
        for _ in range(max(hops, 0)):
            touch = np.isin(tr["src"], nodes) | np.isin(tr["dst"], nodes)
            nodes = np.union1d(nodes, np.concatenate([tr["src"][touch], tr["dst"][touch]]))
        keep = np.isin(tr["src"], nodes) & np.isin(tr["dst"], nodes)
    idx = np.flatnonzero(keep)
    if len(idx) > max_edges:
        raise DatasetError(f"to_networkx: {len(idx):,} edges exceed max_edges={max_edges:,}; "
                           "export a neighbourhood instead")
    taint = ds.tables["taint"]
    out_inc = np.full(view.outputs.num_rows, -1, np.int64)
    out_inc[taint["output_id"]] = taint["incident_id"]
    stage = ds.tables["tx_truth"]["stage"]
    symbols = view.assets["symbol"]
    chains = view.chains["name"]
    g = nx.MultiDiGraph()
    node_ids = np.unique(np.concatenate([tr["src"][idx], tr["dst"][idx]])) if len(idx) else \
        np.zeros(0, np.int64)
    at = ds.tables["address_truth"]
    for a in node_ids.tolist():
        g.add_node(a, chain=str(chains[view.addresses["chain_id"][a]]),
                   service=ServiceKind(int(view.addresses["service_kind"][a])).name.lower(),
                   service_name=view.addresses["service_name"][a] or "",
                   role=Role(int(at["role"][a])).name.lower(),
                   incident=int(at["incident_id"][a]))
    for i in idx.tolist():
        t = int(tr["tx_id"][i])
        g.add_edge(int(tr["src"][i]), int(tr["dst"][i]), tx_id=t,
                   timestamp=int(tr["timestamp"][i]), asset=str(symbols[tr["asset_id"][i]]),
                   amount=float(tr["amount"][i]), usd=float(tr["usd"][i]),
                   incident=int(out_inc[tr["output_id"][i]]), stage=int(stage[t]))
    return g
