"""``telcochain order ...`` and ``telcochain stock ...``: customer orders and the stock ledger.

Registered on the main group by :mod:`telcochain.cli.root` (explicitly, by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import yaml
from rich.tree import Tree

from telcochain import output
from telcochain.cli.options import (
    CONTEXT,
    CliSession,
    Group,
    action_json,
    json_option,
    reader_options,
    ref_option,
    report_action,
    resolve_member,
    signer_options,
)
from telcochain.client import Client
from telcochain.errors import ConfigurationError
from telcochain.orders import (
    ChangePolicy,
    DeviceLine,
    Line,
    Order,
    OrderState,
    Reconciliation,
    Revision,
    Stock,
)
from telcochain.types import show_bytes32

STATE_STYLE = {
    OrderState.ACKNOWLEDGED: "cyan",
    OrderState.PENDING: "cyan",
    OrderState.HELD: "yellow",
    OrderState.IN_PROGRESS: "blue",
    OrderState.COMPLETED: "green",
    OrderState.CANCELLED: "dim",
    OrderState.REJECTED: "red",
    OrderState.FAILED: "red",
    OrderState.PARTIAL: "magenta",
    OrderState.ASSESSING_CANCELLATION: "yellow",
    OrderState.PENDING_CANCELLATION: "yellow",
}
POLICIES = [policy.json_name for policy in ChangePolicy]  # pause, autocorrect


def _state(state: OrderState) -> str:
    style = STATE_STYLE.get(state, "white")
    return f"[{style}]{state.label}[/{style}]"


def _line_text(line: Line, names: dict[str, str]) -> str:
    vendor = names.get(line.vendor, line.vendor)
    asset = f" twin {show_bytes32(line.asset_id)}" if line.asset_id else ""
    policy = "pause" if line.policy is ChangePolicy.PAUSE else "autocorrect"
    figures = f"reserved {line.reserved}, delivered {line.delivered}, used {line.consumed}"
    if line.released:
        figures += f", released {line.released}"
    if line.returned:
        figures += f", returned {line.returned}"
    if line.still_out:
        figures += f", [bold]{line.still_out} still out[/bold]"
    return (
        f"[bold]{line.name}[/bold] {_state(line.state)}  {line.quantity} x {line.sku} from {vendor}{asset}"
        f"  [dim]({policy}; {figures})[/dim]"
    )


def order_tree(order: Order, names: dict[str, str]) -> Tree:
    head = f"order [bold]{order.name}[/bold] {_state(order.state)}  revision {order.revision}"
    if order.held_lines:
        head += f"  [yellow]{order.held_lines} line(s) held[/yellow]"
    tree = Tree(head)
    for service in order.services:
        branch = tree.add(
            f"service [bold]{service.name}[/bold] v{service.version} {_state(service.state)}"
            f"  [dim]({service.action.name.lower().replace('_', '')})[/dim]"
        )
        for line in service.lines:
            branch.add(_line_text(line, names))
    return tree


def _order_json(order: Order) -> dict[str, Any]:
    return {
        "order": order.name,
        "project": show_bytes32(order.project_id),
        "state": order.state.label,
        "revision": order.revision,
        "held_lines": order.held_lines,
        "services": [
            {
                "service": s.name,
                "version": s.version,
                "action": s.action.name.lower(),
                "state": s.state.label,
                "lines": [_line_json(line) for line in s.lines],
            }
            for s in order.services
        ],
    }


def _line_json(line: Line) -> dict[str, Any]:
    return {
        "line": line.name,
        "state": line.state.label,
        "vendor": line.vendor,
        "sku": line.sku,
        "quantity": line.quantity,
        "policy": line.policy.json_name,
        "asset": show_bytes32(line.asset_id) if line.asset_id else None,
        "reserved": line.reserved,
        "released": line.released,
        "delivered": line.delivered,
        "consumed": line.consumed,
        "returned": line.returned,
        "still_out": line.still_out,
    }


def _stock_json(stock: Stock) -> dict[str, int]:
    return {k: getattr(stock, k) for k in Stock.__dataclass_fields__}


# -- order ---------------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def order() -> None:
    """Customer orders: project → order → service items → device lines (docs/orders.md)."""


@order.command("create")
@click.argument("order_ref", metavar="ORDER")
@click.option("--project", required=True, help="The project (root identifier) the order belongs to.")
@click.option("--customer", help="Create the project first, for this customer (member name or address).")
@click.option("--service", "services", multiple=True, metavar="ID[:VERSION]", help="Add a service item (repeatable).")
@ref_option
@signer_options
@json_option
def order_create(
    order_ref: str,
    project: str,
    customer: str | None,
    services: tuple[str, ...],
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Create ORDER under --project (in state acknowledged), optionally with its service items."""
    parsed = [_service_version(s) for s in services]  # all input checked before anything is sent
    seen = [service for service, _ in parsed]
    twice = sorted({x for x in seen if seen.count(x) > 1})
    if twice:
        raise click.BadParameter(f"service(s) given twice: {', '.join(twice)}", param_hint="--service")
    client = session.signer()
    _check_order_create(client, order_ref, project, customer, bool(parsed))
    results = []
    if customer:
        results.append(client.orders.create_project(project, resolve_member(client, customer), ref=ref))
        if not as_json:
            report_action(results[-1], False, f"project {project} created")
    results.append(client.orders.create_order(order_ref, project, ref=None if customer else ref))
    if not as_json:
        report_action(results[-1], False, f"order {order_ref} created")
    for service, version in parsed:
        results.append(client.orders.add_service(order_ref, service, version))
        if not as_json:
            report_action(results[-1], False, f"service {service} v{version} added")
    if as_json:
        output.emit_json([action_json(r) for r in results])


