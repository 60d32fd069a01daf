"""TMF638 Service Inventory: the service items of customer orders once completed.

A service item that reached ``completed`` on the OrderBook is an ``active`` service; its id is
``<order>:<service>``; the twins of its device lines are its ``supportingResource``; the
customer is its ``relatedParty``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy import func, select

from telcochain.gateway.api.common import (
    ORDER_PATH,
    RESOURCE_PATH,
    SERVICE_PATH,
    Characteristic,
    Out,
    Pages,
    RelatedParty,
    check_id,
    href,
    iso,
    member_names,
    one,
    page,
)
from telcochain.gateway.auth import require_principal
from telcochain.gateway.errors import ERRORS, bad_request, not_found
from telcochain.gateway.state import GatewayState, State
from telcochain.gateway.vocabulary import SERVICE_STATE, ServiceState
from telcochain.index import schema as s
from telcochain.index.queries import id_hex, show_id
from telcochain.orders import OrderState

PATH = SERVICE_PATH
#: The state of every service listed: the items that reached ``completed``.
LISTED = SERVICE_STATE[OrderState.COMPLETED]
SEP = ":"

router = APIRouter(prefix=PATH, tags=["TMF638 Service Inventory"], dependencies=[Depends(require_principal)])


class ResourceRef(Out):
    id: str
    href: str | None = None
    referredType: str = Field(default="PhysicalResource", alias="@referredType")


class Service(Out):
    """TMF638 ``Service``."""

    id: str
    href: str
    type_: str = Field(default="Service", alias="@type")
    name: str | None = None
    category: str | None = None
    state: ServiceState | None = Field(default=None, description="active (a completed service item)")
    serviceType: str | None = None
    startDate: str | None = None
    isServiceEnabled: bool | None = None
    relatedParty: list[RelatedParty] | None = None
    serviceCharacteristic: list[Characteristic] | None = None
    supportingResource: list[ResourceRef] | None = None


_COLUMNS = (
    s.services.c.order_id, s.services.c.service_id, s.services.c.version, s.services.c.state,
    s.orders.c.customer, s.orders.c.created_at, s.orders.c.project_id,
)  # fmt: skip


def _base(conditions: list[Any]) -> Any:
    return (
        select(*_COLUMNS)
        .select_from(s.services.join(s.orders, s.orders.c.order_id == s.services.c.order_id))
        .where(s.services.c.state == int(OrderState.COMPLETED), *conditions)
    )


def _services(request: Request, state: GatewayState, rows: Sequence[Any]) -> list[Service]:
    names = member_names(state)
    twins: dict[tuple[str, str], list[str]] = defaultdict(list)
    if rows:
        ln = s.lines.c
        with state.store.engine.connect() as db:
            for order_id, service_id, asset in db.execute(
                select(ln.order_id, ln.service_id, ln.asset_id).where(ln.order_id.in_({r.order_id for r in rows}))
            ).all():
                if int(asset, 16):
                    twins[(order_id, service_id)].append(asset)
    out = []
    for r in rows:
        order, service = show_id(r.order_id), show_id(r.service_id)
        ident = f"{order}{SEP}{service}"
        out.append(
            Service(
                id=ident,
                href=href(request, PATH, ident),
                name=service,
                category="crm",
                state=LISTED,
                serviceType=service,
                startDate=iso(r.created_at),
                isServiceEnabled=True,
                relatedParty=[RelatedParty(id=r.customer, name=names.get(r.customer), role="customer")]
                if r.customer
                else None,
                serviceCharacteristic=[
                    Characteristic(name="version", value=int(r.version)),
                    Characteristic(name="serviceOrder", value=order),
                    Characteristic(name="serviceOrderHref", value=href(request, ORDER_PATH, order)),
                    Characteristic(name="project", value=show_id(r.project_id)),
                ],
                supportingResource=[
                    ResourceRef(id=show_id(a), href=href(request, RESOURCE_PATH, show_id(a)))
                    for a in twins.get((r.order_id, r.service_id), [])
                ]
                or None,
            )
        )
    return out


@router.get("", response_model=list[Service], response_model_exclude_none=True, responses=ERRORS,
            summary="List services (completed service items)")  # fmt: skip
async def list_services(
    request: Request,
    response: Response,
    paging: Pages,
    state: State,
    service_state: str | None = Query(None, alias="state", max_length=40, description=LISTED.value),
    party: str | None = Query(None, alias="relatedParty.id", max_length=42, description="the customer's address"),
    order: str | None = Query(None, alias="serviceOrder.id", max_length=66),
) -> Any:
    conditions: list[Any] = []
    if service_state is not None:
        if service_state not in tuple(ServiceState):
            raise bad_request(f"state {service_state[:40]!r} is not a TMF638 service state")
        # the services listed (completed items) whose state it is: all of them, or none
        conditions.append(s.services.c.state.in_([int(k) for k, v in SERVICE_STATE.items() if v == service_state]))
    if party is not None:
        conditions.append(s.orders.c.customer == party)
    if order is not None:
        conditions.append(s.services.c.order_id == id_hex(check_id(order, "serviceOrder.id")))
    query = _base(conditions)
    with state.store.engine.connect() as db:
        total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = db.execute(
            query.order_by(s.services.c.order_id, s.services.c.service_id).offset(paging.offset).limit(paging.limit)
        ).all()
    return page(response, _services(request, state, rows), total, paging)


@router.get("/{id}", response_model=Service, response_model_exclude_none=True, responses=ERRORS,
            summary="One service")  # fmt: skip
async def get_service(
    request: Request, id: str, state: State, fields: str | None = Query(None, max_length=1000)
) -> Any:
    order, sep, service = id.rpartition(SEP)
    if not sep or not order or not service:
        raise not_found("service", id)
    check_id(order, "service order id")
    check_id(service, "service id")
    query = _base([s.services.c.order_id == id_hex(order), s.services.c.service_id == id_hex(service)])
    with state.store.engine.connect() as db:
        rows = db.execute(query).all()
    if not rows:
        raise not_found("service", id)
    return one(_services(request, state, rows)[0], fields)
