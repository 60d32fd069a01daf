"""consortium.yaml validation: every mistake is one clear ConfigurationError."""

from __future__ import annotations

import os
import subprocess

import click
import pytest
import yaml
from telcochain.consortium import load_consortium, shipped_entry_points
from telcochain.errors import ConfigurationError

from tests.support.paths import BIN, ROOT

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


def with_action(name, **changes):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["actions"][name] = {**(data["actions"][name] or {}), **changes}
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (with_member(address="0x1234"), "members[0].address: '0x1234' is not a valid address"),
        (with_member(trust_key="0x" + "00" * 32), "members[0].trust_key: must not be zero"),
        (with_member(trust_key="0xabcd"), "members[0].trust_key: must be 32 bytes as 0x-prefixed hex"),
        (
            with_member(role="reseller"),
            "members[0].role: 'reseller' is not one of operator, vendor, supplier, customer",
        ),
        (with_member(name=""), "members[0].name: '' must be 1 to 64 bytes"),
        (with_member(name="x" * 65), "must be 1 to 64 bytes"),
        (
            with_member(address=GOOD["members"][1]["address"]),
            "members[1].address: " + GOOD["members"][1]["address"] + " appears twice (also members[0])",
        ),
        ({"name": "C", "members": []}, "members: must list at least one founding member"),
        ({"members": GOOD["members"]}, "name: is required"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: [unclosed\n", "not valid YAML"),
        ({**GOOD, "serial_salt": "0x1234"}, "serial_salt: must be at least 16 random bytes"),
        ({**GOOD, "serial_salt": "0xzz"}, "serial_salt: must be hex"),
        (with_action("deliver", voters="some"), "actions.deliver.voters: 'some' is not any, all or a list of members"),
        (
            with_action("deliver", grants=["Acme Networks", "Nobody Inc"]),
            "actions.deliver.grants[1].member: 'Nobody Inc' is not a founding member's name or an address",
        ),
        (
            with_action("deliver", voting_period="soon", voters="all"),
            "actions.deliver.voting_period: 'soon' must be seconds or like 12h, 7d, 2w",
        ),
        (with_action("deliver", colour="red"), "actions.deliver: unknown key 'colour' (expected one of: module,"),
        (
            with_member(name="ACME NETWORKS"),
            "members[1].name: 'Acme Networks' clashes with 'ACME NETWORKS' (members[0]): "
            "names are compared ignoring case",
        ),
        (with_member(name="North  wind"), "nor hold two in a row"),
        (with_member(name="Northwind\n"), "must not contain control characters"),
        (
            with_action("transition", callers=None),
            "actions.transition.callers: must list the modules that may call an internal action",
        ),
        (
            with_action("deliver", callers=["OrderBook"]),
            "actions.deliver.callers: only for internal actions (scope: internal)",
        ),
        (
            {**GOOD, "actions": {"t": {"module": "AssetRegistry", "scope": "internal", "callers": ["A", "A"]}}},
            "actions.t.callers: lists a module twice",
        ),
        (
            {**GOOD, "actions": {"t": {"module": "AssetRegistry", "scope": "internal", "callers": [1]}}},
            "actions.t.callers[0]: input should be a valid string, got 1",
        ),
        # the schema (pydantic): unknown keys, wrong types, references to what does not exist
        ({**GOOD, "colour": "red"}, "consortium.yaml: unknown key 'colour' (expected one of: name, members,"),
        (with_member(email="ops@example.com"), "members[0]: unknown key 'email'"),
        ({**GOOD, "name": ["a", "list"]}, "name: input should be a valid string, got ['a', 'list']"),
        (with_action("deliver", enabled="maybe"), "actions.deliver.enabled: input should be a valid boolean"),
        ({**GOOD, "actions": ["deliver"]}, "actions: input should be a valid dictionary, got ['deliver']"),
        (
            {**GOOD, "actions": {"launchRocket": {"grants": "all"}}},
            "actions.launchRocket: 'launchRocket' is not a built-in action",
        ),
        (
            with_action("deliver", module="AssetRegistri"),
            "actions.deliver.module: 'AssetRegistri' is not a module of this SDK",
        ),
        (
            with_action("deliver", function="delivr"),
            "actions.deliver.function: 'delivr' is not an entry point of AssetRegistry",
        ),
        (
            with_action("bindSerial", voters=["Northwind Telecom", "Nobody"]),
            "actions.bindSerial.voters[1]: 'Nobody' is not a founding member's name or an address",
        ),
        (
            with_action("deliver", grants=[{"member": "Acme Networks", "from": "tomorrow"}]),
            "actions.deliver.grants[0].from: 'tomorrow' is not a date",
        ),
        (
            {**GOOD, "agreement": {**GOOD["agreement"], "operator": "Hooli"}},
            "agreement.operator: 'Hooli' must name a founding member",
        ),
        (
            {**GOOD, "agreement": {**GOOD["agreement"], "tariff": {**GOOD["agreement"]["tariff"], "move": "lots"}}},
            "agreement.tariff.move: 'lots' is not an amount",
        ),
        (
            {**GOOD, "agreement": {**GOOD["agreement"], "payment_days": 0}},
            "agreement.payment_days: input should be greater than 0, got 0",
        ),
    ],
)
def test_a_bad_config_names_the_problem_and_its_key_in_one_line(tmp_path, data, message):
    with pytest.raises(ConfigurationError) as raised:
        load_consortium(write(tmp_path, data))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value) and str(raised.value).startswith(str(tmp_path / "consortium.yaml") + ": ")


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


