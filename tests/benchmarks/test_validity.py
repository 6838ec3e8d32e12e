"""The validity benchmark: its statistics and tables on known figures, and small real runs."""

import numpy as np
import pytest

from launderbench.benchmarks.validity import (
    apart_p,
    apart_summary,
    gate,
    main,
    placebo_table,
    pooled,
    pooled_table,
    survey,
)


def test_apart_p_is_the_chance_tail():
    assert apart_p([1, 1], 0) == 1.0
    assert apart_p([1, 1], 1) == pytest.approx(0.75)  # 1 - (1/2)^2
    assert apart_p([1, 1], 2) == pytest.approx(0.25)
    assert apart_p([9, 9, 9], 1) == pytest.approx(1 - 0.9 ** 3)
    assert apart_p([1, 3], 2) == pytest.approx(0.5 * 0.25)
    assert apart_p([4], 2) == 0.0


def _rec(detector, task, real, placebos, preset="x", seed=0):
    from launderbench.benchmarks.placebo import placebo_p, placebo_percentile, set_apart

    return {"preset": preset, "seed": seed, "detector": detector, "task": task, "real": real,
            "placebos": placebos, "percentile": placebo_percentile(real, placebos),
            "p": placebo_p(real, placebos), "set_apart": set_apart(real, placebos)}


C, T = "classification/address", "tracing/address"


def test_apart_summary_and_table_on_known_figures():
    recs = [_rec("amount", C, 0.9, [0.5, 0.6, 0.7, 0.4], seed=0),   # apart, percentile 100
            _rec("amount", C, 0.55, [0.5, 0.6, 0.7, 0.4], seed=1),  # percentile 50
            _rec("amount", C, 0.3, [0.2], seed=2),                  # too few for min 2
            _rec("degree", T, 0.5, [0.5] * 4)]
    (a, d) = apart_summary(recs, min_placebos=2)
    assert (a["detector"], a["task"], a["n"]) == ("amount", C, 2)
    assert a["real"] == pytest.approx(0.725) and a["percentile"] == pytest.approx(75.0)
    assert a["placebo"] == pytest.approx(0.55)
    assert len(a["apart"]) == 1 and a["expected"] == pytest.approx(0.4)
    assert a["p"] == pytest.approx(1 - 0.8 ** 2)
    assert d["percentile"] == 50.0 and not d["apart"] and d["p"] == 1.0
    line = next(ln for ln in placebo_table(recs).splitlines() if ln.startswith("amount"))
    cols = line.split()
    # n, real, placebo, 5-95%, percentile, apart, chance, p (the 0.3 result counts here)
    assert cols[2:4] == ["3", "0.58"] and cols[6:9] == ["83.3", "1", "0.9"]


def test_gate_passes_chance_and_fails_a_planted_leak():
    rng = np.random.default_rng(0)
    chance = [_rec("degree", t, float(v[0]), [float(x) for x in v[1:]], preset=f"p{i}")
              for i in range(10) for t in (C, T) for v in [rng.uniform(0.3, 0.7, 11)]]
    assert gate(chance) == []
    leak = [_rec("amount", t, 0.95, [float(x) for x in rng.uniform(0.3, 0.7, 10)],
                 preset=f"p{i}") for i in range(4) for t in (C, T)]
    (line,) = gate(chance + leak)
    assert line.startswith("amount: 8 of 8 set apart") and "p0 seed 0 on" in line
    # results with too few placebos do not count
    assert gate([dict(r, placebos=r["placebos"][:8]) for r in leak]) == []


def test_pooled_means_carry_their_interval_over_seeds():
    recs = ([_rec("amount", C, v, [], preset="a", seed=s)
             for s, v in enumerate([0.8, 0.75, 0.7])]
            + [_rec("degree", T, v, [], preset="a", seed=s) for s, v in enumerate([0.5, 0.6])]
            + [_rec("raw-tx-classifier", C, 0.9, [], preset="a")])  # not a shortcut
    rows = {(r["detector"], r["task"]): r for r in pooled(recs, tol=0.15)}
    assert set(rows) == {("amount", C), ("degree", T)}
    a = rows[("amount", C)]
    # Student t, 2 degrees of freedom: 4.303 * 0.05 / sqrt(3)
    assert a["mean"] == pytest.approx(0.75) and a["half"] == pytest.approx(0.1242, abs=1e-4)
    assert a["n"] == 3 and a["beyond"] == 3
    text = pooled_table(recs, tol=0.15).splitlines()
    block = text[text.index(next(ln for ln in text if ln.startswith(C))):]
    assert next(ln for ln in block if ln.strip().startswith("a ")).split()[1:] == [
        "0.75±0.12*"]
    assert "means beyond the band: 1 of 1; single results beyond: 3 of 3" in block[-1]
    one = pooled_table(recs[:1], tol=0.15)  # one seed: no interval
    assert "0.80    *" in one


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path))


