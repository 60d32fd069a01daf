"""Every flow end to end: installation, MACD (single and batch), disconnect (customer and
non-payment), billing and credit notes; token balances checked to the unit and the total supply
never moving between the parties."""

from __future__ import annotations

from eth_abi import encode
from telcochain.assets import AssetState

from tests.support.agreement import DAY, PAYMENT_DAYS, TARIFF, UNIT, Kind, Status, asset_id
from tests.support.dryrun import named, reverts_with
from tests.support.encoding import action_id, ref

INSTALL = TARIFF["installation"]


def total(b: dict) -> int:
    return sum(b.values())


def test_installation_end_to_end(deal):
    d = deal
    before = d.balances()
    a = d.register("ont-1")
    receipt = d.request_installation("ont-1")
    assert d.state("ont-1") is AssetState.PENDING_INSTALLATION
    ev = named(receipt, "InstallationRequested")[0]
    invoice_id = ev.invoiceId
    assert ev.charge == INSTALL and ev.customer == d.customer.address
    inv = d.escrow.invoice(invoice_id)
    assert (inv.payer, inv.payee, inv.amount, inv.hold) == (d.customer.address, d.operator.address, INSTALL, True)
    assert inv.dueDate == d.escrow.invoice(invoice_id).dueDate  # due in PAYMENT_DAYS
    assert d.status(invoice_id) is Status.ISSUED
    # not funded yet: cannot confirm
    d.deliver("ont-1")
    with reverts_with("AgreementNotFunded", assetId=a, invoiceId=invoice_id, status=int(Status.ISSUED)):
        d.confirm_installation("ont-1")
    d.fund(invoice_id)
    after_fund = d.balances()
    assert after_fund["customer"] == before["customer"] - INSTALL
    assert after_fund["escrow"] == INSTALL and total(after_fund) == total(before)
    receipt = d.confirm_installation("ont-1")
    assert d.state("ont-1") is AssetState.ACTIVE
    assert d.status(invoice_id) is Status.RELEASED
    rc = d.escrow.receipt(invoice_id)
    assert rc.amount == INSTALL and rc.paidAt > 0
    assert named(receipt, "ReceiptIssued")[0].payee == d.operator.address
    assert named(receipt, "InstallationConfirmed")[0].invoiceId == invoice_id
    after = d.balances()
    assert after["operator"] == before["operator"] + INSTALL
    assert after["customer"] == before["customer"] - INSTALL
    assert after["escrow"] == 0 and total(after) == total(before)
    # paged views
    assert d.escrow.payerInvoiceCount(d.customer) == 1 and d.escrow.payeeInvoiceCount(d.operator) == 1
    assert list(d.escrow.invoicesOfPayer(d.customer, 0, 10)) == [invoice_id]


def test_duplicate_installation_rejected(deal):
    d = deal
    a = d.register("dup")
    d.request_installation("dup")
    open_id = d.agreement.serviceOf(a).installInvoice
    with reverts_with("AgreementDuplicateInstallation", assetId=a, openInvoice=open_id):
        d.request_installation("dup")
    with reverts_with("AgreementDuplicateInstallation", assetId=a):
        d.request_installation("dup", customer=d.customer2, sender=d.customer2)
    # once installed, still a duplicate (the twin is Active)
    d.fund(open_id)
    d.deliver("dup")
    d.confirm_installation("dup")
    with reverts_with("AgreementDuplicateInstallation", assetId=a, state=int(AssetState.ACTIVE), openInvoice=0):
        d.request_installation("dup")


def test_withdraw_installation_refunds(deal):
    d = deal
    before = d.balances()
    d.register("wd")
    d.request_installation("wd")
    invoice_id = d.agreement.serviceOf(asset_id("wd")).installInvoice
    d.fund(invoice_id)
    d.withdraw_installation("wd", sender=d.customer)
    assert d.state("wd") is AssetState.PLANNED
    assert d.status(invoice_id) is Status.REFUNDED
    assert d.balances() == before
    # the asset can be requested again
    d.request_installation("wd")
    assert d.state("wd") is AssetState.PENDING_INSTALLATION


