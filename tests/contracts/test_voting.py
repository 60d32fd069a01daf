"""Voting: schemas Any / Specific / All, margins, vetoes, expiry, eligibility frozen at
opening, and the stored call executing exactly once.

The ``box`` Constitution has four founders (alice, bob, carol, dave) and these module actions
(all recording into the mock module), sealed after genesis:

| action          | voters                     | margin        | veto  | grants        |
| --------------- | -------------------------- | ------------- | ----- | ------------- |
| record          | Any                        | -             | -     | alice         |
| recordTrio      | Specific alice, bob, carol | 2             | carol | all founders  |
| recordBob       | Specific bob               | 5 (capped: 1) | -     | alice         |
| recordAll       | All                        | 0 (majority)  | -     | all founders  |
| recordUnanimous | All                        | 255 (all)     | -     | alice         |
| failAll         | All                        | 2             | -     | alice         |

Voting periods are one day. Built-ins keep their defaults (All, majority, 7 days).
"""

from __future__ import annotations

import pytest
from telcochain.constitution import Ballot, DenyReason, ProposalStatus, Voters

from tests.support.encoding import (
    ADD_MEMBER,
    AMEND_CONSTITUTION,
    DAY,
    RECORD,
    SUSPEND_MEMBER,
    UPDATE_PERMISSIONS,
    VOTE_FOR,
    ZERO_ADDRESS,
    action_id,
    add_member_params,
    amend_params,
    grant,
    policy,
    ref,
    revoke,
    selector,
    suspend_params,
    trust_key,
    uint_params,
    update_params,
    vote_params,
)
from tests.support.events import event_names, events, opened_id, reverts_with, the_event

RECORD_TRIO = action_id("recordTrio")
RECORD_BOB = action_id("recordBob")
RECORD_ALL = action_id("recordAll")
RECORD_UNANIMOUS = action_id("recordUnanimous")
FAIL_ALL = action_id("failAll")
RECORD_SEL = selector("record(address,bytes32,bytes)")


@pytest.fixture(scope="module")
def box(project, deployer, accounts):
    alice, bob, carol, dave = (accounts[i] for i in (1, 2, 3, 4))
    founders = [(a.address, trust_key(i), f"Member {i}") for i, a in enumerate((alice, bob, carol, dave))]
    c = project.Constitution.deploy(founders, sender=deployer)
    m = project.MockModule.deploy(c.address, sender=deployer)
    everyone = [grant(a) for a in (alice, bob, carol, dave)]

    def define(name, grants, sel=RECORD_SEL, **kw):
        c.genesisDefineAction(policy(name, module=m, selector_=sel, **kw), grants, sender=deployer)

    define("record", [grant(alice)])
    define(
        "recordTrio",
        everyone,
        voters=Voters.SPECIFIC,
        margin=2,
        period=DAY,
        voter_list=[alice, bob, carol],
        veto_list=[carol],
    )
    define("recordBob", [grant(alice)], voters=Voters.SPECIFIC, margin=5, period=DAY, voter_list=[bob])
    define("recordAll", everyone, voters=Voters.ALL, margin=0, period=DAY)
    define("recordUnanimous", [grant(alice)], voters=Voters.ALL, margin=255, period=DAY)
    define(
        "failAll", [grant(alice)], sel=selector("fail(address,bytes32,bytes)"), voters=Voters.ALL, margin=2, period=DAY
    )
    c.sealGenesis(sender=deployer)
    return c


@pytest.fixture(scope="module")
def mock(project, box):
    return project.MockModule.at(box.action(RECORD).module)


@pytest.fixture
def people(accounts):
    return [accounts[i] for i in (1, 2, 3, 4)]


def propose(c, who, action, value=1, label="p"):
    receipt = c.executeAction(action, uint_params(value), ref(label), sender=who)
    return opened_id(receipt), receipt


def vote(c, who, pid, approve=True, label="v"):
    return c.executeAction(VOTE_FOR, vote_params(pid, approve), ref(label), sender=who)


def decide_by_vote(c, action, params, proposer, *voters):
    """Runs a governance built-in (All, majority) to completion."""
    pid = opened_id(c.executeAction(action, params, ref("gov"), sender=proposer))
    for voter in voters:
        vote(c, voter, pid)
    assert c.proposal(pid).status == ProposalStatus.EXECUTED
    return pid


# --------------------------------------------------------------------------------------------
# Schemas and margins
# --------------------------------------------------------------------------------------------


