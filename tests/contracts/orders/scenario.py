"""The seed's resiliency scenario (seed 001 "Test approach resiliency"), shared by the tests.

One order carries five services A-E; late in design devices A1, D1 and D2 are added; a
revision turns the services into A', B, C', D (no E) and the devices into (C1, D1).

- A1: vendor X, ``ONT-X``, managed (asset a1), delivered before the revision;
- D1: vendor Y, ``CABLE-Y`` x 10, unmanaged, 4 delivered and 2 consumed before the revision;
- D2: vendor Y, ``ROUTER-Y``, managed (asset d2), delivered before the revision;
- C1: vendor X, ``ROUTER-X``, managed (asset c1), added by the revision.
"""

from __future__ import annotations

from tests.support.orders import Action, Book, Line, Policy, line_ref_spec, oid

SERVICES = ["A", "B", "C", "D", "E"]


def seed_lines(ob: Book) -> dict[str, Line]:
    x, y = ob.roles["vendor_x"], ob.roles["vendor_y"]
    return {
        "A1": Line("A1", "A", x, "ONT-X", 1, asset="a1"),
        "D1": Line("D1", "D", y, "CABLE-Y", 10),
        "D2": Line("D2", "D", y, "ROUTER-Y", 1, asset="d2"),
        "C1": Line("C1", "C", x, "ROUTER-X", 1, asset="c1"),
    }


def build_seed_order(ob: Book, order: str = "O", new_project: bool = True) -> dict[str, Line]:
    """Project P / order ``order`` with services A-E (v1), lines A1, D1, D2 ordered; A1 and D2
    delivered (the order is then in progress), D1 4 of 10 delivered and 2 consumed."""
    lines = seed_lines(ob)
    for asset in ("a1", "d2", "c1"):
        ob.register_asset(asset)
    if new_project:
        ob.create_project()
    ob.create_order(order)
    for s in SERVICES:
        ob.add_service(s, order=order)
    for label in ("A1", "D1", "D2"):
        ob.add_line(lines[label], order=order)
    ob.deliver(lines["A1"])
    ob.deliver(lines["D2"])
    ob.deliver(lines["D1"], 4)
    ob.consume(lines["D1"].id, lines["D1"].vendor, "CABLE-Y", 2)
    return lines


def seed_revision(lines: dict[str, Line], d1_policy: Policy, c1_policy: Policy) -> tuple[list, list]:
    services = [
        (oid("svc:A"), int(Action.MODIFY), 2),
        (oid("svc:B"), int(Action.NO_CHANGE), 1),
        (oid("svc:C"), int(Action.MODIFY), 2),
        (oid("svc:D"), int(Action.NO_CHANGE), 1),
        (oid("svc:E"), int(Action.DELETE), 0),
    ]
    changes = [
        (int(Action.DELETE), line_ref_spec(lines["A1"].id)),
        (int(Action.DELETE), line_ref_spec(lines["D2"].id)),
        (int(Action.NO_CHANGE), line_ref_spec(lines["D1"].id, d1_policy)),
        (int(Action.ADD), lines["C1"].spec(c1_policy)),
    ]
    return services, changes
