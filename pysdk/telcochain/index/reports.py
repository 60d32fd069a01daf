"""``telcochain report``: what the index tells about how the consortium is used.

Sections (each a list of flat rows, so the same data renders as a table, JSON, CSV or a chart):

- ``cycle_times``: requested → done per flow kind (installation, move, add, change, delete,
  disconnect) and vendor of the twin, and orders created → closed: count, p50, p90, p95, max
  (seconds of chain time);
- ``stock``: per vendor and SKU, reserved / delivered / consumed / returned / released and
  what is still out, aged by the last delivery (≤ 7 days, ≤ 30 days, older);
- ``money``: per customer and period, what was charged (MACD, installation, disconnect) and
  what was paid (receipts);
- ``macd_volume``: MACD requests per kind and period;
- ``proposals``: per action, proposals opened / executed / rejected / open and the
  turnaround (opened → decided) p50 and max;
- ``denials``: per account, calls, denials and the denial rate; and denials per reason.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from telcochain.constitution import DenyReason
from telcochain.index import schema as s
from telcochain.index.periods import PERIODS
from telcochain.index.queries import show_id
from telcochain.index.store import IndexStore
from telcochain.orders import OrderState

DAY = 86_400


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


def period_of(timestamp: int, period: str) -> str:
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return moment.strftime("%Y-%m")


@dataclass
class Report:
    """Every section's rows, plus when the index stood."""

    block: int
    chain_time: int
    period: str
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"block": self.block, "chain_time": self.chain_time, "period": self.period, **self.sections}


def build_report(store: IndexStore, *, period: str = "month") -> Report:
    """Compute every section from the index."""
    if period not in PERIODS:
        raise ValueError(f"period: one of {', '.join(PERIODS)}")
    with store.engine.connect() as db:
        meta = store.meta(db)
        now = store.chain_time(db)
        names = dict(db.execute(select(s.members.c.address, s.members.c.name)).all())
        actions = dict(db.execute(select(s.actions.c.action, s.actions.c.name)).all())
        report = Report(int(meta.get("checkpoint_block", -1)), now, period)
        report.sections["cycle_times"] = _cycle_times(db, names)
        report.sections["stock"] = _stock(db, names, now)
        report.sections["money"] = _money(db, names, period)
        report.sections["macd_volume"] = _macd_volume(db, period)
        report.sections["proposals"] = _proposals(db, actions)
        report.sections["denials"] = _denials(db, names)
        report.sections["denial_reasons"] = _denial_reasons(db)
    return report


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50_s": percentile(values, 50),
        "p90_s": percentile(values, 90),
        "p95_s": percentile(values, 95),
        "max_s": max(values) if values else 0.0,
    }


