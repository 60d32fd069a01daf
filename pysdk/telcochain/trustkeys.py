"""A member's trust keys: the X25519 key pairs that open the details disclosed to it.

The public half of the current key is the member's ``trustKey`` in the Constitution; details
disclosed to the member are wrapped to it (:mod:`telcochain.visibility`). A :class:`KeyRing`
keeps every key the member ever had, newest last: after a rotation (the Constitution's
``refreshTrustKeys``) new disclosures use the new key while the old ones stay readable.

Key files are JSON, encrypted at rest: the ring (private keys and their dates) is encrypted
with :class:`nacl.secret.SecretBox` under a key derived from the password with Argon2id
(:mod:`nacl.pwhash.argon2id`, parameters and salt stored in the file). Files are written
atomically (temporary file, fsync, rename) with mode 0600::

    ring = trustkeys.generate("northwind.trustkeys", password)   # register ring.public_key
    ring = trustkeys.load("northwind.trustkeys", password)
    new_public = trustkeys.rotate("northwind.trustkeys", password)  # then refreshTrustKeys(new_public)

:func:`dev_keyring` derives a deterministic key for anvil's development accounts, so that the
example consortium (consortium.yaml) and the tests can decrypt. Development only: it is
derived from a private key everybody knows.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.hash
import nacl.pwhash
import nacl.utils
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey
from nacl.pwhash import argon2id
from nacl.secret import SecretBox

from telcochain.errors import ConfigurationError, TrustKeyFileError

#: The ``format`` field of a trust key file.
FILE_FORMAT = "telcochain-trustkeys"
FILE_VERSION = 1

#: The label of the development key derivation (see :func:`dev_trust_key`).
DEV_LABEL = b"telcochain/dev-trust-key/v1"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost of a key file (libsodium's presets; ``moderate`` by default)."""

    opslimit: int = argon2id.OPSLIMIT_MODERATE
    memlimit: int = argon2id.MEMLIMIT_MODERATE

    @classmethod
    def interactive(cls) -> KdfParams:
        """Faster (64 MiB): for tests and short-lived tools."""
        return cls(argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)

    @classmethod
    def sensitive(cls) -> KdfParams:
        """Slower (1 GiB): for long-lived production key files."""
        return cls(argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE)

    def check(self) -> None:
        """Refuse parameters outside libsodium's presets (a crafted file could ask for 100 GiB)."""
        if not argon2id.OPSLIMIT_MIN <= self.opslimit <= argon2id.OPSLIMIT_SENSITIVE * 4:
            raise TrustKeyFileError(f"argon2id opslimit {self.opslimit} is out of range")
        if not argon2id.MEMLIMIT_MIN <= self.memlimit <= argon2id.MEMLIMIT_SENSITIVE:
            raise TrustKeyFileError(f"argon2id memlimit {self.memlimit} is out of range")


