"""The incidents' footprint: benign traffic on the incidents' chains and assets, at their
value level (simulator.footprint), and the log-normal spread of laundering splits."""

import numpy as np
import pytest

from launderbench.simulator import footprint
from launderbench.simulator.check import check_dataset
from launderbench.simulator.config import scenario_from_dict
from launderbench.simulator.economy.behaviours import BEHAVIOUR_CHAINS
from launderbench.simulator.economy.config import EconomyConfig
from launderbench.simulator.generate import generate
from launderbench.simulator.laundering.block_api import Ctx
from launderbench.simulator.ops import OP_ISSUE, OP_PAY, OpStream
from launderbench.simulator.world import World


def _stream(world, rows):
    """rows: (asset symbol, incident, code)"""
    s = OpStream()
    for sym, inc, code in rows:
        a = world.asset_id(sym)
        s.add(t=0, chain=world.asset_chain(a), asset=a, code=code, src=0, out_count=1,
              out_addr=[0], out_value=[1], incident=inc)
    return s


def test_measure_counts_incident_and_benign_ops_per_asset():
    w = World()
    s = _stream(w, [("ETH", 0, OP_PAY)] * 3 + [("USDT", 0, OP_PAY)]
                + [("BTC", -1, OP_PAY)] * 2 + [("ETH", -1, OP_PAY)] * 2
                + [("TRX", 0, OP_ISSUE)] * 5)  # issuances do not count
    laund, benign = footprint.measure(w, s)
    assert laund[w.asset_id("ETH")] == pytest.approx(0.75)
    assert laund[w.asset_id("USDT")] == pytest.approx(0.25)
    assert laund[w.asset_id("TRX")] == 0
    assert benign[w.asset_id("BTC")] == benign[w.asset_id("ETH")] == pytest.approx(0.5)


def test_calibrated_moves_benign_weight_to_the_incidents_cells():
    w = World()
    cfg = EconomyConfig()
    laund = np.zeros(len(w.assets))
    laund[w.asset_id("ETH")] = 1.0
    # the benign mix the default shares produce, roughly
    benign = np.full(len(w.assets), 1.0 / len(w.assets))
    new = footprint.calibrated(cfg, w, laund, benign)
    share = dict(new.chain_share)
    assert share["ethereum"] > 0.9 and min(share.values()) >= footprint.FLOOR * 0.99
    assets = dict(new.asset_share)
    assert assets["ETH"] > 10 * assets["USDT"]
    # behaviours tied to a chain follow it: mining (bitcoin) shrinks, the mixer pool grows
    old_mix, new_mix = dict(cfg.mix), dict(new.mix)
    assert new_mix["mining"] < old_mix["mining"] / 10
    assert new_mix["mixer_pool"] > old_mix["mixer_pool"] * 2
    assert new_mix["payment"] == old_mix["payment"]  # follows chain_share by itself
    assert set(BEHAVIOUR_CHAINS) <= set(old_mix)
    # nothing measured: unchanged; a chain left out stays out
    assert footprint.calibrated(cfg, w, np.zeros(len(w.assets)), benign) is cfg
    cut = EconomyConfig(chain_share=(("bitcoin", 0.5), ("ethereum", 0.5), ("tron", 0.0),
                                     ("avalanche", 0.0)))
    assert dict(footprint.calibrated(cut, w, laund, benign).chain_share)["tron"] == 0.0


def _doc(fp):
    return {"id": "fp-v1", "economy": {"transactions": 4000, "days": 40, "footprint": fp},
            "difficulty": {"amount_scale": 0.0003},
            "incident": [{"playbook": "ronin", "start_day": 2}]}


def _mix_gap(ds):
    """Total-variation distance between the laundering and benign asset mixes, and the
    log10 ratio of their median transaction values."""
    inc = np.asarray(ds.tx_truth["incident_id"]) >= 0
    t = ds.transactions
    ben = ~inc & ~np.asarray(t["is_issuance"], bool)
    a = np.asarray(t["asset_id"])
    n = a.max() + 1
    pl = np.bincount(a[inc], minlength=n) / inc.sum()
    pb = np.bincount(a[ben], minlength=n) / ben.sum()
    r = footprint.value_ratio(ds)
    return 0.5 * np.abs(pl - pb).sum(), abs(np.log10(r))


