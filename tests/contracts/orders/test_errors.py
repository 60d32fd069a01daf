"""Clear errors and no change: illegal transitions, revisions without permission, stock misuse."""

from __future__ import annotations

from telcochain.constitution import DenyReason

from tests.support.dryrun import named, reverts_with
from tests.support.encoding import action_id
from tests.support.orders import Action, Line, Policy, St, line_ref_spec, oid

from .scenario import build_seed_order, seed_revision

ORDER = oid("O")


def _snapshot(ob, lines) -> tuple:
    return (
        tuple(ob.order()),
        tuple(tuple(ob.line(line)) for line in lines.values()),
        tuple(tuple(ob.service(s)) for s in "ABCDE"),
        ob.stock(ob.vendor_y, "CABLE-Y"),
        ob.stock(ob.vendor_x, "ROUTER-X"),
        tuple(ob.asset_state(a) for a in ("a1", "d2", "c1")),
    )


# ------------------------------------------------------------------ transitions


def test_order_cannot_skip_to_completed_or_into_cancellation(ob):
    ob.create_project()
    ob.create_order()
    with reverts_with("OrderInvalidTransition", id=ORDER, to=int(St.COMPLETED)):
        ob.transition_order(St.COMPLETED)
    for to in (St.ASSESSING_CANCELLATION, St.PENDING_CANCELLATION, St.CANCELLED):
        with reverts_with("OrderInvalidTransition", id=ORDER, to=int(to)):
            ob.transition_order(to)  # only cancelOrder enters the cancellation states
    for raw in (0, 12, 255):
        with reverts_with("OrderUnknownState", state=raw):
            ob.transition_order(raw)
    assert ob.order_state() == St.ACKNOWLEDGED


def test_terminal_order_states_are_final(ob):
    ob.create_project()
    ob.create_order()
    ob.transition_order(St.IN_PROGRESS)
    receipt = ob.transition_order(St.COMPLETED)
    change = named(receipt, "OrderStateChanged")[0]
    assert (St(change["from"]), St(change.to)) == (St.IN_PROGRESS, St.COMPLETED)
    for to in (St.IN_PROGRESS, St.HELD, St.FAILED):
        with reverts_with("OrderInvalidTransition", id=ORDER, **{"from": int(St.COMPLETED)}, to=int(to)):
            ob.transition_order(to)
    with reverts_with("OrderInvalidTransition", id=ORDER, to=int(St.ASSESSING_CANCELLATION)):
        ob.cancel()
    with reverts_with("OrderNotOpen", orderId=ORDER, state=int(St.COMPLETED)):
        ob.add_service("Z")
    ob.create_order("O2")
    ob.transition_order(St.REJECTED, order="O2")
    with reverts_with("OrderInvalidTransition", id=oid("O2"), to=int(St.IN_PROGRESS)):
        ob.transition_order(St.IN_PROGRESS, order="O2")


def test_service_items_follow_the_same_table(ob):
    ob.create_project()
    ob.create_order()
    ob.add_service("A")
    with reverts_with("OrderInvalidTransition", id=oid("svc:A"), to=int(St.COMPLETED)):
        ob.transition_service("A", St.COMPLETED)
    ob.transition_service("A", St.IN_PROGRESS)
    ob.transition_service("A", St.COMPLETED)
    assert ob.order().openServices == 0
    with reverts_with("OrderServiceClosed", serviceId=oid("svc:A")):
        ob.revise([(oid("svc:A"), int(Action.MODIFY), 2)], [])
    with reverts_with("OrderServiceNotFound", serviceId=oid("svc:Q")):
        ob.transition_service("Q", St.IN_PROGRESS)


