"""Tasks derived from a hand-built ledger whose answers are known by construction."""

import numpy as np
import pytest

from launderbench.benchmarks.evaluator import Evaluator
from launderbench.benchmarks.tasks import TaskSet
from launderbench.simulator.errors import ConfigError, DatasetError
from launderbench.simulator.schema import LinkKind, Role, ServiceKind, Stage, Typology
from launderbench.simulator.split import split_codes, temporal_split
from launderbench.simulator.toy import ToyLedger

G = 10**9  # gwei per ETH
H = 3600
LAY = {"incident": 0, "stage": int(Stage.LAYERING), "typology": int(Typology.HOP_CHAIN)}
INTEG = {"incident": 0, "stage": int(Stage.INTEGRATION),
         "typology": int(Typology.EXCHANGE_DEPOSIT)}


def ledger():
    """victim -> thief -> hop -> deposit -> exchange, plus a mixer pass and benign traffic.

    Addresses: 0 victim, 1 thief, 2 hop, 3 deposit (cash-out), 4 exchange, 5 mixer,
    6 mixer recipient, 7..9 benign users.
    """
    led = ToyLedger()
    v = led.address("ethereum", role=Role.VICTIM, incident=0)
    th = led.address("ethereum", role=Role.THIEF, incident=0)
    hop = led.address("ethereum", role=Role.INTERMEDIARY, incident=0)
    dep = led.address("ethereum", role=Role.CASHOUT, incident=0)
    ex = led.address("ethereum", service=ServiceKind.EXCHANGE, name="ex")
    mx = led.address("ethereum", service=ServiceKind.MIXER, name="mx")
    rc = led.address("ethereum", role=Role.MIXER_RECIPIENT, incident=0)
    a, b, c = (led.address("ethereum") for _ in range(3))
    led.issue(0, [(v, 100 * G), (a, 10 * G), (mx, 50 * G)], asset="ETH")     # tx 0
    led.transfer(1 * H, a, b, 1 * G)                                           # tx 1
    seed, _ = led.transfer(2 * H, v, th, 100 * G, taint={0: (0, 100 * G)},
                           incident=0, stage=int(Stage.PLACEMENT),
                           typology=int(Typology.DRAIN))                      # tx 2
    led.seed(0, seed)
    led.transfer(3 * H, th, hop, 60 * G, taint={0: (0, 60 * G)}, **LAY)       # tx 3
    tin, _ = led.transfer(4 * H, th, mx, 40 * G, taint={0: (0, 40 * G)},
                          incident=0, stage=int(Stage.LAYERING),
                          typology=int(Typology.MIXER_POOL))                  # tx 4
    led.transfer(5 * H, hop, dep, 60 * G, taint={0: (0, 60 * G)}, **INTEG)    # tx 5
    led.transfer(6 * H, dep, ex, 60 * G, taint={0: (0, 60 * G)}, **INTEG)     # tx 6
    tout, _ = led.transfer(7 * H, mx, rc, 39 * G, taint={0: (0, 39 * G)},
                           incident=0, stage=int(Stage.LAYERING),
                           typology=int(Typology.MIXER_POOL))                 # tx 7
    led.link(LinkKind.MIXER, tin, tout, incident=0)
    led.transfer(8 * H, b, c, G // 2)                                          # tx 8
    led.transfer(9 * H, a, c, G)                                               # tx 9
    return led.build()


@pytest.fixture(scope="module")
def ts():
    return TaskSet(ledger())


def test_labels_exclude_victims_and_benign(ts):
    assert ts.addr_label.tolist() == [False, True, True, True, False, False, True, False,
                                      False, False]
    assert np.flatnonzero(ts.tx_label).tolist() == [2, 3, 4, 5, 6, 7]
    t = ts._classification("address")
    assert not t.mask[0]  # the victim is not an item
    # this small ledger's laundering all happens before the test part: classification is
    # skipped with its reason, never dropped silently
    assert set(ts.names()) == {"tracing/address", "typology", "linking"}
    assert ts.skipped == {
        "classification/address": "the temporal split leaves no laundering address in the "
                                  "test part",
        "classification/transaction": "the temporal split leaves no laundering transaction "
                                      "in the test part"}


def test_tracing_truth_hops_hours_and_integration_value(ts):
    t = ts["tracing/address"]
    # hops: thief 1 (receives the seed), hop 2, deposit 3; the mixer withdrawal (tx 7) is a
    # laundering transaction, so the recipient is 3 hops out (thief -> mixer -> recipient)
    assert t.hops[1] == 1 and t.hops[2] == 2 and t.hops[3] == 3 and t.hops[6] == 3
    assert np.isnan(t.hops[7])
    assert t.hours[1] == 0 and t.hours[2] == 1 and t.hours[3] == 3 and t.hours[6] == 5
    # stolen value reaching integration: 60 ETH at the deposit address; the exchange's hot
    # wallet also receives it, but it is a benign service address, so it carries no value
    usd = 3_000.0
    assert t.value[3] == pytest.approx(60 * usd)
    assert t.value[[0, 1, 2, 4, 5, 6]].sum() == 0


def test_perfect_tracer_gets_everything(ts):
    t = ts["tracing/address"]
    r = Evaluator(t).eval({"y_score": t.y_true.astype(float)})
    assert r["recall@k"] == 1 and r["pr_auc"] == 1 and r["trace_depth@k"] == 1
    assert r["value_recall@k"] == 1
    # a tracer that stops one hop short of the cash-out misses all of its value
    short = np.where(t.y_true, 1.0, 0.0)
    short[3] = -1.0  # ranked below every negative
    r = Evaluator(t).eval({"y_score": short})
    assert r["value_recall@k"] == 0 and r["recall@k"] == pytest.approx(3 / 4)


def test_linking_task(ts):
    lt = ts["linking"]
    assert lt.in_tx.tolist() == [4] and lt.out_tx.tolist() == [7]
    assert lt.chain.tolist() == ["ethereum"]
    r = Evaluator(lt).eval({"links": {"in_tx_id": np.array([4]), "out_tx_id": np.array([7]),
                                      "score": np.array([1.0])}})
    assert r["f1"] == 1
    groups = Evaluator(lt).eval_groups({"links": None})
    assert groups["chain=ethereum"]["recall"] == 0 and groups["kind=mixer"]["n_links"] == 1


def test_groups_exist(ts):
    g = ts["typology"].groups
    assert {"typology=drain", "typology=hop_chain", "typology=mixer_pool",
            "typology=exchange_deposit", "stage=placement", "stage=layering",
            "stage=integration", "incident=0"} <= set(g.positive)
    assert set(g.items) == {"chain=ethereum"}
    with pytest.raises(ConfigError, match="no task 'nope'"):
        ts["nope"]


def test_only_builds_the_named_tasks(ts):
    every = TaskSet(ts.ds)
    assert set(every.names()) == {"tracing/address", "typology", "linking"}
    some = TaskSet(ts.ds, only=("typology", "linking", "classification/transaction"))
    assert some.names() == ["typology", "linking"]
    assert list(some.skipped) == ["classification/transaction"]
    assert (some["typology"].y_true == every["typology"].y_true).all()
    with pytest.raises(ConfigError, match="unknown task.*tracing/transaction"):
        TaskSet(ts.ds, only=("tracing/transaction",))


def test_temporal_split_fractions_and_ties():
    code = temporal_split(np.arange(10))
    assert code.tolist() == [0] * 6 + [1] * 2 + [2] * 2
    tied = temporal_split(np.array([0, 0, 0, 0, 0, 0, 0, 1, 2, 3]))
    assert tied[:7].tolist() == [1] * 7  # equal times fall into one part
    with pytest.raises(DatasetError, match="sum"):
        temporal_split(np.arange(3), (0.5, 0.5, 0.5))


def test_dataset_split_meta_and_first_appearance():
    ds = ledger()
    sp = split_codes(ds)
    assert sp["transaction"].tolist() == [0] * 6 + [1] * 2 + [2] * 2
    # address 6 (mixer recipient) first appears in tx 7 (valid); address 9 (c) in tx 8 (test)
    assert sp["address"][6] == 1 and sp["address"][9] == 2 and sp["address"][0] == 0
    ds.meta["split"] = {"train_end": 4 * H, "valid_end": 8 * H}
    sp = split_codes(ds)
    ts_ = ds.transactions["timestamp"]
    assert np.array_equal(sp["transaction"], np.where(ts_ < 4 * H, 0, np.where(ts_ < 8 * H, 1, 2)))


def test_dataset_split_gives_ids_of_each_part_in_time_order():
    from launderbench.simulator import make

    ds = make("easy-v1", seed=0, transactions=1500)
    idx = ds.split()
    assert list(idx) == ["train", "valid", "test"]
    codes = split_codes(ds)["transaction"]
    for i, name in enumerate(idx):
        assert np.array_equal(idx[name], np.flatnonzero(codes == i))
    ts = ds.transactions["timestamp"]
    assert ts[idx["train"]].max() <= ts[idx["valid"]].min() <= ts[idx["test"]].min()
    assert sum(map(len, idx.values())) == ds.transactions.num_rows
    addr = ds.split("address")
    assert sum(map(len, addr.values())) == int((split_codes(ds)["address"] >= 0).sum())
