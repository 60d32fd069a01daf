"""TMF641 Service Ordering: customer orders (project → order → services → device lines) and
MACD changes, as ``ServiceOrder`` resources.

**A CRM order** is created by a ``ServiceOrder`` whose top-level items all have ``action: add``:
each is a service item (``service.id``; characteristic ``version``, default 1), and its nested
``serviceOrderItem`` entries are its device lines (the item ``id`` is the line id;
``quantity``; characteristics ``vendor`` (address or member name), ``sku``, ``changePolicy``
(``pause`` | ``autoCorrect``); the twin, if managed, as ``service.supportingResource[0].id``).
``externalId`` is the order id; the project (root id) is ``externalReference`` of type
``project`` (created for the ``relatedParty`` with role ``customer`` if new).

**A revision** (the seed's A → A') is a ``PATCH`` with the new item set: top-level items
``add``/``modify`` (new ``version``)/``delete``/``noChange``; nested line items ``add``,
``delete`` or ``noChange``, each with its ``changePolicy`` (Pause or AutoCorrect per line).
``PATCH {"state": ...}`` moves the order along the TMF table; a top-level item with ``state``
moves that service item.

**MACD** is TMF's way: a ``ServiceOrder`` whose items have ``action: modify`` (characteristic
``macdKind``: one of :data:`MODIFY_KINDS`, every MACD kind but delete — ``move``, ``add``,
``change``..., default ``change``) or ``action: delete`` on
existing resources (``service.supportingResource[].id``: the twins) runs the agreement's MACD
flow with its charge. Its id is ``MACD-...``; concurrent items are micro-batched into bulk
``orderChanges`` calls (:mod:`telcochain.gateway.macd`). ``PATCH {"state": "completed"}``
confirms the changes (the operator), ``cancelServiceOrder`` calls them off.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from concurrent.futures import Future
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import func, insert, select

from telcochain.agreement import MAX_BATCH, MacdKind
from telcochain.assets import AssetState
from telcochain.constitution import DenyReason
from telcochain.errors import ConfigurationError, ContractRevert, MemberNotFound
from telcochain.gateway.api.common import (
    ORDER_PATH,
    RESOURCE_PATH,
    Characteristic,
    Out,
    Pages,
    RelatedParty,
    Tmf,
    check_id,
    href,
    iso,
    member_names,
    one,
    page,
)
from telcochain.gateway.auth import Principal, require_principal
from telcochain.gateway.errors import ERRORS, ApiError, bad_request, not_found
from telcochain.gateway.macd import MacdBatcher, OrderItem, Placed, Sent, Unchecked
from telcochain.gateway.state import GatewayState, State, WriteState
from telcochain.gateway.vocabulary import (
    CANCELLATION_STATES,
    CLOSED_STATES,
    ITEM_ACTION,
    LINE_ACTION,
    MACD_ACTION,
    MACD_NOT_INDEXED,
    ORDER_STATE,
    ORDER_STATE_OF,
    REQUEST_STATE,
    OrderItemAction,
    ServiceOrderState,
    TaskState,
    macd_state,
)
from telcochain.index import schema as s
from telcochain.index.queries import id_hex, show_id
from telcochain.index.schema import RequestStatus
from telcochain.orders import ChangePolicy, DeviceLine, ItemAction, OrderState, Revision

PATH = ORDER_PATH
CANCEL_PATH = "/serviceOrdering/v4/cancelServiceOrder"
MACD_PREFIX = "MACD-"
#: The ``macdKind`` of a ``modify`` item: every MACD kind but delete (that one is ``action: delete``).
MODIFY_KINDS = tuple(k.label for k in MacdKind if k is not MacdKind.DELETE)
STATES = tuple(ServiceOrderState)
A, SO = OrderItemAction, ServiceOrderState
#: Seconds a permission check is reused before signing (a revocation is still enforced on chain).
PERMISSION_TTL = 2.0
POLICY_NAMES = {ChangePolicy.PAUSE: "pause", ChangePolicy.AUTO_CORRECT: "autoCorrect"}

router = APIRouter(tags=["TMF641 Service Ordering"], dependencies=[Depends(require_principal)])

# -- payloads ---------------------------------------------------------------------------------

Id32 = Field(min_length=1, max_length=66, description="text up to 32 bytes, or 0x + 64 hex")


class ResourceRef(Tmf):
    id: str = Id32
    href: str | None = Field(default=None, max_length=2000)
    name: str | None = Field(default=None, max_length=200)
    referredType: str | None = Field(default=None, alias="@referredType", max_length=64)


class ServiceRefOrValue(Tmf):
    id: str | None = Field(default=None, min_length=1, max_length=66)
    href: str | None = Field(default=None, max_length=2000)
    name: str | None = Field(default=None, max_length=200)
    state: str | None = Field(default=None, max_length=40)
    serviceCharacteristic: list[Characteristic] | None = Field(default=None, max_length=32)
    supportingResource: list[ResourceRef] | None = Field(default=None, max_length=MAX_BATCH)


class ServiceOrderItemIn(Tmf):
    id: str = Field(min_length=1, max_length=32, description="service id, line id, or the item's number")
    action: OrderItemAction
    state: str | None = Field(default=None, max_length=40, description="PATCH: move this service item to the state")
    quantity: int | None = Field(default=None, ge=1, le=2**32 - 1)
    service: ServiceRefOrValue | None = None
    serviceOrderItem: list[ServiceOrderItemIn] | None = Field(default=None, max_length=64)


class PartyIn(Tmf):
    id: str = Field(min_length=1, max_length=128, description="an address, or a member name")
    role: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    href: str | None = Field(default=None, max_length=2000)
    referredType: str | None = Field(default=None, alias="@referredType", max_length=64)


class ExternalReference(Tmf):
    externalReferenceType: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=66)


class ServiceOrderCreate(Tmf):
    """TMF641 ``ServiceOrder_Create``."""

    externalId: str | None = Field(default=None, min_length=1, max_length=32, description="the CRM order id")
    description: str | None = Field(default=None, max_length=1000)
    category: str | None = Field(default=None, max_length=64)
    priority: str | None = Field(default=None, max_length=16)
    requestedStartDate: str | None = Field(default=None, max_length=40)
    requestedCompletionDate: str | None = Field(default=None, max_length=40)
    relatedParty: list[PartyIn] | None = Field(default=None, max_length=16)
    externalReference: list[ExternalReference] | None = Field(default=None, max_length=16)
    serviceOrderItem: list[ServiceOrderItemIn] = Field(min_length=1, max_length=64)


class ServiceOrderUpdate(Tmf):
    """TMF641 ``ServiceOrder_Update`` (merge-patch): a revision's items, or a new ``state``."""

    state: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=1000)
    serviceOrderItem: list[ServiceOrderItemIn] | None = Field(default=None, min_length=1, max_length=64)


