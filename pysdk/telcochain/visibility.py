"""Envelope encryption of action details (visibility constraints, seed 001; docs/visibility.md).

Everything here is PyNaCl (libsodium); nothing is home-made:

- the details (a JSON-able dict) are written as canonical JSON (sorted keys, compact separators,
  UTF-8) and prefixed with a fresh random 32-byte **salt**;
- ``salt ‖ json`` is encrypted with a fresh random 32-byte key by :class:`nacl.secret.Aead`
  (XChaCha20-Poly1305-IETF, random 24-byte nonce) with the **disclosure id** as associated data:
  the ciphertext opens only as the disclosure it was made for;
- that key is **wrapped** for each recipient with :class:`nacl.public.SealedBox` (an ephemeral
  X25519 key + XSalsa20-Poly1305) to the recipient's trust key, the X25519 public key it
  registered in the Constitution;
- the **commitment** is ``detailsHash = keccak256(salt ‖ json)``. It goes on chain with the
  action; the salt travels only inside the ciphertext, so low-entropy details ("site: Leeds")
  cannot be guessed from the hash by outsiders.

On-chain ciphertext format (version 2)::

    0x02 ‖ nonce (24) ‖ XChaCha20(salt (32) ‖ canonical JSON) ‖ Poly1305 tag (16)
    (associated data: the disclosure id, keccak256(abi.encode(discloser, ref)))

The binding matters because ciphertexts and wrapped keys are public (events): without it, any
member could replay another member's ciphertext and wrapped keys in a disclosure of its own
(another subject, its own name) and the recipients would open the genuine payload there.

A wrapped key is 80 bytes: ephemeral public key (32) ‖ tag (16) ‖ encrypted key (32).

A reader opens a payload in three checks, any failure raising a typed error and returning
nothing: the wrapped key opens with one of its private trust keys (:class:`WrongTrustKey`), the
ciphertext authenticates under that key and disclosure id (:class:`CiphertextInvalid`: truncated,
tampered, unknown format, made for another disclosure), and the plaintext hashes to the on-chain commitment
(:class:`CommitmentMismatch`). The last check also makes the payload the same for every
recipient: XChaCha20-Poly1305 is not key-committing, but two different plaintexts cannot both
match one keccak256 commitment.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.exceptions
import nacl.utils
from eth_utils import keccak
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import Aead, SecretBox

from telcochain.errors import CiphertextInvalid, CommitmentMismatch, ConfigurationError, DetailsError, WrongTrustKey

#: The ciphertext format written and read by this SDK (its first byte): 2, bound to the disclosure id.
FORMAT_VERSION = 2
#: Bytes of random salt committed with the details.
SALT_SIZE = 32
#: Bytes of a symmetric payload key.
KEY_SIZE = Aead.KEY_SIZE
#: Bytes of a wrapped key (sealed box of a 32-byte key).
WRAPPED_KEY_SIZE = PublicKey.SIZE + SecretBox.MACBYTES + KEY_SIZE
#: Bytes of a disclosure id (the associated data of a ciphertext).
DISCLOSURE_ID_SIZE = 32
#: The smallest well-formed ciphertext: version, nonce, tag, salt and ``{}``.
MIN_CIPHERTEXT = 1 + Aead.NONCE_SIZE + Aead.MACBYTES + SALT_SIZE + 2
#: The DetailsVault's cap on one ciphertext (DetailsVault.MAX_CIPHERTEXT).
MAX_CIPHERTEXT = 16_384
#: The DetailsVault's cap on the recipients of one disclosure (DetailsVault.MAX_RECIPIENTS).
MAX_RECIPIENTS = 32


def canonical_json(details: Mapping[str, Any]) -> bytes:
    """The canonical bytes of ``details``: JSON, sorted keys, no whitespace, UTF-8, no NaN."""
    if not isinstance(details, Mapping):
        raise ConfigurationError(f"details must be a dict (a JSON object), not {type(details).__name__}")
    try:
        text = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError (lone surrogates) is a ValueError
        raise ConfigurationError(
            f"details must be JSON-able (str keys; str, numbers, bools, None, lists, dicts): {exc}"
        ) from None


def commitment(salt: bytes, canonical: bytes) -> bytes:
    """``detailsHash = keccak256(salt ‖ canonical JSON)``."""
    if len(salt) != SALT_SIZE:
        raise ConfigurationError(f"a details salt is {SALT_SIZE} bytes")
    return bytes(keccak(salt + canonical))


def verify_details(details: Mapping[str, Any], salt: bytes, details_hash: bytes) -> bool:
    """Whether ``details`` with ``salt`` match the commitment ``details_hash`` (e.g. for plaintext
    that a recipient shared off chain together with its salt)."""
    return hmac.compare_digest(commitment(salt, canonical_json(details)), bytes(details_hash))


@dataclass(frozen=True)
class Envelope:
    """Details sealed for disclosure ``disclosure`` (its id): the commitment, the ciphertext, and
    the payload key (secret: it is only ever given to others wrapped by :meth:`wrap_for`)."""

    details_hash: bytes
    ciphertext: bytes
    key: bytes = field(repr=False)
    disclosure: bytes = b""

    def wrap_for(self, trust_key: bytes) -> bytes:
        """The payload key wrapped for the holder of ``trust_key``."""
        return wrap_key(self.key, trust_key)


@dataclass(frozen=True)
class OpenedDetails:
    """A payload decrypted and verified against its commitment."""

    details: dict[str, Any]
    salt: bytes = field(repr=False)
    details_hash: bytes


def _disclosure_id(disclosure: bytes) -> bytes:
    if not isinstance(disclosure, bytes | bytearray) or len(disclosure) != DISCLOSURE_ID_SIZE:
        raise ConfigurationError(
            f"a disclosure id is {DISCLOSURE_ID_SIZE} bytes (keccak256(abi.encode(discloser, ref)))"
        )
    return bytes(disclosure)


def seal(
    details: Mapping[str, Any], disclosure: bytes, *, salt: bytes | None = None, key: bytes | None = None
) -> Envelope:
    """Encrypt ``details`` under a fresh key for the disclosure whose id is ``disclosure`` (the
    ciphertext opens only as that disclosure; ``salt`` and ``key`` are for tests only)."""
    disclosure = _disclosure_id(disclosure)
    canonical = canonical_json(details)
    salt = nacl.utils.random(SALT_SIZE) if salt is None else salt
    key = nacl.utils.random(KEY_SIZE) if key is None else key
    if len(key) != KEY_SIZE:
        raise ConfigurationError(f"a payload key is {KEY_SIZE} bytes")
    digest = commitment(salt, canonical)
    ciphertext = bytes([FORMAT_VERSION]) + bytes(Aead(key).encrypt(salt + canonical, disclosure))
    if len(ciphertext) > MAX_CIPHERTEXT:
        raise ConfigurationError(
            f"the encrypted details are {len(ciphertext)} bytes; a disclosure carries at most {MAX_CIPHERTEXT}"
            " (put bulky documents off chain and disclose their hash and location)"
        )
    return Envelope(digest, ciphertext, key, disclosure)


def wrap_key(key: bytes, trust_key: bytes) -> bytes:
    """``key`` sealed to the X25519 public key ``trust_key`` (anyone can wrap, only its holder unwraps)."""
    if len(trust_key) != PublicKey.SIZE:
        raise ConfigurationError(f"a trust key is a {PublicKey.SIZE}-byte X25519 public key")
    try:
        return bytes(SealedBox(PublicKey(bytes(trust_key))).encrypt(key))
    except nacl.exceptions.CryptoError:  # a low-order point: libsodium refuses it
        raise ConfigurationError(f"trust key 0x{bytes(trust_key).hex()} is not a usable X25519 public key") from None


def unwrap_key(wrapped: bytes, private_keys: Iterable[PrivateKey], disclosure: bytes = b"") -> bytes:
    """The payload key inside ``wrapped``, opened with the first of ``private_keys`` that can.

    Raises :class:`~telcochain.errors.WrongTrustKey` when none can (or ``wrapped`` was altered).
    """
    tried = 0
    for private in private_keys:
        tried += 1
        try:
            key = bytes(SealedBox(private).decrypt(bytes(wrapped)))
        except nacl.exceptions.CryptoError:
            continue
        if len(key) == KEY_SIZE:
            return key
    raise WrongTrustKey(disclosure, tried)


def open_payload(ciphertext: bytes, key: bytes, details_hash: bytes, disclosure: bytes) -> OpenedDetails:
    """Decrypt ``ciphertext`` of disclosure ``disclosure`` (its id) with the payload ``key`` and
    check it against ``details_hash``.

    Raises :class:`~telcochain.errors.CiphertextInvalid` (truncated, tampered, unknown format,
    wrong key, sealed for another disclosure) or :class:`~telcochain.errors.CommitmentMismatch`;
    returns nothing unverified.
    """
    disclosure = _disclosure_id(disclosure)
    ciphertext = bytes(ciphertext)
    where = f" of disclosure 0x{disclosure.hex()}"
    if len(ciphertext) < MIN_CIPHERTEXT:
        raise CiphertextInvalid(f"the ciphertext{where} is truncated ({len(ciphertext)} bytes)")
    if ciphertext[0] != FORMAT_VERSION:
        raise CiphertextInvalid(
            f"the ciphertext{where} has unknown format {ciphertext[0]} (this SDK reads {FORMAT_VERSION})"
        )
    try:
        plain = bytes(Aead(bytes(key)).decrypt(ciphertext[1:], disclosure))
    except nacl.exceptions.CryptoError:
        raise CiphertextInvalid(
            f"the ciphertext{where} does not authenticate: it was truncated or tampered with, sealed for "
            "another disclosure, or the key is wrong"
        ) from None
    salt, canonical = plain[:SALT_SIZE], plain[SALT_SIZE:]
    actual = commitment(salt, canonical)
    if not hmac.compare_digest(actual, bytes(details_hash)):
        raise CommitmentMismatch(bytes(details_hash), actual, disclosure)
    try:
        details = json.loads(canonical.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DetailsError(f"the payload{where} matches its commitment but is not JSON") from None
    if not isinstance(details, dict) or canonical_json(details) != canonical:
        raise DetailsError(f"the payload{where} matches its commitment but is not a canonical JSON object")
    return OpenedDetails(details, salt, bytes(details_hash))


__all__ = [
    "DISCLOSURE_ID_SIZE",
    "FORMAT_VERSION",
    "KEY_SIZE",
    "MAX_CIPHERTEXT",
    "MAX_RECIPIENTS",
    "SALT_SIZE",
    "WRAPPED_KEY_SIZE",
    "Envelope",
    "OpenedDetails",
    "canonical_json",
    "commitment",
    "open_payload",
    "seal",
    "unwrap_key",
    "verify_details",
    "wrap_key",
]
