"""Billing (issue 14 part B) for ``client.agreement`` and ``client.escrow``.

- Line items: every charge on a customer's running account is a line (asset, kind, from, to,
  amount) told by one agreement event; the period's digest folds them in order and is the
  subject of the period's invoice, so :meth:`AgreementBilling.verify_bill` proves a bill from
  the events alone.
- Recurring charges: a monthly charge per service, accrued to the second
  (:meth:`AgreementBilling.accrue_recurring`, and automatically when a service ends).
- Partial payments, instalments, disputes and credit payouts on the escrow
  (:class:`EscrowBilling`).
- Vendor settlement: the records of the three-way match (:class:`VendorTerms`,
  :class:`LineSettlement`); ``client.vendors`` is :class:`telcochain.vendors.VendorsAPI`.
- The escrow's records (:class:`Invoice`, :class:`InvoiceStatus`) and an agreement action's
  :class:`FlowResult` (re-exported by :mod:`telcochain.agreement`, which builds on this module).

docs/agreement.md ("Billing", "Vendor settlement") has the design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from telcochain.assets import ZERO32, asset_id
from telcochain.constitution import ActionResult
from telcochain.details import details_of
from telcochain.errors import ConfigurationError, contract_error_class
from telcochain.events import get_logs
from telcochain.macd_kinds import ChargeKind as ChargeKind  # re-exported: generated from the contracts
from telcochain.types import Ref, to_address

if TYPE_CHECKING:
    from telcochain.constitution import ConstitutionAPI
    from telcochain.contract import Contract, Event
    from telcochain.session import Session

#: Seconds in a billing month for recurring charges (OperatorAgreement.MONTH).
MONTH = 30 * 86_400
#: Most instalments of a plan (EscrowPayment.MAX_INSTALMENTS).
MAX_INSTALMENTS = 24
VENDOR_TERMS_TYPE = "(address,uint96,uint32,bool)"


class InvoiceStatus(IntEnum):
    """Mirrors ``IEscrowPayment.Status``."""

    NONE = 0
    ISSUED = 1
    FUNDED = 2
    RELEASED = 3
    REFUNDED = 4
    CANCELLED = 5

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Invoice:
    id: int
    payer: str
    payee: str
    token: str
    amount: int
    credited: int  # settled by credit notes at issuance: the payer funds amount - credited
    due_date: int
    funded_at: int
    status: InvoiceStatus
    hold: bool  # the funds wait in escrow for a confirmation
    subject: bytes
    ref: bytes

    @property
    def to_fund(self) -> int:
        return self.amount - self.credited

    @classmethod
    def from_view(cls, v: Sequence[Any]) -> Invoice:
        return cls(
            id=int(v[0]),
            payer=to_address(v[1]),
            payee=to_address(v[2]),
            token=to_address(v[3]),
            amount=int(v[4]),
            credited=int(v[5]),
            due_date=int(v[6]),
            funded_at=int(v[7]),
            status=InvoiceStatus(v[8]),
            hold=bool(v[9]),
            subject=bytes(v[10]),
            ref=bytes(v[11]),
        )


@dataclass(frozen=True)
class FlowResult:
    """An agreement action's outcome: the action, its events, and what it charged or issued."""

    result: ActionResult
    events: tuple[Event, ...]
    invoice_id: int = 0
    charge: int = 0
    #: The amount of the invoice this action issued (``InvoiceIssued.amount``), 0 if none.
    invoiced: int = 0
    #: The amount of the credit note this action issued (``CreditNoteIssued.amount``), 0 if none.
    credit_note: int = 0

    @property
    def tx_hash(self) -> str:
        return self.result.receipt.tx_hash


class DisputeStatus(IntEnum):
    """Mirrors ``IEscrowBilling.DisputeStatus``."""

    NONE = 0
    OPEN = 1
    RESOLVED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class LineItem:
    """One charge of a billing period, as its event tells it.

    ``asset`` is the twin (for a batch: ``keccak256`` of the packed asset ids, with the ids in
    ``assets``); ``start``/``end`` bound a recurring charge (0 for one-off charges)."""

    asset: bytes
    kind: ChargeKind
    start: int
    end: int
    amount: int
    tx_hash: str
    assets: tuple[bytes, ...] = ()

    @property
    def ref(self) -> bytes:
        """The line's reference for a dispute: ``keccak256(abi.encode(asset, kind, from, to, amount))``."""
        return keccak(abi_encode(["bytes32", "uint8", "uint64", "uint64", "int256"], self._fields()))

    def _fields(self) -> list[Any]:
        return [self.asset, int(self.kind), self.start, self.end, self.amount]


