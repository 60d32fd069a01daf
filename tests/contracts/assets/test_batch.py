"""Many assets change in one transaction through the Constitution's executeBatch."""

from __future__ import annotations

from telcochain.constitution import DenyReason

from tests.support.assets import State, asset_id, register_params, serial_hash, verb_params
from tests.support.dryrun import error_data
from tests.support.encoding import action_id, ref

N = 100


def _batch(consortium, action, params_list, sender=None, label=None):
    calls = [(action_id(action), params, ref(f"{label or action}-{i}")) for i, params in enumerate(params_list)]
    return consortium.constitution.executeBatch(calls, sender=sender or consortium.holder(action))


def test_a_hundred_assets_are_registered_and_scheduled_in_two_transactions(consortium, registry):
    ids = [asset_id(f"bulk-{i}") for i in range(N)]
    receipt = _batch(
        consortium, "register", [register_params(a, serial=serial_hash(f"bulk-{i}")) for i, a in enumerate(ids)]
    )
    registered = registry.AssetRegistered.from_receipt(receipt)
    assert [bytes(e.assetId) for e in registered] == ids
    assert [bytes(e.ref) for e in registered] == [ref(f"register-{i}") for i in range(N)]

    receipt = _batch(consortium, "scheduleInstallation", [verb_params(a) for a in ids])
    moved = registry.AssetTransitioned.from_receipt(receipt)
    assert len(moved) == N
    assert all(State(registry.stateOf(a)) is State.PENDING_INSTALLATION for a in ids[:: N // 10])
    assert all(registry.getAsset(a).version == 2 for a in (ids[0], ids[-1]))
    assert bytes(registry.assetOfSerial(serial_hash(f"bulk-{N - 1}"))) == ids[-1]


def test_a_bad_call_in_a_batch_is_undone_alone(consortium, registry):
    good, planned, unknown = asset_id("b-good"), asset_id("b-planned"), asset_id("b-unknown")
    consortium.drive(good, State.ACTIVE)
    consortium.register(planned)
    calls = [
        (action_id("requestChange"), verb_params(good), ref("ok")),
        (action_id("commission"), verb_params(planned), ref("illegal")),  # Planned -> Active
        (action_id("requestChange"), verb_params(unknown), ref("unknown")),
        (action_id("deliver"), verb_params(planned), ref("not-mine")),  # the vendor's verb
        (action_id("decommission"), verb_params(planned), ref("ok-2")),
    ]
    c = consortium.constitution
    outcomes = c.executeBatch.call(calls, sender=consortium.operator)
    assert [(o.ok, o.reverted) for o in outcomes] == [
        (True, False),
        (False, True),
        (False, True),
        (False, False),
        (True, False),
    ]
    assert bytes(outcomes[1].revertData) == error_data("AssetInvalidTransition", planned, State.PLANNED, State.ACTIVE)
    assert bytes(outcomes[2].revertData) == error_data("AssetNotFound", unknown)

    receipt = c.executeBatch(calls, sender=consortium.operator)
    assert consortium.state(good) is State.PENDING_CHANGE
    assert consortium.state(planned) is State.DECOMMISSIONED
    assert registry.getAsset(planned).version == 2
    denied = [log for log in receipt.events if log.event_name == "ActionDenied"]
    assert [(bytes(d.ref), d.reason) for d in denied] == [(ref("not-mine"), DenyReason.NO_PERMISSION)]
    assert [bytes(e.ref) for e in registry.AssetTransitioned.from_receipt(receipt)] == [ref("ok"), ref("ok-2")]
