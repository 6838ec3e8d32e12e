"""Structuring on a hand-built UTXO ledger (Zaif-like deposits just under 2 BTC)."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench.detectors.patterns.structuring import Structuring
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000


def build():
    led = ToyLedger()
    Z, B, P = led.address(), led.address(), led.address()
    exch = led.address(service=ServiceKind.EXCHANGE, name="zex")
    shop = led.address()
    oz, ob, op = led.issue(0, [(Z, 100 * BTC), (B, 100 * BTC), (P, 10 * BTC)])
    t = 600
    z_txs = []
    for k in range(8):                        # 8 deposits of 1.90-1.97 BTC, change back to Z
        amt = int((1.90 + 0.01 * (k % 8)) * BTC)
        dep = led.address()                   # fresh deposit address (unattributed)
        rest = led._out[oz][4] - amt - 1000
        tx, (_, oz) = led.utxo_tx(t, [oz], [(dep, amt), (Z, rest)])
        z_txs.append(tx)
        t += 600
    b_amounts = [0.3, 2.5, 1.2, 4.0, 0.7, 3.1, 1.5, 0.9]
    b_txs = []
    for x in b_amounts:                       # benign payer: amounts outside the band
        rest = led._out[ob][4] - int(x * BTC) - 1000
        tx, (_, ob) = led.utxo_tx(t, [ob], [(shop, int(x * BTC)), (B, rest)])
        b_txs.append(tx)
        t += 600
    p_tx, _ = led.utxo_tx(t, [op], [(shop, int(1.95 * BTC)), (P, 8 * BTC - 1000)])  # once
    # two deposits to the attributed exchange just under the threshold
    (oq,) = led.issue(t, [(Z, 10 * BTC)])
    x_tx, _ = led.utxo_tx(t + 600, [oq], [(exch, int(1.95 * BTC)), (Z, 8 * BTC - 1000)])
    ids = dict(Z=Z, B=B, P=P, exch=exch, z_txs=z_txs, b_txs=b_txs, p_tx=p_tx, x_tx=x_tx)
    return led.build().observable(), ids



def test_flags_structurer_not_lookalikes():
    view, a = build()
    s = Structuring(threshold=2.0, asset="BTC", margin=0.1, min_count=5).fit(view).score(view)
    assert s.info["band_count"][a["Z"]] == 9
    assert a["Z"] in s.info["flagged"]
    assert s.address[a["Z"]] > 0.6
    assert s.info["band_count"][a["B"]] == 0 and s.address[a["B"]] == 0
    assert s.info["band_count"][a["P"]] == 1 and s.address[a["P"]] < 0.2   # one payment
    assert np.all(s.transaction[a["z_txs"]] == s.address[a["Z"]])
    assert np.all(s.transaction[a["b_txs"]] == 0)
    assert s.info["bunching"] > 3


def test_destination_kinds():
    view, a = build()
    s = Structuring(min_count=1, dest_kinds=("exchange",)).fit(view).score(view)
    assert s.info["band_count"][a["Z"]] == 1          # only the attributed-exchange deposit
    assert s.transaction[a["x_tx"]] > 0 and np.all(s.transaction[a["z_txs"]] == 0)


def test_usd_threshold():
    view, a = build()
    # 2 BTC at 60,000 USD = 120,000 USD
    s = Structuring(threshold=120_000, asset=None).fit(view).score(view)
    assert a["Z"] in s.info["flagged"]


def test_unknown_threshold_uses_each_senders_maximum():
    view, a = build()
    s = Structuring(threshold=None, margin=0.15, min_count=5).fit(view).score(view)
    assert s.info["flagged"].tolist() == [a["Z"]]
    assert s.address[a["B"]] < 0.2 and s.address[a["P"]] < 0.6
    assert s.info["bunching"] is None
    auto = Structuring(threshold="auto", margin=0.15).fit(view).score(view)
    assert np.array_equal(auto.address, s.address)


def test_bad_params():
    view, _ = build()
    with pytest.raises(ConfigError):
        Structuring(asset="DOGE").fit(view).score(view)
    with pytest.raises(ConfigError):
        Structuring(margin=0).fit(view).score(view)
    with pytest.raises(ConfigError):
        Structuring(dest_kinds=("casino",)).fit(view).score(view)
