"""Graph detectors (PPR, FlowScope, Fraudar) on hand-built ledgers with known answers."""

from __future__ import annotations

import itertools
import math

import _peeling_reference as reference
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launderbench import detectors
from launderbench.detectors.graph import flowscope
from launderbench.detectors.graph._common import aggregate_pairs, csr_from_edges
from launderbench.detectors.graph.flowscope import flowscope_blocks
from launderbench.detectors.graph.fraudar import fraudar_blocks
from launderbench.detectors.graph.ppr import personalized_pagerank
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000


def eth_ledger(n_addr, edges, seed_edges=()):
    """Account-model ledger: every address is funded, then ``edges`` = [(src, dst, eth)] run in
    order; ``seed_edges`` (indices into edges) are announced as hack transactions."""
    led = ToyLedger()
    addrs = [led.address("ethereum") for _ in range(n_addr)]
    led.issue(0, [(a, 1_000_000 * GWEI) for a in addrs], asset="ETH")
    for k, (s, d, eth) in enumerate(edges):
        tx, _ = led.transfer(10 + k, addrs[s], addrs[d], int(eth * GWEI))
        if k in seed_edges:
            led.seed(0, tx)
    return led.build().observable()



# ------------------------------------------------------------------------------------- PPR


def test_ppr_ranks_downstream_of_seed_above_unrelated_component():
    # 0 -> 1 is the hack; 1 -> 2 -> 3 -> 4 launders; 5 -> 6 -> 7 -> 5 is an unrelated (larger)
    # component; 8 paid the victim before the hack (upstream).
    edges = [(8, 0, 5), (0, 1, 100), (1, 2, 60), (1, 3, 39), (2, 4, 59), (3, 4, 38),
             (5, 6, 500), (6, 7, 499), (7, 5, 498)]
    view = eth_ledger(9, edges, seed_edges={1})
    s = detectors.make("ppr").fit(view).score(view)
    down = s.address[[1, 2, 3, 4]]
    assert down.min() > 0
    assert down.min() > s.address[[5, 6, 7, 8]].max()
    assert np.all(s.address[[5, 6, 7, 8]] == 0)  # unreachable forward
    assert s.address.sum() == pytest.approx(1.0)
    # walking both ways reaches the upstream payer, never the unrelated component
    b = detectors.make("ppr", direction="both").fit(view).score(view)
    assert b.address[8] > 0 and np.all(b.address[[5, 6, 7]] == 0)


def test_ppr_matches_networkx_reference():
    rng = np.random.default_rng(3)
    n = 30
    src, dst = rng.integers(0, n, 120), rng.integers(0, n, 120)
    w = rng.uniform(1, 10, 120)
    s, d, ws = aggregate_pairs(src, dst, w, n)
    r = np.zeros(n)
    r[[0, 4]] = [2.0, 1.0]
    x, _ = personalized_pagerank(s, d, ws, n, r, alpha=0.85)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(s.tolist(), d.tolist(), ws.tolist()))
    pers = {i: r[i] for i in range(n)}
    ref = nx.pagerank(g, alpha=0.85, personalization=pers, dangling=pers, tol=1e-12,
                      max_iter=500)
    assert np.allclose(x, [ref[i] for i in range(n)], atol=1e-8)


def test_ppr_rejects_bad_parameters():
    view = eth_ledger(3, [(0, 1, 1), (1, 2, 1)], seed_edges={0})
    for bad in ({"alpha": 1.5}, {"direction": "sideways"}, {"weight": "btc"}):
        with pytest.raises(ConfigError):
            detectors.make("ppr", **bad).fit(view)


# ------------------------------------------------------------------------------- FlowScope


def flowscope_objective(s, d, w, block, alpha):
    """g(S) recomputed from scratch (pure Python), for checking the peeling's bookkeeping."""
    x, m, z = set(block["x"]), set(block["m"]), set(block["z"])
    f = dict.fromkeys(m, 0.0)
    q = dict.fromkeys(m, 0.0)
    for a, b, ww in zip(s, d, w):
        if a in x and b in m:
            f[b] += ww
        if a in m and b in z:
            q[a] += ww
    num = sum(min(f[j], q[j]) - alpha * abs(f[j] - q[j]) for j in m)
    return num / (len(x) + len(m) + len(z))


