"""Each built-in action through executeAction: the permitted caller succeeds, every kind of
denial returns false with ActionDenied and changes nothing else, business failures revert.

The ``direct`` Constitution puts no built-in to a vote (genesis redefines them as ``Any``) so
that each action runs at once; alice and carol hold every grant, bob none. ``recordPair`` is a
module action voted by alice and carol (margin 2), so that voteFor has a proposal to act on.
"""

from __future__ import annotations

import pytest
from telcochain.constitution import Ballot, DenyReason, MemberStatus, ProposalStatus, Scope, Voters

from tests.support.encoding import (
    ADD_MEMBER,
    AMEND_CONSTITUTION,
    BUILTINS,
    INTERNAL_RECORD,
    RECORD,
    REFRESH_TRUST_KEYS,
    REINSTATE_MEMBER,
    SUSPEND_MEMBER,
    UPDATE_PERMISSIONS,
    VOTE_FOR,
    action_id,
    add_member_params,
    amend_params,
    grant,
    policy,
    ref,
    refresh_params,
    revoke,
    selector,
    suspend_params,
    trust_key,
    uint_params,
    update_params,
    vote_params,
)
from tests.support.events import event_names, events, opened_id, reverts_with, the_event

RECORD_PAIR = action_id("recordPair")


@pytest.fixture(scope="module")
def direct(project, deployer, founders, alice, carol):
    c = project.Constitution.deploy(founders, sender=deployer)
    m = project.MockModule.deploy(c.address, sender=deployer)
    for name in BUILTINS:
        c.genesisDefineAction(policy(name), [grant(alice), grant(carol)], sender=deployer)
    c.genesisDefineAction(
        policy("record", module=m, selector_=selector("record(address,bytes32,bytes)")),
        [grant(alice), grant(carol)],
        sender=deployer,
    )
    c.genesisDefineAction(
        policy(
            "recordPair",
            module=m,
            selector_=selector("record(address,bytes32,bytes)"),
            voters=Voters.SPECIFIC,
            margin=2,
            period=3600,
            voter_list=[alice, carol],
        ),
        [grant(alice), grant(carol)],
        sender=deployer,
    )
    c.genesisDefineAction(
        policy(
            "internalRecord",
            scope=Scope.INTERNAL,
            module=m,
            selector_=selector("internalRecord(address,bytes32,bytes)"),
        ),
        [grant(alice)],
        sender=deployer,
    )
    c.sealGenesis(sender=deployer)
    return c


@pytest.fixture(scope="module")
def mock(project, direct):
    # The module registered on ``direct`` (its address is in the record policy).
    return project.MockModule.at(direct.action(RECORD).module)


# --------------------------------------------------------------------------------------------
# One scenario per built-in: how to call it, and what its success looks like.
# --------------------------------------------------------------------------------------------


def _open_pair_proposal(c, carol) -> int:
    """A proposal opened (and approved) by carol, waiting for alice's vote."""
    return opened_id(c.executeAction(RECORD_PAIR, uint_params(7), ref("pair"), sender=carol))


def set_permission(c, accounts, action, entry, ref_label="p"):
    """Sets one permission entry on ``action`` as alice would: updatePermissions, or, for
    updatePermissions itself, amendConstitution (its grants to alice and carol kept)."""
    alice, carol = accounts[1], accounts[3]
    if action != UPDATE_PERMISSIONS:
        return c.executeAction(UPDATE_PERMISSIONS, update_params(action, [entry]), ref(ref_label), sender=alice)
    grants = {e[0]: e for e in (grant(alice), grant(carol), entry)}
    return c.executeAction(
        AMEND_CONSTITUTION,
        amend_params(policy("updatePermissions"), list(grants.values())),
        ref(ref_label),
        sender=alice,
    )


