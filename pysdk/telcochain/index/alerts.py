"""Misuse detection over the indexed stream: rules with thresholds from a YAML file.

Rules (defaults in ``alerts.yaml`` next to this module; ``--config`` for another):

- ``denial_burst``: one account denied ``count`` times within ``window_s`` seconds;
- ``never_granted``: a call denied for lack of permission on an action the account was never
  granted (probing for rights);
- ``out_of_window``: a permission used before its ``validFrom`` or after its ``validUntil``;
- ``non_member_probe``: an address that is not a member calling actions;
- ``activity_spike``: a member's calls in one time bucket ``factor`` times above its own
  average over its earlier buckets (at least ``min_calls``, after ``min_history`` buckets);
- ``stock_overuse``: stock consumed or returned beyond what was delivered — attempts the
  OrderBook refused inside a batch (``StockOverConsumption`` / ``StockOverReturn``), or a
  ledger line where consumed + returned exceeds delivered;
- ``reclaim_repeat``: one payer reclaiming funded invoices ``count`` times within ``window_s``.

Each alert has a stable id (rule, subject, first block), so a follower reports it once.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from sqlalchemy import select

from telcochain.abi import canonical_type, shipped_abis
from telcochain.constitution import DenyReason
from telcochain.errors import ConfigurationError
from telcochain.index import schema as s
from telcochain.index.store import IndexStore

RULES = (
    "denial_burst",
    "never_granted",
    "out_of_window",
    "non_member_probe",
    "activity_spike",
    "stock_overuse",
    "reclaim_repeat",
)
STOCK_ERRORS = ("StockOverConsumption", "StockOverReturn")


@dataclass(frozen=True)
class Alert:
    """One detected misuse."""

    rule: str
    subject: str  # the account (or line) it is about
    subject_name: str | None
    first_block: int
    last_block: int
    at: int  # chain time of the last event that made it
    count: int
    message: str

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.subject}:{self.first_block}"

    def __str__(self) -> str:
        who = f"{self.subject_name} ({self.subject})" if self.subject_name else self.subject
        return f"[{self.rule}] {who}: {self.message} (blocks {self.first_block}-{self.last_block})"


def load_config(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The rules' thresholds: the shipped defaults, overridden by ``path``."""
    text = resources.files("telcochain.index").joinpath("alerts.yaml").read_text()
    config: dict[str, dict[str, Any]] = yaml.safe_load(text)
    if path is not None:
        try:
            override = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"alerts config {path}: {exc}") from None
        unknown = set(override) - set(RULES)
        if unknown:
            raise ConfigurationError(f"alerts config {path}: unknown rule(s) {', '.join(sorted(unknown))}")
        for rule, values in override.items():
            config[rule] = {**config.get(rule, {}), **(values or {})}
    return config


def _stock_selectors() -> set[str]:
    found = set()
    for abi in shipped_abis().values():
        for item in abi:
            if item.get("type") == "error" and item["name"] in STOCK_ERRORS:
                types = ",".join(canonical_type(i) for i in item.get("inputs", []))
                found.add("0x" + function_signature_to_4byte_selector(f"{item['name']}({types})").hex())
    return found


@dataclass(frozen=True)
class Probe:
    """A non-member's transaction to the Constitution that reverted: outsiders are refused with a
    revert (no denial event is mined for them), so the failed transaction is their only trace."""

    block_number: int
    at: int
    caller: str
    tx_hash: str


def scan_probes(
    rpc: Any, constitution: str, members: Iterable[str], from_block: int, to_block: int, *, chunk: int = 50
) -> list[Probe]:
    """The failed transactions that non-members sent to the Constitution in ``from_block`` ..
    ``to_block`` (full blocks read in JSON-RPC batches of ``chunk``, receipts only for the
    outsiders' transactions)."""
    target, known = constitution.lower(), {m.lower() for m in members}
    suspects: list[tuple[int, int, str, str]] = []
    for start in range(max(from_block, 0), to_block + 1, chunk):
        numbers = range(start, min(start + chunk, to_block + 1))
        blocks = rpc.batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        for block in blocks:
            if not block:
                continue
            for tx in block.get("transactions", []):
                sender = str(tx.get("from", "")).lower()
                if str(tx.get("to") or "").lower() == target and sender not in known:
                    suspects.append((int(block["number"], 16), int(block["timestamp"], 16), sender, tx["hash"]))
    probes = []
    for start in range(0, len(suspects), chunk):
        part = suspects[start : start + chunk]
        receipts = rpc.batch([("eth_getTransactionReceipt", [h]) for *_, h in part])
        for (number, at, sender, tx_hash), receipt in zip(part, receipts, strict=True):
            if receipt and int(receipt.get("status", "0x1"), 16) == 0:
                probes.append(Probe(number, at, to_checksum_address(sender), tx_hash))
    return probes


