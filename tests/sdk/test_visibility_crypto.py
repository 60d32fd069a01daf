"""Envelope encryption (telcochain.visibility) and key files (telcochain.trustkeys), offline."""

from __future__ import annotations

import json
import os
import stat

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey
from telcochain import trustkeys
from telcochain.errors import (
    CiphertextInvalid,
    CommitmentMismatch,
    ConfigurationError,
    DetailsError,
    KeystoreError,
    TelcochainError,
    TrustKeyFileError,
    WrongTrustKey,
)
from telcochain.trustkeys import KdfParams, KeyRing, dev_keyring, dev_trust_key
from telcochain.visibility import (
    SALT_SIZE,
    WRAPPED_KEY_SIZE,
    canonical_json,
    commitment,
    open_payload,
    seal,
    unwrap_key,
    verify_details,
    wrap_key,
)

FAST = KdfParams.interactive()
ID = keccak(text="disclosure:1")  # a disclosure id (keccak256(abi.encode(discloser, ref)) on chain)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
details_dicts = st.dictionaries(st.text(max_size=12), json_values, max_size=6)


# ---------------------------------------------------------------------------- envelopes


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(details=details_dicts)
def test_seal_then_open_round_trips_for_every_recipient(details):
    try:
        envelope = seal(details, ID)
    except ConfigurationError:  # lone surrogates are not UTF-8: refused up front, clearly
        return
    readers = [PrivateKey.generate() for _ in range(3)]
    for reader in readers:
        wrapped = envelope.wrap_for(bytes(reader.public_key))
        assert len(wrapped) == WRAPPED_KEY_SIZE
        key = unwrap_key(wrapped, [reader])
        opened = open_payload(envelope.ciphertext, key, envelope.details_hash, ID)
        assert canonical_json(opened.details) == canonical_json(details)
        assert verify_details(opened.details, opened.salt, envelope.details_hash)


def test_the_commitment_is_keccak_of_salt_and_canonical_json_and_hides_low_entropy_details():
    details = {"site": "Leeds", "floor": 2}
    salt = b"\x07" * SALT_SIZE
    envelope = seal(details, ID, salt=salt)
    assert canonical_json(details) == b'{"floor":2,"site":"Leeds"}'
    assert envelope.details_hash == keccak(salt + b'{"floor":2,"site":"Leeds"}')
    assert envelope.details_hash == commitment(salt, canonical_json({"site": "Leeds", "floor": 2}))
    # a fresh salt each time: the same details never give the same hash or ciphertext
    again, third = seal(details, ID), seal(details, ID)
    assert len({envelope.details_hash, again.details_hash, third.details_hash}) == 3
    assert again.ciphertext != third.ciphertext
    # an outsider guessing the plaintext cannot confirm it without the salt inside the ciphertext
    assert keccak(canonical_json(details)) != again.details_hash


def test_a_wrong_key_cannot_unwrap_and_says_so():
    envelope = seal({"quote": 1200}, ID)
    owner, other = PrivateKey.generate(), PrivateKey.generate()
    wrapped = envelope.wrap_for(bytes(owner.public_key))
    with pytest.raises(WrongTrustKey, match="none of the 2 trust key"):
        unwrap_key(wrapped, [other, PrivateKey.generate()], b"R" * 32)
    tampered = bytearray(wrapped)
    tampered[40] ^= 1
    with pytest.raises(WrongTrustKey):
        unwrap_key(bytes(tampered), [owner])
    assert unwrap_key(wrapped, [other, owner]) == envelope.key  # any key of the ring may be the one


def test_a_truncated_or_tampered_ciphertext_is_refused():
    envelope = seal({"device": "ONT-X", "serial": "SN-1"}, ID)
    key, digest = envelope.key, envelope.details_hash
    for cut in (0, 1, 10, 40, len(envelope.ciphertext) - 1):
        with pytest.raises(CiphertextInvalid, match=r"truncated|does not authenticate"):
            open_payload(envelope.ciphertext[:cut], key, digest, ID)
    for position in (1, 30, len(envelope.ciphertext) - 1):  # nonce, tag, body
        tampered = bytearray(envelope.ciphertext)
        tampered[position] ^= 0x80
        with pytest.raises(CiphertextInvalid, match="does not authenticate"):
            open_payload(bytes(tampered), key, digest, ID)
    assert envelope.ciphertext[0] == 2
    with pytest.raises(CiphertextInvalid, match="unknown format 1"):  # the old, unbound format
        open_payload(b"\x01" + envelope.ciphertext[1:], key, digest, ID)
    with pytest.raises(CiphertextInvalid):  # the right ciphertext, another payload key
        open_payload(envelope.ciphertext, os.urandom(32), digest, ID)


def test_a_ciphertext_opens_only_as_the_disclosure_it_was_sealed_for():
    """Ciphertexts and wrapped keys are public: replayed in another disclosure (another id:
    another discloser or ref), the genuine payload must not open there."""
    envelope = seal({"site": "12 Leeds Rd"}, ID)
    assert envelope.disclosure == ID
    assert open_payload(envelope.ciphertext, envelope.key, envelope.details_hash, ID).details == {"site": "12 Leeds Rd"}
    with pytest.raises(CiphertextInvalid, match="another disclosure"):
        open_payload(envelope.ciphertext, envelope.key, envelope.details_hash, keccak(text="disclosure:2"))
    for bad in (b"", b"short", b"\x01" * 33):
        with pytest.raises(ConfigurationError, match="a disclosure id is 32 bytes"):
            seal({"x": 1}, bad)


