"""Registering digital twins: the record, duplicates (seed 000: "validated against existing
digital twins"), the optional serial, the links given at birth, and the views."""

from __future__ import annotations

from tests.support.assets import (
    ZERO24,
    ZERO32,
    ZERO_ADDRESS,
    Change,
    State,
    asset_id,
    details,
    kind_code,
    next_head,
    serial_hash,
)
from tests.support.dryrun import reverts_with
from tests.support.encoding import ref


def test_register_creates_a_planned_asset_held_by_the_registering_member(consortium, registry):
    asset = asset_id("ont-1")
    root, order = asset_id("project-A"), asset_id("order-17")
    receipt = consortium.register(
        asset, kind="ONT", root=root, order=order, details_=details("site"), ref_=ref("reg-1")
    )

    view = registry.getAsset(asset)
    assert State(view.state) is State.PLANNED
    assert bytes(view.kind) == kind_code("ONT")
    assert bytes(view.serialHash) == ZERO32
    assert view.version == 1
    assert view.custodian == consortium.operator.address
    assert view.exists is True
    head = next_head(
        ZERO24,
        asset,
        Change.REGISTER,
        1,
        ref("reg-1"),
        consortium.operator.address,
        details("site"),
        [kind_code("ONT"), ZERO32, root, order],
    )
    assert bytes(view.historyHead) == head

    (event,) = registry.AssetRegistered.from_receipt(receipt)
    args = event.event_arguments
    assert (bytes(args["assetId"]), bytes(args["ref"]), args["actor"]) == (
        asset,
        ref("reg-1"),
        consortium.operator.address,
    )
    assert (bytes(args["rootId"]), bytes(args["orderId"])) == (root, order)
    assert (bytes(args["kind"]), bytes(args["detailsHash"])) == (kind_code("ONT"), details("site"))
    assert (args["version"], bytes(args["head"])) == (1, head)


def test_registering_an_existing_id_reverts_AssetAlreadyExists(consortium, registry):
    asset = asset_id("dup")
    consortium.register(asset)
    before = consortium.snapshot(asset)
    with reverts_with("AssetAlreadyExists", assetId=asset):
        consortium.register(asset, kind="ROUTER")
    assert consortium.snapshot(asset) == before


def test_a_decommissioned_id_is_never_reused(consortium):
    asset = asset_id("gone")
    consortium.drive(asset, State.DECOMMISSIONED)
    with reverts_with("AssetAlreadyExists", assetId=asset):
        consortium.register(asset)


def test_the_zero_id_is_refused(consortium):
    with reverts_with("AssetInvalidId"):
        consortium.register(ZERO32)


def test_register_with_a_serial_binds_it_at_once(consortium, registry):
    asset, serial = asset_id("with-serial"), serial_hash("SN-1")
    consortium.register(asset, serial=serial)
    assert bytes(registry.getAsset(asset).serialHash) == serial
    assert bytes(registry.assetOfSerial(serial)) == asset


def test_register_with_a_serial_held_by_a_live_asset_reverts_AssetSerialAlreadyBound(consortium, registry):
    first, second, serial = asset_id("holder"), asset_id("late"), serial_hash("SN-2")
    consortium.register(first, serial=serial)
    with reverts_with("AssetSerialAlreadyBound", serialHash=serial, assetId=first):
        consortium.register(second, serial=serial)
    assert registry.getAsset(second).exists is False
    assert bytes(registry.assetOfSerial(serial)) == first


def test_an_unknown_asset_reads_as_all_zero(registry):
    view = registry.getAsset(asset_id("nothing"))
    assert (view.state, view.version, view.exists, view.custodian) == (0, 0, False, ZERO_ADDRESS)
    assert bytes(view.historyHead) == ZERO24
    assert registry.stateOf(asset_id("nothing")) == State.NONE
    assert bytes(registry.assetOfSerial(serial_hash("nobody's"))) == ZERO32


def test_the_registry_serves_its_constitution(consortium, registry):
    assert registry.CONSTITUTION() == consortium.constitution.address
