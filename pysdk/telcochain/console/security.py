"""Sessions, CSRF tokens and flash messages for the console: signed, stateless cookies.

A person logs in with one of the gateway's bearer tokens; the console then keeps a session
cookie (HttpOnly, SameSite=Strict, Secure when served over TLS) that carries, signed with
HMAC-SHA256 under the server's secret, who logged in, a fingerprint of the token used, a
random nonce and an expiry. Nothing is stored on the server, so replicas sharing the secret
accept each other's sessions; a session dies when it expires or when its token is no longer
accepted (the fingerprint is checked against the current tokens on every request).

Every state-changing form carries a CSRF token: HMAC(secret, "csrf" + the session's nonce),
compared in constant time. The login form, which has no session yet, uses a double-submit
token (a random value in a short-lived cookie and in the form).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

SESSION_COOKIE = "tc_console"
LOGIN_COOKIE = "tc_console_login"
FLASH_COOKIE = "tc_console_flash"
DEFAULT_SESSION_S = 8 * 3600


def token_fingerprint(token: str) -> str:
    """What a session remembers of its bearer token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Session:
    """A logged-in person: the token's name (who), its fingerprint, a nonce, the expiry."""

    who: str
    fingerprint: str
    nonce: str
    expires: int


class Signer:
    """Signs and checks the console's cookie values with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the console's secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, purpose: str, payload: bytes) -> str:
        return hmac.new(self._secret, purpose.encode() + b"\0" + payload, hashlib.sha256).hexdigest()

    def sign(self, purpose: str, data: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
        return f"{payload}.{self._mac(purpose, payload.encode())}"

    def unsign(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        """The data of a value this signer made for ``purpose``; None if absent, forged or malformed."""
        if not value or "." not in value:
            return None
        payload, mac = value.rsplit(".", 1)
        if not hmac.compare_digest(mac.encode(), self._mac(purpose, payload.encode()).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    # -- sessions ---------------------------------------------------------------------------

    def new_session(self, who: str, token: str, lifetime_s: int = DEFAULT_SESSION_S) -> tuple[Session, str]:
        session = Session(who, token_fingerprint(token), secrets.token_hex(16), int(time.time()) + lifetime_s)
        value = self.sign(
            "session", {"w": session.who, "f": session.fingerprint, "n": session.nonce, "e": session.expires}
        )
        return session, value

    def session(self, value: str | None) -> Session | None:
        data = self.unsign("session", value)
        if data is None:
            return None
        try:
            session = Session(str(data["w"]), str(data["f"]), str(data["n"]), int(data["e"]))
        except (KeyError, TypeError, ValueError):
            return None
        return session if session.expires > time.time() else None

    # -- CSRF -------------------------------------------------------------------------------

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf", session.nonce.encode())

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode(), self.csrf_token(session).encode())
