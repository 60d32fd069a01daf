"""TMF688 event hub of the gateway: register callbacks, deliver the member's events to them.

Endpoints (bearer auth like every route), one hub per TMF API and a generic one::

    POST   /serviceOrdering/v4/hub                 {"callback": "https://...", "query": "..."}
    GET    /serviceOrdering/v4/hub/{id}
    DELETE /serviceOrdering/v4/hub/{id}
    ... the same under /resourceInventoryManagement/v4, /serviceInventory/v4,
    /customerBillManagement/v4, and /hub (every event type)

A registration answers 201 with the ``id`` and, this once, the ``secret`` that signs every
delivery (HMAC-SHA256, :mod:`telcochain.gateway.delivery`). The callback then receives, at
least once and in chain order, each event of that API that the gateway's member may see
(:mod:`telcochain.gateway.outbox`) and that matches the ``query``.

The outbox pass and the delivery worker run in the gateway (``hub:`` settings: see
:class:`~telcochain.gateway.delivery.HubSettings`); after each index step the worker is woken
at once, so an event reaches its callbacks within one poll of the index. docs/tmf-hub.md has
the contract.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from telcochain.errors import ConfigurationError
from telcochain.gateway import outbox
from telcochain.gateway.api.common import base_url
from telcochain.gateway.auth import Principal, require_principal
from telcochain.gateway.delivery import SIGNATURE_HEADER, Deliverer, HubSettings
from telcochain.gateway.errors import ERRORS, ApiError, bad_request, not_found
from telcochain.gateway.state import GatewayState, State

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: The hubs served: API path prefix → the ``api`` of its subscriptions ("" for ``/hub``).
HUBS = {f"/{api}/v4/hub": api for api in outbox.APIS} | {"/hub": ""}


class EventSubscriptionInput(BaseModel):
    """TMF688 ``EventSubscriptionInput``."""

    model_config = ConfigDict(extra="ignore")

    callback: str = Field(
        max_length=2000, description="the listener's URL (http or https) that receives the events by POST"
    )
    query: str | None = Field(
        None,
        max_length=2000,
        description="optional filter: eventType=A,B&event.<path>=value (every condition must hold)",
    )

    @field_validator("callback", "query")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise ValueError("control characters are not allowed")
        return value

    @field_validator("callback")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError("must be an http:// or https:// URL with a host") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value


class EventSubscription(BaseModel):
    """TMF688 ``EventSubscription`` (``secret`` only in the answer to the registration)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    href: str
    callback: str
    query: str | None = None
    type_: str = Field("EventSubscription", alias="@type")
    secret: str | None = Field(
        None, description=f"HMAC-SHA256 key of the {SIGNATURE_HEADER} header; shown only at registration"
    )
    signatureHeader: str | None = None


def _known(sub_id: str) -> str:
    """A subscription id is a UUID: anything else cannot be one (404 without a query)."""
    if not _UUID.fullmatch(sub_id):
        raise not_found("hub subscription", sub_id[:64])
    return sub_id


def _member(principal: Principal) -> str:
    if principal.account is None:
        raise ApiError(403, "PERMISSION_DENIED", "this gateway has no member account: its hub has nobody to serve")
    return principal.account


def _answer(request: Request, sub: outbox.Subscription, secret: str | None = None) -> dict[str, Any]:
    body = EventSubscription(
        **sub.to_tmf(base_url(request)), secret=secret, signatureHeader=SIGNATURE_HEADER if secret else None
    )
    out: dict[str, Any] = body.model_dump(by_alias=True, exclude_none=True)
    return out


def _router(path: str, api: str) -> APIRouter:
    label = api or "all APIs"
    router = APIRouter(prefix=path, tags=["TMF688 Event hub"], dependencies=[Depends(require_principal)])

    @router.post(
        "",
        status_code=201,
        response_model=EventSubscription,
        response_model_exclude_none=True,
        responses=ERRORS,
        summary=f"Register a listener for the events of {label}",
        operation_id=f"registerListener_{api or 'all'}",
    )
    def register(body: EventSubscriptionInput, request: Request, response: Response, state: State) -> Any:
        member = _member(request.state.principal)
        try:
            sub, secret = outbox.register(state.store, member, api, body.callback, body.query)
        except ConfigurationError as exc:
            raise bad_request(str(exc)) from None
        answer = _answer(request, sub, secret)
        response.headers["Location"] = answer["href"]
        return answer

    @router.get(
        "/{id}",
        response_model=EventSubscription,
        response_model_exclude_none=True,
        responses=ERRORS,
        summary=f"A listener of {label}",
        operation_id=f"getListener_{api or 'all'}",
    )
    def get(request: Request, state: State, id: str = Path(max_length=64)) -> Any:
        sub = outbox.get_subscription(state.store, _member(request.state.principal), api, _known(id))
        if sub is None:
            raise not_found("hub subscription", id)
        return _answer(request, sub)

    @router.delete(
        "/{id}",
        status_code=204,
        responses=ERRORS,
        summary=f"Unregister a listener of {label}",
        operation_id=f"unregisterListener_{api or 'all'}",
    )
    def unregister(request: Request, state: State, id: str = Path(max_length=64)) -> Response:
        if not outbox.unregister(state.store, _member(request.state.principal), api, _known(id)):
            raise not_found("hub subscription", id)
        return Response(status_code=204)

    return router


def install(app: FastAPI, state: GatewayState) -> None:
    """The gateway's extension hook: the hub routes, and the outbox pass + delivery worker as a
    background service woken after every index step."""
    settings = HubSettings.from_dict(state.settings.hub)
    for path, api in HUBS.items():
        app.include_router(_router(path, api))
    if not settings.enabled:
        return
    worker = Deliverer(state.store, settings)
    state.components["hub"] = worker
    state.on_indexed(lambda _step: worker.kick())
    state.add_service("hub-delivery", worker.start, worker.stop)
