"""The web console: one member's view of the consortium in a browser, served by the same
process as the TMF gateway (``telcochain serve``), under ``/console``.

Server-rendered pages (Jinja2) read the index (:mod:`telcochain.index`): a dashboard with
counts, alerts and the report's charts (matplotlib, SVG), orders as project → order → service →
line trees with stock figures, twins with their history and its hash-chain verdict, invoices,
proposals with the votes this member may cast, the encrypted details shared with it (opened
with its own trust key) and the misuse alerts. Forms act through the SDK with the member's key,
exactly as the CLI does. Live updates: server-sent events when the index moves on.

``telcochain serve`` mounts it through the gateway's extension point (:func:`install`, configured
by the ``console:`` section of the gateway's config); elsewhere::

>>> from telcochain.console import ConsoleConfig, console_router
>>> app.include_router(console_router(ConsoleConfig(client, store, authenticate)))  # doctest: +SKIP

See docs/console.md.
"""

from __future__ import annotations

from telcochain.console.config import ConsoleConfig
from telcochain.console.gateway import ConsoleSettings, install
from telcochain.console.routes import console_router

__all__ = ["ConsoleConfig", "ConsoleSettings", "console_router", "install"]
