"""client.orders against the example consortium: the seed's resiliency scenario through the
SDK (Pause, AutoCorrect, mixed), what each supplier is notified of, the stock ledger and
reconciliation, cancellation, and the errors (each clear, nothing changed)."""

from __future__ import annotations

import dataclasses

import pytest
from telcochain import ActionCall, Client, PermissionDenied
from telcochain.assets import AssetState
from telcochain.errors import (
    ConfigurationError,
    OrderInvalidTransition,
    OrderLineNotFound,
    OrderNotFound,
    OrderNotLineVendor,
    OrderProjectExists,
    OrderProjectNotFound,
    StockOverConsumption,
    StockWrongLine,
)
from telcochain.notifications import NotificationStream
from telcochain.orders import ORDER_TRANSITIONS, ChangePolicy, DeviceLine, ItemAction, OrderState, Revision

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)
S = OrderState
P, AC = ChangePolicy.PAUSE, ChangePolicy.AUTO_CORRECT


@pytest.fixture
def team(local_node, deployment_path, dev_accounts):
    return [Client.connect(local_node.rpc_url, a, deployment=deployment_path) for a in dev_accounts[:4]]


def lines_of(team) -> dict[str, DeviceLine]:
    acme, globex = team[ACME].address, team[GLOBEX].address
    return {
        "A1": DeviceLine("A1", "A", acme, "ONT-X", 1, asset="ONT-A1"),
        "D1": DeviceLine("D1", "D", globex, "CABLE-Y", 10),
        "D2": DeviceLine("D2", "D", globex, "ROUTER-Y", 1, asset="RTR-D2"),
        "C1": DeviceLine("C1", "C", acme, "ROUTER-X", 1, asset="RTR-C1"),
    }


def build_seed_order(team, order: str = "ORD-1") -> dict[str, DeviceLine]:
    """Five services A-E; devices A1, D1, D2 added late; A1 and D2 delivered; D1 4/10 delivered, 2 used."""
    op, acme, globex = team[OPERATOR], team[ACME], team[GLOBEX]
    lines = lines_of(team)
    for asset in ("ONT-A1", "RTR-D2", "RTR-C1"):
        op.assets.register(asset, "CPE")
    op.orders.create_project("PRJ-NORTH", team[CUSTOMER].address)
    op.orders.create_order(order, "PRJ-NORTH")
    for service in "ABCDE":
        op.orders.add_service(order, service)
    for label in ("A1", "D1", "D2"):
        op.orders.add_device_line(order, lines[label])
    acme.orders.deliver("A1")
    globex.orders.deliver("D2")
    globex.orders.deliver("D1", 4)
    op.orders.consume("D1", globex.address, "CABLE-Y", 2)
    return lines


def seed_revision(lines, d1: ChangePolicy, c1: ChangePolicy) -> Revision:
    """A → A', B, C → C', D, no E; devices (A1, D1, D2) → (C1, D1)."""
    return (
        Revision()
        .modify_service("A", 2)
        .keep_service("B")
        .modify_service("C", 2)
        .keep_service("D")
        .delete_service("E")
        .remove_line("A1")
        .remove_line("D2")
        .keep_line("D1", d1)
        .add_line(dataclasses.replace(lines["C1"], policy=c1))
    )


def drain(stream: NotificationStream) -> list:
    taken = stream.poll()
    for n in taken:
        stream.ack(n)
    return taken


def supplier_view(notifications) -> set[tuple[str, str]]:
    return {(n.name, n.args["lineId"].rstrip(b"\0").decode()) for n in notifications if "lineId" in n.args}


def test_the_python_transition_table_is_the_chains(client):
    for source in S:
        for target in S:
            expected = target in ORDER_TRANSITIONS.get(source, frozenset())
            assert client.orders.contract.call("canTransition", int(source), int(target)) == expected, (source, target)


