"""Cluster expansion: everything the thief's wallet cluster owns is suspicious."""

from __future__ import annotations

import numpy as np

from launderbench.detectors.arrays import unique_sorted
from launderbench.simulator.schema import ServiceKind

from ..base import Detector, Scores
from ..tracing.core import seed_mask
from .cluster import DEFAULT_HEURISTICS, _check_heuristics, cluster_addresses, lift_to_entities

__all__ = ["ClusterExpansion"]


class ClusterExpansion(Detector):
    """Addresses clustered with the receivers of the stolen funds.

    The receivers of the seed (hack) transactions' outputs are the thief's first addresses;
    every address in the same cluster is attributed to the thief. By default the clusters come
    from the multi-input heuristic (Meiklejohn et al., IMC 2013, Heuristic 1) and the exchange
    deposit heuristic (Victor, FC 2020); Meiklejohn's one-time change heuristic is opt-in
    (``heuristics``). An address scores the USD its cluster received from the seed
    transactions. Seed outputs paid back to one of the seed's own input addresses (the
    victim's change) or to a publicly attributed service are not thief addresses and are
    ignored.

    Parameters
    ----------
    heuristics : tuple of str, default ("multi-input", "deposit")
        Any of "multi-input", "change", "deposit".
    skip_coinjoin : bool or tuple of str, default True
        Multi-input and change skip the transactions that any default rule of the ``coinjoin``
        detector flags (a tuple: those rules only; False: none).
    t_max : int, default 3200
        Deposit heuristic: blocks between the payment to a deposit address and its forward.
    a_max_usd : float, default 30.0
        Deposit heuristic: largest received-minus-forwarded difference (0.01 ETH at 3000 USD).
    deposit_only_forwards : bool, default False
        Deposit heuristic: False is Victor's rule; True adds the project's refinement (a
        deposit address must send only to exchange addresses).

    Scores
    ------
    address : USD of seed outputs received by the address's cluster (0 outside).
    ``info``: ``clusters`` (cluster id per address), ``seed_receivers``.
    """

    name = "cluster-expansion"
    description = "Addresses clustered with the seed receivers (Meiklejohn 2013, Victor 2020)"
    tags = {"needs_seeds": True, "needs_labels": False, "outputs": ("address",)}

    def __init__(self, heuristics=DEFAULT_HEURISTICS, skip_coinjoin=True, t_max=3200,
                 a_max_usd=30.0, deposit_only_forwards=False):
        self.heuristics = heuristics
        self.skip_coinjoin = skip_coinjoin
        self.t_max = t_max
        self.a_max_usd = a_max_usd
        self.deposit_only_forwards = deposit_only_forwards

    def _fit(self, view, labels=None) -> None:
        _check_heuristics(self.heuristics)

    def _score(self, view) -> Scores:
        seeds = seed_mask(view)
        if not seeds.any():
            return Scores.zeros(view, ("address",), clusters=None,
                                seed_receivers=np.zeros(0, np.int64))
        outs, ins = view.outputs, view.inputs
        m = seeds[outs["tx_id"]]
        recv, tx = outs["address_id"][m], outs["tx_id"][m]
        usd = outs["amount"][m] * view.usd_per_base_unit()[outs["asset_id"][m]]
        n_addr = max(view.n_addresses, 1)
        own = np.isin(tx * n_addr + recv, ins["tx_id"] * n_addr + ins["address_id"])
        service = view.addresses["service_kind"][recv] != ServiceKind.NONE
        keep = ~own & ~service
        recv, usd = recv[keep], usd[keep]
        got = np.bincount(recv, weights=usd, minlength=view.n_addresses).astype(np.float64)
        clusters = cluster_addresses(view, self.heuristics, skip_coinjoin=self.skip_coinjoin,
                                     t_max=self.t_max, a_max_usd=self.a_max_usd,
                                     deposit_only_forwards=bool(self.deposit_only_forwards))
        score = lift_to_entities(got, clusters, how="sum")
        return Scores(address=score, info={"clusters": clusters,
                                           "seed_receivers": unique_sorted(recv)})
