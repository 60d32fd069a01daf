"""A short analytics section for the end of a demo: index the chain, print a report and the alerts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from telcochain.index.alerts import Alert, detect, recent_probes
from telcochain.index.follower import Follower, IndexMismatch
from telcochain.index.queries import Queries
from telcochain.index.reports import Report, build_report
from telcochain.index.store import IndexStore


@dataclass
class DemoSummary:
    """What :func:`demo_summary` found (also printed)."""

    events: int
    block: int
    report: Report
    alerts: list[Alert]
    mismatches: int


def demo_summary(
    rpc_url: str | None = None,
    deployment: Any = None,
    *,
    db_url: str | None = None,
    console: Console | None = None,
) -> DemoSummary:
    """Index the deployment's chain (``db_url``, default ``.telcochain/index.sqlite``; a database
    of another chain is started afresh), verify it against the contracts' views, and print the
    twins per state, MACD volume, money per customer, denial rates and the misuse alerts.

    ``deployment``: a :class:`~telcochain.deployment.Deployment` or a manifest path (default:
    the one for the node's chain).
    """
    from telcochain.client import Client
    from telcochain.index.verify import verify

    console = console or Console(highlight=False)
    client = Client.connect(rpc_url, deployment=deployment)
    store = IndexStore(db_url)
    try:
        follower = Follower.for_client(store, client)
    except IndexMismatch:  # the local chain was reset since the last index: start again
        store.reset()
        follower = Follower.for_client(store, client)
    events = follower.catch_up()
    block, _ = follower.checkpoint()
    mismatches = len(verify(follower).mismatches)
    report = build_report(store, period="day")
    found = detect(store, probes=recent_probes(client, store))
    q = Queries(store)

    console.rule("[bold]analytics: the index")
    console.print(
        f"{events:,} new events indexed into {store.url} (block {block}); "
        f"index verify: {'[green]0 mismatches' if mismatches == 0 else f'[red]{mismatches} mismatches'}[/]"
    )
    states: dict[str, int] = {}
    page = q.assets(limit=10_000)
    for twin in page:
        states[twin.state] = states.get(twin.state, 0) + 1
    console.print("twins by state: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    pending = q.macd_pending()
    if pending.items:
        console.print("MACD pending: " + ", ".join(f"{r.asset} ({r.kind})" for r in pending))
    _table(console, "cycle times (requested → done, seconds of chain time)", report.sections["cycle_times"],
           ["kind", "vendor", "count", "p50_s", "p95_s"])  # fmt: skip
    _table(console, "charges and payments per customer per day", report.sections["money"],
           ["period", "customer", "charged", "paid"])  # fmt: skip
    _table(console, "denial rates", report.sections["denials"], ["name", "calls", "denied", "denial_rate"])
    if found:
        console.print(f"[bold red]{len(found)} alert(s)[/]")
        for alert in found:
            console.print(f"  [red]•[/red] {escape(str(alert))}")
    else:
        console.print("[green]no misuse detected[/green]")
    if os.environ.get("TELCOCHAIN_DEMO_REPORT_HTML"):
        from telcochain.index.reports import to_html

        with open(os.environ["TELCOCHAIN_DEMO_REPORT_HTML"], "w") as f:
            f.write(to_html(report, found))
    store.dispose()
    return DemoSummary(events, block, report, found, mismatches)


def _table(console: Console, title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        return
    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, no_wrap=True)
    for row in rows:
        grid.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(grid)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
