"""Billing and vendor settlement commands (issue 14 part B): ``invoice dispute|resolve|
instalments|payout|accrue|lines`` and the ``vendor`` group (``terms``, ``invoice``, ``settle``,
``credit``, ``show``). ``invoice pay --amount`` and the line items of ``invoice show`` live with
the other invoice commands (telcochain.cli.agreement) and use the helpers here. Registered on the
main group by :mod:`telcochain.cli.root`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click

from telcochain import output, preflight
from telcochain.agreement import Invoice, InvoiceStatus
from telcochain.billing import ChargeKind, LineItem
from telcochain.cli.options import (
    CONTEXT,
    ID,
    CliSession,
    Group,
    json_option,
    reader_options,
    ref_option,
    report_action,
    resolve_member,
    show_time,
    signer_options,
)
from telcochain.client import Client
from telcochain.types import show_bytes32


def units(client: Client, text: str, token: str | None = None) -> int:
    """Whole tokens as written (``12.5``) in the token's base units; refuses what does not fit."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not an amount (whole tokens, e.g. 12.50)") from None
    scaled = value.scaleb(client.escrow.decimals(token))
    if value <= 0 or scaled != scaled.to_integral_value():
        raise click.BadParameter(f"{text} is not a positive amount in the token's precision")
    return int(scaled)


def line_json(client: Client, line: LineItem) -> dict[str, Any]:
    return {
        "asset": show_bytes32(line.asset),
        "assets": [show_bytes32(a) for a in line.assets],
        "kind": line.kind.label,
        "from": line.start or None,
        "to": line.end or None,
        "amount": line.amount,
        "amount_text": _money(client, line.amount),
        "line_ref": "0x" + line.ref.hex(),
        "tx": line.tx_hash,
    }


def _money(client: Client, amount: int) -> str:
    return ("-" if amount < 0 else "") + client.escrow.format(abs(amount))


def _line_text(client: Client, n: int, line: LineItem) -> list[Any]:
    what = show_bytes32(line.asset) if not line.assets else f"{len(line.assets)} assets"
    when = f"{show_time(line.start)} .. {show_time(line.end)}" if line.kind is ChargeKind.RECURRING else "-"
    return [n, what, line.kind.label, when, _money(client, line.amount), "0x" + line.ref.hex()[:16] + "…"]


def invoice_details(client: Client, inv: Invoice) -> dict[str, Any]:
    """The billing side of ``invoice show``: settlement figures, line items (with the check of the
    bill's commitment), disputes."""
    figures = client.escrow.billing(inv.id)
    lines: tuple[LineItem, ...] = ()
    verified = None
    if inv.payee == client.agreement.operator and any(inv.subject):
        verdict = client.agreement.verify_bill(inv)
        if verdict.period:
            lines, verified = verdict.lines, verdict.ok
    return {
        "paid": figures.paid,
        "disputed": figures.disputed,
        "written_off": figures.written_off,
        "outstanding": figures.outstanding,
        "overdue_amount": figures.overdue,
        "instalments": figures.instalments,
        "interval_days": figures.interval // 86_400,
        "lines": [line_json(client, x) for x in lines],
        "lines_verified": verified,
        "disputes": [
            {"id": d.id, "amount": d.amount, "credit": d.credit, "status": d.status.label, "line": "0x" + d.line.hex()}
            for d in client.escrow.disputes(inv.id)
        ],
    }


def print_invoice_details(client: Client, inv: Invoice, data: dict[str, Any]) -> None:
    fmt = client.escrow.format
    rows = [
        ("paid", fmt(data["paid"], inv.token)),
        ("disputed", fmt(data["disputed"], inv.token)),
        ("written off", fmt(data["written_off"], inv.token)),
        ("outstanding", fmt(data["outstanding"], inv.token)),
        ("overdue now", fmt(data["overdue_amount"], inv.token)),
    ]
    if data["instalments"]:
        rows.append(("instalments", f"{data['instalments']}, every {data['interval_days']} days"))
    output.pairs(f"invoice #{inv.id}: settlement", rows)
    verdict = data["lines_verified"]
    if verdict is not None:
        lines = client.agreement.verify_bill(inv).lines
        title = "line items (" + ("match the bill's commitment" if verdict else "DO NOT MATCH the bill") + ")"
        output.table(
            title,
            ["#", "asset", "kind", "period", "amount", "line ref"],
            [_line_text(client, n, x) for n, x in enumerate(lines, 1)],
        )
    if data["disputes"]:
        output.table(
            "disputes",
            ["#", "amount", "credit", "status", "line"],
            [[d["id"], fmt(d["amount"]), fmt(d["credit"]), d["status"], d["line"][:18]] for d in data["disputes"]],
        )


