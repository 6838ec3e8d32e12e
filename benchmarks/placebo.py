"""Placebo incidents: how far a shortcut strays from chance when nothing is laundering.

A shortcut's ROC-AUC on one preset and seed measures one incident: a few dozen transactions
of one actor in the test part of the split. How far from 0.5 such a number can fall by the
actor alone, with no leak in the generator, is what a *placebo* measures. The dataset is kept
as it is (the observable tables are byte-identical) and its truth is rewritten so that one of
the incident's benign twins (:mod:`launderbench.simulator.laundering.twins`: a benign entity that runs the
same playbook with its own funds) is labelled as the laundering and the real incident as
benign. The shortcuts are then evaluated on the classification tasks exactly as on the real
labels. Several placebos give the spread a shortcut reaches on a benign replay; a real result
that lies within it does not single out laundering (a permutation test over actors, after
the placebo tests of program evaluation: Abadie, Diamond & Hainmueller, "Synthetic control
methods for comparative case studies", JASA 105(490), 2010).

What a placebo labels (:func:`actor_masks`): every transaction with a leg at one of the twin's
own wallets or at the far side of its hidden links, those wallets, and the deposit addresses
dedicated to it at cash-out services (exchanges, OTC desks, marketplaces, merchants). The same
rule applied to an incident's attacker gives back the real labels (the laundering
transactions and the ``CASHOUT`` addresses), so the placebo is labelled as the laundering is.
Victim addresses stay out of the address task in both worlds.

The announced theft stays in the observable view, but it is not the placebo's (a placebo has
no taint): a placebo has the classification tasks only.

Used by ``python -m launderbench.benchmarks.leak_survey --placebos K``.
"""

from __future__ import annotations

import numpy as np

from launderbench.detectors.projection import legs
from launderbench.simulator.dataset import Dataset, Table
from launderbench.simulator.laundering import twins
from launderbench.simulator.ledger import CASHOUT_KINDS
from launderbench.simulator.schema import Role, Stage, Typology
from launderbench.simulator.split import split_codes

from .tasks import TaskSet

__all__ = ["placebo_dataset", "placebo_candidates", "placebo_rows", "placebo_aucs", "placebo_p",
           "actor_masks", "CLASSIFICATION"]

CLASSIFICATION = ("classification/address", "classification/transaction")


def _address_entity(ds: Dataset, n_addresses: int) -> np.ndarray:
    """The entity of every address (-1 where the truth has none)."""
    at = ds.address_truth
    ent = np.full(n_addresses, -1, np.int64)
    ent[at["address_id"]] = at["entity_id"]
    return ent


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
    own = np.isin(ent, np.asarray(list(entities), np.int64)) & (ent >= 0)
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


def placebo_dataset(ds: Dataset, entity: int) -> Dataset:
    """``ds`` with twin ``entity`` labelled as the laundering and every incident as benign.

    The observable tables, the announced theft included, are those of ``ds``. In the truth,
    the twin's addresses (:func:`actor_masks`) get role ``INTERMEDIARY`` and an incident id no
    real incident has, its transactions that incident; every other address and transaction is
    benign (victims keep their role, so that the address task leaves out the same
    addresses). Taint is empty and links have no incident. ``meta["placebo"]`` records the
    twin and its incident id. Build its tasks with ``TaskSet(placebo, only=CLASSIFICATION)``.
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
    role = np.where(mine, int(Role.INTERMEDIARY),
                    np.where(victim, int(Role.VICTIM), int(Role.BENIGN)))
    address_truth = {"address_id": at["address_id"], "entity_id": at["entity_id"],
                     "role": role, "incident_id": np.where(mine, inc, -1)}
    n_tx = len(txm)
    tx_truth = {"tx_id": np.arange(n_tx), "incident_id": np.where(txm, inc, -1),
                "stage": np.full(n_tx, int(Stage.NONE)),
                "typology": np.full(n_tx, int(Typology.NONE))}
    links = {k: ds.links[k] for k in ds.links}
    links["incident_id"] = np.full(ds.links.num_rows, -1)
    tables = dict(ds.tables, address_truth=Table("address_truth", address_truth),
                  tx_truth=Table("tx_truth", tx_truth), links=Table("links", links),
                  taint=Table.empty("taint"))
    meta = {k: v for k, v in ds.meta.items() if k != "content_hash"}
    meta["placebo"] = {"entity": int(entity), "twin_of": int(names[entity]), "incident": inc}
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


def placebo_rows(ds: Dataset, detector_names, k: int = 10, seed: int = 0,
                 min_train: int = 20, min_test: int = 10) -> list[dict]:
    """Evaluate each detector on the classification tasks of ``k`` placebos of ``ds``.

    Rows as :func:`launderbench.benchmarks.runner.evaluate_scores` gives them, plus ``placebo`` (the twin
    entity) and ``detector``. Detectors that need no labels score the (unchanged) observable
    view once; detectors that learn from labels are fitted again on each placebo's labels.
    """
    from launderbench import detectors

    from .runner import evaluate_scores, training_labels

    view = ds.observable()
    fixed = {}
    rows = []
    for e in placebo_candidates(ds, k, min_train, min_test, seed):
        ts = TaskSet(placebo_dataset(ds, e), only=CLASSIFICATION)
        for name in detector_names:
            det = detectors.make(name)
            supervised = bool(det._tag("needs_labels"))
            if supervised:
                scores = det.fit(view, training_labels(ts)).score(view)
            else:
                if name not in fixed:
                    fixed[name] = det.fit(view).score(view)
                scores = fixed[name]
            for r in evaluate_scores(ts, scores, supervised=supervised)[0]:
                rows.append(dict(r, detector=name, placebo=int(e), status="ok"))
    return rows


def placebo_aucs(ds: Dataset, detector_names, k: int = 10, seed: int = 0,
                 **kw) -> dict[tuple[str, str], list[float]]:
    """``{(detector, task): [ROC-AUC of each placebo]}`` on the classification tasks
    (:func:`placebo_rows`, overall group)."""
    out: dict[tuple[str, str], list[float]] = {}
    for r in placebo_rows(ds, detector_names, k=k, seed=seed, **kw):
        if r["metric"] == "roc_auc" and r["group"] == "all" and np.isfinite(r["value"]):
            out.setdefault((r["detector"], r["task"]), []).append(float(r["value"]))
    return out
