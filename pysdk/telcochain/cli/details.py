"""``telcochain details ...`` and ``telcochain keys new``: encrypted details (visibility constraints).

The member's trust keys come from ``--trust-keys FILE`` (env ``TELCOCHAIN_TRUST_KEYS``; password
by prompt or ``--trust-keys-password-file``). On a local chain, anvil's development accounts
fall back to their development trust keys (the ones in the example consortium.yaml).
Added to the main group (and ``keys_new`` to its ``keys`` group) by :mod:`telcochain.cli.root`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import click

from telcochain import output, trustkeys
from telcochain.cli.options import (
    CONTEXT,
    CliSession,
    F,
    Group,
    json_option,
    read_password,
    ref_option,
    report_action,
    resolve_member,
    signer_options,
)
from telcochain.client import Client
from telcochain.errors import ConfigurationError
from telcochain.trustkeys import KeyRing
from telcochain.types import show_bytes32


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def discloser_option(f: F) -> F:
    """``--discloser MEMBER``: the DISCLOSURE argument is then the ref of MEMBER's disclose action."""
    return click.option(
        "--discloser",
        metavar="MEMBER",
        help="Name DISCLOSURE by the ref of MEMBER's disclose action (name or address) instead of its id.",
    )(f)


def trust_key_options(f: F) -> F:
    """``--trust-keys FILE`` and ``--trust-keys-password-file``; the command receives ``keyring_source``."""

    @functools.wraps(f)
    def command(*args: Any, trust_keys: Path | None, trust_keys_password_file: Path | None, **kwargs: Any) -> Any:
        return f(*args, keyring_source=(trust_keys, trust_keys_password_file), **kwargs)

    command = click.option(
        "--trust-keys-password-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        envvar="TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE",
        help="Read the key file's password from this file instead of a prompt "
        "[env: TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE].",
    )(command)
    command = click.option(
        "--trust-keys",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="TELCOCHAIN_TRUST_KEYS",
        help="Your trust key file (telcochain keys new) [env: TELCOCHAIN_TRUST_KEYS; anvil's "
        "development accounts default to their development keys].",
    )(command)
    return command  # type: ignore[return-value]


def load_keyring(source: tuple[Path | None, Path | None], client: Client) -> KeyRing:
    path, password_file = source
    if path is not None:
        return trustkeys.load(path, read_password(password_file, "Trust key file password"))
    if client.address is None:
        raise click.UsageError("reading details needs your account (--account) and trust keys (--trust-keys FILE)")
    try:
        return trustkeys.dev_keyring(client.address)
    except ConfigurationError:
        raise click.UsageError("pass --trust-keys FILE (your trust key file; telcochain keys new)") from None


def _client_with_keys(session: CliSession, source: tuple[Path | None, Path | None]) -> Client:
    client = session.signer("only a member can open details: it is whom they were encrypted for")
    client.keyring = load_keyring(source, client)
    return client


@click.group(cls=Group, context_settings=CONTEXT)
def details() -> None:
    """Encrypted details: disclose to chosen members, read, grant access (docs/visibility.md)."""


@details.command("show")
@click.argument("disclosure")
@discloser_option
@trust_key_options
@signer_options
@json_option
def details_show(
    disclosure: str,
    discloser: str | None,
    keyring_source: tuple[Path | None, Path | None],
    session: CliSession,
    as_json: bool,
) -> None:
    """Decrypt DISCLOSURE (its id, as `details disclose` prints it) and check it against its commitment."""
    client = _client_with_keys(session, keyring_source)
    record = client.details.disclosure(disclosure, discloser=discloser)
    opened = client.details.open(record)
    names = client.constitution.member_names()
    if as_json:
        output.emit_json(
            {
                "id": _hex(record.id),
                "ref": show_bytes32(record.ref),
                "subject": show_bytes32(record.subject),
                "discloser": record.discloser,
                "recipients": list(record.recipients),
                "details_hash": "0x" + record.details_hash.hex(),
                "verified": True,
                "details": opened.details,
            }
        )
        return
    output.pairs(
        f"disclosure {_hex(record.id)}",
        [
            ("ref", show_bytes32(record.ref)),
            ("subject", show_bytes32(record.subject)),
            ("disclosed by", names.get(record.discloser, record.discloser)),
            ("readable by", ", ".join(names.get(r, r) for r in record.recipients)),
            ("block", record.block_number),
        ]
        + [
            (f"  {key}", json.dumps(value) if not isinstance(value, str) else value)
            for key, value in opened.details.items()
        ],
    )
    output.done(f"matches its on-chain commitment 0x{record.details_hash.hex()}")