def _line_ref(client: Client, inv: Invoice, line: str | None) -> bytes:
    """``--line N`` (the N-th line item of the bill) or a 0x line ref; none: the whole invoice."""
    if line is None:
        return b"\0" * 32
    if line.startswith("0x"):
        raw = bytes.fromhex(line[2:])
        if len(raw) != 32:
            raise click.BadParameter("a line ref is 32 bytes (0x + 64 hex digits)")
        return raw
    items = client.agreement.line_items(inv)
    if not line.isdigit() or not 1 <= int(line) <= len(items):
        raise click.BadParameter(
            f"invoice #{inv.id} has {len(items)} line items: give 1..{len(items)} or a 0x line ref"
        )
    return items[int(line) - 1].ref


direct_option = click.option(
    "--direct",
    is_flag=True,
    help="Call the escrow directly (no membership: a customer that is not a member) [default for an "
    "account that acts for no member].",
)


@click.command("dispute")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@click.option("--amount", required=True, help="How much is disputed, in whole tokens.")
@click.option(
    "--line", help="The disputed line item: its number in `invoice show`, or its 0x ref (default: the invoice)."
)
@click.option("--reason", required=True, help="Why (kept on chain as a hash; with --details, encrypted for the payee).")
@click.option("--details", "details_text", help="More details, encrypted for the payee only (DetailsVault).")
@direct_option
@ref_option
@signer_options
@json_option
def invoice_dispute(
    invoice_id: int,
    amount: str,
    line: str | None,
    reason: str,
    details_text: str | None,
    direct: bool,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """As the payer: dispute part of INVOICE (or of one of its lines); the disputed part is not
    overdue. A payer that is not a member disputes directly (--direct, its default)."""
    client = session.signer()
    inv = client.escrow.invoice(invoice_id)
    value = units(client, amount, inv.token)
    preflight.party(client, invoice_id, "payer", "dispute it")
    preflight.invoice_status(client, invoice_id, (InvoiceStatus.ISSUED,), "dispute")
    if inv.hold:
        raise preflight.Refused(
            f"invoice #{invoice_id} waits for a confirmation (an installation): it is funded whole or "
            "withdrawn, not disputed"
        )
    available = client.escrow.billing(invoice_id).outstanding
    if value > available:
        raise preflight.Refused(
            f"invoice #{invoice_id}: {client.escrow.format(available, inv.token)} outstanding and not disputed: "
            "dispute at most that"
        )
    disputable, settled = client.escrow.disputable(invoice_id)
    if value > disputable:
        raise preflight.Refused(
            f"invoice #{invoice_id}: {client.escrow.format(settled, inv.token)} settled by earlier disputes' "
            f"resolutions cannot be disputed again; {client.escrow.format(disputable, inv.token)} was never "
            "disputed: dispute at most that (only a consortium vote can still credit the rest)"
        )
    go_direct = client.escrow.goes_direct(True if direct else None)
    if details_text and go_direct and client.constitution.principal(inv.payer) is None:
        raise preflight.Refused("--details go through the DetailsVault, which takes members only: give --reason alone")
    details = {"details": details_text} if details_text else None
    opened = client.escrow.dispute(
        invoice_id,
        value,
        reason=reason,
        line=_line_ref(client, inv, line),
        details=details,
        ref=ref,
        direct=go_direct,
    )
    if as_json:
        output.emit_json(
            {
                "dispute": opened.id,
                "invoice": invoice_id,
                "amount": opened.amount,
                "line": "0x" + opened.line.hex(),
                "direct": go_direct,
            }
        )
        return
    how = " (directly)" if go_direct else ""
    output.done(
        f"dispute #{opened.id} opened{how} on invoice #{invoice_id} for {client.escrow.format(value, inv.token)}"
    )


@click.command("resolve")
@click.argument("dispute_id", metavar="DISPUTE", type=ID)
@click.option("--credit", default="0", show_default=True, help="What is credited off the invoice (0: rejected).")
@click.option("--vote", is_flag=True, help="Put it to the consortium's vote instead (decideDispute).")
@ref_option
@signer_options
@json_option
def invoice_resolve(
    dispute_id: int, credit: str, vote: bool, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """As the payee: resolve DISPUTE, crediting all, part or none of it; the rest is owed again."""
    client = session.signer()
    found = client.escrow.dispute_of(dispute_id)
    inv = client.escrow.invoice(found.invoice_id)
    value = 0 if Decimal(credit) == 0 else units(client, credit, inv.token)
    if value > found.amount:
        raise preflight.Refused(
            f"dispute #{dispute_id} is for {client.escrow.format(found.amount, inv.token)}: credit at most that"
        )
    if vote:
        result = client.escrow.propose_decision(dispute_id, value, ref=ref)
        report_action(
            result, as_json, f"dispute #{dispute_id} put to the vote (credit {client.escrow.format(value, inv.token)})"
        )
        return
    if client.address and inv.payee.lower() != client.address.lower():
        raise preflight.Refused(f"dispute #{dispute_id}: only the payee resolves it (or --vote)")
    result = client.escrow.resolve(dispute_id, value, ref=ref)
    report_action(result, as_json, f"dispute #{dispute_id} resolved: {client.escrow.format(value, inv.token)} credited")


@click.command("instalments")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@click.option("--count", type=click.IntRange(2, 24), required=True, help="Number of equal instalments.")
@click.option("--every", "every_days", type=click.IntRange(1, 365), required=True, help="Days between instalments.")
@ref_option
@signer_options
@json_option
def invoice_instalments(
    invoice_id: int, count: int, every_days: int, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """As the payee: let INVOICE be paid in instalments from its due date."""
    client = session.signer()
    preflight.party(client, invoice_id, "payee", "set instalments")
    result = client.escrow.set_instalments(invoice_id, count, every_days, ref=ref)
    report_action(result, as_json, f"invoice #{invoice_id}: {count} instalments, every {every_days} days")


@click.command("payout")
@click.option("--payee", required=True, help="Who owes the credit (name or address).")
@click.option("--amount", required=True, help="Whole tokens.")
@direct_option
@ref_option
@signer_options
@json_option
def invoice_payout(payee: str, amount: str, direct: bool, ref: str | None, session: CliSession, as_json: bool) -> None:
    """As a payer in credit: ask PAYEE to pay the credit out in tokens. A payer that is not a
    member asks directly (--direct, its default)."""
    client = session.signer()
    who = resolve_member(client, payee)
    value = units(client, amount)
    available = client.escrow.credit(client.address or "", who)
    if value > available:
        raise preflight.Refused(f"your credit with {payee} is {client.escrow.format(available)}")
    go_direct = client.escrow.goes_direct(True if direct else None)
    result = client.escrow.request_credit_payout(who, value, ref=ref, direct=go_direct)
    paid = any(e.name == "CreditPaidOut" for e in client.escrow.contract.events(result.receipt))
    state = "paid" if paid else "requested (the payee pays it with `payOutCredit`)"
    how = " (directly)" if go_direct else ""
    report_action(result, as_json, f"credit payout of {client.escrow.format(value)} {state}{how}")


@click.command("accrue")
@click.argument("assets", nargs=-1, required=True)
@ref_option
@signer_options
@json_option
def invoice_accrue(assets: tuple[str, ...], ref: str | None, session: CliSession, as_json: bool) -> None:
    """As the operator: accrue the monthly charges of ASSETS up to now (prorated to the second)."""
    client = session.signer()
    flows = client.agreement.accrue_recurring(list(assets), ref=ref)
    total = sum(int(e["amount"]) for f in flows for e in f.events if e.name == "RecurringAccrued")
    if as_json:
        output.emit_json({"assets": len(assets), "accrued": total, "txs": [f.tx_hash for f in flows]})
        return
    output.done(f"recurring charges accrued on {len(assets)} asset(s): {client.escrow.format(total)}")


# -- vendor -----------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def vendor() -> None:
    """Vendor settlement: terms, the three-way match (order line, delivery, invoice), payment, credits."""


@vendor.command("terms")
@click.argument("vendor_name", metavar="VENDOR")
@click.argument("sku")
@click.option("--price", help="Propose this unit price (whole tokens); without it: show the terms.")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True, help="Payment days.")
@click.option("--on-consumption", is_flag=True, help="Billable once consumed (default: on delivery).")
@ref_option
@signer_options
@json_option
def vendor_terms(
    vendor_name: str,
    sku: str,
    price: str | None,
    days: int,
    on_consumption: bool,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Show, or propose (a vote), VENDOR's unit price for SKU."""
    client = session.signer() if price else session.reader()
    who = resolve_member(client, vendor_name)
    if price:
        result = client.vendors.propose_terms(
            who, sku, units(client, price), payment_days=days, on_consumption=on_consumption, ref=ref
        )
        report_action(result, as_json, f"terms of {vendor_name} for {sku} proposed")
        return
    t = client.vendors.terms(who, sku)
    if as_json:
        output.emit_json(
            {
                "vendor": who,
                "sku": sku,
                "token": t.token,
                "unit_price": t.unit_price,
                "payment_days": t.payment_days,
                "on_consumption": t.on_consumption,
            }
        )
        return
    if t.unit_price == 0:
        raise preflight.Refused(f"no terms for {vendor_name}'s {sku}")
    output.pairs(
        f"terms of {vendor_name} for {sku}",
        [
            ("unit price", client.escrow.format(t.unit_price, t.token)),
            ("payment days", t.payment_days),
            ("billable", "on consumption" if t.on_consumption else "on delivery"),
        ],
    )


@vendor.command("invoice")
@click.argument("line")
@click.option("--quantity", type=click.IntRange(1, 2**32 - 1), required=True, help="Units invoiced.")
@click.option("--vendor-ref", default="", help="The vendor's own invoice number (kept as a hash).")
@ref_option
@signer_options
@json_option
def vendor_invoice(
    line: str, quantity: int, vendor_ref: str, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """As LINE's vendor: invoice QUANTITY delivered (or consumed) units, matched on chain."""
    client = session.signer()
    match = client.vendors.line(line)
    if quantity > match.invoiceable:
        raise preflight.Refused(
            f"line {line}: {match.invoiceable} unit(s) can be invoiced now "
            f"(billable {match.billable}, invoiced {match.invoiced - match.credited})"
        )
    invoice_id = client.vendors.invoice(line, quantity, vendor_ref=vendor_ref or b"\0" * 32, ref=ref)
    inv = client.escrow.invoice(invoice_id)
    if as_json:
        output.emit_json(
            {"invoice": invoice_id, "line": line, "quantity": quantity, "amount": inv.amount, "credited": inv.credited}
        )
        return
    output.done(
        f"invoice #{invoice_id} for {quantity} unit(s) of line {line}: {client.escrow.format(inv.amount, inv.token)}"
    )


@vendor.command("settle")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@ref_option
@signer_options
@json_option
def vendor_settle(invoice_id: int, ref: str | None, session: CliSession, as_json: bool) -> None:
    """As the operator: pay a vendor INVOICE through the escrow (paid through at once)."""
    client = session.signer()
    preflight.party(client, invoice_id, "payer", "settle it")
    preflight.invoice_status(client, invoice_id, (InvoiceStatus.ISSUED,), "settle")
    inv = client.escrow.invoice(invoice_id)
    result = client.vendors.settle(invoice_id, ref=ref)
    report_action(result, as_json, f"vendor invoice #{invoice_id} paid: {client.escrow.format(inv.to_fund, inv.token)}")


@vendor.command("credit")
@click.argument("line")
@ref_option
@signer_options
@json_option
def vendor_credit(line: str, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Credit LINE's returned units that were already invoiced (a credit note the vendor owes)."""
    client = session.signer()
    match = client.vendors.line(line)
    if match.invoiced - match.credited <= match.billable:
        raise preflight.Refused(f"line {line}: no invoiced unit came back")
    amount = client.vendors.credit_returns(line, ref=ref)
    if as_json:
        output.emit_json({"line": line, "credited": amount})
        return
    output.done(f"line {line}: {client.escrow.format(amount)} credited to the operator")


@vendor.command("show")
@click.argument("line")
@reader_options
@json_option
def vendor_show(line: str, session: CliSession, as_json: bool) -> None:
    """LINE's three-way match: reserved, billable now, invoiced, credited."""
    client = session.reader()
    m = client.vendors.line(line)
    data = {
        "line": line,
        "reserved": m.reserved,
        "billable": m.billable,
        "invoiced": m.invoiced,
        "credited": m.credited,
        "invoiceable": m.invoiceable,
        "unit_price": m.unit_price,
        "on_consumption": m.on_consumption,
    }
    if as_json:
        output.emit_json(data)
        return
    output.pairs(f"line {line}", [(k.replace("_", " "), v) for k, v in data.items() if k != "line"])


#: The ``invoice`` group's billing commands (:mod:`telcochain.cli.root` adds them to it).
INVOICE_COMMANDS: tuple[click.Command, ...] = (
    invoice_dispute,
    invoice_resolve,
    invoice_instalments,
    invoice_payout,
    invoice_accrue,
)
