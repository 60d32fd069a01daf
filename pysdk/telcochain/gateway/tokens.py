"""Bearer tokens (the tokens file): one per client application, stored hashed, each acting as this member.

The tokens file (YAML) keeps, per client, only the SHA-256 of its token::

    tokens:
      - name: oss-prod
        sha256: 9f86d08...           # hex digest of the token
        created: "2026-11-30T04:00:00Z"

A token is 32 random bytes (``secrets.token_urlsafe``), so a plain SHA-256 is enough: there
is nothing to brute-force, unlike a password. ``telcochain serve token add NAME`` prints a new
token once and stores its hash; the gateway re-reads the file when it changes, so adding or
revoking a token needs no restart. Every token acts as the gateway's one member account.

Checking a request's token is :func:`telcochain.gateway.auth.require_principal`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from datetime import datetime, timezone
from pathlib import Path

import yaml

from telcochain.errors import ConfigurationError

log = logging.getLogger("telcochain.gateway")

#: The prefix makes a leaked token recognisable by secret scanners.
TOKEN_PREFIX = "tcg_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The tokens file: add, revoke, verify (re-read when the file changes)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._entries: list[dict[str, str]] = []

    def _read(self) -> list[dict[str, str]]:
        try:
            data = yaml.safe_load(self.path.read_text()) or {}
        except FileNotFoundError:
            return []
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"cannot read the tokens file {self.path}: {exc}") from None
        entries = data.get("tokens", []) if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("sha256"), str) for e in entries
        ):
            raise ConfigurationError(f"{self.path}: expected `tokens:` as a list of {{name, sha256}}")
        return entries

    def entries(self) -> list[dict[str, str]]:
        """The current entries (the file is re-read when its mtime or size changed)."""
        with self._lock:
            try:
                st = self.path.stat()
                stamp: tuple[float, int] | None = (st.st_mtime, st.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp != self._stamp or stamp is None:
                self._entries = self._read()
                self._stamp = stamp
            return list(self._entries)

    def _write(self, entries: list[dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            yaml.safe_dump({"tokens": entries}, out, sort_keys=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def add(self, name: str, *, replace: bool = False) -> str:
        """A new token for client ``name`` (unique; ``replace``: the old one stops working);
        returns the token — the only time it is seen."""
        if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
            raise ConfigurationError(f"invalid client name {name!r}: 1-64 letters, digits, '-', '_' or '.'")
        entries = self.entries()
        if any(e["name"] == name for e in entries):
            if not replace:
                raise ConfigurationError(f"a token named {name!r} exists already: revoke it first, or --replace it")
            entries = [e for e in entries if e["name"] != name]
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries.append({"name": name, "sha256": hash_token(token), "created": created})
        self._write(entries)
        return token

    def revoke(self, name: str) -> bool:
        entries = self.entries()
        kept = [e for e in entries if e["name"] != name]
        if len(kept) == len(entries):
            return False
        self._write(kept)
        return True

    def verify(self, token: str) -> str | None:
        """The client name for ``token``, or None. Compares every stored digest in constant
        time (no early exit that would tell how many entries were tried)."""
        digest = hash_token(token)
        found: str | None = None
        for entry in self.entries():
            if hmac.compare_digest(digest, entry["sha256"]):
                found = entry["name"]
        return found