def test_macd_single_and_billing(deal):
    d = deal
    d.installed("m1")
    before = d.balances()
    r = d.order_change(Kind.CHANGE, "m1", sender=d.customer)
    assert d.state("m1") is AssetState.PENDING_CHANGE
    ev = named(r, "ChangeOrdered")[0]
    assert (ev.kind, ev.charge, ev.balance) == (Kind.CHANGE, TARIFF[Kind.CHANGE], TARIFF[Kind.CHANGE])
    d.confirm_change("m1")
    assert d.state("m1") is AssetState.ACTIVE
    d.order_change(Kind.MOVE, "m1")
    d.confirm_change("m1")
    d.order_change(Kind.DELETE, "m1")
    assert d.agreement.serviceOf(asset_id("m1")).pendingDelete
    d.confirm_change("m1")
    assert d.state("m1") is AssetState.INACTIVE
    expected = TARIFF[Kind.CHANGE] + TARIFF[Kind.MOVE] + TARIFF[Kind.DELETE]
    acc = d.agreement.accountOf(d.customer)
    assert (acc.balance, acc.lines, acc.period) == (expected, 3, 1)
    # one invoice for the period, paid through on funding
    r = d.bill()
    invoice_id = named(r, "AccountBilled")[0].invoiceId
    inv = d.escrow.invoice(invoice_id)
    assert inv.amount == expected and not inv.hold
    assert d.agreement.accountOf(d.customer).balance == 0 and d.agreement.accountOf(d.customer).period == 2
    d.fund(invoice_id)
    assert d.status(invoice_id) is Status.RELEASED
    after = d.balances()
    assert after["customer"] == before["customer"] - expected
    assert after["operator"] == before["operator"] + expected
    assert total(after) == total(before) and after["escrow"] == 0
    with reverts_with("AgreementNothingToBill"):
        d.bill()


def test_macd_batch(deal):
    d = deal
    labels = [f"b{i}" for i in range(5)]
    for x in labels:
        d.installed(x)
    r = d.order_changes(Kind.ADD, labels)
    ev = named(r, "ChangesOrdered")[0]
    assert ev.charge == 5 * TARIFF[Kind.ADD] and [bytes(a) for a in ev.assetIds] == [asset_id(x) for x in labels]
    assert all(d.state(x) is AssetState.PENDING_CHANGE for x in labels)
    assert d.agreement.accountOf(d.customer).lines == 5
    with reverts_with("AgreementDeletionMismatch", assetId=asset_id("b0"), pendingDelete=False):
        d.confirm_changes(True, labels)
    d.confirm_changes(False, labels)
    assert all(d.state(x) is AssetState.ACTIVE for x in labels)
    d.order_changes(Kind.DELETE, labels[:2])
    d.confirm_changes(True, labels[:2])
    assert d.state("b0") is AssetState.INACTIVE and d.state("b2") is AssetState.ACTIVE
    # an asset of another customer in the batch
    d.installed("other", customer=d.customer2)
    with reverts_with("AgreementMixedCustomers", assetId=asset_id("other"), customer=d.customer2.address):
        d.order_changes(Kind.MOVE, ["b2", "other"])
    with reverts_with("AgreementBatchInvalidSize", count=0):
        d.order_changes(Kind.MOVE, [])
    # b0's deletion was confirmed: its service (and the customer's hold on it) ended
    assert d.agreement.serviceOf(asset_id("b0")).customer == "0x" + "00" * 20
    assert d.registry.getAsset(asset_id("b0")).customer == "0x" + "00" * 20
    with reverts_with("AgreementMixedCustomers", assetId=asset_id("b0")):
        d.order_changes(Kind.MOVE, ["b2", "b0"])
    with reverts_with("AgreementUnknownService", assetId=asset_id("b0")):
        d.order_changes(Kind.MOVE, ["b0"])


def test_credit_note_applied_to_next_invoice(deal):
    d = deal
    d.installed("c1")
    before = d.balances()
    d.order_change(Kind.DELETE, "c1")  # -20
    d.confirm_change("c1")
    r = d.bill()
    assert named(r, "CreditNoteIssued")[0].amount == 20 * UNIT
    assert d.escrow.creditOf(d.customer, d.operator, d.token) == 20 * UNIT
    d.register("c2")
    r = d.request_installation("c2")
    invoice_id = named(r, "InstallationRequested")[0].invoiceId
    inv = d.escrow.invoice(invoice_id)
    assert (inv.amount, inv.credited) == (INSTALL, 20 * UNIT)
    assert d.escrow.creditOf(d.customer, d.operator, d.token) == 0
    d.fund(invoice_id)
    d.deliver("c2")
    d.confirm_installation("c2")
    after = d.balances()
    assert after["customer"] == before["customer"] - (INSTALL - 20 * UNIT)
    assert after["operator"] == before["operator"] + INSTALL - 20 * UNIT
    assert total(after) == total(before)


