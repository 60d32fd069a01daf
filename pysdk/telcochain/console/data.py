"""What the console's pages show, read from the index (and, where only the chain knows, from
the contracts' views at the index's checkpoint block).

Plain functions of an :class:`~telcochain.index.IndexStore` (and a client for the few chain
reads), returning dataclasses the templates render; no HTML here.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from telcochain.agreement import InvoiceStatus
from telcochain.assets import AssetState, HistoryVerdict, change_from_event, verify_changes
from telcochain.contract import Event
from telcochain.errors import TelcochainError
from telcochain.index import schema as s
from telcochain.index.alerts import Alert, ProbeScanner, detect, load_config
from telcochain.index.queries import id_hex, show_id
from telcochain.index.schema import RequestStatus
from telcochain.orders import ChangePolicy, ItemAction, OrderState
from telcochain.tx import Log
from telcochain.types import ZERO_ADDRESS

if TYPE_CHECKING:
    from telcochain.client import Client
    from telcochain.index import IndexStore

#: Order states after which nothing more happens to an order.
CLOSED_ORDER_STATES = {OrderState.COMPLETED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.FAILED}


def label(enum: Any, value: int | None) -> str:
    """An SDK enum value by its label (``inProgress``, ``PendingInstallation``); the number if unknown."""
    if value is None:
        return "-"
    try:
        member = enum(value)
    except ValueError:
        return str(value)
    return str(getattr(member, "label", None) or member.name.replace("_", " ").lower())


def when(timestamp: int | None) -> str:
    if not timestamp:
        return "-"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def short(address: str | None) -> str:
    if not address:
        return "-"
    return address[:6] + "…" + address[-4:]


class Names:
    """Member names by address (an address nobody named is shown shortened)."""

    def __init__(self, store: IndexStore) -> None:
        with store.engine.connect() as db:
            self.by_address = dict(db.execute(select(s.members.c.address, s.members.c.name)).all())

    def named(self, text: str) -> str:
        """``text`` with every member address in it replaced by the member's name."""
        for address, name in self.by_address.items():
            text = text.replace(address, name)
        return text

    def __call__(self, address: str | None) -> str:
        if not address or address == ZERO_ADDRESS:
            return "-"
        return str(self.by_address.get(address, short(address)))


# -- dashboard -----------------------------------------------------------------------------------


@dataclass
class Counts:
    block: int
    chain_time: int
    members: int
    twins: int
    twins_by_state: list[tuple[str, int]]
    orders_open: int
    orders: int
    invoices_overdue: int
    invoices_open: int
    proposals_open: int
    macd_pending: int
    stock_still_out: int
    denials: int


def checkpoint(store: IndexStore) -> int:
    """The index's last block (-1 before the first)."""
    with store.engine.connect() as db:
        return int(store.meta(db).get("checkpoint_block", -1))


def counts(store: IndexStore) -> Counts:
    with store.engine.connect() as db:
        meta = store.meta(db)
        now = store.chain_time(db)
        by_state = db.execute(select(s.assets.c.state, func.count()).group_by(s.assets.c.state)).all()
        closed = [int(x) for x in CLOSED_ORDER_STATES]
        o = s.orders.c
        orders_total = db.execute(select(func.count()).select_from(s.orders)).scalar() or 0
        orders_open = db.execute(select(func.count()).where(o.state.not_in(closed))).scalar() or 0
        i = s.invoices.c
        issued = int(InvoiceStatus.ISSUED)
        overdue = db.execute(select(func.count()).where(i.status == issued, i.due_date < now)).scalar() or 0
        open_invoices = (
            db.execute(select(func.count()).where(i.status.in_([issued, int(InvoiceStatus.FUNDED)]))).scalar() or 0
        )
        proposals = db.execute(select(func.count()).where(s.proposals.c.status == "open")).scalar() or 0
        r = s.requests.c
        macd = db.execute(select(func.count()).where(r.flow == "macd", r.status == RequestStatus.PENDING)).scalar() or 0
        ln = s.lines.c
        still = db.execute(select(func.sum(ln.delivered - ln.consumed - ln.returned))).scalar() or 0
        denials = db.execute(select(func.count()).where(s.calls.c.outcome == "denied")).scalar() or 0
        members = db.execute(select(func.count()).select_from(s.members)).scalar() or 0
    states = sorted(((label(AssetState, st), n) for st, n in by_state), key=lambda x: -x[1])
    return Counts(
        int(meta.get("checkpoint_block", -1)), now, members, sum(n for _, n in states), states, orders_open,
        orders_total, overdue, open_invoices, proposals, macd, int(still), denials,
    )  # fmt: skip