@dataclass(frozen=True)
class Period:
    """A customer's billing period: its lines and, once closed, the digest its bill carries."""

    customer: str
    period: int
    lines: tuple[LineItem, ...]
    digest: bytes | None  # None: still open
    invoice_id: int = 0

    @property
    def total(self) -> int:
        return sum(x.amount for x in self.lines)


@dataclass(frozen=True)
class BillVerdict:
    ok: bool
    invoice_id: int
    period: int
    expected: bytes
    actual: bytes
    lines: tuple[LineItem, ...]


@dataclass(frozen=True)
class Recurring:
    """The recurring side of a service: started at ``start``, accrued up to ``billed_to``."""

    start: int
    billed_to: int
    monthly: int
    accrued: int


@dataclass(frozen=True)
class InvoiceBilling:
    """An invoice's settlement figures (``IEscrowBilling.BillingView``)."""

    paid: int
    disputed: int
    written_off: int
    outstanding: int
    overdue: int
    instalments: int
    interval: int


@dataclass(frozen=True)
class Dispute:
    id: int
    invoice_id: int
    amount: int
    credit: int
    status: DisputeStatus
    line: bytes
    reason: bytes


@dataclass(frozen=True)
class VendorTerms:
    token: str
    unit_price: int
    payment_days: int
    on_consumption: bool


@dataclass(frozen=True)
class LineSettlement:
    """A purchase-order line's three-way match: reserved, billable now, invoiced, credited."""

    line: bytes
    reserved: int
    billable: int
    invoiced: int
    credited: int
    unit_price: int
    token: str
    on_consumption: bool

    @classmethod
    def from_view(cls, v: Sequence[Any], line: bytes = ZERO32) -> LineSettlement:
        """From ``VendorSettlement.lineSettlement``'s struct, field by field in its order
        (tests/toolchain/test_rule_copies.py checks each field against the ABI's)."""
        return cls(line, int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]), to_address(v[5]), bool(v[6]))

    @property
    def invoiceable(self) -> int:
        return max(self.billable - (self.invoiced - self.credited), 0)


def period_seed(customer: str, period: int) -> bytes:
    return keccak(abi_encode(["address", "uint32"], [to_address(customer), period]))


def fold_lines(customer: str, period: int, lines: Sequence[LineItem]) -> bytes:
    """The digest of ``lines`` in ``period``: what the period's bill carries as its subject."""
    digest = period_seed(customer, period)
    for line in lines:
        digest = keccak(
            abi_encode(["bytes32", "bytes32", "uint8", "uint64", "uint64", "int256"], [digest, *line._fields()])
        )
    return digest


def line_from_event(e: Any) -> LineItem | None:
    """The line item an agreement event tells, or None."""
    tx = e.log.tx_hash if e.log is not None else ""
    if e.name == "ChangeOrdered":
        return LineItem(bytes(e["assetId"]), ChargeKind.of_macd(int(e["kind"])), 0, 0, int(e["charge"]), tx)
    if e.name == "ChangesOrdered":
        ids = tuple(bytes(a) for a in e["assetIds"])
        return LineItem(keccak(b"".join(ids)), ChargeKind.of_macd(int(e["kind"])), 0, 0, int(e["charge"]), tx, ids)
    if e.name == "ChangeCancelled":
        return LineItem(bytes(e["assetId"]), ChargeKind.CHANGE_REVERSAL, 0, 0, int(e["credit"]), tx)
    if e.name == "DisconnectOrdered":
        return LineItem(bytes(e["assetId"]), ChargeKind.DISCONNECT, 0, 0, int(e["charge"]), tx)
    if e.name == "DisconnectCancelled":
        return LineItem(bytes(e["assetId"]), ChargeKind.DISCONNECT_REVERSAL, 0, 0, int(e["charge"]), tx)
    if e.name == "RecurringAccrued":
        return LineItem(bytes(e["assetId"]), ChargeKind.RECURRING, int(e["from"]), int(e["to"]), int(e["amount"]), tx)
    return None


