"""Commands for an operator's customers: ``customer``, ``terms`` and ``consent``.
Registered on the main group by :mod:`telcochain.cli.root`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from telcochain import output
from telcochain.cli.options import (
    CONTEXT,
    CliSession,
    Group,
    json_option,
    load_account,
    parse_when,
    reader_options,
    ref_option,
    report_action,
    resolve_member,
    show_time,
    signer_options,
)
from telcochain.customers import (
    MAX_BULK,
    Consent,
    ConsentError,
    Customer,
    list_subject,
    name_commitment,
    new_salt,
    price_list_commitment,
    recover_consent_signer,
    seal_price_list,
    sign_consent,
    terms_subject,
)
from telcochain.types import ZERO_ADDRESS, to_address


def _customer_json(c: Customer) -> dict[str, Any]:
    return {
        "customer": c.address,
        "operator": c.operator,
        "signer": c.signer,
        "member": c.member,
        "added_at": c.added_at,
        "name_hash": "0x" + c.name_hash.hex(),
    }


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def _bytes32(text: str, param: str) -> bytes:
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise click.BadParameter("32 bytes as 0x-prefixed hex", param_hint=param)
    return raw


def _read_json(path: Path, param: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint=param) from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} is not a JSON object", param_hint=param)
    return data


def read_consent(path: Path | None) -> tuple[Consent | None, bytes]:
    """A file written by `consent sign`: ``{"consent": {...}, "signature": "0x..."}``."""
    if path is None:
        return None, b""
    data = _read_json(path, "--consent")
    try:
        return Consent.from_json(data["consent"]), bytes.fromhex(str(data["signature"]).removeprefix("0x"))
    except (KeyError, ValueError) as exc:
        raise click.BadParameter(f"{path} is not a signed consent ({exc})", param_hint="--consent") from None


consent_file_option = click.option(
    "--consent",
    "consent_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The customer's signed consent (a file written by `telcochain consent sign`).",
)

# -- customer ------------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def customer() -> None:
    """Your customers (TMF629 parties): register, list, show."""


@customer.command("add")
@click.argument("address")
@click.option("--signer", help="The customer's signing key (address) [default: ADDRESS for a non-member].")
@click.option("--name", help="The customer's name: only its salted hash goes on chain (the salt is printed).")
@ref_option
@signer_options
@json_option
def customer_add(
    address: str, signer: str | None, name: str | None, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """Register ADDRESS (a member's address or a customer's wallet) as your customer."""
    client = session.signer()
    who = to_address(address, "customer")
    key = client.customers.signing_key(who, signer)
    salt = new_salt()
    name_hash = name_commitment(name, salt) if name else b"\x00" * 32
    result = client.customers.add(who, signer=key, name_hash=name_hash, ref=ref)
    if as_json:
        output.emit_json(
            {
                "customer": who,
                "signer": signer if signer is not None or key == ZERO_ADDRESS else key,
                "name_hash": _hex(name_hash),
                "name_salt": _hex(salt) if name else None,
                "tx_hash": result.receipt.tx_hash,
            }
        )
        return
    report_action(result, False, f"customer {who} registered")
    if name:
        output.done(f"name committed as {_hex(name_hash)}; keep its salt {_hex(salt)} with your records")


@customer.command("list")
@click.option("--operator", help="Only this operator's customers (member name or address).")
@reader_options
@json_option
def customer_list(operator: str | None, session: CliSession, as_json: bool) -> None:
    """The registered customers."""
    client = session.reader()
    op = resolve_member(client, operator) if operator else None
    rows = client.customers.list(op)
    if as_json:
        output.emit_json([_customer_json(c) for c in rows])
        return
    output.table(
        "customers",
        ["customer", "operator", "signer", "member", "added"],
        [[c.address, c.operator, c.signer or "-", "yes" if c.member else "no", show_time(c.added_at)] for c in rows],
    )


@customer.command("show")
@click.argument("address")
@reader_options
@json_option
def customer_show(address: str, session: CliSession, as_json: bool) -> None:
    """One customer: its operator, signing key and price-list commitments."""
    client = session.reader()
    c = client.customers.get(address)
    if c is None:
        raise click.ClickException(f"{address} is not a registered customer (telcochain customer add)")
    t = client.customers.terms(c.address)
    if as_json:
        output.emit_json({**_customer_json(c), "terms": {"current": _hex(t.current), "version": t.version}})
        return
    output.pairs(
        c.address,
        [
            ("operator", c.operator),
            ("signing key", c.signer or "- (none: its operator cannot act for it)"),
            ("member", "yes" if c.member else "no (its operator submits its requests with its consent)"),
            ("added", show_time(c.added_at)),
            ("price list", f"{_hex(t.current) or '-'} (version {t.version})"),
        ],
    )


# -- terms ---------------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def terms() -> None:
    """Bilateral price lists: only their commitment is on chain."""


@terms.command("show")
@click.argument("customer_address", metavar="CUSTOMER")
@reader_options
@json_option
def terms_show(customer_address: str, session: CliSession, as_json: bool) -> None:
    """CUSTOMER's agreed, scheduled and proposed price-list commitments."""
    client = session.reader()
    t = client.customers.terms(customer_address)
    data = {
        "customer": t.customer,
        "current": _hex(t.current),
        "current_from": t.current_from,
        "next": _hex(t.next),
        "next_from": t.next_from,
        "version": t.version,
        "proposed": _hex(t.proposed),
        "proposed_from": t.proposed_from,
        "proposer": t.proposer,
    }
    if as_json:
        output.emit_json(data)
        return
    output.pairs(
        f"price lists of {t.customer}",
        [
            ("in force", f"{data['current'] or '-'} since {show_time(t.current_from)}"),
            ("next", f"{data['next']} from {show_time(t.next_from)}" if t.next else "-"),
            ("agreed lists", t.version),
            (
                "proposed",
                f"{data['proposed']} from {show_time(t.proposed_from)} by {t.proposer}" if t.proposed else "-",
            ),
        ],
    )


