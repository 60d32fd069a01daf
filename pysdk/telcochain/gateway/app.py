"""The gateway application: :func:`create_app` and the state its routers share.

**Extension point** (the TMF688 hub, the web console). At start-up :func:`create_app` imports,
if they exist, the modules named in :data:`EXTENSIONS` (``telcochain.gateway.hub``,
``telcochain.console``) and calls their ``install(app, state)``. An extension module looks like::

    # pysdk/telcochain/gateway/hub.py (or a package)
    from fastapi import APIRouter, Depends, FastAPI
    from telcochain.gateway.app import GatewayState
    from telcochain.gateway.auth import require_principal

    router = APIRouter(prefix="/tmf-api/hub", tags=["hub"], dependencies=[Depends(require_principal)])

    def install(app: FastAPI, state: GatewayState) -> None:
        app.include_router(router)
        state.on_indexed(my_callback)                # after each index step (StepResult), follower thread
        state.add_service("hub-delivery", start, stop)   # background work: start() at startup, stop() at shutdown

Inside an endpoint, ``state_of(request)`` (or the ``Depends(get_state)`` dependency) gives
the :class:`GatewayState`: ``client`` (the SDK client signing as this member), ``store`` /
``queries`` (the index: ``store.engine`` for your own tables — use Alembic migrations in
``telcochain/index/migrations``), ``settings`` (``settings.hub`` / ``settings.console`` are
your free-form config sections), ``follower`` (``indexed_block``, ``wait_for(block)``).
Errors raised as :class:`telcochain.gateway.errors.ApiError` or as SDK exceptions become TMF
error objects. A missing extension is skipped; one that fails to import is logged and skipped
(the gateway still serves the TMF APIs). ``create_app(settings, extensions=[...])`` overrides
the list (tests pass ``[]``).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from telcochain.client import Client
from telcochain.gateway.auth import TokenStore
from telcochain.gateway.errors import ApiError, install_handlers
from telcochain.gateway.settings import GatewaySettings
from telcochain.index import Follower, IndexStore, Queries, StepResult

log = logging.getLogger("telcochain.gateway")

#: Optional modules plugged in at start-up; each exposes ``install(app, state)``.
EXTENSIONS: tuple[str, ...] = ("telcochain.gateway.hub", "telcochain.console")

API_TITLE = "telcochain TM Forum Open API gateway"
API_VERSION = "4.0.0"


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class IndexFollower:
    """The index follower in a background thread, so reads are fresh.

    After each step it publishes ``indexed_block`` and wakes :meth:`wait_for` callers; the
    callbacks registered with :meth:`GatewayState.on_indexed` run in this thread after every
    step that indexed something (keep them short or hand off).
    """

    def __init__(self, follower: Follower, interval: float) -> None:
        self.follower = follower
        self.interval = interval
        self.indexed_block = follower.checkpoint()[0]
        self.error: str | None = None
        self.callbacks: list[Callable[[StepResult], None]] = []
        self._cond = threading.Condition()
        self._async_waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gateway-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def kick(self) -> None:
        """Poll now (a write just landed) instead of after the interval."""
        self._kick.set()

    def _publish(self, result: StepResult) -> None:
        with self._cond:
            self.indexed_block = max(self.indexed_block, result.to_block)
            self._cond.notify_all()
            waiters, self._async_waiters = self._async_waiters, []
        keep = []
        for block, loop, future in waiters:  # async waiters: woken in their own loop
            if block <= self.indexed_block:
                loop.call_soon_threadsafe(_resolve, future)
            else:
                keep.append((block, loop, future))
        if keep:
            with self._cond:
                self._async_waiters.extend(keep)
        if result.events or result.rolled_back_to is not None:
            for callback in list(self.callbacks):
                try:
                    callback(result)
                except Exception:  # an extension's bug must not stop the index
                    log.exception("on_indexed callback %r failed", callback)

    def _run(self) -> None:
        backoff = self.interval
        while not self._stop.is_set():
            try:
                self.follower.catch_up(progress=self._publish)
                self.error = None
                backoff = self.interval
            except Exception as exc:  # the node restarting, the database busy: keep trying
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("index follower: %s", self.error)
                backoff = min(backoff * 2, 5.0)
            self._kick.wait(backoff)
            self._kick.clear()

    async def wait_for_async(self, block: int, timeout: float) -> bool:
        """:meth:`wait_for` in an event loop: one future per waiter, resolved by the follower
        thread when the index reaches ``block`` (no polling)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._cond:
            if self.indexed_block >= block:
                return True
            self._async_waiters.append((block, loop, future))
        self.kick()
        try:
            await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return self.indexed_block >= block
        return True

    def wait_for(self, block: int, timeout: float) -> bool:
        """Wait until the index holds ``block``; False on timeout."""
        self.kick()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.indexed_block < block:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
                if self.indexed_block < block:
                    self.kick()
        return True