def test_footprint_puts_benign_traffic_where_the_laundering_is():
    fixed = generate(scenario_from_dict(_doc("fixed")), seed=1)
    scoped = generate(scenario_from_dict(_doc("incidents")), seed=1)
    check_dataset(scoped)
    tv_fixed, val_fixed = _mix_gap(fixed)
    tv_scoped, val_scoped = _mix_gap(scoped)
    assert tv_fixed > 0.5, tv_fixed  # Ronin launders ETH; the default economy is elsewhere
    assert tv_scoped < 0.3, tv_scoped
    # the value level moves half-way (in log terms) toward the laundering's
    assert val_fixed > 0.5 and val_scoped < 0.7 * val_fixed, (val_scoped, val_fixed)
    # what the calibration chose is in the metadata
    fp = scoped.meta["footprint"]
    assert fp["chain_share"]["ethereum"] > 0.5 and fp["value_scale"] > 1.0
    assert "footprint" not in fixed.meta
    # same seed, same dataset (the probe runs on the scenario's own seed streams)
    again = generate(scenario_from_dict(_doc("incidents")), seed=1)
    assert again.meta["content_hash"] == scoped.meta["content_hash"]


def _ctx(**diff):
    return Ctx(world=World(), stream=None, services=None, rng=np.random.default_rng(0),
               incident=0, entity=0, difficulty=diff, fingerprints={}, scale=1.0, t_end=0,
               day_scale=1.0,
               memo_used=set(), alloc=None)


def test_split_weights_spread_log_normally_with_a_floor():
    flat = _ctx(amount_jitter=0.3, split_sigma=0.0).weights(2000)
    assert flat.min() >= 0.69 * 10_000 and flat.max() <= 1.31 * 10_000
    w = _ctx(amount_jitter=0.3, split_sigma=1.0).weights(2000).astype(float)
    assert np.std(np.log(w)) == pytest.approx(1.0, abs=0.15)
    # no part of 1,000,000 below 300 (n * least = 60% of the total)
    w = _ctx(amount_jitter=0.3, split_sigma=2.0).weights(2000, 1_000_000, 300)
    parts = 1_000_000 * w / w.sum()
    assert parts.min() >= 300
    # impossible floor: equal parts
    w = _ctx(split_sigma=2.0).weights(10, 1000, 200)
    assert len(set(w.tolist())) == 1


def test_footprint_probes_leave_the_twins_out():
    """The calibration moves the everyday traffic: what it chooses does not depend on how
    many benign twins the scenario adds (the probes run without them)."""
    doc = _doc("incidents")
    doc["economy"]["transactions"] = 2000
    plain = generate(scenario_from_dict(doc), seed=3)
    doc["difficulty"] = dict(doc["difficulty"], twin_share=1.0)
    twinned = generate(scenario_from_dict(doc), seed=3)
    assert twinned.meta["footprint"] == plain.meta["footprint"]
    # the twins are in the final dataset (benign traffic added), just not in the probes
    assert twinned.transactions.num_rows > 1.3 * plain.transactions.num_rows


def test_amlsim_layers_keep_every_part_above_the_floor():
    """With a wide ``split_sigma`` an AMLSim stack's first layer still leaves every part large
    enough for its second layer (it used to split a tiny part below the dust limit)."""
    doc = {"id": "stack-v1", "economy": {"transactions": 3000, "days": 40},
           "difficulty": {"amount_scale": 0.0003, "split_sigma": 3.0},
           "incident": [{"playbook": "amlsim", "start_day": 2, "waves": 3,
                         "params": {"typology": "stack", "asset": "USDT"}}]}
    for seed in range(4):
        ds = generate(scenario_from_dict(doc), seed=seed)
        check_dataset(ds)