def _service_version(text: str) -> tuple[str, int]:
    service, _, version = text.partition(":")
    if not service or (version and not version.isdigit()):
        raise click.BadParameter(f"{text!r}: expected ID or ID:VERSION", param_hint="--service")
    if len(service.encode()) > 32:
        raise click.BadParameter(f"{service!r}: a service id is at most 32 bytes", param_hint="--service")
    number = int(version or 1)
    if not 1 <= number < 2**32:
        raise click.BadParameter(f"{text!r}: versions run from 1 to 2**32-1", param_hint="--service")
    return service, number


def _check_order_create(client: Client, order_ref: str, project: str, customer: str | None, services: bool) -> None:
    """Everything `order create` will send, checked from views first: nothing half-written."""
    from telcochain.constitution import DenyReason
    from telcochain.errors import ContractRevert
    from telcochain.preflight import Refused

    for what, text in (("order", order_ref), ("project", project)):
        if not text or len(text.encode()) > 32:
            raise Refused(f"{what} id {text!r}: 1 to 32 bytes")
    try:
        client.orders.get(order_ref)
    except ContractRevert:
        pass
    else:
        raise Refused(f"order {order_ref} exists already: choose another id")
    try:
        client.orders.project(project, with_orders=False)
        exists = True
    except ContractRevert:
        exists = False
    if customer and exists:
        raise Refused(f"project {project} exists already: drop --customer to add the order to it")
    if not customer and not exists:
        raise Refused(f"no project {project}: pass --customer to create it with the order")
    needed = (["createProject"] if customer else []) + ["createOrder"] + (["addService"] if services else [])
    if client.address is not None:
        for action in needed:
            reason = client.constitution.can_execute(action, client.address)
            if reason is not DenyReason.NONE:
                raise Refused(f"{action}: {reason.text} (nothing was sent)")


