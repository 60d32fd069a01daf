"""The history head: recomputed from the events alone it equals the chain's head, and any
removed, reordered or altered event in an off-chain copy breaks the chain."""

from __future__ import annotations

import copy

import pytest

from tests.support.assets import (
    HISTORY_EVENTS,
    ZERO24,
    State,
    asset_id,
    details,
    history_logs,
    replay_head,
    serial_hash,
)
from tests.support.encoding import ref


@pytest.fixture(scope="module")
def story(consortium):
    """A full life: register (with links), link, bind, install, hand over, MACD, disconnect,
    recover, decommission — by the operator, the vendor (its named supplier) and, through ``transition``, another
    module. Returns (asset, history events in chain order)."""
    c = consortium
    asset = asset_id("story")
    op, vendor = c.operator, c.vendor
    receipts = [
        c.register(
            asset,
            kind="CPE-ROUTER",
            root=asset_id("project-1"),
            order=asset_id("order-1"),
            details_=details("register"),
            ref_=ref("r1"),
        ),
        c.parties(asset, vendor=vendor, details_=details("parties"), ref_=ref("r2")),
        c.link(asset, asset_id("project-2"), details_=details("link"), sender=vendor, ref_=ref("r3")),
        c.verb("scheduleInstallation", asset, details("schedule"), ref_=ref("r4")),
        c.bind(asset, serial_hash("SN-STORY"), details("bind"), sender=vendor, ref_=ref("r5")),
        c.verb("deliver", asset, details("deliver"), sender=vendor, ref_=ref("r6")),
        c.verb("commission", asset, details("commission"), ref_=ref("r7")),
        c.verb("requestChange", asset, details("macd"), ref_=ref("r8")),
        c.internal_transition(asset, State.ACTIVE, details("macd-done"), ref_=ref("r9")),
        c.link(asset, order=asset_id("order-2"), details_=details("link-2"), ref_=ref("r10")),
        c.verb("requestDisconnect", asset, details("disconnect"), ref_=ref("r11")),
        c.verb("completeDisconnect", asset, details("final-bill"), ref_=ref("r12")),
        c.transfer(asset, vendor, details("handover"), sender=op, ref_=ref("r13")),
        c.verb("recover", asset, details("pickup"), sender=vendor, ref_=ref("r14")),
        c.transfer(asset, op, details("returned"), sender=vendor, ref_=ref("r15")),
        c.verb("decommission", asset, details("closed"), ref_=ref("r16")),
    ]
    return asset, history_logs(c.registry, receipts)


def test_replaying_the_events_gives_the_chain_head(registry, story):
    asset, logs = story
    assert {log.event_name for log in logs} == set(HISTORY_EVENTS)
    view = registry.getAsset(asset)
    assert view.version == len(logs) == 16
    assert replay_head(logs) == bytes(view.historyHead)
    assert State(view.state) is State.DECOMMISSIONED


def test_every_event_carries_ref_actor_and_details(consortium, story):
    _, logs = story
    assert [bytes(log.ref) for log in logs] == [ref(f"r{i}") for i in range(1, 17)]
    actors = [log.actor for log in logs]
    op, vendor = consortium.operator.address, consortium.vendor.address
    assert actors == [op, op, vendor, op, vendor, vendor, op, op, op, op, op, op, op, vendor, vendor, op]
    assert all(bytes(log.detailsHash) != b"\x00" * 32 for log in logs)


def _replays(logs) -> bool:
    try:
        replay_head(logs)
    except AssertionError:
        return False
    return True


class _Edited:
    """A copy of a log with one argument replaced (an off-chain copy tampered with)."""

    def __init__(self, log, **changes):
        self.event_name = log.event_name
        self._args = {**copy.deepcopy(dict(log.event_arguments)), **changes}

    @property
    def event_arguments(self):
        return self._args

    def __getattr__(self, name):
        return self._args[name]


def test_a_removed_event_is_detected(story):
    _, logs = story
    assert _replays(logs)
    assert not _replays(logs[:6] + logs[7:])


def test_reordered_events_are_detected(story):
    _, logs = story
    swapped = [*logs[:3], logs[4], logs[3], *logs[5:]]
    assert not _replays(swapped)


@pytest.mark.parametrize("index", range(15))
def test_every_field_of_every_event_is_bound_by_the_head(story, index):
    """Changing any hashed field of change ``index`` (keeping the claimed heads) breaks the
    chain: every field of the event is in the preimage."""
    _, logs = story
    log = logs[index]
    hashed = [k for k in log.event_arguments if k not in ("version", "head")]
    for field in hashed:
        value = log.event_arguments[field]
        if isinstance(value, str):  # an address
            forged = "0x" + "11" * 20
        elif isinstance(value, int):
            forged = (value + 1) % 10
        else:
            forged = bytes(b ^ 0x01 for b in bytes(value))
        tampered = [*logs[:index], _Edited(log, **{field: forged}), *logs[index + 1 :]]
        assert not _replays(tampered), (log.event_name, field)


def test_the_first_head_starts_from_zero(story):
    _, logs = story
    assert replay_head(logs[:1]) == bytes(logs[0].head) != ZERO24
