"""``telcochain``: the command line for operations staff (cast-like conventions).

Every command that talks to the chain takes ``--rpc-url`` (env ``TELCOCHAIN_RPC_URL``) and
``--deployment FILE``; commands that send transactions take ``--account NAME`` (an
encrypted keystore, password by prompt or ``--password-file``). ``--json`` prints machine
output on stdout. A user error prints one line and exits non-zero.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from telcochain import output, preflight
from telcochain.assets import VERBS, Asset
from telcochain.cli import agreement, billing, customer_requests, customers, details, index, orders, serve
from telcochain.cli.options import (
    CONTEXT,
    ID,
    URL_FILE,
    F,
    Group,
    Session,
    _count,
    _short,
    json_option,
    parse_key,
    parse_when,
    read_password,
    reader_options,
    recorded_rpc_url,
    ref_option,
    report_action,
    resolve_member,
    show_time,
    signer_options,
)
from telcochain.client import Client
from telcochain.consortium import MemberConfig, parse_action
from telcochain.constitution import ActionPolicy, ProposalStatus, Scope, Voters
from telcochain.errors import TelcochainError
from telcochain.keystore import Keystore
from telcochain.node import LocalNode, NodeConfig
from telcochain.notifications import Notification, NotificationStream
from telcochain.render import Names, render_event
from telcochain.rpc import Rpc
from telcochain.tx import Receipt
from telcochain.types import show_bytes32, to_address, to_ref

# -- the group --------------------------------------------------------------------------------


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(package_name="telcochain", message="telcochain %(version)s")
def main() -> None:
    """telcochain: a consortium ledger for telecom orders, network assets and payments.

    \b
    Quick tour (local chain):
      telcochain node --detach              start the embedded chain
      ape run deploy --network ethereum:local:foundry
      telcochain info                       the chain and the deployment
      telcochain member list                the consortium's members
    """


@main.command()
@reader_options
@json_option
def info(session: Session, as_json: bool) -> None:
    """Show the chain and the deployment this client talks to."""
    client = session.reader()
    members = client.constitution.member_count()
    manifest = client.deployment
    data = {
        "rpc_url": client.rpc.url,
        "chain_id": client.chain.chain_id,
        "fee_mode": client.chain.fee_mode.value,
        "gas_price": client.chain.gas_price,
        "block_number": client.block_number(),
        "network": manifest.network,
        "manifest": str(manifest.path) if manifest.path else None,
        "deployed_at": manifest.deployed_at,
        "consortium": manifest.consortium.get("name"),
        "members": members,
        "contracts": {c.name: {"address": c.address, "block": c.block} for c in manifest.contracts.values()},
    }
    if as_json:
        output.emit_json(data)
        return
    output.pairs(
        "Chain",
        [
            ("RPC URL", data["rpc_url"]),
            ("chain id", data["chain_id"]),
            (
                "fees",
                f"{data['fee_mode']}, gas price {data['gas_price']}" + (" (free gas)" if client.chain.free_gas else ""),
            ),
            ("block", data["block_number"]),
        ],
    )
    output.pairs(
        "Deployment",
        [
            ("consortium", data["consortium"]),
            ("network", data["network"]),
            ("manifest", data["manifest"]),
            ("deployed", data["deployed_at"]),
            ("members", members),
        ],
    )
    output.table(
        None,
        ["contract", "address", "block"],
        [[c.name, c.address, c.block] for c in manifest.contracts.values()],
    )


# -- members ------------------------------------------------------------------------------------


@main.group(cls=Group, context_settings=CONTEXT)
def member() -> None:
    """Consortium members."""


@member.command("list")
@reader_options
@json_option
def member_list(session: Session, as_json: bool) -> None:
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
    session: Session,
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
    session: Session,
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
    session: Session,
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
def member_delegate_add(address: str, ref: str | None, session: Session, as_json: bool) -> None:
    """Register ADDRESS as a delegate of the command's member account."""
    client = session.signer()
    receipt = client.constitution.add_delegate(to_address(address, "delegate"), ref)
    _report_delegate(client, "added", to_address(address, "delegate"), receipt, as_json)


