"""Encrypted keystores: round trip, wrong password, names, file permissions."""

from __future__ import annotations

import stat

import pytest
from eth_account import Account
from telcochain.errors import AccountNotFound, KeystoreError
from telcochain.keystore import Keystore


def test_an_account_round_trips_through_its_encrypted_keystore(tmp_path):
    store = Keystore(tmp_path)
    key = Account.create().key
    entry = store.save("ops", key, "pw")
    assert store.load("ops", "pw").key == key
    assert store.load(str(entry.path), "pw").address == entry.address  # a keystore file path works too
    assert b"pw" not in entry.path.read_bytes() and key.hex() not in entry.path.read_text()


def test_keystore_files_are_private_to_their_owner(tmp_path):
    entry = Keystore(tmp_path / "ks").create("ops", "pw")
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.path.parent.stat().st_mode) == 0o700


def test_a_wrong_password_is_reported_as_such(tmp_path):
    store = Keystore(tmp_path)
    store.create("ops", "right")
    with pytest.raises(KeystoreError, match="wrong password for account 'ops'"):
        store.load("ops", "wrong")


def test_an_unknown_account_is_not_found(tmp_path):
    with pytest.raises(AccountNotFound, match="no account named 'ghost'"):
        Keystore(tmp_path).load("ghost", "pw")


@pytest.mark.parametrize("name", ["../escape", "", "a/b", ".hidden", "x" * 65])
def test_account_names_cannot_escape_the_keystore_folder(tmp_path, name):
    with pytest.raises(KeystoreError, match="invalid account name"):
        Keystore(tmp_path).create(name, "pw")


def test_an_existing_account_is_never_overwritten(tmp_path):
    store = Keystore(tmp_path)
    first = store.create("ops", "pw")
    with pytest.raises(KeystoreError, match="already exists"):
        store.create("ops", "pw")
    assert store.load("ops", "pw").address == first.address


def test_an_invalid_private_key_is_refused(tmp_path):
    with pytest.raises(KeystoreError, match="not a valid private key"):
        Keystore(tmp_path).save("bad", "0x1234", "pw")
    assert Keystore(tmp_path).list() == []