class ServiceOrderRef(Tmf):
    id: str = Field(min_length=1, max_length=80)
    href: str | None = Field(default=None, max_length=2000)


class CancelServiceOrderCreate(Tmf):
    serviceOrder: ServiceOrderRef
    cancellationReason: str | None = Field(default=None, max_length=1000)
    requestedCancellationDate: str | None = Field(default=None, max_length=40)


# -- responses --------------------------------------------------------------------------------


class ResourceRefOut(Out):
    id: str
    href: str | None = None
    referredType: str = Field(default="PhysicalResource", alias="@referredType")


def _twin_ref(request: Request, asset_id: str) -> ResourceRefOut:
    """A twin (its index id) as an order item's ``supportingResource``."""
    ident = show_id(asset_id)
    return ResourceRefOut(id=ident, href=href(request, RESOURCE_PATH, ident))


class ServiceOut(Out):
    id: str | None = None
    href: str | None = None
    name: str | None = None
    state: ServiceOrderState | None = Field(default=None, description="the service item's order state")
    type_: str = Field(default="Service", alias="@type")
    serviceCharacteristic: list[Characteristic] | None = None
    supportingResource: list[ResourceRefOut] | None = None


class ServiceOrderItem(Out):
    id: str
    action: OrderItemAction
    state: ServiceOrderState | None = None
    quantity: int | None = None
    service: ServiceOut | None = None
    serviceOrderItem: list[ServiceOrderItem] | None = None
    type_: str = Field(default="ServiceOrderItem", alias="@type")


class ExternalReferenceOut(Out):
    externalReferenceType: str
    name: str


class ServiceOrder(Out):
    """TMF641 ``ServiceOrder``."""

    id: str
    href: str
    type_: str = Field(default="ServiceOrder", alias="@type")
    externalId: str | None = None
    category: str | None = Field(
        default=None, description="crm (an order on the OrderBook) or macd (agreement changes)"
    )
    description: str | None = None
    state: ServiceOrderState | None = None
    orderDate: str | None = None
    completionDate: str | None = None
    revision: int | None = Field(default=None, description="revisions applied so far (crm)")
    relatedParty: list[RelatedParty] | None = None
    externalReference: list[ExternalReferenceOut] | None = None
    serviceOrderItem: list[ServiceOrderItem] | None = None


class CancelServiceOrder(Out):
    id: str
    href: str | None = None
    type_: str = Field(default="CancelServiceOrder", alias="@type")
    state: TaskState = Field(description="done (tasks are not kept)")
    cancellationReason: str | None = None
    effectiveCancellationDate: str | None = None
    serviceOrder: ServiceOrderRef


# -- helpers ------------------------------------------------------------------------------------


def _chars(items: list[Characteristic] | None) -> dict[str, Any]:
    return {c.name: c.value for c in items or ()}