def laundering_flow_ledger():
    """X = 0..4 each send 10 ETH to every M = 5..9; each M passes 9.9 ETH to every Z = 10..14.
    Hub 15 receives large amounts from 16..35 and passes on almost nothing (so it is a middle
    candidate, with a huge imbalance). Background: 36..75 pay each other."""
    rng = np.random.default_rng(7)
    edges = []
    for x in range(0, 5):
        for m in range(5, 10):
            edges.append((x, m, 10.0))
    for m in range(5, 10):
        for z in range(10, 15):
            edges.append((m, z, 9.9))
    for u in range(16, 36):
        edges.append((u, 15, 200.0))
    edges.append((15, 36, 1.0))
    for _ in range(120):
        a, b = rng.choice(np.arange(36, 76), 2, replace=False)
        edges.append((int(a), int(b), float(rng.uniform(0.1, 3.0))))
    return eth_ledger(76, edges)


def test_flowscope_finds_balanced_layered_flow_and_ignores_receiving_hub():
    view = laundering_flow_ledger()
    s = detectors.make("flowscope", n_blocks=3).fit(view).score(view)
    top = s.info["blocks"][0]
    assert sorted(top["m"]) == list(range(5, 10))
    assert sorted(top["x"]) == list(range(0, 5))
    assert sorted(top["z"]) == list(range(10, 15))
    # the hub (receives 4,000 ETH, sends 1) is never a middle node of any block
    assert all(15 not in b["m"] for b in s.info["blocks"])
    assert s.address[15] < s.address[5:10].min()
    assert s.address[36:].max() < s.address[5:10].min()
    # transactions of the flow are flagged, the hub's deposits score below them
    tx_flow = view.transactions["tx_id"][1:51]
    assert s.transaction[tx_flow].min() > s.transaction[51:72].max()
    # the block's score is its objective
    tr = view.transfers()
    a, b, w = aggregate_pairs(tr["src"], tr["dst"], tr["usd"], view.n_addresses)
    assert top["score"] == pytest.approx(flowscope_objective(a, b, w, top, 4.0), rel=1e-9)


def test_flowscope_imbalance_penalty_separates_pass_through_from_accumulation():
    # Two equally heavy middles: 3 passes 100% on, 4 keeps 90% of what it gets.
    edges = [(0, 3, 10), (1, 3, 10), (3, 5, 10), (3, 6, 10),
             (0, 4, 10), (1, 4, 10), (4, 7, 2), (8, 9, 1)]
    view = eth_ledger(10, edges)
    s = detectors.make("flowscope", n_blocks=1).fit(view).score(view)
    assert s.info["blocks"][0]["m"].tolist() == [3]
    assert s.address[3] > s.address[4]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.floats(0.1, 100.0)),
                min_size=1, max_size=30), st.floats(0.0, 5.0))
def test_flowscope_reported_score_is_the_objective(edges, alpha):
    src, dst, w = (np.array(c) for c in zip(*edges))
    blocks = flowscope_blocks(src, dst, w, 8, alpha=alpha, n_blocks=1)
    a, b, ws = aggregate_pairs(src, dst, w, 8)
    for blk in blocks:
        assert blk["score"] == pytest.approx(flowscope_objective(a, b, ws, blk, alpha),
                                             rel=1e-6, abs=1e-9)



