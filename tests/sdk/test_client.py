"""The SDK core against a berlin, free-gas anvil: connect, read, send, decode errors."""

from __future__ import annotations

import json
import re

import pytest
from telcochain import (
    Client,
    ContractRevert,
    DeploymentMismatch,
    DeploymentNotFound,
    FeeMode,
    NodeUnreachable,
    PermissionDenied,
    TelcochainError,
)
from telcochain.actions import action_id
from telcochain.errors import ConstitutionInvalidTrustKey, ConstitutionUnknownProposal
from telcochain.tx import Log, hexint
from telcochain.types import show_bytes32


def test_connect_detects_a_berlin_free_gas_chain(client):
    assert client.chain.chain_id == 31337
    assert client.chain.fee_mode is FeeMode.LEGACY
    assert client.chain.free_gas


def test_a_transaction_is_legacy_with_gas_price_zero_and_its_event_carries_the_ref(client):
    receipt = client.constitution.rotate_trust_key(b"\x22" * 32, ref="ORD-2026-0001").receipt
    tx = client.rpc.call("eth_getTransactionByHash", [receipt.tx_hash])
    assert hexint(tx["type"]) == 0
    assert hexint(tx["gasPrice"]) == 0
    (event,) = client.contract("Constitution").events(receipt, "TrustKeyRefreshed")
    assert event["account"] == client.address
    assert show_bytes32(event["ref"]) == "ORD-2026-0001"
    assert client.constitution.member(client.address).trust_key == b"\x22" * 32


def test_a_custom_error_is_raised_as_its_own_exception_before_anything_is_sent(client):
    nonce_before = client.rpc.call("eth_getTransactionCount", [client.address, "pending"])
    with pytest.raises(ConstitutionInvalidTrustKey) as caught:
        client.constitution.rotate_trust_key(bytes(32))
    assert isinstance(caught.value, ContractRevert)
    assert isinstance(caught.value, TelcochainError)
    assert caught.value.error_name == "ConstitutionInvalidTrustKey"
    assert client.rpc.call("eth_getTransactionCount", [client.address, "pending"]) == nonce_before


def test_custom_error_arguments_are_decoded(client):
    with pytest.raises(ConstitutionUnknownProposal) as caught:
        client.constitution.contract.transact("voteFor", 424242, True, b"\0" * 32)
    assert caught.value.error_args == {"proposalId": 424242}


def test_a_stranger_is_refused_without_sending_and_a_member_denied_on_record(local_node, deployment_path, dev_accounts):
    stranger = dev_accounts[7]
    client = Client.connect(local_node.rpc_url, stranger, deployment=deployment_path)
    with pytest.raises(PermissionDenied) as caught:  # the Constitution reverts outsiders
        client.constitution.rotate_trust_key(b"\x01" * 32, ref="INTRUSION-1")
    assert caught.value.reason == "not a member of the consortium"
    assert caught.value.caller == stranger.address
    assert caught.value.tx_hash is None  # nothing mined, no denial log for free
    # a member without the grant is denied on record: the transaction is sent
    vendor = Client.connect(local_node.rpc_url, dev_accounts[1], deployment=deployment_path)  # no amend grant
    with pytest.raises(PermissionDenied) as caught:
        vendor.constitution.amend(vendor.constitution.policy("voteFor"), ref="INTRUSION-2")
    receipt = client.rpc.call("eth_getTransactionReceipt", [caught.value.tx_hash])
    (event,) = client.contract("Constitution").events([Log.from_rpc(x) for x in receipt["logs"]])
    assert event.name == "ActionDenied" and show_bytes32(event["ref"]) == "INTRUSION-2"


def test_a_transaction_that_reverts_once_mined_reports_the_decoded_error(client):
    sender = client.sender
    contract = client.contract("Constitution")
    data = contract.encode("executeAction", action_id("refreshTrustKeys"), bytes(32), b"\0" * 32)
    # An explicit gas limit skips estimation, so the node mines the failing transaction.
    tx_hash = sender.send(contract.address, data, gas=100_000)
    receipt = sender.wait(tx_hash)
    assert not receipt.succeeded
    error = sender.replay_revert(contract.address, data, receipt)
    assert isinstance(error, ConstitutionInvalidTrustKey)
    assert error.tx_hash == tx_hash


