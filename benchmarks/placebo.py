"""Placebo incidents: how far a baseline strays from chance when nothing is laundering.

A baseline's ROC-AUC on one preset and seed measures one incident: a few dozen transactions
of one actor in the test part of the split. How far from 0.5 such a number can fall by the
actor alone, with no leak in the generator, is what a *placebo* measures. The truth of the
dataset is rewritten so that one of the incident's benign twins
(:mod:`launderbench.simulator.laundering.twins`: a benign entity that runs the same playbook
with its own funds) is labelled as the laundering and the real incident as benign. Each
detector is then evaluated on the placebo's tasks exactly as on the real labels. Several
placebos give the spread a detector reaches on a benign replay; a real result that lies within
it does not single out laundering (a permutation test over actors, after the placebo tests of
program evaluation: Abadie, Diamond & Hainmueller, "Synthetic control methods for comparative
case studies", JASA 105(490), 2010).

What a placebo labels (:func:`actor_masks`): every transaction with a leg at one of the twin's
own wallets or at the far side of its hidden links, those wallets, and the deposit addresses
dedicated to it at cash-out services (exchanges, OTC desks, marketplaces, merchants). The same
rule applied to an incident's attacker gives back the real labels (the laundering
transactions and the ``CASHOUT`` addresses), so the placebo is labelled as the laundering is.
Victim addresses stay out of the address tasks in both worlds.

Two views of one placebo (:func:`placebo_dataset`):

* **classification** (``announce=False``): the observable tables are those of ``ds``, byte for
  byte, the real theft still announced; a placebo has no taint and no tracing task;
* **tracing** (``announce=True``): the twin's own "theft" is announced instead. A twin starts
  as its incident does (:mod:`launderbench.simulator.laundering.drain`): a dedicated wallet of
  a service, funded by an issuance, pays the twin's first wallets. :func:`actor_seeds` finds
  those transactions (applied to the attackers it gives back the announced seeds exactly);
  they become the placebo's ``seeds``, so that :class:`~launderbench.benchmarks.tasks.TaskSet`
  builds ``tracing/address`` with the twin's flow as its positives, each with its hop
  distance from that theft. The observable view then differs from the real one in its
  ``seeds`` table only. The dedicated wallet becomes the placebo's victim (left out of the
  tasks, as the real victims are).

Used by ``python -m launderbench.benchmarks.validity`` and by the placebo test of
``tests/benchmarks/test_shortcuts.py``.
"""

from __future__ import annotations

import numpy as np

from launderbench.detectors.projection import legs
from launderbench.simulator.dataset import Dataset, Table
from launderbench.simulator.laundering import twins
from launderbench.simulator.ledger import CASHOUT_KINDS
from launderbench.simulator.schema import Role, Stage, Typology
from launderbench.simulator.split import split_codes

from .tasks import Groups, TaskSet

__all__ = ["placebo_dataset", "placebo_candidates", "placebo_rows", "placebo_aucs", "placebo_p",
           "placebo_percentile", "set_apart", "placebo_percentiles", "actor_masks",
           "actor_seeds", "CLASSIFICATION", "TRACING", "PLACEBO_TASKS"]

CLASSIFICATION = ("classification/address", "classification/transaction")
TRACING = ("tracing/address",)
#: the tasks a placebo is built for
PLACEBO_TASKS = TRACING + CLASSIFICATION


def _address_entity(ds: Dataset, n_addresses: int) -> np.ndarray:
    """The entity of every address (-1 where the truth has none)."""
    at = ds.address_truth
    ent = np.full(n_addresses, -1, np.int64)
    ent[at["address_id"]] = at["entity_id"]
    return ent


def _own(ds: Dataset, n_addresses: int, entities) -> np.ndarray:
    ent = _address_entity(ds, n_addresses)
    return np.isin(ent, np.asarray(list(entities), np.int64)) & (ent >= 0)


