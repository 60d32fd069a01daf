"""Member delegate keys (issue 20): a member registers addresses that act as it.

A delegate's executeAction / executeBatch run as its member's own (the module gets the member
as ``caller``, the events name the member) — for module actions that run at once. A delegate
never votes, proposes, runs a built-in or manages delegates; a suspended member's delegates
are denied as the member is; a revoked delegate is a stranger again.

Cast: founders alice, bob, carol; alice's delegates ``d1``, ``d2``; bob's ``d3`` (when
registered); ``dave`` a candidate member; ``stranger`` nobody.
"""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from telcochain.constitution import DenyReason, Scope, Voters

from tests.support.encoding import (
    ADD_MEMBER,
    CALL_INTERNAL,
    INTERNAL_RECORD,
    RECORD,
    REFRESH_TRUST_KEYS,
    SUSPEND_MEMBER,
    VOTE_FOR,
    ZERO_ADDRESS,
    action_id,
    add_member_params,
    grant,
    policy,
    ref,
    refresh_params,
    selector,
    suspend_params,
    trust_key,
    uint_params,
    vote_params,
)
from tests.support.events import event_names, events, opened_id, reverts_with, the_event

RECORD_VOTED = action_id("recordVoted")
MAX_DELEGATES = 64


@pytest.fixture(scope="module")
def c(project, deployer, founders, alice, bob, carol):
    """record (Any; alice, bob), recordVoted (Specific alice + carol, margin 2; alice),
    callInternal (Any; alice) → internalRecord (Internal, the mock as caller); built-ins as
    the constructor defines them (governance voted by All, voteFor / refreshTrustKeys Any)."""
    con = project.Constitution.deploy(founders, sender=deployer)
    m = project.MockModule.deploy(con.address, sender=deployer)
    rec = selector("record(address,bytes32,bytes)")
    con.genesisDefineAction(policy("record", module=m, selector_=rec), [grant(alice), grant(bob)], sender=deployer)
    con.genesisDefineAction(
        policy("recordVoted", module=m, selector_=rec, voters=Voters.SPECIFIC, margin=2, period=3600,
               voter_list=[alice, carol]),
        [grant(alice), grant(carol)],
        sender=deployer,
    )  # fmt: skip
    con.genesisDefineAction(
        policy("callInternal", module=m, selector_=selector("callInternal(address,bytes32,bytes)")),
        [grant(alice)],
        sender=deployer,
    )
    con.genesisDefineAction(
        policy("internalRecord", scope=Scope.INTERNAL, module=m,
               selector_=selector("internalRecord(address,bytes32,bytes)"), callers=[m]),
        [],
        sender=deployer,
    )  # fmt: skip
    con.sealGenesis(sender=deployer)
    return con


@pytest.fixture(scope="module")
def mock(project, c):
    return project.MockModule.at(c.action(RECORD).module)


@pytest.fixture(scope="module")
def d1(accounts):
    return accounts[6]


@pytest.fixture(scope="module")
def d2(accounts):
    return accounts[7]


@pytest.fixture(scope="module")
def d3(accounts):
    return accounts[8]


@pytest.fixture
def delegated(c, alice, d1, d2):
    """alice registers d1 and d2 (the state of most tests)."""
    c.addDelegate(d1, ref("d1"), sender=alice)
    c.addDelegate(d2, ref("d2"), sender=alice)
    return c


def _address(n: int) -> str:
    return to_checksum_address(keccak(b"delegate-%d" % n)[:20])


def _suspend(c, alice, bob, who) -> None:
    """suspendMember by vote: alice proposes, bob's approval makes the majority (2 of 3)."""
    pid = opened_id(c.executeAction(SUSPEND_MEMBER, suspend_params(who), ref("suspend"), sender=alice))
    c.voteFor(pid, True, ref("suspend-vote"), sender=bob)
    assert not c.isActiveMember(who)


# -- registering and revoking ------------------------------------------------------------------


def test_a_member_registers_delegates_with_an_event_each(c, alice, d1, d2):
    receipt = c.addDelegate(d1, ref("d1"), sender=alice)
    added = the_event(receipt, "DelegateAdded")
    assert (added.member, added.delegate, added.ref) == (alice.address, d1.address, ref("d1"))
    c.addDelegate(d2, ref("d2"), sender=alice)
    assert c.delegateOf(d1) == alice.address
    assert c.delegateOf(d2) == alice.address
    assert c.delegateCount(alice) == 2
    assert c.MAX_DELEGATES() == MAX_DELEGATES
    assert not c.isActiveMember(d1)  # a delegate is not a member