def scenario(name, c, accounts):
    """(action, params) for built-in ``name``, after any set-up it needs."""
    carol, dave = accounts[3], accounts[4]
    if name == "addMember":
        return ADD_MEMBER, add_member_params(dave, trust_key(4), "Dave Supplies")
    if name == "suspendMember":
        return SUSPEND_MEMBER, suspend_params(accounts[2])
    if name == "reinstateMember":  # dave joins and is suspended first (alice holds every grant)
        alice = accounts[1]
        c.executeAction(ADD_MEMBER, add_member_params(dave, trust_key(4), "Dave Supplies"), ref("+d"), sender=alice)
        c.executeAction(SUSPEND_MEMBER, suspend_params(dave), ref("-d"), sender=alice)
        return REINSTATE_MEMBER, suspend_params(dave)
    if name == "amendConstitution":
        return AMEND_CONSTITUTION, amend_params(
            policy("record", enabled=False, module=c.action(RECORD).module, selector_=c.action(RECORD).selector)
        )
    if name == "updatePermissions":
        return UPDATE_PERMISSIONS, update_params(RECORD, [grant(dave, 0, 10**12)])
    if name == "refreshTrustKeys":
        return REFRESH_TRUST_KEYS, refresh_params(trust_key(99))
    if name == "voteFor":
        return VOTE_FOR, vote_params(_open_pair_proposal(c, carol), True)
    raise AssertionError(name)


def snapshot_state(c, accounts, mock):
    """Everything a built-in could change, as plain values."""
    people = [accounts[i] for i in (1, 2, 3, 4)]
    return (
        c.memberCount(),
        c.activeMemberCount(),
        [tuple(c.getMember(p)) for p in people],
        [tuple(c.action(a)) for a in (*BUILTINS.values(), RECORD)],
        [tuple(c.permission(RECORD, p)) for p in people],
        c.proposalCount(),
        [tuple(c.proposal(i)) for i in range(1, c.proposalCount() + 1)],
        mock.calls(),
    )


@pytest.mark.parametrize("name", list(BUILTINS))
def test_permitted_member_runs_builtin(direct, mock, accounts, name):
    c, alice, dave = direct, accounts[1], accounts[4]
    action, params = scenario(name, c, accounts)
    assert c.executeAction.call(action, params, ref(name), sender=alice) == (True, 0)
    receipt = c.executeAction(action, params, ref(name), sender=alice)
    executed = events(receipt, "ActionExecuted")[-1]
    assert (executed.ref, executed.action, executed.caller) == (ref(name), action, alice.address)
    assert executed.proposalId == 0
    if name == "addMember":
        assert the_event(receipt, "MemberAdded").account == dave.address
        assert c.getMember(dave).status == MemberStatus.ACTIVE
        assert c.memberCount() == 4
        # the newcomer may refresh its key and vote, nothing else
        assert c.canExecute(REFRESH_TRUST_KEYS, dave) == DenyReason.NONE
        assert c.canExecute(VOTE_FOR, dave) == DenyReason.NONE
        assert c.canExecute(RECORD, dave) == DenyReason.NO_PERMISSION
    elif name == "suspendMember":
        assert the_event(receipt, "MemberSuspended").account == accounts[2].address
        assert c.getMember(accounts[2]).status == MemberStatus.SUSPENDED
        assert c.activeMemberCount() == 2
    elif name == "reinstateMember":
        assert the_event(receipt, "MemberReinstated").account == dave.address
        assert c.getMember(dave).status == MemberStatus.ACTIVE
        assert c.activeMemberCount() == 4
        assert c.canExecute(REFRESH_TRUST_KEYS, dave) == DenyReason.NONE  # its grants stand again
    elif name == "amendConstitution":
        assert the_event(receipt, "ActionDefined").action == RECORD
        assert c.action(RECORD).enabled is False
    elif name == "updatePermissions":
        assert the_event(receipt, "PermissionSet").account == dave.address
        assert tuple(c.permission(RECORD, dave)) == (True, 0, 10**12)
    elif name == "refreshTrustKeys":
        assert the_event(receipt, "TrustKeyRefreshed").trustKey == trust_key(99)
        assert c.getMember(alice).trustKey == trust_key(99)
    elif name == "voteFor":
        # carol opened (and approved) the proposal; alice's vote reached the margin of 2
        assert c.hasVoted(1, alice)
        assert c.ballotOf(1, alice) == Ballot.APPROVE
        assert c.proposal(1).approvals == 2
        assert c.proposal(1).status == ProposalStatus.EXECUTED
        assert mock.calls() == 1


# A stranger is not denied but reverted (test_stranger_builtin_reverts_and_changes_nothing).
DENIALS = [
    "suspended member",
    "no grant",
    "before validFrom",
    "after validUntil",
    "revoked grant",
    "disabled action",
]


# amendConstitution cannot disable itself without a unanimous vote of All (see test_governance).
DENIAL_CASES = [
    (name, denial)
    for name in BUILTINS
    for denial in DENIALS
    if (name, denial) != ("amendConstitution", "disabled action")
]