def _cycle_times(db: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    r, a = s.requests.c, s.assets.c
    rows = db.execute(
        select(r.kind, a.vendor, r.requested_at, r.closed_at)
        .select_from(s.requests.outerjoin(s.assets, a.asset_id == r.asset_id))
        .where(r.status == s.RequestStatus.DONE)
    ).all()
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for kind, vendor, start, end in rows:
        groups[(kind, names.get(vendor, vendor) if vendor else "-")].append(float(end - start))
    o = s.orders.c
    for start, end in db.execute(select(o.created_at, o.closed_at).where(o.state == int(OrderState.COMPLETED))).all():
        groups[("order", "-")].append(float(end - start))
    return [{"kind": k, "vendor": v, **_stats(values)} for (k, v), values in sorted(groups.items())]


def _stock(db: Any, names: dict[str, str], now: int) -> list[dict[str, Any]]:
    ln = s.lines.c
    rows = db.execute(
        select(
            ln.vendor, ln.sku, ln.reserved, ln.delivered, ln.consumed, ln.returned, ln.released, ln.last_delivered_at
        )
    ).all()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for vendor, sku, reserved, delivered, consumed, returned, released, last in rows:
        key = (names.get(vendor, vendor), sku)
        entry = out.setdefault(
            key,
            {"vendor": key[0], "sku": sku, "reserved": 0, "delivered": 0, "consumed": 0, "returned": 0,
             "released": 0, "still_out": 0, "out_le_7d": 0, "out_le_30d": 0, "out_older": 0},
        )  # fmt: skip
        for name, value in (("reserved", reserved), ("delivered", delivered), ("consumed", consumed),
                            ("returned", returned), ("released", released)):  # fmt: skip
            entry[name] += value
        out_now = delivered - consumed - returned
        if out_now > 0:
            entry["still_out"] += out_now
            age = now - (last or now)
            bucket = "out_le_7d" if age <= 7 * DAY else "out_le_30d" if age <= 30 * DAY else "out_older"
            entry[bucket] += out_now
    return [out[k] for k in sorted(out)]


def _money(db: Any, names: dict[str, str], period: str) -> list[dict[str, Any]]:
    c, rc = s.charges.c, s.receipts.c
    table: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(who: str, when: int) -> dict[str, Any]:
        key = (period_of(when, period), names.get(who, who))
        return table.setdefault(
            key, {"period": key[0], "customer": key[1], "charged": 0, "charges": 0, "paid": 0, "payments": 0}
        )

    for customer, amount, at in db.execute(select(c.customer, c.amount, c.at)).all():
        e = entry(customer, at)
        e["charged"] += int(amount)
        e["charges"] += 1
    for payer, amount, at in db.execute(select(rc.payer, rc.amount, rc.paid_at)).all():
        e = entry(payer, at)
        e["paid"] += int(amount)
        e["payments"] += 1
    return [table[k] for k in sorted(table)]


def _macd_volume(db: Any, period: str) -> list[dict[str, Any]]:
    r = s.requests.c
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for kind, at in db.execute(select(r.kind, r.requested_at).where(r.flow == "macd")).all():
        counts[(period_of(at, period), kind)] += 1
    return [{"period": p, "kind": k, "requests": n} for (p, k), n in sorted(counts.items())]


def _proposals(db: Any, actions: dict[str, str]) -> list[dict[str, Any]]:
    p = s.proposals.c
    groups: dict[str, dict[str, Any]] = {}
    for action, status, opened, decided in db.execute(select(p.action, p.status, p.opened_at, p.decided_at)).all():
        name = actions.get(action, action[:10])
        g = groups.setdefault(name, {"action": name, "opened": 0, "executed": 0, "rejected": 0, "open": 0, "_t": []})
        g["opened"] += 1
        g[status] = g.get(status, 0) + 1
        if decided is not None:
            g["_t"].append(float(decided - opened))
    rows = []
    for name in sorted(groups):
        g = groups[name]
        times = g.pop("_t")
        rows.append({**g, "turnaround_p50_s": percentile(times, 50), "turnaround_max_s": max(times) if times else 0.0})
    return rows


def _denials(db: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    c = s.calls.c
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "denied": 0})
    for caller, outcome in db.execute(select(c.caller, c.outcome)).all():
        per[caller]["calls"] += 1
        per[caller]["denied"] += outcome == "denied"
    rows = [
        {"account": a, "name": names.get(a, "(not a member)"), **v, "denial_rate": round(v["denied"] / v["calls"], 4)}
        for a, v in per.items()
    ]
    return sorted(rows, key=lambda r: (-r["denial_rate"], -r["calls"], r["account"]))


def _denial_reasons(db: Any) -> list[dict[str, Any]]:
    c = s.calls.c
    counts: dict[int, int] = defaultdict(int)
    for (reason,) in db.execute(select(c.reason).where(c.outcome == "denied")).all():
        counts[int(reason or 0)] += 1
    return [
        {"reason": DenyReason(r).text if r in DenyReason._value2member_map_ else str(r), "denials": n}
        for r, n in sorted(counts.items())
    ]


# -- rendering ------------------------------------------------------------------------------