def test_revoking_a_delegate_turns_it_back_into_a_stranger(delegated, alice, d1):
    c = delegated
    receipt = c.removeDelegate(d1, ref("rm"), sender=alice)
    removed = the_event(receipt, "DelegateRemoved")
    assert (removed.member, removed.delegate, removed.ref) == (alice.address, d1.address, ref("rm"))
    assert c.delegateOf(d1) == ZERO_ADDRESS
    assert c.delegateCount(alice) == 1
    with reverts_with("ConstitutionNotMember", account=d1.address):
        c.executeAction(RECORD, uint_params(1), ref("after"), sender=d1)
    with reverts_with("ConstitutionNotMember", account=d1.address):
        c.executeBatch([(RECORD, uint_params(1), ref("after-b"))], sender=d1)


@pytest.mark.parametrize("who", ["zero", "constitution", "member", "self"])
def test_an_invalid_delegate_is_refused(c, alice, bob, who):
    target = {"zero": ZERO_ADDRESS, "constitution": c.address, "member": bob.address, "self": alice.address}[who]
    with reverts_with("ConstitutionInvalidDelegate", delegate=target):
        c.addDelegate(target, ref("bad"), sender=alice)
    assert c.delegateCount(alice) == 0


def test_an_address_acts_for_one_member_only(delegated, alice, bob, d1):
    c = delegated
    with reverts_with("ConstitutionDelegateTaken", account=d1.address, member=alice.address):
        c.addDelegate(d1, ref("steal"), sender=bob)
    with reverts_with("ConstitutionDelegateTaken", account=d1.address, member=alice.address):
        c.addDelegate(d1, ref("twice"), sender=alice)
    assert c.delegateOf(d1) == alice.address
    assert (c.delegateCount(alice), c.delegateCount(bob)) == (2, 0)


def test_a_delegate_cannot_be_admitted_as_a_member(delegated, alice, d1):
    with reverts_with("ConstitutionDelegateTaken", account=d1.address, member=alice.address):
        delegated.executeAction(ADD_MEMBER, add_member_params(d1, trust_key(9), "D One"), ref("add"), sender=alice)
    assert delegated.proposalCount() == 0


def test_a_member_holds_at_most_max_delegates(c, alice):
    for n in range(MAX_DELEGATES):
        c.addDelegate(_address(n), ref(f"n{n}"), sender=alice)
    assert c.delegateCount(alice) == MAX_DELEGATES
    with reverts_with("ConstitutionTooManyDelegates", member=alice.address, max=MAX_DELEGATES):
        c.addDelegate(_address(MAX_DELEGATES), ref("one-more"), sender=alice)
    c.removeDelegate(_address(0), ref("free-one"), sender=alice)
    c.addDelegate(_address(MAX_DELEGATES), ref("one-more"), sender=alice)
    assert c.delegateOf(_address(MAX_DELEGATES)) == alice.address


def test_only_the_member_itself_manages_its_delegates(delegated, alice, bob, d1, d2, d3, stranger):
    c = delegated
    with reverts_with("ConstitutionNotMember", account=d1.address):  # a delegate adds no delegate
        c.addDelegate(d3, ref("by-delegate"), sender=d1)
    with reverts_with("ConstitutionNotDelegate", delegate=d2.address, member=d1.address):
        c.removeDelegate(d2, ref("by-delegate"), sender=d1)
    with reverts_with("ConstitutionNotDelegate", delegate=d1.address, member=bob.address):
        c.removeDelegate(d1, ref("other-member"), sender=bob)
    with reverts_with("ConstitutionNotMember", account=stranger.address):
        c.addDelegate(d3, ref("stranger"), sender=stranger)
    with reverts_with("ConstitutionNotDelegate", delegate=d3.address, member=alice.address):
        c.removeDelegate(d3, ref("never"), sender=alice)
    assert c.delegateCount(alice) == 2
    assert c.delegateOf(d3) == ZERO_ADDRESS


# -- acting as the member ------------------------------------------------------------------------


def test_a_delegates_action_runs_as_its_member(delegated, mock, alice, d1):
    receipt = delegated.executeAction(RECORD, uint_params(5), ref("rec"), sender=d1)
    assert mock.lastCaller() == alice.address
    assert (mock.calls(), mock.total()) == (1, 5)
    executed = the_event(receipt, "ActionExecuted")
    assert (executed.caller, executed.ref) == (alice.address, ref("rec"))
    assert receipt.sender == d1.address


def test_a_delegates_internal_actions_carry_its_member(delegated, mock, alice, d2):
    inner = encode(["bytes32", "bytes"], [INTERNAL_RECORD, uint_params(3)])
    receipt = delegated.executeAction(CALL_INTERNAL, inner, ref("int"), sender=d2)
    assert mock.lastCaller() == alice.address
    assert [e.caller for e in events(receipt, "ActionExecuted")] == [alice.address, alice.address]


