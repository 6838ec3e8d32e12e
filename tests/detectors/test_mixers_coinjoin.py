"""CoinJoin rules on hand-built UTXO transactions."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench.detectors.mixers.coinjoin import CoinJoinDetector, standard_denominations
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000


def build():
    led = ToyLedger()
    t = [0]

    def coins(values):
        addrs = [led.address() for _ in values]
        return addrs, led.issue(t[0], list(zip(addrs, values)))

    def tx(spend, outs):
        t[0] += 600
        return led.utxo_tx(t[0], spend, [(led.address(), v) for v in outs])[0]

    ids = {}
    _, c = coins([int(0.0502 * BTC)] * 5)
    ids["whirlpool"] = tx(c, [int(0.05 * BTC)] * 5)
    _, c = coins([int(0.15 * BTC)] * 12)
    ids["wasabi1"] = tx(c, [int(0.1 * BTC)] * 11 + [int(0.3 * BTC), int(0.2 * BTC)])
    # WabiSabi (Dumplings): 50 inputs and the outputs in descending order of value, 9 of 10
    # at standard denominations
    _, c = coins([int(0.03 * BTC) - k for k in range(50)])
    ids["wasabi2"] = tx(c, [5 * 10**7, 2 * 3**15, 2**24, 2**24, 3**14, 10**6, 2**19, 2**19,
                            123_457, 3**8])
    # the secondary source's looser description: 6 inputs, not WabiSabi under Dumplings
    _, c = coins([2 * BTC] * 6)
    ids["wasabi2_loose"] = tx(c, [2**20, 2**20, 3**12, 3**12, 2 * 10**6, 5 * 10**7, 123_457])
    _, c = coins([2 * BTC, 3 * BTC, 4 * BTC])
    ids["generic"] = tx(c, [BTC, BTC, BTC, BTC - 5000, 2 * BTC - 5000])
    # look-alikes
    _, c = coins([20 * BTC])
    ids["batch_equal"] = tx(c, [int(0.1 * BTC)] * 12)                 # 1 input: a payout
    _, c = coins([20 * BTC])
    ids["batch"] = tx(c, [int(x * BTC) for x in (0.1, 0.2, 0.35, 1.1, 2.0, 0.07)])
    _, c = coins([int(0.0502 * BTC)] * 5)
    ids["five_unequal"] = tx(c, [int(x * BTC) for x in (0.05, 0.049, 0.05, 0.05, 0.05)])
    _, c = coins([BTC])
    ids["payment"] = tx(c, [BTC // 2, BTC // 2 - 1000])
    return led.build().observable(), ids



def test_rules():
    view, ids = build()
    s = CoinJoinDetector().fit(view).score(view)
    assert ids["whirlpool"] in s.info["whirlpool"]
    assert ids["wasabi1"] in s.info["wasabi1"]
    assert s.info["wasabi2"].tolist() == [ids["wasabi2"]]
    assert ids["generic"] in s.info["generic"]
    assert ids["generic"] not in s.info["whirlpool"] and ids["generic"] not in s.info["wasabi1"]
    for k in ("whirlpool", "wasabi1", "wasabi2", "generic"):
        assert s.transaction[ids[k]] == 1.0, k
    for k in ("batch_equal", "batch", "five_unequal", "payment", "wasabi2_loose"):
        assert s.transaction[ids[k]] == 0.0, k
    # participants: inputs 1.0, equal outputs 1.0, change 0.5
    o = view.outputs
    cj_out = np.flatnonzero(o["tx_id"] == ids["generic"])
    assert np.all(s.address[o["address_id"][cj_out[:3]]] == 1.0)
    assert np.all(s.address[o["address_id"][cj_out[3:]]] == 0.5)
    i = view.inputs
    assert np.all(s.address[i["address_id"][i["tx_id"] == ids["wasabi1"]]] == 1.0)
    pay_out = o["address_id"][o["tx_id"] == ids["payment"]]
    assert np.all(s.address[pay_out] == 0)


def test_rule_selection():
    view, ids = build()
    s = CoinJoinDetector(rules=("whirlpool",)).fit(view).score(view)
    assert np.flatnonzero(s.transaction).tolist() == [ids["whirlpool"]]
    s = CoinJoinDetector(rules=("wasabi1",), wasabi_denom=0.5).fit(view).score(view)
    assert s.transaction.sum() == 0
    s = CoinJoinDetector(rules=("wasabi2-loose",)).fit(view).score(view)
    assert np.flatnonzero(s.transaction).tolist() == sorted([ids["wasabi2"],
                                                             ids["wasabi2_loose"]])


def test_standard_denominations():
    d = standard_denominations()
    assert 5_000 in d and 2**20 in d and 3**12 in d and 2 * 3**10 in d and 7_000 not in d


def test_bad_params():
    view, _ = build()
    with pytest.raises(ConfigError):
        CoinJoinDetector(rules=("joinmarket",)).fit(view).score(view)
    with pytest.raises(ConfigError):
        CoinJoinDetector(wasabi_min_equal=1).fit(view).score(view)
