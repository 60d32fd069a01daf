"""``telcochain keys rotate``: a member's trust key. ``keys new`` lives with the encrypted details
(:mod:`telcochain.cli.details`); :mod:`telcochain.cli.root` adds it to this group."""

from __future__ import annotations

from pathlib import Path

import click

from telcochain import output
from telcochain.cli.options import (
    CONTEXT,
    CliSession,
    Group,
    json_option,
    parse_key,
    read_password,
    signer_options,
)
from telcochain.types import to_ref


@click.group(cls=Group, context_settings=CONTEXT)
def keys() -> None:
    """This member's trust (encryption) keys."""


@keys.command("rotate")
@click.argument("trust_key", required=False)
@click.option(
    "--trust-keys",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Instead of TRUST_KEY: register this trust key file's current key (as `keys new` made it); "
    "if it is registered already, add a fresh key to the file (old keys kept, so old details stay "
    "readable) and register that.",
)
@click.option(
    "--trust-keys-password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE",
    help="The key file's password [env: TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE; else a prompt].",
)
@click.option("--ref", help="Correlation id for the transaction (≤ 32 bytes) [default: random].")
@signer_options
@json_option
def keys_rotate(
    trust_key: str | None,
    key_file: Path | None,
    trust_keys_password_file: Path | None,
    ref: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Replace your member's public trust key with TRUST_KEY (32 bytes, 0x-hex), or with a
    fresh key of your trust key file (--trust-keys FILE)."""
    from telcochain import trustkeys

    if (trust_key is None) == (key_file is None):
        raise click.UsageError("pass TRUST_KEY or --trust-keys FILE")
    given = parse_key(trust_key, "TRUST_KEY") if trust_key is not None else None
    client = session.signer()  # connect before touching the file: a bad node or account changes nothing
    if key_file is not None:
        password = read_password(trust_keys_password_file, "Trust key file password")
        ring = trustkeys.load(key_file, password)
        member = client.constitution.member(client.address or "")
        if member is not None and member.trust_key != ring.public_key:
            key = ring.public_key  # the file's current key is not registered yet (`keys new`): register it as is
        else:
            key = trustkeys.rotate(key_file, password)  # registered already: a fresh key, the old ones kept
    else:
        assert given is not None
        key = given
    receipt = client.constitution.rotate_trust_key(key, to_ref(ref)).receipt
    if as_json:
        output.emit_json(
            {
                "public_key": "0x" + key.hex(),
                "tx_hash": receipt.tx_hash,
                "block": receipt.block_number,
                "gas_used": receipt.gas_used,
            }
        )
        return
    output.done(
        f"trust key of {client.address} is now 0x{key.hex()} (tx {receipt.tx_hash}, block {receipt.block_number})"
    )