def flowscope_blocks_searching_everything(src, dst, w, n, alpha, n_blocks):
    """The reference's loop as written, with the package's kernel before 0.7.2: every search
    peels the whole graph left."""
    x_ids, m_ids, z_ids, e1x, e1m, w1, e2m, e2z, w2 = flowscope.flowscope_layers(src, dst, w, n)
    nx_, nm, nz = len(x_ids), len(m_ids), len(z_ids)
    alive1 = np.ones(len(e1x), dtype=bool)
    alive2 = np.ones(len(e2m), dtype=bool)
    blocks = []
    for _ in range(n_blocks):
        if nm == 0 or not (alive1.any() or alive2.any()):
            break
        l1, l2 = np.flatnonzero(alive1), np.flatnonzero(alive2)
        x1, m1, v1, m2, z2, v2 = e1x[l1], e1m[l1], w1[l1], e2m[l2], e2z[l2], w2[l2]
        lists = []
        for owner, other, w_, size in ((x1, m1, v1, nx_), (m1, x1, v1, nm), (m2, z2, v2, nm),
                                       (z2, m2, v2, nz)):
            ptr, edges = csr_from_edges(owner, None, size)
            lists += [ptr, other[edges], w_[edges]]
        order, best_k, best_g = reference.flowscope_search(nx_, nm, nz, float(alpha), *lists)
        keep = np.ones(nx_ + nm + nz, dtype=bool)
        keep[order[:best_k]] = False
        in_x, in_m, in_z = keep[:nx_], keep[nx_:nx_ + nm], keep[nx_ + nm:]
        blocks.append({"x": x_ids[in_x], "m": m_ids[in_m], "z": z_ids[in_z],
                       "score": float(best_g)})
        alive1 &= ~(in_x[e1x] | in_m[e1m])
        alive2 &= ~(in_m[e2m] | in_z[e2z])
    return blocks


@pytest.mark.parametrize("group_nodes", [flowscope.GROUP_NODES, 3])
@pytest.mark.parametrize("weights", ["ones", "small-integers", "lognormal"])
def test_flowscope_later_searches_redo_only_the_parts_that_changed_to_the_bit(
        weights, group_nodes, monkeypatch):
    """The first search of :func:`flowscope_blocks` peels groups of whole connected parts and
    merges their orders; the later ones peel again only the parts that held the last block and
    merge their new order into the old one. On random graphs of many parts, with ties (equal
    weights) and every alpha, with one group or many, its blocks and scores must equal, to the
    bit, those of the reference's loop that peels the whole graph for every block."""
    monkeypatch.setattr(flowscope, "GROUP_NODES", group_nodes)
    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(4, 80))
        e = int(rng.integers(1, 160))
        src, dst = rng.integers(0, n, e), rng.integers(0, n, e)
        w = {"ones": np.ones(e), "small-integers": rng.integers(1, 4, e).astype(float),
             "lognormal": rng.lognormal(0.0, 2.0, e)}[weights]
        alpha = (0.0, 0.5, 1.0, 4.0)[trial % 4]
        k = int(rng.integers(1, 12))
        got = flowscope_blocks(src, dst, w, n, alpha=alpha, n_blocks=k)
        want = flowscope_blocks_searching_everything(src, dst, w, n, alpha, k)
        assert len(got) == len(want)
        for g, h in zip(got, want):
            assert g["score"] == h["score"]
            for layer in "xmz":
                assert g[layer].tolist() == h[layer].tolist()


# --------------------------------------------------------------------------------- Fraudar


def fraudar_g(s, d, block):
    """Fraudar's g(S) recomputed from scratch with column weights of the full graph."""
    deg = np.bincount(d, minlength=max(d.max() + 1, 1))
    rows, cols = set(block["rows"]), set(block["cols"])
    f = sum(1.0 / np.log(deg[b] + 5) for a, b in zip(s, d) if a in rows and b in cols)
    return f / (len(rows) + len(cols))


