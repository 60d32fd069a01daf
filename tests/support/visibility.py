"""The DetailsVault tests' world and helpers (tests/contracts/visibility).

The consortium (tests/support/worlds/visibility.yaml): a Constitution and the DetailsVault, whose
actions ``disclose`` and ``grantAccess`` are granted to every founder at genesis, then sealed.

- ``m1`` (alice), ``m2`` (bob), ``m3`` (carol), ``m4`` (dave): founding members;
- ``stranger``: not a member.

The contract does not look inside ciphertexts or wrapped keys: these tests use opaque bytes
(the real envelope encryption is tested in tests/sdk/test_visibility*.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from tests.support.dryrun import execute_action
from tests.support.encoding import ref
from tests.support.worlds import check_roles, deploy_world, load_world

DISCLOSE_TYPES = ["bytes32", "bytes32", "bytes", "address[]", "bytes[]"]
GRANT_TYPES = ["bytes32", "address", "bytes"]
MAX_RECIPIENTS = 32
MAX_CIPHERTEXT = 16_384
MAX_WRAPPED_KEY = 256


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
        return execute_action(self.constitution, action, params, sender=sender, ref_=ref_)

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


#: The world's members by role (tests/support/worlds/visibility.yaml); ``stranger`` is not a member.
MEMBERS = {f"m{n}": f"Member {n}" for n in range(1, 5)}


def deploy_vault(deployer, roles) -> Vault:
    """The world of tests/support/worlds/visibility.yaml, deployed through scripts/deploy.py."""
    config = load_world("visibility")
    check_roles(config, MEMBERS, roles)
    world = deploy_world(config, deployer)
    return Vault(world.constitution, world.contracts["DetailsVault"], roles)
