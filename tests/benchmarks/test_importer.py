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
                                    "timestamp": "t"}, "cannot parse timestamp at row 1"),
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
    # every detector ran; the imported log has no hidden links, so linking is skipped
    assert {r["status"] for r in res.rows} == {"ok", "skipped"}
    assert {r["task"] for r in res.rows if r["status"] == "skipped"} == {"linking"}
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


# ------------------------------------------------------------------ exact values, no corruption
A1 = "0x52908400098527886E0F7030069857D2E4169EE7"  # checksummed form
A2 = "0x8617e340b3d01fa5f11f306f4090fd50e238070d"
A3 = "0xde709f2102306220921060314715629080e2fb77"


def _edges(tmp_path, rows, header="source,target,amount,timestamp", name="edges.csv"):
    f = tmp_path / name
    f.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return f


def test_default_column_names_need_no_flags_and_amounts_stay_exact(tmp_path):
    f = _edges(tmp_path, [(A1, A2, "1500.000000000000000001", 1577836800),
                          (A2.upper().replace("0X", "0x"), A3, "0.000000000000000001",
                           1577923200)])
    ds = import_table(f, amount_scale=0, assets={"ETH": {}})
    # one ETH asset; 18 decimals needed but 1500e18 does not fit: fewer, with a warning
    assert ds.assets["symbol"].tolist() == ["ETH"] and ds.assets["usd_price"][0] == 3000.0
    d = int(ds.assets["decimals"][0])
    assert d < 18 and any("rounded" in w for w in ds.meta["source"]["warnings"])
    assert ds.inputs["amount"][0] == 1500 * 10**d and ds.inputs["amount"][1] == 0
    # unix seconds read as seconds, not as a year
    assert ds.transactions["timestamp"].tolist() == [1577836800, 1577923200]
    # checksummed, upper and lower case forms are one lowercased address
    names = ds.entities["name"].tolist()
    assert names == [A1.lower(), A2, A3] and ds.meta["source"]["evm_addresses"]
    assert ds.outputs["address_id"][0] == ds.inputs["address_id"][1]


def test_wei_amounts_with_a_scale_keep_every_unit(tmp_path):
    f = _edges(tmp_path, [(A1, A2, "1000000000000000000", 10),
                          (A2, A3, "123456789012345678", 100000)])
    ds = import_table(f, amount_scale=18, assets={"ETH": {}})
    assert ds.assets["decimals"].tolist() == [18]
    assert ds.inputs["amount"].tolist() == [10**18, 123456789012345678]
    assert not any("rounded" in w for w in ds.meta["source"]["warnings"])


def test_given_decimals_and_price_and_unknown_price_warns(tmp_path):
    f = _edges(tmp_path, [("a", "b", "1.123456789", "2020-01-01T00:00:00Z", "ETH"),
                          ("b", "c", "2.5", "2020-01-03T00:00:00+00:00", "FOO")],
               header="source,target,amount,timestamp,currency")
    ds = import_table(f, assets={"eth": {"decimals": 9, "usd": 2500.0}})
    assert ds.assets["symbol"].tolist() == ["ETH", "FOO"]
    assert ds.assets["decimals"].tolist() == [9, 2]
    assert ds.assets["usd_price"].tolist() == [2500.0, 1.0]
    assert ds.inputs["amount"].tolist() == [1123456789, 250]
    assert ds.transactions["timestamp"].tolist() == [1577836800, 1578009600]
    assert any("FOO: no USD price" in w for w in ds.meta["source"]["warnings"])
    ds = import_table(f, assets={"BTC": {"usd": 1.0}})
    assert any("--asset btc: no such currency" in w for w in ds.meta["source"]["warnings"])


@pytest.mark.parametrize("unit, want", [("s", [5, 86405]), ("ms", [0, 86]),
                                        ("step:86400", [5 * 86400, 86405 * 86400])])