def test_fraudar_finds_injected_block_despite_camouflage():
    rng = np.random.default_rng(11)
    n = 160
    fraud_rows, fraud_cols = np.arange(0, 10), np.arange(10, 20)
    popular = np.arange(20, 25)
    edges = [(int(a), int(b), 1.0) for a in fraud_rows for b in fraud_cols]
    # camouflage: each fraudster also pays popular honest addresses and a few random ones
    for a in fraud_rows:
        for b in rng.choice(np.arange(25, n), 4, replace=False):
            edges.append((int(a), int(b), 1.0))
        for b in popular:
            edges.append((int(a), int(b), 1.0))
    # honest background: sparse random payments, popular addresses receive a lot
    for _ in range(350):
        a = int(rng.integers(25, n))
        b = int(rng.choice(popular)) if rng.random() < 0.3 else int(rng.integers(25, n))
        if a != b:
            edges.append((a, b, float(rng.uniform(0.1, 2.0))))
    view = eth_ledger(n, edges)
    s = detectors.make("fraudar", n_blocks=2).fit(view).score(view)
    top = s.info["blocks"][0]
    assert sorted(top["rows"].tolist()) == fraud_rows.tolist()  # no honest sender
    assert set(fraud_cols) <= set(top["cols"].tolist())
    # collateral is at most the camouflage targets that every fraudster pays
    assert set(top["cols"].tolist()) <= set(fraud_cols) | set(popular)
    assert s.address[:20].min() > np.median(s.address[25:])
    tr = view.transfers()
    a, b, _ = aggregate_pairs(tr["src"], tr["dst"], tr["usd"], n)
    assert top["score"] == pytest.approx(fraudar_g(a, b, top), rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.sets(st.tuples(st.integers(0, 3), st.integers(4, 7)), min_size=1, max_size=16))
def test_fraudar_greedy_is_a_2_approximation(pairs):
    """Hooi et al. Thm 1: the greedy block's density is at least half the optimum."""
    s = np.array([p[0] for p in pairs])
    d = np.array([p[1] for p in pairs])
    (blk,) = fraudar_blocks(s, d, 8, n_blocks=1)
    rows, cols = sorted(set(s.tolist())), sorted(set(d.tolist()))
    best = 0.0
    for kr in range(1, len(rows) + 1):
        for rs in itertools.combinations(rows, kr):
            for kc in range(1, len(cols) + 1):
                for cs in itertools.combinations(cols, kc):
                    best = max(best, fraudar_g(s, d, {"rows": rs, "cols": cs}))
    assert blk["score"] >= best / 2 - 1e-12
    assert blk["score"] == pytest.approx(fraudar_g(s, d, blk))


def test_flowscope_alpha_of_any_number_type_orders_parts_as_the_kernel(monkeypatch):
    """The merge of the parts' orders compares ``1 + alpha`` times a priority as the kernel
    does: with a float32 ``alpha`` (1 + alpha differs in float32) the blocks are those of the
    reference's loop with the same alpha as a Python float (a review's case)."""
    monkeypatch.setattr(flowscope, "GROUP_NODES", 1)
    p = 1.10000001
    edges = [(0, 2, 1.0), (1, 2, 1.0), (2, 3, 2.0), (4, 5, p), (5, 6, p), (7, 8, 1000.0),
             (8, 9, 1000.0), (0, 8, 1.0)]
    src, dst, w = (np.array(c) for c in zip(*edges))
    alpha = np.float32(0.1)
    got = flowscope_blocks(src, dst, w, 10, alpha=alpha, n_blocks=3)
    want = flowscope_blocks_searching_everything(src, dst, w, 10, float(alpha), 3)
    assert [(b["x"].tolist(), b["m"].tolist(), b["z"].tolist(), b["score"]) for b in got] == \
        [(b["x"].tolist(), b["m"].tolist(), b["z"].tolist(), b["score"]) for b in want]


@pytest.mark.parametrize("call", [
    lambda: flowscope_blocks([0, 0, 1, 2], [1, 2, 3, 3], [1e308] * 4, 4, n_blocks=1),
    lambda: flowscope_blocks([0, 1], [1, 2], [1.0, np.inf], 3),
    lambda: flowscope_blocks([0, 1], [1, 2], [1.0, 1.0], 3, alpha=np.inf),
    lambda: flowscope_blocks([0, 1], [1, 2], [1.0, 1.0], 3, alpha=np.nan),
    lambda: fraudar_blocks([0], [1], 2, prior=[0.0, np.inf]),
    lambda: fraudar_blocks([0], [1], 2, prior=[np.nan, 0.0]),
    lambda: fraudar_blocks([0], [1], 2, prior=[1e308, 1e308]),
])
def test_peeling_refuses_infinite_priorities(call):
    """An infinite priority would tie with the infinite root of an emptied layer's tree; the
    weights, ``alpha`` and priors must keep every priority finite (a review's cases)."""
    with pytest.raises(ConfigError):
        call()