@terms.command("propose")
@click.argument("customer_address", metavar="CUSTOMER")
@click.argument("prices", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "effective", help="In force from this date (YYYY-MM-DD) [default: on acceptance].")
@click.option("--seal-for", help="A non-member customer's X25519 public key (0x hex): write PRICES.sealed for it.")
@ref_option
@signer_options
@json_option
def terms_propose(
    customer_address: str,
    prices: Path,
    effective: str | None,
    seal_for: str | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Propose the price list in PRICES (JSON) to CUSTOMER: its salted commitment goes on chain;
    a member customer gets the list itself encrypted through the DetailsVault, a non-member a
    sealed copy (--seal-for) its operator hands over."""
    client = session.signer()
    price_list = _read_json(prices, "PRICES")
    who = to_address(customer_address, "customer")
    sealed_path = None
    if client.constitution.is_active_member(who):
        commitment = client.details.disclose(terms_subject(who), price_list, [who]).details_hash
    else:
        salt = new_salt()
        commitment = price_list_commitment(price_list, salt)
        if seal_for:
            sealed_path = prices.with_suffix(".sealed")
            sealed_path.write_bytes(seal_price_list(price_list, salt, _bytes32(seal_for, "--seal-for")))
    result = client.customers.propose_terms(who, commitment, parse_when(effective, "--from"), ref=ref)
    if as_json:
        output.emit_json(
            {
                "customer": who,
                "commitment": _hex(commitment),
                "sealed": str(sealed_path) if sealed_path else None,
                "tx_hash": result.receipt.tx_hash,
            }
        )
        return
    report_action(result, False, f"price list {_hex(commitment)} proposed to {who}")
    if sealed_path:
        output.done(f"sealed copy for the customer: {sealed_path}")


@terms.command("accept")
@click.argument("customer_address", metavar="CUSTOMER")
@click.argument("commitment")
@click.option("--from", "effective", help="The proposal's effective date, as proposed.")
@consent_file_option
@ref_option
@signer_options
@json_option
def terms_accept(
    customer_address: str,
    commitment: str,
    effective: str | None,
    consent_file: Path | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Accept the open proposal COMMITMENT for CUSTOMER (the operator of a non-member customer
    passes the customer's signed acceptTerms consent)."""
    client = session.signer()
    c, sig = read_consent(consent_file)
    result = client.customers.accept_terms(
        customer_address,
        _bytes32(commitment, "COMMITMENT"),
        parse_when(effective, "--from"),
        consent=c,
        signature=sig,
        ref=ref,
    )
    report_action(result, as_json, f"price list {commitment} agreed with {customer_address}")


@terms.command("monthly")
@click.argument("asset")
@click.argument("amount", type=int)
@click.option(
    "--consent",
    "consent_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The customer's signed recurringCharge consent for ASSET (from `consent sign`).",
)
@ref_option
@signer_options
@json_option
def terms_monthly(
    asset: str, amount: int, consent_file: Path, ref: str | None, session: CliSession, as_json: bool
) -> None:
    """As a registered customer's operator: agree ASSET's monthly recurring charge AMOUNT (token
    base units) with the customer's signed consent; it counts from now."""
    client = session.signer()
    c, sig = read_consent(consent_file)
    if c is None:  # pragma: no cover - click requires --consent
        raise click.BadParameter("a signed consent is required", param_hint="--consent")
    flow = client.customers.agree_monthly_charge(asset, amount, consent=c, signature=sig, ref=ref)
    report_action(flow.result, as_json, f"{asset}: monthly charge {client.escrow.format(amount)} agreed")


# -- consent -------------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
def consent() -> None:
    """A customer's EIP-712 consents: sign one (any wallet key), verify one."""


@consent.command("sign")
@click.option(
    "--action",
    "action_name",
    required=True,
    type=click.Choice(
        [
            "createOrder",
            "requestInstallation",
            "orderChange",
            "orderChanges",
            "orderDisconnect",
            "recurringCharge",
            "acceptTerms",
            "setSigner",
        ]
    ),
    help="The request the customer consents to.",
)
@click.option("--subject", help="The asset or order id (or label), or the price-list commitment.")
@click.option(
    "--asset",
    "assets",
    multiple=True,
    help="orderChanges (a bulk order): its assets, in order (repeatable; instead of --subject).",
)
@click.option("--customer", "customer_address", required=True, help="The customer account (your wallet).")
@click.option("--operator", required=True, help="Your operator's address.")
@click.option("--kind", default="move", show_default=True, help="The MACD kind (orderChange, orderChanges).")
@click.option(
    "--max-charge",
    type=int,
    default=0,
    show_default=True,
    help="The most it may charge (token base units; orderChanges: per asset).",
)
@click.option("--nonce", type=int, help="A number never used before [default: random].")
@click.option("--valid-for", type=int, default=3600, show_default=True, help="Seconds from now.")
@click.option("--chain-id", type=int, help="Offline: the chain id [default: from the node].")
@click.option("--registry", help="Offline: the CustomerRegistry address [default: from the deployment].")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the signed consent here.")
@signer_options
@json_option
def consent_sign(
    action_name: str,
    subject: str | None,
    assets: tuple[str, ...],
    customer_address: str,
    operator: str,
    kind: str,
    max_charge: int,
    nonce: int | None,
    valid_for: int,
    chain_id: int | None,
    registry: str | None,
    out: Path | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Sign a consent with the customer's key (--account, or TELCOCHAIN_PRIVATE_KEY); prints (or
    writes) the consent and its signature. Offline with --chain-id and --registry. A bulk order's
    consent (--action orderChanges) names its assets (--asset, in order) and the ceiling per asset."""
    bulk = action_name == "orderChanges"
    if bulk and (subject is not None or not assets):
        raise click.UsageError("an orderChanges consent names its assets (--asset, repeated, in order), not --subject")
    if not bulk and (assets or subject is None):
        raise click.UsageError("--subject names what the consent is for (--asset lists a bulk order's assets)")
    if len(assets) > MAX_BULK:
        raise click.BadParameter(
            f"a bulk order names at most {MAX_BULK} assets, not {len(assets)}", param_hint="--asset"
        )
    if len(set(assets)) != len(assets):
        raise click.BadParameter("a bulk order names each asset once", param_hint="--asset")
    key = load_account(session.account, session.password_file, "signing a consent needs the customer's key")
    deadline = None  # offline: valid_for from the wall clock
    if chain_id is None or registry is None:
        client = session.reader()
        chain_id = chain_id or int(client.deployment.chain_id)
        registry = registry or client.customers.contract.address
        deadline = client.customers.deadline(valid_for)  # online: from the chain's time too
    if bulk:
        subj: str | bytes = list_subject(assets)
    else:
        assert subject is not None
        subj = bytes.fromhex(subject[2:]) if subject.startswith("0x") and len(subject) == 66 else subject
    c = Consent.make(
        customer=customer_address,
        operator=operator,
        action=action_name,
        subject=subj,
        kind=kind if action_name in ("orderChange", "orderChanges") else 0,
        max_charge=max_charge,
        nonce=nonce,
        valid_for=valid_for,
        deadline=deadline,
    )
    if key.address != c.customer:
        output.done(f"note: signing with {key.address}, which must be {c.customer}'s registered key")
    signature = sign_consent(c, key, chain_id, registry)
    data = {"consent": c.to_json(), "signature": "0x" + signature.hex(), "chain_id": chain_id, "registry": registry}
    if bulk:
        data["twins"] = list(assets)
    if out is not None:
        out.write_text(json.dumps(data, indent=2) + "\n")
    if as_json or out is None:
        output.emit_json(data)
    else:
        output.done(f"consent to {action_name} signed by {key.address}, nonce {c.nonce}: {out}")


@consent.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--asset",
    "assets",
    multiple=True,
    help="orderChanges: the bulk order's assets, in order, to check the consent covers exactly them "
    "[default: the list the file names].",
)
@reader_options
@json_option
def consent_verify(file: Path, assets: tuple[str, ...], session: CliSession, as_json: bool) -> None:
    """Check a signed consent: who signed it, and whether the chain would accept it now (a bulk
    order's consent: also that it covers exactly its list of assets, in order)."""
    c, sig = read_consent(file)
    assert c is not None
    listed = list(assets) or _listed(file)
    if c.action == "orderChanges":
        if not listed:
            raise click.UsageError("name the bulk order's assets (--asset, in order): the file lists none")
        if c.subject != list_subject(listed):
            raise click.ClickException(
                f"the consent covers another list than these {len(listed)} assets in this order ({_few(listed)})"
            )
    elif assets:
        raise click.UsageError(f"--asset checks an orderChanges consent's list; this one is to {c.action}")
    client = session.reader()
    try:
        ok, reason = client.customers.verify(c, sig)
    except ConsentError as exc:
        raise click.ClickException(str(exc)) from None
    signer = recover_consent_signer(c, sig, int(client.deployment.chain_id), client.customers.contract.address)
    if as_json:
        data: dict[str, Any] = {"valid": ok, "signer": signer, "reason": reason, "consent": c.to_json()}
        if c.action == "orderChanges":
            data["twins"] = listed
        output.emit_json(data)
    elif ok:
        on = f"{len(listed)} assets ({_few(listed)})" if c.action == "orderChanges" else _hex(c.subject)
        each = " each" if c.action == "orderChanges" else ""
        output.done(f"valid: {c.action} on {on} up to {c.max_charge}{each}, {reason}")
    if not ok:
        raise click.ClickException(f"not valid: {reason}")


def _few(assets: list[str]) -> str:
    return ", ".join(assets[:3]) + (" …" if len(assets) > 3 else "")


def _listed(path: Path) -> list[str]:
    """The assets a bulk order's consent file names (``twins``, written by `consent sign`)."""
    twins = _read_json(path, "FILE").get("twins")
    return [str(t) for t in twins] if isinstance(twins, list) else []