def test_time_units(tmp_path, unit, want):
    f = _edges(tmp_path, [("a", "b", 1, 5), ("b", "c", 1, 86405)])
    ds = import_table(f, time_unit=unit)
    assert ds.transactions["timestamp"].tolist() == want
    short = any("under a day" in w for w in ds.meta["source"]["warnings"])
    assert short == (unit == "ms")


H = "source,target,amount,timestamp"
CORRUPTIONS = [
    # (id, header, rows, extra options, needle)
    ("amount-1e30", H, [("a", "b", "1e30", 5)], [], "row 1 (1E+30) does not fit"),
    ("wei-with-given-decimals", H, [("a", "b", 1, 5), ("a", "b", "1500000000000000000000", 6)],
     ["--asset", "USD:decimals=18"], "amount at row 2"),
    ("negative-amount", H, [("a", "b", "-3", 5)], [], "bad amount at row 1"),
    ("hex-amount", H, [("a", "b", "0xA", 5)], [], "bad amount at row 1"),
    ("empty-amount", H, [("a", "b", "", 5)], [], "bad amount at row 1 (missing)"),
    ("empty-timestamp", H, [("a", "b", 1, 5), ("a", "b", 1, "")], [],
     "missing timestamp at row 2"),
    ("garbage-timestamp", H, [("a", "b", 1, "2020-13-45")], [], "cannot parse timestamp at row 1"),
    ("mixed-timestamps", H, [("a", "b", 1, 5), ("a", "b", 1, "2020-01-01")], [],
     "not a number of s like the rows before at row 2"),
    ("ms-read-as-seconds", H, [("a", "b", 1, 1577836800000)], [], "--time-unit ms"),
    ("bad-time-unit", H, [("a", "b", 1, 5)], ["--time-unit", "days"], "bad time unit"),
    ("incident-overflow", H + ",label,incident", [("a", "b", 1, 5, 1, 99999999999)], [],
     "incident id over 2,147,483,647 at row 1"),
    ("incident-hex", H + ",label,incident", [("a", "b", 1, 5, 1, "0xA")], [],
     "incident id is not a whole number at row 1"),
    ("short-hex-address", H, [(A1, A2, 1, 5), ("0xA", A2, 1, 6)], [],
     "not an EVM address (0x and 40 hex digits) at row 2"),
    ("bad-hex-digit", H, [(A1, A2, 1, 5), (A1, A2[:-1] + "g", 1, 6)], [],
     "column 'target': not an EVM address"),
    ("empty-address", H, [("a", "", 1, 5)], [], "missing address at row 1"),
    ("bad-asset-option", H, [("a", "b", 1, 5)], ["--asset", "ETH:decimals=99"], "--asset"),
    ("asset-option-no-symbol", H, [("a", "b", 1, 5)], ["--asset", ":usd=3"], "no symbol"),
]


