"""External tables (AMLSim, IBM AML, generic edge lists) through the whole harness."""

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from launderbench.benchmarks.cli import main
from launderbench.benchmarks.importer import detect_layout, import_table
from launderbench.benchmarks.runner import DetectorSpec, RunConfig, run_config
from launderbench.benchmarks.suites import ScenarioRun
from launderbench.simulator.dataset import Dataset
from launderbench.simulator.errors import DatasetError

AMLSIM_HEADER = "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id\n"


def amlsim_csv(path, n_normal=300, seed=0):
    """A small AMLSim-style transaction log: random transfers plus three SAR alerts (one per
    part of the temporal split), each a fan-out followed by a fan-in."""
    rng = np.random.default_rng(seed)
    lines = []
    t0 = np.datetime64("2017-01-01T00:00:00")
    for i in range(n_normal):
        a, b = rng.choice(60, size=2, replace=False)
        t = t0 + np.timedelta64(int(rng.integers(0, 90 * 86400)), "s")
        lines.append((i, 100 + a, 100 + b, "TRANSFER", round(float(rng.uniform(10, 900)), 2),
                      f"{t}Z", "False", -1))
    tid = n_normal
    for alert, (hub, day) in enumerate([(500, 20), (600, 62), (700, 85)]):  # out, then in
        for k in range(6):
            t = t0 + np.timedelta64(day * 86400 + 3600 * k, "s")
            lines.append((tid, hub, hub + 1 + k, "TRANSFER", 950.0, f"{t}Z", "True", alert))
            tid += 1
            t2 = t + np.timedelta64(7200, "s")
            lines.append((tid, hub + 1 + k, hub + 50, "TRANSFER", 940.0, f"{t2}Z", "True",
                          alert))
            tid += 1
    path.write_text(AMLSIM_HEADER + "".join(",".join(map(str, r)) + "\n" for r in lines))
    return path


IBM = """Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering
2022/09/01 00:20,010,8000EBD30,010,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,Reinvestment,0
2022/09/01 00:20,03208,8000F4580,001,8000F5340,0.01,US Dollar,0.01,US Dollar,Cheque,0
2022/09/01 00:00,03209,8000F4670,03209,8000F4670,14675.57,Euro,14675.57,Euro,Reinvestment,1
2022/09/02 00:02,012,80011F990,001,8000F5340,2.57,Euro,2.57,Euro,ACH,1
"""


def test_amlsim_table_by_hand(tmp_path):
    f = tmp_path / "tx.csv"
    f.write_text(AMLSIM_HEADER
                 + "1,10,11,TRANSFER,100.5,2017-01-01T00:00:00Z,False,-1\n"
                 + "2,11,12,TRANSFER,50.0,2017-01-02T00:00:00Z,True,3\n"
                 + "3,12,13,TRANSFER,49.0,2017-01-01T12:00:00Z,True,3\n")
    ds = import_table(f, announce_first=True)
    assert ds.meta["source"]["layout"] == "amlsim"
    # sorted by time: rows 1, 3, 2
    assert ds.inputs["amount"].tolist() == [10050, 4900, 5000]
    names = ds.entities["name"]
    assert [names[a] for a in ds.inputs["address_id"]] == ["10", "12", "11"]
    assert [names[a] for a in ds.outputs["address_id"]] == ["11", "13", "12"]
    assert ds.tx_truth["incident_id"].tolist() == [-1, 3, 3]
    assert ds.seeds["tx_id"].tolist() == [1] and ds.seeds["incident_id"].tolist() == [3]
    role = dict(zip(names, ds.address_truth["role"]))
    assert role["10"] == 0 and role["11"] == 4 and role["13"] == 4
    assert ds.taint["output_id"].tolist() == [1, 2]
    Dataset.load(ds.save(tmp_path / "ds"))  # valid on disk


