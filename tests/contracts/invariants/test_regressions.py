"""Minimal reproductions of what the flows state machine (test_flows_machine.py) found.

Each test states an invariant of the machine on the shortest path that broke it.
"""

from __future__ import annotations

import contextlib

from ape.exceptions import ContractLogicError
from eth_abi import encode

from .conftest import LINE_SPEC, SKU, ZERO32, asset_id, execute, line_id, order_id, service_id

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