@pytest.mark.parametrize("case_id, header, rows, extra, needle", CORRUPTIONS,
                         ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_values_are_one_line_exit_2_and_nothing_written(tmp_path, capsys, case_id,
                                                                header, rows, extra, needle):
    f = _edges(tmp_path, rows, header=header)
    before = sorted(tmp_path.rglob("*"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert e.value.code == 2, err
    assert len(lines) == 1 and needle in lines[0], err
    assert sorted(tmp_path.rglob("*")) == before


def test_import_warns_on_stderr_when_the_data_spans_under_a_day(tmp_path, capsys):
    f = _edges(tmp_path, [("a", "b", 1, 1), ("b", "c", 2, 100)])
    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 0
    assert [ln for ln in err.splitlines() if "under a day" in ln] == [err.strip()]
    Dataset.load(tmp_path / "out")


def test_parquet_typed_columns_are_read_exactly(tmp_path):
    f = tmp_path / "typed.parquet"
    t = pa.array([1577836800, 1577923200], pa.timestamp("s"))
    pq.write_table(pa.table({"source": ["a", None], "target": ["b", "c"],
                             "amount": pa.array([12, 10**18], pa.int64()), "timestamp": t}), f)
    with pytest.raises(DatasetError, match="missing address at row 2"):
        import_table(f)
    pq.write_table(pa.table({"source": ["a", "b"], "target": ["b", "c"],
                             "amount": pa.array([12, 10**18], pa.int64()), "timestamp": t}), f)
    ds = import_table(f, assets={"ETH": {"decimals": 0}})
    assert ds.transactions["timestamp"].tolist() == [1577836800, 1577923200]
    assert ds.inputs["amount"].tolist() == [12, 10**18]


# ------------------------------------------------------------------ seeds, attribution, identity
def _addr(k):
    return "0x" + f"{k:040x}"


def _theft_edges(tmp_path):
    """A thief's address fans the loot out over two hops into an exchange, among unrelated
    transfers; hashes 0x..; amounts in wei."""
    rng = np.random.default_rng(3)
    thief, exch, bridge = _addr(0xBAD), _addr(0xE0), _addr(0xB0)
    rows, t = [], 1_600_000_000
    for k in range(120):  # background among 40 users, some into the exchange
        a, b = rng.choice(40, 2, replace=False)
        dst = exch if k % 10 == 0 else _addr(0x1000 + b)
        rows.append((f"0x{k:064x}", _addr(0x1000 + a), dst, int(rng.integers(1, 10**18)) * 10,
                     t + 600 * k))
    hop1 = [_addr(0x2000 + i) for i in range(3)]
    hop2 = [_addr(0x3000 + i) for i in range(3)]
    k = 1000
    for i in range(3):
        rows.append((f"0x{k:064x}", thief.upper().replace("0X", "0x"), hop1[i],
                     3 * 10**18, t + 86400 + i))
        rows.append((f"0x{k + 1:064x}", hop1[i], hop2[i], 3 * 10**18 - 1000, t + 90000 + i))
        rows.append((f"0x{k + 2:064x}", hop2[i], exch if i else bridge, 3 * 10**18 - 2000,
                     t + 95000 + i))
        k += 3
    f = _edges(tmp_path, rows, header="tx_hash,source,target,amount,timestamp",
               name="theft.csv")
    tags = tmp_path / "tags.csv"
    tags.write_text(f"address,kind,name\n{exch.upper().replace('0X', '0x')},exchange,Exch\n"
                    f"{bridge},bridge,Bridge\n{_addr(0xFFFF)},mixer,not in the table\n")
    return f, tags, thief, hop1, hop2, exch


def test_seed_address_attribution_and_ranked_original_strings(tmp_path, capsys):
    f, tags, thief, hop1, hop2, exch = _theft_edges(tmp_path)
    out = tmp_path / "ds"
    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "-o", str(out), "--amount-scale", "18", "--asset",
              "ETH:usd=3000", "--seed-address", thief, "--attribution", str(tags)])
    assert e.value.code == 0, capsys.readouterr().err
    ds = Dataset.load(out)
    assert ds.seeds.num_rows == 3 and set(ds.seeds["incident_id"].tolist()) == {0}
    assert (ds.tx_truth["incident_id"] == -1).all()  # no labels: no truth, seeds all the same
    kinds = {int(k) for k in ds.addresses["service_kind"]}
    assert kinds == {0, 1, 3}
    assert ds.meta["source"]["attribution"]["tagged_addresses"] == 2
    ranked = tmp_path / "ranked.csv"
    with pytest.raises(SystemExit) as e:
        main(["export-scores", str(out), "--detector", "haircut", "--out", str(ranked)])
    assert e.value.code == 0
    lines = ranked.read_text().splitlines()
    assert lines[0] == "rank,address,score,service,address_id"
    top = [ln.split(",")[1] for ln in lines[1:8]]
    # the thief's downstream addresses first, by their hex strings; the tagged exchange is a
    # cash-out the tracer stops at, not a launderer
    assert set(top[:6]) == set(hop1) | set(hop2)
    assert [ln.split(",")[3] for ln in lines if f",{exch}," in ln] == ["exchange"]


def test_seed_by_transaction_hash_and_from_a_file(tmp_path):
    f, tags, thief, hop1, hop2, exch = _theft_edges(tmp_path)
    ds = import_table(f, amount_scale=18, seed_txs=[f"0x{1000:064x}".upper().replace("0X", "0x")])
    assert ds.seeds["tx_id"].tolist() == [int(np.flatnonzero(ds.identity["tx"] ==
                                                             f"0x{1000:064x}")[0])]
    s = tmp_path / "seeds.txt"
    s.write_text(f"# the thief\n{thief}\n0x{1003:064x}  # and one more hash\n")
    ds2 = import_table(f, amount_scale=18, seeds_file=s)
    assert ds2.seeds.num_rows == 3 + 1 - 1  # the hash is one of the thief's own sends
    assert ds2.identity["address"][ds2.inputs["address_id"][ds2.seeds["tx_id"][0]]] == thief


@pytest.mark.parametrize("extra, needle", [
    (["--seed-address", "0x" + "1" * 40], "is not in the table"),
    (["--seed-address", "0x12"], "seed address: not an EVM address"),
    (["--seed-tx", "0x" + "9" * 64], "seed transaction 0x999"),
    (["--seeds", "{base}/nope.txt"], "cannot read seeds file"),
    (["--attribution", "{base}/nope.csv"], "cannot read attribution file"),
    (["--attribution", "{base}/badkind.csv"], "unknown kind 'casino'"),
    (["--attribution", "{base}/badhead.csv"], "header must be address,kind,name"),
])
def test_bad_seeds_and_attribution_are_one_line_exit_2(tmp_path, capsys, extra, needle):
    f, *_ = _theft_edges(tmp_path)
    (tmp_path / "badkind.csv").write_text(f"address,kind,name\n{_addr(0xE0)},casino,x\n")
    (tmp_path / "badhead.csv").write_text(f"addr,kind\n{_addr(0xE0)},exchange\n")
    before = sorted(tmp_path.rglob("*"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "-o", str(tmp_path / "out"), "--amount-scale", "18",
              *[a.format(base=tmp_path) for a in extra]])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert e.value.code == 2 and len(err) == 1 and needle in err[0], err
    assert sorted(tmp_path.rglob("*")) == before


def test_export_scores_refuses_without_seeds_and_by_ids_for_generated_data(tmp_path, capsys):
    f, *_ = _theft_edges(tmp_path)
    save = tmp_path / "ds"
    from launderbench.benchmarks.importer import save_imported
    save_imported(import_table(f, amount_scale=18), save)
    with pytest.raises(SystemExit) as e:
        main(["export-scores", str(save), "--out", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "has none" in err and not (tmp_path / "r.csv").exists()
    with pytest.raises(SystemExit) as e:
        main(["export-scores", str(save), "-d", "degree", "--out", str(tmp_path / "r.csv"),
              "--top", "5"])
    assert e.value.code == 0
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 6


def test_structuring_runs_on_data_without_bitcoin_or_says_why(tmp_path):
    from launderbench.detectors.registry import make
    from launderbench.simulator.errors import ConfigError

    f, *_ = _theft_edges(tmp_path)
    view = import_table(f, amount_scale=18, assets={"ETH": {}}).observable()
    s = make("structuring").fit_score(view)
    assert s.info["asset"] == "USD (no BTC in the data)" and len(s.address) == view.n_addresses
    with pytest.raises(ConfigError, match="unknown asset 'BTC' .known: ETH"):
        make("structuring", threshold=2.0).fit_score(view)


# ------------------------------------------------------------------ more layouts
FIXTURES = __import__("pathlib").Path(__file__).parents[1] / "fixtures" / "real-data"


def test_explorer_export_native_and_token_rows_in_one_file():
    ds = import_table(FIXTURES / "explorer-export.csv")
    assert ds.meta["source"]["layout"] == "evm"
    assert ds.assets["symbol"].tolist() == ["ETH", "USDT"]
    assert ds.assets["usd_price"].tolist() == [3000.0, 1.0]
    # the fewest decimals that keep every amount exact (at least two): 200 ETH in wei would
    # not fit in int64 at 18
    assert ds.assets["decimals"].tolist() == [2, 2]
    assert not ds.meta["source"]["warnings"]
    usdt = ds.transactions["asset_id"] == 1
    assert sorted(ds.inputs["amount"][usdt].tolist()) == [49900000, 50000000, 50000000]
    assert ds.inputs["amount"][~usdt].max() == 200 * 100
    assert (ds.inputs["amount"] == 0).sum() == 1  # the zero-value contract call is kept
    assert len(ds.identity["tx"]) == ds.transactions.num_rows
    assert all(a == a.lower() for a in ds.identity["address"])


def test_warehouse_table_with_utc_suffix_and_wei(tmp_path):
    f = _edges(tmp_path, [("0x" + "a" * 64, A1, A2, "2500000000000000000",
                           "2022-04-15 05:20:00 UTC")],
               header="hash,from_address,to_address,value,block_timestamp")
    ds = import_table(f)
    assert ds.meta["source"]["layout"] == "evm"
    assert ds.inputs["amount"].tolist() == [250] and ds.assets["decimals"].tolist() == [2]
    assert ds.transactions["timestamp"].tolist() == [1650000000]


AMLSIM_LOG = """step,type,amount,nameOrig,nameDest,isSAR,alertID
0,TRANSFER,100.00,7,8,0,-1
0,TRANSFER,900.50,-1,7,0,-1
3,TRANSFER,40.25,8,9,1,12
5,TRANSFER,39.00,9,-2,1,12
99,TRANSFER,12.00,7,-2,0,-1
"""


@pytest.mark.parametrize("pseudo, n_tx, kinds", [("keep", 5, [0]), ("drop", 2, [0]),
                                                 ("service", 5, [0, 1])])
def test_amlsim_log_as_written_in_daily_steps_with_pseudo_accounts(tmp_path, capsys, pseudo,
                                                                  n_tx, kinds):
    f = tmp_path / "tx_log.csv"
    f.write_text(AMLSIM_LOG)
    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "-o", str(tmp_path / "ds"), "--pseudo", pseudo])
    assert e.value.code == 0
    assert "under a day" not in capsys.readouterr().err  # 99 daily steps, not 99 seconds
    ds = Dataset.load(tmp_path / "ds")
    assert ds.meta["source"]["layout"] == "amlsim-log" and ds.transactions.num_rows == n_tx
    assert sorted(set(ds.addresses["service_kind"].tolist())) == kinds
    if pseudo == "keep":
        assert ds.transactions["timestamp"].tolist() == [0, 0, 3 * 86400, 5 * 86400,
                                                         99 * 86400]
        assert ds.tx_truth["incident_id"].tolist() == [-1, -1, 12, 12, -1]
    if pseudo == "service":
        names = ds.entities["name"].tolist()
        got = {names[i]: n for i, n in enumerate(ds.addresses["service_name"]) if n}
        assert got == {"-1": "pseudo:-1", "-2": "pseudo:-2"}


def test_amlsim_log_with_pattern_ids(tmp_path):
    f = tmp_path / "log.csv"
    f.write_text(AMLSIM_LOG.replace("alertID", "patternID"))
    ds = import_table(f)
    assert ds.meta["source"]["columns"]["incident"] == "patternID"


@pytest.mark.parametrize("text, needle", [
    ("hash,from,to,value,timeStamp,tokenDecimal\n0x1,{a},{b},5,1,x\n",
     "not a number of decimals at row 1"),
    ("hash,from,to,value,timeStamp\n,{a},{b},5,1\n", "missing transaction hash at row 1"),
    ("source,target,amount,timestamp,currency\na,b,1,5,\n", "missing currency at row 1"),
    ("step,type,amount,nameOrig,nameDest,isSAR,alertID\n0,T,1,-1,-2,0,-1\n",
     "no rows left once pseudo-accounts are dropped"),
])
def test_bad_layout_cells(tmp_path, text, needle):
    f = tmp_path / "t.csv"
    f.write_text(text.format(a=A1, b=A2))
    with pytest.raises(DatasetError, match=needle):
        import_table(f, pseudo="drop")


def test_the_real_data_walkthrough_runs_as_written(tmp_path, monkeypatch, capsys):
    """Every ``$ launderbench`` command of docs/real-data.md, run from a copy of the fixture
    at its repository path, prints what the page shows."""
    import re
    import shlex
    import shutil

    root = FIXTURES.parents[2]
    text = (root / "docs" / "real-data.md").read_text()
    blocks = re.findall(r"```console\n(.*?)```", text, re.S)
    assert len(blocks) == 5
    shutil.copytree(FIXTURES, tmp_path / "tests" / "fixtures" / "real-data")
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        cmd, *want = block.strip("\n").split("\n")
        assert cmd.startswith("$ launderbench ")
        capsys.readouterr()
        with pytest.raises(SystemExit) as e:
            main(shlex.split(cmd)[2:])
        assert e.value.code == 0
        assert capsys.readouterr().out.rstrip("\n").split("\n") == want
    assert (tmp_path / "ranked.csv").is_file()


def test_native_and_token_transfers_in_two_files(tmp_path, capsys):
    lines = (FIXTURES / "explorer-export.csv").read_text().splitlines()
    head, rows = lines[0], lines[1:]
    native = [r for r in rows if r.endswith(",,,")]
    token = [r for r in rows if not r.endswith(",,,")]
    (tmp_path / "txlist.csv").write_text("timeStamp,hash,from,to,value\n" + "".join(
        r.rsplit(",", 3)[0] + "\n" for r in native))
    (tmp_path / "tokentx.csv").write_text(head + "\n" + "".join(r + "\n" for r in token))
    both = import_table([tmp_path / "txlist.csv", tmp_path / "tokentx.csv"])
    one = import_table(FIXTURES / "explorer-export.csv")
    for t in ("transactions", "inputs", "outputs", "assets", "addresses"):
        assert both.tables[t].digest() == one.tables[t].digest(), t
    with pytest.raises(SystemExit) as e:
        main(["import", str(tmp_path / "txlist.csv"), str(tmp_path / "tokentx.csv"), "-o",
              str(tmp_path / "ds")])
    assert e.value.code == 0 and "28 transactions" in capsys.readouterr().out


def test_an_imported_slice_passes_the_checker_with_the_skipped_checks_named(tmp_path, capsys):
    from pathlib import Path

    from launderbench.benchmarks.cli import main

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "real-data"
    out = tmp_path / "theft"
    with pytest.raises(SystemExit) as e:
        main(["import", str(fixtures / "explorer-export.csv"), "--out", str(out),
              "--attribution", str(fixtures / "tags.csv")])
    assert e.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["check", str(out)])
    assert e.value.code == 0
    assert "a slice of a chain, so not checked: account-balances, positive-amounts" in \
        capsys.readouterr().out


