"""The investigator: trace -> follow service links -> re-seed -> trace, until no new taint.

What an analyst does by hand with a tracing tool and a tag database, as one deterministic
pipeline (Chainalysis / Elliptic-style investigations; components cited where they live):

1. **Trace** the stolen value from the announced hack transactions with a taint policy
   (:mod:`launderbench.detectors.tracing`: haircut by default; Möser, Böhme & Breuker, FC'14 workshops).
   Taint is recorded but not propagated at publicly attributed services (exchanges, OTC desks,
   marketplaces and payment processors are cash-out points; mixers, bridges and DEX pools are
   crossed only through links), at the paying side of detected service links, and at CoinJoin
   outputs, so it never smears across a pool's, vault's or anonymity set's funds.
2. **Follow links**: when a transaction paid tainted value into a service and a linker pairs
   it with an outgoing transaction (mixer deposit -> withdrawal, bridge lock -> release, swap
   in -> out, OTC payment -> payout), that outgoing transaction becomes a new seed. Links come
   from the registered link detectors (``tornado-heuristics``, ``custodial-flow`` in
   :mod:`launderbench.detectors.mixers`; ``bridge-matcher`` in :mod:`launderbench.detectors.bridges`) and from the
   built-in linkers of :mod:`launderbench.detectors.composite._links` (bridge deposit id after
   XChainWatcher, swap return, Tornado address match and unique gas price, value/time matching
   at the service's own rate); competing candidates are resolved one-to-one by confidence.
3. **CoinJoins** (every rule of the ``coinjoin`` detector: BlockSci's generic rule,
   Whirlpool, Wasabi 1.x and WabiSabi) stop the trace until post-mix consolidation re-links the
   coins (many tainted CoinJoin outputs reaching one address); those spends are re-seeded.
4. **Re-seed and trace again** from all seeds, for at most ``max_rounds`` rounds or until no new
   link or consolidation is found.
5. **Score**: traced USD per address times its taint purity (the traced share of all it
   received), lifted through clusters (:mod:`launderbench.detectors.clustering`: multi-input, Meiklejohn et
   al., IMC'13, CoinJoins excluded; exchange deposit reuse, Victor, FC'20), with a bonus for
   cash-out points.
6. **Report cash-out points** in ``info["cashout"]``: who paid tainted value into an exchange,
   OTC desk, marketplace or payment processor, which service, and how much.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind

from ..base import Detector, Scores
from ..bridges.assign import take_in_order
from ..clustering import cluster_addresses, is_coinjoin
from ._links import (
    amount_time_links,
    bridge_memo_links,
    fan_counts,
    hub_sinks,
    hub_sources,
    mixer_links,
    swap_return_links,
    trace_from,
    tx_first_input_address,
)

#: Attributed services where value is cashed out (recorded, never traced through).
CASHOUT_SERVICES = (ServiceKind.EXCHANGE, ServiceKind.OTC, ServiceKind.MARKETPLACE,
                    ServiceKind.PAYMENT_PROCESSOR)
DEFAULT_LINK_DETECTORS = ("tornado-heuristics", "custodial-flow", "bridge-matcher")
POLICIES = ("poison", "haircut", "fifo", "lifo", "tiho")
EPS_USD = 1e-6


#: Confidence given to the built-in linkers (ours): identifier matches are certain, the
#: Tornado fingerprints follow the mixers package's scale; a value/time match at the
#: service's own rate scores 0.85 divided by the number of candidates it was chosen from
#: (below the identifier and gas-price fingerprints, above order-only guesses).
BUILTIN_LINK_SCORES = {"bridge-memo": 1.0, "mixer-address-gas": 0.9, "swap-return": 0.9,
                       "amount-time": 0.85}


ASSIGNMENTS = ("one-to-one", "best", "all")


def gather_links(view, link_detectors=DEFAULT_LINK_DETECTORS, builtin_links=True,
                 min_link_score=0.0, swap_window=3600, amount_links=True,
                 assignment="one-to-one", follow_otc=True, follow_exchanges=True):
    """Service links to follow: ``(in_tx_id, out_tx_id, score, source name, unavailable)``.

    Registered link detectors that cannot be loaded are skipped and listed in ``unavailable``.
    ``assignment`` resolves competing candidates:

    * ``one-to-one`` (default): a greedy maximum-score matching. Candidates are taken by
      decreasing score (ties: shortest delay first) when neither their incoming nor their
      outgoing transaction is taken yet, since a mixer note, a bridge transfer or a swap pays
      out once. So an address-match link that explains one withdrawal does not also claim every
      other deposit of that address, and a weak order-only guess never beats a fingerprint.
    * ``best``: each incoming transaction keeps its best-scored candidates (ties kept).
    * ``all``: every candidate.

    With ``follow_otc`` the value/time matcher also pairs payments into OTC desks and escrow
    marketplaces with their payouts (a desk buying BTC pays USDT on TRON back), including
    payments into unattributed intake endpoints (:func:`launderbench.detectors.composite._links.hub_sinks`:
    many senders, little passed on), matched to any desk's or marketplace's payouts. With
    ``follow_exchanges`` it also pairs an exchange deposit with a withdrawal, but only at the
    exchange's own rate (a trade: deposit ETH, withdraw BTC), since exchanges pay out arbitrary
    amounts all the time.
    """
    from ..registry import load

    ins, outs, scs, src = [], [], [], []
    unavailable = []

    def add(a, b, sc, name):
        ins.append(np.asarray(a, np.int64))
        outs.append(np.asarray(b, np.int64))
        scs.append(np.broadcast_to(np.asarray(sc, np.float64), (len(a),)))
        src.extend([name] * len(a))

    for name in link_detectors:
        try:
            cls = load(name)
        except ConfigError as e:
            unavailable.append(f"{name}: {e}")
            continue
        s = cls().fit(view).score(view)
        if s.links is None:
            continue
        sc = np.asarray(s.links["score"], dtype=np.float64)
        keep = sc > min_link_score
        add(np.asarray(s.links["in_tx_id"])[keep], np.asarray(s.links["out_tx_id"])[keep],
            sc[keep], name)
    if builtin_links:
        for name, fn in (("bridge-memo", bridge_memo_links),
                         ("swap-return", lambda v: swap_return_links(v, swap_window)),
                         ("mixer-address-gas", mixer_links)):
            a, b = fn(view)
            add(a, b, BUILTIN_LINK_SCORES[name], name)
    if amount_links:  # value/time matching: weaker than any fingerprint when unambiguous
        kinds = (ServiceKind.MIXER, ServiceKind.BRIDGE)
        if follow_otc:
            kinds += (ServiceKind.OTC, ServiceKind.MARKETPLACE)
        if follow_exchanges:
            kinds += (ServiceKind.EXCHANGE,)
        counts = fan_counts(view) if follow_otc and len(view.transfers()["src"]) else None
        hubs = hub_sinks(view, counts=counts) if follow_otc else None
        payers = hub_sources(view, counts=counts) if follow_otc else None
        a, b, n_cand = amount_time_links(view, kinds, return_candidates=True,
                                           extra_deposit=hubs,
                                           strict_kinds=(ServiceKind.EXCHANGE,),
                                           extra_payer=payers)
        add(a, b, BUILTIN_LINK_SCORES["amount-time"] / np.maximum(n_cand, 1), "amount-time")
    a = np.concatenate(ins) if ins else np.zeros(0, np.int64)
    b = np.concatenate(outs) if outs else np.zeros(0, np.int64)
    sc = np.concatenate(scs) if scs else np.zeros(0)
    names = np.asarray(src, dtype=object)
    ts = view.transactions["timestamp"]
    ok = (a != b) & (ts[a] <= ts[b]) if len(a) else np.zeros(0, bool)
    if assignment not in ASSIGNMENTS:
        raise ConfigError(f"link assignment must be one of {', '.join(ASSIGNMENTS)}")
    if assignment == "best" and ok.any():
        best = np.full(view.n_transactions, -np.inf)
        np.maximum.at(best, a[ok], sc[ok])
        ok &= sc >= best[a] - 1e-12
    elif assignment == "one-to-one" and ok.any():
        idx = np.flatnonzero(ok)
        order = np.lexsort((ts[b[idx]] - ts[a[idx]], -sc[idx])).astype(np.int64)
        keep = take_in_order(order, a[idx], b[idx], view.n_transactions, view.n_transactions)
        ok[:] = False
        ok[idx[keep]] = True
    # one row per pair (the best score and its source)
    a, b, sc, names = a[ok], b[ok], sc[ok], names[ok]
    order = np.lexsort((-sc, b, a))
    a, b, sc, names = a[order], b[order], sc[order], names[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])] if len(a) else np.zeros(0, bool)
    return a[first], b[first], sc[first], names[first], unavailable


class Investigator(Detector):
    """Composite investigation: trace, follow mixer/bridge/swap links, re-trace, lift clusters.

    Needs only the seeds (no labels, no training). See the module docstring for the pipeline.

    Parameters
    ----------
    policy : {"haircut", "fifo", "poison", "lifo", "tiho"}, default "haircut"
        Taint policy of :mod:`launderbench.detectors.tracing`.
    max_rounds : int, default 10
        Trace / follow-links rounds.
    max_hops : int or None, default None
        Hop limit of each trace.
    link_detectors : tuple of str
        Registry names of link detectors whose ``Scores.links`` are followed.
    builtin_links : bool, default True
        Also use the composite's own minimal linkers (bridge deposit id, swap return,
        Tornado address match / unique gas price).
    min_link_score : float, default 0.0
        Links from detectors are followed when their score exceeds this.
    min_taint_fraction : float, default 0.05
        A link is followed when at least this fraction of the value its incoming transaction
        paid into the service is tainted. The linked outgoing transaction is then traced as
        fully tainted (an investigator's convention: the service paid the launderer back).
    cluster_lift : float, default 0.5
        Cluster members score at least this fraction of their cluster's top traced value.
    cluster_heuristics : tuple of str, default ("multi-input", "deposit")
        :func:`launderbench.detectors.clustering.cluster_addresses` heuristics used for the lift.
    max_cluster_size : int, default 1000
        Larger clusters are not lifted (collapse guard).
    cashout_bonus : float, default 1.0
        Cash-out points score ``(1 + cashout_bonus)`` times their traced value.
    deposit_max_senders : int, default 1
        An attributed cash-out service address with at most this many distinct senders is
        treated as a deposit address (a cash-out point, scored); shared ones (hot wallets, OTC
        desks, marketplaces) are listed in ``info["cashout"]`` but score zero. (Scoring desk and
        marketplace addresses too was measured and lost precision once the generator labelled
        shared service endpoints benign.)
    swap_window : int, default 3600
        Seconds within which a DEX pays a swap back (built-in swap-return linker).
    amount_links : bool, default True
        Last resort for deposits that no other linker explains with more confidence: one-to-one
        value and time matching within the service
        (:func:`launderbench.detectors.composite._links.amount_time_links`), confidence 0.85 / #candidates.
    link_assignment : {"one-to-one", "best", "all"}, default "one-to-one"
        How competing link candidates are resolved (see :func:`gather_links`).
    follow_otc : bool, default True
        Also follow OTC desks and escrow marketplaces when a payout matches a tainted payment
        in value and time (the payment is still reported as a cash-out point).
    coinjoin : {"consolidation", "trace"}, default "consolidation"
        ``consolidation``: CoinJoins (every rule of
        :func:`launderbench.detectors.clustering.is_coinjoin`)
        stop the trace. When the spends of at least ``consolidation_min`` distinct tainted
        CoinJoin outputs pay one (non-service) address, or are co-spent, the coins are re-linked
        (post-mix consolidation): those spending transactions are re-seeded and the CoinJoin
        outputs they spend count in full. ``trace``: the taint policy runs through CoinJoins.
    consolidation_min : int, default 10
        An aggregator collecting many mixed coins, not a user tidying a few of their own.
    coinjoin_discount : float, default 0.1
        Weight of the taint of CoinJoin outputs never consolidated (the policy's share of an
        anonymity set).
    min_follow_score : float, default 0.0
        Links below this confidence are reported but not followed.
    follow_exchanges : bool, default True
        Also follow an exchange deposit to a withdrawal matched at the exchange's own rate (a
        trade through the exchange); the deposit is still reported as a cash-out point.
    purity_weight : float, default 1.0
        Address scores are the traced USD times ``purity ** purity_weight``, where purity is
        the traced share of all the USD the address received (0 disables).

    Scores
    ------
    address : traced value received (USD), cluster-lifted, with the cash-out bonus; attributed
        services score zero except deposit-like cash-out addresses.
    transaction : traced value (USD) of the transaction's outputs.
    links : every link of the one-to-one assignment with its confidence (the linker's score),
        tainted or not; the ones the trace crossed are in ``info["followed_links"]``.
    info : ``cashout`` (``address_id``, ``service_id``, ``usd`` per cash-out payment),
        ``followed_links`` (``in_tx_id``, ``out_tx_id``, ``usd``: tainted USD paid in by the
        incoming transaction), ``rounds``, ``n_links_followed``, ``link_sources``,
        ``unavailable``, ``output_usd``.

    References
    ----------
    Möser, Böhme & Breuker, "Towards risk scoring of Bitcoin transactions", FC 2014 workshops
    (taint); Meiklejohn et al., "A fistful of bitcoins", IMC 2013 (clustering); Wang et al.,
    "On how zero-knowledge proof blockchain mixers improve, and worsen user privacy", WWW 2023
    (mixer heuristics); Augusto et al., "XChainWatcher", arXiv 2410.02029 (bridge matching).
    """

    name: ClassVar[str] = "investigator"
    description: ClassVar[str] = (
        "Composite investigation: trace, follow mixer/bridge/swap links, re-trace, cash-outs")
    tags: ClassVar[dict] = {"needs_seeds": True, "needs_labels": False,
                            "outputs": ("address", "transaction", "link")}

    def __init__(self, policy="haircut", max_rounds=10, max_hops=None,
                 link_detectors=DEFAULT_LINK_DETECTORS, builtin_links=True, min_link_score=0.0,
                 min_taint_fraction=0.05, cluster_lift=0.5, max_cluster_size=1000,
                 cashout_bonus=1.0, deposit_max_senders=1, swap_window=3600,
                 amount_links=True, cluster_heuristics=("multi-input", "deposit"),
                 link_assignment="one-to-one", follow_otc=True, coinjoin="consolidation",
                 consolidation_min=10, coinjoin_discount=0.1, purity_weight=1.0,
                 min_follow_score=0.0, follow_exchanges=True):
        self.policy = policy
        self.max_rounds = max_rounds
        self.max_hops = max_hops
        self.link_detectors = link_detectors
        self.builtin_links = builtin_links
        self.min_link_score = min_link_score
        self.min_taint_fraction = min_taint_fraction
        self.cluster_lift = cluster_lift
        self.max_cluster_size = max_cluster_size
        self.cashout_bonus = cashout_bonus
        self.deposit_max_senders = deposit_max_senders
        self.swap_window = swap_window
        self.amount_links = amount_links
        self.cluster_heuristics = cluster_heuristics
        self.link_assignment = link_assignment
        self.follow_otc = follow_otc
        self.coinjoin = coinjoin
        self.consolidation_min = consolidation_min
        self.coinjoin_discount = coinjoin_discount
        self.purity_weight = purity_weight
        self.min_follow_score = min_follow_score
        self.follow_exchanges = follow_exchanges

    def _validate(self):
        if self.policy not in POLICIES:
            raise ConfigError(f"investigator: policy must be one of {', '.join(POLICIES)}")
        if int(self.max_rounds) < 1:
            raise ConfigError("investigator: max_rounds must be >= 1")
        if isinstance(self.link_detectors, str) or isinstance(self.cluster_heuristics, str):
            raise ConfigError("investigator: link_detectors and cluster_heuristics must be "
                              "tuples of names")
        if self.link_assignment not in ASSIGNMENTS:
            raise ConfigError(f"investigator: link_assignment must be one of "
                              f"{', '.join(ASSIGNMENTS)}")
        if not 0.0 <= float(self.min_taint_fraction) <= 1.0:
            raise ConfigError("investigator: min_taint_fraction must be in [0, 1]")
        if self.coinjoin not in ("consolidation", "trace") or int(self.consolidation_min) < 1:
            raise ConfigError("investigator: coinjoin must be 'consolidation' or 'trace' and "
                              "consolidation_min >= 1")
        if float(self.cluster_lift) < 0 or float(self.cashout_bonus) < 0:
            raise ConfigError("investigator: cluster_lift and cashout_bonus must be >= 0")

    def _fit(self, view, labels=None):
        self._validate()

    def _score(self, view) -> Scores:
        self._validate()
        from launderbench.detectors.tracing.core import seed_mask

        n_addr, n_tx = view.n_addresses, view.n_transactions
        seed_tx = seed_mask(view) if n_tx else np.zeros(0, bool)
        if not seed_tx.any():
            return Scores.zeros(view, self.tags["outputs"], rounds=0, cashout=_no_cashout())
        outs = view.outputs
        kind = np.asarray(view.addresses["service_kind"], dtype=np.int64)
        attributed = kind != ServiceKind.NONE
        cashout_svc = np.isin(kind, np.asarray(CASHOUT_SERVICES, np.int64))

        l_in, l_out, l_score, l_src, unavailable = gather_links(
            view, tuple(self.link_detectors), bool(self.builtin_links),
            float(self.min_link_score), int(self.swap_window), bool(self.amount_links),
            self.link_assignment, bool(self.follow_otc), bool(self.follow_exchanges))
        # the paying side of a link (pool, vault, reserve) is a service even when unattributed:
        # every input address of a link's outgoing transaction (expanding to their multi-input
        # clusters was tried and lost precision on zaif-2018)
        first_in = tx_first_input_address(view)
        stop_addr = attributed.copy()
        if len(l_out):
            ins_ = view.inputs
            payers = unique_sorted(ins_["address_id"][np.isin(ins_["tx_id"], l_out)])
            stop_addr[payers] = True
        stop_out = stop_addr[outs["address_id"]]
        # what a link's incoming transaction paid into the service: outputs to stop addresses
        # and, for link deposits, outputs not returned to the paying address
        in_link_tx = np.zeros(n_tx, dtype=bool)
        in_link_tx[l_in] = True
        paid_in = stop_out | (in_link_tx[outs["tx_id"]]
                              & (outs["address_id"] != first_in[outs["tx_id"]]))
        out_usd_total = outs["amount"] * view.usd_per_base_unit()[outs["asset_id"]]
        into_stop_total = np.bincount(outs["tx_id"], weights=out_usd_total * paid_in,
                                      minlength=n_tx)
        # CoinJoins are mixers without an operator: their outputs stop the trace; coins of
        # several tainted CoinJoin outputs meeting again (post-mix consolidation) are re-linked
        # and the transactions that bring them together are re-seeded
        cj_tx = (is_coinjoin(view) if self.coinjoin == "consolidation"
                 else np.zeros(n_tx, dtype=bool))
        cj_out = cj_tx[outs["tx_id"]]
        stop_out = stop_out | cj_out
        ins = view.inputs
        spent = np.asarray(ins["spent_output_id"], dtype=np.int64)
        spends = spent >= 0
        confirmed = np.zeros(outs.num_rows, dtype=bool)
        followed = np.zeros(len(l_in), dtype=bool)
        rounds = 0
        while True:
            rounds += 1
            _, usd = trace_from(view, self.policy, seed_tx, stop_out, self.max_hops)
            into_stop = np.bincount(outs["tx_id"], weights=usd * paid_in, minlength=n_tx)
            if rounds > int(self.max_rounds):
                break
            frac = np.divide(into_stop, into_stop_total, out=np.zeros(n_tx),
                             where=into_stop_total > 0)
            hot = ((into_stop[l_in] > EPS_USD) & (frac[l_in] >= float(self.min_taint_fraction))
                   & (l_score >= float(self.min_follow_score))
                   if len(l_in) else np.zeros(0, bool))
            new_tx = np.zeros(n_tx, dtype=bool)
            if len(l_in):
                new_tx[l_out[hot & ~followed]] = True
            followed |= hot
            if cj_tx.any():
                t_cj = cj_out & (usd > EPS_USD)
                cons, used = _consolidations(view, t_cj, spent, spends, stop_addr,
                                             int(self.consolidation_min), cj_tx)
                confirmed[used] = True
                new_tx |= cons
            new_tx &= ~seed_tx
            if not new_tx.any():
                break
            seed_tx = seed_tx.copy()
            seed_tx[new_tx] = True
        rounds = min(rounds, int(self.max_rounds))
        # tainted CoinJoin outputs: full value once consolidated, discounted otherwise
        if cj_tx.any():
            usd = usd.copy()
            t_cj = cj_out & (usd > EPS_USD)
            usd[t_cj & confirmed] = out_usd_total[t_cj & confirmed]
            usd[t_cj & ~confirmed] *= float(self.coinjoin_discount)

        addr_usd = np.bincount(outs["address_id"], weights=usd, minlength=n_addr)
        tx_usd = np.bincount(outs["tx_id"], weights=usd, minlength=n_tx)
        if float(self.purity_weight) > 0:
            # traced value times the tainted share of all the address received: a launderer's
            # address holds mostly stolen value, a pooled wallet (an unattributed hot wallet)
            # or a bystander paid a little of it holds mostly clean value
            inflow = np.bincount(outs["address_id"], weights=out_usd_total, minlength=n_addr)
            purity = np.divide(addr_usd, inflow, out=np.zeros(n_addr), where=inflow > 0)
            addr_usd = addr_usd * np.clip(purity, 0.0, 1.0) ** float(self.purity_weight)
        score = np.where(stop_addr, 0.0, addr_usd)

        # cash-out points: who paid tainted value into a cash-out service
        co = np.flatnonzero(cashout_svc[outs["address_id"]] & (usd > EPS_USD))
        co_svc = outs["address_id"][co]
        co_from = first_in[outs["tx_id"][co]]
        co_usd = usd[co]
        senders = _distinct_senders(view, first_in, cashout_svc)
        # only deposit-like service addresses are cash-out points: a hot wallet, desk or
        # marketplace address is shared by all customers
        deposit_like = cashout_svc & (senders <= int(self.deposit_max_senders))
        bonus = 1.0 + float(self.cashout_bonus)
        dep = co_svc[deposit_like[co_svc]]
        score[dep] = addr_usd[dep] * bonus
        payer = co_from[(co_from >= 0)]
        payer = payer[~attributed[payer]]
        score[payer] = np.maximum(score[payer], addr_usd[payer] * bonus)

        # lift through multi-input clusters
        if float(self.cluster_lift) > 0 and n_addr:
            labels = cluster_addresses(view, tuple(self.cluster_heuristics))
            size = np.bincount(labels, minlength=n_addr)
            has_svc = np.bincount(labels, weights=attributed.astype(float), minlength=n_addr) > 0
            top = np.zeros(n_addr)
            np.maximum.at(top, labels, score)
            ok = (size[labels] >= 2) & (size[labels] <= int(self.max_cluster_size)) \
                & ~has_svc[labels]
            score = np.where(ok, np.maximum(score, float(self.cluster_lift) * top[labels]),
                             score)

        links = {"in_tx_id": l_in, "out_tx_id": l_out, "score": l_score.astype(np.float64)}
        info = {
            "followed_links": {"in_tx_id": l_in[followed], "out_tx_id": l_out[followed],
                               "usd": into_stop[l_in[followed]]},
            "cashout": {"address_id": co_from.astype(np.int64), "service_id": co_svc,
                        "usd": co_usd},
            "rounds": rounds,
            "n_links_followed": int(followed.sum()),
            "link_sources": sorted(set(l_src[followed].tolist())),
            "unavailable": unavailable,
            "output_usd": usd,
        }
        return Scores(address=score, transaction=tx_usd, links=links, info=info)


def _no_cashout():
    z = np.zeros(0, np.int64)
    return {"address_id": z, "service_id": z.copy(), "usd": np.zeros(0)}


def _distinct_senders(view, first_in, among) -> np.ndarray:
    """Number of distinct addresses that paid each address of the mask ``among`` (first input
    of the paying transaction); zero elsewhere."""
    outs = view.outputs
    n = view.n_addresses
    s = first_in[outs["tx_id"]]
    ok = (s >= 0) & among[outs["address_id"]]
    key = unique_sorted(outs["address_id"][ok] * np.int64(max(n, 1)) + s[ok])
    return np.bincount(key // max(n, 1), minlength=n)


def _consolidations(view, tainted_cj_out, spent, spends, stop_addr, k_min, cj_tx):
    """Post-mix consolidation: transactions spending tainted CoinJoin outputs whose coins meet
    again, i.e. at least ``k_min`` distinct such outputs reach one non-service address in the
    next transaction (fan-in to an aggregator, or a co-spend). A CoinJoin spending them (a
    remix) is no consolidation. Returns (bool per transaction:
    consolidating spends, output ids of the CoinJoin outputs they spend)."""
    ins, outs = view.inputs, view.outputs
    n_tx = view.n_transactions
    hit = spends.copy()
    hit[spends] = tainted_cj_out[spent[spends]]
    hit &= ~cj_tx[ins["tx_id"]]
    if not hit.any():
        return np.zeros(n_tx, dtype=bool), np.zeros(0, np.int64)
    s_tx, s_out = ins["tx_id"][hit], spent[hit]  # (spending tx, CoinJoin output)
    m = np.isin(outs["tx_id"], unique_sorted(s_tx))
    o_tx, o_addr = outs["tx_id"][m], outs["address_id"][m]
    keep = ~stop_addr[o_addr]
    o_tx, o_addr = o_tx[keep], o_addr[keep]
    # join on the spending tx: (receiving address, CoinJoin output) pairs
    order = np.argsort(s_tx, kind="stable")
    s_tx, s_out = s_tx[order], s_out[order]
    lo = np.searchsorted(s_tx, o_tx, "left")
    hi = np.searchsorted(s_tx, o_tx, "right")
    cnt = hi - lo
    rep_addr = np.repeat(o_addr, cnt)
    rep_tx = np.repeat(o_tx, cnt)
    idx = np.repeat(lo, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    pair = np.unique(np.stack([rep_addr, s_out[idx]], axis=1), axis=0) if len(idx) else \
        np.zeros((0, 2), np.int64)
    n_src = np.bincount(pair[:, 0], minlength=view.n_addresses) if len(pair) else \
        np.zeros(view.n_addresses, np.int64)
    agg = n_src >= k_min
    cons = np.zeros(n_tx, dtype=bool)
    cons[rep_tx[agg[rep_addr]]] = True
    used = unique_sorted(s_out[cons[s_tx]])
    return cons, used
