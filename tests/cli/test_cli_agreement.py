"""`telcochain install|macd|disconnect|invoice`: the operator agreement as operations staff run it."""

from __future__ import annotations

import json

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def installed(as_member, asset: str) -> None:
    ok(as_member(OPERATOR, "asset", "register", asset, "--kind", "ONT", "--vendor", "Acme Networks"))
    bind = json.loads(ok(as_member(ACME, "asset", "bind-serial", asset, f"SN-{asset}", "--json")))
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    req = json.loads(ok(as_member(OPERATOR, "install", "request", asset, "--customer", "Initech Enterprise", "--json")))
    ok(as_member(ACME, "asset", "transition", asset, "deliver"))
    paid = ok(as_member(CUSTOMER, "invoice", "pay", str(req["invoice_id"])))
    assert f"invoice #{req['invoice_id']} paid: 250.00 TSD into escrow until confirmation" in paid
    confirmed = ok(as_member(OPERATOR, "install", "confirm", asset))
    assert f"{asset} installed and Active" in confirmed


def test_install_macd_bill_and_pay(as_member):
    installed(as_member, "ONT-C1")
    installed(as_member, "ONT-C2")
    out = ok(as_member(OPERATOR, "macd", "change", "ONT-C1", "--ref", "MACD-7"))
    assert "change ordered for ONT-C1 (PendingChange); charge 25.00 TSD" in out
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-C1"))
    batch = json.loads(ok(as_member(OPERATOR, "macd", "move", "ONT-C1", "ONT-C2", "--json")))
    (chunk,) = batch["chunks"]  # one transaction for both
    assert chunk["action"] == "orderChanges" and chunk["charge"] == 160 * 10**6 and batch["resubmit"] == []
    confirmed = ok(as_member(OPERATOR, "macd", "confirm", "ONT-C1", "ONT-C2"))
    assert "chunk 1/1 (Initech Enterprise, changes, 2 twins): confirmed, Active again" in confirmed
    billed = json.loads(ok(as_member(OPERATOR, "invoice", "bill", "Initech Enterprise", "--json")))
    listed = json.loads(ok(as_member(CUSTOMER, "invoice", "list", "--payer", "Initech Enterprise", "--json")))
    assert [i["status"] for i in listed] == ["released", "released", "issued"]
    assert listed[-1]["id"] == billed["invoice_id"]
    shown = json.loads(ok(as_member(CUSTOMER, "invoice", "show", str(billed["invoice_id"]), "--json")))
    assert shown["overdue"] is False and shown["hold"] is False
    ok(as_member(CUSTOMER, "invoice", "pay", str(billed["invoice_id"])))
    table = ok(as_member(OPERATOR, "invoice", "list", "--payee", "Northwind Telecom"))
    assert "Initech Enterprise" in table and "released" in table


def test_non_payment_disconnect_needs_an_overdue_invoice(as_member, local_node):
    import requests

    installed(as_member, "ONT-NP")
    ok(as_member(OPERATOR, "macd", "add", "ONT-NP"))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-NP"))
    ok(as_member(OPERATOR, "invoice", "bill", "Initech Enterprise"))
    early = as_member(OPERATOR, "disconnect", "ONT-NP", "--non-payment")
    assert early.exit_code == 1 and "is overdue" in early.output and len(early.output.strip().splitlines()) == 1
    for method, params in (("evm_increaseTime", [31 * 86400]), ("evm_mine", [])):
        requests.post(
            local_node.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=10
        )
    out = ok(as_member(OPERATOR, "disconnect", "ONT-NP", "--non-payment"))
    assert "for non-payment of invoice #" in out and "PendingDisconnect" in out
    done = ok(as_member(OPERATOR, "disconnect", "ONT-NP", "--confirm"))
    assert "ONT-NP disconnected (Inactive)" in done
    assert json.loads(ok(as_member(OPERATOR, "asset", "show", "ONT-NP", "--json")))["state"] == "Inactive"


def test_agreement_errors_are_one_line(as_member):
    installed(as_member, "ONT-E1")
    dup = as_member(OPERATOR, "install", "request", "ONT-E1", "--customer", "Initech Enterprise")
    assert dup.exit_code == 1 and dup.output.startswith("Error: reverted: AgreementDuplicateInstallation(")
    denied = as_member(ACME, "macd", "delete", "ONT-E1")
    assert denied.exit_code == 1 and "orderChange denied" in denied.output
    missing = as_member(OPERATOR, "invoice", "show", "99")
    assert missing.exit_code == 1 and "EscrowUnknownInvoice(invoiceId=99)" in missing.output
    assert as_member(OPERATOR, "macd", "upgrade", "ONT-E1").exit_code == 2
    assert as_member(OPERATOR, "disconnect", "ONT-E1", "--confirm", "--cancel").exit_code == 2