class AlertSource:
    """The misuse alerts: the index's rules plus the outsiders' reverted calls, scanned
    incrementally (one scanner per console, shared by its requests)."""

    def __init__(self, client: Client, store: IndexStore, config_path: Any = None) -> None:
        self.store = store
        self.config = load_config(config_path)
        self._scanner = ProbeScanner(client, store, self.config)
        self._lock = threading.Lock()
        self._cached: tuple[int, list[Alert]] | None = None

    def alerts(self) -> list[Alert]:
        """Every alert, newest first; computed once per index block (live pages ask often)."""
        block = checkpoint(self.store)
        with self._lock:
            if self._cached is not None and self._cached[0] == block:
                return self._cached[1]
            try:
                probes = list(self._scanner())
            except TelcochainError:  # the node is unreachable: the index's own rules still answer
                probes = list(self._scanner.found)
            found = sorted(detect(self.store, self.config, probes), key=lambda a: (-a.last_block, a.rule))
            self._cached = (block, found)
            return found


# -- orders --------------------------------------------------------------------------------------


@dataclass
class LineView:
    line: str
    sku: str
    vendor: str
    quantity: int
    policy: str
    state: str
    twin: str | None
    reserved: int
    delivered: int
    consumed: int
    returned: int
    released: int

    @property
    def still_out(self) -> int:
        return self.delivered - self.consumed - self.returned


@dataclass
class ServiceView:
    service: str
    state: str
    action: str
    version: int
    lines: list[LineView] = field(default_factory=list)