def _char(item: ServiceOrderItemIn, name: str, default: Any = None) -> Any:
    return _chars(item.service.serviceCharacteristic if item.service else None).get(name, default)


def _policy(item: ServiceOrderItemIn) -> ChangePolicy:
    value = _char(item, "changePolicy", "autoCorrect")
    try:
        return ChangePolicy.parse(str(value))
    except ConfigurationError:
        raise bad_request(f"serviceOrderItem {item.id}: changePolicy {value!r} is not pause or autoCorrect") from None


def _version(item: ServiceOrderItemIn, default: int | None) -> int:
    value = _char(item, "version", default)
    if value is None:
        raise bad_request(f"serviceOrderItem {item.id}: action {item.action} needs the characteristic version")
    if isinstance(value, bool) or not str(value).isdigit() or not 1 <= int(value) < 2**32:
        raise bad_request(f"serviceOrderItem {item.id}: version {value!r} is not a whole number 1 to 2**32-1")
    return int(value)


def _service_id(item: ServiceOrderItemIn) -> str:
    return check_id(item.service.id if item.service and item.service.id else item.id, "service id")


def _member(state: GatewayState, who: str, what: str) -> str:
    try:
        return state.queries.member(who)
    except (MemberNotFound, ConfigurationError):
        raise bad_request(f"{what} {who[:60]!r} is not a member (an address or a member's name)") from None


def _allowed(state: GatewayState, *actions: str) -> None:
    """403 with the constitution's reason before anything is signed."""
    client = state.client
    if client.address is None:
        raise ApiError(403, "PERMISSION_DENIED", "this gateway has no account: it only reads")
    cache: dict[str, tuple[DenyReason, float]] = state.components.setdefault("can_execute", {})
    now = time.monotonic()
    for name in actions:
        reason, until = cache.get(name, (DenyReason.NONE, 0.0))
        if until < now:  # re-read after PERMISSION_TTL s: the chain still decides at execution
            reason = client.constitution.can_execute(name, client.address)
            cache[name] = (reason, now + PERMISSION_TTL)
        if reason is not DenyReason.NONE:
            raise ApiError(403, "PERMISSION_DENIED", reason.text, f"{name} denied for {client.address}")


def _line(state: GatewayState, item: ServiceOrderItemIn, service: str) -> DeviceLine:
    check_id(item.id, "line id")
    chars = _chars(item.service.serviceCharacteristic if item.service else None)
    vendor, sku = chars.get("vendor"), chars.get("sku")
    if not vendor or not sku:
        raise bad_request(f"device line {item.id}: the characteristics vendor and sku are required")
    if len(str(sku).encode()) > 16:
        raise bad_request(f"device line {item.id}: sku {str(sku)[:40]!r} is longer than 16 bytes")
    resources = item.service.supportingResource if item.service else None
    asset = check_id(resources[0].id, "resource id") if resources else None
    quantity = item.quantity if item.quantity is not None else chars.get("quantity", 1)
    if isinstance(quantity, bool) or not str(quantity).isdigit() or not 1 <= int(quantity) < 2**32:
        raise bad_request(f"device line {item.id}: quantity {quantity!r} is not a whole number 1 to 2**32-1")
    return DeviceLine(
        item.id, service, _member(state, str(vendor), "vendor"), str(sku), int(quantity), _policy(item), asset
    )


def _last_block(results: list[Any]) -> int | None:
    blocks = [r.receipt.block_number for r in results if getattr(r, "receipt", None) is not None]
    return max(blocks) if blocks else None


# -- reading orders from the index ---------------------------------------------------------------


#: A device line's ``@type`` (by alias: the keyword ``type_`` is not in the typed signature).
_DEVICE_LINE: dict[str, Any] = {"@type": "DeviceLine"}