def test_a_payload_that_does_not_match_its_commitment_is_refused():
    envelope = seal({"price": 100}, ID)
    other = seal({"price": 999}, ID)
    with pytest.raises(CommitmentMismatch, match="does not match its commitment") as info:
        open_payload(other.ciphertext, other.key, envelope.details_hash, ID)
    assert info.value.expected == envelope.details_hash
    assert isinstance(info.value, DetailsError) and isinstance(info.value, TelcochainError)
    assert not verify_details({"price": 999}, b"\0" * 32, envelope.details_hash)


def test_details_must_be_a_json_object_within_the_size_cap():
    for bad in ([1, 2], "text", {"when": object()}, {"x": float("nan")}, {"b": b"x"}):
        with pytest.raises(ConfigurationError):
            seal(bad, ID)
    with pytest.raises(ConfigurationError, match="at most 16384"):
        seal({"blob": "x" * 20_000}, ID)
    with pytest.raises(ConfigurationError, match="not a usable X25519"):
        wrap_key(os.urandom(32), b"\0" * 32)  # a low-order point


# ---------------------------------------------------------------------------- key rings


def test_a_key_file_is_encrypted_at_rest_with_mode_0600(tmp_path):
    path = tmp_path / "member.trustkeys"
    ring = trustkeys.generate(path, "correct horse", kdf=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert bytes(ring.current.private_key).hex() not in text  # the private key is not in clear
    document = json.loads(text)
    assert document["kdf"]["name"] == "argon2id" and document["public_keys"] == ["0x" + ring.public_key.hex()]
    loaded = trustkeys.load(path, "correct horse")
    assert loaded.public_key == ring.public_key and loaded.path == path
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic: no leftovers
    with pytest.raises(TrustKeyFileError, match="already exists"):
        trustkeys.generate(path, "again", kdf=FAST)


def test_a_wrong_password_fails_cleanly(tmp_path):
    path = tmp_path / "member.trustkeys"
    trustkeys.generate(path, "right", kdf=FAST)
    with pytest.raises(TrustKeyFileError, match="wrong password") as info:
        trustkeys.load(path, "wrong")
    assert isinstance(info.value, KeystoreError)
    with pytest.raises(TrustKeyFileError, match="no trust key file"):
        trustkeys.load(tmp_path / "missing", "right")
    (tmp_path / "junk").write_text("{not json")
    with pytest.raises(TrustKeyFileError, match="cannot read"):
        trustkeys.load(tmp_path / "junk", "right")


def test_an_altered_key_file_is_refused(tmp_path):
    path = tmp_path / "member.trustkeys"
    trustkeys.generate(path, "pw", kdf=FAST)
    document = json.loads(path.read_text())
    document["public_keys"] = ["0x" + "11" * 32]
    path.write_text(json.dumps(document))
    with pytest.raises(TrustKeyFileError, match="altered"):
        trustkeys.load(path, "pw")
    document["kdf"]["memlimit"] = 1 << 40  # a crafted file cannot make us allocate a terabyte
    path.write_text(json.dumps(document))
    with pytest.raises(TrustKeyFileError, match="out of range"):
        trustkeys.load(path, "pw")


def test_rotation_keeps_old_keys_so_old_payloads_stay_readable(tmp_path):
    path = tmp_path / "member.trustkeys"
    ring = trustkeys.generate(path, "pw", kdf=FAST)
    old_public = ring.public_key
    old_payload = seal({"v": "old"}, ID)
    old_wrapped = old_payload.wrap_for(old_public)
    new_public = trustkeys.rotate(path, "pw", kdf=FAST)
    assert new_public != old_public
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = trustkeys.load(path, "pw")
    assert ring.public_key == new_public and [k.public_key for k in ring] == [old_public, new_public]
    assert ring.keys[0].retired_at is not None and ring.current.retired_at is None
    assert old_public in ring and new_public in ring
    key = unwrap_key(old_wrapped, ring.candidates(old_public))
    assert open_payload(old_payload.ciphertext, key, old_payload.details_hash, ID).details == {"v": "old"}
    assert bytes(ring.candidates(old_public)[0]) == bytes(ring.private_key_for(old_public))  # the hint first


def test_dev_keys_are_deterministic_and_only_for_anvil_accounts(dev_accounts):
    first = dev_keyring(dev_accounts[0])
    assert first.public_key == dev_keyring(0).public_key == dev_keyring(dev_accounts[0].address).public_key
    assert first.public_key == bytes(dev_trust_key(bytes(dev_accounts[0].key)).public_key)
    assert len({dev_keyring(i).public_key for i in range(10)}) == 10
    with pytest.raises(ConfigurationError, match="not one of anvil's development accounts"):
        dev_keyring("0x" + "12" * 20)
    with pytest.raises(ConfigurationError):
        dev_keyring(10)


def test_the_example_consortium_registers_the_dev_keys():
    from telcochain.consortium import load_consortium

    config = load_consortium(os.path.join(os.path.dirname(__file__), "..", "..", "consortium.yaml"))
    for member in config.members:
        assert member.trust_key == dev_keyring(member.address).public_key, member.name


def test_a_ring_in_memory_can_be_saved_later(tmp_path):
    ring = KeyRing.from_private_keys(PrivateKey.generate(), PrivateKey.generate())
    with pytest.raises(ConfigurationError, match="no file"):
        ring.save(password="pw", kdf=FAST)
    ring.save(tmp_path / "r", password="pw", kdf=FAST)
    assert [k.public_key for k in trustkeys.load(tmp_path / "r", "pw")] == [k.public_key for k in ring]
