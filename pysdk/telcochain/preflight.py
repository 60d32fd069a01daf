"""Checks from chain views that the CLI runs before it signs anything.

Each check reads what the contracts will check and raises :class:`Refused` — one line, with the
offending values in plain words and, where known, the next step — so that a mistyped command
never mines a transaction (nor an approval, nor a proposal that can never execute). The
contracts stay the authority: a check here only refuses earlier and more clearly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from telcochain.agreement import InvoiceStatus, Pending
from telcochain.assets import AssetState
from telcochain.constitution import DenyReason, ProposalStatus
from telcochain.errors import AssetNotFound, TelcochainError
from telcochain.render import enum_label

if TYPE_CHECKING:
    from telcochain.assets import Asset
    from telcochain.client import Client

#: ``OperatorAgreement.MAX_BATCH`` / ``AssetRegistry`` bulk limit: twins per batch call.
MAX_BATCH = 256


class Refused(TelcochainError, ValueError):
    """A command refused before sending: the chain would reject it (or it would do harm)."""


def _label(state: AssetState) -> str:
    return enum_label(state)


def asset(client: Client, asset_ref: str) -> Asset:
    """The twin, or ``Refused`` naming the unknown id."""
    if not asset_ref or (len(asset_ref.encode()) > 32 and not asset_ref.startswith("0x")):
        raise Refused(f"{asset_ref!r} is not a twin id (1 to 32 bytes, e.g. ONT-0001)")
    try:
        return client.assets.get(asset_ref)
    except AssetNotFound:
        raise Refused(f"no twin {asset_ref!r} (never registered; see `telcochain asset register`)") from None


def in_state(client: Client, asset_ref: str, wanted: Sequence[AssetState], doing: str) -> Asset:
    """The twin, refused unless it is in one of ``wanted``."""
    twin = asset(client, asset_ref)
    if twin.state not in wanted:
        from telcochain.render import _NEXT_STEP

        step = _NEXT_STEP.get(_label(twin.state), "")
        needs = " or ".join(_label(s) for s in wanted)
        raise Refused(f"{asset_ref} is {_label(twin.state)}, {doing} needs {needs}" + (f": {step}" if step else ""))
    return twin


def batch_size(assets: Sequence[str], what: str = "twins") -> None:
    if len(assets) > MAX_BATCH:
        raise Refused(f"{len(assets)} {what} given: at most {MAX_BATCH} per batch: split the list")
    duplicates = sorted({a for a in assets if assets.count(a) > 1})
    if duplicates:
        raise Refused(f"twin(s) given twice: {', '.join(duplicates[:5])}")


def pending(client: Client, asset_ref: str, wanted: Pending, doing: str) -> None:
    """The agreement's open operation on the twin must be ``wanted``."""
    asset(client, asset_ref)
    service = client.agreement.service(asset_ref)
    if service.pending is not wanted:
        now = "nothing is open" if service.pending is Pending.NONE else f"the open operation is {service.pending.label}"
        raise Refused(f"{asset_ref}: {doing} needs an open {wanted.label}, {now}")


def invoice_status(client: Client, invoice_id: int, wanted: Sequence[InvoiceStatus], doing: str) -> None:
    invoice = client.escrow.invoice(invoice_id)
    if invoice.status not in wanted:
        needs = " or ".join(s.label for s in wanted)
        raise Refused(f"invoice #{invoice_id} is {invoice.status.label}: {doing} needs it {needs}")


def overdue_invoice(client: Client, invoice_id: int, customer: str | None) -> None:
    """``disconnect --invoice N``: N must exist, be the customer's, and be overdue."""
    invoice = client.escrow.invoice(invoice_id)
    if customer is not None and invoice.payer.lower() != customer.lower():
        raise Refused(f"invoice #{invoice_id} is not billed to this twin's customer")
    if not client.escrow.is_overdue(invoice_id):
        raise Refused(
            f"invoice #{invoice_id} is {invoice.status.label} and not overdue: no disconnection for non-payment"
        )


def may_execute(client: Client, action: str) -> None:
    """The account holds the action (``canExecute``), or a clear refusal."""
    if client.address is None:
        return
    reason = client.constitution.can_execute(action, client.address)
    if reason is not DenyReason.NONE:
        raise Refused(f"{action}: {reason.text} (this account: {client.address})")


def proposal_open(client: Client, proposal_id: int, voter: str | None) -> None:
    proposal = client.constitution.proposal(proposal_id)
    if proposal.status is not ProposalStatus.OPEN:
        raise Refused(f"proposal #{proposal_id} is {proposal.status.name.lower()}: it takes no more votes")
    if voter is not None and client.constitution.has_voted(proposal_id, voter):
        raise Refused(f"you have voted on proposal #{proposal_id} already")


def party(client: Client, invoice_id: int, role: str, doing: str) -> None:
    """The account is the invoice's ``payer`` or ``payee``."""
    invoice = client.escrow.invoice(invoice_id)
    who = invoice.payer if role == "payer" else invoice.payee
    if client.address is not None and who.lower() != client.address.lower():
        names = client.constitution.member_names()
        raise Refused(f"invoice #{invoice_id}: only its {role} ({names.get(who, who)}) may {doing}")
