"""Billing (issue 14 part B): line items committed to the bill, recurring charges prorated to the
second, partial payments, instalments, disputes resolved by the payee or by a vote, credit paid
out on request and at the final disconnect. Balances are checked to the unit on every path."""

from __future__ import annotations

from ape import chain
from eth_abi import encode
from eth_utils import keccak
from telcochain.billing import ChargeKind

from tests.support.agreement import DAY, TARIFF, UNIT, ZERO32, Kind, Status, asset_id
from tests.support.dryrun import named, reverts_with
from tests.support.encoding import action_id

MONTH = 30 * DAY
MONTHLY = 99 * UNIT + 7  # odd on purpose: every proration floors
RECURRING, CHANGE_REVERSAL, DISCONNECT, DISCONNECT_REVERSAL = (
    ChargeKind.RECURRING,
    ChargeKind.CHANGE_REVERSAL,
    ChargeKind.DISCONNECT,
    ChargeKind.DISCONNECT_REVERSAL,
)


def ts(receipt) -> int:
    return chain.blocks[receipt.block_number].timestamp


def charged(monthly: int, start: int, t: int) -> int:
    return monthly * (t - start) // MONTH


def seed(customer, period: int) -> bytes:
    return keccak(encode(["address", "uint32"], [customer.address, period]))


def fold(digest: bytes, asset: bytes, kind: int, start: int, end: int, amount: int) -> bytes:
    return keccak(
        encode(["bytes32", "bytes32", "uint8", "uint64", "uint64", "int256"], [digest, asset, kind, start, end, amount])
    )


def lines_of(receipts) -> list[tuple]:
    """The line items (asset, kind, from, to, amount) told by the agreement's events, in order."""
    out = []
    for r in receipts:
        for log in r.events:
            n = log.event_name
            if n == "ChangeOrdered":
                out.append((bytes(log.assetId), ChargeKind.of_macd(log.kind), 0, 0, log.charge))
            elif n == "ChangesOrdered":
                packed = keccak(b"".join(bytes(a) for a in log.assetIds))
                out.append((packed, ChargeKind.of_macd(log.kind), 0, 0, log.charge))
            elif n == "ChangeCancelled":
                out.append((bytes(log.assetId), CHANGE_REVERSAL, 0, 0, log.credit))
            elif n == "DisconnectOrdered":
                out.append((bytes(log.assetId), DISCONNECT, 0, 0, log.charge))
            elif n == "DisconnectCancelled":
                out.append((bytes(log.assetId), DISCONNECT_REVERSAL, 0, 0, log.charge))
            elif n == "RecurringAccrued":
                out.append((bytes(log.assetId), RECURRING, log["from"], log.to, log.amount))
    return out


def digest_of(customer, period: int, lines) -> bytes:
    h = seed(customer, period)
    for line in lines:
        h = fold(h, *line)
    return h