def test_ibm_layout_currencies_and_duplicate_headers(tmp_path):
    f = tmp_path / "HI-Small_Trans.csv"
    f.write_text(IBM)
    ds = import_table(f)
    assert ds.meta["source"]["layout"] == "ibm"
    assert ds.assets["symbol"].tolist() == ["Euro", "US Dollar"]
    assert ds.assets["usd_price"].tolist() == [1.08, 1.0]
    # the self-transfer's source and target are one address (bank + account)
    assert ds.inputs["address_id"][0] == ds.outputs["address_id"][0]
    assert ds.tx_truth["incident_id"].tolist() == [0, -1, -1, 0]
    assert ds.transactions["timestamp"][0] == np.datetime64("2022-09-01T00:00", "s").astype(int)


def test_generic_parquet_with_named_columns(tmp_path):
    f = tmp_path / "edges.parquet"
    pq.write_table(pa.table({"s": ["a", "b", "c"], "d": ["b", "c", "a"],
                             "v": [1.0, 2.0, 3.0], "t": [30, 10, 20], "y": [0, 1, 0]}), f)
    assert detect_layout(["s", "d", "v", "t"]) == "generic"
    ds = import_table(f, columns={"source": "s", "target": "d", "amount": "v",
                                  "timestamp": "t", "label": "y"})
    assert ds.transactions["timestamp"].tolist() == [10, 20, 30]
    assert ds.tx_truth["incident_id"].tolist() == [0, -1, -1]


@pytest.mark.parametrize("text, cols, msg", [
    ("a,b\n1,2\n", None, "no 'source' column"),
    ("s,d,v,t\nx,y,-1,5\n", {"source": "s", "target": "d", "amount": "v", "timestamp": "t"},
     "bad amount at row 1"),
    ("s,d,v,t\nx,y,1,notatime\n", {"source": "s", "target": "d", "amount": "v",
                                    "timestamp": "t"}, "cannot parse timestamps"),
    ("s,d,v,t\nx,y,1,5\n", {"source": "s", "target": "nope", "amount": "v", "timestamp": "t"},
     "column 'nope' .target. not found"),
    ("s,d,v,t,y\nx,y,1,5,maybe\n", {"source": "s", "target": "d", "amount": "v",
                                     "timestamp": "t", "label": "y"}, "not a label at row 1"),
])
def test_bad_tables_say_what_is_wrong(tmp_path, text, cols, msg):
    f = tmp_path / "t.csv"
    f.write_text(text)
    with pytest.raises(DatasetError, match=msg):
        import_table(f, columns=cols)


def test_imported_amlsim_runs_through_the_whole_harness(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAUNDERBENCH_CACHE", str(tmp_path / "cache"))
    f = amlsim_csv(tmp_path / "transactions.csv")
    out = tmp_path / "aml"
    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "--out", str(out), "--announce-first"])
    assert e.value.code == 0 and "layout amlsim" in capsys.readouterr().out
    cfg = RunConfig(suite="import", scenarios=[ScenarioRun(str(out))], seeds=[0],
                    detectors=[DetectorSpec(d) for d in ("random", "degree", "haircut",
                                                         "raw-tx-classifier")])
    res = run_config(cfg, progress=False)
    assert all(r["status"] == "ok" for r in res.rows)
    got = {(r["detector"], r["task"], r["metric"]): r["value"] for r in res.rows
           if r["group"] == "all"}
    for task in ("classification/address", "classification/transaction", "tracing/address",
                 "typology"):
        assert ("random", task, "pr_auc") in got, task
    # tracing from the announced first transaction of each alert (hub -> spoke 1) follows the
    # value to spoke 1 and on to the collector; the hub's other spokes are not downstream
    assert got[("haircut", "tracing/address", "recall@k")] >= 3 / 8 - 1e-9
    # and those are all ranked on top: average precision at least 3/8
    assert got[("haircut", "tracing/address", "pr_auc")] >= 3 / 8 - 1e-9
    assert got[("haircut", "tracing/address", "pr_auc")] > got[
        ("random", "tracing/address", "base_rate")]
    assert not math.isnan(got[("raw-tx-classifier", "classification/transaction", "pr_auc")])
    assert {r["scenario"] for r in res.rows} == {"imported:transactions"}