def test_an_order_completes_only_when_every_item_is_closed(ob):
    lines = build_seed_order(ob)
    D1 = lines["D1"]
    with reverts_with("OrderHasOpenItems", orderId=ORDER, openLines=3, openServices=5):
        ob.transition_order(St.COMPLETED)
    ob.transition_service("D", St.IN_PROGRESS)
    with reverts_with("OrderServiceHasOpenLines", serviceId=oid("svc:D"), openLines=2):  # D1, D2
        ob.transition_service("D", St.COMPLETED)
    ob.revise([], [(int(Action.DELETE), line_ref_spec(lines[k].id)) for k in ("A1", "D2")])
    ob.deliver(D1, 6)
    ob.consume(D1.id, ob.vendor_y, "CABLE-Y", 8)  # D1 used in full: completed
    assert ob.line_state(D1) == St.COMPLETED
    for s in "ABCDE":
        if s != "D":
            ob.transition_service(s, St.IN_PROGRESS)
        ob.transition_service(s, St.COMPLETED)
    ob.transition_order(St.COMPLETED)
    assert ob.order_state() == St.COMPLETED


# ------------------------------------------------------------------ permissions


def test_revision_without_permission_is_denied_and_changes_nothing(ob):
    lines = build_seed_order(ob)
    before = _snapshot(ob, lines)
    params_services, params_lines = seed_revision(lines, Policy.PAUSE, Policy.PAUSE)
    for who, reason in (
        (ob.customer, DenyReason.NO_PERMISSION),
        (ob.vendor_x, DenyReason.NO_PERMISSION),
    ):
        receipt = ob.revise(params_services, params_lines, sender=who)
        denied = named(receipt, "ActionDenied")
        assert len(denied) == 1 and denied[0].reason == reason
        assert bytes(denied[0].action) == action_id("reviseOrder")
        assert not named(receipt, "OrderRevised") and not named(receipt, "LineReplanning")
        assert _snapshot(ob, lines) == before
    with reverts_with("ConstitutionNotMember", account=ob.stranger.address):  # outsiders are reverted
        ob.revise(params_services, params_lines, sender=ob.stranger)
    assert _snapshot(ob, lines) == before
    # a vendor cannot cancel nor consume either
    assert named(ob.cancel([lines["A1"].id], sender=ob.vendor_x), "ActionDenied")
    assert named(ob.consume(lines["D1"].id, ob.vendor_y, "CABLE-Y", 1, sender=ob.vendor_y), "ActionDenied")
    assert _snapshot(ob, lines) == before


# ------------------------------------------------------------------ stock


def test_consumption_only_against_the_line_it_was_reserved_for(ob):
    lines = build_seed_order(ob)
    D1, D2 = lines["D1"], lines["D2"]
    before = _snapshot(ob, lines)
    # vendor Y's cables were reserved for D1: not for D2, and not as vendor X's stock
    with reverts_with("StockWrongLine", lineId=D2.id, vendor=ob.vendor_y.address, sku=b"CABLE-Y".ljust(16, b"\0")):
        ob.consume(D2.id, ob.vendor_y, "CABLE-Y", 1)
    with reverts_with("StockWrongLine", lineId=D1.id, vendor=ob.vendor_x.address):
        ob.consume(D1.id, ob.vendor_x, "CABLE-Y", 1)
    with reverts_with("StockWrongLine", lineId=D1.id):
        ob.consume(D1.id, ob.vendor_y, "ROUTER-Y", 1)
    with reverts_with("OrderLineNotFound", lineId=oid("line:nope")):
        ob.consume(oid("line:nope"), ob.vendor_y, "CABLE-Y", 1)
    assert _snapshot(ob, lines) == before