@member_delegate.command("remove")
@click.argument("address")
@ref_option
@signer_options
@json_option
def member_delegate_remove(address: str, ref: str | None, session: Session, as_json: bool) -> None:
    """Revoke the delegate ADDRESS of the command's member account."""
    client = session.signer()
    receipt = client.constitution.remove_delegate(to_address(address, "delegate"), ref)
    _report_delegate(client, "removed", to_address(address, "delegate"), receipt, as_json)


@member_delegate.command("list")
@click.argument("member_ref", metavar="[MEMBER]", required=False)
@reader_options
@json_option
def member_delegate_list(member_ref: str | None, session: Session, as_json: bool) -> None:
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


# -- actions ----------------------------------------------------------------------------------


@main.group(cls=Group, context_settings=CONTEXT)
def action() -> None:
    """The constitution's actions: policies, permissions, the generic executeAction."""


def _voting(policy: ActionPolicy, names: dict[str, str]) -> str:
    if policy.voters is Voters.ANY:
        return "no vote"
    who = "all members" if policy.voters is Voters.ALL else ", ".join(names.get(a, a) for a in policy.voter_list)
    margin = {0: "majority", 255: "everyone"}.get(policy.margin, f"{policy.margin} approvals")
    veto = f"; veto: {', '.join(names.get(a, a) for a in policy.veto_list)}" if policy.veto_list else ""
    days = policy.voting_period / 86400
    return f"{who}, {margin}, {days:g} d{veto}"


@action.command("list")
@reader_options
@json_option
def action_list(session: Session, as_json: bool) -> None:
    """List every action with its scope, implementation and voting schema."""
    client = session.reader()
    policies = client.constitution.actions()
    if as_json:
        output.emit_json(policies)
        return
    names = client.constitution.member_names()
    modules = {c.address: c.name for c in client.deployment.contracts.values()}
    output.table(
        _count(len(policies), "action"),
        ["action", "scope", "implemented by", "enabled", "vote"],
        [
            [
                p.name,
                p.scope.name.lower(),
                "constitution" if p.builtin else modules.get(p.module, p.module),
                "yes" if p.enabled else "no",
                _voting(p, names),
            ]
            for p in policies
        ],
    )


@action.command("show")
@click.argument("name")
@reader_options
@json_option
def action_show(name: str, session: Session, as_json: bool) -> None:
    """Show NAME's policy and every member's permission on it."""
    client = session.reader()
    policy = client.constitution.policy(name)
    members = client.constitution.members()
    addresses = [m.address for m in members]
    grants = list(zip(members, client.constitution.permissions(name, addresses), strict=True))
    reasons = client.constitution.deny_reasons(name, addresses)
    if as_json:
        output.emit_json({"policy": policy, "permissions": [g for _, g in grants if g.can_execute]})
        return
    names = {m.address: m.name for m in members}
    modules = {c.address: c.name for c in client.deployment.contracts.values()}
    output.pairs(
        f"action {policy.name}",
        [
            ("id", "0x" + policy.id.hex()),
            ("scope", policy.scope.name.lower()),
            (
                "implemented by",
                "constitution (built-in)"
                if policy.builtin
                else f"{modules.get(policy.module, policy.module)} 0x{policy.selector.hex()}",
            ),
            ("enabled", "yes" if policy.enabled else "no"),
            ("vote", _voting(policy, names)),
            *(
                [("callers", ", ".join(modules.get(a, a) for a in policy.callers) or "none (cannot run)")]
                if policy.scope is Scope.INTERNAL
                else []
            ),
            *([("pinned code", "0x" + policy.code_hash.hex() + "…")] if policy.code_hash else []),
        ],
    )
    output.table(
        None,
        ["member", "may execute", "from", "until", "now"],
        [
            [
                m.name,
                "yes" if g.can_execute else "no",
                show_time(g.valid_from),
                show_time(g.valid_until),
                reason.text,
            ]
            for (m, g), reason in zip(grants, reasons, strict=True)
        ],
    )