def fraudar_blocks_searching_everything(src, dst, n, n_blocks, column_weights, prior):
    """The reference's ``detectMultiple`` as written, with the package's kernel before 0.7.2:
    every search peels the whole matrix left, its live rows and columns renumbered and the
    column weights recomputed."""
    s, d, _ = aggregate_pairs(src, dst, np.ones(len(src)), n)
    alive = np.ones(len(s), dtype=bool)
    blocks = []
    for _ in range(n_blocks):
        if not alive.any():
            break
        r_ids, rows = np.unique(s[alive], return_inverse=True)
        c_ids, cols = np.unique(d[alive], return_inverse=True)
        deg = np.bincount(cols, minlength=len(c_ids)).astype(np.float64)
        w = (1.0 / np.log(deg + 5.0))[cols] if column_weights == "log" else np.ones(len(cols))
        order, best_k, best_g = reference.fraudar_search(
            rows, cols, w, len(r_ids), len(c_ids), prior[r_ids].copy(), prior[c_ids].copy(),
            *csr_from_edges(rows, None, len(r_ids)), *csr_from_edges(cols, None, len(c_ids)))
        keep = np.ones(len(r_ids) + len(c_ids), dtype=bool)
        keep[order[:best_k]] = False
        br, bc = r_ids[keep[:len(r_ids)]], c_ids[keep[len(r_ids):]]
        if best_g <= 0 or len(br) == 0 or len(bc) == 0:
            break
        blocks.append({"rows": br, "cols": bc, "score": float(best_g)})
        alive &= ~(np.isin(s, br) & np.isin(d, bc))
    return blocks


@pytest.mark.parametrize("column_weights", ["log", "none"])
def test_fraudar_later_searches_redo_only_the_parts_that_changed_to_the_bit(column_weights):
    """As for FlowScope: after the first block, :func:`fraudar_blocks` peels again only the
    connected parts that held it (their column weights change with the deleted edges) and
    merges their new order into the old one. Blocks and scores must equal, to the bit, the
    reference's loop that peels the whole matrix for every block, with and without priors."""
    rng = np.random.default_rng(5)
    for trial in range(80):
        n = int(rng.integers(2, 70))
        e = int(rng.integers(1, 220))
        src, dst = rng.integers(0, n, e), rng.integers(0, n, e)
        prior = np.zeros(n) if trial % 2 else rng.random(n) * (trial % 4)
        k = int(rng.integers(1, 8))
        got = fraudar_blocks(src, dst, n, n_blocks=k, column_weights=column_weights,
                             prior=prior)
        want = fraudar_blocks_searching_everything(src, dst, n, k, column_weights, prior)
        assert len(got) == len(want)
        for g, h in zip(got, want):
            assert g["score"] == h["score"]
            assert g["rows"].tolist() == h["rows"].tolist()
            assert g["cols"].tolist() == h["cols"].tolist()


def test_flowscope_and_fraudar_skip_attributed_services():
    """Customers 0..4 pay deposit addresses 5..9 that sweep into an attributed exchange hot
    wallet (a big, perfectly balanced benign flow); 10..12 -> 13..15 -> 16..18 launders less."""
    from launderbench.simulator.schema import ServiceKind

    led = ToyLedger()
    addrs = [led.address("ethereum") for _ in range(19)]
    hot = led.address("ethereum", service=ServiceKind.EXCHANGE, name="exch")
    led.issue(0, [(a, 1_000_000 * GWEI) for a in addrs], asset="ETH")
    t = 10
    for c in range(5):
        for d in range(5, 10):
            led.transfer(t, addrs[c], addrs[d], 100 * GWEI)
            t += 1
    for d in range(5, 10):
        led.transfer(t, addrs[d], hot, 500 * GWEI)
        t += 1
    for x in range(10, 13):
        for m in range(13, 16):
            led.transfer(t, addrs[x], addrs[m], 10 * GWEI)
            t += 1
    for m in range(13, 16):
        for z in range(16, 19):
            led.transfer(t, addrs[m], addrs[z], 10 * GWEI)
            t += 1
    view = led.build().observable()
    s = detectors.make("flowscope", n_blocks=1).fit(view).score(view)
    # the layered graph left is the 3x3x3 flow alone; the reference never keeps the full set
    # (its best score starts at -inf), so one middle node is peeled off it
    assert sorted(s.info["blocks"][0]["m"].tolist()) == [14, 15]
    assert s.address[hot] == 0 and s.address[5:10].max() == 0
    s = detectors.make("flowscope", n_blocks=1, exclude_services=False).fit(view).score(view)
    assert sorted(s.info["blocks"][0]["m"].tolist()) == [5, 6, 7, 8, 9]
    f = detectors.make("fraudar", n_blocks=1).fit(view).score(view)
    assert f.address[hot] == 0


