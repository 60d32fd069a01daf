"""The seed's getNotification: a durable stream of the events that concern one member.

A member back-end reads what concerns it — actions it ran or that were denied, votes
requested from it, asset changes it made or is custodian of — as typed records decoded
from the contracts' events, polling ``eth_getLogs`` in bounded windows.

Durable, **at-least-once**: the checkpoint records the last block fully delivered, the log
indexes already delivered in the next one, and the hashes of recent blocks; it is saved with
every acknowledgement, so a restarted listener never misses a notification. A consumer
killed between receiving a notification and its acknowledgement receives it again: every
notification has a stable :attr:`Notification.id` (block hash + log index) to de-duplicate
by. **Exactly-once** where the consumer's store allows it: :meth:`NotificationStream.consume`
hands each batch together with the checkpoint that acknowledges it, for the consumer to
write both in one transaction of its own database (:class:`SqliteCheckpoint` does it for
sqlite3; implement :class:`CheckpointStore` for another store).

Reorg-safe: the stream can stay ``confirmations`` blocks behind the head, and it keeps the
hashes of recent blocks; if the chain no longer has the checkpoint's block, it rewinds to
the newest block it still agrees with and delivers the new branch. It never acknowledges a
block the node does not have: "caught up to the head" is recorded with the head's hash,
checked against the node just before it is saved.

Push where the node offers it: with a websocket URL, :meth:`NotificationStream.follow` waits
on an ``eth_subscribe("newHeads")`` subscription instead of sleeping between polls. The
subscription only wakes the stream; the logs are always read with ``eth_getLogs`` from the
checkpoint on, so a dropped connection loses nothing: the stream falls back to polling,
reconnects, and the next read backfills whatever was mined meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from telcochain.contract import Contract, Event
from telcochain.errors import CheckpointError
from telcochain.events import MAX_RANGE, get_logs
from telcochain.tx import hexint
from telcochain.types import ZERO_ADDRESS

if TYPE_CHECKING:
    from telcochain.session import Session

#: Block hashes kept to find the fork point after a reorganisation.
HISTORY = 128
#: Seconds between reconnection attempts of a dropped websocket subscription.
RECONNECT_DELAY = 2.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notification:
    """One event that concerns this member."""

    name: str
    contract: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str

    @property
    def id(self) -> str:
        """Stable identity: the same event always has the same id (block hash + log index)."""
        return f"{self.block_hash}:{self.log_index}"


@dataclass
class Checkpoint:
    """Where a stream stands. ``block`` is fully delivered; ``partial`` are log indexes of block+1."""

    block: int = -1
    partial: list[int] = field(default_factory=list)
    hashes: dict[int, str] = field(default_factory=dict)  # recent block number → hash

    def to_json(self) -> str:
        return json.dumps({"block": self.block, "partial": self.partial, "hashes": self.hashes})

    @classmethod
    def from_json(cls, text: str, where: str = "checkpoint") -> Checkpoint:
        try:
            data = json.loads(text)
            return cls(
                int(data["block"]),
                [int(i) for i in data.get("partial", [])],
                {int(k): str(v) for k, v in data.get("hashes", {}).items()},
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CheckpointError(f"the {where} is damaged ({exc.__class__.__name__}: {exc})") from None

    def copy(self) -> Checkpoint:
        return replace(self, partial=list(self.partial), hashes=dict(self.hashes))

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """The checkpoint in ``path`` (a new one if there is no file); :class:`CheckpointError`
        if it cannot be read or is damaged."""
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise CheckpointError(f"cannot read the checkpoint {path}: {exc.strerror or exc}") from None
        return cls.from_json(text, f"checkpoint {path}")

    def save(self, path: Path) -> None:
        """Replace ``path`` atomically (temporary file, fsync, rename): a crash leaves the old or
        the new checkpoint, never half of one. :class:`CheckpointError` on a disk error."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w") as out:
                out.write(self.to_json())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise CheckpointError(f"cannot save the checkpoint {path}: {exc.strerror or exc}") from None


@runtime_checkable
class CheckpointStore(Protocol):
    """Where a stream keeps its checkpoint. Implement it over your own database to save the
    checkpoint in the same transaction as what you did with the notifications."""

    def load(self) -> Checkpoint | None:
        """The saved checkpoint, or None when the stream never ran."""

    def save(self, checkpoint: Checkpoint) -> None:
        """Save ``checkpoint`` (inside the caller's transaction, for a database store)."""


