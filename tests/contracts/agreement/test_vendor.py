"""Vendor settlement (issue 14 part B): the three-way match of a purchase-order line (reserved),
its delivery (or consumption) and the vendor's invoice; the operator pays through the escrow;
returns become credit. Balances to the unit."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from tests.support.agreement import UNIT, ZERO32, Status
from tests.support.dryrun import named, reverts_with

LINE_SPEC = "(bytes32,bytes32,bytes32,address,bytes16,uint32,uint8)"
TERMS = "(address,uint96,uint32,bool)"
PRICE = 12 * UNIT + 345_678


def oid(label: str) -> bytes:
    return keccak(text=f"id:{label}")


def sku(code: str) -> bytes:
    return code.encode().ljust(16, b"\0")


def purchase_order(d, label: str, quantity: int, code: str = "ONT-X1") -> bytes:
    """A project, an order, a service and one device line from the vendor (units reserved)."""
    d.act("createProject", encode(["bytes32", "address", "bytes32"], [oid(f"p:{label}"), d.customer.address, ZERO32]))
    d.act("createOrder", encode(["bytes32"] * 3, [oid(f"o:{label}"), oid(f"p:{label}"), ZERO32]))
    d.act(
        "addService",
        encode(["bytes32", "bytes32", "uint32", "bytes32"], [oid(f"o:{label}"), oid(f"s:{label}"), 1, ZERO32]),
    )
    line = oid(f"l:{label}")
    spec = (line, oid(f"s:{label}"), ZERO32, d.vendor.address, sku(code), quantity, 0)
    d.act("addDeviceLine", encode(["bytes32", LINE_SPEC, "bytes32"], [oid(f"o:{label}"), spec, ZERO32]))
    return line


def set_terms(d, code: str = "ONT-X1", on_consumption: bool = False, price: int = PRICE):
    params = encode(
        ["address", "bytes16", TERMS], [d.vendor.address, sku(code), (d.token.address, price, 30, on_consumption)]
    )
    r = d.act("setVendorTerms", params)
    pid = named(r, "ProposalOpened")[0].proposalId
    d.constitution.voteFor(pid, True, ZERO32, sender=d.vendor)


def deliver(d, line: bytes, n: int):
    d.act("deliverLine", encode(["bytes32", "uint32", "bytes32"], [line, n, ZERO32]), sender=d.vendor)


def take_back(d, line: bytes, n: int):
    d.act("returnStock", encode(["bytes32", "uint32", "bytes32"], [line, n, ZERO32]), sender=d.vendor)


def consume(d, line: bytes, n: int, code: str = "ONT-X1"):
    params = encode(
        ["bytes32", "address", "bytes16", "uint32", "bytes32"], [line, d.vendor.address, sku(code), n, ZERO32]
    )
    d.act("consumeStock", params)


def invoice_line(d, line: bytes, n: int, sender=None, **kw):
    params = encode(["bytes32", "uint32", "bytes32"], [line, n, keccak(text="vendor-invoice-7")])
    return d.act("invoiceLine", params, sender=sender or d.vendor, **kw)


def credit_returns(d, line: bytes, sender=None):
    return d.act("creditReturns", encode(["bytes32"], [line]), sender=sender or d.operator)


def test_vendor_paid_on_delivery_and_returns_become_credit(deal):
    d = deal
    d.token.transfer(d.operator, 10_000 * UNIT, sender=d.customer)
    line = purchase_order(d, "po1", 10)
    with reverts_with("VendorNoTerms"):
        invoice_line(d, line, 1)
    set_terms(d)
    with reverts_with("VendorOverInvoiced", quantity=1, available=0):
        invoice_line(d, line, 1)  # reserved, nothing delivered: no match
    deliver(d, line, 4)
    with reverts_with("VendorUnauthorized"):
        invoice_line(d, line, 1, sender=d.operator)
    with reverts_with("VendorOverInvoiced", quantity=5, available=4):
        invoice_line(d, line, 5)
    r = invoice_line(d, line, 4)
    ev = named(r, "VendorInvoiced")[0]
    assert (ev.quantity, ev.amount, ev.invoiced) == (4, 4 * PRICE, 4)
    inv = d.escrow.invoice(ev.invoiceId)
    assert (inv.payer, inv.payee, inv.amount, inv.hold) == (d.operator.address, d.vendor.address, 4 * PRICE, False)
    assert bytes(inv.subject) == line
    with reverts_with("VendorOverInvoiced", quantity=1, available=0):
        invoice_line(d, line, 1)  # the same units cannot be invoiced twice

    before = d.balances()
    d.fund(ev.invoiceId, sender=d.operator)  # the operator pays through the escrow
    after = d.balances()
    assert d.status(ev.invoiceId) is Status.RELEASED
    assert after["vendor"] - before["vendor"] == 4 * PRICE == before["operator"] - after["operator"]
    assert after["escrow"] == before["escrow"]

    with reverts_with("VendorNothingToCredit"):
        credit_returns(d, line)
    with reverts_with("VendorUnauthorized", account=d.customer.address):
        credit_returns(d, line, sender=d.customer)
    take_back(d, line, 1)  # one invoiced unit goes back to the vendor
    r = credit_returns(d, line, sender=d.vendor)
    cr = named(r, "VendorCredited")[0]
    assert (cr.quantity, cr.amount) == (1, PRICE)
    assert d.escrow.creditOf(d.operator, d.vendor, d.token) == PRICE
    s = d.vendors.lineSettlement(line)
    assert (s.reserved, s.billable, s.invoiced, s.credited) == (10, 3, 4, 1)

    # the next delivery is invoiced with the credit applied: the operator pays the difference
    deliver(d, line, 3)
    r = invoice_line(d, line, 3)
    inv2 = named(r, "VendorInvoiced")[0].invoiceId
    assert d.escrow.invoice(inv2).credited == PRICE
    before = d.balances()
    d.fund(inv2, sender=d.operator)
    after = d.balances()
    assert after["vendor"] - before["vendor"] == 2 * PRICE == before["operator"] - after["operator"]


def test_vendor_paid_on_consumption(deal):
    d = deal
    d.token.transfer(d.operator, 10_000 * UNIT, sender=d.customer)
    set_terms(d, code="SFP-9", on_consumption=True, price=7 * UNIT)
    line = purchase_order(d, "po2", 5, code="SFP-9")
    deliver(d, line, 5)
    with reverts_with("VendorOverInvoiced", quantity=1, available=0):
        invoice_line(d, line, 1)  # delivered but not consumed
    consume(d, line, 2, code="SFP-9")
    r = invoice_line(d, line, 2)
    inv = named(r, "VendorInvoiced")[0].invoiceId
    before = d.balances()
    d.pay(inv, 5 * UNIT, sender=d.operator)  # a partial payment works for vendor invoices too
    d.pay(inv, 9 * UNIT, sender=d.operator)
    after = d.balances()
    assert d.status(inv) is Status.RELEASED
    assert after["vendor"] - before["vendor"] == 14 * UNIT == before["operator"] - after["operator"]


def test_vendor_terms_are_checked(deal):
    d = deal
    params = encode(["address", "bytes16", TERMS], [d.vendor.address, sku("BAD"), (d.token.address, 0, 30, False)])
    with reverts_with("VendorInvalidTerms", vendor=d.vendor.address):
        d.act("setVendorTerms", params)  # the Constitution checks a proposal's params when it opens
    with reverts_with("VendorUnknownLine"):
        invoice_line(d, oid("no-such-line"), 1)
