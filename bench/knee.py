"""Open-loop load steps and the knee of the throughput/latency curve (issue 20).

A *series* offers a ladder of fixed rates (operations/s) to one chain profile, each for
``step_seconds``: the driver schedules operation ``i`` of a step at ``start + i / rate`` and
hands it to the :class:`~telcochain.throughput.Pipeline` when that time comes, whatever the
chain does (open loop: a slow chain does not slow the offer; a backlog builds up and shows as
latency, measured from the *scheduled* time, so a client falling behind is not hidden).

A profile may cap the transactions one sender has pending (Besu's transaction pool keeps about
200 per sender): an operation whose sender is at the cap waits on the client, in order, and
is sent when one of that sender's transactions is mined; its latency still runs from its
scheduled time. Operations bound to no sender go to the sender with the fewest pending.

The **knee** of a series is the highest offered rate whose step confirmed ≥ 95 % of the offer,
had p95 ≤ 2 block times and lost nothing. A series stops after a step whose confirmed rate
grew by less than 5 % over the previous step's, whose p95 exceeded 3 block times, or that lost
an operation.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telcochain import throughput
from telcochain.throughput import Operation, OpOutcome, OpStatus, Pipeline

#: (sender index or None, calldata/value operation, on-chain keys of the operations it carries)
MakeTx = Callable[[], tuple[Operation, Sequence[bytes]]]


@dataclass
class StepRecord:
    key: bytes  # the operation's on-chain key (ref, ref + asset, or the tx hash for transfers)
    scheduled: float
    confirmed: float | None = None
    status: str = "pending"
    gas: float = 0.0


@dataclass
class Step:
    """One offered rate held for ``seconds`` on one profile."""

    series: str  # e.g. "default/single"
    profile: str
    kind: str  # single | bulk | transfer
    offered: float  # operations/s
    seconds: float
    ops_per_tx: int
    block_time: float
    records: list[StepRecord] = field(default_factory=list)
    started: float = 0.0
    from_block: int = 0
    to_block: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.series}@{self.offered:g}"

    @property
    def confirmed(self) -> list[StepRecord]:
        return [r for r in self.records if r.status == "confirmed" and r.confirmed]

    @property
    def drift(self) -> float:
        """Seconds of latency gained per second of offer (least-squares slope of latency against
        scheduled time): ~0 while the chain keeps up (the block sawtooth averages out), and
        ``offered / capacity - 1`` when a backlog builds up."""
        done = self.confirmed
        if len(done) < 3:
            return 0.0
        xs = [r.scheduled for r in done]
        ys = [(r.confirmed or 0.0) - r.scheduled for r in done]
        if max(xs) - min(xs) <= 0:
            return 0.0
        return statistics.linear_regression(xs, ys).slope

    @property
    def confirmed_ops_per_s(self) -> float:
        """Operations confirmed per second of offer, corrected for a growing backlog: the
        confirmed share of the offer over ``1 + drift`` (a chain that keeps up: the offered rate
        times the confirmed share; one that falls behind: its capacity). Unlike "confirmed over
        wall time" it does not depend on where the step's edges fall between blocks."""
        if not self.records:
            return 0.0
        share = len(self.confirmed) / len(self.records)
        return self.offered * share / (1 + max(0.0, self.drift))

    def latency_ms(self, p: float) -> float:
        values = sorted((r.confirmed - r.scheduled) * 1000 for r in self.confirmed if r.confirmed)
        if not values:
            return math.inf if self.records else 0.0
        return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]

    @property
    def gas_per_op(self) -> float:
        measured = [r.gas for r in self.confirmed if r.gas]
        return sum(measured) / len(measured) if measured else 0.0

    @property
    def ok(self) -> bool:
        """At or below the knee: ≥ 95 % confirmed, p95 ≤ 2 block times, nothing lost or duplicated."""
        return (
            self.confirmed_ops_per_s >= 0.95 * self.offered
            and self.latency_ms(95) <= 2000 * self.block_time
            and self.lost == 0
            and self.duplicated == 0
            and len(self.confirmed) == len(self.records)
        )

    def summary(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "profile": self.profile,
            "kind": self.kind,
            "offered_ops_per_s": self.offered,
            "confirmed_ops_per_s": round(self.confirmed_ops_per_s, 1),
            "confirmed_fraction": round(self.confirmed_ops_per_s / self.offered, 3) if self.offered else None,
            "latency_drift_s_per_s": round(self.drift, 4),
            "ops": len(self.records),
            "confirmed": len(self.confirmed),
            "lost": self.lost,
            "duplicated": self.duplicated,
            "p50_ms": _finite(self.latency_ms(50)),
            "p95_ms": _finite(self.latency_ms(95)),
            "p99_ms": _finite(self.latency_ms(99)),
            "gas_per_op": round(self.gas_per_op),
            "within_knee": self.ok,
            **self.notes,
        }


