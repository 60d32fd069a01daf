"""``telcochain index``, ``report``, ``alerts`` and the list commands that read the index:
``asset list``, ``order list``, ``macd pending``, ``stock outstanding``, ``invoice list
--from-index|--overdue``, ``member activity``, ``denials``.

Assembled by :mod:`telcochain.cli.root`, by name: it adds this module's groups and commands to the
main group, the list commands to the groups other command modules define (``asset``, ``order``,
``macd``, ``stock``, ``member``), and has :func:`extend_invoice_list` give ``invoice list`` its index
filters — no command module needs another at import time, and nothing registers itself on import.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from telcochain import output
from telcochain.cli.options import (
    CONTEXT,
    CliSession,
    Group,
    json_option,
    reader_options,
    show_time,
)
from telcochain.constitution import DenyReason
from telcochain.index.periods import PERIODS

if TYPE_CHECKING:  # loaded by the commands that use them: the others start without SQLAlchemy
    from telcochain.index import IndexStore, StepResult
    from telcochain.index.alerts import Alert
    from telcochain.index.queries import Page, Queries

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    return click.option(
        "--db",
        "db_url",
        envvar="TELCOCHAIN_INDEX_DB",
        help="Index database URL: sqlite:///FILE or postgresql://USER@HOST/DB "
        "[env: TELCOCHAIN_INDEX_DB; default: .telcochain/index.sqlite].",
    )(f)


def _cursor(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--after``: a ``next`` as a list printed it (a twin or order id in 0x-hex, or
    ``block:log:seq``); anything else would silently match nothing."""
    if value is None:
        return None
    if re.fullmatch(r"0x[0-9a-f]{64}", value) or re.fullmatch(r"\d+:\d+:\d+", value):
        return value
    raise click.BadParameter(f"{value!r} is not a cursor: pass the `next` a previous page printed", param=param)


def list_options(f: F) -> F:
    """``--db``, ``--json``, ``--csv``, ``--limit``, ``--after``."""
    f = click.option("--after", callback=_cursor, help="Cursor: the `next` of the previous page.")(f)
    f = click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Rows per page.")(f)
    f = click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")(f)
    f = json_option(f)
    return db_option(f)


def _store(db_url: str | None) -> IndexStore:
    from telcochain.index import IndexStore
    from telcochain.index.db import default_url

    return IndexStore(db_url or default_url())


def _queries(db_url: str | None) -> Queries:
    from telcochain.index.queries import Queries

    return Queries(_store(db_url))


def _emit(
    page: Page[Any] | Sequence[Any],
    as_json: bool,
    as_csv: bool,
    title: str,
    columns: list[str],
    rows: Callable[[Any], list[Any]],
) -> bool:
    """JSON / CSV / a table of ``page``; True when machine output was printed."""
    from telcochain.index.queries import Page

    items = list(page)
    following = page.next if isinstance(page, Page) else None
    if as_json:
        output.emit_json({"items": [dataclasses.asdict(i) for i in items], "next": following})
        return True
    if as_csv:
        dicts = [dataclasses.asdict(i) for i in items]
        writer = csv.writer(sys.stdout)
        if dicts:
            writer.writerow(list(dicts[0]))
            writer.writerows([list(d.values()) for d in dicts])
        return True
    output.table(f"{title} ({len(items)}{'+' if following else ''})", columns, [rows(i) for i in items])
    if following:
        click.echo(f"more: --after {following}", err=True)
    return False


def _name(names: dict[str, str], address: str | None) -> str:
    if not address:
        return "-"
    return names.get(address, address)


# -- index ------------------------------------------------------------------------------------


def _progress(result: StepResult) -> None:
    if result.rolled_back_to is not None:
        click.echo(f"reorganisation: rolled back to block {result.rolled_back_to}", err=True)
    if result.to_block >= result.from_block:
        click.echo(
            f"indexed blocks {result.from_block}-{result.to_block}: {result.events:,} events (lag {result.lag} blocks)",
            err=True,
        )