@dataclass
class GatewayState:
    """What every router of the gateway shares (``app.state.gateway``)."""

    settings: GatewaySettings
    client: Client
    store: IndexStore
    tokens: TokenStore
    follower: IndexFollower | None = None
    services: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    #: Per-app singletons the API modules keep (the MACD batcher, caches...), by name.
    components: dict[str, Any] = field(default_factory=dict)
    #: The highest block of a write this gateway answered before its index held it (the MACD
    #: orders are answered from their receipts): a GET waits for the index to reach it.
    written_block: int = 0

    @property
    def queries(self) -> Queries:
        return Queries(self.store)

    def on_indexed(self, callback: Callable[[StepResult], None]) -> None:
        """Call ``callback(step)`` after each index step that wrote events (follower thread)."""
        if self.follower is not None:
            self.follower.callbacks.append(callback)

    def add_service(self, name: str, start: Callable[[], Any], stop: Callable[[], Any]) -> None:
        """Background work started with the server and stopped with it (in this order / reverse)."""
        self.services.append((name, start, stop))

    def note_written(self, block: int) -> None:
        """A write answered from its receipt (not from the index): reads wait for ``block``."""
        if block > self.written_block:
            self.written_block = block

    def wait_indexed(self, block: int | None) -> None:
        """After a write: wait (``settings.fresh_timeout``) until the index has ``block``."""
        if block is None or self.follower is None:
            return
        self.follower.wait_for(block, self.settings.fresh_timeout)

    async def wait_indexed_async(self, block: int | None) -> None:
        """:meth:`wait_indexed` for ``async`` endpoints (holds no thread while it waits)."""
        if block is None or self.follower is None:
            return
        await self.follower.wait_for_async(block, self.settings.fresh_timeout)


def state_of(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


async def get_state(request: Request) -> GatewayState:
    """FastAPI dependency: ``state: GatewayState = Depends(get_state)``.

    Read-your-writes: a request waits (without polling, at most ``fresh_timeout``) until the
    index holds the last write this gateway answered from its receipt
    (:meth:`GatewayState.note_written`) — usually it already does. The MACD ``POST`` itself
    uses :data:`WriteState` (no wait: it checks against the chain's head when in doubt)."""
    state = state_of(request)
    follower = state.follower
    if follower is not None and follower.indexed_block < state.written_block:
        await state.wait_indexed_async(state.written_block)
    return state


async def get_state_now(request: Request) -> GatewayState:
    """:func:`get_state` without the read-your-writes wait."""
    return state_of(request)


#: ``state: State`` in an endpoint's parameters gives the :class:`GatewayState`.
State = Annotated[GatewayState, Depends(get_state)]
#: The state without waiting for the index (an endpoint that reads nothing it just wrote).
WriteState = Annotated[GatewayState, Depends(get_state_now)]


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
    from telcochain.gateway import api

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