def _crm_order(request: Request, state: GatewayState, row: Any, names: dict[str, str]) -> ServiceOrder:
    ident = show_id(row.order_id)
    with state.store.engine.connect() as db:
        services = db.execute(
            select(s.services).where(s.services.c.order_id == row.order_id).order_by(s.services.c.service_id)
        ).all()
        lines = db.execute(select(s.lines).where(s.lines.c.order_id == row.order_id).order_by(s.lines.c.line_id)).all()
    by_service: dict[str, list[Any]] = defaultdict(list)
    for ln in lines:
        by_service[ln.service_id].append(ln)
    items = []
    for sv in services:
        nested = [
            ServiceOrderItem(
                id=show_id(ln.line_id),
                action=LINE_ACTION[OrderState(ln.state)],
                state=ORDER_STATE[OrderState(ln.state)],
                quantity=int(ln.quantity),
                service=ServiceOut(
                    name=show_id(ln.line_id),
                    **_DEVICE_LINE,
                    serviceCharacteristic=[
                        Characteristic(name="vendor", value=ln.vendor),
                        Characteristic(name="vendorName", value=names.get(ln.vendor)),
                        Characteristic(name="sku", value=ln.sku),
                        Characteristic(name="changePolicy", value=POLICY_NAMES[ChangePolicy(ln.policy)]),
                        Characteristic(name="delivered", value=int(ln.delivered)),
                        Characteristic(name="consumed", value=int(ln.consumed)),
                        Characteristic(name="returned", value=int(ln.returned)),
                    ],
                    supportingResource=([_twin_ref(request, ln.asset_id)] if int(ln.asset_id, 16) else None),
                ),
            )
            for ln in by_service.get(sv.service_id, [])
        ]
        items.append(
            ServiceOrderItem(
                id=show_id(sv.service_id),
                action=ITEM_ACTION[ItemAction(sv.action)],
                state=ORDER_STATE[OrderState(sv.state)],
                service=ServiceOut(
                    id=show_id(sv.service_id),
                    name=show_id(sv.service_id),
                    state=ORDER_STATE[OrderState(sv.state)],
                    serviceCharacteristic=[Characteristic(name="version", value=int(sv.version))],
                ),
                serviceOrderItem=nested or None,
            )
        )
    party = [RelatedParty(id=row.customer, name=names.get(row.customer), role="customer")] if row.customer else None
    return ServiceOrder(
        id=ident,
        href=href(request, PATH, ident),
        externalId=ident,
        category="crm",
        state=ORDER_STATE[OrderState(row.state)],
        orderDate=iso(row.created_at),
        completionDate=iso(row.closed_at),
        revision=row.revision,
        relatedParty=party,
        externalReference=[ExternalReferenceOut(externalReferenceType="project", name=show_id(row.project_id))],
        serviceOrderItem=items,
    )


def _macd_orders(
    request: Request, state: GatewayState, order_ids: list[str], names: dict[str, str]
) -> list[ServiceOrder]:
    if not order_ids:
        return []
    m, r = s.gateway_macd_items.c, s.requests.c
    with state.store.engine.connect() as db:
        rows = db.execute(
            select(s.gateway_macd_items).where(m.order_id.in_(order_ids)).order_by(m.order_id, m.item_id, m.asset_id)
        ).all()
        pairs = {(x.asset_id, x.ref) for x in rows}
        found: dict[tuple[str, str], Any] = {}
        if pairs:
            for q in db.execute(
                select(r.asset_id, r.ref, r.status, r.charge, r.customer, r.closed_at).where(
                    r.flow == "macd", r.asset_id.in_({a for a, _ in pairs}), r.ref.in_({f for _, f in pairs})
                )
            ).all():
                found[(q.asset_id, q.ref)] = q
    grouped: dict[str, list[Any]] = defaultdict(list)
    for x in rows:
        grouped[x.order_id].append(x)
    orders = []
    for oid in order_ids:
        items_rows = grouped.get(oid)
        if not items_rows:
            continue
        by_item: dict[str, list[Any]] = defaultdict(list)
        for x in items_rows:
            by_item[x.item_id].append(x)
        items, all_states, customer, closed = [], [], None, []
        for item_id, xs in by_item.items():
            states: list[ServiceOrderState] = []
            charge = 0
            for x in xs:
                req = found.get((x.asset_id, x.ref))
                states.append(REQUEST_STATE[RequestStatus(req.status)] if req else MACD_NOT_INDEXED)
                if req is not None:
                    charge += int(req.charge)
                    customer = req.customer
                    if req.closed_at:
                        closed.append(req.closed_at)
            kind = xs[0].kind
            item_state = macd_state(states)
            all_states.extend(states)
            items.append(
                ServiceOrderItem(
                    id=item_id,
                    action=MACD_ACTION[MacdKind.parse(kind)],
                    state=item_state,
                    service=ServiceOut(
                        state=item_state,
                        serviceCharacteristic=[
                            Characteristic(name="macdKind", value=kind),
                            Characteristic(name="charge", value=str(charge), valueType="integer"),
                            Characteristic(name="ref", value=xs[0].ref),
                        ],
                        supportingResource=[_twin_ref(request, x.asset_id) for x in xs],
                    ),
                )
            )
        order_state = macd_state(all_states)
        first = items_rows[0]
        party = [RelatedParty(id=customer, name=names.get(customer), role="customer")] if customer else None
        orders.append(
            ServiceOrder(
                id=oid,
                href=href(request, PATH, oid),
                externalId=first.external_id,
                category="macd",
                state=order_state,
                orderDate=iso(first.created_at),
                completionDate=iso(max(closed)) if closed and order_state in (SO.COMPLETED, SO.PARTIAL) else None,
                relatedParty=party,
                serviceOrderItem=items,
            )
        )
    return orders


def _order_row(state: GatewayState, ident: str) -> Any:
    check_id(ident, "service order id")
    with state.store.engine.connect() as db:
        return db.execute(select(s.orders).where(s.orders.c.order_id == id_hex(ident))).first()


