"""``telcochain serve``: the TM Forum Open API gateway (docs/tmf.md), and its tokens.

    telcochain serve --config gateway.yaml                 # HTTP on the config's host:port
    telcochain serve --config gateway.yaml --ssl-certfile cert.pem --ssl-keyfile key.pem
    telcochain serve token add oss-prod --config gateway.yaml   # prints a new token once
    telcochain serve token list / revoke NAME

Added to the main group by :mod:`telcochain.cli.root`.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

import click

from telcochain import output
from telcochain.cli.options import CONTEXT, Group, json_option

_config = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TELCOCHAIN_GATEWAY_CONFIG",
    help="Gateway YAML config (env TELCOCHAIN_GATEWAY_CONFIG); see docs/tmf.md.",
)


def _settings(config: Path | None, **overrides: Any) -> Any:
    from telcochain.gateway.settings import GatewaySettings

    if config is not None and not config.exists():
        raise click.BadParameter(f"{config} does not exist", param_hint="--config")
    return GatewaySettings.load(config, **overrides)


def _node_url(config: Path | None) -> str | None:
    """The URL of a `telcochain node` running from this folder, as the other commands find it —
    unless $TELCOCHAIN_RPC_URL or the config's rpc_url names the node."""
    import os

    import yaml

    from telcochain.cli.options import recorded_rpc_url

    if os.environ.get("TELCOCHAIN_RPC_URL"):
        return None
    if config is not None:
        try:
            raw = yaml.safe_load(config.read_text())
        except (OSError, yaml.YAMLError):
            return None  # GatewaySettings.load reports it in one line
        if isinstance(raw, dict) and raw.get("rpc_url"):
            return None
    return recorded_rpc_url()


def _listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before anything starts (as uvicorn binds it): a busy
    port or a host this machine does not have is one line, not a started-then-stopped server."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


@click.group(cls=Group, context_settings=CONTEXT, invoke_without_command=True)
@_config
@click.option("--host", default=None, help="Interface to listen on (config: host; default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (config: port; default 8080).")
@click.option(
    "--rpc-url",
    default=None,
    help="Node JSON-RPC URL (config: rpc_url; env TELCOCHAIN_RPC_URL; else the `telcochain node` "
    "running from ./.telcochain/node, else http://127.0.0.1:8545).",
)
@click.option("--db", "index_db", default=None, help="Index database URL (config: index_db).")
@click.option(
    "--ssl-certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Serve HTTPS with this certificate (PEM); else terminate TLS at a reverse proxy.",
)
@click.option(
    "--ssl-keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The certificate's private key (PEM).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    help="uvicorn's log level (debug also logs every request).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    config: Path | None,
    host: str | None,
    port: int | None,
    rpc_url: str | None,
    index_db: str | None,
    ssl_certfile: Path | None,
    ssl_keyfile: Path | None,
    log_level: str,
) -> None:
    """Serve this member's TM Forum Open APIs (TMF641 orders, TMF639 resources, TMF638 services,
    TMF678 bills) over HTTP; reads from the index (followed in the background), writes signed
    with the member's keystore account. Runs until interrupted."""
    if ctx.invoked_subcommand is not None:
        ctx.meta["telcochain.gateway.config"] = config
        return
    import uvicorn

    from telcochain.gateway.app import create_app

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    tls = {"certfile": ssl_certfile, "keyfile": ssl_keyfile} if ssl_certfile else None
    settings = _settings(config, host=host, port=port, rpc_url=rpc_url or _node_url(config), index_db=index_db, tls=tls)
    sock = _listen(settings.host, settings.port)
    app = create_app(settings)
    scheme = "https" if settings.tls else "http"
    click.echo(
        f"telcochain gateway for {app.state.gateway.client.address or 'no account (read-only)'} on "
        f"{scheme}://{settings.host}:{sock.getsockname()[1]} (OpenAPI at /openapi.json, docs at /docs)",
        err=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            ssl_certfile=str(settings.tls.certfile) if settings.tls else None,
            ssl_keyfile=str(settings.tls.keyfile) if settings.tls else None,
            ssl_keyfile_password=settings.tls.keyfile_password if settings.tls else None,
            access_log=log_level == "debug",
        )
    )
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if not server.started:
        raise click.ClickException("the gateway did not start (see the log above)")


@serve.group(cls=Group, context_settings=CONTEXT)
def token() -> None:
    """Bearer tokens of the gateway's clients (stored as SHA-256 hashes in the tokens file)."""


def _tokens(config: Path | None, tokens_file: Path | None) -> Any:
    from telcochain.gateway.auth import TokenStore

    config = config or click.get_current_context().meta.get("telcochain.gateway.config")
    path = tokens_file or _settings(config).tokens_file
    return TokenStore(path)


_tokens_file = click.option(
    "--tokens-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The tokens file (default: the config's tokens_file).",
)  # fmt: skip


@token.command("add")
@click.argument("name")
@_config
@_tokens_file
@click.option("--replace", is_flag=True, help="Replace NAME's token if it has one (the old one stops working).")
@json_option
def token_add(name: str, config: Path | None, tokens_file: Path | None, replace: bool, as_json: bool) -> None:
    """A new token for client NAME: printed once, only its hash is stored."""
    store = _tokens(config, tokens_file)
    value = store.add(name, replace=replace)
    if as_json:
        output.emit_json({"name": name, "bearer_token": value, "tokens_file": str(store.path)})
    else:
        click.echo(value)
        click.echo(f"token for {name!r} added to {store.path}: copy it now, it is not shown again", err=True)


@token.command("list")
@_config
@_tokens_file
@json_option
def token_list(config: Path | None, tokens_file: Path | None, as_json: bool) -> None:
    """The clients that hold a token (names and dates; the tokens themselves are not kept)."""
    entries = _tokens(config, tokens_file).entries()
    if as_json:
        output.emit_json([{"name": e["name"], "created": e.get("created")} for e in entries])
    else:
        output.table("gateway tokens", ["client", "created"], [[e["name"], e.get("created", "-")] for e in entries])


@token.command("revoke")
@click.argument("name")
@_config
@_tokens_file
def token_revoke(name: str, config: Path | None, tokens_file: Path | None) -> None:
    """Remove client NAME's token (a running gateway notices at once)."""
    store = _tokens(config, tokens_file)
    if not store.revoke(name):
        raise click.ClickException(f"no token named {name!r} in {store.path}")
    output.done(f"token {name!r} revoked")