@action.command("grant")
@click.argument("name")
@click.argument("member_ref", metavar="MEMBER")
@click.option("--from", "valid_from", help="Valid from (YYYY-MM-DD[THH:MM] UTC, or a timestamp).")
@click.option("--until", "valid_until", help="Valid until (inclusive).")
@ref_option
@signer_options
@json_option
def action_grant(
    name: str,
    member_ref: str,
    valid_from: str | None,
    valid_until: str | None,
    ref: str | None,
    session: Session,
    as_json: bool,
) -> None:
    """Give MEMBER the right to execute action NAME (updatePermissions)."""
    start, end = parse_when(valid_from, "--from"), parse_when(valid_until, "--until")
    client = session.signer()
    client.constitution.policy(name)  # ActionNotFound before anything is sent
    address = resolve_member(client, member_ref)
    if client.constitution.member(address) is None:
        raise preflight.Refused(f"{member_ref} is not a member: only a member can use a permission (add it first)")
    held = client.constitution.permission(name, address)
    if held.can_execute and (held.valid_from, held.valid_until) == (start, end):
        raise preflight.Refused(f"{member_ref} holds {name} already, with this window: nothing to grant")
    result = client.constitution.grant(name, address, valid_from=start, valid_until=end, ref=ref)
    report_action(result, as_json, f"grant {name} to {member_ref}")


@action.command("revoke")
@click.argument("name")
@click.argument("member_ref", metavar="MEMBER")
@ref_option
@signer_options
@json_option
def action_revoke(
    name: str,
    member_ref: str,
    ref: str | None,
    session: Session,
    as_json: bool,
) -> None:
    """Take away MEMBER's right to execute action NAME."""
    client = session.signer()
    client.constitution.policy(name)
    address = resolve_member(client, member_ref)
    if not client.constitution.permission(name, address).can_execute:
        raise preflight.Refused(f"{member_ref} holds no permission for {name}: nothing to revoke")
    report_action(client.constitution.revoke(name, address, ref), as_json, f"revoke {name} from {member_ref}")


@action.command("amend")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@ref_option
@signer_options
@json_option
def action_amend(
    file: Path,
    ref: str | None,
    session: Session,
    as_json: bool,
) -> None:
    """Define or replace actions from FILE (amendConstitution), one proposal per action.

    FILE uses the `actions:` format of consortium.yaml (members by name, modules by
    contract name), e.g.

    \b
      actions:
        deliver: {module: AssetRegistry, function: deliver, grants: [Acme Networks]}
    """
    try:
        raw = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"not valid YAML ({exc})", param_hint="FILE") from None
    entries = raw.get("actions") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise click.BadParameter("expected an 'actions:' mapping with at least one action", param_hint="FILE")
    client = session.signer()
    members = tuple(MemberConfig(m.name, m.address, m.trust_key, "-") for m in client.constitution.members())
    modules = {c.name: c.address for c in client.deployment.contracts.values()}
    configs = [parse_action(str(n), a, members, str(file)) for n, a in entries.items()]
    definitions = [(c.to_policy(modules), c.permissions()) for c in configs]
    for policy, permissions in definitions:
        report_action(client.constitution.amend(policy, permissions, ref), as_json, f"amendConstitution {policy.name}")


@action.command("exec")
@click.argument("name")
@click.option("--params", "params_hex", default="0x", show_default=True, help="ABI-encoded parameters (0x-hex).")
@ref_option
@signer_options
@json_option
def action_exec(
    name: str,
    params_hex: str,
    ref: str | None,
    session: Session,
    as_json: bool,
) -> None:
    """The seed's generic executeAction: run action NAME with raw PARAMS."""
    try:
        params = bytes.fromhex(params_hex.removeprefix("0x"))
    except ValueError:
        raise click.BadParameter("not valid hex", param_hint="--params") from None
    check_params(name, params)
    client = session.signer()
    report_action(client.constitution.execute_action(name, params, ref), as_json, name)


