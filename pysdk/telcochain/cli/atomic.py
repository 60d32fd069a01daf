"""Several actions as ONE transaction for the CLI: all of them, or none.

The Constitution's ``executeBatch`` runs each call on its own (a denied or reverted call is
skipped, the others go on), so by itself a batch is not all-or-nothing. :func:`send_together`
makes it so for the commands that need it (``install confirm`` with its order line, ``macd ...
--details``): the batch is first run with ``eth_call`` as the account, against the latest
block, and is signed only if every call would execute directly (no denial, no revert, no vote).
Between that check and the block the transaction lands in, another member's transaction could
still change the state (a consortium chain has no mempool games, but it has concurrent
members): then the calls that failed are named, with what did go through, never silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telcochain.actions import action_id, encode_params
from telcochain.agreement import FlowResult
from telcochain.client import Client
from telcochain.constitution import ActionCall, ActionResult, CallOutcome, DenyReason, _outcome
from telcochain.errors import ContractRevert, TelcochainError, decode_revert
from telcochain.preflight import Refused
from telcochain.render import render
from telcochain.tx import Receipt, batch_gas
from telcochain.types import to_ref


class PartlyDone(TelcochainError):
    """The batch was checked, but the chain changed before it was mined: some calls failed."""


@dataclass(frozen=True)
class Together:
    """What :func:`send_together` sent: the receipt and each call's outcome, in call order."""

    receipt: Receipt
    calls: tuple[ActionCall, ...]
    outcomes: tuple[CallOutcome, ...]

    def flow(self, index: int, client: Client) -> FlowResult:
        """The ``index``-th call as an agreement flow (charge, invoice, credit note from its events)."""
        call = self.calls[index]
        constitution = client.contract("Constitution")
        agreement, escrow = client.contract("OperatorAgreement"), client.contract("EscrowPayment")
        events = tuple(agreement.events(self.receipt)) + tuple(escrow.events(self.receipt))
        result = ActionResult(
            call.name, to_ref(call.ref), "executed", self.receipt, 0, tuple(constitution.events(self.receipt))
        )
        invoice_id = next((int(e["invoiceId"]) for e in events if "invoiceId" in e.args and e["invoiceId"]), 0)
        charge = next((int(e["charge"]) for e in events if "charge" in e.args), 0)
        invoiced = sum(int(e["amount"]) for e in events if e.name == "InvoiceIssued")
        credit_note = sum(int(e["amount"]) for e in events if e.name == "CreditNoteIssued")
        return FlowResult(result, events, invoice_id, charge, invoiced, credit_note)


def _prepared(calls: Sequence[ActionCall]) -> tuple[list[ActionCall], list[tuple[bytes, bytes, bytes]]]:
    fixed = [ActionCall(c.name, c.params, to_ref(c.ref)) for c in calls]  # refs fixed once: check = send
    refs = [c.ref for c in fixed]
    if len(set(refs)) != len(refs):
        raise Refused("every call of a batch needs its own ref")
    return fixed, [(action_id(c.name), encode_params(c.name, c.params), to_ref(c.ref)) for c in fixed]


def check_together(client: Client, calls: Sequence[ActionCall]) -> None:
    """Run the batch with ``eth_call`` as the account: :class:`Refused` naming the first call
    that would not execute directly (denied, reverted, or put to a vote)."""
    _, batch = _prepared(calls)
    _check(client, list(calls), batch)


def _check(client: Client, calls: list[ActionCall], batch: list[tuple[bytes, bytes, bytes]]) -> None:
    contract = client.contract("Constitution")
    sender = client.address
    if sender is None:
        raise Refused("this command sends a transaction: pass --account NAME")
    try:
        data = client.rpc.call(
            "eth_call",
            [{"from": sender, "to": contract.address, "data": contract.encode("executeBatch", batch)}, "latest"],
        )
    except TelcochainError as exc:
        raise Refused(f"the batch would fail as a whole: {render(exc, client)} (nothing sent)") from None
    outcomes = contract.decode_output("executeBatch", data)
    for call, (ok, reverted, proposal_id, revert_data) in zip(calls, outcomes, strict=True):
        if ok and not int(proposal_id):
            continue
        if ok:
            why = "it would open a proposal (a vote), not execute now"
        elif reverted:
            why = render(decode_revert(bytes(revert_data)), client)
        else:
            reason = client.constitution.can_execute(call.name, sender)
            why = reason.text if reason is not DenyReason.NONE else "denied"
        raise Refused(f"{call.name} would not go through: {why}; nothing sent (the calls go together or not at all)")


def send_together(client: Client, calls: Sequence[ActionCall]) -> Together:
    """Check the calls together (:func:`check_together`), then send them as one ``executeBatch``."""
    fixed, batch = _prepared(calls)
    _check(client, fixed, batch)
    contract = client.constitution.contract
    data = contract.encode("executeBatch", batch)
    gas = batch_gas(contract.rpc, client.address or "", contract.address, data)
    receipt = contract.transact("executeBatch", batch, gas=gas)
    events = contract.events(receipt)
    outcomes = tuple(_outcome(events, c.name, to_ref(c.ref), i, receipt.tx_hash) for i, c in enumerate(fixed))
    failed = [(c, o) for c, o in zip(fixed, outcomes, strict=True) if o.status != "executed"]
    if failed:
        done = [c.name for c, o in zip(fixed, outcomes, strict=True) if o.status == "executed"]
        what = "; ".join(
            f"{c.name} {o.status}" + (f" ({render(o.error, client)})" if isinstance(o.error, ContractRevert) else "")
            for c, o in failed
        )
        raise PartlyDone(
            f"the chain changed between the check and the block (tx {receipt.tx_hash}): {what}; "
            f"went through: {', '.join(done) or 'nothing'}"
        )
    return Together(receipt, tuple(fixed), outcomes)