def test_the_modules_an_action_may_name_can_be_widened(tmp_path):
    """A test world names a test contract as its module: refused by default (the SDK does not ship
    it), accepted when the caller passes the modules a file may name (tests/support/worlds.py)."""
    path = write(tmp_path, with_action("deliver", module="MockModule", function="record"))
    with pytest.raises(ConfigurationError, match=r"actions\.deliver\.module: 'MockModule' is not a module of this SDK"):
        load_consortium(path)
    modules = {**shipped_entry_points(), "MockModule": frozenset({"record"})}
    deliver = {a.name: a for a in load_consortium(path, modules=modules).actions}["deliver"]
    assert (deliver.module, deliver.function) == ("MockModule", "record")
    bad = write(tmp_path, with_action("deliver", module="MockModule", function="delivr"))
    with pytest.raises(ConfigurationError, match="'delivr' is not an entry point of MockModule"):
        load_consortium(bad, modules=modules)


def test_a_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read consortium config"):
        load_consortium(tmp_path / "nope.yaml")


BAD_DEPLOYS = {
    "unknown-key": (
        lambda d: d["members"][2].update(colour="red"),
        "members[2]: unknown key 'colour' (expected one of: name, address, trust_key, role)",
    ),
    "wrong-type": (
        lambda d: d["members"][1].update(role=["vendor"]),
        "members[1].role: input should be a valid string, got ['vendor']",
    ),
    "bad-address": (
        lambda d: d["members"][3].update(address="0xNotAnAddress"),
        "members[3].address: '0xNotAnAddress' is not a valid address",
    ),
    "unknown-grant": (
        lambda d: d["actions"]["deliver"].update(grants=["Acme Network"]),
        "actions.deliver.grants[0].member: 'Acme Network' is not a founding member's name or an address",
    ),
    "duplicate-member": (
        lambda d: d["members"].append(dict(d["members"][1])),
        "members[4].name: 'Acme Networks' clashes with 'Acme Networks' (members[1]): names are compared ignoring case",
    ),
}


def bad_config(tmp_path, case):
    change, message = BAD_DEPLOYS[case]
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    change(data)
    return write(tmp_path, data), message


@pytest.mark.parametrize("case", sorted(BAD_DEPLOYS))
def test_the_deploy_script_refuses_a_bad_config_in_one_line(tmp_path, monkeypatch, case):
    """scripts/deploy.py's main() (what `ape run deploy` runs) stops on the first problem, before
    touching the network: a ClickException of one line naming the file and the key."""
    config, message = bad_config(tmp_path, case)
    monkeypatch.setenv("TELCOCHAIN_CONSORTIUM", str(config))
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import deploy

    with pytest.raises(click.ClickException) as raised:
        deploy.main()
    assert raised.value.format_message() == f"{config}: {message}"


def test_ape_run_deploy_shows_the_problem_as_one_line_without_a_traceback(tmp_path):
    """What an operator sees in the terminal (one subprocess: ape's start-up takes seconds)."""
    config, message = bad_config(tmp_path, "duplicate-member")
    env = dict(os.environ, TELCOCHAIN_CONSORTIUM=str(config), TELCOCHAIN_DEPLOYMENTS_DIR=str(tmp_path / "deployments"))
    result = subprocess.run(
        [str(BIN / "ape"), "run", "deploy", "--network", "ethereum:local:test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (result.stdout + result.stderr).strip() == f"Error: {config}: {message}"
    assert not (tmp_path / "deployments").exists()  # nothing was deployed