def actor_masks(ds: Dataset, entities) -> tuple[np.ndarray, np.ndarray]:
    """(address mask, transaction mask) of the flow of the actor(s) ``entities``.

    Transactions: every transaction with a leg at one of the actors' own addresses, and the
    far side of their hidden links (``links``: a mixer withdrawal paid straight to a deposit
    address touches none of the actor's wallets). Addresses: the actors' own addresses, and
    the deposit addresses dedicated to them (an address of a cash-out service,
    :data:`launderbench.simulator.ledger.CASHOUT_KINDS`, whose every received output comes from those
    transactions). Applied to the incidents' attackers, this gives back their laundering
    labels (tested): on the 11 presets at seeds 0-1 (4,000 transactions) exactly, but for 2-4
    exchange deposit addresses on Ronin that receive only laundering in a layering step (chain
    hopping through an exchange), which the generator does not count as cash-out.
    """
    view = ds.observable()
    n_a = view.n_addresses
    ent = _address_entity(ds, n_a)
    own = _own(ds, n_a, entities)
    tx, ad = legs(view)
    txm = np.zeros(view.n_transactions, bool)
    txm[tx[own[ad]]] = True
    # and the far side of the actor's hidden links (a mixer withdrawal paid straight to a
    # deposit address touches none of its wallets)
    links = ds.links
    if links.num_rows:
        txm[links["out_tx_id"][txm[links["in_tx_id"]]]] = True
    kind = np.asarray(ds.entities["kind"])
    service = np.zeros(n_a, bool)
    service[ent >= 0] = np.isin(kind[ent[ent >= 0]], [int(k) for k in CASHOUT_KINDS])
    outs = view.outputs
    received = np.bincount(outs["address_id"], minlength=n_a)[:n_a]
    from_actor = np.bincount(outs["address_id"], weights=txm[outs["tx_id"]],
                             minlength=n_a)[:n_a]
    cashout = service & ~own & (received > 0) & (from_actor == received)
    return own | cashout, txm


def actor_seeds(ds: Dataset, entities) -> tuple[np.ndarray, np.ndarray]:
    """(transaction ids, source address mask) of the "theft" that starts the actors' flow.

    A *source* is an address of someone else that is funded by issuances only (besides the
    change of its own spends) and whose every spend pays the actors' own addresses and
    nothing but itself; the transactions in which a source pays the actors are the theft.
    This is how the generator starts every incident and every benign twin
    (:mod:`launderbench.simulator.laundering.drain`: a service's dedicated wallet, issued the
    amount at the start, pays the first wallets of the flow). Applied to the incidents'
    attackers it gives back the announced ``seeds`` (tested; exactly on the 11 presets at
    seed 0, 4,000 transactions, where every twin also gets as many such transactions as its
    incident announces). Sorted transaction ids; empty when the flow has no such start.
    """
    view = ds.observable()
    n_a = view.n_addresses
    own = _own(ds, n_a, entities)
    ins, outs = view.inputs, view.outputs
    it, ia = ins["tx_id"].astype(np.int64), ins["address_id"].astype(np.int64)
    ot, oa = outs["tx_id"].astype(np.int64), outs["address_id"].astype(np.int64)
    issuance = np.asarray(view.transactions["is_issuance"], bool)
    in_key = np.unique(it * n_a + ia)  # (transaction, address it spends from)
    out_key = ot * n_a + oa
    # funded by issuances, or by the change of its own spends
    change = np.isin(out_key, in_key)
    unfunded = np.bincount(oa[~(issuance[ot] | change)], minlength=n_a)[:n_a] > 0
    # a spend pays nobody but the actors and the spender itself
    n_tx = view.n_transactions
    foreign = np.bincount(ot[~own[oa]], minlength=n_tx)[:n_tx]
    pays_actor = np.bincount(ot[own[oa]], minlength=n_tx)[:n_tx] > 0
    keys, n_change = np.unique(out_key[change], return_counts=True)
    pair_t, pair_a = in_key // n_a, in_key % n_a
    to_self = np.zeros(len(in_key), np.int64)
    pos = np.searchsorted(keys, in_key)
    hit = pos < len(keys)
    hit[hit] = keys[pos[hit]] == in_key[hit]
    to_self[hit] = n_change[pos[hit]]
    clean = foreign[pair_t] == to_self
    spends = np.bincount(pair_a, minlength=n_a)[:n_a]
    clean_spends = np.bincount(pair_a, weights=clean, minlength=n_a)[:n_a]
    paid = np.bincount(pair_a, weights=pays_actor[pair_t], minlength=n_a)[:n_a] > 0
    source = ~own & ~unfunded & (spends > 0) & (clean_spends == spends) & paid
    seeds = np.unique(pair_t[source[pair_a] & pays_actor[pair_t]])
    return seeds, source