def read_order(request: Request, state: GatewayState, ident: str) -> ServiceOrder:
    if ident.startswith(MACD_PREFIX):
        found = _macd_orders(request, state, [ident], member_names(state))
        if not found:
            raise not_found("service order", ident)
        return found[0]
    row = _order_row(state, ident)
    if row is None:
        raise not_found("service order", ident)
    return _crm_order(request, state, row, member_names(state))


# -- endpoints --------------------------------------------------------------------------------


@router.get(
    PATH, response_model=list[ServiceOrder], response_model_exclude_none=True, responses=ERRORS,
    summary="List service orders (CRM orders, then MACD orders)",
)  # fmt: skip
async def list_orders(
    request: Request,
    response: Response,
    paging: Pages,
    state: State,
    order_state: str | None = Query(None, alias="state", max_length=40, description="|".join(STATES)),
    category: Literal["crm", "macd"] | None = Query(None),
    party: str | None = Query(None, alias="relatedParty.id", max_length=42, description="the customer's address"),
    external_id: str | None = Query(None, alias="externalId", max_length=66),
) -> Any:
    o = s.orders.c
    conditions: list[Any] = []
    if order_state is not None:
        if order_state not in STATES:
            raise bad_request(f"state {order_state[:40]!r} is not one of {', '.join(STATES)}")
        conditions.append(o.state == int(ORDER_STATE_OF[SO(order_state)]))
    if party is not None:
        conditions.append(o.customer == party)
    if external_id is not None:
        conditions.append(o.order_id == id_hex(check_id(external_id, "externalId")))
    names = member_names(state)
    crm: list[ServiceOrder] = []
    crm_total = 0
    if category in (None, "crm"):
        with state.store.engine.connect() as db:
            crm_total = db.execute(select(func.count()).select_from(s.orders).where(*conditions)).scalar_one()
            rows = db.execute(
                select(s.orders).where(*conditions).order_by(o.order_id).offset(paging.offset).limit(paging.limit)
            ).all()
        crm = [_crm_order(request, state, r, names) for r in rows]
    macd: list[ServiceOrder] = []
    macd_total = 0
    if category in (None, "macd"):
        m = s.gateway_macd_items.c
        with state.store.engine.connect() as db:
            ids = [r[0] for r in db.execute(select(m.order_id).distinct().order_by(m.order_id)).all()]
        if order_state is not None or party is not None or external_id is not None:
            everything = _macd_orders(request, state, ids, names)
            kept = [
                x
                for x in everything
                if (order_state is None or x.state == order_state)
                and (party is None or any(p.id == party for p in x.relatedParty or ()))
                and (external_id is None or x.externalId == external_id)
            ]
            macd_total = len(kept)
            start = max(0, paging.offset - crm_total)
            macd = kept[start : start + max(0, paging.limit - len(crm))]
        else:
            macd_total = len(ids)
            start = max(0, paging.offset - crm_total)
            macd = _macd_orders(request, state, ids[start : start + max(0, paging.limit - len(crm))], names)
    return page(response, crm + macd, crm_total + macd_total, paging)


@router.get(
    PATH + "/{id}", response_model=ServiceOrder, response_model_exclude_none=True, responses=ERRORS,
    summary="One service order",
)  # fmt: skip
async def get_order(request: Request, id: str, state: State, fields: str | None = Query(None, max_length=1000)) -> Any:
    return one(read_order(request, state, id), fields)


@router.post(
    PATH, response_model=ServiceOrder, response_model_exclude_none=True, responses=ERRORS, status_code=201,
    summary="Create a service order: a CRM order (items add) or a MACD change (items modify/delete on resources)",
)  # fmt: skip
async def create_order(
    request: Request,
    response: Response,
    state: WriteState,
    principal: Annotated[Principal, Depends(require_principal)],
    body: ServiceOrderCreate,
) -> Any:
    actions = {item.action for item in body.serviceOrderItem}
    if actions <= {A.ADD}:
        await state.wait_indexed_async(state.written_block or None)  # read-your-writes, as State does
        order = await run_in_threadpool(_create_crm, request, state, body)
    elif actions <= {A.MODIFY, A.DELETE}:
        # async: an order waiting for its micro-batch holds no thread, so thousands can wait at once
        order = await _create_macd(request, state, body, principal)
    else:
        raise bad_request(
            "a service order is either all items add (a new CRM order) or all modify/delete (MACD on resources)",
            "revise an existing order with PATCH",
        )
    return one(order, None, status=201, headers={"Location": order.href})


