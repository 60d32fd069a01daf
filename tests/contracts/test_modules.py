"""Dispatch to modules: what a module receives, failures bubbling up, internal actions, the
module base contract's guard, and reentrancy."""

from __future__ import annotations

from eth_abi import encode
from telcochain.constitution import Scope

from tests.support.encoding import (
    AMEND_CONSTITUTION,
    CALL_INTERNAL,
    FAIL,
    INTERNAL_RECORD,
    RECORD,
    REENTER,
    VOTE_FOR,
    amend_params,
    policy,
    ref,
    selector,
    uint_params,
    vote_params,
)
from tests.support.events import event_names, opened_id, reverts_with, the_event


def test_module_receives_original_caller_ref_and_params(constitution, module, alice):
    receipt = constitution.executeAction(RECORD, uint_params(42), ref("order-1"), sender=alice)
    recorded = the_event(receipt, "Recorded")
    assert (recorded.caller, recorded.ref, recorded.value) == (alice.address, ref("order-1"), 42)
    assert (module.calls(), module.total(), module.lastCaller()) == (1, 42, alice.address)
    assert event_names(receipt) == ["Recorded", "ActionExecuted"]
    executed = the_event(receipt, "ActionExecuted")
    assert (executed.ref, executed.action, executed.caller, executed.proposalId) == (
        ref("order-1"),
        RECORD,
        alice.address,
        0,
    )


def test_module_business_failure_reverts_the_whole_call_with_its_error(constitution, module, alice):
    with reverts_with("MockModuleFailed", code=7):
        constitution.executeAction(FAIL, uint_params(7), ref("f"), sender=alice)
    assert module.calls() == 0


def test_calling_a_module_directly_is_rejected(module, alice):
    with reverts_with("ModuleUnauthorizedCaller", caller=alice.address):
        module.record(alice, ref("x"), uint_params(1), sender=alice)
    assert module.calls() == 0


def test_module_knows_its_constitution(constitution, module):
    assert module.CONSTITUTION() == constitution.address


def test_internal_action_runs_for_the_original_caller_and_returns_data(constitution, module, alice):
    params = encode(["bytes32", "bytes"], [INTERNAL_RECORD, uint_params(21)])
    receipt = constitution.executeAction(CALL_INTERNAL, params, ref("c"), sender=alice)
    internal = the_event(receipt, "InternalRecorded")
    assert (internal.caller, internal.ref, internal.value) == (alice.address, ref("c"), 21)
    assert module.lastInternalResult() == uint_params(42)
    executed = [log for log in receipt.events if log.event_name == "ActionExecuted"]
    assert [e.action for e in executed] == [INTERNAL_RECORD, CALL_INTERNAL]
    assert all(e.caller == alice.address for e in executed)


def test_internal_action_cannot_invoke_a_public_action(constitution, module, alice):
    params = encode(["bytes32", "bytes"], [RECORD, uint_params(1)])
    with reverts_with("ConstitutionNotInternalAction", action=RECORD):
        constitution.executeAction(CALL_INTERNAL, params, ref("c"), sender=alice)
    assert module.calls() == 0


def test_executeInternal_from_outside_an_execution_is_rejected(constitution, alice):
    with reverts_with("ConstitutionUnauthorizedModule", caller=alice.address):
        constitution.executeInternal(INTERNAL_RECORD, ref("x"), uint_params(1), sender=alice)


def test_executeInternal_of_an_unknown_action_reverts(constitution, alice):
    unknown = b"\x01" * 32
    params = encode(["bytes32", "bytes"], [unknown, b""])
    with reverts_with("ConstitutionUnknownAction", action=unknown):
        constitution.executeAction(CALL_INTERNAL, params, ref("c"), sender=alice)


def test_disabled_internal_action_cannot_run(constitution, module, alice, bob):
    disabled = policy(
        "internalRecord",
        scope=Scope.INTERNAL,
        module=module,
        selector_=selector("internalRecord(address,bytes32,bytes)"),
        enabled=False,
    )
    # amendConstitution needs a majority of All: alice proposes, bob's vote executes it.
    pid = opened_id(constitution.executeAction(AMEND_CONSTITUTION, amend_params(disabled), ref("a"), sender=alice))
    constitution.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=bob)
    assert constitution.action(INTERNAL_RECORD).enabled is False
    params = encode(["bytes32", "bytes"], [INTERNAL_RECORD, uint_params(1)])
    with reverts_with("ConstitutionActionDisabled", action=INTERNAL_RECORD):
        constitution.executeAction(CALL_INTERNAL, params, ref("c"), sender=alice)


def test_module_cannot_reenter_executeAction(constitution, module, alice):
    params = encode(["bytes32", "bytes"], [RECORD, uint_params(1)])
    with reverts_with("ConstitutionReentrantCall"):
        constitution.executeAction(REENTER, params, ref("r"), sender=alice)
    assert module.calls() == 0


def test_executeActionAs_is_reserved_to_the_constitution(constitution, alice):
    with reverts_with("ConstitutionUnauthorizedCaller", caller=alice.address):
        constitution.executeActionAs(alice, RECORD, uint_params(1), ref("x"), sender=alice)


def test_a_grant_on_one_module_action_does_not_open_another(constitution, module, bob):
    # bob holds record but not fail
    receipt = constitution.executeAction(FAIL, uint_params(1), ref("f"), sender=bob)
    assert event_names(receipt) == ["ActionDenied"]
    constitution.executeAction(RECORD, uint_params(1), ref("r"), sender=bob)
    assert module.lastCaller() == bob.address
    assert tuple(constitution.permission(FAIL, bob)) == (False, 0, 0)