def placebo_dataset(ds: Dataset, entity: int, announce: bool = False) -> Dataset:
    """``ds`` with twin ``entity`` labelled as the laundering and every incident as benign.

    In the truth, the twin's addresses (:func:`actor_masks`) get role ``INTERMEDIARY`` and an
    incident id no real incident has, its transactions that incident; every other address and
    transaction is benign (victims keep their role, so that the address tasks leave out the
    same addresses). Taint is empty and links have no incident. ``meta["placebo"]`` records
    the twin, its incident id and ``announce``.

    Without ``announce`` the observable tables, the announced theft included, are those of
    ``ds``: build its tasks with ``TaskSet(placebo, only=CLASSIFICATION)``. With ``announce``
    the ``seeds`` table announces the twin's own start instead (:func:`actor_seeds`, under the
    placebo's incident id) and its source addresses become the placebo's victims: ``TaskSet``
    then also builds ``tracing/address``, whose positives are the twin's addresses.
    """
    names = twins.entities(ds.entities)
    if entity not in names:
        from launderbench.simulator.errors import ConfigError

        raise ConfigError(f"entity {entity} is not a benign twin of this dataset")
    addr, txm = actor_masks(ds, [entity])
    at = ds.address_truth
    inc = 1 + max(int(at["incident_id"].max(initial=-1)),
                  int(ds.seeds["incident_id"].max(initial=-1)))
    victim = at["role"] == int(Role.VICTIM)
    mine = addr[at["address_id"]]
    incident = np.where(mine, inc, -1)
    tables = dict(ds.tables)
    if announce:
        seed_tx, source = actor_seeds(ds, [entity])
        src = source[at["address_id"]]
        victim, incident = victim | src, np.where(src, inc, incident)
        tables["seeds"] = Table("seeds", {"incident_id": np.full(len(seed_tx), inc, np.int32),
                                          "tx_id": seed_tx.astype(np.int64)})
    role = np.where(mine, int(Role.INTERMEDIARY),
                    np.where(victim, int(Role.VICTIM), int(Role.BENIGN)))
    address_truth = {"address_id": at["address_id"], "entity_id": at["entity_id"],
                     "role": role, "incident_id": incident}
    n_tx = len(txm)
    tx_truth = {"tx_id": np.arange(n_tx), "incident_id": np.where(txm, inc, -1),
                "stage": np.full(n_tx, int(Stage.NONE)),
                "typology": np.full(n_tx, int(Typology.NONE))}
    links = {k: ds.links[k] for k in ds.links}
    links["incident_id"] = np.full(ds.links.num_rows, -1)
    tables.update(address_truth=Table("address_truth", address_truth),
                  tx_truth=Table("tx_truth", tx_truth), links=Table("links", links),
                  taint=Table.empty("taint"))
    meta = {k: v for k, v in ds.meta.items() if k != "content_hash"}
    meta["placebo"] = {"entity": int(entity), "twin_of": int(names[entity]), "incident": inc,
                       "announce": bool(announce)}
    return Dataset(tables, meta)


def placebo_candidates(ds: Dataset, k: int = 10, min_train: int = 20, min_test: int = 10,
                       seed: int = 0) -> list[int]:
    """Up to ``k`` twin entities with at least ``min_train`` transactions (with a leg at
    their wallets) in the training part of the split and ``min_test`` in the test part (so
    that a classifier has something to learn from and to be tested on), drawn with ``seed``;
    sorted."""
    split = split_codes(ds)["transaction"]
    names = twins.entities(ds.entities)
    if not names:
        return []
    view = ds.observable()
    ent = _address_entity(ds, view.n_addresses)
    tx, ad = legs(view)
    is_twin = np.zeros(int(max(names)) + 1, bool)
    is_twin[list(names)] = True
    e = ent[ad]
    keep = (e >= 0) & (e < len(is_twin))
    keep[keep] = is_twin[e[keep]]
    # one (entity, transaction) pair per transaction with a leg at that twin's wallets
    pairs = np.unique(np.stack([e[keep], tx[keep]]), axis=1)
    part = split[pairs[1]]
    n_train = np.bincount(pairs[0], weights=part == 0, minlength=len(is_twin))
    n_test = np.bincount(pairs[0], weights=part == 2, minlength=len(is_twin))
    out = [x for x in sorted(names) if n_train[x] >= min_train and n_test[x] >= min_test]
    rng = np.random.default_rng(seed)
    return sorted(int(e) for e in rng.permutation(np.asarray(out, np.int64))[:k])


