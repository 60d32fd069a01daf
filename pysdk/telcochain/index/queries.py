"""Queries over the index: typed rows, filters, keyset paging.

Every list returns a :class:`Page`: ``items`` plus ``next`` — the cursor to pass as ``after``
for the following page (None on the last). Filters take addresses (any case) or, through
:meth:`Queries.member`, member names. Times are block timestamps; "now" for overdue invoices
and stock aging is the time of the last indexed block (the chain's clock, not the machine's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from telcochain.agreement import InvoiceStatus
from telcochain.assets import AssetState
from telcochain.constitution import DenyReason
from telcochain.errors import ConfigurationError, MemberNotFound
from telcochain.index import schema as s
from telcochain.index.store import IndexStore
from telcochain.orders import OrderState
from telcochain.types import show_bytes32, to_bytes32

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``next`` is the ``after`` cursor of the next page (None: no more)."""

    items: list[T]
    next: str | None = None

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def show_id(hex_value: str | None) -> str:
    """A bytes32 id as its text when it is text (``ONT-HQ-1``), else the hex."""
    if not hex_value:
        return "-"
    return show_bytes32(bytes.fromhex(hex_value[2:]))


def id_hex(value: str) -> str:
    """A user-given id (text up to 32 bytes or 0x-hex) as the index stores it."""
    return "0x" + to_bytes32(value, "id").hex()


@dataclass(frozen=True)
class AssetRow:
    asset_id: str
    name: str
    kind: str
    state: str
    version: int
    custodian: str
    customer: str | None
    vendor: str | None
    project: str | None
    order: str | None
    serial_bound: bool
    updated_block: int


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    name: str
    project: str
    customer: str | None
    state: str
    revision: int
    created_at: int
    closed_at: int | None


@dataclass(frozen=True)
class RequestRow:
    asset_id: str
    asset: str
    customer: str
    flow: str
    kind: str
    charge: int
    status: str
    requester: str | None
    ref: str
    requested_at: int
    block_number: int


@dataclass(frozen=True)
class StockRow:
    vendor: str
    sku: str
    line: str
    order: str
    delivered: int
    consumed: int
    returned: int
    still_out: int
    age_s: int  # since the last delivery, in chain time


@dataclass(frozen=True)
class InvoiceRow:
    invoice_id: int
    payer: str
    payee: str
    token: str
    amount: int
    credited: int
    status: str
    due_date: int
    overdue: bool
    hold: bool
    subject: str
    ref: str
    issued_at: int


@dataclass(frozen=True)
class Activity:
    member: str
    name: str | None
    executed: int
    denied: int
    reverted: int
    last_at: int | None
    top_actions: list[tuple[str, int]]


@dataclass(frozen=True)
class Denial:
    block_number: int
    at: int
    caller: str
    caller_name: str | None
    action: str
    action_name: str | None
    reason: str
    ref: str


def _reason(value: int | None) -> str:
    try:
        return DenyReason(value or 0).text
    except ValueError:
        return str(value)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigurationError(f"limit must be 1 to {MAX_LIMIT}")
    return limit


