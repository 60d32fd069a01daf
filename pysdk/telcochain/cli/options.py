"""What every ``telcochain`` command module shares: the command class, the options
(``--rpc-url``, ``--account``, ``--json``, ``--ref``), the :class:`CliSession` a command receives,
and the helpers that print an action's outcome.

The command modules of :mod:`telcochain.cli` import this module, never :mod:`telcochain.cli.root`,
which assembles them into the ``telcochain`` group (``main.add_command``): no command module
imports the module that imports it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account.signers.local import LocalAccount

from telcochain import output
from telcochain.client import DEFAULT_RPC_URL, Client
from telcochain.constitution import ActionResult, Member
from telcochain.errors import MemberNotFound, TelcochainError
from telcochain.keystore import Keystore, account_from_env
from telcochain.node import LocalNode, NodeConfig
from telcochain.render import render
from telcochain.types import show_bytes32, to_address

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Group(click.Group):
    """A click group that turns every error into one clear line (exit 1; usage errors exit 2),
    never a traceback: SDK errors through :func:`telcochain.render.render`, usage errors
    without click's three-line banner."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        if extra.pop("standalone_mode", True) is False:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            click.echo(f"Error: {usage_message(exc)}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.ClickException as exc:
            click.echo(f"Error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except (BrokenPipeError, EOFError):
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if ctx.parent is not None:  # the top-level group renders once
                raise
            raise click.ClickException(render(exc, ctx.meta.get(CLIENT_KEY))) from None


def usage_message(exc: click.exceptions.UsageError) -> str:
    """Click's message on one line; a negative number is not taken for an unknown option."""
    if isinstance(exc, click.exceptions.NoSuchOption) and re.fullmatch(r"-\d+(\.\d+)?", exc.option_name):
        return f"{exc.option_name}: a negative number is not accepted here (numbers and ids are positive)"
    return " ".join(exc.format_message().split())


#: Where ``CliSession`` leaves the client it connected, so that errors can name members and amounts.
CLIENT_KEY = "telcochain.client"


def _remember(client: Client) -> Client:
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[CLIENT_KEY] = client
    return client


class IdType(click.ParamType):
    """A proposal or invoice number: a whole number 1 .. 2**256-1 (a uint256 on chain)."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip().lstrip("#")
            if text.startswith("-") and text[1:].isdigit():
                self.fail(f"{value}: a negative number is not accepted here (ids run from 1)", param, ctx)
            if not text.isdigit():
                self.fail(f"{value!r} is not a number (ids are 1, 2, 3...)", param, ctx)
            number = int(text)
        if not 1 <= number < 2**256:
            self.fail(f"{value} is out of range (ids run from 1 to 2**256-1)", param, ctx)
        return number


ID = IdType()

# -- shared options -------------------------------------------------------------------------


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")(f)


def connection_options(f: F) -> F:
    f = click.option(
        "--deployment",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="TELCOCHAIN_DEPLOYMENT",
        help="Deployment manifest [default: the one in ./deployments for the node's chain].",
    )(f)
    f = click.option(
        "--rpc-url",
        "-r",
        envvar="TELCOCHAIN_RPC_URL",
        help="JSON-RPC endpoint of a node [env: TELCOCHAIN_RPC_URL; default: the URL the node started "
        f"with `telcochain node` from ./{DEFAULT_NODE_DIR} recorded, else {DEFAULT_RPC_URL}].",
    )(f)
    return f


def account_options(f: F) -> F:
    f = click.option(
        "--password-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        envvar="TELCOCHAIN_PASSWORD_FILE",
        help="Read the keystore password from this file instead of a prompt.",
    )(f)
    f = click.option(
        "--account",
        "-a",
        envvar="TELCOCHAIN_ACCOUNT",
        help="Keystore account name (telcochain account list) or keystore file "
        "[env: TELCOCHAIN_ACCOUNT; or a raw key in TELCOCHAIN_PRIVATE_KEY].",
    )(f)
    return f


@dataclass(frozen=True)
class CliSession:
    """Where a command connects (``--rpc-url``, ``--deployment``) and as whom (``--account``)."""

    rpc_url: str
    deployment: Path | None
    account: str | None = None
    password_file: Path | None = None

    def reader(self) -> Client:
        """A read-only client."""
        return _remember(Client.connect(self.rpc_url, deployment=self.deployment))

    def signer(self, needed_for: str = "this command sends a transaction") -> Client:
        """A client acting as the command's account (keystore, or TELCOCHAIN_PRIVATE_KEY)."""
        account = load_account(self.account, self.password_file, needed_for)
        client = _remember(Client.connect(self.rpc_url, account, deployment=self.deployment))
        client.constitution.refuse_denied_locally = True  # a denied call is refused, never mined
        return client

    def identity(self) -> str | None:
        """The account's address without unlocking it (a keystore file records its address in
        the clear): for reads that only need to know who asks. None without an account."""
        if self.account:
            candidate = Path(self.account)
            file = candidate if candidate.suffix == ".json" and candidate.exists() else Keystore().path(self.account)
            try:
                data = json.loads(file.read_text())
                return to_address("0x" + str(data["address"]).removeprefix("0x"), "keystore address")
            except (OSError, ValueError, KeyError, TypeError, TelcochainError):
                return load_account(self.account, self.password_file).address  # no clear address: unlock it
        from_env = account_from_env()
        return from_env.address if from_env is not None else None

    def member_or_reader(self) -> Client:
        """The command's account if one is given (--account or TELCOCHAIN_PRIVATE_KEY), else read-only."""
        return self.signer() if self.account or os.environ.get("TELCOCHAIN_PRIVATE_KEY") else self.reader()


#: Where `telcochain node` keeps its chain by default (relative to the working directory).
DEFAULT_NODE_DIR = Path(".telcochain/node")
#: The file in a node's data directory recording the URL it serves on.
URL_FILE = "rpc_url"


def recorded_rpc_url(data_dir: Path = DEFAULT_NODE_DIR) -> str | None:
    """The URL a running node of ``data_dir`` recorded at start (None: no node running there)."""
    try:
        url = (data_dir / URL_FILE).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not url.startswith(("http://", "https://")) or LocalNode(NodeConfig(data_dir=data_dir)).pid() is None:
        return None
    return url


def _with_session(f: F, *, signer: bool) -> F:
    @functools.wraps(f)
    def command(*args: Any, rpc_url: str | None, deployment: Path | None, **kwargs: Any) -> Any:
        account, password_file = kwargs.pop("account", None), kwargs.pop("password_file", None)
        url = rpc_url or recorded_rpc_url() or DEFAULT_RPC_URL
        return f(*args, session=CliSession(url, deployment, account, password_file), **kwargs)

    wrapped = connection_options(command)
    return account_options(wrapped) if signer else wrapped  # type: ignore[return-value]


def reader_options(f: F) -> F:
    """``--rpc-url``, ``--deployment``; the command receives ``session``."""
    return _with_session(f, signer=False)


def signer_options(f: F) -> F:
    """``--rpc-url``, ``--deployment``, ``--account``, ``--password-file``; the command receives ``session``."""
    return _with_session(f, signer=True)


def parse_key(text: str, param: str) -> bytes:
    if not (text.startswith("0x") and len(text) == 66):
        raise click.BadParameter("a trust key is 32 bytes as 0x-prefixed hex (66 characters)", param_hint=param)
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise click.BadParameter("not valid hex", param_hint=param) from None


def read_password(password_file: Path | None, prompt: str = "Keystore password") -> str:
    if password_file is not None:
        try:
            return password_file.read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(
                f"cannot read {password_file}: {render(exc)}", param_hint="--password-file"
            ) from None
    if not sys.stdin.isatty():
        raise click.UsageError("no password: pass --password-file (no terminal to prompt on)")
    return str(click.prompt(prompt, hide_input=True))


def load_account(
    account: str | None, password_file: Path | None, needed_for: str = "this command sends a transaction"
) -> LocalAccount:
    if account:
        return Keystore().load(account, read_password(password_file))
    from_env = account_from_env()
    if from_env is not None:
        return from_env
    raise click.UsageError(f"{needed_for}: pass --account NAME (see `telcochain account list`)")


def resolve_member(client: Client, who: str, members: Sequence[Member] | None = None) -> str:
    """A member's address from its address or its name (case-insensitive); pass ``members``
    when resolving many names."""
    if not who.strip():
        raise click.BadParameter("an empty member name: give a member's name or address")
    if who.startswith("0x"):
        return to_address(who, "member")
    everyone = client.constitution.members() if members is None else members
    matches = [m for m in everyone if m.name.lower() == who.lower()]
    if not matches:
        raise MemberNotFound(who)
    return matches[0].address


def parse_when(value: str | None, option: str) -> int:
    """--from / --until: a date, a date-time or a unix timestamp (UTC)."""
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD[THH:MM]) or a timestamp", param_hint=option
        ) from None
    return int(moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp())


def show_time(timestamp: int) -> str:
    if not timestamp:
        return "-"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def action_json(result: ActionResult) -> dict[str, Any]:
    """An action's outcome for ``--json``."""
    return {
        "action": result.action,
        "status": result.status,
        "proposal_id": result.proposal_id or None,
        "ref": show_bytes32(result.ref),
        "tx_hash": result.receipt.tx_hash,
        "block": result.receipt.block_number,
    }


def report_action(result: ActionResult, as_json: bool, what: str) -> None:
    """One confirmation line (or JSON) for an action's outcome."""
    if as_json:
        output.emit_json(action_json(result))
    elif result.status == "pending_vote":
        output.done(f"{what}: proposal #{result.proposal_id} opened, waiting for votes (tx {result.receipt.tx_hash})")
    else:
        output.done(f"{what} (tx {result.receipt.tx_hash}, block {result.receipt.block_number})")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


ref_option = click.option("--ref", help="Correlation id echoed in the events (≤ 32 bytes) [default: random].")
