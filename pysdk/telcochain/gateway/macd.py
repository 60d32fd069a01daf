"""Server-side micro-batching of MACD order items into the agreement's bulk path.

Every ``modify``/``delete`` order item that reaches the gateway becomes a :class:`Submission`
(one kind, one customer, its twins). A worker gathers the submissions that arrive within
``settings.macd_window_ms`` (or until 256 twins, ``OperatorAgreement.MAX_BATCH``), groups
them by (kind, customer) and sends each group as **one** ``orderChanges`` call with one ref;
several calls are in flight at once (the SDK's sender is thread-safe and allocates nonces
locally). A bulk call is all-or-nothing on chain, so when one fails the group is sent again
one submission at a time: the others still succeed and only the offending one gets its error.
A denial (403) fails every submission of the group with the constitution's reason.

**Whole orders** (:meth:`MacdBatcher.submit_order`, what the ``POST serviceOrder`` endpoint
uses) are checked here too: the worker reads the state and customer of every twin of every
order in the batch from the index in **one** query (``lookup``), splits the valid orders' items
by (kind, customer) into submissions, and answers each order once all its parts are mined, with
what the receipts say (the call's ref, block, charge per twin). An order naming a twin the
index does not show Active fails with :class:`Unchecked` (nothing of it is sent): the endpoint
then waits for the index to reach the head and checks again itself (the index may lag).
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
from telcochain.assets import AssetState
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
    charge: int = 0  # accrued per twin (the call's ChangesOrdered charge / its twins)
    customer: str | None = None  # whose running account it went on (ChangesOrdered.customer)


@dataclass(frozen=True)
class OrderItem:
    """One ``modify``/``delete`` item of a MACD order: its id, kind and twins (0x-hex ids)."""

    item_id: str
    kind: MacdKind
    assets: list[str]


@dataclass(frozen=True)
class Placed:
    """A part of an order's item (its twins of one customer) and the call that carried it."""

    item_id: str
    assets: list[str]
    sent: Sent


class Unchecked(Exception):
    """The index does not show every twin of the order Active (unknown, changing, lagging)."""

    def __init__(self, missing: list[str], not_active: dict[str, int]) -> None:
        super().__init__(f"{len(missing)} unknown, {len(not_active)} not Active")
        self.missing = missing
        self.not_active = not_active  # hex id -> AssetState value