def check_params(name: str, params: bytes) -> None:
    """Refuse raw ``params`` that do not decode as the action's known argument types."""
    from eth_abi import decode as abi_decode
    from eth_abi import encode as abi_encode

    from telcochain.actions import ACTION_PARAMS

    types = ACTION_PARAMS.get(name)
    if types is None:
        return
    try:
        values = abi_decode(types, params, strict=True)
        canonical = abi_encode(types, list(values))
    except Exception:
        raise click.BadParameter(
            f"the bytes do not decode as {name}({', '.join(types)})", param_hint="--params"
        ) from None
    if canonical != params:
        raise click.BadParameter(
            f"the bytes are not the canonical encoding of {name}({', '.join(types)})", param_hint="--params"
        )


# -- proposals and votes ------------------------------------------------------------------------


@main.group(cls=Group, context_settings=CONTEXT)
def proposal() -> None:
    """Proposals: actions waiting for (or decided by) a vote."""


STATUSES = [s.name.lower() for s in ProposalStatus if s is not ProposalStatus.NONE]


@proposal.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only proposals with this status.")
@reader_options
@json_option
def proposal_list(status: str | None, session: Session, as_json: bool) -> None:
    """List proposals, newest first, with their tallies."""
    client = session.reader()
    wanted = ProposalStatus[status.upper()] if status else None
    proposals = client.constitution.proposals(wanted)
    if as_json:  # refs as text where they are text, as everywhere else in the CLI's JSON
        output.emit_json([{**output.to_jsonable(p), "ref": show_bytes32(p.ref)} for p in proposals])
        return
    names = client.constitution.member_names()
    output.table(
        _count(len(proposals), "proposal"),
        ["#", "action", "proposer", "status", "approvals", "rejections", "deadline", "ref"],
        [
            [
                p.id,
                p.action_name,
                names.get(p.proposer, p.proposer),
                p.status.name.lower(),
                f"{p.approvals}/{p.required}",
                p.rejections,
                show_time(p.deadline),
                show_bytes32(p.ref),
            ]
            for p in proposals
        ],
    )


@proposal.command("show")
@click.argument("proposal_id", metavar="PROPOSAL", type=ID)
@reader_options
@json_option
def proposal_show(proposal_id: int, session: Session, as_json: bool) -> None:
    """Show a proposal, its tally and who has voted."""
    client = session.reader()
    p = client.constitution.proposal(proposal_id)
    members = client.constitution.members()
    voted = dict(
        zip(
            (m.address for m in members),
            client.constitution.voted(proposal_id, [m.address for m in members]),
            strict=True,
        )
    )
    if as_json:
        output.emit_json({"proposal": {**output.to_jsonable(p), "ref": show_bytes32(p.ref)}, "voted": voted})
        return
    names = {m.address: m.name for m in members}
    output.pairs(
        f"proposal #{p.id}: {p.action_name}",
        [
            ("status", p.status.name.lower()),
            ("proposer", names.get(p.proposer, p.proposer)),
            ("ref", show_bytes32(p.ref)),
            ("tally", f"{p.approvals} approve, {p.rejections} reject; {p.required} of {p.voter_count} voters needed"),
            ("opened", show_time(p.opened_at)),
            ("deadline", show_time(p.deadline)),
            ("voted", ", ".join(names[a] for a, v in voted.items() if v) or "nobody yet"),
            ("params", _short("0x" + p.params.hex(), 74)),
        ],
    )


@main.command()
@click.argument("proposal_id", metavar="PROPOSAL", type=ID)
@click.option("--approve/--reject", required=True, help="Your vote.")
@ref_option
@signer_options
@json_option
def vote(
    proposal_id: int,
    approve: bool,
    ref: str | None,
    session: Session,
    as_json: bool,
) -> None:
    """Vote on PROPOSAL; the deciding vote executes (or rejects) it at once."""
    client = session.signer()
    preflight.proposal_open(client, proposal_id, client.address)
    result = client.constitution.vote(proposal_id, approve, ref)
    p = result.proposal
    if as_json:
        output.emit_json({"proposal": p, "approve": approve, "tx_hash": result.receipt.tx_hash})
        return
    verdict = {ProposalStatus.EXECUTED: "decided: executed", ProposalStatus.REJECTED: "decided: rejected"}.get(
        p.status, f"{p.approvals}/{p.required} approvals so far"
    )
    output.done(f"{'approved' if approve else 'rejected'} proposal #{p.id} ({p.action_name}) — {verdict}")


