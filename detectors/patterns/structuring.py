"""Structuring: many payments just under a reporting / review threshold."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from launderbench.detectors.base import Detector, Scores

from ._common import (
    address_service,
    asset_id_of,
    check_number,
    saturate,
    scatter_max,
    service_kinds,
)


class Structuring(Detector):
    """Structuring: a sender makes many payments just under a threshold.

    Structuring (smurfing in the cash sense) splits value so that each payment stays below
    a reporting or review threshold. The Zaif hack (Sep 2018) was cashed out through about
    7,000 deposits each under 2 BTC into exchange deposit addresses (see the project's
    incidents reference). The rule here is the standard typology, with our parameters:

    * an output is *in the band* when its amount lies in
      ``[threshold * (1 - margin), threshold)`` (whole units of ``asset``; with
      ``asset=None`` the threshold is in USD and applies to every asset), it goes to an
      address other than the transaction's inputs and, when ``dest_kinds`` is given, to an
      address publicly attributed to one of those service kinds;
    * each input address of the transaction is credited with the band output;
    * a sender is flagged with at least ``min_count`` band outputs that make at least
      ``min_share`` of all its payments to others.

    Parameters
    ----------
    threshold : float, None or "auto", default "auto"
        A number: the known limit (Zaif: 2.0 BTC). "auto" (or None): the limit is unknown; each sender's own largest payment (in ``asset``
        units, or USD) stands in for it, so a sender whose payments cluster just under its
        maximum is flagged. The default, because generated scenarios scale their limits with
        the theft (the Zaif preset's "2 BTC" is about 0.04 BTC at 20k transactions).
        Equal repeated payments (payroll) look the same in this mode.
    asset : str or None, default "BTC"
        Payments in this asset only; None: every payment, compared in USD. On data without
        Bitcoin the default ("BTC") with the adaptive threshold compares every payment in USD
        instead (``info["asset"]`` then says so); a fixed threshold, stated in the asset's
        units, or another asset the data does not hold is an error naming the assets it
        holds.
    margin : float, default 0.1
        Width of the band under the threshold, as a fraction of it.
    min_count : int, default 5
    min_share : float, default 0.5
    dest_kinds : tuple of service kind names, default () (any destination)
    skip_services : bool, default True
        Attributed service addresses are never scored as senders.

    Scores
    ------
    address : ``share * count / (count + min_count)`` per sender (>= 0.5 * share at the
        threshold count).
    transaction : the largest score of its senders, for transactions with a band output.
    info : ``band_count`` per address, ``bunching`` = (band outputs) / (outputs in the band of
        the same width just above the threshold, + 1), ``flagged`` (address ids).
    """

    name: ClassVar[str] = "structuring"
    description: ClassVar[str] = (
        "Structuring: many payments just under a threshold (e.g. Zaif's deposits < 2 BTC)")
    tags: ClassVar[dict] = {"needs_seeds": False, "needs_labels": False,
                            "outputs": ("address", "transaction")}

    def __init__(self, threshold: float | str | None = "auto", asset: str | None = "BTC",
                 margin: float = 0.1,
                 min_count: int = 5, min_share: float = 0.5, dest_kinds: tuple = (),
                 skip_services: bool = True):
        self.threshold = threshold
        self.asset = asset
        self.margin = margin
        self.min_count = min_count
        self.min_share = min_share
        self.dest_kinds = dest_kinds
        self.skip_services = skip_services

    def _score(self, view) -> Scores:
        adaptive = self.threshold is None or (isinstance(self.threshold, str)
                                               and self.threshold.lower() in ("none", "auto"))
        thr = 0.0 if adaptive else float(check_number("threshold", self.threshold, lo=0,
                                                       lo_open=True))
        margin = float(check_number("margin", self.margin, lo=0, hi=1, lo_open=True))
        min_count = int(check_number("min_count", self.min_count, lo=1, integer=True))
        min_share = float(check_number("min_share", self.min_share, lo=0, hi=1))
        kinds = service_kinds("dest_kinds", self.dest_kinds)
        n, n_tx = view.n_addresses, view.n_transactions
        o, ins = view.outputs, view.inputs
        amt = np.asarray(o["amount"], dtype=np.float64)
        o_asset = np.asarray(o["asset_id"], dtype=np.int64)
        asset = self.asset
        if asset == "BTC" and asset not in list(view.assets["symbol"]) and adaptive:
            asset = None  # no such asset here: compare every payment in USD
        if asset is None:
            value = amt * view.usd_per_base_unit()[o_asset] if len(amt) else amt
            eligible = np.ones(len(amt), dtype=bool)
        else:
            aid = asset_id_of(view, asset)
            dec = int(view.assets["decimals"][list(view.assets["asset_id"]).index(aid)])
            value = amt / 10.0 ** dec
            eligible = o_asset == aid
        o_tx = np.asarray(o["tx_id"], dtype=np.int64)
        o_addr = np.asarray(o["address_id"], dtype=np.int64)
        # outputs paid back to one of the transaction's own input addresses are change
        i_tx = np.asarray(ins["tx_id"], dtype=np.int64)
        i_addr = np.asarray(ins["address_id"], dtype=np.int64)
        own = np.zeros(len(o_tx), dtype=bool)
        # distinct (tx, input address) pairs; inputs are grouped by tx, so sort, not hash
        ki = np.sort(i_tx * np.int64(n) + i_addr) if len(i_tx) else np.zeros(0, np.int64)
        if len(ki):
            ki = ki[np.r_[True, ki[1:] != ki[:-1]]]
        if len(i_tx) and len(o_tx):
            ko = o_tx * np.int64(n) + o_addr
            p = np.minimum(np.searchsorted(ki, ko), len(ki) - 1)
            own = ki[p] == ko
        pay = eligible & ~own
        if len(kinds):
            pay &= np.isin(address_service(view)[o_addr], kinds)
        # credit every input address of the paying transaction (distinct per tx)
        pairs = ki
        p_tx, p_addr = pairs // max(n, 1), pairs % max(n, 1)
        if adaptive:
            # each sender's own largest payment stands in for the unknown threshold; an output
            # is in the band when it is within ``margin`` of the largest payment of every
            # sender of its transaction (upper bound inclusive)
            best = np.zeros(n)
            out_tx_max = np.zeros(n_tx)
            np.maximum.at(out_tx_max, o_tx[pay], value[pay])
            np.maximum.at(best, p_addr, out_tx_max[p_tx])
            ref = np.full(n_tx, np.inf)
            np.minimum.at(ref, p_tx, best[p_addr])
            r = ref[o_tx]
            band = pay & (value >= r * (1 - margin)) & (value <= r)
            above = np.zeros(len(band), dtype=bool)
        else:
            band = pay & (value >= thr * (1 - margin)) & (value < thr)
            above = pay & (value >= thr) & (value < thr * (1 + margin))
        n_band_tx = np.bincount(o_tx[band], minlength=n_tx)
        n_pay_tx = np.bincount(o_tx[eligible & ~own], minlength=n_tx)
        band_count = np.bincount(p_addr, weights=n_band_tx[p_tx], minlength=n).astype(np.int64)
        pay_count = np.bincount(p_addr, weights=n_pay_tx[p_tx], minlength=n)
        share = np.where(pay_count > 0, band_count / np.maximum(pay_count, 1), 0.0)
        s_addr = share * saturate(band_count, min_count)
        if self.skip_services:
            s_addr[address_service(view) != 0] = 0.0
        flagged = np.flatnonzero((band_count >= min_count) & (share >= min_share) & (s_addr > 0))
        has_band = n_band_tx[p_tx] > 0
        s_tx = scatter_max(n_tx, p_tx[has_band], s_addr[p_addr[has_band]])
        info = {"band_count": band_count, "flagged": flagged.astype(np.int64),
                "bunching": (None if adaptive
                             else float(band.sum()) / (float(above.sum()) + 1.0))}
        if asset != self.asset:
            info["asset"] = f"USD (no {self.asset} in the data)"
        return Scores(address=s_addr, transaction=s_tx, info=info)