def _create_crm(request: Request, state: GatewayState, body: ServiceOrderCreate) -> ServiceOrder:
    if not body.externalId:
        raise bad_request("externalId (the CRM order id) is required for a new order")
    order = check_id(body.externalId, "externalId")
    if order.startswith(MACD_PREFIX):
        raise bad_request(f"order ids starting with {MACD_PREFIX} are the gateway's MACD orders")
    projects = [r.name for r in body.externalReference or () if r.externalReferenceType == "project"]
    project = check_id(projects[0] if projects else order, "project")
    customers = [p.id for p in body.relatedParty or () if p.role.lower() == "customer"]
    services: list[tuple[str, int]] = []
    lines: list[DeviceLine] = []
    for item in body.serviceOrderItem:
        service = _service_id(item)
        services.append((service, _version(item, 1)))
        for nested in item.serviceOrderItem or ():
            if nested.action != A.ADD:
                raise bad_request(f"device line {nested.id}: a new order's lines are action add")
            lines.append(_line(state, nested, service))
    client = state.client
    if _order_row(state, order) is not None:
        raise ApiError(409, "CONFLICT", f"service order {order!r} exists already", "revise it with PATCH")
    try:
        client.orders.project(project, with_orders=False)
        new_project = False
    except ContractRevert as exc:
        if exc.error_name != "OrderProjectNotFound":
            raise
        new_project = True
    if new_project and not customers:
        raise bad_request(f"project {project!r} is new: name its customer in relatedParty (role customer)")
    customer = _member(state, customers[0], "customer") if customers else None
    _allowed(state, *(["createProject"] if new_project else []), "createOrder", "addService",
             *(["addDeviceLine"] if lines else []))  # fmt: skip
    results: list[Any] = []
    if new_project:
        results.append(client.orders.create_project(project, customer or ""))
    results.append(client.orders.create_order(order, project))
    for service, version in services:
        results.append(client.orders.add_service(order, service, version))
    for line in lines:
        results.append(client.orders.add_device_line(order, line))
    state.wait_indexed(_last_block(results))
    return read_order(request, state, order)


def _macd_items(state: GatewayState, body: ServiceOrderCreate) -> list[tuple[str, MacdKind, list[str]]]:
    items = []
    seen: set[str] = set()
    for item in body.serviceOrderItem:
        if item.action == A.DELETE:
            kind = MacdKind.DELETE
        else:
            value = str(_char(item, "macdKind", "change"))
            if value not in MODIFY_KINDS:
                allowed = ", ".join(MODIFY_KINDS[:-1]) + " or " + MODIFY_KINDS[-1]
                raise bad_request(f"serviceOrderItem {item.id}: macdKind {value[:40]!r} is not {allowed}")
            kind = MacdKind.parse(value)
        resources = item.service.supportingResource if item.service else None
        if not resources:
            twin = item.service.id if item.service and item.service.id else None
            if twin is None:
                raise bad_request(f"serviceOrderItem {item.id}: name the resources in service.supportingResource")
            resources_ids = [twin]
        else:
            resources_ids = [r.id for r in resources]
        ids = []
        for rid in resources_ids:
            hex_id = id_hex(check_id(rid, "resource id"))
            if hex_id in seen:
                raise bad_request(f"resource {rid!r} appears twice in the order")
            seen.add(hex_id)
            ids.append(hex_id)
        items.append((item.id, kind, ids))
    if len(seen) > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} resources per MACD order, not {len(seen)}")
    return items


def _twins(state: GatewayState, ids: list[str]) -> dict[str, Any]:
    a = s.assets.c
    with state.store.engine.connect() as db:
        rows = db.execute(select(a.asset_id, a.state, a.customer).where(a.asset_id.in_(ids))).all()
    return {r.asset_id: r for r in rows}


def batcher(state: GatewayState) -> MacdBatcher:
    found: MacdBatcher = state.components["macd"]
    return found


async def _create_macd(
    request: Request, state: GatewayState, body: ServiceOrderCreate, principal: Principal
) -> ServiceOrder:
    items = _macd_items(state, body)
    _allowed(state, "orderChanges")
    order_id = MACD_PREFIX + uuid.uuid4().hex[:20]
    now = int(time.time())
    row = {"order_id": order_id, "external_id": body.externalId, "client": principal.client, "created_at": now}
    macd = batcher(state)
    try:
        # checked against the index with the rest of its micro-batch (one query), then sent
        placed = await _wait(macd.submit_order([OrderItem(i, k, ids) for i, k, ids in items], row))
    except Unchecked:
        placed = await _create_macd_checked(state, items, row)
    if placed:
        state.note_written(max(p.sent.block for p in placed))
    # answered from the receipts: mined, the change ordered (inProgress) with its charge; the
    # index catches up a moment later, and a GET on this gateway waits for it (read-your-writes)
    return _macd_answer(request, state, order_id, body.externalId, now, items, placed)


async def _wait(future: Future[Any]) -> Any:
    return await asyncio.wait_for(asyncio.wrap_future(future), timeout=120)