@click.group("index", cls=Group, context_settings=CONTEXT, invoke_without_command=True)
@db_option
@click.option("--once", is_flag=True, help="Catch up with the chain, then stop (default: follow it).")
@click.option(
    "--confirmations",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Stay this many blocks behind the head.",
)
@click.option(
    "--poll", type=click.FloatRange(0.05), default=1.0, show_default=True, help="Seconds between polls when caught up."
)
@click.option(
    "--reset", is_flag=True, help="Forget everything indexed first (rebuild from the deployment's first block)."
)
@click.option(
    "--max-blocks",
    type=click.IntRange(1),
    default=20_000,
    show_default=True,
    help="Most blocks per database transaction.",
)
@reader_options
@json_option
@click.pass_context
def index(
    ctx: click.Context,
    db_url: str | None,
    once: bool,
    confirmations: int,
    poll: float,
    reset: bool,
    max_blocks: int,
    session: CliSession,
    as_json: bool,
) -> None:
    """Follow the chain into the index database (every event, decoded, and current-state tables).

    \b
    telcochain index --once                    catch up and stop
    telcochain index                           follow (Ctrl-C stops; a restart resumes)
    telcochain index --db postgresql://postgres@localhost/telcochain --once
    telcochain index verify                    compare the index with the contracts' views
    """
    if ctx.invoked_subcommand is not None:
        return
    from telcochain.index import Follower

    store = _store(db_url)
    if reset:
        store.reset()
    follower = Follower.for_client(store, session.reader(), confirmations=confirmations, max_span=max_blocks)
    if once:
        events = follower.catch_up(None if as_json else _progress)
        block, _ = follower.checkpoint()
        if as_json:
            output.emit_json({"events": events, "block": block, "db": store.url})
        else:
            output.done(f"index at block {block} ({events:,} new events) in {store.url}")
        return
    click.echo(f"following the chain into {store.url} (Ctrl-C stops)", err=True)
    while True:  # catch up (reading the next span while writing this one), then wait for blocks
        follower.catch_up(_progress)
        time.sleep(poll)


@index.command("verify")
@db_option
@reader_options
@json_option
def index_verify(db_url: str | None, session: CliSession, as_json: bool) -> None:
    """Compare every indexed row with the contracts' views, and each twin's history with its
    on-chain head; prints the mismatches (exit 1 if any)."""
    from telcochain.index import Follower
    from telcochain.index.verify import verify

    follower = Follower.for_client(_store(db_url), session.reader())
    report = verify(follower)
    if as_json:
        output.emit_json(
            {
                "block": report.block,
                "checked": report.checked,
                "mismatches": [dataclasses.asdict(m) for m in report.mismatches],
            }
        )
    else:
        for mismatch in report.mismatches:
            click.echo(str(mismatch))
        checked = ", ".join(f"{n:,} {t}" for t, n in report.checked.items())
        summary = f"at block {report.block}: checked {checked or 'nothing'}; {len(report.mismatches)} mismatch(es)"
        if report.ok:
            output.done(summary)
        else:
            click.echo(summary, err=True)
    if not report.ok:
        raise click.exceptions.Exit(1)


@index.command("rebuild")
@db_option
@reader_options
def index_rebuild(db_url: str | None, session: CliSession) -> None:
    """Rebuild every current-state table from the raw events already indexed (one transaction)."""
    from telcochain.index import Follower

    follower = Follower.for_client(_store(db_url), session.reader())
    block, _ = follower.checkpoint()
    with follower.store.engine.begin() as connection:
        count = follower.replay(connection, refresh_block=max(block, 0))
    output.done(f"projections rebuilt from {count:,} events (index at block {block})")


# -- lists ------------------------------------------------------------------------------------


