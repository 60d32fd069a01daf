"""``telcochain account ...``: encrypted keystores for the ``--account`` option."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from telcochain import output
from telcochain.cli.options import (
    CONTEXT,
    Group,
    json_option,
    read_password,
)
from telcochain.keystore import Keystore


@click.group(cls=Group, context_settings=CONTEXT)
def account() -> None:
    """Encrypted keystore accounts (in $TELCOCHAIN_KEYSTORE_DIR, default ~/.telcochain/keystores)."""


def _new_password(password_file: Path | None) -> str:
    if password_file is not None:
        password = read_password(password_file)
        if not password:
            raise click.BadParameter(
                f"{password_file} is empty: a keystore needs a password", param_hint="--password-file"
            )
        return password
    if not sys.stdin.isatty():
        raise click.UsageError("no password: pass --password-file (no terminal to prompt on)")
    return str(click.prompt("New keystore password", hide_input=True, confirmation_prompt=True))


def _check_account_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise click.BadParameter(
            f"{name!r}: an account name is 1 to 64 letters, digits, '.', '_' or '-'", param_hint="NAME"
        )


@account.command("new")
@click.argument("name")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_PASSWORD_FILE",
    help="Password from this file [env: TELCOCHAIN_PASSWORD_FILE; else a prompt].",
)
@json_option
def account_new(name: str, password_file: Path | None, as_json: bool) -> None:
    """Create a new random account NAME, encrypted with a password."""
    _check_account_name(name)
    entry = Keystore().create(name, _new_password(password_file))
    if as_json:
        output.emit_json(entry)
        return
    output.done(f"account {entry.name} created: {entry.address} ({entry.path})")


@account.command("import")
@click.argument("name")
@click.option(
    "--keystore-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Import an existing keystore JSON (geth, cast, ape) instead of a private key.",
)
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_PASSWORD_FILE",
    help="Password from this file [env: TELCOCHAIN_PASSWORD_FILE; else a prompt].",
)
@json_option
def account_import(name: str, keystore_file: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Import an account as NAME: a private key (hidden prompt or $TELCOCHAIN_PRIVATE_KEY) or a keystore file."""
    _check_account_name(name)
    store = Keystore()
    key: bytes | str
    if keystore_file is not None:
        password = read_password(password_file, "Password of the keystore file")
        key = store.load(str(keystore_file.resolve()), password).key
    else:
        env_key = os.environ.get("TELCOCHAIN_PRIVATE_KEY")
        if env_key:
            key = env_key
        elif sys.stdin.isatty():
            key = click.prompt("Private key (hex)", hide_input=True)
        else:
            raise click.UsageError("no private key: set TELCOCHAIN_PRIVATE_KEY or use a terminal")
        password = _new_password(password_file)
    entry = store.save(name, key, password)
    if as_json:
        output.emit_json(entry)
        return
    output.done(f"account {entry.name} imported: {entry.address}")


@account.command("list")
@json_option
def account_list(as_json: bool) -> None:
    """List the keystore accounts."""
    store = Keystore()
    entries = store.list()
    if as_json:
        output.emit_json(entries)
        return
    if not entries:
        output.err_console.print(f"no accounts in {store.directory} (create one with `telcochain account new NAME`)")
        return
    output.table(None, ["name", "address"], [[e.name, e.address] for e in entries])
