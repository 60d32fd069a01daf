"""`telcochain order ...` and `telcochain stock ...`: the seed's revision as operations staff run it."""

from __future__ import annotations

import json

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)

REVISION = """
services:
  modify: {A: 2, C: 2}
  keep: [B, D]
  delete: [E]
lines:
  remove: [A1, D2]
  keep: {D1: pause}
  add:
    - {line: C1, service: C, vendor: Acme Networks, sku: ROUTER-X, quantity: 1, asset: RTR-C1, policy: pause}
"""


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def seed_order(as_member) -> None:
    for asset in ("ONT-A1", "RTR-D2", "RTR-C1"):
        ok(as_member(OPERATOR, "asset", "register", asset, "--kind", "CPE"))
    services = [arg for s in "ABCDE" for arg in ("--service", s)]
    out = ok(
        as_member(
            OPERATOR, "order", "create", "ORD-7", "--project", "PRJ-7", "--customer", "Initech Enterprise", *services
        )
    )
    assert "project PRJ-7 created" in out and "order ORD-7 created" in out and "service E v1 added" in out
    line = ["order", "add-line", "ORD-7"]
    ok(
        as_member(
            OPERATOR, *line, "A1", "--service", "A", "--vendor", "Acme Networks", "--sku", "ONT-X", "--asset", "ONT-A1"
        )
    )
    ok(
        as_member(
            OPERATOR,
            *line,
            "D1",
            "--service",
            "D",
            "--vendor",
            "Globex Optical",
            "--sku",
            "CABLE-Y",
            "--quantity",
            "10",
        )
    )
    ok(
        as_member(
            OPERATOR,
            *line,
            "D2",
            "--service",
            "D",
            "--vendor",
            "Globex Optical",
            "--sku",
            "ROUTER-Y",
            "--asset",
            "RTR-D2",
        )
    )
    ok(as_member(ACME, "stock", "deliver", "A1"))
    ok(as_member(GLOBEX, "stock", "deliver", "D2"))
    ok(as_member(GLOBEX, "stock", "deliver", "D1", "--quantity", "4"))
    ok(
        as_member(
            OPERATOR, "stock", "consume", "D1", "--vendor", "Globex Optical", "--sku", "CABLE-Y", "--quantity", "2"
        )
    )


def test_the_seed_revision_from_a_file_then_the_tree_and_the_ledger(as_member, tmp_path):
    seed_order(as_member)
    revision = tmp_path / "rev.yaml"
    revision.write_text(REVISION)
    out = ok(as_member(OPERATOR, "order", "revise", "ORD-7", "--file", str(revision), "--ref", "REV-7"))
    assert "ORD-7 revised (revision 1, held)" in out

    tree = ok(as_member(CUSTOMER, "order", "show", "ORD-7"))
    for text in (
        "project PRJ-7",
        "customer Initech Enterprise",
        "order ORD-7 held",
        "service A v2",
        "service E v1 cancelled",
        "A1 cancelled",
        "D1 held",
        "C1 held",
        "1 still out",
    ):
        assert text in tree, (text, tree)
    data = json.loads(ok(as_member(CUSTOMER, "order", "show", "ORD-7", "--json")))
    lines = {ln["line"]: ln for s in data["services"] for ln in s["lines"]}
    assert {k: v["state"] for k, v in lines.items()} == {
        "A1": "cancelled",
        "C1": "held",
        "D1": "held",
        "D2": "cancelled",
    }
    assert json.loads(ok(as_member(OPERATOR, "asset", "show", "ONT-A1", "--json")))["state"] == "Recovering"

    ok(as_member(OPERATOR, "order", "resume", "ORD-7", "D1", "C1"))
    assert json.loads(ok(as_member(OPERATOR, "order", "show", "ORD-7", "--json")))["state"] == "inProgress"

    rec = json.loads(ok(as_member(OPERATOR, "stock", "reconcile", "--vendor", "Globex Optical", "--json")))
    assert [ln["line"] for ln in rec["lines"]] == ["D1", "D2"]
    assert rec["totals"]["still_out"] == 3  # 2 cables delivered but unused, D2 to come back
    table = ok(as_member(OPERATOR, "stock", "reconcile", "--order", "ORD-7"))
    assert "reconciliation of order ORD-7" in table and "total" in table
    shown = json.loads(ok(as_member(OPERATOR, "stock", "show", "Globex Optical", "CABLE-Y", "--json")))
    assert (shown["reserved"], shown["delivered"], shown["consumed"], shown["open_reservation"]) == (10, 4, 2, 6)


def test_revision_options_and_cancellation(as_member):
    seed_order(as_member)
    out = ok(as_member(OPERATOR, "order", "revise", "ORD-7", "--modify-service", "A:2", "--keep-line", "D1:pause"))
    assert "revised (revision 1, held)" in out
    cancelled = ok(as_member(OPERATOR, "order", "cancel", "ORD-7"))
    assert "ORD-7 is cancelled; still out, to come back: A1, D1, D2" in cancelled
    project = json.loads(ok(as_member(CUSTOMER, "order", "show", "PRJ-7", "--project", "--json")))
    assert [o["state"] for o in project["orders"]] == ["cancelled"]


