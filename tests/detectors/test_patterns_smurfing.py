"""AutoAudit AA-Smurf on hand-built ledgers, and its incremental MDL against a dense recount."""

from __future__ import annotations

from math import ceil, log2

import numpy as np
import pytest

from launderbench.detectors.patterns.smurfing import AASmurf
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000


class Eth:
    def __init__(self):
        self.led = ToyLedger()
        self.t = 10

    def addr(self, n=None, **kw):
        if n is None:
            a = self.led.address("ethereum", **kw)
            self.led.issue(self.t, [(a, 10_000 * GWEI)], asset="ETH")
            return a
        return [self.addr(**kw) for _ in range(n)]

    def pay(self, src, dst, eth=1.0):
        self.t += 60
        tx, _ = self.led.transfer(self.t, src, dst, int(eth * GWEI))
        return tx


def build(with_hub=True):
    rng = np.random.default_rng(0)
    e = Eth()
    S, D = e.addr(), e.addr()
    mids = e.addr(10)
    users = e.addr(30)
    smurf_txs = [e.pay(S, m, 9.0) for m in mids] + [e.pay(m, D, 8.9) for m in mids]
    for _ in range(60):                                   # benign background
        a, b = rng.choice(len(users), 2, replace=False)
        e.pay(users[a], users[b], 0.1)
    # exchange sweep: each customer pays its own deposit address, all swept to the hot wallet
    hot = e.addr(service=ServiceKind.EXCHANGE)
    cust, deps = e.addr(10), e.addr(10)
    for c, d in zip(cust, deps):
        e.pay(c, d, 2.0)
    for d in deps:
        e.pay(d, hot, 1.9)
    names = dict(S=S, D=D, mids=mids, hot=hot, cust=cust, deps=deps, users=users)
    if with_hub:
        # a busy hub that also happens to reach D2 through 9 of its counterparties
        hub, D2 = e.addr(), e.addr()
        hmids = e.addr(9)
        others = e.addr(40)
        for m in hmids:
            e.pay(hub, m, 1.0)
        for m in hmids:
            e.pay(m, D2, 0.9)
        for o in others:
            e.pay(hub, o, 0.5)
            e.pay(o, hub, 0.4)
        names.update(hub=hub, D2=D2, hmids=hmids)
    return e.led.build().observable(), names, smurf_txs



def test_finds_smurf_ignores_sweep_and_hub_scores_lower():
    view, a, smurf_txs = build()
    s = AASmurf(c=8).fit(view).score(view)
    blocks = s.info["blocks"]
    first = blocks[0]
    assert (first["src"], first["dst"]) == (a["S"], a["D"])
    assert sorted(first["mids"].tolist()) == sorted(a["mids"])
    assert first["purity"] == pytest.approx(1.0)
    assert s.address[a["S"]] == pytest.approx(1.0) and s.address[a["D"]] == pytest.approx(1.0)
    assert np.all(s.address[a["mids"]] == pytest.approx(1.0))
    assert np.all(s.transaction[smurf_txs] == pytest.approx(1.0))
    # the exchange sweep is fan-in but has no pair with >= c intermediaries
    for k in ("cust", "deps"):
        assert np.all(s.address[a[k]] == 0)
    assert s.address[a["hot"]] == 0
    assert np.all(s.address[a["users"]] == 0)
    # the hub's block is impure: it ranks below the smurf
    hub_block = [b for b in blocks if b["src"] == a["hub"]]
    assert hub_block and hub_block[0]["purity"] < 0.5
    assert s.address[a["hub"]] < s.address[a["S"]] - 0.2


def test_threshold_c():
    view, a, _ = build(with_hub=False)
    assert AASmurf(c=11).fit(view).score(view).info["blocks"] == []
    assert AASmurf(c=10).fit(view).score(view).info["blocks"][0]["src"] == a["S"]


def _dense_mdl(A, blocks):
    """Recount the description length of the reordered matrix from scratch."""
    n = len(A)
    lg = lambda x: ceil(log2(x)) if x > 1 else 0  # noqa: E731
    ls = lambda x: ceil(2 * log2(max(x, 1)) + 1)  # noqa: E731
    order, mdl, p, m = [], 0.0, 0, 0
    spans = []
    for s, mids, d in blocks:
        p0 = len(order)
        order += [s, *mids, d]
        spans.append((p0, len(order)))
        p += 1
        m += len(mids)
    order += [i for i in range(n) if i not in order]
    R = A[np.ix_(order, order)]
    for p0, p1 in spans:
        k = p1 - p0
        e_bb = R[p0:p1, p0:p1].sum()
        mdl += (e_bb - 2 * (k - 2)) * 2 * lg(k - 1)
        mdl += (R[p1:, p0:p1].sum() + R[p0:p1, p1:].sum()) * (lg(n) + lg(max(n - k, 1)))
    r0 = spans[-1][1] if spans else 0
    rest = R[r0:, r0:]
    mdl += (rest.size - rest.sum()) * 2 * lg(n)
    if p:
        mdl += ls(p) + ls(m) + (2 * p + m) * lg(n) + ls(p)
    return mdl


def test_incremental_mdl_matches_dense_recount():
    view, a, _ = build()
    s = AASmurf(c=8).fit(view).score(view)
    tr = view.transfers()
    src, dst = tr["src"], tr["dst"]
    keep = src != dst
    active, inv = np.unique(np.r_[src[keep], dst[keep]], return_inverse=True)
    n = len(active)
    A = np.zeros((n, n))
    A[inv[: keep.sum()], inv[keep.sum():]] = 1
    pos = {int(x): i for i, x in enumerate(active)}
    blocks = []
    assert _dense_mdl(A, blocks) == pytest.approx(s.info["mdl"][0])
    for j, b in enumerate(s.info["blocks"]):
        blocks.append((pos[b["src"]], [pos[int(x)] for x in b["mids"]], pos[b["dst"]]))
        assert _dense_mdl(A, blocks) == pytest.approx(s.info["mdl"][j + 1])


def test_bad_params():
    view, *_ = build(with_hub=False)
    with pytest.raises(ConfigError):
        AASmurf(c=0).fit(view).score(view)
    with pytest.raises(ConfigError):
        AASmurf(tolerance=1.5).fit(view).score(view)
