"""One consortium with every flow module: registry + orders + escrow + agreement + token.

Package-scoped (deployed once; the state machine snapshots the chain around each example).
Every flow action is granted to every member role, so that only the contracts' own checks (who
may act on what, in which state) stand between an illegitimate call and a state change; the
Constitution's grants are exercised by the stranger (a non-member: always denied).

- ``operator``: custodian of the twins, payee of every invoice, runs the orders;
- ``vendor``: delivers (the twins' vendor and every order line's supplier);
- ``customer`` and ``customer2``: enterprise customers, each with its own project/order;
- ``stranger``: not a member;
- ``retail``: a non-member customer (issue 14) registered by the operator with its own wallet as
  signing key: it never sends; the operator files its requests through ``actFor``, with or
  without its EIP-712 consent.

A package so that its ``conftest`` does not shadow tests/contracts/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from agreement.conftest import UNIT, WINDOW, entry_selector, terms_tuple
from conftest import Scope, action_id, grant, policy  # tests/contracts/conftest.py
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

ZERO32 = b"\x00" * 32
MEMBERS = ("operator", "vendor", "customer", "customer2")
CUSTOMERS = ("customer", "customer2")
START_BALANCE = 10_000 * UNIT  # of the operator and of each customer
MONTHLY = 300 * UNIT + 7  # the recurring charge per service and month (issue 14): odd, so prorations floor

REGISTRY_PUBLIC = (
    "register",
    "bindSerial",
    "setParties",
    "scheduleInstallation",
    "cancelInstallation",
    "deliver",
    "commission",
    "requestChange",
    "completeChange",
    "completeDeletion",
    "requestDisconnect",
    "withdrawDisconnect",
    "completeDisconnect",
    "recover",
    "decommission",
)
REGISTRY_INTERNAL = ("transition", "transitionBatch", "assignParties")
ORDER_ACTIONS = (
    "createProject",
    "createOrder",
    "addService",
    "addDeviceLine",
    "reviseOrder",
    "consumeStock",
    "deliverLine",
    "returnStock",
)
ESCROW_PUBLIC = (
    "fundInvoice",
    "releaseInvoice",
    "refundInvoice",
    "reclaimInvoice",
    "payOutCredit",
    "payInvoice",
    "disputeInvoice",
    "resolveDispute",
    "requestCreditPayout",
)
ESCROW_INTERNAL = ("issueInvoice", "confirmInvoice", "voidInvoice", "issueCreditNote", "settleCredit")
AGREEMENT_ACTIONS = (
    "requestInstallation",
    "confirmInstallation",
    "withdrawInstallation",
    "orderChange",
    "orderChanges",
    "confirmChange",
    "confirmChanges",
    "cancelChange",
    "orderDisconnect",
    "cancelDisconnect",
    "confirmDisconnect",
    "billAccount",
    "accrueRecurring",
    "actFor",
)
#: The non-member customer's wallet (signs its consents; never sends a transaction).
RETAIL = Account.from_key(keccak(text="invariants retail wallet"))
# order-book verbs only the operator holds (the OrderBook trusts its grants for these)
ORDER_OPERATOR_ONLY = ("createProject", "createOrder", "addService", "addDeviceLine", "reviseOrder", "consumeStock")


ASSETS = [f"A{i}" for i in range(4)]
LINE_SPEC = "(bytes32,bytes32,bytes32,address,bytes16,uint32,uint8)"
SKU = b"ONT".ljust(16, b"\x00")


def oid(label: str) -> bytes:
    return keccak(text=f"inv:{label}")


def asset_id(label: str) -> bytes:
    return oid(f"asset:{label}")


def line_id(n: int) -> bytes:
    return oid(f"line:{n}")


def order_id(customer: str) -> bytes:
    return oid(f"order:{customer}")


def service_id(customer: str) -> bytes:
    return oid(f"svc:{customer}")


@dataclass
class World:
    constitution: Any
    registry: Any
    book: Any
    escrow: Any
    agreement: Any
    token: Any
    roles: dict[str, Any]
    customers: Any = None


def deploy_world(project, deployer, founders, roles) -> World:
    c = project.Constitution.deploy(founders, sender=deployer)
    registry = project.AssetRegistry.deploy(c.address, sender=deployer)
    book = project.OrderBook.deploy(c.address, sender=deployer)
    escrow = project.EscrowPayment.deploy(c.address, WINDOW, sender=deployer)
    holders = [roles[r] for r in ("operator", *CUSTOMERS)]
    token = project.SettlementToken.deploy(
        c.address, "Telco Settlement Dollar", "TSD", 6, holders, [START_BALANCE] * 3, sender=deployer
    )
    customers = project.CustomerRegistry.deploy(c.address, sender=deployer)
    agreement = project.OperatorAgreement.deploy(
        c.address,
        registry.address,
        escrow.address,
        customers.address,
        roles["operator"].address,
        terms_tuple(token),
        sender=deployer,
    )
    members = [roles[m] for m in MEMBERS]

    def define(name, module, grants=(), scope=Scope.PUBLIC, callers=()):
        c.genesisDefineAction(
            policy(name, scope=scope, module=module, selector_=entry_selector(name), callers=list(callers)),
            [grant(g) for g in grants],
            sender=deployer,
        )

    for name in REGISTRY_PUBLIC:
        define(name, registry, [roles["operator"]] if name in ("register", "bindSerial") else members)
    for name in REGISTRY_INTERNAL:  # module capabilities: the flows that may call them
        define(name, registry, scope=Scope.INTERNAL, callers=[book, agreement])
    for name in ORDER_ACTIONS:
        define(name, book, [roles["operator"]] if name in ORDER_OPERATOR_ONLY else members)
    for name in ESCROW_PUBLIC:
        define(name, escrow, members)
    for name in ESCROW_INTERNAL:
        define(name, escrow, scope=Scope.INTERNAL, callers=[agreement])
    for name in AGREEMENT_ACTIONS:
        define(name, agreement, members)
    define("setMonthlyCharge", agreement, [roles["operator"]])  # set once in `seeded` (a vote in consortium.yaml)
    define("addCustomer", customers, [roles["operator"]])
    define("useConsent", customers, scope=Scope.INTERNAL, callers=[agreement])
    c.sealGenesis(sender=deployer)
    for who in ("operator", *CUSTOMERS):
        token.approve(escrow, 2**256 - 1, sender=roles[who])
    return World(c, registry, book, escrow, agreement, token, roles, customers)


def approve_data(spender: str) -> bytes:
    return keccak(text="approve(address,uint256)")[:4] + encode(["address", "uint256"], [spender, 2**256 - 1])


def send_as_retail(to: str, data: bytes) -> None:
    """A transaction the retail wallet signs itself (gas price 0: it holds no ether)."""
    from ape import networks

    w3 = networks.provider.web3
    tx = {
        "to": to,
        "data": data,
        "gas": 200_000,
        "gasPrice": 0,
        "nonce": w3.eth.get_transaction_count(RETAIL.address),
        "chainId": w3.eth.chain_id,
        "value": 0,
    }
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(RETAIL.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1, receipt


def execute(world: World, action: str, params: bytes, sender, label: str = ""):
    """Sends the action through the Constitution (a real transaction)."""
    return world.constitution.executeAction(
        action_id(action), params, keccak(text=f"ref:{action}:{label}"), sender=sender
    )


def registration(asset: bytes, serial: bytes) -> bytes:
    return encode(
        ["bytes32", "bytes12", "bytes32", "bytes32", "bytes32", "bytes32"],
        [asset, b"ONT".ljust(12, b"\x00"), serial, ZERO32, ZERO32, ZERO32],
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
def world(project, accounts, roles) -> World:
    founders = [
        (roles["operator"].address, (1).to_bytes(32, "big"), "Northwind Telecom"),
        (roles["vendor"].address, (2).to_bytes(32, "big"), "Acme Networks"),
        (roles["customer"].address, (3).to_bytes(32, "big"), "Initech Enterprise"),
        (roles["customer2"].address, (4).to_bytes(32, "big"), "Globex Corp"),
    ]
    return deploy_world(project, accounts[0], founders, roles)


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