class AgreementBilling:
    """``client.agreement``'s billing side (mixed into :class:`~telcochain.agreement.AgreementAPI`)."""

    client: Session
    contract: Contract
    constitution: ConstitutionAPI

    def _flow(self, action: str, params: Sequence[Any], ref: Ref) -> FlowResult:  # pragma: no cover - AgreementAPI's
        raise NotImplementedError

    def recurring(self, asset: str | bytes) -> Recurring:
        start, billed_to, monthly, accrued = self.contract.call("recurringOf", asset_id(asset))
        return Recurring(int(start), int(billed_to), int(monthly), int(accrued))

    def monthly_charge(self, customer: str | None = None, asset: str | bytes = ZERO32) -> int:
        """The monthly charge a service confirmed now gets (per customer once part A's price lists land)."""
        who = to_address(customer or self.client.address or "0x" + "00" * 20)
        return int(self.contract.call("monthlyCharge", who, asset_id(asset) if asset != ZERO32 else ZERO32))

    def service_count(self, customer: str) -> int:
        return int(self.contract.call("serviceCount", to_address(customer, "customer")))

    def lines_digest(self, customer: str) -> bytes:
        """The open period's digest so far."""
        return bytes(self.contract.call("linesDigest", to_address(customer, "customer")))

    def accrue_recurring(self, assets: str | bytes | Sequence[str | bytes], *, ref: Ref = None) -> list[FlowResult]:
        """Accrue the monthly charges of started services up to now (the operator; batches of 256)."""
        ids = [asset_id(assets)] if isinstance(assets, str | bytes) else [asset_id(a) for a in assets]
        if not ids:
            raise ConfigurationError("no assets to accrue")
        return [
            self._flow("accrueRecurring", (ids[i : i + 256],), ref if i == 0 else None) for i in range(0, len(ids), 256)
        ]

    def propose_monthly_charge(self, monthly: int, *, ref: Ref = None) -> ActionResult:
        """Propose the monthly charge of services confirmed from now on (setMonthlyCharge: a vote)."""
        if int(monthly) < 0:
            raise ConfigurationError("a monthly charge is not negative")
        return self.constitution.execute_action("setMonthlyCharge", (int(monthly),), ref)

    def periods(self, customer: str) -> list[Period]:
        """Every billing period of ``customer`` with its line items, from the events (the last one open)."""
        who = to_address(customer, "customer")
        logs = get_logs(self.client.rpc, self.contract.address, from_block=self.client.deployment.start_block)
        out: list[Period] = []
        current: list[LineItem] = []
        number = 1
        for e in self.contract.events(logs):
            if e.args.get("customer") is None or to_address(e["customer"]) != who:
                continue
            if e.name == "PeriodClosed":
                out.append(Period(who, int(e["period"]), tuple(current), bytes(e["digest"])))
                number, current = int(e["period"]) + 1, []
                continue
            if e.name == "AccountBilled" and out and out[-1].period == int(e["period"]):
                last = out[-1]
                out[-1] = Period(who, last.period, last.lines, last.digest, int(e["invoiceId"]))
                continue
            line = line_from_event(e)
            if line is not None:
                current.append(line)
        out.append(Period(who, number, tuple(current), None))
        return out

    def line_items(self, invoice: Invoice) -> tuple[LineItem, ...]:
        """The line items an account invoice bills (empty for an invoice that is not a period's bill)."""
        for p in self.periods(invoice.payer):
            if p.digest == invoice.subject:
                return p.lines
        return ()

    def verify_bill(self, invoice: Invoice) -> BillVerdict:
        """Recompute the digest of the invoice's period from the events and compare it with the
        invoice's subject (the chain's commitment to its lines)."""
        for p in self.periods(invoice.payer):
            if p.digest is not None and p.invoice_id == invoice.id:
                expected = fold_lines(invoice.payer, p.period, p.lines)
                return BillVerdict(
                    expected == invoice.subject, invoice.id, p.period, expected, invoice.subject, p.lines
                )
        return BillVerdict(False, invoice.id, 0, ZERO32, invoice.subject, ())