def test_over_consumption_over_delivery_and_over_return_are_refused(ob):
    lines = build_seed_order(ob)
    A1, D1 = lines["A1"], lines["D1"]
    before = _snapshot(ob, lines)
    # D1: 4 delivered, 2 consumed -> 2 available
    with reverts_with("StockOverConsumption", lineId=D1.id, requested=3, available=2):
        ob.consume(D1.id, ob.vendor_y, "CABLE-Y", 3)
    with reverts_with("StockInvalidQuantity"):
        ob.consume(D1.id, ob.vendor_y, "CABLE-Y", 0)
    with reverts_with("OrderOverDelivery", lineId=D1.id, requested=7, available=6):
        ob.deliver(D1, 7)
    with reverts_with("OrderOverDelivery", lineId=A1.id, requested=1, available=0):
        ob.deliver(A1, 1)
    with reverts_with("OrderNotLineVendor", lineId=D1.id, caller=ob.vendor_x.address):
        ob.deliver(D1, 1, sender=ob.vendor_x)
    with reverts_with("StockOverReturn", lineId=D1.id, requested=3, available=2):
        ob.take_back(D1, 3)
    assert _snapshot(ob, lines) == before
    ob.consume(D1.id, ob.vendor_y, "CABLE-Y", 2)
    assert ob.stock(ob.vendor_y, "CABLE-Y") == (10, 0, 4, 4, 0, 6, 0)


# ------------------------------------------------------------------ revisions


def test_malformed_revisions_are_refused(ob):
    lines = build_seed_order(ob)
    before = _snapshot(ob, lines)
    A1, D1 = lines["A1"], lines["D1"]
    with reverts_with("OrderInvalidVersion", serviceId=oid("svc:A"), current=1, given=1):
        ob.revise([(oid("svc:A"), int(Action.MODIFY), 1)], [])
    with reverts_with("OrderServiceHasOpenLines", serviceId=oid("svc:D"), openLines=2):
        ob.revise([(oid("svc:D"), int(Action.DELETE), 0)], [])
    with reverts_with("OrderInvalidAction", action=int(Action.MODIFY)):
        ob.revise([], [(int(Action.MODIFY), line_ref_spec(D1.id))])
    with reverts_with("OrderUnknownPolicy", policy=2):
        ob.revise([], [(int(Action.NO_CHANGE), line_ref_spec(D1.id, 2))])
    with reverts_with("OrderLineExists", lineId=A1.id):
        ob.revise([], [(int(Action.ADD), A1.spec())])
    with reverts_with("OrderInvalidTransition", id=A1.id, to=int(St.ASSESSING_CANCELLATION)):
        ob.revise([], [(int(Action.DELETE), line_ref_spec(A1.id))] * 2)  # removed twice
    stray = Line("Z1", "Z", ob.vendor_x, "ONT-X")
    with reverts_with("OrderServiceNotFound", serviceId=oid("svc:Z")):
        ob.revise([], [(int(Action.ADD), stray.spec())])
    ob.revise([], [(int(Action.DELETE), line_ref_spec(A1.id))])
    with reverts_with("OrderLineInvalidState", lineId=A1.id, state=int(St.CANCELLED)):
        ob.revise([], [(int(Action.NO_CHANGE), line_ref_spec(A1.id))])  # a removed line is not kept
    before = _snapshot(ob, lines)
    too_many = [(int(Action.NO_CHANGE), line_ref_spec(D1.id))] * 65
    with reverts_with("OrderTooManyChanges", count=65, max=64):
        ob.revise([], too_many)
    ob.create_order("O2")
    with reverts_with("OrderLineNotInOrder", orderId=oid("O2"), lineId=D1.id):
        ob.revise([], [(int(Action.DELETE), line_ref_spec(D1.id))], order="O2")
    assert _snapshot(ob, lines) == before


def test_ids_are_unique_and_non_zero(ob):
    ob.create_project()
    with reverts_with("OrderProjectExists", projectId=oid("P")):
        ob.create_project()
    with reverts_with("OrderProjectNotFound", projectId=oid("nope")):
        ob.create_order(project="nope")
    ob.create_order()
    with reverts_with("OrderExists", orderId=ORDER):
        ob.create_order()
    ob.add_service("A")
    with reverts_with("OrderServiceExists", serviceId=oid("svc:A")):
        ob.add_service("A")
    with reverts_with("OrderInvalidLine"):
        ob.add_line(Line("L0", "A", ob.vendor_x, "ONT-X", quantity=0))
    assert ob.book.getProject(oid("P")) == (ob.customer.address, 1)
