"""TMF639 Resource Inventory: the digital twins, read from the index.

``resourceStatus``, ``operationalState``, ``administrativeState`` and ``usageState`` are
mapped from the twin's lifecycle state by
:data:`telcochain.gateway.vocabulary.RESOURCE_STATES` (the table in docs/tmf.md); the
lifecycle state itself is the characteristic ``lifecycleState``. The parties (custodian,
customer, vendor) are ``relatedParty`` entries; ``historyHref`` lists the twin's changes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy import func, select

from telcochain.assets import AssetState
from telcochain.gateway.api.common import (
    RESOURCE_PATH,
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
from telcochain.gateway.vocabulary import (
    RESOURCE_STATES,
    UNMAPPED,
    AdministrativeState,
    OperationalState,
    ResourceStates,
    ResourceStatus,
    UsageState,
)
from telcochain.index import schema as s
from telcochain.index.queries import id_hex, show_id

PATH = RESOURCE_PATH
S = AssetState
#: The filters on the TMF639 states: (query name, its vocabulary), in :class:`ResourceStates` order.
STATE_FILTERS: tuple[tuple[str, type[StrEnum]], ...] = (
    ("resourceStatus", ResourceStatus),
    ("operationalState", OperationalState),
    ("administrativeState", AdministrativeState),
    ("usageState", UsageState),
)

router = APIRouter(prefix=PATH, tags=["TMF639 Resource Inventory"], dependencies=[Depends(require_principal)])


class Resource(Out):
    """TMF639 ``Resource`` (a ``PhysicalResource``: a digital twin)."""

    id: str
    href: str
    type_: str = Field(default="PhysicalResource", alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    name: str | None = None
    category: str | None = Field(default=None, description="the twin's kind (CPE, ONT...)")
    resourceVersion: str | None = None
    resourceStatus: ResourceStatus | None = None
    operationalState: OperationalState | None = None
    administrativeState: AdministrativeState | None = None
    usageState: UsageState | None = None
    startDate: str | None = None
    relatedParty: list[RelatedParty] | None = None
    resourceCharacteristic: list[Characteristic] | None = None
    historyHref: str | None = Field(default=None, description="the twin's changes, oldest first")


class ResourceChange(Out):
    """One change in a twin's history (hash-chained on chain)."""

    version: int
    change: str
    actor: str
    actorName: str | None = None
    ref: str
    date: str | None = None
    blockNumber: int
    historyHead: str


def _states_for(kind: int, value: str, what: str, vocabulary: type[StrEnum]) -> list[int]:
    allowed = [str(v) for v in vocabulary]
    if value not in allowed:
        raise bad_request(f"{what} {value[:40]!r} is not one of {', '.join(allowed)}")
    return [int(state) for state, mapped in RESOURCE_STATES.items() if mapped[kind] == value]


def _lifecycle(value: str) -> int:
    wanted = value.replace("_", "").lower()
    for state in AssetState:
        if state is not S.NONE and state.label.lower() == wanted:
            return int(state)
    raise bad_request(f"lifecycleState {value[:40]!r} is not one of {', '.join(x.label for x in S if x)}")


def to_resource(request: Request, row: Any, names: dict[str, str]) -> dict[str, Any]:
    """A twin's index row as a TMF639 ``Resource`` (a plain dict in :class:`Resource`'s shape,
    built directly: the list endpoint is the gateway's hot path)."""
    ident = show_id(row.asset_id)
    state = AssetState(row.state)
    states: ResourceStates = RESOURCE_STATES.get(state, UNMAPPED)
    parties = []
    for role, addr in (("custodian", row.custodian), ("customer", row.customer), ("vendor", row.vendor)):
        if addr:
            party = {"id": addr, "name": names.get(addr), "role": role, "@referredType": "Organization"}
            if party["name"] is None:
                del party["name"]
            parties.append(party)
    chars: list[dict[str, Any]] = [
        {"name": "lifecycleState", "value": state.label, "valueType": "string"},
        {"name": "serialBound", "value": int(row.serial_hash, 16) != 0, "valueType": "boolean"},
        {"name": "historyHead", "value": row.head, "valueType": "string"},
    ]
    if row.project_id:
        chars.append({"name": "project", "value": show_id(row.project_id), "valueType": "string"})
    if row.order_id:
        chars.append({"name": "serviceOrder", "value": show_id(row.order_id), "valueType": "string"})
    link = href(request, PATH, ident)
    out: dict[str, Any] = {
        "id": ident,
        "href": link,
        "@type": "PhysicalResource",
        "@baseType": "Resource",
        "name": ident,
        "category": row.kind,
        "resourceVersion": str(row.version),
        **states._asdict(),
        "startDate": iso(row.registered_at),
        "relatedParty": parties,
        "resourceCharacteristic": chars,
        "historyHref": link + "/history",
    }
    if out["startDate"] is None:
        del out["startDate"]
    return out