# -- assets (digital twins) ---------------------------------------------------------------------


@main.group(cls=Group, context_settings=CONTEXT)
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
    session: Session,
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
    asset_ref: str, customer: str | None, vendor: str | None, ref: str | None, session: Session, as_json: bool
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
def asset_show(asset_ref: str, session: Session, as_json: bool) -> None:
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
def asset_history(asset_ref: str, verify: bool, session: Session, as_json: bool) -> None:
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
    session: Session,
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
    session: Session,
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
    session: Session,
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
    session: Session,
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


# -- notifications --------------------------------------------------------------------------------


def _notification_line(n: Notification, names: Names, actions: dict[bytes, str]) -> str:
    """One notification in words (``watch``; ``watch --json`` keeps the raw values)."""
    return f"#{n.block_number}.{n.log_index} {render_event(n.contract, n.name, n.args, names, actions)}"


@main.command()
@click.option(
    "--checkpoint", type=click.Path(dir_okay=False, path_type=Path), help="Progress file: a restart resumes here."
)
@click.option("--from-block", type=click.IntRange(0), help="Replay from this block (ignores a checkpoint's position).")
@click.option(
    "--confirmations", type=click.IntRange(0), default=0, show_default=True, help="Blocks to wait before delivering."
)
@click.option("--all", "everything", is_flag=True, help="Every event of the consortium, not only yours.")
@click.option("--once", is_flag=True, help="Print what is there and exit instead of following.")
@click.option("--interval", type=click.FloatRange(0.05), default=1.0, show_default=True, help="Seconds between polls.")
@click.option(
    "--ws-url",
    envvar="TELCOCHAIN_WS_URL",
    help="Websocket endpoint: new blocks wake the watch at once, polling stays the fallback "
    "[env: TELCOCHAIN_WS_URL; anvil: ws://127.0.0.1:8545, Besu: port 8546].",
)
@signer_options
@json_option
def watch(
    checkpoint: Path | None,
    from_block: int | None,
    confirmations: int,
    everything: bool,
    once: bool,
    interval: float,
    ws_url: str | None,
    session: Session,
    as_json: bool,
) -> None:
    """Print notifications live, one line each (the seed's getNotification).

    Without --account (or TELCOCHAIN_PRIVATE_KEY) every event is shown. Ctrl-C stops;
    with --checkpoint, the next run continues where this one stopped.
    """
    client = session.member_or_reader()
    stream = NotificationStream(client, checkpoint, confirmations=confirmations, from_block=from_block)
    if from_block is not None:
        stream.start_at(from_block)
    if everything:
        stream.select = lambda event: True
    names = Names(client, with_address=False)
    actions = {p.id: p.name for p in client.constitution.actions()}
    for notification in stream.follow(poll_interval=interval, until_caught_up=once, ws_url=ws_url):
        if as_json:
            click.echo(json.dumps(output.to_jsonable(dataclasses.asdict(notification))))
        else:
            click.echo(_notification_line(notification, names, actions))
        sys.stdout.flush()


# -- keys -----------------------------------------------------------------------------------------


@main.group(cls=Group, context_settings=CONTEXT)
def keys() -> None:
    """This member's trust (encryption) keys."""


