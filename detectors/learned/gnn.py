"""Graph neural networks on torch-geometric: GCN and GIN on the address graph, and Multi-GNN
on the directed multigraph of transfers.

``gcn``        Graph convolutional network (Kipf & Welling 2017) in the Elliptic setup of Weber
               et al. (2019): two layers, 100 hidden units, class weights 0.3 / 0.7; node
               (address) classification.
``gin``        Graph isomorphism network (Xu et al. 2019): sum aggregation, an MLP per layer,
               every layer's representation concatenated for the read-out; node classification.
``multi-gnn``  Multi-GIN in the manner of Egressy et al. (AAAI 2024): transfers are directed,
               parallel edges between addresses, each carrying edge features; messages pass
               along and against the edges with separate weights (reverse message passing),
               edges carry port numbers, and an MLP updates the edge states after every layer;
               edge (transaction) classification.

All three learn from address labels (``needs_labels``). They train on the ledger cut at the
end of the labelled period (:func:`~launderbench.detectors.learned.labels.labelled_prefix`,
the rule of :class:`~launderbench.detectors.baselines.RawTxClassifier`): features, graph and
targets come from that prefix only, so the test period is never seen while fitting
(inductive, the protocol the re-evaluation arXiv 2604.19514 asks for). Scoring builds the
graph and features of whatever view it is given and applies the trained network.

Node features are :func:`~launderbench.detectors.learned.features.address_features`;
Multi-GNN's edges carry
:func:`~launderbench.detectors.learned.features.transaction_features` of their transaction
plus the edge's own USD value and port numbers. Features are standardised with the training
prefix's means and deviations.

torch and torch-geometric are imported inside the methods: this module imports without them,
and the registry lists the detectors as unavailable (with the install command) until the
``gnn`` extra is installed.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import numpy as np

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.errors import ConfigError

from ..base import Detector, Scores
from ..projection import address_to_tx, tx_to_address
from . import torch_utils as tu
from .features import address_features, transaction_features
from .labels import labelled_prefix, tx_labels

__all__ = ["GCN", "GIN", "MultiGNN", "address_graph", "port_numbers", "transfer_graph"]

#: ``slow``: the suites run them in ``full`` only (training takes seconds to minutes per
#: dataset on a CPU), and on request
_TAGS = {"needs_seeds": False, "needs_labels": True, "outputs": ("address", "transaction"),
         "requires": tu.REQUIRES, "extra": tu.EXTRA, "slow": True}


# ----------------------------------------------------------------------------- graphs (numpy)


def address_graph(view) -> np.ndarray:
    """Undirected address graph as a PyG ``edge_index`` (int64, shape ``(2, 2m)``, both
    directions): ``a -- b`` when a transaction has one of them among its inputs and the other
    among its outputs; self-loops dropped, parallel edges merged."""
    tr = view.transfers()
    a = np.asarray(tr["src"], dtype=np.int64)
    b = np.asarray(tr["dst"], dtype=np.int64)
    keep = a != b
    lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    n = max(view.n_addresses, 1)
    pairs = unique_sorted(lo * n + hi)
    lo, hi = pairs // n, pairs % n
    return np.stack([np.concatenate([lo, hi]), np.concatenate([hi, lo])])


def port_numbers(node: np.ndarray, other: np.ndarray, time: np.ndarray, n: int) -> np.ndarray:
    """Port number of each edge at ``node``: the rank of ``other`` among the distinct
    neighbours of ``node`` on this side, in the order of their first edge (ties by neighbour
    id). Parallel edges to one neighbour share a port (Egressy et al. 2024, section 4)."""
    node = np.asarray(node, dtype=np.int64)
    if len(node) == 0:
        return np.zeros(0, np.int64)
    n = max(int(n), 1)
    pairs, inv = np.unique(node * n + np.asarray(other, dtype=np.int64), return_inverse=True)
    first = np.full(len(pairs), np.iinfo(np.int64).max)
    np.minimum.at(first, inv, np.asarray(time, dtype=np.int64))
    owner = pairs // n
    order = np.lexsort((pairs % n, first, owner))
    owner_sorted = owner[order]
    start = np.searchsorted(owner_sorted, owner_sorted, side="left")
    rank = np.empty(len(pairs), np.int64)
    rank[order] = np.arange(len(pairs)) - start
    return rank[inv]


def transfer_graph(view) -> dict[str, np.ndarray]:
    """The directed multigraph of transfers: one edge per (input address, output) pair of a
    transaction (:meth:`~launderbench.simulator.dataset.ObservableView.transfers`), with its
    ``tx_id``, ``edge_index`` (2, m) and ``edge_attr`` (m, k) float32: the transaction's
    features, the edge's log USD value, and its in- and out-port numbers (log-scaled)."""
    tr = view.transfers()
    src = np.asarray(tr["src"], dtype=np.int64)
    dst = np.asarray(tr["dst"], dtype=np.int64)
    tx = np.asarray(tr["tx_id"], dtype=np.int64)
    n = view.n_addresses
    in_port = port_numbers(dst, src, tr["timestamp"], n)
    out_port = port_numbers(src, dst, tr["timestamp"], n)
    xt, _ = transaction_features(view)
    own = np.column_stack([np.log1p(np.maximum(np.asarray(tr["usd"], np.float64), 0.0)),
                           np.log1p(in_port), np.log1p(out_port)]).astype(np.float32)
    attr = np.concatenate([xt[tx], own.reshape(len(tx), 3)], axis=1)
    return {"edge_index": np.stack([src, dst]), "edge_attr": attr, "tx_id": tx}


