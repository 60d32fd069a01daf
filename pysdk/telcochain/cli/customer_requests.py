"""``customer request install|move|add|change|delete|disconnect``: a registered customer's
installation, MACD change and disconnect filed by its operator (``OperatorAgreement.actFor`` ops
0 to 2), with the customer's signed consent (a file written by ``telcochain consent sign``: the
request is then the customer's own) or on the operator's own where the agreement allows it.

Everything the chain would check is checked first, from its views, and refused in one line with
the next step: the customer is registered and yours, the twin and its service allow the request,
and a consent names this request (action, asset, MACD kind, customer, you) with a ceiling at
least the stated charge and verifies on chain now (the registry's ``checkConsent``: key,
deadline, unused nonce). A change on several assets (or ``--file``) is one bulk order (``actFor``
op 4): the same customer's Active bilateral services, none twice, at most ``MAX_BULK``, the charge
per asset, and a consent to ``orderChanges`` for exactly that list in that order. Registered on
the ``customer`` group by :mod:`telcochain.cli.root`.
"""

from __future__ import annotations

from pathlib import Path

import click

from telcochain import output, preflight
from telcochain.agreement import InvoiceStatus, MacdKind, Pending
from telcochain.assets import AssetState, asset_id
from telcochain.cli.agreement import _flow_json, read_asset_file, report_flows
from telcochain.cli.customers import consent_file_option, read_consent
from telcochain.cli.options import CONTEXT, CliSession, Group, json_option, ref_option, signer_options
from telcochain.client import Client
from telcochain.customers import MAX_BULK, Consent, ConsentError, Customer, list_subject
from telcochain.types import show_bytes32, to_address

#: ``actFor`` takes charges within int72.
INT72 = 2**71
#: The consent's action for each request.
ACTION = {"install": "requestInstallation", "change": "orderChange", "disconnect": "orderDisconnect"}


def _a(verb: str) -> str:
    """``a move``, ``an add``."""
    return ("an " if verb[0] in "aeiou" else "a ") + verb


charge_option = click.option(
    "--charge",
    type=int,
    help="The charge you state, in token base units (your price list's; a MACD change may be a "
    "negative credit) [default: the consent's ceiling].",
)


@click.group("request", cls=Group, context_settings=CONTEXT)
def customer_request() -> None:
    """As a registered customer's operator: file its installation, MACD change or disconnect,
    with its signed consent (`consent sign`: the request is its own) or on your own where the
    agreement lets an operator (an installation, a change, a disconnect for non-payment)."""


