"""consortium.yaml validation: every mistake is one clear ConfigurationError."""

from __future__ import annotations

import pytest
import yaml
from telcochain.consortium import load_consortium
from telcochain.errors import ConfigurationError

from ..conftest import ROOT

GOOD = yaml.safe_load((ROOT / "consortium.yaml").read_text())


def write(tmp_path, data):
    path = tmp_path / "consortium.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def with_member(**changes):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["members"][0].update(changes)
    return data


def test_the_example_config_is_valid():
    config = load_consortium(ROOT / "consortium.yaml")
    assert len(config.members) == 4
    assert {m.role for m in config.members} == {"operator", "vendor", "customer"}
    assert config.source_hash.startswith("0x") and len(config.source_hash) == 66


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (with_member(address="0x1234"), "address '0x1234' is not a valid address"),
        (with_member(trust_key="0x" + "00" * 32), "trust_key must not be zero"),
        (with_member(trust_key="0xabcd"), "trust_key must be 32 bytes"),
        (with_member(role="reseller"), "role must be one of"),
        (with_member(name=""), "'name' must be 1 to 64 bytes"),
        (with_member(name="x" * 65), "'name' must be 1 to 64 bytes"),
        (with_member(address=GOOD["members"][1]["address"]), "appears twice"),
        ({"name": "C", "members": []}, "at least one founding member"),
        ({"members": GOOD["members"]}, "'name' is required"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: [unclosed\n", "not valid YAML"),
        ({**GOOD, "serial_salt": "0x1234"}, "at least 16 random bytes"),
        ({**GOOD, "serial_salt": "0xzz"}, "serial_salt must be hex"),
        ({**GOOD, "actions": {"deliver": {"voters": "some"}}}, "voters must be any, all or a list"),
        ({**GOOD, "actions": {"deliver": {"grants": ["Nobody Inc"]}}}, "not a founding member's name"),
        ({**GOOD, "actions": {"deliver": {"voting_period": "soon", "voters": "all"}}}, "voting_period must be"),
        ({**GOOD, "actions": {"deliver": {"colour": "red"}}}, "unknown field"),
        (
            with_member(name="ACME NETWORKS"),
            "member 2: 'name' 'Acme Networks' clashes with 'ACME NETWORKS': names are compared ignoring case",
        ),
        (with_member(name="North  wind"), "nor hold two in a row"),
        (with_member(name="Northwind\n"), "must not contain control characters"),
        (
            {**GOOD, "actions": {"transition": {"module": "AssetRegistry", "scope": "internal"}}},
            "action transition: callers must list the modules that may call an internal action",
        ),
        (
            {**GOOD, "actions": {"deliver": {"module": "AssetRegistry", "callers": ["OrderBook"]}}},
            "action deliver: callers is only for internal actions",
        ),
        (
            {**GOOD, "actions": {"t": {"module": "AssetRegistry", "scope": "internal", "callers": ["A", "A"]}}},
            "action t: callers lists a module twice",
        ),
        (
            {**GOOD, "actions": {"t": {"module": "AssetRegistry", "scope": "internal", "callers": [1]}}},
            "action t: callers must be module names",
        ),
    ],
)
def test_a_bad_config_names_the_problem(tmp_path, data, message):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_consortium(write(tmp_path, data))


def test_internal_actions_resolve_their_callers_by_contract_name():
    config = load_consortium(ROOT / "consortium.yaml")
    by_name = {a.name: a for a in config.actions}
    assert by_name["transition"].callers == ("OrderBook", "OperatorAgreement")
    assert by_name["issueInvoice"].callers == ("OperatorAgreement", "VendorSettlement")
    assert by_name["deliver"].callers == ()
    modules = {"AssetRegistry": "0x" + "11" * 20, "OrderBook": "0x" + "22" * 20, "OperatorAgreement": "0x" + "33" * 20}
    policy = by_name["transition"].to_policy(modules)
    assert policy.callers == ("0x" + "22" * 20, "0x" + "33" * 20)
    del modules["OperatorAgreement"]
    with pytest.raises(ConfigurationError, match="action transition: caller OperatorAgreement is not deployed"):
        by_name["transition"].to_policy(modules)


def test_a_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read consortium config"):
        load_consortium(tmp_path / "nope.yaml")
