"""``client.agreement`` and ``client.escrow``: the operator agreement's flows and their payments.

Seed 000: installation (a verified request → the twin PendingInstallation → an invoice held in
escrow → once funded and confirmed, the twin Active and the money released to the operator),
MACD (:class:`MacdKind`: move, add, change, delete...: PendingChange → Active, or Inactive for a delete, the charge
or credit accrued on the customer's running account), disconnect (by the customer, or by the
operator for an overdue invoice: PendingDisconnect → final charges billed → Inactive), and
period billing of the running account into one invoice or credit note. docs/agreement.md has
the flows, the states and the charging design.

Amounts are integers in the settlement token's base units; :meth:`EscrowAPI.format` shows
them in whole tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from telcochain.assets import ZERO32, asset_id
from telcochain.billing import AgreementBilling, EscrowBilling
from telcochain.billing import FlowResult as FlowResult  # re-exported: the records live with billing
from telcochain.billing import Invoice as Invoice
from telcochain.billing import InvoiceStatus as InvoiceStatus
from telcochain.constitution import constitution_of
from telcochain.contract import Contract
from telcochain.errors import ConfigurationError, contract_error_class
from telcochain.macd_kinds import TERMS_TYPE as TERMS_TYPE  # re-exported: generated from the contract
from telcochain.macd_kinds import MacdKind as MacdKind
from telcochain.types import Ref, to_address

if TYPE_CHECKING:
    from telcochain.constitution import ActionResult
    from telcochain.session import Session

#: Most assets one batched MACD call carries (OperatorAgreement.MAX_BATCH).
MAX_BATCH = 256


@dataclass(frozen=True)
class Terms:
    """The agreement's terms: token, payment days and the tariff (signed base units): the
    installation and disconnect charges, and ``macd``, the charge (or credit) of each
    :class:`MacdKind` in its order (:meth:`tariff`)."""

    token: str
    payment_days: int
    installation: int
    disconnect: int
    macd: tuple[int, ...]

    def tariff(self, kind: MacdKind | str | int) -> int:
        """The charge of a MACD kind (``"move"``, ``MacdKind.MOVE`` or its number)."""
        return self.macd[MacdKind.parse(kind)]

    def to_tuple(self) -> tuple[Any, ...]:
        """``IOperatorAgreement.Terms`` (:data:`TERMS_TYPE`), for ``setTerms``."""
        return (self.token, self.payment_days, self.installation, self.disconnect, list(self.macd))


class Pending(IntEnum):
    """Mirrors ``IOperatorAgreement.Pending``: the operation open on an asset."""

    NONE = 0
    INSTALLATION = 1
    CHANGE = 2
    DISCONNECT = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Service:
    """What the agreement knows of an asset it serves."""

    customer: str | None
    install_invoice: int
    pending_delete: bool
    non_payment: bool
    pending: Pending = Pending.NONE
    kind: MacdKind | None = None  # of a pending change
    charge: int = 0  # what the open change or disconnect charged; a cancellation gives it back
    operator: str | None = None  # the operator serving the asset (payee, confirms the work)
    bilateral: bool = False  # a registered customer: charges stated per request (act_for)


@dataclass(frozen=True)
class Account:
    """A customer's running account for the current billing period."""

    customer: str
    balance: int  # accrued charges minus credits not yet billed
    period: int
    lines: int
    opened_at: int


@dataclass(frozen=True)
class PaymentReceipt:
    invoice_id: int
    amount: int
    paid_at: int
    ref: bytes


def _invoice_not_found(invoice_id: int) -> Exception:
    return contract_error_class("EscrowUnknownInvoice")("EscrowUnknownInvoice", {"invoiceId": invoice_id})


