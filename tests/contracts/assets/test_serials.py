"""Serial rules (seed 001, "LCM model assumptions for asset", 3a-3d): optional at first,
required for Active, bound until decommissioned, unique among live assets, bound by agreed
members (a vote)."""

from __future__ import annotations

import pytest
from telcochain.constitution import ProposalStatus

from tests.support.assets import ZERO32, Change, State, asset_id, deploy_consortium, details, next_head, serial_hash
from tests.support.dryrun import reverts_with, send
from tests.support.encoding import ref
from tests.support.events import opened_id


def test_an_asset_may_exist_and_be_delivered_without_a_serial(consortium, registry):
    asset = asset_id("bare")
    consortium.drive(asset, State.DELIVERED)
    assert bytes(registry.getAsset(asset).serialHash) == ZERO32


def test_an_asset_cannot_become_active_without_a_serial(consortium):
    asset = asset_id("no-serial")
    consortium.drive(asset, State.DELIVERED)
    before = consortium.snapshot(asset)
    with reverts_with("AssetSerialRequired", assetId=asset):
        consortium.verb("commission", asset)
    assert consortium.snapshot(asset) == before


def test_binding_a_serial_lets_the_asset_be_commissioned(consortium, registry):
    asset, serial = asset_id("late-bind"), serial_hash("SN-100")
    consortium.drive(asset, State.DELIVERED)
    version = registry.getAsset(asset).version
    head = bytes(registry.getAsset(asset).historyHead)

    receipt = consortium.bind(asset, serial, details("bind"), sender=consortium.vendor, ref_=ref("bind"))

    view = registry.getAsset(asset)
    assert bytes(view.serialHash) == serial
    assert bytes(registry.assetOfSerial(serial)) == asset
    assert view.version == version + 1
    expected = next_head(
        head,
        asset,
        Change.SERIAL_BIND,
        version + 1,
        ref("bind"),
        consortium.vendor.address,
        details("bind"),
        [serial],
    )
    assert bytes(view.historyHead) == expected
    (event,) = registry.AssetSerialBound.from_receipt(receipt)
    assert (bytes(event.serialHash), event.actor, bytes(event.head)) == (serial, consortium.vendor.address, expected)

    consortium.verb("commission", asset)
    assert consortium.state(asset) is State.ACTIVE


@pytest.mark.parametrize("again", ["same serial", "other serial"])
def test_a_bound_serial_cannot_be_rebound(consortium, again):
    asset, serial = asset_id("bound"), serial_hash("SN-200")
    consortium.register(asset, serial=serial)
    before = consortium.snapshot(asset)
    other = serial if again == "same serial" else serial_hash("SN-201")
    with reverts_with("AssetSerialAlreadySet", assetId=asset):
        consortium.bind(asset, other)
    assert consortium.snapshot(asset) == before


def test_a_bound_serial_stays_through_the_whole_life_until_decommissioned(consortium, registry):
    asset, serial = asset_id("lifelong"), serial_hash("SN-300")
    consortium.drive(asset, State.RECOVERING, serial=serial)
    assert bytes(registry.assetOfSerial(serial)) == asset
    with reverts_with("AssetSerialAlreadySet", assetId=asset):
        consortium.bind(asset, serial_hash("SN-301"))


def test_a_serial_held_by_a_live_asset_cannot_bind_to_another(consortium, registry):
    holder, other, serial = asset_id("holder"), asset_id("other"), serial_hash("SN-400")
    consortium.drive(holder, State.INACTIVE, serial=serial)
    consortium.register(other)
    with reverts_with("AssetSerialAlreadyBound", serialHash=serial, assetId=holder):
        consortium.bind(other, serial)
    assert bytes(registry.getAsset(other).serialHash) == ZERO32


def test_decommissioning_frees_the_serial_for_a_new_asset(consortium, registry):
    old, new, serial = asset_id("old-twin"), asset_id("refurbished"), serial_hash("SN-500")
    consortium.drive(old, State.RECOVERING, serial=serial)
    consortium.verb("decommission", old)
    assert bytes(registry.assetOfSerial(serial)) == ZERO32
    # the closed record keeps its serial for the audit trail
    assert bytes(registry.getAsset(old).serialHash) == serial

    consortium.register(new)
    consortium.bind(new, serial)
    assert bytes(registry.assetOfSerial(serial)) == new