def test_local_nonces_let_many_transactions_go_out_without_waiting(client):
    contract = client.contract("Constitution")
    start = hexint(client.rpc.call("eth_getTransactionCount", [client.address, "pending"]))
    hashes = [
        client.sender.send(
            contract.address,
            contract.encode("executeAction", action_id("refreshTrustKeys"), bytes([n + 1]) * 32, b"\0" * 32),
            gas=120_000,
        )
        for n in range(25)
    ]
    receipts = client.sender.wait_many(hashes)
    assert all(r.succeeded for r in receipts)
    nonces = [hexint(client.rpc.call("eth_getTransactionByHash", [h])["nonce"]) for h in hashes]
    assert nonces == list(range(start, start + 25))
    assert client.constitution.member(client.address).trust_key == bytes([25]) * 32


def test_the_nonce_resynchronises_after_another_client_used_the_account(
    client, local_node, deployment_path, dev_accounts
):
    client.constitution.rotate_trust_key(b"\x31" * 32)
    other = Client.connect(local_node.rpc_url, dev_accounts[0], deployment=deployment_path)
    other.constitution.rotate_trust_key(b"\x32" * 32)  # client's local nonce is now stale
    result = client.constitution.rotate_trust_key(b"\x33" * 32)
    assert result.executed and result.receipt.succeeded
    assert client.constitution.member(client.address).trust_key == b"\x33" * 32


def test_a_read_only_client_reads_but_cannot_send(local_node, deployment_path):
    reader = Client.connect(local_node.rpc_url, deployment=deployment_path)
    assert reader.constitution.member_count() == 4
    with pytest.raises(TelcochainError, match="no account"):
        reader.constitution.rotate_trust_key(b"\x01" * 32)


def test_an_unreachable_node_is_one_clear_error():
    with pytest.raises(NodeUnreachable, match=re.escape("cannot reach the node at http://127.0.0.1:1")):
        Client.connect("http://127.0.0.1:1")


def test_a_missing_deployment_names_the_chain_and_the_folder(local_node, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELCOCHAIN_DEPLOYMENT", raising=False)
    with pytest.raises(DeploymentNotFound, match="chain 31337"):
        Client.connect(local_node.rpc_url)


def test_the_deployment_for_the_chain_is_found_in_the_deployments_folder(local_node, deployment_path, monkeypatch):
    monkeypatch.chdir(deployment_path.parent.parent)
    monkeypatch.delenv("TELCOCHAIN_DEPLOYMENT", raising=False)
    monkeypatch.setenv("TELCOCHAIN_DEPLOYMENTS_DIR", str(deployment_path.parent))
    assert Client.connect(local_node.rpc_url).deployment.address("Constitution")


def _altered_manifest(deployment_path, tmp_path, change):
    data = json.loads(deployment_path.read_text())
    change(data)
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(data))
    return path


def test_a_manifest_for_another_chain_is_refused(local_node, deployment_path, tmp_path):
    path = _altered_manifest(deployment_path, tmp_path, lambda d: d.update(chain_id=1))
    with pytest.raises(DeploymentMismatch, match="chain 1 but"):
        Client.connect(local_node.rpc_url, deployment=path)


def test_a_reset_chain_is_detected_by_the_missing_contract_code(local_node, deployment_path, tmp_path):
    def move(data):
        data["contracts"]["Constitution"]["address"] = "0x000000000000000000000000000000000000dEaD"

    with pytest.raises(DeploymentMismatch, match="chain was reset"):
        Client.connect(local_node.rpc_url, deployment=_altered_manifest(deployment_path, tmp_path, move))


def test_contracts_deployed_from_other_sources_are_refused(local_node, deployment_path, tmp_path):
    def drift(data):
        data["contracts"]["Constitution"]["abi_hash"] = "0x" + "ab" * 32

    with pytest.raises(DeploymentMismatch, match="other sources"):
        Client.connect(local_node.rpc_url, deployment=_altered_manifest(deployment_path, tmp_path, drift))
