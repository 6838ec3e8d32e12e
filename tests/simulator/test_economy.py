"""The benign economy has the look-alikes every laundering shape needs, and realistic shape."""

import numpy as np
import pytest

from launderbench.simulator import make
from launderbench.simulator.describe import describe, powerlaw_alpha
from launderbench.simulator.schema import LinkKind, ServiceKind


@pytest.fixture(scope="module")
def ds():
    return make("benign-v1", seed=5, transactions=15000)


def test_no_laundering_in_the_benign_scenario(ds):
    assert (ds.tables["tx_truth"]["incident_id"] == -1).all()
    assert ds.tables["taint"].num_rows == 0 and ds.seeds.num_rows == 0


def test_fan_in_and_fan_out_lookalikes(ds):
    tx = ds.transactions
    btc = tx["chain_id"] == 0
    # exchange consolidations: many inputs, one output
    assert ((tx["n_inputs"] >= 10) & (tx["n_outputs"] == 1) & btc).sum() >= 5
    # batched withdrawals and payouts: many outputs
    assert (tx["n_outputs"] >= 8).sum() >= 20
    # ordinary payments with change: one input, two outputs (the peel look-alike)
    assert ((tx["n_inputs"] == 1) & (tx["n_outputs"] == 2))[btc].mean() > 0.3


def test_coinjoin_rounds_have_equal_outputs(ds):
    tx, outs = ds.transactions, ds.outputs
    many = np.flatnonzero((tx["n_inputs"] >= 5) & (tx["n_outputs"] >= 5) & (tx["chain_id"] == 0))
    found = 0
    for t in many:
        amt = outs["amount"][outs["tx_id"] == t]
        _, counts = np.unique(amt, return_counts=True)
        found += counts.max() >= 5
    assert found >= 1


def test_hidden_links_of_every_kind(ds):
    links = ds.tables["links"]
    kinds = set(links["kind"].tolist())
    assert {LinkKind.MIXER, LinkKind.BRIDGE, LinkKind.SWAP, LinkKind.OTC} <= kinds
    assert (links["in_tx_id"] < links["out_tx_id"]).all()
    br = links["kind"] == LinkKind.BRIDGE
    ch = ds.transactions["chain_id"]
    assert (ch[links["in_tx_id"][br]] != ch[links["out_tx_id"][br]]).all()
    # some bridges carry a public deposit id on both sides, some do not
    memo_in = ds.transactions["memo"][links["in_tx_id"][br]]
    memo_out = ds.transactions["memo"][links["out_tx_id"][br]]
    assert ((memo_in >= 0) & (memo_in == memo_out)).any() and (memo_in < 0).any()


def test_attribution_is_partial(ds):
    sk = ds.addresses["service_kind"]
    assert (sk == ServiceKind.EXCHANGE).sum() > 0 and (sk == ServiceKind.MIXER).sum() > 0
    assert (sk == 0).mean() > 0.8


def test_realistic_shape(ds):
    s = describe(ds)
    assert 1.5 < s["degree"]["in_alpha"] < 3.5
    assert s["degree"]["in_max"] > 50 * s["degree"]["in_mean"]
    assert 0.1 < s["amounts"]["share_round"] < 0.8
    assert s["time"]["peak_to_trough_hour"] > 1.5
    assert s["time"]["weekend_to_weekday"] < 0.95
    assert s["fees"]["distinct_fee_rates"] > 20


def test_powerlaw_alpha_recovers_a_known_exponent():
    rng = np.random.default_rng(0)
    x = np.floor(5 * (1 - rng.random(200_000)) ** (-1 / 1.5)).astype(int)  # alpha = 2.5
    assert abs(powerlaw_alpha(x, 5) - 2.5) < 0.1


def test_mixer_pools_only_take_exact_notes(ds):
    """A fixed-denomination pool never receives a shrunk (non-denomination) deposit."""
    v = ds.observable()
    pools = np.flatnonzero(v.addresses["service_kind"] == ServiceKind.MIXER)
    eth = v.chains["chain_id"][v.chains["name"] == "ethereum"][0]
    pools = pools[v.addresses["chain_id"][pools] == eth]
    o = v.outputs
    into = np.isin(o["address_id"], pools)
    assert into.sum() > 10
    notes = {10**8, 10**9, 10**10, 10**11}  # 0.1, 1, 10, 100 ETH in gwei
    assert set(np.unique(o["amount"][into]).tolist()) <= notes


def test_short_lived_relay_addresses_on_account_chains(ds):
    # forwarded payments on account chains pass through a fresh relay address: it receives
    # one payment and sends one onward within hours (the look-alike of a laundering hop)
    tx, ins, outs = ds.transactions, ds.inputs, ds.outputs
    eth = np.asarray(ds.chains["chain_id"])[np.asarray(ds.chains["name"]) == "ethereum"][0]
    on_eth = np.asarray(tx["chain_id"])[np.asarray(outs["tx_id"])] == eth
    n_recv = np.bincount(np.asarray(outs["address_id"])[on_eth],
                         minlength=ds.addresses.num_rows)
    n_sent = np.bincount(np.asarray(ins["address_id"]), minlength=ds.addresses.num_rows)
    relay = np.flatnonzero((n_recv == 1) & (n_sent == 1))
    # single-use customer deposit addresses alone give about 180 at this size (no forwarding);
    # the relays add about 300 more
    assert len(relay) >= 300
    ts = np.asarray(tx["timestamp"])
    first = np.full(ds.addresses.num_rows, np.iinfo(np.int64).max)
    last = np.zeros(ds.addresses.num_rows, np.int64)
    for leg in (ins, outs):
        a, t = np.asarray(leg["address_id"]), ts[np.asarray(leg["tx_id"])]
        np.minimum.at(first, a, t)
        np.maximum.at(last, a, t)
    life_h = (last[relay] - first[relay]) / 3600
    assert np.median(life_h) < 12  # passed on within hours, not days
