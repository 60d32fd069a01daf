"""bulkTransition: one verb applied to many assets in ONE module call. It does exactly what
that many single verbs would (same table, guards, events and history steps), never widens
permissions (the caller must hold the verb's own action right now, and the verb must be a
direct action of this registry), is all or nothing, and is capped."""

from __future__ import annotations

import pytest
from ape.exceptions import ContractLogicError
from telcochain.constitution import DenyReason, Voters

from tests.support.assets import (
    MAX_BULK,
    VERB_INDEX,
    Change,
    State,
    asset_id,
    bulk_params,
    details,
    next_head,
    parties_params,
    register_params,
    serial_hash,
    verb_params,
)
from tests.support.dryrun import reverts_with, send
from tests.support.encoding import (
    AMEND_CONSTITUTION,
    DAY,
    UPDATE_PERMISSIONS,
    VOTE_FOR,
    action_id,
    amend_params,
    entry_selector,
    grant,
    policy,
    ref,
    update_params,
    vote_params,
)

N = 100


def _register_all(consortium, ids, serial=False):
    calls = [
        (
            action_id("register"),
            register_params(a, serial=serial_hash(f"bulk-{bytes(a).hex()}") if serial else b"\x00" * 32),
            ref(f"reg-{i}"),
        )
        for i, a in enumerate(ids)
    ]
    # the vendor is named the twins' supplier: it may deliver them
    calls += [
        (action_id("setParties"), parties_params(a, vendor=consortium.vendor), ref(f"par-{i}"))
        for i, a in enumerate(ids)
    ]
    consortium.constitution.executeBatch(calls, sender=consortium.operator)


def _bulk_call(consortium, verb, assets, sender, details_=b"\x00" * 32):
    """The bulk action as a dry run (inside ``reverts_with``) or a transaction."""
    return send(
        consortium.constitution.executeAction,
        action_id("bulkTransition"),
        bulk_params(verb, assets, details_),
        ref("bulk"),
        sender=sender,
    )


def test_a_bulk_of_100_equals_100_single_transitions(consortium, registry, chain):
    c = consortium
    ids = [asset_id(f"bulk-eq-{i}") for i in range(N)]
    _register_all(c, ids)
    d, r = details("bulk-eq"), ref("same-ref")
    before = {a: registry.getAsset(a) for a in ids}

    snap = chain.snapshot()
    singles = [(action_id("scheduleInstallation"), verb_params(a, d), r) for a in ids]
    c.constitution.executeBatch(singles, sender=c.operator)
    expected = [c.snapshot(a) for a in ids]
    chain.restore(snap)
    assert all(c.state(a) is State.PLANNED for a in (ids[0], ids[-1]))

    receipt = c.bulk("scheduleInstallation", ids, d, ref_=r)
    assert [c.snapshot(a) for a in ids] == expected

    moved = registry.AssetTransitioned.from_receipt(receipt)
    assert [bytes(e.assetId) for e in moved] == ids
    for e in moved:
        old = before[bytes(e.assetId)]
        assert (bytes(e.ref), e.actor, bytes(e.detailsHash)) == (r, c.operator.address, d)
        # version 3: registered, vendor named, scheduled
        assert (State(e["from"]), State(e.to), e.version) == (State.PLANNED, State.PENDING_INSTALLATION, 3)
        head = next_head(old.historyHead, e.assetId, Change.TRANSITION, 3, r, c.operator.address, d, [1, 2])
        assert bytes(e.head) == head == bytes(registry.getAsset(e.assetId).historyHead)
    executed = [log for log in receipt.events if log.event_name == "ActionExecuted"]
    assert [bytes(x.action) for x in executed] == [action_id("bulkTransition")]


def test_the_vendor_bulk_delivers_and_serial_guards_apply(consortium, registry):
    c = consortium
    ids = [asset_id(f"bulk-d-{i}") for i in range(5)]
    _register_all(c, ids, serial=True)
    c.bulk("scheduleInstallation", ids)
    c.bulk("deliver", ids, sender=c.vendor)  # the vendor holds deliver (and bulkTransition)
    c.bulk("commission", ids)
    assert all(c.state(a) is State.ACTIVE for a in ids)

    bare = asset_id("bulk-no-serial")
    c.drive(bare, State.DELIVERED)
    with reverts_with("AssetSerialRequired", assetId=bare):
        _bulk_call(c, "commission", [bare], c.operator)
    # decommissioning in bulk frees the serials, as the single verb does
    planned = [asset_id(f"bulk-x-{i}") for i in range(3)]
    _register_all(c, planned, serial=True)
    c.bulk("decommission", planned)
    assert all(bytes(registry.assetOfSerial(serial_hash(f"bulk-{bytes(a).hex()}"))) == b"\x00" * 32 for a in planned)


