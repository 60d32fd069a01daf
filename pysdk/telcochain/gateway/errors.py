"""TMF error objects (TMF630 ``Error``) and the handlers that make every failure one.

| HTTP | ``code``               | when                                                        |
| ---- | ---------------------- | ----------------------------------------------------------- |
| 400  | ``BAD_REQUEST``        | malformed JSON, a field of the wrong type, a bad filter/id   |
| 401  | ``UNAUTHORIZED``       | no bearer token, or an unknown one                          |
| 403  | ``PERMISSION_DENIED``  | the constitution refused the action (``reason`` is its own) |
| 404  | ``NOT_FOUND``          | no such order / resource / service / bill, or no such path  |
| 405  | ``METHOD_NOT_ALLOWED`` | a method the path does not take                             |
| 409  | ``CONFLICT``           | the action does not fit the current state (a contract rule) |
| 503  | ``CHAIN_UNAVAILABLE``  | the node cannot be reached, or the index is not ready        |
| 500  | ``INTERNAL``           | a bug: logged with its traceback, never bad input            |
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from telcochain.errors import (
    ConfigurationError,
    ContractRevert,
    NodeUnreachable,
    PermissionDenied,
    TelcochainError,
    TransactionError,
)

log = logging.getLogger("telcochain.gateway")


class TmfError(BaseModel):
    """TMF630 Error: ``code`` and ``reason`` always; ``message`` explains, ``status`` is the HTTP status."""

    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(description="application error code, e.g. PERMISSION_DENIED")
    reason: str = Field(description="why, in one line (for a denial: the constitution's reason)")
    message: str | None = Field(default=None, description="more detail, or what to do")
    status: str | None = Field(default=None, description="the HTTP status code, as a string")
    referenceError: str | None = Field(default=None, description="URI of documentation about the error")
    type_: str = Field(default="Error", alias="@type")


class ApiError(Exception):
    """Raise in an endpoint to answer with a TMF error."""

    def __init__(
        self, status: int, code: str, reason: str, message: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason
        self.message = message
        self.headers = headers


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"no {what} {ident!r}")


def bad_request(reason: str, message: str | None = None) -> ApiError:
    return ApiError(400, "BAD_REQUEST", reason, message)


def error_response(
    status: int, code: str, reason: str, message: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = TmfError(code=code, reason=reason, message=message, status=str(status))
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body.model_dump(by_alias=True, exclude_none=True), status_code=status, headers=headers)


#: For ``responses=`` on routes: the error statuses documented in the OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": TmfError, "description": "Bad request (validation)"},
    401: {"model": TmfError, "description": "Missing or invalid bearer token"},
    403: {"model": TmfError, "description": "Denied by the constitution"},
    404: {"model": TmfError, "description": "Not found"},
    405: {"model": TmfError, "description": "Method not allowed"},
    409: {"model": TmfError, "description": "Conflict with the current state"},
    503: {"model": TmfError, "description": "Chain or index unavailable"},
}


def _validation_text(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "invalid request", None
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body",)) or "request"
    reason = f"{where}: {first.get('msg', 'invalid')}"
    more = f"{len(errors) - 1} more problem(s)" if len(errors) > 1 else None
    return reason[:500], more


def for_exception(exc: BaseException) -> tuple[int, str, str, str | None]:
    """(status, code, reason, message) for an SDK exception."""
    from telcochain.preflight import Refused

    if isinstance(exc, PermissionDenied):
        return 403, "PERMISSION_DENIED", exc.reason, f"{exc.action} denied for {exc.caller}"
    if isinstance(exc, LookupError) and isinstance(exc, TelcochainError):  # MemberNotFound among them
        return 404, "NOT_FOUND", str(exc), None
    if isinstance(exc, Refused):
        return 409, "CONFLICT", str(exc), None
    if isinstance(exc, ContractRevert):
        return 409, "CONFLICT", str(exc), getattr(exc, "error_name", None)
    if isinstance(exc, ConfigurationError):
        return 400, "BAD_REQUEST", str(exc), None
    if isinstance(exc, NodeUnreachable):
        return 503, "CHAIN_UNAVAILABLE", str(exc), None
    if isinstance(exc, TransactionError):
        return 503, "CHAIN_UNAVAILABLE", str(exc), "the transaction's outcome is not known yet; retry the read later"
    return 500, "INTERNAL", "internal error", type(exc).__name__


def install_handlers(app: FastAPI) -> None:
    """Every failure becomes a TMF error object (extensions' routes included)."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.reason, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        reason, more = _validation_text(exc)
        return error_response(400, "BAD_REQUEST", reason, more)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "BAD_REQUEST", 401: "UNAUTHORIZED"}
        return error_response(
            exc.status_code, codes.get(exc.status_code, f"HTTP_{exc.status_code}"), str(exc.detail), None,
            dict(exc.headers) if exc.headers else None,
        )  # fmt: skip

    @app.exception_handler(TelcochainError)
    async def _sdk(_: Request, exc: TelcochainError) -> JSONResponse:
        status, code, reason, message = for_exception(exc)
        if status >= 500:
            log.warning("%s: %s", code, exc)
        return error_response(status, code, reason, message)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "INTERNAL", "internal error", type(exc).__name__)