async def _create_macd_checked(
    state: GatewayState, items: list[tuple[str, MacdKind, list[str]]], row: dict[str, Any]
) -> list[Placed]:
    """The slow path, when the micro-batch's index read did not show every twin Active: the
    index may lag, so read again once it reaches the chain's head; 400/409 if still so."""
    all_ids = [a for _, _, ids in items for a in ids]
    head = await run_in_threadpool(state.client.block_number)
    await state.wait_indexed_async(head)
    twins = await run_in_threadpool(_twins, state, all_ids)
    for hex_id in all_ids:
        twin = twins.get(hex_id)
        if twin is None:
            raise bad_request(f"no resource {show_id(hex_id)!r} (never registered, or not indexed yet)")
        if twin.state != int(AssetState.ACTIVE):
            raise ApiError(
                409, "CONFLICT",
                f"resource {show_id(hex_id)} is {AssetState(twin.state).label}: a MACD change needs it Active",
            )  # fmt: skip
    parts: list[tuple[str, list[str], Future[Sent]]] = []
    for item_id, kind, ids in items:
        by_customer: dict[str, list[str]] = defaultdict(list)
        for hex_id in ids:
            by_customer[twins[hex_id].customer or ""].append(hex_id)
        for customer, group in by_customer.items():
            rows = [dict(row, item_id=item_id, asset_id=a, kind=kind.name.lower()) for a in group]
            parts.append((item_id, group, batcher(state).submit(kind, customer, group, rows)))
    errors: list[BaseException] = []
    placed: list[Placed] = []
    for item_id, group, future in parts:
        try:
            placed.append(Placed(item_id, group, await _wait(future)))
        except Exception as exc:
            errors.append(exc)
    if errors and not placed:
        raise errors[0]
    return placed


def _macd_answer(
    request: Request,
    state: GatewayState,
    order_id: str,
    external_id: str | None,
    created_at: int,
    items: list[tuple[str, MacdKind, list[str]]],
    placed: list[Placed],
) -> ServiceOrder:
    """The new MACD order as :func:`read_order` will show it once indexed: every change mined
    and pending (inProgress), each item with its charge and the ref of its bulk call."""
    by_item: dict[str, list[Placed]] = defaultdict(list)
    for p in placed:
        by_item[p.item_id].append(p)
    out = []
    for item_id, kind, _ in items:
        parts = by_item.get(item_id)
        if not parts:
            continue  # its call failed: not part of the order (as the index will show it)
        charge = sum(p.sent.charge * len(p.assets) for p in parts)
        out.append(
            ServiceOrderItem(
                id=item_id,
                action=MACD_ACTION[kind],
                state=SO.IN_PROGRESS,
                service=ServiceOut(
                    state=SO.IN_PROGRESS,
                    serviceCharacteristic=[
                        Characteristic(name="macdKind", value=kind.name.lower()),
                        Characteristic(name="charge", value=str(charge), valueType="integer"),
                        Characteristic(name="ref", value=parts[0].sent.ref),
                    ],
                    supportingResource=[_twin_ref(request, a) for p in parts for a in p.assets],
                ),
            )
        )
    customer = next((p.sent.customer for p in placed if p.sent.customer), None)
    party = [RelatedParty(id=customer, name=member_names(state).get(customer), role="customer")] if customer else None
    return ServiceOrder(
        id=order_id,
        href=href(request, PATH, order_id),
        externalId=external_id,
        category="macd",
        state=SO.IN_PROGRESS,
        orderDate=iso(created_at),
        relatedParty=party,
        serviceOrderItem=out,
    )


def _record(state: GatewayState, rows: list[dict[str, Any]]) -> None:
    with state.store.engine.begin() as db:
        db.execute(insert(s.gateway_macd_items), rows)