def test_recurring_charge_prorated_to_the_second_and_committed_to_the_final_bill(deal):
    d = deal
    d.set_monthly(MONTHLY)
    assert d.agreement.monthlyCharge(d.customer, asset_id("rc")) == MONTHLY
    d.installed("rc-other")  # a second service: the disconnect of rc is not the final one
    period = d.agreement.accountOf(d.customer).period
    acc0 = d.agreement.accountOf(d.customer).balance
    receipts = []
    d.register("rc")
    d.request_installation("rc")
    inv = d.agreement.serviceOf(asset_id("rc")).installInvoice
    d.fund(inv)
    d.deliver("rc")
    r = d.confirm_installation("rc")
    start = ts(r)
    rec = d.agreement.recurringOf(asset_id("rc"))
    assert (rec.start, rec.billedTo, rec.monthly, rec.accrued) == (start, start, MONTHLY, 0)

    chain.mine(timestamp=start + 12_345)
    r = d.accrue(["rc"])
    t1 = ts(r)
    receipts.append(r)
    first = named(r, "RecurringAccrued")[0]
    assert (first["from"], first.to, first.amount) == (start, t1, charged(MONTHLY, start, t1))

    r = d.order_change(Kind.MOVE, "rc")
    receipts.append(r)
    receipts.append(d.cancel_change("rc"))  # reversed exactly: a line of -charge

    chain.mine(timestamp=t1 + 3 * DAY + 17)
    receipts.append(d.order_disconnect("rc"))
    r = d.confirm_disconnect("rc")
    end = ts(r)
    receipts.append(r)
    last = named(r, "RecurringAccrued")[0]
    assert (last["from"], last.to) == (t1, end)
    # two accruals sum, to the unit, to the single formula over the whole service
    assert first.amount + last.amount == charged(MONTHLY, start, end)

    closed = named(r, "PeriodClosed")[0]
    lines = lines_of(receipts)
    assert [x[1] for x in lines] == [RECURRING, ChargeKind.MOVE, CHANGE_REVERSAL, DISCONNECT, RECURRING]
    assert acc0 == 0 and closed.period == period
    assert closed.lines == 4  # charges counted; a reversal is a line but not a new charge
    expected_total = acc0 + charged(MONTHLY, start, end) + TARIFF["disconnect"]
    billed = named(r, "AccountBilled")[0]
    assert billed.balance == expected_total == acc0 + sum(x[4] for x in lines)
    # the invoice's subject is the period's digest: it commits to exactly these lines, in order
    invoice = d.escrow.invoice(billed.invoiceId)
    assert bytes(closed.digest) == digest_of(d.customer, period, lines)
    assert bytes(invoice.subject) == bytes(closed.digest)
    assert invoice.amount == expected_total
    # the next period starts from its own seed
    assert bytes(d.agreement.linesDigest(d.customer)) == seed(d.customer, period + 1)
    before = d.balances()
    d.fund(billed.invoiceId)
    after = d.balances()
    assert before["customer"] - after["customer"] == expected_total
    assert after["operator"] - before["operator"] == expected_total


def test_a_free_month_before_the_rate_is_set_and_no_line_for_nothing(deal):
    d = deal
    d.installed("nr")  # monthly charge 0 in this module's fresh deployment
    assert d.agreement.recurringOf(asset_id("nr")).monthly == 0
    chain.mine(timestamp=chain.pending_timestamp + 5 * DAY)
    r = d.accrue(["nr"])
    assert named(r, "RecurringAccrued") == []
    d.register("ns")
    d.request_installation("ns")
    with reverts_with("AgreementNotStarted", assetId=asset_id("ns")):
        d.accrue(["ns"])


def _bill_of(d, amount_label: str, n_changes: int = 3) -> tuple[int, list, object]:
    """An account invoice of n MACD changes on a fresh asset; returns (invoice id, receipts, bill receipt)."""
    d.installed(amount_label)
    receipts = []
    for _ in range(n_changes):
        receipts.append(d.order_change(Kind.ADD, amount_label))
        d.confirm_change(amount_label)
    r = d.bill()
    return named(r, "AccountBilled")[0].invoiceId, receipts, r