def test_dropping_a_planned_asset_frees_its_serial(consortium, registry):
    asset, serial = asset_id("dropped"), serial_hash("SN-600")
    consortium.register(asset, serial=serial)
    consortium.verb("decommission", asset)
    assert bytes(registry.assetOfSerial(serial)) == ZERO32
    consortium.register(asset_id("successor"), serial=serial)
    assert bytes(registry.assetOfSerial(serial)) == asset_id("successor")


def test_a_decommissioned_asset_takes_no_serial(consortium):
    asset = asset_id("closed")
    consortium.drive(asset, State.DECOMMISSIONED)
    with reverts_with("AssetAlreadyDecommissioned", assetId=asset):
        consortium.bind(asset, serial_hash("SN-700"))


def test_the_zero_serial_is_refused(consortium):
    asset = asset_id("zero-serial")
    consortium.register(asset)
    with reverts_with("AssetInvalidSerial"):
        consortium.bind(asset, ZERO32)


def test_binding_to_an_unknown_asset_reverts_AssetNotFound(consortium):
    with reverts_with("AssetNotFound", assetId=asset_id("ghost")):
        consortium.bind(asset_id("ghost"), serial_hash("SN-800"))


# --------------------------------------------------------------------------------------------
# bindSerial put to a vote of the operator and the vendor (Specific voters, margin 2)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def voted(accounts, roles):
    return deploy_consortium(accounts[0], roles, bind_serial_vote=True)


def test_a_voted_binding_waits_for_the_second_approval(voted):
    c, registry = voted.constitution, voted.registry
    asset, serial = asset_id("voted"), serial_hash("SN-900")
    voted.drive(asset, State.DELIVERED)

    receipt = voted.bind(asset, serial, details("vote"), ref_=ref("bind-vote"))
    (opened,) = [log for log in receipt.events if log.event_name == "ProposalOpened"]
    pid = opened.proposalId
    assert (opened.voterCount, opened.required) == (2, 2)
    # one approval (the operator's request) is not enough
    assert bytes(registry.getAsset(asset).serialHash) == ZERO32
    assert bytes(registry.assetOfSerial(serial)) == ZERO32
    assert c.proposal(pid).approvals == 1

    receipt = c.voteFor(pid, True, ref("vendor-approves"), sender=voted.vendor)
    assert c.proposal(pid).status == ProposalStatus.EXECUTED
    assert bytes(registry.getAsset(asset).serialHash) == serial
    assert bytes(registry.assetOfSerial(serial)) == asset
    # the change is the proposer's, under the proposal's ref
    (event,) = registry.AssetSerialBound.from_receipt(receipt)
    assert (event.actor, bytes(event.ref)) == (voted.operator.address, ref("bind-vote"))
    voted.verb("commission", asset)
    assert voted.state(asset) is State.ACTIVE


def test_a_voted_binding_rejected_by_the_vendor_binds_nothing(voted):
    c, registry = voted.constitution, voted.registry
    asset, serial = asset_id("refused"), serial_hash("SN-901")
    voted.register(asset)
    receipt = voted.bind(asset, serial)
    pid = opened_id(receipt)
    c.voteFor(pid, False, ref("vendor-refuses"), sender=voted.vendor)
    assert c.proposal(pid).status == ProposalStatus.REJECTED
    assert bytes(registry.assetOfSerial(serial)) == ZERO32
    assert registry.getAsset(asset).version == 1


def test_a_voted_binding_is_checked_again_when_the_vote_completes(voted):
    """Two proposals for one serial: the first to complete wins, the second's last vote
    reverts with the business error and the proposal stays open."""
    c, registry = voted.constitution, voted.registry
    first, second, serial = asset_id("race-1"), asset_id("race-2"), serial_hash("SN-902")
    voted.register(first)
    voted.register(second)
    pid_1 = opened_id(voted.bind(first, serial))
    pid_2 = opened_id(voted.bind(second, serial))
    c.voteFor(pid_1, True, ref("v1"), sender=voted.vendor)
    with reverts_with("AssetSerialAlreadyBound", serialHash=serial, assetId=first):
        send(c.voteFor, pid_2, True, ref("v2"), sender=voted.vendor)
    assert c.proposal(pid_2).status == ProposalStatus.OPEN
    assert bytes(registry.assetOfSerial(serial)) == first
