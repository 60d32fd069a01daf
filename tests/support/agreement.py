"""The OperatorAgreement / EscrowPayment tests' world and helpers (tests/contracts/agreement).

The consortium (tests/support/worlds/agreement.yaml): a Constitution, the AssetRegistry, the
OrderBook, the CustomerRegistry, the EscrowPayment, the OperatorAgreement, the VendorSettlement,
a SettlementToken (6 decimals), and a MockModule (``callInternal`` lets the tests issue arbitrary
invoices through the escrow's Internal actions); plus a MaliciousToken.

- ``operator``: registers assets, requests/confirms installations, changes, disconnects;
- ``vendor``: delivers devices; holds no agreement permission;
- ``customer`` and ``customer2``: enterprise customers;
- ``stranger``: not a member.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from telcochain.agreement import TERMS_TYPE, InvoiceStatus, MacdKind  # noqa: F401  (TERMS_TYPE: for the tests)
from telcochain.assets import AssetState
from telcochain.consortium import ConsortiumConfig

from tests.support.dryrun import execute_action
from tests.support.dryrun import send as _send
from tests.support.encoding import ZERO32, action_id, asset_id, details, ref
from tests.support.worlds import check_roles, deploy_world, granted, load_world

DAY = 86_400
UNIT = 10**6  # the settlement token has 6 decimals
WINDOW = 30 * DAY  # escrow confirmation window
PAYMENT_DAYS = 14


# The Solidity enums, as the SDK mirrors them (tests/toolchain/test_rules.py)
Status = InvoiceStatus
Kind = MacdKind


#: The tariff: installation, disconnect and each MACD kind (a delete credits the customer; a
#: kind without its own figure here, e.g. a new one, costs 40). The worlds' ``agreement.tariff``
#: is laid over from it (:func:`tariff_entries`).
_MACD_TARIFF = {Kind.MOVE: 50 * UNIT, Kind.ADD: 80 * UNIT, Kind.CHANGE: 30 * UNIT, Kind.DELETE: -20 * UNIT}
TARIFF = {
    "installation": 1_000 * UNIT,
    **{k: _MACD_TARIFF.get(k, 40 * UNIT) for k in Kind},
    "disconnect": 100 * UNIT,
}


def terms_tuple(token, payment_days=PAYMENT_DAYS, tariff=TARIFF) -> tuple:
    """``IOperatorAgreement.Terms`` (the SDK's ``TERMS_TYPE``)."""
    address = token if isinstance(token, str) else token.address
    return (address, payment_days, tariff["installation"], tariff["disconnect"], [tariff[k] for k in Kind])


def tariff_entries(tariff=TARIFF) -> dict[str, str]:
    """``tariff`` as a consortium file's ``agreement.tariff`` (whole token units by kind label)."""
    return {(k.label if isinstance(k, Kind) else k): str(Decimal(v) / UNIT) for k, v in tariff.items()}


#: The world's members by role (tests/support/worlds/agreement.yaml); ``stranger`` is not a member.
MEMBERS = {
    "operator": "Northwind Telecom",
    "vendor": "Acme Networks",
    "customer": "Initech Enterprise",
    "customer2": "Globex Corp",
}
#: OperatorAgreement actions -> roles granted (the contract itself checks who, among them, may act on what)
AGREEMENT_PERMISSIONS: dict[str, tuple[str, ...]] = granted("agreement", MEMBERS, "OperatorAgreement")
#: The EscrowPayment's public actions (granted to every member: the escrow checks payer and payee)
ESCROW_PUBLIC = tuple(granted("agreement", MEMBERS, "EscrowPayment"))


def _addr(a) -> str:
    return a if isinstance(a, str) else a.address


# --------------------------------------------------------------------------------------------
# Dry runs against the pending block (tests/support/dryrun.py)
# --------------------------------------------------------------------------------------------


def send(method, *args, sender):
    """:func:`tests.support.dryrun.send` against the pending block: the agreement's checks read the clock."""
    return _send(method, *args, sender=sender, block="pending")


# --------------------------------------------------------------------------------------------
# The consortium under test
# --------------------------------------------------------------------------------------------


@dataclass
class Deal:
    """Everything deployed, with shortcuts that send the actions as the SDK will."""

    constitution: Any
    registry: Any
    escrow: Any
    agreement: Any
    token: Any
    evil: Any
    mock: Any
    roles: dict[str, Any]
    vendors: Any = None
    orders: Any = None
    customers: Any = None  # the CustomerRegistry (registered customers, consents, price lists)

    def __getattr__(self, name):
        if name in self.__dict__.get("roles", {}):
            return self.roles[name]
        raise AttributeError(name)

    def act(self, action: str, params: bytes, sender=None, ref_: bytes | None = None):
        sender = sender or self.roles["operator"]
        return execute_action(self.constitution, action, params, sender=sender, ref_=ref_, block="pending")

    # --- registry
    def register(self, label: str, serial: bool = True, vendor: bool = True, customer=None):
        """Registers the twin (the operator is its custodian); names the vendor (who may deliver
        it) and, if given, the customer it is planned for."""
        a = asset_id(label)
        params = encode(
            ["bytes32", "bytes12", "bytes32", "bytes32", "bytes32", "bytes32"],
            [
                a,
                b"ONT".ljust(12, b"\x00"),
                keccak(text=f"serial:{label}") if serial else ZERO32,
                ZERO32,
                ZERO32,
                ZERO32,
            ],
        )
        self.act("register", params, ref_=ref(f"reg:{label}"))
        if vendor or customer is not None:
            self.set_parties(label, customer=customer, vendor=self.vendor if vendor else None)
        return a

    def set_parties(self, label: str, customer=None, vendor=None, sender=None):
        zero = "0x" + "00" * 20
        params = encode(
            ["bytes32", "address", "address", "bytes32"],
            [asset_id(label), _addr(customer) if customer else zero, _addr(vendor) if vendor else zero, ZERO32],
        )
        return self.act("setParties", params, sender=sender, ref_=ref(f"parties:{label}:{_addr(customer or zero)}"))

    def deliver(self, label: str):
        return self.act("deliver", encode(["bytes32", "bytes32"], [asset_id(label), ZERO32]), sender=self.vendor)

    def state(self, label: str) -> AssetState:
        return AssetState(self.registry.stateOf(asset_id(label)))

    # --- agreement
    def request_installation(self, label: str, customer=None, sender=None, **kw):
        cust = _addr(customer or self.customer)
        params = encode(["bytes32", "address", "bytes32"], [asset_id(label), cust, details(f"install:{label}")])
        return self.act("requestInstallation", params, sender=sender, **kw)

    def confirm_installation(self, label: str, sender=None, **kw):
        return self.act("confirmInstallation", encode(["bytes32", "bytes32"], [asset_id(label), ZERO32]), sender, **kw)

    def withdraw_installation(self, label: str, sender=None, **kw):
        return self.act("withdrawInstallation", encode(["bytes32", "bytes32"], [asset_id(label), ZERO32]), sender, **kw)

    def order_change(self, kind: Kind, label: str, sender=None, **kw):
        params = encode(["uint8", "bytes32", "bytes32"], [int(kind), asset_id(label), details("macd")])
        return self.act("orderChange", params, sender, **kw)

    def order_changes(self, kind: Kind, labels, sender=None, **kw):
        params = encode(["uint8", "bytes32[]", "bytes32"], [int(kind), [asset_id(x) for x in labels], details("macd")])
        return self.act("orderChanges", params, sender, **kw)

    def confirm_change(self, label: str, sender=None, **kw):
        return self.act("confirmChange", encode(["bytes32", "bytes32"], [asset_id(label), ZERO32]), sender, **kw)

    def confirm_changes(self, deletions: bool, labels, sender=None, **kw):
        params = encode(["bool", "bytes32[]", "bytes32"], [deletions, [asset_id(x) for x in labels], ZERO32])
        return self.act("confirmChanges", params, sender, **kw)

    def order_disconnect(self, label: str, invoice_id: int = 0, sender=None, **kw):
        params = encode(["bytes32", "uint256", "bytes32"], [asset_id(label), invoice_id, ZERO32])
        return self.act("orderDisconnect", params, sender or self.customer, **kw)

    def cancel_disconnect(self, label: str, sender=None, **kw):
        return self.act("cancelDisconnect", encode(["bytes32", "bytes32"], [asset_id(label), ZERO32]), sender, **kw)

    def confirm_disconnect(self, label: str, sender=None, **kw):
        return self.act("confirmDisconnect", encode(["bytes32", "bytes32"], [asset_id(label), ZERO32]), sender, **kw)

    def bill(self, customer=None, sender=None, **kw):
        params = encode(["address", "bytes32"], [_addr(customer or self.customer), ZERO32])
        return self.act("billAccount", params, sender, **kw)

    # --- escrow
    def fund(self, invoice_id: int, sender=None, **kw):
        return self.act("fundInvoice", encode(["uint256"], [invoice_id]), sender or self.customer, **kw)

    def release(self, invoice_id: int, sender=None, **kw):
        return self.act("releaseInvoice", encode(["uint256"], [invoice_id]), sender or self.customer, **kw)

    def refund(self, invoice_id: int, sender=None, **kw):
        return self.act("refundInvoice", encode(["uint256"], [invoice_id]), sender or self.operator, **kw)

    def reclaim(self, invoice_id: int, sender=None, **kw):
        return self.act("reclaimInvoice", encode(["uint256"], [invoice_id]), sender or self.customer, **kw)

    def cancel_change(self, label: str, sender=None, **kw):
        return self.act("cancelChange", encode(["bytes32", "bytes32"], [asset_id(label), ZERO32]), sender, **kw)

    def pay_out_credit(self, payer, amount: int, token=None, sender=None, **kw):
        params = encode(["address", "address", "uint256"], [_addr(payer), _addr(token or self.token), amount])
        return self.act("payOutCredit", params, sender or self.operator, **kw)

    def issue_direct(self, token, amount: int, hold: bool = True, payer=None, due_in: int = DAY):
        """An invoice issued through MockModule.callInternal (any token, e.g. the malicious one)."""
        from ape import chain

        due = chain.pending_timestamp + due_in
        inner = encode(
            ["address", "address", "address", "uint256", "uint64", "bool", "bytes32"],
            [_addr(payer or self.customer), self.operator.address, _addr(token), amount, due, hold, ZERO32],
        )
        params = encode(["bytes32", "bytes"], [action_id("issueInvoice"), inner])
        self.act("callInternal", params)
        return self.escrow.invoiceCount()

    # --- billing (issue 14)
    def pay(self, invoice_id: int, amount: int, sender=None, **kw):
        params = encode(["uint256", "uint256"], [invoice_id, amount])
        return self.act("payInvoice", params, sender or self.customer, **kw)

    def instalments(self, invoice_id: int, count: int, interval: int, sender=None, **kw):
        params = encode(["uint256", "uint8", "uint32"], [invoice_id, count, interval])
        return self.act("setInstalments", params, sender or self.operator, **kw)

    def dispute(
        self, invoice_id: int, amount: int, line: bytes = ZERO32, reason: bytes | None = None, sender=None, **kw
    ):
        params = encode(
            ["uint256", "uint256", "bytes32", "bytes32"], [invoice_id, amount, line, reason or keccak(text="reason")]
        )
        return self.act("disputeInvoice", params, sender or self.customer, **kw)

    def resolve(self, dispute_id: int, credit: int, sender=None, **kw):
        params = encode(["uint256", "uint256"], [dispute_id, credit])
        return self.act("resolveDispute", params, sender or self.operator, **kw)

    def request_payout(self, amount: int, payee=None, token=None, sender=None, **kw):
        params = encode(
            ["address", "address", "uint256"], [_addr(payee or self.operator), _addr(token or self.token), amount]
        )
        return self.act("requestCreditPayout", params, sender or self.customer, **kw)

    def accrue(self, labels, sender=None, **kw):
        params = encode(["bytes32[]"], [[asset_id(x) for x in labels]])
        return self.act("accrueRecurring", params, sender, **kw)

    def set_monthly(self, monthly: int):
        """Proposes setMonthlyCharge (operator) and votes it through (customer)."""
        from tests.support.dryrun import named

        r = self.act("setMonthlyCharge", encode(["uint256"], [monthly]))
        pid = named(r, "ProposalOpened")[0].proposalId
        self.constitution.voteFor(pid, True, ref(f"monthly:{monthly}"), sender=self.customer)

    def status(self, invoice_id: int) -> Status:
        return Status(self.escrow.statusOf(invoice_id))

    def balances(self, token=None) -> dict[str, int]:
        t = token or self.token
        out = {name: t.balanceOf(self.roles[name]) for name in ("operator", "customer", "customer2", "vendor")}
        out["escrow"] = t.balanceOf(self.escrow)
        return out

    def installed_many(self, labels: list[str], chunk: int = 20) -> list[int]:
        """:meth:`installed` for every label, each step sent as ``executeBatch`` calls of
        ``chunk`` actions (one transaction per role, step and chunk instead of six per twin);
        any call of a batch that is denied or reverts fails the helper."""
        self._batched(self.register, labels, chunk)
        self._batched(self.request_installation, labels, chunk)
        invoices = [self.agreement.serviceOf(asset_id(x)).installInvoice for x in labels]
        self._batched(self.fund, invoices, chunk)
        self._batched(self.deliver, labels, chunk)
        self._batched(self.confirm_installation, labels, chunk)
        assert [self.state(x) for x in labels] == [AssetState.ACTIVE] * len(labels)
        return invoices

    def _batched(self, step, items, chunk: int) -> None:
        """Runs ``step(item)`` for each item, collecting its :meth:`act` calls instead of sending
        them, then sends them per sender in ``executeBatch`` chunks."""
        calls: list[tuple[Any, str, bytes, bytes]] = []

        def collect(action: str, params: bytes, sender=None, ref_: bytes | None = None):
            calls.append((sender or self.roles["operator"], action, params, ref_ if ref_ is not None else ref(action)))

        self.act = collect  # type: ignore[method-assign]
        try:
            for item in items:
                step(item)
        finally:
            del self.act
        by_sender: dict[str, list[tuple[bytes, bytes, bytes]]] = {}
        senders = {}
        for sender, action, params, ref_ in calls:
            by_sender.setdefault(_addr(sender), []).append((action_id(action), params, ref_))
            senders[_addr(sender)] = sender
        for address, batch in by_sender.items():
            for i in range(0, len(batch), chunk):
                receipt = self.constitution.executeBatch(batch[i : i + chunk], sender=senders[address])
                failed = [
                    log.event_name for log in receipt.events if log.event_name in ("ActionReverted", "ActionDenied")
                ]
                assert not failed, f"a batched call failed: {failed}"

    def installed(self, label: str, customer=None) -> int:
        """An asset registered, requested, funded, delivered and confirmed: Active. Returns its
        (released) invoice id."""
        self.register(label)
        self.request_installation(label, customer=customer)
        invoice_id = self.agreement.serviceOf(asset_id(label)).installInvoice
        self.fund(invoice_id, sender=customer or self.customer)
        self.deliver(label)
        self.confirm_installation(label)
        return invoice_id


def check_terms(config: ConsortiumConfig, token) -> None:
    """A world's ``agreement:`` is what the tests compute with: TARIFF, PAYMENT_DAYS and WINDOW."""
    agreement = config.agreement
    assert agreement is not None, f"{config.path}: no agreement section"
    assert agreement.terms(token.address) == terms_tuple(token), (
        f"{config.path}: its terms are not TARIFF / PAYMENT_DAYS"
    )
    assert agreement.confirmation_window == WINDOW, f"{config.path}: confirmation_window is not WINDOW"


def deploy_deal(deployer, roles) -> Deal:
    """The world of tests/support/worlds/agreement.yaml, deployed through scripts/deploy.py
    (token, escrow, agreement, vendor settlement from its ``agreement:``; genesis sealed), then
    what the tests add: a MaliciousToken minted to the customers, and the escrow approved by the
    customers (both tokens) and the operator (it pays vendors and credit out)."""
    from ape import project

    config = load_world("agreement", agreement={"tariff": tariff_entries()})
    check_roles(config, MEMBERS, roles)
    world = deploy_world(config, deployer)
    token, escrow = world.contracts["SettlementToken"], world.contracts["EscrowPayment"]
    check_terms(config, token)
    evil = project.MaliciousToken.deploy(sender=deployer)
    for who in ("customer", "customer2"):
        token.approve(escrow, 2**256 - 1, sender=roles[who])
        evil.mint(roles[who], 100_000 * UNIT, sender=deployer)
        evil.approve(escrow, 2**256 - 1, sender=roles[who])
    token.approve(escrow, 2**256 - 1, sender=roles["operator"])  # pays vendors and credit out
    contracts = world.contracts
    return Deal(
        world.constitution,
        contracts["AssetRegistry"],
        escrow,
        contracts["OperatorAgreement"],
        token,
        evil,
        contracts["MockModule"],
        roles,
        contracts["VendorSettlement"],
        contracts["OrderBook"],
        contracts["CustomerRegistry"],
    )