@pytest.mark.parametrize("name, denial", DENIAL_CASES)
def test_denied_builtin_returns_false_and_changes_nothing(direct, mock, accounts, chain, name, denial):
    c, alice, bob, carol = direct, accounts[1], accounts[2], accounts[3]
    action, params = scenario(name, c, accounts)
    now = chain.blocks.head.timestamp
    caller, expected = {
        "suspended member": (carol, DenyReason.MEMBER_SUSPENDED),
        "no grant": (bob, DenyReason.NO_PERMISSION),
        "before validFrom": (bob, DenyReason.PERMISSION_NOT_YET_VALID),
        "after validUntil": (bob, DenyReason.PERMISSION_EXPIRED),
        "revoked grant": (carol, DenyReason.NO_PERMISSION),
        "disabled action": (alice, DenyReason.ACTION_DISABLED),
    }[denial]
    if denial == "suspended member":
        c.executeAction(SUSPEND_MEMBER, suspend_params(carol), ref("s"), sender=alice)
    elif denial == "before validFrom":
        set_permission(c, accounts, action, grant(bob, now + 3600, now + 7200))
    elif denial == "after validUntil":
        set_permission(c, accounts, action, grant(bob, 0, now + 10))
        chain.mine(timestamp=now + 60)
    elif denial == "revoked grant":
        set_permission(c, accounts, action, revoke(carol))
    elif denial == "disabled action":
        disabled = policy(c.action(action).name, enabled=False)
        c.executeAction(AMEND_CONSTITUTION, amend_params(disabled, [grant(alice)]), ref("d"), sender=alice)
    assert c.canExecute(action, caller) == expected

    before = snapshot_state(c, accounts, mock)
    assert c.executeAction.call(action, params, ref("denied"), sender=caller) == (False, 0)
    receipt = c.executeAction(action, params, ref("denied"), sender=caller)
    assert event_names(receipt) == ["ActionDenied"]
    denied = receipt.events[0]
    assert (denied.ref, denied.action, denied.caller) == (ref("denied"), action, caller.address)
    assert denied.reason == expected
    assert snapshot_state(c, accounts, mock) == before


@pytest.mark.parametrize("name", list(BUILTINS))
def test_stranger_builtin_reverts_and_changes_nothing(direct, mock, accounts, name):
    """Finding 11: a non-member's call is reverted (no ActionDenied mined for free); it would
    have been denied with an event before."""
    c, stranger = direct, accounts[9]
    action, params = scenario(name, c, accounts)
    assert c.canExecute(action, stranger) == DenyReason.NOT_MEMBER
    before = snapshot_state(c, accounts, mock)
    with reverts_with("ConstitutionNotMember", account=stranger.address):
        c.executeAction(action, params, ref("denied"), sender=stranger)
    assert snapshot_state(c, accounts, mock) == before


def test_unknown_action_is_denied(direct, accounts):
    receipt = direct.executeAction(action_id("nope"), b"", ref("x"), sender=accounts[1])
    assert event_names(receipt) == ["ActionDenied"]
    assert receipt.events[0].reason == DenyReason.UNKNOWN_ACTION


def test_internal_action_called_by_a_member_is_denied(direct, mock, accounts):
    c, alice = direct, accounts[1]
    assert c.executeAction.call(INTERNAL_RECORD, uint_params(1), ref("i"), sender=alice) == (
        False,
        0,
    )
    receipt = c.executeAction(INTERNAL_RECORD, uint_params(1), ref("i"), sender=alice)
    assert event_names(receipt) == ["ActionDenied"]
    assert receipt.events[0].reason == DenyReason.INTERNAL_ACTION
    assert mock.lastCaller() == "0x" + "00" * 20


def test_validity_window_bounds_are_inclusive(direct, accounts, chain):
    c, alice, bob = direct, accounts[1], accounts[2]
    start = chain.blocks.head.timestamp + 100
    window = [grant(bob, start, start + 50)]
    c.executeAction(UPDATE_PERMISSIONS, update_params(REFRESH_TRUST_KEYS, window), ref("w"), sender=alice)
    outcomes = {}
    for at in (start - 1, start, start + 50, start + 51):
        chain.pending_timestamp = at
        receipt = c.executeAction(REFRESH_TRUST_KEYS, refresh_params(trust_key(at)), ref("k"), sender=bob)
        outcomes[at - start] = event_names(receipt)[-1]
    assert outcomes == {
        -1: "ActionDenied",
        0: "ActionExecuted",
        50: "ActionExecuted",
        51: "ActionDenied",
    }