# ----------------------------------------------------------------------------- networks (torch)


@functools.cache
def _networks():
    """The torch modules, built on first use (torch is imported here, not at module load)."""
    torch, _ = tu.torch_modules()
    from torch import nn
    from torch.nn import functional as F
    from torch_geometric.nn import GCNConv, GINConv, GINEConv

    def mlp(n_in, hidden, n_out, batch_norm=True):
        parts = [nn.Linear(n_in, hidden)]
        if batch_norm:
            parts.append(nn.BatchNorm1d(hidden))
        parts += [nn.ReLU(), nn.Linear(hidden, n_out)]
        return nn.Sequential(*parts)

    class GCNNet(nn.Module):
        """``layers`` graph convolutions, the last one to the two class logits."""

        def __init__(self, n_in, hidden, layers, dropout):
            super().__init__()
            dims = [n_in] + [hidden] * (layers - 1) + [2]
            self.convs = nn.ModuleList(GCNConv(a, b) for a, b in zip(dims[:-1], dims[1:]))
            self.dropout = dropout

        def forward(self, x, edge_index):
            for i, conv in enumerate(self.convs):
                x = F.dropout(x, self.dropout, self.training)
                x = conv(x, edge_index)
                if i < len(self.convs) - 1:
                    x = F.relu(x)
            return x

    class GINNet(nn.Module):
        """GIN-0 layers (MLP with batch norm, then batch norm and ReLU); the read-out is a
        linear layer on every layer's node states concatenated."""

        def __init__(self, n_in, hidden, layers, dropout):
            super().__init__()
            dims = [n_in] + [hidden] * layers
            self.convs = nn.ModuleList(GINConv(mlp(a, hidden, hidden), train_eps=False)
                                       for a in dims[:-1])
            self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
            self.head = nn.Linear(hidden * layers, 2)
            self.dropout = dropout

        def forward(self, x, edge_index):
            states = []
            for conv, norm in zip(self.convs, self.norms):
                x = F.relu(norm(conv(x, edge_index)))
                states.append(x)
            h = F.dropout(torch.cat(states, dim=1), self.dropout, self.training)
            return self.head(h)

    class MultiGINNet(nn.Module):
        """Multi-GIN with edge updates: per layer one GINE convolution along the edges and
        one against them (reverse message passing), summed; a residual node update; then
        ``e <- e + MLP([h_src, h_dst, e]) / 2``. Edge logits from ``[h_src, h_dst, e]``."""

        def __init__(self, n_node, n_edge, hidden, layers, dropout):
            super().__init__()
            self.node_in = nn.Linear(n_node, hidden)
            self.edge_in = nn.Linear(n_edge, hidden)
            self.forward_convs = nn.ModuleList(
                GINEConv(mlp(hidden, hidden, hidden), train_eps=True) for _ in range(layers))
            self.reverse_convs = nn.ModuleList(
                GINEConv(mlp(hidden, hidden, hidden), train_eps=True) for _ in range(layers))
            self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
            self.edge_mlps = nn.ModuleList(mlp(3 * hidden, hidden, hidden, batch_norm=False)
                                           for _ in range(layers))
            self.head = nn.Sequential(nn.Linear(3 * hidden, hidden), nn.ReLU(),
                                      nn.Dropout(dropout), nn.Linear(hidden, 2))

        def forward(self, x, edge_index, edge_attr):
            src, dst = edge_index
            reverse = edge_index.flip(0)
            x = self.node_in(x)
            e = self.edge_in(edge_attr)
            for fwd, rev, norm, emlp in zip(self.forward_convs, self.reverse_convs,
                                            self.norms, self.edge_mlps):
                h = fwd(x, edge_index, e) + rev(x, reverse, e)
                x = (x + F.relu(norm(h))) / 2
                e = e + emlp(torch.cat([x[src], x[dst], e], dim=1)) / 2
            return self.head(torch.cat([x[src], x[dst], e], dim=1))

    nets = {"gcn": GCNNet, "gin": GINNet, "multi-gnn": MultiGINNet}
    for cls in nets.values():  # importable by name, so that fitted detectors pickle
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    return nets