def test_any_schema_executes_at_once_without_a_proposal(box, mock, people):
    receipt = box.executeAction(RECORD, uint_params(5), ref("now"), sender=people[0])
    assert "ProposalOpened" not in event_names(receipt)
    assert the_event(receipt, "ActionExecuted").proposalId == 0
    assert box.proposalCount() == 0
    assert mock.calls() == 1


def test_opening_returns_true_and_the_proposal_id(box, people):
    assert box.executeAction.call(RECORD_TRIO, uint_params(1), ref("p"), sender=people[0]) == (
        True,
        1,
    )


def test_specific_vote_opens_a_proposal_and_notifies_the_other_listed_voters(box, mock, people):
    alice, bob, carol, _ = people
    pid, receipt = propose(box, alice, RECORD_TRIO, 9, "trio")
    opened = the_event(receipt, "ProposalOpened")
    assert (opened.ref, opened.action, opened.proposer) == (ref("trio"), RECORD_TRIO, alice.address)
    assert (opened.voterCount, opened.required) == (3, 2)
    assert opened.params == uint_params(9)
    # the proposer's request is its approval
    cast = the_event(receipt, "VoteCast")
    assert (cast.voter, cast.approve, cast.approvals) == (alice.address, True, 1)
    requested = events(receipt, "VoteRequested")
    assert [r.voter for r in requested] == [bob.address, carol.address]
    assert all((r.proposalId, r.action, r.ref) == (pid, RECORD_TRIO, ref("trio")) for r in requested)
    assert "ActionExecuted" not in event_names(receipt)
    assert mock.calls() == 0
    view = box.proposal(pid)
    assert view.status == ProposalStatus.OPEN
    assert (view.approvals, view.rejections, view.voterCount, view.required) == (1, 0, 3, 2)
    assert view.deadline == view.openedAt + DAY
    assert view.params == uint_params(9)
    assert view.policyId == box.policyIdOf(RECORD_TRIO)


def test_reaching_the_margin_executes_the_stored_call_exactly_once(box, mock, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_TRIO, 9, "trio")
    receipt = vote(box, bob, pid, True, "bob-vote")
    recorded = the_event(receipt, "Recorded")
    # the module sees the proposer and the proposal's ref, not the deciding voter
    assert (recorded.caller, recorded.ref, recorded.value) == (alice.address, ref("trio"), 9)
    assert the_event(receipt, "ProposalExecuted").proposalId == pid
    executed = events(receipt, "ActionExecuted")
    assert [(e.action, e.caller, e.ref, e.proposalId) for e in executed] == [
        (RECORD_TRIO, alice.address, ref("trio"), pid),
        (VOTE_FOR, bob.address, ref("bob-vote"), 0),
    ]
    assert box.proposal(pid).status == ProposalStatus.EXECUTED
    with reverts_with("ConstitutionProposalNotOpen", proposalId=pid, status=ProposalStatus.EXECUTED):
        vote(box, carol, pid)
    assert mock.calls() == 1


def test_a_proposer_outside_the_list_is_not_counted(box, mock, people):
    alice, bob, _, _ = people
    pid, receipt = propose(box, alice, RECORD_BOB)
    assert "VoteCast" not in event_names(receipt)
    assert [r.voter for r in events(receipt, "VoteRequested")] == [bob.address]
    assert box.proposal(pid).approvals == 0
    assert not box.isVoter(pid, alice)
    vote(box, bob, pid)
    assert mock.calls() == 1


def test_a_margin_above_the_voter_count_is_capped_at_every_voter(box, people):
    pid, _ = propose(box, people[0], RECORD_BOB)
    assert (box.proposal(pid).voterCount, box.proposal(pid).required) == (1, 1)


def test_all_schema_freezes_the_active_members_and_broadcasts_one_request(box, people):
    pid, receipt = propose(box, people[0], RECORD_ALL)
    assert (box.proposal(pid).voterCount, box.proposal(pid).required) == (4, 3)
    requested = the_event(receipt, "VoteRequested")
    assert requested.voter == ZERO_ADDRESS
    assert all(box.isVoter(pid, p) for p in people)


def test_all_majority_executes_on_the_third_of_four_approvals(box, mock, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_ALL)
    vote(box, bob, pid)
    assert box.proposal(pid).status == ProposalStatus.OPEN
    assert mock.calls() == 0
    vote(box, carol, pid)
    assert box.proposal(pid).status == ProposalStatus.EXECUTED
    assert mock.calls() == 1


def test_unanimous_margin_needs_every_voter(box, mock, people):
    alice, bob, carol, dave = people
    pid, _ = propose(box, alice, RECORD_UNANIMOUS)
    assert box.proposal(pid).required == 4
    vote(box, bob, pid)
    vote(box, carol, pid)
    assert box.proposal(pid).status == ProposalStatus.OPEN
    vote(box, dave, pid)
    assert box.proposal(pid).status == ProposalStatus.EXECUTED
    assert mock.calls() == 1


