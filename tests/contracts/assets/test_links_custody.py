"""Links to root identifiers and orders (events only), and custody handovers."""

from __future__ import annotations

import pytest

from tests.support.assets import ZERO32, Change, State, asset_id, details, next_head
from tests.support.dryrun import reverts_with
from tests.support.encoding import SUSPEND_MEMBER, ref, suspend_params
from tests.support.events import opened_id

# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("root,order", [("project-B", None), (None, "order-9"), ("project-C", "order-10")])
def test_an_asset_links_to_more_roots_and_orders_over_its_life(consortium, registry, root, order):
    asset = asset_id("linked")
    consortium.register(asset, root=asset_id("project-A"), order=asset_id("order-1"))
    before = registry.getAsset(asset)
    root_id = asset_id(root) if root else ZERO32
    order_id = asset_id(order) if order else ZERO32

    receipt = consortium.link(asset, root_id, order_id, details("link"), sender=consortium.vendor, ref_=ref("ln"))

    after = registry.getAsset(asset)
    assert after.version == before.version + 1
    assert after.state == before.state
    expected = next_head(
        bytes(before.historyHead),
        asset,
        Change.LINK,
        after.version,
        ref("ln"),
        consortium.vendor.address,
        details("link"),
        [root_id, order_id],
    )
    assert bytes(after.historyHead) == expected
    (event,) = registry.AssetLinked.from_receipt(receipt)
    assert (bytes(event.rootId), bytes(event.orderId), bytes(event.head)) == (root_id, order_id, expected)


def test_links_accumulate_in_events_only(consortium, registry):
    asset = asset_id("many-links")
    consortium.register(asset)
    receipts = [consortium.link(asset, asset_id(f"project-{i}"), asset_id(f"order-{i}")) for i in range(3)]
    roots = [bytes(registry.AssetLinked.from_receipt(r)[0].rootId) for r in receipts]
    assert roots == [asset_id(f"project-{i}") for i in range(3)]
    assert registry.getAsset(asset).version == 4


def test_a_link_needs_a_root_or_an_order(consortium):
    asset = asset_id("empty-link")
    consortium.register(asset)
    with reverts_with("AssetInvalidLink", assetId=asset):
        consortium.link(asset, ZERO32, ZERO32)


def test_a_decommissioned_asset_takes_no_link(consortium):
    asset = asset_id("closed-link")
    consortium.drive(asset, State.DECOMMISSIONED)
    with reverts_with("AssetAlreadyDecommissioned", assetId=asset):
        consortium.link(asset, asset_id("project-Z"))


def test_linking_an_unknown_asset_reverts_AssetNotFound(consortium):
    with reverts_with("AssetNotFound", assetId=asset_id("ghost")):
        consortium.link(asset_id("ghost"), asset_id("project-Z"))


# --------------------------------------------------------------------------------------------
# Custody
# --------------------------------------------------------------------------------------------


def test_the_custodian_hands_the_asset_over(consortium, registry):
    asset = asset_id("handover")
    consortium.drive(asset, State.DELIVERED)
    before = registry.getAsset(asset)
    operator, vendor = consortium.operator.address, consortium.vendor.address

    receipt = consortium.transfer(asset, vendor, details("handover"), sender=consortium.operator, ref_=ref("h"))

    after = registry.getAsset(asset)
    assert after.custodian == vendor
    assert (after.state, after.version) == (before.state, before.version + 1)
    expected = next_head(
        bytes(before.historyHead),
        asset,
        Change.CUSTODY_TRANSFER,
        after.version,
        ref("h"),
        operator,
        details("handover"),
        [operator, vendor],
    )
    assert bytes(after.historyHead) == expected
    (event,) = registry.AssetCustodyTransferred.from_receipt(receipt)
    args = event.event_arguments
    assert (args["from"], args["to"], args["actor"]) == (operator, vendor, operator)


def test_only_the_custodian_hands_over(consortium, registry):
    asset = asset_id("not-yours")
    consortium.register(asset)  # custodian: the operator
    with reverts_with("AssetNotCustodian", assetId=asset, account=consortium.vendor.address):
        consortium.transfer(asset, consortium.vendor, sender=consortium.vendor)
    consortium.transfer(asset, consortium.vendor, sender=consortium.operator)
    # the former custodian can no longer move it, the new one can
    with reverts_with("AssetNotCustodian", assetId=asset, account=consortium.operator.address):
        consortium.transfer(asset, consortium.operator, sender=consortium.operator)
    consortium.transfer(asset, consortium.operator, sender=consortium.vendor)
    assert registry.getAsset(asset).custodian == consortium.operator.address


def test_custody_goes_only_to_another_active_member(consortium):
    asset = asset_id("custody-rules")
    consortium.register(asset)
    for account in (consortium.stranger.address, consortium.operator.address, "0x" + "00" * 20):
        with reverts_with("AssetInvalidCustodian", assetId=asset, account=account):
            consortium.transfer(asset, account)


def test_custody_cannot_go_to_a_suspended_member(consortium):
    c, customer = consortium.constitution, consortium.customer
    pid = opened_id(c.executeAction(SUSPEND_MEMBER, suspend_params(customer), ref("s"), sender=consortium.operator))
    c.voteFor(pid, True, ref("s-vote"), sender=consortium.vendor)
    assert not c.isActiveMember(customer)
    asset = asset_id("to-suspended")
    consortium.register(asset)
    with reverts_with("AssetInvalidCustodian", assetId=asset, account=customer.address):
        consortium.transfer(asset, customer)


def test_lifecycle_verbs_leave_custody_alone(consortium, registry):
    asset = asset_id("custody-stays")
    consortium.drive(asset, State.ACTIVE)  # the vendor delivered it
    assert registry.getAsset(asset).custodian == consortium.operator.address


def test_a_decommissioned_asset_cannot_change_hands(consortium):
    asset = asset_id("closed-custody")
    consortium.drive(asset, State.DECOMMISSIONED)
    with reverts_with("AssetAlreadyDecommissioned", assetId=asset):
        consortium.transfer(asset, consortium.vendor)
