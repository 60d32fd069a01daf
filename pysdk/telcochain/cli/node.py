"""``telcochain node``: the embedded local chain (anvil), started, stopped and inspected."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from telcochain import output
from telcochain.cli.options import (
    CONTEXT,
    URL_FILE,
    F,
    Group,
    json_option,
    recorded_rpc_url,
)
from telcochain.errors import TelcochainError
from telcochain.node import LocalNode, NodeConfig
from telcochain.rpc import Rpc


def node_options(f: F) -> F:
    options = [
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path(".telcochain/node"),
            show_default=True,
            help="Where the chain state, pid and log live.",
        ),
        click.option(
            "--port",
            "-p",
            type=click.IntRange(1, 65535),
            default=8545,
            show_default=True,
            envvar="TELCOCHAIN_NODE_PORT",
            help="TCP port of the node [env: TELCOCHAIN_NODE_PORT].",
        ),
        click.option("--host", default="127.0.0.1", show_default=True, help="Address the node listens on."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group(cls=Group, context_settings=CONTEXT, invoke_without_command=True)
@node_options
@click.option("--chain-id", type=click.IntRange(1), default=31337, show_default=True, help="Chain id of a new chain.")
@click.option(
    "--hardfork",
    default="berlin",
    show_default=True,
    help="EVM rules (berlin: what GoQuorum runs).",
)
@click.option(
    "--gas-price",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="0: a free-gas consortium chain.",
)
@click.option(
    "--block-time",
    type=click.FloatRange(0, min_open=True),
    help="Seconds between blocks (like a QBFT block period) [default: a block per transaction].",
)
@click.option("--gas-limit", type=click.IntRange(1), help="Block gas limit [default: anvil's 30,000,000].")
@click.option("--fresh", is_flag=True, help="Discard the saved chain state first.")
@click.option("--detach", "-d", is_flag=True, help="Run in the background (stop with `telcochain node stop`).")
@click.pass_context
def node(
    ctx: click.Context,
    data_dir: Path,
    port: int,
    host: str,
    chain_id: int,
    hardfork: str,
    gas_price: int,
    block_time: float | None,
    gas_limit: int | None,
    fresh: bool,
    detach: bool,
) -> None:
    """Run the embedded local chain (anvil), keeping its state in --data-dir.

    Durable: every block is in an fsynced write-ahead log before any client can see it, dumps
    are written atomically (the previous one kept), and a start replays the log after the newest
    good dump — a crash loses no block a client has seen. `telcochain node` runs in the
    foreground until Ctrl-C (or SIGTERM/SIGHUP); --detach starts it in the background.
    """
    if ctx.invoked_subcommand is not None:
        return
    config = NodeConfig(
        data_dir=data_dir,
        host=host,
        port=port,
        chain_id=chain_id,
        hardfork=hardfork,
        gas_price=gas_price,
        block_time=block_time,
        gas_limit=gas_limit,
    )
    local = LocalNode(config)
    if fresh:
        if local.pid() is not None:
            raise click.UsageError("--fresh: stop the running node first (telcochain node stop)")
        config.discard_saved_chain()
    restored = config.has_saved_chain()
    if not detach:
        local.forward_signals()
    local.start(detach=detach)
    with contextlib.suppress(OSError):  # commands find the node here when no --rpc-url is given
        (config.data_dir / URL_FILE).write_text(config.rpc_url + "\n")
    state = "state restored from" if restored else "new chain, state saved to"
    replay = local.status().get("replay") or {}
    replayed = ""
    if isinstance(replay, dict) and replay.get("blocks"):
        replayed = f" (+{replay['blocks']} block(s) replayed from the write-ahead log"
        mismatches = replay.get("hash_mismatches") or []
        replayed += f", {len(mismatches)} with a new hash)" if mismatches else ")"
    output.err_console.print(
        f"anvil ({hardfork}, chain {chain_id}, gas price {gas_price}) — {state} {config.data_dir}{replayed}"
    )
    click.echo(config.rpc_url)
    if detach:
        output.err_console.print(
            f"running in the background (pid {local.pid()}); stop with `telcochain node stop --data-dir {data_dir}`"
        )
        return
    output.err_console.print("Ctrl-C to stop (the state is saved)")
    code = local.wait()
    status = local.status()
    if status.get("state") == "failed":
        raise click.ClickException(f"the node stopped: {status.get('error')}")
    if status.get("state_kept"):
        output.done(f"node stopped at block {status.get('block')}; state kept in {data_dir}")
    elif code:
        raise click.ClickException(f"the node exited with code {code} (see {config.log_file})")


def _recorded_address(ctx: click.Context, data_dir: Path, host: str, port: int) -> tuple[str, int]:
    """--host/--port as given, else as the node of ``data_dir`` recorded them at start."""
    from urllib.parse import urlsplit

    given = {
        name: ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)
        for name in ("host", "port")
    }
    url = recorded_rpc_url(data_dir)
    if url is None:
        return host, port
    parts = urlsplit(url)
    return (host if given["host"] else parts.hostname or host), (port if given["port"] else parts.port or port)


@node.command("stop")
@node_options
@click.pass_context
def node_stop(ctx: click.Context, data_dir: Path, port: int, host: str) -> None:
    """Stop a node started with --detach (it mines what it accepted, stops mining, writes its
    final dump and reads it back before saying the state is kept)."""
    host, port = _recorded_address(ctx, data_dir, host, port)
    report = LocalNode(NodeConfig(data_dir=data_dir, port=port, host=host)).stop()
    (data_dir / URL_FILE).unlink(missing_ok=True)
    if report is None:
        raise click.ClickException(f"no node is running from {data_dir}")
    if not report.state_kept:
        raise click.ClickException(f"node stopped, but {report.message}")
    at = f" at block {report.block}" if report.block is not None else ""
    output.done(f"node stopped{at}; state kept in {data_dir} ({report.message})")


@node.command("status")
@node_options
@json_option
@click.pass_context
def node_status(ctx: click.Context, data_dir: Path, port: int, host: str, as_json: bool) -> None:
    """Is a node running from --data-dir, does it answer, and its newest logged (durable) block?
    Without --port/--host, the address the node recorded when it started."""
    host, port = _recorded_address(ctx, data_dir, host, port)
    local = LocalNode(NodeConfig(data_dir=data_dir, port=port, host=host))
    status = {
        "pid": local.pid(),
        "rpc_url": local.config.rpc_url,
        "serving": local.is_serving(),
        "data_dir": str(local.config.data_dir),
        "durable_block": None,
    }
    if status["serving"]:
        with contextlib.suppress(TelcochainError):  # an ephemeral node (anvil alone) has no log
            status["durable_block"] = int(Rpc(local.config.rpc_url, timeout=2.0).call("telcochain_durableBlock"), 16)
    if as_json:
        output.emit_json(status)
        return
    if status["pid"] is None:
        raise click.ClickException(f"no node is running from {data_dir}")
    output.pairs(
        None,
        [
            ("pid", status["pid"]),
            ("rpc url", status["rpc_url"]),
            ("answers", "yes" if status["serving"] else "no"),
            ("durable block", status["durable_block"] if status["durable_block"] is not None else "-"),
            ("data dir", status["data_dir"]),
        ],
    )
