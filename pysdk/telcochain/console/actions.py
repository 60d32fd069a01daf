"""The console's actions: the same SDK calls and checks as the CLI's ``vote``, ``invoice pay``
and ``invoice release``, with the form's input validated first (nothing is sent for bad input).

Each returns a :class:`Outcome` — one sentence for the page. A refusal of the Constitution
(:class:`~telcochain.errors.PermissionDenied`: the call was sent and recorded as an
``ActionDenied`` event) is reported with its reason; a check that fails before sending
(:class:`~telcochain.preflight.Refused`) or a contract error is reported as the CLI would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telcochain import preflight
from telcochain.agreement import InvoiceStatus
from telcochain.constitution import ProposalStatus
from telcochain.errors import PermissionDenied, TelcochainError

if TYPE_CHECKING:
    from telcochain.client import Client

MAX_ID = 2**63 - 1


class BadInput(ValueError):
    """A form field that cannot be used as it is: the message names the field and what it needs."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    denied: bool = False  # refused by the Constitution (on record as ActionDenied)
    tx_hash: str | None = None


def parse_id(value: str | None, what: str) -> int:
    text = (value or "").strip().removeprefix("#")
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise BadInput(f"{what}: a number from 1, not {value!r}" if value else f"{what}: required")
    return int(text)


def parse_ref(value: str | None) -> str | None:
    """An optional correlation id: text up to 32 bytes, or 0x and 64 hex digits."""
    text = (value or "").strip()
    if not text:
        return None
    if text.startswith("0x") and len(text) == 66:
        try:
            bytes.fromhex(text[2:])
        except ValueError:
            raise BadInput("reference: 0x followed by 64 hex digits, or text of up to 32 bytes") from None
        return text
    if len(text.encode()) > 32:
        raise BadInput(f"reference: at most 32 bytes of text ({len(text.encode())} given)")
    if any(ord(c) < 32 for c in text):
        raise BadInput("reference: printable text only")
    return text


def parse_choice(value: str | None) -> bool:
    if value == "approve":
        return True
    if value == "reject":
        return False
    raise BadInput("vote: choose approve or reject")


def _failed(exc: TelcochainError) -> Outcome:
    if isinstance(exc, PermissionDenied):
        return Outcome(
            False, f"Refused by the constitution: {exc.reason} ({exc.action})", denied=True, tx_hash=exc.tx_hash
        )
    return Outcome(False, str(exc))


def vote(client: Client, proposal_id: int, approve: bool, ref: str | None) -> Outcome:
    """``telcochain vote N --approve|--reject``."""
    try:
        preflight.proposal_open(client, proposal_id, client.address)
        result = client.constitution.vote(proposal_id, approve, ref)
    except TelcochainError as exc:
        return _failed(exc)
    p = result.proposal
    verdict = {ProposalStatus.EXECUTED: "decided: executed", ProposalStatus.REJECTED: "decided: rejected"}.get(
        p.status, f"{p.approvals}/{p.required} approvals so far"
    )
    word = "approved" if approve else "rejected"
    return Outcome(True, f"You {word} proposal #{p.id} ({p.action_name}) — {verdict}", tx_hash=result.receipt.tx_hash)


def pay(client: Client, invoice_id: int, ref: str | None) -> Outcome:
    """``telcochain invoice pay N``: fund the invoice as its payer."""
    try:
        preflight.party(client, invoice_id, "payer", "pay it")
        invoice = client.escrow.invoice(invoice_id)
        result = client.escrow.fund(invoice_id, ref=ref)
    except TelcochainError as exc:
        return _failed(exc)
    where = "into escrow until the installation is confirmed" if invoice.hold else "to the payee"
    amount = client.escrow.format(invoice.to_fund, invoice.token)
    return Outcome(True, f"Invoice #{invoice_id} paid: {amount} {where}", tx_hash=result.receipt.tx_hash)


def release(client: Client, invoice_id: int, ref: str | None) -> Outcome:
    """``telcochain invoice release N``: the payer releases escrowed funds to the payee."""
    try:
        preflight.party(client, invoice_id, "payer", "release it")
        preflight.invoice_status(client, invoice_id, (InvoiceStatus.FUNDED,), "release")
        result = client.escrow.release(invoice_id, ref=ref)
    except TelcochainError as exc:
        return _failed(exc)
    return Outcome(True, f"Invoice #{invoice_id} released to the payee", tx_hash=result.receipt.tx_hash)
