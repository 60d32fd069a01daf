"""``telcochain action ...``, ``proposal ...`` and ``vote``: the constitution's actions, their
policies and grants, and the proposals that wait for a vote."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from telcochain import output, preflight
from telcochain.cli.options import (
    CONTEXT,
    ID,
    CliSession,
    Group,
    _count,
    _short,
    json_option,
    parse_when,
    reader_options,
    ref_option,
    report_action,
    resolve_member,
    show_time,
    signer_options,
)
from telcochain.consortium import MemberConfig, parse_action
from telcochain.constitution import ActionPolicy, ProposalStatus, Scope, Voters
from telcochain.types import show_bytes32


@click.group(cls=Group, context_settings=CONTEXT)
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
def action_list(session: CliSession, as_json: bool) -> None:
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
def action_show(name: str, session: CliSession, as_json: bool) -> None:
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
    session: CliSession,
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
    session: CliSession,
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
    session: CliSession,
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
    session: CliSession,
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


@click.group(cls=Group, context_settings=CONTEXT)
def proposal() -> None:
    """Proposals: actions waiting for (or decided by) a vote."""


STATUSES = [s.name.lower() for s in ProposalStatus if s is not ProposalStatus.NONE]


@proposal.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only proposals with this status.")
@reader_options
@json_option
def proposal_list(status: str | None, session: CliSession, as_json: bool) -> None:
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
def proposal_show(proposal_id: int, session: CliSession, as_json: bool) -> None:
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


@click.command()
@click.argument("proposal_id", metavar="PROPOSAL", type=ID)
@click.option("--approve/--reject", required=True, help="Your vote.")
@ref_option
@signer_options
@json_option
def vote(
    proposal_id: int,
    approve: bool,
    ref: str | None,
    session: CliSession,
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
