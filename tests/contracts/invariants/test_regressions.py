"""Minimal reproductions of what the flows state machine (test_flows_machine.py) found.

Each test states an invariant of the machine on the shortest path that broke it.
"""

from __future__ import annotations

import contextlib

from ape.exceptions import ContractLogicError
from eth_abi import encode
from eth_utils import keccak

from tests.support.agreement import UNIT
from tests.support.invariants import (
    LINE_SPEC,
    RETAIL,
    SKU,
    ZERO32,
    asset_id,
    execute,
    line_id,
    order_id,
    send_as_retail,
    service_id,
)

ZERO_ADDRESS = "0x" + "00" * 20


def _add_line(world, n: int, asset: str, customer: str):
    spec = (line_id(n), service_id(customer), asset_id(asset), world.roles["vendor"].address, SKU, 1, 1)
    params = encode(["bytes32", LINE_SPEC, "bytes32"], [order_id(customer), spec, ZERO32])
    return execute(world, "addDeviceLine", params, world.roles["operator"], f"line{n}")


def _delete_line(world, n: int, customer: str):
    change = (2, (line_id(n), ZERO32, ZERO32, ZERO_ADDRESS, b"\x00" * 16, 0, 1))
    params = encode(
        ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"],
        [order_id(customer), [], [change], ZERO32],
    )
    return execute(world, "reviseOrder", params, world.roles["operator"], f"delete{n}")


def test_a_served_twin_stays_its_customers_in_the_registry(seeded):
    """The agreement's open installation for ``customer`` on a twin that an order line brought
    back to Planned: the operator's ``setParties`` must not hand the twin to another customer
    while the agreement still serves (and holds the payment of) the first one.

    Found by the state machine (invariant ``agreement_matches``: a served twin's registry
    customer is the service's customer)."""
    world = seeded
    roles = world.roles
    a = asset_id("A0")
    _add_line(world, 1, "A0", "customer")  # the line binds the twin to customer (PendingInstallation)
    params = encode(["bytes32", "address", "bytes32"], [a, roles["customer"].address, ZERO32])
    execute(world, "requestInstallation", params, roles["customer"], "req")  # the customer asks for its twin
    invoice_id = world.agreement.serviceOf(a).installInvoice
    execute(world, "fundInvoice", encode(["uint256"], [invoice_id]), roles["customer"], "fund")
    _delete_line(world, 1, "customer")  # the line goes: twin Planned, still customer's, installation open
    assert world.agreement.serviceOf(a).customer == roles["customer"].address
    assert world.registry.getAsset(a).customer == roles["customer"].address

    params = encode(
        ["bytes32", "address", "address", "bytes32"], [a, roles["customer2"].address, roles["vendor"].address, ZERO32]
    )
    with contextlib.suppress(ContractLogicError):  # refused: the agreement's installation holds the twin
        execute(world, "setParties", params, roles["operator"], "reassign")

    served = world.agreement.serviceOf(a).customer
    assert world.registry.getAsset(a).customer == served, (
        "setParties re-assigned a twin the agreement serves: registry customer "
        f"{world.registry.getAsset(a).customer}, agreement customer {served}"
    )


def test_a_served_twin_is_not_decommissioned_under_its_open_installation(seeded):
    """Same path (the line removed, the twin Planned, the installation open and paid): the
    custodian's ``decommission`` must be refused while the agreement serves the twin, and the
    customer can still withdraw — its payment comes back."""
    world = seeded
    roles = world.roles
    a = asset_id("A1")
    _add_line(world, 2, "A1", "customer")
    params = encode(["bytes32", "address", "bytes32"], [a, roles["customer"].address, ZERO32])
    execute(world, "requestInstallation", params, roles["customer"], "req-a1")
    invoice_id = world.agreement.serviceOf(a).installInvoice
    execute(world, "fundInvoice", encode(["uint256"], [invoice_id]), roles["customer"], "fund-a1")
    _delete_line(world, 2, "customer")
    assert world.registry.getAsset(a).served
    with contextlib.suppress(ContractLogicError):  # refused: an installation is open on it
        execute(world, "decommission", encode(["bytes32", "bytes32"], [a, ZERO32]), roles["operator"], "retire")
    assert world.registry.stateOf(a) != 9, "a served twin was decommissioned under its open installation"
    before = world.token.balanceOf(roles["customer"])
    execute(world, "withdrawInstallation", encode(["bytes32", "bytes32"], [a, ZERO32]), roles["customer"], "wd")
    assert world.token.balanceOf(roles["customer"]) - before == world.escrow.invoice(invoice_id).amount
    assert world.agreement.serviceOf(a).customer == ZERO_ADDRESS and not world.registry.getAsset(a).served


def _act_for(world, op: int, inner: bytes, charge: int, label: str):
    """The operator's own ``actFor`` for the registered customer (no consent)."""
    params = encode(
        ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"], [op, inner, charge, 0, 0, 0, b""]
    )
    return execute(world, "actFor", params, world.roles["operator"], label)


def test_a_charge_reversed_after_its_bill_is_a_credit_backed_by_that_bill(seeded):
    """The last term of the machine's credit bound (``credit_never_exceeds_what_was_paid``): a
    registered customer installed for free (charge 0: it has paid nothing), a MACD charge the
    operator states, billed, then the change cancelled. The cancellation gives back exactly the
    charge — billed into a credit note — while the bill stays owed: the customer holds credit
    it has not paid for, backed by its open bill (credit <= paid + what its open bills ask), and
    once it pays the bill the credit is backed by the payment."""
    world = seeded
    op, esc = world.roles["operator"], world.escrow
    a = asset_id("A2")
    _act_for(world, 0, encode(["bytes32", "address", "bytes32"], [a, RETAIL.address, ZERO32]), 0, "install")
    execute(world, "deliver", encode(["bytes32", "bytes32"], [a, ZERO32]), world.roles["vendor"], "deliver")
    execute(world, "confirmInstallation", encode(["bytes32", "bytes32"], [a, ZERO32]), op, "confirm")
    assert world.agreement.serviceOf(a).installInvoice == 0  # free: nothing paid
    charge = 45 * UNIT
    _act_for(world, 1, encode(["uint8", "bytes32", "bytes32"], [0, a, ZERO32]), charge, "move")
    bill = encode(["address", "bytes32"], [RETAIL.address, ZERO32])
    execute(world, "billAccount", bill, op, "bill-1")
    invoice_id = esc.invoiceCount()
    assert esc.invoice(invoice_id).amount == charge
    execute(world, "cancelChange", encode(["bytes32", "bytes32"], [a, ZERO32]), op, "cancel")
    assert world.agreement.accountOf(RETAIL.address).balance == -charge  # exactly its charge back
    execute(world, "billAccount", bill, op, "bill-2")

    credit = esc.creditOf(RETAIL.address, op.address, world.token.address)
    outstanding = esc.billingOf(invoice_id).outstanding
    assert credit == charge and outstanding == charge  # credit not paid for, backed by the open bill
    pay = keccak(text="pay(uint256,uint256)")[:4] + encode(["uint256", "uint256"], [invoice_id, charge])
    send_as_retail(esc.address, pay)
    assert esc.billingOf(invoice_id).outstanding == 0 and esc.statusOf(invoice_id) == 3  # Released
    assert esc.creditOf(RETAIL.address, op.address, world.token.address) == charge  # now backed by the payment
