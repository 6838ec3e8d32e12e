"""Rapid pass-through on hand-built ledgers."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench.detectors.patterns.passthrough import PassThrough, weighted_median_by_group
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY, ServiceKind
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000
BTC = 100_000_000
H = 3600


def build():
    led = ToyLedger()
    src = led.address("ethereum")
    led.issue(0, [(src, 1000 * GWEI)], asset="ETH")
    mule, holder, partial, sink = (led.address("ethereum") for _ in range(4))
    exch = led.address("ethereum", service=ServiceKind.EXCHANGE)
    t = 100
    led.transfer(t, src, mule, 10 * GWEI, fee=21_000)
    led.transfer(t, src, holder, 10 * GWEI, fee=21_000)
    led.transfer(t, src, partial, 10 * GWEI, fee=21_000)
    led.transfer(t, src, exch, 10 * GWEI, fee=21_000)
    led.transfer(t + H, mule, sink, 10 * GWEI - 21_000, fee=21_000)   # out again in an hour
    led.transfer(t + H, partial, sink, 3 * GWEI, fee=21_000)           # keeps 70%
    led.transfer(t + H, exch, sink, 10 * GWEI - 21_000, fee=21_000)    # attributed service
    # bitcoin: a fresh address passes a coin on within ten minutes
    b_src, b_mule, b_dst = (led.address("bitcoin") for _ in range(3))
    (o,) = led.issue(t + H, [(b_src, 2 * BTC)])
    _, (o2,) = led.utxo_tx(t + H + 600, [o], [(b_mule, 2 * BTC - 1000)])
    led.utxo_tx(t + H + 1200, [o2], [(b_dst, 2 * BTC - 2000)])
    led.transfer(t + 60 * DAY, holder, sink, 10 * GWEI - 21_000, fee=21_000)  # held 60 days
    ids = dict(mule=mule, holder=holder, partial=partial, exch=exch, sink=sink, b_mule=b_mule,
               b_dst=b_dst)
    return led.build().observable(), ids



def test_flags_mules_not_holders():
    view, a = build()
    s = PassThrough().fit(view).score(view)
    flagged = set(s.info["flagged"].tolist())
    assert a["mule"] in flagged and a["b_mule"] in flagged
    assert s.address[a["mule"]] > 0.9
    assert s.info["median_hold"][a["mule"]] == H
    assert s.info["median_hold"][a["b_mule"]] == 600
    for k in ("holder", "partial", "exch", "sink", "b_dst"):
        assert a[k] not in flagged, k
        assert s.address[a[k]] < 0.5, k
    assert s.address[a["exch"]] == 0.0
    assert s.address[a["sink"]] == 0.0   # never spends
    # the mule's outgoing transaction carries its score
    assert s.transaction.max() == pytest.approx(s.address[[a["mule"], a["b_mule"]]].max())


def test_thresholds_move_the_decision():
    view, a = build()
    s = PassThrough(theta=0.25).fit(view).score(view)
    assert a["partial"] not in s.info["flagged"]            # balance does not return to 0
    s = PassThrough(theta=0.25, balance_eps=0.8).fit(view).score(view)
    assert a["partial"] in s.info["flagged"]
    s = PassThrough(tau=600).fit(view).score(view)
    assert a["mule"] not in s.info["flagged"] and a["b_mule"] in s.info["flagged"]


def test_weighted_median():
    g = np.array([0, 0, 0, 1, 1])
    v = np.array([5.0, 1.0, 3.0, 10.0, 20.0])
    w = np.array([1.0, 1.0, 10.0, 3.0, 1.0])
    m = weighted_median_by_group(g, v, w, 3)
    assert m[0] == 3.0 and m[1] == 10.0 and np.isnan(m[2])


def test_bad_params():
    view, _ = build()
    with pytest.raises(ConfigError):
        PassThrough(theta=0).fit(view).score(view)
    with pytest.raises(ConfigError):
        PassThrough(balance_eps=2).fit(view).score(view)
