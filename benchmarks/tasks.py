"""Benchmark tasks, derived from a dataset's ground truth (in the manner of OGB).

The dataset decides the task and its metrics; a detector never sees any of this. Four task
kinds exist:

``tracing``         from the announced seeds, rank addresses. Positives are the laundering
                    addresses of seeded incidents; each carries the hop distance and hours from
                    the theft, and integration points (cash-out addresses) carry the stolen value
                    that reached them.
``classification``  laundering versus benign, per address and per transaction, with the
                    temporal train / validation / test split that ships with the dataset.
``linking``         hidden mixer, bridge, swap and OTC links (in tx -> out tx).
``typology``        per typology, stage, incident and chain, the share of laundering
                    transactions (and of their stolen value) a detector's alerts cover.

Every task is a plain data object: item labels, masks and group memberships as numpy arrays,
so that an :class:`~launderbench.benchmarks.evaluator.Evaluator` can score any array of the right length
and the tests can build tasks by hand (:meth:`RankingTask.from_arrays`).

The temporal split is part of the dataset (:mod:`launderbench.simulator.split`,
``Dataset.split()``): transactions are cut 60 / 20 / 20 by time; an address belongs to the
part in which it first appears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from launderbench.simulator.errors import DatasetError
from launderbench.simulator.schema import LinkKind, Role, Stage, Typology
from launderbench.simulator.split import split_codes

TASK_KINDS = ("tracing", "classification", "linking", "typology")
LEVELS = ("address", "transaction")
#: every task a dataset can support, by name
TASK_NAMES = ("classification/address", "classification/transaction", "tracing/address",
              "typology", "linking")

#: roles that are not laundering: a victim is where funds were stolen from.
NOT_LAUNDERING_ROLES = (int(Role.BENIGN), int(Role.VICTIM))


# ----------------------------------------------------------------------------- tasks
def _empty_part(task, level: str) -> str:
    """Why a classification task cannot be evaluated ("" when it can): the temporal split
    must leave items and laundering in the test part, and items in the validation part
    (where the F1 threshold is chosen)."""
    test = task.mask & (task.split == 2)
    if not test.any():
        return (f"the temporal split leaves no {level} in the test part (every {level} "
                "appears before it)")
    if not task.y_true[test].any():
        return f"the temporal split leaves no laundering {level} in the test part"
    if not (task.mask & (task.split == 1)).any():
        return f"the temporal split leaves no {level} in the validation part"
    return ""


@dataclass
class Groups:
    """Named item groups for break-downs (typology, stage, incident, chain).

    ``positive[name]`` restricts the positives to a subset (the negatives stay), ``items[name]``
    restricts all items (a chain). Both are boolean masks over the task's items.
    """

    positive: dict[str, np.ndarray] = field(default_factory=dict)
    items: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RankingTask:
    """Rank items (addresses or transactions); laundering ones should come first.

    Parameters
    ----------
    kind : "tracing", "classification" or "typology"
    level : "address" or "transaction"
    y_true : bool array of shape (n_items,)
    mask : bool array of shape (n_items,), items that count (others are ignored)
    split : int8 array of shape (n_items,) or None; classification evaluates on the test part
        and chooses its threshold on the validation part
    value : float array of shape (n_items,) or None; USD value weights (stolen value at
        integration points for tracing, tainted value per transaction for typology)
    hops, hours : float arrays of shape (n_items,) or None; distance of each positive from
        the theft (NaN for negatives)
    budget : "auto" (k = number of positives) or an int alert budget k
    groups : :class:`Groups`
    """

    kind: str
    level: str
    y_true: np.ndarray
    mask: np.ndarray | None = None
    split: np.ndarray | None = None
    value: np.ndarray | None = None
    hops: np.ndarray | None = None
    hours: np.ndarray | None = None
    budget: int | str = "auto"
    groups: Groups = field(default_factory=Groups)

    def __post_init__(self):
        self.y_true = np.asarray(self.y_true).astype(bool)
        n = len(self.y_true)
        self.mask = np.ones(n, bool) if self.mask is None else np.asarray(self.mask, bool)
        if self.split is not None:
            self.split = np.asarray(self.split, dtype=np.int8)
        for name in ("value", "hops", "hours"):
            if getattr(self, name) is not None:
                setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        for name in ("mask", "split", "value", "hops", "hours"):
            a = getattr(self, name)
            if a is not None and len(a) != n:
                raise DatasetError(f"task {self.name}: '{name}' has {len(a)} items, expected {n}")

    @property
    def n_items(self) -> int:
        return len(self.y_true)

    @property
    def name(self) -> str:
        return self.kind if self.kind == "typology" else f"{self.kind}/{self.level}"

    @classmethod
    def from_arrays(cls, kind, y_true, **kw) -> RankingTask:
        level = kw.pop("level", "address")
        return cls(kind=kind, level=level, y_true=y_true, **kw)


@dataclass
class LinkingTask:
    """Recover hidden links: pairs (in tx, out tx) through a mixer, bridge, swap or OTC desk.

    Parameters
    ----------
    in_tx, out_tx : int arrays, the hidden links
    kind : int array (:class:`~launderbench.simulator.schema.LinkKind` codes)
    incident : int array, -1 for benign links
    n_transactions : number of transactions (bounds for submitted ids)
    """

    in_tx: np.ndarray
    out_tx: np.ndarray
    kind_code: np.ndarray | None = None
    incident: np.ndarray | None = None
    n_transactions: int | None = None
    chain: np.ndarray | None = None  # name of the chain of each link's in transaction
    kind: str = "linking"
    level: str = "link"

    def __post_init__(self):
        self.in_tx = np.asarray(self.in_tx, np.int64)
        self.out_tx = np.asarray(self.out_tx, np.int64)
        n = len(self.in_tx)
        if len(self.out_tx) != n:
            raise DatasetError("linking task: in_tx and out_tx differ in length")
        self.kind_code = (np.zeros(n, np.int64) if self.kind_code is None
                          else np.asarray(self.kind_code, np.int64))
        self.incident = (np.full(n, -1, np.int64) if self.incident is None
                         else np.asarray(self.incident, np.int64))

    @property
    def name(self) -> str:
        return "linking"

    @property
    def n_links(self) -> int:
        return len(self.in_tx)


# ----------------------------------------------------------------------------- derivation
class TaskSet:
    """All tasks a dataset supports, derived once from its truth tables.

    >>> ts = TaskSet(ds)                       # doctest: +SKIP
    >>> ts.names()                             # doctest: +SKIP
    ['tracing/address', 'classification/address', 'classification/transaction', 'typology',
     'linking']

    ``only`` (names from :data:`TASK_NAMES`) builds just those tasks; the default builds all
    that the dataset supports.
    """

    def __init__(self, ds, budget: int | str = "auto", only=None):
        self.ds = ds
        self.meta = ds.meta
        view = ds.observable()
        self.view = view
        self.n_tx = view.n_transactions
        self.n_addr = view.n_addresses
        self.budget = budget
        self.split = split_codes(ds)
        self._derive_labels()
        self.tasks: dict[str, RankingTask | LinkingTask] = {}
        want = set(TASK_NAMES if only is None else only)
        bad = want - set(TASK_NAMES)
        if bad:
            from launderbench.simulator.errors import ConfigError

            raise ConfigError(f"unknown task(s) {', '.join(sorted(bad))} (known: "
                              f"{', '.join(TASK_NAMES)})")
        #: tasks the dataset cannot support, with the reason (reported, never dropped silently)
        self.skipped: dict[str, str] = {}
        for level in LEVELS:
            name = f"classification/{level}"
            if name in want:
                task = self._classification(level)
                reason = _empty_part(task, level)
                if reason:
                    self.skipped[name] = reason
                else:
                    self.tasks[name] = task
        if "tracing/address" in want:
            if not ds.seeds.num_rows:
                self.skipped["tracing/address"] = "no announced seed to trace from"
            elif not self.addr_label.any():
                self.skipped["tracing/address"] = "no laundering address in the truth"
            else:
                self.tasks["tracing/address"] = self._tracing()
        if "typology" in want:
            if self.tx_label.any():
                self.tasks["typology"] = self._typology()
            else:
                self.skipped["typology"] = "no laundering transaction in the truth"
        if "linking" in want:
            if ds.links.num_rows:
                self.tasks["linking"] = self._linking()
            else:
                self.skipped["linking"] = "no hidden link in the truth"

    def names(self) -> list[str]:
        return list(self.tasks)

    def __getitem__(self, name: str):
        try:
            return self.tasks[name]
        except KeyError:
            from launderbench.simulator.errors import ConfigError

            raise ConfigError(f"this dataset has no task '{name}' (it has: "
                              f"{', '.join(self.tasks)})") from None

    # -- labels ---------------------------------------------------------------------------
    def _derive_labels(self):
        ds, view = self.ds, self.view
        n_tx, n_addr = self.n_tx, self.n_addr
        at = ds.address_truth
        self.addr_role = np.zeros(n_addr, np.int64)
        self.addr_incident = np.full(n_addr, -1, np.int64)
        self.addr_role[at["address_id"]] = at["role"]
        self.addr_incident[at["address_id"]] = at["incident_id"]
        self.addr_label = (self.addr_incident >= 0) & ~np.isin(self.addr_role,
                                                                NOT_LAUNDERING_ROLES)
        self.addr_victim = self.addr_role == int(Role.VICTIM)

        tt = ds.tx_truth
        self.tx_incident = np.full(n_tx, -1, np.int64)
        self.tx_stage = np.zeros(n_tx, np.int64)
        self.tx_typology = np.zeros(n_tx, np.int64)
        self.tx_incident[tt["tx_id"]] = tt["incident_id"]
        self.tx_stage[tt["tx_id"]] = tt["stage"]
        self.tx_typology[tt["tx_id"]] = tt["typology"]
        self.tx_label = self.tx_incident >= 0
        self.tx_chain = view.transactions["chain_id"].astype(np.int64)
        self.addr_chain = view.addresses["chain_id"].astype(np.int64)

        # tainted USD per output and per transaction
        outs = view.outputs
        usd = view.usd_per_base_unit()
        taint = ds.taint
        self.out_taint_usd = np.zeros(outs.num_rows)
        if taint.num_rows:
            oid = taint["output_id"]
            np.add.at(self.out_taint_usd, oid, taint["amount"] * usd[outs["asset_id"][oid]])
        self.tx_taint_usd = np.bincount(outs["tx_id"], weights=self.out_taint_usd,
                                        minlength=n_tx)[:n_tx]
        # laundering legs: (tx, address) pairs of laundering transactions
        self._legs = _legs(view)

    def chain_names(self) -> dict[int, str]:
        c = self.view.chains
        return {int(i): str(n) for i, n in zip(c["chain_id"], c["name"])}

    # -- groups -------------------------------------------------------------------------
    def _groups(self, level: str, positives: np.ndarray) -> Groups:
        g = Groups()
        chains = self.chain_names()
        if level == "transaction":
            typ, stage, inc, chain = (self.tx_typology, self.tx_stage, self.tx_incident,
                                      self.tx_chain)
            for t in np.unique(typ[positives]):
                g.positive[f"typology={_enum_name(Typology, t)}"] = positives & (typ == t)
            for s in np.unique(stage[positives]):
                g.positive[f"stage={_enum_name(Stage, s)}"] = positives & (stage == s)
        else:
            inc, chain = self.addr_incident, self.addr_chain
            tx_idx, a_idx = self._legs
            lt = self.tx_label[tx_idx]
            for name, codes, enum in (("typology", self.tx_typology, Typology),
                                      ("stage", self.tx_stage, Stage)):
                for t in np.unique(codes[tx_idx[lt]]):
                    m = np.zeros(self.n_addr, bool)
                    m[a_idx[lt & (codes[tx_idx] == t)]] = True
                    g.positive[f"{name}={_enum_name(enum, t)}"] = positives & m
        for i in np.unique(inc[positives]):
            g.positive[f"incident={int(i)}"] = positives & (inc == i)
        for c in np.unique(chain):
            g.items[f"chain={chains.get(int(c), c)}"] = chain == c
        return g

    # -- task builders ------------------------------------------------------------------
    def _classification(self, level: str) -> RankingTask:
        if level == "address":
            y, mask = self.addr_label, (self.split["address"] >= 0) & ~self.addr_victim
        else:
            y, mask = self.tx_label, np.ones(self.n_tx, bool)
        return RankingTask(kind="classification", level=level, y_true=y, mask=mask,
                           split=self.split[level], budget=self.budget,
                           groups=self._groups(level, y & mask))

    def _tracing(self) -> RankingTask:
        ds, view = self.ds, self.view
        seeded = np.unique(ds.seeds["incident_id"]).astype(np.int64)
        y = self.addr_label & np.isin(self.addr_incident, seeded)
        mask = ~self.addr_victim & (self.split["address"] >= 0)  # used addresses only
        hops = np.full(self.n_addr, np.nan)
        hours = np.full(self.n_addr, np.nan)
        ts = view.transactions["timestamp"]
        ins = view.inputs
        outs = view.outputs
        for inc in seeded:
            seed_tx = ds.seeds["tx_id"][ds.seeds["incident_id"] == inc]
            t0 = ts[seed_tx].min()
            # address graph of this incident's laundering transactions
            ltx = self.tx_incident == inc
            ltx[seed_tx] = True
            m_in, m_out = ltx[ins["tx_id"]], ltx[outs["tx_id"]]
            src, stx = ins["address_id"][m_in], ins["tx_id"][m_in]
            dst, dtx = outs["address_id"][m_out], outs["tx_id"][m_out]
            # pair inputs and outputs of the same tx: join via the tx id
            e_src, e_dst = _join_on(stx, src, dtx, dst)
            n = self.n_addr
            start = np.unique(dst[np.isin(dtx, seed_tx)])
            rows = np.concatenate([e_src, np.full(len(start), n)])
            cols = np.concatenate([e_dst, start])
            g = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
            d = csgraph.shortest_path(g, method="D", unweighted=True, directed=True,
                                      indices=n)[:n]
            # hop 1 = receivers of the seed transactions (one transaction from the theft)
            sel = y & (self.addr_incident == inc) & np.isfinite(d)
            hops[sel] = d[sel]
            # hours until the address first received funds of the incident
            recv_t = np.full(n, np.inf)
            np.minimum.at(recv_t, dst, ts[dtx].astype(float))
            sel = y & (self.addr_incident == inc) & np.isfinite(recv_t)
            hours[sel] = (recv_t[sel] - t0) / 3600.0
        # stolen value reaching cash-out points, counted at the laundering addresses only (a
        # service's hot wallet receiving a sweep is not an address an analyst should flag)
        value = self._integration_value(seeded) * y
        return RankingTask(kind="tracing", level="address", y_true=y, mask=mask, value=value,
                           hops=hops, hours=hours, budget=self.budget,
                           groups=self._groups("address", y & mask))

    def _integration_value(self, incidents) -> np.ndarray:
        """Stolen USD received per address in integration-stage transactions (cash-out)."""
        view = self.view
        outs = view.outputs
        value = np.zeros(self.n_addr)
        integ = (self.tx_stage == int(Stage.INTEGRATION)) & np.isin(self.tx_incident, incidents)
        m = integ[outs["tx_id"]] & (self.out_taint_usd > 0)
        if m.any():
            np.add.at(value, outs["address_id"][m], self.out_taint_usd[m])
        else:  # no stage labels: fall back to the cash-out role
            cash = (self.addr_role == int(Role.CASHOUT)) & np.isin(self.addr_incident, incidents)
            mo = cash[outs["address_id"]] & (self.out_taint_usd > 0)
            np.add.at(value, outs["address_id"][mo], self.out_taint_usd[mo])
        return value

    def _typology(self) -> RankingTask:
        y = self.tx_label
        return RankingTask(kind="typology", level="transaction", y_true=y,
                           value=self.tx_taint_usd, budget=self.budget,
                           groups=self._groups("transaction", y))

    def _linking(self) -> LinkingTask:
        lk = self.ds.links
        names = self.chain_names()
        chain = np.array([names.get(int(c), str(c)) for c in self.tx_chain[lk["in_tx_id"]]],
                         dtype=object)
        return LinkingTask(in_tx=lk["in_tx_id"], out_tx=lk["out_tx_id"], kind_code=lk["kind"],
                           incident=lk["incident_id"], n_transactions=self.n_tx, chain=chain)


def _enum_name(enum, code) -> str:
    try:
        return enum(int(code)).name.lower()
    except ValueError:
        return str(int(code))


def _legs(view) -> tuple[np.ndarray, np.ndarray]:
    """All (tx, address) pairs: every input and output leg."""
    tx = np.concatenate([view.inputs["tx_id"], view.outputs["tx_id"]]).astype(np.int64)
    ad = np.concatenate([view.inputs["address_id"], view.outputs["address_id"]]).astype(np.int64)
    return tx, ad


def _join_on(k1, v1, k2, v2):
    """All pairs (v1[i], v2[j]) with k1[i] == k2[j] (an inner join on integer keys)."""
    o1, o2 = np.argsort(k1, kind="stable"), np.argsort(k2, kind="stable")
    k1s, v1s, k2s, v2s = k1[o1], v1[o1], k2[o2], v2[o2]
    keys = np.unique(k1s)
    a1 = np.searchsorted(k1s, keys, "left")
    c1 = np.searchsorted(k1s, keys, "right") - a1
    a2 = np.searchsorted(k2s, keys, "left")
    c2 = np.searchsorted(k2s, keys, "right") - a2
    reps = c1 * c2
    tot = int(reps.sum())
    if tot == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    grp = np.repeat(np.arange(len(keys)), reps)
    pos = np.arange(tot) - np.repeat(np.cumsum(reps) - reps, reps)
    i1 = a1[grp] + pos // c2[grp]
    i2 = a2[grp] + pos % c2[grp]
    return v1s[i1], v2s[i2]


__all__ = ["TaskSet", "RankingTask", "LinkingTask", "Groups", "TASK_KINDS", "TASK_NAMES",
           "LinkKind"]
