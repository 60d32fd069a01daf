"""Deployment defaults, the genesis phase, and the rules every action definition obeys."""

from __future__ import annotations

import pytest
from telcochain.constitution import DenyReason, MemberStatus, Scope, Voters

from tests.support.encoding import (
    ADD_MEMBER,
    AMEND_CONSTITUTION,
    BUILTINS,
    DEFAULT_VOTING_PERIOD,
    RECORD,
    REFRESH_TRUST_KEYS,
    SUSPEND_MEMBER,
    UPDATE_PERMISSIONS,
    VOTE_FOR,
    ZERO_ADDRESS,
    action_id,
    grant,
    policy,
    policy_view,
    revoke,
    selector,
    trust_key,
)
from tests.support.events import event_names, events, reverts_with, the_event

RECORD_SELECTOR = selector("record(address,bytes32,bytes)")


@pytest.fixture(scope="module")
def module(project, deployer, genesis_constitution):
    """A MockModule of ``genesis_constitution`` (whose genesis these tests run by hand)."""
    return project.MockModule.deploy(genesis_constitution.address, sender=deployer)


def record_policy(module, **kwargs):
    return policy("record", module=module, selector_=RECORD_SELECTOR, **kwargs)


# --------------------------------------------------------------------------------------------
# Constructor
# --------------------------------------------------------------------------------------------


def test_constructor_admits_founders_as_active_members(genesis_constitution, alice, bob, carol):
    c = genesis_constitution
    assert c.memberCount() == 3
    assert c.activeMemberCount() == 3
    page = c.members(0, 10)
    assert [m.account for m in page] == [alice.address, bob.address, carol.address]
    member = c.getMember(bob)
    assert member.status == MemberStatus.ACTIVE
    assert member.trustKey == trust_key(2)
    assert member.name == "Bob Networks"
    assert member.joinedAt > 0
    assert c.isActiveMember(carol)


def test_members_paginates_and_stops_at_the_end(genesis_constitution, carol):
    c = genesis_constitution
    assert [m.account for m in c.members(2, 5)] == [carol.address]
    assert c.members(3, 5) == []
    assert len(c.members(0, 2)) == 2


@pytest.mark.parametrize(
    "bad_founder, error",
    [
        ((ZERO_ADDRESS, trust_key(9), "Zero"), "ConstitutionInvalidMember"),
        (("ALICE", b"\x00" * 32, "No key"), "ConstitutionInvalidTrustKey"),
        (("ALICE", trust_key(9), ""), "ConstitutionInvalidName"),
        (("ALICE", trust_key(9), "x" * 65), "ConstitutionInvalidName"),
    ],
)
def test_constructor_rejects_invalid_founders(project, deployer, alice, bad_founder, error):
    account = alice.address if bad_founder[0] == "ALICE" else bad_founder[0]
    with reverts_with(error):
        project.Constitution.deploy([(account, *bad_founder[1:])], sender=deployer)


def test_constructor_rejects_a_founder_listed_twice(project, deployer, alice):
    founder = (alice.address, trust_key(1), "Alice")
    with reverts_with("ConstitutionMemberExists", account=alice.address):
        project.Constitution.deploy([founder, founder], sender=deployer)


def test_constructor_defines_the_seven_builtins_with_documented_defaults(genesis_constitution):
    c = genesis_constitution
    assert c.actionCount() == 7
    ids, policies = c.actions(0, 10)
    assert list(ids) == list(BUILTINS.values())
    by_name = {p.name: p for p in map(policy_view, policies)}
    assert set(by_name) == set(BUILTINS)
    for name in ("addMember", "suspendMember", "reinstateMember", "amendConstitution", "updatePermissions"):
        p = by_name[name]
        assert (p.scope, p.module, p.enabled) == (Scope.PUBLIC, ZERO_ADDRESS, True)
        assert (p.voters, p.margin, p.votingPeriod) == (Voters.ALL, 0, DEFAULT_VOTING_PERIOD)
        assert p.voterList == [] and p.vetoList == [] and p.callers == []
    for name in ("refreshTrustKeys", "voteFor"):
        p = by_name[name]
        assert (p.voters, p.margin, p.votingPeriod) == (Voters.ANY, 0, 0)


def test_every_founder_holds_an_open_grant_on_every_builtin(genesis_constitution, alice, carol):
    c = genesis_constitution
    for action in BUILTINS.values():
        for founder in (alice, carol):
            assert tuple(c.permission(action, founder)) == (True, 0, 0)
            assert c.canExecute(action, founder) == DenyReason.NONE


def test_deployment_emits_definitions_and_grants(project, chain, deployer, founders):
    c = project.Constitution.deploy(founders, sender=deployer)
    receipt = chain.get_receipt(c.txn_hash)
    assert len(events(receipt, "MemberAdded")) == 3
    assert len(events(receipt, "ActionDefined")) == 7
    assert len(events(receipt, "PermissionSet")) == 21


def test_deployer_is_the_genesis_authority(genesis_constitution, deployer):
    assert genesis_constitution.genesisAuthority() == deployer.address


