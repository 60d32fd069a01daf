"""The seed's resiliency scenario end to end: Pause, AutoCorrect, and the two mixed per device."""

from __future__ import annotations

import pytest
from telcochain.assets import AssetState

from tests.support.dryrun import named, reverts_with
from tests.support.orders import Action, Policy, St, oid, supplier_events

from .scenario import build_seed_order, seed_revision

P, AC = Policy.PAUSE, Policy.AUTO_CORRECT


@pytest.mark.parametrize(
    ("d1_policy", "c1_policy"),
    [(P, P), (AC, AC), (P, AC), (AC, P)],
    ids=["pause", "autocorrect", "mixed-D1-pause", "mixed-C1-pause"],
)
def test_seed_revision_applies_each_device_policy(ob, d1_policy, c1_policy):
    lines = build_seed_order(ob)
    A1, D1, D2, C1 = (lines[k] for k in ("A1", "D1", "D2", "C1"))
    x, y = ob.vendor_x.address.lower(), ob.vendor_y.address.lower()
    services, changes = seed_revision(lines, d1_policy, c1_policy)

    receipt = ob.revise(services, changes)

    # services: A', B, C', D, no E
    assert [(ob.service(s).version, Action(ob.service(s).action)) for s in "ABCD"] == [
        (2, Action.MODIFY),
        (1, Action.NO_CHANGE),
        (2, Action.MODIFY),
        (1, Action.NO_CHANGE),
    ]
    assert St(ob.service("E").state) == St.CANCELLED and Action(ob.service("E").action) == Action.DELETE
    assert all(St(ob.service(s).state) == St.ACKNOWLEDGED for s in "ABCD")

    # removed devices: delivered A1 and D2 go to recovery, nothing dropped
    assert ob.line_state(A1) == St.CANCELLED and ob.line_state(D2) == St.CANCELLED
    assert ob.asset_state("a1") == AssetState.RECOVERING
    assert ob.asset_state("d2") == AssetState.RECOVERING
    removed = {bytes(e.lineId): (e.released, e.stillOut, e.recovering) for e in named(receipt, "LineRemoved")}
    assert removed == {A1.id: (0, 1, True), D2.id: (0, 1, True)}

    # kept D1: Pause holds it, AutoCorrect carries on
    assert ob.line_state(D1) == (St.HELD if d1_policy == P else St.IN_PROGRESS)
    # added C1: Pause records it held and unordered, AutoCorrect orders it at once
    c1_ordered = c1_policy == AC
    assert ob.line_state(C1) == (St.ACKNOWLEDGED if c1_ordered else St.HELD)
    assert ob.line(C1).reserved == (1 if c1_ordered else 0)
    assert ob.asset_state("c1") == (AssetState.PENDING_INSTALLATION if c1_ordered else AssetState.PLANNED)

    held = (d1_policy == P) + (c1_policy == P)
    order = ob.order()
    assert (order.heldLines, order.openLines, order.lineCount, order.revision) == (held, 2, 4, 1)
    assert ob.order_state() == (St.HELD if held else St.IN_PROGRESS)

    # who was told what: suppliers only see their own lines
    expected_x = {("LineRemoved", A1.id), ("LineAdded", C1.id)}
    expected_y = {("LineRemoved", D2.id)}
    if c1_policy == P:
        expected_x.add(("LineReplanning", C1.id))
    if d1_policy == P:
        expected_y.add(("LineReplanning", D1.id))
    assert supplier_events(ob, receipt) == {x: expected_x, y: expected_y}

    # stock: reserved / released / delivered / consumed / returned / open reservation / still out
    assert ob.stock(ob.vendor_x, "ONT-X") == (1, 0, 1, 0, 0, 0, 1)
    assert ob.stock(ob.vendor_y, "ROUTER-Y") == (1, 0, 1, 0, 0, 0, 1)
    assert ob.stock(ob.vendor_y, "CABLE-Y") == (10, 0, 4, 2, 0, 6, 2)
    assert ob.stock(ob.vendor_x, "ROUTER-X") == ((1, 0, 0, 0, 0, 1, 0) if c1_ordered else (0,) * 7)
    _, totals = ob.reconcile_order()
    assert (totals.reserved, totals.delivered, totals.consumed, totals.stillOut) == (12 + c1_ordered, 6, 2, 4)


