"""The flows state machine's world and helpers (tests/contracts/invariants): one consortium with
every flow module — registry + orders + escrow + agreement + token (tests/support/worlds/invariants.yaml).

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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from tests.support.agreement import UNIT, check_terms, tariff_entries
from tests.support.encoding import ZERO32, action_id
from tests.support.worlds import check_roles, deploy_world, granted, load_world

MEMBERS = ("operator", "vendor", "customer", "customer2")
CUSTOMERS = ("customer", "customer2")
START_BALANCE = 10_000 * UNIT  # of the operator and of each customer
MONTHLY = 300 * UNIT + 7  # the recurring charge per service and month (issue 14): odd, so prorations floor

#: The world's members by role (tests/support/worlds/invariants.yaml); ``stranger`` and ``retail``
#: are not members.
MEMBERS = {
    "operator": "Northwind Telecom",
    "vendor": "Acme Networks",
    "customer": "Initech Enterprise",
    "customer2": "Globex Corp",
}
#: The flows' actions: the OperatorAgreement's granted to every member, and the OrderBook's
AGREEMENT_ACTIONS = tuple(
    name for name, who in granted("invariants", MEMBERS, "OperatorAgreement").items() if who == tuple(MEMBERS)
)
ORDER_ACTIONS = tuple(granted("invariants", MEMBERS, "OrderBook"))
#: The non-member customer's wallet (signs its consents; never sends a transaction).
RETAIL = Account.from_key(keccak(text="invariants retail wallet"))


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


def deploy_flows(deployer, roles) -> World:
    """The world of tests/support/worlds/invariants.yaml, deployed through scripts/deploy.py; the
    operator and the customers approve the escrow for their tokens."""
    config = load_world("invariants", agreement={"tariff": tariff_entries()})
    check_roles(config, MEMBERS, roles)
    world = deploy_world(config, deployer)
    c = world.contracts
    token, escrow = c["SettlementToken"], c["EscrowPayment"]
    check_terms(config, token)
    for who in ("operator", *CUSTOMERS):
        token.approve(escrow, 2**256 - 1, sender=roles[who])
    return World(
        world.constitution,
        c["AssetRegistry"],
        c["OrderBook"],
        escrow,
        c["OperatorAgreement"],
        token,
        roles,
        c["CustomerRegistry"],
    )


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
