"""Tracing policies on hand-built ledgers whose answers are computed by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launderbench import detectors
from launderbench.detectors.tracing import trace
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

POLICIES = ["poison", "haircut", "fifo", "lifo", "tiho"]



def utxo_two_by_two():
    """Seed pays T 1000; T's coin (tainted) and B's coin (3000, clean) pay P 1000 and Q 2800,
    fee 200. A clean branch C -> D runs alongside."""
    led = ToyLedger()
    a, b, t, p, q, c, d = (led.address() for _ in range(7))
    oa, ob, oc = led.issue(0, [(a, 1000), (b, 3000), (c, 5000)])
    seed, (ot,) = led.utxo_tx(10, [oa], [(t, 1000)])
    led.seed(1, seed)
    tx, (op, oq) = led.utxo_tx(20, [ot, ob], [(p, 1000), (q, 2800)])
    _, (od,) = led.utxo_tx(20, [oc], [(d, 4900)])
    return led.build().observable(), {"t": ot, "p": op, "q": oq, "d": od, "tx": tx,
                                      "addr": {"p": p, "q": q, "c": c, "d": d, "t": t}}


@pytest.mark.parametrize("policy,p,q", [
    ("poison", 1000, 2800),          # every output fully tainted
    ("haircut", 250, 700),           # 1000/4000 of each output
    ("fifo", 1000, 0),               # line [T 1000][C 3000]; P takes the first 1000
    ("lifo", 0, 950),                # reversed, fee pro rata: [C 2850][T 950]; Q takes the tail
    ("tiho", 0, 950),                # tainted first, largest output (Q) first
])
def test_utxo_two_inputs_two_outputs(policy, p, q):
    view, ids = utxo_two_by_two()
    res = trace(view, policy)
    assert res.output_taint[ids["t"]] == pytest.approx(1000)
    assert res.output_taint[ids["p"]] == pytest.approx(p)
    assert res.output_taint[ids["q"]] == pytest.approx(q)
    assert res.output_taint[ids["d"]] == 0          # clean branch stays clean
    # detector scores: USD received per address; clean addresses score zero
    s = detectors.make(policy).fit(view).score(view)
    usd = 60_000 / 1e8
    assert s.address[ids["addr"]["p"]] == pytest.approx(p * usd)
    assert s.address[ids["addr"]["q"]] == pytest.approx(q * usd)
    assert s.address[ids["addr"]["c"]] == 0 and s.address[ids["addr"]["d"]] == 0
    assert s.transaction[ids["tx"]] == pytest.approx((p + q) * usd)


def test_fifo_keeps_positions_inside_a_coin():
    """A coin [clean 500][tainted 1000] split into 500 + 1000: FIFO knows which part is which,
    haircut smears."""
    led = ToyLedger()
    a, b, t, r, s, u = (led.address() for _ in range(6))
    oa, ob = led.issue(0, [(a, 1000), (b, 500)])
    seed, (ot,) = led.utxo_tx(10, [oa], [(t, 1000)])
    led.seed(1, seed)
    _, (orr,) = led.utxo_tx(20, [ob, ot], [(r, 1500)])
    _, (os_, ou) = led.utxo_tx(30, [orr], [(s, 500), (u, 1000)])
    view = led.build().observable()
    f = trace(view, "fifo").output_taint
    assert f[orr] == pytest.approx(1000)
    assert f[os_] == 0 and f[ou] == pytest.approx(1000)
    h = trace(view, "haircut").output_taint
    assert h[os_] == pytest.approx(500 / 1.5 * 1.0 * 1000 / 1000) and h[ou] == pytest.approx(
        1000 * 1000 / 1500)
    # XIYO override "LF": last in, first out over the whole pooled value. R is made from
    # [C 500][T 1000] reversed, so R = [T 1000][C 500]; spending R reverses it again, so S
    # gets the clean 500 (a coin's last-in part leaves first)
    lf = trace(view, "fifo", orders="LF").output_taint
    assert lf[orr] == pytest.approx(1000)
    assert lf[os_] == 0 and lf[ou] == pytest.approx(1000)


def account_lots(fee=0):
    """X holds 10,000 clean, then receives 5,000 stolen (the seed); X pays Y 8,000 then Z
    7,000 (each with ``fee``)."""
    led = ToyLedger()
    v, x, y, z, w = (led.address("ethereum") for _ in range(5))
    led.issue(0, [(x, 10_000), (v, 6_000)], asset="ETH")
    seed, _ = led.transfer(10, v, x, 5_000)
    led.seed(7, seed)
    _, (oy,) = led.transfer(20, x, y, 8_000 - fee, fee=fee)
    _, (oz,) = led.transfer(30, x, z, 7_000 - fee, fee=fee)
    led.transfer(40, v, w, 1_000)  # the victim's remaining clean coins
    return led.build().observable(), oy, oz


@pytest.mark.parametrize("policy,y,z", [
    ("fifo", 0, 5_000),              # Clayton's case: oldest (clean) lot spent first
    ("lifo", 5_000, 0),              # newest (stolen) lot first
    ("tiho", 5_000, 0),              # tainted lots first
    ("haircut", 8_000 / 3, 7_000 / 3),
    ("poison", 8_000, 7_000),
])
def test_account_lots(policy, y, z):
    view, oy, oz = account_lots()
    s = trace(view, policy).output_taint
    assert s[oy] == pytest.approx(y) and s[oz] == pytest.approx(z)
    assert s[-1] == 0  # the victim's later transfer is clean


def test_account_fifo_fee_is_last_segment():
    # X pays 7,900 + 100 fee to Y: the line is [C 10,000][T 5,000], the first 8,000 are spent
    # (outputs first, then the fee), Z then gets 2,000 clean + 4,900 of the taint + fee 100.
    view, oy, oz = account_lots(fee=100)
    s = trace(view, "fifo").output_taint
    assert s[oy] == 0 and s[oz] == pytest.approx(4_900)
    # pro rata fee: Z's 6,900 out of 7,000 drawn: 5,000 * 6,900 / 7,000 tainted
    s = trace(view, "fifo", fee="prorata").output_taint
    assert s[oz] == pytest.approx(5_000 * 6_900 / 7_000)


def test_stop_at_services_and_max_hops():
    led = ToyLedger()
    v, a, b, c = (led.address() for _ in range(4))
    ex = led.address(service=ServiceKind.EXCHANGE, name="ex")
    e = led.address()
    (ov,) = led.issue(0, [(v, 10_000)])
    seed, (oa,) = led.utxo_tx(10, [ov], [(a, 10_000)])
    led.seed(1, seed)
    _, (ob, oex) = led.utxo_tx(20, [oa], [(b, 4_000), (ex, 6_000)])
    _, (oc,) = led.utxo_tx(30, [ob], [(c, 4_000)])
    _, (oe,) = led.utxo_tx(40, [oex], [(e, 6_000)])   # the exchange pays out its own funds
    view = led.build().observable()
    for policy in POLICIES:
        r = trace(view, policy)
        assert r.output_taint[oex] == pytest.approx(6_000)   # recorded at the cash-out point
        assert r.output_taint[oe] == 0                       # ... but not propagated
        assert r.output_taint[oc] == pytest.approx(4_000)
        assert list(r.output_depth[[oa, ob, oc, oe]]) == [0, 1, 2, -1]
        r = trace(view, policy, stop_at_services=False)
        assert r.output_taint[oe] == pytest.approx(6_000)
        r = trace(view, policy, max_hops=1)
        assert r.output_taint[ob] == pytest.approx(4_000) and r.output_taint[oc] == 0
    s = detectors.make("fifo").fit(view).score(view)
    assert list(s.info["cashout"]["address_id"]) == [ex]
    assert s.info["cashout"]["usd"][0] == pytest.approx(6_000 * 60_000 / 1e8)
    assert s.address[ex] == 0 and s.address[c] > 0       # known services are not ranked
    s = detectors.make("fifo", score_services=True).fit(view).score(view)
    assert s.address[ex] == pytest.approx(6_000 * 60_000 / 1e8)


def test_no_seeds_and_bad_parameters():
    led = ToyLedger()
    a, b = led.address(), led.address()
    (o,) = led.issue(0, [(a, 100)])
    led.utxo_tx(1, [o], [(b, 90)])
    view = led.build().observable()
    assert not trace(view, "fifo").output_taint.any()
    with pytest.raises(ConfigError, match="did you mean 'fifo'"):
        trace(view, "fif")
    with pytest.raises(ConfigError, match="max_hops"):
        trace(view, "fifo", max_hops=-1)


@st.composite
def random_utxo_ledgers(draw):
    led = ToyLedger()
    addrs = [led.address() for _ in range(6)]
    coins = led.issue(0, [(addrs[i % 6], draw(st.integers(1_000, 100_000))) for i in range(6)])
    unspent = list(coins)
    vals = {c: led._out[c][4] for c in coins}
    seeded = False
    for t in range(1, draw(st.integers(2, 12))):
        k = draw(st.integers(1, min(3, len(unspent))))
        spend = draw(st.permutations(unspent))[:k]
        total = sum(vals[c] for c in spend)
        n_out = draw(st.integers(1, 3))
        fee = draw(st.integers(0, total // 10))
        cuts = sorted(draw(st.lists(st.integers(1, total - fee - 1), min_size=n_out - 1,
                                    max_size=n_out - 1, unique=True))) if total - fee > n_out else []
        parts = np.diff([0, *cuts, total - fee]).tolist()
        tx, outs = led.utxo_tx(t, spend, [(draw(st.sampled_from(addrs)), int(x)) for x in parts])
        if not seeded or draw(st.booleans()) and t < 3:
            led.seed(1, tx)
            seeded = True
        for c in spend:
            unspent.remove(c)
        for o, x in zip(outs, parts):
            vals[o] = x
            unspent.append(o)
    return led.build().observable()


@settings(max_examples=40, deadline=None)
@given(random_utxo_ledgers())
def test_invariants_on_random_ledgers(view):
    amt = view.outputs["amount"].astype(float)
    seeds = set(view.seeds["tx_id"].tolist())
    res = {p: trace(view, p, stop_at_services=False).output_taint for p in POLICIES}
    spent = view.inputs["spent_output_id"]
    for p, t in res.items():
        assert np.all(t >= 0) and np.all(t <= amt + 1e-6)
        # no policy creates taint except poison: the taint a non-seed tx spends goes to its
        # outputs and its fee (the miner), nothing more and nothing less
        if p == "poison":
            continue
        fee_t = trace(view, p, stop_at_services=False).fee_taint
        out_t = np.bincount(view.outputs["tx_id"], weights=t, minlength=view.n_transactions)
        in_t = np.bincount(view.inputs["tx_id"], weights=t[spent], minlength=view.n_transactions)
        for tx in range(view.n_transactions):
            if tx not in seeds:
                assert out_t[tx] + fee_t[tx] == pytest.approx(in_t[tx], abs=1e-5)
            else:
                assert fee_t[tx] == 0
    # poison's support contains every other policy's support
    for p in ("haircut", "fifo", "lifo", "tiho"):
        assert np.all(res["poison"][res[p] > 1e-6] > 0)


def test_custom_seeds_and_stops():
    view, ids = utxo_two_by_two()
    seed_tx = np.zeros(view.n_transactions, bool)
    seed_tx[ids["tx"]] = True          # re-seed from the 2x2 transaction itself
    r = trace(view, "fifo", seed_tx=seed_tx)
    assert r.output_taint[ids["t"]] == 0
    assert r.output_taint[ids["p"]] == 1000 and r.output_taint[ids["q"]] == 2800
    stop = np.zeros(view.outputs.num_rows, bool)
    stop[ids["t"]] = True              # stop at T's coin: recorded, not propagated
    r = trace(view, "poison", stop=stop)
    assert r.output_taint[ids["t"]] == 1000 and r.output_taint[ids["p"]] == 0
    with pytest.raises(ConfigError, match="seed_tx"):
        trace(view, "fifo", seed_tx=np.ones(2, bool))


@st.composite
def random_account_ledgers(draw):
    led = ToyLedger()
    addrs = [led.address("ethereum") for _ in range(5)]
    bal = dict.fromkeys(addrs, 0)
    for a in addrs:
        bal[a] = draw(st.integers(1_000, 50_000))
    led.issue(0, [(a, bal[a]) for a in addrs], asset="ETH")
    seeded = False
    for t in range(1, draw(st.integers(2, 15))):
        funded = [a for a in addrs if bal[a] > 10]
        if not funded:
            break
        src = draw(st.sampled_from(funded))
        dst = draw(st.sampled_from(addrs))
        amount = draw(st.integers(1, bal[src] - 5))
        fee = draw(st.integers(0, bal[src] - amount))
        tx, _ = led.transfer(t, src, dst, amount, fee=fee)
        bal[src] -= amount + fee
        bal[dst] += amount
        if not seeded or (draw(st.booleans()) and t < 4):
            led.seed(1, tx)
            seeded = True
    return led.build().observable()


@settings(max_examples=40, deadline=None)
@given(random_account_ledgers())
def test_account_invariants_on_random_ledgers(view):
    amt = view.outputs["amount"].astype(float)
    seed = np.isin(view.outputs["tx_id"], view.seeds["tx_id"])
    sender = np.full(view.n_transactions, -1)
    sender[view.inputs["tx_id"]] = view.inputs["address_id"]
    # a seed transfer to its own sender (the victim paying itself) is not stolen
    own = seed & (view.outputs["address_id"] == sender[view.outputs["tx_id"]])
    res = {p: trace(view, p, stop_at_services=False).output_taint for p in POLICIES}
    for p, t in res.items():
        assert np.all(t >= 0) and np.all(t <= amt + 1e-6)
        assert np.allclose(t[seed & ~own], amt[seed & ~own]) and not t[own].any()
        if p == "poison":
            continue
        # an address never sends on more taint than it received, fees included (seeds
        # excepted)
        s = sender[view.outputs["tx_id"]]
        sent = np.bincount(s[(s >= 0) & ~seed], weights=t[(s >= 0) & ~seed],
                           minlength=view.n_addresses)
        fee_t = trace(view, p, stop_at_services=False).fee_taint
        has = sender >= 0
        sent = sent + np.bincount(sender[has], weights=fee_t[has], minlength=view.n_addresses)
        got = np.bincount(view.outputs["address_id"], weights=t, minlength=view.n_addresses)
        assert np.all(sent <= got + 1e-6)
    for p in ("haircut", "fifo", "lifo", "tiho"):
        assert np.all(res["poison"][res[p] > 1e-6] > 0)


def test_buffer_growth_gives_identical_results(monkeypatch):
    """The ordered kernel stops and resumes when a buffer is too small: tiny initial buffers
    (many resumes) must give exactly the same taint as the defaults."""
    import sys
    from pathlib import Path

    from launderbench.detectors.tracing import kernels

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks" / "speed"))
    from test_speed_tracing import synthetic_account_view, synthetic_utxo_view

    cases = [("fifo", None), ("lifo", None), ("tiho", None), ("fifo", "HS"), ("fifo", "CL")]
    for view in (synthetic_utxo_view(20_000), synthetic_account_view(20_000)):
        ref = [trace(view, p, orders=o) for p, o in cases]
        assert all(r.output_taint.any() for r in ref)
        monkeypatch.setattr(kernels, "INITIAL_CAPACITY", {"pool": 1, "node": 1, "line": 1})
        for (p, o), r in zip(cases, ref, strict=True):
            got = trace(view, p, orders=o)
            assert np.array_equal(got.output_taint, r.output_taint)
            assert np.array_equal(got.output_depth, r.output_depth)
        monkeypatch.undo()
