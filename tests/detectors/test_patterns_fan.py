"""Fan-in / fan-out / scatter-gather / gather-scatter on hand-built account ledgers."""

from __future__ import annotations

import numpy as np
import pytest

from launderbench.detectors.patterns.fan import FanPatterns
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY, ServiceKind
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000
H = 3600


class Eth:
    """Tiny helper: funded ethereum addresses and transfers in time order."""

    def __init__(self):
        self.led = ToyLedger()
        self.t = 10

    def addr(self, n=None, **kw):
        if n is None:
            a = self.led.address("ethereum", **kw)
            self.led.issue(self.t, [(a, 10_000 * GWEI)], asset="ETH")
            return a
        return [self.addr(**kw) for _ in range(n)]

    def pay(self, src, dst, eth=1.0, dt=60):
        self.t += dt
        tx, _ = self.led.transfer(self.t, src, dst, int(eth * GWEI))
        return tx

    def view(self):
        return self.led.build().observable()



def build():
    e = Eth()
    A, B, C = e.addr(), e.addr(), e.addr()
    X = e.addr(service=ServiceKind.EXCHANGE)
    S, D, S2, H_ = e.addr(), e.addr(), e.addr(), e.addr()
    recv_a = e.addr(12)
    recv_b = e.addr(12)
    send_c = e.addr(12)
    send_x = e.addr(15)
    mids = e.addr(6)
    mids2 = e.addr(6)
    outs2 = e.addr(6)
    srcs_h = e.addr(6)
    dsts_h = e.addr(6)
    ids = {}
    ids["fan_out"] = [e.pay(A, r) for r in recv_a]                 # 12 receivers in 12 min
    ids["benign_out"] = [e.pay(B, r, dt=DAY + 60) for r in recv_b]  # one a day
    ids["fan_in"] = [e.pay(s, C) for s in send_c]
    ids["exchange_in"] = [e.pay(s, X) for s in send_x]
    ids["sg"] = [e.pay(S, m, 2.0) for m in mids] + [e.pay(m, D, 1.9) for m in mids]
    ids["sg_lookalike"] = [e.pay(S2, m, 2.0) for m in mids2] + [
        e.pay(m, o, 1.9) for m, o in zip(mids2, outs2)]
    ids["gs"] = [e.pay(s, H_, 1.0) for s in srcs_h] + [e.pay(H_, d, 0.9) for d in dsts_h]
    names = dict(A=A, B=B, C=C, X=X, S=S, D=D, S2=S2, H=H_, mids=mids, mids2=mids2,
                 srcs_h=srcs_h)
    return e.view(), names, ids


def test_patterns_found_and_lookalikes_ignored():
    view, a, ids = build()
    s = FanPatterns(delta=DAY, k_fan=10, k_sg=5, k_gs=5).fit(view).score(view)
    sc = s.address
    assert s.info["fan_out"][a["A"]] == 12 and sc[a["A"]] > 0.5
    assert s.info["fan_out"][a["B"]] <= 2 and sc[a["B"]] < 0.3
    assert s.info["fan_in"][a["C"]] == 12 and sc[a["C"]] > 0.5
    assert sc[a["X"]] == 0.0                                   # attributed exchange
    sg = s.info["scatter_gather"]
    assert (a["S"], a["D"]) in set(zip(sg["src"].tolist(), sg["dst"].tolist()))
    assert sc[a["S"]] >= 0.5 and sc[a["D"]] >= 0.5 and np.all(sc[a["mids"]] >= 0.5)
    assert a["S2"] not in sg["src"].tolist()
    assert sc[a["S2"]] < 0.5 and np.all(sc[a["mids2"]] < 0.5)
    gs = s.info["gather_scatter"]
    assert a["H"] in gs["hub"].tolist() and sc[a["H"]] >= 0.5
    # sources of a gather-scatter are not scored as hubs
    assert np.all(sc[a["srcs_h"]] < 0.5)
    # transactions
    assert np.all(s.transaction[ids["fan_out"]] >= 0.5)
    assert np.all(s.transaction[ids["sg"]] >= 0.5)
    assert np.all(s.transaction[ids["gs"]] >= 0.5)
    assert np.all(s.transaction[ids["benign_out"]] < 0.5)
    assert np.all(s.transaction[ids["exchange_in"]] == 0)
    assert np.all(s.transaction[ids["sg_lookalike"]] < 0.5)


def test_window_matters():
    view, a, _ = build()
    s = FanPatterns(delta=5 * 60, k_fan=10).fit(view).score(view)
    assert s.info["fan_out"][a["A"]] < 10      # 12 payments one minute apart, 5-min window
    s2 = FanPatterns(delta=30 * DAY).fit(view).score(view)
    assert s2.info["fan_out"][a["B"]] == 12


def test_services_scored_when_asked():
    view, a, _ = build()
    s = FanPatterns(skip_services=False).fit(view).score(view)
    assert s.address[a["X"]] > 0.5


def test_bad_params():
    view, *_ = build()
    with pytest.raises(ConfigError):
        FanPatterns(k_fan=0).fit(view).score(view)
    with pytest.raises(ConfigError):
        FanPatterns(delta=-1).fit(view).score(view)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from launderbench.detectors.patterns.fan import window_fan  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 9), st.integers(0, 100)),
                min_size=1, max_size=40), st.integers(0, 50))
def test_window_distinct_matches_brute_force(rows, delta):
    key = np.array([r[0] for r in rows], np.int64)
    other = np.array([r[1] for r in rows], np.int64)
    t = np.array([r[2] for r in rows], np.int64)
    per_key, *_ = window_fan(key, other, t, delta, 10)
    for k in range(5):
        m = key == k
        best = 0
        for t0 in t[m]:
            w = m & (t >= t0) & (t <= t0 + delta)
            best = max(best, len(set(other[w].tolist())))
        assert per_key[k] == best


def test_bipartite_and_stack():
    e = Eth()
    L1 = e.addr(4)
    L2 = e.addr(3)
    L3 = e.addr(3)
    other = e.addr(5)
    txs = []
    for a in L1:                      # K_{4,3}
        for b in L2:
            txs.append(e.pay(a, b, 1.0))
    for a in L2:                      # K_{3,3} stacked on it
        for b in L3:
            txs.append(e.pay(a, b, 1.0))
    # look-alike: three payers with overlapping but different receiver sets
    for a, b in ((0, other[3]), (0, other[4]), (0, L3[0]), (1, other[3]), (1, other[4]),
                 (2, other[3]), (2, other[4]), (2, L1[0])):
        e.pay(other[a], b)
    view = e.view()
    s = FanPatterns(k_bip=3).fit(view).score(view)
    blocks = [(g["src"].tolist(), g["dst"].tolist()) for g in s.info["bipartite"]]
    assert (sorted(L1), sorted(L2)) in blocks and (sorted(L2), sorted(L3)) in blocks
    assert len(blocks) == 2
    i = blocks.index((sorted(L1), sorted(L2)))
    j = blocks.index((sorted(L2), sorted(L3)))
    assert s.info["stack"] == [(i, j)]
    assert np.all(s.address[L1 + L2 + L3] >= 0.5)
    assert np.all(s.transaction[txs] >= 0.5)
    assert np.all(s.address[other[:3]] < 0.5)
