"""What the console needs from the process that serves it (``telcochain serve``, or a test)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telcochain.client import Client
    from telcochain.index import IndexStore


@dataclass
class ConsoleConfig:
    """One member's console.

    ``client`` acts as the member (its key signs the console's actions; its key ring opens the
    details shared with it); ``store`` is the index the pages read; ``authenticate`` turns a
    bearer token into the name of whoever holds it (None: not accepted) — the gateway's own
    check, so the console accepts exactly the gateway's tokens; ``token_valid`` (optional) says whether
    the token with a given fingerprint (:func:`~telcochain.console.security.token_fingerprint`) is
    still accepted, so that a dropped token ends its sessions at once. ``secret`` signs the session
    cookies: replicas behind one load balancer must share it (a random one per process
    otherwise). ``secure_cookies`` None marks cookies Secure when the request came over TLS.
    """

    client: Client
    store: IndexStore
    authenticate: Callable[[str], str | None]
    token_valid: Callable[[str], bool] | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    secure_cookies: bool | None = None
    session_s: int = 8 * 3600
    alerts_config: str | Path | None = None
    live_interval_s: float = 1.0
    page_size: int = 50
