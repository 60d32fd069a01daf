"""The state the gateway's routers share: :class:`GatewayState`, the :class:`IndexFollower`
thread, and the FastAPI dependencies that hand them to an endpoint (:data:`State`,
:data:`WriteState`, :func:`state_of`).

Routers and extensions import this module; :mod:`telcochain.gateway.app` (which installs the
routers) imports it too, so no router imports the module that imports it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from telcochain.client import Client
from telcochain.gateway.settings import GatewaySettings
from telcochain.gateway.tokens import TokenStore
from telcochain.index import Follower, IndexStore, Queries, StepResult

log = logging.getLogger("telcochain.gateway")


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
