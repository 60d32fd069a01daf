"""Regression tests for the governance findings of issue 12 ("Integrity"), one per finding, each
of which failed on the Constitution before wave 2 (see the docstrings), plus the access matrix
of the new rules from every role: outsider, member without grant, suspended member, rogue
admitted module.

The ``gov`` Constitution has four founders (alice, bob, carol, dave; built-ins at their
defaults: All, majority, 7 days) and two mock modules: ``module`` implements record,
callInternal and the Internal action internalRecord (callers: ``module`` only); ``rogue`` is
admitted for one Public action, rogueCall (its callInternal), and is listed nowhere else.
recordUnanimous is a module action voted by All with margin ``all``.
"""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from telcochain.constitution import DenyReason, MemberStatus, ProposalStatus, Scope, Voters

from tests.support.encoding import (
    ADD_MEMBER,
    AMEND_CONSTITUTION,
    DAY,
    INTERNAL_RECORD,
    RECORD,
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
    selector,
    suspend_params,
    trust_key,
    uint_params,
    update_params,
    vote_params,
)
from tests.support.events import event_names, events, opened_id, reverts_with, the_event

RECORD_UNANIMOUS = action_id("recordUnanimous")
CALL_INTERNAL = action_id("callInternal")
ROGUE_CALL = action_id("rogueCall")
RECORD_SEL = selector("record(address,bytes32,bytes)")
CALL_INTERNAL_SEL = selector("callInternal(address,bytes32,bytes)")
INTERNAL_SEL = selector("internalRecord(address,bytes32,bytes)")
MAX_PROPOSAL_PARAMS = 8192


@pytest.fixture(scope="module")
def cast(accounts):
    """alice, bob, carol, dave (founders), erin (candidate), stranger."""
    return tuple(accounts[i] for i in (1, 2, 3, 4, 5, 9))


@pytest.fixture(scope="module")
def gov(project, deployer, cast):
    alice = cast[0]
    names = ("Alice Telecom", "Acme Networks", "Carol Devices", "Dave Supplies")
    founders = [(a.address, trust_key(i), n) for i, (a, n) in enumerate(zip(cast[:4], names, strict=True))]
    c = project.Constitution.deploy(founders, sender=deployer)
    module = project.MockModule.deploy(c.address, sender=deployer)
    rogue = project.MockModule.deploy(c.address, sender=deployer)
    everyone = [grant(a) for a in cast[:4]]
    c.genesisDefineAction(policy("record", module=module, selector_=RECORD_SEL), everyone, sender=deployer)
    c.genesisDefineAction(
        policy("callInternal", module=module, selector_=CALL_INTERNAL_SEL), [grant(alice)], sender=deployer
    )
    c.genesisDefineAction(policy("rogueCall", module=rogue, selector_=CALL_INTERNAL_SEL), everyone, sender=deployer)
    c.genesisDefineAction(
        policy("internalRecord", scope=Scope.INTERNAL, module=module, selector_=INTERNAL_SEL, callers=[module]),
        [],
        sender=deployer,
    )
    c.genesisDefineAction(
        policy("recordUnanimous", module=module, selector_=RECORD_SEL, voters=Voters.ALL, margin=255, period=DAY),
        everyone,
        sender=deployer,
    )
    c.sealGenesis(sender=deployer)
    return c


@pytest.fixture(scope="module")
def module(project, gov):
    return project.MockModule.at(gov.action(RECORD).module)


@pytest.fixture(scope="module")
def rogue(project, gov):
    return project.MockModule.at(gov.action(ROGUE_CALL).module)


def decide(c, action, params, proposer, *voters, label="gov"):
    """A built-in proposal (All, majority) opened by ``proposer`` and approved by ``voters``."""
    pid = opened_id(c.executeAction(action, params, ref(label), sender=proposer))
    for voter in voters:
        c.executeAction(VOTE_FOR, vote_params(pid, True), ref(f"{label}-v"), sender=voter)
    assert c.proposal(pid).status == ProposalStatus.EXECUTED
    return pid


def code_hash(chain, address) -> bytes:
    return keccak(bytes(chain.provider.web3.eth.get_code(address)))


# --------------------------------------------------------------------------------------------
# Finding 7: governance
# --------------------------------------------------------------------------------------------