def test_partial_payment_then_dispute_then_resolution_to_the_unit(deal):
    d = deal
    inv, _, _ = _bill_of(d, "pp")
    total = d.escrow.invoice(inv).amount
    assert total == 3 * TARIFF[Kind.ADD]
    line = keccak(encode(["bytes32", "uint8"], [asset_id("pp"), int(Kind.ADD)]))  # the disputed line's ref
    start = d.balances()

    r = d.pay(inv, 25 * UNIT)
    paid = named(r, "InvoicePaid")[0]
    assert (paid.amount, paid.paid, paid.outstanding) == (25 * UNIT, 25 * UNIT, total - 25 * UNIT)
    assert d.status(inv) is Status.ISSUED
    with reverts_with("EscrowPartlySettled", invoiceId=inv, paid=25 * UNIT):
        d.fund(inv)
    with reverts_with("EscrowNotPayer"):
        d.pay(inv, 1, sender=d.customer2)

    disputed = TARIFF[Kind.ADD]  # one line
    r = d.dispute(inv, disputed, line=line)
    ev = named(r, "InvoiceDisputed")[0]
    dispute_id = ev.disputeId
    assert (ev.invoiceId, bytes(ev.line), ev.amount) == (inv, line, disputed)
    b = d.escrow.billingOf(inv)
    assert (b.paid, b.disputed, b.outstanding) == (25 * UNIT, disputed, total - 25 * UNIT - disputed)
    with reverts_with("EscrowAmountTooHigh", invoiceId=inv, available=b.outstanding):
        d.pay(inv, b.outstanding + 1)

    # past the due date: only the undisputed rest is overdue, and the non-payment disconnect respects that
    chain.mine(timestamp=d.escrow.invoice(inv).dueDate + 1)
    assert d.escrow.overdueAmount(inv) == b.outstanding
    assert d.escrow.isOverdue(inv)
    d.pay(inv, b.outstanding)
    assert d.escrow.overdueAmount(inv) == 0 and not d.escrow.isOverdue(inv)
    with reverts_with("AgreementNotOverdue", invoiceId=inv):
        d.order_disconnect("pp", inv, sender=d.operator)

    with reverts_with("EscrowNotPayee"):
        d.resolve(dispute_id, 0, sender=d.customer)
    with reverts_with("EscrowCreditTooHigh", disputeId=dispute_id, credit=disputed + 1, amount=disputed):
        d.resolve(dispute_id, disputed + 1)
    credit = 30 * UNIT  # partial credit: the rest is owed again
    r = d.resolve(dispute_id, credit)
    res = named(r, "DisputeResolved")[0]
    assert (res.amount, res.credit, res.byVote) == (disputed, credit, False)
    assert d.escrow.dispute(dispute_id).status == 2
    with reverts_with("EscrowDisputeClosed", disputeId=dispute_id):
        d.resolve(dispute_id, 0)
    owed_again = disputed - credit
    assert d.escrow.billingOf(inv).outstanding == owed_again
    assert d.escrow.isOverdue(inv)  # the rejected part is past due again
    r = d.pay(inv, owed_again)
    assert d.status(inv) is Status.RELEASED
    receipt = named(r, "ReceiptIssued")[0]
    assert receipt.amount == total - credit == d.escrow.receipt(inv).amount
    end = d.balances()
    assert start["customer"] - end["customer"] == total - credit
    assert end["operator"] - start["operator"] == total - credit
    assert end["escrow"] == start["escrow"]


def test_a_dispute_decided_by_a_consortium_vote(deal):
    d = deal
    inv, _, _ = _bill_of(d, "vote", n_changes=1)
    total = d.escrow.invoice(inv).amount
    dispute_id = named(d.dispute(inv, total), "InvoiceDisputed")[0].disputeId
    assert d.escrow.billingOf(inv).outstanding == 0 and d.status(inv) is Status.ISSUED
    chain.mine(timestamp=d.escrow.invoice(inv).dueDate + 1)
    assert not d.escrow.isOverdue(inv)  # all of it disputed
    before = d.balances()
    r = d.act("decideDispute", encode(["uint256", "uint256"], [dispute_id, total]), sender=d.vendor)
    pid = named(r, "ProposalOpened")[0].proposalId
    d.constitution.voteFor(pid, True, ZERO32, sender=d.customer2)
    r = d.constitution.voteFor(pid, True, ZERO32, sender=d.operator)  # 3 of 4: majority
    res = named(r, "DisputeResolved")[0]
    assert (res.credit, res.byVote) == (total, True)
    assert d.status(inv) is Status.RELEASED and d.escrow.receipt(inv).amount == 0
    assert d.balances() == before