def test_order_errors_are_one_line_and_change_nothing(as_member, tmp_path):
    seed_order(as_member)
    denied = as_member(CUSTOMER, "order", "revise", "ORD-7", "--delete-service", "E")
    assert denied.exit_code == 1 and "reviseOrder denied" in denied.output and "no permission" in denied.output
    wrong = as_member(OPERATOR, "stock", "consume", "D1", "--vendor", "Globex Optical", "--sku", "ROUTER-Y")
    assert wrong.exit_code == 1 and wrong.output.startswith("Error: reverted: StockWrongLine(")
    over = as_member(
        OPERATOR, "stock", "consume", "D1", "--vendor", "Globex Optical", "--sku", "CABLE-Y", "--quantity", "3"
    )
    assert over.exit_code == 1 and "StockOverConsumption" in over.output
    illegal = as_member(OPERATOR, "order", "transition", "ORD-7", "rejected")  # inProgress → rejected: no edge
    assert illegal.exit_code == 1 and "OrderInvalidTransition" in illegal.output
    early = as_member(OPERATOR, "order", "transition", "ORD-7", "completed")
    assert early.exit_code == 1 and "OrderHasOpenItems(orderId='ORD-7', openLines=3, openServices=5)" in early.output
    assert as_member(OPERATOR, "order", "transition", "ORD-7", "finished").exit_code == 1
    missing = as_member(OPERATOR, "order", "show", "NOPE")
    assert missing.exit_code == 1 and missing.output.startswith(
        "Error: reverted: OrderNotFound(orderId='NOPE'): no such order"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("lines: {add: [{line: X}]}")
    malformed = as_member(OPERATOR, "order", "revise", "ORD-7", "--file", str(bad))
    assert malformed.exit_code == 1 and "malformed revision" in malformed.output
    assert as_member(OPERATOR, "order", "revise", "ORD-7", "--modify-service", "A").exit_code == 2
    assert as_member(OPERATOR, "stock", "reconcile").exit_code == 2

    after = json.loads(ok(as_member(OPERATOR, "order", "show", "ORD-7", "--json")))
    assert after["revision"] == 0 and after["state"] == "inProgress"
    ledger = json.loads(ok(as_member(OPERATOR, "stock", "show", "Globex Optical", "CABLE-Y", "--json")))
    assert ledger["consumed"] == 2


def test_installation_consumes_its_order_line_and_cancel_spares_installed_devices(
    as_member, local_node, client, dev_accounts
):
    """A twin ordered on a device line and installed under the agreement is the unit its line
    delivered: `install confirm` uses it on the line (completed, nothing still out); an order
    whose line holds an installed device is not cancelled (refused before sending, with the way out)."""
    from telcochain.rpc import Rpc

    ok(as_member(OPERATOR, "order", "create", "ORD-I", "--project", "PRJ-I", "--customer", "Initech Enterprise",
                 "--service", "A"))  # fmt: skip
    for twin, line in (("ONT-I1", "LI1"), ("ONT-I2", "LI2")):
        ok(as_member(OPERATOR, "asset", "register", twin, "--kind", "ONT", "--vendor", "Acme Networks"))
        ok(as_member(OPERATOR, "order", "add-line", "ORD-I", line, "--service", "A", "--vendor", "Acme Networks",
                     "--sku", "ONT-X", "--asset", twin))  # fmt: skip
        ok(as_member(ACME, "stock", "deliver", line))
        bind = json.loads(ok(as_member(ACME, "asset", "bind-serial", twin, f"SN-{twin}", "--json")))
        ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    req = json.loads(ok(as_member(OPERATOR, "install", "request", "ONT-I1", "--customer", "Initech Enterprise",
                                  "--json")))  # fmt: skip
    ok(as_member(CUSTOMER, "invoice", "pay", str(req["invoice_id"])))
    out = ok(as_member(OPERATOR, "install", "confirm", "ONT-I1"))
    assert "order line LI1: 1 unit used for ONT-I1" in out
    lines = {r["line"]: r for r in json.loads(ok(as_member(OPERATOR, "stock", "reconcile", "--order", "ORD-I",
                                                           "--json")))["lines"]}  # fmt: skip
    assert lines["LI1"]["still_out"] == 0 and lines["LI1"]["state"] == "completed"
    assert lines["LI2"]["still_out"] == 1  # delivered, not installed: still out
    assert json.loads(ok(as_member(OPERATOR, "asset", "show", "ONT-I1", "--json")))["on_order_line"] is False

    # ONT-I2 installed through the SDK alone: its line stays open, holding an Active twin
    req = client.agreement.request_installation("ONT-I2", dev_accounts[CUSTOMER].address)
    ok(as_member(CUSTOMER, "invoice", "pay", str(req.invoice_id)))
    client.agreement.confirm_installation("ONT-I2")
    rpc = Rpc(local_node.rpc_url)
    block = rpc.call("eth_blockNumber")
    refused = as_member(OPERATOR, "order", "cancel", "ORD-I")
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    assert "line LI2 of ORD-I holds ONT-I2, installed and Active" in refused.output
    assert "telcochain disconnect ONT-I2" in refused.output
    unknown = as_member(OPERATOR, "order", "cancel", "ORD-I", "--line", "NOPE")
    assert unknown.exit_code == 1 and "no line NOPE in ORD-I" in unknown.output
    assert rpc.call("eth_blockNumber") == block  # nothing sent