# --------------------------------------------------------------------------------------------
# Business failures revert with the built-in's custom error
# --------------------------------------------------------------------------------------------


def test_refreshing_to_a_zero_key_reverts(direct, accounts):
    with reverts_with("ConstitutionInvalidTrustKey"):
        direct.executeAction(REFRESH_TRUST_KEYS, refresh_params(b"\x00" * 32), ref("z"), sender=accounts[1])


def test_adding_an_existing_member_reverts(direct, accounts):
    bob = accounts[2]
    with reverts_with("ConstitutionMemberExists", account=bob.address):
        direct.executeAction(
            ADD_MEMBER, add_member_params(bob, trust_key(5), "Bob again"), ref("a"), sender=accounts[1]
        )


def test_suspending_a_stranger_or_twice_reverts(direct, accounts):
    c, alice, bob = direct, accounts[1], accounts[2]
    with reverts_with("ConstitutionNotMember", account=accounts[9].address):
        c.executeAction(SUSPEND_MEMBER, suspend_params(accounts[9]), ref("s"), sender=alice)
    c.executeAction(SUSPEND_MEMBER, suspend_params(bob), ref("s"), sender=alice)
    with reverts_with("ConstitutionMemberSuspended", account=bob.address):
        c.executeAction(SUSPEND_MEMBER, suspend_params(bob), ref("s"), sender=alice)


def test_updatePermissions_cannot_touch_its_own_policy(direct, accounts):
    c, alice, bob = direct, accounts[1], accounts[2]
    with reverts_with("ConstitutionProtectedAction", action=UPDATE_PERMISSIONS):
        c.executeAction(UPDATE_PERMISSIONS, update_params(UPDATE_PERMISSIONS, [grant(bob)]), ref("u"), sender=alice)
    assert c.canExecute(UPDATE_PERMISSIONS, bob) == DenyReason.NO_PERMISSION


def test_amendConstitution_may_change_updatePermissions_policy(direct, accounts):
    c, alice, bob = direct, accounts[1], accounts[2]
    c.executeAction(AMEND_CONSTITUTION, amend_params(policy("updatePermissions"), [grant(bob)]), ref("a"), sender=alice)
    assert c.canExecute(UPDATE_PERMISSIONS, bob) == DenyReason.NONE
    assert c.canExecute(UPDATE_PERMISSIONS, alice) == DenyReason.NO_PERMISSION


def test_updatePermissions_rejects_an_unknown_action(direct, accounts):
    unknown = action_id("nope")
    with reverts_with("ConstitutionUnknownAction", action=unknown):
        direct.executeAction(
            UPDATE_PERMISSIONS, update_params(unknown, [grant(accounts[2])]), ref("u"), sender=accounts[1]
        )


def test_amendConstitution_cannot_replace_itself_without_a_vote_of_all(direct, accounts):
    c, alice = direct, accounts[1]
    with reverts_with("ConstitutionProtectedAction", action=AMEND_CONSTITUTION):
        c.executeAction(AMEND_CONSTITUTION, amend_params(policy("amendConstitution")), ref("self"), sender=alice)


def test_amendConstitution_validates_the_new_definition(direct, accounts):
    with reverts_with("ConstitutionInvalidModule", action=action_id("ghost")):
        direct.executeAction(
            AMEND_CONSTITUTION,
            amend_params(policy("ghost", module=accounts[5], selector_=b"\x01\x02\x03\x04")),
            ref("g"),
            sender=accounts[1],
        )


def test_amendConstitution_adds_a_new_action_with_its_permission_list(direct, mock, accounts):
    c, alice, bob = direct, accounts[1], accounts[2]
    new = policy("recordTwice", module=mock, selector_=selector("record(address,bytes32,bytes)"))
    receipt = c.executeAction(AMEND_CONSTITUTION, amend_params(new, [grant(bob)]), ref("n"), sender=alice)
    assert the_event(receipt, "ActionDefined").ref == ref("n")
    assert the_event(receipt, "PermissionSet").ref == ref("n")
    assert c.actionCount() == 11
    c.executeAction(action_id("recordTwice"), uint_params(3), ref("r"), sender=bob)
    assert mock.total() == 3
    assert mock.lastCaller() == bob.address
