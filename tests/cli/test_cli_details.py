"""`telcochain details ...` and trust key files: the visibility constraints from the shell."""

from __future__ import annotations

import json
import os
import stat

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_disclose_show_and_grant_between_members(as_member):
    out = ok(
        as_member(
            OPERATOR,
            "details",
            "disclose",
            "SITE-LEEDS",
            "--to",
            "Acme Networks",
            "--set",
            "address=12 Leeds Rd",
            "--set",
            "floor=3",
            "--ref",
            "D-1",
            "--json",
        )
    )
    disclosed = json.loads(out)
    disclosure = disclosed["id"]  # keccak256(abi.encode(discloser, ref)): what the other commands take
    assert disclosed["ref"] == "D-1" and disclosed["details_hash"].startswith("0x")
    assert disclosure.startswith("0x") and len(disclosure) == 66

    shown = json.loads(ok(as_member(ACME, "details", "show", disclosure, "--json")))
    assert shown["details"] == {"address": "12 Leeds Rd", "floor": "3"} and shown["verified"] is True
    assert (shown["id"], shown["ref"]) == (disclosure, "D-1")
    assert "matches its on-chain commitment" in ok(as_member(ACME, "details", "show", disclosure))
    by_ref = json.loads(ok(as_member(ACME, "details", "show", "D-1", "--discloser", "Northwind Telecom", "--json")))
    assert by_ref["id"] == disclosure
    missing = as_member(ACME, "details", "show", "D-1")  # a ref alone names no disclosure
    assert missing.exit_code == 1 and "give its discloser" in missing.output

    hidden = as_member(GLOBEX, "details", "show", disclosure)
    assert hidden.exit_code == 1 and "was not disclosed to" in hidden.output
    assert len(hidden.output.strip().splitlines()) == 1

    listed = json.loads(ok(as_member(GLOBEX, "details", "list", "SITE-LEEDS", "--json")))
    assert [(d["id"], d["ref"], d["readable_by_me"]) for d in listed] == [(disclosure, "D-1", False)]

    denied = as_member(ACME, "details", "grant", disclosure, "Globex Optical")
    assert denied.exit_code == 1 and "VaultNotDiscloser" in denied.output  # only the discloser grants
    ok(as_member(OPERATOR, "details", "grant", disclosure, "Globex Optical"))
    assert json.loads(ok(as_member(GLOBEX, "details", "show", disclosure, "--json")))["details"]["floor"] == "3"


def test_another_member_sending_the_same_ref_first_blocks_nothing(as_member):
    """Finding 11 from the shell: Acme discloses with the ref Northwind is about to use; Northwind's
    disclose with that ref still succeeds under its own id, and --discloser picks the right one."""
    args = ["details", "disclose", "SITE-YORK", "--to", "Globex Optical", "--ref", "D-SAME", "--json"]
    theirs = json.loads(ok(as_member(ACME, *args, "--set", "by=acme")))
    mine = json.loads(ok(as_member(OPERATOR, *args, "--set", "by=northwind")))
    assert mine["id"] != theirs["id"] and mine["ref"] == theirs["ref"] == "D-SAME"
    for disclosure, by in ((mine["id"], "northwind"), (theirs["id"], "acme")):
        assert json.loads(ok(as_member(GLOBEX, "details", "show", disclosure, "--json")))["details"] == {"by": by}
    shown = as_member(GLOBEX, "details", "show", "D-SAME", "--discloser", "Northwind Telecom", "--json")
    assert json.loads(ok(shown))["details"] == {"by": "northwind"}
    ok(as_member(OPERATOR, "details", "grant", "D-SAME", "Initech Enterprise", "--by-ref"))
    assert json.loads(ok(as_member(CUSTOMER, "details", "show", mine["id"], "--json")))["details"] == {
        "by": "northwind"
    }


def test_a_trust_key_file_made_rotated_and_used(as_member, tmp_path):
    password = tmp_path / "pw"
    password.write_text("correct horse battery staple\n")
    keyfile = tmp_path / "initech.trustkeys"
    made = json.loads(ok(as_member(CUSTOMER, "keys", "new", str(keyfile), "--password-file", str(password), "--json")))
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    assert as_member(CUSTOMER, "keys", "new", str(keyfile), "--password-file", str(password)).exit_code == 1

    opts = ["--trust-keys", str(keyfile), "--trust-keys-password-file", str(password)]
    rotated = json.loads(ok(as_member(CUSTOMER, "keys", "rotate", *opts, "--json")))
    assert rotated["public_key"] == made["public_key"]  # the key `keys new` printed is the one registered
    disclosure = json.loads(
        ok(
            as_member(
                OPERATOR,
                "details",
                "disclose",
                "ORD-9",
                "--to",
                "Initech Enterprise",
                "--set",
                "price=1200",
                "--ref",
                "D-2",
                "--json",
            )
        )
    )["id"]
    assert json.loads(ok(as_member(CUSTOMER, "details", "show", disclosure, *opts, "--json")))["details"] == {
        "price": "1200"
    }

    wrong = tmp_path / "wrong"
    wrong.write_text("nope")
    bad = as_member(
        CUSTOMER, "details", "show", disclosure, "--trust-keys", str(keyfile), "--trust-keys-password-file", str(wrong)
    )
    assert bad.exit_code == 1 and "wrong password" in bad.output
    dev_keys = as_member(CUSTOMER, "details", "show", disclosure)  # the dev key is no longer the registered one
    assert dev_keys.exit_code == 1 and "trust key" in dev_keys.output
    assert as_member(CUSTOMER, "keys", "rotate").exit_code == 2  # TRUST_KEY or --trust-keys


def test_keys_new_then_rotate_registers_the_key_keys_new_printed(as_member, tmp_path):
    password = tmp_path / "pw"
    password.write_text("file password\n")
    ring = tmp_path / "ring.tk"
    made = json.loads(ok(as_member(1, "keys", "new", str(ring), "--password-file", str(password), "--json")))
    args = ["keys", "rotate", "--trust-keys", str(ring), "--trust-keys-password-file", str(password), "--json"]
    first = json.loads(ok(as_member(1, *args)))
    assert first["public_key"] == made["public_key"]  # the key `keys new` printed, not a fresh one
    second = json.loads(ok(as_member(1, *args)))
    assert second["public_key"] != made["public_key"]  # registered already: rotating makes a fresh key