UTXO_OUT, UTXO_IN = FIXTURES / "utxo-outputs.csv", FIXTURES / "utxo-inputs.csv"
THEFT_TX = "2daf5a7240150afc0b2265a2237d0b6edcb714dd7f88283525716581c2cf1f3e"
COINJOIN_TX = "fd5f38c87b89429403be8db686faffacd36ef3b0d14b60d6fc36dae599afbd26"
THIEF = "bc1qdlm5aahn0t09nl4ujy8624fl6zy54klay937yr"
PEELS = ["bc1qltsjqf6h5graeeeex7ervydu284rxqfxhpydcf",
         "bc1qkpp37svkukh9wxw7v4d7q7k98cv7tm49eae922"]


def test_utxo_tables_import_as_a_utxo_chain_with_the_slice_marked_partial():
    from launderbench.simulator.check import problems
    from launderbench.simulator.schema import ChainModel

    ds = import_table([UTXO_OUT, UTXO_IN], layout="utxo", seed_txs=[THEFT_TX.upper()])
    src = ds.meta["source"]
    assert src["layout"] == "utxo" and int(ds.chains["model"][0]) == ChainModel.UTXO
    assert problems(ds) == []  # conservation and UTXO spends hold, synthetic issuances too
    # four transactions before the slice (victim, alice, bob, carol), issued at its start
    assert src["partial"] is True
    assert src["outside"]["transactions"] == 4 and src["outside"]["outputs"] == 4
    assert src["coinbase_transactions"] == 1
    assert any("zero value" in w for w in src["warnings"])
    tx, ins, outs = ds.transactions, ds.inputs, ds.outputs
    hashes = list(ds.identity["tx"])
    assert int(tx["is_issuance"].sum()) == 5
    assert (tx["timestamp"][:4] == tx["timestamp"].min()).all() and tx["is_issuance"][:4].all()
    assert int(ds.assets["decimals"][0]) == 8 and ds.assets["symbol"][0] == "BTC"
    cj = hashes.index(COINJOIN_TX)
    assert int(tx["fee"][cj]) == 30_000 and int(tx["n_inputs"][cj]) == 3
    assert int(tx["n_outputs"][cj]) == 6
    assert int(tx["fee"][hashes.index(THEFT_TX)]) == 10_000
    # every input names the output it spends, by id and by (transaction, index)
    sp = ins["spent_output_id"]
    assert (sp >= 0).all()
    assert (outs["tx_id"][sp] == ins["prev_tx_id"]).all()
    assert (outs["index"][sp] == ins["prev_index"]).all()
    assert (outs["amount"][sp] == ins["amount"]).all()
    # the theft spends the victim's coin, which the slice only knows from the input row
    theft_in = np.flatnonzero(ins["tx_id"] == hashes.index(THEFT_TX))
    assert [int(ins["amount"][k]) for k in theft_in] == [500_000_000]
    victim_coin = int(ins["prev_tx_id"][theft_in[0]])
    assert hashes[victim_coin].startswith("166ea565") and tx["is_issuance"][victim_coin]
    assert int(ins["prev_index"][theft_in[0]]) == 1
    assert ds.tables["seeds"]["tx_id"].tolist() == [hashes.index(THEFT_TX)]
    # the files in either order, recognised without --layout, give the same tables
    again = import_table([UTXO_IN, UTXO_OUT])
    for t in ("transactions", "inputs", "outputs", "addresses"):
        assert again.tables[t].digest() == ds.tables[t].digest(), t


