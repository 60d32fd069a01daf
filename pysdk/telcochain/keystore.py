"""Encrypted account keystores (the Web3 Secret Storage format geth, cast and ape use).

Keystores live in ``$TELCOCHAIN_KEYSTORE_DIR`` (default ``~/.telcochain/keystores``), one
``<name>.json`` each. A raw private key is accepted only through the environment variable
``TELCOCHAIN_PRIVATE_KEY``, never as a command-line argument.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from telcochain.errors import AccountNotFound, KeystoreError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class KeystoreEntry:
    name: str
    address: str
    path: Path


def keystore_dir() -> Path:
    return Path(os.environ.get("TELCOCHAIN_KEYSTORE_DIR", Path.home() / ".telcochain" / "keystores"))


class Keystore:
    """A folder of encrypted keystores."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else keystore_dir()

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise KeystoreError(f"invalid account name {name!r}: use letters, digits, '.', '_' or '-'")
        return self.directory / f"{name}.json"

    def list(self) -> list[KeystoreEntry]:
        entries = []
        for file in sorted(self.directory.glob("*.json")):
            try:
                address = to_checksum_address("0x" + json.loads(file.read_text())["address"].removeprefix("0x"))
            except (OSError, ValueError, KeyError):
                continue
            entries.append(KeystoreEntry(file.stem, address, file))
        return entries

    def save(self, name: str, private_key: bytes | str, password: str) -> KeystoreEntry:
        """Encrypt ``private_key`` under ``password`` as ``<name>.json`` (never overwrites)."""
        target = self.path(name)
        if target.exists():
            raise KeystoreError(f"an account named {name!r} already exists ({target})")
        try:
            account: LocalAccount = Account.from_key(private_key)
        except (ValueError, TypeError):
            raise KeystoreError("that is not a valid private key (32 bytes, hex)") from None
        encrypted = Account.encrypt(account.key, password)
        tmp = target.with_suffix(".json.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(encrypted, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise KeystoreError(f"cannot write the keystore {target}: {exc.strerror or exc}") from None
        return KeystoreEntry(name, account.address, target)

    def create(self, name: str, password: str) -> KeystoreEntry:
        """A new random account."""
        return self.save(name, Account.create().key, password)

    def load(self, name_or_path: str, password: str) -> LocalAccount:
        """Decrypt an account by name, or from a keystore file path."""
        candidate = Path(name_or_path)
        file = candidate if candidate.suffix == ".json" and candidate.exists() else self.path(name_or_path)
        if not file.exists():
            raise AccountNotFound(name_or_path, str(self.directory))
        try:
            data = json.loads(file.read_text())
            if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data}:
                raise KeystoreError(f"{file} is not a keystore file (an encrypted JSON key is expected)")
            key = Account.decrypt(data, password)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise KeystoreError(f"{file} is not a keystore file (it is not JSON)") from None
        except (KeyError, TypeError) as exc:
            raise KeystoreError(f"{file} is not a valid keystore file (missing or bad {exc})") from None
        except OSError as exc:
            raise KeystoreError(f"cannot read keystore {file}: {exc.strerror or exc}") from None
        except ValueError as exc:
            if "MAC mismatch" in str(exc):
                raise KeystoreError(f"wrong password for account {name_or_path!r}") from None
            raise KeystoreError(f"cannot read keystore {file}: {exc}") from None
        account: LocalAccount = Account.from_key(key)
        return account


def account_from_env() -> LocalAccount | None:
    """The account in ``$TELCOCHAIN_PRIVATE_KEY``, if set."""
    key = os.environ.get("TELCOCHAIN_PRIVATE_KEY")
    if not key:
        return None
    try:
        account: LocalAccount = Account.from_key(key)
    except (ValueError, TypeError):
        raise KeystoreError("TELCOCHAIN_PRIVATE_KEY is not a valid private key") from None
    return account
