"""Issue 14 parts A and B together: billing for registered (bilateral) customers.

- a registered customer's monthly recurring charge is agreed per service by both parties
  (`actFor` op 3: filed by its operator with the customer's EIP-712 consent, under a ceiling),
  never the agreement's one voted rate; a new rate counts from its second;
- the recurring accrual, the final bill and the final disconnect's credit payout use the
  service's own operator (several operators in one deployment);
- a customer that is not a member pays its invoices directly (`EscrowPayment.pay`), in part or
  whole, held or not, from its own wallet; it disputes its bill (`openDispute`) and takes its
  credit out (`requestPayout`) itself, the direct twins of the actions it cannot send.
  Balances to the unit."""

from __future__ import annotations

import pytest
from ape import chain
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from gas_figures import gas_figures
from telcochain.assets import AssetState
from telcochain.billing import ChargeKind

from tests.support.agreement import TARIFF, UNIT, ZERO32, Kind, Status, asset_id
from tests.support.dryrun import named, reverts_with
from tests.support.encoding import action_id

from .test_billing import MONTH, MONTHLY, _credit_note, charged, ts
from .test_customers import (
    act_for,
    add_customer,
    change_inner,
    consent,
    disconnect_inner,
    install_inner,
    sign,
)

AGREED = 45 * UNIT + 11  # the bilateral monthly charge (odd: prorations floor)


def monthly_inner(label: str) -> bytes:
    return encode(["bytes32"], [asset_id(label)])


@pytest.fixture(scope="module")
def wallet(deal):
    """A non-member customer whose wallet is a funded test account (accounts[9], never a
    member): it signs its consents with its key and pays from its own tokens."""
    d = deal
    w = d.stranger
    add_customer(d, w.address, w.address, name=b"wallet")
    d.token.transfer(w, 10_000 * UNIT, sender=d.customer)
    d.token.approve(d.escrow, 2**256 - 1, sender=w)
    return w


def key_of(account):
    return Account.from_key(account.private_key)


def agree_monthly(d, customer, label, monthly, nonce, ceiling=None, key=None):
    c = consent(
        d,
        "recurringCharge",
        asset_id(label),
        customer=customer.address,
        max_charge=monthly if ceiling is None else ceiling,
        nonce=nonce,
    )
    return act_for(d, 3, monthly_inner(label), monthly, c, sign(d, c, key or key_of(customer)))


def install_for(d, customer, label, charge, nonce):
    d.register(label)
    c = consent(d, "requestInstallation", asset_id(label), customer=customer.address, max_charge=charge, nonce=nonce)
    r = act_for(d, 0, install_inner(label, customer.address), charge, c, sign(d, c, key_of(customer)))
    return named(r, "InstallationRequested")[0].invoiceId


