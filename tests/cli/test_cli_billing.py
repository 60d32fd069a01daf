"""`telcochain invoice pay --amount|dispute|resolve|show` with line items and `vendor
terms|invoice|settle|credit|show` (issue 14 part B), as operations staff run them."""

from __future__ import annotations

import json

from .test_cli_agreement import ACME, CUSTOMER, GLOBEX, OPERATOR, installed, ok

TSD = 10**6


def test_partial_payment_dispute_of_a_line_and_resolution(as_member):
    installed(as_member, "ONT-B1")
    ok(as_member(OPERATOR, "macd", "move", "ONT-B1"))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-B1"))
    ok(as_member(OPERATOR, "macd", "add", "ONT-B1"))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-B1"))
    billed = json.loads(ok(as_member(OPERATOR, "invoice", "bill", "Initech Enterprise", "--json")))
    inv = str(billed["invoice_id"])
    shown = json.loads(ok(as_member(CUSTOMER, "invoice", "show", inv, "--json")))
    assert [x["kind"] for x in shown["lines"]] == ["move", "add"] and shown["lines_verified"] is True
    assert shown["outstanding"] == 120 * TSD
    table = ok(as_member(CUSTOMER, "invoice", "show", inv))
    assert "line items (match the bill's commitment)" in table and "80.00 TSD" in table

    out = ok(as_member(CUSTOMER, "invoice", "pay", inv, "--amount", "30"))
    assert f"invoice #{inv}: 30.00 TSD paid, 90.00 TSD outstanding" in out
    opened = json.loads(
        ok(
            as_member(
                CUSTOMER,
                "invoice",
                "dispute",
                inv,
                "--amount",
                "40",
                "--line",
                "2",
                "--reason",
                "never added",
                "--json",
            )
        )
    )
    assert opened["amount"] == 40 * TSD and opened["line"] == shown["lines"][1]["line_ref"]
    refused = as_member(OPERATOR, "invoice", "dispute", inv, "--amount", "1", "--reason", "x")
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    ok(as_member(CUSTOMER, "invoice", "pay", inv))  # the undisputed rest: 50
    out = ok(as_member(OPERATOR, "invoice", "resolve", str(opened["dispute"]), "--credit", "10"))
    assert "10.00 TSD credited" in out
    # the rejected 30 is settled: the payer cannot dispute it again (refused before sending)
    again = as_member(CUSTOMER, "invoice", "dispute", inv, "--amount", "30", "--reason", "still never added")
    assert again.exit_code == 1 and len(again.output.strip().splitlines()) == 1
    assert "30.00 TSD settled" in again.output and "cannot be disputed again" in again.output
    assert "0.00 TSD was never disputed" in again.output
    ok(as_member(CUSTOMER, "invoice", "pay", inv))  # the rest of the dispute: 30
    final = json.loads(ok(as_member(CUSTOMER, "invoice", "show", inv, "--json")))
    assert final["status"] == "released" and final["receipt"]["amount"] == 110 * TSD
    assert final["written_off"] == 10 * TSD and final["disputes"][0]["status"] == "resolved"
    assert len(final["disputes"]) == 1  # the refused re-dispute opened nothing


def test_vendor_invoice_and_settle(as_member):
    installed(as_member, "ONT-V1")  # the operator earns 250 TSD to pay its vendor with
    opened = json.loads(
        ok(as_member(OPERATOR, "vendor", "terms", "Acme Networks", "ONT-Z", "--price", "20.5", "--json"))
    )
    for member in (ACME, GLOBEX):
        ok(as_member(member, "vote", str(opened["proposal_id"]), "--approve"))
    assert "20.50 TSD" in ok(as_member(OPERATOR, "vendor", "terms", "Acme Networks", "ONT-Z"))
    ok(
        as_member(
            OPERATOR,
            "order",
            "create",
            "ORD-Z",
            "--project",
            "PRJ-Z",
            "--customer",
            "Initech Enterprise",
            "--service",
            "SVC-Z",
        )
    )
    line = ["ORD-Z", "L-Z", "--service", "SVC-Z", "--vendor", "Acme Networks", "--sku", "ONT-Z", "--quantity", "4"]
    ok(as_member(OPERATOR, "order", "add-line", *line))
    ok(as_member(ACME, "stock", "deliver", "L-Z", "--quantity", "2"))
    over = as_member(ACME, "vendor", "invoice", "L-Z", "--quantity", "3")
    assert over.exit_code == 1 and "2 unit(s) can be invoiced now" in over.output
    made = json.loads(
        ok(as_member(ACME, "vendor", "invoice", "L-Z", "--quantity", "2", "--vendor-ref", "ACME-9", "--json"))
    )
    assert made["amount"] == 41 * TSD
    shown = json.loads(ok(as_member(OPERATOR, "vendor", "show", "L-Z", "--json")))
    assert (shown["reserved"], shown["billable"], shown["invoiced"], shown["invoiceable"]) == (4, 2, 2, 0)
    wrong = as_member(ACME, "vendor", "settle", str(made["invoice"]))
    assert wrong.exit_code == 1 and "only its payer" in wrong.output and len(wrong.output.strip().splitlines()) == 1
    out = ok(as_member(OPERATOR, "vendor", "settle", str(made["invoice"])))
    assert f"vendor invoice #{made['invoice']} paid: 41.00 TSD" in out
    paid = json.loads(ok(as_member(ACME, "invoice", "show", str(made["invoice"]), "--json")))
    assert paid["status"] == "released" and paid["receipt"]["amount"] == 41 * TSD