def test_instalments_count_overdue_one_by_one(deal):
    d = deal
    inv, _, _ = _bill_of(d, "inst", n_changes=3)
    total = d.escrow.invoice(inv).amount
    with reverts_with("EscrowNotPayee"):
        d.instalments(inv, 3, 10 * DAY, sender=d.customer)
    with reverts_with("EscrowInvalidInstalments", count=1):
        d.instalments(inv, 1, 10 * DAY)
    d.instalments(inv, 3, 10 * DAY)
    due = d.escrow.invoice(inv).dueDate
    chain.mine(timestamp=due + 1)
    assert d.escrow.overdueAmount(inv) == total // 3
    d.pay(inv, total // 3)
    assert not d.escrow.isOverdue(inv)
    chain.mine(timestamp=due + 10 * DAY + 1)
    assert d.escrow.overdueAmount(inv) == 2 * total // 3 - total // 3
    chain.mine(timestamp=due + 20 * DAY + 1)
    assert d.escrow.overdueAmount(inv) == total - total // 3
    d.pay(inv, total - total // 3)
    assert d.status(inv) is Status.RELEASED and d.escrow.receipt(inv).amount == total


def test_held_invoices_take_no_partial_path(deal):
    d = deal
    d.register("held")
    d.request_installation("held")
    inv = d.agreement.serviceOf(asset_id("held")).installInvoice
    with reverts_with("EscrowHeld", invoiceId=inv):
        d.pay(inv, 1)
    with reverts_with("EscrowHeld", invoiceId=inv):
        d.dispute(inv, 1)


def test_credit_paid_out_on_the_payers_request(deal):
    d = deal
    d.installed("cr")
    d.order_change(Kind.DELETE, "cr")  # a credit of 20
    d.bill()  # negative balance: a credit note
    credit = d.escrow.creditOf(d.customer, d.operator, d.token)
    assert credit == -TARIFF[Kind.DELETE]
    with reverts_with("EscrowInsufficientCredit", amount=credit + 1, available=credit):
        d.request_payout(credit + 1)
    # the operator's allowance covers it: paid at once
    d.token.transfer(d.operator, 1_000 * UNIT, sender=d.customer2)
    before = d.balances()
    r = d.request_payout(5 * UNIT)
    assert named(r, "CreditPayoutRequested")[0].paid
    after = d.balances()
    assert after["customer"] - before["customer"] == 5 * UNIT == before["operator"] - after["operator"]
    assert d.escrow.creditOf(d.customer, d.operator, d.token) == credit - 5 * UNIT
    # without an allowance the request is recorded for the operator's payOutCredit
    d.token.approve(d.escrow, 0, sender=d.operator)
    r = d.request_payout(10 * UNIT)
    assert not named(r, "CreditPayoutRequested")[0].paid
    assert d.escrow.payoutRequested(d.customer, d.operator, d.token) == 10 * UNIT
    assert d.balances() == after
    d.token.approve(d.escrow, 2**256 - 1, sender=d.operator)
    d.pay_out_credit(d.customer, 10 * UNIT)
    assert d.escrow.payoutRequested(d.customer, d.operator, d.token) == 0
    assert d.escrow.creditOf(d.customer, d.operator, d.token) == credit - 15 * UNIT


def _credit_note(d, payer, amount: int):
    """A credit note the operator owes ``payer`` (issued through the mock's Internal call)."""
    inner = encode(
        ["address", "address", "address", "uint256", "bytes32"],
        [payer.address, d.operator.address, d.token.address, amount, ZERO32],
    )
    d.act("callInternal", encode(["bytes32", "bytes"], [action_id("issueCreditNote"), inner]))


def test_credit_paid_out_in_tokens_at_the_final_disconnect(deal):
    d = deal
    d.installed("fd1", customer=d.customer2)
    d.installed("fd2", customer=d.customer2)
    assert d.agreement.serviceCount(d.customer2) == 2
    _credit_note(d, d.customer2, 500 * UNIT)
    d.token.transfer(d.operator, 1_000 * UNIT, sender=d.customer)

    # not the final disconnect: the credit settles the bill and the rest stays as credit
    d.order_disconnect("fd1", sender=d.customer2)
    r = d.confirm_disconnect("fd1")
    assert named(r, "CreditPaidOut") == [] and named(r, "CreditPayoutRequested") == []
    inv = named(r, "AccountBilled")[0].invoiceId
    assert d.escrow.invoice(inv).credited == TARIFF["disconnect"]
    assert d.escrow.creditOf(d.customer2, d.operator, d.token) == 400 * UNIT

    # the final one: the bill takes 100 more of the credit, the remaining 300 is paid out in tokens
    d.order_disconnect("fd2", sender=d.customer2)
    before = d.balances()
    r = d.confirm_disconnect("fd2")
    assert d.agreement.serviceCount(d.customer2) == 0
    out = named(r, "CreditPaidOut")
    assert [e.amount for e in out] == [300 * UNIT]
    after = d.balances()
    assert after["customer2"] - before["customer2"] == 300 * UNIT == before["operator"] - after["operator"]
    assert d.escrow.creditOf(d.customer2, d.operator, d.token) == 0


def test_final_disconnect_without_the_operators_allowance_records_the_payout(deal):
    d = deal
    d.installed("fe", customer=d.customer2)
    _credit_note(d, d.customer2, 500 * UNIT)
    d.token.approve(d.escrow, 0, sender=d.operator)
    d.order_disconnect("fe", sender=d.customer2)
    before = d.balances()
    r = d.confirm_disconnect("fe")  # never blocked by the operator's allowance
    req = named(r, "CreditPayoutRequested")[0]
    assert (req.amount, req.paid) == (400 * UNIT, False)
    assert d.balances() == before
    assert d.escrow.payoutRequested(d.customer2, d.operator, d.token) == 400 * UNIT
    d.token.approve(d.escrow, 2**256 - 1, sender=d.operator)
    d.token.transfer(d.operator, 1_000 * UNIT, sender=d.customer)
    d.pay_out_credit(d.customer2, 400 * UNIT)
    assert d.escrow.payoutRequested(d.customer2, d.operator, d.token) == 0
    assert d.token.balanceOf(d.customer2) - before["customer2"] == 400 * UNIT


def test_a_dispute_above_2_to_the_88_keeps_its_amount(deal):
    """An invoice may be up to 2^96 - 1 units; a dispute of all of it keeps its full amount (the
    dispute record once packed it into 88 bits: the resolution then freed only the truncated part
    and the invoice stayed disputed for ever)."""
    d = deal
    amount = 2**88 + 7  # 309,485,009.8 tokens of 18 decimals
    inv = d.issue_direct(d.evil, amount, hold=False)
    ev = named(d.dispute(inv, amount), "InvoiceDisputed")[0]
    assert ev.amount == amount
    assert d.escrow.dispute(ev.disputeId).amount == amount
    assert d.escrow.billingOf(inv).disputed == amount
    before = d.balances(d.evil)
    res = named(d.resolve(ev.disputeId, amount), "DisputeResolved")[0]  # credited whole
    assert (res.amount, res.credit) == (amount, amount)
    assert d.escrow.dispute(ev.disputeId).credit == amount
    b = d.escrow.billingOf(inv)
    assert (b.disputed, b.writtenOff, b.outstanding) == (0, amount, 0)
    assert d.status(inv) is Status.RELEASED and d.escrow.receipt(inv).amount == 0
    assert d.balances(d.evil) == before


def test_a_resolved_dispute_ends_the_argument(deal):
    """A dispute's resolution settles its part: the payer cannot dispute again what a resolution
    rejected (on either path), so it counts as overdue and the operator may disconnect for
    non-payment; only the never-disputed part stays disputable."""
    d = deal
    inv, _, _ = _bill_of(d, "again")
    total = d.escrow.invoice(inv).amount
    start = d.balances()
    disputed, credit = TARIFF[Kind.ADD], 30 * UNIT
    first = named(d.dispute(inv, disputed), "InvoiceDisputed")[0].disputeId
    d.resolve(first, credit)
    settled, fresh = disputed - credit, total - disputed
    assert tuple(d.escrow.disputableOf(inv)) == (fresh, settled)
    assert d.escrow.billingOf(inv).outstanding == total - credit

    # the rejected part cannot be disputed again, through the action or directly
    with reverts_with("EscrowDisputeSettled", invoiceId=inv, amount=fresh + 1, disputable=fresh, settled=settled):
        d.dispute(inv, fresh + 1)
    with reverts_with("EscrowDisputeSettled", invoiceId=inv, amount=total - credit, disputable=fresh):
        d.escrow.openDispute(inv, total - credit, ZERO32, keccak(text="again"), sender=d.customer)
    # a payment covers the settled part first: what was never disputed stays disputable
    d.pay(inv, 1)
    settled -= 1
    assert tuple(d.escrow.disputableOf(inv)) == (fresh, settled)
    second = named(d.dispute(inv, fresh - 1), "InvoiceDisputed")[0].disputeId
    assert tuple(d.escrow.disputableOf(inv)) == (1, settled)  # one unit never disputed
    with reverts_with("EscrowDisputeSettled", invoiceId=inv, amount=2, disputable=1, settled=settled):
        d.dispute(inv, 2)
    d.resolve(second, 0)  # rejected whole
    settled += fresh - 1
    assert tuple(d.escrow.disputableOf(inv)) == (1, settled)
    rest = total - credit - 1
    assert d.escrow.billingOf(inv).outstanding == rest

    # past its due date the rest is overdue for good and the operator may disconnect for it
    chain.mine(timestamp=d.escrow.invoice(inv).dueDate + 1)
    assert d.escrow.overdueAmount(inv) == rest and d.escrow.isOverdue(inv)
    with reverts_with("EscrowDisputeSettled", invoiceId=inv, amount=2, disputable=1, settled=settled):
        d.escrow.openDispute(inv, 2, ZERO32, keccak(text="still no"), sender=d.customer)
    assert d.escrow.overdueAmount(inv) == rest
    r = d.order_disconnect("again", inv, sender=d.operator)
    assert len(named(r, "DisconnectOrdered")) == 1
    end = d.balances()
    assert start["customer"] - end["customer"] == 1 == end["operator"] - start["operator"]
    assert end["escrow"] == start["escrow"]


def test_a_consortium_vote_can_still_credit_a_settled_part(deal):
    """The payee's resolution is not the last word: a vote (decideDispute) raises its credit."""
    d = deal
    inv, _, _ = _bill_of(d, "appeal", n_changes=2)
    total = d.escrow.invoice(inv).amount
    start = d.balances()
    dispute_id = named(d.dispute(inv, total), "InvoiceDisputed")[0].disputeId
    d.resolve(dispute_id, 10 * UNIT)  # the payee credits little
    with reverts_with("EscrowDisputeSettled", invoiceId=inv, amount=1, disputable=0, settled=total - 10 * UNIT):
        d.dispute(inv, 1)
    chain.mine(timestamp=d.escrow.invoice(inv).dueDate + 1)
    assert d.escrow.overdueAmount(inv) == total - 10 * UNIT

    def vote(credit: int):
        r = d.act("decideDispute", encode(["uint256", "uint256"], [dispute_id, credit]), sender=d.vendor)
        pid = named(r, "ProposalOpened")[0].proposalId
        d.constitution.voteFor(pid, True, ZERO32, sender=d.customer2)
        return d.constitution.voteFor(pid, True, ZERO32, sender=d.operator)

    with reverts_with("EscrowCreditNotRaised", disputeId=dispute_id, credit=10 * UNIT, previous=10 * UNIT):
        vote(10 * UNIT)  # a vote may only add credit
    with reverts_with("EscrowCreditTooHigh", disputeId=dispute_id, credit=total + 1, amount=total):
        vote(total + 1)
    r = vote(60 * UNIT)
    assert named(r, "DisputeResolved") == []  # resolved once: summing DisputeResolved credits stays exact
    rev = named(r, "DisputeRevisited")[0]
    assert (rev.disputeId, rev.invoiceId, rev.previousCredit, rev.credit) == (dispute_id, inv, 10 * UNIT, 60 * UNIT)
    assert d.escrow.dispute(dispute_id).credit == 60 * UNIT
    b = d.escrow.billingOf(inv)
    assert (b.writtenOff, b.outstanding, b.overdue) == (60 * UNIT, total - 60 * UNIT, total - 60 * UNIT)
    assert tuple(d.escrow.disputableOf(inv)) == (0, total - 60 * UNIT)
    r = d.pay(inv, total - 60 * UNIT)
    assert d.status(inv) is Status.RELEASED and d.escrow.receipt(inv).amount == total - 60 * UNIT
    with reverts_with("EscrowInvalidStatus", invoiceId=inv):
        vote(total)  # a released invoice is closed
    end = d.balances()
    assert start["customer"] - end["customer"] == total - 60 * UNIT == end["operator"] - start["operator"]


def test_paying_the_undisputed_part_first_does_not_reopen_the_rejected_part(deal):
    """Payments made before a resolution covered the never-disputed part: the part the resolution
    then rejects stays settled (not disputable again) however much was paid before."""
    d = deal
    inv, _, _ = _bill_of(d, "paidfirst")
    total = d.escrow.invoice(inv).amount
    disputed = TARIFF[Kind.ADD]
    dispute_id = named(d.dispute(inv, disputed), "InvoiceDisputed")[0].disputeId
    d.pay(inv, total - disputed)  # all the undisputed part
    assert tuple(d.escrow.disputableOf(inv)) == (0, 0)
    d.resolve(dispute_id, 0)
    assert tuple(d.escrow.disputableOf(inv)) == (0, disputed)
    with reverts_with("EscrowDisputeSettled", invoiceId=inv, amount=1, disputable=0, settled=disputed):
        d.dispute(inv, 1)
    chain.mine(timestamp=d.escrow.invoice(inv).dueDate + 1)
    assert d.escrow.overdueAmount(inv) == disputed and d.escrow.isOverdue(inv)
    assert len(named(d.order_disconnect("paidfirst", inv, sender=d.operator), "DisconnectOrdered")) == 1
    d.pay(inv, disputed)
    assert d.status(inv) is Status.RELEASED and tuple(d.escrow.disputableOf(inv)) == (0, 0)
