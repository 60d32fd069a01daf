"""``client.orders``: projects → CRM orders → versioned service items → device lines.

The OrderBook module records the anatomy of a customer order (seed 001), applies a revision
in one action with a change policy per device line (*Pause* holds the line and tells its
supplier at once; *AutoCorrect* carries on), cancels at any stage, and keeps a stock ledger
per vendor and SKU (reserved, released, delivered, consumed, returned). docs/orders.md has
the states, the transition table and the rules.

Ids (project, order, service, line) are text up to 32 bytes (``"ORD-2026-0042"``) or 0x-hex
bytes32, like asset ids; SKUs are text up to 16 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from telcochain.constitution import constitution_of
from telcochain.errors import ConfigurationError, ContractRevert, contract_error_class
from telcochain.types import ZERO_ADDRESS, Ref, show_bytes32, to_address, to_bytes32

if TYPE_CHECKING:
    from telcochain.constitution import ActionResult
    from telcochain.session import Session

ZERO32 = b"\0" * 32
#: The most items (services, lines, ids) one action may carry (OrderBook.MAX_CHANGES).
MAX_CHANGES = 64
#: Lines or services read per eth_call when a tree or a reconciliation is assembled.
PAGE = 100


class OrderState(IntEnum):
    """TM Forum TMF622 / TMF641 states (mirrors ``OrderLifecycle.State``)."""

    NONE = 0
    ACKNOWLEDGED = 1
    REJECTED = 2
    PENDING = 3
    HELD = 4
    IN_PROGRESS = 5
    CANCELLED = 6
    COMPLETED = 7
    FAILED = 8
    PARTIAL = 9
    ASSESSING_CANCELLATION = 10
    PENDING_CANCELLATION = 11

    @property
    def label(self) -> str:
        """The TM Forum spelling: ``inProgress``, ``assessingCancellation``..."""
        first, *rest = self.name.lower().split("_")
        return first + "".join(w.capitalize() for w in rest)

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @classmethod
    def parse(cls, text: str) -> OrderState:
        """A state from its TM Forum label (``inProgress``) or enum name (``IN_PROGRESS``)."""
        for state in cls:
            if text in (state.label, state.name, state.name.lower()) and state is not cls.NONE:
                return state
        names = ", ".join(s.label for s in cls if s is not cls.NONE)
        raise ConfigurationError(f"unknown order state {text!r} (one of: {names})")


class ItemAction(IntEnum):
    """The TMF action of a service item or line change (mirrors ``OrderLifecycle.ItemAction``)."""

    ADD = 0
    MODIFY = 1
    DELETE = 2
    NO_CHANGE = 3


class ChangePolicy(IntEnum):
    """What a revision does to a device line (mirrors ``OrderLifecycle.ChangePolicy``)."""

    PAUSE = 0  # hold the line, tell its supplier at once that the order is being re-planned
    AUTO_CORRECT = 1  # carry on; only added devices are ordered

    @property
    def json_name(self) -> str:
        """As the CLI takes it (``--policy autocorrect``) and shows it in ``--json``."""
        return self.name.replace("_", "").lower()

    @classmethod
    def parse(cls, text: str | ChangePolicy) -> ChangePolicy:
        if isinstance(text, ChangePolicy):
            return text
        key = text.replace("-", "").replace("_", "").lower()
        for policy in cls:
            if policy.name.replace("_", "").lower() == key:
                return policy
        raise ConfigurationError(f"unknown change policy {text!r} (pause or autocorrect)")


_S = OrderState
TERMINAL = frozenset({_S.REJECTED, _S.CANCELLED, _S.COMPLETED, _S.FAILED, _S.PARTIAL})
#: THE transition table (mirrors ``OrderLifecycle.targets``; a test keeps chain, docs and this equal).
ORDER_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    _S.ACKNOWLEDGED: frozenset({_S.REJECTED, _S.PENDING, _S.HELD, _S.IN_PROGRESS, _S.ASSESSING_CANCELLATION}),
    _S.PENDING: frozenset({_S.HELD, _S.IN_PROGRESS, _S.ASSESSING_CANCELLATION}),
    _S.HELD: frozenset({_S.PENDING, _S.IN_PROGRESS, _S.ASSESSING_CANCELLATION}),
    _S.IN_PROGRESS: frozenset({_S.PENDING, _S.HELD, _S.COMPLETED, _S.FAILED, _S.PARTIAL, _S.ASSESSING_CANCELLATION}),
    _S.ASSESSING_CANCELLATION: frozenset({_S.PENDING_CANCELLATION, _S.PENDING, _S.HELD, _S.IN_PROGRESS}),
    _S.PENDING_CANCELLATION: frozenset({_S.CANCELLED}),
}


def order_id(value: str | bytes, what: str = "id") -> bytes:
    """A project, order, service or line id as bytes32 (text up to 32 bytes, or 0x-hex)."""
    raw = to_bytes32(value, what)
    if raw == ZERO32:
        raise ConfigurationError(f"the zero {what} is reserved")
    return raw


def sku_bytes(sku: str | bytes) -> bytes:
    """A SKU as bytes16 (ASCII, left-aligned)."""
    raw = sku if isinstance(sku, bytes) else sku.encode()
    if not 0 < len(raw.rstrip(b"\0")) <= 16:
        raise ConfigurationError(f"a SKU is 1 to 16 bytes, not {sku!r}")
    return raw.ljust(16, b"\0")


def show_sku(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode(errors="replace")


def _not_found(error: str, key: str, value: bytes) -> ContractRevert:
    """The contract's own not-found error (``except OrderNotFound`` catches reads and reverts alike)."""
    return contract_error_class(error)(error, {key: value})