class ProbeScanner:
    """Keeps scanning new blocks for :class:`Probe` s (the last ``window_blocks`` first), for
    ``follow_alerts``: call it to get every probe found so far."""

    def __init__(self, client: Any, store: IndexStore, config: dict[str, dict[str, Any]] | None = None) -> None:
        self.client, self.store = client, store
        config = config if config is not None else load_config()
        self.window = int(config.get("non_member_probe", {}).get("window_blocks", 10_000))
        self.next_block: int | None = None
        self.found: list[Probe] = []

    def __call__(self) -> list[Probe]:
        head = int(self.client.rpc.call("eth_blockNumber"), 16)
        start = head - self.window + 1 if self.next_block is None else self.next_block
        if start <= head:
            with self.store.engine.connect() as db:
                members = [a for (a,) in db.execute(select(s.members.c.address)).all()]
            constitution = self.client.deployment.contracts["Constitution"].address
            self.found += scan_probes(self.client.rpc, constitution, members, start, head)
        self.next_block = head + 1
        return self.found


def recent_probes(client: Any, store: IndexStore, config: dict[str, dict[str, Any]] | None = None) -> list[Probe]:
    """:func:`scan_probes` over the last ``non_member_probe.window_blocks`` blocks of ``client``'s
    chain, with the members the index knows (every member ever admitted): one
    :class:`ProbeScanner` pass."""
    return ProbeScanner(client, store, config)()


def detect(
    store: IndexStore, config: dict[str, dict[str, Any]] | None = None, probes: Sequence[Probe] = ()
) -> list[Alert]:
    """Every alert the indexed stream raises under ``config`` (default: :func:`load_config`);
    ``probes`` (:func:`recent_probes`) are the non-members' reverted calls the stream cannot hold."""
    config = config if config is not None else load_config()
    on = {rule: config.get(rule, {}).get("enabled", True) for rule in RULES}
    with store.engine.connect() as db:
        names = dict(db.execute(select(s.members.c.address, s.members.c.name)).all())
        c = s.calls.c
        calls = db.execute(
            select(c.block_number, c.at, c.caller, c.action, c.outcome, c.reason, c.error).order_by(
                c.block_number, c.log_index
            )
        ).all()
        granted = {
            (a, acc)
            for a, acc in db.execute(
                select(s.permissions.c.action, s.permissions.c.account).where(s.permissions.c.ever_granted.is_(True))
            ).all()
        }
        actions = dict(db.execute(select(s.actions.c.action, s.actions.c.name)).all())
        ln = s.lines.c
        overdrawn = db.execute(
            select(ln.line_id, ln.vendor, ln.delivered, ln.consumed, ln.returned, ln.updated_block).where(
                ln.consumed + ln.returned > ln.delivered
            )
        ).all()
        i = s.invoices.c
        reclaims = db.execute(
            select(i.payer, i.invoice_id, i.updated_block, i.settled_at)
            .where(i.reclaimed.is_(True))
            .order_by(i.settled_at)
        ).all()
    alerts: list[Alert] = []
    denied = [r for r in calls if r.outcome == "denied"]

    def alert(rule: str, subject: str, rows: list[Any], message: str) -> None:
        alerts.append(
            Alert(
                rule,
                subject,
                names.get(subject),
                rows[0].block_number,
                rows[-1].block_number,
                rows[-1].at,
                len(rows),
                message,
            )
        )

    if on["denial_burst"]:
        count, window = int(config["denial_burst"]["count"]), int(config["denial_burst"]["window_s"])
        by_caller: dict[str, list[Any]] = defaultdict(list)
        for r in denied:
            by_caller[r.caller].append(r)
        for caller, rows in by_caller.items():
            recent: deque[Any] = deque()
            burst: list[Any] | None = None
            for r in rows:
                if burst is not None:
                    if r.at - burst[-1].at <= window:  # the burst goes on
                        burst.append(r)
                        continue
                    alert(
                        "denial_burst", caller, burst, f"{len(burst)} denied calls, each within {window} s of the last"
                    )
                    burst, recent = None, deque()
                recent.append(r)
                while r.at - recent[0].at > window:
                    recent.popleft()
                if len(recent) >= count:
                    burst = list(recent)
            if burst is not None:
                alert("denial_burst", caller, burst, f"{len(burst)} denied calls, each within {window} s of the last")
    if on["never_granted"]:
        tried: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for r in denied:
            if r.reason == DenyReason.NO_PERMISSION and (r.action, r.caller) not in granted and r.caller in names:
                tried[(r.caller, r.action)].append(r)
        for (caller, action), rows in tried.items():
            label = actions.get(action, action[:10])
            alert("never_granted", caller, rows, f"{len(rows)} attempt(s) at {label}, never granted to it")
    if on["out_of_window"]:
        outside: dict[str, list[Any]] = defaultdict(list)
        for r in denied:
            if r.reason in (DenyReason.PERMISSION_NOT_YET_VALID, DenyReason.PERMISSION_EXPIRED):
                outside[r.caller].append(r)
        for caller, rows in outside.items():
            labels = sorted({actions.get(r.action, r.action[:10]) for r in rows})
            alert(
                "out_of_window",
                caller,
                rows,
                f"{len(rows)} call(s) outside the permission window ({', '.join(labels)})",
            )
    if on["non_member_probe"]:
        need = int(config["non_member_probe"].get("count", 1))
        by_outsider: dict[str, list[Any]] = defaultdict(list)
        for r in denied:  # chains from before outsiders were reverted recorded them as denials
            if r.reason == DenyReason.NOT_MEMBER:
                by_outsider[r.caller].append(r)
        for probe in sorted(probes, key=lambda p: p.block_number):
            by_outsider[probe.caller].append(probe)
        for caller, rows in by_outsider.items():
            if len(rows) >= need:
                alert("non_member_probe", caller, rows, f"not a member, {len(rows)} call(s) refused")
    if on["activity_spike"]:
        alerts.extend(_spikes(calls, names, config["activity_spike"]))
    if on["stock_overuse"]:
        selectors = _stock_selectors()
        need = int(config["stock_overuse"].get("count", 1))
        refused: dict[str, list[Any]] = defaultdict(list)
        for r in calls:
            if r.outcome == "reverted" and r.error in selectors:
                refused[r.caller].append(r)
        for caller, rows in refused.items():
            if len(rows) >= need:
                alert(
                    "stock_overuse",
                    caller,
                    rows,
                    f"{len(rows)} attempt(s) to use or return stock beyond what was delivered",
                )
        for line in overdrawn:
            alerts.append(
                Alert(
                    "stock_overuse", line.line_id, names.get(line.vendor), line.updated_block, line.updated_block, 0, 1,
                    f"ledger line consumed {line.consumed} + returned {line.returned} > delivered {line.delivered}",
                )
            )  # fmt: skip
    if on["reclaim_repeat"]:
        count, window = int(config["reclaim_repeat"]["count"]), int(config["reclaim_repeat"]["window_s"])
        per_payer: dict[str, list[Any]] = defaultdict(list)
        for payer, invoice_id, block, at in reclaims:
            per_payer[payer].append((invoice_id, block, at or 0))
        for payer, items in per_payer.items():
            for n in range(len(items)):
                window_items = [x for x in items[n:] if x[2] - items[n][2] <= window]
                if len(window_items) >= count:
                    ids = ", ".join(f"#{x[0]}" for x in window_items)
                    alerts.append(
                        Alert(
                            "reclaim_repeat", payer, names.get(payer), min(x[1] for x in window_items),
                            max(x[1] for x in window_items), window_items[-1][2], len(window_items),
                            f"{len(window_items)} funded invoices reclaimed within {window} s ({ids})",
                        )
                    )  # fmt: skip
                    break
    return sorted(alerts, key=lambda a: (a.first_block, a.rule, a.subject))


