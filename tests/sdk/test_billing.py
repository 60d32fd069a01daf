"""Billing and vendor settlement through the SDK (issue 14 part B) against the example
consortium: a recurring charge prorated to the second at disconnect with the bill verified from
its line items, partial payment then dispute then resolution, a vendor paid on delivery with a
return credited; a customer that is not a member disputing its bill and taking its credit out
from its own wallet (the escrow's direct entry points). Token balances to the unit; their sum
never moves."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak
from telcochain import Client
from telcochain.agreement import InvoiceStatus, MacdKind
from telcochain.billing import MONTH, ChargeKind, DisputeStatus
from telcochain.errors import (
    ConfigurationError,
    EscrowAmountTooHigh,
    EscrowDisputeSettled,
    EscrowInsufficientCredit,
    EscrowNotPayee,
    EscrowNotPayer,
    VendorOverInvoiced,
)
from telcochain.orders import DeviceLine

from .test_agreement import ACME, CUSTOMER, DAY, OPERATOR, TSD, Ledger, advance, install
from .test_customers import twin

MONTHLY = 29 * TSD + 3


@pytest.fixture
def team(local_node, deployment_path, dev_accounts):
    return [Client.connect(local_node.rpc_url, a, deployment=deployment_path) for a in dev_accounts[:4]]


def timestamp(client: Client, receipt) -> int:
    block = client.rpc.call("eth_getBlockByNumber", [hex(receipt.block_number), False])
    return int(block["timestamp"], 16)


def test_recurring_charge_prorated_at_disconnect_and_the_bill_verified(team):
    op, customer = team[OPERATOR], team[CUSTOMER]
    opened = op.agreement.propose_monthly_charge(MONTHLY)
    customer.constitution.vote(opened.proposal_id, approve=True)
    assert op.agreement.monthly_charge(customer.address) == MONTHLY
    ledger = Ledger(team)
    install(team, "ONT-R1")
    rec = op.agreement.recurring("ONT-R1")
    assert rec.monthly == MONTHLY and rec.start == rec.billed_to and rec.accrued == 0

    advance(op, 10 * DAY + 4_321)
    customer.agreement.request_disconnect("ONT-R1")
    final = op.agreement.confirm_disconnect("ONT-R1")
    end = timestamp(op, final.result.receipt)
    recurring = MONTHLY * (end - rec.start) // MONTH
    invoice = op.escrow.invoice(final.invoice_id)
    assert invoice.amount == recurring + op.agreement.terms().disconnect
    lines = op.agreement.line_items(invoice)
    assert [(x.kind, x.amount) for x in lines] == [
        (ChargeKind.DISCONNECT, op.agreement.terms().disconnect),
        (ChargeKind.RECURRING, recurring),
    ]
    assert (lines[1].start, lines[1].end) == (rec.start, end)  # to the second
    verdict = customer.agreement.verify_bill(invoice)
    assert verdict.ok and verdict.expected == invoice.subject
    customer.escrow.pay(final.invoice_id)
    assert customer.escrow.invoice(final.invoice_id).status is InvoiceStatus.RELEASED
    moved = ledger.moved()
    installation = op.agreement.terms().installation
    assert moved["customer"] == -(installation + invoice.amount) == -moved["operator"]
    assert op.agreement.service_count(customer.address) == 0


def test_partial_payment_then_dispute_then_resolution(team):
    op, customer = team[OPERATOR], team[CUSTOMER]
    install(team, "ONT-P1")
    ledger = Ledger(team)
    terms = op.agreement.terms()
    op.agreement.request_change(MacdKind.MOVE, "ONT-P1")
    op.agreement.confirm_change("ONT-P1")
    op.agreement.request_change(MacdKind.ADD, "ONT-P1")
    op.agreement.confirm_change("ONT-P1")
    bill = op.agreement.bill(customer.address)
    invoice = customer.escrow.invoice(bill.invoice_id)
    total = terms.tariff("move") + terms.tariff("add")
    assert invoice.amount == total
    lines = customer.agreement.line_items(invoice)
    assert [x.kind for x in lines] == [ChargeKind.MOVE, ChargeKind.ADD]

    customer.escrow.pay(invoice.id, 10 * TSD)
    disputed = customer.escrow.dispute(
        invoice.id, terms.tariff("add"), line=lines[1].ref, reason="the add was never done"
    )
    assert disputed.status is DisputeStatus.OPEN and disputed.line == lines[1].ref
    figures = customer.escrow.billing(invoice.id)
    assert (figures.paid, figures.disputed, figures.outstanding) == (
        10 * TSD,
        terms.tariff("add"),
        total - 10 * TSD - terms.tariff("add"),
    )
    with pytest.raises(EscrowAmountTooHigh):
        customer.escrow.pay(invoice.id, figures.outstanding + 1)
    advance(op, 40 * DAY)  # past the due date: only the undisputed rest is overdue
    assert customer.escrow.overdue_amount(invoice.id) == figures.outstanding
    customer.escrow.pay(invoice.id)  # the rest of the undisputed part
    assert not customer.escrow.is_overdue(invoice.id)
    with pytest.raises(EscrowNotPayee):
        customer.escrow.resolve(disputed.id, 0)
    credit = terms.tariff("add") // 4
    op.escrow.resolve(disputed.id, credit)
    assert op.escrow.dispute_of(disputed.id).status is DisputeStatus.RESOLVED
    # the rejected part is settled: neither path disputes it again, refused before sending
    settled = terms.tariff("add") - credit
    assert customer.escrow.disputable(invoice.id) == (0, settled)
    assert customer.escrow.billing(invoice.id).outstanding == settled
    nonce = sent_count(customer)
    for direct in (False, True):
        with pytest.raises(EscrowDisputeSettled) as refused:
            customer.escrow.dispute(invoice.id, settled, reason="still never done", direct=direct)
        assert refused.value.error_args == {
            "invoiceId": invoice.id,
            "amount": settled,
            "disputable": 0,
            "settled": settled,
        }
        assert "\n" not in str(refused.value) and str(settled) in str(refused.value)
    assert sent_count(customer) == nonce
    assert [d.id for d in op.escrow.disputes(invoice.id)] == [disputed.id]
    customer.escrow.pay(invoice.id)  # the part of the dispute not credited
    assert customer.escrow.invoice(invoice.id).status is InvoiceStatus.RELEASED
    assert customer.escrow.receipt(invoice.id).amount == total - credit
    moved = ledger.moved()
    assert moved["customer"] == -(total - credit) == -moved["operator"]


SELF_SERVICE = Account.from_key(keccak(text="sdk retail wallet that disputes"))  # no node, no membership
OTHER_WALLET = Account.from_key(keccak(text="sdk another retail wallet"))


def sent_count(client: Client) -> int:
    return int(client.rpc.call("eth_getTransactionCount", [client.address, "latest"]), 16)


def test_a_non_member_disputes_its_bill_and_takes_its_credit_out_itself(team, local_node, deployment_path):
    """client.escrow.dispute / request_credit_payout from a wallet that is not a member take the
    escrow's direct entry points by themselves (openDispute, requestPayout); checked before
    anything is sent (amount, payer); the operator resolves the dispute as usual. To the unit."""
    op, customer = team[OPERATOR], team[CUSTOMER]
    her = Client.connect(local_node.rpc_url, SELF_SERVICE, deployment=deployment_path)
    other = Client.connect(local_node.rpc_url, OTHER_WALLET, deployment=deployment_path)
    op.customers.add(SELF_SERVICE.address, signer=SELF_SERVICE.address)
    customer.escrow.token().transact("transfer", SELF_SERVICE.address, 500 * TSD)
    token = her.escrow.token()
    twin(team, "ONT-SD1")
    ask = op.customers.request_consent("requestInstallation", "ONT-SD1", customer=SELF_SERVICE.address)
    op.customers.request_installation(
        "ONT-SD1", SELF_SERVICE.address, 0, consent=ask, signature=op.customers.sign(ask, SELF_SERVICE)
    )
    team[ACME].assets.deliver("ONT-SD1")
    op.agreement.confirm_installation("ONT-SD1")
    for kind, charge in (("move", 30 * TSD), ("add", 15 * TSD)):
        c = op.customers.request_consent("orderChange", "ONT-SD1", kind=kind, max_charge=charge)
        op.customers.order_change(kind, "ONT-SD1", charge, consent=c, signature=op.customers.sign(c, SELF_SERVICE))
        op.agreement.confirm_change("ONT-SD1")
    bill = op.agreement.bill(SELF_SERVICE.address)
    invoice = her.escrow.invoice(bill.invoice_id)
    lines = her.agreement.line_items(invoice)
    assert invoice.amount == 45 * TSD and [x.amount for x in lines] == [30 * TSD, 15 * TSD]
    start = {a: int(token.call("balanceOf", a)) for a in (SELF_SERVICE.address, op.address)}

    her.escrow.pay_direct(invoice.id, 10 * TSD)
    nonce = sent_count(her)
    with pytest.raises(EscrowAmountTooHigh):  # more than the undisputed outstanding 35
        her.escrow.dispute(invoice.id, 35 * TSD + 1, reason="too much")
    with pytest.raises(ConfigurationError):  # encrypted details need the DetailsVault (members)
        her.escrow.dispute(invoice.id, 15 * TSD, reason="x", details={"note": "y"})
    with pytest.raises(EscrowNotPayer):
        other.escrow.dispute(invoice.id, 1, reason="not mine")
    assert sent_count(her) == nonce and sent_count(other) == 0  # refused before sending
    opened = her.escrow.dispute(invoice.id, 15 * TSD, line=lines[1].ref, reason="the add was never done")
    assert (opened.status, opened.line, opened.amount) == (DisputeStatus.OPEN, lines[1].ref, 15 * TSD)
    figures = her.escrow.billing(invoice.id)
    assert (figures.paid, figures.disputed, figures.outstanding) == (10 * TSD, 15 * TSD, 20 * TSD)
    op.escrow.resolve(opened.id, 6 * TSD)  # 6 credited, 9 owed again
    her.escrow.pay_direct(invoice.id)
    assert her.escrow.invoice(invoice.id).status is InvoiceStatus.RELEASED
    assert her.escrow.receipt(invoice.id).amount == 39 * TSD

    # a credit the operator states on its own (a change credited), billed as a credit note
    op.customers.order_change("change", "ONT-SD1", -8 * TSD)
    op.agreement.confirm_change("ONT-SD1")
    op.agreement.bill(SELF_SERVICE.address)
    assert her.escrow.credit(SELF_SERVICE.address, op.address) == 8 * TSD
    nonce = sent_count(her)
    with pytest.raises(EscrowInsufficientCredit):
        her.escrow.request_credit_payout(op.address, 8 * TSD + 1)
    with pytest.raises(EscrowInsufficientCredit):
        other.escrow.request_credit_payout(op.address, 1)  # no credit of its own
    assert sent_count(her) == nonce
    op.escrow.token().transact("approve", op.escrow.contract.address, 5 * TSD)
    paid = her.escrow.request_credit_payout(op.address, 5 * TSD)  # paid at once from the allowance
    assert [e["amount"] for e in paid.events if e.name == "CreditPaidOut"] == [5 * TSD]
    asked = her.escrow.request_credit_payout(op.address, 3 * TSD)  # the allowance is spent: recorded
    assert [e["paid"] for e in asked.events if e.name == "CreditPayoutRequested"] == [False]
    assert her.escrow.payout_requested(SELF_SERVICE.address, op.address) == 3 * TSD
    op.escrow.pay_out_credit(SELF_SERVICE.address, 3 * TSD)
    assert her.escrow.credit(SELF_SERVICE.address, op.address) == 0
    end = {a: int(token.call("balanceOf", a)) for a in (SELF_SERVICE.address, op.address)}
    assert start[SELF_SERVICE.address] - end[SELF_SERVICE.address] == 39 * TSD - 8 * TSD
    assert end[op.address] - start[op.address] == 39 * TSD - 8 * TSD


def test_vendor_paid_on_delivery_and_a_return_credited(team):
    op, acme = team[OPERATOR], team[ACME]
    price = 45 * TSD + 5
    opened = op.vendors.propose_terms(acme.address, "ONT-V", price, payment_days=30)
    for voter in (team[ACME], team[2]):  # margin all: Acme and Globex too
        voter.constitution.vote(opened.proposal_id, approve=True)
    assert op.vendors.terms(acme.address, "ONT-V").unit_price == price
    op.orders.create_project("PRJ-V", team[CUSTOMER].address)
    op.orders.create_order("ORD-V", "PRJ-V")
    op.orders.add_service("ORD-V", "SVC-V")
    op.orders.add_device_line("ORD-V", DeviceLine("L-V", "SVC-V", acme.address, "ONT-V", 5))
    acme.orders.deliver("L-V", 3)
    with pytest.raises(VendorOverInvoiced):
        acme.vendors.invoice("L-V", 4)
    # the operator needs tokens to pay its vendor: the customer's invoice money in real life
    team[CUSTOMER].escrow.token().transact("transfer", op.address, 1_000 * TSD)
    before = op.escrow.balances([op.address, acme.address])
    invoice_id = acme.vendors.invoice("L-V", 3, vendor_ref="ACME-INV-0001")
    op.vendors.settle(invoice_id)
    after = op.escrow.balances([op.address, acme.address])
    assert after[acme.address] - before[acme.address] == 3 * price == before[op.address] - after[op.address]
    acme.orders.return_stock("L-V", 1)
    assert op.vendors.credit_returns("L-V") == price
    assert op.escrow.credit(op.address, acme.address) == price
    line = op.vendors.line("L-V")
    assert (line.reserved, line.billable, line.invoiced, line.credited, line.invoiceable) == (5, 2, 3, 1, 0)
