"""The governance built-ins under their deployment defaults (a majority vote of All active
members), the protection of updatePermissions and amendConstitution, and member lifecycle."""

from __future__ import annotations

from telcochain.constitution import DenyReason, MemberStatus, ProposalStatus, Voters

from tests.support.encoding import (
    ADD_MEMBER,
    AMEND_CONSTITUTION,
    RECORD,
    REFRESH_TRUST_KEYS,
    SUSPEND_MEMBER,
    UPDATE_PERMISSIONS,
    VOTE_FOR,
    add_member_params,
    amend_params,
    grant,
    policy,
    ref,
    refresh_params,
    suspend_params,
    trust_key,
    uint_params,
    update_params,
    vote_params,
)
from tests.support.events import event_names, opened_id, reverts_with, the_event


def test_adding_a_member_takes_a_majority_of_all_members(constitution, alice, bob, dave):
    c = constitution
    params = add_member_params(dave, trust_key(4), "Dave Supplies")
    receipt = c.executeAction(ADD_MEMBER, params, ref("join"), sender=alice)
    pid = opened_id(receipt)
    assert (c.proposal(pid).voterCount, c.proposal(pid).required) == (3, 2)
    assert c.getMember(dave).status == MemberStatus.NONE
    receipt = c.executeAction(VOTE_FOR, vote_params(pid, True), ref("yes"), sender=bob)
    added = the_event(receipt, "MemberAdded")
    assert (added.account, added.ref, added.name) == (dave.address, ref("join"), "Dave Supplies")
    assert c.getMember(dave).status == MemberStatus.ACTIVE


def test_a_new_member_can_refresh_its_trust_key_at_once(constitution, alice, bob, dave):
    c = constitution
    pid = opened_id(c.executeAction(ADD_MEMBER, add_member_params(dave, trust_key(4), "Dave"), ref("j"), sender=alice))
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=bob)
    receipt = c.executeAction(REFRESH_TRUST_KEYS, refresh_params(trust_key(40)), ref("k"), sender=dave)
    refreshed = the_event(receipt, "TrustKeyRefreshed")
    assert (refreshed.account, refreshed.ref, refreshed.trustKey) == (dave.address, ref("k"), trust_key(40))
    assert c.getMember(dave).trustKey == trust_key(40)


def test_a_suspended_member_is_refused_everything(constitution, alice, bob, carol):
    c = constitution
    pid = opened_id(c.executeAction(SUSPEND_MEMBER, suspend_params(carol), ref("s"), sender=alice))
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=bob)
    assert c.getMember(carol).status == MemberStatus.SUSPENDED
    assert not c.isActiveMember(carol)
    assert c.activeMemberCount() == 2
    for action in (REFRESH_TRUST_KEYS, VOTE_FOR, ADD_MEMBER):
        assert c.canExecute(action, carol) == DenyReason.MEMBER_SUSPENDED
    receipt = c.executeAction(REFRESH_TRUST_KEYS, refresh_params(trust_key(9)), ref("k"), sender=carol)
    assert event_names(receipt) == ["ActionDenied"]


def test_updatePermissions_by_vote_grants_a_module_action(constitution, module, alice, bob, carol):
    c = constitution
    params = update_params(RECORD, [grant(carol)])
    pid = opened_id(c.executeAction(UPDATE_PERMISSIONS, params, ref("u"), sender=alice))
    assert c.canExecute(RECORD, carol) == DenyReason.NO_PERMISSION
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=bob)
    c.executeAction(RECORD, uint_params(1), ref("r"), sender=carol)
    assert module.lastCaller() == carol.address


def test_updatePermissions_targeting_itself_is_refused_when_proposed(constitution, alice, bob):
    c = constitution
    params = update_params(UPDATE_PERMISSIONS, [grant(bob, 0, 1)])
    with reverts_with("ConstitutionProtectedAction", action=UPDATE_PERMISSIONS):
        c.executeAction(UPDATE_PERMISSIONS, params, ref("u"), sender=alice)
    assert c.proposalCount() == 0


def test_only_amendConstitution_changes_updatePermissions(constitution, alice, bob, carol):
    c = constitution
    new = policy("updatePermissions", voters=Voters.ANY)
    pid = opened_id(c.executeAction(AMEND_CONSTITUTION, amend_params(new, [grant(carol)]), ref("a"), sender=alice))
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=bob)
    assert c.action(UPDATE_PERMISSIONS).voters == Voters.ANY
    assert c.canExecute(UPDATE_PERMISSIONS, carol) == DenyReason.NONE
    assert c.canExecute(UPDATE_PERMISSIONS, alice) == DenyReason.NO_PERMISSION


def test_amendConstitution_replaces_itself_only_with_every_member_approving(constitution, alice, bob, carol):
    c = constitution
    new = policy("amendConstitution", voters=Voters.ANY)
    pid = opened_id(c.executeAction(AMEND_CONSTITUTION, amend_params(new, [grant(alice)]), ref("self"), sender=alice))
    # the default margin is a majority (2 of 3), but self-amendment needs all three
    assert c.proposal(pid).required == 3
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=bob)
    assert c.proposal(pid).status == ProposalStatus.OPEN
    assert c.action(AMEND_CONSTITUTION).voters == Voters.ALL
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=carol)
    assert c.proposal(pid).status == ProposalStatus.EXECUTED
    assert c.action(AMEND_CONSTITUTION).voters == Voters.ANY
    assert c.canExecute(AMEND_CONSTITUTION, bob) == DenyReason.NO_PERMISSION


def test_amendConstitution_under_a_specific_vote_cannot_replace_itself(project, deployer, founders, alice, bob):
    c = project.Constitution.deploy(founders, sender=deployer)
    c.genesisDefineAction(
        policy("amendConstitution", voters=Voters.SPECIFIC, margin=2, period=60, voter_list=[alice, bob]),
        [grant(alice)],
        sender=deployer,
    )
    c.sealGenesis(sender=deployer)
    with reverts_with("ConstitutionProtectedAction", action=AMEND_CONSTITUTION):
        c.executeAction(AMEND_CONSTITUTION, amend_params(policy("amendConstitution")), ref("s"), sender=alice)
    assert c.proposalCount() == 0


def test_a_governance_proposal_can_be_outvoted(constitution, alice, bob, carol, dave):
    c = constitution
    pid = opened_id(c.executeAction(ADD_MEMBER, add_member_params(dave, trust_key(4), "Dave"), ref("j"), sender=alice))
    c.executeAction(VOTE_FOR, vote_params(pid, False), ref("n"), sender=bob)
    assert c.proposal(pid).status == ProposalStatus.OPEN
    receipt = c.executeAction(VOTE_FOR, vote_params(pid, False), ref("n"), sender=carol)
    assert "ProposalRejected" in event_names(receipt)
    assert c.getMember(dave).status == MemberStatus.NONE
