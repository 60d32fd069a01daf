"""``telcochain member ...``: the consortium's members and their delegates."""

from __future__ import annotations

import click

from telcochain import output
from telcochain.cli.options import (
    CONTEXT,
    CliSession,
    Group,
    _count,
    json_option,
    parse_key,
    reader_options,
    ref_option,
    report_action,
    resolve_member,
    signer_options,
)
from telcochain.client import Client
from telcochain.tx import Receipt
from telcochain.types import to_address


@click.group(cls=Group, context_settings=CONTEXT)
def member() -> None:
    """Consortium members."""


@member.command("list")
@reader_options
@json_option
def member_list(session: CliSession, as_json: bool) -> None:
    """List the members with their status and trust key."""
    client = session.reader()
    members = client.constitution.members()
    roles = client.deployment.consortium.get("roles", {})
    if as_json:
        output.emit_json([{**output.to_jsonable(m), "role": roles.get(m.address)} for m in members])
        return
    output.table(
        _count(len(members), "member"),
        ["name", "address", "role", "status", "trust key"],
        [
            [
                m.name,
                m.address,
                roles.get(m.address, "-"),
                m.status.name.lower(),
                "0x" + m.trust_key.hex()[:16] + "…",
            ]
            for m in members
        ],
    )


@member.command("add")
@click.argument("address")
@click.option("--name", required=True, help="The member's name (1-64 bytes).")
@click.option("--trust-key", required=True, help="Its public encryption key (32 bytes, 0x-hex).")
@ref_option
@signer_options
@json_option
def member_add(
    address: str,
    name: str,
    trust_key: str,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Propose ADDRESS as a new member (addMember; usually put to a vote)."""
    key = parse_key(trust_key, "--trust-key")
    client = session.signer()
    result = client.constitution.add_member(to_address(address), key, name, ref)
    report_action(result, as_json, f"addMember {name} ({address})")


@member.command("suspend")
@click.argument("member_ref", metavar="MEMBER")
@ref_option
@signer_options
@json_option
def member_suspend(
    member_ref: str,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Propose suspending MEMBER (an address or a member name)."""
    client = session.signer()
    address = resolve_member(client, member_ref)
    report_action(client.constitution.suspend_member(address, ref), as_json, f"suspendMember {member_ref}")


@member.command("reinstate")
@click.argument("member_ref", metavar="MEMBER")
@ref_option
@signer_options
@json_option
def member_reinstate(
    member_ref: str,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Propose reinstating the suspended MEMBER (an address or a member name)."""
    client = session.signer()
    address = resolve_member(client, member_ref)
    report_action(client.constitution.reinstate_member(address, ref), as_json, f"reinstateMember {member_ref}")


@member.group("delegate", cls=Group, context_settings=CONTEXT)
def member_delegate() -> None:
    """A member's delegate keys: addresses whose transactions act as the member (spread load
    over several senders; no vote, no governance: docs/constitution.md#delegates)."""


@member_delegate.command("add")
@click.argument("address")
@ref_option
@signer_options
@json_option
def member_delegate_add(address: str, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Register ADDRESS as a delegate of the command's member account."""
    client = session.signer()
    receipt = client.constitution.add_delegate(to_address(address, "delegate"), ref)
    _report_delegate(client, "added", to_address(address, "delegate"), receipt, as_json)


@member_delegate.command("remove")
@click.argument("address")
@ref_option
@signer_options
@json_option
def member_delegate_remove(address: str, ref: str | None, session: CliSession, as_json: bool) -> None:
    """Revoke the delegate ADDRESS of the command's member account."""
    client = session.signer()
    receipt = client.constitution.remove_delegate(to_address(address, "delegate"), ref)
    _report_delegate(client, "removed", to_address(address, "delegate"), receipt, as_json)


@member_delegate.command("list")
@click.argument("member_ref", metavar="[MEMBER]", required=False)
@reader_options
@json_option
def member_delegate_list(member_ref: str | None, session: CliSession, as_json: bool) -> None:
    """List MEMBER's delegates (an address or a member name; default: the command's account)."""
    client = session.reader()
    who = member_ref or session.identity()
    if not who:
        raise click.UsageError("name a MEMBER, or give --account / TELCOCHAIN_PRIVATE_KEY")
    address = resolve_member(client, who)
    delegates = client.constitution.delegates(address)
    if as_json:
        output.emit_json({"member": address, "delegates": delegates})
        return
    output.table(_count(len(delegates), "delegate") + f" of {address}", ["delegate"], [[d] for d in delegates])


def _report_delegate(client: Client, verb: str, delegate: str, receipt: Receipt, as_json: bool) -> None:
    if as_json:
        output.emit_json(
            {"member": client.address, "delegate": delegate, "status": verb, "tx_hash": receipt.tx_hash,
             "block": receipt.block_number}
        )  # fmt: skip
        return
    output.done(f"delegate {delegate} {verb} for {client.address} (tx {receipt.tx_hash}, block {receipt.block_number})")
