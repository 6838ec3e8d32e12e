"""Reference tests of the graph detectors, each from its source's definition, on tiny graphs
whose answers are worked out by hand in the docstrings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from launderbench import detectors
from launderbench.detectors.graph import flowscope
from launderbench.detectors.graph._common import csr_from_edges
from launderbench.simulator.toy import ToyLedger

GWEI = 1_000_000_000  # base units per ETH (3,000 USD at the toy world's reference price)


def eth_ledger(n_addr, edges, seed_edges=()):
    """Every address funded by an issuance, then ``edges`` = [(src, dst, eth)] in order; the
    transfers listed in ``seed_edges`` are announced as hack transactions."""
    led = ToyLedger()
    addrs = [led.address("ethereum") for _ in range(n_addr)]
    led.issue(0, [(a, 1_000_000 * GWEI) for a in addrs], asset="ETH")
    for k, (s, d, eth) in enumerate(edges):
        tx, _ = led.transfer(10 + k, addrs[s], addrs[d], int(eth * GWEI))
        if k in seed_edges:
            led.seed(0, tx)
    return led.build().observable()


# ------------------------------------------------------------------------------------- PPR


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


# ------------------------------------------------------------------------------- FlowScope


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
    order, best_k, best_g = flowscope._flowscope_peel(
        e1x, e1m, w1, e2m, e2z, w2, nx, nm, nz, 0.0, *csr_from_edges(e1x, e1m, nx),
        *csr_from_edges(e1m, e1x, nm), *csr_from_edges(e2m, e2z, nm),
        *csr_from_edges(e2z, e2m, nz))
    ids = np.r_[x_ids, m_ids, z_ids]
    assert ids[order].tolist() == [0, 1, 2, 3]
    assert best_k == 3 and best_g == pytest.approx(5 / 3)
    # >= (addresses x1=0, m1=1, m2=2, m3=3, z1=4)
    pairs = [(0, 1)] * 6 + [(0, 2)] * 2 + [(0, 3)] + [(1, 4)] * 6 + [(2, 4)] * 2 + [(3, 4)]
    src, dst = (np.array(c) for c in zip(*pairs))
    (blk,) = flowscope.flowscope_blocks(src, dst, np.ones(len(src)), 5, alpha=4.0, n_blocks=1)
    assert (blk["x"].tolist(), blk["m"].tolist(), blk["z"].tolist()) == ([0], [1], [4])
    assert blk["score"] == 2.0


# --------------------------------------------------------------------------------- Fraudar


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
