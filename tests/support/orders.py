"""The OrderBook tests' world and helpers (tests/contracts/orders).

The consortium (tests/support/worlds/orders.yaml): a Constitution, the AssetRegistry
(``register`` for the operator, the Internal ``transition``) and the OrderBook, whose actions are
defined at genesis, then sealed.

- ``operator`` (alice): projects, orders, services, lines, revisions, cancellations, consumption;
- ``vendor_x`` (bob) and ``vendor_y`` (dave): suppliers; deliver and take back their lines;
- ``customer`` (carol): a member holding no order permission;
- ``stranger``: not a member.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from telcochain.assets import AssetState  # noqa: F401  (the tests import it from here)
from telcochain.orders import ORDER_TRANSITIONS, ChangePolicy, ItemAction, OrderState

from tests.support.dryrun import execute_action, send
from tests.support.encoding import ZERO32, ZERO_ADDRESS, action_id, details, ref
from tests.support.worlds import check_roles, deploy_world, granted, load_world

# --------------------------------------------------------------------------------------------
# contracts/libraries/OrderLifecycle.sol: its enums and THE table, as the SDK mirrors them
# (tests/sdk/test_orders.py checks the table against the chain, tests/toolchain/test_rules.py the enums)
# --------------------------------------------------------------------------------------------


St = OrderState
Action = ItemAction
Policy = ChangePolicy
TABLE = ORDER_TRANSITIONS
EDGES = {(f, t) for f, ts in TABLE.items() for t in ts}
MAX_CHANGES = 64

# --------------------------------------------------------------------------------------------
# Actions, permissions and encodings (what the SDK must produce)
# --------------------------------------------------------------------------------------------

#: The world's members by role (tests/support/worlds/orders.yaml); ``stranger`` is not a member.
MEMBERS = {
    "operator": "Alice Telecom",
    "vendor_x": "Bob Devices",
    "customer": "Carol Enterprise",
    "vendor_y": "Dave Cabling",
}
_GRANTED = granted("orders", MEMBERS, "OrderBook")
#: The OrderBook actions the operator acts (the others are the suppliers')
OPERATOR_ACTIONS = [name for name, who in _GRANTED.items() if who == ("operator",)]
VENDOR_ACTIONS = [name for name in _GRANTED if name not in OPERATOR_ACTIONS]
LINE_SPEC = "(bytes32,bytes32,bytes32,address,bytes16,uint32,uint8)"


def oid(label: str) -> bytes:
    """An id (project, order, service, line, asset) from a label."""
    return keccak(text=f"id:{label}")


def sku(code: str) -> bytes:
    raw = code.encode()
    assert len(raw) <= 16
    return raw.ljust(16, b"\x00")


def _addr(account) -> str:
    return account if isinstance(account, str) else account.address


@dataclass(frozen=True)
class Line:
    """A device line as the client describes it."""

    label: str
    service: str
    vendor: Any
    sku: str
    quantity: int = 1
    policy: Policy = Policy.AUTO_CORRECT
    asset: str | None = None

    @property
    def id(self) -> bytes:
        return oid(f"line:{self.label}")

    @property
    def asset_id(self) -> bytes:
        return oid(f"asset:{self.asset}") if self.asset else ZERO32

    def spec(self, policy_: Policy | None = None) -> tuple:
        return (
            self.id,
            oid(f"svc:{self.service}"),
            self.asset_id,
            _addr(self.vendor),
            sku(self.sku),
            self.quantity,
            int(self.policy if policy_ is None else policy_),
        )


def line_ref_spec(line_id: bytes, policy_: Policy = Policy.AUTO_CORRECT) -> tuple:
    """The LineSpec of a Delete / NoChange change: only the id and the policy are read."""
    return (line_id, ZERO32, ZERO32, ZERO_ADDRESS, b"\x00" * 16, 0, int(policy_))


def revise_params(order, services, lines, details_=ZERO32) -> bytes:
    return encode(
        ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"],
        [order, list(services), list(lines), details_],
    )


# --------------------------------------------------------------------------------------------
# The consortium under test
# --------------------------------------------------------------------------------------------


@dataclass
class Book:
    """The Constitution, the AssetRegistry and the OrderBook, with shortcuts."""

    constitution: Any
    registry: Any
    book: Any
    roles: dict[str, Any]

    def __getattr__(self, name):
        if name in self.__dict__.get("roles", {}):
            return self.roles[name]
        raise AttributeError(name)

    def act(self, action: str, params: bytes, sender=None, ref_: bytes | None = None):
        default = self.roles["operator"] if action in OPERATOR_ACTIONS else self.roles["vendor_x"]
        return execute_action(self.constitution, action, params, sender=sender or default, ref_=ref_)

    # structure
    def create_project(self, project="P", customer=None, **kw):
        cust = _addr(customer or self.roles["customer"])
        return self.act("createProject", encode(["bytes32", "address", "bytes32"], [oid(project), cust, ZERO32]), **kw)

    def create_order(self, order="O", project="P", **kw):
        return self.act("createOrder", encode(["bytes32"] * 3, [oid(order), oid(project), ZERO32]), **kw)

    def add_service(self, service, version=1, order="O", **kw):
        params = encode(
            ["bytes32", "bytes32", "uint32", "bytes32"], [oid(order), oid(f"svc:{service}"), version, ZERO32]
        )
        return self.act("addService", params, **kw)

    def add_line(self, line: Line, order="O", **kw):
        params = encode(["bytes32", LINE_SPEC, "bytes32"], [oid(order), line.spec(), ZERO32])
        return self.act("addDeviceLine", params, **kw)

    def revise(self, services, lines, order="O", **kw):
        return self.act("reviseOrder", revise_params(oid(order), services, lines, details("rev")), **kw)

    def resume(self, line_ids, order="O", **kw):
        params = encode(["bytes32", "bytes32[]", "bytes32"], [oid(order), list(line_ids), ZERO32])
        return self.act("resumeLines", params, **kw)

    def cancel(self, line_ids=(), service_ids=(), order="O", **kw):
        params = encode(
            ["bytes32", "bytes32[]", "bytes32[]", "bytes32"], [oid(order), list(line_ids), list(service_ids), ZERO32]
        )
        return self.act("cancelOrder", params, **kw)

    def transition_order(self, to: int, order="O", **kw):
        return self.act("transitionOrder", encode(["bytes32", "uint8", "bytes32"], [oid(order), int(to), ZERO32]), **kw)

    def transition_service(self, service, to: int, order="O", **kw):
        params = encode(
            ["bytes32", "bytes32", "uint8", "bytes32"], [oid(order), oid(f"svc:{service}"), int(to), ZERO32]
        )
        return self.act("transitionService", params, **kw)

    # stock
    def deliver(self, line: Line | bytes, quantity=1, sender=None, **kw):
        line_id = line.id if isinstance(line, Line) else line
        vendor = sender or (line.vendor if isinstance(line, Line) else None)
        params = encode(["bytes32", "uint32", "bytes32"], [line_id, quantity, details("delivery")])
        return self.act("deliverLine", params, sender=vendor, **kw)

    def consume(self, line_id: bytes, vendor, sku_code: str, quantity=1, **kw):
        params = encode(
            ["bytes32", "address", "bytes16", "uint32", "bytes32"],
            [line_id, _addr(vendor), sku(sku_code), quantity, ZERO32],
        )
        return self.act("consumeStock", params, **kw)

    def take_back(self, line: Line, quantity=1, **kw):
        params = encode(["bytes32", "uint32", "bytes32"], [line.id, quantity, ZERO32])
        return self.act("returnStock", params, sender=line.vendor, **kw)

    # assets
    def register_asset(self, label: str):
        params = encode(
            ["bytes32", "bytes12", "bytes32", "bytes32", "bytes32", "bytes32"],
            [oid(f"asset:{label}"), b"CPE".ljust(12, b"\x00"), ZERO32, ZERO32, ZERO32, ZERO32],
        )
        return send(
            self.constitution.executeAction, action_id("register"), params, ref("reg"), sender=self.roles["operator"]
        )

    # views
    def order(self, order="O"):
        return self.book.getOrder(oid(order))

    def order_state(self, order="O") -> St:
        return St(self.book.getOrder(oid(order)).state)

    def service(self, service, order="O"):
        return self.book.getService(oid(order), oid(f"svc:{service}"))

    def line(self, line: Line | bytes):
        return self.book.getLine(line.id if isinstance(line, Line) else line)

    def line_state(self, line: Line | bytes) -> St:
        return St(self.line(line).state)

    def asset_state(self, label: str) -> int:
        return self.registry.stateOf(oid(f"asset:{label}"))

    def reconcile_order(self, order="O", offset=0, limit=10) -> tuple[list[bytes], StockFigures]:
        lines, totals = self.book.reconcileOrder(oid(order), offset, limit)
        return [bytes(_field(v, "lineId", 0)) for v in lines], StockFigures(*totals)

    def reconcile_vendor(self, vendor, offset=0, limit=10) -> tuple[list[bytes], StockFigures]:
        lines, totals = self.book.reconcileVendor(_addr(vendor), offset, limit)
        return [bytes(_field(v, "lineId", 0)) for v in lines], StockFigures(*totals)

    def stock(self, vendor, sku_code: str) -> tuple:
        s = self.book.stockOf(_addr(vendor), sku(sku_code))
        return (s.reserved, s.released, s.delivered, s.consumed, s.returned, s.openReservation, s.stillOut)


StockFigures = namedtuple("StockFigures", "reserved released delivered consumed returned openReservation stillOut")


def _field(value, name: str, index: int):
    """A struct field: ape returns nested structs as tuples."""
    return getattr(value, name) if hasattr(value, name) else value[index]


def supplier_events(book: Book, receipt) -> dict[str, set[tuple[str, bytes]]]:
    """Per supplier address (lower-case): the OrderBook events it received, as (name, lineId)."""
    out: dict[str, set[tuple[str, bytes]]] = {}
    for log in receipt.events:
        if log.contract_address != book.book.address or "vendor" not in log.event_arguments:
            continue
        out.setdefault(log.vendor.lower(), set()).add((log.event_name, bytes(log.lineId)))
    return out


def deploy_book(deployer, roles) -> Book:
    """The world of tests/support/worlds/orders.yaml, deployed through scripts/deploy.py."""
    config = load_world("orders")
    check_roles(config, MEMBERS, roles)
    world = deploy_world(config, deployer)
    return Book(world.constitution, world.contracts["AssetRegistry"], world.contracts["OrderBook"], roles)