# --------------------------------------------------------------------------------------------
# Genesis phase
# --------------------------------------------------------------------------------------------


def test_genesis_define_action_registers_policy_and_permissions(genesis_constitution, module, deployer, alice, bob):
    c = genesis_constitution
    receipt = c.genesisDefineAction(record_policy(module), [grant(alice), grant(bob, 10, 20)], sender=deployer)
    defined = the_event(receipt, "ActionDefined")
    assert defined.action == RECORD
    assert defined.ref == b"\x00" * 32
    assert defined.policy[0] == "record"
    assert len(events(receipt, "PermissionSet")) == 2
    assert c.actionCount() == 8
    assert c.policyIdOf(RECORD) == 8
    view = c.action(RECORD)
    assert (view.name, view.module, view.selector) == ("record", module.address, RECORD_SELECTOR)
    assert tuple(c.permission(RECORD, bob)) == (True, 10, 20)
    ids, _ = c.actions(7, 10)
    assert list(ids) == [RECORD]


def test_genesis_set_permissions_may_change_updatePermissions_itself(genesis_constitution, deployer, alice):
    c = genesis_constitution
    receipt = c.genesisSetPermissions(UPDATE_PERMISSIONS, [revoke(alice)], sender=deployer)
    assert event_names(receipt) == ["PermissionSet"]
    assert c.canExecute(UPDATE_PERMISSIONS, alice) == DenyReason.NO_PERMISSION


def test_genesis_may_redefine_builtins(genesis_constitution, deployer, bob):
    c = genesis_constitution
    c.genesisDefineAction(policy("amendConstitution"), [grant(bob)], sender=deployer)
    assert c.action(AMEND_CONSTITUTION).voters == Voters.ANY
    assert c.actionCount() == 7


def test_genesis_set_permissions_rejects_unknown_action(genesis_constitution, deployer, alice):
    with reverts_with("ConstitutionUnknownAction", action=RECORD):
        genesis_constitution.genesisSetPermissions(RECORD, [grant(alice)], sender=deployer)


def test_only_the_deployer_may_run_genesis(genesis_constitution, module, alice):
    c = genesis_constitution
    with reverts_with("ConstitutionGenesisUnauthorized", caller=alice.address):
        c.genesisDefineAction(record_policy(module), [], sender=alice)
    with reverts_with("ConstitutionGenesisUnauthorized", caller=alice.address):
        c.genesisSetPermissions(ADD_MEMBER, [grant(alice)], sender=alice)
    with reverts_with("ConstitutionGenesisUnauthorized", caller=alice.address):
        c.sealGenesis(sender=alice)


def test_sealing_genesis_ends_it_for_good(genesis_constitution, module, deployer, alice):
    c = genesis_constitution
    receipt = c.sealGenesis(sender=deployer)
    assert the_event(receipt, "GenesisSealed").authority == deployer.address
    assert c.genesisAuthority() == ZERO_ADDRESS
    with reverts_with("ConstitutionGenesisSealed"):
        c.genesisDefineAction(record_policy(module), [], sender=deployer)
    with reverts_with("ConstitutionGenesisSealed"):
        c.genesisSetPermissions(ADD_MEMBER, [grant(alice)], sender=deployer)
    with reverts_with("ConstitutionGenesisSealed"):
        c.sealGenesis(sender=deployer)


# --------------------------------------------------------------------------------------------
# Definition rules (the same checks guard amendConstitution)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("builtin with a module", dict(name="addMember", module="MODULE")),
        ("builtin made internal", dict(name="voteFor", scope=Scope.INTERNAL)),
        ("action without module", dict(name="record", module=ZERO_ADDRESS)),
        ("module that is an EOA", dict(name="record", module="EOA")),
        ("module that is the Constitution", dict(name="record", module="SELF")),
        ("zero selector", dict(name="record", module="MODULE", selector_=b"\x00" * 4)),
    ],
)
def test_definition_rejects_an_invalid_module(genesis_constitution, module, deployer, alice, name, kwargs):
    c = genesis_constitution
    target = {"MODULE": module.address, "EOA": alice.address, "SELF": c.address}
    kwargs = dict(kwargs)
    action_name = kwargs.pop("name")
    mod = kwargs.pop("module", ZERO_ADDRESS)
    kwargs.setdefault("selector_", RECORD_SELECTOR if action_name == "record" else b"\x00" * 4)
    with reverts_with("ConstitutionInvalidModule", action=action_id(action_name)):
        c.genesisDefineAction(policy(action_name, module=target.get(mod, mod), **kwargs), [], sender=deployer)


@pytest.mark.parametrize("name", ["", "n" * 65])
def test_definition_rejects_an_invalid_name(genesis_constitution, deployer, name):
    with reverts_with("ConstitutionInvalidActionName"):
        genesis_constitution.genesisDefineAction(policy(name), [], sender=deployer)