# --------------------------------------------------------------------------------------------
# Rejections and vetoes
# --------------------------------------------------------------------------------------------


def test_a_veto_rejects_and_the_call_never_executes(box, mock, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_TRIO)
    receipt = vote(box, carol, pid, approve=False)
    cast = the_event(receipt, "VoteCast")
    assert (cast.approve, cast.veto) == (False, True)
    rejected = the_event(receipt, "ProposalRejected")
    assert (rejected.proposalId, rejected.vetoedBy) == (pid, carol.address)
    assert box.proposal(pid).status == ProposalStatus.REJECTED
    with reverts_with("ConstitutionProposalNotOpen", status=ProposalStatus.REJECTED):
        vote(box, bob, pid)
    assert mock.calls() == 0


def test_a_reject_from_a_non_vetoer_only_counts(box, mock, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_TRIO)
    receipt = vote(box, bob, pid, approve=False)
    assert not the_event(receipt, "VoteCast").veto
    assert box.proposal(pid).status == ProposalStatus.OPEN
    assert box.ballotOf(pid, bob) == Ballot.REJECT
    vote(box, carol, pid)
    assert box.proposal(pid).status == ProposalStatus.EXECUTED
    assert mock.calls() == 1


def test_a_proposal_is_rejected_once_the_margin_is_out_of_reach(box, mock, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_ALL)  # 3 of 4 needed, alice approved
    vote(box, bob, pid, approve=False)
    assert box.proposal(pid).status == ProposalStatus.OPEN  # carol + dave could still pass it
    receipt = vote(box, carol, pid, approve=False)
    assert the_event(receipt, "ProposalRejected").vetoedBy == ZERO_ADDRESS
    assert box.proposal(pid).status == ProposalStatus.REJECTED
    assert (box.proposal(pid).approvals, box.proposal(pid).rejections) == (1, 2)
    assert mock.calls() == 0


# --------------------------------------------------------------------------------------------
# Expiry, double votes, eligibility
# --------------------------------------------------------------------------------------------


def test_a_vote_on_the_deadline_counts_and_after_it_reverts(box, mock, chain, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_ALL)
    deadline = box.proposal(pid).deadline
    chain.pending_timestamp = deadline
    vote(box, bob, pid)
    assert box.proposal(pid).approvals == 2
    chain.pending_timestamp = deadline + 1
    with reverts_with("ConstitutionProposalExpired", proposalId=pid, deadline=deadline):
        vote(box, carol, pid)
    assert box.proposal(pid).status == ProposalStatus.EXPIRED
    assert not box.hasVoted(pid, carol)
    assert mock.calls() == 0


def test_voting_twice_reverts(box, people):
    alice, bob, _, _ = people
    pid, _ = propose(box, alice, RECORD_ALL)
    vote(box, bob, pid)
    with reverts_with("ConstitutionAlreadyVoted", proposalId=pid, voter=bob.address):
        vote(box, bob, pid, approve=False)
    with reverts_with("ConstitutionAlreadyVoted", proposalId=pid, voter=alice.address):
        vote(box, alice, pid)
    assert box.proposal(pid).approvals == 2


def test_a_member_outside_the_voter_list_cannot_vote(box, people):
    alice, _, _, dave = people
    pid, _ = propose(box, alice, RECORD_TRIO)
    assert not box.isVoter(pid, dave)
    with reverts_with("ConstitutionNotVoter", proposalId=pid, account=dave.address):
        vote(box, dave, pid)


def test_a_stranger_vote_is_reverted_not_counted(box, accounts, people):
    pid, _ = propose(box, people[0], RECORD_TRIO)
    stranger = accounts[9]
    with reverts_with("ConstitutionNotMember", account=stranger.address):
        vote(box, stranger, pid, approve=False)
    assert box.proposal(pid).rejections == 0


def test_voting_on_an_unknown_proposal_reverts(box, people):
    with reverts_with("ConstitutionUnknownProposal", proposalId=99):
        vote(box, people[0], 99)