_NETWORK_NAMES = ("GCNNet", "GINNet", "MultiGINNet")


def __getattr__(name: str):
    """The network classes as module attributes, built (and torch imported) on first access;
    unpickling a fitted detector finds them here."""
    if name in _NETWORK_NAMES:
        return next(c for c in _networks().values() if c.__name__ == name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------- detectors


class _Training:
    """One model being trained: the network, its optimiser, inputs and targets on the device.
    :meth:`step` runs one full-batch epoch (used by :meth:`_GNN._fit` and the speed
    benchmarks)."""

    def __init__(self, net, inputs, y, mask, weights, learning_rate, device):
        torch, _ = tu.torch_modules()
        self.torch = torch
        self.net = net.to(device)
        self.inputs = inputs
        self.y = torch.as_tensor(y, dtype=torch.long, device=device)
        self.mask = torch.as_tensor(mask, dtype=torch.bool, device=device)
        self.loss = torch.nn.CrossEntropyLoss(
            weight=torch.tensor(weights, dtype=torch.float32, device=device))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=float(learning_rate))

    def step(self) -> float:
        self.net.train()
        self.opt.zero_grad()
        logits = self.net(*self.inputs)
        loss = self.loss(logits[self.mask], self.y[self.mask])
        loss.backward()
        self.opt.step()
        return float(loss.detach())