@pytest.mark.parametrize(
    "case",
    [
        "any with margin 2",
        "any with voter list",
        "any with veto list",
        "specific without voters",
        "all with voter list",
        "vote without period",
        "internal action put to a vote",
        "voteFor put to a vote",
        "duplicate voter",
        "veto outside specific list",
        "duplicate vetoer",
        "zero voter",
    ],
)
def test_definition_rejects_an_invalid_voting_schema(genesis_constitution, module, deployer, alice, bob, carol, case):
    name, mod, sel = "record", module, RECORD_SELECTOR
    kw: dict = dict(voters=Voters.SPECIFIC, period=60, voter_list=[alice, bob])
    if case == "any with margin 2":
        kw = dict(voters=Voters.ANY, margin=2)
    elif case == "any with voter list":
        kw = dict(voters=Voters.ANY, voter_list=[alice])
    elif case == "any with veto list":
        kw = dict(voters=Voters.ANY, veto_list=[alice])
    elif case == "specific without voters":
        kw = dict(voters=Voters.SPECIFIC, period=60)
    elif case == "all with voter list":
        kw = dict(voters=Voters.ALL, period=60, voter_list=[alice])
    elif case == "vote without period":
        kw = dict(voters=Voters.ALL, period=0)
    elif case == "internal action put to a vote":
        kw = dict(voters=Voters.ALL, period=60, scope=Scope.INTERNAL)
    elif case == "voteFor put to a vote":
        name, mod, sel = "voteFor", ZERO_ADDRESS, b"\x00" * 4
        kw = dict(voters=Voters.ALL, period=60)
    elif case == "duplicate voter":
        kw["voter_list"] = [alice, alice]
    elif case == "veto outside specific list":
        kw["veto_list"] = [carol]
    elif case == "duplicate vetoer":
        kw["veto_list"] = [bob, bob]
    elif case == "zero voter":
        kw["voter_list"] = [alice, ZERO_ADDRESS]
    with reverts_with("ConstitutionInvalidVoting", action=action_id(name)):
        genesis_constitution.genesisDefineAction(policy(name, module=mod, selector_=sel, **kw), [], sender=deployer)


def test_definition_accepts_at_most_32_voters(genesis_constitution, module, deployer):
    voters = [f"0x{i:040x}" for i in range(1, 34)]
    with reverts_with("ConstitutionTooManyVoters", count=33, max=32):
        genesis_constitution.genesisDefineAction(
            record_policy(module, voters=Voters.SPECIFIC, period=60, voter_list=voters),
            [],
            sender=deployer,
        )
    genesis_constitution.genesisDefineAction(
        record_policy(module, voters=Voters.SPECIFIC, period=60, voter_list=voters[:32]),
        [],
        sender=deployer,
    )
    assert len(genesis_constitution.action(RECORD).voterList) == 32


@pytest.mark.parametrize("entry", [(ZERO_ADDRESS, True, 0, 0), ("ALICE", True, 20, 10)])
def test_permission_entries_must_be_valid(genesis_constitution, deployer, alice, entry):
    account = alice.address if entry[0] == "ALICE" else entry[0]
    with reverts_with("ConstitutionInvalidPermission", account=account):
        genesis_constitution.genesisSetPermissions(REFRESH_TRUST_KEYS, [(account, *entry[1:])], sender=deployer)


def test_redefining_an_action_voids_its_permissions_and_keeps_its_place(genesis_constitution, module, deployer, alice):
    c = genesis_constitution
    c.genesisDefineAction(record_policy(module), [grant(alice)], sender=deployer)
    first = c.policyIdOf(RECORD)
    c.genesisDefineAction(record_policy(module, enabled=False), [], sender=deployer)
    assert c.policyIdOf(RECORD) == first + 1
    assert tuple(c.permission(RECORD, alice)) == (False, 0, 0)
    assert c.actionCount() == 8
    assert c.action(RECORD).enabled is False
    assert c.canExecute(RECORD, alice) == DenyReason.ACTION_DISABLED


def test_specific_schema_and_veto_list_are_stored(genesis_constitution, module, deployer, alice, bob):
    c = genesis_constitution
    c.genesisDefineAction(
        record_policy(
            module,
            voters=Voters.SPECIFIC,
            margin=2,
            period=3600,
            voter_list=[alice, bob],
            veto_list=[bob],
        ),
        [],
        sender=deployer,
    )
    view = c.action(RECORD)
    assert (view.voters, view.margin, view.votingPeriod) == (Voters.SPECIFIC, 2, 3600)
    assert view.voterList == [alice.address, bob.address]
    assert view.vetoList == [bob.address]


def test_unknown_action_views_are_empty(genesis_constitution, alice):
    c = genesis_constitution
    unknown = action_id("nope")
    assert c.action(unknown).name == ""
    assert c.policyIdOf(unknown) == 0
    assert c.canExecute(unknown, alice) == DenyReason.UNKNOWN_ACTION
    assert c.canExecute(SUSPEND_MEMBER, "0x" + "ab" * 20) == DenyReason.NOT_MEMBER
    assert c.canExecute(VOTE_FOR, alice) == DenyReason.NONE