@pytest.mark.parametrize(("d1", "c1"), [(P, P), (AC, AC), (P, AC)], ids=["pause", "autocorrect", "mixed-per-device"])
def test_seed_revision_through_the_sdk(team, tmp_path, d1, c1):
    op = team[OPERATOR]
    streams = {who: NotificationStream(team[who], tmp_path / f"{who}.json") for who in (ACME, GLOBEX)}
    lines = build_seed_order(team)
    for stream in streams.values():
        drain(stream)  # what came before the revision

    op.orders.revise("ORD-1", seed_revision(lines, d1, c1), ref="REV-1")

    order = team[CUSTOMER].orders.get("ORD-1")
    services = {s.name: s for s in order.services}
    assert [(services[s].version, services[s].action) for s in "ABCD"] == [
        (2, ItemAction.MODIFY),
        (1, ItemAction.NO_CHANGE),
        (2, ItemAction.MODIFY),
        (1, ItemAction.NO_CHANGE),
    ]
    assert services["E"].state is S.CANCELLED and services["E"].action is ItemAction.DELETE
    line = {ln.name: ln for ln in order.lines}
    assert set(line) == {"A1", "D1", "D2", "C1"}  # nothing dropped: removed lines stay, cancelled
    assert line["A1"].state is S.CANCELLED and line["D2"].state is S.CANCELLED
    assert op.assets.get("ONT-A1").state is AssetState.RECOVERING  # delivered, then removed
    assert op.assets.get("RTR-D2").state is AssetState.RECOVERING
    assert line["D1"].state is (S.HELD if d1 is P else S.IN_PROGRESS)
    assert line["C1"].state is (S.HELD if c1 is P else S.ACKNOWLEDGED)
    assert op.assets.get("RTR-C1").state is (AssetState.PLANNED if c1 is P else AssetState.PENDING_INSTALLATION)
    held = (d1 is P) + (c1 is P)
    assert (order.state, order.held_lines, order.open_lines, order.revision) == (
        S.HELD if held else S.IN_PROGRESS,
        held,
        2,
        1,
    )

    # each supplier is told only of its own lines — Pause tells it at once (LineReplanning)
    acme_saw = supplier_view(drain(streams[ACME]))
    globex_saw = supplier_view(drain(streams[GLOBEX]))
    assert acme_saw == {("LineRemoved", "A1"), ("LineAdded", "C1")} | ({("LineReplanning", "C1")} if c1 is P else set())
    assert globex_saw == {("LineRemoved", "D2")} | ({("LineReplanning", "D1")} if d1 is P else set())

    # stock ledger per vendor and SKU
    assert op.orders.stock(team[ACME].address, "ONT-X").still_out == 1  # A1 must come back
    cable = op.orders.stock(team[GLOBEX].address, "CABLE-Y")
    assert (cable.reserved, cable.delivered, cable.consumed, cable.open_reservation, cable.still_out) == (
        10,
        4,
        2,
        6,
        2,
    )
    router_x = op.orders.stock(team[ACME].address, "ROUTER-X")
    assert router_x.reserved == (0 if c1 is P else 1)
    rec = op.orders.reconcile(order="ORD-1")
    assert [ln.name for ln in rec.lines] == ["A1", "D1", "D2", "C1"]
    ordered_c1 = int(c1 is AC)
    assert (rec.totals.reserved, rec.totals.delivered, rec.totals.consumed, rec.totals.still_out) == (
        12 + ordered_c1,
        6,
        2,
        4,
    )


def test_paused_lines_resume_and_the_vendor_reconciliation_balances(team):
    op, acme, globex = team[OPERATOR], team[ACME], team[GLOBEX]
    lines = build_seed_order(team)
    op.orders.revise("ORD-1", seed_revision(lines, P, P))
    op.orders.resume("ORD-1", ["D1", "C1"])
    assert op.orders.get("ORD-1").state is S.IN_PROGRESS
    acme.orders.deliver("C1")
    globex.orders.deliver("D1", 6)
    op.orders.consume("D1", globex.address, "CABLE-Y", 8)
    acme.orders.return_stock("A1")
    globex.orders.return_stock("D2")

    assert op.orders.line("D1").state is S.COMPLETED
    rec = op.orders.reconcile(vendor=globex.address)
    assert [ln.name for ln in rec.lines] == ["D1", "D2"]
    t = rec.totals
    assert (t.reserved, t.delivered, t.consumed, t.returned, t.still_out, t.open_reservation) == (11, 11, 10, 1, 0, 0)
    assert rec.subject == f"vendor {globex.address}"


def test_cancel_at_any_stage_releases_undelivered_and_recovers_delivered(team):
    op = team[OPERATOR]
    lines = build_seed_order(team)
    op.orders.add_device_line("ORD-1", lines["C1"])  # ordered, not delivered
    results = op.orders.cancel("ORD-1")
    assert all(r.executed for r in results)
    order = op.orders.get("ORD-1")
    assert order.state is S.CANCELLED
    assert all(s.state is S.CANCELLED for s in order.services)
    assert all(ln.state is S.CANCELLED for ln in order.lines)
    assert op.assets.get("ONT-A1").state is AssetState.RECOVERING
    assert op.assets.get("RTR-C1").state is AssetState.PLANNED  # only ordered: back to design
    cable = op.orders.stock(team[GLOBEX].address, "CABLE-Y")
    assert (cable.released, cable.still_out) == (6, 2)


