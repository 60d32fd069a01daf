"""Fixtures of the flows state machine; the world and helpers are tests/support/invariants.py.

The consortium is package-scoped (deployed once; the state machine snapshots the chain around
each example).

A package so that its ``conftest`` does not shadow tests/contracts/conftest.py.
"""

from __future__ import annotations

import pytest
from eth_abi import encode

from tests.support.agreement import UNIT
from tests.support.invariants import (
    ASSETS,
    CUSTOMERS,
    MONTHLY,
    RETAIL,
    ZERO32,
    World,
    approve_data,
    asset_id,
    deploy_flows,
    execute,
    oid,
    order_id,
    registration,
    send_as_retail,
    service_id,
)


@pytest.fixture(scope="package")
def roles(accounts):
    return {
        "operator": accounts[1],
        "vendor": accounts[2],
        "customer": accounts[3],
        "customer2": accounts[4],
        "stranger": accounts[9],
        "retail": RETAIL,  # not a member, never sends: only its address and key are used
    }


@pytest.fixture(scope="package")
def world(accounts, roles) -> World:
    return deploy_flows(accounts[0], roles)


@pytest.fixture(scope="module")
def seeded(world):
    """The setting every run starts from: four twins of the operator (serial bound, vendor
    named), one project + order + service per customer; the retail customer registered by the
    operator (its wallet is its signing key)."""
    op = world.roles["operator"]
    execute(world, "setMonthlyCharge", encode(["uint256"], [MONTHLY]), op, "monthly")
    execute(
        world,
        "addCustomer",
        encode(["address", "address", "bytes32", "bytes32"], [RETAIL.address, RETAIL.address, ZERO32, ZERO32]),
        op,
        "retail",
    )
    # the retail wallet holds tokens of its own and approves the escrow (it pays its bills directly)
    world.token.transfer(RETAIL.address, 2_000 * UNIT, sender=world.roles["customer"])
    send_as_retail(world.token.address, approve_data(world.escrow.address))
    for a in ASSETS:
        execute(world, "register", registration(asset_id(a), oid(f"serial:{a}")), op, a)
        params = encode(
            ["bytes32", "address", "address", "bytes32"],
            [asset_id(a), "0x" + "00" * 20, world.roles["vendor"].address, ZERO32],
        )
        execute(world, "setParties", params, op, a)
    for c in CUSTOMERS:
        execute(
            world,
            "createProject",
            encode(["bytes32", "address", "bytes32"], [oid(f"p:{c}"), world.roles[c].address, ZERO32]),
            op,
            c,
        )
        execute(world, "createOrder", encode(["bytes32"] * 3, [order_id(c), oid(f"p:{c}"), ZERO32]), op, c)
        execute(
            world,
            "addService",
            encode(["bytes32", "bytes32", "uint32", "bytes32"], [order_id(c), service_id(c), 1, ZERO32]),
            op,
            c,
        )
    return world
