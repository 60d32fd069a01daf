"""A stand-alone app around the console router, with an index follower thread: for tests and
for running the console without the gateway (``telcochain serve`` mounts the same router)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from telcochain.console.config import ConsoleConfig
from telcochain.console.routes import console_router
from telcochain.errors import TelcochainError
from telcochain.index import Follower

log = logging.getLogger("telcochain.console")


class IndexThread:
    """Keeps the index caught up with the chain (a follower step every ``interval`` seconds)."""

    def __init__(self, follower: Follower, interval: float = 0.5) -> None:
        self.follower = follower
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-index", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.follower.catch_up()
            except TelcochainError as exc:  # the node went away for a moment: try again
                log.warning("index follower: %s", exc)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def create_console_app(config: ConsoleConfig, *, follow: bool = True, interval: float = 0.5) -> FastAPI:
    """A FastAPI app serving only the console at ``/console`` (``/`` redirects there); with
    ``follow``, a thread keeps the index caught up while the app runs."""
    thread = IndexThread(Follower.for_client(config.store, config.client), interval) if follow else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if thread is not None:
            thread.start()
        try:
            yield
        finally:
            if thread is not None:
                thread.stop()

    app = FastAPI(title="telcochain console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(console_router(config))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    return app