def _quantity(value: int, what: str = "quantity") -> int:
    if not 0 < int(value) < 2**32:
        raise ConfigurationError(f"{what} must be a positive whole number, not {value}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# What the caller describes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceLine:
    """A device line to order: which device (optional twin), from whom, how many, which policy."""

    line: str | bytes
    service: str | bytes
    vendor: str
    sku: str | bytes
    quantity: int = 1
    policy: ChangePolicy | str = ChangePolicy.AUTO_CORRECT
    asset: str | bytes | None = None  # the AssetRegistry twin of a managed device

    def spec(self) -> tuple[bytes, bytes, bytes, str, bytes, int, int]:
        return (
            order_id(self.line, "line id"),
            order_id(self.service, "service id"),
            order_id(self.asset, "asset id") if self.asset else ZERO32,
            to_address(self.vendor, "vendor"),
            sku_bytes(self.sku),
            _quantity(self.quantity),
            int(ChangePolicy.parse(self.policy)),
        )


def _line_ref(line: str | bytes, policy: ChangePolicy | str) -> tuple[bytes, bytes, bytes, str, bytes, int, int]:
    """The LineSpec of a Delete / NoChange change: only the id and the policy are read."""
    return (order_id(line, "line id"), ZERO32, ZERO32, ZERO_ADDRESS, b"\0" * 16, 0, int(ChangePolicy.parse(policy)))


@dataclass
class Revision:
    """A revision of an order, built step by step and applied in one action.

    >>> r = (Revision().modify_service("A", 2).keep_service("B").delete_service("E")
    ...      .add_line(DeviceLine("C1", "C", vendor, "ONT-X")).remove_line("A1", "pause")
    ...      .keep_line("D1", "autocorrect"))                        # doctest: +SKIP
    >>> client.orders.revise("ORD-1", r)                             # doctest: +SKIP

    The seed's A → A' is ``modify_service("A", version)`` (the version must grow);
    ``remove_line`` of a delivered device sends its twin to recovery; a line that is kept
    with ``pause`` is held and its supplier told at once.
    """

    services: list[tuple[bytes, int, int]] = field(default_factory=list)
    lines: list[tuple[int, tuple[bytes, bytes, bytes, str, bytes, int, int]]] = field(default_factory=list)

    def add_service(self, service: str | bytes, version: int = 1) -> Revision:
        self.services.append((order_id(service, "service id"), int(ItemAction.ADD), int(version)))
        return self

    def modify_service(self, service: str | bytes, version: int) -> Revision:
        self.services.append((order_id(service, "service id"), int(ItemAction.MODIFY), int(version)))
        return self

    def delete_service(self, service: str | bytes) -> Revision:
        self.services.append((order_id(service, "service id"), int(ItemAction.DELETE), 0))
        return self

    def keep_service(self, service: str | bytes) -> Revision:
        self.services.append((order_id(service, "service id"), int(ItemAction.NO_CHANGE), 0))
        return self

    def add_line(self, line: DeviceLine) -> Revision:
        self.lines.append((int(ItemAction.ADD), line.spec()))
        return self

    def remove_line(self, line: str | bytes, policy: ChangePolicy | str = ChangePolicy.AUTO_CORRECT) -> Revision:
        self.lines.append((int(ItemAction.DELETE), _line_ref(line, policy)))
        return self

    def keep_line(self, line: str | bytes, policy: ChangePolicy | str = ChangePolicy.AUTO_CORRECT) -> Revision:
        self.lines.append((int(ItemAction.NO_CHANGE), _line_ref(line, policy)))
        return self

    def check(self) -> None:
        if not self.services and not self.lines:
            raise ConfigurationError("an empty revision changes nothing")
        for what, items in (("service changes", self.services), ("line changes", self.lines)):
            if len(items) > MAX_CHANGES:
                raise ConfigurationError(f"a revision carries at most {MAX_CHANGES} {what}, not {len(items)}")


# ---------------------------------------------------------------------------------------------
# What the chain holds
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stock:
    """Cumulative stock figures; open reservation = reserved - released - delivered,
    still out = delivered - consumed - returned."""

    reserved: int
    released: int
    delivered: int
    consumed: int
    returned: int
    open_reservation: int
    still_out: int

    @classmethod
    def from_tuple(cls, values: Sequence[Any]) -> Stock:
        return cls(*(int(v) for v in values))


@dataclass(frozen=True)
class Line:
    """A device line with its state and its own stock figures."""

    id: bytes
    order_id: bytes
    service_id: bytes
    asset_id: bytes | None
    vendor: str
    sku: str
    quantity: int
    policy: ChangePolicy
    state: OrderState
    reserved: int
    released: int
    delivered: int
    consumed: int
    returned: int

    @property
    def name(self) -> str:
        return show_bytes32(self.id)

    @property
    def still_out(self) -> int:
        return self.delivered - self.consumed - self.returned

    @property
    def open_reservation(self) -> int:
        return self.reserved - self.released - self.delivered

    @classmethod
    def from_view(cls, v: Sequence[Any]) -> Line:
        asset = bytes(v[3])
        return cls(
            id=bytes(v[0]),
            order_id=bytes(v[1]),
            service_id=bytes(v[2]),
            asset_id=None if asset == ZERO32 else asset,
            vendor=to_address(v[4]),
            sku=show_sku(v[5]),
            quantity=int(v[6]),
            policy=ChangePolicy(v[7]),
            state=OrderState(v[8]),
            reserved=int(v[9]),
            released=int(v[10]),
            delivered=int(v[11]),
            consumed=int(v[12]),
            returned=int(v[13]),
        )


@dataclass(frozen=True)
class ServiceItem:
    """A service item of an order, with the device lines that serve it."""

    id: bytes
    state: OrderState
    action: ItemAction
    version: int
    open_lines: int
    lines: tuple[Line, ...] = ()

    @property
    def name(self) -> str:
        return show_bytes32(self.id)


@dataclass(frozen=True)
class Order:
    """An order and its whole tree: service items → device lines."""

    id: bytes
    project_id: bytes
    state: OrderState
    revision: int
    line_count: int
    open_lines: int
    held_lines: int
    service_count: int
    open_services: int
    services: tuple[ServiceItem, ...] = ()

    @property
    def name(self) -> str:
        return show_bytes32(self.id)

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for service in self.services for line in service.lines)