class EscrowBilling:
    """``client.escrow``'s billing side (mixed into :class:`~telcochain.agreement.EscrowAPI`)."""

    client: Session
    contract: Contract
    constitution: ConstitutionAPI

    def invoice(self, invoice_id: int) -> Invoice:  # pragma: no cover - EscrowAPI's
        raise NotImplementedError

    def token(self, address: str | None = None) -> Any:  # pragma: no cover - EscrowAPI's
        raise NotImplementedError

    def billing(self, invoice_id: int) -> InvoiceBilling:
        self.invoice(invoice_id)  # EscrowUnknownInvoice for an unknown id
        v = self.contract.call("billingOf", int(invoice_id))
        return InvoiceBilling(*(int(x) for x in v))

    def overdue_amount(self, invoice_id: int) -> int:
        return int(self.contract.call("overdueAmount", int(invoice_id)))

    def disputable(self, invoice_id: int) -> tuple[int, int]:
        """``(disputable, settled)`` of an invoice (``EscrowPayment.disputableOf``): what its payer
        may still dispute (the outstanding part never disputed) and what dispute resolutions
        settled (rejected: never disputable again by the payer; only a consortium vote,
        :meth:`propose_decision`, can still credit it)."""
        self.invoice(invoice_id)  # EscrowUnknownInvoice for an unknown id
        disputable, settled = self.contract.call("disputableOf", int(invoice_id))
        return int(disputable), int(settled)

    def _check_disputable(self, invoice_id: int, amount: int) -> None:
        """Refuses, before sending, an amount the escrow would refuse: 1 .. outstanding
        (``EscrowAmountTooHigh``) and at most the part never disputed (``EscrowDisputeSettled``)."""
        available = self.billing(invoice_id).outstanding
        if not 0 < int(amount) <= available:
            raise contract_error_class("EscrowAmountTooHigh")(
                "EscrowAmountTooHigh", {"invoiceId": int(invoice_id), "amount": int(amount), "available": available}
            )
        disputable, settled = self.disputable(invoice_id)
        if int(amount) > disputable:
            raise contract_error_class("EscrowDisputeSettled")(
                "EscrowDisputeSettled",
                {"invoiceId": int(invoice_id), "amount": int(amount), "disputable": disputable, "settled": settled},
            )

    def pay(self, invoice_id: int, amount: int | None = None, *, ref: Ref = None) -> ActionResult:
        """Pay ``amount`` (default: all that is outstanding) of an invoice that is not held,
        straight to the payee; approves the escrow for it if needed."""
        invoice = self.invoice(invoice_id)
        figures = self.billing(invoice_id)
        value = figures.outstanding if amount is None else int(amount)
        if not 0 < value <= figures.outstanding:
            raise contract_error_class("EscrowAmountTooHigh")(
                "EscrowAmountTooHigh", {"invoiceId": int(invoice_id), "amount": value, "available": figures.outstanding}
            )
        owner = to_address(self.client.address or "", "payer")
        token = self.token(invoice.token)
        if int(token.call("allowance", owner, self.contract.address)) < value:
            token.transact("approve", self.contract.address, value)
        return self.constitution.execute_action("payInvoice", (int(invoice_id), value), ref)

    def pay_direct(self, invoice_id: int, amount: int | None = None) -> str:
        """Pay an invoice by calling the escrow directly (``EscrowPayment.pay``), no membership
        needed: a customer that is not a member pays its own bill from its wallet, or anyone pays
        for it. A held invoice (an installation) is funded whole (``amount`` its net); any other
        takes ``amount`` (default: all that is outstanding). Approves the escrow for it if needed;
        the invoice's payer stays its payer. Returns the transaction hash."""
        invoice = self.invoice(invoice_id)
        if invoice.status is not InvoiceStatus.ISSUED:
            raise contract_error_class("EscrowInvalidStatus")(
                "EscrowInvalidStatus", {"invoiceId": int(invoice_id), "status": invoice.status.label}
            )
        available = invoice.to_fund if invoice.hold else self.billing(invoice_id).outstanding
        value = available if amount is None else int(amount)
        if not 0 < value <= available or (invoice.hold and value != available):
            raise contract_error_class("EscrowAmountTooHigh")(
                "EscrowAmountTooHigh", {"invoiceId": int(invoice_id), "amount": value, "available": available}
            )
        owner = to_address(self.client.address or "", "sender")
        token = self.token(invoice.token)
        if int(token.call("allowance", owner, self.contract.address)) < value:
            token.transact("approve", self.contract.address, value)
        return self.contract.transact("pay", int(invoice_id), value).tx_hash

    def set_instalments(self, invoice_id: int, count: int, interval_days: int, *, ref: Ref = None) -> ActionResult:
        """As the payee, let an invoice be paid in ``count`` equal instalments ``interval_days`` apart."""
        if not 2 <= int(count) <= MAX_INSTALMENTS or not 1 <= int(interval_days) <= 365:
            raise ConfigurationError(f"instalments: 2 to {MAX_INSTALMENTS}, 1 to 365 days apart")
        return self.constitution.execute_action(
            "setInstalments", (int(invoice_id), int(count), int(interval_days) * 86_400), ref
        )

    def dispute(
        self,
        invoice_id: int,
        amount: int,
        *,
        reason: str | bytes,
        line: bytes = ZERO32,
        details: dict[str, Any] | None = None,
        ref: Ref = None,
        direct: bool | None = None,
    ) -> Dispute:
        """As the payer, dispute ``amount`` of an invoice (or of its line ``line``, a
        :attr:`LineItem.ref`). ``reason`` is kept on chain as a hash (a 32-byte ref as is);
        ``details`` go encrypted to the payee (DetailsVault: members only) and their hash becomes
        the reason. ``direct`` (default: when this account acts for no active member) calls the
        escrow's ``openDispute`` instead of the ``disputeInvoice`` action: :meth:`dispute_direct`.
        Refused before sending when ``amount`` is 0, above the outstanding part
        (``EscrowAmountTooHigh``) or above the part never disputed (``EscrowDisputeSettled``: what
        a resolution rejected cannot be disputed again)."""
        if self.goes_direct(direct):
            return self.dispute_direct(invoice_id, amount, reason=reason, line=line, details=details)
        invoice = self.invoice(invoice_id)
        self._check_disputable(invoice_id, amount)
        reason_hash = self._reason_hash(invoice, invoice_id, reason, details)
        result = self.constitution.execute_action(
            "disputeInvoice", (int(invoice_id), int(amount), bytes(line), reason_hash), ref
        )
        return self._opened(result.receipt)

    def dispute_direct(
        self,
        invoice_id: int,
        amount: int,
        *,
        reason: str | bytes,
        line: bytes = ZERO32,
        details: dict[str, Any] | None = None,
    ) -> Dispute:
        """Dispute as the payer by calling the escrow directly (``EscrowPayment.openDispute``), no
        membership needed: a customer that is not a member disputes its own bill from its wallet
        (a member payer may too). Checked before sending: the invoice exists, is Issued and not
        held, this account is its payer, ``amount`` is 1 .. its outstanding part
        (``EscrowAmountTooHigh``) and at most the part never disputed (``EscrowDisputeSettled``)."""
        invoice = self._payers_partial(invoice_id)
        if details is not None and self.constitution.principal(invoice.payer) is None:
            raise ConfigurationError(
                "encrypted details go through the DetailsVault, which takes members only: give the reason alone"
            )
        self._check_disputable(invoice_id, amount)
        reason_hash = self._reason_hash(invoice, invoice_id, reason, details)
        receipt = self.contract.transact("openDispute", int(invoice_id), int(amount), bytes(line), reason_hash)
        return self._opened(receipt)

    def goes_direct(self, direct: bool | None = None) -> bool:
        """Whether a payer's request takes the escrow's direct entry point: ``direct`` as given,
        else True when this account acts for no active member (a delegate acts for its member:
        the action path)."""
        if direct is not None:
            return bool(direct)
        sender = self.client.address
        if not sender:
            return False
        member = self.constitution.principal(sender)
        return member is None or not self.constitution.is_active_member(member)

    def _payers_partial(self, invoice_id: int) -> Invoice:
        """The invoice, refused unless Issued, not held and this account's to pay."""
        invoice = self.invoice(invoice_id)
        if invoice.status is not InvoiceStatus.ISSUED:
            raise contract_error_class("EscrowInvalidStatus")(
                "EscrowInvalidStatus", {"invoiceId": int(invoice_id), "status": invoice.status.label}
            )
        if invoice.hold:
            raise contract_error_class("EscrowHeld")("EscrowHeld", {"invoiceId": int(invoice_id)})
        me = to_address(self.client.address or "", "payer")
        if invoice.payer != me:
            raise contract_error_class("EscrowNotPayer")(
                "EscrowNotPayer", {"invoiceId": int(invoice_id), "account": me}
            )
        return invoice

    def _reason_hash(
        self, invoice: Invoice, invoice_id: int, reason: str | bytes, details: dict[str, Any] | None
    ) -> bytes:
        if details is not None:
            text = reason.decode() if isinstance(reason, bytes) else reason
            disclosed = details_of(self.client).disclose(
                f"dispute:{invoice_id}", {"reason": text, **details}, [invoice.payee]
            )
            return bytes(disclosed.details_hash)
        if isinstance(reason, bytes) and len(reason) == 32:
            return reason
        return keccak(text=reason.decode() if isinstance(reason, bytes) else reason)

    def _opened(self, receipt: Any) -> Dispute:
        opened = [e for e in self.contract.events(receipt) if e.name == "InvoiceDisputed"]
        if not opened:
            raise ConfigurationError("the dispute was not opened (is the action voted in this consortium?)")
        return self.dispute_of(int(opened[0]["disputeId"]))

    def resolve(self, dispute_id: int, credit: int = 0, *, ref: Ref = None) -> ActionResult:
        """As the payee, close a dispute crediting ``credit`` (0 .. its amount) off the invoice."""
        return self.constitution.execute_action("resolveDispute", (int(dispute_id), int(credit)), ref)

    def propose_decision(self, dispute_id: int, credit: int, *, ref: Ref = None) -> ActionResult:
        """Put a dispute to the consortium's vote (decideDispute) with the credit proposed."""
        return self.constitution.execute_action("decideDispute", (int(dispute_id), int(credit)), ref)

    def dispute_of(self, dispute_id: int) -> Dispute:
        v = self.contract.call("dispute", int(dispute_id))
        found = _dispute(v)
        if found.status is DisputeStatus.NONE:
            raise contract_error_class("EscrowUnknownDispute")("EscrowUnknownDispute", {"disputeId": int(dispute_id)})
        return found

    def disputes(self, invoice_id: int | None = None) -> list[Dispute]:
        """Every dispute (of one invoice), oldest first."""
        count = int(self.contract.call("disputeCount"))
        views = self.contract.call_many("dispute", [(i,) for i in range(1, count + 1)]) if count else []
        found = [_dispute(v) for v in views]
        return [d for d in found if invoice_id is None or d.invoice_id == int(invoice_id)]

    def request_credit_payout(
        self, payee: str, amount: int, *, token: str | None = None, ref: Ref = None, direct: bool | None = None
    ) -> ActionResult:
        """As the payer, ask ``payee`` for ``amount`` of the credit in tokens (paid at once when
        the payee's allowance to the escrow covers it, else recorded for the payee). ``direct``
        (default: when this account acts for no active member) calls the escrow's
        ``requestPayout`` instead of the ``requestCreditPayout`` action:
        :meth:`request_credit_payout_direct`."""
        if self.goes_direct(direct):
            return self.request_credit_payout_direct(payee, amount, token=token)
        return self.constitution.execute_action(
            "requestCreditPayout", (to_address(payee, "payee"), self.token(token).address, int(amount)), ref
        )

    def request_credit_payout_direct(self, payee: str, amount: int, *, token: str | None = None) -> ActionResult:
        """Ask for the credit by calling the escrow directly (``EscrowPayment.requestPayout``), no
        membership needed: a customer that is not a member takes its credit out to its wallet.
        Checked before sending: ``amount`` is 1 .. this account's credit with ``payee``. Returns
        the outcome as the action's would be (``ref`` 0, the direct call's receipt and events)."""
        me = to_address(self.client.address or "", "payer")
        who = to_address(payee, "payee")
        contract = self.token(token)
        available = int(self.contract.call("creditOf", me, who, contract.address))
        if not 0 < int(amount) <= available:
            raise contract_error_class("EscrowInsufficientCredit")(
                "EscrowInsufficientCredit",
                {"payer": me, "payee": who, "token": contract.address, "amount": int(amount), "available": available},
            )
        receipt = self.contract.transact("requestPayout", who, contract.address, int(amount))
        return ActionResult("requestCreditPayout", ZERO32, "executed", receipt, 0, tuple(self.contract.events(receipt)))

    def payout_requested(self, payer: str, payee: str, token: str | None = None) -> int:
        return int(
            self.contract.call("payoutRequested", to_address(payer), to_address(payee), self.token(token).address)
        )


def _dispute(v: Sequence[Any]) -> Dispute:
    return Dispute(int(v[0]), int(v[1]), int(v[2]), int(v[3]), DisputeStatus(int(v[4])), bytes(v[5]), bytes(v[6]))