def _state_value(enum: type[Any], value: str | int | None, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    wanted = value.replace("_", "").replace("-", "").lower()
    for member in enum:
        if member.name.replace("_", "").lower() == wanted:
            return int(member.value)
    names = ", ".join(m.label for m in enum if m.value)
    raise ConfigurationError(f"unknown {what} {value!r}: one of {names}")


def _label(enum: type[Any], value: int) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


class Queries:
    """Read the index: what a member back-end or a person asks most."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def _connect(self) -> Connection:
        return self.store.engine.connect()

    # -- members --------------------------------------------------------------------------

    def member_names(self) -> dict[str, str]:
        """address → name of every member the index knows."""
        with self._connect() as db:
            return {a: n for a, n in db.execute(select(s.members.c.address, s.members.c.name)).all()}

    def member(self, name_or_address: str) -> str:
        """A member's address from its name (case-insensitive) or address."""
        names = self.member_names()
        if name_or_address.startswith("0x") and len(name_or_address) == 42:
            for address in names:
                if address.lower() == name_or_address.lower():
                    return address
            from telcochain.types import to_address

            return to_address(name_or_address)
        for address, name in names.items():
            if name.lower() == name_or_address.lower():
                return address
        raise MemberNotFound(name_or_address)

    def chain_time(self) -> int:
        with self._connect() as db:
            return self.store.chain_time(db)

    # -- twins ----------------------------------------------------------------------------

    def assets(
        self,
        *,
        state: str | int | None = None,
        customer: str | None = None,
        vendor: str | None = None,
        order: str | None = None,
        project: str | None = None,
        after: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[AssetRow]:
        """Twins by state, party, order or project, in id order."""
        a = s.assets.c
        query = select(s.assets)
        wanted = _state_value(AssetState, state, "asset state")
        if wanted is not None:
            query = query.where(a.state == wanted)
        if customer:
            query = query.where(a.customer == self.member(customer))
        if vendor:
            query = query.where(a.vendor == self.member(vendor))
        if order:
            query = query.where(a.order_id == id_hex(order))
        if project:
            query = query.where(a.project_id == id_hex(project))
        if after:
            query = query.where(a.asset_id > after)
        limit = _limit(limit)
        with self._connect() as db:
            rows = db.execute(query.order_by(a.asset_id).limit(limit + 1)).all()
        items = [
            AssetRow(
                r.asset_id,
                show_id(r.asset_id),
                r.kind,
                _label(AssetState, r.state),
                r.version,
                r.custodian,
                r.customer,
                r.vendor,
                show_id(r.project_id) if r.project_id else None,
                show_id(r.order_id) if r.order_id else None,
                int(r.serial_hash, 16) != 0,
                r.updated_block,
            )
            for r in rows[:limit]
        ]
        return Page(items, rows[limit - 1].asset_id if len(rows) > limit else None)

    # -- orders -------------------------------------------------------------------------------

    def orders(
        self,
        *,
        state: str | int | None = None,
        customer: str | None = None,
        after: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[OrderRow]:
        o = s.orders.c
        query = select(s.orders)
        wanted = _state_value(OrderState, state, "order state")
        if wanted is not None:
            query = query.where(o.state == wanted)
        if customer:
            query = query.where(o.customer == self.member(customer))
        if after:
            query = query.where(o.order_id > after)
        limit = _limit(limit)
        with self._connect() as db:
            rows = db.execute(query.order_by(o.order_id).limit(limit + 1)).all()
        items = [
            OrderRow(
                r.order_id, show_id(r.order_id), show_id(r.project_id), r.customer, _label(OrderState, r.state),
                r.revision, r.created_at, r.closed_at,
            )
            for r in rows[:limit]
        ]  # fmt: skip
        return Page(items, rows[limit - 1].order_id if len(rows) > limit else None)

    # -- the agreement ------------------------------------------------------------------------

    def requests(
        self,
        *,
        flow: str | None = None,
        status: str | None = None,
        customer: str | None = None,
        asset: str | None = None,
        after: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[RequestRow]:
        """Installation / MACD / disconnect requests, oldest first."""
        r = s.requests.c
        query = select(s.requests)
        if status:
            query = query.where(r.status == status)
        if flow:
            query = query.where(r.flow == flow)
        if customer:
            query = query.where(r.customer == self.member(customer))
        if asset:
            query = query.where(r.asset_id == id_hex(asset))
        if after:
            b, i, q = (int(x) for x in after.split(":"))
            query = query.where(
                or_(
                    r.block_number > b,
                    and_(r.block_number == b, or_(r.log_index > i, and_(r.log_index == i, r.seq > q))),
                )
            )
        limit = _limit(limit)
        with self._connect() as db:
            rows = db.execute(query.order_by(r.block_number, r.log_index, r.seq).limit(limit + 1)).all()
        items = [
            RequestRow(
                x.asset_id, show_id(x.asset_id), x.customer, x.flow, x.kind, int(x.charge), x.status, x.requester,
                show_id(x.ref), x.requested_at, x.block_number,
            )
            for x in rows[:limit]
        ]  # fmt: skip
        last = rows[limit - 1] if len(rows) > limit else None
        return Page(items, f"{last.block_number}:{last.log_index}:{last.seq}" if last else None)

    def macd_pending(
        self, *, customer: str | None = None, after: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> Page[RequestRow]:
        """MACD changes ordered and not yet confirmed, oldest first."""
        return self.requests(flow="macd", status=s.RequestStatus.PENDING, customer=customer, after=after, limit=limit)

    def stock_outstanding(self, *, vendor: str | None = None, limit: int = MAX_LIMIT) -> list[StockRow]:
        """Device lines with delivered units neither used nor returned ("still out"), oldest delivery first."""
        ln = s.lines.c
        still = ln.delivered - ln.consumed - ln.returned
        query = select(s.lines).where(still > 0)
        if vendor:
            query = query.where(ln.vendor == self.member(vendor))
        with self._connect() as db:
            now = self.store.chain_time(db)
            rows = db.execute(query.order_by(ln.last_delivered_at, ln.line_id).limit(_limit(limit))).all()
        return [
            StockRow(
                r.vendor, r.sku, show_id(r.line_id), show_id(r.order_id), r.delivered, r.consumed, r.returned,
                r.delivered - r.consumed - r.returned, max(0, now - (r.last_delivered_at or now)),
            )
            for r in rows
        ]  # fmt: skip

    def invoices(
        self,
        *,
        payer: str | None = None,
        payee: str | None = None,
        status: str | None = None,
        overdue: bool = False,
        after: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[InvoiceRow]:
        """Invoices, oldest first; ``overdue``: issued, unpaid and past due at the last indexed block."""
        i = s.invoices.c
        query = select(s.invoices)
        if payer:
            query = query.where(i.payer == self.member(payer))
        if payee:
            query = query.where(i.payee == self.member(payee))
        wanted = _state_value(InvoiceStatus, status, "invoice status")
        if wanted is not None:
            query = query.where(i.status == wanted)
        if after is not None:
            query = query.where(i.invoice_id > after)
        limit = _limit(limit)
        with self._connect() as db:
            now = self.store.chain_time(db)
            if overdue:
                query = query.where(i.status == int(InvoiceStatus.ISSUED), i.due_date < now)
            rows = db.execute(query.order_by(i.invoice_id).limit(limit + 1)).all()
        items = [
            InvoiceRow(
                r.invoice_id, r.payer, r.payee, r.token, int(r.amount), int(r.credited),
                _label(InvoiceStatus, r.status),
                r.due_date, r.status == int(InvoiceStatus.ISSUED) and r.due_date < now, r.hold, show_id(r.subject),
                show_id(r.ref), r.issued_at,
            )
            for r in rows[:limit]
        ]  # fmt: skip
        return Page(items, str(rows[limit - 1].invoice_id) if len(rows) > limit else None)

    # -- governance and misuse ------------------------------------------------------------------

    def action_names(self) -> dict[str, str]:
        with self._connect() as db:
            return {a: n for a, n in db.execute(select(s.actions.c.action, s.actions.c.name)).all()}

    def member_activity(self, *, member: str | None = None, since: int | None = None) -> list[Activity]:
        """Per account that called an action: executed / denied / reverted, last seen, top actions."""
        c = s.calls.c
        query = select(c.caller, c.outcome, c.action, func.count(), func.max(c.at)).group_by(
            c.caller, c.outcome, c.action
        )
        if member:
            query = query.where(c.caller == self.member(member))
        if since is not None:
            query = query.where(c.at >= since)
        names = self.member_names()
        actions = self.action_names()
        per: dict[str, dict[str, Any]] = {}
        with self._connect() as db:
            for caller, outcome, action, n, last in db.execute(query).all():
                entry = per.setdefault(caller, {"executed": 0, "denied": 0, "reverted": 0, "last": 0, "actions": {}})
                entry[outcome] = entry.get(outcome, 0) + n
                entry["last"] = max(entry["last"], last or 0)
                label = actions.get(action, action[:10])
                entry["actions"][label] = entry["actions"].get(label, 0) + n
        result = [
            Activity(
                caller, names.get(caller), e["executed"], e["denied"], e["reverted"], e["last"] or None,
                sorted(e["actions"].items(), key=lambda kv: (-kv[1], kv[0]))[:3],
            )
            for caller, e in per.items()
        ]  # fmt: skip
        return sorted(result, key=lambda a: (-(a.executed + a.denied + a.reverted), a.member))

    def denials(
        self,
        *,
        account: str | None = None,
        reason: str | None = None,
        after: int | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[Denial]:
        """Denied action calls, newest first (``after``: a block number cursor)."""
        c = s.calls.c
        query = select(s.calls).where(c.outcome == "denied")
        if account:
            query = query.where(c.caller == self.member(account))
        wanted = _state_value(DenyReason, reason, "deny reason") if reason else None
        if wanted is not None:
            query = query.where(c.reason == wanted)
        if after is not None:
            query = query.where(c.block_number < after)
        limit = _limit(limit)
        names, actions = self.member_names(), self.action_names()
        with self._connect() as db:
            rows = db.execute(query.order_by(c.block_number.desc(), c.log_index.desc()).limit(limit + 1)).all()
        items = [
            Denial(
                r.block_number, r.at, r.caller, names.get(r.caller), r.action, actions.get(r.action),
                _reason(r.reason), show_id(r.ref),
            )
            for r in rows[:limit]
        ]  # fmt: skip
        return Page(items, str(rows[limit - 1].block_number) if len(rows) > limit else None)


def as_rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Dataclass rows as dicts (for JSON and CSV)."""
    import dataclasses

    return [dataclasses.asdict(i) for i in items]
