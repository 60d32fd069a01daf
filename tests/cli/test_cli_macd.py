"""`macd … --details`, `macd confirm` reading deletions from the chain, and `install confirm`
using its order line in the same transaction (all or nothing)."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli_agreement import installed

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def block(local_node) -> int:
    from telcochain.rpc import Rpc

    return int(Rpc(local_node.rpc_url).call("eth_blockNumber"), 16)


def test_macd_details_are_disclosed_with_the_order_in_one_transaction(as_member, local_node, tmp_path):
    installed(as_member, "ONT-N1")
    before = block(local_node)
    moved = json.loads(
        ok(as_member(OPERATOR, "macd", "move", "ONT-N1", "--details", '{"window": "Tue 9-12", "rack": 7}', "--json"))
    )
    assert block(local_node) == before + 1  # the disclosure and the order: one transaction
    assert moved["action"] == "orderChange" and moved["charge"] > 0 and moved["details_id"].startswith("0x")
    shown = json.loads(ok(as_member(CUSTOMER, "details", "show", moved["details_id"], "--json")))
    assert shown["details"] == {"window": "Tue 9-12", "rack": 7} and shown["subject"] == "ONT-N1"
    assert shown["verified"] is True
    hidden = as_member(GLOBEX, "details", "show", moved["details_id"])
    assert hidden.exit_code == 1 and "Traceback" not in hidden.output  # not a reader
    from telcochain import Client
    from telcochain.tx import Receipt

    reader = Client.connect(local_node.rpc_url)  # the order commits to exactly what was disclosed
    receipt = Receipt.from_rpc(reader.rpc.call("eth_getTransactionReceipt", [moved["tx_hash"]]))
    (moved_event,) = reader.contract("AssetRegistry").events(receipt, "AssetTransitioned")
    assert "0x" + moved_event["detailsHash"].hex() == shown["details_hash"]

    # a file, several twins, a named reader: one disclosure for the batch, readable by Acme too
    installed(as_member, "ONT-N2")
    installed(as_member, "ONT-N3")
    notes = tmp_path / "notes.json"
    notes.write_text('{"reason": "floor 3 refit"}')
    out = json.loads(ok(as_member(CUSTOMER, "macd", "change", "ONT-N2", "ONT-N3", "--details", str(notes),
                                  "--details-to", "Acme Networks", "--ref", "REFIT-1", "--json")))  # fmt: skip
    (chunk,) = out["chunks"]
    assert chunk["action"] == "orderChanges" and chunk["twins"] == ["ONT-N2", "ONT-N3"]
    for member in (CUSTOMER, ACME, OPERATOR):  # OPERATOR: neither discloser nor named: refused
        opened = as_member(member, "details", "show", chunk["details_id"], "--json")
        if member == OPERATOR:
            assert opened.exit_code == 1
        else:
            assert json.loads(ok(opened))["details"] == {"reason": "floor 3 refit"}
    listed = json.loads(ok(as_member(CUSTOMER, "details", "list", "REFIT-1", "--json")))
    assert [d["id"] for d in listed] == [chunk["details_id"]]  # a batch's details are about its ref
    # cancelled, then ordered again without --ref: a fresh ref, and the details are about it
    ok(as_member(CUSTOMER, "macd", "cancel", "ONT-N2"))
    ok(as_member(OPERATOR, "macd", "cancel", "ONT-N3"))
    again = json.loads(ok(as_member(CUSTOMER, "macd", "add", "ONT-N2", "ONT-N3", "--details", '{"n": 2}', "--json")))
    (chunk,) = again["chunks"]
    listed = json.loads(ok(as_member(CUSTOMER, "details", "list", chunk["ref"], "--json")))
    assert [d["id"] for d in listed] == [chunk["details_id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--details", "not json"), "neither a JSON object nor a readable file"),
        (("--details", "{}"), "non-empty JSON object"),
        (("--details", "[1, 2]"), "neither a JSON object"),
        (("--details", '{"a": '), "not valid JSON"),
        (("--details-to", "Acme Networks"), "pass --details too"),
        (("--details", '{"a": 1}', "--details-to", "Nobody Inc"), "Nobody Inc"),
    ],
)
def test_macd_details_bad_input_sends_nothing(as_member, local_node, args, message):
    installed(as_member, "ONT-NB")
    before = block(local_node)
    result = as_member(OPERATOR, "macd", "move", "ONT-NB", *args)
    assert result.exit_code != 0 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert block(local_node) == before


def test_macd_confirm_reads_deletions_from_the_chain(as_member, local_node):
    for twin in ("ONT-X1", "ONT-X2", "ONT-X3", "ONT-X4"):
        installed(as_member, twin)
    ok(as_member(CUSTOMER, "macd", "delete", "ONT-X1", "ONT-X2"))
    ok(as_member(CUSTOMER, "macd", "change", "ONT-X3"))
    ok(as_member(CUSTOMER, "macd", "delete", "ONT-X4"))
    report = json.loads(ok(as_member(OPERATOR, "macd", "confirm", "ONT-X1", "ONT-X3", "ONT-X2", "--json")))
    chunks = {tuple(c["twins"]): c for c in report["chunks"]}
    assert set(chunks) == {("ONT-X1", "ONT-X2"), ("ONT-X3",)} and report["resubmit"] == []
    assert chunks[("ONT-X1", "ONT-X2")]["customer"] == "Initech Enterprise, deletes"
    states = {
        t: json.loads(ok(as_member(OPERATOR, "asset", "show", t, "--json")))["state"]
        for t in ("ONT-X1", "ONT-X2", "ONT-X3")
    }
    assert states == {"ONT-X1": "Inactive", "ONT-X2": "Inactive", "ONT-X3": "Active"}
    # the old flag: accepted, ignored, said so; a single delete is still found on the chain
    old = as_member(OPERATOR, "macd", "confirm", "ONT-X4", "--deletions")
    assert old.exit_code == 0 and "--deletions is no longer needed" in old.output
    assert "a delete: Inactive" in old.output
    nothing = as_member(OPERATOR, "macd", "confirm", "ONT-X3")
    assert nothing.exit_code == 1 and "needs an open change" in nothing.output.lower()
    assert as_member(OPERATOR, "macd", "confirm").exit_code == 2  # no twins given


def _order_line_twin(as_member, twin: str, line: str) -> int:
    """A twin held by a delivered order line, serial bound, installation requested and paid."""
    ok(as_member(OPERATOR, "order", "create", f"ORD-{twin}", "--project", f"PRJ-{twin}", "--customer",
                 "Initech Enterprise", "--service", "A"))  # fmt: skip
    ok(as_member(OPERATOR, "asset", "register", twin, "--kind", "ONT", "--vendor", "Acme Networks"))
    ok(as_member(OPERATOR, "order", "add-line", f"ORD-{twin}", line, "--service", "A", "--vendor", "Acme Networks",
                 "--sku", "ONT-X", "--asset", twin))  # fmt: skip
    ok(as_member(ACME, "stock", "deliver", line))
    bind = json.loads(ok(as_member(ACME, "asset", "bind-serial", twin, f"SN-{twin}", "--json")))
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    req = json.loads(ok(as_member(OPERATOR, "install", "request", twin, "--customer", "Initech Enterprise", "--json")))
    ok(as_member(CUSTOMER, "invoice", "pay", str(req["invoice_id"])))
    return int(req["invoice_id"])


def test_install_confirm_uses_its_order_line_in_the_same_transaction(as_member, local_node):
    _order_line_twin(as_member, "ONT-T1", "LT1")
    before = block(local_node)
    out = json.loads(ok(as_member(OPERATOR, "install", "confirm", "ONT-T1", "--json")))
    assert block(local_node) == before + 1  # installed and consumed: one transaction
    assert out["line"] == "LT1" and out["line_units_used"] == 1 and out["status"] == "executed"
    lines = json.loads(ok(as_member(OPERATOR, "stock", "reconcile", "--order", "ORD-ONT-T1", "--json")))["lines"]
    assert [(x["line"], x["still_out"], x["state"]) for x in lines] == [("LT1", 0, "completed")]


def test_calls_that_must_go_together_are_refused_together(as_member, local_node, client):
    """A batch whose second call would revert is refused before signing: the first (valid) call
    is not sent either."""
    from telcochain.assets import ZERO32, asset_id
    from telcochain.cli.atomic import check_together, send_together
    from telcochain.constitution import ActionCall
    from telcochain.orders import order_id, sku_bytes
    from telcochain.preflight import Refused

    _order_line_twin(as_member, "ONT-T2", "LT2")
    acme = json.loads(ok(as_member(OPERATOR, "member", "list", "--json")))[1]["address"]
    confirm = ActionCall("confirmInstallation", (asset_id("ONT-T2"), ZERO32))
    wrong_line = ActionCall("consumeStock", (order_id("NO-SUCH-LINE"), acme, sku_bytes("ONT-X"), 1, ZERO32))
    before = block(local_node)
    with pytest.raises(Refused, match="consumeStock would not go through"):
        send_together(client, [confirm, wrong_line])
    with pytest.raises(Refused, match="nothing sent"):
        check_together(client, [confirm, wrong_line])
    assert block(local_node) == before
    from telcochain.agreement import Pending

    assert client.assets.get("ONT-T2").state.label == "Delivered"  # not installed
    assert client.agreement.service("ONT-T2").pending is Pending.INSTALLATION
    check_together(client, [confirm])  # alone it would go through


def test_cancelling_an_order_says_its_installed_devices_stay_in_service(as_member):
    """Once `install confirm` used the line, the order may be cancelled: the installed device
    stays Active under the agreement, and the command says so (and how to end it)."""
    _order_line_twin(as_member, "ONT-T3", "LT3")
    ok(as_member(OPERATOR, "install", "confirm", "ONT-T3"))
    out = ok(as_member(OPERATOR, "order", "cancel", "ORD-ONT-T3"))
    assert "ORD-ONT-T3 is cancelled" in out
    assert "ONT-T3 stays installed (Active) under the agreement" in out and "telcochain disconnect ONT-T3" in out
    assert json.loads(ok(as_member(OPERATOR, "asset", "show", "ONT-T3", "--json")))["state"] == "Active"
