"""Misuse detection: each kind of misuse injected on chain raises its alert; the normal flow none."""

from __future__ import annotations

import pytest
from telcochain import Client
from telcochain.constitution import ProposalStatus
from telcochain.errors import TelcochainError
from telcochain.index import Follower, IndexStore
from telcochain.index.alerts import detect, load_config, recent_probes
from telcochain.orders import order_id, sku_bytes

from tests.index.flows import Members, advance, normal_flow, paid_installation


def alerts_of(members: Members, store: IndexStore, **overrides: dict) -> list:  # type: ignore[type-arg]
    Follower.for_client(store, members.op).catch_up()
    config = load_config()
    for rule, values in overrides.items():
        config[rule] = {**config[rule], **values}
    return detect(store, config, recent_probes(members.op, store, config))


def test_normal_business_raises_no_alert(members: Members, store: IndexStore) -> None:
    normal_flow(members, "1")
    normal_flow(members, "2")
    assert alerts_of(members, store) == []


def test_a_burst_of_denials_and_attempts_at_actions_never_granted(members: Members, store: IndexStore) -> None:
    flow = normal_flow(members)
    for _ in range(5):  # a vendor tries the operator's confirmation again and again
        with pytest.raises(TelcochainError):
            members.acme.agreement.confirm_change(flow["br1"])
    found = alerts_of(members, store)
    rules = {(a.rule, a.subject) for a in found}
    assert ("denial_burst", members.acme.address) in rules
    assert ("never_granted", members.acme.address) in rules
    burst = next(a for a in found if a.rule == "denial_burst")
    assert burst.count == 5 and burst.subject_name == "Acme Networks"
    assert {a.rule for a in found} == {"denial_burst", "never_granted"}


def test_four_denials_are_no_burst(members: Members, store: IndexStore) -> None:
    flow = normal_flow(members)
    for _ in range(4):
        with pytest.raises(TelcochainError):
            members.acme.agreement.confirm_change(flow["br1"])
    assert "denial_burst" not in {a.rule for a in alerts_of(members, store)}


def test_a_non_member_probing(members: Members, store: IndexStore, local_node, deployment_path, dev_accounts) -> None:  # type: ignore[no-untyped-def]
    outsider = Client.connect(local_node.rpc_url, dev_accounts[7], deployment=deployment_path)
    with pytest.raises(TelcochainError):  # the SDK refuses before sending: nothing on chain
        outsider.assets.register("INTRUDER-1", "CPE")
    assert alerts_of(members, store) == []
    probe_raw(outsider, dev_accounts[7])  # a raw client sends anyway: reverted, no event, one failed tx
    found = alerts_of(members, store)
    assert [(a.rule, a.subject, a.subject_name) for a in found] == [("non_member_probe", dev_accounts[7].address, None)]


def probe_raw(client: Client, account) -> str:  # type: ignore[no-untyped-def]
    """An outsider's executeAction sent raw (a fixed gas limit: no estimate to refuse it)."""
    from eth_utils import keccak
    from telcochain.batch import encode_execute_action

    data = encode_execute_action(keccak(text="register"), b"\x01" * 192, b"\x02" * 32)
    nonce = int(client.rpc.call("eth_getTransactionCount", [account.address, "pending"]), 16)
    chain_id = int(client.rpc.call("eth_chainId"), 16)
    to = client.deployment.contracts["Constitution"].address
    tx = {"to": to, "data": data, "gas": 200_000, "gasPrice": 0, "nonce": nonce, "chainId": chain_id, "value": 0}
    raw = account.sign_transaction(tx).raw_transaction
    tx_hash = client.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
    for _ in range(100):
        receipt = client.rpc.call("eth_getTransactionReceipt", [tx_hash])
        if receipt:
            assert int(receipt["status"], 16) == 0, "an outsider's action must revert"
            return str(tx_hash)
        client.rpc.call("evm_mine", [])
    raise AssertionError("the probe was never mined")


def test_a_permission_used_outside_its_window(members: Members, store: IndexStore) -> None:
    flow = normal_flow(members)
    now = int(members.op.rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    proposal = members.op.constitution.grant("confirmChange", members.globex.address, valid_from=now + 30 * 86400)
    for voter in (members.acme, members.globex, members.customer):  # the proposer's vote is counted
        if proposal.proposal_id and voter.constitution.proposal(proposal.proposal_id).status is ProposalStatus.OPEN:
            voter.constitution.vote(proposal.proposal_id, approve=True)
    with pytest.raises(TelcochainError):
        members.globex.agreement.confirm_change(flow["br1"])
    found = alerts_of(members, store)
    assert [(a.rule, a.subject) for a in found] == [("out_of_window", members.globex.address)]


def test_a_member_far_above_its_own_baseline(members: Members, store: IndexStore) -> None:
    flow = normal_flow(members)
    for _ in range(4):  # one call per minute for four minutes ...
        advance(members.op, 60)
        members.customer.constitution.rotate_trust_key(bytes.fromhex("aa" * 32))
    advance(members.op, 60)
    for _ in range(15):  # ... then fifteen in one minute
        members.customer.constitution.rotate_trust_key(bytes.fromhex("bb" * 32))
    spike = {"bucket_s": 60, "factor": 3.0, "min_calls": 10, "min_history": 3}
    found = alerts_of(members, store, activity_spike=spike)
    assert [(a.rule, a.subject, a.count) for a in found] == [("activity_spike", members.customer.address, 15)]
    assert flow  # the normal flow before it (one busy first minute) is no spike: no history yet


def test_stock_used_beyond_what_was_delivered(members: Members, store: IndexStore) -> None:
    normal_flow(members)
    line = order_id("1-HQ-ONT", "line id")
    with members.op.batch() as batch:  # refused inside a batch: recorded as ActionReverted
        batch.add("consumeStock", line, members.acme.address, sku_bytes("ONT-XGS"), 5, bytes(32))
    found = alerts_of(members, store)
    assert [(a.rule, a.subject) for a in found] == [("stock_overuse", members.op.address)]


def test_invoices_paid_and_reclaimed_again_and_again(members: Members, store: IndexStore) -> None:
    first = paid_installation(members, "ONT-R1", "R")
    second = paid_installation(members, "ONT-R2", "R")
    window = int(members.customer.escrow.contract.call("CONFIRMATION_WINDOW"))
    advance(members.op, window + 1)
    members.customer.escrow.reclaim(first)
    members.customer.escrow.reclaim(second)
    found = alerts_of(members, store)
    assert [(a.rule, a.subject, a.count) for a in found] == [("reclaim_repeat", members.customer.address, 2)]
    assert [a for a in alerts_of(members, store, reclaim_repeat={"count": 3}) if a.rule == "reclaim_repeat"] == []