def test_paused_order_resumes_and_completes_the_redesign(ob):
    lines = build_seed_order(ob)
    A1, D1, D2, C1 = (lines[k] for k in ("A1", "D1", "D2", "C1"))
    ob.revise(*seed_revision(lines, P, P))

    # a held line is not supplied while the order is re-planned
    with reverts_with("OrderLineInvalidState", lineId=D1.id, state=int(St.HELD)):
        ob.deliver(D1, 1)
    with reverts_with("OrderLineInvalidState", lineId=C1.id, state=int(St.HELD)):
        ob.deliver(C1, 1)

    receipt = ob.resume([D1.id, C1.id])
    resumed = {bytes(e.lineId): (e.vendor.lower(), e.reserved) for e in named(receipt, "LineResumed")}
    assert resumed == {D1.id: (ob.vendor_y.address.lower(), 0), C1.id: (ob.vendor_x.address.lower(), 1)}
    assert ob.line_state(D1) == St.IN_PROGRESS and ob.line_state(C1) == St.IN_PROGRESS
    assert ob.asset_state("c1") == AssetState.PENDING_INSTALLATION
    assert ob.order_state() == St.IN_PROGRESS and ob.order().heldLines == 0
    with reverts_with("OrderLineInvalidState", lineId=C1.id, state=int(St.IN_PROGRESS)):
        ob.resume([C1.id])

    # the redesign is built: C1 delivered, D1 delivered and used in full
    ob.deliver(C1)
    assert ob.asset_state("c1") == AssetState.DELIVERED
    ob.deliver(D1, 6)
    ob.consume(D1.id, ob.vendor_y, "CABLE-Y", 8)
    assert ob.line_state(D1) == St.COMPLETED
    # the recovered devices come back to their vendors
    ob.take_back(A1)
    ob.take_back(D2)
    assert ob.stock(ob.vendor_x, "ONT-X") == (1, 0, 1, 0, 1, 0, 0)
    assert ob.stock(ob.vendor_y, "ROUTER-Y") == (1, 0, 1, 0, 1, 0, 0)
    assert ob.stock(ob.vendor_y, "CABLE-Y") == (10, 0, 10, 10, 0, 0, 0)
    assert ob.stock(ob.vendor_x, "ROUTER-X") == (1, 0, 1, 0, 0, 0, 1)

    vendor_lines, totals = ob.reconcile_vendor(ob.vendor_y)
    assert vendor_lines == [D1.id, D2.id]
    assert (totals.reserved, totals.delivered, totals.consumed, totals.returned, totals.stillOut) == (11, 11, 10, 1, 0)
    assert ob.reconcile_order(offset=1, limit=2)[0] == [D1.id, D2.id]
    assert ob.reconcile_order(offset=4)[0] == []


def test_cancellation_at_any_stage_releases_and_recovers(ob):
    lines = build_seed_order(ob)
    A1, D1, D2, C1 = (lines[k] for k in ("A1", "D1", "D2", "C1"))
    ob.add_line(C1)  # ordered, not delivered
    assert ob.asset_state("c1") == AssetState.PENDING_INSTALLATION

    first = ob.cancel([A1.id, C1.id])
    assert [(St(e["from"]), St(e.to)) for e in named(first, "OrderStateChanged")] == [
        (St.IN_PROGRESS, St.ASSESSING_CANCELLATION),
        (St.ASSESSING_CANCELLATION, St.PENDING_CANCELLATION),
    ]
    assert ob.order_state() == St.PENDING_CANCELLATION  # lines and services still open
    # nothing more is supplied to an order being cancelled
    with reverts_with("OrderNotOpen", orderId=oid("O"), state=int(St.PENDING_CANCELLATION)):
        ob.deliver(D1, 1)
    assert ob.asset_state("a1") == AssetState.RECOVERING  # delivered: recovery
    assert ob.asset_state("c1") == AssetState.PLANNED  # only ordered: back to design
    assert ob.stock(ob.vendor_x, "ROUTER-X") == (1, 1, 0, 0, 0, 0, 0)
    # a service with open lines cannot be cancelled; a cancelling order takes no revision
    with reverts_with("OrderServiceHasOpenLines", serviceId=oid("svc:D"), openLines=2):
        ob.cancel([], [oid("svc:D")])
    with reverts_with("OrderNotOpen", orderId=oid("O"), state=int(St.PENDING_CANCELLATION)):
        ob.revise([], [(int(Action.ADD), lines["C1"].spec())])

    ob.cancel([D1.id, D2.id], [oid(f"svc:{s}") for s in "ABCDE"])
    assert ob.order_state() == St.CANCELLED
    assert ob.line_state(D1) == St.CANCELLED and ob.asset_state("d2") == AssetState.RECOVERING
    assert all(St(ob.service(s).state) == St.CANCELLED for s in "ABCDE")
    assert ob.stock(ob.vendor_y, "CABLE-Y") == (10, 6, 4, 2, 0, 0, 2)  # 6 released, 2 still out
    ob.take_back(D1, 2)
    assert ob.stock(ob.vendor_y, "CABLE-Y") == (10, 6, 4, 2, 2, 0, 0)
    with reverts_with("OrderLineInvalidState", lineId=D1.id, state=int(St.CANCELLED)):
        ob.deliver(D1, 1)
    with reverts_with("OrderInvalidTransition", id=oid("O"), to=int(St.ASSESSING_CANCELLATION)):
        ob.cancel()


def test_an_empty_acknowledged_order_cancels_in_one_call(ob):
    ob.create_project()
    ob.create_order()
    ob.cancel()
    assert ob.order_state() == St.CANCELLED
