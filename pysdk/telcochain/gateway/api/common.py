"""What every TMF API of the gateway shares: references, paging, ``fields`` selection, hrefs.

TMF630 conventions: lists take ``offset`` and ``limit`` and answer with the headers
``X-Total-Count`` (all matches) and ``X-Result-Count`` (this page); ``fields=a,b`` keeps only
those attributes (``id``, ``href`` and ``@type`` always stay); other query parameters filter
by attribute value (``?state=inProgress``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import msgspec
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from telcochain.gateway.errors import bad_request
from telcochain.types import to_bytes32

if TYPE_CHECKING:
    from telcochain.gateway.state import GatewayState

T = TypeVar("T", bound=BaseModel)

#: The resource collections of the four APIs (each module's ``PATH``; the ``href`` of a reference).
ORDER_PATH = "/serviceOrdering/v4/serviceOrder"
RESOURCE_PATH = "/resourceInventoryManagement/v4/resource"
SERVICE_PATH = "/serviceInventory/v4/service"
BILL_PATH = "/customerBillManagement/v4/customerBill"

_JSON = msgspec.json.Encoder()
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
ALWAYS = ("id", "href", "@type")


class Tmf(BaseModel):
    """Base of the TMF payload models: ``@type`` & co. by alias, unknown input refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class Out(BaseModel):
    """Base of response models (aliases on output)."""

    model_config = ConfigDict(populate_by_name=True)


class Characteristic(Tmf):
    """TMF ``Characteristic``: a name and its value."""

    name: str = Field(min_length=1, max_length=64)
    value: str | int | bool | None = None
    valueType: str | None = Field(default=None, max_length=32)


class RelatedParty(Out):
    """TMF ``RelatedParty``: a member (by address) in a role."""

    id: str
    href: str | None = None
    name: str | None = None
    role: str
    referredType: str = Field(default="Organization", alias="@referredType")


class Money(Out):
    """TMF ``Money``: the amount in the settlement token's base units (``unit`` its symbol)."""

    unit: str
    value: float
    baseUnits: str = Field(description="exact integer amount in the token's smallest unit")


def iso(timestamp: int | None) -> str | None:
    """A block timestamp as ISO 8601 (UTC)."""
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def member_names(state: GatewayState) -> dict[str, str]:
    """address → member name (cached per index block)."""
    cache = state.components.setdefault("member_names", {})
    block = state.follower.indexed_block if state.follower is not None else None
    if cache.get("block") != block or block is None:
        cache["names"] = state.queries.member_names()
        cache["block"] = block
    names: dict[str, str] = cache["names"]
    return names


def base_url(request: Request) -> str:
    configured = request.app.state.gateway.settings.base_url
    return (configured or str(request.base_url)).rstrip("/")


def href(request: Request, path: str, ident: str | int) -> str:
    return f"{base_url(request)}{path}/{ident}"


def check_id(value: str, what: str) -> str:
    """A path id as the chain takes it (text up to 32 bytes or 0x + 64 hex), else 400."""
    try:
        to_bytes32(value, what)
    except Exception:
        raise bad_request(f"{what} {value[:80]!r} is not an id (1 to 32 bytes of text, or 0x + 64 hex)") from None
    if not value:
        raise bad_request(f"{what} is empty")
    return value


class Paging:
    """FastAPI dependency: ``offset``, ``limit`` and ``fields`` of a TMF list."""

    def __init__(self, offset: int = 0, limit: int = DEFAULT_LIMIT, fields: str | None = None) -> None:
        self.offset = offset
        self.limit = limit
        self.fields = fields


async def _paging(
    offset: int = Query(0, ge=0, le=10_000_000, description="index of the first item"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="most items in this page"),
    fields: str | None = Query(None, max_length=1000, description="comma-separated attributes to keep"),
) -> Paging:
    return Paging(offset, limit, fields)


#: ``paging: Pages`` in a list endpoint's parameters.
Pages = Annotated[Paging, Depends(_paging)]


def select_fields(item: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """``fields=a,b``: only those attributes (plus id, href, @type); unknown names are ignored."""
    if not fields:
        return item
    wanted = {f.strip() for f in fields.split(",") if f.strip()} | set(ALWAYS)
    return {k: v for k, v in item.items() if k in wanted}


def dump(model: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, dict):
        return model
    out: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return out


def page(
    response: Response, items: Sequence[BaseModel | dict[str, Any]], total: int, paging: Paging, *, fields: bool = True
) -> Response:
    """The page's items (``fields`` applied unless ``fields=False``) with the TMF count headers.

    Encoded here (msgspec) rather than validated again by FastAPI against ``response_model``:
    the models built them; the route's ``response_model`` documents them, and the schemathesis
    test checks every answer against that document."""
    body = [select_fields(dump(i), paging.fields if fields else None) for i in items]
    headers = {"X-Total-Count": str(total), "X-Result-Count": str(len(items))}
    return Response(_JSON.encode(body), media_type="application/json", headers=headers)


def one(
    item: BaseModel | dict[str, Any], fields: str | None, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = select_fields(dump(item), fields)
    return Response(_JSON.encode(body), status_code=status, media_type="application/json", headers=headers)