@dataclass
class OrderSubmission:
    items: list[OrderItem]
    row: dict[str, Any]  # the columns every recorded row of the order shares (order_id, client, ...)
    future: Future[list[Placed]] = field(default_factory=Future)

    @property
    def twins(self) -> int:
        return sum(len(i.assets) for i in self.items)


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
        lookup: Callable[[list[str]], dict[str, tuple[int, str | None]]] | None = None,
    ) -> None:
        self.client = client
        self.record = record  # writes the rows of a whole call in one transaction
        self.lookup = lookup  # twin ids -> (AssetState value, customer) from the index, one query
        self.window = window_ms / 1000
        self.senders = senders
        self._queue: queue.Queue[Submission | OrderSubmission | None] = queue.Queue()
        # a sender's slot is free once its call is mined: recording the rows and answering
        # overlap with the next call, hence twice the threads
        self._pool = ThreadPoolExecutor(max_workers=2 * senders, thread_name_prefix="macd-send")
        self._slots = threading.Semaphore(senders)  # a batch is formed only when a sender is free
        self._thread: threading.Thread | None = None
        #: twin -> when its change was mined: the index may not show it yet, so an order naming it
        #: in the next RECENT seconds takes the endpoint's careful path (index at the head first)
        self._recent: dict[str, float] = {}
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

    def submit_order(self, items: list[OrderItem], row: dict[str, Any]) -> Future[list[Placed]]:
        """Queue a whole order: checked against the index with the rest of its batch (one
        query), then its items go into the bulk calls; the future gives one :class:`Placed`
        per (item, customer) part, or raises :class:`Unchecked` / the call's error."""
        if self.lookup is None:
            raise RuntimeError("submit_order needs a lookup")
        order = OrderSubmission(items, dict(row))
        if not 0 < order.twins <= MAX_BATCH:
            raise ValueError(f"1 to {MAX_BATCH} twins per order")
        if self._thread is None:
            for group in _groups(self._admit([order])):
                self._send(group)
        else:
            self._queue.put(order)
        return order.future

    def _admit(self, orders: list[OrderSubmission]) -> list[Submission]:
        """One index read for every twin of ``orders``; each valid order becomes submissions
        (one per item and customer) whose results are gathered back into the order's future."""
        assert self.lookup is not None
        try:
            known = self.lookup(list({a for o in orders for i in o.items for a in i.assets}))
        except Exception as exc:
            for o in orders:
                o.future.set_exception(exc)
            return []
        subs: list[Submission] = []
        for order in orders:
            twins = [a for i in order.items for a in i.assets]
            missing = [a for a in twins if a not in known]
            not_active = {a: known[a][0] for a in twins if a in known and known[a][0] != ACTIVE}
            now = time.monotonic()
            not_active.update({a: -1 for a in twins if self._recent.get(a, 0.0) > now - RECENT})
            if missing or not_active:
                order.future.set_exception(Unchecked(missing, not_active))
                continue
            parts: list[tuple[str, list[str], Submission]] = []
            for item in order.items:
                by_customer: dict[str, list[str]] = defaultdict(list)
                for a in item.assets:
                    by_customer[known[a][1] or ""].append(a)
                for customer, group in by_customer.items():
                    rows = [
                        dict(order.row, item_id=item.item_id, asset_id=a, kind=item.kind.name.lower()) for a in group
                    ]
                    parts.append((item.item_id, group, Submission(item.kind, customer, group, rows)))
            _gather(order, parts)
            subs.extend(sub for _, _, sub in parts)
        return subs

    def _run(self) -> None:
        limit = MAX_BATCH * self.senders  # twins per round: split into calls of at most MAX_BATCH
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            size = _size(first)
            # wait for a free sender first: while every sender is busy the items keep queueing,
            # so the next batch is as big as the load (the window only matters at low load)
            self._slots.acquire()
            deadline = time.monotonic() + self.window
            stop = False
            while size < limit:
                left = deadline - time.monotonic()
                try:
                    nxt = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
                size += _size(nxt)
            orders = [x for x in batch if isinstance(x, OrderSubmission)]
            subs = [x for x in batch if isinstance(x, Submission)]
            if orders:
                subs.extend(self._admit(orders))
            groups = _groups(subs)
            if not groups:
                self._slots.release()
            for n, group in enumerate(groups):
                if n:
                    self._slots.acquire()
                self._pool.submit(self._send_then_free, group)
            if stop:
                return

    def _send_then_free(self, group: list[Submission]) -> None:
        freed = [False]

        def free() -> None:
            if not freed[0]:
                freed[0] = True
                self._slots.release()

        try:
            self._send(group, free)
        finally:
            free()

    def _call(self, kind: MacdKind, assets: list[str]) -> tuple[str, int, str, int, str | None]:
        ref = "0x" + os.urandom(32).hex()
        results = self.client.agreement.request_change(kind, [bytes.fromhex(a[2:]) for a in assets], ref=ref)
        receipt = results[-1].result.receipt
        self.calls += 1
        self.items += len(assets)
        charge = sum(int(getattr(r, "charge", 0)) for r in results) // len(assets)
        customer = next(
            (str(e["customer"]) for r in results for e in getattr(r, "events", ()) if e.name == "ChangesOrdered"), None
        )
        return ref, receipt.block_number, receipt.tx_hash, charge, customer

    def _send(self, group: list[Submission], free: Callable[[], None] | None = None) -> None:
        assets = [a for sub in group for a in sub.assets]
        try:
            ref, block, tx, charge, customer = self._call(group[0].kind, assets)
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
        if free is not None:
            free()  # the next batch may go while this one's rows are recorded
        now = time.monotonic()
        if len(self._recent) > 100_000:  # forget what the index certainly has by now
            self._recent = {a: t for a, t in self._recent.items() if t > now - RECENT}
        self._recent.update((a, now) for a in assets)
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
            sub.future.set_result(Sent(ref, block, tx, len(group), charge, customer))


ACTIVE = int(AssetState.ACTIVE)
#: Seconds a twin just changed is checked against the index at the chain's head, not the batch's read.
RECENT = 30.0


def _size(x: Submission | OrderSubmission) -> int:
    return x.twins if isinstance(x, OrderSubmission) else len(x.assets)


def _gather(order: OrderSubmission, parts: list[tuple[str, list[str], Submission]]) -> None:
    """Resolve ``order.future`` once every part's future is done: the placements, or the first
    error (the parts that went through are mined all the same; the endpoint says which)."""
    left = [len(parts)]
    lock = threading.Lock()

    def done(_: Future[Sent]) -> None:
        with lock:
            left[0] -= 1
            if left[0]:
                return
        errors = [e for _, _, sub in parts if (e := sub.future.exception()) is not None]
        placed = [
            Placed(item, assets, sub.future.result()) for item, assets, sub in parts if sub.future.exception() is None
        ]
        if errors and not placed:
            order.future.set_exception(errors[0])
        else:
            order.future.set_result(placed)

    for _, _, sub in parts:
        sub.future.add_done_callback(done)


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