@customer_request.command("install")
@click.argument("asset")
@click.option("--customer", "customer_address", required=True, help="The registered customer (address).")
@charge_option
@consent_file_option
@ref_option
@signer_options
@json_option
def request_install(
    asset: str,
    customer_address: str,
    charge: int | None,
    consent_file: Path | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """The installation of ASSET for the customer at the stated charge: the twin goes
    PendingInstallation and a charge is invoiced, held in escrow until you confirm it
    (`install confirm`); the customer pays it from its wallet (`invoice pay --direct`)."""
    c, signature = _given(consent_file, charge)
    if (charge if charge is not None else 0) < 0:
        raise click.BadParameter("an installation charge is not negative", param_hint="--charge")
    client = session.signer()
    who = _your_customer(client, to_address(customer_address, "--customer")).address
    stated = _not_negative(_checked(client, c, signature, "install", asset, who, None, charge), "an installation")
    twin = preflight.asset(client, asset)
    installable = (AssetState.PLANNED, AssetState.INACTIVE, AssetState.PENDING_INSTALLATION, AssetState.DELIVERED)
    if twin.state not in installable:
        preflight.in_state(client, asset, installable, "an installation")
    if twin.customer is not None and twin.customer != who:
        raise preflight.Refused(f"{asset} is planned for {twin.customer}, not {who}: plan it for the customer first")
    pending = client.agreement.service(asset).pending
    if pending is not Pending.NONE:
        raise preflight.Refused(f"{asset} has an open {pending.label} already: confirm or withdraw it first")
    flow = client.customers.request_installation(asset, who, stated, consent=c, signature=signature, ref=ref)
    report_flows(client, [flow], as_json, f"installation of {asset} requested for {who}{_whose(c)}")


def _change_command(kind: MacdKind) -> None:
    verb = kind.name.lower()
    a_verb = _a(verb)

    @customer_request.command(
        verb,
        help=f"{a_verb.capitalize()} of ASSET (Active, a registered customer's service on its own terms) at the stated "
        "charge on the customer's running account: PendingChange until you confirm it (`macd confirm`); "
        "cancelling it (`macd cancel`) gives back exactly that charge. Several assets (or --file): one bulk "
        f"order of the same customer's services, the charge per asset (at most {MAX_BULK}; a consent to "
        "orderChanges for exactly that list, in that order).",
    )
    @click.argument("assets", metavar="[ASSET]...", nargs=-1)
    @click.option(
        "--file",
        "asset_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Assets from a file (one id per line, or CSV with the id first), after any ASSET given: "
        "one bulk order, in that order.",
    )
    @charge_option
    @consent_file_option
    @ref_option
    @signer_options
    @json_option
    def command(
        assets: tuple[str, ...],
        asset_file: Path | None,
        charge: int | None,
        consent_file: Path | None,
        ref: str | None,
        session: CliSession,
        as_json: bool,
    ) -> None:
        wanted = list(assets) + (read_asset_file(asset_file) if asset_file is not None else [])
        if not wanted:
            raise click.UsageError("give the assets: ASSET... or --file FILE")
        if len(wanted) > 1:
            _bulk_shape(wanted)
        c, signature = _given(consent_file, charge)
        client = session.signer()
        if len(wanted) == 1:
            asset = wanted[0]
            who = _bilateral_service(client, asset, a_verb, f"telcochain macd {verb} {asset}")
            stated = _checked(client, c, signature, "change", asset, who, kind, charge)
            flow = client.customers.order_change(kind, asset, stated, consent=c, signature=signature, ref=ref)
            said = f"{verb} of {asset} ordered for {who}{_whose(c)} (PendingChange)"
        else:
            who = _one_customer(client, wanted, a_verb, verb)
            stated = _checked_list(client, c, signature, wanted, who, kind, charge)
            flow = client.customers.order_changes(kind, wanted, stated, consent=c, signature=signature, ref=ref)
            unit = ("a credit of " if stated < 0 else "") + client.escrow.format(abs(stated))
            said = f"{verb} of {len(wanted)} assets ordered for {who}{_whose(c)} at {unit} each (PendingChange)"
        if as_json:
            output.emit_json({**_flow_json(client, flow), "twins": wanted})
            return
        report_flows(client, [flow], False, said)


for _kind in MacdKind:
    _change_command(_kind)


@customer_request.command("disconnect")
@click.argument("asset")
@charge_option
@consent_file_option
@click.option(
    "--invoice",
    "invoice_id",
    type=int,
    help="Without a consent: the customer's overdue invoice (a disconnect for non-payment) [default: found].",
)
@ref_option
@signer_options
@json_option
def request_disconnect(
    asset: str,
    charge: int | None,
    consent_file: Path | None,
    invoice_id: int | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """The disconnect of ASSET at the stated charge: the one the customer asked for (with its
    consent), or yours for non-payment (without one: an invoice of the customer overdue now).
    PendingDisconnect until you confirm it (`disconnect ASSET --confirm`: Inactive, final bill)."""
    if consent_file is not None and invoice_id is not None:
        raise click.UsageError("--invoice names an overdue invoice for a disconnect without a consent: not both")
    c, signature = _given(consent_file, charge)
    if (charge if charge is not None else 0) < 0:
        raise click.BadParameter("a disconnect charge is not negative", param_hint="--charge")
    client = session.signer()
    who = _bilateral_service(client, asset, "a disconnect", f"telcochain disconnect {asset}")
    stated = _not_negative(_checked(client, c, signature, "disconnect", asset, who, None, charge), "a disconnect")
    overdue = 0
    if c is None:
        overdue = _overdue_of(client, who, invoice_id)
    flow = client.customers.order_disconnect(
        asset, stated, overdue_invoice=overdue, consent=c, signature=signature, ref=ref
    )
    why = f" for non-payment of invoice #{overdue}" if overdue else _whose(c)
    report_flows(client, [flow], as_json, f"disconnect of {asset} ordered{why} (PendingDisconnect)")


# -- checks ---------------------------------------------------------------------------------------


def _not_negative(stated: int, what: str) -> int:
    """A consent's negative ceiling taken as the charge: only a MACD change may credit."""
    if stated < 0:
        raise preflight.Refused(f"{what} is not charged a negative amount ({stated}): state --charge 0 or more")
    return stated


def _whose(c: Consent | None) -> str:
    return " with its consent" if c is not None else " on your own"


def _your_customer(client: Client, who: str) -> Customer:
    """The registered customer ``who``, refused unless this account is its operator."""
    found = client.customers.get(who)
    if found is None:
        raise preflight.Refused(
            f"{who} is not a registered customer: register it first (telcochain customer add {who})"
        )
    if client.address is not None and found.operator != to_address(client.address):
        raise preflight.Refused(f"{who} is served by {found.operator}: only its operator files its requests")
    return found


def _bilateral_service(client: Client, asset: str, doing: str, plain: str) -> str:
    """The customer of ASSET's Active service on a registered customer's terms, served by you."""
    preflight.in_state(client, asset, (AssetState.ACTIVE,), doing)
    service = client.agreement.service(asset)
    if service.customer is None:
        raise preflight.Refused(f"{asset} has no customer under the agreement: nothing to order")
    if not service.bilateral:
        raise preflight.Refused(f"{asset} runs on the public default terms, not a registered customer's: use `{plain}`")
    return _your_customer(client, service.customer).address


def _bulk_shape(assets: list[str]) -> None:
    """A bulk order's list, before anything is asked of the chain: at most MAX_BULK, none twice."""
    if len(assets) > MAX_BULK:
        raise click.UsageError(f"a bulk order names at most {MAX_BULK} assets, not {len(assets)}: split the list")
    seen: set[str] = set()
    twice = [a for a in assets if a in seen or seen.add(a)]  # type: ignore[func-returns-value]
    if twice:
        raise click.UsageError(f"{twice[0]} is listed twice: a bulk order names each asset once")


def _one_customer(client: Client, assets: list[str], a_verb: str, verb: str) -> str:
    """The one registered customer of yours whose Active bilateral services all ``assets`` are."""
    first: tuple[str, str] | None = None
    for asset in assets:
        who = _bilateral_service(client, asset, a_verb, f"telcochain macd {verb} {asset}")
        if first is None:
            first = (asset, who)
        elif who != first[1]:
            raise preflight.Refused(
                f"{asset} is {who}'s service, {first[0]} is {first[1]}'s: a bulk order is for one customer"
            )
    assert first is not None
    return first[1]


def _given(consent_file: Path | None, charge: int | None) -> tuple[Consent | None, bytes]:
    """The consent file read (or none) and the charge's range, before anything is asked of the chain."""
    c, signature = read_consent(consent_file)
    if c is None and charge is None:
        raise click.UsageError("give the charge you state (--charge, token base units), or a --consent")
    if charge is not None:
        _check_range(charge)
    return c, signature


def _checked(
    client: Client,
    c: Consent | None,
    signature: bytes,
    request: str,
    asset: str,
    customer_address: str,
    kind: MacdKind | None,
    charge: int | None,
) -> int:
    """The charge stated (default: the consent's ceiling), with the consent checked against this
    request: it names it (action, asset, MACD kind, customer, this operator), its ceiling covers
    the charge, and it verifies on chain now."""
    if c is None:
        assert charge is not None  # _given
        return charge
    stated = c.max_charge if charge is None else charge
    _check_range(stated)
    action = ACTION[request]
    again = f"ask the customer for a consent to this request (telcochain consent sign --action {action})"
    if c.action != action:
        raise preflight.Refused(f"the consent is to {c.action}, not {action}: {again}")
    if c.subject != asset_id(asset):
        raise preflight.Refused(f"the consent names {show_bytes32(c.subject)}, not {asset}: {again}")
    whose = f"this request is for {customer_address}"
    return _consent_covers(client, c, signature, kind, customer_address, whose, stated, "", again)


def _checked_list(
    client: Client,
    c: Consent | None,
    signature: bytes,
    assets: list[str],
    customer_address: str,
    kind: MacdKind,
    charge: int | None,
) -> int:
    """The unit charge stated (default: the consent's ceiling per asset), with the consent checked
    against this bulk order: an ``orderChanges`` consent for exactly ``assets`` (in that order),
    this kind, customer and operator, its ceiling covering the charge, verifying on chain now."""
    if c is None:
        assert charge is not None  # _given
        return charge
    stated = c.max_charge if charge is None else charge
    _check_range(stated)
    again = "ask the customer for a consent to this list (telcochain consent sign --action orderChanges --asset ...)"
    if c.action != "orderChanges":
        raise preflight.Refused(f"the consent is to {c.action}, not orderChanges (a bulk order): {again}")
    if c.subject != list_subject(assets):
        raise preflight.Refused(
            f"the consent covers another list than these {len(assets)} assets in this order: {again}"
        )
    whose = f"these assets are {customer_address}'s"
    return _consent_covers(client, c, signature, kind, customer_address, whose, stated, " per asset", again)


def _consent_covers(
    client: Client,
    c: Consent,
    signature: bytes,
    kind: MacdKind | None,
    customer_address: str,
    whose: str,
    stated: int,
    per: str,
    again: str,
) -> int:
    """The checks a single and a bulk request share once the consent names them: the MACD kind,
    the customer, this operator, the ceiling covering ``stated``, and the chain verifying it now."""
    if kind is not None and c.kind != int(kind):
        named = _a(MacdKind(c.kind).name.lower()) if c.kind in MacdKind._value2member_map_ else f"kind {c.kind}"
        raise preflight.Refused(f"the consent is to {named}, not {_a(kind.name.lower())}: {again}")
    if c.customer != customer_address:
        raise preflight.Refused(f"the consent is {c.customer}'s, {whose}: {again}")
    if client.address is not None and c.operator != to_address(client.address):
        raise preflight.Refused(f"the consent names the operator {c.operator}: only it may file it")
    if stated > c.max_charge:
        raise preflight.Refused(
            f"the charge {stated}{per} exceeds the consented ceiling {c.max_charge}: state at most that, or {again}"
        )
    try:
        ok, reason = client.customers.verify(c, signature)
    except ConsentError as exc:
        raise preflight.Refused(f"the consent's signature is unusable ({exc}): {again}") from None
    if not ok:
        raise preflight.Refused(f"the consent does not verify now: {reason}: {again}")
    return stated


def _check_range(charge: int) -> None:
    if not -INT72 <= charge < INT72:
        raise click.BadParameter("a charge fits int72 (token base units)", param_hint="--charge")


def _overdue_of(client: Client, who: str, invoice_id: int | None) -> int:
    """Your invoice to ``who`` overdue now: ``invoice_id`` checked, or the oldest found."""
    me = to_address(client.address or "", "operator")
    if invoice_id is not None:
        preflight.overdue_invoice(client, invoice_id, who)
        if client.escrow.invoice(invoice_id).payee != me:
            raise preflight.Refused(f"invoice #{invoice_id} is not yours to collect: name one of your invoices")
        return invoice_id
    unpaid = [i.id for i in client.escrow.invoices(payer=who, status=InvoiceStatus.ISSUED) if i.payee == me]
    overdue = client.escrow.overdue(unpaid)
    if not overdue:
        raise preflight.Refused(
            f"no invoice of {who} is overdue: a disconnect without the customer's consent is for non-payment only "
            "(ask the customer to sign one: telcochain consent sign --action orderDisconnect)"
        )
    return min(overdue)