def _finite(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


def knee(steps: Sequence[Step]) -> Step | None:
    """The highest offered rate that met the knee conditions (None: not even the first)."""
    good = [s for s in steps if s.ok]
    return max(good, key=lambda s: s.offered) if good else None


def should_stop(steps: Sequence[Step]) -> bool:
    last = steps[-1]
    if last.lost or last.duplicated or last.latency_ms(95) > 3000 * last.block_time:
        return True
    return len(steps) >= 2 and last.confirmed_ops_per_s < 1.05 * steps[-2].confirmed_ops_per_s


def run_step(
    step: Step,
    pipe: Pipeline,
    make_tx: MakeTx,
    senders: int,
    max_pending_per_sender: int | None,
    drain_timeout: float = 180.0,
) -> Step:
    """Offer ``step.offered`` operations/s for ``step.seconds`` through ``pipe``; then drain."""
    tx_rate = step.offered / step.ops_per_tx
    total = max(1, round(tx_rate * step.seconds))
    cap = max_pending_per_sender or 1 << 60
    pending: list[deque[OpOutcome]] = [deque() for _ in range(senders)]
    backlog: list[deque[tuple[Operation, float, Sequence[bytes]]]] = [deque() for _ in range(senders)]
    submitted: list[tuple[OpOutcome, float, Sequence[bytes]]] = []
    peak = [0] * senders

    def settle_pending() -> None:
        for q in pending:
            while q and q[0].status is not OpStatus.PENDING:
                q.popleft()

    def flush() -> None:
        batch: list[Operation] = []
        meta: list[tuple[float, Sequence[bytes]]] = []
        for s in range(senders):
            room = cap - len(pending[s])
            while room > 0 and backlog[s]:
                op, when, keys = backlog[s].popleft()
                batch.append(op)
                meta.append((when, keys))
                room -= 1
        if not batch:
            return
        for outcome, (when, keys) in zip(pipe.submit(batch), meta, strict=True):
            s = outcome.operation.sender or 0
            pending[s].append(outcome)
            peak[s] = max(peak[s], len(pending[s]))
            submitted.append((outcome, when, keys))

    step.from_block = int(pipe.rpc.call("eth_blockNumber"), 16) + 1
    step.started = time.monotonic()
    made = 0
    while made < total:
        now = time.monotonic()
        due = min(total, int((now - step.started) * tx_rate) + 1)
        settle_pending()
        while made < due:
            op, keys = make_tx()
            if op.sender is None:  # the sender with the fewest pending
                s = min(range(senders), key=lambda i: len(pending[i]) + len(backlog[i]))
                op = Operation(op.to, op.data, op.gas, op.value, s, op.tag)
            backlog[op.sender or 0].append((op, step.started + made / tx_rate, keys))
            made += 1
        flush()
        time.sleep(max(0.0, min(0.02, step.started + made / tx_rate - time.monotonic())))
    # what waits on the client (a sender at its cap) is sent as its sender's transactions are mined
    deadline = time.monotonic() + drain_timeout
    while any(backlog) and time.monotonic() < deadline:
        settle_pending()
        flush()
        time.sleep(0.02)
    pipe.drain(timeout=max(1.0, deadline - time.monotonic()))
    step.to_block = int(pipe.rpc.call("eth_blockNumber"), 16)
    blocks: dict[int, int] = {}
    for outcome, when, keys in submitted:
        status = {OpStatus.CONFIRMED: "confirmed", OpStatus.REVERTED: "reverted"}.get(
            outcome.status, outcome.status.value
        )
        if outcome.block_number:
            blocks[outcome.block_number] = blocks.get(outcome.block_number, 0) + 1
        for key in keys or (bytes.fromhex(outcome.tx_hash[2:]),):
            step.records.append(
                StepRecord(key, when, outcome.confirmed_at or None, status, outcome.gas_used / max(1, len(keys)))
            )
    never_sent = sum(len(b) for b in backlog)
    step.notes.update(
        {
            "transactions": len(submitted),
            "never_sent": never_sent,
            "senders_used": sum(1 for p in peak if p),
            "peak_pending_per_sender": max(peak),
            "blocks": len(blocks),
            "max_txs_per_block": max(blocks.values(), default=0),
            "reverted": sum(1 for o, _, _ in submitted if o.status is OpStatus.REVERTED),
            "not_mined": sum(1 for o, _, _ in submitted if o.status in (OpStatus.LOST, OpStatus.UNKNOWN)),
        }
    )
    return step


def run_series(
    series: str,
    profile: str,
    kind: str,
    rates: Sequence[float],
    seconds: float,
    ops_per_tx: int,
    block_time: float,
    pipe: Pipeline,
    make_tx: MakeTx,
    senders: int,
    max_pending_per_sender: int | None,
    after_step: Callable[[Step], None] | None = None,
    log: Callable[[str], None] = print,
) -> list[Step]:
    """Steps of increasing offered rate until :func:`should_stop` (``after_step`` may fill in
    ``lost``/``duplicated`` from an on-chain check before the decision)."""
    steps: list[Step] = []
    for rate in rates:
        step = run_step(
            Step(series, profile, kind, rate, seconds, ops_per_tx, block_time), pipe, make_tx, senders,
            max_pending_per_sender,
        )  # fmt: skip
        if after_step:
            after_step(step)
        steps.append(step)
        log(
            f"    {series:<18} offered {rate:>9,.0f}/s  confirmed {step.confirmed_ops_per_s:>9,.0f}/s  "
            f"p50 {step.latency_ms(50):>7.0f} ms  p95 {step.latency_ms(95):>7.0f} ms  lost {step.lost}  "
            f"senders {step.notes['senders_used']}  peak pending/sender {step.notes['peak_pending_per_sender']}"
            f"{'  (within the knee)' if step.ok else ''}"
        )
        if should_stop(steps):
            break
    return steps


def senders_needed(rate_tx_per_s: float, block_time: float, cap: int) -> int:
    """Senders so that ``rate_tx_per_s`` fits under ``cap`` pending each with two blocks of
    transactions in flight (one being built, one waiting): the SDK's rule."""
    return throughput.senders_needed(rate_tx_per_s, block_time, cap)


def chart(all_series: dict[str, list[Step]], path: Path) -> None:
    """Confirmed ops/s and p95 against the offered rate, one line per series, knees marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    lo, hi = math.inf, 0.0
    for name, steps in all_series.items():
        if not steps:
            continue
        xs = [s.offered for s in steps]
        lo, hi = min(lo, *xs), max(hi, *xs)
        line = top.plot(xs, [max(s.confirmed_ops_per_s, 1e-3) for s in steps], marker="o", label=name)[0]
        bottom.plot(xs, [_finite(s.latency_ms(95)) or float("nan") for s in steps], marker="o", label=name,
                    color=line.get_color())  # fmt: skip
        k = knee(steps)
        if k:
            top.scatter([k.offered], [k.confirmed_ops_per_s], s=160, facecolors="none", edgecolors=line.get_color())
            top.annotate(f"knee {k.offered:,.0f}", (k.offered, k.confirmed_ops_per_s), textcoords="offset points",
                         xytext=(6, -12), fontsize=8, color=line.get_color())  # fmt: skip
    if hi:
        top.plot([lo, hi], [lo, hi], color="grey", linestyle=":", label="confirmed = offered")
    for bt, style in ((1, "--"), (2, "-.")):
        bottom.axhline(2000 * bt, color="grey", linestyle=style, linewidth=0.8, label=f"2 block times ({bt} s blocks)")
    top.set_xscale("log")
    top.set_yscale("log")
    bottom.set_yscale("log")
    top.set_ylabel("confirmed operations / s")
    top.set_title("telcochain: open-loop load steps (anvil; shared, loaded 2-core machine)")
    top.legend(fontsize=8)
    top.grid(alpha=0.3, which="both")
    bottom.set_ylabel("p95 latency, scheduled → receipt (ms)")
    bottom.set_xlabel("offered operations / s")
    bottom.legend(fontsize=8)
    bottom.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
