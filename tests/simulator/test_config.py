"""Scenario files, validation and the registry."""

import re

import pytest

from launderbench.simulator import make, registry
from launderbench.simulator.config import load_scenario_file, scenario_from_dict
from launderbench.simulator.errors import ConfigError


def test_registry_lists_benign_and_resolves_latest():
    ids = registry.list_scenarios()
    assert "benign-v1" in ids and ids["benign-v1"]
    assert registry.resolve("benign").id == registry.resolve("benign-v1").id


@pytest.mark.parametrize("bad,needle", [
    ("benign-v9", "available: benign-v1"),
    ("bening", "did you mean 'benign'"),
    ("", "registered id"),
])
def test_unknown_ids(bad, needle):
    with pytest.raises(ConfigError, match=needle):
        registry.resolve(bad)


@pytest.mark.parametrize("doc,needle", [
    ({"id": "x-v1", "colour": 1}, "unknown key 'colour'"),
    ({"id": "x-v1", "economy": {"transactoins": 5}}, "unknown key economy.transactoins"),
    ({"id": "x-v1", "economy": {"transactions": 1.5}}, "must be an integer"),
    ({"id": "x-v1", "economy": {"transactions": 10}}, "between 100 and"),
    ({"id": "x-v1", "economy": {"fresh_address_rate": 2.0}}, "between 0 and 1"),
    ({"id": "x-v1", "economy": {"chain_share": {"dogecoin": 1.0}}}, "unknown chain"),
    ({"id": "x-v1", "economy": {"mix": {"teleport": 1.0}}}, "unknown behaviour"),
    ({"id": "x-v1", "economy": {"asset_share": {"DOGE": 1.0}}}, "unknown asset 'DOGE'"),
    ({"id": "x-v1", "economy": {"asset_share": {"ETH": -1}}}, "asset_share.ETH must be between 0"),
    ({"id": "x-v1", "economy": {"footprint": "auto"}}, "footprint must be"),
    ({"id": "x-v1", "economy": {"footprint": 3}}, "must be a string"),
    ({"id": "x-v1", "economy": {"value_scale": 0.0}}, "value_scale must be"),
    ({"economy": {}}, "'id' must be"),
    ({"id": "x-v1", "incident": [3]}, "must be tables"),
])
def test_validation_errors_name_the_key(doc, needle):
    with pytest.raises(ConfigError, match=needle) as e:
        scenario_from_dict(doc, origin="t.toml")
    assert "\n" not in str(e.value) and str(e.value).startswith("t.toml")


def test_user_toml_file_in_place_of_an_id(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('id = "mine-v1"\ndescription = "small"\n[economy]\ntransactions = 600\n'
                 'days = 5\nexchanges = 2\n')
    s = load_scenario_file(f)
    assert s.economy.transactions == 600 and s.economy.exchanges == 2
    ds = make(str(f), seed=2)
    assert ds.meta["scenario"] == "mine-v1" and ds.meta["params"]["economy"]["days"] == 5


def test_overrides_are_validated():
    with pytest.raises(ConfigError, match="unknown scenario override"):
        make("benign-v1", bogus=1)
    with pytest.raises(ConfigError, match="seed"):
        make("benign-v1", seed=-3, transactions=500)


@pytest.mark.parametrize("overrides,needle", [
    ({"days": 100_000_000}, "economy.days must be between 1 and 3650"),
    ({"transactions": 999_999_999_999}, "economy.transactions must be between"),
    ({"exchanges": 1_000_000}, "economy.exchanges must be between 1 and 1000"),
    ({"activity_exponent": -1.0}, "economy.activity_exponent"),
    ({"users_per_transaction": 0.0}, "economy.users_per_transaction"),
    ({"users_per_transaction": float("nan")}, "economy.users_per_transaction"),
    ({"users_per_transaction": float("inf")}, "economy.users_per_transaction"),
    ({"chain_share": {"bitcoin": float("nan")}}, "economy.chain_share.bitcoin"),
    ({"chain_share": {"bitcoin": float("inf")}}, "economy.chain_share.bitcoin"),
    ({"chain_share": {"bitcoin": 0.0}}, "at least one chain"),
    ({"mix": {"payment": float("nan")}}, "economy.mix.payment"),
    ({"transactions": "abc"}, "must be an integer"),
    ({"transactions": 1.5}, "must be an integer"),
    ({"wealth_sigma": True}, "must be a number"),
])
def test_out_of_range_knobs_are_one_clear_error(overrides, needle):
    from launderbench.simulator import make

    with pytest.raises(ConfigError, match=re.escape(needle)):
        make("benign-v1", **overrides)


def test_numpy_numbers_are_accepted():
    import numpy as np

    from launderbench.simulator import make

    a = make("benign-v1", transactions=np.int64(500), seed=np.int64(3))
    b = make("benign-v1", transactions=500, seed=3)
    assert a.content_hash() == b.content_hash()


def test_a_scenario_too_large_for_the_machine_is_refused_before_any_work(monkeypatch):
    from launderbench.simulator import make, memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    with pytest.raises(ConfigError, match="needs about .* GiB .* --no-memory-check"):
        make("benign-v1", transactions=50_000_000)
    monkeypatch.setenv(memory.SKIP_ENV, "1")
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    assert make("benign-v1", transactions=500).transactions.num_rows > 0


@pytest.mark.parametrize("field,value", [("start_day", float("nan")),
                                         ("start_day", float("inf")),
                                         ("start_day", -5)])
def test_non_finite_incident_times_are_one_clear_error(field, value):
    from launderbench.simulator.config import scenario_from_dict

    doc = {"id": "bad-v1", "description": "x", "economy": {"transactions": 1000},
           "incident": [{"playbook": "generic-easy", field: value}]}
    with pytest.raises(ConfigError, match=field):
        scenario_from_dict(doc)
