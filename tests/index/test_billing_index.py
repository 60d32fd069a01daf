"""Issue 14 part B in the index: partial payments, disputes and their resolution, recurring
charges — projected and verified against the escrow's own views (`index verify`)."""

from __future__ import annotations

from sqlalchemy import select, update
from telcochain.index import Follower, IndexStore
from telcochain.index import schema as s
from telcochain.index.verify import verify

from tests.index.flows import Members, normal_flow


def test_partial_payments_disputes_and_recurring_charges_are_projected_and_verified(
    members: Members, store: IndexStore
) -> None:
    op, customer = members.op, members.customer
    flow = normal_flow(members, "B")
    op.agreement.confirm_change(flow["br1"])
    op.agreement.request_change("add", flow["br1"])
    op.agreement.confirm_change(flow["br1"])
    invoice = op.agreement.bill(customer.address).invoice_id
    customer.escrow.pay(invoice, 10 * 10**6)
    dispute = customer.escrow.dispute(invoice, 20 * 10**6, reason="not ordered")
    op.escrow.resolve(dispute.id, 5 * 10**6)
    op.agreement.accrue_recurring(flow["hq"])  # monthly charge 0 in consortium.yaml: no charge, no line

    follower = Follower.for_client(store, op)
    follower.catch_up()
    report = verify(follower)
    assert report.ok, [str(m) for m in report.mismatches]
    assert report.checked["disputes"] == 1
    with store.engine.connect() as db:
        row = db.execute(select(s.disputes)).one()
        paid = db.execute(select(s.invoices.c.paid).where(s.invoices.c.invoice_id == invoice)).scalar_one()
    assert (row.invoice_id, row.amount, row.credit, row.status) == (invoice, str(20 * 10**6), str(5 * 10**6), 2)
    assert paid == str(10 * 10**6)

    with store.engine.begin() as db:  # a drifted row is reported
        db.execute(update(s.disputes).values(credit="0"))
    fields = {(m.table, m.field) for m in verify(follower).mismatches}
    assert ("disputes", "credit") in fields