def test_a_unanimous_proposal_rejected_by_one_member_cannot_pass_by_suspending_it(gov, module, cast):
    """Before: the majority suspended dave, re-proposed, and the quorum base (active members)
    no longer counted him: three approvals passed the "unanimous" vote."""
    alice, bob, carol, dave, _, _ = cast
    first = opened_id(gov.executeAction(RECORD_UNANIMOUS, uint_params(7), ref("u1"), sender=alice))
    gov.executeAction(VOTE_FOR, vote_params(first, False), ref("no"), sender=dave)
    assert gov.proposal(first).status == ProposalStatus.REJECTED

    decide(gov, SUSPEND_MEMBER, suspend_params(dave), alice, bob, carol)
    assert gov.getMember(dave).status == MemberStatus.SUSPENDED

    again = opened_id(gov.executeAction(RECORD_UNANIMOUS, uint_params(7), ref("u2"), sender=alice))
    view = gov.proposal(again)
    assert (view.voterCount, view.required) == (4, 4)  # every member admitted, suspended included
    assert gov.isUnanimous(again) and gov.isVoter(again, dave)
    for voter in (bob, carol):
        gov.executeAction(VOTE_FOR, vote_params(again, True), ref("yes"), sender=voter)
    assert gov.proposal(again).status == ProposalStatus.OPEN
    assert module.calls() == 0
    # the suspended dissenter keeps its voice on this vote, and uses it
    receipt = gov.executeAction(VOTE_FOR, vote_params(again, False), ref("still-no"), sender=dave)
    assert the_event(receipt, "ProposalRejected").proposalId == again
    assert module.calls() == 0


def test_a_suspended_member_votes_only_on_unanimous_proposals(gov, cast):
    alice, bob, carol, dave, _, _ = cast
    decide(gov, SUSPEND_MEMBER, suspend_params(dave), alice, bob, carol)
    majority = opened_id(
        gov.executeAction(ADD_MEMBER, add_member_params(cast[4], trust_key(9), "Erin"), ref("e"), sender=alice)
    )
    assert not gov.isVoter(majority, dave)
    receipt = gov.executeAction(VOTE_FOR, vote_params(majority, True), ref("d"), sender=dave)
    assert [e.reason for e in events(receipt, "ActionDenied")] == [DenyReason.MEMBER_SUSPENDED]
    assert gov.proposal(majority).approvals == 1


def test_suspension_can_be_undone_by_reinstateMember(gov, module, cast):
    """Before: there was no reinstateMember action (denied UnknownAction): suspension was final."""
    alice, bob, carol, dave, _, _ = cast
    decide(gov, SUSPEND_MEMBER, suspend_params(dave), alice, bob, carol)
    assert gov.canExecute(RECORD, dave) == DenyReason.MEMBER_SUSPENDED
    pid = decide(gov, REINSTATE_MEMBER, suspend_params(dave), alice, bob, label="back")  # 2 of 3 active
    assert gov.proposal(pid).action == REINSTATE_MEMBER
    assert gov.getMember(dave).status == MemberStatus.ACTIVE
    assert gov.activeMemberCount() == 4
    gov.executeAction(RECORD, uint_params(5), ref("r"), sender=dave)  # its grants stand again
    assert module.lastCaller() == dave.address


@pytest.mark.parametrize(
    "target, error",
    [("alice", "ConstitutionMemberNotSuspended"), ("stranger", "ConstitutionNotMember")],
)
def test_reinstating_an_active_member_or_a_stranger_is_refused_when_proposed(gov, cast, target, error):
    alice, stranger = cast[0], cast[5]
    account = {"alice": alice, "stranger": stranger}[target]
    with reverts_with(error, account=account.address):
        gov.executeAction(REINSTATE_MEMBER, suspend_params(account), ref("r"), sender=alice)
    assert gov.proposalCount() == 0


def test_garbage_proposal_params_are_refused_when_proposed(gov, cast):
    """Before: 24 KiB of garbage opened a proposal, stored forever and never executable."""
    alice = cast[0]
    garbage = bytes(range(256)) * 96  # 24 KiB
    with reverts_with("ConstitutionParamsTooLong", action=RECORD_UNANIMOUS, length=len(garbage)):
        gov.executeAction(RECORD_UNANIMOUS, garbage, ref("g"), sender=alice)
    valid = add_member_params(cast[4], trust_key(9), "Erin")
    with reverts_with("ConstitutionInvalidParams", action=ADD_MEMBER):  # a valid prefix + garbage
        gov.executeAction(ADD_MEMBER, valid + b"\x01" * 64, ref("g"), sender=alice)
    with reverts_with("ConstitutionInvalidParams", action=SUSPEND_MEMBER):
        gov.executeAction(SUSPEND_MEMBER, suspend_params(cast[3]) + b"\x00" * 32, ref("g"), sender=alice)
    assert gov.proposalCount() == 0