def test_ppr_does_not_walk_through_attributed_services():
    from launderbench.simulator.schema import ServiceKind

    led = ToyLedger()
    v, t, u, w = (led.address("ethereum") for _ in range(4))
    hot = led.address("ethereum", service=ServiceKind.EXCHANGE, name="exch")
    led.issue(0, [(v, 100 * GWEI), (hot, 1000 * GWEI)], asset="ETH")
    seed, _ = led.transfer(1, v, t, 100 * GWEI)
    led.seed(0, seed)
    led.transfer(2, t, u, 50 * GWEI)
    led.transfer(3, t, hot, 50 * GWEI)
    led.transfer(4, hot, w, 500 * GWEI)  # an exchange customer's withdrawal
    view = led.build().observable()
    s = detectors.make("ppr").fit(view).score(view)
    assert s.address[u] > 0 and s.address[hot] == 0 and s.address[w] == 0
    p = detectors.make("ppr", exclude_services=False).fit(view).score(view)
    assert p.address[hot] > 0 and p.address[w] > 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.floats(0.0, 50.0)),
                min_size=1, max_size=40), st.integers(0, 9),
       st.sampled_from(["forward", "backward", "both"]))
def test_ppr_is_a_probability_vector_supported_on_reachable_nodes(edges, start, direction):
    src, dst, w = (np.array(c) for c in zip(*edges))
    r = np.zeros(10)
    r[start] = 1.0
    x, _ = personalized_pagerank(src, dst, w, 10, r, direction=direction)
    assert np.all(x >= 0) and x.sum() == pytest.approx(1.0)
    g = nx.DiGraph()
    g.add_nodes_from(range(10))
    pos = w > 0
    a, b = src[pos].tolist(), dst[pos].tolist()
    if direction in ("forward", "both"):
        g.add_edges_from(zip(a, b))
    if direction in ("backward", "both"):
        g.add_edges_from(zip(b, a))
    reach = nx.descendants(g, start) | {start}
    assert np.all(x[[i for i in range(10) if i not in reach]] == 0)


# ------------------------------------------------------------- reference tests, one per source
# Each from its source's definition, on a tiny graph worked out by hand in its docstring.



def test_reference_ppr_personalized_pagerank_fixed_point():
    """Personalized PageRank (Page et al. 1999; Haveliwala 2002; Jeh & Widom 2003) is the fixed
    point ``x = (1 - a) r + a (P^T x + (mass of dangling nodes) r)``.

    V pays A 100 ETH (the hack, so r = e_A); A pays B 75 and C 25; B and C send nothing. With
    a = 1/2: x_B = a * 3/4 * x_A, x_C = a * 1/4 * x_A, and the mass of B and C returns to A, so
    x_A = (1 - a) + a (x_B + x_C). Summing to one: x_A (1 + a) = 1, so x_A = 2/3, x_B = 1/4,
    x_C = 1/12; V, upstream of the restart set, gets 0.
    """
    view = eth_ledger(4, [(0, 1, 100), (1, 2, 75), (1, 3, 25)], seed_edges={0})
    s = detectors.make("ppr", alpha=0.5, tol=1e-14, max_iter=500).fit(view).score(view)
    assert s.address == pytest.approx([0.0, 2 / 3, 1 / 4, 1 / 12], abs=1e-12)



