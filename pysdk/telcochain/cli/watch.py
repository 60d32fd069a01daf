"""``telcochain watch``: the member's notifications (or every event, ``--all``), followed live."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from telcochain import output
from telcochain.cli.options import (
    CliSession,
    json_option,
    signer_options,
)
from telcochain.notifications import Notification, NotificationStream
from telcochain.render import Names, render_event


def _notification_line(n: Notification, names: Names, actions: dict[bytes, str]) -> str:
    """One notification in words (``watch``; ``watch --json`` keeps the raw values)."""
    return f"#{n.block_number}.{n.log_index} {render_event(n.contract, n.name, n.args, names, actions)}"


@click.command()
@click.option(
    "--checkpoint", type=click.Path(dir_okay=False, path_type=Path), help="Progress file: a restart resumes here."
)
@click.option("--from-block", type=click.IntRange(0), help="Replay from this block (ignores a checkpoint's position).")
@click.option(
    "--confirmations", type=click.IntRange(0), default=0, show_default=True, help="Blocks to wait before delivering."
)
@click.option("--all", "everything", is_flag=True, help="Every event of the consortium, not only yours.")
@click.option("--once", is_flag=True, help="Print what is there and exit instead of following.")
@click.option("--interval", type=click.FloatRange(0.05), default=1.0, show_default=True, help="Seconds between polls.")
@click.option(
    "--ws-url",
    envvar="TELCOCHAIN_WS_URL",
    help="Websocket endpoint: new blocks wake the watch at once, polling stays the fallback "
    "[env: TELCOCHAIN_WS_URL; anvil: ws://127.0.0.1:8545, Besu: port 8546].",
)
@signer_options
@json_option
def watch(
    checkpoint: Path | None,
    from_block: int | None,
    confirmations: int,
    everything: bool,
    once: bool,
    interval: float,
    ws_url: str | None,
    session: CliSession,
    as_json: bool,
) -> None:
    """Print notifications live, one line each (the seed's getNotification).

    Without --account (or TELCOCHAIN_PRIVATE_KEY) every event is shown. Ctrl-C stops;
    with --checkpoint, the next run continues where this one stopped.
    """
    client = session.member_or_reader()
    stream = NotificationStream(client, checkpoint, confirmations=confirmations, from_block=from_block)
    if from_block is not None:
        stream.start_at(from_block)
    if everything:
        stream.select = lambda event: True
    names = Names(client, with_address=False)
    actions = {p.id: p.name for p in client.constitution.actions()}
    for notification in stream.follow(poll_interval=interval, until_caught_up=once, ws_url=ws_url):
        if as_json:
            click.echo(json.dumps(output.to_jsonable(dataclasses.asdict(notification))))
        else:
            click.echo(_notification_line(notification, names, actions))
        sys.stdout.flush()