class FileCheckpoint:
    """The default store: a small JSON file replaced atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> Checkpoint | None:
        return Checkpoint.load(self.path) if self.path.exists() else None

    def save(self, checkpoint: Checkpoint) -> None:
        checkpoint.save(self.path)


class SqliteCheckpoint:
    """A checkpoint row in the consumer's own sqlite3 database. :meth:`save` does not commit:
    call it inside the transaction that stores the notifications, so both happen or neither
    (exactly-once with :meth:`NotificationStream.consume`)."""

    def __init__(self, connection: sqlite3.Connection, name: str = "notifications") -> None:
        self.connection = connection
        self.name = name
        busy = connection.in_transaction  # never commit the caller's open transaction
        connection.execute(
            "CREATE TABLE IF NOT EXISTS telcochain_checkpoint (name TEXT PRIMARY KEY, state TEXT NOT NULL)"
        )
        if not busy:
            connection.commit()

    def load(self) -> Checkpoint | None:
        row = self.connection.execute("SELECT state FROM telcochain_checkpoint WHERE name = ?", (self.name,)).fetchone()
        return Checkpoint.from_json(row[0], f"checkpoint {self.name!r}") if row else None

    def save(self, checkpoint: Checkpoint) -> None:
        self.connection.execute(
            "INSERT INTO telcochain_checkpoint (name, state) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET state = excluded.state",
            (self.name, checkpoint.to_json()),
        )


def concerns(member: str | None) -> Callable[[Event], bool]:
    """The default filter: events naming ``member`` in any address field, and broadcast vote requests."""
    if member is None:
        return lambda event: True
    me = member.lower()

    def match(event: Event) -> bool:
        if event.name == "VoteRequested" and str(event.args.get("voter", "")).lower() == ZERO_ADDRESS:
            return True
        return any(isinstance(v, str) and v.lower() == me for v in event.args.values())

    return match


class NotificationStream:
    """Poll the consortium's contracts for this member's notifications, durably."""

    def __init__(
        self,
        client: Session,
        checkpoint: str | os.PathLike[str] | CheckpointStore | None = None,
        *,
        confirmations: int = 0,
        from_block: int | None = None,
        select: Callable[[Event], bool] | None = None,
        max_range: int = MAX_RANGE,
    ) -> None:
        self.client = client
        if checkpoint is None or isinstance(checkpoint, CheckpointStore):
            self.store: CheckpointStore | None = checkpoint
        else:
            self.store = FileCheckpoint(checkpoint)
        self.path = self.store.path if isinstance(self.store, FileCheckpoint) else None
        self.confirmations = confirmations
        self.max_range = max_range
        self.select = select or concerns(client.address)
        self.contracts = [client.contract(name) for name in client.deployment.contracts]
        self.by_address = {c.address.lower(): c for c in self.contracts}
        self.state = (self.store.load() if self.store else None) or Checkpoint()
        self._head = self.state.block  # the confirmed head of the last poll
        self._head_hash: str | None = None  # and its hash (checked before acknowledging through it)
        if self.state.block < 0:
            start = client.deployment.start_block if from_block is None else from_block
            self.state.block = start - 1

    def start_at(self, block: int) -> None:
        """Deliver again from ``block`` on (a replay), whatever the checkpoint says."""
        self.state.block, self.state.partial, self.state.hashes = block - 1, [], {}

    # -- reading -------------------------------------------------------------------------------

    def _rewind_if_reorganised(self) -> None:
        """If the chain no longer holds the blocks we delivered, go back to the fork point."""
        if not self.state.hashes:
            return
        numbers = sorted(self.state.hashes, reverse=True)
        answers = self.client.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        diverged = False
        for number, block in zip(numbers, answers, strict=True):
            if block is not None and block["hash"] == self.state.hashes[number]:
                if diverged:  # the fork is above `number`: deliver the new branch from there
                    self.state.block, self.state.partial = min(self.state.block, number), []
                    self.state.hashes = {n: h for n, h in self.state.hashes.items() if n <= number}
                return
            diverged = True
        oldest = numbers[-1]  # deeper than we remember: restart from before our oldest hash
        self.state.block, self.state.partial, self.state.hashes = oldest - 1, [], {}

    def poll(self) -> list[Notification]:
        """The notifications not yet acknowledged, up to the confirmed head (not acknowledged yet)."""
        self._rewind_if_reorganised()
        latest = self.client.rpc.call("eth_getBlockByNumber", ["latest", False])
        head = hexint(latest["number"]) - self.confirmations
        start = self.state.block + 1
        # The head is remembered even when there is nothing to read: a stale head would later
        # be acknowledged past blocks the node no longer has (after a rollback). Its hash is
        # read before the logs, so acknowledging through it checks nothing changed meanwhile.
        self._head, self._head_hash = head, None
        if head < start:
            return []
        if self.confirmations:
            latest = self.client.rpc.call("eth_getBlockByNumber", [hex(head), False])
        self._head_hash = latest["hash"] if latest else None
        logs = get_logs(self.client.rpc, list(self.by_address), [], start, head, max_range=self.max_range)
        found: list[Notification] = []
        for log in logs:
            if log.block_number == start and log.log_index in self.state.partial:
                continue  # delivered before a restart
            contract: Contract | None = self.by_address.get(log.address.lower())
            event = contract.decode_log(log) if contract else None
            if event is not None and self.select(event):
                name = contract.name if contract else ""
                found.append(
                    Notification(
                        event.name, name, event.args, log.block_number, log.block_hash, log.log_index, log.tx_hash
                    )
                )
        return found

    def ack(self, notification: Notification) -> None:
        """Mark ``notification`` (and everything before it) as delivered; saved at once.

        Its block hash is remembered: if that block is later rolled back, the next poll
        rewinds to the fork point and delivers the new branch.
        """
        self._advance(self.state, notification)
        self._save()

    @staticmethod
    def _advance(state: Checkpoint, notification: Notification) -> None:
        if notification.block_number > state.block + 1:
            state.block, state.partial = notification.block_number - 1, []
        state.partial.append(notification.log_index)
        NotificationStream._remember_in(state, notification.block_number, notification.block_hash)

    def ack_through(self, block: int, block_hash: str | None = None) -> bool:
        """Everything up to ``block`` is delivered (after a poll that returned nothing more).

        Acknowledged only if the node has that block (with ``block_hash``, when given): a
        stream never acknowledges past the chain it reads. Returns whether it did.
        """
        state = self._through(self.state.copy(), block, block_hash)
        if state is None:
            return False
        self.state = state
        self._save()
        return True

    def _through(self, state: Checkpoint, block: int, block_hash: str | None) -> Checkpoint | None:
        if block <= state.block:
            return state
        answer = self.client.rpc.call("eth_getBlockByNumber", [hex(block), False])
        if not answer or (block_hash is not None and answer["hash"] != block_hash):
            return None  # rolled back since the poll: the next poll rewinds and reads again
        state.block, state.partial = block, []
        self._remember_in(state, block, answer["hash"])
        return state

    @staticmethod
    def _remember_in(state: Checkpoint, number: int, block_hash: str) -> None:
        state.hashes[number] = block_hash
        for old in sorted(state.hashes)[:-HISTORY]:
            del state.hashes[old]

    def _save(self) -> None:
        if self.store is not None:
            self.store.save(self.state)

    # -- exactly-once consumers --------------------------------------------------------------

    def consume(
        self,
        on_batch: Callable[[list[Notification], Checkpoint], None],
        poll_interval: float = 1.0,
        stop: Callable[[], bool] | None = None,
        *,
        until_caught_up: bool = False,
    ) -> int:
        """Deliver in batches with a transactional acknowledgement; returns how many were delivered.

        ``on_batch(notifications, checkpoint)`` gets each poll's notifications and the checkpoint
        that acknowledges them (and the head). Store both in one transaction of your database —
        e.g. rows plus ``SqliteCheckpoint(conn).save(checkpoint)`` in ``with conn:`` — and the
        stream is exactly-once: a crash before the commit redelivers the batch, after it never.
        The stream's own store (if it has one) is not written here: yours is the record. If
        ``on_batch`` raises, nothing is acknowledged and the exception propagates.
        """
        delivered = 0
        while stop is None or not stop():
            batch = self.poll()
            state = self.state.copy()
            for notification in batch:
                self._advance(state, notification)
            through = self._through(state, self._head, self._head_hash) if self._head_hash else None
            if batch or through is not None:
                on_batch(batch, through or state)
                self.state = through or state
                delivered += len(batch)
            if not batch:
                if until_caught_up:
                    return delivered
                time.sleep(poll_interval)
        return delivered

    # -- the blocking iterator -------------------------------------------------------------

    def __iter__(self) -> Iterator[Notification]:
        """Yield notifications forever; each is acknowledged once the consumer asks for the next."""
        return self.follow()

    async def aiter(self, poll_interval: float = 1.0) -> AsyncIterator[Notification]:
        """The asyncio form: ``async for n in stream.aiter(): ...`` (polls in a worker thread)."""
        while True:
            batch = await asyncio.to_thread(self.poll)
            for notification in batch:
                yield notification
                await asyncio.to_thread(self.ack, notification)
            if self._head_hash:
                await asyncio.to_thread(self.ack_through, self._head, self._head_hash)
            if not batch:
                await asyncio.sleep(poll_interval)

    def follow(
        self,
        poll_interval: float = 1.0,
        stop: Callable[[], bool] | None = None,
        *,
        until_caught_up: bool = False,
        ws_url: str | None = None,
    ) -> Iterator[Notification]:
        """Like ``iter(stream)``, with a poll interval, an optional stop condition, or returning
        as soon as a poll finds nothing new (``until_caught_up``).

        With ``ws_url`` (e.g. ``ws://127.0.0.1:8545``; Besu: ``--rpc-ws-enabled``, port 8546)
        a new block wakes the stream at once; ``poll_interval`` is then only the longest wait.
        """
        waiter = HeadWaiter(ws_url) if ws_url else None
        try:
            while stop is None or not stop():
                batch = self.poll()
                for notification in batch:
                    yield notification
                    self.ack(notification)
                if self._head_hash:
                    self.ack_through(self._head, self._head_hash)
                if not batch:
                    if until_caught_up:
                        return
                    if waiter is not None:
                        waiter.wait(poll_interval)
                    else:
                        time.sleep(poll_interval)
        finally:
            if waiter is not None:
                waiter.close()


class HeadWaiter:
    """Waits for the next block announced by an ``eth_subscribe("newHeads")`` websocket
    subscription; without a working connection it waits out the timeout (plain polling) and
    tries to reconnect at most every ``reconnect_delay`` seconds."""

    def __init__(self, url: str, reconnect_delay: float = RECONNECT_DELAY) -> None:
        self.url = url
        self.reconnect_delay = reconnect_delay
        self.connection: Any = None
        self.subscription: str | None = None
        self._next_attempt = 0.0
        self.connects = 0  # successful (re)connections, for monitoring and tests

    @property
    def connected(self) -> bool:
        return self.connection is not None

    def _connect(self) -> None:
        from websockets.sync.client import connect

        connection = connect(self.url, open_timeout=5, close_timeout=1, proxy=None)
        try:
            request = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
            connection.send(json.dumps(request))
            answer = json.loads(connection.recv(timeout=5))
            if "result" not in answer:
                raise ConnectionError(f"eth_subscribe refused: {answer.get('error')}")
        except BaseException:
            connection.close()
            raise
        self.connection, self.subscription = connection, str(answer["result"])
        self.connects += 1

    def wait(self, timeout: float) -> bool:
        """Block until a new head arrives (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        if self.connection is None and time.monotonic() >= self._next_attempt:
            try:
                self._connect()
            except Exception as exc:  # no websocket here (or not now): keep polling
                self._next_attempt = time.monotonic() + self.reconnect_delay
                log.info("websocket %s unavailable (%s); polling", self.url, exc)
        if self.connection is None:
            time.sleep(max(0.0, min(timeout, self._next_attempt - time.monotonic(), timeout)))
            return False
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                message = json.loads(self.connection.recv(timeout=left))
                if message.get("method") == "eth_subscription":
                    self._drain()
                    return True
        except TimeoutError:
            return False
        except Exception as exc:  # dropped: the next poll backfills from the checkpoint
            log.info("websocket %s dropped (%s); polling until it is back", self.url, exc)
            self.close()
            self._next_attempt = time.monotonic() + self.reconnect_delay
            return True  # poll at once: blocks may have come while the connection was dying

    def _drain(self) -> None:
        """Swallow head announcements already queued: one poll covers them all."""
        try:
            while self.connection is not None:
                self.connection.recv(timeout=0)
        except TimeoutError:
            pass

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # already gone
                self.connection.close()
        self.connection, self.subscription = None, None
