"""Every action has its own permission: a member without it is denied (no revert, the attempt
is on record, nothing changes); the Internal ``transition`` is for modules only; the module
accepts calls from its Constitution alone."""

from __future__ import annotations

import pytest
from telcochain.constitution import DenyReason

from tests.support.assets import (
    PERMISSIONS,
    PUBLIC_ACTIONS,
    TABLE,
    TRANSITION,
    State,
    asset_id,
    bind_params,
    bulk_params,
    custody_params,
    link_params,
    parties_params,
    register_params,
    serial_hash,
    transition_params,
    verb_params,
)
from tests.support.dryrun import reverts_with, send
from tests.support.encoding import action_id, entry_selector, ref


@pytest.fixture(scope="module")
def targets(consortium):
    """For every public action: params that its holder could execute right now, and the asset
    they touch."""
    planned = asset_id("perm-planned")
    consortium.register(planned)
    by_state = {}
    for state in (
        State.PENDING_INSTALLATION,
        State.DELIVERED,
        State.ACTIVE,
        State.PENDING_CHANGE,
        State.PENDING_DISCONNECT,
        State.RECOVERING,
    ):
        by_state[state] = asset_id(f"perm-{state.name}")
        consortium.drive(by_state[state], state, serial=serial_hash(f"perm-{state.name}"))
    by_state[State.PLANNED] = planned

    out = {
        "register": (register_params(asset_id("perm-new")), asset_id("perm-new")),
        "bindSerial": (bind_params(planned, serial_hash("perm-serial")), planned),
        "link": (link_params(planned, asset_id("perm-project")), planned),
        "transferCustody": (custody_params(planned, consortium.vendor), planned),
        "setParties": (parties_params(planned, vendor=consortium.vendor), planned),
    }
    for verb, (froms, _) in TABLE.items():
        asset = by_state[min(froms)]
        out[verb] = (verb_params(asset), asset)
    out["bulkTransition"] = (bulk_params("scheduleInstallation", [planned]), planned)
    return out


def _denied_without_trace(consortium, action, params, asset, who, reason):
    c = consortium.constitution
    before = consortium.snapshot(asset)
    assert c.executeAction.call(action_id(action), params, ref("try"), sender=who) == (False, 0)
    receipt = c.executeAction(action_id(action), params, ref("try"), sender=who)
    denied = [log for log in receipt.events if log.event_name == "ActionDenied"]
    assert [(d.action, d.caller, d.reason) for d in denied] == [(action_id(action), who.address, reason)]
    assert not [log for log in receipt.events if log.contract_address == consortium.registry.address]
    assert consortium.snapshot(asset) == before


@pytest.mark.parametrize("action", PUBLIC_ACTIONS)
def test_a_member_without_the_permission_is_denied_and_nothing_changes(consortium, targets, action):
    params, asset = targets[action]
    # the holder could do it...
    holder = consortium.holder(action)
    assert consortium.constitution.executeAction.call(action_id(action), params, ref("ok"), sender=holder) == (True, 0)
    # ...the customer, a member holding no asset permission, cannot
    _denied_without_trace(consortium, action, params, asset, consortium.customer, DenyReason.NO_PERMISSION)


@pytest.mark.parametrize("action", PUBLIC_ACTIONS)
def test_a_non_member_is_reverted_and_nothing_changes(consortium, targets, action):
    params, asset = targets[action]
    before = consortium.snapshot(asset)
    stranger = consortium.stranger
    with reverts_with("ConstitutionNotMember", account=stranger.address):  # outsiders leave no denial log
        send(consortium.constitution.executeAction, action_id(action), params, ref("try"), sender=stranger)
    assert consortium.snapshot(asset) == before


def test_the_operator_cannot_deliver_and_the_vendor_cannot_commission(consortium, targets):
    assert PERMISSIONS["deliver"] == ("vendor",) and "vendor" not in PERMISSIONS["commission"]
    params, asset = targets["deliver"]
    _denied_without_trace(consortium, "deliver", params, asset, consortium.operator, DenyReason.NO_PERMISSION)
    params, asset = targets["commission"]
    _denied_without_trace(consortium, "commission", params, asset, consortium.vendor, DenyReason.NO_PERMISSION)


def test_the_internal_transition_is_denied_to_members(consortium, targets):
    _, asset = targets["deliver"]  # PendingInstallation
    params = transition_params(asset, State.DELIVERED)
    for who in (consortium.operator, consortium.vendor):
        receipt = consortium.constitution.executeAction(TRANSITION, params, ref("t"), sender=who)
        (denied,) = [log for log in receipt.events if log.event_name == "ActionDenied"]
        assert denied.reason == DenyReason.INTERNAL_ACTION
    assert consortium.state(asset) is State.PENDING_INSTALLATION


ENTRY_POINTS = [*PUBLIC_ACTIONS, "transition"]


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_calling_the_module_directly_reverts_ModuleUnauthorizedCaller(consortium, targets, name):
    registry, operator = consortium.registry, consortium.operator
    params, asset = targets.get(name, (transition_params(targets["deliver"][1], State.DELIVERED), None))
    before = consortium.snapshot(asset) if asset else None
    with reverts_with("ModuleUnauthorizedCaller", caller=operator.address):
        send(getattr(registry, name), operator.address, ref("direct"), params, sender=operator)
    if asset:
        assert consortium.snapshot(asset) == before


def test_every_action_points_at_its_own_entry_point(consortium):
    c, registry = consortium.constitution, consortium.registry
    for name in ENTRY_POINTS:
        policy = c.action(action_id(name))
        assert (policy.module, bytes(policy.selector)) == (registry.address, entry_selector(name)), name
        assert registry.contract_type.selector_identifiers.get(f"{name}(address,bytes32,bytes)") is not None