def placebo_p(real: float, placebos) -> float:
    """How placebo-like a result is: the share of ``placebos`` at least as far from 0.5 as
    ``real``, counting ``real`` itself, ``(1 + #{|p - 0.5| >= |real - 0.5|}) / (k + 1)``
    (a permutation p-value; 1.0 without placebos)."""
    p = np.abs(np.asarray(placebos, np.float64) - 0.5)
    return float((1 + (p >= abs(real - 0.5) - 1e-12).sum()) / (len(p) + 1))


def placebo_percentile(real: float, placebos) -> float:
    """Where ``real`` lies among ``placebos``, in percent: the share of placebos below it,
    ties counting half (50 is the middle of a benign replay's spread, 100 above every one,
    0 below every one; NaN without placebos)."""
    p = np.asarray(placebos, np.float64)
    if not len(p):
        return float("nan")
    return float(100.0 * ((p < real - 1e-12).sum() + 0.5 * (np.abs(p - real) <= 1e-12).sum())
                 / len(p))


def set_apart(real: float, placebos) -> bool:
    """Whether ``real`` is farther from 0.5 than every one of ``placebos`` (either way): by
    chance, with ``k`` exchangeable placebos, this happens with probability ``1 / (k + 1)``
    (:func:`placebo_p` at its smallest). False without placebos."""
    k = len(placebos)
    return bool(k) and placebo_p(real, placebos) <= 1.0 / (k + 1) + 1e-9


def _tasks(ds: Dataset, only, groups: bool) -> TaskSet:
    """``TaskSet(ds, only=only)``, without the break-down groups unless ``groups`` (the
    overall results are the same, and evaluated several times faster)."""
    ts = TaskSet(ds, only=only)
    if not groups:
        for task in ts.tasks.values():
            task.groups = Groups()
    return ts


def _placebo_tasksets(ds: Dataset, entity: int, tasks, groups: bool,
                      announced_classification: bool = False) -> list[TaskSet]:
    """The tasks of one placebo: the classification ones on the unchanged view, tracing on
    the view that announces the twin's start (:func:`placebo_dataset`); with
    ``announced_classification``, the classification ones on that view too (for detectors
    that read the seeds, marked ``ts.announced``)."""
    out = []
    cls = [t for t in tasks if t in CLASSIFICATION]
    if cls:
        ts = _tasks(placebo_dataset(ds, entity), cls, groups)
        ts.announced = False
        out.append(ts)
    if any(t in TRACING for t in tasks) or (cls and announced_classification):
        only = [t for t in tasks if t in TRACING or (announced_classification
                                                      and t in CLASSIFICATION)]
        ts = _tasks(placebo_dataset(ds, entity, announce=True), only, groups)
        ts.announced = True
        if ts.tasks:
            out.append(ts)
    return out


def _evaluate(ts: TaskSet, name: str, cache: dict) -> list[dict]:
    """Result rows of detector ``name`` on the tasks of ``ts``.

    A detector that learns from labels is fitted on ``ts``'s training labels, and evaluated
    on the classification tasks only (as the runner does); any other scores the observable
    view once per content it reads (``cache``, keyed by name and, for a detector that needs
    the seeds, the ``seeds`` table: a placebo's view differs from the real one there at most).
    """
    from launderbench import detectors

    from .scoring import evaluate_scores, training_labels

    det = detectors.make(name)
    view = ts.view
    if det._tag("needs_labels"):
        if not any(t.kind == "classification" for t in ts.tasks.values()):
            return []
        # a learner that reads the seeds meets, in a placebo, the twin's start announced (as
        # the real laundering has the real theft announced); one that does not, the
        # unchanged view
        if getattr(ts, "announced", None) is not None and \
                bool(ts.announced) != det.reads_seeds():
            return []
        scores = det.fit(view, training_labels(ts)).score(view)
        return evaluate_scores(ts, scores, supervised=True)[0]
    if getattr(ts, "announced", False) and ts.tasks.keys() - set(TRACING):
        ts = _only(ts, TRACING)  # classification beside the twin's start: learners only
    key = (name, ts.ds.tables["seeds"].digest() if det._tag("needs_seeds") else None)
    if key not in cache:
        cache[key] = det.fit(view).score(view)
    return evaluate_scores(ts, cache[key])[0]


