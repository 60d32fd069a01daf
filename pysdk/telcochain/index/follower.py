"""Following the chain into the index database: no gap, no duplicate, reorg-safe.

One **step** reads the logs of a span of confirmed blocks (``eth_getLogs`` in windows of at
most 1,000 blocks — Besu's cap — many windows per JSON-RPC batch), the headers of the blocks
that have logs, and then writes, in **one database transaction**: the blocks, the raw events,
the projection rows, the facts read from views, and the checkpoint (the last block indexed
and its hash). A process killed at any moment leaves the previous transaction's state: the
next run resumes at the checkpoint, so nothing is skipped and nothing is written twice.

**Reorgs.** Before each step the checkpoint's hash is compared with the chain's block at that
height. If they differ, the newest indexed block the chain still has is found among the kept
block hashes, and, in one transaction, every event above it is deleted and the projections
are rebuilt from the remaining raw events (a replay needs no RPC beyond the views). With
``confirmations`` > 0 the index stays that many blocks behind the head, so a shallow reorg
never reaches it; QBFT (Besu) never reorganises at all.

The span per step adapts to the density of the chain (fewer blocks when blocks are full) so
one transaction stays around ``target_events`` rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from telcochain.contract import Contract
from telcochain.errors import TelcochainError
from telcochain.events import MAX_RANGE, WINDOWS_PER_BATCH
from telcochain.index import schema as s
from telcochain.index.db import bulk_insert
from telcochain.index.decode import Decoder
from telcochain.index.projections import Ev, Projector
from telcochain.index.store import IndexStore
from telcochain.rpc import Rpc
from telcochain.tx import hexint

log = logging.getLogger(__name__)

#: How many kept block hashes are compared to find a fork point.
REORG_DEPTH = 256


class IndexMismatch(TelcochainError, ValueError):
    """The database indexes another chain or deployment."""


@dataclass
class _Span:
    """What one step read from the node."""

    start: int
    end: int
    head: int
    logs: list[dict[str, Any]]
    headers: dict[int, dict[str, Any]]
    parent_hash: str | None  # of block start - 1, as read with this span


@dataclass
class StepResult:
    """What one step did."""

    from_block: int
    to_block: int
    events: int
    head: int
    rolled_back_to: int | None = None

    @property
    def lag(self) -> int:
        return self.head - self.to_block


class Follower:
    """Indexes a deployment's events into an :class:`IndexStore`."""

    def __init__(
        self,
        store: IndexStore,
        rpc: Rpc,
        contracts: dict[str, str],
        *,
        chain_id: int,
        start_block: int = 0,
        confirmations: int = 0,
        max_range: int = MAX_RANGE,
        target_events: int = 20_000,
        max_span: int = 20_000,
    ) -> None:
        self.store = store
        self.rpc = rpc
        self.contracts_by_name = contracts
        self.bindings = {name: Contract(name, address, rpc) for name, address in contracts.items()}
        self.decoder = Decoder(contracts)
        self.chain_id = chain_id
        self.start_block = start_block
        self.confirmations = confirmations
        self.max_range = max_range
        self.target_events = target_events
        self.max_span = max_span
        self.span = min(100, max_span)  # grows on sparse chains, shrinks on dense ones (_adapt)
        if max_span < 1:
            raise ValueError("max_span: at least one block per step")
        self.projector: Projector | None = None
        self._check_identity()

    @classmethod
    def for_client(cls, store: IndexStore, client: Any, **options: Any) -> Follower:
        """A follower of ``client``'s deployment (a :class:`telcochain.Client`)."""
        contracts = {name: c.address for name, c in client.deployment.contracts.items()}
        return cls(
            store,
            client.rpc,
            contracts,
            chain_id=client.chain.chain_id,
            start_block=client.deployment.start_block,
            **options,
        )

    # -- identity and checkpoint -----------------------------------------------------------

    def _check_identity(self) -> None:
        identity = {
            "chain_id": str(self.chain_id),
            "constitution": self.contracts_by_name.get("Constitution", "").lower(),
        }
        with self.store.engine.begin() as connection:
            known = self.store.meta(connection)
            for key, value in identity.items():
                if key in known and known[key] != value:
                    raise IndexMismatch(
                        f"the index database holds {key} {known[key]}, not {value}: "
                        "use another --db, or `telcochain index --reset`"
                    )
            for key, value in identity.items():
                if key not in known:
                    self.store.set_meta(connection, key, value)

    def checkpoint(self) -> tuple[int, str | None]:
        """(last block indexed, its hash); ``start_block - 1`` before the first step."""
        with self.store.engine.connect() as connection:
            meta = self.store.meta(connection)
        if "checkpoint_block" not in meta:
            return self.start_block - 1, None
        return int(meta["checkpoint_block"]), meta.get("checkpoint_hash")

    def head(self) -> int:
        return hexint(self.rpc.call("eth_blockNumber"))

    # -- one step ---------------------------------------------------------------------------

    def step(self) -> StepResult:
        """Index the next span of confirmed blocks (or roll back a reorg); one transaction."""
        rolled = self._rollback_if_reorganised()
        last, last_hash = self.checkpoint()
        chain_head = self.head()
        head = chain_head - self.confirmations
        start = last + 1
        if head < start:
            return StepResult(start, last, 0, chain_head, rolled)
        span = self._read(start, min(head, start + self.span - 1), chain_head)
        if span is None:
            return StepResult(start, last, 0, chain_head, rolled)
        return self._commit(span, last_hash, rolled)

    def _read(self, start: int, end: int, chain_head: int) -> _Span | None:
        """The logs of ``start..end`` and the headers they need (None: the chain moved meanwhile)."""
        raw_logs = self._logs(start, end)
        numbers = sorted({r["_n"] for r in raw_logs} | {end} | ({start - 1} if start > 0 else set()))
        headers = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        by_number = {n: h for n, h in zip(numbers, headers, strict=True) if h}
        for raw in raw_logs:  # the logs and the headers must be of one branch
            header = by_number.get(raw["_n"])
            if header is None or header["hash"] != raw["blockHash"] or raw.get("removed"):
                log.info("chain moved during the read of %d..%d; retrying", start, end)
                return None
        if end not in by_number:
            return None
        parent = by_number.get(start - 1)
        return _Span(start, end, chain_head, raw_logs, by_number, parent["hash"] if parent else None)

    def _commit(self, span: _Span, last_hash: str | None, rolled: int | None) -> StepResult:
        if last_hash is not None and span.parent_hash is not None and span.parent_hash != last_hash:
            return StepResult(span.start, span.start - 1, 0, span.head, rolled)  # moved: the next step rolls back
        with self.store.engine.begin() as connection:
            count = self._write(connection, span.logs, span.headers, span.end)
        self._adapt(count, span.end - span.start + 1)
        return StepResult(span.start, span.end, count, span.head, rolled)

    def _adapt(self, events: int, blocks: int) -> None:
        if events > self.target_events and self.span > 1:
            self.span = max(1, self.span * self.target_events // max(events, 1))
        elif events < self.target_events // 4 and blocks >= self.span:
            self.span = min(self.max_span, self.span * 2)

    def _logs(self, start: int, end: int) -> list[dict[str, Any]]:
        windows = [(a, min(a + self.max_range - 1, end)) for a in range(start, end + 1, self.max_range)]
        found: list[dict[str, Any]] = []
        addresses = self.decoder.addresses
        for offset in range(0, len(windows), WINDOWS_PER_BATCH):
            chunk = windows[offset : offset + WINDOWS_PER_BATCH]
            answers = self.rpc.batch(
                [("eth_getLogs", [{"address": addresses, "fromBlock": hex(a), "toBlock": hex(b)}]) for a, b in chunk]
            )
            for answer in answers:
                found.extend(answer)
        for raw in found:  # parsed once here (the reader thread), used by the writer
            raw["_n"], raw["_i"] = int(raw["blockNumber"], 16), int(raw["logIndex"], 16)
        found.sort(key=lambda r: (r["_n"], r["_i"]))  # nodes answer in order: a cheap no-op check
        return found

    def _write(
        self, connection: Connection, raw_logs: list[dict[str, Any]], headers: dict[int, dict[str, Any]], end: int
    ) -> int:
        projector = self._projector(connection)
        block_rows = []
        event_rows = []
        stamps = {n: hexint(h["timestamp"]) for n, h in headers.items()}
        for n in sorted({r["_n"] for r in raw_logs}):
            block_rows.append({"number": n, "hash": headers[n]["hash"], "timestamp": stamps[n]})
        decoder = self.decoder
        for raw in raw_logs:
            number, index = raw["_n"], raw["_i"]
            topics = raw["topics"]
            spec = decoder.decode(raw["address"], topics)
            contract = decoder.contract_name(raw["address"])
            if spec is not None:
                try:
                    args = spec.decode(topics, raw["data"])
                except Exception:  # an ABI that no longer fits the log: keep it raw
                    spec, args = None, {"topics": topics, "data": raw["data"]}
            else:
                args = {"topics": topics, "data": raw["data"]}
            name = spec.name if spec is not None else None
            event_rows.append(
                {
                    "block_number": number,
                    "log_index": index,
                    "tx_hash": raw["transactionHash"],
                    "contract": contract,
                    "address": raw["address"].lower(),
                    "name": name,
                    "topic0": topics[0] if topics else None,
                    "key1": topics[1] if len(topics) > 1 else None,
                    "key2": topics[2] if len(topics) > 2 else None,
                    "key3": topics[3] if len(topics) > 3 else None,
                    "args": args,
                }
            )
            if name is not None:
                projector.apply(Ev(number, index, raw["transactionHash"], stamps[number], contract, name, args))
        bulk_insert(connection, s.blocks, block_rows)
        bulk_insert(connection, s.events, event_rows)
        projector.flush()
        projector.refresh(self.bindings, end)
        self.store.set_checkpoint(connection, end, headers[end]["hash"], stamps[end])
        return len(event_rows)

    def _projector(self, connection: Connection) -> Projector:
        if self.projector is None:
            self.projector = Projector(connection)
        self.projector.connection = connection
        return self.projector

    # -- reorgs ----------------------------------------------------------------------------

    def _rollback_if_reorganised(self) -> int | None:
        last, last_hash = self.checkpoint()
        if last_hash is None:
            return None
        answer = self.rpc.call("eth_getBlockByNumber", [hex(last), False])
        if answer is not None and answer["hash"] == last_hash:
            return None
        with self.store.engine.connect() as connection:
            kept = connection.execute(
                select(s.blocks.c.number, s.blocks.c.hash).order_by(s.blocks.c.number.desc()).limit(REORG_DEPTH)
            ).all()
        fork, fork_hash = self.start_block - 1, None  # nothing kept matches: rebuild from the start
        if kept:
            chain = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n, _ in kept])
            for (number, stored), block in zip(kept, chain, strict=True):
                if block is not None and block["hash"] == stored and number < last:
                    fork, fork_hash = number, stored
                    break
        log.warning("reorganisation below block %d: rolling the index back to block %d", last, fork)
        self.rollback(fork, fork_hash)
        return fork

    def rollback(self, to_block: int, to_hash: str | None) -> None:
        """Delete everything above ``to_block`` and rebuild the projections; one transaction."""
        self.projector = None
        with self.store.engine.begin() as connection:
            connection.execute(delete(s.events).where(s.events.c.block_number > to_block))
            connection.execute(delete(s.blocks).where(s.blocks.c.number > to_block))
            self.replay(connection, refresh_block=max(to_block, 0))
            if to_hash is None:
                self.store.clear_checkpoint(connection)
            else:
                stamp = connection.execute(select(s.blocks.c.timestamp).where(s.blocks.c.number == to_block)).scalar()
                self.store.set_checkpoint(connection, to_block, to_hash, stamp)

    def replay(self, connection: Connection, refresh_block: int | None = None, chunk: int = 20_000) -> int:
        """Rebuild every projection table from the raw events (no RPC but the views)."""
        for table in reversed(s.PROJECTION_TABLES):
            connection.execute(delete(table))
        projector = Projector(connection)
        stamps = dict(connection.execute(select(s.blocks.c.number, s.blocks.c.timestamp)).all())
        e = s.events.c
        count = 0
        after = (-1, -1)
        while True:
            rows = connection.execute(
                select(e.block_number, e.log_index, e.tx_hash, e.contract, e.name, e.args)
                .where(e.name.is_not(None))
                .where((e.block_number > after[0]) | ((e.block_number == after[0]) & (e.log_index > after[1])))
                .order_by(e.block_number, e.log_index)
                .limit(chunk)
            ).all()
            if not rows:
                break
            for b, i, tx, contract, name, args in rows:
                projector.apply(Ev(b, i, tx, stamps.get(b, 0), contract, name, args))
            projector.flush()
            count += len(rows)
            after = (rows[-1][0], rows[-1][1])
        if refresh_block is not None:
            projector.refresh(self.bindings, refresh_block)
        return count

    # -- loops --------------------------------------------------------------------------------

    def catch_up(self, progress: Callable[[StepResult], None] | None = None) -> int:
        """Steps until the confirmed head is indexed; the number of events written. The next
        span is read from the node while the current one is written (one reader thread)."""
        total = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-read") as reader:
            ahead: Future[_Span | None] | None = None
            while True:
                rolled = self._rollback_if_reorganised()
                last, last_hash = self.checkpoint()
                span = ahead.result() if ahead is not None else None
                ahead = None
                if span is not None and (rolled is not None or span.start != last + 1):
                    span = None  # read before a rollback: read again
                if span is None:
                    chain_head = self.head()
                    start, head = last + 1, chain_head - self.confirmations
                    if head < start:
                        if progress is not None:
                            progress(StepResult(start, last, 0, chain_head, rolled))
                        return total
                    span = self._read(start, min(head, start + self.span - 1), chain_head)
                    if span is None:
                        continue
                following, head = span.end + 1, span.head - self.confirmations
                if following <= head:
                    ahead = reader.submit(self._read, following, min(head, following + self.span - 1), span.head)
                result = self._commit(span, last_hash, rolled)
                total += result.events
                if progress is not None:
                    progress(result)
                if ahead is None and result.to_block >= result.head - self.confirmations:
                    return total

    def follow(self, poll_interval: float = 1.0, stop: Callable[[], bool] | None = None) -> Iterator[StepResult]:
        """Index forever (or until ``stop()``), yielding each step that did something."""
        while stop is None or not stop():
            result = self.step()
            if result.events or result.rolled_back_to is not None or result.to_block >= result.from_block:
                yield result
            if result.to_block >= result.head - self.confirmations:
                time.sleep(poll_interval)
