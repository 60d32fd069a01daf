"""``telcochain asset ...``: digital twins of network assets (register, parties, show, history,
bind-serial, transitions, bulk, link). The index adds ``asset list`` (:mod:`telcochain.cli.index`)."""

from __future__ import annotations

import sys
from typing import Any

import click

from telcochain import output, preflight
from telcochain.assets import VERBS, Asset
from telcochain.cli.options import (
    CONTEXT,
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
from telcochain.types import show_bytes32


@click.group(cls=Group, context_settings=CONTEXT)
def asset() -> None:
    """Digital twins: register, move through the lifecycle, bind serials, audit history."""


def _asset_json(a: Asset) -> dict[str, Any]:
    return {
        "id": a.name,
        "state": a.state.label,
        "kind": a.kind,
        "serial_hash": "0x" + a.serial_hash.hex() if a.serial_hash else None,
        "version": a.version,
        "history_head": "0x" + a.history_head.hex(),
        "custodian": a.custodian,
        "customer": a.customer,
        "vendor": a.vendor,
        "on_order_line": a.on_line,
    }


@asset.command("register")
@click.argument("asset_ref", metavar="ASSET")
@click.option("--kind", required=True, help="Device kind, up to 12 bytes (ONT, CPE-ROUTER...).")
@click.option("--serial", help="The device serial, if already known (only its salted hash goes on chain).")
@click.option("--project", help="Root identifier (project) to link.")
@click.option("--order", help="Order id to link.")
@click.option("--customer", help="The customer the twin is planned for (member name or address).")
@click.option("--vendor", help="The vendor that supplies the device (member name or address): it may deliver it.")
@ref_option
@signer_options
@json_option
def asset_register(
    asset_ref: str,
    kind: str,
    serial: str | None,
    project: str | None,
    order: str | None,
    customer: str | None,
    vendor: str | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Register ASSET (an id up to 32 bytes, e.g. ONT-0001) in state Planned, with this member as
    its custodian; --customer / --vendor name its parties (docs/assets.md, "Parties")."""
    client = session.signer()
    result = client.assets.register(
        asset_ref,
        kind,
        serial=serial,
        root_id=project,
        order_id=order,
        ref=ref,
        customer=resolve_member(client, customer) if customer is not None else None,
        vendor=resolve_member(client, vendor) if vendor is not None else None,
    )
    report_action(result, as_json, f"{asset_ref} registered ({kind})")


@asset.command("parties")
@click.argument("asset_ref", metavar="ASSET")
@click.option("--customer", help="The customer the twin is planned for (member name or address).")
@click.option("--vendor", help="The vendor that supplies the device (member name or address).")
@ref_option
@signer_options
@json_option
def asset_parties(
    asset_ref: str, customer: str | None, vendor: str | None, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """Name the customer and the vendor of ASSET, as its custodian (a Planned or Inactive twin no
    order line holds). A twin with a customer moves only through the agreement's flows."""
    client = session.signer()
    result = client.assets.set_parties(
        asset_ref,
        customer=resolve_member(client, customer) if customer is not None else None,
        vendor=resolve_member(client, vendor) if vendor is not None else None,
        ref=ref,
    )
    report_action(result, as_json, f"{asset_ref}: customer {customer or 'none'}, vendor {vendor or 'none'}")


@asset.command("show")
@click.argument("asset_ref", metavar="ASSET")
@reader_options
@json_option
def asset_show(asset_ref: str, session: CliSession, as_json: bool) -> None:
    """Show ASSET: state, serial hash, version, history head, its parties (custodian, customer,
    vendor) and whether an open order line holds it."""
    client = session.reader()
    a = client.assets.get(asset_ref)
    if as_json:
        output.emit_json(_asset_json(a))
        return
    names = client.constitution.member_names()
    output.pairs(
        f"asset {a.name}",
        [
            ("state", a.state.label),
            ("kind", a.kind),
            ("serial", "0x" + a.serial_hash.hex() if a.serial_hash else "not bound"),
            ("version", a.version),
            ("history head", "0x" + a.history_head.hex()),
            ("custodian", names.get(a.custodian, a.custodian)),
            ("customer", names.get(a.customer, a.customer) if a.customer else "none"),
            ("vendor", names.get(a.vendor, a.vendor) if a.vendor else "none"),
            (
                "held by",
                "an open order line" if a.on_line else ("its customer's agreement" if a.customer else "no flow"),
            ),
        ],
    )


@asset.command("history")
@click.argument("asset_ref", metavar="ASSET")
@click.option("--verify", is_flag=True, help="Recompute the history head from the events and compare with the chain.")
@reader_options
@json_option
def asset_history(asset_ref: str, verify: bool, session: CliSession, as_json: bool) -> None:
    """The changes of ASSET (time, change, actor, ref), read from the chain's events."""
    client = session.reader()
    preflight.asset(client, asset_ref)
    changes = client.assets.history(asset_ref)
    verdict = client.assets.verify_history(asset_ref, changes) if verify else None
    if as_json:
        rows = [
            {
                "version": c.version,
                "time": c.timestamp,
                "change": c.describe(),
                "actor": c.actor,
                "ref": show_bytes32(c.ref),
                "block": c.block_number,
                "tx_hash": c.tx_hash,
            }
            for c in changes
        ]
        data: dict[str, Any] = {"asset": asset_ref, "changes": rows}
        if verdict is not None:
            data["verified"] = verdict.verified
            data["first_bad"] = verdict.first_bad
            data["reason"] = verdict.reason
        output.emit_json(data)
        if verdict is not None and not verdict.verified:
            sys.exit(1)
        return
    names = client.constitution.member_names()
    output.table(
        f"history of {asset_ref}",
        ["#", "time", "change", "actor", "ref"],
        [
            [c.version, show_time(c.timestamp), c.describe(), names.get(c.actor, c.actor), show_bytes32(c.ref)]
            for c in changes
        ],
    )
    if verdict is not None:
        if verdict.verified:
            output.console.print(f"[green]✓ {verdict}[/green]")
        else:
            raise click.ClickException(str(verdict))


@asset.command("bind-serial")
@click.argument("asset_ref", metavar="ASSET")
@click.argument("serial")
@ref_option
@signer_options
@json_option
def asset_bind_serial(
    asset_ref: str,
    serial: str,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Bind device SERIAL to ASSET (hashed with the consortium salt; may open a vote)."""
    client = session.signer()
    twin = preflight.asset(client, asset_ref)
    if twin.serial_hash is not None:
        raise preflight.Refused(f"{asset_ref} has a serial already: a twin's serial is bound once")
    if not serial.strip():
        raise click.BadParameter("a serial number cannot be empty", param_hint="SERIAL")
    report_action(client.assets.bind_serial(asset_ref, serial, ref=ref), as_json, f"serial bound to {asset_ref}")


@asset.command(
    "transition",
    help="Move ASSET through its lifecycle with VERB (see docs/assets.md for the table).\n\n"
    f"VERB is one of: {', '.join(VERBS)}.",
)
@click.argument("asset_ref", metavar="ASSET")
@click.argument("verb", type=click.Choice(VERBS), metavar="VERB")
@ref_option
@signer_options
@json_option
def asset_transition(
    asset_ref: str,
    verb: str,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Move ASSET through its lifecycle with VERB (see docs/assets.md for the table)."""
    client = session.signer()
    preflight.asset(client, asset_ref)
    result = client.assets.transition(asset_ref, verb, ref=ref)
    if result.executed and not as_json:
        output.done(f"{asset_ref}: {verb} → {client.assets.get(asset_ref).state.label} (tx {result.receipt.tx_hash})")
        return
    report_action(result, as_json, f"{asset_ref}: {verb}")


@asset.command("bulk")
@click.argument("verb", type=click.Choice(VERBS), metavar="VERB")
@click.argument("asset_refs", metavar="ASSET...", nargs=-1, required=True)
@ref_option
@signer_options
@json_option
def asset_bulk(
    verb: str,
    asset_refs: tuple[str, ...],
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Apply VERB to every ASSET in one transaction (all or nothing, up to 256)."""
    client = session.signer()
    result = client.assets.bulk_transition(verb, list(asset_refs), ref=ref)
    report_action(result, as_json, f"{verb} on {len(asset_refs)} assets, {result.receipt.gas_used:,} gas")


@asset.command("link")
@click.argument("asset_ref", metavar="ASSET")
@click.option("--project", help="Root identifier (project).")
@click.option("--order", help="Order id.")
@ref_option
@signer_options
@json_option
def asset_link(
    asset_ref: str,
    project: str | None,
    order: str | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Link ASSET to a project (root identifier) and/or an order."""
    if not project and not order:
        raise click.UsageError("give --project, --order or both")
    client = session.signer()
    preflight.asset(client, asset_ref)  # the ids linked may be the CRM's: not checked against the OrderBook
    report_action(
        client.assets.link(asset_ref, root_id=project, order_id=order, ref=ref), as_json, f"{asset_ref} linked"
    )
