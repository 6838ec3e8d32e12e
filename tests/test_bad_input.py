"""Bad input, table-driven: every case is one clear line on stderr and exit code 2 (the
Python API: the project's own error type), never a traceback, and nothing written.

The command line runs in this process (``launderbench.benchmarks.cli.main``), so that a case
costs milliseconds; a traceback would escape as an exception and fail the case.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from launderbench.benchmarks.cli import main
from launderbench.simulator.economy.config import RANGES
from launderbench.simulator.errors import LaunderbenchError

GOOD_TOML = """\
id = "case-v1"
description = "a case"
[economy]
transactions = 400
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A valid dataset, a valid results directory, and corrupted copies of both."""
    base = tmp_path_factory.mktemp("inputs")
    ds = base / "ds"
    with pytest.raises(SystemExit) as e:
        main(["generate", "-s", "easy", "-n", "600", "-o", str(ds), "-q"])
    assert e.value.code == 0
    res = base / "res"
    with pytest.raises(SystemExit) as e:
        main(["run", "--scenario", str(ds), "--detector", "random", "--seeds", "0", "-o",
              str(res), "-q", "--no-memory"])
    assert e.value.code == 0
    return {"base": base, "ds": ds, "res": res}


def _copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


# ------------------------------------------------------------------ datasets, corrupted
def _corrupt_meta(d):
    (d / "meta.json").write_text("{not json")


def _meta_not_object(d):
    (d / "meta.json").write_text("[1, 2]")


def _meta_schema(d):
    m = json.loads((d / "meta.json").read_text())
    m["schema_version"] = 999
    (d / "meta.json").write_text(json.dumps(m))


def _meta_split(d):
    m = json.loads((d / "meta.json").read_text())
    m["split"] = "bogus"
    (d / "meta.json").write_text(json.dumps(m))


def _missing_table(d):
    (d / "outputs.parquet").unlink()


def _truncated_table(d):
    p = d / "inputs.parquet"
    p.write_bytes(p.read_bytes()[:64])


def _empty_table(d):
    (d / "transactions.parquet").write_bytes(b"")


def _column(table, column, fn):
    def corrupt(d):
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = pq.read_table(d / f"{table}.parquet")
        i = t.schema.get_field_index(column)
        values = fn(t.column(column).to_numpy(zero_copy_only=False))
        pq.write_table(t.set_column(i, column, pa.array(values)), d / f"{table}.parquet")
    return corrupt


DATASET_CORRUPTIONS = {
    "corrupt-meta": (_corrupt_meta, "corrupt"),
    "meta-not-object": (_meta_not_object, "JSON object"),
    "schema-version": (_meta_schema, "schema version"),
    "meta-split": (_meta_split, "split"),
    "missing-table": (_missing_table, "missing table file outputs.parquet"),
    "truncated-table": (_truncated_table, "inputs.parquet"),
    "empty-table": (_empty_table, "transactions.parquet"),
    "float-amounts": (_column("outputs", "amount", lambda a: a + 0.5), "type double"),
    "nan-amounts": (_column("outputs", "amount", lambda a: np.where(
        np.arange(len(a)) == 1, np.nan, a.astype(float))), "type double"),
    "null-timestamps": (_column("transactions", "timestamp", lambda a: [None] * len(a)),
                        "timestamp"),
    "string-fees": (_column("transactions", "fee", lambda a: a.astype(str)), "fee"),
    "address-out-of-range": (_column("outputs", "address_id", lambda a: a + 10**9),
                             "outputs.address_id"),
    "negative-tx-ids": (_column("inputs", "tx_id", lambda a: a - 10**9), "inputs.tx_id"),
    "truth-truncated": (lambda d: _truncate("tx_truth", d), "tx_truth"),
    "address-truth-truncated": (lambda d: _truncate("address_truth", d), "address_truth"),
    "seed-out-of-range": (_column("seeds", "tx_id", lambda a: a + 10**9), "seeds.tx_id"),
}


def _truncate(table, d):
    import pyarrow.parquet as pq

    f = d / f"{table}.parquet"
    pq.write_table(pq.read_table(f).slice(0, 3), f)


# ------------------------------------------------------------------ results, corrupted
def _zero_results(d):
    (d / "results.parquet").write_bytes(b"")


def _truncated_results(d):
    p = d / "results.parquet"
    p.write_bytes(p.read_bytes()[:100])


def _corrupt_curves(d):
    (d / "curves.json").write_text("{")


def _curves_not_list(d):
    (d / "curves.json").write_text('{"a": 1}')


def _config_list(d):
    (d / "config.json").write_text("[1, 2]")


def _config_corrupt(d):
    (d / "config.json").write_text("{")


def _no_results(d):
    (d / "results.parquet").unlink()


RESULT_CORRUPTIONS = {
    "zero-byte-results": (_zero_results, "results.parquet"),
    "truncated-results": (_truncated_results, "results.parquet"),
    "corrupt-curves": (_corrupt_curves, "curves.json"),
    "curves-not-a-list": (_curves_not_list, "curves.json"),
    "config-a-list": (_config_list, "config"),
    "config-corrupt": (_config_corrupt, "config"),
    "no-results": (_no_results, "results.parquet"),
}


# ------------------------------------------------------------------ scenario files
def _toml_economy(key, value):
    return GOOD_TOML + f"{key} = {value}\n"


TOML_CASES = {
    "syntax-error": (GOOD_TOML + "transactions = = 3\n", "toml"),
    "unknown-top-key": ("bogus = 1\n" + GOOD_TOML, "unknown key"),
    "unknown-economy-key": (_toml_economy("bogus", 1), "bogus"),
    "incident-not-table": (GOOD_TOML + "incident = 3\n", "incident"),
    "unknown-playbook": (GOOD_TOML + '[[incident]]\nplaybook = "nope"\n', "unknown playbook"),
    "playbook-and-steps": (GOOD_TOML + '[[incident]]\n', "playbook"),
    "start-day-nan": (GOOD_TOML + '[[incident]]\nplaybook = "generic-easy"\nstart_day = nan\n',
                      "start_day"),
    "start-day-inf": (GOOD_TOML + '[[incident]]\nplaybook = "generic-easy"\nstart_day = inf\n',
                      "start_day"),
    "start-day-negative": (GOOD_TOML + '[[incident]]\nplaybook = "generic-easy"\n'
                           'start_day = -1\n', "start_day"),
    "start-day-after-end": (GOOD_TOML + '[[incident]]\nplaybook = "generic-easy"\n'
                            'start_day = 1000\n', "start_day"),
    "after-days-nan": (GOOD_TOML + '[[incident]]\namount_usd = 1e10\n[incident.assets]\nBTC = 1\n'
                       '[[incident.steps]]\nid = "a"\nblock = "split"\nafter_days = nan\n',
                       "after_days"),
    "difficulty-unknown": (GOOD_TOML + '[difficulty]\nbogus = 1\n', "bogus"),
    "difficulty-out-of-range": (GOOD_TOML + '[difficulty]\ntwin_share = 99\n', "twin_share"),
    "difficulty-nan": (GOOD_TOML + '[difficulty]\ntwin_share = nan\n', "twin_share"),
    "chain-share-nan": (GOOD_TOML + '[economy.chain_share]\nbitcoin = nan\n', "chain_share"),
    "chain-share-inf": (GOOD_TOML + '[economy.chain_share]\nbitcoin = inf\n', "chain_share"),
    "chain-share-unknown": (GOOD_TOML + '[economy.chain_share]\nsolana = 1\n', "solana"),
    "mix-negative": (GOOD_TOML + '[economy.mix]\npayment = -1\n', "mix.payment"),
    "mix-unknown": (GOOD_TOML + '[economy.mix]\nteleport = 1\n', "teleport"),
    "footprint-bogus": (_toml_economy("footprint", '"bogus"'), "footprint"),
}
for _knob, (_lo, _hi) in RANGES.items():
    if _knob == "transactions":
        continue
    _integer = isinstance(_lo, int) and isinstance(_hi, int)
    TOML_CASES[f"{_knob}-below"] = (_toml_economy(_knob, _lo - 1), _knob)
    TOML_CASES[f"{_knob}-above"] = (_toml_economy(_knob, _hi * 10 + 1), _knob)
    TOML_CASES[f"{_knob}-string"] = (_toml_economy(_knob, '"x"'), _knob)
    if not _integer:
        TOML_CASES[f"{_knob}-nan"] = (_toml_economy(_knob, "nan"), _knob)


# ------------------------------------------------------------------ the cases
REAL_DATA = Path(__file__).parent / "fixtures" / "real-data"


def _utxo_rows(which: str) -> list[list[str]]:
    return [ln.split(",") for ln in (REAL_DATA / f"utxo-{which}.csv").read_text().splitlines()]


def _utxo_edit(outputs=None, inputs=None):
    """A change to the UTXO fixture: functions of (header + rows) per table."""
    return lambda o, i: ((outputs or (lambda t: t))(o), (inputs or (lambda t: t))(i))


def _set(row, col, value):
    def edit(t):
        t = [list(r) for r in t]
        t[row][t[0].index(col)] = value
        return t
    return edit


def _drop_column(col):
    return lambda t: [[c for k, c in enumerate(r) if k != t[0].index(col)] for r in t]


#: name -> (edit of the UTXO fixture, needle); the theft's input is inputs row 2, the
#: peel's (spending the theft's output) row 4
UTXO_CORRUPTIONS = {
    "duplicate-output": (_utxo_edit(outputs=lambda t: t + [t[2]]), "listed twice"),
    "duplicate-input": (_utxo_edit(inputs=lambda t: t + [t[2]]), "listed twice"),
    "double-spend": (_utxo_edit(inputs=lambda t: t + [t[2][:2] + ["5"] + t[4][3:]]),
                     "already spent"),
    "amount-too-big": (_utxo_edit(outputs=_set(18, "value", "1e30")), "does not fit"),
    "negative-amount": (_utxo_edit(outputs=_set(2, "value", "-5")), "bad amount"),
    "input-value-differs": (_utxo_edit(inputs=_set(4, "value", "499990001")), "differs"),
    "pays-out-more": (_utxo_edit(outputs=_set(18, "value", "200000001")), "pays out more"),
    "bad-index": (_utxo_edit(outputs=_set(2, "index", "x")), "not an index"),
    "spent-index-missing": (_utxo_edit(inputs=_set(4, "spent_output_index", "7")),
                            "does not have"),
    "no-spent-index-column": (_utxo_edit(inputs=_drop_column("spent_output_index")),
                              "spent_output_index"),
    "no-value-column": (_utxo_edit(outputs=_drop_column("value")), "value"),
    "empty-timestamp": (_utxo_edit(outputs=_set(2, "block_timestamp", "")),
                        "missing timestamp"),
}


def _cases():
    """(id, argv template, needle, setup): ``{ds}``, ``{res}``, ``{out}``, ``{file}`` and
    ``{toml}`` are filled per case."""
    c = []
    gen = ["generate", "-o", "{out}", "-q"]
    for v in ("-1", "abc", "1.5", ""):
        c.append((f"generate-seed-{v or 'empty'}", gen + ["--seed", v], "seed", None))
    for v in ("0", "-5", "abc", "999999999999", "1e6"):
        c.append((f"generate-n-{v}", gen + ["-n", v], "transactions", None))
    c += [
        ("generate-no-out", ["generate", "-q"], "--out", None),
        ("generate-unknown-scenario", gen + ["-s", "benin"], "did you mean", None),
        ("generate-missing-toml", gen + ["-s", "{base}/nope.toml"], "nope", None),
        ("generate-out-is-file", ["generate", "-o", "{file}", "-q"], "file", None),
        ("generate-out-foreign", ["generate", "-o", "{foreign}", "-q"], "not a launderbench",
         None),
        ("generate-too-large", gen + ["-n", "900000000"], "GiB", None),
        ("generate-unknown-option", gen + ["--bogus"], "bogus", None),
    ]
    for name, (_, needle) in TOML_CASES.items():
        c.append((f"toml-{name}", gen + ["-s", "{toml}"], needle, ("toml", name)))
    for cmd in ("describe", "check"):
        c.append((f"{cmd}-missing", [cmd, "{base}/nope"], "not found", None))
        c.append((f"{cmd}-a-file", [cmd, "{file}"], "file", None))
        c.append((f"{cmd}-empty-dir", [cmd, "{empty}"], "not a launderbench dataset", None))
        for name, (_, needle) in DATASET_CORRUPTIONS.items():
            c.append((f"{cmd}-{name}", [cmd, "{ds}"], needle, ("ds", name)))
    run = ["run", "--scenario", "{ds}", "--seeds", "0", "-o", "{out}", "-q", "--no-memory"]
    for spec, needle in (("nope", "unknown detector"), ("ppr@alpha=5", "alpha"),
                         ("ppr@alpha", "key=value"), ("@x=1", "empty name"),
                         ("haircut@max_hops=abc", "max_hops"),
                         ("haircut@max_hops=-1", "max_hops"),
                         ("haircut@budget=3", "budget"), ("fifo@bogus=1", "bogus"),
                         ("nomodule.x:Y", "cannot import"), ("launderbench.detectors:Nope",
                                                             "Nope")):
        c.append((f"run-detector-{spec}", run + ["--detector", spec], needle, None))
    for v, needle in (("-1", "seed"), ("abc", "seed"), ("1,x", "seed")):
        c.append((f"run-seeds-{v}", ["run", "--scenario", "{ds}", "--detector", "random",
                                     "--seeds", v, "-o", "{out}", "-q"], needle, None))
    for v in ("-1", "abc", "1.5"):
        c.append((f"run-budget-{v}", run + ["--detector", "random", "--budget", v], "budget",
                  None))
    lab = run + ["--detector", "raw-tx-classifier"]
    c += [
        ("run-label-share-2", lab + ["--label-share", "2"], "label share", None),
        ("run-label-share-0", lab + ["--label-share", "0"], "label share", None),
        ("run-label-noise-half", lab + ["--label-noise", "0.5"], "label noise", None),
        ("run-label-delay-negative", lab + ["--label-delay", "-1"], "label delay", None),
        ("run-label-share-nan", lab + ["--label-share", "nan"], "finite", None),
        ("run-train-seed-transductive", lab + ["--train-seed", "3"], "inductive", None),
        ("run-inductive-seed-tested", lab + ["--protocol", "inductive", "--train-seed", "0"],
         "also tested", None),
        ("run-bad-protocol", lab + ["--protocol", "magic"], "protocol", None),
        ("run-inductive-on-its-own-directory", lab + ["--protocol", "inductive"],
         "tested dataset", None),
        ("run-config-with-label-option", ["run", "--config", "{res}", "--label-share", "0.5",
                                          "-o", "{out}", "-q"], "recorded configuration",
         None),
    ]
    c += [
        ("run-unknown-suite", ["run", "--suite", "nope", "-o", "{out}", "-q"], "unknown suite",
         None),
        ("run-unknown-scenario", ["run", "--scenario", "nope-v1", "--detector", "random",
                                  "-o", "{out}", "-q"], "nope", None),
        ("run-workers-0", run + ["--detector", "random", "--workers", "0"], "workers", None),
        ("run-meta-split", run + ["--detector", "random"], "split", ("ds", "meta-split")),
        ("run-out-foreign", ["run", "--scenario", "{ds}", "--detector", "random", "--seeds",
                             "0", "-o", "{foreign}", "-q"], "not a launderbench result", None),
        ("run-config-missing", ["run", "--config", "{base}/nope.json", "-o", "{out}", "-q"],
         "nope", None),
        ("run-config-list", ["run", "--config", "{cfg_list}", "-o", "{out}", "-q"], "config",
         None),
        ("run-config-corrupt", ["run", "--config", "{cfg_bad}", "-o", "{out}", "-q"],
         "config", None),
        ("run-config-unknown-detector", ["run", "--config", "{cfg_det}", "-o", "{out}", "-q"],
         "unknown detector", None),
    ]
    for cmd in ("reproduce", "report"):
        c.append((f"{cmd}-missing", [cmd, "{base}/nope", "-q"], "results", None))
        for name, (_, needle) in RESULT_CORRUPTIONS.items():
            if cmd == "report" and name.startswith("config"):
                continue  # report reads no configuration it needs
            c.append((f"{cmd}-{name}", [cmd, "{res}", "-q"], needle, ("res", name)))
    imp = ["import", "{file}", "-o", "{out}"]
    c += [
        ("import-missing", ["import", "{base}/nope.csv", "-o", "{out}"], "nope.csv", None),
        ("import-bad-layout", imp + ["--layout", "bogus"], "layout", None),
        ("import-no-out", ["import", "{file}"], "--out", None),
        ("import-bad-pseudo", imp + ["--pseudo", "bogus"], "--pseudo", None),
        ("import-bad-asset", imp + ["--asset", "ETH:decimals=-1"], "--asset", None),
        ("import-bad-scale", imp + ["--amount-scale", "x"], "--amount-scale", None),
        ("export-scores-missing", ["export-scores", "{base}/nope", "-o", "{out}"],
         "not found", None),
        ("export-scores-foreign", ["export-scores", "{foreign}", "-o", "{out}"],
         "not a launderbench dataset", None),
        ("export-scores-no-out", ["export-scores", "{ds}"], "--out", None),
        ("export-scores-supervised", ["export-scores", "{ds}", "-d", "raw-tx-classifier",
                                      "-o", "{out}"], "needs training labels", None),
        ("export-scores-unknown-detector", ["export-scores", "{ds}", "-d", "nope", "-o",
                                           "{out}"], "nope", None),
        ("export-scores-out-is-dir", ["export-scores", "{ds}", "-d", "degree", "-o",
                                      "{empty}"], "directory", None),
        ("export-scores-bad-top", ["export-scores", "{ds}", "--top", "0", "-o", "{out}"],
         "--top", None),
        ("import-utxo-one-table", ["import", "{base}/utxo-outputs.csv", "--layout", "utxo",
                                   "-o", "{out}"], "two tables", ("utxo", None)),
        ("frobnicate", ["frobnicate"], "No such command", None),
        ("export-over-a-file", ["export", "{ds}", "--out", "{base}/mine.json"], "--overwrite",
         None),
        ("draw-over-a-file", ["draw", "{ds}", "--out", "{base}/fig.png"], "--overwrite", None),
        ("explore-over-a-file", ["explore", "{ds}", "--out", "{base}/page.html"],
         "--overwrite", None),
        ("draw-bad-suffix", ["draw", "{ds}", "--out", "{base}/fig.txt"], "png", None),
        ("features-missing", ["features", "{base}/nope", "--out", "{base}/f.parquet"],
         "not found", None),
        ("features-foreign", ["features", "{foreign}", "--out", "{base}/f.parquet"],
         "not a launderbench dataset", None),
        ("features-no-out", ["features", "{ds}"], "--out", None),
        ("features-bad-suffix", ["features", "{ds}", "--out", "{base}/f.csv"], "parquet",
         None),
        ("features-bad-level", ["features", "{ds}", "--out", "{base}/f.parquet", "--level",
                                "block"], "--level", None),
        ("features-over-a-file", ["features", "{ds}", "--out", "{base}/mine.json"],
         "--overwrite", None),
        ("features-out-is-dir", ["features", "{ds}", "--out", "{empty}"], "directory",
         None),
        ("features-corrupt-meta", ["features", "{ds}", "--out", "{base}/f.parquet"],
         "corrupt", ("ds", "corrupt-meta")),
        ("features-missing-table", ["features", "{ds}", "--out", "{base}/f.parquet"],
         "outputs.parquet", ("ds", "missing-table")),
    ]
    utxo = ["import", "{base}/utxo-outputs.csv", "{base}/utxo-inputs.csv", "--layout", "utxo",
            "-o", "{out}"]
    for name, (_, needle) in UTXO_CORRUPTIONS.items():
        c.append((f"import-utxo-{name}", utxo, needle, ("utxo", name)))
    return c


CASES = _cases()


def test_the_suite_is_large():
    assert len(CASES) + len(API_CASES) >= 150


@pytest.mark.parametrize("case_id,argv,needle,setup", CASES, ids=[c[0] for c in CASES])
def test_cli_bad_input_is_one_line_exit_2_and_nothing_written(files, tmp_path, capsys,
                                                               case_id, argv, needle, setup):
    base = tmp_path
    (base / "a-file.txt").write_text("hello")
    for mine in ("mine.json", "fig.png", "page.html"):
        (base / mine).write_text("the user's own file")
    (base / "empty").mkdir()
    foreign = base / "foreign"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("mine")
    ds, res = files["ds"], files["res"]
    if setup is not None:
        kind, name = setup
        if kind == "toml":
            (base / "case.toml").write_text(TOML_CASES[name][0])
        elif kind == "ds":
            ds = _copy(files["ds"], base / "ds")
            DATASET_CORRUPTIONS[name][0](ds)
        elif kind == "utxo":
            tables = (_utxo_rows("outputs"), _utxo_rows("inputs"))
            if name is not None:
                tables = UTXO_CORRUPTIONS[name][0](*tables)
            for which, t in zip(("outputs", "inputs"), tables):
                (base / f"utxo-{which}.csv").write_text("".join(",".join(r) + "\n" for r in t))
        else:
            res = _copy(files["res"], base / "res")
            RESULT_CORRUPTIONS[name][0](res)
    (base / "cfg_list.json").write_text("[1, 2]")
    (base / "cfg_bad.json").write_text("{")
    (base / "cfg_det.json").write_text(json.dumps(
        {"suite": "x", "scenarios": [{"id": str(files["ds"])}], "seeds": [0],
         "detectors": [{"name": "nope", "params": {}}]}))
    fill = {"ds": str(ds), "res": str(res), "out": str(base / "out"),
            "file": str(base / "a-file.txt"), "toml": str(base / "case.toml"),
            "base": str(base), "empty": str(base / "empty"), "foreign": str(foreign),
            "cfg_list": str(base / "cfg_list.json"), "cfg_bad": str(base / "cfg_bad.json"),
            "cfg_det": str(base / "cfg_det.json")}
    before = sorted(str(p.relative_to(base)) for p in base.rglob("*"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main([a.format(**fill) for a in argv])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert e.value.code == 2, (e.value.code, err)
    assert len(lines) == 1, err
    assert needle.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in err
    assert sorted(str(p.relative_to(base)) for p in base.rglob("*")) == before
    assert (foreign / "thesis.txt").read_text() == "mine"
    assert (base / "mine.json").read_text() == "the user's own file"


# ------------------------------------------------------------------ the Python API
def _api_cases():
    from launderbench import detectors, simulator
    from launderbench.benchmarks.evaluator import Evaluator
    from launderbench.benchmarks.tasks import RankingTask
    from launderbench.simulator.dataset import Dataset

    task = RankingTask.from_arrays("tracing", y_true=[1, 0, 1, 0])
    c = [
        ("load-none", lambda: Dataset.load(None)),
        ("load-int", lambda: Dataset.load(3)),
        ("load-missing", lambda: Dataset.load("/nonexistent/launderbench")),
        ("make-unknown", lambda: simulator.make("nope-v1")),
        ("make-bad-seed", lambda: simulator.make("benign-v1", seed=-1)),
        ("make-float-seed", lambda: simulator.make("benign-v1", seed=1.5)),
        ("make-unknown-override", lambda: simulator.make("benign-v1", bogus=1)),
        ("make-transactions-string", lambda: simulator.make("benign-v1", transactions="x")),
        ("make-difficulty-not-table", lambda: simulator.make("easy-v1", difficulty=3)),
        ("detector-unknown", lambda: detectors.make("nope")),
        ("detector-unknown-param", lambda: detectors.make("haircut", bogus=1)),
        ("detector-empty-name", lambda: detectors.make("")),
        ("detector-none-name", lambda: detectors.make(None)),
        ("register-bad-name", lambda: detectors.register("a:b", "x.y:Z")),
        ("register-bad-entry", lambda: detectors.register("zz-new", "nocolon")),
        ("register-not-a-detector", lambda: detectors.register("zz-new2", int)),
        ("evaluator-not-a-task", lambda: Evaluator("task")),
        ("evaluator-threshold", lambda: Evaluator(task, threshold="x")),
        ("evaluator-string-scores", lambda: Evaluator(task).eval({"y_score": list("abcd")})),
        ("evaluator-short-scores", lambda: Evaluator(task).eval({"y_score": [0.1]})),
        ("evaluator-nan-scores", lambda: Evaluator(task).eval(
            {"y_score": [math.nan, 0, 0, 0]})),
        ("evaluator-not-a-dict", lambda: Evaluator(task).eval([0.1, 0.2, 0.3, 0.4])),
        ("evaluator-budget", lambda: Evaluator(RankingTask.from_arrays(
            "tracing", y_true=[1, 0], budget="x")).eval({"y_score": [1.0, 0.0]})),
    ]
    for knob, (lo, _) in RANGES.items():
        c.append((f"make-{knob}-below", lambda k=knob, v=lo: simulator.make(
            "benign-v1", **{k: v - 1})))
        c.append((f"make-{knob}-nan", lambda k=knob: simulator.make(
            "benign-v1", **{k: math.nan})))
    return c


API_CASES = _api_cases()


@pytest.mark.parametrize("case_id,call", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input_raises_the_projects_own_error(case_id, call):
    with pytest.raises(LaunderbenchError) as e:
        call()
    assert "\n" not in str(e.value).strip() and str(e.value).strip()


# ------------------------------------------------------------------ random scenario files
def _scenario_strategy():
    from hypothesis import strategies as st

    from launderbench.simulator.economy.config import EconomyConfig

    knobs = sorted(EconomyConfig.__dataclass_fields__) + ["bogus"]
    junk = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True,
                                                              allow_infinity=True),
                     st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2))
    small = st.one_of(st.integers(100, 3000), st.floats(0, 1), junk)
    economy = st.dictionaries(st.sampled_from(knobs), small, max_size=6)
    incident = st.fixed_dictionaries({}, optional={
        "playbook": st.sampled_from(["generic-easy", "ronin", "dmm-bitcoin", "nope"]),
        "start_day": st.one_of(st.floats(-5, 100), st.just(math.nan), st.integers(-5, 100)),
        "amount_usd": st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                st.integers(-10, 10**12)),
        "bogus": junk,
    })
    difficulty = st.dictionaries(st.sampled_from(["twin_share", "hop_scale", "amount_scale",
                                                  "time_jitter", "bogus"]),
                                 st.one_of(st.floats(-1, 5), junk),
                                 max_size=3)
    return st.fixed_dictionaries({"id": st.just("random-v1"), "description": st.just("r")},
                                 optional={"economy": economy,
                                           "incident": st.lists(incident, max_size=2),
                                           "difficulty": difficulty,
                                           "bogus": junk})


@pytest.mark.slow
def test_random_scenario_files_give_a_valid_dataset_or_one_clean_error(monkeypatch):
    """Any keys, any values: either a dataset that passes every invariant check, or one
    :class:`LaunderbenchError` line. The machine is made to look small, so that a large
    request is refused by the memory estimate rather than generated."""
    from hypothesis import HealthCheck, given, settings

    from launderbench.simulator import memory
    from launderbench.simulator.check import problems
    from launderbench.simulator.config import scenario_from_dict
    from launderbench.simulator.generate import generate

    monkeypatch.setattr(memory, "available_bytes",
                        lambda: memory.BASE_BYTES + memory.BYTES_PER_TRANSACTION * 60_000)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(doc=_scenario_strategy())
    def run(doc):
        try:
            ds = generate(scenario_from_dict(doc, "random.toml"), seed=0)
        except LaunderbenchError as e:
            assert str(e).strip() and "\n" not in str(e).strip()
            return
        assert problems(ds) == []

    run()


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    """Writing a table fails with ENOSPC (no space left on device): one line naming the
    problem, exit 2, no temporary directory left behind."""
    import errno

    from launderbench.simulator.dataset import Table

    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(Table, "write_parquet", full)
    with pytest.raises(SystemExit) as e:
        main(["generate", "-n", "500", "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "No space left on device" in err
    assert list(tmp_path.iterdir()) == []


def test_run_stopped_by_a_user_error_leaves_no_journal(tmp_path, capsys):
    """A task that finished before a user error stopped the run was journaled; the run's
    output directory, which the run made, goes whole (nothing half-written is left), while
    a directory that existed before keeps what it held."""
    from launderbench.simulator import write

    good, bad = tmp_path / "good", tmp_path / "bad"
    write("easy-v1", good, seed=0, transactions=300)
    write("easy-v1", bad, seed=0, transactions=300)
    _meta_split(bad)
    out = tmp_path / "out"
    argv = ["run", "--scenario", str(good), "--scenario", str(bad), "--seeds", "0",
            "--detector", "random", "-o", str(out), "-q", "--no-memory"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert "split" in capsys.readouterr().err
    assert not out.exists()
    # the same with an output directory the user made: it stays, with what it held
    out.mkdir()
    (out / "journal").mkdir()
    with pytest.raises(SystemExit):
        main(argv)
    assert out.is_dir()
