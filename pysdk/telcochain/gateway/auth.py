"""Bearer auth: the FastAPI dependency that checks a request's token (:func:`require_principal`).

The tokens file (who may call, stored hashed) is :mod:`telcochain.gateway.tokens`; its names are
re-exported here.

Requests carry ``Authorization: Bearer <token>``; without one, or with an unknown one, the
answer is a TMF error with HTTP 401 and ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from telcochain.errors import ConfigurationError
from telcochain.gateway.errors import ApiError
from telcochain.gateway.state import state_of
from telcochain.gateway.tokens import TOKEN_PREFIX as TOKEN_PREFIX
from telcochain.gateway.tokens import TokenStore as TokenStore
from telcochain.gateway.tokens import hash_token as hash_token

log = logging.getLogger("telcochain.gateway")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client's name in the tokens file, acting as ``account``."""

    client: str
    account: str | None  # the member address the gateway signs with (None: read-only gateway)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


_BEARER = HTTPBearer(auto_error=False, description="a token from `telcochain serve token add NAME`")


async def require_principal(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None
) -> Principal:
    """FastAPI dependency: the calling client, or a 401 TMF error.

    Use it on every router of the gateway and its extensions::

        router = APIRouter(dependencies=[Depends(require_principal)])
    """

    state = state_of(request)
    token = bearer(request)
    try:
        client = state.tokens.verify(token) if token else None
    except ConfigurationError as exc:  # the server's own file is broken: not the request's fault
        log.error("bearer auth: %s", exc)
        raise ApiError(
            500, "INTERNAL", "internal error", "the gateway cannot read its tokens file (see its log)"
        ) from None
    if client is None:
        raise ApiError(
            401,
            "UNAUTHORIZED",
            "missing or invalid bearer token" if token else "missing bearer token",
            "send `Authorization: Bearer <token>` (`telcochain serve token add NAME` makes one)",
        )
    principal = Principal(client, state.client.address)
    request.state.principal = principal
    return principal


def describe(principal: Principal) -> dict[str, Any]:
    return {"client": principal.client, "account": principal.account}