def test_a_large_order_is_cancelled_over_several_bounded_calls(team):
    op, acme = team[OPERATOR], team[ACME]
    op.orders.create_project("PRJ-BIG", team[CUSTOMER].address)
    op.orders.create_order("ORD-BIG", "PRJ-BIG")
    op.orders.add_service("ORD-BIG", "SVC")
    calls = [
        ActionCall(
            "addDeviceLine",
            (b"ORD-BIG".ljust(32, b"\0"), DeviceLine(f"L{n}", "SVC", acme.address, "PATCH").spec(), b"\0" * 32),
        )
        for n in range(70)
    ]
    assert {o.status for o in op.constitution.execute_batch(calls)} == {"executed"}
    results = op.orders.cancel("ORD-BIG")
    assert len(results) == 2  # 64 lines, then 6 lines and the service
    assert op.orders.get("ORD-BIG").state is S.CANCELLED
    assert op.orders.stock(acme.address, "PATCH").released == 70


def test_project_tree_lists_every_order(team):
    op = team[OPERATOR]
    op.orders.create_project("PRJ-T", team[CUSTOMER].address)
    for order in ("T-1", "T-2"):
        op.orders.create_order(order, "PRJ-T")
        op.orders.add_service(order, "SVC-1")
    project = team[CUSTOMER].orders.project("PRJ-T")
    assert project.customer == team[CUSTOMER].address
    assert [o.name for o in project.orders] == ["T-1", "T-2"]
    assert [s.name for s in project.orders[1].services] == ["SVC-1"]


def test_illegal_transitions_are_refused_and_change_nothing(team):
    op = team[OPERATOR]
    op.orders.create_project("PRJ-X", team[CUSTOMER].address)
    op.orders.create_order("ORD-X", "PRJ-X")
    with pytest.raises(OrderInvalidTransition):
        op.orders.transition("ORD-X", "completed")  # acknowledged → completed is not an edge
    with pytest.raises(OrderInvalidTransition):
        op.orders.transition("ORD-X", "cancelled")  # only through cancel()
    assert op.orders.get("ORD-X").state is S.ACKNOWLEDGED
    op.orders.transition("ORD-X", "inProgress")
    assert op.orders.get("ORD-X").state is S.IN_PROGRESS
    with pytest.raises(ConfigurationError, match="unknown order state"):
        op.orders.transition("ORD-X", "finished")


def test_a_revision_by_a_member_without_permission_is_denied_and_changes_nothing(team):
    lines = build_seed_order(team)
    before = team[OPERATOR].orders.get("ORD-1")
    with pytest.raises(PermissionDenied, match="no permission"):
        team[CUSTOMER].orders.revise("ORD-1", seed_revision(lines, P, P))
    with pytest.raises(PermissionDenied):
        team[ACME].orders.cancel("ORD-1", lines=["A1"])
    assert team[OPERATOR].orders.get("ORD-1") == before


def test_consumption_only_against_its_line_and_never_more_than_delivered(team):
    op, globex = team[OPERATOR], team[GLOBEX]
    build_seed_order(team)
    before = op.orders.reconcile(order="ORD-1")
    with pytest.raises(StockWrongLine):
        op.orders.consume("D1", globex.address, "ROUTER-Y", 1)  # D1 reserved cable, not routers
    with pytest.raises(StockWrongLine):
        op.orders.consume("D1", team[ACME].address, "CABLE-Y", 1)  # nor from another vendor
    with pytest.raises(StockOverConsumption):
        op.orders.consume("D1", globex.address, "CABLE-Y", 3)  # 4 delivered, 2 used: 2 left
    with pytest.raises(OrderNotLineVendor):
        globex.orders.deliver("A1")  # it may deliver, but A1 is Acme's line
    assert op.orders.reconcile(order="ORD-1") == before


def test_reads_of_unknown_ids_and_bad_input_are_clear(team):
    op = team[OPERATOR]
    with pytest.raises(OrderNotFound, match="NOPE"):
        op.orders.get("NOPE")
    with pytest.raises(OrderProjectNotFound):
        op.orders.project("NOPE")
    with pytest.raises(OrderLineNotFound):
        op.orders.line("NOPE")
    op.orders.create_project("PRJ-D", team[CUSTOMER].address)
    with pytest.raises(OrderProjectExists):
        op.orders.create_project("PRJ-D", team[CUSTOMER].address)
    with pytest.raises(ConfigurationError, match="SKU"):
        DeviceLine("L", "S", team[ACME].address, "A-VERY-LONG-SKU-CODE").spec()
    with pytest.raises(ConfigurationError, match="quantity"):
        op.orders.deliver("L", 0)
    with pytest.raises(ConfigurationError, match="empty revision"):
        op.orders.revise("ORD-1", Revision())
    with pytest.raises(ConfigurationError, match="one order or one vendor"):
        op.orders.reconcile()