@order.command("add-service")
@click.argument("order_ref", metavar="ORDER")
@click.argument("service")
@click.option(
    "--version", default=1, show_default=True, type=click.IntRange(1, 2**32 - 1), help="The service version (from 1)."
)
@ref_option
@signer_options
@json_option
def order_add_service(
    order_ref: str, service: str, version: int, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """Add service item SERVICE to ORDER."""
    result = session.signer().orders.add_service(order_ref, service, version, ref=ref)
    report_action(result, as_json, f"service {service} v{version} added to {order_ref}")


@order.command("add-line")
@click.argument("order_ref", metavar="ORDER")
@click.argument("line")
@click.option("--service", required=True, help="The service item the device serves.")
@click.option("--vendor", required=True, help="The supplier (member name or address).")
@click.option("--sku", required=True, help="Stock keeping unit, up to 16 bytes.")
@click.option("--quantity", default=1, show_default=True, type=click.IntRange(1, 2**32 - 1), help="How many units.")
@click.option("--asset", help="The digital twin of a managed device (registered first).")
@click.option(
    "--policy",
    type=click.Choice(POLICIES),
    default="autocorrect",
    show_default=True,
    help="What a later revision does to this line.",
)
@ref_option
@signer_options
@json_option
def order_add_line(
    order_ref: str,
    line: str,
    service: str,
    vendor: str,
    sku: str,
    quantity: int,
    asset: str | None,
    policy: str,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Add device LINE to ORDER and order it from its vendor (the quantity is reserved)."""
    client = session.signer()
    spec = DeviceLine(line, service, resolve_member(client, vendor), sku, quantity, policy, asset)
    result = client.orders.add_device_line(order_ref, spec, ref=ref)
    report_action(result, as_json, f"line {line}: {quantity} x {sku} ordered for {order_ref}")


@order.command("show")
@click.argument("order_ref", metavar="ORDER")
@click.option("--project", "is_project", is_flag=True, help="ORDER names a project: show all its orders.")
@reader_options
@json_option
def order_show(order_ref: str, is_project: bool, session: CliSession, as_json: bool) -> None:
    """Draw the project → order → service → device tree of ORDER with every state."""
    client = session.reader()
    if is_project:
        project = client.orders.project(order_ref)
        orders = list(project.orders)
        if as_json:
            output.emit_json(
                {"project": project.name, "customer": project.customer, "orders": [_order_json(o) for o in orders]}
            )
            return
        names = client.constitution.member_names()
        root = Tree(f"project [bold]{project.name}[/bold]  customer {names.get(project.customer, project.customer)}")
    else:
        one = client.orders.get(order_ref)
        orders = [one]
        if as_json:
            output.emit_json(_order_json(one))
            return
        names = client.constitution.member_names()
        customer = client.orders.project(one.project_id, with_orders=False).customer
        root = Tree(f"project [bold]{show_bytes32(one.project_id)}[/bold]  customer {names.get(customer, customer)}")
    for o in orders:
        root.add(order_tree(o, names))
    output.console.print(root)


@order.command("revise")
@click.argument("order_ref", metavar="ORDER")
@click.option(
    "--file",
    "revision_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML revision (see docs/orders.md, 'Revising from the CLI').",
)
@click.option("--modify-service", "modify", multiple=True, metavar="ID:VERSION", help="A → A' (new version).")
@click.option("--add-service", "add_service", multiple=True, metavar="ID[:VERSION]", help="A new service item.")
@click.option("--delete-service", "delete", multiple=True, metavar="ID", help="Cancel a service item.")
@click.option("--keep-service", "keep", multiple=True, metavar="ID", help="Record a service item unchanged.")
@click.option(
    "--remove-line",
    "remove_line",
    multiple=True,
    metavar="LINE[:POLICY]",
    help="Remove a device line (released, or sent to recovery if delivered).",
)
@click.option(
    "--keep-line",
    "keep_line",
    multiple=True,
    metavar="LINE[:POLICY]",
    help="Keep a line; pause holds it and tells its supplier, autocorrect carries on.",
)
@ref_option
@signer_options
@json_option
def order_revise(
    order_ref: str,
    revision_file: Path | None,
    modify: tuple[str, ...],
    add_service: tuple[str, ...],
    delete: tuple[str, ...],
    keep: tuple[str, ...],
    remove_line: tuple[str, ...],
    keep_line: tuple[str, ...],
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Revise ORDER in one action: new service versions and the new device set.

    \b
    New device lines come from --file (lines: add: [...]); simple changes also as options:
      telcochain order revise ORD-1 --modify-service A:2 --delete-service E \\
          --remove-line A1 --keep-line D1:pause
    """
    client = session.signer()
    revision = Revision()
    if revision_file is not None:
        members = client.constitution.members()
        revision = revision_from_yaml(revision_file, lambda who: resolve_member(client, who, members))
    try:
        for text in modify:
            service, version = _service_version(text)
            if ":" not in text:
                raise click.BadParameter(f"{text!r}: give the new version, ID:VERSION", param_hint="--modify-service")
            revision.modify_service(service, version)
        for text in add_service:
            revision.add_service(*_service_version(text))
        for service in delete:
            revision.delete_service(service)
        for service in keep:
            revision.keep_service(service)
        for text in remove_line:
            revision.remove_line(*_line_policy(text))
        for text in keep_line:
            revision.keep_line(*_line_policy(text))
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc)) from None
    result = client.orders.revise(order_ref, revision, ref=ref)
    after = client.orders.get(order_ref)
    report_action(result, as_json, f"{order_ref} revised (revision {after.revision}, {after.state.label})")


