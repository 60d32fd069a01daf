"""The gateway application: :func:`create_app` and the state its routers share.

**Extension point** (the TMF688 hub, the web console). At start-up :func:`create_app` imports,
if they exist, the modules named in :data:`EXTENSIONS` (``telcochain.gateway.hub``,
``telcochain.console``) and calls their ``install(app, state)``. An extension module looks like::

    # pysdk/telcochain/gateway/hub.py (or a package)
    from fastapi import APIRouter, Depends, FastAPI
    from telcochain.gateway.auth import require_principal
    from telcochain.gateway.state import GatewayState

    router = APIRouter(prefix="/tmf-api/hub", tags=["hub"], dependencies=[Depends(require_principal)])

    def install(app: FastAPI, state: GatewayState) -> None:
        app.include_router(router)
        state.on_indexed(my_callback)                # after each index step (StepResult), follower thread
        state.add_service("hub-delivery", start, stop)   # background work: start() at startup, stop() at shutdown

Inside an endpoint, ``state_of(request)`` (or the ``Depends(get_state)`` dependency; both in
:mod:`telcochain.gateway.state`) gives the :class:`GatewayState`: ``client`` (the SDK client
signing as this member), ``store`` / ``queries`` (the index: ``store.engine`` for your own
tables — use Alembic migrations in ``telcochain/index/migrations``), ``settings``
(``settings.hub`` / ``settings.console`` are your free-form config sections), ``follower``
(``indexed_block``, ``wait_for(block)``).
Errors raised as :class:`telcochain.gateway.errors.ApiError` or as SDK exceptions become TMF
error objects. A missing extension is skipped; one that fails to import is logged and skipped
(the gateway still serves the TMF APIs). ``create_app(settings, extensions=[...])`` overrides
the list (tests pass ``[]``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from telcochain.client import Client
from telcochain.gateway import api
from telcochain.gateway.errors import ApiError, install_handlers
from telcochain.gateway.settings import GatewaySettings
from telcochain.gateway.state import GatewayState, IndexFollower, State, WriteState, get_state, state_of
from telcochain.gateway.tokens import TokenStore
from telcochain.index import Follower, IndexStore

log = logging.getLogger("telcochain.gateway")

#: Optional modules plugged in at start-up; each exposes ``install(app, state)``.
EXTENSIONS: tuple[str, ...] = ("telcochain.gateway.hub", "telcochain.console")

API_TITLE = "telcochain TM Forum Open API gateway"
API_VERSION = "4.0.0"


def connect_client(settings: GatewaySettings) -> Client:
    """The SDK client signing as the configured member account (read-only without one)."""
    from telcochain.keystore import Keystore, account_from_env

    account = None
    if settings.account is not None:
        account = Keystore(settings.account.keystore_dir).load(settings.account.keystore, settings.account.password())
    else:
        account = account_from_env()
    return Client.connect(settings.rpc_url, account, deployment=settings.deployment)


def _load_extensions(app: FastAPI, state: GatewayState, names: Sequence[str]) -> None:
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # not installed: fine
            log.exception("extension %s failed to import", name)
            continue
        except Exception:
            log.exception("extension %s failed to import", name)
            continue
        install = getattr(module, "install", None)
        if install is None:
            log.warning("extension %s has no install(app, state): skipped", name)
            continue
        install(app, state)
        state.extensions.append(name)


def create_app(
    settings: GatewaySettings,
    *,
    client: Client | None = None,
    store: IndexStore | None = None,
    extensions: Sequence[str] | None = None,
    follow: bool = True,
) -> FastAPI:
    """The gateway for one member: TMF641/639/638/678 routers, TMF error handlers, bearer
    auth, the index follower in the background, then the extensions (:data:`EXTENSIONS`).

    ``client`` / ``store`` may be given (tests, embedding); else they come from ``settings``.
    ``follow=False`` leaves indexing to another process (e.g. a second replica on the same
    PostgreSQL index, or `telcochain index --follow`).
    """
    client = client if client is not None else connect_client(settings)
    store = store if store is not None else IndexStore(settings.index_db)
    state = GatewayState(settings, client, store, TokenStore(settings.tokens_file))
    if follow and settings.follow:
        state.follower = IndexFollower(Follower.for_client(store, client), settings.follow_interval)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        started: list[tuple[str, Callable[[], Any]]] = []
        try:
            if state.follower is not None:
                state.follower.start()
            for name, start, stop in state.services:
                start()
                started.append((name, stop))
            yield
        finally:
            for name, stop in reversed(started):
                try:
                    stop()
                except Exception:
                    log.exception("stopping %s failed", name)
            if state.follower is not None:
                state.follower.stop()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "One consortium member's TM Forum Open API face: TMF641 service orders (MACD as order items), "
            "TMF639 resources (digital twins), TMF638 services, TMF678 customer bills. Reads come from the "
            "member's index of the chain; writes are signed with the member's key. Bearer token auth."
        ),
        lifespan=lifespan,
        telemetry=None if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.gateway = state
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    install_handlers(app)
    api.install(app, state)
    _load_extensions(app, state, EXTENSIONS if extensions is None else extensions)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document without the 422 answers it adds by default: validation errors are
    400 TMF errors here (documented on every route through ``errors.ERRORS``)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in doc.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        schemas = doc.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = doc
    return app.openapi_schema


def openapi_document(extensions: Sequence[str] | None = None) -> dict[str, Any]:
    """The OpenAPI document exactly as ``telcochain serve`` serves it at ``/openapi.json``, built
    without a chain (``scripts/export_openapi.py`` writes it to docs/openapi.json)."""
    from types import SimpleNamespace
    from typing import cast

    store = IndexStore("sqlite://")
    try:
        offline = cast(Client, SimpleNamespace(address=None))
        app = create_app(GatewaySettings(), client=offline, store=store, extensions=extensions, follow=False)
        return app.openapi()
    finally:
        store.dispose()


__all__ = [
    "EXTENSIONS",
    "ApiError",
    "GatewayState",
    "IndexFollower",
    "State",
    "WriteState",
    "create_app",
    "get_state",
    "openapi_document",
    "state_of",
]
