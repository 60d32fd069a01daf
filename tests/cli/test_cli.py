"""The `telcochain` command line: help, reads, a transaction, accounts, and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from telcochain.cli import main

COMMANDS = [
    line.split()
    for line in """
    info|member|member list|member add|member suspend|account|account new|account import|account list|keys|keys rotate|
    node|node stop|node status|action|action list|action show|action grant|action revoke|action amend|action exec|
    proposal|proposal list|proposal show|vote|asset|asset register|asset show|asset history|asset bind-serial|
    asset transition|asset link|asset bulk|watch
    """.replace("\n", "").split("|")
] + [[]]


@pytest.fixture
def cli(local_node, deployment_path, tmp_path, monkeypatch):
    """Invoke the CLI against the session node and deployment, with a private keystore dir."""
    monkeypatch.setenv("TELCOCHAIN_RPC_URL", local_node.rpc_url)
    monkeypatch.setenv("TELCOCHAIN_DEPLOYMENT", str(deployment_path))
    monkeypatch.setenv("TELCOCHAIN_KEYSTORE_DIR", str(tmp_path / "keystores"))
    monkeypatch.delenv("TELCOCHAIN_PRIVATE_KEY", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "telcochain")
def test_every_command_has_help(command):
    for flag in ("--help", "-h"):
        result = CliRunner().invoke(main, [*command, flag])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output


def test_info_shows_the_chain_and_the_deployment(cli, deployment_path):
    result = cli("info")
    assert result.exit_code == 0, result.output
    assert "31337" in result.output
    assert "Example Telecom Consortium" in result.output
    assert json.loads(deployment_path.read_text())["contracts"]["Constitution"]["address"] in result.output


def test_info_json_is_machine_readable(cli, deployment_path):
    data = json.loads(cli("info", "--json").output)
    assert data["chain_id"] == 31337
    assert data["fee_mode"] == "legacy"
    assert data["members"] == 4
    assert set(data["contracts"]) == set(json.loads(deployment_path.read_text())["contracts"])
    assert {"Constitution", "AssetRegistry", "OrderBook"} <= set(data["contracts"])


def test_member_list_as_a_table_and_as_json(cli):
    table = cli("member", "list")
    assert table.exit_code == 0
    for name in ("Northwind Telecom", "Acme Networks", "Globex Optical", "Initech Enterprise"):
        assert name in table.output
    members = json.loads(cli("member", "list", "--json").output)
    assert [m["name"] for m in members][:4] == [
        "Northwind Telecom",
        "Acme Networks",
        "Globex Optical",
        "Initech Enterprise",
    ]
    assert all(m["status"] == "active" for m in members)
    assert [m["role"] for m in members][:4] == ["operator", "vendor", "vendor", "customer"]


def test_account_new_and_list(cli, tmp_path):
    password = tmp_path / "pw"
    password.write_text("correct horse\n")
    created = json.loads(cli("account", "new", "ops", "--password-file", str(password), "--json").output)
    listed = json.loads(cli("account", "list", "--json").output)
    assert listed == [{"name": "ops", "address": created["address"], "path": created["path"]}]
    again = cli("account", "new", "ops", "--password-file", str(password))
    assert again.exit_code == 1 and "already exists" in again.output


def test_keys_rotate_with_an_imported_keystore_account(cli, tmp_path, dev_accounts, monkeypatch):
    password = tmp_path / "pw"
    password.write_text("s3cret")
    monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[1].key.hex())
    assert cli("account", "import", "vendor", "--password-file", str(password)).exit_code == 0
    monkeypatch.delenv("TELCOCHAIN_PRIVATE_KEY")
    new_key = "0x" + "5a" * 32
    result = cli(
        "keys", "rotate", new_key, "--account", "vendor", "--password-file", str(password), "--ref", "CHG-7", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["gas_used"] > 0
    members = {m["address"]: m for m in json.loads(cli("member", "list", "--json").output)}
    assert members[dev_accounts[1].address]["trust_key"] == new_key


def test_a_wrong_password_is_one_line(cli, tmp_path, dev_accounts, monkeypatch):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("right")
    bad.write_text("wrong")
    monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[2].key.hex())
    cli("account", "import", "v2", "--password-file", str(good))
    monkeypatch.delenv("TELCOCHAIN_PRIVATE_KEY")
    result = cli("keys", "rotate", "0x" + "11" * 32, "--account", "v2", "--password-file", str(bad))
    assert result.exit_code == 1
    assert result.output.strip() == "Error: wrong password for account 'v2'"


def test_a_transaction_command_without_an_account_is_a_usage_error(cli):
    result = cli("keys", "rotate", "0x" + "11" * 32)
    assert result.exit_code == 2
    assert "--account" in result.output


def test_a_malformed_argument_is_a_usage_error(cli):
    result = cli("keys", "rotate", "0x1234")
    assert result.exit_code == 2
    assert "32 bytes" in result.output


def test_a_permission_denial_is_one_line(cli, dev_accounts, monkeypatch):
    monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[8].key.hex())  # not a member
    result = cli("keys", "rotate", "0x" + "11" * 32)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: refreshTrustKeys denied for {dev_accounts[8].address}: not a member of the consortium "
        "(nothing was sent)"
    )


def test_a_contract_error_is_one_line(cli, dev_accounts, monkeypatch):
    monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[3].key.hex())
    result = cli("keys", "rotate", "0x" + "00" * 32)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: reverted: ConstitutionInvalidTrustKey()"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, in its own process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "telcochain.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_bad_rpc_url_exits_non_zero_with_one_line_and_no_traceback():
    result = run_cli("info", "--rpc-url", "http://127.0.0.1:1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: cannot reach the node at http://127.0.0.1:1: connection refused (is the node running?)"
    ]
    assert "Traceback" not in result.stderr


def test_a_non_http_rpc_url_is_refused_clearly():
    result = run_cli("member", "list", "--rpc-url", "localhost:8545")
    assert result.returncode == 1
    assert "must start with http://" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_deployment_exits_non_zero_with_one_line(local_node, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "telcochain.cli", "member", "list", "--rpc-url", local_node.rpc_url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: no telcochain deployment for chain 31337")


def test_watch_replays_a_members_notifications_and_resumes_from_its_checkpoint(
    cli, dev_accounts, monkeypatch, tmp_path
):
    monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[2].key.hex())
    cli("keys", "rotate", "0x" + "2b" * 32, "--ref", "WATCH-ME")
    checkpoint = tmp_path / "watch.json"
    first = cli("watch", "--once", "--from-block", "0", "--checkpoint", str(checkpoint))
    assert first.exit_code == 0, first.output
    lines = first.output.strip().splitlines()
    assert any("Constitution.TrustKeyRefreshed(account=Globex Optical, ref='WATCH-ME'" in line for line in lines)
    assert all(line.startswith("#") for line in lines)
    again = cli("watch", "--once", "--checkpoint", str(checkpoint))
    assert again.exit_code == 0 and again.output.strip() == ""  # nothing repeated
    cli("keys", "rotate", "0x" + "2c" * 32, "--ref", "WATCH-2")
    third = cli("watch", "--once", "--checkpoint", str(checkpoint), "--json")
    records = [json.loads(line) for line in third.output.strip().splitlines()]
    assert {r["name"] for r in records} == {"TrustKeyRefreshed", "ActionExecuted"}
    assert all(r["block_hash"].startswith("0x") for r in records)


def _every_command(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _every_command(sub, (*path, name))


ALL_COMMANDS = list(_every_command(main))


@pytest.mark.parametrize("path,command", ALL_COMMANDS, ids=[" ".join(p) or "telcochain" for p, _ in ALL_COMMANDS])
def test_every_command_and_option_is_explained(path, command):
    """Found by walking the command tree (a new command is covered without being listed): a
    non-empty help text for the command and for each of its options, shown by --help."""
    assert len((command.help or "").strip()) >= 10, f"{' '.join(path)}: no help text"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0 and command.help.strip().split()[0] in result.output
    for param in command.params:
        if isinstance(param, click.Option) and "--help" not in param.opts:
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts[0]}: no help text"


def test_details_list_names_you_from_a_keystore_without_its_password(cli, tmp_path, dev_accounts):
    """`details list` only reads: --account says who "you" are from the keystore's clear address,
    no password asked (there is no terminal here: a prompt would fail)."""
    from telcochain.keystore import Keystore

    Keystore().save("globex", dev_accounts[2].key, "pw")
    result = cli("details", "list", "SITE-X", "--account", "globex", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []
