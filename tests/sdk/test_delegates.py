"""Delegate keys through the SDK and the CLI: the operator (Northwind, dev 0) registers a key
that then acts as Northwind; the list comes from the events; a revoked key is refused."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from eth_account.signers.local import LocalAccount
from telcochain import Client, PermissionDenied
from telcochain.cli import main
from telcochain.errors import ContractRevert, contract_error_class


@pytest.fixture
def delegate(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[8]  # funded, never a member of the example consortium


def _as(client: Client, account: LocalAccount) -> Client:
    return Client.connect(client.rpc.url, account, deployment=client.deployment)


def test_a_delegate_registered_by_the_sdk_acts_as_its_member(client: Client, delegate: LocalAccount) -> None:
    operator = client.address
    receipt = client.constitution.add_delegate(delegate.address, ref="ops-key-1")
    assert receipt.status == 1
    assert client.constitution.delegate_of(delegate.address) == operator
    assert client.constitution.principal(delegate.address) == operator
    assert client.constitution.principal(operator) == operator
    assert client.constitution.delegates(operator) == [delegate.address]
    assert client.constitution.delegate_count(operator) == 1

    as_delegate = _as(client, delegate)
    as_delegate.constitution.refuse_denied_locally = True  # the preflight asks for the member's grants
    as_delegate.assets.register("DLG-1", "ONT")
    twin = client.assets.get("DLG-1")
    assert twin.custodian == operator  # the registry saw Northwind, not the delegate's key


def test_a_revoked_delegate_is_refused_and_leaves_the_list(client: Client, delegate: LocalAccount) -> None:
    client.constitution.add_delegate(delegate.address)
    client.constitution.remove_delegate(delegate.address)
    assert client.constitution.delegates(client.address) == []
    assert client.constitution.delegate_of(delegate.address) is None
    with pytest.raises(PermissionDenied):
        _as(client, delegate).assets.register("DLG-2", "ONT")


def test_a_delegate_cannot_vote_or_propose_through_the_sdk(client: Client, delegate: LocalAccount) -> None:
    client.constitution.add_delegate(delegate.address)
    as_delegate = _as(client, delegate)
    with pytest.raises(contract_error_class("ConstitutionDelegateNotAllowed")) as info:
        as_delegate.constitution.rotate_trust_key(b"\x01" * 32)
    assert isinstance(info.value, ContractRevert)
    assert info.value.error_args["delegate"] == delegate.address
    with pytest.raises(contract_error_class("ConstitutionNotMember")):
        as_delegate.constitution.add_delegate("0x" + "11" * 20)


def test_the_cli_adds_lists_and_removes_delegates(
    client: Client,
    delegate: LocalAccount,
    local_node,  # type: ignore[no-untyped-def]
    deployment_path,  # type: ignore[no-untyped-def]
    dev_accounts: list[LocalAccount],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELCOCHAIN_RPC_URL", local_node.rpc_url)
    monkeypatch.setenv("TELCOCHAIN_DEPLOYMENT", str(deployment_path))
    monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[0].key.hex())
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    added = json.loads(run("member", "delegate", "add", delegate.address, "--json"))
    assert (added["member"], added["delegate"], added["status"]) == (client.address, delegate.address, "added")
    listed = json.loads(run("member", "delegate", "list", "Northwind Telecom", "--json"))
    assert listed == {"member": client.address, "delegates": [delegate.address]}
    assert delegate.address in run("member", "delegate", "list")
    run("member", "delegate", "remove", delegate.address)
    assert json.loads(run("member", "delegate", "list", "--json"))["delegates"] == []
    again = runner.invoke(main, ["member", "delegate", "remove", delegate.address])
    assert again.exit_code == 1 and "ConstitutionNotDelegate" in again.output and "Traceback" not in again.output