@keys.command("rotate")
@click.argument("trust_key", required=False)
@click.option(
    "--trust-keys",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Instead of TRUST_KEY: register this trust key file's current key (as `keys new` made it); "
    "if it is registered already, add a fresh key to the file (old keys kept, so old details stay "
    "readable) and register that.",
)
@click.option(
    "--trust-keys-password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE",
    help="The key file's password [env: TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE; else a prompt].",
)
@click.option("--ref", help="Correlation id for the transaction (≤ 32 bytes) [default: random].")
@signer_options
@json_option
def keys_rotate(
    trust_key: str | None,
    key_file: Path | None,
    trust_keys_password_file: Path | None,
    ref: str | None,
    session: Session,
    as_json: bool,
) -> None:
    """Replace your member's public trust key with TRUST_KEY (32 bytes, 0x-hex), or with a
    fresh key of your trust key file (--trust-keys FILE)."""
    from telcochain import trustkeys

    if (trust_key is None) == (key_file is None):
        raise click.UsageError("pass TRUST_KEY or --trust-keys FILE")
    given = parse_key(trust_key, "TRUST_KEY") if trust_key is not None else None
    client = session.signer()  # connect before touching the file: a bad node or account changes nothing
    if key_file is not None:
        password = read_password(trust_keys_password_file, "Trust key file password")
        ring = trustkeys.load(key_file, password)
        member = client.constitution.member(client.address or "")
        if member is not None and member.trust_key != ring.public_key:
            key = ring.public_key  # the file's current key is not registered yet (`keys new`): register it as is
        else:
            key = trustkeys.rotate(key_file, password)  # registered already: a fresh key, the old ones kept
    else:
        assert given is not None
        key = given
    receipt = client.constitution.rotate_trust_key(key, to_ref(ref)).receipt
    if as_json:
        output.emit_json(
            {
                "public_key": "0x" + key.hex(),
                "tx_hash": receipt.tx_hash,
                "block": receipt.block_number,
                "gas_used": receipt.gas_used,
            }
        )
        return
    output.done(
        f"trust key of {client.address} is now 0x{key.hex()} (tx {receipt.tx_hash}, block {receipt.block_number})"
    )


# -- accounts -------------------------------------------------------------------------------------


@main.group(cls=Group, context_settings=CONTEXT)
def account() -> None:
    """Encrypted keystore accounts (in $TELCOCHAIN_KEYSTORE_DIR, default ~/.telcochain/keystores)."""


def _new_password(password_file: Path | None) -> str:
    if password_file is not None:
        password = read_password(password_file)
        if not password:
            raise click.BadParameter(
                f"{password_file} is empty: a keystore needs a password", param_hint="--password-file"
            )
        return password
    if not sys.stdin.isatty():
        raise click.UsageError("no password: pass --password-file (no terminal to prompt on)")
    return str(click.prompt("New keystore password", hide_input=True, confirmation_prompt=True))


def _check_account_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise click.BadParameter(
            f"{name!r}: an account name is 1 to 64 letters, digits, '.', '_' or '-'", param_hint="NAME"
        )


@account.command("new")
@click.argument("name")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_PASSWORD_FILE",
    help="Password from this file [env: TELCOCHAIN_PASSWORD_FILE; else a prompt].",
)
@json_option
def account_new(name: str, password_file: Path | None, as_json: bool) -> None:
    """Create a new random account NAME, encrypted with a password."""
    _check_account_name(name)
    entry = Keystore().create(name, _new_password(password_file))
    if as_json:
        output.emit_json(entry)
        return
    output.done(f"account {entry.name} created: {entry.address} ({entry.path})")