def test_survey_runs_every_baseline_on_every_task(capsys):
    records, failed = survey(seeds=1, transactions=2000, presets=["easy-v1"], placebos=2)
    assert not failed
    got = {(r["detector"], r["task"]) for r in records}
    tasks = ("tracing/address", "classification/address", "classification/transaction")
    assert got == ({(d, t) for d in ("random", "degree", "amount", "address-age") for t in tasks}
                   | {("raw-tx-classifier", t) for t in tasks[1:]})
    assert all(len(r["placebos"]) == 2 and 0.0 <= r["real"] <= 1.0 for r in records)
    assert main(["--seeds", "1", "--transactions", "2000", "--scenario", "easy-v1",
                 "--placebos", "2"]) == 0
    out = capsys.readouterr().out
    table = out.split("beside their placebos")[1].split("pooled over")[0]
    assert any(ln.startswith("raw-tx-classifier") for ln in table.splitlines())
    assert "raw-tx-classifier" not in out.split("pooled over")[1]  # a learned baseline


def test_survey_pools_two_seeds_and_writes_its_records(tmp_path, capsys):
    import json

    out = tmp_path / "records.json"
    assert main(["--seeds", "2", "--transactions", "2000", "--scenario", "easy-v1",
                 "--placebos", "0", "--detector", "degree", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "beside their placebos" not in text and "pooled over 2 seed(s)" in text
    assert "±" in text.split("tracing/address")[1]
    saved = json.loads(out.read_text())
    assert {(r["seed"], r["task"]) for r in saved["records"]} == {
        (s, t) for s in (0, 1) for t in ("tracing/address", "classification/address",
                                         "classification/transaction")}
    assert all(r["placebos"] == [] for r in saved["records"]) and saved["failed"] == []
    # two processes give the same records
    par, _ = survey(seeds=2, transactions=2000, presets=["easy-v1"], placebos=0,
                    detectors=["degree"], jobs=2)
    assert [r["real"] for r in par] == [r["real"] for r in saved["records"]]


@pytest.fixture
def seen_overrides(monkeypatch):
    """The scenario overrides every dataset of the survey is made with."""
    import launderbench.benchmarks.validity as v

    seen = []
    real = v.load_dataset

    def spy(run, seed, cache=None):
        seen.append(run.overrides)
        return real(run, seed, cache=cache)

    monkeypatch.setattr(v, "load_dataset", spy)
    return seen


def test_survey_footprint_override_reaches_the_generator(seen_overrides):
    records, failed = survey(seeds=1, transactions=2000, presets=["easy-v1"], placebos=0,
                             detectors=["degree"], footprint="incidents")
    assert not failed and records
    assert seen_overrides == [{"transactions": 2000, "footprint": "incidents"}]


def test_survey_difficulty_overrides_reach_the_generator(seen_overrides):
    """``--footprint fixed --twin-share 0.3 --split-sigma 0``: the presets with 0.4.0's settings."""
    assert main(["--seeds", "1", "--transactions", "2000", "--scenario", "easy-v1",
                 "--placebos", "0", "--detector", "degree", "--footprint", "fixed",
                 "--twin-share", "0.3", "--split-sigma", "0"]) == 0
    assert seen_overrides == [{"transactions": 2000, "footprint": "fixed",
                               "difficulty": {"twin_share": 0.3, "split_sigma": 0.0}}]


def test_a_preset_that_cannot_be_generated_is_reported(capsys):
    records, failed = survey(seeds=1, transactions=2000, presets=["no-such-preset"],
                             placebos=0, detectors=["degree"])
    assert records == [] and len(failed) == 1 and failed[0].startswith("no-such-preset seed 0")