@router.patch(
    PATH + "/{id}", response_model=ServiceOrder, response_model_exclude_none=True, responses=ERRORS,
    summary="Revise a service order (new item set: Pause/AutoCorrect per line), or move its state",
)  # fmt: skip
def patch_order(request: Request, id: str, state: State, body: ServiceOrderUpdate) -> Any:
    if id.startswith(MACD_PREFIX):
        return _patch_macd(request, state, id, body)
    if _order_row(state, id) is None:
        raise not_found("service order", id)
    if body.state is None and body.serviceOrderItem is None:
        raise bad_request("nothing to change: give serviceOrderItem (a revision) or state")
    client = state.client
    results: list[Any] = []
    if body.serviceOrderItem is not None:
        transitions = [i for i in body.serviceOrderItem if i.state is not None]
        revision = Revision()
        changes = 0
        for item in body.serviceOrderItem:
            if item.state is not None:
                continue
            service = _service_id(item)
            changes += 1
            if item.action == A.ADD:
                revision.add_service(service, _version(item, 1))
            elif item.action == A.MODIFY:
                revision.modify_service(service, _version(item, None))
            elif item.action == A.DELETE:
                revision.delete_service(service)
            else:
                revision.keep_service(service)
            for nested in item.serviceOrderItem or ():
                check_id(nested.id, "line id")
                if nested.action == A.ADD:
                    revision.add_line(_line(state, nested, service))
                elif nested.action == A.DELETE:
                    revision.remove_line(nested.id, _policy(nested))
                elif nested.action == A.NO_CHANGE:
                    revision.keep_line(nested.id, _policy(nested))
                else:
                    raise bad_request(f"device line {nested.id}: a line is added, deleted or kept (noChange)")
        for item in transitions:
            if item.state not in STATES:
                raise bad_request(f"serviceOrderItem {item.id}: state {item.state!r} is not one of {', '.join(STATES)}")
        if changes:
            _allowed(state, "reviseOrder")
            results.append(client.orders.revise(id, revision))
        if transitions:
            _allowed(state, "transitionService")
        for item in transitions:
            results.append(client.orders.transition_service(id, _service_id(item), ORDER_STATE_OF[SO(str(item.state))]))
    if body.state is not None:
        if body.state not in STATES:
            raise bad_request(f"state {body.state[:40]!r} is not one of {', '.join(STATES)}")
        if body.state in CANCELLATION_STATES:
            raise bad_request("cancel through POST /serviceOrdering/v4/cancelServiceOrder")
        _allowed(state, "transitionOrder")
        results.append(client.orders.transition(id, ORDER_STATE_OF[SO(body.state)]))
    state.wait_indexed(_last_block(results))
    return read_order(request, state, id)


def _patch_macd(request: Request, state: GatewayState, ident: str, body: ServiceOrderUpdate) -> ServiceOrder:
    order = read_order(request, state, ident)
    if body.serviceOrderItem is not None or body.state != SO.COMPLETED:
        raise bad_request(
            'a MACD order takes only {"state": "completed"} (confirm the changes); '
            "cancel it through POST /serviceOrdering/v4/cancelServiceOrder"
        )
    pending = _pending_assets(order)
    if not pending:
        raise ApiError(409, "CONFLICT", f"service order {ident} has no change in progress (it is {order.state})")
    _allowed(state, "confirmChanges")
    results: list[Any] = []
    for deletions in (False, True):
        assets = [a for a, kind in pending if (kind is MacdKind.DELETE) == deletions]
        if assets:
            results.extend(r.result for r in state.client.agreement.confirm_change(assets, deletions=deletions))
    state.wait_indexed(_last_block(results))
    return read_order(request, state, ident)


def _pending_assets(order: ServiceOrder) -> list[tuple[str, MacdKind]]:
    out: list[tuple[str, MacdKind]] = []
    for item in order.serviceOrderItem or ():
        if item.state != SO.IN_PROGRESS or item.service is None:
            continue
        kind = MacdKind.parse(str(_chars(item.service.serviceCharacteristic).get("macdKind")))
        out.extend((r.id, kind) for r in item.service.supportingResource or ())
    return out


@router.post(
    CANCEL_PATH, response_model=CancelServiceOrder, response_model_exclude_none=True, responses=ERRORS,
    status_code=201, summary="Cancel a service order (a CRM order at any stage; a MACD order's open changes)",
)  # fmt: skip
def cancel_order(request: Request, state: State, body: CancelServiceOrderCreate) -> Any:
    ident = body.serviceOrder.id
    order = read_order(request, state, ident)
    if order.state in CLOSED_STATES:
        raise ApiError(409, "CONFLICT", f"service order {ident} is {order.state}: nothing to cancel")
    client = state.client
    results: list[Any] = []
    if ident.startswith(MACD_PREFIX):
        pending = _pending_assets(order)
        if not pending:
            raise ApiError(409, "CONFLICT", f"service order {ident} has no change in progress")
        _allowed(state, "cancelChange")
        results = [client.agreement.cancel_change(a).result for a, _ in pending]
    else:
        _allowed(state, "cancelOrder")
        results = client.orders.cancel(ident)
    state.wait_indexed(_last_block(results))
    return CancelServiceOrder(
        id=str(uuid.uuid4()),
        state=TaskState.DONE,
        cancellationReason=body.cancellationReason,
        effectiveCancellationDate=iso(int(time.time())),
        serviceOrder=ServiceOrderRef(id=ident, href=href(request, PATH, ident)),
    )


def setup(app: FastAPI, state: GatewayState) -> None:
    """The MACD micro-batcher, started and stopped with the server."""
    macd = MacdBatcher(
        state.client,
        state.settings.macd_window_ms,
        record=lambda rows: _record(state, rows),
        lookup=lambda ids: {a: (r.state, r.customer) for a, r in _twins(state, ids).items()},
    )
    state.components["macd"] = macd
    state.add_service("macd-batcher", macd.start, macd.stop)