@account.command("import")
@click.argument("name")
@click.option(
    "--keystore-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Import an existing keystore JSON (geth, cast, ape) instead of a private key.",
)
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_PASSWORD_FILE",
    help="Password from this file [env: TELCOCHAIN_PASSWORD_FILE; else a prompt].",
)
@json_option
def account_import(name: str, keystore_file: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Import an account as NAME: a private key (hidden prompt or $TELCOCHAIN_PRIVATE_KEY) or a keystore file."""
    _check_account_name(name)
    store = Keystore()
    key: bytes | str
    if keystore_file is not None:
        password = read_password(password_file, "Password of the keystore file")
        key = store.load(str(keystore_file.resolve()), password).key
    else:
        env_key = os.environ.get("TELCOCHAIN_PRIVATE_KEY")
        if env_key:
            key = env_key
        elif sys.stdin.isatty():
            key = click.prompt("Private key (hex)", hide_input=True)
        else:
            raise click.UsageError("no private key: set TELCOCHAIN_PRIVATE_KEY or use a terminal")
        password = _new_password(password_file)
    entry = store.save(name, key, password)
    if as_json:
        output.emit_json(entry)
        return
    output.done(f"account {entry.name} imported: {entry.address}")


@account.command("list")
@json_option
def account_list(as_json: bool) -> None:
    """List the keystore accounts."""
    store = Keystore()
    entries = store.list()
    if as_json:
        output.emit_json(entries)
        return
    if not entries:
        output.err_console.print(f"no accounts in {store.directory} (create one with `telcochain account new NAME`)")
        return
    output.table(None, ["name", "address"], [[e.name, e.address] for e in entries])


# -- the local node -----------------------------------------------------------------------------


def node_options(f: F) -> F:
    options = [
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path(".telcochain/node"),
            show_default=True,
            help="Where the chain state, pid and log live.",
        ),
        click.option(
            "--port",
            "-p",
            type=click.IntRange(1, 65535),
            default=8545,
            show_default=True,
            envvar="TELCOCHAIN_NODE_PORT",
            help="TCP port of the node [env: TELCOCHAIN_NODE_PORT].",
        ),
        click.option("--host", default="127.0.0.1", show_default=True, help="Address the node listens on."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@main.group(cls=Group, context_settings=CONTEXT, invoke_without_command=True)
@node_options
@click.option("--chain-id", type=click.IntRange(1), default=31337, show_default=True, help="Chain id of a new chain.")
@click.option(
    "--hardfork",
    default="berlin",
    show_default=True,
    help="EVM rules (berlin: what GoQuorum runs).",
)
@click.option(
    "--gas-price",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="0: a free-gas consortium chain.",
)
@click.option(
    "--block-time",
    type=click.FloatRange(0, min_open=True),
    help="Seconds between blocks (like a QBFT block period) [default: a block per transaction].",
)
@click.option("--gas-limit", type=click.IntRange(1), help="Block gas limit [default: anvil's 30,000,000].")
@click.option("--fresh", is_flag=True, help="Discard the saved chain state first.")
@click.option("--detach", "-d", is_flag=True, help="Run in the background (stop with `telcochain node stop`).")
@click.pass_context
def node(
    ctx: click.Context,
    data_dir: Path,
    port: int,
    host: str,
    chain_id: int,
    hardfork: str,
    gas_price: int,
    block_time: float | None,
    gas_limit: int | None,
    fresh: bool,
    detach: bool,
) -> None:
    """Run the embedded local chain (anvil), keeping its state in --data-dir.

    Durable: every block is in an fsynced write-ahead log before any client can see it, dumps
    are written atomically (the previous one kept), and a start replays the log after the newest
    good dump — a crash loses no block a client has seen. `telcochain node` runs in the
    foreground until Ctrl-C (or SIGTERM/SIGHUP); --detach starts it in the background.
    """
    if ctx.invoked_subcommand is not None:
        return
    config = NodeConfig(
        data_dir=data_dir,
        host=host,
        port=port,
        chain_id=chain_id,
        hardfork=hardfork,
        gas_price=gas_price,
        block_time=block_time,
        gas_limit=gas_limit,
    )
    local = LocalNode(config)
    if fresh:
        if local.pid() is not None:
            raise click.UsageError("--fresh: stop the running node first (telcochain node stop)")
        config.discard_saved_chain()
    restored = config.has_saved_chain()
    if not detach:
        local.forward_signals()
    local.start(detach=detach)
    with contextlib.suppress(OSError):  # commands find the node here when no --rpc-url is given
        (config.data_dir / URL_FILE).write_text(config.rpc_url + "\n")
    state = "state restored from" if restored else "new chain, state saved to"
    replay = local.status().get("replay") or {}
    replayed = ""
    if isinstance(replay, dict) and replay.get("blocks"):
        replayed = f" (+{replay['blocks']} block(s) replayed from the write-ahead log"
        mismatches = replay.get("hash_mismatches") or []
        replayed += f", {len(mismatches)} with a new hash)" if mismatches else ")"
    output.err_console.print(
        f"anvil ({hardfork}, chain {chain_id}, gas price {gas_price}) — {state} {config.data_dir}{replayed}"
    )
    click.echo(config.rpc_url)
    if detach:
        output.err_console.print(
            f"running in the background (pid {local.pid()}); stop with `telcochain node stop --data-dir {data_dir}`"
        )
        return
    output.err_console.print("Ctrl-C to stop (the state is saved)")
    code = local.wait()
    status = local.status()
    if status.get("state") == "failed":
        raise click.ClickException(f"the node stopped: {status.get('error')}")
    if status.get("state_kept"):
        output.done(f"node stopped at block {status.get('block')}; state kept in {data_dir}")
    elif code:
        raise click.ClickException(f"the node exited with code {code} (see {config.log_file})")


def _recorded_address(ctx: click.Context, data_dir: Path, host: str, port: int) -> tuple[str, int]:
    """--host/--port as given, else as the node of ``data_dir`` recorded them at start."""
    from urllib.parse import urlsplit

    given = {
        name: ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)
        for name in ("host", "port")
    }
    url = recorded_rpc_url(data_dir)
    if url is None:
        return host, port
    parts = urlsplit(url)
    return (host if given["host"] else parts.hostname or host), (port if given["port"] else parts.port or port)


@node.command("stop")
@node_options
@click.pass_context
def node_stop(ctx: click.Context, data_dir: Path, port: int, host: str) -> None:
    """Stop a node started with --detach (it mines what it accepted, stops mining, writes its
    final dump and reads it back before saying the state is kept)."""
    host, port = _recorded_address(ctx, data_dir, host, port)
    report = LocalNode(NodeConfig(data_dir=data_dir, port=port, host=host)).stop()
    (data_dir / URL_FILE).unlink(missing_ok=True)
    if report is None:
        raise click.ClickException(f"no node is running from {data_dir}")
    if not report.state_kept:
        raise click.ClickException(f"node stopped, but {report.message}")
    at = f" at block {report.block}" if report.block is not None else ""
    output.done(f"node stopped{at}; state kept in {data_dir} ({report.message})")


@node.command("status")
@node_options
@json_option
@click.pass_context
def node_status(ctx: click.Context, data_dir: Path, port: int, host: str, as_json: bool) -> None:
    """Is a node running from --data-dir, does it answer, and its newest logged (durable) block?
    Without --port/--host, the address the node recorded when it started."""
    host, port = _recorded_address(ctx, data_dir, host, port)
    local = LocalNode(NodeConfig(data_dir=data_dir, port=port, host=host))
    status = {
        "pid": local.pid(),
        "rpc_url": local.config.rpc_url,
        "serving": local.is_serving(),
        "data_dir": str(local.config.data_dir),
        "durable_block": None,
    }
    if status["serving"]:
        with contextlib.suppress(TelcochainError):  # an ephemeral node (anvil alone) has no log
            status["durable_block"] = int(Rpc(local.config.rpc_url, timeout=2.0).call("telcochain_durableBlock"), 16)
    if as_json:
        output.emit_json(status)
        return
    if status["pid"] is None:
        raise click.ClickException(f"no node is running from {data_dir}")
    output.pairs(
        None,
        [
            ("pid", status["pid"]),
            ("rpc url", status["rpc_url"]),
            ("answers", "yes" if status["serving"] else "no"),
            ("durable block", status["durable_block"] if status["durable_block"] is not None else "-"),
            ("data dir", status["data_dir"]),
        ],
    )


# -- the command modules: one per group, assembled here (no command module imports this one) ---------

for _command in (
    agreement.install,
    agreement.macd,
    agreement.disconnect,
    agreement.invoice,
    billing.vendor,
    customers.customer,
    customers.terms,
    customers.consent,
    details.details,
    index.index,
    index.denials,
    index.report,
    index.alerts,
    orders.order,
    orders.stock,
    serve.serve,
):
    main.add_command(_command)
keys.add_command(details.keys_new)
customers.customer.add_command(customer_requests.customer_request)
index.attach(main)  # the index's list commands join their groups (order list, asset list...)
