"""Operations staff's commands for the operator agreement: ``install``, ``macd``, ``disconnect``
and ``invoice``. Registered on the main group by :mod:`telcochain.cli.root`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from telcochain import output, preflight
from telcochain.agreement import FlowResult, Invoice, InvoiceStatus, MacdKind, Pending
from telcochain.assets import ZERO32, Asset, AssetState, asset_id
from telcochain.cli.atomic import send_together
from telcochain.cli.billing import invoice_details, print_invoice_details, units
from telcochain.cli.options import (
    CONTEXT,
    ID,
    CliSession,
    Group,
    action_json,
    json_option,
    reader_options,
    ref_option,
    report_action,
    resolve_member,
    show_time,
    signer_options,
)
from telcochain.client import Client
from telcochain.constitution import ActionCall
from telcochain.errors import TelcochainError
from telcochain.orders import Line, order_id, sku_bytes
from telcochain.render import render
from telcochain.types import show_bytes32, to_ref


def _flow_json(client: Client, flow: FlowResult) -> dict[str, Any]:
    """A flow's outcome; amounts in base units, with ``*_text`` in whole tokens and the symbol."""
    return {
        **action_json(flow.result),
        "invoice_id": flow.invoice_id or None,
        "charge": flow.charge,
        "charge_text": _money(client, flow.charge),
        "invoice_amount": flow.invoiced,
        "invoice_amount_text": _money(client, flow.invoiced),
        "credit_note": flow.credit_note,
        "credit_note_text": _money(client, flow.credit_note),
        "events": [e.name for e in flow.events],
    }