def test_customer_disconnect(deal):
    d = deal
    d.installed("d1")
    before = d.balances()
    r = d.order_disconnect("d1")
    assert d.state("d1") is AssetState.PENDING_DISCONNECT
    assert not named(r, "DisconnectOrdered")[0].nonPayment
    r = d.confirm_disconnect("d1")
    assert d.state("d1") is AssetState.INACTIVE
    ev = named(r, "DisconnectConfirmed")[0]
    assert ev.amount == TARIFF["disconnect"] and ev.invoiceId != 0
    d.fund(ev.invoiceId)
    after = d.balances()
    assert after["customer"] == before["customer"] - TARIFF["disconnect"]
    assert total(after) == total(before)


def test_cancel_disconnect_reverses_charge(deal):
    d = deal
    d.installed("cd")
    d.order_disconnect("cd")
    d.cancel_disconnect("cd", sender=d.customer)
    assert d.state("cd") is AssetState.ACTIVE
    assert d.agreement.accountOf(d.customer).balance == 0


def test_non_payment_disconnect_only_when_overdue(deal, chain):
    d = deal
    d.installed("np")
    d.installed("np2")
    d.order_change(Kind.CHANGE, "np2")
    d.confirm_change("np2")
    invoice_id = named(d.bill(), "AccountBilled")[0].invoiceId
    due = d.escrow.invoice(invoice_id).dueDate
    assert due >= chain.pending_timestamp + PAYMENT_DAYS * DAY - 60
    # not overdue yet: refused
    with reverts_with("AgreementNotOverdue", invoiceId=invoice_id, customer=d.customer.address):
        d.order_disconnect("np", invoice_id, sender=d.operator)
    # an invoice of someone else never counts; nor a released one
    with reverts_with("AgreementNotOverdue"):
        d.order_disconnect("np", 1, sender=d.operator)
    chain.mine(timestamp=due + 1)
    assert d.escrow.isOverdue(invoice_id)
    # the vendor may not, even with an overdue invoice (no permission: denied, nothing changed)
    denied = d.order_disconnect("np", invoice_id, sender=d.vendor)
    assert named(denied, "ActionDenied")
    r = d.order_disconnect("np", invoice_id, sender=d.operator)
    assert named(r, "DisconnectOrdered")[0].nonPayment
    assert d.state("np") is AssetState.PENDING_DISCONNECT
    # a non-payment disconnect is not the customer's to cancel
    with reverts_with("AgreementUnauthorized", account=d.customer.address):
        d.cancel_disconnect("np", sender=d.customer)
    d.confirm_disconnect("np")
    assert d.state("np") is AssetState.INACTIVE


def test_set_terms_by_vote(deal):
    d = deal
    from eth_abi import encode

    from tests.support.agreement import TERMS_TYPE, terms_tuple

    new = dict(TARIFF)
    new[Kind.MOVE] = 75 * UNIT
    params = encode([TERMS_TYPE], [terms_tuple(d.token, 7, new)])
    r = d.act("setTerms", params)
    pid = named(r, "ProposalOpened")[0].proposalId
    assert d.agreement.tariff(int(Kind.MOVE)) == TARIFF[Kind.MOVE]
    d.constitution.voteFor(pid, True, ref("v"), sender=d.customer)
    assert d.agreement.tariff(int(Kind.MOVE)) == 75 * UNIT
    assert d.agreement.terms().paymentDays == 7


def test_module_entry_points_only_for_constitution(deal):
    d = deal
    import ape

    with ape.reverts():
        d.agreement.setTerms(d.operator, ref("x"), b"", sender=d.operator)
    with ape.reverts():
        d.escrow.fundInvoice(d.customer, ref("x"), b"", sender=d.customer)
    assert action_id("setTerms")


def test_a_twin_scheduled_by_its_order_line_is_installed_without_moving_it(deal):
    """The order's device line already moved the twin (PendingInstallation, then Delivered):
    the request charges and holds the invoice but does not move it; a second request is refused."""
    d = deal
    a = d.register("ordered-1")
    d.act("scheduleInstallation", encode(["bytes32", "bytes32"], [a, b"\0" * 32]), sender=d.operator)
    d.deliver("ordered-1")
    assert d.state("ordered-1") is AssetState.DELIVERED
    receipt = d.request_installation("ordered-1")
    assert d.state("ordered-1") is AssetState.DELIVERED  # not moved back
    invoice_id = named(receipt, "InstallationRequested")[0].invoiceId
    with reverts_with("AgreementDuplicateInstallation", assetId=a, state=int(AssetState.DELIVERED)):
        d.request_installation("ordered-1")
    d.fund(invoice_id)
    d.confirm_installation("ordered-1")
    assert d.state("ordered-1") is AssetState.ACTIVE and d.status(invoice_id) is Status.RELEASED