def _spikes(calls: Sequence[Any], names: dict[str, str], rule: dict[str, Any]) -> list[Alert]:
    bucket_s, factor = int(rule["bucket_s"]), float(rule["factor"])
    min_calls, min_history = int(rule["min_calls"]), int(rule["min_history"])
    per: dict[str, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in calls:
        if r.caller in names:
            per[r.caller][r.at // bucket_s].append(r)
    found = []
    for caller, buckets in per.items():
        keys = sorted(buckets)
        first = keys[0]
        for key in keys:
            history = key - first  # earlier buckets since the member's first, zeros included
            if history < min_history:
                continue
            baseline = sum(len(buckets.get(k, ())) for k in range(first, key)) / history
            rows = buckets[key]
            if len(rows) >= min_calls and len(rows) > factor * max(baseline, 1.0):
                found.append(
                    Alert(
                        "activity_spike", caller, names.get(caller), rows[0].block_number, rows[-1].block_number,
                        rows[-1].at, len(rows),
                        f"{len(rows)} calls in {bucket_s} s against an average of {baseline:.1f}",
                    )
                )  # fmt: skip
    return found


def follow_alerts(
    store: IndexStore,
    step: Callable[[], Any] | None = None,
    config: dict[str, dict[str, Any]] | None = None,
    *,
    poll_interval: float = 1.0,
    stop: Callable[[], bool] | None = None,
    probes: Callable[[], Sequence[Probe]] | None = None,
) -> Iterator[Alert]:
    """Yield each new alert once, re-evaluating after every ``step()`` (e.g. a follower's step);
    ``probes()`` gives the non-members' reverted calls so far (see :class:`ProbeScanner`)."""
    seen: set[str] = set()
    while stop is None or not stop():
        if step is not None:
            step()
        for a in detect(store, config, probes() if probes is not None else ()):
            if a.id not in seen:
                seen.add(a.id)
                yield a
        time.sleep(poll_interval)
