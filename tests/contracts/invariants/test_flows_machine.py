"""Issue 12, "Prove it": a Hypothesis state machine over the AssetRegistry, the OrderBook, the
EscrowPayment and the OperatorAgreement together, with invariants checked after every step.

Rules are the flows' actions from every role, legitimate or not: installation requests (for
oneself, for another customer, on another customer's twin), fundings, deliveries,
confirmations (twice, by the wrong party), withdrawals, MACD orders / batches, confirmations
and cancellations (with and without an open operation), disconnects (by the customer, by the
operator for non-payment, with a paid or a not-yet-overdue invoice), billing, escrow releases,
refunds, reclaims (through the Constitution and the direct ``reclaim``, before and after the
window), credit pay-outs, order lines holding twins (added, delivered, consumed, deleted), the
registry's raw verbs and ``setParties`` on held twins, and time travel (``evm_increaseTime``).

Every rule asks the Python model first. When the model accepts, the chain must accept (dry run,
then the real transaction) and the model applies the effect; when the model refuses, the
chain's dry run (against the pending block) must revert or be denied by the Constitution: the
action is never sent, so nothing changed, which the invariants then confirm against the model.

Invariants (after every step):
- tokens conserved: every holder's balance + the escrow's is the minted supply, and the escrow
  holds exactly what the Funded invoices escrow (amount - credit applied);
- each twin's state and parties (customer, vendor, on a line) are the model's, which moves a
  twin only through the flows (equivalently: every twin state was reached through a flow); and
  every AssetTransitioned of a held twin (customer or line) comes from a transaction whose
  top-level action is a flow's (checked on each receipt);
- the agreement's per-asset customer, open operation, kind and charge are the model's, and a
  served twin's registry customer is the service's customer;
- each customer's running account and credit notes are the model's, and its credit (negative
  balance + unused credit notes + credit applied to open invoices) never exceeds what it paid
  the operator and was not paid back + what the operator granted (stated credits, dispute
  write-offs) + what it owes unpaid (open bills, a positive balance) — registered customers
  included;
- traced from the receipts alone (``Ledger``): every line event's balance is the sum of the
  lines so far, a bill bills exactly that sum; no credit without a matching charge — a reversal
  gives back exactly the open operation's charge, a credit note has its cause in the same
  transaction (a billed negative balance, a released installation payment given back), credit
  restored and dispute write-offs match what they reverse; each payer's credit folded from
  those events equals the chain's;
- a registered (bilateral) customer — ``retail``, a non-member — is served only through
  ``actFor`` with its stated charge: the plain chargeable entry points refuse it; a consented
  request needs the customer's key over exactly that action, asset, kind and ceiling, an unused
  nonce (spent once), and the operator as the submitter; its account, credit and invoices are
  held to the same money invariants as everyone's (issue 14);
- every Funded invoice has an exit for its payer: reclaimableAt = fundedAt + window; at the end
  of every run the clock jumps past every window and the payer's direct ``reclaim`` succeeds
  (dry run) for each Funded invoice.

Runs 25 examples of 30 steps (``HYPOTHESIS_PROFILE=long``: 200 examples of 50 steps, with shrinking).
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from dataclasses import dataclass, field

import requests
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, Phase, Verbosity, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from telcochain.abi import shipped_abis
from telcochain.agreement import Pending
from telcochain.assets import TRANSITIONS, AssetState
from telcochain.billing import ChargeKind
from telcochain.customers import Consent, sign_consent
from web3.exceptions import ContractLogicError

from tests.support.agreement import TARIFF, UNIT, WINDOW, Kind, Status
from tests.support.dryrun import decode_data
from tests.support.encoding import action_id
from tests.support.invariants import (
    AGREEMENT_ACTIONS,
    ASSETS,
    CUSTOMERS,
    LINE_SPEC,
    MONTHLY,
    ORDER_ACTIONS,
    RETAIL,
    SKU,
    ZERO32,
    asset_id,
    line_id,
    order_id,
    service_id,
)

S = AssetState
DAY = 86_400
PAYMENT_DAYS = 14
SENDERS = ("operator", "owner", "owner", "customer", "customer2", "vendor", "stranger")
ASSET_VIEW = "(uint8,bytes12,bytes32,uint32,bytes24,address,bool,address,address,bool,bool)"  # IAssetRegistry.AssetView
#: The positions of the AssetView fields read here, by their names in the ABI.
_ASSET_FIELDS = [
    c["name"]
    for f in shipped_abis()["AssetRegistry"]
    if f.get("name") == "getAsset"
    for c in f["outputs"][0]["components"]
]
CUSTOMER, VENDOR, ON_LINE = (_ASSET_FIELDS.index(name) for name in ("customer", "vendor", "onLine"))
INVOICE_VIEW = "(uint256,address,address,address,uint256,uint256,uint64,uint64,uint8,bool,bytes32,bytes32)"
SERVICE_VIEW = "(address,uint256,bool,bool,uint8,uint8,int256,address,bool)"
ACCOUNT_VIEW = "(int256,uint32,uint32,uint64)"
BILLING_VIEW = "(uint256,uint256,uint256,uint256,uint256,uint8,uint32)"
MONTH = 30 * DAY
# issue 14: the line items an agreement event tells (asset, kind, from, to, amount) — see IAgreementBilling
# (the SDK's ChargeKind, generated from IAgreementBilling.ChargeKind; a MACD line is ChargeKind.of_macd(kind))
LINE_KIND = {
    "DisconnectOrdered": ChargeKind.DISCONNECT,
    "RecurringAccrued": ChargeKind.RECURRING,
    "ChangeCancelled": ChargeKind.CHANGE_REVERSAL,
    "DisconnectCancelled": ChargeKind.DISCONNECT_REVERSAL,
}
HOLDERS = ("operator", "vendor", "customer", "customer2", "stranger", "retail")
PAYERS = (*CUSTOMERS, "vendor", "retail")  # the vendor, a member, may be made a customer too
BILATERAL = ("retail",)
OUTSIDERS = ("stranger", "retail")  # not members: every Constitution action is refused to them
#: what a consent to an actFor request is: none (the operator acts on its own), valid, signed by
#: another key, a nonce already spent, or a ceiling below the stated charge
CONSENTS = ("none", "valid", "valid", "wrong_key", "replay", "over")
OTHER_KEY = Account.from_key(keccak(text="not the retail key"))
#: who approved the escrow for its tokens (tests/support/invariants.py; the retail wallet in `seeded`)
APPROVED = ("operator", *CUSTOMERS, "retail")


TRANSITIONED = keccak(text="AssetTransitioned(bytes32,bytes32,address,uint8,uint8,bytes32,uint32,bytes24)")
ASSET_OF = {asset_id(a): a for a in ASSETS}
# the flows' actions, and the registry verbs the design lets a twin's parties use on a twin with a
# customer (never on a line): the vendor's / custodian's `deliver`, `recover` (from Inactive) and
# the custodian's `decommission` (docs: design of issue 12)
FLOW_ACTIONS = frozenset(AGREEMENT_ACTIONS) | frozenset(ORDER_ACTIONS) | {"deliver", "recover", "decommission"}
WALKS = 12  # copies of the walk rule
TALLY: Counter[str] = Counter()  # outcomes per action over the run (printed with -s)


# AssetLifecycle's table: verb -> (sources, target), the SDK's one copy (tests/sdk/test_assets.py
# keeps that equal to the chain's verbRule)
VERBS = TRANSITIONS
EDGES = {(f, to) for sources, to in VERBS.values() for f in sources}


class Fail(Exception):
    """The model refuses the action."""


def need(cond: bool, why: str) -> None:
    if not cond:
        raise Fail(why)


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class Twin:
    state: S = S.PLANNED
    customer: str | None = None
    vendor: str | None = "vendor"
    line: int | None = None  # the open order line holding it
    served: bool = False  # the agreement serves its customer (only the agreement releases it)


@dataclass
class Svc:
    customer: str | None = None
    pending: int = Pending.NONE
    kind: int = 0
    charge: int = 0
    non_payment: bool = False
    invoice: int = 0
    start: int = 0  # recurring charges (issue 14): confirmed at, accrued up to, monthly rate
    billed_to: int = 0
    monthly: int = 0


@dataclass
class Invoice:
    payer: str
    amount: int
    credited: int
    hold: bool
    due: int
    status: Status = Status.ISSUED
    funded_at: int = 0
    paid: int = 0  # issue 14: partial payments, open disputes, credits of resolved disputes
    disputed: int = 0
    written: int = 0
    touched: bool = False
    settled: int = 0  # the unpaid part of what resolutions rejected: not disputable again

    @property
    def outstanding(self) -> int:
        return self.amount - self.credited - self.paid - self.written - self.disputed


@dataclass
class Dispute:
    invoice: int
    amount: int
    open: bool = True
    credit: int = 0


@dataclass
class OLine:
    asset: str
    customer: str  # the order's (project's) customer
    state: str = "open"  # open | delivered | completed | cancelled
    delivered: int = 0


@dataclass
class Model:
    twins: dict[str, Twin] = field(default_factory=lambda: {a: Twin() for a in ASSETS})
    services: dict[str, Svc] = field(default_factory=lambda: {a: Svc() for a in ASSETS})
    invoices: dict[int, Invoice] = field(default_factory=dict)
    lines: dict[int, OLine] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    balance: dict[str, int] = field(default_factory=lambda: {c: 0 for c in PAYERS})
    credit: dict[str, int] = field(default_factory=lambda: {c: 0 for c in PAYERS})
    paid: dict[str, int] = field(default_factory=lambda: {c: 0 for c in PAYERS})  # released to the operator
    paid_out: dict[str, int] = field(default_factory=lambda: {c: 0 for c in PAYERS})  # payOutCredit
    # credits a registered customer's operator stated itself (actFor MACD with a charge < 0, issue 14 A)
    granted: dict[str, int] = field(default_factory=lambda: {c: 0 for c in PAYERS})
    line_count: int = 0
    disputes: dict[int, Dispute] = field(default_factory=dict)
    nonces: set[int] = field(default_factory=set)  # the retail customer's spent consent nonces

    # ---- registry -----------------------------------------------------------------------

    def move(self, asset: str, to: S) -> None:
        """An Internal transition (a flow's): only the table."""
        tw = self.twins[asset]
        need((tw.state, to) in EDGES, f"transition {tw.state.name}->{to.name}")
        tw.state = to

    def live(self, asset: str) -> Twin:
        tw = self.twins[asset]
        need(tw.state != S.DECOMMISSIONED, "decommissioned")
        return tw

    def raw_verb(self, verb: str, asset: str, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        tw = self.twins[asset]
        need(tw.line is None, "AssetHeldByFlow (line)")
        if verb == "deliver":
            need(caller in ("vendor", "operator"), "AssetNotParty")
        elif verb == "recover":
            need(caller in ("vendor", "operator"), "AssetNotParty")
            need(tw.customer is None or tw.state == S.INACTIVE, "AssetHeldByFlow (customer)")
        else:
            need(caller == "operator", "AssetNotParty")
            need(tw.customer is None or verb == "decommission", "AssetHeldByFlow (customer)")
            need(not (verb == "decommission" and tw.served), "AssetHeldByFlow (served)")
        sources, to = VERBS[verb]
        need(tw.state in sources, "AssetInvalidTransition")
        tw.state = to

    def set_parties(self, asset: str, customer: str | None, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        tw = self.live(asset)
        need(caller == "operator", "AssetNotCustodian")
        need(tw.line is None and not tw.served and tw.state in (S.PLANNED, S.INACTIVE), "AssetHeldByFlow")
        tw.customer, tw.vendor = customer, "vendor"

    # ---- escrow -------------------------------------------------------------------------

    def issue(self, payer: str, amount: int, hold: bool, now: int) -> int:
        credited = min(self.credit[payer], amount)
        self.credit[payer] -= credited
        inv_id = len(self.invoices) + 1
        inv = Invoice(payer, amount, credited, hold, now + PAYMENT_DAYS * DAY)
        self.invoices[inv_id] = inv
        if credited == amount:
            inv.status, inv.funded_at = Status.FUNDED, now
            if not hold:
                self._release(inv)
        return inv_id

    def _release(self, inv: Invoice) -> None:
        due = inv.amount - inv.credited
        inv.status = Status.RELEASED
        self.tokens["escrow"] -= due
        self.tokens["operator"] += due
        self.paid[inv.payer] += due

    def _refund(self, inv: Invoice) -> None:
        """Funded -> Refunded, the applied credit restored."""
        self.credit[inv.payer] += inv.credited
        due = inv.amount - inv.credited
        inv.status = Status.REFUNDED
        self.tokens["escrow"] -= due
        self.tokens[inv.payer] += due

    def _void(self, inv: Invoice) -> None:
        if inv.status == Status.ISSUED:
            need(not inv.touched, "EscrowPartlySettled")
            inv.status = Status.CANCELLED
            self.credit[inv.payer] += inv.credited
        else:
            need(inv.status == Status.FUNDED, "EscrowInvalidStatus")
            self._refund(inv)

    def invoice(self, inv_id: int) -> Invoice:
        need(inv_id in self.invoices, "EscrowUnknownInvoice")
        return self.invoices[inv_id]

    def fund(self, inv_id: int, caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        inv = self.invoice(inv_id)
        need(inv.status == Status.ISSUED, "EscrowInvalidStatus")
        need(caller == inv.payer, "EscrowNotPayer")
        need(not inv.touched, "EscrowPartlySettled")
        due = inv.amount - inv.credited
        need(self.tokens[caller] >= due, "insufficient balance")
        inv.status, inv.funded_at = Status.FUNDED, now
        self.tokens[caller] -= due
        self.tokens["escrow"] += due
        if not inv.hold:
            self._release(inv)

    def release(self, inv_id: int, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        inv = self.invoice(inv_id)
        need(inv.status == Status.FUNDED, "EscrowInvalidStatus")
        need(caller == inv.payer, "EscrowNotPayer")
        self._release(inv)

    def refund(self, inv_id: int, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        inv = self.invoice(inv_id)
        need(caller == "operator", "EscrowNotPayee")
        self._void(inv)

    def reclaim(self, inv_id: int, caller: str, now: int, direct: bool) -> None:
        need(direct or caller not in OUTSIDERS, "not a member")
        inv = self.invoice(inv_id)
        need(inv.status == Status.FUNDED, "EscrowInvalidStatus")
        need(caller == inv.payer, "EscrowNotPayer")
        need(now >= inv.funded_at + WINDOW, "EscrowReclaimTooEarly")
        self._refund(inv)

    def pay_out_credit(self, payer: str, amount: int, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        # the credit is keyed (payer, payee = caller, token): only the operator is ever a payee
        available = self.credit.get(payer, 0) if caller == "operator" else 0
        need(0 < amount <= available, "EscrowInsufficientCredit")
        need(self.tokens[caller] >= amount, "insufficient balance")
        self.credit[payer] -= amount
        self.paid_out[payer] += amount
        self.tokens[caller] -= amount
        self.tokens[payer] += amount

    # ---- billing (issue 14) ----------------------------------------------------------------

    def _partial(self, inv_id: int, caller: str, direct: bool = False) -> Invoice:
        if not direct:  # an action; the escrow's direct entry points need no membership
            need(caller not in OUTSIDERS, "not a member")
        inv = self.invoice(inv_id)
        need(inv.status == Status.ISSUED, "EscrowInvalidStatus")
        need(not inv.hold, "EscrowHeld")
        return inv

    def _settle_if_done(self, inv: Invoice) -> None:
        if inv.disputed == 0 and inv.outstanding == 0:
            inv.status = Status.RELEASED  # the payments already went to the payee

    def pay(self, inv_id: int, amount: int, caller: str) -> None:
        need(caller not in OUTSIDERS, "ConstitutionNotMember")  # the action; a non-member pays directly
        inv = self._partial(inv_id, caller)
        need(caller == inv.payer, "EscrowNotPayer")
        need(0 < amount <= inv.outstanding, "EscrowAmountTooHigh")
        need(self.tokens[caller] >= amount, "insufficient balance")
        inv.paid, inv.touched = inv.paid + amount, True
        inv.settled = max(0, inv.settled - amount)  # a payment covers the settled part first
        self.tokens[caller] -= amount
        self.tokens["operator"] += amount
        self.paid[caller] += amount
        self._settle_if_done(inv)

    def pay_direct(self, inv_id: int, amount: int, caller: str, now: int) -> None:
        """EscrowPayment.pay, called directly (no membership): anyone pays from its own tokens and
        allowance; a held invoice is funded whole, any other takes part of what is outstanding;
        the payer stays the payer (a later release counts as its payment, a refund goes to it)."""
        inv = self.invoice(inv_id)
        need(inv.status == Status.ISSUED, "EscrowInvalidStatus")
        if inv.hold:
            due = inv.amount - inv.credited
            need(amount == due, "EscrowAmountTooHigh")
            need(caller in APPROVED and self.tokens[caller] >= due, "no allowance or balance")
            inv.status, inv.funded_at = Status.FUNDED, now
            self.tokens[caller] -= due
            self.tokens["escrow"] += due
            return
        need(0 < amount <= inv.outstanding, "EscrowAmountTooHigh")
        need(caller in APPROVED and self.tokens[caller] >= amount, "no allowance or balance")
        inv.paid, inv.touched = inv.paid + amount, True
        inv.settled = max(0, inv.settled - amount)  # a payment covers the settled part first
        self.tokens[caller] -= amount
        self.tokens["operator"] += amount
        self.paid[inv.payer] += amount
        self._settle_if_done(inv)

    def dispute(self, inv_id: int, amount: int, caller: str, direct: bool = False) -> int:
        """disputeInvoice (an action: a non-member payer cannot send it), or ``direct``:
        EscrowPayment.openDispute, the payer itself, no membership."""
        if not direct:
            need(caller not in OUTSIDERS, "ConstitutionNotMember")
        inv = self._partial(inv_id, caller, direct)
        need(caller == inv.payer, "EscrowNotPayer")
        need(0 < amount <= inv.outstanding, "EscrowAmountTooHigh")
        need(amount <= inv.outstanding - inv.settled, "EscrowDisputeSettled")  # a dispute ends the argument
        inv.disputed, inv.touched = inv.disputed + amount, True
        n = len(self.disputes) + 1
        self.disputes[n] = Dispute(inv_id, amount)
        return n

    def resolve(self, n: int, credit: int, caller: str) -> None:
        need(caller not in OUTSIDERS, "ConstitutionNotMember")
        need(n in self.disputes, "EscrowUnknownDispute")
        d = self.disputes[n]
        need(d.open, "EscrowDisputeClosed")
        inv = self.invoices[d.invoice]
        need(caller == "operator", "EscrowNotPayee")
        need(credit <= d.amount, "EscrowCreditTooHigh")
        d.open, d.credit = False, credit
        inv.disputed -= d.amount
        inv.written += credit
        inv.settled += d.amount - credit
        self._settle_if_done(inv)

    def request_payout(self, amount: int, caller: str, direct: bool = False) -> None:
        if not direct:  # requestCreditPayout is an action; EscrowPayment.requestPayout needs no membership
            need(caller not in OUTSIDERS, "not a member")
        available = self.credit.get(caller, 0)  # with the operator (the only payee)
        need(0 < amount <= available, "EscrowInsufficientCredit")
        self._payout(caller, amount)

    def _payout(self, payer: str, amount: int) -> None:
        """Paid at once when the operator's balance covers it (its allowance is unlimited), else recorded."""
        if self.tokens["operator"] < amount:
            return
        self.credit[payer] -= amount
        self.paid_out[payer] += amount
        self.tokens["operator"] -= amount
        self.tokens[payer] += amount

    def _accrue_recurring(self, asset: str, now: int) -> None:
        s = self.services[asset]
        if not s.start or s.billed_to == now:
            return
        amount = s.monthly * (now - s.start) // MONTH - s.monthly * (s.billed_to - s.start) // MONTH
        s.billed_to = now
        if amount:
            self._accrue(s.customer, amount)

    def accrue_recurring(self, assets: list[str], caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        need(caller == "operator", "AgreementUnauthorized")
        for asset in assets:
            s = self._known(asset)
            need(s.start != 0, "AgreementNotStarted")
            self._accrue_recurring(asset, now)

    # ---- agreement ----------------------------------------------------------------------

    def _accrue(self, customer: str, charge: int) -> None:
        self.balance[customer] += charge

    def _bill(self, customer: str, now: int) -> None:
        bal = self.balance[customer]
        if bal > 0:
            self.issue(customer, bal, False, now)
        elif bal < 0:
            self.credit[customer] += -bal
        self.balance[customer] = 0

    def _known(self, asset: str) -> Svc:
        s = self.services[asset]
        need(s.customer is not None, "AgreementUnknownService")
        return s

    def _pending(self, asset: str, expected: int) -> Svc:
        s = self._known(asset)
        need(s.pending == expected, "AgreementInvalidPending")
        return s

    def _end_service(self, asset: str) -> None:
        self.services[asset] = Svc()
        tw = self.live(asset)
        tw.customer, tw.served = None, False

    def request_installation(self, asset: str, customer: str, caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        need(caller in ("operator", customer), "AgreementUnauthorized")
        need(customer in CUSTOMERS or customer == "vendor", "AgreementInvalidCustomer / BilateralTerms")
        self._install(asset, customer, caller == "operator", TARIFF["installation"], now)

    def _install(self, asset: str, customer: str, by_operator: bool, charge: int, now: int) -> None:
        s = self.services[asset]
        need(s.pending == Pending.NONE, "AgreementDuplicateInstallation / InvalidPending")
        tw = self.twins[asset]
        holder = tw.customer or s.customer
        need(holder == customer if holder else by_operator, "AgreementNotCustomerAsset")
        need(tw.state in (S.PLANNED, S.INACTIVE, S.PENDING_INSTALLATION, S.DELIVERED), "AgreementDuplicateInstallation")
        if not tw.served:  # SetCustomer: the agreement serves this customer from now on
            twin = self.live(asset)
            twin.customer, twin.served = customer, True
        if tw.line is None and tw.state in (S.PLANNED, S.INACTIVE):
            self.move(asset, S.PENDING_INSTALLATION)
        inv_id = self.issue(customer, charge, True, now) if charge else 0  # a free installation: no invoice
        s.customer, s.pending, s.non_payment, s.charge, s.invoice = customer, Pending.INSTALLATION, False, 0, inv_id

    def confirm_installation(self, asset: str, caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        need(caller == "operator", "AgreementUnauthorized")
        s = self._pending(asset, Pending.INSTALLATION)
        inv = self.invoices.get(s.invoice)
        need(inv is None or inv.status in (Status.FUNDED, Status.RELEASED), "AgreementNotFunded")
        need(self.twins[asset].state == S.DELIVERED, "AgreementInvalidAssetState")
        self.move(asset, S.ACTIVE)
        if inv is not None and inv.status == Status.FUNDED:
            self._release(inv)
        s.pending = Pending.NONE
        s.start, s.billed_to = now, now
        if s.customer not in BILATERAL:  # a registered customer's service keeps its agreed rate (op 3)
            s.monthly = MONTHLY

    def withdraw_installation(self, asset: str, caller: str) -> None:
        """Any twin state: a twin its line holds (or a removed line already moved) stays put; the
        service ends; the money comes back whole (voided, refunded, or a credit note for a
        payment the payer released early)."""
        need(caller not in OUTSIDERS, "not a member")
        s = self._pending(asset, Pending.INSTALLATION)
        need(caller in ("operator", s.customer), "AgreementUnauthorized")
        tw = self.twins[asset]
        if tw.line is None and tw.state in (S.PENDING_INSTALLATION, S.DELIVERED):
            self.move(asset, S.PLANNED if tw.state == S.PENDING_INSTALLATION else S.RECOVERING)
        inv = self.invoices.get(s.invoice)
        if inv is None:
            pass  # a free installation
        elif inv.status in (Status.ISSUED, Status.FUNDED):
            self._void(inv)
        elif inv.status == Status.RELEASED:
            self.credit[inv.payer] += inv.amount
        self._end_service(asset)

    def order_change(self, kind: Kind, asset: str, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        s = self._known(asset)
        need(s.customer not in BILATERAL, "AgreementBilateralTerms")
        self._change(kind, asset, caller, TARIFF[kind])

    def _change(self, kind: Kind, asset: str, caller: str, charge: int) -> None:
        s = self._known(asset)
        need(caller in ("operator", s.customer), "AgreementUnauthorized")
        need(s.pending == Pending.NONE, "AgreementInvalidPending")
        s.pending, s.kind, s.charge = Pending.CHANGE, int(kind), charge
        self.move(asset, S.PENDING_CHANGE)
        self._accrue(s.customer, charge)
        if charge < 0:  # a credit the operator granted (only it may state one)
            self.granted[s.customer] -= charge

    def order_changes(self, kind: Kind, assets: list[str], caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        customer = None
        for i, asset in enumerate(assets):
            s = self.services[asset]
            if i == 0:
                need(s.customer is not None, "AgreementUnknownService")
                customer = s.customer
            need(s.customer == customer, "AgreementMixedCustomers")
            need(s.customer not in BILATERAL, "AgreementBilateralTerms")
            need(s.pending == Pending.NONE, "AgreementInvalidPending")
            s.pending, s.kind, s.charge = Pending.CHANGE, int(kind), TARIFF[kind]
        need(caller in ("operator", customer), "AgreementUnauthorized")
        for asset in assets:
            need(self.twins[asset].state == S.ACTIVE, "AssetInvalidTransition")
            self.move(asset, S.PENDING_CHANGE)
        self._accrue(customer, TARIFF[kind] * len(assets))

    def confirm_change(self, asset: str, caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        need(caller == "operator", "AgreementUnauthorized")
        s = self._pending(asset, Pending.CHANGE)
        deleted = s.kind == Kind.DELETE
        if deleted:
            self._accrue_recurring(asset, now)
        s.pending = Pending.NONE
        self.move(asset, S.INACTIVE if deleted else S.ACTIVE)
        if deleted:
            self._end_service(asset)

    def cancel_change(self, asset: str, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        s = self._pending(asset, Pending.CHANGE)
        need(caller in ("operator", s.customer), "AgreementUnauthorized")
        credit = -s.charge
        if s.charge < 0:  # the granted credit is taken back with its change
            self.granted[s.customer] += s.charge
        s.pending, s.charge = Pending.NONE, 0
        self.move(asset, S.ACTIVE)
        self._accrue(s.customer, credit)

    def order_disconnect(self, asset: str, overdue: int, caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        s = self._known(asset)
        need(s.customer not in BILATERAL, "AgreementBilateralTerms")
        self._disconnect(asset, overdue, caller, TARIFF["disconnect"], now)

    def _disconnect(self, asset: str, overdue: int, caller: str, charge: int, now: int) -> None:
        s = self._known(asset)
        non_payment = False
        if caller == s.customer:
            pass
        elif caller == "operator":
            inv = self.invoices.get(overdue)
            need(
                inv is not None
                and inv.payer == s.customer
                and inv.status == Status.ISSUED
                and now > inv.due
                and inv.outstanding > 0,  # a disputed part is not overdue
                "AgreementNotOverdue",
            )
            non_payment = True
        else:
            raise Fail("AgreementUnauthorized")
        need(s.pending == Pending.NONE, "AgreementInvalidPending")
        s.pending, s.non_payment, s.charge = Pending.DISCONNECT, non_payment, charge
        self.move(asset, S.PENDING_DISCONNECT)
        self._accrue(s.customer, charge)

    def act_for(
        self,
        op: int,
        asset: str,
        kind: Kind,
        overdue: int,
        charge: int,
        consent: str,
        nonce: int,
        caller: str,
        now: int,
    ) -> None:
        """OperatorAgreement.actFor for a registered customer (only ``retail`` here)."""
        need(caller not in OUTSIDERS, "not a member")
        customer = "retail" if op == 0 else self._known(asset).customer
        need(customer in BILATERAL, "AgreementInvalidCustomer")
        need(charge >= 0 or op == 1, "AgreementInvalidTerm")
        actor = caller
        need(op != 3 or consent != "none", "AgreementUnauthorized")  # a monthly charge: both parties
        if consent != "none":
            need(consent != "over", "AgreementChargeAboveConsent")
            need(caller == "operator", "CustomerUnauthorized")
            need(nonce not in self.nonces and consent != "replay", "CustomerConsentReplayed")
            need(consent == "valid", "CustomerConsentInvalidSignature")
            self.nonces.add(nonce)
            actor = customer
        else:
            need(caller in ("operator", customer), "AgreementUnauthorized")
        if op == 0:
            self._install(asset, customer, caller == "operator", charge, now)
        elif op == 1:
            self._change(kind, asset, actor, charge)
        elif op == 2:
            self._disconnect(asset, overdue, actor, charge, now)
        else:  # the agreed monthly charge: the old rate accrued to now, the new one from now
            s = self.services[asset]
            if s.start:
                self._accrue_recurring(asset, now)
                s.start = s.billed_to = now
            s.monthly = charge

    def act_for_bulk(self, kind: Kind, assets: list[str], charge: int, consent: str, nonce: int, caller: str) -> None:
        """OperatorAgreement.actFor op 4: a registered customer's bulk MACD order at one stated
        unit charge (its consent, if any, over the whole list)."""
        need(caller not in OUTSIDERS, "not a member")
        customer = self._known(assets[0]).customer
        need(customer in BILATERAL, "AgreementInvalidCustomer")
        if consent != "none":
            need(consent != "over", "AgreementChargeAboveConsent")
            need(caller == "operator", "CustomerUnauthorized")
            need(nonce not in self.nonces and consent != "replay", "CustomerConsentReplayed")
            need(consent == "valid", "CustomerConsentInvalidSignature")
            self.nonces.add(nonce)
        else:
            need(caller in ("operator", customer), "AgreementUnauthorized")
        for asset in assets:
            s = self.services[asset]
            need(s.customer == customer, "AgreementMixedCustomers")
            need(s.pending == Pending.NONE, "AgreementInvalidPending")
            s.pending, s.kind, s.charge = Pending.CHANGE, int(kind), charge
        for asset in assets:
            need(self.twins[asset].state == S.ACTIVE, "AssetInvalidTransition")
            self.move(asset, S.PENDING_CHANGE)
        self._accrue(customer, charge * len(assets))
        if charge < 0:  # credits the operator granted, one per asset
            self.granted[customer] -= charge * len(assets)

    def cancel_disconnect(self, asset: str, caller: str) -> None:
        need(caller not in OUTSIDERS, "not a member")
        s = self._pending(asset, Pending.DISCONNECT)
        need(caller == "operator" or (caller == s.customer and not s.non_payment), "AgreementUnauthorized")
        charge = -s.charge
        s.pending, s.non_payment, s.charge = Pending.NONE, False, 0
        self.move(asset, S.ACTIVE)
        self._accrue(s.customer, charge)

    def confirm_disconnect(self, asset: str, caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        need(caller == "operator", "AgreementUnauthorized")
        s = self._pending(asset, Pending.DISCONNECT)
        customer = s.customer
        self._accrue_recurring(asset, now)  # prorated to this second
        self.move(asset, S.INACTIVE)
        self._bill(customer, now)
        self._end_service(asset)
        if not any(x.customer == customer for x in self.services.values()) and self.credit[customer]:
            self._payout(customer, self.credit[customer])  # the final disconnect pays credit out

    def bill(self, customer: str, caller: str, now: int) -> None:
        need(caller not in OUTSIDERS, "not a member")
        need(caller == "operator", "AgreementUnauthorized")
        need(self.balance.get(customer, 0) != 0, "AgreementNothingToBill")
        self._bill(customer, now)

    # ---- orders -------------------------------------------------------------------------

    def add_line(self, asset: str, customer: str, caller: str) -> int:
        need(caller == "operator", "no grant")
        tw = self.live(asset)
        need(tw.customer in (None, customer), "AssetPartyConflict (customer)")
        need(tw.line is None, "AssetPartyConflict (line)")
        n = self.line_count + 1
        self.line_count = n
        tw.customer, tw.vendor, tw.line = customer, "vendor", n
        self.move(asset, S.PENDING_INSTALLATION)
        self.lines[n] = OLine(asset, customer)
        return n

    def deliver_line(self, n: int, caller: str) -> None:
        need(caller in ("operator", "vendor", "customer", "customer2"), "not a member")
        need(n in self.lines, "OrderLineNotFound")
        ln = self.lines[n]
        need(caller == "vendor", "OrderNotLineVendor")
        need(ln.state in ("open", "delivered") and ln.delivered == 0, "OrderLineInvalidState / OverDelivery")
        ln.delivered, ln.state = 1, "delivered"
        self.move(ln.asset, S.DELIVERED)

    def consume(self, n: int, caller: str) -> None:
        need(caller == "operator", "no grant")
        need(n in self.lines, "OrderLineNotFound")
        ln = self.lines[n]
        need(ln.state == "delivered", "OrderLineInvalidState / StockOverConsumption")
        ln.state = "completed"
        self.live(ln.asset).line = None

    def delete_line(self, n: int, caller: str) -> None:
        need(caller == "operator", "no grant")
        need(n in self.lines, "OrderLineNotFound")
        ln = self.lines[n]
        need(ln.state in ("open", "delivered"), "OrderInvalidTransition")
        ln.state = "cancelled"
        self.move(ln.asset, S.RECOVERING if ln.delivered else S.PLANNED)
        self.live(ln.asset).line = None

    # ---- the credit a customer holds ----------------------------------------------------

    def written(self, customer: str) -> int:
        """What resolved disputes wrote off the customer's invoices (the payee's grant)."""
        return sum(i.written for i in self.invoices.values() if i.payer == customer)

    def owed(self, customer: str) -> int:
        """What the customer owes the operator and has not paid: its open bills (not held: period
        bills; net of credit applied, payments and write-offs, disputed parts included) and a
        positive running balance not billed yet."""
        return max(0, self.balance[customer]) + sum(
            i.amount - i.credited - i.paid - i.written
            for i in self.invoices.values()
            if i.payer == customer and i.status == Status.ISSUED and not i.hold
        )

    def claims(self, customer: str) -> int:
        open_credit = sum(
            i.credited
            for i in self.invoices.values()
            if i.payer == customer and i.status in (Status.ISSUED, Status.FUNDED)
        )
        return max(0, -self.balance[customer]) + self.credit[customer] + open_credit


# --------------------------------------------------------------------------------------------
# The chain, read and written with web3 (ape's per-call overhead would dominate the run)
# --------------------------------------------------------------------------------------------


class Chain:
    def __init__(self, world, w3) -> None:
        self.world, self.w3 = world, w3
        self.addr = {name: acct.address for name, acct in world.roles.items()}
        self.name_of = {a.lower(): n for n, a in self.addr.items()}
        self.name_of["0x" + "00" * 20] = None

        def contract(c):
            abi = [e.model_dump(mode="json", by_alias=True) for e in c.contract_type.abi]
            return w3.eth.contract(address=c.address, abi=abi)

        self.c = contract(world.constitution)
        self.registry = contract(world.registry)
        self.escrow = contract(world.escrow)
        self.agreement = contract(world.agreement)
        self.token = contract(world.token)
        for contract_, topics in ((self.agreement, AGREEMENT_TOPICS), (self.escrow, ESCROW_TOPICS)):
            for item in contract_.abi:
                if item["type"] == "event":
                    types = ",".join(i["type"] for i in item["inputs"])
                    topics[keccak(text=f"{item['name']}({types})")] = item["name"]
        self.url = w3.provider.endpoint_uri
        self.session = requests.Session()
        self.chain_id = w3.eth.chain_id
        self.customers = world.customers.address

    def read(self, calls: dict) -> dict:
        """One JSON-RPC batch of eth_calls: key -> (to, signature, arg types, args, out types)."""
        keys = list(calls)
        batch = []
        for n, key in enumerate(keys):
            to, sig, types, args, _ = calls[key]
            data = keccak(text=sig)[:4] + encode(types, args)
            batch.append(
                {
                    "jsonrpc": "2.0",
                    "id": n,
                    "method": "eth_call",
                    "params": [{"to": to, "data": "0x" + data.hex()}, "latest"],
                }
            )
        answers = {r["id"]: r for r in self.session.post(self.url, json=batch, timeout=60).json()}
        result = {}
        for n, key in enumerate(keys):
            assert "result" in answers[n], f"read {key}: {answers[n]}"
            (value,) = decode(calls[key][4], bytes.fromhex(answers[n]["result"][2:]))
            result[key] = value
        return result

    def now(self) -> int:
        return self.w3.eth.get_block("pending")["timestamp"]

    def _tx(self, to: str, data: bytes, sender: str) -> dict:
        return {"from": self.addr[sender], "to": to, "data": "0x" + data.hex(), "gas": 8_000_000, "gasPrice": 0}

    def action_data(self, action: str, params: bytes, label: str) -> bytes:
        sel = keccak(text="executeAction(bytes32,bytes,bytes32)")[:4]
        return sel + encode(["bytes32", "bytes", "bytes32"], [action_id(action), params, keccak(text=f"ref:{label}")])

    def dry_run(self, to: str, data: bytes, sender: str, constitution: bool = True) -> tuple[str, str]:
        """('ok' | 'denied' | 'reverted', detail) of the call against the pending block."""
        try:
            out = self.w3.eth.call(self._tx(to, data, sender), "pending")
        except ContractLogicError as err:
            raw = err.data if isinstance(err.data, str) else ""
            name, _ = decode_data(bytes.fromhex(raw.removeprefix("0x"))) if raw else (str(err), {})
            return "reverted", name
        if constitution and not decode(["bool", "uint256"], out)[0]:
            return "denied", "ActionDenied"
        return "ok", ""

    def send(self, to: str, data: bytes, sender: str) -> tuple[int, list]:
        """Sends the transaction; returns its block's timestamp and its logs. The retail
        customer's wallet signs its own (a direct reclaim is the only thing it may send)."""
        if sender == "retail":
            tx = {
                **self._tx(to, data, sender),
                "nonce": self.w3.eth.get_transaction_count(RETAIL.address),
                "chainId": self.chain_id,
            }
            tx_hash = self.w3.eth.send_raw_transaction(RETAIL.sign_transaction(tx).raw_transaction)
        else:
            tx_hash = self.w3.eth.send_transaction(self._tx(to, data, sender))
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"transaction reverted after a successful dry run: {receipt}"
        return self.w3.eth.get_block(receipt["blockNumber"])["timestamp"], receipt["logs"]


ISSUED_TOPIC = keccak(text="InvoiceIssued(uint256,address,address,bytes32,address,uint256,uint256,uint64,bool,bytes32)")
AGREEMENT_TOPICS: dict[bytes, str] = {}
ESCROW_TOPICS: dict[bytes, str] = {}


def _seed(customer: str, period: int) -> bytes:
    return keccak(encode(["address", "uint32"], [customer, period]))


def _fold(digest: bytes, asset: bytes, kind: int, start: int, end: int, amount: int) -> bytes:
    types = ["bytes32", "bytes32", "uint8", "uint64", "uint64", "int256"]
    return keccak(encode(types, [digest, asset, kind, start, end, amount]))


def _line_of(name: str, ev) -> tuple | None:
    """The line item (asset, kind, from, to, amount) an agreement event tells, or None."""
    if name == "ChangeOrdered":
        return bytes(ev["assetId"]), ChargeKind.of_macd(ev["kind"]), 0, 0, ev["charge"]
    if name == "ChangesOrdered":
        return keccak(b"".join(bytes(a) for a in ev["assetIds"])), ChargeKind.of_macd(ev["kind"]), 0, 0, ev["charge"]
    if name == "ChangeCancelled":
        return bytes(ev["assetId"]), LINE_KIND[name], 0, 0, ev["credit"]
    if name in ("DisconnectOrdered", "DisconnectCancelled"):
        return bytes(ev["assetId"]), LINE_KIND[name], 0, 0, ev["charge"]
    if name == "RecurringAccrued":
        return bytes(ev["assetId"]), LINE_KIND[name], ev["from"], ev["to"], ev["amount"]
    return None


#: the lines a charge adds to the account's line count (PeriodClosed.lines): a reversal adds none
LINE_WEIGHT = {"ChangeOrdered": 1, "DisconnectOrdered": 1, "RecurringAccrued": 1, "ChangeCancelled": 0}
LINE_WEIGHT["DisconnectCancelled"] = 0


@dataclass
class Ledger:
    """The money the events told, folded from the receipts alone (not from the model): issue 14's
    "no credit without a matching charge" and "every line item traceable to an event".

    - every open operation's charge (ChangeOrdered / ChangesOrdered / DisconnectOrdered), so that a
      reversal (ChangeCancelled, DisconnectCancelled) is checked to give back exactly the charge
      of the open operation on that asset, and a confirmation closes one;
    - each customer's running account and line count, summed from the line events: every event
      carries the balance, which must be the sum so far; a bill (AccountBilled) must be that sum
      and its invoice (or credit note) that amount, PeriodClosed.lines that count;
    - each payer's credit with its payee: + CreditNoteIssued, - credit applied (InvoiceIssued
      ``credited``), + CreditRestored (exactly what that invoice had applied, once), -
      CreditPaidOut; every credit note must have its cause in the same transaction: a billed
      negative balance (the sum of traced lines) or a withdrawn installation whose invoice had
      been released (a payment given back, exactly its amount);
    - dispute write-offs: a resolution credits at most what its dispute contested, once.
    The invariants compare balance, credit and write-offs with the chain's views after every step.
    """

    open: dict[bytes, tuple[str, int]] = field(default_factory=dict)
    balance: dict[str, int] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    credit: dict[str, int] = field(default_factory=dict)
    install_invoice: dict[bytes, int] = field(default_factory=dict)
    invoices: dict[int, dict] = field(default_factory=dict)  # id -> payer, amount, credited, released, restored
    disputes: dict[int, list] = field(default_factory=dict)  # id -> [invoice, amount, resolved]
    written: dict[int, int] = field(default_factory=dict)  # invoice -> credit its disputes granted
    credits_traced: Counter = field(default_factory=Counter)  # cause -> credit notes traced to it


def _settings() -> settings:
    long = os.environ.get("HYPOTHESIS_PROFILE") == "long"
    return settings(
        max_examples=200 if long else 25,
        stateful_step_count=50 if long else 30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        # no shrinking in `make test`: a step costs a transaction; a failing run prints its steps
        phases=[Phase.explicit, Phase.generate, Phase.shrink] if long else [Phase.explicit, Phase.generate],
        print_blob=True,
        verbosity=Verbosity.verbose if os.environ.get("INV_VERBOSE") else Verbosity.normal,
    )


senders = st.sampled_from(SENDERS)
assets = st.sampled_from(ASSETS)
customers = st.sampled_from([*CUSTOMERS, *CUSTOMERS, "vendor", "operator", "stranger"])
picks = st.integers(0, 9)


def test_flows_keep_their_invariants(seeded, chain):
    world = seeded
    w3 = chain.provider.web3
    ch = Chain(world, w3)

    class FlowMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.model = Model()
            self.model.tokens = {h: ch.token.functions.balanceOf(ch.addr[h]).call() for h in HOLDERS}
            self.model.tokens["escrow"] = ch.token.functions.balanceOf(world.escrow.address).call()
            self.supply = ch.token.functions.totalSupply().call()
            self.steps = 0
            self.digests: dict[str, bytes] = {}  # per customer: the period digest folded from the events
            self.ledger = Ledger()  # the money the events told (issue 14)

        def teardown(self) -> None:
            try:
                self.every_funded_invoice_can_be_reclaimed()
            finally:
                chain.restore(self.snapshot)
                for cause, n in self.ledger.credits_traced.items():
                    TALLY[f"credit traced to: {cause}"] += n

        # ---- the step ---------------------------------------------------------------------

        def _who(self, sender: str, asset: str | None = None) -> str:
            if sender != "owner":
                return sender
            if asset is not None:
                who = self.model.twins[asset].customer or self.model.services[asset].customer or "customer"
                return "operator" if who in BILATERAL else who  # a non-member's operator acts for it
            return "customer"

        def _step(self, label: str, to: str, data: bytes, sender: str, apply, action: str | None = None):
            """Model first; then the chain must agree. Returns the model's result when accepted."""
            now = ch.now()
            trial = copy.deepcopy(self.model)
            try:
                apply(trial, now)
                refusal = None
            except Fail as err:
                refusal = str(err)
            outcome, detail = ch.dry_run(to, data, sender, constitution=action is not None)
            self.steps += 1
            verdict = f"refuses ({refusal})" if refusal else "accepts"
            note(f"  {label} by {sender}: model {verdict}, chain {outcome} {detail}")
            if refusal is not None:
                assert outcome != "ok", f"{label} by {sender}: the model refuses ({refusal}) but the chain accepts"
                event(f"{label}: refused ({detail or outcome})")
                TALLY[f"{label}: refused"] += 1
                return None
            assert outcome == "ok", f"{label} by {sender}: the model accepts but the chain {outcome}: {detail}"
            ts, logs = ch.send(to, data, sender)
            self._trace_lines(logs)
            self._trace_money(logs, sender)
            model = copy.deepcopy(self.model)
            result = apply(model, ts)
            self._moved_by_flows(action, logs, before=self.model, after=model)
            self.model = model
            event(f"{label}: done")
            TALLY[f"{label}: done"] += 1
            return result

        def _act(self, label: str, action: str, params: bytes, sender: str, apply):
            data = ch.action_data(action, params, f"{label}:{self.steps}")
            return self._step(label, world.constitution.address, data, sender, apply, action)

        def _moved_by_flows(self, action: str | None, logs: list, before: Model, after: Model) -> None:
            """Every AssetTransitioned of a twin with a customer or on an order line (before or
            after the step) comes from a transaction whose top-level action is a flow's: an
            OperatorAgreement or OrderBook action, or one of the registry verbs the design leaves
            to a customer twin's parties ({FLOW_ACTIONS}); a twin on a line moves only through
            the flows (the model refuses every raw verb on it)."""
            for log in logs:
                if log["address"].lower() != world.registry.address.lower() or log["topics"][0] != TRANSITIONED:
                    continue
                label = ASSET_OF[bytes(log["topics"][1])]
                held = [m.twins[label] for m in (before, after) if m.twins[label].customer or m.twins[label].line]
                if held:
                    assert action in FLOW_ACTIONS, f"twin {label} (held) moved by top-level action {action}"
                    TALLY["held twin moved by a flow"] += 1

        def _trace_lines(self, logs: list) -> None:
            """Folds the line items the agreement's events tell into each customer's period digest
            (issue 14): the chain's digest must be exactly that (invariant), and a closed period's
            digest is its bill's subject."""
            issued = {}
            for log in logs:
                if log["address"].lower() == world.escrow.address.lower() and log["topics"][0] == ISSUED_TOPIC:
                    ev = ch.escrow.events.InvoiceIssued().process_log(log)["args"]
                    issued[ev["payer"].lower()] = bytes(ev["subject"])
            for log in logs:
                if log["address"].lower() != world.agreement.address.lower():
                    continue
                name = AGREEMENT_TOPICS.get(bytes(log["topics"][0]))
                if name is None:
                    continue
                ev = ch.agreement.events[name]().process_log(log)["args"]
                who = ch.name_of[ev["customer"].lower()]
                if name == "InstallationRequested" and who not in self.digests:
                    self.digests[who] = _seed(ch.addr[who], 1)
                    continue
                if name == "PeriodClosed":
                    assert bytes(ev["digest"]) == self.digests[who], f"{who}: period {ev['period']} digest"
                    subject = issued.get(ch.addr[who].lower())
                    assert subject in (None, self.digests[who]), f"{who}: the bill's subject is not its digest"
                    self.digests[who] = _seed(ch.addr[who], ev["period"] + 1)
                    TALLY["period closed, digest traced"] += 1
                    continue
                line = _line_of(name, ev)
                if line is not None:
                    self.digests[who] = _fold(self.digests[who], *line)

        def _trace_money(self, logs: list, sender: str) -> None:
            """Folds one transaction's agreement and escrow events into the ledger (see Ledger),
            asserting on the way that every reversal gives back exactly an open charge, every
            event's balance is the sum of the traced lines, every credit (< 0) charge was stated
            by the operator or is the public tariff's deletion credit, every credit note has its
            cause in this transaction, and every restored credit or dispute write-off matches
            what it reverses."""
            lg = self.ledger
            billed: list[tuple[str, int, int]] = []  # (customer, balance, invoice) of AccountBilled
            withdrawn: list[tuple[str, bytes]] = []  # InstallationWithdrawn
            notes: list[tuple[str, int, bytes]] = []  # CreditNoteIssued (payer, amount, subject)
            issued: dict[int, int] = {}  # InvoiceIssued in this transaction: id -> amount
            for log in logs:
                addr = log["address"].lower()
                topic = bytes(log["topics"][0])
                if addr == world.agreement.address.lower() and topic in AGREEMENT_TOPICS:
                    name = AGREEMENT_TOPICS[topic]
                    ev = ch.agreement.events[name]().process_log(log)["args"]
                    who = ch.name_of[ev["customer"].lower()]
                    asset = bytes(ev["assetId"]) if "assetId" in ev else None
                    if name == "InstallationRequested":
                        lg.install_invoice[asset] = ev["invoiceId"]
                    elif name == "ChangeOrdered":
                        charge = ev["charge"]
                        assert asset not in lg.open, f"{name}: an operation already open on the asset"
                        if charge < 0:  # a credit: the operator's, or the public tariff's deletion credit
                            tariff_credit = ev["kind"] == Kind.DELETE and charge == TARIFF[Kind.DELETE]
                            assert sender == "operator" or (tariff_credit and who not in BILATERAL), (
                                f"a credit of {charge} stated by {sender}"
                            )
                        lg.open[asset] = ("change", charge)
                    elif name == "ChangesOrdered":
                        n = len(ev["assetIds"])
                        if who in BILATERAL:  # actFor op 4: the stated unit charge x n, a credit the operator's
                            assert ev["charge"] % n == 0, f"{name}: {ev['charge']} is not one unit charge x {n}"
                            assert ev["charge"] >= 0 or sender == "operator", f"a credit stated by {sender}"
                        else:
                            assert ev["charge"] == TARIFF[Kind(ev["kind"])] * n, f"{name}: not the tariff"
                        for a in ev["assetIds"]:
                            assert bytes(a) not in lg.open
                            lg.open[bytes(a)] = ("change", ev["charge"] // n)
                    elif name == "ChangeCancelled":
                        assert lg.open.pop(asset, None) == ("change", -ev["credit"]), (
                            f"{name}: credit {ev['credit']} without that charge open"
                        )
                        lg.credits_traced["change reversed"] += ev["credit"] < 0
                    elif name == "DisconnectOrdered":
                        assert asset not in lg.open and ev["charge"] >= 0
                        lg.open[asset] = ("disconnect", ev["charge"])
                    elif name == "DisconnectCancelled":
                        assert lg.open.pop(asset, None) == ("disconnect", -ev["charge"]), (
                            f"{name}: credit {ev['charge']} without that charge open"
                        )
                    elif name == "ChangeConfirmed":
                        assert lg.open.pop(asset, ("?", 0))[0] == "change", f"{name} without a change open"
                    elif name == "ChangesConfirmed":
                        for a in ev["assetIds"]:
                            assert lg.open.pop(bytes(a), ("?", 0))[0] == "change", f"{name} without a change open"
                    elif name == "DisconnectConfirmed":
                        assert lg.open.pop(asset, ("?", 0))[0] == "disconnect", f"{name} without one open"
                    elif name == "InstallationWithdrawn":
                        withdrawn.append((who, asset))
                    elif name == "AccountBilled":
                        assert ev["balance"] == lg.balance.get(who, 0), (
                            f"{who}: billed {ev['balance']}, the traced lines sum to {lg.balance.get(who, 0)}"
                        )
                        billed.append((who, ev["balance"], ev["invoiceId"]))
                        lg.balance[who], lg.lines[who] = 0, 0
                    elif name == "PeriodClosed":
                        assert ev["lines"] == lg.lines.get(who, 0), f"{who}: {ev['lines']} lines billed"
                    line = _line_of(name, ev)
                    if line is not None:
                        amount = line[4]
                        lg.balance[who] = lg.balance.get(who, 0) + amount
                        weight = len(ev["assetIds"]) if name == "ChangesOrdered" else LINE_WEIGHT[name]
                        lg.lines[who] = lg.lines.get(who, 0) + weight
                        assert ev["balance"] == lg.balance[who], f"{name}: balance {ev['balance']} not the lines' sum"
                elif addr == world.escrow.address.lower() and topic in ESCROW_TOPICS:
                    name = ESCROW_TOPICS[topic]
                    ev = ch.escrow.events[name]().process_log(log)["args"]
                    if name == "InvoiceIssued":
                        payer = ch.name_of[ev["payer"].lower()]
                        lg.invoices[ev["invoiceId"]] = {
                            "payer": payer,
                            "amount": ev["amount"],
                            "credited": ev["credited"],
                            "released": False,
                            "restored": False,
                        }
                        lg.credit[payer] = lg.credit.get(payer, 0) - ev["credited"]
                        issued[ev["invoiceId"]] = ev["amount"]
                    elif name == "InvoiceReleased":
                        lg.invoices[ev["invoiceId"]]["released"] = True
                    elif name == "CreditRestored":
                        inv = lg.invoices[ev["invoiceId"]]
                        assert not inv["restored"] and ev["amount"] == inv["credited"], "credit restored twice or more"
                        inv["restored"] = True
                        lg.credit[inv["payer"]] += ev["amount"]
                    elif name == "CreditNoteIssued":
                        payer = ch.name_of[ev["payer"].lower()]
                        notes.append((payer, ev["amount"], bytes(ev["subject"])))
                        lg.credit[payer] = lg.credit.get(payer, 0) + ev["amount"]
                    elif name == "CreditPaidOut":
                        payer = ch.name_of[ev["payer"].lower()]
                        lg.credit[payer] -= ev["amount"]
                    elif name == "InvoiceDisputed":
                        lg.disputes[ev["disputeId"]] = [ev["invoiceId"], ev["amount"], False]
                    elif name == "DisputeResolved":
                        d = lg.disputes[ev["disputeId"]]
                        assert not d[2] and d[0] == ev["invoiceId"] and ev["amount"] == d[1], "dispute resolved twice"
                        assert ev["credit"] <= d[1], f"a write-off of {ev['credit']} on a dispute of {d[1]}"
                        d[2] = True
                        lg.written[d[0]] = lg.written.get(d[0], 0) + ev["credit"]
                        lg.credits_traced["dispute resolved"] += ev["credit"] > 0
            # every credit note has its cause in this transaction
            for payer, amount, subject in notes:
                bill = next((b for b in billed if b[0] == payer and b[1] == -amount), None)
                if bill is not None:
                    billed.remove(bill)
                    lg.credits_traced["negative bill"] += 1
                    continue
                w = next((x for x in withdrawn if x[0] == payer and x[1] == subject), None)
                assert w is not None, f"a credit note of {amount} to {payer} with no bill or withdrawal behind it"
                withdrawn.remove(w)
                inv = lg.invoices.get(lg.install_invoice.get(subject, 0))
                assert inv is not None and inv["released"] and inv["amount"] == amount, (
                    f"withdrawal credit {amount}: not the released installation invoice {inv}"
                )
                inv["released"] = False  # given back once
                lg.credits_traced["payment given back"] += 1
            for who, balance, invoice_id in billed:  # a positive bill: its invoice is exactly the lines' sum
                assert balance > 0 and issued.get(invoice_id) == balance, f"{who}: bill {balance}, invoice {issued}"

        def _invoice(self, pick: int) -> int:
            ids = sorted(self.model.invoices)
            open_ = [i for i in ids if self.model.invoices[i].status in (Status.ISSUED, Status.FUNDED)]
            if pick < 6 and open_:
                return open_[pick % len(open_)]
            if pick < 9 and ids:
                return ids[pick % len(ids)]
            return len(ids) + 1  # unknown

        # ---- installation ---------------------------------------------------------------

        @rule(
            asset=assets,
            customer=customers,
            sender=st.sampled_from(["operator", "operator", "customer", "customer2", "vendor", "stranger"]),
        )
        def request_installation(self, asset, customer, sender):
            params = encode(["bytes32", "address", "bytes32"], [asset_id(asset), ch.addr[customer], ZERO32])
            self._act(
                "requestInstallation",
                "requestInstallation",
                params,
                sender,
                lambda m, now: m.request_installation(asset, customer, sender, now),
            )

        @rule(pick=picks, sender=senders)
        def fund(self, pick, sender):
            inv = self._invoice(pick)
            who = (
                self.model.invoices[inv].payer
                if sender == "owner" and inv in self.model.invoices
                else self._who(sender)
            )
            self._act(
                "fundInvoice", "fundInvoice", encode(["uint256"], [inv]), who, lambda m, now: m.fund(inv, who, now)
            )

        @rule(
            asset=assets, sender=st.sampled_from(["vendor", "vendor", "operator", "customer", "customer2", "stranger"])
        )
        def deliver(self, asset, sender):
            self.raw_verb("deliver", asset, sender)

        @rule(asset=assets, sender=senders)
        def confirm_installation(self, asset, sender):
            who = self._who(sender, asset)
            self._act(
                "confirmInstallation",
                "confirmInstallation",
                encode(["bytes32", "bytes32"], [asset_id(asset), ZERO32]),
                who,
                lambda m, now: m.confirm_installation(asset, who, now),
            )

        @rule(asset=assets, sender=senders)
        def withdraw_installation(self, asset, sender):
            who = self._who(sender, asset)
            self._act(
                "withdrawInstallation",
                "withdrawInstallation",
                encode(["bytes32", "bytes32"], [asset_id(asset), ZERO32]),
                who,
                lambda m, now: m.withdraw_installation(asset, who),
            )

        @rule(
            asset=assets,
            customer=st.sampled_from(CUSTOMERS),
            confirm_by=st.sampled_from(["operator", "operator", "customer"]),
        )
        def install(self, asset, customer, confirm_by):
            """The whole installation flow, step by step (random rules rarely chain it)."""
            self.request_installation(asset, customer, "operator")
            svc = self.model.services[asset]
            if svc.pending != Pending.INSTALLATION or svc.invoice not in self.model.invoices:
                return
            inv = self.model.invoices[svc.invoice]
            if inv.status == Status.ISSUED:
                self._act(
                    "fundInvoice",
                    "fundInvoice",
                    encode(["uint256"], [svc.invoice]),
                    inv.payer,
                    lambda m, now: m.fund(svc.invoice, inv.payer, now),
                )
            if self.model.twins[asset].state == S.PENDING_INSTALLATION and self.model.twins[asset].line is None:
                self.raw_verb("deliver", asset, "vendor")
            self.confirm_installation(asset, confirm_by)

        # ---- walks along the flows (random rules alone rarely go deep) -------------------------

        def _advance(self, asset: str, pick: int) -> None:
            """One legitimate next step for the twin, from the model (the chain must agree)."""
            m = self.model
            tw, svc = m.twins[asset], m.services[asset]
            owner = svc.customer or tw.customer or CUSTOMERS[pick % 2]
            options, later = [], []  # forward steps first (taken most of the time), then the others
            if svc.pending == Pending.INSTALLATION:
                inv = m.invoices.get(svc.invoice)
                if inv is not None and inv.status == Status.ISSUED:
                    options.append(lambda: self.fund(sorted(m.invoices).index(svc.invoice) % 10, "owner"))
                if tw.state == S.PENDING_INSTALLATION and tw.line is None:
                    options.append(lambda: self.raw_verb("deliver", asset, "vendor"))
                if tw.state == S.DELIVERED:
                    options.append(lambda: self.confirm_installation(asset, "operator"))
                later.append(lambda: self.withdraw_installation(asset, "owner"))
            elif svc.pending == Pending.CHANGE:
                options += [lambda: self.confirm_change(asset, "operator"), lambda: self.cancel_change(asset, "owner")]
            elif svc.pending == Pending.DISCONNECT:
                options += [
                    lambda: self.confirm_disconnect(asset, "operator"),
                    lambda: self.cancel_disconnect(asset, "owner"),
                ]
            elif tw.state == S.ACTIVE and svc.customer in BILATERAL:
                kind = list(Kind)[pick % len(Kind)]
                options += [
                    lambda: self.act_for(1, asset, kind, pick, pick, "valid", "operator"),
                    lambda: self.act_for(2, asset, kind, 0, pick, "valid", "operator"),
                ]
                if not self.model.services[asset].monthly:  # the agreed monthly charge, once
                    options.insert(0, lambda: self.act_for(3, asset, kind, 0, pick | 1, "valid", "operator"))
            elif tw.state == S.ACTIVE and svc.customer:
                kind = list(Kind)[pick % len(Kind)]
                options += [
                    lambda: self.order_change(kind, asset, "owner"),
                    lambda: self.order_changes(
                        kind, [a for a in ASSETS if m.services[a].customer == svc.customer], "operator"
                    ),
                    lambda: self.order_disconnect(asset, 0, "owner"),
                ]
            elif tw.state in (S.PLANNED, S.INACTIVE, S.PENDING_INSTALLATION, S.DELIVERED):
                options += [
                    lambda: self.request_installation(asset, owner, "operator"),
                    lambda: self.request_installation(asset, owner, owner),
                ]
                if pick in (3, 4) and tw.customer is None:  # rarely: the retail customer takes it
                    options.insert(0, lambda: self.act_for(0, asset, Kind.MOVE, 0, pick, "valid", "operator"))
                if tw.state in (S.PLANNED, S.INACTIVE) and tw.line is None:
                    options.append(lambda: self.add_line(asset, owner, "operator"))
            if tw.line is not None:
                ln = m.lines[tw.line]
                n = tw.line
                if ln.delivered == 0:
                    options.append(lambda: self._line_step("deliverLine", n, "vendor"))
                else:
                    options.append(lambda: self._line_step("consumeStock", n, "operator"))
                later.append(lambda: self._line_step("reviseOrder", n, "operator"))
            if tw.state in (S.PLANNED, S.INACTIVE) and tw.line is None and pick in (7, 8, 9):
                other = CUSTOMERS[(CUSTOMERS.index(owner) + 1) % 2] if owner in CUSTOMERS else "customer"
                options.append(lambda: self.set_parties(asset, other, "operator"))
            if tw.state == S.INACTIVE and svc.customer is None and tw.customer is None:
                options.append(lambda: self.raw_verb("recover", asset, "operator"))
            if tw.state == S.RECOVERING and pick == 0:  # rarely: a decommissioned twin is out of play
                options.append(lambda: self.raw_verb("decommission", asset, "operator"))
            funded = [i for i, v in sorted(m.invoices.items()) if v.status == Status.FUNDED]
            if funded:
                inv_id = funded[pick % len(funded)]
                payer = m.invoices[inv_id].payer
                options.append(lambda: self._release(inv_id, payer))
                if pick >= 9:

                    def travel_and_reclaim():
                        if ch.now() < m.invoices[inv_id].funded_at + WINDOW:
                            self.time_travel(31)
                        self._reclaim(inv_id, payer, direct=self.steps % 2 == 0)

                    options.append(travel_and_reclaim)
            credit = [c for c in PAYERS if m.credit[c]]
            if credit:
                c = credit[0]
                options.append(lambda: self.pay_out_credit(c, min(m.credit[c], m.tokens["operator"]) or 1, "operator"))
            if any(m.balance[c] < 0 for c in PAYERS) or (any(m.balance[c] for c in PAYERS) and pick % 5 == 0):
                # a credit is billed into a credit note (then applied to invoices or paid out)
                options.append(lambda: self.bill(next(c for c in PAYERS if m.balance[c]), "operator"))
            if any(i.status == Status.ISSUED and not i.hold for i in m.invoices.values()):
                first = next(i for i, v in sorted(m.invoices.items()) if v.status == Status.ISSUED and not v.hold)
                options.append(
                    lambda: self._act(
                        "fundInvoice",
                        "fundInvoice",
                        encode(["uint256"], [first]),
                        m.invoices[first].payer,
                        lambda mm, now: mm.fund(first, m.invoices[first].payer, now),
                    )
                )
            partial = [i for i, v in sorted(m.invoices.items()) if v.status == Status.ISSUED and not v.hold]
            if partial and pick in (3, 4, 5, 10, 11):
                inv_id = partial[pick % len(partial)]
                owed = m.invoices[inv_id].outstanding
                if owed and pick in (3, 10):
                    options.insert(0, lambda: self.pay_invoice(partial.index(inv_id), min(owed, 7 * UNIT), "owner"))
                if owed and pick in (4, 11):
                    options.insert(0, lambda: self.dispute(partial.index(inv_id), min(owed, 10 * UNIT), "owner"))
            if any(d.open for d in m.disputes.values()) and pick == 5:
                options.insert(0, lambda: self.resolve(0, 1, "operator"))
            if tw.state == S.ACTIVE and svc.start and pick == 2:
                options.insert(0, lambda: self.accrue_recurring([asset], "operator"))
            options += later
            if options:
                (options[0] if pick < 6 else options[pick % len(options)])()

        def _line_step(self, action: str, n: int, sender: str) -> None:
            """deliverLine / consumeStock / reviseOrder (delete) on line ``n``."""
            if action == "deliverLine":
                params = encode(["bytes32", "uint32", "bytes32"], [line_id(n), 1, ZERO32])
                self._act(action, action, params, sender, lambda m, now: m.deliver_line(n, sender))
            elif action == "consumeStock":
                params = encode(
                    ["bytes32", "address", "bytes16", "uint32", "bytes32"],
                    [line_id(n), ch.addr["vendor"], SKU, 1, ZERO32],
                )
                self._act(action, action, params, sender, lambda m, now: m.consume(n, sender))
            else:
                customer = self.model.lines[n].customer if n in self.model.lines else "customer"
                change = (2, (line_id(n), ZERO32, ZERO32, "0x" + "00" * 20, b"\x00" * 16, 0, 1))  # Delete
                params = encode(
                    ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"],
                    [order_id(customer), [], [change], ZERO32],
                )
                self._act(
                    "reviseOrder (delete line)", "reviseOrder", params, sender, lambda m, now: m.delete_line(n, sender)
                )

        def walk(self, asset, steps):
            for pick in steps:
                self._advance(asset, pick)

        # Hypothesis has no rule weights: several copies make walks about a third of the steps
        def _walk_copy(name):
            def walk_copy(self, asset, steps):
                self.walk(asset, steps)

            walk_copy.__name__ = walk_copy.__qualname__ = name
            return rule(asset=assets, steps=st.lists(st.integers(0, 11), min_size=1, max_size=5))(walk_copy)

        for _i in range(WALKS):
            locals()[f"walk_{_i}"] = _walk_copy(f"walk_{_i}")
        del _i

        # ---- MACD -----------------------------------------------------------------------

        @rule(kind=st.sampled_from(list(Kind)), asset=assets, sender=senders)
        def order_change(self, kind, asset, sender):
            who = self._who(sender, asset)
            params = encode(["uint8", "bytes32", "bytes32"], [int(kind), asset_id(asset), ZERO32])
            self._act("orderChange", "orderChange", params, who, lambda m, now: m.order_change(kind, asset, who))

        @rule(kind=st.sampled_from(list(Kind)), batch=st.lists(assets, min_size=1, max_size=3), sender=senders)
        def order_changes(self, kind, batch, sender):
            who = self._who(sender, batch[0])
            params = encode(["uint8", "bytes32[]", "bytes32"], [int(kind), [asset_id(a) for a in batch], ZERO32])
            self._act("orderChanges", "orderChanges", params, who, lambda m, now: m.order_changes(kind, batch, who))

        @rule(asset=assets, sender=senders)
        def confirm_change(self, asset, sender):
            who = self._who(sender, asset)
            self._act(
                "confirmChange",
                "confirmChange",
                encode(["bytes32", "bytes32"], [asset_id(asset), ZERO32]),
                who,
                lambda m, now: m.confirm_change(asset, who, now),
            )

        @rule(asset=assets, sender=senders)
        def cancel_change(self, asset, sender):
            who = self._who(sender, asset)
            self._act(
                "cancelChange",
                "cancelChange",
                encode(["bytes32", "bytes32"], [asset_id(asset), ZERO32]),
                who,
                lambda m, now: m.cancel_change(asset, who),
            )

        # ---- registered (bilateral) customers: actFor (issue 14) ------------------------------

        @rule(
            op=st.sampled_from([0, 1, 1, 2, 3]),
            asset=assets,
            kind=st.sampled_from(list(Kind)),
            pick=picks,
            consent=st.sampled_from(CONSENTS),
            sender=st.sampled_from(["operator", "operator", "operator", "customer", "vendor", "stranger"]),
        )
        def act_for_rule(self, op, asset, kind, pick, consent, sender):
            self.act_for(op, asset, kind, pick, pick, consent, sender)

        def act_for(self, op: int, asset: str, kind: Kind, pick: int, charge_pick: int, consent: str, sender: str):
            """actFor: a charge stated from a small set (credits for MACD), with or without the
            retail customer's consent (valid, another key, a spent nonce, a ceiling too low)."""
            charge = [0, 3 * UNIT, 45 * UNIT, -7 * UNIT][charge_pick % 4]
            if op != 1:
                charge = abs(charge) if charge_pick % 5 else -1  # sometimes a negative one: refused
            customer = "retail" if op == 0 else (self.model.services[asset].customer or "retail")
            overdue = self._invoice(pick) if op == 2 and consent == "none" else 0
            if op == 0:
                inner = encode(["bytes32", "address", "bytes32"], [asset_id(asset), ch.addr["retail"], ZERO32])
                action, k = "requestInstallation", 0
            elif op == 1:
                inner = encode(["uint8", "bytes32", "bytes32"], [int(kind), asset_id(asset), ZERO32])
                action, k = "orderChange", int(kind)
            elif op == 2:
                inner = encode(["bytes32", "uint256", "bytes32"], [asset_id(asset), overdue, ZERO32])
                action, k = "orderDisconnect", 0
            else:
                inner = encode(["bytes32"], [asset_id(asset)])
                action, k = "recurringCharge", 0
            spent = sorted(self.model.nonces)
            nonce = spent[0] if consent == "replay" and spent else self.steps + 1000 * (pick + 1)
            if consent == "replay" and not spent:
                consent = "valid"
            max_charge = charge - 1 if consent == "over" else charge
            sig = b""
            if consent != "none":
                c = Consent(
                    ch.addr["retail"], ch.addr["operator"], action, asset_id(asset), k, max_charge, nonce, 2**40
                )
                sig = sign_consent(c, OTHER_KEY if consent == "wrong_key" else RETAIL, ch.chain_id, ch.customers)
                if customer != "retail":
                    consent = "wrong_key"  # the consent names retail, the asset's customer is someone else
            params = encode(
                ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"],
                [op, inner, charge, max_charge, nonce, 2**40 if sig else 0, sig],
            )
            self._act(
                f"actFor/{action}/{'consent' if sig else 'own'}",
                "actFor",
                params,
                sender,
                lambda m, now: m.act_for(op, asset, kind, overdue, charge, consent, nonce, sender, now),
            )

        @rule(
            kind=st.sampled_from(list(Kind)),
            batch=st.lists(assets, min_size=1, max_size=3, unique=True),
            pick=picks,
            consent=st.sampled_from(CONSENTS),
            sender=st.sampled_from(["operator", "operator", "operator", "customer", "vendor", "stranger"]),
        )
        def act_for_bulk(self, kind, batch, pick, consent, sender):
            """actFor op 4: one kind on a list, a unit charge from a small set (a credit too), with
            or without the retail customer's consent over the list."""
            charge = [0, 3 * UNIT, 45 * UNIT, -7 * UNIT][pick % 4]
            customer = self.model.services[batch[0]].customer or "retail"
            spent = sorted(self.model.nonces)
            nonce = spent[0] if consent == "replay" and spent else self.steps + 1000 * (pick + 1)
            if consent == "replay" and not spent:
                consent = "valid"
            max_charge = charge - 1 if consent == "over" else charge
            ids = [asset_id(a) for a in batch]
            sig = b""
            if consent != "none":
                subject = keccak(b"".join(ids))
                c = Consent(
                    ch.addr["retail"], ch.addr["operator"], "orderChanges", subject, int(kind), max_charge, nonce, 2**40
                )
                sig = sign_consent(c, OTHER_KEY if consent == "wrong_key" else RETAIL, ch.chain_id, ch.customers)
                if customer != "retail":
                    consent = "wrong_key"  # the consent names retail, the list's customer is someone else
            inner = encode(["uint8", "bytes32[]", "bytes32"], [int(kind), ids, ZERO32])
            params = encode(
                ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"],
                [4, inner, charge, max_charge, nonce, 2**40 if sig else 0, sig],
            )
            self._act(
                f"actFor/orderChanges/{'consent' if sig else 'own'}",
                "actFor",
                params,
                sender,
                lambda m, now: m.act_for_bulk(kind, batch, charge, consent, nonce, sender),
            )

        # ---- disconnect -------------------------------------------------------------------

        @rule(asset=assets, pick=picks, sender=senders)
        def order_disconnect(self, asset, pick, sender):
            who = self._who(sender, asset)
            inv = self._invoice(pick) if who == "operator" else 0
            params = encode(["bytes32", "uint256", "bytes32"], [asset_id(asset), inv, ZERO32])
            self._act(
                "orderDisconnect",
                "orderDisconnect",
                params,
                who,
                lambda m, now: m.order_disconnect(asset, inv, who, now),
            )

        @rule(asset=assets, sender=senders)
        def cancel_disconnect(self, asset, sender):
            who = self._who(sender, asset)
            self._act(
                "cancelDisconnect",
                "cancelDisconnect",
                encode(["bytes32", "bytes32"], [asset_id(asset), ZERO32]),
                who,
                lambda m, now: m.cancel_disconnect(asset, who),
            )

        @rule(asset=assets, sender=senders)
        def confirm_disconnect(self, asset, sender):
            who = self._who(sender, asset)
            self._act(
                "confirmDisconnect",
                "confirmDisconnect",
                encode(["bytes32", "bytes32"], [asset_id(asset), ZERO32]),
                who,
                lambda m, now: m.confirm_disconnect(asset, who, now),
            )

        @rule(
            customer=st.sampled_from(CUSTOMERS),
            sender=st.sampled_from(["operator", "operator", "customer", "stranger"]),
        )
        def bill(self, customer, sender):
            params = encode(["address", "bytes32"], [ch.addr[customer], ZERO32])
            self._act("billAccount", "billAccount", params, sender, lambda m, now: m.bill(customer, sender, now))

        # ---- escrow -----------------------------------------------------------------------

        @rule(pick=picks, sender=senders)
        def release(self, pick, sender):
            inv = self._invoice(pick)
            who = (
                self.model.invoices[inv].payer
                if sender == "owner" and inv in self.model.invoices
                else self._who(sender)
            )
            self._release(inv, who)

        def _release(self, inv: int, who: str) -> None:
            self._act(
                "releaseInvoice", "releaseInvoice", encode(["uint256"], [inv]), who, lambda m, now: m.release(inv, who)
            )

        @rule(pick=picks, sender=st.sampled_from(["operator", "customer", "customer2", "stranger"]))
        def refund(self, pick, sender):
            inv = self._invoice(pick)
            self._act(
                "refundInvoice",
                "refundInvoice",
                encode(["uint256"], [inv]),
                sender,
                lambda m, now: m.refund(inv, sender),
            )

        @rule(pick=picks, sender=senders, direct=st.booleans())
        def reclaim(self, pick, sender, direct):
            inv = self._invoice(pick)
            who = (
                self.model.invoices[inv].payer
                if sender == "owner" and inv in self.model.invoices
                else self._who(sender)
            )
            self._reclaim(inv, who, direct)

        def _reclaim(self, inv: int, who: str, direct: bool) -> None:
            apply = lambda m, now: m.reclaim(inv, who, now, direct)  # noqa: E731
            if direct:
                data = ch.escrow.functions.reclaim(inv)._encode_transaction_data()
                self._step("reclaim (direct)", world.escrow.address, bytes.fromhex(data[2:]), who, apply)
            else:
                self._act("reclaimInvoice", "reclaimInvoice", encode(["uint256"], [inv]), who, apply)

        @rule(
            customer=st.sampled_from(CUSTOMERS),
            amount=st.sampled_from([1 * UNIT, 20 * UNIT, 100 * UNIT, 5_000 * UNIT]),
            sender=st.sampled_from(["operator", "operator", "customer", "vendor"]),
        )
        def pay_out_credit(self, customer, amount, sender):
            params = encode(["address", "address", "uint256"], [ch.addr[customer], world.token.address, amount])
            self._act(
                "payOutCredit",
                "payOutCredit",
                params,
                sender,
                lambda m, now: m.pay_out_credit(customer, amount, sender),
            )

        @rule(days=st.sampled_from([1, 7, 15, 31]))
        def time_travel(self, days):
            w3.provider.make_request("evm_increaseTime", [days * DAY])
            w3.provider.make_request("evm_mine", [])

        # ---- billing (issue 14) -------------------------------------------------------------

        @rule(pick=picks, amount=st.sampled_from([1, 7 * UNIT, 40 * UNIT, 10_000 * UNIT]), sender=senders)
        def pay_invoice(self, pick, amount, sender):
            inv = self._bill_invoice(pick)
            who = self._payer_or(inv, sender)
            params = encode(["uint256", "uint256"], [inv, amount])
            self._act("payInvoice", "payInvoice", params, who, lambda m, now: m.pay(inv, amount, who))

        @rule(
            pick=picks,
            amount=st.sampled_from([None, None, 1, 7 * UNIT, 10_000 * UNIT]),
            sender=st.sampled_from(["retail", "retail", "owner", "customer", "stranger"]),
        )
        def pay_direct(self, pick, amount, sender):
            """EscrowPayment.pay(invoice, amount) sent directly — by the retail wallet (not a
            member: its bills), the invoice's payer, another customer or the stranger; None: the
            whole (the net of a held invoice, else what is outstanding)."""
            inv = self._invoice(pick)
            known = self.model.invoices.get(inv)
            who = (known.payer if known else "stranger") if sender == "owner" else sender
            if amount is None:
                amount = (known.amount - known.credited if known.hold else known.outstanding) if known else 1
            data = ch.escrow.functions.pay(inv, amount)._encode_transaction_data()
            self._step(
                "pay (direct)",
                world.escrow.address,
                bytes.fromhex(data[2:]),
                who,
                lambda m, now: m.pay_direct(inv, amount, who, now),
            )

        @rule(pick=picks, amount=st.sampled_from([1, 10 * UNIT, 50 * UNIT, 10_000 * UNIT]), sender=senders)
        def dispute(self, pick, amount, sender):
            inv = self._bill_invoice(pick)
            who = self._payer_or(inv, sender)
            params = encode(["uint256", "uint256", "bytes32", "bytes32"], [inv, amount, ZERO32, keccak(text="why")])
            self._act("disputeInvoice", "disputeInvoice", params, who, lambda m, now: m.dispute(inv, amount, who))

        @rule(
            pick=picks,
            share=st.sampled_from([0, 1, 2]),
            sender=st.sampled_from(["operator", "operator", "customer", "vendor", "stranger"]),
        )
        def resolve(self, pick, share, sender):
            open_ = [n for n, d in sorted(self.model.disputes.items()) if d.open]
            n = open_[pick % len(open_)] if open_ and pick < 8 else len(self.model.disputes) + (pick % 2)
            amount = self.model.disputes[n].amount if n in self.model.disputes else UNIT
            credit = (0, amount // 2, amount)[share] + (1 if pick == 9 else 0)  # pick 9: one unit too many
            params = encode(["uint256", "uint256"], [n, credit])
            self._act("resolveDispute", "resolveDispute", params, sender, lambda m, now: m.resolve(n, credit, sender))

        @rule(amount=st.sampled_from([1, 5 * UNIT, 10_000 * UNIT]), sender=senders)
        def request_payout(self, amount, sender):
            who = self._who(sender)
            params = encode(["address", "address", "uint256"], [ch.addr["operator"], world.token.address, amount])
            self._act(
                "requestCreditPayout", "requestCreditPayout", params, who, lambda m, now: m.request_payout(amount, who)
            )

        @rule(
            pick=picks,
            amount=st.sampled_from([1, 10 * UNIT, 10_000 * UNIT]),
            sender=st.sampled_from(["owner", "owner", "retail", "customer", "operator", "stranger"]),
        )
        def dispute_direct(self, pick, amount, sender):
            """EscrowPayment.openDispute sent directly: the payer itself (the retail wallet on its
            bills), or anyone else (refused)."""
            inv = self._bill_invoice(pick)
            who = self._payer_or(inv, sender)
            call = ch.escrow.functions.openDispute(inv, amount, ZERO32, keccak(text="why"))
            data = bytes.fromhex(call._encode_transaction_data()[2:])
            apply = lambda m, now: m.dispute(inv, amount, who, True)  # noqa: E731
            self._step("openDispute (direct)", world.escrow.address, data, who, apply)

        @rule(
            amount=st.sampled_from([1, 5 * UNIT, 10_000 * UNIT]),
            sender=st.sampled_from(["retail", "retail", "customer", "stranger"]),
        )
        def request_payout_direct(self, amount, sender):
            """EscrowPayment.requestPayout sent directly: its own credit with the operator."""
            call = ch.escrow.functions.requestPayout(ch.addr["operator"], world.token.address, amount)
            data = bytes.fromhex(call._encode_transaction_data()[2:])
            self._step(
                "requestPayout (direct)",
                world.escrow.address,
                data,
                sender,
                lambda m, now: m.request_payout(amount, sender, True),
            )

        @rule(
            batch=st.lists(assets, min_size=1, max_size=3), sender=st.sampled_from(["operator", "operator", "customer"])
        )
        def accrue_recurring(self, batch, sender):
            params = encode(["bytes32[]"], [[asset_id(a) for a in batch]])
            self._act(
                "accrueRecurring",
                "accrueRecurring",
                params,
                sender,
                lambda m, now: m.accrue_recurring(batch, sender, now),
            )

        def _bill_invoice(self, pick: int) -> int:
            """Mostly an Issued invoice that is not held (a period's bill: the partial path), else any."""
            bills = [i for i, v in sorted(self.model.invoices.items()) if v.status == Status.ISSUED and not v.hold]
            return bills[pick % len(bills)] if bills and pick < 7 else self._invoice(pick)

        def _payer_or(self, inv: int, sender: str) -> str:
            if sender == "owner":  # the invoice's payer; an unknown invoice has none: a stranger asks
                return self.model.invoices[inv].payer if inv in self.model.invoices else "stranger"
            return self._who(sender)

        # ---- the registry's own verbs -------------------------------------------------------

        @rule(verb=st.sampled_from(sorted(VERBS)), asset=assets, sender=senders)
        def raw_verb(self, verb, asset, sender):
            who = self._who(sender, asset)
            self._act(
                verb,
                verb,
                encode(["bytes32", "bytes32"], [asset_id(asset), ZERO32]),
                who,
                lambda m, now: m.raw_verb(verb, asset, who),
            )

        @rule(
            asset=assets,
            customer=st.sampled_from([None, *CUSTOMERS]),
            sender=st.sampled_from(["operator", "operator", "customer", "vendor"]),
        )
        def set_parties(self, asset, customer, sender):
            cust = ch.addr[customer] if customer else "0x" + "00" * 20
            params = encode(
                ["bytes32", "address", "address", "bytes32"], [asset_id(asset), cust, ch.addr["vendor"], ZERO32]
            )
            self._act("setParties", "setParties", params, sender, lambda m, now: m.set_parties(asset, customer, sender))

        # ---- order lines holding twins ------------------------------------------------------

        @rule(
            asset=assets,
            customer=st.sampled_from(CUSTOMERS),
            sender=st.sampled_from(["operator", "operator", "operator", "customer"]),
        )
        def add_line(self, asset, customer, sender):
            n = self.model.line_count + 1
            spec = (line_id(n), service_id(customer), asset_id(asset), ch.addr["vendor"], SKU, 1, 1)
            params = encode(["bytes32", LINE_SPEC, "bytes32"], [order_id(customer), spec, ZERO32])
            self._act(
                "addDeviceLine", "addDeviceLine", params, sender, lambda m, now: m.add_line(asset, customer, sender)
            )

        def _line(self, pick: int) -> int:
            n = self.model.line_count
            return (pick % n) + 1 if n and pick < 9 else n + 1

        @rule(pick=picks, sender=st.sampled_from(["vendor", "vendor", "operator", "customer", "stranger"]))
        def deliver_line(self, pick, sender):
            self._line_step("deliverLine", self._line(pick), sender)

        @rule(pick=picks, sender=st.sampled_from(["operator", "operator", "vendor"]))
        def consume(self, pick, sender):
            self._line_step("consumeStock", self._line(pick), sender)

        @rule(pick=picks, sender=st.sampled_from(["operator", "operator", "customer"]))
        def delete_line(self, pick, sender):
            self._line_step("reviseOrder", self._line(pick), sender)

        # ---- invariants (one batched read of the chain per step) ----------------------------

        def _read(self) -> dict:
            m, addr = self.model, ch.addr
            calls = {
                ("bal", h): (world.token.address, "balanceOf(address)", ["address"], [addr[h]], ["uint256"])
                for h in HOLDERS
            }
            calls["bal", "escrow"] = (
                world.token.address,
                "balanceOf(address)",
                ["address"],
                [world.escrow.address],
                ["uint256"],
            )
            calls["supply"] = (world.token.address, "totalSupply()", [], [], ["uint256"])
            calls["count"] = (world.escrow.address, "invoiceCount()", [], [], ["uint256"])
            for i in m.invoices:
                calls["inv", i] = (world.escrow.address, "invoice(uint256)", ["uint256"], [i], [INVOICE_VIEW])
                calls["at", i] = (world.escrow.address, "reclaimableAt(uint256)", ["uint256"], [i], ["uint64"])
            for a in ASSETS:
                calls["twin", a] = (
                    world.registry.address,
                    "getAsset(bytes32)",
                    ["bytes32"],
                    [asset_id(a)],
                    [ASSET_VIEW],
                )
                calls["svc", a] = (
                    world.agreement.address,
                    "serviceOf(bytes32)",
                    ["bytes32"],
                    [asset_id(a)],
                    [SERVICE_VIEW],
                )
            for i in m.invoices:
                calls["billing", i] = (
                    world.escrow.address,
                    "billingOf(uint256)",
                    ["uint256"],
                    [i],
                    [BILLING_VIEW],
                )
                calls["disputable", i] = (
                    world.escrow.address,
                    "disputableOf(uint256)",
                    ["uint256"],
                    [i],
                    ["(uint256,uint256)"],
                )
            for c in PAYERS:
                calls["digest", c] = (
                    world.agreement.address,
                    "linesDigest(address)",
                    ["address"],
                    [addr[c]],
                    ["bytes32"],
                )
                calls["acc", c] = (
                    world.agreement.address,
                    "accountOf(address)",
                    ["address"],
                    [addr[c]],
                    [ACCOUNT_VIEW],
                )
                calls["credit", c] = (
                    world.escrow.address,
                    "creditOf(address,address,address)",
                    ["address"] * 3,
                    [addr[c], addr["operator"], world.token.address],
                    ["uint256"],
                )
            return ch.read(calls)

        @invariant()
        def invariants(self):
            v = self._read()
            self.tokens_are_conserved(v)
            self.invoices_match(v)
            self.twins_moved_only_by_flows(v)
            self.agreement_matches(v)
            self.credit_never_exceeds_what_was_paid(v)
            self.billing_matches(v)
            self.every_line_item_is_traced_to_an_event(v)
            self.no_credit_without_a_matching_charge(v)

        def billing_matches(self, v):
            """Partial payments, disputes and their credits are the model's; an invoice's net amount
            is exactly paid + written off + disputed + outstanding; no credit without a dispute
            (a charge contested) that granted it."""
            m = self.model
            for inv_id, inv in m.invoices.items():
                paid, disputed, written, outstanding = v["billing", inv_id][:4]
                if not inv.touched:
                    continue
                assert (paid, disputed, written) == (inv.paid, inv.disputed, inv.written), f"invoice {inv_id} billing"
                disputable, settled = v["disputable", inv_id]
                assert settled == inv.settled, f"invoice {inv_id} settled"
                if inv.status == Status.ISSUED:
                    assert outstanding == inv.outstanding, f"invoice {inv_id} outstanding"
                    expected = 0 if inv.hold else inv.outstanding - inv.settled
                    assert disputable == expected, f"invoice {inv_id} disputable"
                    assert paid + written + disputed + outstanding == inv.amount - inv.credited
                granted = sum(d.credit for d in m.disputes.values() if d.invoice == inv_id and not d.open)
                assert written == granted, f"invoice {inv_id}: credit {written} without a dispute granting it"
                assert inv.disputed == sum(d.amount for d in m.disputes.values() if d.invoice == inv_id and d.open)

        def every_line_item_is_traced_to_an_event(self, v):
            """The chain's period digest is the fold of the line events (a bill's subject too, checked
            in _trace_lines), and its running account is their sum (each event's balance and each
            bill's amount and line count, checked in _trace_money)."""
            for c in PAYERS:
                assert bytes(v["digest", c]) == self.digests.get(c, ZERO32), f"{c}: a charge not told by an event"
                assert v["acc", c][0] == self.ledger.balance.get(c, 0), f"{c}: running account not its traced lines"

        def no_credit_without_a_matching_charge(self, v):
            """Every unit of credit a payer holds is one the events traced to its cause (a billed
            negative balance of traced lines — reversals matched to their charges, credits the
            operator stated —, a released payment given back at a withdrawal), less what was
            applied to invoices (restored at most once) and paid out; every write-off is one a
            resolved dispute granted (at most what it contested)."""
            lg = self.ledger
            for c in PAYERS:
                assert v["credit", c] == lg.credit.get(c, 0), f"{c}: credit {v['credit', c]}, traced {lg.credit.get(c)}"
            for inv_id in self.model.invoices:
                written = v["billing", inv_id][2]
                assert written == lg.written.get(inv_id, 0), f"invoice {inv_id}: written off {written} untraced"

        def tokens_are_conserved(self, v):
            m = self.model
            held = {h: v["bal", h] for h in (*HOLDERS, "escrow")}
            assert sum(held.values()) == self.supply == v["supply"]
            assert held == m.tokens
            escrowed = sum(i.amount - i.credited for i in m.invoices.values() if i.status == Status.FUNDED)
            assert held["escrow"] == escrowed

        def invoices_match(self, v):
            assert v["count"] == len(self.model.invoices)
            for inv_id, inv in self.model.invoices.items():
                view = v["inv", inv_id]
                # InvoiceView: id payer payee token amount credited dueDate fundedAt status hold subject ref
                assert (ch.name_of[view[1].lower()], view[4], view[5], Status(view[8]), view[9]) == (
                    inv.payer,
                    inv.amount,
                    inv.credited,
                    inv.status,
                    inv.hold,
                ), f"invoice {inv_id}"
                at = v["at", inv_id]
                if inv.status == Status.FUNDED:
                    assert inv.hold, f"invoice {inv_id} funded but not held: nothing to reclaim"
                    assert at == inv.funded_at + WINDOW == view[7] + WINDOW, f"invoice {inv_id}: no exit"
                else:
                    assert at == 0

        def twins_moved_only_by_flows(self, v):
            for a in ASSETS:
                t = v["twin", a]
                tw = self.model.twins[a]
                got = (S(t[0]), ch.name_of[t[CUSTOMER].lower()], ch.name_of[t[VENDOR].lower()], t[ON_LINE])
                assert got == (tw.state, tw.customer, tw.vendor, tw.line is not None), f"twin {a}"

        def agreement_matches(self, v):
            for a in ASSETS:
                sv = v["svc", a]
                s = self.model.services[a]
                # ServiceView: customer installInvoice pendingDelete nonPayment pending kind charge
                expected = (s.customer, s.pending, s.charge, s.non_payment)
                assert (ch.name_of[sv[0].lower()], sv[4], sv[6], sv[3]) == expected, f"service {a}"
                if s.pending == Pending.CHANGE:
                    assert sv[5] == s.kind
                if s.customer is not None:
                    assert sv[1] == s.invoice
                    # a served twin is its customer's in the registry too
                    reg_customer = ch.name_of[v["twin", a][CUSTOMER].lower()]
                    assert reg_customer == s.customer, (
                        f"twin {a}: registry customer {reg_customer}, service's {s.customer}"
                    )

        def credit_never_exceeds_what_was_paid(self, v):
            """A payer's credit (negative balance + credit notes + credit applied to open invoices)
            never exceeds what it paid and was not paid back, plus what its operator granted (the
            credits it stated: negative charges still standing, and dispute write-offs), plus what
            it owes and has not paid yet: a charge reversed after its bill is a credit while the
            bill stays owed; a granted credit billed into a credit note and then taken back (its
            change cancelled) leaves the note and a positive balance owed. For every payer — a
            registered customer's charges are stated per request by its operator (under the
            customer's consent), and a credit among them is one the operator stated, so the same
            bound holds (issue 14)."""
            m = self.model
            for c in PAYERS:
                assert v["acc", c][0] == m.balance[c], f"account of {c}"
                assert v["credit", c] == m.credit[c], f"credit notes of {c}"
                bound = m.paid[c] - m.paid_out[c] + m.granted[c] + m.written(c) + m.owed(c)
                assert m.claims(c) <= bound, f"{c} holds {m.claims(c)} of credit, more than {bound}"

        def every_funded_invoice_can_be_reclaimed(self):
            funded = [i for i, inv in self.model.invoices.items() if inv.status == Status.FUNDED]
            if not funded:
                return
            w3.provider.make_request("evm_increaseTime", [WINDOW + DAY])
            w3.provider.make_request("evm_mine", [])
            for inv_id in funded:
                payer = self.model.invoices[inv_id].payer
                data = ch.escrow.functions.reclaim(inv_id)._encode_transaction_data()
                outcome, detail = ch.dry_run(world.escrow.address, bytes.fromhex(data[2:]), payer, constitution=False)
                assert outcome == "ok", f"invoice {inv_id}: its payer {payer} cannot reclaim it ({detail})"
                event("exit checked")

    TALLY.clear()
    run_state_machine_as_test(FlowMachine, settings=_settings())
    print("\n".join(f"{n:5d}  {k}" for k, n in sorted(TALLY.items())))