@click.command("list", context_settings=CONTEXT)
@click.option("--state", help="Lifecycle state (Active, PendingChange, ...).")
@click.option("--customer", help="The twin's customer (name or address).")
@click.option("--vendor", help="The twin's vendor (name or address).")
@click.option("--order", "order_id", help="Linked to this order.")
@click.option("--project", help="Linked to this project (root id).")
@list_options
def asset_list(
    state: str | None, customer: str | None, vendor: str | None, order_id: str | None, project: str | None,
    db_url: str | None, as_json: bool, as_csv: bool, limit: int, after: str | None,
) -> None:  # fmt: skip
    """Twins from the index (run `telcochain index` first), filtered, in id order."""
    q = _queries(db_url)
    page = q.assets(
        state=state, customer=customer, vendor=vendor, order=order_id, project=project, after=after, limit=limit
    )
    names = q.member_names()
    _emit(
        page, as_json, as_csv, "twins",
        ["twin", "kind", "state", "v", "customer", "vendor", "order", "serial"],
        lambda a: [a.name, a.kind, a.state, a.version, _name(names, a.customer), _name(names, a.vendor), a.order or "-",
                   "bound" if a.serial_bound else "-"],
    )  # fmt: skip


@click.command("list", context_settings=CONTEXT)
@click.option("--state", help="TMF state (acknowledged, inProgress, completed, ...).")
@click.option("--customer", help="The project's customer (name or address).")
@list_options
def order_list(
    state: str | None,
    customer: str | None,
    db_url: str | None,
    as_json: bool,
    as_csv: bool,
    limit: int,
    after: str | None,
) -> None:
    """Orders from the index, filtered, in id order."""
    q = _queries(db_url)
    page = q.orders(state=state, customer=customer, after=after, limit=limit)
    names = q.member_names()
    _emit(
        page, as_json, as_csv, "orders",
        ["order", "project", "customer", "state", "revision", "created", "closed"],
        lambda o: [o.name, o.project, _name(names, o.customer), o.state, o.revision, show_time(o.created_at),
                   show_time(o.closed_at or 0)],
    )  # fmt: skip


@click.command("pending", context_settings=CONTEXT)
@click.option("--customer", help="Only this customer's twins (name or address).")
@list_options
def macd_pending(
    customer: str | None, db_url: str | None, as_json: bool, as_csv: bool, limit: int, after: str | None
) -> None:
    """MACD changes ordered and not yet confirmed (from the index), oldest first."""
    q = _queries(db_url)
    page = q.macd_pending(customer=customer, after=after, limit=limit)
    names = q.member_names()
    _emit(
        page, as_json, as_csv, "pending MACD changes",
        ["twin", "kind", "customer", "charge", "requested by", "since", "ref"],
        lambda r: [r.asset, r.kind, _name(names, r.customer), r.charge, _name(names, r.requester),
                   show_time(r.requested_at), r.ref],
    )  # fmt: skip


@click.command("outstanding", context_settings=CONTEXT)
@click.option("--vendor", help="Only this vendor (name or address).")
@db_option
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
def stock_outstanding(vendor: str | None, db_url: str | None, as_json: bool, as_csv: bool) -> None:
    """Delivered units neither used nor returned, per line, oldest delivery first (from the index)."""
    q = _queries(db_url)
    rows = q.stock_outstanding(vendor=vendor)
    names = q.member_names()
    _emit(
        rows, as_json, as_csv, "stock still out",
        ["vendor", "sku", "line", "order", "delivered", "consumed", "returned", "still out", "age (days)"],
        lambda r: [_name(names, r.vendor), r.sku, r.line, r.order, r.delivered, r.consumed, r.returned, r.still_out,
                   f"{r.age_s / 86400:.1f}"],
    )  # fmt: skip


@click.command("activity", context_settings=CONTEXT)
@click.argument("who", required=False)
@click.option("--since", type=int, help="Only calls from this chain time (UNIX seconds) on.")
@db_option
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
def member_activity(who: str | None, since: int | None, db_url: str | None, as_json: bool, as_csv: bool) -> None:
    """Action calls per account (executed, denied, reverted), from the index; WHO: one member."""
    q = _queries(db_url)
    rows = q.member_activity(member=who, since=since)
    _emit(
        rows, as_json, as_csv, "activity",
        ["account", "name", "executed", "denied", "reverted", "last", "top actions"],
        lambda a: [a.member, a.name or "(not a member)", a.executed, a.denied, a.reverted, show_time(a.last_at or 0),
                   ", ".join(f"{n} {c}" for n, c in a.top_actions)],
    )  # fmt: skip