def test_reference_flowscope_deletes_every_edge_touching_a_block():
    """Li et al., FlowScope (AAAI 2020), reference ``spartan2``: after a block is found, every
    edge touching one of its nodes is deleted (``del_block``: row *or* column in the block).

    Addresses: x1=0, m1=1, z1=2, m2=3, z2=4, x3=5, m3=6, z3=7. Flows (ETH): x1 -> m1 -> z1 (10,
    10), x1 -> m2 -> z2 (4, 4), x3 -> m3 -> z3 (3, 3). alpha = 1, so a middle node's priority is
    min(f,q) - |f-q| and a source's or sink's is 2 x its weight.

    Block 1. Priorities X: x1 28, x3 6; M: m1 10, m2 4, m3 3; Z: z1 20, z2 8, z3 6; sum 17
    over 8 nodes. Deleted in turn: m3 (3; g = 14/7), x3 (0, sources before sinks on the tie
    with z3; 14/6), z3 (0; 14/5), m2 (4 < z2's 8; 10/4), z2 (0; 10/3), m1 (10 < 20; the
    middle layer is empty, g = 0). Best: {x1, m1, z1} with g = 10/3 ETH = 10,000 USD.

    Deleting every edge touching x1, m1 or z1 removes x1 -> m2 as well, so block 2 is
    x3 -> m3 -> z3: after m2 (priority -4), x1, z1, z2 and m1 go, g = 3/3 ETH = 3,000 USD. Had
    only the block's inner edges gone, block 2 would be x1 -> m2 -> z2 with g = 4/3 ETH.
    """
    edges = [(0, 1, 10), (1, 2, 10), (0, 3, 4), (3, 4, 4), (5, 6, 3), (6, 7, 3)]
    view = eth_ledger(8, edges)
    s = detectors.make("flowscope", alpha=1.0, n_blocks=2).fit(view).score(view)
    b1, b2 = s.info["blocks"]
    assert (b1["x"].tolist(), b1["m"].tolist(), b1["z"].tolist()) == ([0], [1], [2])
    assert b1["score"] == pytest.approx(10_000.0, rel=1e-9)
    assert (b2["x"].tolist(), b2["m"].tolist(), b2["z"].tolist()) == ([5], [6], [7])
    assert b2["score"] == pytest.approx(3_000.0, rel=1e-9)
    assert s.address[[0, 1, 2]] == pytest.approx([10_000.0] * 3, rel=1e-9)
    assert s.address[[5, 6, 7]] == pytest.approx([3_000.0] * 3, rel=1e-9)
    assert s.address[3] == 0 and s.address[4] == 0