def _line_policy(text: str) -> tuple[str, ChangePolicy]:
    line, _, policy = text.partition(":")
    return line, ChangePolicy.parse(policy or "autocorrect")


def revision_from_yaml(path: Path, member: Any) -> Revision:
    """A :class:`Revision` from a YAML file::

    services:
      modify: {A: 2, C: 2}
      keep: [B, D]
      delete: [E]
      add: {F: 1}
    lines:
      remove: {A1: autocorrect, D2: pause}
      keep: {D1: pause}
      add:
        - {line: C1, service: C, vendor: Acme Networks, sku: ROUTER-X, quantity: 1,
           asset: RTR-C1, policy: pause}
    """
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not set(data) <= {"services", "lines"}:
        raise ConfigurationError(f"{path}: expected the keys 'services' and/or 'lines'")
    revision = Revision()

    def bad(where: str, what: str) -> ConfigurationError:
        return ConfigurationError(f"{path}: malformed revision: {where} {what} (see `telcochain order revise --help`)")

    def mapping(value: Any, where: str, keys: set[str] | None = None) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise bad(where, f"must be a mapping, not {type(value).__name__}")
        if keys is not None and not set(value) <= keys:
            raise bad(
                where,
                f"has unknown key(s) {', '.join(map(str, set(value) - keys))} (expected {', '.join(sorted(keys))})",
            )
        return value

    def listing(value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise bad(where, f"must be a list, not {type(value).__name__}")
        return value

    def number(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad(where, f"must be a whole number from 1, not {value!r}")
        return value

    services = mapping(data.get("services"), "services", {"add", "modify", "keep", "delete"})
    lines = mapping(data.get("lines"), "lines", {"add", "remove", "keep"})
    try:
        for service, version in mapping(services.get("add"), "services.add").items():
            revision.add_service(str(service), number(version, f"services.add.{service}"))
        for service, version in mapping(services.get("modify"), "services.modify").items():
            revision.modify_service(str(service), number(version, f"services.modify.{service}"))
        for service in listing(services.get("keep"), "services.keep"):
            revision.keep_service(str(service))
        for service in listing(services.get("delete"), "services.delete"):
            revision.delete_service(str(service))
        for n, spec in enumerate(listing(lines.get("add"), "lines.add")):
            where = f"lines.add[{n}]"
            spec = mapping(spec, where, {"line", "service", "vendor", "sku", "quantity", "policy", "asset"})
            missing = [k for k in ("line", "service", "vendor", "sku") if not spec.get(k)]
            if missing:
                raise bad(where, f"lacks {', '.join(missing)}")
            revision.add_line(
                DeviceLine(
                    str(spec["line"]),
                    str(spec["service"]),
                    member(str(spec["vendor"])),
                    str(spec["sku"]),
                    number(spec.get("quantity", 1), f"{where}.quantity"),
                    str(spec.get("policy", "autocorrect")),
                    str(spec["asset"]) if spec.get("asset") else None,
                )
            )
        for kind, apply in (("remove", revision.remove_line), ("keep", revision.keep_line)):
            entries = lines.get(kind) or {}
            if not isinstance(entries, dict | list):
                raise bad(f"lines.{kind}", f"must be a mapping (line: policy) or a list, not {type(entries).__name__}")
            items = entries.items() if isinstance(entries, dict) else ((e, "autocorrect") for e in entries)
            for line, policy in items:
                if isinstance(line, dict | list):
                    raise bad(f"lines.{kind}", f"lists a {type(line).__name__} where a line id is expected")
                apply(str(line), str(policy or "autocorrect"))
    except ConfigurationError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{path}: malformed revision ({exc})") from None
    return revision


@order.command("resume")
@click.argument("order_ref", metavar="ORDER")
@click.argument("lines", nargs=-1, required=True)
@ref_option
@signer_options
@json_option
def order_resume(order_ref: str, lines: tuple[str, ...], ref: str | None, session: CliSession, as_json: bool) -> None:
    """Resume held LINES of ORDER once the re-plan is agreed (paused new lines are ordered now)."""
    result = session.signer().orders.resume(order_ref, lines, ref=ref)
    report_action(result, as_json, f"{len(lines)} line(s) of {order_ref} resumed")


@order.command("transition")
@click.argument("order_ref", metavar="ORDER")
@click.argument("state")
@click.option("--service", help="Move this service item instead of the order.")
@ref_option
@signer_options
@json_option
def order_transition(
    order_ref: str, state: str, service: str | None, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """Move ORDER (or one of its service items) to STATE (TMF label: inProgress, completed...)."""
    target = OrderState.parse(state)
    client = session.signer()
    if service:
        result = client.orders.transition_service(order_ref, service, target, ref=ref)
        report_action(result, as_json, f"service {service} of {order_ref} → {target.label}")
    else:
        report_action(client.orders.transition(order_ref, target, ref=ref), as_json, f"{order_ref} → {target.label}")


@order.command("cancel")
@click.argument("order_ref", metavar="ORDER")
@click.option("--line", "lines", multiple=True, help="Cancel only these lines (repeatable)...")
@click.option("--service", "services", multiple=True, help="...and these service items.")
@ref_option
@signer_options
@json_option
def order_cancel(
    order_ref: str,
    lines: tuple[str, ...],
    services: tuple[str, ...],
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Cancel ORDER at any stage: undelivered lines are released, delivered ones go to recovery."""
    client = session.signer()
    partial = bool(lines or services)
    _check_cancel(client, order_ref, lines, services)
    results = client.orders.cancel(
        order_ref, lines=lines if partial else None, services=services if partial else None, ref=ref
    )
    after = client.orders.get(order_ref)
    kept = _installed_twins(client, after.lines)
    if as_json:
        output.emit_json(
            {
                "order": order_ref,
                "state": after.state.label,
                "calls": [action_json(r) for r in results],
                "kept_in_service": kept,
            }
        )
        return
    for r in results:
        output.done(f"cancelOrder (tx {r.receipt.tx_hash}, block {r.receipt.block_number})")
    recovering = [line.name for line in after.lines if line.state is OrderState.CANCELLED and line.still_out]
    note = f"; still out, to come back: {', '.join(recovering)}" if recovering else ""
    output.done(f"{order_ref} is {after.state.label}{note}")
    for twin in kept:
        output.done(
            f"{twin} stays installed (Active) under the agreement: the order's end does not end a service; "
            f"its customer disconnects it (telcochain disconnect {twin})"
        )


def _installed_twins(client: Client, lines: Sequence[Line]) -> list[str]:
    """The twins of ``lines`` in service under the agreement (installed: Active or a change open)."""
    from telcochain.assets import AssetState
    from telcochain.errors import AssetNotFound

    in_service = (AssetState.ACTIVE, AssetState.PENDING_CHANGE, AssetState.PENDING_DISCONNECT)
    found = []
    for line in lines:
        if line.asset_id is None:
            continue
        try:
            if client.assets.get(line.asset_id).state in in_service:
                found.append(show_bytes32(line.asset_id))
        except AssetNotFound:
            continue
    return found


def _check_cancel(client: Client, order_ref: str, lines: tuple[str, ...], services: tuple[str, ...]) -> None:
    """What `order cancel` would do, checked first: the order open, the lines and services named
    in it, and no installed device among the lines cancelled (the chain refuses to move an
    Active twin back: it is disconnected under the agreement, not cancelled with its order)."""
    from telcochain.assets import AssetState
    from telcochain.errors import AssetNotFound
    from telcochain.preflight import Refused

    order = client.orders.get(order_ref)
    if order.state.terminal:
        raise Refused(f"{order_ref} is {order.state.label}: nothing left to cancel")
    by_name = {line.name: line for line in order.lines}
    unknown = [name for name in lines if name not in by_name]
    if unknown:
        raise Refused(f"no line {', '.join(unknown)} in {order_ref} (it has: {', '.join(by_name) or 'none'})")
    known_services = {show_bytes32(s.id) for s in order.services}
    missing = [name for name in services if name not in known_services]
    if missing:
        raise Refused(f"no service {', '.join(missing)} in {order_ref}")
    chosen = [by_name[name] for name in lines] if lines or services else list(order.lines)
    if services:
        chosen += [line for line in order.lines if show_bytes32(line.service_id) in services]
    in_service = (AssetState.ACTIVE, AssetState.PENDING_CHANGE, AssetState.PENDING_DISCONNECT)
    for line in chosen:
        if line.asset_id is None or line.state.terminal:
            continue
        try:
            twin = client.assets.get(line.asset_id)
        except AssetNotFound:
            continue
        if twin.state in in_service:
            name = show_bytes32(line.asset_id)
            raise Refused(
                f"line {line.name} of {order_ref} holds {name}, installed and {twin.state.label}: an installed "
                f"device is not cancelled with its order; its customer disconnects it first "
                f"(telcochain disconnect {name}), or leave the line out (--line/--service)"
            )


# -- stock ---------------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def stock() -> None:
    """The stock ledger: what was reserved, delivered, used for its line, returned, still out."""


@stock.command("show")
@click.argument("vendor")
@click.argument("sku")
@reader_options
@json_option
def stock_show(vendor: str, sku: str, session: CliSession, as_json: bool) -> None:
    """VENDOR's cumulative figures for SKU across every order."""
    client = session.reader()
    address = resolve_member(client, vendor)
    figures = client.orders.stock(address, sku)
    if as_json:
        output.emit_json({"vendor": address, "sku": sku, **_stock_json(figures)})
        return
    name = client.constitution.member_names().get(address, address)
    output.pairs(f"stock of {sku} at {name}", [(k.replace("_", " "), v) for k, v in _stock_json(figures).items()])


@stock.command("reconcile")
@click.option("--order", "order_ref", help="Reconcile one order...")
@click.option("--vendor", help="...or one vendor (all its lines, every order).")
@reader_options
@json_option
def stock_reconcile(order_ref: str | None, vendor: str | None, session: CliSession, as_json: bool) -> None:
    """Reserved vs used vs returned vs still out, per device line and in total."""
    if (order_ref is None) == (vendor is None):
        raise click.UsageError("pass --order ORDER or --vendor VENDOR")
    client = session.reader()
    rec: Reconciliation = (
        client.orders.reconcile(order=order_ref)
        if order_ref
        else client.orders.reconcile(vendor=resolve_member(client, vendor or ""))
    )
    if as_json:
        output.emit_json(
            {"subject": rec.subject, "lines": [_line_json(x) for x in rec.lines], "totals": _stock_json(rec.totals)}
        )
        return
    names = client.constitution.member_names()
    rows = [
        [
            x.name,
            show_bytes32(x.order_id),
            names.get(x.vendor, x.vendor),
            x.sku,
            x.state.label,
            x.reserved,
            x.released,
            x.delivered,
            x.consumed,
            x.returned,
            x.still_out,
        ]
        for x in rec.lines
    ]
    t = rec.totals
    rows.append(["total", "", "", "", "", t.reserved, t.released, t.delivered, t.consumed, t.returned, t.still_out])
    output.table(
        f"reconciliation of {rec.subject}",
        [
            "line",
            "order",
            "vendor",
            "sku",
            "state",
            *["reserved", "released", "delivered", "used", "returned"],
            "still out",
        ],
        rows,
    )
    if t.still_out:
        output.err_console.print(f"[yellow]{t.still_out} unit(s) delivered but neither used nor returned[/yellow]")


@stock.command("deliver")
@click.argument("line")
@click.option("--quantity", default=1, show_default=True, type=click.IntRange(1, 2**32 - 1), help="How many units.")
@ref_option
@signer_options
@json_option
def stock_deliver(line: str, quantity: int, ref: str | None, session: CliSession, as_json: bool) -> None:
    """As the line's vendor: deliver QUANTITY units of LINE."""
    result = session.signer().orders.deliver(line, quantity, ref=ref)
    report_action(result, as_json, f"{quantity} unit(s) of {line} delivered")


@stock.command("consume")
@click.argument("line")
@click.option("--vendor", required=True, help="The vendor the units came from (must be the line's).")
@click.option("--sku", required=True, help="The SKU used (must be the line's).")
@click.option("--quantity", default=1, show_default=True, type=click.IntRange(1, 2**32 - 1), help="How many units.")
@ref_option
@signer_options
@json_option
def stock_consume(
    line: str, vendor: str, sku: str, quantity: int, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """Use delivered units for LINE — only for the line they were reserved for."""
    client = session.signer()
    result = client.orders.consume(line, resolve_member(client, vendor), sku, quantity, ref=ref)
    report_action(result, as_json, f"{quantity} x {sku} used for {line}")


@stock.command("return")
@click.argument("line")
@click.option("--quantity", default=1, show_default=True, type=click.IntRange(1, 2**32 - 1), help="How many units.")
@ref_option
@signer_options
@json_option
def stock_return(line: str, quantity: int, ref: str | None, session: CliSession, as_json: bool) -> None:
    """As the line's vendor: take back QUANTITY units still out on LINE."""
    result = session.signer().orders.return_stock(line, quantity, ref=ref)
    report_action(result, as_json, f"{quantity} unit(s) of {line} returned")