def _only(ts: TaskSet, names) -> TaskSet:
    """A shallow copy of ``ts`` with only the tasks ``names``."""
    import copy

    out = copy.copy(ts)
    out.tasks = {k: v for k, v in ts.tasks.items() if k in names}
    return out


def _seed_learners(names) -> bool:
    from launderbench import detectors

    for n in names:
        d = detectors.make(n)
        if d._tag("needs_labels") and d.reads_seeds():
            return True
    return False


def placebo_rows(ds: Dataset, detector_names, k: int = 10, seed: int = 0,
                 min_train: int = 20, min_test: int = 10, tasks=PLACEBO_TASKS,
                 groups: bool = True, cache: dict | None = None) -> list[dict]:
    """Evaluate each detector on ``tasks`` of up to ``k`` placebos of ``ds``
    (:func:`placebo_candidates`).

    Rows as :func:`launderbench.benchmarks.scoring.evaluate_scores` gives them, plus
    ``placebo`` (the twin entity) and ``detector``. Classification is evaluated on the
    unchanged view, tracing on the view that announces the twin's start. Detectors that need
    neither labels nor seeds score the observable view once; detectors that read the seeds
    score each tracing placebo's view; detectors that learn from labels are fitted again on
    each placebo's labels (and have no tracing result). Without ``groups`` only the overall
    rows (group ``all``) are computed. ``cache`` (a dict) keeps scores between calls on the
    same ``ds``.
    """
    cache = {} if cache is None else cache
    rows = []
    announced = _seed_learners(detector_names)
    for e in placebo_candidates(ds, k, min_train, min_test, seed):
        for ts in _placebo_tasksets(ds, e, tasks, groups, announced):
            for name in detector_names:
                rows += [dict(r, detector=name, placebo=int(e), status="ok")
                         for r in _evaluate(ts, name, cache)]
    return rows


def _aucs(rows) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["metric"] == "roc_auc" and r["group"] == "all" and np.isfinite(r["value"]):
            out.setdefault((r["detector"], r["task"]), []).append(float(r["value"]))
    return out


def placebo_aucs(ds: Dataset, detector_names, k: int = 10, seed: int = 0,
                 **kw) -> dict[tuple[str, str], list[float]]:
    """``{(detector, task): [ROC-AUC of each placebo]}`` (:func:`placebo_rows`, overall
    group)."""
    return _aucs(placebo_rows(ds, detector_names, k=k, seed=seed, **kw))


def placebo_percentiles(ds: Dataset, detectors, k: int = 10, seed: int = 0,
                        tasks=PLACEBO_TASKS, **kw) -> list[dict]:
    """Each detector's real ROC-AUC on ``ds`` beside those of up to ``k`` placebos.

    One dict per detector and task with a real ROC-AUC: ``detector``, ``task``, ``real``,
    ``placebos`` (the placebos' ROC-AUCs, in twin order), ``percentile``
    (:func:`placebo_percentile` of the real one among them), ``p`` (:func:`placebo_p`) and
    ``set_apart`` (:func:`set_apart`). The real results are evaluated here as the runner
    evaluates them (a detector that learns is fitted on the real training labels and has
    classification results only). ``detectors`` are registry names; ``kw`` go to
    :func:`placebo_rows` (``min_train``, ``min_test``). This is the figure a report's
    validity section shows: a percentile near 50 is a result a benign replay of the same
    playbook also reaches; one at 0 or 100, set apart, is one none of them does.
    """
    cache: dict = {}
    ts = _tasks(ds, tasks, groups=False)
    real = _aucs([dict(r, detector=name) for name in detectors
                  for r in _evaluate(ts, name, cache)])
    pl = placebo_aucs(ds, detectors, k=k, seed=seed, tasks=tasks, groups=False, cache=cache,
                      **kw)
    out = []
    for name in detectors:
        for task in tasks:
            if (name, task) not in real:
                continue
            value, p = real[(name, task)][0], pl.get((name, task), [])
            out.append({"detector": name, "task": task, "real": value, "placebos": p,
                        "percentile": placebo_percentile(value, p),
                        "p": placebo_p(value, p), "set_apart": set_apart(value, p)})
    return out
