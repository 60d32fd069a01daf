"""client.constitution against the example consortium deployed from consortium.yaml:
policies from the config, the generic execute_action, votes, denials, windows, batches."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from telcochain import (
    ActionCall,
    ActionNotFound,
    Client,
    DenyReason,
    PermissionDenied,
    ProposalNotFound,
    ProposalStatus,
    Voters,
)
from telcochain.errors import (
    ConstitutionAlreadyVoted,
    ConstitutionInvalidTrustKey,
    ConstitutionMemberNotSuspended,
    ConstitutionNameTaken,
)
from telcochain.types import show_bytes32

OPERATOR, VENDOR_A, VENDOR_B, CUSTOMER = range(4)


@pytest.fixture
def members(local_node, deployment_path, dev_accounts):
    """One client per founding member, plus a stranger: (operator, vendor A, vendor B, customer, stranger)."""
    accounts = [*dev_accounts[:4], dev_accounts[9]]
    return [Client.connect(local_node.rpc_url, a, deployment=deployment_path) for a in accounts]


def travel(client: Client, seconds: int) -> None:
    client.rpc.call("evm_increaseTime", [seconds])
    client.rpc.call("evm_mine", [])


def test_the_deployment_applied_the_governance_of_consortium_yaml(client):
    amend = client.constitution.policy("amendConstitution")
    assert amend.voters is Voters.ALL and amend.margin == 255 and amend.voting_period == 14 * 86400
    assert client.constitution.policy("refreshTrustKeys").voters is Voters.ANY
    names = {p.name for p in client.constitution.actions()}
    assert {
        "addMember",
        "suspendMember",
        "amendConstitution",
        "updatePermissions",
        "refreshTrustKeys",
        "voteFor",
    } <= names
    vendor = client.constitution.members()[VENDOR_A].address
    assert not client.constitution.permission("amendConstitution", vendor).can_execute
    assert client.constitution.can_execute("amendConstitution", vendor) is DenyReason.NO_PERMISSION
    assert client.constitution.contract.call("genesisAuthority") == "0x" + "00" * 20  # sealed


def test_a_member_is_admitted_by_a_majority_vote_executed_by_the_deciding_vote(members, dev_accounts):
    operator, vendor_a, vendor_b, *_ = members
    candidate = dev_accounts[5]
    result = operator.constitution.add_member(candidate.address, b"\x55" * 32, "Umbrella Fibre", ref="JOIN-UMB")
    assert result.status == "pending_vote" and result.proposal_id > 0
    proposal = operator.constitution.proposal(result.proposal_id)
    assert proposal.action_name == "addMember" and show_bytes32(proposal.ref) == "JOIN-UMB"
    assert (proposal.approvals, proposal.required) == (1, 3)  # the proposer approves; 3 of 4 is a majority
    assert proposal in operator.constitution.proposals(ProposalStatus.OPEN)
    assert operator.constitution.member(candidate.address) is None

    first = vendor_a.constitution.vote(result.proposal_id, approve=True)
    assert first.proposal.status is ProposalStatus.OPEN and first.proposal.approvals == 2
    decided = vendor_b.constitution.vote(result.proposal_id, approve=True)
    assert decided.proposal.status is ProposalStatus.EXECUTED
    admitted = operator.constitution.member(candidate.address)
    assert admitted is not None and admitted.name == "Umbrella Fibre" and admitted.active


def test_voting_twice_is_refused_before_anything_is_sent(members, dev_accounts):
    operator, vendor_a, *_ = members
    result = operator.constitution.add_member(dev_accounts[6].address, b"\x66" * 32, "Hooli Mobile")
    vendor_a.constitution.vote(result.proposal_id, approve=False)
    with pytest.raises(ConstitutionAlreadyVoted):
        vendor_a.constitution.vote(result.proposal_id, approve=True)
    assert operator.constitution.proposal(result.proposal_id).rejections == 1


def test_an_action_without_a_grant_is_denied_on_record_and_changes_nothing(members):
    operator, vendor_a, *_ = members
    before = operator.constitution.proposal_count()
    policy = operator.constitution.policy("voteFor")
    with pytest.raises(PermissionDenied) as caught:
        vendor_a.constitution.amend(policy, ref="SNEAKY")
    assert caught.value.reason == DenyReason.NO_PERMISSION.text
    assert caught.value.tx_hash  # sent and mined: the attempt is on record
    assert operator.constitution.proposal_count() == before


def test_a_stranger_is_denied_every_action(members, dev_accounts):
    stranger = members[-1]
    opened = members[0].constitution.add_member(dev_accounts[6].address, b"\x66" * 32, "Hooli Mobile")
    for attempt in (
        lambda: stranger.constitution.rotate_trust_key(b"\x01" * 32),
        lambda: stranger.constitution.suspend_member(members[0].address),
        lambda: stranger.constitution.vote(opened.proposal_id, approve=True),
    ):
        with pytest.raises(PermissionDenied, match="not a member"):
            attempt()


def test_unknown_actions_and_proposals_are_clear_errors(client):
    with pytest.raises(ActionNotFound, match="no action named 'launchRocket'"):
        client.constitution.policy("launchRocket")
    with pytest.raises(ProposalNotFound, match="no proposal #99999"):
        client.constitution.vote(99999, approve=True)
    with pytest.raises(PermissionDenied, match="no such action"):
        client.constitution.execute_action("launchRocket", b"")


def test_the_generic_execute_action_takes_raw_abi_encoded_params(members):
    customer = members[CUSTOMER]
    result = customer.constitution.execute_action("refreshTrustKeys", encode(["bytes32"], [b"\x42" * 32]), ref="RAW-1")
    assert result.executed and result.proposal_id == 0
    assert customer.constitution.member(customer.address).trust_key == b"\x42" * 32


def test_a_revoked_then_windowed_permission_follows_its_validity_window(members):
    operator, vendor_a, vendor_b, customer, _ = members
    # Revoke the customer's refreshTrustKeys (updatePermissions: operator proposes, majority decides).
    revoke = operator.constitution.revoke("refreshTrustKeys", customer.address, ref="REVOKE-CUST")
    vendor_a.constitution.vote(revoke.proposal_id, True)
    assert vendor_b.constitution.vote(revoke.proposal_id, True).proposal.status is ProposalStatus.EXECUTED
    with pytest.raises(PermissionDenied, match="no permission"):
        customer.constitution.rotate_trust_key(b"\x07" * 32)

    now = operator.rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"]
    start, end = int(now, 16) + 3600, int(now, 16) + 7200
    grant = operator.constitution.grant("refreshTrustKeys", customer.address, valid_from=start, valid_until=end)
    vendor_a.constitution.vote(grant.proposal_id, True)
    vendor_b.constitution.vote(grant.proposal_id, True)
    assert operator.constitution.permission("refreshTrustKeys", customer.address).valid_from == start
    with pytest.raises(PermissionDenied, match="not valid yet"):
        customer.constitution.rotate_trust_key(b"\x08" * 32)
    travel(operator, 3600)
    assert customer.constitution.rotate_trust_key(b"\x09" * 32).executed
    travel(operator, 3601)
    assert operator.constitution.can_execute("refreshTrustKeys", customer.address) is DenyReason.PERMISSION_EXPIRED
    with pytest.raises(PermissionDenied, match="expired"):
        customer.constitution.rotate_trust_key(b"\x0a" * 32)
    assert customer.constitution.member(customer.address).trust_key == b"\x09" * 32


def test_a_batch_reports_each_call_and_a_failing_call_does_not_stop_the_others(members, dev_accounts):
    vendor_a = members[VENDOR_A]
    calls = [
        ActionCall("refreshTrustKeys", (b"\x11" * 32,), ref="B-OK"),
        ActionCall("refreshTrustKeys", (bytes(32),), ref="B-ZERO"),
        ActionCall("amendConstitution", (vendor_a.constitution.policy("voteFor").to_tuple(), []), ref="B-DENIED"),
        ActionCall("addMember", (dev_accounts[7].address, b"\x77" * 32, "Initrode"), ref="B-VOTE"),
    ]
    outcomes = vendor_a.constitution.execute_batch(calls)
    assert [o.status for o in outcomes] == ["executed", "reverted", "denied", "pending_vote"]
    assert isinstance(outcomes[1].error, ConstitutionInvalidTrustKey)
    assert outcomes[2].deny_reason is DenyReason.NO_PERMISSION
    assert outcomes[3].proposal_id == vendor_a.constitution.proposal_count()
    assert vendor_a.constitution.member(vendor_a.address).trust_key == b"\x11" * 32


def test_a_batch_needs_distinct_refs(members):
    with pytest.raises(Exception, match="its own ref"):
        members[0].constitution.execute_batch(
            [
                ActionCall("refreshTrustKeys", (b"\x01" * 32,), "SAME"),
                ActionCall("refreshTrustKeys", (b"\x02" * 32,), "SAME"),
            ]
        )


def test_a_suspended_member_is_reinstated_by_a_vote(members):
    operator, vendor_a, vendor_b, customer, _ = members
    suspended = operator.constitution.suspend_member(customer.address, ref="SUSPEND-INITECH")
    vendor_a.constitution.vote(suspended.proposal_id, approve=True)
    vendor_b.constitution.vote(suspended.proposal_id, approve=True)
    assert not operator.constitution.is_active_member(customer.address)

    result = operator.constitution.reinstate_member(customer.address, ref="BACK-INITECH")
    assert result.status == "pending_vote"
    assert operator.constitution.proposal(result.proposal_id).action_name == "reinstateMember"
    decided = vendor_a.constitution.vote(result.proposal_id, approve=True)  # 2 of 3 active
    assert decided.proposal.status is ProposalStatus.EXECUTED
    assert operator.constitution.is_active_member(customer.address)


def test_reinstating_an_active_member_is_refused_when_proposed(members):
    operator, vendor_a, *_ = members
    before = operator.constitution.proposal_count()
    with pytest.raises(ConstitutionMemberNotSuspended) as caught:
        operator.constitution.reinstate_member(vendor_a.address)
    assert caught.value.error_args == {"account": vendor_a.address}
    assert operator.constitution.proposal_count() == before  # never opened


def test_a_name_differing_only_in_case_is_refused_when_proposed(members, dev_accounts):
    operator, vendor_a, *_ = members
    with pytest.raises(ConstitutionNameTaken) as caught:
        operator.constitution.add_member(dev_accounts[6].address, b"\x66" * 32, "ACME NETWORKS")
    assert caught.value.error_args == {"name": "ACME NETWORKS", "holder": vendor_a.address}


def test_internal_actions_show_their_callers_and_module_actions_their_pinned_code(client):
    modules = {c.name: c.address for c in client.deployment.contracts.values()}
    transition = client.constitution.policy("transition")
    assert transition.callers == (modules["OrderBook"], modules["OperatorAgreement"])
    issuers = (modules["OperatorAgreement"], modules["VendorSettlement"])  # issue 14: vendor invoices too
    assert client.constitution.policy("issueInvoice").callers == issuers
    code = bytes.fromhex(client.rpc.call("eth_getCode", [modules["AssetRegistry"], "latest"])[2:])
    assert transition.code_hash == keccak(code)[:28]
    assert client.constitution.policy("addMember").code_hash == b""  # a built-in


def test_a_stranger_batch_is_refused_without_sending(members):
    stranger = members[-1]
    with pytest.raises(PermissionDenied, match="not a member") as caught:
        stranger.constitution.execute_batch([ActionCall("refreshTrustKeys", (b"\x01" * 32,))])
    assert caught.value.tx_hash is None
