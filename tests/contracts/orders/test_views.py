"""The tree views: a project's orders and an order's service items, paged."""

from __future__ import annotations

from tests.support.orders import St, oid


def test_project_orders_and_order_services_are_listed_in_creation_order(ob):
    ob.create_project("P")
    for order in ("O1", "O2", "O3"):
        ob.create_order(order, "P")
    for service in ("A", "B", "C"):
        ob.add_service(service, order="O2")

    assert [bytes(i) for i in ob.book.projectOrders(oid("P"), 0, 10)] == [oid("O1"), oid("O2"), oid("O3")]
    assert [bytes(i) for i in ob.book.projectOrders(oid("P"), 1, 1)] == [oid("O2")]
    assert list(ob.book.projectOrders(oid("P"), 3, 5)) == []
    assert list(ob.book.projectOrders(oid("P"), 99, 5)) == []  # past the end: empty, no revert

    ids, views = ob.book.orderServices(oid("O2"), 0, 10)
    assert [bytes(i) for i in ids] == [oid("svc:A"), oid("svc:B"), oid("svc:C")]
    assert [St(v[0]) for v in views] == [St.ACKNOWLEDGED] * 3
    ids, _ = ob.book.orderServices(oid("O2"), 2, 10)
    assert [bytes(i) for i in ids] == [oid("svc:C")]
    assert list(ob.book.orderServices(oid("O1"), 0, 10)[0]) == []


def test_a_deleted_service_stays_listed_with_its_state(ob):
    ob.create_project("P")
    ob.create_order("O", "P")
    ob.add_service("A")
    ob.add_service("E")
    ob.revise([(oid("svc:E"), 2, 1)], [])  # Delete E

    ids, views = ob.book.orderServices(oid("O"), 0, 10)
    assert [bytes(i) for i in ids] == [oid("svc:A"), oid("svc:E")]
    assert St(views[1][0]) == St.CANCELLED