def test_a_member_added_after_opening_cannot_vote(box, accounts, people):
    alice, bob, carol, dave = people
    erin = accounts[5]
    pid, _ = propose(box, alice, RECORD_ALL)
    decide_by_vote(box, ADD_MEMBER, add_member_params(erin, trust_key(5), "Erin"), bob, carol, dave)
    assert box.activeMemberCount() == 5
    assert box.canExecute(VOTE_FOR, erin) == DenyReason.NONE
    assert not box.isVoter(pid, erin)
    with reverts_with("ConstitutionNotVoter", proposalId=pid, account=erin.address):
        vote(box, erin, pid)
    assert box.proposal(pid).voterCount == 4
    # a proposal opened after erin joined counts erin in
    later, _ = propose(box, alice, RECORD_ALL, label="later")
    assert box.proposal(later).voterCount == 5
    assert box.isVoter(later, erin)


def test_a_suspended_voter_cannot_vote_but_its_earlier_vote_stands(box, mock, people):
    alice, bob, carol, dave = people
    pid, _ = propose(box, alice, RECORD_ALL)
    vote(box, bob, pid)  # 2 of 3
    decide_by_vote(box, SUSPEND_MEMBER, suspend_params(bob), carol, dave, alice)
    assert box.proposal(pid).approvals == 2
    assert not box.isVoter(pid, bob)
    # bob is refused at the door (denied, not reverted) on a new proposal
    other, _ = propose(box, alice, RECORD_ALL, label="other")
    receipt = vote(box, bob, other)
    assert event_names(receipt) == ["ActionDenied"]
    assert receipt.events[0].reason == DenyReason.MEMBER_SUSPENDED
    # the quorum base of a proposal opened after the suspension excludes bob
    assert box.proposal(other).voterCount == 3
    vote(box, carol, pid)
    assert box.proposal(pid).status == ProposalStatus.EXECUTED
    assert mock.calls() == 1


def test_a_proposer_without_the_voteFor_grant_is_not_counted(box, people):
    alice, bob, carol, dave = people
    decide_by_vote(box, UPDATE_PERMISSIONS, update_params(VOTE_FOR, [revoke(alice)]), bob, carol, dave)
    pid, receipt = propose(box, alice, RECORD_TRIO)
    assert "VoteCast" not in event_names(receipt)
    assert box.proposal(pid).approvals == 0
    denied = vote(box, alice, pid)
    assert denied.events[0].reason == DenyReason.NO_PERMISSION


# --------------------------------------------------------------------------------------------
# Superseded proposals, failing executions, the voteFor function
# --------------------------------------------------------------------------------------------


def test_redefining_the_action_supersedes_its_open_proposals(box, mock, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_TRIO)
    same = policy(
        "recordTrio",
        module=mock,
        selector_=RECORD_SEL,
        voters=Voters.SPECIFIC,
        margin=2,
        period=DAY,
        voter_list=[alice, bob, carol],
    )
    decide_by_vote(box, AMEND_CONSTITUTION, amend_params(same, [grant(alice)]), bob, carol, alice)
    assert box.proposal(pid).status == ProposalStatus.SUPERSEDED
    with reverts_with("ConstitutionProposalNotOpen", status=ProposalStatus.SUPERSEDED):
        vote(box, bob, pid)
    assert mock.calls() == 0


def test_a_proposal_that_would_fail_is_never_opened(box, people):
    """The module call is dry-run when the proposal opens: its error refuses the proposal."""
    with reverts_with("MockModuleFailed", code=13):
        propose(box, people[0], FAIL_ALL, value=13)
    assert box.proposalCount() == 0


def test_a_failing_execution_reverts_the_deciding_vote_and_keeps_the_proposal_open(box, mock, people):
    alice, bob, carol, _ = people
    pid, _ = propose(box, alice, RECORD_ALL, value=13)  # majority of 4: alice, bob, carol
    vote(box, bob, pid)
    mock.setFailing(True, sender=alice)  # the module fails only after the proposal opened
    with reverts_with("MockModuleFailed", code=13):
        vote(box, carol, pid)
    view = box.proposal(pid)
    assert (view.status, view.approvals) == (ProposalStatus.OPEN, 2)
    assert not box.hasVoted(pid, carol)


def test_the_voteFor_function_is_the_voteFor_action(box, accounts, people):
    alice, bob, _, _ = people
    pid, _ = propose(box, alice, RECORD_ALL)
    assert box.voteFor.call(pid, True, ref("fn"), sender=bob) is True
    receipt = box.voteFor(pid, True, ref("fn"), sender=bob)
    assert the_event(receipt, "VoteCast").ref == ref("fn")
    executed = the_event(receipt, "ActionExecuted")
    assert (executed.action, executed.caller, executed.ref) == (VOTE_FOR, bob.address, ref("fn"))
    with reverts_with("ConstitutionNotMember", account=accounts[9].address):
        box.voteFor(pid, True, ref("fn"), sender=accounts[9])