@dataclass(frozen=True)
class TrustKey:
    """One X25519 key pair of the ring; ``retired_at`` is set when a newer key replaced it."""

    private_key: PrivateKey = field(repr=False)
    created_at: int
    retired_at: int | None = None

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key: what goes in the Constitution as ``trustKey``."""
        return bytes(self.private_key.public_key)

    def __repr__(self) -> str:
        state = f"retired {self.retired_at}" if self.retired_at else "current"
        return f"TrustKey(0x{self.public_key.hex()}, created {self.created_at}, {state})"


class KeyRing:
    """A member's trust keys, oldest first; the last one is current."""

    def __init__(self, keys: Sequence[TrustKey], path: str | os.PathLike[str] | None = None) -> None:
        if not keys:
            raise ConfigurationError("a key ring holds at least one trust key")
        self._keys = list(keys)
        self.path = Path(path) if path is not None else None

    # -- making rings --------------------------------------------------------------------------

    @classmethod
    def generate(cls) -> KeyRing:
        """A new ring with one fresh key (in memory; see :meth:`save`)."""
        return cls([TrustKey(PrivateKey.generate(), int(time.time()))])

    @classmethod
    def from_private_keys(cls, *private_keys: bytes | PrivateKey) -> KeyRing:
        """A ring of given keys, oldest first (the last is current)."""
        now = int(time.time())
        keys = [k if isinstance(k, PrivateKey) else PrivateKey(bytes(k)) for k in private_keys]
        return cls([TrustKey(k, now, None if i == len(keys) - 1 else now) for i, k in enumerate(keys)])

    # -- reading -------------------------------------------------------------------------------

    @property
    def current(self) -> TrustKey:
        return self._keys[-1]

    @property
    def public_key(self) -> bytes:
        """The current public key (the one to register in the Constitution)."""
        return self.current.public_key

    @property
    def keys(self) -> list[TrustKey]:
        """Every key, oldest first."""
        return list(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[TrustKey]:
        return iter(self._keys)

    def __contains__(self, public_key: object) -> bool:
        return isinstance(public_key, bytes | bytearray) and self.private_key_for(bytes(public_key)) is not None

    def private_key_for(self, public_key: bytes) -> PrivateKey | None:
        """The private key of ``public_key``, if this ring holds it."""
        for key in self._keys:
            if key.public_key == bytes(public_key):
                return key.private_key
        return None

    def candidates(self, hint: bytes | None = None) -> list[PrivateKey]:
        """Private keys to try on a wrapped key: the one ``hint`` names first, then newest first."""
        ordered = [k.private_key for k in reversed(self._keys)]
        hinted = self.private_key_for(hint) if hint else None
        if hinted is None:
            return ordered
        return [hinted, *(k for k in ordered if bytes(k) != bytes(hinted))]

    # -- changing ------------------------------------------------------------------------------

    def rotate(self) -> bytes:
        """Add a fresh key and make it current (in memory); returns its public key.

        The old keys stay in the ring so old disclosures remain readable. Save the ring, then
        register the new key with ``client.constitution.rotate_trust_key(new_public_key)``.
        """
        now = int(time.time())
        self._keys[-1] = replace(self._keys[-1], retired_at=now)
        self._keys.append(TrustKey(PrivateKey.generate(), now))
        return self.public_key

    # -- files ---------------------------------------------------------------------------------

    def save(
        self, path: str | os.PathLike[str] | None = None, *, password: str | bytes, kdf: KdfParams | None = None
    ) -> Path:
        """Write the ring, encrypted under ``password``, atomically, with mode 0600."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ConfigurationError("this key ring has no file: pass a path")
        params = kdf or KdfParams()
        params.check()
        salt = nacl.utils.random(argon2id.SALTBYTES)
        box = SecretBox(_derive(password, salt, params))
        secret = json.dumps(
            {
                "keys": [
                    {"private": bytes(k.private_key).hex(), "created_at": k.created_at, "retired_at": k.retired_at}
                    for k in self._keys
                ]
            }
        ).encode()
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "public_keys": ["0x" + k.public_key.hex() for k in self._keys],  # informational, checked on load
            "kdf": {"name": "argon2id", "opslimit": params.opslimit, "memlimit": params.memlimit, "salt": salt.hex()},
            "cipher": "xsalsa20-poly1305",
            "ciphertext": bytes(box.encrypt(secret)).hex(),
        }
        _atomic_write(target, (json.dumps(document, indent=1) + "\n").encode())
        self.path = target
        return target

    def __repr__(self) -> str:
        return f"KeyRing({len(self._keys)} key(s), current 0x{self.public_key.hex()})"


def _derive(password: str | bytes, salt: bytes, params: KdfParams) -> bytes:
    secret = password.encode() if isinstance(password, str) else bytes(password)
    if not secret:
        raise ConfigurationError("a trust key file needs a non-empty password")
    return bytes(argon2id.kdf(SecretBox.KEY_SIZE, secret, salt, opslimit=params.opslimit, memlimit=params.memlimit))


def _atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a 0600 temporary file in the same folder, fsync, rename."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise TrustKeyFileError(f"cannot write the trust key file {target}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # disk full, read-only: the old file is untouched
            raise TrustKeyFileError(f"cannot write the trust key file {target}: {exc.strerror or exc}") from None
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# -- module-level file operations -------------------------------------------------------------


def generate(
    path: str | os.PathLike[str], password: str | bytes, *, kdf: KdfParams | None = None, overwrite: bool = False
) -> KeyRing:
    """A new key file at ``path`` with one fresh key; register ``ring.public_key`` as trust key."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise TrustKeyFileError(f"{target} already exists (a key file is never overwritten by accident)")
    ring = KeyRing.generate()
    ring.save(target, password=password, kdf=kdf)
    return ring


def load(path: str | os.PathLike[str], password: str | bytes) -> KeyRing:
    """The key ring in ``path``; :class:`~telcochain.errors.TrustKeyFileError` if it is missing,
    malformed, or the password is wrong."""
    target = Path(path)
    try:
        document = json.loads(target.read_text())
    except FileNotFoundError:
        raise TrustKeyFileError(f"no trust key file at {target}") from None
    except (OSError, ValueError) as exc:
        raise TrustKeyFileError(f"cannot read trust key file {target}: {exc}") from None
    try:
        if document.get("format") != FILE_FORMAT or document.get("version") != FILE_VERSION:
            raise TrustKeyFileError(f"{target} is not a telcochain trust key file (version {FILE_VERSION})")
        kdf = document["kdf"]
        if kdf.get("name") != "argon2id":
            raise TrustKeyFileError(f"{target}: unsupported key derivation {kdf.get('name')!r}")
        params = KdfParams(int(kdf["opslimit"]), int(kdf["memlimit"]))
        salt = bytes.fromhex(kdf["salt"])
        ciphertext = bytes.fromhex(document["ciphertext"])
        listed = [bytes.fromhex(str(p).removeprefix("0x")) for p in document.get("public_keys", [])]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TrustKeyFileError(f"{target} is malformed") from None
    params.check()
    if len(salt) != argon2id.SALTBYTES:
        raise TrustKeyFileError(f"{target} is malformed (salt)")
    try:
        secret = SecretBox(_derive(password, salt, params)).decrypt(ciphertext)
    except nacl.exceptions.CryptoError:
        raise TrustKeyFileError(f"wrong password for trust key file {target} (or the file was altered)") from None
    try:
        raw_keys: list[dict[str, Any]] = json.loads(secret)["keys"]
        keys = [
            TrustKey(
                PrivateKey(bytes.fromhex(k["private"])),
                int(k["created_at"]),
                None if k.get("retired_at") is None else int(k["retired_at"]),
            )
            for k in raw_keys
        ]
        ring = KeyRing(keys, target)
    except (KeyError, TypeError, ValueError, nacl.exceptions.CryptoError, ConfigurationError):
        raise TrustKeyFileError(f"{target} is malformed (key list)") from None
    if listed != [k.public_key for k in ring]:
        raise TrustKeyFileError(f"{target}: the listed public keys do not match the encrypted keys (file altered)")
    return ring


def rotate(path: str | os.PathLike[str], password: str | bytes, *, kdf: KdfParams | None = None) -> bytes:
    """Add a fresh key to the file (old keys kept) and return its public key, to register with
    ``client.constitution.rotate_trust_key(...)`` (the Constitution's refreshTrustKeys).

    The file is saved before the key is registered, so a registered key is never lost.
    """
    ring = load(path, password)
    new_public = ring.rotate()
    ring.save(path, password=password, kdf=kdf)
    return new_public


# -- development keys -------------------------------------------------------------------------


def dev_trust_key(account_private_key: bytes) -> PrivateKey:
    """The DEVELOPMENT trust key of an account: the X25519 private key
    ``blake2b-256(key=account_private_key, data=DEV_LABEL)``.

    Deterministic, so the example consortium's trust keys (consortium.yaml) and the tests'
    decryption keys follow from anvil's well-known accounts. Anybody who knows the account's
    private key knows this key: never use it for a real member (:func:`dev_keyring` refuses
    accounts other than anvil's).
    """
    raw = bytes(account_private_key)
    if len(raw) != 32:
        raise ConfigurationError("an account private key is 32 bytes")
    seed = nacl.hash.blake2b(DEV_LABEL, digest_size=32, key=raw, encoder=RawEncoder)
    return PrivateKey(seed)


@lru_cache(maxsize=1)
def _dev_accounts() -> dict[str, bytes]:
    """anvil's development accounts 0-9: address (lower case) → private key."""
    from eth_account import Account

    from telcochain.node import DEV_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    accounts = [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(10)]
    return {a.address.lower(): bytes(a.key) for a in accounts}


def dev_keyring(account: Any) -> KeyRing:
    """The development key ring of one of anvil's accounts 0-9 (an index, an address, or an
    eth-account ``LocalAccount``). Refuses any other account."""
    dev = _dev_accounts()
    if isinstance(account, int):
        if not 0 <= account < len(dev):
            raise ConfigurationError("anvil's development accounts are numbered 0 to 9")
        key = list(dev.values())[account]
    else:
        address = str(getattr(account, "address", account)).lower()
        if address not in dev:
            raise ConfigurationError(
                f"{address} is not one of anvil's development accounts: development trust keys are for local use "
                "only (make a real key file with telcochain.trustkeys.generate)"
            )
        key = dev[address]
    return KeyRing([TrustKey(dev_trust_key(key), 0)])


__all__ = [
    "DEV_LABEL",
    "KdfParams",
    "KeyRing",
    "TrustKey",
    "dev_keyring",
    "dev_trust_key",
    "generate",
    "load",
    "rotate",
]