def write_csv(report: Report, folder: Path) -> list[Path]:
    """One CSV file per section in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in report.sections.items():
        path = folder / f"{name}.csv"
        with path.open("w", newline="") as f:
            if rows:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        written.append(path)
    return written


def charts(report: Report, fmt: str = "png") -> dict[str, bytes]:
    """Charts of the main sections, by name (matplotlib, no display needed): PNG, or ``fmt="svg"``
    (the console's inline charts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images: dict[str, bytes] = {}

    def save(name: str, fig: Any) -> None:
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format=fmt, dpi=90)
        plt.close(fig)
        images[name] = buffer.getvalue()

    cycles = report.sections.get("cycle_times", [])
    if cycles:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        labels = [f"{r['kind']}\n{r['vendor']}" for r in cycles]
        xs = range(len(cycles))
        ax.bar([x - 0.2 for x in xs], [r["p50_s"] / 3600 for r in cycles], width=0.4, label="p50")
        ax.bar([x + 0.2 for x in xs], [r["p95_s"] / 3600 for r in cycles], width=0.4, label="p95")
        ax.set_xticks(list(xs), labels, fontsize=7)
        ax.set_ylabel("hours (chain time)")
        ax.set_title("cycle times: requested → done")
        ax.legend()
        save("cycle_times", fig)
    stock = report.sections.get("stock", [])
    if stock:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        labels = [f"{r['vendor']}\n{r['sku']}" for r in stock]
        bottom = [0] * len(stock)
        for bucket, label in (("out_le_7d", "≤ 7 days"), ("out_le_30d", "≤ 30 days"), ("out_older", "older")):
            values = [r[bucket] for r in stock]
            ax.bar(labels, values, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_ylabel("units still out")
        ax.set_title("stock delivered and neither used nor returned, by age")
        ax.tick_params(axis="x", labelsize=7)
        ax.legend()
        save("stock_aging", fig)
    money = report.sections.get("money", [])
    if money:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        labels = [f"{r['period']}\n{r['customer']}" for r in money]
        xs = range(len(money))
        ax.bar([x - 0.2 for x in xs], [r["charged"] for r in money], width=0.4, label="charged")
        ax.bar([x + 0.2 for x in xs], [r["paid"] for r in money], width=0.4, label="paid")
        ax.set_xticks(list(xs), labels, fontsize=7)
        ax.set_ylabel("token base units")
        ax.set_title(f"charges and payments per customer per {report.period}")
        ax.legend()
        save("money", fig)
    volume = report.sections.get("macd_volume", [])
    if volume:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        periods = sorted({r["period"] for r in volume})
        kinds = sorted({r["kind"] for r in volume})
        bottom = [0] * len(periods)
        for kind in kinds:
            values = [sum(r["requests"] for r in volume if r["period"] == p and r["kind"] == kind) for p in periods]
            ax.bar(periods, values, bottom=bottom, label=kind)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_ylabel("MACD requests")
        ax.set_title(f"MACD volume per kind per {report.period}")
        ax.legend()
        save("macd_volume", fig)
    denials = report.sections.get("denials", [])
    if denials:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        ax.bar([r["name"][:18] for r in denials], [100 * r["denial_rate"] for r in denials], color="tab:red")
        ax.set_ylabel("% of calls denied")
        ax.set_title("denial rate per account")
        ax.tick_params(axis="x", labelsize=7)
        save("denial_rates", fig)
    return images


def write_charts(report: Report, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, png in charts(report).items():
        path = folder / f"{name}.png"
        path.write_bytes(png)
        paths.append(path)
    return paths


def to_html(report: Report, alerts: Sequence[Any] = ()) -> str:
    """One self-contained page: every section as a table, the charts inline (base64 PNG)."""
    when = (
        datetime.fromtimestamp(report.chain_time, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        if report.chain_time
        else "-"
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>telcochain report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}th{background:#eee}"
        "td:first-child,th:first-child{text-align:left}.alert{color:#a00}</style></head><body>",
        f"<h1>telcochain report</h1><p>index at block {report.block}, chain time {html.escape(when)}; "
        f"periods: {report.period}</p>",
    ]
    for name, png in charts(report).items():
        data = base64.b64encode(png).decode()
        parts.append(f"<img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>")
    if alerts:
        parts.append("<h2>alerts</h2><ul>")
        parts.extend(f"<li class='alert'>{html.escape(str(a))}</li>" for a in alerts)
        parts.append("</ul>")
    for name, rows in report.sections.items():
        parts.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2>")
        if not rows:
            parts.append("<p>(nothing yet)</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(k)}</th>" for k in rows[0]) + "</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row.values()) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def dumps(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2)


__all__ = [
    "Report",
    "build_report",
    "charts",
    "dumps",
    "percentile",
    "period_of",
    "show_id",
    "to_html",
    "write_charts",
    "write_csv",
]