@details.command("list")
@click.argument("subject")
@signer_options
@json_option
def details_list(subject: str, session: CliSession, as_json: bool) -> None:
    """The disclosures about SUBJECT (an asset, order, site...): who disclosed, who may read.
    Only reads: --account names who "you" are, without asking for its password."""
    me = session.identity()  # None without an account: who may read is shown, not whether you may
    client = session.reader()
    found = client.details.disclosures(subject)
    if as_json:
        output.emit_json(
            [
                {
                    "id": _hex(d.id),
                    "ref": show_bytes32(d.ref),
                    "discloser": d.discloser,
                    "recipients": list(d.recipients),
                    "readable_by_me": d.readable_by(me) if me else None,
                    "block": d.block_number,
                }
                for d in found
            ]
        )
        return
    names = client.constitution.member_names()
    output.table(
        f"disclosures about {subject}",
        ["id", "disclosed by", "readable by", "you", "block"],
        [
            [
                _hex(d.id),
                names.get(d.discloser, d.discloser),
                ", ".join(names.get(r, r) for r in d.recipients),
                "can read" if me and d.readable_by(me) else "-",
                d.block_number,
            ]
            for d in found
        ],
    )


@details.command("disclose")
@click.argument("subject")
@click.option("--to", "recipients", multiple=True, help="A member who may read it (name or address; repeatable).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="A detail (repeatable).")
@click.option(
    "--file",
    "details_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The details as a JSON object.",
)
@ref_option
@signer_options
@json_option
def details_disclose(
    subject: str,
    recipients: tuple[str, ...],
    pairs: tuple[str, ...],
    details_file: Path | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Encrypt details about SUBJECT for you and the --to members; prints the disclosure's id."""
    data: dict[str, Any] = {}
    if details_file is not None:
        try:
            loaded = json.loads(details_file.read_text())
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON ({exc})", param_hint="--file") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("the details must be a JSON object", param_hint="--file")
        data.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: expected KEY=VALUE", param_hint="--set")
        data[key] = value
    if not data:
        raise click.UsageError("nothing to disclose: pass --set KEY=VALUE or --file FILE")
    client = session.signer()
    members = client.constitution.members()
    readers = [resolve_member(client, r, members) for r in recipients]  # a mistyped reader: refused here
    disclosed = client.disclose(subject, data, readers, ref=ref)
    if as_json:
        output.emit_json(
            {
                "id": _hex(disclosed.id),
                "ref": show_bytes32(disclosed.ref),
                "details_hash": _hex(disclosed.details_hash),
            }
        )
        return
    shown = ", ".join(recipients) or "you only"
    output.done(
        f"disclosed {_hex(disclosed.id)} about {subject} to {shown} (ref {show_bytes32(disclosed.ref)}); "
        f"commitment {_hex(disclosed.details_hash)}"
    )


@details.command("grant")
@click.argument("disclosure")
@click.argument("member_ref", metavar="MEMBER")
@click.option("--grant-ref", help="Correlation id of the grant [default: random].")
@click.option("--by-ref", is_flag=True, help="DISCLOSURE is the ref of your disclose action, not its id.")
@trust_key_options
@signer_options
@json_option
def details_grant(
    disclosure: str,
    member_ref: str,
    grant_ref: str | None,
    by_ref: bool,
    keyring_source: tuple[Path | None, Path | None],
    session: CliSession,
    as_json: bool,
) -> None:
    """Let MEMBER read DISCLOSURE (its id) too (only its discloser may)."""
    client = _client_with_keys(session, keyring_source)
    reader = resolve_member(client, member_ref)  # the member first: a mistyped name is named as such
    discloser = client.address if by_ref else None
    result = client.details.grant_access(disclosure, reader, discloser=discloser, grant_ref=grant_ref)
    report_action(result, as_json, f"{member_ref} may now read {disclosure}")


@click.command("new")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE",
    help="Read the new file's password from this file instead of a prompt [env: TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE].",
)
@json_option
def keys_new(path: Path, password_file: Path | None, as_json: bool) -> None:
    """Make a trust key file at PATH (X25519, encrypted with a password); register its public key
    with `telcochain keys rotate --trust-keys PATH`."""
    if password_file is not None:
        password = read_password(password_file)
    else:
        password = str(click.prompt("New trust key file password", hide_input=True, confirmation_prompt=True))
    ring = trustkeys.generate(path, password)
    if as_json:
        output.emit_json({"path": str(path), "public_key": "0x" + ring.public_key.hex()})
        return
    output.done(f"trust key file {path} (mode 0600); public key 0x{ring.public_key.hex()}")