class _GNN(Detector):
    """Shared fitting and scoring of the graph neural networks (not registered).

    Subclasses set ``level`` (``"address"`` or ``"transaction"``: what the network
    classifies) and implement :meth:`_graph` (numpy inputs of a view), :meth:`_network` and
    :meth:`_tensors`.
    """

    tags: ClassVar[dict] = _TAGS
    level: ClassVar[str] = "address"

    def reads_seeds(self) -> bool:
        return True  # the node features include the hops from the announced seeds

    def __init__(self, hidden, layers, epochs, learning_rate, dropout, illicit_weight, seed,
                 device, threads):
        # each detector declares its own defaults and calls this
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.illicit_weight = illicit_weight
        self.seed = seed
        self.device = device
        self.threads = threads

    # -- what a subclass provides ------------------------------------------------------
    def _graph(self, view) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _network(self, graph):  # pragma: no cover - abstract
        raise NotImplementedError

    def _tensors(self, graph, device) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name, least in (("hidden", 1), ("layers", 1), ("epochs", 0)):
            v = getattr(self, name)
            if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < least:
                raise ConfigError(f"{type(self).__name__}: {name} must be an integer >= "
                                  f"{least}, got {v!r}")
        if not float(self.learning_rate) > 0:
            raise ConfigError(f"{type(self).__name__}: learning_rate must be > 0")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(f"{type(self).__name__}: dropout must be in [0, 1)")

    def _targets(self, view, labels, graph) -> tuple[np.ndarray, np.ndarray]:
        """Item labels (0/1) and the mask of items with a known label."""
        labels = np.asarray(labels, dtype=np.int64)
        if self.level == "address":
            seen = np.zeros(view.n_addresses, bool)
            for leg in (view.inputs, view.outputs):
                seen[np.asarray(leg["address_id"], dtype=np.int64)] = True
            y = labels
        else:
            y = tx_labels(view, labels)[graph["tx_id"]]
            seen = np.ones(len(y), bool)
        mask = (y >= 0) & seen
        return np.where(y == 1, 1, 0), mask

    def _scale(self, graph, fit: bool) -> dict[str, np.ndarray]:
        out = dict(graph)
        for key in ("x", "edge_attr"):
            if key in graph:
                if fit:
                    self.scaling_[key] = tu.scaling(graph[key])
                out[key] = tu.scale(graph[key], *self.scaling_[key])
        return out

    def _training(self, view, labels) -> _Training | None:
        """Build the model and its training data from the labelled prefix of ``view``;
        ``None`` (and a constant score in ``constant_``) when the prefix has no items of one
        of the two classes."""
        self._check_params()
        device = tu.resolve_device(self.device)
        self.device_ = str(device)
        prefix, k = labelled_prefix(view, labels)
        self.n_train_transactions_ = k
        self.scaling_ = {}
        graph = self._scale(self._graph(prefix), fit=True)
        y, mask = self._targets(prefix, labels, graph)
        self.n_train_ = int(mask.sum())
        self.constant_ = float(y[mask].mean()) if mask.any() else 0.0
        if mask.sum() == 0 or len(np.unique(y[mask])) < 2:
            return None
        weights = tu.class_weights(y[mask], self.illicit_weight)
        net = self._network(graph)
        return _Training(net, self._tensors(graph, device), y, mask, weights,
                         self.learning_rate, device)

    def _fit(self, view, labels=None) -> None:
        device = tu.resolve_device(self.device)
        with tu.reproducible(self.seed, device, self.threads):
            training = self._training(view, labels)
            self.losses_ = []
            if training is None:
                self.model_ = None
                return
            for _ in range(self.epochs):
                self.losses_.append(training.step())
        self.model_ = training.net.cpu().eval()

    def _probabilities(self, view) -> tuple[np.ndarray, dict]:
        """P(illicit) of every item the network classifies in ``view``, and its graph."""
        torch, _ = tu.torch_modules()
        device = tu.resolve_device(self.device)
        graph = self._scale(self._graph(view), fit=False)
        net = self.model_.to(device).eval()
        try:
            with tu.reproducible(self.seed, device, self.threads), torch.no_grad():
                logits = net(*self._tensors(graph, device))
                p = torch.softmax(logits, dim=1)[:, 1]
            return p.cpu().numpy().astype(np.float64), graph
        finally:
            self.model_ = net.cpu()

    def _score(self, view) -> Scores:
        n_a, n_t = view.n_addresses, view.n_transactions
        if self.model_ is None or n_a == 0:
            c = self.constant_
            return Scores(address=np.full(n_a, c), transaction=np.full(n_t, c),
                          info={"constant": True})
        p, graph = self._probabilities(view)
        if self.level == "address":
            return Scores(address=p, transaction=address_to_tx(view, p, fill=0.0))
        t = np.zeros(n_t, dtype=np.float64)
        if len(p):
            np.maximum.at(t, graph["tx_id"], p)
        return Scores(address=tx_to_address(view, t, fill=0.0), transaction=t)


