"""The seed's getNotification: a durable stream of the events that concern one member.

A member back-end reads what concerns it — actions it ran or that were denied, votes
requested from it, asset changes it made or is custodian of — as typed records decoded
from the contracts' events, polling ``eth_getLogs`` in bounded windows.

Durable: the checkpoint (a small JSON file, replaced atomically) records the last block
fully delivered, its hash, and the log indexes already delivered in the next one; it is
saved in the same step as the acknowledgement, so a listener that stops and restarts
neither misses nor repeats a notification (identity: block hash + log index).

Reorg-safe: the stream can stay ``confirmations`` blocks behind the head, and it keeps the
hashes of recent blocks; if the chain no longer has the checkpoint's block, it rewinds to
the newest block it still agrees with and delivers the new branch.

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
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telcochain.contract import Contract, Event
from telcochain.events import MAX_RANGE, get_logs
from telcochain.tx import hexint

if TYPE_CHECKING:
    from telcochain.client import Client

#: Block hashes kept to find the fork point after a reorganisation.
HISTORY = 128
#: Seconds between reconnection attempts of a dropped websocket subscription.
RECONNECT_DELAY = 2.0

log = logging.getLogger(__name__)
ZERO_ADDRESS = "0x" + "00" * 20


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

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        return cls(
            int(data["block"]), list(data.get("partial", [])), {int(k): v for k, v in data.get("hashes", {}).items()}
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps({"block": self.block, "partial": self.partial, "hashes": self.hashes}))
        os.replace(tmp, path)  # atomic: a crash leaves the old or the new checkpoint, never half of one


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
        client: Client,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        confirmations: int = 0,
        from_block: int | None = None,
        select: Callable[[Event], bool] | None = None,
        max_range: int = MAX_RANGE,
    ) -> None:
        self.client = client
        self.path = Path(checkpoint) if checkpoint is not None else None
        self.confirmations = confirmations
        self.max_range = max_range
        self.select = select or concerns(client.address)
        self.contracts = [client.contract(name) for name in client.deployment.contracts]
        self.by_address = {c.address.lower(): c for c in self.contracts}
        self.state = Checkpoint.load(self.path) if self.path else Checkpoint()
        self._head = self.state.block  # the confirmed head of the last poll
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
        head = hexint(self.client.rpc.call("eth_blockNumber")) - self.confirmations
        start = self.state.block + 1
        if head < start:
            return []
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
        self._head = head
        return found

    def ack(self, notification: Notification) -> None:
        """Mark ``notification`` (and everything before it) as delivered; saved at once."""
        if notification.block_number > self.state.block + 1:
            self.state.block, self.state.partial = notification.block_number - 1, []
        self.state.partial.append(notification.log_index)
        self._remember(notification.block_number, notification.block_hash)
        self._save()

    def ack_through(self, block: int) -> None:
        """Everything up to ``block`` is delivered (call after a poll that returned nothing more)."""
        if block > self.state.block:
            answer = self.client.rpc.call("eth_getBlockByNumber", [hex(block), False])
            self.state.block, self.state.partial = block, []
            if answer:
                self._remember(block, answer["hash"])
            self._save()

    def _remember(self, number: int, block_hash: str) -> None:
        self.state.hashes[number] = block_hash
        for old in sorted(self.state.hashes)[:-HISTORY]:
            del self.state.hashes[old]

    def _save(self) -> None:
        if self.path is not None:
            self.state.save(self.path)

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
            await asyncio.to_thread(self.ack_through, self._head)
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
                self.ack_through(self._head)
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