def test_a_delegates_batch_runs_as_its_member(delegated, mock, alice, d1):
    calls = [
        (RECORD, uint_params(1), ref("b1")),
        (action_id("nope"), b"", ref("b2")),
        (RECORD, uint_params(2), ref("b3")),
    ]
    receipt = delegated.executeBatch(calls, sender=d1)
    assert (mock.calls(), mock.total(), mock.lastCaller()) == (2, 3, alice.address)
    denied = the_event(receipt, "ActionDenied")
    assert (denied.caller, denied.reason) == (alice.address, DenyReason.UNKNOWN_ACTION)
    assert {e.caller for e in events(receipt, "ActionExecuted")} == {alice.address}


def test_a_delegate_has_exactly_its_members_permissions(c, mock, bob, d3):
    c.addDelegate(d3, ref("d3"), sender=bob)  # bob holds record, not callInternal
    c.executeAction(RECORD, uint_params(4), ref("ok"), sender=d3)
    assert mock.lastCaller() == bob.address
    receipt = c.executeAction(CALL_INTERNAL, encode(["bytes32", "bytes"], [INTERNAL_RECORD, uint_params(1)]),
                              ref("no"), sender=d3)  # fmt: skip
    denied = the_event(receipt, "ActionDenied")
    assert (denied.caller, denied.reason) == (bob.address, DenyReason.NO_PERMISSION)
    assert mock.calls() == 1


# -- what a delegate may not do -------------------------------------------------------------------


def test_a_delegate_cannot_vote_for_its_member(delegated, alice, carol, d1):
    c = delegated
    pid = opened_id(c.executeAction(RECORD_VOTED, uint_params(7), ref("p"), sender=carol))
    with reverts_with("ConstitutionDelegateNotAllowed", delegate=d1.address, action=VOTE_FOR):
        c.voteFor(pid, True, ref("v"), sender=d1)
    with reverts_with("ConstitutionDelegateNotAllowed", delegate=d1.address, action=VOTE_FOR):
        c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v2"), sender=d1)
    receipt = c.executeBatch([(VOTE_FOR, vote_params(pid, True), ref("v3"))], sender=d1)
    assert [e.caller for e in events(receipt, "ActionReverted")] == [alice.address]
    assert not c.hasVoted(pid, alice)
    assert c.proposal(pid).approvals == 1  # carol's own
    c.voteFor(pid, True, ref("alice"), sender=alice)  # the member's own key still may
    assert c.hasVoted(pid, alice)


@pytest.mark.parametrize("what", ["voted module action", "addMember", "refreshTrustKeys"])
def test_a_delegate_cannot_propose_or_run_a_builtin(delegated, alice, dave, d1, what):
    c = delegated
    action, params = {
        "voted module action": (RECORD_VOTED, uint_params(1)),
        "addMember": (ADD_MEMBER, add_member_params(dave, trust_key(4), "Dave")),
        "refreshTrustKeys": (REFRESH_TRUST_KEYS, refresh_params(trust_key(8))),
    }[what]
    with reverts_with("ConstitutionDelegateNotAllowed", delegate=d1.address, action=action):
        c.executeAction(action, params, ref("x"), sender=d1)
    assert c.proposalCount() == 0
    assert c.getMember(alice).trustKey == trust_key(1)


# -- a suspended member's delegates --------------------------------------------------------------


def test_a_suspended_members_delegates_are_denied_as_it_is(delegated, mock, alice, bob, carol, d1, d2):
    c = delegated
    _suspend(c, bob, carol, alice)
    receipt = c.executeAction(RECORD, uint_params(1), ref("s"), sender=d1)
    denied = the_event(receipt, "ActionDenied")
    assert (denied.caller, denied.reason) == (alice.address, DenyReason.MEMBER_SUSPENDED)
    assert event_names(receipt) == ["ActionDenied"]
    receipt = c.executeBatch([(RECORD, uint_params(1), ref("sb"))], sender=d2)
    assert the_event(receipt, "ActionDenied").reason == DenyReason.MEMBER_SUSPENDED
    assert mock.calls() == 0
    # a suspended member registers no delegate, but may revoke one
    with reverts_with("ConstitutionMemberSuspended", account=alice.address):
        c.addDelegate(_address(1), ref("new"), sender=alice)
    c.removeDelegate(d2, ref("rm"), sender=alice)
    assert c.delegateOf(d2) == ZERO_ADDRESS
    # reinstated: the remaining delegate acts again
    pid = opened_id(c.executeAction(action_id("reinstateMember"), suspend_params(alice), ref("back"), sender=bob))
    c.voteFor(pid, True, ref("back-vote"), sender=carol)
    c.executeAction(RECORD, uint_params(2), ref("again"), sender=d1)
    assert (mock.calls(), mock.lastCaller()) == (1, alice.address)