@pytest.mark.parametrize(
    "case, error",
    [
        ("add an existing member", "ConstitutionMemberExists"),
        ("add the zero address", "ConstitutionInvalidMember"),
        ("add with a zero key", "ConstitutionInvalidTrustKey"),
        ("suspend a stranger", "ConstitutionNotMember"),
        ("grant on an unknown action", "ConstitutionUnknownAction"),
        ("grant with a reversed window", "ConstitutionInvalidPermission"),
        ("amend with a broken definition", "ConstitutionInvalidVoting"),
        ("updatePermissions on itself", "ConstitutionProtectedAction"),
    ],
)
def test_a_proposal_that_could_never_execute_is_never_opened(gov, cast, case, error):
    """Before: each of these opened a proposal that reverted at its last vote."""
    alice, bob, _, _, erin, stranger = cast
    action, params = {
        "add an existing member": (ADD_MEMBER, add_member_params(bob, trust_key(9), "Bob again")),
        "add the zero address": (ADD_MEMBER, add_member_params("0x" + "00" * 20, trust_key(9), "Nobody")),
        "add with a zero key": (ADD_MEMBER, add_member_params(erin, b"\x00" * 32, "Erin")),
        "suspend a stranger": (SUSPEND_MEMBER, suspend_params(stranger)),
        "grant on an unknown action": (UPDATE_PERMISSIONS, update_params(action_id("nope"), [grant(bob)])),
        "grant with a reversed window": (UPDATE_PERMISSIONS, update_params(RECORD, [grant(bob, 20, 10)])),
        "amend with a broken definition": (
            AMEND_CONSTITUTION,
            amend_params(policy("record", module=gov.action(RECORD).module, selector_=RECORD_SEL, voters=Voters.ALL)),
        ),
        "updatePermissions on itself": (UPDATE_PERMISSIONS, update_params(UPDATE_PERMISSIONS, [grant(bob)])),
    }[case]
    with reverts_with(error):
        gov.executeAction(action, params, ref("p"), sender=alice)
    assert gov.proposalCount() == 0


@pytest.mark.parametrize("name", ["ACME NETWORKS", "acme networks", "Acme networks"])
def test_member_names_are_unique_case_insensitively(gov, cast, name):
    """Before: "ACME NETWORKS" was admitted next to "Acme Networks"."""
    alice, bob, erin = cast[0], cast[1], cast[4]
    with reverts_with("ConstitutionNameTaken", name=name, holder=bob.address):
        gov.executeAction(ADD_MEMBER, add_member_params(erin, trust_key(9), name), ref("n"), sender=alice)
    assert gov.proposalCount() == 0


@pytest.mark.parametrize(
    "name",
    ["", "x" * 65, " Erin", "Erin ", "Erin  Mobile", "Erin\nMobile", "Erin\x00", "Erin\x7f", "Erin\u0085"],
)
def test_invalid_member_names_are_refused_when_proposed(gov, cast, name):
    alice, erin = cast[0], cast[4]
    with reverts_with("ConstitutionInvalidName", name=name):
        gov.executeAction(ADD_MEMBER, add_member_params(erin, trust_key(9), name), ref("n"), sender=alice)


def test_a_valid_unicode_name_is_admitted(gov, cast):
    alice, bob, carol, _, erin, _ = cast
    decide(gov, ADD_MEMBER, add_member_params(erin, trust_key(9), "Télécom Érin"), alice, bob, carol)
    assert gov.getMember(erin).name == "Télécom Érin"


def test_founders_names_must_differ_too(project, deployer, cast):
    founders = [(cast[0].address, trust_key(1), "Acme"), (cast[1].address, trust_key(2), "ACME")]
    with reverts_with("ConstitutionNameTaken", name="ACME", holder=cast[0].address):
        project.Constitution.deploy(founders, sender=deployer)