def test_monthly_charge_of_a_registered_customer_is_agreed_by_both_parties(deal, wallet):
    d = deal
    d.set_monthly(MONTHLY)  # the agreement's one rate: not for registered customers
    install_for(d, wallet, "bm", 0, nonce=901)
    assert d.agreement.monthlyCharge(wallet.address, asset_id("bm")) == 0
    # the operator alone, the customer alone: refused (both parties agree a monthly charge)
    with reverts_with("AgreementUnauthorized", account=d.operator.address):
        act_for(d, 3, monthly_inner("bm"), AGREED)
    with reverts_with("AgreementChargeAboveConsent", charge=AGREED, maxCharge=AGREED - 1):
        agree_monthly(d, wallet, "bm", AGREED, nonce=902, ceiling=AGREED - 1)
    with reverts_with("CustomerConsentInvalidSignature"):
        agree_monthly(d, wallet, "bm", AGREED, nonce=903, key=Account.create())
    r = agree_monthly(d, wallet, "bm", AGREED, nonce=904)
    ev = named(r, "RecurringChargeAgreed")[0]
    assert (ev.assetId, ev.customer, ev.monthly) == (asset_id("bm"), wallet.address, AGREED)
    with reverts_with("CustomerConsentReplayed"):
        agree_monthly(d, wallet, "bm", AGREED, nonce=904)
    assert d.agreement.monthlyCharge(wallet.address, asset_id("bm")) == AGREED
    d.deliver("bm")
    start = ts(d.confirm_installation("bm"))
    rec = d.agreement.recurringOf(asset_id("bm"))
    assert (rec.start, rec.billedTo, rec.monthly) == (start, start, AGREED)  # not MONTHLY

    # a new rate counts from its second: the old one is accrued up to it first
    chain.mine(timestamp=start + 7 * 86_400 + 13)
    r = agree_monthly(d, wallet, "bm", 2 * AGREED, nonce=905)
    t1 = ts(r)
    first = named(r, "RecurringAccrued")[0]
    assert (first["from"], first.to, first.amount) == (start, t1, charged(AGREED, start, t1))
    rec = d.agreement.recurringOf(asset_id("bm"))
    assert (rec.start, rec.billedTo, rec.monthly, rec.accrued) == (t1, t1, 2 * AGREED, 0)

    # the final disconnect prorates the new rate to the second; the bill goes to the operator
    chain.mine(timestamp=t1 + MONTH // 3 + 5)
    c = consent(d, "orderDisconnect", asset_id("bm"), customer=wallet.address, max_charge=0, nonce=906)
    act_for(d, 2, disconnect_inner("bm"), 0, c, sign(d, c, key_of(wallet)))
    r = d.confirm_disconnect("bm")
    end = ts(r)
    last = named(r, "RecurringAccrued")[0]
    assert last.amount == charged(2 * AGREED, t1, end)
    billed = named(r, "AccountBilled")[0]
    assert billed.balance == first.amount + last.amount
    inv = d.escrow.invoice(billed.invoiceId)
    assert (inv.payer, inv.payee, inv.amount) == (wallet.address, d.operator.address, billed.balance)


def test_a_non_member_pays_its_invoices_directly(deal, wallet):
    d = deal
    # a held installation invoice: funded whole from the wallet, released at the confirmation
    inv_id = install_for(d, wallet, "dp", 250 * UNIT, nonce=911)
    with reverts_with("EscrowAmountTooHigh"):
        d.escrow.pay(inv_id, 100 * UNIT, sender=wallet)  # a held invoice is not paid in parts
    w0, op0 = d.token.balanceOf(wallet), d.token.balanceOf(d.operator)
    r = d.escrow.pay(inv_id, 250 * UNIT, sender=wallet)
    with gas_figures() as gas:
        gas("escrow_direct.pay_held", r.gas_used, "`EscrowPayment.pay`, a held installation invoice funded whole")
    assert named(r, "InvoicePaidBy")[0].amount == 250 * UNIT
    assert named(r, "InvoiceFunded")[0].payer == wallet.address
    assert d.status(inv_id) is Status.FUNDED
    assert w0 - d.token.balanceOf(wallet) == 250 * UNIT
    d.deliver("dp")
    d.confirm_installation("dp")
    assert d.state("dp") is AssetState.ACTIVE and d.status(inv_id) is Status.RELEASED
    assert d.token.balanceOf(d.operator) - op0 == 250 * UNIT

    # the period's bill, paid in two parts, the second by someone else for the customer
    c = consent(d, "orderDisconnect", asset_id("dp"), customer=wallet.address, max_charge=60 * UNIT, nonce=912)
    act_for(d, 2, disconnect_inner("dp"), 60 * UNIT, c, sign(d, c, key_of(wallet)))
    bill = named(d.confirm_disconnect("dp"), "AccountBilled")[0].invoiceId
    assert d.escrow.invoice(bill).amount == 60 * UNIT
    with reverts_with("EscrowAmountTooHigh", invoiceId=bill, amount=61 * UNIT, available=60 * UNIT):
        d.escrow.pay(bill, 61 * UNIT, sender=wallet)
    w1, op1 = d.token.balanceOf(wallet), d.token.balanceOf(d.operator)
    r = d.escrow.pay(bill, 25 * UNIT, sender=wallet)
    with gas_figures() as gas:
        gas("escrow_direct.pay_first", r.gas_used, "`EscrowPayment.pay`, a first part of a bill")
    paid = named(r, "InvoicePaid")[0]
    assert (paid.payer, paid.amount, paid.paid, paid.outstanding) == (wallet.address, 25 * UNIT, 25 * UNIT, 35 * UNIT)
    assert d.status(bill) is Status.ISSUED
    c0 = d.token.balanceOf(d.customer)
    r = d.escrow.pay(bill, 35 * UNIT, sender=d.customer)  # anyone may pay: money only goes in
    assert named(r, "InvoicePaidBy")[0]["from"] == d.customer.address
    assert named(r, "InvoicePaid")[0].payer == wallet.address  # the payer stays the payer
    assert d.status(bill) is Status.RELEASED
    assert d.escrow.receipt(bill).amount == 60 * UNIT
    assert w1 - d.token.balanceOf(wallet) == 25 * UNIT
    assert c0 - d.token.balanceOf(d.customer) == 35 * UNIT
    assert d.token.balanceOf(d.operator) - op1 == 60 * UNIT
    with reverts_with("EscrowInvalidStatus"):
        d.escrow.pay(bill, 1, sender=wallet)


def test_second_operators_services_accrue_bill_and_pay_credit_out_as_their_own(deal):
    d = deal
    second = d.customer2  # a second operator in this deployment, serving the member `customer`
    add_customer(d, d.customer.address, sender=second)
    d.set_monthly(MONTHLY)
    d.register("s1")
    act_for(d, 0, install_inner("s1", d.customer.address), 0, sender=second)
    d.deliver("s1")
    start = ts(d.confirm_installation("s1", sender=second))
    assert d.agreement.recurringOf(asset_id("s1")).monthly == 0  # none agreed yet
    # the customer (a member) cannot set its own rate, nor can its operator alone
    with reverts_with("AgreementUnauthorized", account=d.customer.address):
        act_for(d, 3, monthly_inner("s1"), 0, sender=d.customer)
    with reverts_with("AgreementUnauthorized", account=d.operator.address):
        d.accrue(["s1"])  # the default operator does not serve it
    chain.mine(timestamp=start + 3 * 86_400)
    r = d.accrue(["s1"], sender=second)
    assert named(r, "RecurringAccrued") == []  # no rate, no line

    # credit the second operator owes the customer is paid out by it at the final disconnect
    inner = encode(
        ["address", "address", "address", "uint256", "bytes32"],
        [d.customer.address, second.address, d.token.address, 90 * UNIT, ZERO32],
    )
    d.act("callInternal", encode(["bytes32", "bytes"], [action_id("issueCreditNote"), inner]))
    assert d.escrow.creditOf(d.customer, second, d.token) == 90 * UNIT
    act_for(d, 2, disconnect_inner("s1"), 10 * UNIT, sender=d.customer)
    before = d.balances()
    r = d.confirm_disconnect("s1", sender=second)
    assert d.agreement.serviceCount(d.customer) == 0
    bill = named(r, "AccountBilled")[0]
    inv = d.escrow.invoice(bill.invoiceId)
    assert (inv.payee, inv.amount, inv.credited) == (second.address, 10 * UNIT, 10 * UNIT)
    out = named(r, "CreditPaidOut")
    assert [(e.payee, e.amount) for e in out] == [(second.address, 80 * UNIT)]
    after = d.balances()
    assert after["customer"] - before["customer"] == 80 * UNIT == before["customer2"] - after["customer2"]
    assert after["operator"] == before["operator"]  # the default operator pays nothing
    assert d.escrow.creditOf(d.customer, second, d.token) == 0
    assert TARIFF["disconnect"] != 10 * UNIT  # the bill holds the stated charge, not the public tariff


def line_ref(label: str, kind: Kind, amount: int) -> bytes:
    """A line item's ref as the SDK computes it (telcochain.billing.LineItem.ref)."""
    fields = [asset_id(label), ChargeKind.of_macd(kind), 0, 0, amount]
    return keccak(encode(["bytes32", "uint8", "uint64", "uint64", "int256"], fields))


def test_a_non_member_disputes_a_partly_paid_bill_directly_and_its_operator_resolves_it(deal, wallet, accounts):
    d = deal
    another_wallet = accounts[8]  # not a member either
    install_for(d, wallet, "nd", 0, nonce=921)
    d.deliver("nd")
    d.confirm_installation("nd")
    for nonce, kind, charge in ((922, Kind.MOVE, 35 * UNIT), (923, Kind.ADD, 20 * UNIT)):
        c = consent(
            d, "orderChange", asset_id("nd"), customer=wallet.address, kind=kind, max_charge=charge, nonce=nonce
        )
        act_for(d, 1, change_inner(kind, "nd"), charge, c, sign(d, c, key_of(wallet)))
        d.confirm_change("nd")
    inv = named(d.bill(customer=wallet), "AccountBilled")[0].invoiceId
    total = 55 * UNIT
    assert (d.escrow.invoice(inv).payer, d.escrow.invoice(inv).amount) == (wallet.address, total)
    w0, op0, esc0 = d.token.balanceOf(wallet), d.token.balanceOf(d.operator), d.token.balanceOf(d.escrow)

    d.escrow.pay(inv, 20 * UNIT, sender=wallet)  # a first part, paid directly
    line, reason = line_ref("nd", Kind.ADD, 20 * UNIT), keccak(text="the add was never done")
    # the actions need membership: the wallet cannot send them
    with reverts_with("ConstitutionNotMember"):
        d.dispute(inv, 20 * UNIT, line=line, sender=wallet)
    # the direct entry point: the payer only, 1 .. the undisputed outstanding part
    for who in (another_wallet, d.operator, d.customer):  # another wallet, the payee, a member
        with reverts_with("EscrowNotPayer", invoiceId=inv, account=who.address):
            d.escrow.openDispute(inv, 20 * UNIT, line, reason, sender=who)
    with reverts_with("EscrowAmountTooHigh", invoiceId=inv, amount=35 * UNIT + 1, available=35 * UNIT):
        d.escrow.openDispute(inv, 35 * UNIT + 1, line, reason, sender=wallet)
    with reverts_with("EscrowAmountTooHigh", invoiceId=inv, amount=0):
        d.escrow.openDispute(inv, 0, line, reason, sender=wallet)
    with reverts_with("EscrowUnknownInvoice", invoiceId=10**9):
        d.escrow.openDispute(10**9, 1, line, reason, sender=wallet)
    r = d.escrow.openDispute(inv, 20 * UNIT, line, reason, sender=wallet)
    with gas_figures() as gas:
        gas(
            "escrow_direct.openDispute",
            r.gas_used,
            "`EscrowPayment.openDispute`, a first dispute of a partly paid bill",
        )
    ev = named(r, "InvoiceDisputed")[0]
    assert (ev.invoiceId, ev.payer, ev.payee, bytes(ev.ref), bytes(ev.line), ev.amount, bytes(ev.reason)) == (
        inv,
        wallet.address,
        d.operator.address,
        ZERO32,
        line,
        20 * UNIT,
        reason,
    )
    dispute_id = ev.disputeId
    assert d.escrow.dispute(dispute_id).status == 1  # Open
    b = d.escrow.billingOf(inv)
    assert (b.paid, b.disputed, b.writtenOff, b.outstanding) == (20 * UNIT, 20 * UNIT, 0, 15 * UNIT)
    chain.mine(timestamp=d.escrow.invoice(inv).dueDate + 1)
    assert d.escrow.overdueAmount(inv) == 15 * UNIT  # the disputed part is not overdue

    # the payee resolves it: 12 of the 20 credited, 8 owed again
    with reverts_with("EscrowNotPayee"):
        d.resolve(dispute_id, 20 * UNIT, sender=d.customer)
    r = d.resolve(dispute_id, 12 * UNIT)
    res = named(r, "DisputeResolved")[0]
    assert (res.payer, res.amount, res.credit, res.byVote) == (wallet.address, 20 * UNIT, 12 * UNIT, False)
    assert d.escrow.billingOf(inv).outstanding == 15 * UNIT + 8 * UNIT
    with reverts_with("EscrowDisputeClosed", disputeId=dispute_id):
        d.resolve(dispute_id, 0)
    r = d.escrow.pay(inv, 23 * UNIT, sender=wallet)
    assert d.status(inv) is Status.RELEASED and d.escrow.receipt(inv).amount == total - 12 * UNIT
    assert w0 - d.token.balanceOf(wallet) == total - 12 * UNIT == d.token.balanceOf(d.operator) - op0
    assert d.token.balanceOf(d.escrow) == esc0
    with reverts_with("EscrowInvalidStatus"):  # settled: nothing left to dispute
        d.escrow.openDispute(inv, 1, line, reason, sender=wallet)


def test_a_held_invoice_takes_no_direct_dispute_and_a_member_payer_may_dispute_directly(deal, wallet):
    d = deal
    held = install_for(d, wallet, "nh", 250 * UNIT, nonce=931)
    with reverts_with("EscrowHeld", invoiceId=held):
        d.escrow.openDispute(held, 1, ZERO32, ZERO32, sender=wallet)
    # the rule for members: a member payer may use the direct entry point too (as `pay`)
    inv = d.issue_direct(d.token, 70 * UNIT, hold=False, payer=d.customer)
    r = d.escrow.openDispute(inv, 70 * UNIT, ZERO32, keccak(text="all of it"), sender=d.customer)
    assert named(r, "InvoiceDisputed")[0].payer == d.customer.address
    assert d.escrow.billingOf(inv).disputed == 70 * UNIT
    with reverts_with("EscrowNotPayer", invoiceId=inv, account=wallet.address):
        d.escrow.openDispute(inv, 1, ZERO32, ZERO32, sender=wallet)  # not the wallet's invoice


def test_a_non_member_takes_its_credit_out_directly(deal, wallet, accounts):
    d = deal
    _credit_note(d, wallet, 90 * UNIT)
    d.token.transfer(d.operator, 1_000 * UNIT, sender=d.customer2)  # the payee's tokens, approved in the deploy
    assert d.escrow.creditOf(wallet, d.operator, d.token) == 90 * UNIT
    with reverts_with("ConstitutionNotMember"):
        d.request_payout(10 * UNIT, sender=wallet)  # the action needs membership
    with reverts_with("EscrowInsufficientCredit", amount=90 * UNIT + 1, available=90 * UNIT):
        d.escrow.requestPayout(d.operator, d.token, 90 * UNIT + 1, sender=wallet)
    with reverts_with("EscrowInsufficientCredit", amount=0):
        d.escrow.requestPayout(d.operator, d.token, 0, sender=wallet)
    # nobody else takes the wallet's credit: each asks for a credit of its own, which it has not
    for who in (accounts[8], d.operator, d.customer):  # another wallet, the payee, a member
        with reverts_with("EscrowInsufficientCredit", payer=who.address, available=0):
            d.escrow.requestPayout(d.operator, d.token, 10 * UNIT, sender=who)
    w0, op0 = d.token.balanceOf(wallet), d.token.balanceOf(d.operator)
    r = d.escrow.requestPayout(d.operator, d.token, 30 * UNIT, sender=wallet)
    with gas_figures() as gas:
        gas("escrow_direct.requestPayout", r.gas_used, "`EscrowPayment.requestPayout`, paid at once")
    req = named(r, "CreditPayoutRequested")[0]
    assert (req.payer, req.payee, bytes(req.ref), req.amount, req.paid) == (
        wallet.address,
        d.operator.address,
        ZERO32,
        30 * UNIT,
        True,
    )
    assert named(r, "CreditPaidOut")[0].amount == 30 * UNIT
    assert d.token.balanceOf(wallet) - w0 == 30 * UNIT == op0 - d.token.balanceOf(d.operator)
    assert d.escrow.creditOf(wallet, d.operator, d.token) == 60 * UNIT

    # without the payee's allowance: recorded for its payOutCredit; nothing moves
    d.token.approve(d.escrow, 0, sender=d.operator)
    r = d.escrow.requestPayout(d.operator, d.token, 60 * UNIT, sender=wallet)
    assert not named(r, "CreditPayoutRequested")[0].paid and named(r, "CreditPaidOut") == []
    assert d.escrow.payoutRequested(wallet, d.operator, d.token) == 60 * UNIT
    assert d.token.balanceOf(wallet) - w0 == 30 * UNIT
    d.token.approve(d.escrow, 2**256 - 1, sender=d.operator)
    d.pay_out_credit(wallet, 60 * UNIT)
    assert d.escrow.payoutRequested(wallet, d.operator, d.token) == 0
    assert d.escrow.creditOf(wallet, d.operator, d.token) == 0
    assert d.token.balanceOf(wallet) - w0 == 90 * UNIT == op0 - d.token.balanceOf(d.operator)