def _money(client: Client, amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return sign + client.escrow.format(abs(amount))


def report_flows(client: Client, flows: list[FlowResult], as_json: bool, what: str) -> None:
    """Prints what each flow did (charge, invoice, credit note, tx), or their JSON."""
    if as_json:
        shown = [_flow_json(client, f) for f in flows]
        output.emit_json(shown if len(shown) > 1 else shown[0])
        return
    for flow in flows:
        extra = []
        if flow.charge:
            extra.append(("charge " if flow.charge > 0 else "credit ") + client.escrow.format(abs(flow.charge)))
        if flow.invoice_id:
            amount = f" of {client.escrow.format(flow.invoiced)}" if flow.invoiced else ""
            extra.append(f"invoice #{flow.invoice_id}{amount}")
        if flow.credit_note:
            extra.append(f"credit note of {client.escrow.format(flow.credit_note)}")
        tail = f"; {', '.join(extra)}" if extra else ""
        output.done(f"{what}{tail} (tx {flow.tx_hash}, block {flow.result.receipt.block_number})")


# -- install ----------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def install() -> None:
    """Installation under the operator agreement: request, confirm (once paid), withdraw."""


@install.command("request")
@click.argument("asset")
@click.option("--customer", help="The customer (member name or address) [default: you].")
@ref_option
@signer_options
@json_option
def install_request(asset: str, customer: str | None, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Request the installation of ASSET (a registered twin): it goes PendingInstallation and an
    invoice for the installation tariff is held in escrow until the installation is confirmed."""
    client = session.signer()
    who = resolve_member(client, customer) if customer is not None else None
    preflight.asset(client, asset)
    if client.agreement.service(asset).pending is not Pending.NONE:
        raise preflight.Refused(
            f"{asset} has an open {client.agreement.service(asset).pending.label} already: confirm or withdraw it first"
        )
    flow = client.agreement.request_installation(asset, who, ref=ref)
    report_flows(client, [flow], as_json, f"installation of {asset} requested")


@install.command("confirm")
@click.argument("asset")
@ref_option
@signer_options
@json_option
def install_confirm(asset: str, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Confirm the installation of ASSET (its invoice must be funded): Active, money released."""
    client = session.signer()
    preflight.pending(client, asset, Pending.INSTALLATION, "confirming an installation")
    twin = preflight.in_state(client, asset, (AssetState.DELIVERED,), "confirming an installation")
    if twin.serial_hash is None:
        raise preflight.Refused(
            f"{asset} has no serial: bind the device's serial first (telcochain asset bind-serial {asset} SERIAL)"
        )
    service = client.agreement.service(asset)
    if service.install_invoice:
        preflight.invoice_status(
            client,
            service.install_invoice,
            (InvoiceStatus.FUNDED, InvoiceStatus.RELEASED),
            "confirming the installation",
        )
    line = _installation_line(client, twin) if twin.on_line else None
    if line is None:
        flow = client.agreement.confirm_installation(asset, ref=ref)
        report_flows(client, [flow], as_json, f"{asset} installed and Active, payment released to the operator")
        return
    # The device installed is the unit its order line delivered: the line consumes it (and
    # completes, releasing the twin), so reconciliation does not count it as still out. Both in
    # one transaction, checked together first: installed and consumed, or neither.
    sent = send_together(
        client,
        [
            ActionCall("confirmInstallation", (asset_id(asset), ZERO32), ref),
            ActionCall(
                "consumeStock", (order_id(line.id, "line id"), line.vendor, sku_bytes(line.sku), 1, ZERO32), None
            ),
        ],
    )
    flow = sent.flow(0, client)
    if as_json:
        output.emit_json({**_flow_json(client, flow), "line": line.name, "line_units_used": 1})
        return
    report_flows(client, [flow], False, f"{asset} installed and Active, payment released to the operator")
    output.done(f"order line {line.name}: 1 unit used for {asset} (same transaction)")


@install.command("withdraw")
@click.argument("asset")
@ref_option
@signer_options
@json_option
def install_withdraw(asset: str, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Call off the installation of ASSET: its invoice is cancelled, or refunded if funded."""
    client = session.signer()
    preflight.pending(client, asset, Pending.INSTALLATION, "withdrawing an installation")
    report_flows(
        client, [client.agreement.withdraw_installation(asset, ref=ref)], as_json, f"installation of {asset} withdrawn"
    )


def _installation_line(client: Client, twin: Asset) -> Line | None:
    """The open order line holding ``twin`` with a delivered unit not yet used (None: none)."""
    if twin.vendor is None:
        return None
    for line in client.orders.reconcile(vendor=twin.vendor).lines:
        if line.asset_id == twin.id and not line.state.terminal and line.delivered > line.consumed + line.returned:
            return line
    return None


# -- macd --------------------------------------------------------------------------------------


@click.group(
    cls=Group,
    context_settings=CONTEXT,
    help=f"MACD changes ({', '.join(k.label for k in MacdKind)}) on Active twins, charged on the running account.",
)
def macd() -> None:
    pass


_MACD_HELP = {
    MacdKind.MOVE: "Order a move of ASSET... (Active twins of one customer): PendingChange, the move tariff "
    "charged on the running account; the operator confirms with `macd confirm`.",
    MacdKind.ADD: "Order an add on ASSET... (Active twins of one customer): PendingChange, the add tariff "
    "charged on the running account; the operator confirms with `macd confirm`.",
    MacdKind.CHANGE: "Order a change of ASSET... (Active twins of one customer): PendingChange, the change "
    "tariff charged on the running account; the operator confirms with `macd confirm`.",
    MacdKind.DELETE: "Order the deletion of ASSET... (Active twins of one customer): PendingChange, the delete "
    "tariff charged; `macd confirm` takes the twins out of service (Inactive).",
}


def _macd_help(kind: MacdKind) -> str:
    """The help of a MACD kind without its own wording in :data:`_MACD_HELP`."""
    name = kind.label
    article = "an" if name[0] in "aeiou" else "a"
    return (
        f"Order {article} {name} of ASSET... (Active twins of one customer): PendingChange, the {name} tariff "
        "charged on the running account; the operator confirms with `macd confirm`."
    )


def read_asset_file(path: Path) -> list[str]:
    """Twin ids from a file: one per line, or CSV whose first column is the id (a header row
    named asset/twin/id is skipped); blank lines and ``#`` comments are ignored."""
    import csv
    import io

    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {render(exc)}", param_hint="--file") from None
    ids: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        first = row[0].strip() if row else ""
        if not first or first.startswith("#"):
            continue
        if not ids and first.lower() in ("asset", "twin", "id", "asset_id", "assetid"):
            continue
        ids.append(first)
    if not ids:
        raise click.BadParameter(f"{path} lists no twin", param_hint="--file")
    return ids


def _macd_batches(client: Client, kind: MacdKind, assets: list[str]) -> list[tuple[str, str, list[str]]]:
    """Every twin checked first (registered, Active, with a customer; none twice), then grouped
    per customer in chunks of at most 256: [(customer name, customer address, chunk)]."""
    _no_twice(assets)
    groups: dict[str, list[str]] = {}
    for name in assets:
        twin = preflight.in_state(client, name, (AssetState.ACTIVE,), f"a {kind.name.lower()} order")
        if twin.customer is None:
            raise preflight.Refused(f"{name} has no customer: it is not in service under the agreement")
        groups.setdefault(twin.customer, []).append(name)
    return _chunks(client, groups)


def _no_twice(assets: list[str]) -> None:
    seen: set[str] = set()
    twice = sorted({a for a in assets if a in seen or seen.add(a)})  # type: ignore[func-returns-value]
    if twice:
        raise preflight.Refused(f"twin(s) listed twice: {', '.join(twice[:5])}{' …' if len(twice) > 5 else ''}")


def _chunks(client: Client, groups: dict[str, list[str]]) -> list[tuple[str, str, list[str]]]:
    names = client.constitution.member_names()
    size = preflight.MAX_BATCH
    return [
        (names.get(customer, customer), customer, chunk[i : i + size])
        for customer, chunk in groups.items()
        for i in range(0, len(chunk), size)
    ]


def _wanted(assets: tuple[str, ...], asset_file: Path | None) -> list[str]:
    wanted = list(assets) + (read_asset_file(asset_file) if asset_file is not None else [])
    if not wanted:
        raise click.UsageError("give the twins: ASSET... or --file FILE")
    return wanted


def _run_chunks(
    client: Client,
    batches: list[tuple[str, list[str]]],
    send: Callable[[int, list[str]], FlowResult],
    as_json: bool,
    done: Callable[[int, FlowResult], str],
    extra: Callable[[FlowResult], dict[str, Any]] = lambda flow: {},
) -> None:
    """Send ``batches`` [(label, twins)] one after another; a report per chunk; after a failed
    chunk nothing more is sent and what is left is named for resubmitting (exit 1).
    ``--json``: ``{"chunks": [...], "resubmit": [...]}``."""
    reports: list[dict[str, Any]] = []
    left: list[str] = []
    total = sum(len(chunk) for _, chunk in batches)
    for number, (label, chunk) in enumerate(batches, 1):
        where = f"chunk {number}/{len(batches)} ({label}, {len(chunk)} twins)"
        if left:  # a chunk failed: send no more, report what is left
            left.extend(chunk)
            continue
        try:
            flow = send(number, chunk)
        except TelcochainError as exc:
            left.extend(chunk)
            reports.append({"chunk": number, "customer": label, "twins": chunk, "error": render(exc, client)})
            if not as_json:
                click.echo(f"{where}: NOT sent: {render(exc, client)}", err=True)
            continue
        reports.append({"chunk": number, "customer": label, "twins": chunk, **_flow_json(client, flow), **extra(flow)})
        if not as_json:
            charge = f"; charge {client.escrow.format(flow.charge)}" if flow.charge else ""
            output.done(f"{where}: {done(number, flow)}{charge} (tx {flow.tx_hash})")
    if as_json:
        output.emit_json({"chunks": reports, "resubmit": left})
    if left:
        raise click.ClickException(
            f"{total - len(left)} of {total} twins done; {len(left)} left to resubmit (first: {', '.join(left[:3])})"
        )


def read_details(value: str) -> dict[str, Any]:
    """``--details``: a JSON object, inline (starting with ``{``) or in a file."""
    import json

    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(
                f"{value!r} is neither a JSON object nor a readable file ({render(exc)})", param_hint="--details"
            ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc})", param_hint="--details") from None
    if not isinstance(data, dict) or not data:
        raise click.BadParameter("the details must be a non-empty JSON object", param_hint="--details")
    return data


def _macd_command(kind: MacdKind) -> None:
    @macd.command(kind.name.lower(), help=_MACD_HELP.get(kind, _macd_help(kind)))
    @click.argument("assets", metavar="[ASSET]...", nargs=-1)
    @click.option(
        "--file",
        "asset_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Twins from a file (one id per line, or CSV with the id first): any number, any customers; "
        "sent grouped per customer in chunks of 256, with a report per chunk.",
    )
    @click.option(
        "--details",
        "details",
        metavar="FILE|JSON",
        help="Private notes for the change (a JSON object, inline or in a file): encrypted for you, the "
        "twins' customer and the --details-to members, disclosed in the same transaction as the order "
        "(which commits to them); read with `telcochain details show ID`.",
    )
    @click.option(
        "--details-to",
        "readers",
        multiple=True,
        metavar="MEMBER",
        help="Another member who may read the --details (name or address; repeatable).",
    )
    @ref_option
    @signer_options
    @json_option
    def command(
        assets: tuple[str, ...],
        asset_file: Path | None,
        details: str | None,
        readers: tuple[str, ...],
        ref: str | None,
        session: CliSession,
        as_json: bool,
    ) -> None:
        wanted = _wanted(assets, asset_file)
        notes = read_details(details) if details is not None else None
        if readers and notes is None:
            raise click.UsageError("--details-to names readers of --details: pass --details too")
        client = session.signer()
        named = [resolve_member(client, reader) for reader in readers]  # a mistyped reader: refused here
        batches = _macd_batches(client, kind, wanted)
        verb = kind.name.lower()
        disclosures: dict[str, str] = {}

        def send(number: int, customer: str, chunk: list[str]) -> FlowResult:
            chunk_ref = ref if number == 1 else None
            if notes is None:
                target: str | list[str] = chunk[0] if len(chunk) == 1 else chunk
                return client.agreement.request_change(kind, target, ref=chunk_ref)[0]
            to = [customer, *named] if customer.lower() != (client.address or "").lower() else list(named)
            fixed = to_ref(chunk_ref)  # one ref: the order's, and (for a batch) the details' subject
            subject = chunk[0] if len(chunk) == 1 else fixed
            prepared = client.details.prepare(subject, notes, to)
            if len(chunk) == 1:
                change = ActionCall("orderChange", (int(kind), asset_id(chunk[0]), prepared.details_hash), fixed)
            else:
                ids = [asset_id(a) for a in chunk]
                change = ActionCall("orderChanges", (int(kind), ids, prepared.details_hash), fixed)
            sent = send_together(client, [prepared.call, change])
            disclosures[sent.receipt.tx_hash] = "0x" + prepared.id.hex()
            return sent.flow(1, client)

        def details_of(flow: FlowResult) -> dict[str, Any]:
            return {"details_id": disclosures.get(flow.tx_hash)} if notes is not None else {}

        if len(batches) == 1 and len(wanted) == 1:
            customer = batches[0][1]
            flow = send(1, customer, wanted)
            if as_json:
                output.emit_json({**_flow_json(client, flow), **details_of(flow)})
                return
            report_flows(client, [flow], False, f"{verb} ordered for {wanted[0]} (PendingChange)")
            if notes is not None:
                found = disclosures[flow.tx_hash]
                output.done(f"details {found} attached; its readers open it with `telcochain details show {found}`")
            return
        customer_of = {number: customer for number, (_, customer, _) in enumerate(batches, 1)}

        def send_chunk(number: int, chunk: list[str]) -> FlowResult:
            return send(number, customer_of[number], chunk)

        def said(number: int, flow: FlowResult) -> str:
            attached = f"; details {disclosures[flow.tx_hash]}" if notes is not None else ""
            return f"{verb} ordered (PendingChange){attached}"

        _run_chunks(client, [(name, chunk) for name, _, chunk in batches], send_chunk, as_json, said, details_of)


for _kind in MacdKind:
    _macd_command(_kind)


@macd.command("confirm")
@click.argument("assets", metavar="[ASSET]...", nargs=-1)
@click.option(
    "--file",
    "asset_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Twins from a file (one id per line, or CSV with the id first), any number, any customers.",
)
@click.option(
    "--deletions",
    is_flag=True,
    hidden=True,
    help="Deprecated, ignored: which pending changes are deletes is read from the chain.",
)
@ref_option
@signer_options
@json_option
def macd_confirm(
    assets: tuple[str, ...],
    asset_file: Path | None,
    deletions: bool,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Confirm pending MACD changes: the twins go back to Active, and those whose open change is a
    delete go Inactive (read from the chain, per twin). Twins of several customers, or deletes
    mixed with other changes, are sent grouped (per customer, deletes apart) in chunks of 256."""
    if deletions:
        click.echo(
            "note: --deletions is no longer needed (and ignored): the chain records which changes are deletes",
            err=True,
        )
    wanted = _wanted(assets, asset_file)
    _no_twice(wanted)
    client = session.signer()
    groups: dict[tuple[str, bool], list[str]] = {}
    for twin in wanted:
        preflight.pending(client, twin, Pending.CHANGE, "confirming a change")
        service = client.agreement.service(twin)
        groups.setdefault((service.customer or "", service.kind is MacdKind.DELETE), []).append(twin)
    names = client.constitution.member_names()
    size = preflight.MAX_BATCH
    batches = [
        (f"{names.get(customer, customer)}, {'deletes' if deleting else 'changes'}", deleting, chunk[i : i + size])
        for (customer, deleting), chunk in groups.items()
        for i in range(0, len(chunk), size)
    ]
    if len(wanted) == 1:
        flow = client.agreement.confirm_change(wanted[0], ref=ref)[0]
        gone = " (a delete: Inactive, out of service)" if batches[0][1] else " (Active)"
        report_flows(client, [flow], as_json, f"change of {wanted[0]} confirmed{gone}")
        return
    deleting_of = {number: deleting for number, (_, deleting, _) in enumerate(batches, 1)}

    def send(number: int, chunk: list[str]) -> FlowResult:
        chunk_ref = ref if number == 1 else None
        if len(chunk) == 1:
            return client.agreement.confirm_change(chunk[0], ref=chunk_ref)[0]
        return client.agreement.confirm_change(chunk, deletions=deleting_of[number], ref=chunk_ref)[0]

    def said(number: int, flow: FlowResult) -> str:
        return "confirmed, " + ("Inactive (deleted)" if deleting_of[number] else "Active again")

    _run_chunks(client, [(label, chunk) for label, _, chunk in batches], send, as_json, said)


@macd.command("cancel")
@click.argument("asset")
@ref_option
@signer_options
@json_option
def macd_cancel(asset: str, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Call off the pending change of ASSET before it is confirmed (the operator or its customer):
    the twin is Active again and exactly the change's charge is given back on the account."""
    client = session.signer()
    preflight.pending(client, asset, Pending.CHANGE, "cancelling a change")
    flow = client.agreement.cancel_change(asset, ref=ref)
    report_flows(client, [flow], as_json, f"change of {asset} cancelled (Active)")


# -- disconnect ---------------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@click.argument("asset")
@click.option("--non-payment", is_flag=True, help="As the operator: for an overdue invoice of the customer.")
@click.option("--invoice", "invoice_id", type=ID, help="The overdue invoice [default: found].")
@click.option("--confirm", "confirm", is_flag=True, help="Confirm a pending disconnect: Inactive, final bill.")
@click.option("--cancel", "cancel", is_flag=True, help="Cancel a pending disconnect.")
@ref_option
@signer_options
@json_option
def disconnect(
    asset: str,
    non_payment: bool,
    invoice_id: int | None,
    confirm: bool,
    cancel: bool,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Disconnect ASSET: ordered by the customer, or by the operator for non-payment (refused
    while no invoice of that customer is overdue); then --confirm (Inactive, final charges billed)."""
    if sum((confirm, cancel, non_payment or invoice_id is not None)) > 1:
        raise click.UsageError("--confirm, --cancel and --non-payment exclude one another")
    client = session.signer()
    twin = preflight.asset(client, asset)
    if confirm or cancel:
        preflight.pending(client, asset, Pending.DISCONNECT, "--confirm" if confirm else "--cancel")
    elif twin.state is not AssetState.ACTIVE:
        preflight.in_state(client, asset, (AssetState.ACTIVE,), "a disconnection")
    if confirm:
        flow = client.agreement.confirm_disconnect(asset, ref=ref)
        report_flows(client, [flow], as_json, f"{asset} disconnected (Inactive), final charges billed")
        return
    if cancel:
        report_flows(
            client, [client.agreement.cancel_disconnect(asset, ref=ref)], as_json, f"disconnect of {asset} cancelled"
        )
        return
    overdue = 0
    if non_payment or invoice_id is not None:
        if invoice_id is not None:
            preflight.overdue_invoice(client, invoice_id, client.agreement.service(asset).customer)
        overdue = invoice_id or _overdue_invoice(client, asset)
    else:
        customer = client.agreement.service(asset).customer
        if customer is None:
            raise preflight.Refused(f"{asset} has no customer under the agreement: nothing to disconnect")
        if client.address is not None and customer.lower() != client.address.lower():
            raise preflight.Refused(
                f"{asset} is the service of another member: its customer orders the disconnect, "
                "the operator only for non-payment (--non-payment)"
            )
    flow = client.agreement.request_disconnect(asset, overdue_invoice=overdue, ref=ref)
    why = f" for non-payment of invoice #{overdue}" if overdue else ""
    report_flows(client, [flow], as_json, f"disconnect of {asset} ordered{why} (PendingDisconnect)")


def _overdue_invoice(client: Client, asset: str) -> int:
    customer = client.agreement.service(asset).customer
    if customer is None:
        raise click.ClickException(f"{asset} was never installed under the agreement: no customer to check")
    unpaid = client.escrow.invoices(payer=customer, status=InvoiceStatus.ISSUED)
    overdue = client.escrow.overdue([invoice.id for invoice in unpaid])
    if overdue:
        return min(overdue)
    raise click.ClickException(f"no invoice of {customer} is overdue: a non-payment disconnect is not allowed yet")


# -- invoice ------------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def invoice() -> None:
    """Invoices in escrow: list, show, pay; release, refund, reclaim; bill a customer's account."""


def _invoice_json(inv: Invoice, overdue: bool) -> dict[str, Any]:
    return {
        "id": inv.id,
        "payer": inv.payer,
        "payee": inv.payee,
        "token": inv.token,
        "amount": inv.amount,
        "credited": inv.credited,
        "to_fund": inv.to_fund,
        "due_date": inv.due_date,
        "overdue": overdue,
        "status": inv.status.label,
        "hold": inv.hold,
        "subject": show_bytes32(inv.subject),
        "ref": show_bytes32(inv.ref),
    }


@invoice.command("list")
@click.option("--payer", help="Only invoices this member pays (name or address).")
@click.option("--payee", help="Only invoices this member receives.")
@click.option(
    "--status",
    type=click.Choice([s.label for s in InvoiceStatus if s is not InvoiceStatus.NONE]),
    help="Only invoices in this status.",
)
@reader_options
@json_option
def invoice_list(payer: str | None, payee: str | None, status: str | None, session: CliSession, as_json: bool) -> None:
    """Invoices, oldest first."""
    if payer and payee:
        raise click.UsageError("filter by --payer or by --payee, not both")
    client = session.reader()
    found = client.escrow.invoices(
        payer=resolve_member(client, payer) if payer is not None else None,
        payee=resolve_member(client, payee) if payee is not None else None,
        status=status,
    )
    late = client.escrow.overdue([i.id for i in found if i.status is InvoiceStatus.ISSUED])
    if as_json:
        output.emit_json([_invoice_json(i, i.id in late) for i in found])
        return
    names = client.constitution.member_names()
    output.table(
        "invoices",
        ["#", "payer", "payee", "amount", "status", "due", "for", "ref"],
        [
            [
                i.id,
                _party(names, i.payer),
                _party(names, i.payee),
                client.escrow.format(i.amount, i.token),
                i.status.label + (" OVERDUE" if i.id in late else ""),
                show_time(i.due_date),
                show_bytes32(i.subject) if any(i.subject) else "-",
                show_bytes32(i.ref),
            ]
            for i in found
        ],
    )


def _party(names: dict[str, str], address: str) -> str:
    """A member's name, else the account shortened (a customer without membership: `invoice show`
    has it whole) so the table keeps room for the status."""
    return names.get(address) or f"{address[:6]}…{address[-4:]}"


@invoice.command("show")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@reader_options
@json_option
def invoice_show(invoice_id: int, session: CliSession, as_json: bool) -> None:
    """One invoice, with its receipt once paid, its settlement (partial payments, disputes) and
    the line items of a bill (checked against the bill's on-chain commitment)."""
    client = session.reader()
    inv = client.escrow.invoice(invoice_id)
    paid = client.escrow.receipt(invoice_id)
    overdue = inv.status is InvoiceStatus.ISSUED and client.escrow.is_overdue(inv.id)
    details = invoice_details(client, inv)
    if as_json:
        data = _invoice_json(inv, overdue)
        data["receipt"] = None if paid is None else {"amount": paid.amount, "paid_at": paid.paid_at}
        data.update(details)
        output.emit_json(data)
        return
    names = client.constitution.member_names()
    rows = [
        ("payer", names.get(inv.payer, inv.payer)),
        ("payee", names.get(inv.payee, inv.payee)),
        ("amount", client.escrow.format(inv.amount, inv.token)),
        ("credited", client.escrow.format(inv.credited, inv.token)),
        ("status", inv.status.label + (" (OVERDUE)" if overdue else "")),
        ("due", show_time(inv.due_date)),
        ("held for confirmation", "yes" if inv.hold else "no"),
        ("for", show_bytes32(inv.subject) if any(inv.subject) else "-"),
        ("ref", show_bytes32(inv.ref)),
    ]
    if paid is not None:
        rows.append(("receipt", f"{client.escrow.format(paid.amount, inv.token)} paid {show_time(paid.paid_at)}"))
    output.pairs(f"invoice #{inv.id}", rows)
    print_invoice_details(client, inv, details)


@invoice.command("pay")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@click.option("--amount", help="Pay only this much (whole tokens) of an invoice not held: a partial payment.")
@click.option(
    "--direct",
    is_flag=True,
    help="Call the escrow directly (no membership: a customer that is not a member, or anyone paying for it).",
)
@ref_option
@signer_options
@json_option
def invoice_pay(
    invoice_id: int, amount: str | None, direct: bool, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """Fund INVOICE as its payer (approves the escrow for the amount first if needed); with
    --amount, or once partly paid or disputed, pay part of what is outstanding. With --direct,
    anyone pays from its own tokens by calling the escrow directly (the payer stays the payer)."""
    client = session.signer()
    if direct:
        _pay_direct(client, invoice_id, amount, as_json)
        return
    preflight.party(client, invoice_id, "payer", "pay it")
    inv = client.escrow.invoice(invoice_id)
    figures = client.escrow.billing(invoice_id)
    if amount is not None or figures.paid or figures.disputed or figures.written_off:
        if inv.hold:
            raise preflight.Refused(f"invoice #{invoice_id} waits for a confirmation: it is paid whole")
        preflight.invoice_status(client, invoice_id, (InvoiceStatus.ISSUED,), "pay")
        value = figures.outstanding if amount is None else units(client, amount, inv.token)
        if not 0 < value <= figures.outstanding:
            raise preflight.Refused(
                f"invoice #{invoice_id}: {client.escrow.format(figures.outstanding, inv.token)} "
                "outstanding (not disputed)"
            )
        result = client.escrow.pay(invoice_id, value, ref=ref)
        left = figures.outstanding - value
        report_action(
            result,
            as_json,
            f"invoice #{invoice_id}: {client.escrow.format(value, inv.token)} paid, "
            f"{client.escrow.format(left, inv.token)} outstanding",
        )
        return
    result = client.escrow.fund(invoice_id, ref=ref)
    where = "into escrow until confirmation" if inv.hold else "to the payee"
    report_action(
        result, as_json, f"invoice #{invoice_id} paid: {client.escrow.format(inv.to_fund, inv.token)} {where}"
    )


@invoice.command("release")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@ref_option
@signer_options
@json_option
def invoice_release(invoice_id: int, ref: str | None, session: CliSession, as_json: bool) -> None:
    """As the payer: release escrowed funds of INVOICE to the payee."""
    client = session.signer()
    preflight.party(client, invoice_id, "payer", "release it")
    preflight.invoice_status(client, invoice_id, (InvoiceStatus.FUNDED,), "release")
    report_action(client.escrow.release(invoice_id, ref=ref), as_json, f"invoice #{invoice_id} released")


@invoice.command("refund")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@ref_option
@signer_options
@json_option
def invoice_refund(invoice_id: int, ref: str | None, session: CliSession, as_json: bool) -> None:
    """As the payee: give escrowed funds of INVOICE back (or cancel it if not funded)."""
    client = session.signer()
    preflight.party(client, invoice_id, "payee", "refund it")
    preflight.invoice_status(client, invoice_id, (InvoiceStatus.ISSUED, InvoiceStatus.FUNDED), "refund")
    report_action(client.escrow.refund(invoice_id, ref=ref), as_json, f"invoice #{invoice_id} refunded")


def _pay_direct(client: Client, invoice_id: int, amount: str | None, as_json: bool) -> None:
    preflight.invoice_status(client, invoice_id, (InvoiceStatus.ISSUED,), "pay")
    inv = client.escrow.invoice(invoice_id)
    value = None if amount is None else units(client, amount, inv.token)
    tx = client.escrow.pay_direct(invoice_id, value)
    figures = client.escrow.billing(invoice_id)
    after = client.escrow.invoice(invoice_id)
    if as_json:
        output.emit_json(
            {"tx_hash": tx, "invoice_id": invoice_id, "status": after.status.label, "outstanding": figures.outstanding}
        )
        return
    click.echo(
        f"invoice #{invoice_id} paid directly: {after.status.label}, "
        f"{client.escrow.format(figures.outstanding, inv.token)} outstanding (tx {tx})"
    )


@invoice.command("reclaim")
@click.argument("invoice_id", metavar="INVOICE", type=ID)
@ref_option
@signer_options
@json_option
def invoice_reclaim(invoice_id: int, ref: str | None, session: CliSession, as_json: bool) -> None:
    """As the payer: take back a funded INVOICE never confirmed, after the confirmation window."""
    client = session.signer()
    preflight.party(client, invoice_id, "payer", "reclaim it")
    preflight.invoice_status(client, invoice_id, (InvoiceStatus.FUNDED,), "reclaim")
    report_action(client.escrow.reclaim(invoice_id, ref=ref), as_json, f"invoice #{invoice_id} reclaimed")


@invoice.command("account")
@click.argument("customer")
@reader_options
@json_option
def running_account_show(customer: str, session: CliSession, as_json: bool) -> None:
    """CUSTOMER's running account: the balance `invoice bill` would invoice now (a negative
    balance becomes a credit note), the period and its number of charges."""
    client = session.reader()
    who = resolve_member(client, customer)
    acct = client.agreement.account(who)
    if as_json:
        output.emit_json(
            {
                "customer": acct.customer,
                "balance": acct.balance,
                "balance_text": _money(client, acct.balance),
                "period": acct.period,
                "lines": acct.lines,
                "opened_at": acct.opened_at,
            }
        )
        return
    output.pairs(
        f"running account of {customer}",
        [
            ("balance", _money(client, acct.balance)),
            ("period", acct.period),
            ("charges", acct.lines),
            ("opened", show_time(acct.opened_at)),
        ],
    )


@invoice.command("bill")
@click.argument("customer")
@ref_option
@signer_options
@json_option
def invoice_bill(customer: str, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Close CUSTOMER's billing period: its accrued MACD charges become one invoice (or a credit note)."""
    client = session.signer()
    who = resolve_member(client, customer)
    if client.agreement.account(who).balance == 0:
        raise preflight.Refused(f"the running account of {customer} is empty: nothing to bill")
    flow = client.agreement.bill(who, ref=ref)
    report_flows(client, [flow], as_json, f"account of {customer} billed")