class _NodeGNN(_GNN):
    """GNNs on the undirected address graph with address features."""

    def _graph(self, view) -> dict[str, np.ndarray]:
        x, _ = address_features(view)
        return {"x": x, "edge_index": address_graph(view)}

    def _tensors(self, graph, device) -> tuple:
        torch, _ = tu.torch_modules()
        return (torch.as_tensor(graph["x"], device=device),
                torch.as_tensor(graph["edge_index"], dtype=torch.long, device=device))

    def _network(self, graph):
        cls = _networks()[self.name]
        return cls(graph["x"].shape[1], int(self.hidden), int(self.layers), float(self.dropout))


class GCN(_NodeGNN):
    """Graph convolutional network on the address graph: address classification.

    Each layer is ``H' = D^-1/2 (A + I) D^-1/2 H W`` (symmetric normalisation with self-loops,
    :class:`torch_geometric.nn.GCNConv`), ReLU between layers, the last layer giving the two
    class logits. Trained full-batch with Adam and a class-weighted cross entropy on the
    labelled addresses of the labelled period. Address score = P(illicit); a transaction's
    score is the maximum over its addresses.

    Parameters
    ----------
    hidden : int, default 100
        Units of the hidden layers (Weber et al.: 100).
    layers : int, default 2
        Graph convolutions (Weber et al.: 2).
    epochs : int, default 200
        Full-batch training epochs (Weber et al.: 1000 at learning rate 1e-3).
    learning_rate : float, default 0.01
        Adam's step size (Kipf & Welling: 0.01 for 200 epochs).
    dropout : float, default 0.5
        Dropout before each layer (Kipf & Welling: 0.5).
    illicit_weight : float or "balanced", default 0.7
        Loss weights ``(1 - w, w)`` for (licit, illicit) (Weber et al.: 0.3 / 0.7).
    seed : int, default 0
    device : str, default "auto"
        ``"auto"`` (CUDA when torch sees a GPU, else CPU), ``"cpu"`` or ``"cuda"``.
    threads : int, default 1
        CPU threads of torch while fitting and scoring (one is the fastest on small graphs
        and keeps results identical across machines; more can pay at a million edges).

    References
    ----------
    Kipf & Welling, "Semi-supervised classification with graph convolutional networks",
    ICLR 2017; Weber et al., "Anti-money laundering in Bitcoin: experimenting with graph
    convolutional networks for financial forensics", KDD workshop on anomaly detection in
    finance, 2019 (the Elliptic setup: 2 layers, 100 hidden units, class weights 0.3/0.7,
    there on the transaction graph).
    """

    name: ClassVar[str] = "gcn"
    description: ClassVar[str] = (
        "GCN on the address graph (Kipf & Welling 2017; Elliptic setup of Weber et al. 2019; "
        "needs labels, gnn extra)")

    def __init__(self, hidden=100, layers=2, epochs=200, learning_rate=0.01, dropout=0.5,
                 illicit_weight=0.7, seed=0, device="auto",
                 threads=1):
        super().__init__(hidden, layers, epochs, learning_rate, dropout, illicit_weight, seed,
                         device, threads)


class GIN(_NodeGNN):
    """Graph isomorphism network on the address graph: address classification.

    Each layer is ``h' = MLP((1 + eps) h + sum of the neighbours' h)`` with ``eps = 0`` (GIN-0,
    the variant Xu et al. found best), the MLP two linear layers with batch normalisation,
    followed by batch normalisation and ReLU. As in Xu et al.'s read-out, every layer's
    states are concatenated before the final linear classifier. Trained full-batch with Adam
    and a class-weighted cross entropy. Address score = P(illicit); a transaction's score is
    the maximum over its addresses.

    Parameters
    ----------
    hidden : int, default 64
    layers : int, default 3
    epochs : int, default 200
    learning_rate : float, default 0.01
    dropout : float, default 0.5
        Dropout before the read-out (Xu et al.: 0.5).
    illicit_weight : float or "balanced", default "balanced"
    seed : int, default 0
    device : str, default "auto"
    threads : int, default 1

    References
    ----------
    Xu, Hu, Leskovec & Jegelka, "How powerful are graph neural networks?", ICLR 2019;
    Egressy et al., "Provably powerful graph neural networks for directed multigraphs",
    AAAI 2024 (GIN as the base model of Multi-GNN, F1 28.7 on AMLworld HI-Small).
    """

    name: ClassVar[str] = "gin"
    description: ClassVar[str] = (
        "GIN on the address graph (Xu et al. 2019; needs labels, gnn extra)")

    def __init__(self, hidden=64, layers=3, epochs=200, learning_rate=0.01, dropout=0.5,
                 illicit_weight="balanced", seed=0, device="auto",
                 threads=1):
        super().__init__(hidden, layers, epochs, learning_rate, dropout, illicit_weight, seed,
                         device, threads)