def test_utxo_values_in_whole_coins_are_exact(tmp_path):
    from decimal import Decimal

    for src in (UTXO_OUT, UTXO_IN):
        lines = src.read_text().splitlines()
        rows = [ln.split(",") for ln in lines[1:]]
        for r in rows:
            if r[-1]:
                r[-1] = str(Decimal(r[-1]).scaleb(-8))
        (tmp_path / src.name).write_text("\n".join([lines[0], *map(",".join, rows)]) + "\n")
    coins = import_table([tmp_path / UTXO_OUT.name, tmp_path / UTXO_IN.name], amount_scale=0)
    sats = import_table([UTXO_OUT, UTXO_IN])
    for t in ("transactions", "inputs", "outputs", "assets"):
        assert coins.tables[t].digest() == sats.tables[t].digest(), t


def test_utxo_import_check_and_ranking_by_original_strings(tmp_path, capsys):
    out = tmp_path / "ds"
    for argv in (["import", str(UTXO_OUT), str(UTXO_IN), "--layout", "utxo", "--out", str(out),
                  "--seed-tx", THEFT_TX, "--attribution", str(FIXTURES / "utxo-tags.csv")],
                 ["check", str(out)],
                 ["export-scores", str(out), "--out", str(tmp_path / "r.csv"), "--top", "5"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0, capsys.readouterr()
    printed = capsys.readouterr().out
    assert "12 transactions" in printed and ": ok (" in printed
    ranked = (tmp_path / "r.csv").read_text().splitlines()[1:]
    # the thief, then the peel chain's change addresses; the exchanges are cash-outs
    assert [r.split(",")[1] for r in ranked[:3]] == [THIEF, *PEELS]
    assert not any(r.split(",")[3] for r in ranked)


def test_attributed_services_on_labelled_rows_are_not_the_launderers(tmp_path):
    """A labelled theft export: the drained exchange sends the first laundering row and the
    cash-out lands at another exchange. With both attributed, the drained exchange is the
    incident's victim (left out of the tasks) and the receiving exchange is benign, as the
    generator labels services; the thief's own addresses stay laundering."""
    from launderbench.simulator.dataset import Dataset
    from launderbench.simulator.schema import Role

    f = tmp_path / "theft.csv"
    f.write_text("source,target,amount,timestamp,label,incident\n"
                 "victimx,thief,100,2024-01-01T00:00:00,1,0\n"
                 "thief,hop,99,2024-01-01T02:00:00,1,0\n"
                 "hop,cashx,98,2024-01-01T05:00:00,1,0\n"
                 "alice,bob,5,2024-01-01T01:00:00,0,-1\n"
                 "bob,carol,4,2024-01-02T01:00:00,0,-1\n")
    tags = tmp_path / "tags.csv"
    tags.write_text("address,kind,name\nvictimx,exchange,Drained Exchange\n"
                    "cashx,exchange,Cash-out Exchange\n")
    out = tmp_path / "ds"
    from launderbench.benchmarks.cli import main

    with pytest.raises(SystemExit) as e:
        main(["import", str(f), "--out", str(out), "--label", "label", "--incident",
              "incident", "--announce-first", "--attribution", str(tags)])
    assert e.value.code == 0
    from launderbench.benchmarks.importer import read_identity

    ds = Dataset.load(out)
    strings = read_identity(out)["address"]
    role = {strings[a]: Role(int(r)).name
            for a, r in zip(ds.address_truth["address_id"], ds.address_truth["role"])}
    assert role["victimx"] == "VICTIM" and role["cashx"] == "BENIGN"
    assert role["thief"] != "BENIGN" and role["hop"] != "BENIGN" and role["alice"] == "BENIGN"


def test_imported_addresses_are_shown_by_their_original_strings(tmp_path, capsys):
    """Export and the explorer name an imported address by the string the investigator
    knows (the hex address), not only by its id."""
    import json
    from pathlib import Path

    from launderbench.benchmarks.cli import main

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "real-data"
    out = tmp_path / "theft"
    thief = "0x4F566D4DF368AF2F4F4F272B6C042FCC5CD48CB4"
    with pytest.raises(SystemExit) as e:
        main(["import", str(fixtures / "explorer-export.csv"), "--out", str(out),
              "--seed-address", thief, "--attribution", str(fixtures / "tags.csv")])
    assert e.value.code == 0
    with pytest.raises(SystemExit) as e:
        main(["export", str(out), "--out", str(tmp_path / "g.json")])
    assert e.value.code == 0
    nodes = json.loads((tmp_path / "g.json").read_text())["nodes"]
    assert thief.lower() in {n.get("address") for n in nodes}
    with pytest.raises(SystemExit) as e:
        main(["explore", str(out), "--out", str(tmp_path / "x.html")])
    assert e.value.code == 0
    page = (tmp_path / "x.html").read_text()
    assert thief.lower() in page and "0x4f56...8cb4" in page