def test_money_is_visible_where_it_moves(as_member):
    """bill / disconnect --confirm report the invoice they made (JSON and line); the running
    account shows what a bill would invoice; watch speaks in names, amounts and states."""
    installed(as_member, "ONT-M1")
    ok(as_member(CUSTOMER, "macd", "add", "ONT-M1"))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-M1"))
    account = json.loads(ok(as_member(OPERATOR, "invoice", "account", "Initech Enterprise", "--json")))
    assert account["balance"] > 0 and account["lines"] == 1
    billed = json.loads(ok(as_member(OPERATOR, "invoice", "bill", "Initech Enterprise", "--json")))
    assert billed["invoice_amount"] == account["balance"] and billed["invoice_amount_text"].endswith(" TSD")
    invoice = json.loads(ok(as_member(OPERATOR, "invoice", "show", str(billed["invoice_id"]), "--json")))
    assert invoice["amount"] == billed["invoice_amount"]
    empty = as_member(OPERATOR, "invoice", "bill", "Initech Enterprise")
    assert empty.exit_code == 1 and "nothing to bill" in empty.output
    ok(as_member(CUSTOMER, "disconnect", "ONT-M1"))
    line = ok(as_member(OPERATOR, "disconnect", "ONT-M1", "--confirm"))
    final = json.loads(ok(as_member(CUSTOMER, "invoice", "list", "--payer", "Initech Enterprise", "--json")))[-1]
    assert f"invoice #{final['id']} of {final['amount'] / 10**6:.2f} TSD" in line
    watched = ok(as_member(OPERATOR, "watch", "--once", "--all"))
    assert "to=PendingInstallation" in watched and "customer=Initech Enterprise" in watched
    assert f"amount={final['amount'] / 10**6:.2f} TSD" in watched
    assert "ref=0x0000" not in watched and "from=1," not in watched
    raw = [json.loads(x) for x in ok(as_member(OPERATOR, "watch", "--once", "--all", "--json")).splitlines()]
    moved = [n for n in raw if n["name"] == "AssetTransitioned"]
    assert moved and all(isinstance(n["args"]["to"], int) for n in moved)


def test_invoice_list_marks_overdue(as_member, local_node):
    import requests

    installed(as_member, "ONT-O1")
    ok(as_member(CUSTOMER, "macd", "add", "ONT-O1"))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-O1"))
    ok(as_member(OPERATOR, "invoice", "bill", "Initech Enterprise"))
    assert "OVERDUE" not in ok(as_member(OPERATOR, "invoice", "list"))
    for method, params in (("evm_increaseTime", [31 * 86400]), ("evm_mine", [])):
        requests.post(
            local_node.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=10
        )
    table = ok(as_member(OPERATOR, "invoice", "list"))
    assert "issued OVERDUE" in table


def test_macd_from_a_file_in_chunks_per_customer(as_member, tmp_path, monkeypatch):
    """`macd … --file`: ids one per line or CSV (header, comments skipped), checked first, sent
    grouped per customer in chunks (256; 2 here), one report line per chunk."""
    from telcochain import preflight

    for twin in ("ONT-F1", "ONT-F2", "ONT-F3"):
        installed(as_member, twin)
    listing = tmp_path / "twins.csv"
    listing.write_text("asset,comment\nONT-F1,first\n# not this one\n\nONT-F2\nONT-F3,last\n")
    monkeypatch.setattr(preflight, "MAX_BATCH", 2)
    report = json.loads(ok(as_member(CUSTOMER, "macd", "change", "--file", str(listing), "--json")))
    assert [c["twins"] for c in report["chunks"]] == [["ONT-F1", "ONT-F2"], ["ONT-F3"]]
    assert {c["customer"] for c in report["chunks"]} == {"Initech Enterprise"} and report["resubmit"] == []
    assert all(c["status"] == "executed" and c["charge"] > 0 for c in report["chunks"])
    again = as_member(CUSTOMER, "macd", "change", "--file", str(listing))
    assert again.exit_code == 1 and "ONT-F1 is PendingChange" in again.output  # checked before anything is sent
    twice = tmp_path / "twice.txt"
    twice.write_text("ONT-F1\nONT-F1\n")
    assert "listed twice" in as_member(CUSTOMER, "macd", "change", "--file", str(twice)).output
