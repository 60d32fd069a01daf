"""Server-side micro-batching of MACD order items into the agreement's bulk path.

Every ``modify``/``delete`` order item that reaches the gateway becomes a :class:`Submission`
(one kind, one customer, its twins). A worker gathers the submissions that arrive within
``settings.macd_window_ms`` (or until 256 twins, ``OperatorAgreement.MAX_BATCH``), groups
them by (kind, customer) and sends each group as **one** ``orderChanges`` call with one ref;
several calls are in flight at once (the SDK's sender is thread-safe and allocates nonces
locally). A bulk call is all-or-nothing on chain, so when one fails the group is sent again
one submission at a time: the others still succeed and only the offending one gets its error.
A denial (403) fails every submission of the group with the constitution's reason.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telcochain.agreement import MAX_BATCH, MacdKind
from telcochain.client import Client
from telcochain.errors import PermissionDenied

log = logging.getLogger("telcochain.gateway.macd")


@dataclass(frozen=True)
class Sent:
    """Where a submission went: the on-chain call's ref (hex) and block."""

    ref: str
    block: int
    tx_hash: str
    batched_with: int  # submissions in the same call (1: alone)


@dataclass
class Submission:
    kind: MacdKind
    customer: str
    assets: list[str]  # 0x-hex bytes32 ids
    rows: list[dict[str, Any]] = field(default_factory=list)  # recorded with the call's "ref" once it is mined
    future: Future[Sent] = field(default_factory=Future)


class MacdBatcher:
    """Gathers MACD submissions and sends them as bulk ``orderChanges`` calls."""

    def __init__(
        self,
        client: Client,
        window_ms: int,
        *,
        senders: int = 4,
        record: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.client = client
        self.record = record  # writes the rows of a whole call in one transaction
        self.window = window_ms / 1000
        self._queue: queue.Queue[Submission | None] = queue.Queue()
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="macd-send")
        self._slots = threading.Semaphore(senders)  # a batch is formed only when a sender is free
        self._thread: threading.Thread | None = None
        self.calls = 0  # on-chain calls sent (for the benchmark and tests)
        self.items = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="macd-batcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._pool.shutdown(wait=True)

    def submit(
        self, kind: MacdKind, customer: str, assets: list[str], rows: list[dict[str, Any]] | None = None
    ) -> Future[Sent]:
        """Queue ``assets`` for one bulk call; ``rows`` are given to ``record`` with the call's
        ``ref`` once it is mined (before the future resolves)."""
        if not 0 < len(assets) <= MAX_BATCH:
            raise ValueError(f"1 to {MAX_BATCH} twins per submission")
        sub = Submission(kind, customer, list(assets), list(rows or ()))
        if self._thread is None:  # not started (no server): send at once
            self._send([sub])
        else:
            self._queue.put(sub)
        return sub.future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            size = len(first.assets)
            # wait for a free sender first: while every sender is busy the items keep queueing,
            # so the next batch is as big as the load (the window only matters at low load)
            self._slots.acquire()
            deadline = time.monotonic() + self.window
            stop = False
            while size < MAX_BATCH:
                left = deadline - time.monotonic()
                try:
                    nxt = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
                size += len(nxt.assets)
            for n, group in enumerate(_groups(batch)):
                if n:
                    self._slots.acquire()
                self._pool.submit(self._send_then_free, group)
            if stop:
                return

    def _send_then_free(self, group: list[Submission]) -> None:
        try:
            self._send(group)
        finally:
            self._slots.release()

    def _call(self, kind: MacdKind, assets: list[str]) -> tuple[str, int, str]:
        ref = "0x" + os.urandom(32).hex()
        results = self.client.agreement.request_change(kind, [bytes.fromhex(a[2:]) for a in assets], ref=ref)
        receipt = results[-1].result.receipt
        self.calls += 1
        self.items += len(assets)
        return ref, receipt.block_number, receipt.tx_hash

    def _send(self, group: list[Submission]) -> None:
        assets = [a for sub in group for a in sub.assets]
        try:
            ref, block, tx = self._call(group[0].kind, assets)
        except PermissionDenied as exc:
            for sub in group:
                sub.future.set_exception(exc)
            return
        except Exception as exc:
            if len(group) == 1:
                group[0].future.set_exception(exc)
                return
            log.info("a bulk MACD call of %d submissions failed (%s): sending them one by one", len(group), exc)
            for sub in group:
                self._send([sub])
            return
        rows = [dict(row, ref=ref) for sub in group for row in sub.rows]
        if rows and self.record is not None:
            try:
                self.record(rows)
            except Exception as exc:  # mined, but not recorded: say so rather than answer as if all were well
                log.exception("recording a MACD call's orders failed")
                for sub in group:
                    sub.future.set_exception(exc)
                return
        for sub in group:
            sub.future.set_result(Sent(ref, block, tx, len(group)))


def _groups(batch: list[Submission]) -> list[list[Submission]]:
    """By (kind, customer), each group at most MAX_BATCH twins, no twin twice in a group."""
    by_key: dict[tuple[int, str], list[list[Submission]]] = defaultdict(list)
    for sub in batch:
        chunks = by_key[(int(sub.kind), sub.customer.lower())]
        for chunk in chunks:
            taken = {a for s in chunk for a in s.assets}
            if len(taken) + len(sub.assets) <= MAX_BATCH and not taken.intersection(sub.assets):
                chunk.append(sub)
                break
        else:
            chunks.append([sub])
    return [chunk for chunks in by_key.values() for chunk in chunks]