@dataclass(frozen=True)
class Project:
    """A project (root identifier) with its customer and orders."""

    id: bytes
    customer: str
    orders: tuple[Order, ...] = ()

    @property
    def name(self) -> str:
        return show_bytes32(self.id)


@dataclass(frozen=True)
class Reconciliation:
    """Reserved vs used vs returned vs still out, per line and in total."""

    subject: str  # "order ORD-1" or "vendor 0x..."
    lines: tuple[Line, ...]
    totals: Stock


# ---------------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------------


class OrdersAPI:
    """Create, revise, cancel and read customer orders; deliver, consume and reconcile stock."""

    def __init__(self, client: Session) -> None:
        self.client = client
        self.contract = client.contract("OrderBook")
        self.constitution = constitution_of(client)

    def _act(self, name: str, params: Sequence[Any], ref: Ref) -> ActionResult:
        return self.constitution.execute_action(name, params, ref)

    # -- structure -----------------------------------------------------------------------------

    def create_project(
        self, project: str | bytes, customer: str, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """A project (root identifier) for ``customer``; a second one with the same id is refused."""
        return self._act(
            "createProject", (order_id(project, "project id"), to_address(customer, "customer"), details_hash), ref
        )

    def create_order(
        self, order: str | bytes, project: str | bytes, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """A CRM order under a project, in ``acknowledged``."""
        return self._act(
            "createOrder", (order_id(order, "order id"), order_id(project, "project id"), details_hash), ref
        )

    def add_service(
        self,
        order: str | bytes,
        service: str | bytes,
        version: int = 1,
        *,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """A service item (TMF action ``add``) at ``version``."""
        params = (order_id(order, "order id"), order_id(service, "service id"), int(version), details_hash)
        return self._act("addService", params, ref)

    def add_device_line(
        self, order: str | bytes, line: DeviceLine, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """A device line, ordered at once: its quantity is reserved with the vendor; a managed
        device's twin (which must be registered) moves to PendingInstallation."""
        return self._act("addDeviceLine", (order_id(order, "order id"), line.spec(), details_hash), ref)

    # -- change handling -----------------------------------------------------------------------

    def revise(
        self, order: str | bytes, revision: Revision, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """Apply a :class:`Revision` (new service versions, the new device set) in one action."""
        revision.check()
        params = (order_id(order, "order id"), list(revision.services), list(revision.lines), details_hash)
        return self._act("reviseOrder", params, ref)

    def resume(
        self, order: str | bytes, lines: Iterable[str | bytes], *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """Resume held lines once the re-plan is agreed (a paused new line is ordered now)."""
        ids = [order_id(line, "line id") for line in lines]
        if not 0 < len(ids) <= MAX_CHANGES:
            raise ConfigurationError(f"resume 1 to {MAX_CHANGES} lines, not {len(ids)}")
        return self._act("resumeLines", (order_id(order, "order id"), ids, details_hash), ref)

    def cancel(
        self,
        order: str | bytes,
        *,
        lines: Iterable[str | bytes] | None = None,
        services: Iterable[str | bytes] | None = None,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> list[ActionResult]:
        """Cancel an order at any stage: undelivered lines are released, delivered ones go to
        recovery, open service items are cancelled; the order ends ``cancelled``.

        By default every open line and service item is removed, over as many bounded calls as
        needed (at most 64 of each per call); pass ``lines``/``services`` to cancel part of it
        (the order then waits in ``pendingCancellation`` for the rest).
        """
        oid = order_id(order, "order id")
        if lines is None and services is None:
            tree = self.get(oid)
            line_ids = [line.id for line in tree.lines if not line.state.terminal]
            service_ids = [s.id for s in tree.services if not s.state.terminal]
        else:
            line_ids = [order_id(x, "line id") for x in lines or ()]
            service_ids = [order_id(x, "service id") for x in services or ()]
        results: list[ActionResult] = []
        while True:
            chunk_lines, line_ids = line_ids[:MAX_CHANGES], line_ids[MAX_CHANGES:]
            chunk_services: list[bytes] = []
            if len(chunk_lines) < MAX_CHANGES:  # services go once their lines are gone
                chunk_services, service_ids = service_ids[:MAX_CHANGES], service_ids[MAX_CHANGES:]
            call_ref = ref if not results else None
            results.append(self._act("cancelOrder", (oid, chunk_lines, chunk_services, details_hash), call_ref))
            if not line_ids and not service_ids:
                return results

    def transition(
        self, order: str | bytes, to: OrderState | str, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """Move an order along the table (not into the cancellation states: use :meth:`cancel`)."""
        state = OrderState.parse(to) if isinstance(to, str) else to
        return self._act("transitionOrder", (order_id(order, "order id"), int(state), details_hash), ref)

    def transition_service(
        self,
        order: str | bytes,
        service: str | bytes,
        to: OrderState | str,
        *,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """Move a service item along the table."""
        state = OrderState.parse(to) if isinstance(to, str) else to
        params = (order_id(order, "order id"), order_id(service, "service id"), int(state), details_hash)
        return self._act("transitionService", params, ref)

    # -- stock ----------------------------------------------------------------------------------

    def deliver(
        self, line: str | bytes, quantity: int = 1, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """The line's vendor delivers units (the first delivery moves a managed twin to Delivered)."""
        return self._act("deliverLine", (order_id(line, "line id"), _quantity(quantity), details_hash), ref)

    def consume(
        self,
        line: str | bytes,
        vendor: str,
        sku: str | bytes,
        quantity: int = 1,
        *,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """Use delivered units — only against the line they were reserved for: the vendor and
        SKU named here must be the line's (``StockWrongLine``), and no more than delivered."""
        params = (
            order_id(line, "line id"),
            to_address(vendor, "vendor"),
            sku_bytes(sku),
            _quantity(quantity),
            details_hash,
        )
        return self._act("consumeStock", params, ref)

    def return_stock(
        self, line: str | bytes, quantity: int = 1, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """The line's vendor takes back units still out (e.g. after a revision removed the line)."""
        return self._act("returnStock", (order_id(line, "line id"), _quantity(quantity), details_hash), ref)

    # -- reads ----------------------------------------------------------------------------------

    def line(self, line: str | bytes) -> Line:
        view = Line.from_view(self.contract.call("getLine", order_id(line, "line id")))
        if view.state is OrderState.NONE:
            raise _not_found("OrderLineNotFound", "lineId", order_id(line, "line id"))
        return view

    def get(self, order: str | bytes) -> Order:
        """The order with its whole tree (service items → device lines), read from views in a
        few batched round trips; :class:`~telcochain.errors.OrderNotFound` if it does not exist."""
        return self.get_many([order])[0]

    def get_many(self, orders: Sequence[str | bytes]) -> list[Order]:
        ids = [order_id(o, "order id") for o in orders]
        heads = self.contract.call_many("getOrder", [(i,) for i in ids])
        for oid, head in zip(ids, heads, strict=True):
            if OrderState(head[1]) is OrderState.NONE:
                raise _not_found("OrderNotFound", "orderId", oid)
        services = self.contract.call_many(
            "orderServices", [(oid, off, PAGE) for oid, head in zip(ids, heads, strict=True) for off in _pages(head[6])]
        )
        lines = self.contract.call_many(
            "reconcileOrder",
            [(oid, off, PAGE) for oid, head in zip(ids, heads, strict=True) for off in _pages(head[3])],
        )
        result = []
        s_iter, l_iter = iter(services), iter(lines)
        for oid, head in zip(ids, heads, strict=True):
            service_pairs: list[tuple[bytes, Any]] = []
            for _ in _pages(head[6]):
                page_ids, page_views = next(s_iter)
                service_pairs.extend(zip((bytes(x) for x in page_ids), page_views, strict=True))
            order_lines: list[Line] = []
            for _ in _pages(head[3]):
                page_lines, _totals = next(l_iter)
                order_lines.extend(Line.from_view(v) for v in page_lines)
            result.append(_order_tree(oid, head, service_pairs, order_lines))
        return result

    def project(self, project: str | bytes, *, with_orders: bool = True) -> Project:
        """A project, its customer and (by default) every order's tree."""
        pid = order_id(project, "project id")
        customer, count = self.contract.call("getProject", pid)
        if int(str(customer), 16) == 0:
            raise _not_found("OrderProjectNotFound", "projectId", pid)
        orders: tuple[Order, ...] = ()
        if with_orders and count:
            pages = self.contract.call_many("projectOrders", [(pid, off, PAGE) for off in _pages(count)])
            orders = tuple(self.get_many([bytes(i) for page in pages for i in page]))
        return Project(pid, to_address(customer), orders)

    def stock(self, vendor: str, sku: str | bytes) -> Stock:
        """A vendor's cumulative figures for one SKU, across every order."""
        return Stock.from_tuple(self.contract.call("stockOf", to_address(vendor, "vendor"), sku_bytes(sku)))

    def reconcile(self, *, order: str | bytes | None = None, vendor: str | None = None) -> Reconciliation:
        """What was reserved, delivered, used for its line, returned and is still out — per line
        and in total, for one order or one vendor (all its lines in every order)."""
        if (order is None) == (vendor is None):
            raise ConfigurationError("reconcile one order or one vendor")
        key: bytes | str
        if order is not None:
            key = order_id(order, "order id")
            head = self.contract.call("getOrder", key)
            if OrderState(head[1]) is OrderState.NONE:
                raise _not_found("OrderNotFound", "orderId", key)
            fn, count, subject = "reconcileOrder", int(head[3]), f"order {show_bytes32(key)}"
        else:
            key = to_address(vendor or "", "vendor")
            fn, count, subject = "reconcileVendor", int(self.contract.call("vendorLineCount", key)), f"vendor {key}"
        pages = self.contract.call_many(fn, [(key, off, PAGE) for off in _pages(count)]) if count else []
        lines = tuple(Line.from_view(v) for page_lines, _ in pages for v in page_lines)
        # the contract totals each page; a reconciliation spanning pages adds them up
        stock = Stock.from_tuple([sum(int(totals[i]) for _, totals in pages) for i in range(7)])
        return Reconciliation(subject, lines, stock)


def _pages(count: int) -> range:
    return range(0, int(count), PAGE)


def _order_tree(oid: bytes, head: Sequence[Any], services: list[tuple[bytes, Any]], lines: list[Line]) -> Order:
    by_service: dict[bytes, list[Line]] = {}
    for line in lines:
        by_service.setdefault(line.service_id, []).append(line)
    items = [
        ServiceItem(
            id=sid,
            state=OrderState(v[0]),
            action=ItemAction(v[1]),
            version=int(v[2]),
            open_lines=int(v[3]),
            lines=tuple(by_service.pop(sid, [])),
        )
        for sid, v in services
    ]
    # Lines whose service id is not an item of the order cannot exist (the contract checks),
    # but never drop data silently: show them under their service id.
    for sid, orphans in by_service.items():
        items.append(ServiceItem(sid, OrderState.NONE, ItemAction.NO_CHANGE, 0, 0, tuple(orphans)))
    return Order(
        id=oid,
        project_id=bytes(head[0]),
        state=OrderState(head[1]),
        revision=int(head[2]),
        line_count=int(head[3]),
        open_lines=int(head[4]),
        held_lines=int(head[5]),
        service_count=int(head[6]),
        open_services=int(head[7]),
        services=tuple(items),
    )