@click.command("denials", context_settings=CONTEXT)
@click.option("--account", help="Only this account (member name or address).")
@click.option(
    "--reason",
    type=click.Choice([r.name.lower() for r in DenyReason if r is not DenyReason.NONE], case_sensitive=False),
    help="Only this reason.",
)
@db_option
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Rows per page.")
@click.option("--after", type=int, help="Cursor: the `next` of the previous page.")
def denials(
    account: str | None,
    reason: str | None,
    db_url: str | None,
    as_json: bool,
    as_csv: bool,
    limit: int,
    after: int | None,
) -> None:
    """Refused action calls (the Constitution's ActionDenied events), newest first, from the index."""
    q = _queries(db_url)
    page = q.denials(account=account, reason=reason, after=after, limit=limit)
    _emit(
        page, as_json, as_csv, "denied calls",
        ["block", "time", "account", "action", "reason", "ref"],
        lambda d: [d.block_number, show_time(d.at), d.caller_name or d.caller, d.action_name or d.action[:10],
                   d.reason, d.ref],
    )  # fmt: skip


# -- invoice list: the same command, from the index on request -------------------------------------


def extend_invoice_list(invoice_list: click.Command) -> None:
    """Give the chain-reading ``invoice list`` the index's filters: ``--from-index``,
    ``--overdue`` (implies the index), ``--csv``, ``--db``, ``--limit``, ``--after``. Without
    them the command reads the chain as before."""
    if getattr(invoice_list, "extended_by_index", False):
        return
    chain_callback = invoice_list.callback
    assert chain_callback is not None
    invoice_list.params.extend(
        [
            click.Option(["--from-index"], is_flag=True, help="Read the index database instead of the chain."),
            click.Option(
                ["--overdue"], is_flag=True, help="Only issued invoices past their due date (from the index)."
            ),
            click.Option(["--csv", "as_csv"], is_flag=True, help="CSV on stdout (from the index)."),
            click.Option(
                ["--db", "db_url"], envvar="TELCOCHAIN_INDEX_DB", help="Index database URL (with --from-index)."
            ),
            click.Option(
                ["--limit"], type=click.IntRange(1, 10_000), default=50, show_default=True, help="With --from-index."
            ),
            click.Option(["--after"], type=int, help="With --from-index: the `next` of the previous page."),
        ]
    )

    @functools.wraps(chain_callback)
    def callback(**kwargs: Any) -> Any:
        from_index, overdue, as_csv = kwargs.pop("from_index"), kwargs.pop("overdue"), kwargs.pop("as_csv")
        db_url, limit, after = kwargs.pop("db_url"), kwargs.pop("limit"), kwargs.pop("after")
        if not (from_index or overdue or as_csv):
            return chain_callback(**kwargs)
        if kwargs["payer"] and kwargs["payee"]:
            raise click.UsageError("filter by --payer or by --payee, not both")
        q = _queries(db_url)
        page = q.invoices(
            payer=kwargs["payer"],
            payee=kwargs["payee"],
            status=kwargs["status"],
            overdue=overdue,
            after=after,
            limit=limit,
        )
        names = q.member_names()
        _emit(
            page, kwargs["as_json"], as_csv, "invoices (index)",
            ["#", "payer", "payee", "amount", "status", "due", "overdue", "for", "ref"],
            lambda i: [i.invoice_id, _name(names, i.payer), _name(names, i.payee), i.amount, i.status,
                       show_time(i.due_date), "yes" if i.overdue else "-", i.subject, i.ref],
        )  # fmt: skip
        return None

    invoice_list.callback = callback
    invoice_list.extended_by_index = True  # type: ignore[attr-defined]


# -- report and alerts ------------------------------------------------------------------------