# --------------------------------------------------------------------------------------------
# Finding 9: modules get capabilities, and votes approve code
# --------------------------------------------------------------------------------------------


def test_an_admitted_module_cannot_call_an_internal_action_it_is_not_listed_for(gov, module, rogue, cast):
    """Before: any admitted module could call every Internal action of every module."""
    alice = cast[0]
    params = encode(["bytes32", "bytes"], [INTERNAL_RECORD, uint_params(3)])
    with reverts_with("ConstitutionModuleNotAllowed", action=INTERNAL_RECORD, module=rogue.address):
        gov.executeAction(ROGUE_CALL, params, ref("rogue"), sender=alice)
    assert module.lastCaller() == "0x" + "00" * 20
    # the listed caller still may
    receipt = gov.executeAction(CALL_INTERNAL, params, ref("ok"), sender=alice)
    assert the_event(receipt, "InternalRecorded").value == 3


def test_executeInternal_is_refused_to_every_role_outside_a_module_frame(gov, module, cast):
    alice, _, _, dave, _, stranger = cast
    for who in (stranger, alice, dave):
        with reverts_with("ConstitutionUnauthorizedModule", caller=who.address):
            gov.executeInternal(INTERNAL_RECORD, ref("x"), uint_params(1), sender=who)


def test_callers_can_change_only_by_amendConstitution(gov, module, rogue, cast):
    alice, bob, carol = cast[:3]
    internal = policy(
        "internalRecord", scope=Scope.INTERNAL, module=module, selector_=INTERNAL_SEL, callers=[module, rogue]
    )
    decide(gov, AMEND_CONSTITUTION, amend_params(internal), alice, bob, carol)
    assert gov.action(INTERNAL_RECORD).callers == [module.address, rogue.address]
    params = encode(["bytes32", "bytes"], [INTERNAL_RECORD, uint_params(4)])
    receipt = gov.executeAction(ROGUE_CALL, params, ref("now-allowed"), sender=alice)
    assert the_event(receipt, "InternalRecorded").caller == alice.address


@pytest.mark.parametrize("case", ["public action", "an account without code", "the constitution", "twice"])
def test_invalid_callers_are_refused(gov, module, cast, case):
    alice = cast[0]
    scope, callers, bad = {
        "public action": (Scope.PUBLIC, [module.address], module.address),
        "an account without code": (Scope.INTERNAL, [cast[4].address], cast[4].address),
        "the constitution": (Scope.INTERNAL, [gov.address], gov.address),
        "twice": (Scope.INTERNAL, [module.address, module.address], module.address),
    }[case]
    bad_policy = policy("internalRecord", scope=scope, module=module, selector_=INTERNAL_SEL, callers=callers)
    with reverts_with("ConstitutionInvalidCaller", action=INTERNAL_RECORD, caller=bad):
        gov.executeAction(AMEND_CONSTITUTION, amend_params(bad_policy), ref("c"), sender=alice)


def test_admission_pins_the_module_code_hash(gov, module, rogue, chain):
    assert gov.pinnedCodeHash(RECORD) == code_hash(chain, module.address)[:28]
    assert gov.pinnedCodeHash(ROGUE_CALL) == code_hash(chain, rogue.address)[:28]
    assert gov.pinnedCodeHash(SUSPEND_MEMBER) == b"\x00" * 28  # a built-in has no module


