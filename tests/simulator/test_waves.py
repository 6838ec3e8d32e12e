"""Laundering waves, the observation window (horizon) and the launderer's daily cycle."""

import numpy as np
import pytest

from launderbench import simulator
from launderbench.simulator.check import check_dataset
from launderbench.simulator.config import scenario_from_dict
from launderbench.simulator.errors import ConfigError
from launderbench.simulator.generate import generate
from launderbench.simulator.laundering import MIN_WAVE
from launderbench.simulator.laundering.accounting import balanced, flows
from launderbench.simulator.laundering.block_api import Ctx
from launderbench.simulator.ops import OP_PAY, OpStream
from launderbench.simulator.schema import Typology
from launderbench.simulator.world import HOURLY_ACTIVITY, World


def _doc(waves=1, days=40, pace=6.0, **inc):
    return {"id": "w-v1", "economy": {"transactions": 3000, "days": days},
            "difficulty": {"pace_hours": pace, "amount_scale": 0.003},
            "incident": [{"playbook": "generic-easy", "start_day": 1, "waves": waves, **inc}]}


def _laundering_times(ds):
    inc = np.asarray(ds.tx_truth["incident_id"])
    ts = np.asarray(ds.transactions["timestamp"])
    return ts[inc >= 0], ts


def test_waves_spread_laundering_over_every_split_part():
    ds = generate(scenario_from_dict(_doc(waves=4)), seed=3)
    check_dataset(ds)
    for key, f in flows(ds).items():
        assert balanced(f), (key, f)
    tl, _ = _laundering_times(ds)
    sp = ds.meta["split"]
    parts = [(tl < sp["train_end"]).sum(),
             ((tl >= sp["train_end"]) & (tl < sp["valid_end"])).sum(),
             (tl >= sp["valid_end"]).sum()]
    assert all(n > 0 for n in parts), parts
    m = ds.meta["incidents"][0]
    starts = m["waves"]
    assert len(starts) == 4 and starts[0] == m["start"] and starts == sorted(starts)
    assert {st["wave"] for st in m["steps"]} == {0, 1, 2, 3}
    # one wave only: all laundering in the first weeks, none in the test part
    one = generate(scenario_from_dict(_doc(waves=1)), seed=3)
    tl1, _ = _laundering_times(one)
    assert (tl1 >= sp["valid_end"]).sum() == 0


def test_waves_share_the_theft_and_keep_the_total():
    a = generate(scenario_from_dict(_doc(waves=1)), seed=5).meta["incidents"][0]
    b = generate(scenario_from_dict(_doc(waves=3)), seed=5).meta["incidents"][0]
    assert a["stolen"] == b["stolen"]  # the same theft, laundered in three tranches
    firsts = [st for st in b["steps"] if st["from"] == ["drain"]]
    assert [st["wave"] for st in firsts] == [0, 1, 2]
    sizes = b["wave_sizes"]
    assert abs(sum(sizes) - 1.0) < 1e-5 and min(sizes) >= MIN_WAVE / 3 - 1e-6
    assert len(set(sizes)) == 3  # tranches of different sizes (wave_sigma 0.5)
    # the drain's split into tranche addresses pays each wave its size
    ds = generate(scenario_from_dict(_doc(waves=3)), seed=5)
    typ = np.asarray(ds.tx_truth["typology"])
    inc = np.asarray(ds.tx_truth["incident_id"])
    first = np.flatnonzero((inc == 0) & (typ == int(Typology.SPLIT)))[0]
    o = ds.outputs
    amt = np.asarray(o["amount"])[np.asarray(o["tx_id"]) == first]
    assert np.allclose(np.sort(amt / amt.sum()), np.sort(sizes), atol=1e-3)


def test_equal_waves_without_size_spread():
    doc = _doc(waves=3)
    doc["difficulty"]["wave_sigma"] = 0.0
    m = generate(scenario_from_dict(doc), seed=5).meta["incidents"][0]
    assert np.allclose(m["wave_sizes"], [1 / 3] * 3, atol=1e-6)


@pytest.mark.parametrize("bad", [0, 25, 1.5, True])
def test_waves_must_be_a_small_positive_integer(bad):
    with pytest.raises(ConfigError, match="waves"):
        scenario_from_dict(_doc(waves=bad))


def test_nothing_happens_after_the_observation_window():
    # a wave starting near the end is cut off: no transaction after the scenario's end,
    # and what was executed still conserves value
    ds = generate(scenario_from_dict(_doc(waves=6, days=20)), seed=2)
    check_dataset(ds)
    end = ds.meta["split"]["valid_end"] + (ds.meta["split"]["valid_end"]
                                           - ds.meta["split"]["train_end"])
    _, ts = _laundering_times(ds)
    assert ts.max() < end
    for key, f in flows(ds).items():
        assert balanced(f), (key, f)


def test_opstream_horizon_drops_late_ops_and_keeps_links():
    s = OpStream()
    a = s.add(t=[10, 30], chain=0, asset=0, code=OP_PAY, src=[1, 2], out_count=[1, 2],
              out_addr=[5, 6, 7], out_value=[1, 2, 3])
    s.add(t=[20, 40], chain=0, asset=0, code=OP_PAY, src=[3, 4], out_count=[1, 1],
          out_addr=[8, 9], out_value=[4, 5], link=[a[0], a[1]])
    ops, outs, _ = s.finalize(horizon=30)
    assert ops["t"].tolist() == [10, 20]
    assert outs["addr"].tolist() == [5, 8] and ops["link"].tolist() == [-1, 0]
    assert s.position(np.array([0, 1, 2, 3])).tolist() == [0, -1, 1, -1]


def _busy_quiet(hours) -> float:
    busy = np.isin(hours, np.argsort(HOURLY_ACTIVITY)[-8:]).mean()
    quiet = np.isin(hours, np.argsort(HOURLY_ACTIVITY)[:8]).mean()
    return busy / quiet


def test_launderers_choose_when_to_act_by_the_daily_cycle():
    # the mechanism: handling delays end at moments thinned by the benign daily cycle, so
    # the hours of 4,000 starts follow HOURLY_ACTIVITY (busiest vs quietest 8 hours)
    world = World()
    ctx = Ctx(world=world, stream=None, services=None, rng=np.random.default_rng(0),
              incident=0, entity=0, difficulty={"pace_hours": 12.0}, fingerprints={},
              scale=1.0, t_end=0, day_scale=1.0)
    t = [ctx.start(world.t0 + i * 977) for i in range(4000)]
    hours = ((np.asarray(t) - world.t0) // 3600) % 24
    cycle = HOURLY_ACTIVITY[np.argsort(HOURLY_ACTIVITY)[-8:]].sum() / HOURLY_ACTIVITY[
        np.argsort(HOURLY_ACTIVITY)[:8]].sum()
    assert abs(_busy_quiet(hours) - cycle) < 0.15 * cycle


def test_launderers_keep_the_daily_cycle():
    # end to end, pooled over presets and seeds (one incident's transactions come in
    # correlated bursts, so a single dataset is noisy): clearly more laundering in the busy
    # hours than uniform hours (ratio 1) would give
    hours = []
    for sid in ("ronin-2022-v1", "medium-v1"):
        for seed in range(3):
            tl, _ = _laundering_times(simulator.make(sid, seed=seed, transactions=4000))
            hours.append((tl // 3600) % 24)
    assert _busy_quiet(np.concatenate(hours)) > 1.15
