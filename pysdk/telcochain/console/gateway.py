"""The console inside ``telcochain serve``: the gateway calls :func:`install` at start-up.

The gateway's ``console:`` section (all optional)::

    console:
      enabled: true
      secret_file: console-secret.txt    # signs session cookies; replicas must share it
                                         # (else $TELCOCHAIN_CONSOLE_SECRET, else random per process)
      trust_keys: northwind.trustkeys    # this member's trust key file, to open shared details
      trust_keys_password_file: northwind.trustkeys.password   # or $TELCOCHAIN_TRUST_KEYS_PASSWORD
      session_hours: 8
      alerts_config: alerts.yaml         # thresholds of the misuse rules (default: the shipped ones)

Logins use the gateway's bearer tokens (``telcochain serve token add NAME``); revoking a token
ends the console sessions opened with it. Cookies are marked Secure when the gateway serves TLS.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from telcochain import trustkeys
from telcochain.console.config import ConsoleConfig
from telcochain.console.routes import console_router
from telcochain.errors import ConfigurationError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from telcochain.gateway.app import GatewayState
    from telcochain.trustkeys import KeyRing

log = logging.getLogger("telcochain.console")

SECRET_ENV = "TELCOCHAIN_CONSOLE_SECRET"
TRUST_KEYS_PASSWORD_ENV = "TELCOCHAIN_TRUST_KEYS_PASSWORD"


class ConsoleSettings(BaseModel):
    """The gateway config's ``console:`` section."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    secret_file: Path | None = None
    trust_keys: Path | None = None
    trust_keys_password_file: Path | None = None
    session_hours: float = Field(8, gt=0, le=24 * 30)
    alerts_config: Path | None = None


def _secret(settings: ConsoleSettings) -> bytes | None:
    if settings.secret_file is not None:
        try:
            text = settings.secret_file.read_text().strip()
        except OSError as exc:
            raise ConfigurationError(f"console.secret_file: {exc}") from None
    else:
        text = os.environ.get(SECRET_ENV, "").strip()
    if not text:
        return None  # a random one per process (ConsoleConfig's default)
    if len(text) < 16:
        raise ConfigurationError("the console's secret must be at least 16 characters")
    return hashlib.sha256(text.encode()).digest()


def _keyring(settings: ConsoleSettings, address: str | None) -> KeyRing | None:
    """This member's trust keys: the configured file, else anvil's development keys for a
    development account, else none (the details page then says what is missing)."""
    if settings.trust_keys is not None:
        if settings.trust_keys_password_file is not None:
            password = settings.trust_keys_password_file.read_text().rstrip("\n")
        else:
            password = os.environ.get(TRUST_KEYS_PASSWORD_ENV, "")
        return trustkeys.load(settings.trust_keys, password)
    if address is None:
        return None
    try:
        return trustkeys.dev_keyring(address)
    except ConfigurationError:
        return None


def install(app: FastAPI, state: GatewayState) -> None:
    """Mount the console at ``/console`` on the gateway's app (the gateway's extension point)."""
    try:
        settings = ConsoleSettings.model_validate(state.settings.console or {})
    except ValidationError as exc:
        raise ConfigurationError(f"console settings: {exc}") from None
    if not settings.enabled:
        return
    ring = _keyring(settings, state.client.address)
    if ring is not None:
        state.client.keyring = ring
        if "details" in state.client.__dict__:  # made before the key ring was known
            state.client.details.keyring = ring
    tokens = state.tokens

    def token_valid(fingerprint: str) -> bool:
        return any(entry["sha256"].startswith(fingerprint) for entry in tokens.entries())

    config = ConsoleConfig(
        client=state.client,
        store=state.store,
        authenticate=tokens.verify,
        token_valid=token_valid,
        secure_cookies=True if state.settings.tls is not None else None,
        session_s=int(settings.session_hours * 3600),
        alerts_config=settings.alerts_config,
    )
    secret = _secret(settings)
    if secret is not None:
        config.secret = secret
    app.include_router(console_router(config))
