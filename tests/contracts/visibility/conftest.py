"""Fixtures and helpers for the DetailsVault tests.

The consortium (package-scoped: deployed once; ape's isolation snapshots the chain around every
module and test): a Constitution and the DetailsVault, whose actions ``disclose`` and
``grantAccess`` are granted to every founder at genesis, then sealed.

- ``m1`` (alice), ``m2`` (bob), ``m3`` (carol), ``m4`` (dave): founding members;
- ``stranger``: not a member.

The contract does not look inside ciphertexts or wrapped keys: these tests use opaque bytes
(the real envelope encryption is tested in tests/sdk/test_visibility*.py).

This directory is a package so that its ``conftest`` does not shadow the Constitution tests'
``conftest`` module (whose helpers it imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from conftest import action_id, grant, policy, ref, selector  # tests/contracts/conftest.py
from dryrun import (  # tests/contracts/dryrun.py
    send,
)
from eth_abi import encode
from eth_utils import keccak

ACTIONS = ("disclose", "grantAccess")
DISCLOSE_TYPES = ["bytes32", "bytes32", "bytes", "address[]", "bytes[]"]
GRANT_TYPES = ["bytes32", "address", "bytes"]
MAX_RECIPIENTS = 32
MAX_CIPHERTEXT = 16_384
MAX_WRAPPED_KEY = 256


def entry_selector(name: str) -> bytes:
    return selector(f"{name}(address,bytes32,bytes)")


def sid(label: str) -> bytes:
    """A subject id from a label."""
    return keccak(text=f"subject:{label}")


def commitment(label: str) -> bytes:
    return keccak(text=f"details:{label}")


def disclosure_id(discloser, ref_: bytes) -> bytes:
    """A disclosure's id as the contract computes it: ``keccak256(abi.encode(discloser, ref))``."""
    return keccak(encode(["address", "bytes32"], [_addr(discloser), ref_]))


def wrapped(n: int) -> bytes:
    """An opaque 80-byte wrapped key (a sealed box of a 32-byte key has this size)."""
    return bytes([n % 256]) * 80


def _addr(account) -> str:
    return account if isinstance(account, str) else account.address


def disclose_params(subject, details_hash, ciphertext, recipients, keys) -> bytes:
    return encode(DISCLOSE_TYPES, [subject, details_hash, ciphertext, [_addr(r) for r in recipients], list(keys)])


def grant_params(disclosure: bytes, recipient, key: bytes) -> bytes:
    return encode(GRANT_TYPES, [disclosure, _addr(recipient), key])


@dataclass
class Vault:
    """The Constitution and the DetailsVault, with shortcuts."""

    constitution: Any
    vault: Any
    roles: dict[str, Any]

    def __getattr__(self, name):
        if name in self.__dict__.get("roles", {}):
            return self.roles[name]
        raise AttributeError(name)

    def act(self, action: str, params: bytes, sender, ref_: bytes):
        return send(self.constitution.executeAction, action_id(action), params, ref_, sender=sender)

    def disclose(
        self,
        label: str,
        recipients,
        *,
        sender=None,
        subject: bytes | None = None,
        details_hash: bytes | None = None,
        ciphertext: bytes = b"\x01" * 100,
        keys=None,
    ):
        keys = [wrapped(i + 1) for i in range(len(recipients))] if keys is None else keys
        params = disclose_params(
            sid("S") if subject is None else subject,
            commitment(label) if details_hash is None else details_hash,
            ciphertext,
            recipients,
            keys,
        )
        return self.act("disclose", params, sender or self.roles["m1"], ref(label))

    def id(self, label: str, discloser=None) -> bytes:
        """The id of the disclosure ``discloser`` (default m1) made with ref ``label``."""
        return disclosure_id(discloser or self.roles["m1"], ref(label))

    def grant(
        self,
        label: str,
        recipient,
        *,
        sender=None,
        discloser=None,
        key: bytes | None = None,
        grant_label: str = "grant",
    ):
        """``sender`` (default m1) grants ``recipient`` access to disclosure ``label`` of
        ``discloser`` (default: the sender)."""
        sender = sender or self.roles["m1"]
        params = grant_params(self.id(label, discloser or sender), recipient, wrapped(99) if key is None else key)
        return self.act("grantAccess", params, sender, ref(grant_label))

    def record(self, label: str, discloser=None):
        return self.vault.disclosure(self.id(label, discloser))


def deploy_vault(project, deployer, founders, roles) -> Vault:
    c = project.Constitution.deploy(founders, sender=deployer)
    vault = project.DetailsVault.deploy(c.address, sender=deployer)
    members = [roles[m] for m in ("m1", "m2", "m3", "m4")]
    for name in ACTIONS:
        c.genesisDefineAction(
            policy(name, module=vault, selector_=entry_selector(name)), [grant(m) for m in members], sender=deployer
        )
    c.sealGenesis(sender=deployer)
    return Vault(c, vault, roles)


@pytest.fixture(scope="package")
def roles(accounts):
    return {"m1": accounts[1], "m2": accounts[2], "m3": accounts[3], "m4": accounts[4], "stranger": accounts[9]}


@pytest.fixture(scope="package")
def vault_founders(roles):
    return [(roles[f"m{n}"].address, (0x100 + n).to_bytes(32, "big"), f"Member {n}") for n in range(1, 5)]


@pytest.fixture(scope="package")
def dv(project, accounts, vault_founders, roles) -> Vault:
    return deploy_vault(project, accounts[0], vault_founders, roles)