def test_reference_flowscope_tie_order_and_best_update():
    """The reference's ``findmin`` takes a source on a tie, then a sink, then a middle node
    (each layer must be strictly lower to win), and ``fastGreedyDecreasing`` keeps the latest
    set whose g is at least the best so far (``>=``, starting from minus infinity).

    Ties: x1 -> m1 -> z1 carries 1 and x2 -> m2 -> z2 carries 5 (counts of transfers), alpha
    = 0, so x1, m1 and z1 all have priority 1. The removal order is x1 (the tie goes to the
    source), then m1 (its inflow is gone: priority 0, below z1's 1), z1 (0), then x2 (5, tied
    with z2 and m2), which empties the source layer.

    ``>=``: x1 pays m1, m2, m3 with 6, 2, 1 transfers and they pass as many on to z1; alpha =
    4. g is 9/5 before any deletion; deleting m3 (priority 1) gives 8/4 = 2, deleting m2
    (priority 2) gives 6/3 = 2 again, and the tie keeps the smaller set {x1, m1, z1}.
    """
    # ties (addresses x1=0, m1=1, z1=2, x2=3, m2=4, z2=5)
    src = np.array([0, 1] + [3] * 5 + [4] * 5)
    dst = np.array([1, 2] + [4] * 5 + [5] * 5)
    x_ids, m_ids, z_ids, e1x, e1m, w1, e2m, e2z, w2 = flowscope.flowscope_layers(
        src, dst, np.ones(len(src)), 6)
    nx, nm, nz = len(x_ids), len(m_ids), len(z_ids)
    lists = []
    for owner, other, w, n_own in ((e1x, e1m, w1, nx), (e1m, e1x, w1, nm), (e2m, e2z, w2, nm),
                                   (e2z, e2m, w2, nz)):
        ptr, edges = csr_from_edges(owner, None, n_own)
        lists += [ptr, other[edges], w[edges]]
    order = flowscope._peel_sequence(nx, nm, nz, 0.0, *lists)[0]
    ids = np.r_[x_ids, m_ids, z_ids]
    assert ids[order[:4]].tolist() == [0, 1, 2, 3]  # then the source layer is empty
    (blk,) = flowscope.flowscope_blocks(src, dst, np.ones(len(src)), 6, alpha=0.0, n_blocks=1)
    assert (blk["x"].tolist(), blk["m"].tolist(), blk["z"].tolist()) == ([3], [4], [5])
    assert blk["score"] == pytest.approx(5 / 3)  # the best set: x1, m1, z1 removed
    # >= (addresses x1=0, m1=1, m2=2, m3=3, z1=4)
    pairs = [(0, 1)] * 6 + [(0, 2)] * 2 + [(0, 3)] + [(1, 4)] * 6 + [(2, 4)] * 2 + [(3, 4)]
    src, dst = (np.array(c) for c in zip(*pairs))
    (blk,) = flowscope.flowscope_blocks(src, dst, np.ones(len(src)), 5, alpha=4.0, n_blocks=1)
    assert (blk["x"].tolist(), blk["m"].tolist(), blk["z"].tolist()) == ([0], [1], [4])
    assert blk["score"] == 2.0


def test_reference_fraudar_greedy_and_multiple_blocks():
    """Hooi et al., FRAUDAR (KDD 2016), reference ``greedy.py``: an edge into column j weighs
    c_j = 1 / log(deg_j + 5); greedy removal of the cheapest row or column (rows first on a
    tie), keep the strictly densest prefix; further blocks after deleting the edges *inside*
    each block (``detectMultiple``), with the column weights recomputed.

    Senders r1..r4 = 0..3, receivers c1..c3 = 4..6. Edges: the K_{2,2} r1, r2 -> c1, c2, and
    r1, r3, r4 -> c3. w = 1/ln 7 (c1, c2: degree 2), v = 1/ln 8 (c3: degree 3). f = 4w + 3v
    over 7 nodes (g 0.4998). Priorities: r1 2w+v, r2 2w, r3 = r4 = v, c1 = c2 = 2w, c3 3v.
    Removed: r3 (g 0.5029), r4 (0.5073), c3 (v < 2w; 4w/4 = w = 0.5139), then r1, c1, r2 with
    g falling and the rows are empty. Block 1: {r1, r2} x {c1, c2}, g = 1/ln 7.

    Only its four inner edges are deleted, so r1 -> c3 remains: block 2 is {r1, r3, r4} x {c3}
    with g = 3v/4 = 3 / (4 ln 8).
    """
    edges = [(0, 4, 1), (0, 5, 1), (1, 4, 1), (1, 5, 1), (0, 6, 1), (2, 6, 1), (3, 6, 1)]
    view = eth_ledger(7, edges)
    s = detectors.make("fraudar", n_blocks=2).fit(view).score(view)
    b1, b2 = s.info["blocks"]
    assert (b1["rows"].tolist(), b1["cols"].tolist()) == ([0, 1], [4, 5])
    assert b1["score"] == pytest.approx(1 / math.log(7), rel=1e-12)
    assert (b2["rows"].tolist(), b2["cols"].tolist()) == ([0, 2, 3], [6])
    assert b2["score"] == pytest.approx(3 / (4 * math.log(8)), rel=1e-12)
    assert s.address.tolist() == pytest.approx([1 / math.log(7)] * 2 + [3 / (4 * math.log(8))]
                                               * 2 + [1 / math.log(7)] * 2
                                               + [3 / (4 * math.log(8))], rel=1e-12)