class MultiGNN(_GNN):
    """Multi-GNN: a GIN for directed multigraphs, classifying transfers (edges).

    The graph has one directed edge per transfer (input address -> output address of a
    transaction, so parallel edges between two addresses stay apart), with edge features:
    the transaction's features, the transfer's USD value, and its port numbers (the rank of
    the neighbour among the node's distinct in- or out-neighbours by first contact,
    :func:`port_numbers`). Node features are the address features. Per layer, a GINE
    convolution along the edges and a second one, with its own weights, against them
    (reverse message passing) are summed; the node state takes a residual update; then an
    edge MLP updates every edge state from its endpoints (``e += MLP([h_src, h_dst, e]) / 2``).
    An MLP on ``[h_src, h_dst, e]`` gives the edge's logits.

    Transfers are trained on with their transaction's label (illicit when one of its
    addresses is labelled illicit). Transaction score = maximum P(illicit) over its transfers
    (0 for a transaction without any, such as an issuance); address score = maximum over its
    transactions.

    Departures from the paper: full-batch training instead of neighbour-sampled mini-batches,
    hence no ego IDs (every node would be an ego); GIN only (no PNA); port numbers enter as
    log-scaled edge features.

    Parameters
    ----------
    hidden : int, default 32
    layers : int, default 2
    epochs : int, default 50
    learning_rate : float, default 0.01
    dropout : float, default 0.1
        Dropout in the edge classifier.
    illicit_weight : float or "balanced", default "balanced"
    seed : int, default 0
    device : str, default "auto"
    threads : int, default 1

    References
    ----------
    Egressy, von Niederhäusern, Blanuša, Altman, Wattenhofer & Atasu, "Provably powerful graph
    neural networks for directed multigraphs", AAAI 2024 (reverse message passing, port
    numbers, ego IDs, edge updates; Multi-GIN+EU F1 64.8 on AMLworld HI-Small); Hu et al.,
    "Strategies for pre-training graph neural networks", ICLR 2020 (the GINE convolution with
    edge features).
    """

    name: ClassVar[str] = "multi-gnn"
    description: ClassVar[str] = (
        "Multi-GIN on the transfer multigraph: reverse message passing, ports, edge updates "
        "(Egressy et al. 2024; needs labels, gnn extra)")
    level: ClassVar[str] = "transaction"

    def __init__(self, hidden=32, layers=2, epochs=50, learning_rate=0.01, dropout=0.1,
                 illicit_weight="balanced", seed=0, device="auto",
                 threads=1):
        super().__init__(hidden, layers, epochs, learning_rate, dropout, illicit_weight, seed,
                         device, threads)

    def _graph(self, view) -> dict[str, np.ndarray]:
        x, _ = address_features(view)
        return {"x": x, **transfer_graph(view)}

    def _tensors(self, graph, device) -> tuple:
        torch, _ = tu.torch_modules()
        return (torch.as_tensor(graph["x"], device=device),
                torch.as_tensor(graph["edge_index"], dtype=torch.long, device=device),
                torch.as_tensor(graph["edge_attr"], device=device))

    def _network(self, graph):
        cls = _networks()["multi-gnn"]
        return cls(graph["x"].shape[1], graph["edge_attr"].shape[1], int(self.hidden),
                   int(self.layers), float(self.dropout))