@dataclass
class OrderTree:
    project: str
    customer: str
    order: str
    state: str
    revision: int
    created_at: int
    closed_at: int | None
    services: list[ServiceView]
    twins: list[tuple[str, str]]  # (twin, state) linked to this order

    @property
    def stock(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for service in self.services:
            for line in service.lines:
                for name in ("reserved", "delivered", "consumed", "returned", "released"):
                    totals[name] += getattr(line, name)
                totals["still_out"] += line.still_out
        return dict(totals)


def order_tree(store: IndexStore, order: str, names: Names) -> OrderTree | None:
    """Project → order → service items → device lines, with states and stock figures."""
    key = id_hex(order)
    with store.engine.connect() as db:
        row = db.execute(select(s.orders).where(s.orders.c.order_id == key)).first()
        if row is None:
            return None
        project = db.execute(select(s.projects).where(s.projects.c.project_id == row.project_id)).first()
        services = db.execute(
            select(s.services).where(s.services.c.order_id == key).order_by(s.services.c.service_id)
        ).all()
        lines = db.execute(select(s.lines).where(s.lines.c.order_id == key).order_by(s.lines.c.line_id)).all()
        twins = db.execute(
            select(s.assets.c.asset_id, s.assets.c.state)
            .where(s.assets.c.order_id == key)
            .order_by(s.assets.c.asset_id)
        ).all()
    views = {
        sv.service_id: ServiceView(
            show_id(sv.service_id), label(OrderState, sv.state), label(ItemAction, sv.action), sv.version
        )
        for sv in services
    }
    for ln in lines:
        view = views.setdefault(ln.service_id, ServiceView(show_id(ln.service_id), "-", "-", 0))
        asset = show_id(ln.asset_id) if int(ln.asset_id, 16) else None
        view.lines.append(
            LineView(
                show_id(ln.line_id), ln.sku, names(ln.vendor), ln.quantity, label(ChangePolicy, ln.policy),
                label(OrderState, ln.state), asset, ln.reserved, ln.delivered, ln.consumed, ln.returned, ln.released,
            )
        )  # fmt: skip
    customer = row.customer or (project.customer if project is not None else None)
    return OrderTree(
        show_id(row.project_id), names(customer), show_id(row.order_id), label(OrderState, row.state), row.revision,
        row.created_at, row.closed_at, list(views.values()),
        [(show_id(a), label(AssetState, st)) for a, st in twins],
    )  # fmt: skip


# -- twins ---------------------------------------------------------------------------------------


@dataclass
class HistoryRow:
    version: int
    change: str
    what: str
    actor: str
    ref: str
    at: int
    block: int
    head: str


@dataclass
class TwinView:
    twin: str
    kind: str
    state: str
    version: int
    head: str
    serial_bound: bool
    custodian: str
    customer: str
    vendor: str
    project: str
    order: str
    history: list[HistoryRow]
    verdict: HistoryVerdict | None
    verdict_error: str | None


def _value(value: Any) -> Any:
    """The index's JSON form of an event argument back as the SDK's decoders give it."""
    if isinstance(value, str) and value.startswith("0x") and len(value) != 42:
        return bytes.fromhex(value[2:])
    return value


def _changes(rows: list[Any]) -> list[Any]:
    """The index's history rows as the SDK's :class:`~telcochain.assets.AssetChange` records."""
    changes = []
    for r in rows:
        args = {k: _value(v) for k, v in r.data.items()}
        args.update(
            assetId=_value(r.asset_id), version=r.version, ref=_value(r.ref), actor=r.actor,
            detailsHash=_value(r.details_hash), head=_value(r.head),
        )  # fmt: skip
        log = Log("", (), "0x", r.block_number, "", "", r.log_index)
        changes.append(change_from_event(Event(r.change, args, log)))
    return changes


def twin_view(store: IndexStore, client: Client, twin: str, names: Names) -> TwinView | None:
    """A twin's state, parties and indexed history, with the verdict of the hash chain: the
    history replayed from the index, link by link, against the head the registry held at the
    index's checkpoint block."""
    key = id_hex(twin)
    h = s.asset_history.c
    with store.engine.connect() as db:
        row = db.execute(select(s.assets).where(s.assets.c.asset_id == key)).first()
        if row is None:
            return None
        block = int(store.meta(db).get("checkpoint_block", 0))
        rows = db.execute(
            select(s.asset_history).where(h.asset_id == key).order_by(h.version, h.block_number, h.log_index)
        ).all()
    changes = _changes(list(rows))
    history = [
        HistoryRow(c.version, r.change.removeprefix("Asset"), names.named(c.describe()), names(c.actor), show_id(r.ref),
                   r.at, r.block_number, r.head)
        for c, r in zip(changes, rows, strict=True)
    ]  # fmt: skip
    verdict: HistoryVerdict | None = None
    error: str | None = None
    try:
        view = client.assets.contract.call("getAsset", bytes.fromhex(key[2:]), block=block)
        verdict = verify_changes(changes, bytes(view[4]))
    except TelcochainError as exc:
        error = f"the chain could not be read to check the history: {exc}"
    return TwinView(
        show_id(row.asset_id), row.kind, label(AssetState, row.state), row.version, row.head,
        int(row.serial_hash, 16) != 0, names(row.custodian), names(row.customer), names(row.vendor),
        show_id(row.project_id) if row.project_id else "-", show_id(row.order_id) if row.order_id else "-",
        history, verdict, error,
    )  # fmt: skip


# -- proposals -----------------------------------------------------------------------------------


@dataclass
class ProposalView:
    id: int
    action: str
    proposer: str
    status: str
    approvals: int
    rejections: int
    required: int
    voter_count: int
    deadline: int
    expired: bool
    ref: str
    my_vote: str | None  # approve / reject / None
    may_vote: bool


def proposals(store: IndexStore, client: Client, me: str, names: Names, *, status: str | None) -> list[ProposalView]:
    """Proposals (open first, then the newest decided), with what this member may do: vote when
    it is one of the proposal's voters (fixed when it opened), has not voted, and it is still open
    and before its deadline."""
    p = s.proposals.c
    query = select(s.proposals, s.actions.c.name).outerjoin(s.actions, s.actions.c.action == p.action)
    if status:
        query = query.where(p.status == status)
    with store.engine.connect() as db:
        now = store.chain_time(db)
        rows = db.execute(query.order_by((p.status != "open"), p.proposal_id.desc()).limit(200)).all()
        votes = {
            pid: ("approve" if approve else "reject")
            for pid, approve in db.execute(
                select(s.votes.c.proposal_id, s.votes.c.approve).where(s.votes.c.voter == me)
            ).all()
        }
    open_ids = [r.proposal_id for r in rows if r.status == "open" and r.proposal_id not in votes]
    voter: dict[int, bool] = {}
    if open_ids:
        try:
            flags = client.constitution.contract.call_many("isVoter", [(i, me) for i in open_ids])
            voter = {i: bool(f) for i, f in zip(open_ids, flags, strict=True)}
        except TelcochainError:
            voter = {}
    return [
        ProposalView(
            r.proposal_id, r.name or r.action[:10], names(r.proposer), r.status, r.approvals, r.rejections,
            r.required, r.voter_count, r.deadline, r.status == "open" and 0 < r.deadline < now, show_id(r.ref),
            votes.get(r.proposal_id), voter.get(r.proposal_id, False) and not (0 < r.deadline < now),
        )
        for r in rows
    ]  # fmt: skip


# -- details -------------------------------------------------------------------------------------


@dataclass
class DetailsView:
    id: str
    subject: str
    discloser: str
    disclosed_at: int
    recipients: int
    details: dict[str, Any] | None
    error: str | None


def shared_details(store: IndexStore, client: Client, me: str, names: Names) -> list[DetailsView]:
    """Every disclosure a key was wrapped for this member (from the index), decrypted here with
    this member's own key ring and checked against its on-chain commitment."""
    d, k = s.disclosures.c, s.disclosure_keys.c
    with store.engine.connect() as db:
        rows = db.execute(
            select(s.disclosures)
            .join(s.disclosure_keys, k.disclosure == d.ref)
            .where(k.recipient == me)
            .order_by(d.disclosed_at.desc(), d.ref)
            .limit(200)
        ).all()
    views = []
    for r in rows:
        details: dict[str, Any] | None = None
        error: str | None = None
        try:
            details = client.details.read(r.ref)
        except TelcochainError as exc:
            error = str(exc)
        views.append(
            DetailsView(r.ref, show_id(r.subject), names(r.discloser), r.disclosed_at, r.recipients, details, error)
        )
    return views


__all__ = [
    "AlertSource",
    "Counts",
    "DetailsView",
    "Names",
    "OrderTree",
    "ProposalView",
    "TwinView",
    "checkpoint",
    "counts",
    "label",
    "order_tree",
    "proposals",
    "shared_details",
    "short",
    "twin_view",
    "when",
]