def test_a_module_whose_code_changed_is_refused_everywhere(gov, module, cast, chain):
    """Before: a vote approved an address; the code behind it could change (on Berlin a
    metamorphic contract can SELFDESTRUCT and be re-created by CREATE2; anvil_setCode stands in)."""
    alice, bob, carol = cast[:3]
    pinned = gov.pinnedCodeHash(RECORD)
    pid = opened_id(gov.executeAction(RECORD_UNANIMOUS, uint_params(1), ref("before"), sender=alice))
    changed = bytes(chain.provider.web3.eth.get_code(module.address)) + b"\x00"
    chain.provider.set_code(module.address, changed)
    actual = keccak(changed)
    expected = dict(module=module.address, pinned=pinned, actual=actual)
    internal = dict(expected, pinned=gov.pinnedCodeHash(INTERNAL_RECORD))

    with reverts_with("ConstitutionModuleCodeChanged", **expected):  # executeAction
        gov.executeAction(RECORD, uint_params(1), ref("r"), sender=alice)
    outcome = gov.executeBatch.call([(RECORD, uint_params(1), ref("b"))], sender=alice)[0]  # executeBatch
    assert outcome.reverted and outcome.revertData[:4] == selector(
        "ConstitutionModuleCodeChanged(address,bytes28,bytes32)"
    )
    for voter in (bob, carol):  # proposal execution (the last vote reverts)
        gov.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=voter)
    with reverts_with("ConstitutionModuleCodeChanged", **expected):
        gov.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=cast[3])
    params = encode(["bytes32", "bytes"], [INTERNAL_RECORD, uint_params(1)])  # executeInternal
    with reverts_with("ConstitutionModuleCodeChanged", **internal):
        gov.executeAction(CALL_INTERNAL, params, ref("i"), sender=alice)
    with reverts_with("ConstitutionModuleCodeChanged", **expected):  # and a new proposal's dry run
        gov.executeAction(RECORD_UNANIMOUS, uint_params(2), ref("again"), sender=alice)

    # a vote re-admits the new code for that action (its new definition pins the code now there)
    readmit = policy("record", module=module, selector_=RECORD_SEL)
    pid = opened_id(
        gov.executeAction(AMEND_CONSTITUTION, amend_params(readmit, [grant(alice)]), ref("re"), sender=alice)
    )
    gov.executeAction(VOTE_FOR, vote_params(pid, True), ref("v1"), sender=bob)
    receipt = gov.executeAction(VOTE_FOR, vote_params(pid, True), ref("v2"), sender=carol)
    pinned_event = the_event(receipt, "ModulePinned")
    assert (pinned_event.action, pinned_event.module, pinned_event.codeHash) == (RECORD, module.address, actual[:28])
    assert gov.pinnedCodeHash(RECORD) == actual[:28]
    gov.executeAction(RECORD, uint_params(9), ref("after"), sender=alice)
    assert module.total() == 9
    with reverts_with("ConstitutionModuleCodeChanged", **internal):  # other actions: their own vote
        gov.executeAction(CALL_INTERNAL, params, ref("i2"), sender=alice)


# --------------------------------------------------------------------------------------------
# Finding 11 (governance part): outsiders are reverted cheaply, members stay on record
# --------------------------------------------------------------------------------------------


def test_each_role_calling_a_module_action(gov, module, cast):
    """outsider: reverted, nothing recorded; member without grant and suspended member: denied
    on record (ActionDenied); the permitted member: executed."""
    alice, bob, carol, dave, _, stranger = cast
    with reverts_with("ConstitutionNotMember", account=stranger.address):
        gov.executeAction(CALL_INTERNAL, b"", ref("o"), sender=stranger)
    receipt = gov.executeAction(CALL_INTERNAL, b"", ref("n"), sender=bob)
    assert event_names(receipt) == ["ActionDenied"] and receipt.events[0].reason == DenyReason.NO_PERMISSION
    decide(gov, SUSPEND_MEMBER, suspend_params(dave), alice, bob, carol)
    receipt = gov.executeAction(RECORD, uint_params(1), ref("s"), sender=dave)
    assert event_names(receipt) == ["ActionDenied"] and receipt.events[0].reason == DenyReason.MEMBER_SUSPENDED
    receipt = gov.executeAction(RECORD, uint_params(1), ref("ok"), sender=alice)
    assert event_names(receipt) == ["Recorded", "ActionExecuted"]
    assert module.calls() == 1


def test_simulateAction_is_reserved_to_the_constitution(gov, cast):
    alice = cast[0]
    with reverts_with("ConstitutionUnauthorizedCaller", caller=alice.address):
        gov.simulateAction(alice, RECORD, uint_params(1), ref("x"), sender=alice)


def test_params_up_to_the_bound_are_kept(gov, cast):
    alice = cast[0]
    assert gov.MAX_PROPOSAL_PARAMS() == MAX_PROPOSAL_PARAMS
    params = uint_params(5) + b"\x00" * (MAX_PROPOSAL_PARAMS - 32)  # record decodes the first word
    pid = opened_id(gov.executeAction(RECORD_UNANIMOUS, params, ref("big"), sender=alice))
    assert len(gov.proposal(pid).params) == MAX_PROPOSAL_PARAMS
