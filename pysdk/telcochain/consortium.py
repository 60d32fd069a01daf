"""The consortium config file (``consortium.yaml``) that a deployment is made from."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from telcochain.errors import ConfigurationError
from telcochain.types import to_address

ROLES = ("operator", "vendor", "supplier", "customer")


@dataclass(frozen=True)
class MemberConfig:
    name: str
    address: str
    trust_key: bytes
    role: str


@dataclass(frozen=True)
class ConsortiumConfig:
    name: str
    members: tuple[MemberConfig, ...]
    source_hash: str  # sha256 of the file, recorded in the deployment manifest
    path: Path | None = None

    def member(self, name: str) -> MemberConfig:
        for member in self.members:
            if member.name == name:
                return member
        raise ConfigurationError(f"no member named {name!r} in {self.path or 'the consortium config'}")


def _trust_key(value: Any, where: str) -> bytes:
    text = str(value)
    if not (text.startswith("0x") and len(text) == 66):
        raise ConfigurationError(f"{where}: trust_key must be 32 bytes as 0x-prefixed hex")
    try:
        key = bytes.fromhex(text[2:])
    except ValueError:
        raise ConfigurationError(f"{where}: trust_key is not valid hex") from None
    if key == bytes(32):
        raise ConfigurationError(f"{where}: trust_key must not be zero")
    return key


def parse_consortium(data: Any, path: Path | None = None, source_hash: str = "") -> ConsortiumConfig:
    """Validate a parsed consortium file; every problem is one clear ConfigurationError."""
    where = str(path or "consortium config")
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: expected a mapping with 'name' and 'members'")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"{where}: 'name' is required")
    raw_members = data.get("members")
    if not isinstance(raw_members, list) or not raw_members:
        raise ConfigurationError(f"{where}: 'members' must list at least one founding member")
    members: list[MemberConfig] = []
    seen: set[str] = set()
    for n, entry in enumerate(raw_members, start=1):
        at = f"{where}: member {n}"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{at}: expected a mapping")
        member_name = entry.get("name")
        if not isinstance(member_name, str) or not 0 < len(member_name.encode()) <= 64:
            raise ConfigurationError(f"{at}: 'name' must be 1 to 64 bytes")
        address = to_address(str(entry.get("address", "")), f"{at} ({member_name}): address")
        if address in seen:
            raise ConfigurationError(f"{at} ({member_name}): address {address} appears twice")
        seen.add(address)
        role = str(entry.get("role", "operator"))
        if role not in ROLES:
            raise ConfigurationError(f"{at} ({member_name}): role must be one of {', '.join(ROLES)}")
        members.append(MemberConfig(member_name, address, _trust_key(entry.get("trust_key"), at), role))
    return ConsortiumConfig(name.strip(), tuple(members), source_hash, path)


def load_consortium(path: str | os.PathLike[str] | None = None) -> ConsortiumConfig:
    """Read ``path`` (default ``$TELCOCHAIN_CONSORTIUM`` or ``consortium.yaml``)."""
    file = Path(path or os.environ.get("TELCOCHAIN_CONSORTIUM", "consortium.yaml"))
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read consortium config {file}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{file}: not valid YAML ({exc})") from None
    return parse_consortium(data, file, "0x" + hashlib.sha256(raw).hexdigest())