def test_a_caller_without_the_verbs_permission_is_refused_and_nothing_changes(consortium):
    c = consortium
    ids = [asset_id(f"bulk-perm-{i}") for i in range(3)]
    _register_all(c, ids)
    before = [c.snapshot(a) for a in ids]
    # the vendor holds bulkTransition but not scheduleInstallation
    with reverts_with(
        "AssetBulkNotPermitted",
        verb=VERB_INDEX["scheduleInstallation"],
        caller=c.vendor.address,
        reason=DenyReason.NO_PERMISSION,
    ):
        _bulk_call(c, "scheduleInstallation", ids, c.vendor)
    # the operator holds bulkTransition but not deliver (the vendor's verb)
    c.bulk("scheduleInstallation", ids[:1])
    with reverts_with("AssetBulkNotPermitted", verb=VERB_INDEX["deliver"], reason=DenyReason.NO_PERMISSION):
        _bulk_call(c, "deliver", ids[:1], c.operator)
    assert c.state(ids[0]) is State.PENDING_INSTALLATION
    # the customer does not even hold bulkTransition: denied by the Constitution, no revert
    receipt = _bulk_call(c, "scheduleInstallation", ids[1:], c.customer)
    (denied,) = [log for log in receipt.events if log.event_name == "ActionDenied"]
    assert denied.reason == DenyReason.NO_PERMISSION
    assert [c.snapshot(a) for a in ids[1:]] == before[1:]


def _vote_through(consortium, action, params):
    """The operator proposes a governance action (a vote of All: 2 of 3), the vendor approves."""
    c = consortium.constitution
    receipt = c.executeAction(action, params, ref("gov"), sender=consortium.operator)
    (opened,) = [log for log in receipt.events if log.event_name == "ProposalOpened"]
    c.executeAction(VOTE_FOR, vote_params(opened.proposalId, True), ref("gov-vote"), sender=consortium.vendor)


def test_a_grant_outside_its_window_is_refused(consortium, chain):
    c = consortium
    ids = [asset_id(f"bulk-win-{i}") for i in range(2)]
    _register_all(c, ids)
    start = chain.pending_timestamp + DAY
    entries = [grant(c.vendor, valid_from=start)]
    _vote_through(c, UPDATE_PERMISSIONS, update_params(action_id("scheduleInstallation"), entries))
    before = [c.snapshot(a) for a in ids]
    with reverts_with(
        "AssetBulkNotPermitted",
        verb=VERB_INDEX["scheduleInstallation"],
        caller=c.vendor.address,
        reason=DenyReason.PERMISSION_NOT_YET_VALID,
    ):
        _bulk_call(c, "scheduleInstallation", ids, c.vendor)
    assert [c.snapshot(a) for a in ids] == before


def test_a_verb_put_to_a_vote_cannot_be_applied_in_bulk(consortium):
    c = consortium
    asset = asset_id("bulk-vote")
    c.drive(asset, State.DELIVERED, serial=serial_hash("bulk-vote"))
    commission = policy(
        "commission",
        module=c.registry,
        selector_=entry_selector("commission"),
        voters=Voters.SPECIFIC,
        margin=2,
        period=DAY,
        voter_list=[c.operator, c.vendor],
    )
    _vote_through(c, AMEND_CONSTITUTION, amend_params(commission, [grant(c.operator)]))
    with reverts_with("AssetBulkUnavailable", verb=VERB_INDEX["commission"]):
        _bulk_call(c, "commission", [asset], c.operator)
    assert c.state(asset) is State.DELIVERED


def test_one_illegal_asset_reverts_the_whole_bulk(consortium):
    c = consortium
    ids = [asset_id(f"bulk-ill-{i}") for i in range(4)]
    _register_all(c, ids)
    c.verb("scheduleInstallation", ids[2])  # now PendingInstallation: not a source of the verb
    before = [c.snapshot(a) for a in ids]
    with reverts_with(
        "AssetInvalidTransition",
        assetId=ids[2],
        **{"from": State.PENDING_INSTALLATION, "to": State.PENDING_INSTALLATION},
    ):
        _bulk_call(c, "scheduleInstallation", ids, c.operator)
    unknown = asset_id("bulk-unknown")
    with reverts_with("AssetNotFound", assetId=unknown):
        _bulk_call(c, "scheduleInstallation", [ids[0], unknown], c.operator)
    # an asset listed twice: the second application finds it already moved
    with reverts_with("AssetInvalidTransition", assetId=ids[0]):
        _bulk_call(c, "scheduleInstallation", [ids[0], ids[1], ids[0]], c.operator)
    # the transaction itself reverts too (executeAction lets module errors bubble up)
    with pytest.raises(ContractLogicError):
        _bulk_call(c, "scheduleInstallation", ids, c.operator)
    assert [c.snapshot(a) for a in ids] == before


def test_the_list_is_capped_and_the_verb_checked(consortium, registry):
    c = consortium
    assert registry.MAX_BULK() == MAX_BULK == 256
    ids = [asset_id(f"bulk-cap-{i}") for i in range(MAX_BULK + 1)]
    with reverts_with("AssetBulkInvalidSize", count=MAX_BULK + 1, max=MAX_BULK):
        _bulk_call(c, "scheduleInstallation", ids, c.operator)
    with reverts_with("AssetBulkInvalidSize", count=0, max=MAX_BULK):
        _bulk_call(c, "scheduleInstallation", [], c.operator)
    with reverts_with("AssetUnknownVerb", verb=12):
        _bulk_call(c, 12, ids[:1], c.operator)