@router.get(
    "",
    response_model=list[Resource],
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="List resources (digital twins)",
)
async def list_resources(
    request: Request,
    response: Response,
    paging: Pages,
    state: State,
    resource_status: str | None = Query(None, alias="resourceStatus", max_length=40),
    operational_state: str | None = Query(None, alias="operationalState", max_length=40),
    administrative_state: str | None = Query(None, alias="administrativeState", max_length=40),
    usage_state: str | None = Query(None, alias="usageState", max_length=40),
    lifecycle_state: str | None = Query(None, alias="lifecycleState", max_length=40),
    category: str | None = Query(None, max_length=64, description="the twin's kind"),
    party: str | None = Query(None, alias="relatedParty.id", max_length=42, description="a party's address"),
    order: str | None = Query(None, alias="serviceOrder.id", max_length=66, description="twins of an order"),
) -> Any:
    a = s.assets.c
    conditions: list[Any] = []
    values = (resource_status, operational_state, administrative_state, usage_state)
    for kind, (value, (what, vocabulary)) in enumerate(zip(values, STATE_FILTERS, strict=True)):
        if value is not None:
            conditions.append(a.state.in_(_states_for(kind, value, what, vocabulary)))
    if lifecycle_state is not None:
        conditions.append(a.state == _lifecycle(lifecycle_state))
    if category is not None:
        conditions.append(a.kind == category)
    if party is not None:
        conditions.append((a.custodian == party) | (a.customer == party) | (a.vendor == party))
    if order is not None:
        conditions.append(a.order_id == id_hex(check_id(order, "serviceOrder.id")))
    with state.store.engine.connect() as db:
        total = db.execute(select(func.count()).select_from(s.assets).where(*conditions)).scalar_one()
        rows = db.execute(
            select(s.assets).where(*conditions).order_by(a.asset_id).offset(paging.offset).limit(paging.limit)
        ).all()
    names = member_names(state)
    return page(response, [to_resource(request, r, names) for r in rows], total, paging)


def _row(state: GatewayState, ident: str) -> Any:
    check_id(ident, "resource id")
    with state.store.engine.connect() as db:
        row = db.execute(select(s.assets).where(s.assets.c.asset_id == id_hex(ident))).first()
    if row is None:
        raise not_found("resource", ident)
    return row


@router.get(
    "/{id}",
    response_model=Resource,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="One resource (digital twin)",
)
async def get_resource(
    request: Request,
    id: str,
    state: State,
    fields: str | None = Query(None, max_length=1000),
) -> Any:
    return one(to_resource(request, _row(state, id), member_names(state)), fields)


@router.get(
    "/{id}/history",
    response_model=list[ResourceChange],
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="A resource's changes, oldest first (each advances its hash-chained history head)",
)
async def resource_history(
    response: Response,
    id: str,
    paging: Pages,
    state: State,
) -> Any:
    row = _row(state, id)
    h = s.asset_history.c
    where = h.asset_id == row.asset_id
    with state.store.engine.connect() as db:
        total = db.execute(select(func.count()).select_from(s.asset_history).where(where)).scalar_one()
        rows = db.execute(
            select(s.asset_history)
            .where(where)
            .order_by(h.block_number, h.log_index)
            .offset(paging.offset)
            .limit(paging.limit)
        ).all()
    names = member_names(state)
    changes = [
        ResourceChange(
            version=r.version, change=r.change, actor=r.actor, actorName=names.get(r.actor), ref=show_id(r.ref),
            date=iso(r.at), blockNumber=r.block_number, historyHead=r.head,
        )
        for r in rows
    ]  # fmt: skip
    return page(response, changes, total, paging, fields=False)
