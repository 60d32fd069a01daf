"""Small value types shared by the SDK: correlation refs, bytes32 helpers, addresses."""

from __future__ import annotations

import os

from eth_utils import is_address, to_checksum_address

from telcochain.errors import ConfigurationError
from telcochain.errors import show_bytes32 as show_bytes32  # re-exported: defined where error messages need it

Ref = str | bytes | None


def new_ref() -> bytes:
    """A fresh correlation id: 32 random hex characters, readable when printed."""
    return os.urandom(16).hex().encode()


def to_bytes32(value: str | bytes, what: str = "value") -> bytes:
    """Text up to 32 bytes (right-padded), or a 0x-prefixed 32-byte hex string, as bytes32."""
    if isinstance(value, bytes):
        raw = value
    elif value.startswith("0x") and len(value) == 66:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            raise ConfigurationError(f"{what} {value!r} is not valid hex") from None
    else:
        raw = value.encode()
    if len(raw) > 32:
        raise ConfigurationError(f"{what} {value!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")


def to_ref(ref: Ref) -> bytes:
    """The bytes32 correlation id for ``ref`` (a fresh one when None)."""
    return new_ref().ljust(32, b"\0") if ref is None else to_bytes32(ref, "ref")


#: The zero address ("nobody": no customer, no vendor...).
ZERO_ADDRESS = "0x" + "00" * 20


def to_address(value: str, what: str = "address") -> str:
    """A checksummed address, or a clear :class:`ConfigurationError`."""
    if not isinstance(value, str) or not is_address(value):
        raise ConfigurationError(f"{what} {value!r} is not a valid address")
    body = value[2:] if value[:2].lower() == "0x" else value
    if body != body.lower() and body != body.upper() and to_checksum_address(value) != "0x" + body:
        raise ConfigurationError(f"{what} {value!r} is not a valid address (its mixed-case checksum is wrong: a typo?)")
    return to_checksum_address(value)
