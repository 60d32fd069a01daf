"""Gas of the main OrderBook actions (whole transaction through executeAction, berlin, from
the receipts). Prints a table (run with ``-s``); the bounds are loose sanity checks."""

from __future__ import annotations

from gas_figures import gas_figures

from tests.support.orders import Line, Policy, oid

from .scenario import build_seed_order, seed_revision

BOUNDS = {
    "createProject": 90_000,
    "createOrder": 130_000,  # incl. the project → orders index slot (20k)
    "addService": 130_000,  # incl. the order → services index slot (20k)
    # + the order's vendor index (issue 14: vendors are notified of the order's status): one new
    # slot (~22k) for the first line of each vendor of an order
    "addDeviceLine (unmanaged)": 290_000,
    # + the twin's parties recorded (customer and vendor: two new slots and a history step)
    "addDeviceLine (managed: asset -> PendingInstallation)": 380_000,
    "deliverLine (first, asset -> Delivered)": 150_000,
    "deliverLine (more units)": 90_000,
    "consumeStock": 90_000,
    "reviseOrder (seed, all Pause)": 600_000,
    "reviseOrder (seed, all AutoCorrect)": 650_000,
    "resumeLines (D1 + paused C1)": 200_000,
    "cancelOrder (3 lines, 5 services)": 400_000,
}


#: Each measured action → its figure in docs/gas.json (``orders.<key>``), and a longer label.
KEYS = {
    "createProject": "createProject",
    "createOrder": "createOrder",
    "addService": "addService",
    "addDeviceLine (unmanaged)": "addDeviceLine",
    "addDeviceLine (managed: asset -> PendingInstallation)": "addDeviceLine_managed",
    "deliverLine (first, asset -> Delivered)": "deliverLine_first",
    "deliverLine (more units)": "deliverLine_more",
    "consumeStock": "consumeStock",
    "reviseOrder (seed, all Pause)": "reviseOrder_pause",
    "reviseOrder (seed, all AutoCorrect)": "reviseOrder_autocorrect",
    "resumeLines (D1 + paused C1)": "resumeLines",
    "cancelOrder (3 lines, 5 services)": "cancelOrder",
}
LABELS = {
    "addDeviceLine (unmanaged)": "addDeviceLine (unmanaged; a vendor's first line in the order adds its vendor slot)",
    "addDeviceLine (managed: asset -> PendingInstallation)": "addDeviceLine (managed: asset → PendingInstallation)",
    "deliverLine (first, asset -> Delivered)": "deliverLine (first, asset → Delivered)",
    "reviseOrder (seed, all Pause)": "reviseOrder (seed revision, all Pause)",
    "reviseOrder (seed, all AutoCorrect)": "reviseOrder (seed revision, all AutoCorrect)",
}


def test_gas_of_main_actions(ob, chain):
    gas: dict[str, int] = {}
    gas["createProject"] = ob.create_project().gas_used
    gas["createOrder"] = ob.create_order().gas_used
    gas["addService"] = ob.add_service("A").gas_used
    ob.add_service("B")
    ob.register_asset("g1")
    gas["addDeviceLine (unmanaged)"] = ob.add_line(Line("G0", "A", ob.vendor_x, "CABLE", 10)).gas_used
    managed = Line("G1", "B", ob.vendor_x, "ONT", 1, asset="g1")
    gas["addDeviceLine (managed: asset -> PendingInstallation)"] = ob.add_line(managed).gas_used
    gas["deliverLine (first, asset -> Delivered)"] = ob.deliver(managed).gas_used
    ob.deliver(Line("G0", "A", ob.vendor_x, "CABLE", 10), 2)
    gas["deliverLine (more units)"] = ob.deliver(Line("G0", "A", ob.vendor_x, "CABLE", 10), 3).gas_used
    gas["consumeStock"] = ob.consume(Line("G0", "A", ob.vendor_x, "CABLE").id, ob.vendor_x, "CABLE", 2).gas_used

    seed = ("A1", "D1", "D2")
    snap = chain.snapshot()
    lines = build_seed_order(ob, "S", new_project=False)
    revise = ob.revise(*seed_revision(lines, Policy.PAUSE, Policy.PAUSE), order="S")
    gas["reviseOrder (seed, all Pause)"] = revise.gas_used
    gas["resumeLines (D1 + paused C1)"] = ob.resume([lines["D1"].id, lines["C1"].id], order="S").gas_used
    chain.restore(snap)
    snap = chain.snapshot()
    lines = build_seed_order(ob, "S", new_project=False)
    revise = ob.revise(*seed_revision(lines, Policy.AUTO_CORRECT, Policy.AUTO_CORRECT), order="S")
    gas["reviseOrder (seed, all AutoCorrect)"] = revise.gas_used
    chain.restore(snap)
    lines = build_seed_order(ob, "S", new_project=False)
    services = [oid(f"svc:{s}") for s in "ABCDE"]
    gas["cancelOrder (3 lines, 5 services)"] = ob.cancel([lines[k].id for k in seed], services, order="S").gas_used

    with gas_figures() as figures:
        for name, used in gas.items():
            figures(f"orders.{KEYS[name]}", used, LABELS.get(name, name))
    print("\n| OrderBook action (whole tx) | gas |\n| --- | ---: |")
    for name, used in gas.items():
        print(f"| {name} | {used:,} |")
    for name, used in gas.items():
        assert used < BOUNDS[name], (name, used)