class AgreementAPI(AgreementBilling):
    """Installation, MACD, disconnect and billing under the operator agreement (line items,
    recurring charges: :class:`~telcochain.billing.AgreementBilling`)."""

    def __init__(self, client: Session) -> None:
        self.client = client
        self.contract = client.contract("OperatorAgreement")
        self.escrow_contract = client.contract("EscrowPayment")
        self.constitution = constitution_of(client)

    def _flow(self, action: str, params: Sequence[Any], ref: Ref) -> FlowResult:
        result = self.constitution.execute_action(action, params, ref)
        events = tuple(self.contract.events(result.receipt)) + tuple(self.escrow_contract.events(result.receipt))
        invoice_id = next((int(e["invoiceId"]) for e in events if "invoiceId" in e.args and e["invoiceId"]), 0)
        charge = next((int(e["charge"]) for e in events if "charge" in e.args), 0) or next(
            (int(e["credit"]) for e in events if e.name == "ChangeCancelled"), 0
        )
        invoiced = sum(int(e["amount"]) for e in events if e.name == "InvoiceIssued")
        credit_note = sum(int(e["amount"]) for e in events if e.name == "CreditNoteIssued")
        return FlowResult(result, events, invoice_id, charge, invoiced, credit_note)

    # -- reads -----------------------------------------------------------------------------------

    def terms(self) -> Terms:
        token, days, installation, disconnect, macd = self.contract.call("terms")
        return Terms(to_address(token), int(days), int(installation), int(disconnect), tuple(int(t) for t in macd))

    @property
    def operator(self) -> str:
        return to_address(self.contract.call("operator"))

    def service(self, asset: str | bytes) -> Service:
        customer, invoice, pending_delete, non_payment, pending, kind, charge, operator, bilateral = self.contract.call(
            "serviceOf", asset_id(asset)
        )
        who = None if int(str(customer), 16) == 0 else to_address(customer)
        state = Pending(int(pending))
        return Service(
            who,
            int(invoice),
            bool(pending_delete),
            bool(non_payment),
            state,
            MacdKind(int(kind)) if state is Pending.CHANGE else None,
            int(charge),
            None if who is None else to_address(operator),
            bool(bilateral),
        )

    def account(self, customer: str) -> Account:
        address = to_address(customer, "customer")
        balance, period, lines, opened_at = self.contract.call("accountOf", address)
        return Account(address, int(balance), int(period), int(lines), int(opened_at))

    # -- installation ----------------------------------------------------------------------------

    def request_installation(
        self, asset: str | bytes, customer: str | None = None, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> FlowResult:
        """A verified installation request for a registered twin (refused if the twin is already
        installed or has an open request: ``AgreementDuplicateInstallation``). The twin goes to
        PendingInstallation and, unless installation is free, an invoice for the tariff is issued
        to the customer, held in escrow. ``customer`` defaults to this member (a customer may only
        request for itself)."""
        who = to_address(customer or self.client.address or "", "customer")
        return self._flow("requestInstallation", (asset_id(asset), who, details_hash), ref)

    def confirm_installation(self, asset: str | bytes, *, details_hash: bytes = ZERO32, ref: Ref = None) -> FlowResult:
        """The operator confirms the installation: the invoice must be funded
        (``AgreementNotFunded``); the twin becomes Active and the money goes to the operator."""
        return self._flow("confirmInstallation", (asset_id(asset), details_hash), ref)

    def withdraw_installation(self, asset: str | bytes, *, details_hash: bytes = ZERO32, ref: Ref = None) -> FlowResult:
        """Call the installation off: the invoice is cancelled (or refunded if funded)."""
        return self._flow("withdrawInstallation", (asset_id(asset), details_hash), ref)

    # -- MACD ------------------------------------------------------------------------------------

    def request_change(
        self,
        kind: MacdKind | str,
        assets: str | bytes | Sequence[str | bytes],
        *,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> list[FlowResult]:
        """Order a MACD change on one Active twin or many (of one customer): each goes
        PendingChange and the tariff is accrued on the customer's running account (a batch
        records its total once). Many assets go in calls of at most 256."""
        k = MacdKind.parse(kind)
        if isinstance(assets, str | bytes):
            return [self._flow("orderChange", (int(k), asset_id(assets), details_hash), ref)]
        ids = [asset_id(a) for a in assets]
        if not ids:
            raise ConfigurationError("no assets to change")
        return [
            self._flow("orderChanges", (int(k), ids[i : i + MAX_BATCH], details_hash), ref if i == 0 else None)
            for i in range(0, len(ids), MAX_BATCH)
        ]

    def confirm_change(
        self,
        assets: str | bytes | Sequence[str | bytes],
        *,
        deletions: bool = False,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> list[FlowResult]:
        """Confirm pending changes: the twins go back to Active (Inactive for a delete; a batch
        is all deletes, ``deletions=True``, or none)."""
        if isinstance(assets, str | bytes):
            return [self._flow("confirmChange", (asset_id(assets), details_hash), ref)]
        ids = [asset_id(a) for a in assets]
        if not ids:
            raise ConfigurationError("no assets to confirm")
        return [
            self._flow("confirmChanges", (deletions, ids[i : i + MAX_BATCH], details_hash), ref if i == 0 else None)
            for i in range(0, len(ids), MAX_BATCH)
        ]

    def cancel_change(self, asset: str | bytes, *, details_hash: bytes = ZERO32, ref: Ref = None) -> FlowResult:
        """Call off a pending change before its confirmation (operator or the asset's customer):
        the twin is Active again and exactly the change's charge is given back on the account."""
        return self._flow("cancelChange", (asset_id(asset), details_hash), ref)

    # -- disconnect ------------------------------------------------------------------------------

    def request_disconnect(
        self,
        asset: str | bytes,
        *,
        overdue_invoice: int = 0,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> FlowResult:
        """Order a disconnect: by the customer (no invoice), or by the operator for non-payment,
        naming an invoice of that customer that is overdue now (``AgreementNotOverdue`` before)."""
        return self._flow("orderDisconnect", (asset_id(asset), int(overdue_invoice), details_hash), ref)

    def cancel_disconnect(self, asset: str | bytes, *, details_hash: bytes = ZERO32, ref: Ref = None) -> FlowResult:
        return self._flow("cancelDisconnect", (asset_id(asset), details_hash), ref)

    def confirm_disconnect(self, asset: str | bytes, *, details_hash: bytes = ZERO32, ref: Ref = None) -> FlowResult:
        """The twin becomes Inactive; the customer's account is billed as its final charge
        (an invoice, or a credit note when credits exceed charges)."""
        return self._flow("confirmDisconnect", (asset_id(asset), details_hash), ref)

    # -- billing and terms ------------------------------------------------------------------------

    def bill(self, customer: str, *, details_hash: bytes = ZERO32, ref: Ref = None) -> FlowResult:
        """Close the customer's billing period into one invoice (or a credit note)."""
        return self._flow("billAccount", (to_address(customer, "customer"), details_hash), ref)

    def propose_terms(self, terms: Terms, *, ref: Ref = None) -> ActionResult:
        """Propose new terms (setTerms; in the example consortium operator and customer vote)."""
        return self.constitution.execute_action("setTerms", (terms.to_tuple(),), ref)


class EscrowAPI(EscrowBilling):
    """Invoices in escrow: list, fund, release, refund, reclaim; receipts and balances; partial
    payments, instalments, disputes, credit payouts (:class:`~telcochain.billing.EscrowBilling`)."""

    def __init__(self, client: Session) -> None:
        self.client = client
        self.contract = client.contract("EscrowPayment")
        self.constitution = constitution_of(client)
        self._tokens: dict[str, Contract] = {}
        self._meta_cache: dict[str, tuple[int, str]] = {}

    # -- the token ------------------------------------------------------------------------------

    def token(self, address: str | None = None) -> Contract:
        """An ERC-20 binding (default: the agreement's settlement token)."""
        address = to_address(address) if address else self.settlement_token
        if address not in self._tokens:
            self._tokens[address] = Contract("SettlementToken", address, self.client.rpc, self.client.sender)
        return self._tokens[address]

    @property
    def settlement_token(self) -> str:
        return to_address(self.client.contract("OperatorAgreement").call("terms")[0])

    def _meta(self, token: str | None) -> tuple[int, str]:
        """(decimals, symbol) of a token, read once per token."""
        contract = self.token(token)
        if contract.address not in self._meta_cache:
            self._meta_cache[contract.address] = (int(contract.call("decimals")), str(contract.call("symbol")))
        return self._meta_cache[contract.address]

    def decimals(self, token: str | None = None) -> int:
        return self._meta(token)[0]

    def format(self, amount: int, token: str | None = None) -> str:
        """``amount`` base units in whole tokens, with the symbol: ``250.00 TSD``."""
        decimals, symbol = self._meta(token)
        value = Decimal(amount).scaleb(-decimals).quantize(Decimal(1).scaleb(-min(decimals, 2)))
        return f"{value:,} {symbol}"

    def balance(self, who: str, token: str | None = None) -> int:
        return int(self.token(token).call("balanceOf", to_address(who)))

    def balances(self, who: Sequence[str], token: str | None = None) -> dict[str, int]:
        """Token balances of many accounts in one round trip."""
        addresses = [to_address(w) for w in who]
        values = self.token(token).call_many("balanceOf", [(a,) for a in addresses])
        return {a: int(v) for a, v in zip(addresses, values, strict=True)}

    # -- reads ------------------------------------------------------------------------------------

    def invoice(self, invoice_id: int) -> Invoice:
        found = Invoice.from_view(self.contract.call("invoice", int(invoice_id)))
        if found.status is InvoiceStatus.NONE:
            raise _invoice_not_found(int(invoice_id))
        return found

    def invoices(
        self, *, payer: str | None = None, payee: str | None = None, status: InvoiceStatus | str | None = None
    ) -> list[Invoice]:
        """Invoices of a payer, of a payee, or all (oldest first), optionally of one status."""
        if payer and payee:
            raise ConfigurationError("filter by payer or by payee, not both")
        if payer or payee:
            party = to_address(payer or payee or "")
            count_fn, page_fn = (
                ("payerInvoiceCount", "invoicesOfPayer")
                if payer
                else (
                    "payeeInvoiceCount",
                    "invoicesOfPayee",
                )
            )
            count = int(self.contract.call(count_fn, party))
            pages = self.contract.call_many(page_fn, [(party, off, 100) for off in range(0, count, 100)])
            ids = [int(i) for page in pages for i in page]
        else:
            ids = list(range(1, int(self.contract.call("invoiceCount")) + 1))
        views = self.contract.call_many("invoice", [(i,) for i in ids]) if ids else []
        found = [Invoice.from_view(v) for v in views]
        if status is not None:
            wanted = InvoiceStatus[status.upper()] if isinstance(status, str) else status
            found = [i for i in found if i.status is wanted]
        return found

    def is_overdue(self, invoice_id: int) -> bool:
        return bool(self.contract.call("isOverdue", int(invoice_id)))

    def overdue(self, invoice_ids: Sequence[int]) -> set[int]:
        """Which of ``invoice_ids`` are overdue now (one round trip)."""
        ids = [int(i) for i in invoice_ids]
        flags = self.contract.call_many("isOverdue", [(i,) for i in ids]) if ids else []
        return {i for i, late in zip(ids, flags, strict=True) if late}

    def reclaimable_at(self, invoice_id: int) -> int:
        return int(self.contract.call("reclaimableAt", int(invoice_id)))

    def receipt(self, invoice_id: int) -> PaymentReceipt | None:
        """The receipt of a released invoice (None before it was paid to its payee)."""
        invoice, amount, paid_at, ref = self.contract.call("receipt", int(invoice_id))
        return None if int(paid_at) == 0 else PaymentReceipt(int(invoice), int(amount), int(paid_at), bytes(ref))

    def credit(self, payer: str, payee: str, token: str | None = None) -> int:
        """Credit notes not yet applied: what ``payee`` owes ``payer`` off their next invoices."""
        return int(self.contract.call("creditOf", to_address(payer), to_address(payee), self.token(token).address))

    # -- money moves ------------------------------------------------------------------------------

    def fund(self, invoice_id: int, *, ref: Ref = None) -> ActionResult:
        """Pay an invoice into escrow (as its payer): approves the escrow for the amount due if
        the allowance is short, then funds."""
        invoice = self.invoice(invoice_id)
        owner = to_address(self.client.address or "", "payer")
        # check before anything is signed: no approval is left behind for an invoice that cannot be paid
        if invoice.status is not InvoiceStatus.ISSUED:
            raise contract_error_class("EscrowInvalidStatus")(
                "EscrowInvalidStatus", {"invoiceId": invoice_id, "status": invoice.status.label}
            )
        if invoice.payer != owner:
            raise contract_error_class("EscrowNotPayer")("EscrowNotPayer", {"invoiceId": invoice_id, "account": owner})
        token = self.token(invoice.token)
        allowance = int(token.call("allowance", owner, self.contract.address))
        if allowance < invoice.to_fund:
            token.transact("approve", self.contract.address, invoice.to_fund)
        return self.constitution.execute_action("fundInvoice", (int(invoice_id),), ref)

    def release(self, invoice_id: int, *, ref: Ref = None) -> ActionResult:
        """The payer releases escrowed funds to the payee (without waiting for a confirmation)."""
        return self.constitution.execute_action("releaseInvoice", (int(invoice_id),), ref)

    def refund(self, invoice_id: int, *, ref: Ref = None) -> ActionResult:
        """The payee gives escrowed funds back (or cancels an invoice not yet funded)."""
        return self.constitution.execute_action("refundInvoice", (int(invoice_id),), ref)

    def reclaim(self, invoice_id: int, *, ref: Ref = None) -> ActionResult:
        """The payer takes back a funded invoice whose confirmation never came, once the
        confirmation window has passed (``EscrowReclaimTooEarly`` before)."""
        return self.constitution.execute_action("reclaimInvoice", (int(invoice_id),), ref)

    def reclaim_direct(self, invoice_id: int) -> str:
        """The payer's exit that needs no membership: reclaims a funded invoice after the window by
        calling the escrow directly (a suspended member or a former customer). Returns the tx hash."""
        return self.contract.transact("reclaim", int(invoice_id)).tx_hash

    def pay_out_credit(self, payer: str, amount: int, *, token: str | None = None, ref: Ref = None) -> ActionResult:
        """As the payee, pay ``amount`` of ``payer``'s credit (unused credit notes) out in tokens:
        approves the escrow for the amount if needed, then pays (``EscrowInsufficientCredit``
        beyond the credit)."""
        me = to_address(self.client.address or "", "payee")
        contract = self.token(token)
        who = to_address(payer, "payer")
        available = self.credit(who, me, contract.address)
        if not 0 < int(amount) <= available:
            raise contract_error_class("EscrowInsufficientCredit")(
                "EscrowInsufficientCredit",
                {"payer": who, "payee": me, "token": contract.address, "amount": int(amount), "available": available},
            )
        if int(contract.call("allowance", me, self.contract.address)) < int(amount):
            contract.transact("approve", self.contract.address, int(amount))
        return self.constitution.execute_action("payOutCredit", (who, contract.address, int(amount)), ref)

    def mint(self, to: str, amount: int, *, ref: Ref = None) -> ActionResult:
        """Propose new settlement tokens for ``to`` (the ``mintSettlement`` action: in the example
        consortium a vote of the members; nobody mints alone)."""
        return self.constitution.execute_action("mintSettlement", (to_address(to), int(amount)), ref)
