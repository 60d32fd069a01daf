"""The TMF688 hub's durable outbox: hub events derived from the indexed chain events.

**How events enter the outbox.** A deterministic catch-up pass (:func:`derive`), keyed by its
own cursor (``meta.hub_cursor``, a chain position), reads the raw ``events`` the index has
committed up to its checkpoint, turns each relevant one into TMF688 events, and writes in
**one transaction**: the outbox rows, one delivery row per subscription that may see each event,
and the advanced cursor. It is a separate pass, not part of the follower's transaction, so the
index stays independent of the gateway; it is just as safe, because

- the cursor moves in the same transaction as the rows it covers (a crash loses nothing and
  writes nothing twice), and
- every hub event has a **stable ``eventId``**, a function of the chain alone (chain id,
  Constitution address, block hash, log index, position in the log): writing it again is a
  no-op (``ON CONFLICT DO NOTHING``). A rebuilt or reset index (which keeps the hub tables)
  re-derives the same ids and delivers nothing twice; a reorganised block has another hash,
  so the new branch's events are new events. The cursor remembers the hash of its event's
  block: when the index rolls that block back, the pass starts again from the beginning
  (idempotent, as above) and so finds the new branch wherever it forked.

Concurrent passes (several gateway replicas) serialise on the cursor row: each pass first
writes it (``UPDATE meta SET value = value``), which takes the row lock on PostgreSQL and the
write lock on SQLite, and so does a registration (:func:`register`), so a subscription
registered at cursor *p* receives exactly the events after *p*.

**Visibility.** Each outbox row records the parties that may see it (lower-case addresses);
a subscription of member *m* gets a delivery row only for events naming *m* among them:

- an order (ServiceOrder*, Service*): the project's customer, the member that created the
  project, and the vendors with a device line on the order;
- a twin (Resource*): its custodian, customer and vendor (as indexed when the event is
  derived) and the member whose action changed it;
- an invoice (CustomerBill*): its payer and payee only.

These are the rules of :mod:`telcochain.notifications` (an event concerns the members it
names) applied with the index's party columns.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from telcochain.assets import AssetState
from telcochain.billing import InvoiceStatus
from telcochain.errors import ConfigurationError
from telcochain.gateway.api.common import BILL_PATH, ORDER_PATH, RESOURCE_PATH, SERVICE_PATH
from telcochain.gateway.vocabulary import (
    BILL_STATE,
    BILL_UNMAPPED,
    EVENT_API,
    ORDER_STATE,
    RESOURCE_STATES,
    SERVICE_STATE,
    UNMAPPED,
)
from telcochain.gateway.vocabulary import EventType as E
from telcochain.index import schema as s
from telcochain.index.db import upsert
from telcochain.index.projections import text_of
from telcochain.index.queries import show_id
from telcochain.index.schema import DeliveryStatus
from telcochain.index.store import IndexStore
from telcochain.orders import OrderState

log = logging.getLogger("telcochain.gateway.hub")

CURSOR_KEY = "hub_cursor"  # the position of the last indexed event the pass has read
CURSOR_BLOCK_KEY = "hub_cursor_block"  # "number:hash" of that event's block (reorg check)
#: Events a pass reads at most (the cursor then stands after the last of them).
PASS_LIMIT = 5_000

#: The TMF APIs a hub serves, as their path prefix, and the event types each one delivers.
APIS: dict[str, tuple[str, ...]] = {
    api: tuple(t.value for t, of in EVENT_API.items() if of == api) for api in dict.fromkeys(EVENT_API.values())
}
API_OF = {event_type: api for api, types in APIS.items() for event_type in types}
ALL_EVENT_TYPES = tuple(API_OF)

#: The escrow status each invoice event leads to (``Invoice<Status>`` → ``InvoiceStatus.<STATUS>``).
BILL_EVENT_STATE = {
    f"Invoice{status.name.capitalize()}": int(status)
    for status in (InvoiceStatus.FUNDED, InvoiceStatus.RELEASED, InvoiceStatus.REFUNDED, InvoiceStatus.CANCELLED)
}


def bill_states(status: int) -> dict[str, str]:
    """An escrow status as the TMF678 ``state`` the bill API shows (:data:`BILL_STATE`), with
    the exact status as ``escrowStatus``."""
    escrow = InvoiceStatus(status)
    return {"state": BILL_STATE.get(escrow, BILL_UNMAPPED), "escrowStatus": escrow.name.lower()}


ZERO = "0x" + "00" * 20
ZERO32 = "0x" + "00" * 32


def position(block: int, log_index: int, seq: int = 0) -> int:
    """One sortable integer for a chain position (block, log index, event within the log)."""
    return (block << 24) | (log_index << 4) | seq


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(timestamp: int) -> str:
    """A block timestamp as TMF date-time (UTC, ISO 8601)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_id(chain_id: str, constitution: str, block_hash: str, log_index: int, seq: int) -> str:
    """The stable id: a UUID-shaped digest of where the event is on the chain."""
    digest = hashlib.sha256(f"{chain_id}:{constitution}:{block_hash}:{log_index}:{seq}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


# -- TMF resource shapes --------------------------------------------------------------------


def _ref(type_: str, path: str, ident: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A TMF entity reference: ``id``, its ``href`` under ``path``, ``@type``, then ``fields``."""
    return {"id": ident, "href": f"{path}/{ident}", "@type": type_, **fields}


def order_ref(order_id: str, **fields: Any) -> dict[str, Any]:
    return _ref("ServiceOrder", ORDER_PATH, show_id(order_id), fields)


def resource_ref(asset_id: str, **fields: Any) -> dict[str, Any]:
    return _ref("PhysicalResource", RESOURCE_PATH, show_id(asset_id), fields)


def bill_ref(invoice_id: int, **fields: Any) -> dict[str, Any]:
    return _ref("CustomerBill", BILL_PATH, str(invoice_id), fields)


def resource_states(state: int) -> dict[str, str]:
    """The twin's lifecycle as the TMF639 states the resource API shows (:data:`RESOURCE_STATES`);
    ``lifecycleState`` keeps the telcochain name."""
    lifecycle = AssetState(state)
    states: dict[str, str] = RESOURCE_STATES.get(lifecycle, UNMAPPED)._asdict()
    return {**states, "lifecycleState": lifecycle.label}


def service_state(order_state: int) -> str:
    """A service item's order state as a TMF638 service state (:data:`SERVICE_STATE`)."""
    return SERVICE_STATE[OrderState(order_state)]


# -- derivation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HubEvent:
    """One hub event before it is written: its type, its parties and its ``event`` payload."""

    event_type: str
    parties: frozenset[str]
    payload: dict[str, Any]
    description: str
    field_path: str | None = None


class _Parties:
    """Who may see an order / a twin / an invoice, read from the index (cached per pass)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._orders: dict[str, frozenset[str]] = {}
        self._assets: dict[str, frozenset[str]] = {}

    def order(self, order_id: str) -> frozenset[str]:
        if order_id not in self._orders:
            c = self.connection
            row = c.execute(
                select(s.projects.c.customer, s.projects.c.actor)
                .select_from(s.orders.join(s.projects, s.orders.c.project_id == s.projects.c.project_id))
                .where(s.orders.c.order_id == order_id)
            ).first()
            vendors = c.execute(select(s.lines.c.vendor).where(s.lines.c.order_id == order_id).distinct()).scalars()
            self._orders[order_id] = _addresses([*(row or ()), *vendors])
        return self._orders[order_id]

    def prefetch_assets(self, asset_ids: Iterable[str]) -> None:
        """Read the parties of many twins at once (a pass over a bulk MACD call's events would
        otherwise read them one query per twin)."""
        todo = sorted({x for x in asset_ids if x not in self._assets})
        a = s.assets.c
        for start in range(0, len(todo), 500):
            chunk = todo[start : start + 500]
            rows = self.connection.execute(
                select(a.asset_id, a.custodian, a.customer, a.vendor).where(a.asset_id.in_(chunk))
            ).all()
            found = {r.asset_id: _addresses((r.custodian, r.customer, r.vendor)) for r in rows}
            for x in chunk:
                self._assets[x] = found.get(x, frozenset())

    def asset(self, asset_id: str) -> frozenset[str]:
        if asset_id not in self._assets:
            a = s.assets.c
            row = self.connection.execute(
                select(a.custodian, a.customer, a.vendor).where(a.asset_id == asset_id)
            ).first()
            self._assets[asset_id] = _addresses(row or ())
        return self._assets[asset_id]


def _addresses(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(v).lower() for v in values if v and str(v).lower() != ZERO)


def _order_state(value: Any) -> str:
    return ORDER_STATE[OrderState(int(value))]


def hub_events(name: str, args: dict[str, Any], parties: _Parties) -> list[HubEvent]:
    """The hub events one chain event gives (none for events the hub does not publish)."""
    a = args
    if name == "OrderCreated":
        who = parties.order(a["orderId"])
        order = order_ref(a["orderId"], state=ORDER_STATE[OrderState.ACKNOWLEDGED], externalId=show_id(a["ref"]))
        return [HubEvent(E.SERVICE_ORDER_CREATE, who, {"serviceOrder": order}, "service order created")]
    if name == "OrderStateChanged":
        return [
            HubEvent(
                E.SERVICE_ORDER_STATE_CHANGE,
                parties.order(a["orderId"]),
                {"serviceOrder": order_ref(a["orderId"], state=_order_state(a["to"]))},
                f"service order {_order_state(a['from'])} -> {_order_state(a['to'])}",
            )
        ]
    if name == "OrderRevised":
        return [
            HubEvent(
                E.SERVICE_ORDER_ATTRIBUTE_VALUE_CHANGE,
                parties.order(a["orderId"]),
                {"serviceOrder": order_ref(a["orderId"], revision=int(a["revision"]))},
                f"service order revised (revision {int(a['revision'])})",
                "revision",
            )
        ]
    if name == "ServiceStateChanged":
        ident = f"{show_id(a['orderId'])}:{show_id(a['serviceId'])}"  # as the service API names it
        service = _ref("Service", SERVICE_PATH, ident, {
            "state": service_state(int(a["to"])),
            "serviceOrderItem": [{"serviceOrderId": show_id(a["orderId"]), "itemState": _order_state(a["to"])}],
        })  # fmt: skip
        return [
            HubEvent(E.SERVICE_STATE_CHANGE, parties.order(a["orderId"]), {"service": service}, "service state changed")
        ]
    if "assetId" in a and name.startswith("Asset"):
        who = parties.asset(a["assetId"]) | _addresses([a.get("actor")])
        if name == "AssetRegistered":
            resource = resource_ref(a["assetId"], category=text_of(a.get("kind", "0x")), **resource_states(1))
            return [HubEvent(E.RESOURCE_CREATE, who, {"resource": resource}, "resource created")]
        if name == "AssetTransitioned":
            resource = resource_ref(a["assetId"], version=int(a["version"]), **resource_states(int(a["to"])))
            label = f"{AssetState(int(a['from'])).label} -> {AssetState(int(a['to'])).label}"
            return [HubEvent(E.RESOURCE_STATE_CHANGE, who, {"resource": resource}, f"resource {label}")]
        field = {
            "AssetSerialBound": "serialNumber",
            "AssetLinked": "relatedEntity",
            "AssetCustodyTransferred": "relatedParty",
            "AssetPartiesChanged": "relatedParty",
        }.get(name)
        if field is None:
            return []
        if name == "AssetCustodyTransferred":
            who = who | _addresses([a.get("from"), a.get("to")])
        resource = resource_ref(a["assetId"], version=int(a.get("version", 0)))
        return [HubEvent(E.RESOURCE_ATTRIBUTE_VALUE_CHANGE, who, {"resource": resource}, f"{field} changed", field)]
    if name == "InvoiceIssued":
        bill = bill_ref(
            int(a["invoiceId"]),
            **bill_states(InvoiceStatus.ISSUED),
            amountDue={"value": str(int(a["amount"]) - int(a.get("credited", 0))), "unit": a.get("token")},
            paymentDueDate=iso(int(a.get("dueDate", 0))),
        )
        who = _addresses([a["payer"], a["payee"]])
        return [HubEvent(E.CUSTOMER_BILL_CREATE, who, {"customerBill": bill}, "customer bill issued")]
    if name in BILL_EVENT_STATE:
        bill = bill_ref(int(a["invoiceId"]), **bill_states(BILL_EVENT_STATE[name]))
        who = _addresses([a["payer"], a["payee"]])
        return [HubEvent(E.CUSTOMER_BILL_STATE_CHANGE, who, {"customerBill": bill}, f"customer bill: {name}")]
    return []


#: The chain events a pass reads (the rest cannot give a hub event).
SOURCE_EVENTS = (
    "OrderCreated",
    "OrderStateChanged",
    "OrderRevised",
    "ServiceStateChanged",
    "AssetRegistered",
    "AssetTransitioned",
    "AssetSerialBound",
    "AssetLinked",
    "AssetCustodyTransferred",
    "AssetPartiesChanged",
    "InvoiceIssued",
    *BILL_EVENT_STATE,
)


# -- subscriptions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A TMF688 hub query: ``eventType=A,B&event.serviceOrder.state=completed`` — every
    condition must hold; a condition's comma-separated values are alternatives."""

    conditions: tuple[tuple[str, frozenset[str]], ...]

    @classmethod
    def parse(cls, text: str | None, api: str) -> Query:
        """Parse ``text``; ConfigurationError (HTTP 400) for anything it cannot evaluate."""
        if text is None or not text.strip():
            return cls(())
        allowed = APIS[api] if api else ALL_EVENT_TYPES
        conditions = []
        try:
            pairs = parse_qsl(text.strip().lstrip("?"), keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise ConfigurationError(f"query {text!r}: expected name=value pairs joined by '&'") from None
        for key, value in pairs:
            values = frozenset(v.strip() for v in value.split(",") if v.strip())
            if not values:
                raise ConfigurationError(f"query {text!r}: {key!r} has no value")
            if key == "eventType":
                unknown = sorted(values - set(allowed))
                if unknown:
                    raise ConfigurationError(
                        f"query: unknown eventType {', '.join(unknown)} (this hub delivers: {', '.join(allowed)})"
                    )
            elif not key.startswith("event.") or any(not part for part in key.split(".")):
                raise ConfigurationError(f"query: {key!r} is not eventType nor an event.<field> path")
            conditions.append((key, values))
        return cls(tuple(conditions))

    def matches(self, event: dict[str, Any]) -> bool:
        for key, values in self.conditions:
            found: Any = event
            for part in key.split("."):
                found = found.get(part) if isinstance(found, dict) else None
            if found is None or str(found) not in values:
                return False
        return True


@dataclass(frozen=True)
class Subscription:
    id: str
    member: str
    api: str
    callback: str
    query: str | None
    after_position: int
    created_at: int

    def to_tmf(self, base: str = "") -> dict[str, Any]:
        prefix = f"/{self.api}/v4" if self.api else ""
        return {
            "id": self.id,
            "href": f"{base}{prefix}/hub/{self.id}",
            "callback": self.callback,
            "query": self.query,
            "@type": "EventSubscription",
        }


def _lock_cursor(connection: Connection) -> int:
    """Take the cursor row for this transaction (see the module docstring); its value."""
    connection.execute(upsert(connection, s.meta, ["key"], []), [{"key": CURSOR_KEY, "value": "-1"}])
    connection.execute(update(s.meta).where(s.meta.c.key == CURSOR_KEY).values(value=s.meta.c.value))
    return int(connection.execute(select(s.meta.c.value).where(s.meta.c.key == CURSOR_KEY)).scalar_one())


def register(store: IndexStore, member: str, api: str, callback: str, query: str | None) -> tuple[Subscription, str]:
    """Register a callback; returns the subscription and its signing secret (shown only now).
    It receives the events after the outbox's cursor at this moment."""
    if api and api not in APIS:
        raise ConfigurationError(f"unknown API {api!r}")
    Query.parse(query, api)
    secret = secrets.token_hex(32)
    with store.engine.begin() as connection:
        after = _lock_cursor(connection)
        sub = Subscription(str(uuid.uuid4()), member.lower(), api, callback, query, after, int(time.time()))
        connection.execute(
            s.hub_subscriptions.insert().values(
                id=sub.id,
                member=sub.member,
                api=api,
                callback=callback,
                query=query,
                secret=secret,
                after_position=after,
                created_at=sub.created_at,
            )
        )
    return sub, secret


def _subscription(row: Any) -> Subscription:
    return Subscription(row.id, row.member, row.api, row.callback, row.query, row.after_position, row.created_at)


def get_subscription(store: IndexStore, member: str, api: str, sub_id: str) -> Subscription | None:
    """The member's subscription ``sub_id`` of ``api`` (None: no such one, or another member's)."""
    h = s.hub_subscriptions.c
    with store.engine.connect() as connection:
        row = connection.execute(
            select(s.hub_subscriptions).where(h.id == sub_id, h.member == member.lower(), h.api == api)
        ).first()
    return _subscription(row) if row is not None else None


def list_subscriptions(store: IndexStore, member: str | None = None) -> list[Subscription]:
    h = s.hub_subscriptions.c
    stmt = select(s.hub_subscriptions).order_by(h.created_at, h.id)
    if member is not None:
        stmt = stmt.where(h.member == member.lower())
    with store.engine.connect() as connection:
        return [_subscription(r) for r in connection.execute(stmt).all()]


def unregister(store: IndexStore, member: str, api: str, sub_id: str) -> bool:
    """Delete the subscription and its undelivered events; False if there was none."""
    h = s.hub_subscriptions.c
    with store.engine.begin() as connection:
        gone = connection.execute(
            delete(s.hub_subscriptions).where(h.id == sub_id, h.member == member.lower(), h.api == api)
        ).rowcount
        if gone:
            d = s.hub_deliveries.c
            connection.execute(
                delete(s.hub_deliveries).where(d.subscription_id == sub_id, d.status == DeliveryStatus.PENDING)
            )
    return bool(gone)


# -- the pass -------------------------------------------------------------------------------


def checkpoint_of(store: IndexStore) -> tuple[str | None, str | None]:
    """The index's checkpoint (block, hash), read without a lock: a pass is due when it moved."""
    with store.engine.connect() as connection:
        meta = store.meta(connection)
    return meta.get("checkpoint_block"), meta.get("checkpoint_hash")


def derive(store: IndexStore, limit: int = PASS_LIMIT, clock: Callable[[], int] = now_ms) -> int:
    """One catch-up pass: the hub events of the indexed events after the cursor, the delivery
    rows of the subscriptions that may see them, the cursor moved; one transaction. Returns
    how many indexed events it read (``limit``: call again, there may be more)."""
    e, b = s.events.c, s.blocks.c
    with store.engine.begin() as connection:
        cursor = _lock_cursor(connection)
        meta = store.meta(connection)
        if "checkpoint_block" not in meta:
            return 0
        checkpoint = int(meta["checkpoint_block"])
        marker = meta.get(CURSOR_BLOCK_KEY)  # "number:hash" of the block of the cursor's event
        if cursor >= 0 and marker:
            number, _, block_hash = marker.partition(":")
            still = connection.execute(select(b.hash).where(b.number == int(number))).scalar()
            if still != block_hash:  # the index rolled that block back (a reorganisation)
                log.warning("hub: block %s was reorganised away; re-deriving from the start", number)
                cursor = -1  # idempotent: what was derived before keeps its id and is not sent again
        # the cursor always stands after a whole log (seq 15): resume at the next log
        after_block, after_log = (cursor >> 24, (cursor >> 4) & 0xFFFFF) if cursor >= 0 else (-1, 0)
        rows = connection.execute(
            select(e.block_number, e.log_index, e.name, e.args, b.hash, b.timestamp)
            .select_from(s.events.join(s.blocks, s.blocks.c.number == e.block_number))
            .where(
                # a range on the primary key (block, log): the ``>=`` lets the planner use it, and
                # the name test goes through coalesce so that it does not pick the name index
                # instead (that read every event of those names, then sorted them, each pass)
                e.block_number >= after_block,
                (e.block_number > after_block) | ((e.block_number == after_block) & (e.log_index > after_log)),
                e.block_number <= checkpoint,
                func.coalesce(e.name, "").in_(SOURCE_EVENTS),
            )
            .order_by(e.block_number, e.log_index)
            .limit(limit)
        ).all()
        if not rows:
            if cursor == -1:
                _set_cursor(connection, -1, None)
            return 0
        parties = _Parties(connection)
        args_of = [row.args if isinstance(row.args, dict) else json.loads(row.args) for row in rows]
        parties.prefetch_assets(
            str(args["assetId"]) for row, args in zip(rows, args_of, strict=True)
            if "assetId" in args and str(row.name).startswith("Asset")
        )  # fmt: skip
        subs = [
            (sub, Query.parse(sub.query, sub.api))
            for sub in (_subscription(r) for r in connection.execute(select(s.hub_subscriptions)).all())
        ]
        chain_id, constitution = meta.get("chain_id", ""), meta.get("constitution", "")
        stamp = clock()
        outbox, deliveries = [], []
        for row, args in zip(rows, args_of, strict=True):
            for seq, hub_event in enumerate(hub_events(row.name, args, parties)):
                pos = position(row.block_number, row.log_index, seq)
                if pos <= cursor:
                    continue
                eid = event_id(chain_id, constitution, row.hash, row.log_index, seq)
                body = {
                    "eventId": eid,
                    "eventTime": iso(row.timestamp),
                    "eventType": hub_event.event_type,
                    "correlationId": show_id(args["ref"]) if args.get("ref") else None,
                    "domain": API_OF[hub_event.event_type],
                    "description": hub_event.description,
                    "timeOccurred": iso(row.timestamp),
                    "event": hub_event.payload,
                    "@type": hub_event.event_type,
                    "@baseType": "Event",
                    "source": {"blockNumber": row.block_number, "blockHash": row.hash, "logIndex": row.log_index},
                }
                if hub_event.field_path:
                    body["fieldPath"] = hub_event.field_path
                outbox.append(
                    {
                        "event_id": eid,
                        "position": pos,
                        "api": API_OF[hub_event.event_type],
                        "event_type": hub_event.event_type,
                        "parties": sorted(hub_event.parties),
                        "body": json.dumps(body, separators=(",", ":"), sort_keys=True),
                        "derived_at": stamp,
                    }
                )
                for sub, query in subs:
                    if (
                        pos > sub.after_position
                        and sub.member in hub_event.parties
                        and (not sub.api or sub.api == API_OF[hub_event.event_type])
                        and query.matches(body)
                    ):
                        deliveries.append(
                            {
                                "subscription_id": sub.id,
                                "event_id": eid,
                                "position": pos,
                                "status": DeliveryStatus.PENDING,
                                "attempts": 0,
                                "next_attempt_at": stamp,
                            }
                        )
        if outbox:  # a row already there (a re-derivation) is left as it is
            connection.execute(upsert(connection, s.hub_outbox, ["event_id"], []), outbox)
        if deliveries:
            connection.execute(upsert(connection, s.hub_deliveries, ["subscription_id", "event_id"], []), deliveries)
        last = rows[-1]
        _set_cursor(connection, position(last.block_number, last.log_index, 15), f"{last.block_number}:{last.hash}")
    return len(rows)


def _set_cursor(connection: Connection, value: int, marker: str | None) -> None:
    connection.execute(update(s.meta).where(s.meta.c.key == CURSOR_KEY).values(value=str(value)))
    if marker is None:
        connection.execute(delete(s.meta).where(s.meta.c.key == CURSOR_BLOCK_KEY))
    else:
        connection.execute(upsert(connection, s.meta, ["key"], ["value"]), [{"key": CURSOR_BLOCK_KEY, "value": marker}])