@click.command("report", context_settings=CONTEXT)
@db_option
@click.option(
    "--period", type=click.Choice(PERIODS), default="month", show_default=True, help="Money and MACD volume per ..."
)
@click.option("--section", "sections", multiple=True, help="Only these sections (repeatable).")
@click.option(
    "--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path), help="Write one CSV per section here."
)
@click.option("--charts", "charts_dir", type=click.Path(file_okay=False, path_type=Path), help="Write PNG charts here.")
@click.option(
    "--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), help="Write one self-contained HTML page."
)
@json_option
def report(
    db_url: str | None, period: str, sections: tuple[str, ...], csv_dir: Path | None, charts_dir: Path | None,
    html_file: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """How the consortium is used, from the index: cycle times, stock aging, money per period,
    MACD volume, proposal turnaround, denial rates."""
    from telcochain.index.alerts import detect
    from telcochain.index.reports import build_report, to_html, write_charts, write_csv

    store = _store(db_url)
    built = build_report(store, period=period)
    if sections:
        unknown = set(sections) - set(built.sections)
        if unknown:
            raise click.BadParameter(f"unknown section(s) {', '.join(sorted(unknown))}: {', '.join(built.sections)}")
        built.sections = {k: v for k, v in built.sections.items() if k in sections}
    if csv_dir:
        for path in write_csv(built, csv_dir):
            output.done(f"wrote {path}")
    if charts_dir:
        for path in write_charts(built, charts_dir):
            output.done(f"wrote {path}")
    if html_file:
        html_file.parent.mkdir(parents=True, exist_ok=True)
        html_file.write_text(to_html(built, detect(store)))
        output.done(f"wrote {html_file}")
    if as_json:
        output.emit_json(built.to_json())
        return
    if csv_dir or charts_dir or html_file:
        return
    click.echo(f"index at block {built.block}, chain time {show_time(built.chain_time)}")
    for name, rows in built.sections.items():
        if not rows:
            click.echo(f"{name.replace('_', ' ')}: nothing yet")
            continue
        output.table(name.replace("_", " "), list(rows[0]), [[_cell(v) for v in r.values()] for r in rows])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _show_alert(a: Alert, as_json: bool) -> None:
    if as_json:
        click.echo(__import__("json").dumps({**dataclasses.asdict(a), "id": a.id}))
    else:
        click.echo(str(a))


def _check_alerts_config(path: Path | None) -> None:
    """--config: YAML mapping each rule to its thresholds (a mapping), or a clear refusal."""
    import yaml

    if path is None:
        return
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {' '.join(str(exc).split())}", param_hint="--config") from None
    if data is not None and (not isinstance(data, dict) or not all(isinstance(v, dict | None) for v in data.values())):
        raise click.BadParameter(
            f"{path} is not an alerts config: a mapping of rule names to their thresholds "
            "(e.g. `denial_burst: {count: 5}`)",
            param_hint="--config",
        )


@click.command("alerts", context_settings=CONTEXT)
@db_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rules and thresholds (YAML).",
)
@click.option("--follow", is_flag=True, help="Keep indexing the chain and print new alerts as they arise.")
@click.option(
    "--poll", type=click.FloatRange(0.05), default=1.0, show_default=True, help="Seconds between checks with --follow."
)
@reader_options
@json_option
def alerts(
    db_url: str | None, config_file: Path | None, follow: bool, poll: float, session: CliSession, as_json: bool
) -> None:
    """Misuse detected in the indexed stream (denial bursts, never-granted or out-of-window
    attempts, non-members probing, activity spikes, stock overuse, repeated reclaims).

    Without --follow: the alerts over what is indexed (JSON lines with --json). With --follow:
    indexes the chain as `telcochain index` does and prints each new alert once."""
    from telcochain.index import Follower
    from telcochain.index.alerts import ProbeScanner, detect, follow_alerts, load_config, recent_probes

    store = _store(db_url)
    _check_alerts_config(config_file)
    config = load_config(config_file)
    if not follow:
        found = detect(store, config, recent_probes(session.reader(), store, config))
        if as_json:
            output.emit_json([{**dataclasses.asdict(a), "id": a.id} for a in found])
            return
        for a in found:
            _show_alert(a, False)
        click.echo(f"{len(found)} alert(s)", err=True)
        return
    client = session.reader()
    follower = Follower.for_client(store, client)
    click.echo("watching for misuse (Ctrl-C stops)", err=True)
    scanner = ProbeScanner(client, store, config)
    for a in follow_alerts(store, follower.catch_up, config, poll_interval=poll, probes=scanner):
        _show_alert(a, as_json)
