"""The high-throughput transaction path: :class:`Pipeline`.

Thousands of independent transactions a second through one node, each with its own outcome::

    with Pipeline(client.rpc, [acct0, acct1, acct2], client.chain) as pipe:
        tickets = pipe.submit(Operation(to, calldata, gas=150_000) for calldata in calls)
        pipe.drain(timeout=120)
    for t in tickets:
        print(t.status, t.tx_hash, t.block_number, t.gas_used, t.latency)

How it goes fast, and stays exact:

- **Signing ahead** with the SDK's one signer (:class:`~telcochain.signing.FastSigner`, shared
  with :class:`~telcochain.tx.TxSender` with the same fee rule, nonce allocator and refusal
  classifier: :mod:`telcochain.signing`): RLP by hand and coincurve, ~15-20k signatures/s on
  one core versus ~2k through eth-account, in the caller's thread or, with
  ``sign_processes=N``, in a pool of worker processes.
- **Local nonces** per sender, seeded once from the pending count. A "nonce too low" (or a
  replacement refused) means someone else used that nonce: the sender is resynchronised and
  the operation re-signed with a fresh nonce — it cannot run twice, because its first
  transaction was refused. A transaction the node refuses for any other reason is reported
  ``refused`` and its nonce is filled with a zero-value self-transfer, so later nonces of
  that sender are not stuck behind a gap.
- **Several senders**: operations go round-robin over the accounts (or to the one an
  :class:`Operation` names, when order matters: one sender's transactions run in nonce order).
  The accounts may be one member's own key and its delegates (``Constitution.addDelegate``:
  a delegate's actions run as its member's). With ``max_pending_per_sender`` (a Besu node
  keeps ~200 pending transactions per sender) an operation goes to the sender with the fewest
  pending, and :meth:`Pipeline.submit` waits while every eligible sender is at the cap;
  :attr:`Pipeline.senders_used` says how many accounts carried operations.
- **JSON-RPC batches** of ``eth_sendRawTransaction`` from a sender thread (the HTTP wait
  releases the GIL, so signing continues while the node ingests).
- **Receipts per block**: a collector thread follows the head and reads each new block with
  ``eth_getBlockReceipts`` (one call per block), falling back to batched
  ``eth_getTransactionReceipt`` for nodes without it.
- **Rebroadcast**: a transaction not mined ``rebroadcast_after`` seconds after it was sent is
  sent again — the same signed bytes, so the same hash: it can only be mined once.
- **Faults**: a send batch that gets no answer (dropped, refused, HTTP 503, not JSON) is sent
  again, the same bytes, with backoff, until the node answers; the collector waits out an
  unreachable node the same way. "Nonce too low" never re-signs blindly: the operation is
  re-signed only once the chain shows its nonce mined by another transaction and no receipt
  for ours. A worker thread that dies stops the pipeline: :meth:`Pipeline.submit` and
  :meth:`Pipeline.drain` raise :class:`~telcochain.errors.PipelineStopped` with the cause,
  and :meth:`Pipeline.resume` (on this pipeline or a new one) settles the operations that are
  not final by their hash and rebroadcasts the ones the node lost — never applied twice.
- **Outcomes**: every operation gets an :class:`OpOutcome` (hash, sender, nonce, block,
  status, gas, latency, rebroadcasts, error). Errors are :mod:`telcochain.errors` types.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from eth_account.signers.local import LocalAccount

from telcochain.errors import (
    ConfigurationError,
    NodeUnreachable,
    PipelineStopped,
    RpcError,
    TelcochainError,
    TransactionError,
)
from telcochain.rpc import Rpc
from telcochain.signing import FastSigner as FastSigner  # re-exported: the one signer lives in signing
from telcochain.signing import Nonces, Refusal, classify_refusal
from telcochain.tx import ChainInfo, FeeMode, hexint, probe_chain

__all__ = [
    "FastSigner",
    "OpOutcome",
    "OpStatus",
    "Operation",
    "Pipeline",
    "PipelineStats",
    "senders_needed",
]

# -- operations and outcomes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    """One transaction to send: ``to`` (None: contract creation), calldata, a fixed gas limit.

    ``sender`` is an index into the pipeline's accounts (None: round robin); give it when
    operations must run in order (one sender's transactions are mined in nonce order).
    ``tag`` is carried to the outcome untouched.
    """

    to: str | None
    data: bytes | str
    gas: int
    value: int = 0
    sender: int | None = None
    tag: Any = None


class OpStatus(str, Enum):
    PENDING = "pending"  # signed, not sent yet or not mined yet
    CONFIRMED = "confirmed"  # mined, status 1
    REVERTED = "reverted"  # mined, status 0
    REFUSED = "refused"  # the node refused the transaction (never mined)
    LOST = "lost"  # the node took it, but it was not mined before the deadline of drain()
    UNKNOWN = "unknown"  # sent, no answer ever came: may be mined yet (resolve with resume())


@dataclass(slots=True, eq=False)
class OpOutcome:
    """What became of one :class:`Operation` (filled in as the pipeline works).

    Times are ``time.monotonic()`` seconds; ``latency`` runs from submission to the moment
    the collector saw the receipt.
    """

    index: int
    operation: Operation
    sender: str = ""
    nonce: int = -1
    tx_hash: str = ""
    status: OpStatus = OpStatus.PENDING
    block_number: int | None = None
    gas_used: int = 0
    submitted_at: float = 0.0
    sent_at: float = 0.0
    confirmed_at: float = 0.0
    rebroadcasts: int = 0
    resigned: int = 0
    error: TelcochainError | None = None
    logs: list[dict[str, Any]] | None = field(default=None, repr=False)
    _raw: bytes = field(default=b"", repr=False)
    _last_sent: float = field(default=0.0, repr=False)
    _answered: bool = field(default=False, repr=False)  # the node answered a send of it

    @property
    def tag(self) -> Any:
        return self.operation.tag

    @property
    def done(self) -> bool:
        return self.status is not OpStatus.PENDING

    @property
    def final(self) -> bool:
        """Mined (confirmed or reverted) or refused: nothing can change it any more."""
        return self.status in (OpStatus.CONFIRMED, OpStatus.REVERTED, OpStatus.REFUSED)

    @property
    def latency(self) -> float | None:
        """Seconds from submission to receipt (None until mined)."""
        return self.confirmed_at - self.submitted_at if self.confirmed_at else None


@dataclass
class PipelineStats:
    """Counters of a pipeline's work (for benchmarks and diagnosis)."""

    submitted: int = 0
    sent: int = 0
    send_batches: int = 0
    rebroadcasts: int = 0
    resyncs: int = 0
    refused: int = 0
    send_retries: int = 0  # send batches sent again after no answer
    outages: int = 0  # times the node stopped answering the collector
    resumed: int = 0
    fillers: int = 0
    blocks: int = 0
    receipts_seen: int = 0
    sign_seconds: float = 0.0
    send_seconds: float = 0.0
    collect_seconds: float = 0.0


# -- worker processes for signing -----------------------------------------------------------

_WORKER_SIGNERS: list[FastSigner] = []


def _worker_init(keys: list[bytes], chain_id: int, fee_mode: str, gas_price: int) -> None:
    _WORKER_SIGNERS[:] = [FastSigner(k, chain_id, FeeMode(fee_mode), gas_price) for k in keys]


def _worker_sign(jobs: list[tuple[int, int, bytes | None, bytes, int, int]]) -> list[tuple[bytes, bytes]]:
    return [_WORKER_SIGNERS[s].sign(nonce, to, data, gas, value) for s, nonce, to, data, gas, value in jobs]


# -- the pipeline ---------------------------------------------------------------------------------


class _Sender:
    def __init__(self, index: int, signer: FastSigner) -> None:
        self.index = index
        self.signer = signer
        self.address: str = signer.address
        self.nonces = Nonces()
        self.pending = 0  # submitted, not yet mined, refused or given up (guarded by the pipeline's lock)
        self.used = 0  # operations carried


class Pipeline:
    """Signs ahead, sends in JSON-RPC batches from several accounts, follows receipts per block.

    Use as a context manager (threads start on entry and stop on exit) or call
    :meth:`start` / :meth:`close`. :meth:`submit` is thread-safe; :meth:`drain` waits.

    :param rpc: the node.
    :param accounts: the sender accounts (``LocalAccount`` or raw 32-byte private keys).
    :param chain: the chain's fee model (probed when omitted).
    :param send_batch: most ``eth_sendRawTransaction`` per HTTP request.
    :param max_request_bytes: and at most about this many bytes of signed transactions per
        request (nodes cap the body: anvil refuses a few megabytes as an invalid request).
    :param rebroadcast_after: seconds before an unmined transaction is sent again.
    :param receipts: how outcomes are read. ``"auto"`` (``eth_getBlockReceipts``, falling back
        to ``"tx"`` when the node lacks it), ``"block"``, ``"tx"`` (batched
        ``eth_getTransactionReceipt``), or ``"logs"``: inclusion from each block's transaction
        list and success from ``eth_getLogs`` — for nodes whose receipts are expensive (anvil
        builds a block's receipts in time quadratic in its size: 16 s for 4,000). Exact: a
        mined transaction is confirmed when it emitted a log matching ``success_logs``, and one
        that did not has its receipt read (reverted, or a success the filter missed). Gas is
        read from ``gas_samples`` receipts per block (``gas_used`` is 0 on the others).
        ``"inclusion"``: mined = confirmed, from each block's transaction list alone — only for
        transactions that cannot revert (plain value transfers with their 21,000 gas); gas is
        sampled as for ``"logs"``.
    :param success_logs: for ``"logs"``: ``eth_getLogs`` filter fields (``address``,
        ``topics``) that every successful operation's transaction matches at least once.
    :param sign_processes: worker processes for signing (0: sign in the caller's thread).
    :param send_threads: threads posting batches concurrently (a node may ingest in parallel).
    :param keep_logs: keep each receipt's raw logs in its outcome (for decoding events).
    :param poll_interval: seconds between looks at the chain head.
    :param max_pending_per_sender: at most this many operations of one sender submitted and not
        yet mined (None: no cap). Unnamed operations go to the sender with the fewest pending;
        :meth:`submit` waits for room (a node's pool refuses a sender's excess: Besu keeps about
        200 per sender).
    """

    def __init__(
        self,
        rpc: Rpc,
        accounts: Sequence[LocalAccount | bytes],
        chain: ChainInfo | None = None,
        *,
        send_batch: int = 500,
        max_request_bytes: int = 512 * 1024,
        rebroadcast_after: float = 10.0,
        receipts: str = "auto",
        success_logs: dict[str, Any] | None = None,
        gas_samples: int = 2,
        sign_processes: int = 0,
        send_threads: int = 1,
        keep_logs: bool = False,
        poll_interval: float = 0.05,
        max_pending_per_sender: int | None = None,
    ) -> None:
        if not accounts:
            raise ConfigurationError("a pipeline needs at least one sender account")
        if max_pending_per_sender is not None and max_pending_per_sender < 1:
            raise ConfigurationError("max_pending_per_sender must be at least 1 (or None: no cap)")
        if receipts not in ("auto", "block", "tx", "logs", "inclusion"):
            raise ConfigurationError("receipts must be 'auto', 'block', 'tx', 'logs' or 'inclusion'")
        if receipts == "logs" and not success_logs:
            raise ConfigurationError("receipts='logs' needs success_logs: the log filter every successful op matches")
        self.rpc = rpc
        self.chain = chain or probe_chain(rpc)
        self.send_batch = send_batch
        self.max_request_bytes = max_request_bytes
        self.rebroadcast_after = rebroadcast_after
        self.receipt_mode = receipts
        self.success_logs = dict(success_logs or {})
        self.gas_samples = gas_samples
        self.keep_logs = keep_logs
        self.poll_interval = poll_interval
        self.stats = PipelineStats()
        self._senders = [_Sender(i, FastSigner.for_account(a, self.chain)) for i, a in enumerate(accounts)]
        if len({s.address for s in self._senders}) != len(self._senders):
            raise ConfigurationError("the pipeline's sender accounts must be distinct")
        self._by_address = {s.address: s for s in self._senders}
        self.max_pending_per_sender = max_pending_per_sender
        self._round_robin = itertools.cycle(range(len(self._senders)))
        self._indexes = itertools.count()
        self._lock = threading.Lock()  # guards _in_flight, _unsent, outcome state changes
        self._in_flight: dict[str, OpOutcome] = {}  # tx hash → outcome (sent, not mined)
        self._unsent = 0
        self._settling = 0  # mined, outcome being read (receipts="logs")
        self._all_done = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)  # a sender's pending count went down
        self._send_queue: queue.Queue[OpOutcome | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._last_block: int | None = None
        self._thread_error: BaseException | None = None
        self._unresolved: list[OpOutcome] = []  # lost or unknown at a drain deadline (for resume)
        self._pool: Any = None
        if sign_processes > 0:
            ctx = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
            self._pool = ctx.Pool(
                sign_processes,
                initializer=_worker_init,
                initargs=(
                    [s.signer.private_key for s in self._senders],
                    self.chain.chain_id,
                    self.chain.fee_mode.value,
                    self.chain.gas_price,
                ),
            )
        self._sign_processes = sign_processes
        self.send_threads = max(1, send_threads)

    # -- life cycle -----------------------------------------------------------------------

    @property
    def addresses(self) -> list[str]:
        return [s.address for s in self._senders]

    @property
    def senders_used(self) -> int:
        """How many of the accounts carried at least one operation so far."""
        return sum(1 for s in self._senders if s.used)

    def pending_by_sender(self) -> dict[str, int]:
        """Operations per sender submitted and not yet mined, refused or given up."""
        with self._lock:
            return {s.address: s.pending for s in self._senders}

    def start(self) -> Pipeline:
        if self._threads:
            return self
        self._last_block = hexint(_retrying(lambda: self.rpc.call("eth_blockNumber")))
        _retrying(lambda: self._seed_nonces(self._senders))
        loops = [(self._send_loop, f"pipeline-send-{n}") for n in range(self.send_threads)]
        for target, name in [*loops, (self._collect_loop, "pipeline-collect")]:
            thread = threading.Thread(target=self._guard(target), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop the threads (pending operations stay pending) and the signing processes."""
        self._stop.set()
        for _ in range(self.send_threads):
            self._send_queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> Pipeline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _guard(self, target: Any) -> Any:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # surfaced by submit() and drain()
                self._thread_error = exc
                self._stop.set()
                with self._lock:
                    self._all_done.notify_all()

        return run

    # -- submitting -----------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Operations submitted and not yet final."""
        with self._lock:
            return self._unsent + len(self._in_flight) + self._settling

    def submit(self, operations: Iterable[Operation]) -> list[OpOutcome]:
        """Sign and queue ``operations``; returns their outcomes (filled in as they are mined)."""
        if self._thread_error is not None:
            raise PipelineStopped(self._thread_error) from self._thread_error
        if not self._threads:
            raise ConfigurationError("start the pipeline first (use it as a context manager)")
        now = time.monotonic()
        outcomes: list[OpOutcome] = []
        chunk: list[OpOutcome] = []
        for op in operations:
            if op.sender is not None and not 0 <= op.sender < len(self._senders):
                raise ConfigurationError(f"no sender #{op.sender} in this pipeline ({len(self._senders)} senders)")
            sender = self._take_sender(op.sender)
            if sender is None:  # every eligible sender at its cap: send what is ready, then wait
                self._enqueue(chunk)
                chunk = []
                sender = self._wait_for_sender(op.sender)
            outcome = OpOutcome(next(self._indexes), op, sender=sender.address, submitted_at=now)
            chunk.append(outcome)
            outcomes.append(outcome)
        self._enqueue(chunk)
        return outcomes

    def _take_sender(self, index: int | None) -> _Sender | None:
        """The sender for an operation (``index``, or round robin / the fewest pending under a
        cap), its pending count taken; None when the cap leaves no room."""
        with self._lock:
            cap = self.max_pending_per_sender
            if index is not None:
                sender = self._senders[index]
            elif cap is None:
                sender = self._senders[next(self._round_robin)]
            else:
                sender = min(self._senders, key=lambda s: s.pending)
            if cap is not None and sender.pending >= cap:
                return None
            sender.pending += 1
            sender.used += 1
            return sender

    def _wait_for_sender(self, index: int | None) -> _Sender:
        while True:
            sender = self._take_sender(index)
            if sender is not None:
                return sender
            with self._lock:
                if self._thread_error is not None:
                    raise PipelineStopped(self._thread_error) from self._thread_error
                self._room.wait(0.25)

    def _enqueue(self, outcomes: list[OpOutcome]) -> None:
        if not outcomes:
            return
        t0 = time.perf_counter()
        self._sign(outcomes)
        self.stats.sign_seconds += time.perf_counter() - t0
        with self._lock:
            self._unsent += len(outcomes)
            self.stats.submitted += len(outcomes)
        for outcome in outcomes:
            self._send_queue.put(outcome)

    def _release(self, outcome: OpOutcome) -> None:
        """``outcome`` left the node's pool (mined, refused, given up): its sender has room.
        Called with the pipeline's lock held."""
        sender = self._by_address.get(outcome.sender)
        if sender is not None and sender.pending > 0:
            sender.pending -= 1
            self._room.notify_all()

    def run(self, operations: Iterable[Operation], timeout: float = 120.0) -> list[OpOutcome]:
        """Submit and drain: every operation's final outcome."""
        outcomes = self.submit(operations)
        self.drain(timeout)
        return outcomes

    def drain(self, timeout: float = 120.0) -> None:
        """Wait until every submitted operation is final; what is still unmined then is ``lost``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._idle():
                if self._thread_error is not None:
                    raise PipelineStopped(self._thread_error) from self._thread_error
                left = deadline - time.monotonic()
                if left <= 0:
                    for outcome in self._in_flight.values():
                        if outcome._answered:
                            outcome.status = OpStatus.LOST
                            outcome.error = TransactionError(
                                f"transaction {outcome.tx_hash} not mined after {timeout:g} s"
                            )
                        else:
                            outcome.status = OpStatus.UNKNOWN
                            outcome.error = TransactionError(
                                f"transaction {outcome.tx_hash}: no answer from the node in {timeout:g} s; "
                                "it may be mined yet (resume() resolves it by hash)"
                            )
                        self._unresolved.append(outcome)
                        self._release(outcome)
                    self._in_flight.clear()
                    return
                self._all_done.wait(min(left, 0.5))

    def resume(self, outcomes: Iterable[OpOutcome] | None = None) -> list[OpOutcome]:
        """Take up operations that are not final — by default the ones this pipeline reported
        ``lost`` or ``unknown``; or outcomes of another pipeline (e.g. one whose worker died,
        :class:`~telcochain.errors.PipelineStopped`) whose senders this pipeline has.

        Each is settled by its transaction hash: mined → confirmed or reverted; its nonce mined
        by another transaction → signed again under a new nonce (the first can never run);
        otherwise the same signed bytes are sent again. Never applied twice. Returns the
        outcomes taken up; :meth:`drain` waits for them.
        """
        if self._thread_error is not None:
            raise PipelineStopped(self._thread_error) from self._thread_error
        if not self._threads:
            raise ConfigurationError("start the pipeline first (use it as a context manager)")
        with self._lock:
            todo = list(self._unresolved if outcomes is None else outcomes)
            if outcomes is None:
                self._unresolved.clear()
        todo = [o for o in todo if not o.final and o._raw]
        senders = {s.address: s for s in self._senders}
        for outcome in todo:
            if outcome.sender not in senders:
                raise ConfigurationError(f"this pipeline has no sender {outcome.sender} to resume {outcome.tx_hash}")
        if not todo:
            return []
        for sender_address in {o.sender for o in todo}:  # new operations must not reuse these nonces
            sender = senders[sender_address]
            top = max(o.nonce for o in todo if o.sender == sender_address) + 1
            sender.nonces.reserve_through(top - 1)
        with self._lock:
            for outcome in todo:
                outcome.status, outcome.error = OpStatus.PENDING, None
                outcome._last_sent = 0.0  # rebroadcast (or re-checked) at the collector's next pass
                self._in_flight[outcome.tx_hash] = outcome
                if outcome.sender in self._by_address:
                    self._by_address[outcome.sender].pending += 1
            self.stats.resumed += len(todo)
        try:
            receipts = self.rpc.batch([("eth_getTransactionReceipt", [o.tx_hash]) for o in todo], raise_errors=False)
            self._settle([r for r in receipts if isinstance(r, dict) and r.get("blockNumber")])
        except (NodeUnreachable, RpcError):
            pass  # the collector settles them (or rebroadcasts them) on its next passes
        return todo

    # -- nonces and signing ----------------------------------------------------------------

    def _seed_nonces(self, senders: Sequence[_Sender], force: bool = False) -> None:
        """Seed (or resynchronise: never lower) local nonces from the pending counts, one batch."""
        todo = [s for s in senders if force or not s.nonces.seeded]
        if not todo:
            return
        counts = self.rpc.batch([("eth_getTransactionCount", [s.address, "pending"]) for s in todo])
        for s, count in zip(todo, counts, strict=True):
            s.nonces.seed(hexint(count), never_lower=True)

    def _sign(self, outcomes: Sequence[OpOutcome]) -> None:
        by_address = {s.address: s for s in self._senders}
        jobs = []
        for outcome in outcomes:
            sender = by_address[outcome.sender]
            outcome.nonce = sender.nonces.allocate()
            op = outcome.operation
            data = op.data if isinstance(op.data, bytes) else bytes.fromhex(op.data.removeprefix("0x"))
            to = bytes.fromhex(op.to[2:]) if op.to else None
            jobs.append((sender.index, outcome.nonce, to, data, op.gas, op.value))
        if self._pool is not None and len(jobs) >= 64:
            size = -(-len(jobs) // self._sign_processes)
            parts = self._pool.map(_worker_sign, [jobs[i : i + size] for i in range(0, len(jobs), size)])
            signed = [item for part in parts for item in part]
        else:
            signers = [s.signer for s in self._senders]
            signed = [signers[s].sign(nonce, to, data, gas, value) for s, nonce, to, data, gas, value in jobs]
        for outcome, (raw, tx_hash) in zip(outcomes, signed, strict=True):
            outcome._raw = raw
            outcome.tx_hash = "0x" + tx_hash.hex()

    def _resign(self, outcome: OpOutcome) -> None:
        outcome.resigned += 1
        self._sign([outcome])

    def _filler(self, sender_address: str, nonce: int) -> None:
        """A zero-value self-transfer at ``nonce``, so a refused transaction leaves no gap."""
        sender = next(s for s in self._senders if s.address == sender_address)
        raw, _ = sender.signer.sign(nonce, bytes.fromhex(sender.address[2:]), b"", 21_000)
        try:
            self.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
            self.stats.fillers += 1
        except RpcError:
            pass  # the nonce is taken after all (or the node refuses even this): nothing to fill

    # -- the sender thread --------------------------------------------------------------------

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            first = self._send_queue.get()
            if first is None:
                return
            chunk = [first]
            size = len(first._raw)
            while len(chunk) < self.send_batch and size < self.max_request_bytes:
                try:
                    item = self._send_queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._stop.set()
                    break
                chunk.append(item)
                size += len(item._raw)
            self._send_chunk(chunk)

    def _send_chunk(self, chunk: list[OpOutcome]) -> None:
        # In flight *before* the request: the node may mine a transaction (and the collector
        # read its block) before this thread has read the answer.
        now = time.monotonic()
        with self._lock:
            for outcome in chunk:
                outcome._last_sent = now
                self._in_flight[outcome.tx_hash] = outcome
            self._unsent -= len(chunk)
        t0 = time.perf_counter()
        answers = self._post_until_answered(chunk)
        self.stats.send_seconds += time.perf_counter() - t0
        self.stats.send_batches += 1
        if answers is None:
            return  # closing without an answer: the outcomes stay pending (resume() settles them)
        conflicts: list[OpOutcome] = []
        refused: list[OpOutcome] = []
        with self._lock:
            for outcome, answer in zip(chunk, answers, strict=True):
                outcome._answered = True
                refusal = classify_refusal(answer.rpc_message) if isinstance(answer, RpcError) else None
                if refusal is not None and refusal is not Refusal.KNOWN:
                    if refusal is Refusal.NONCE_USED:
                        conflicts.append(outcome)  # mined already (a retry of ours), or taken by another
                        continue
                    if outcome.status is not OpStatus.PENDING or self._in_flight.get(outcome.tx_hash) is not outcome:
                        continue  # settled meanwhile by the collector
                    self._in_flight.pop(outcome.tx_hash, None)  # refused: never mined
                    self._release(outcome)
                    outcome.error = TransactionError(f"the node refused the transaction: {answer.rpc_message}")
                    outcome.status = OpStatus.REFUSED
                    refused.append(outcome)
                    self.stats.refused += 1
                    continue
                outcome.sent_at = outcome.sent_at or now
                self.stats.sent += 1
            if self._idle():
                self._all_done.notify_all()
        for outcome in refused:
            self._filler(outcome.sender, outcome.nonce)
        if conflicts:
            # "Nonce too low": our own transaction mined (a retried send), or the nonce went to
            # another transaction — re-signed only when the chain proves the latter.
            with contextlib.suppress(NodeUnreachable, RpcError):  # still in flight: checked again later
                self._check_replaced(conflicts)

    def _post_until_answered(self, chunk: list[OpOutcome]) -> list[Any] | None:
        """Post the batch; with no answer, post the same signed bytes again, backing off, until
        the node answers or the pipeline closes (None)."""
        delay = 0.1
        while True:
            try:
                return self.rpc.batch(
                    [("eth_sendRawTransaction", ["0x" + o._raw.hex()]) for o in chunk], raise_errors=False
                )
            except (NodeUnreachable, RpcError):  # no answer, or a whole-batch refusal (503, garbage)
                self.stats.send_retries += 1
                if self._stop.wait(delay):
                    return None
                delay = min(delay * 2, 2.0)

    # -- the collector thread -----------------------------------------------------------------

    def _collect_loop(self) -> None:
        delay = self.poll_interval
        while not self._stop.is_set():
            try:
                self._collect_once()
                delay = self.poll_interval
            except (NodeUnreachable, RpcError):  # the node is away or answered garbage: wait, go on
                self.stats.outages += 1
                delay = min(max(delay * 2, 0.1), 2.0)
                with self._lock:  # when it is back, send what may have been lost with its pool at once
                    for outcome in self._in_flight.values():
                        outcome._last_sent = min(outcome._last_sent, time.monotonic() - self.rebroadcast_after / 2)
            self._stop.wait(delay)

    def _collect_once(self) -> None:
        mode = self.receipt_mode
        t0 = time.perf_counter()
        head = hexint(self.rpc.call("eth_blockNumber"))
        assert self._last_block is not None
        if head > self._last_block:
            blocks = list(range(self._last_block + 1, head + 1))
            if mode in ("logs", "inclusion"):
                for start in range(0, len(blocks), 10):
                    self._settle_by_logs(blocks[start : start + 10])
            if mode in ("auto", "block"):
                try:
                    for start in range(0, len(blocks), 20):
                        part = blocks[start : start + 20]
                        answers = self.rpc.batch([("eth_getBlockReceipts", [hex(b)]) for b in part])
                        for receipts in answers:
                            self._settle(receipts or [])
                except RpcError as exc:
                    if mode == "block" or not _unsupported(exc):
                        raise
                    mode = self.receipt_mode = "tx"  # no eth_getBlockReceipts: poll per transaction
            if mode == "tx":
                self._poll_receipts()
            self.stats.blocks += len(blocks)
            self._last_block = head
        self._rebroadcast()
        self.stats.collect_seconds += time.perf_counter() - t0

    def _settle_by_logs(self, blocks: list[int]) -> None:
        calls: list[tuple[str, list[Any]]] = []
        for b in blocks:
            calls.append(("eth_getBlockByNumber", [hex(b), False]))
            if self.receipt_mode == "logs":
                calls.append(("eth_getLogs", [dict(self.success_logs, fromBlock=hex(b), toBlock=hex(b))]))
        answers = self.rpc.batch(calls)
        if self.receipt_mode == "inclusion":  # mined = succeeded: every transaction counts as its own log
            answers = [
                x for a in answers for x in (a, [{"transactionHash": t} for t in (a or {}).get("transactions", [])])
            ]
        now = time.monotonic()
        unsure: list[OpOutcome] = []
        sample: list[OpOutcome] = []
        with self._lock:
            for n, b in enumerate(blocks):
                block, logs = answers[2 * n], answers[2 * n + 1]
                succeeded = {log["transactionHash"] for log in logs}
                sampled = 0
                for tx_hash in (block or {}).get("transactions", []):
                    self.stats.receipts_seen += 1
                    outcome = self._in_flight.pop(tx_hash, None)
                    if outcome is None:
                        continue
                    self._release(outcome)
                    outcome.block_number = b
                    outcome.confirmed_at = now
                    if tx_hash in succeeded:
                        outcome.status = OpStatus.CONFIRMED
                        if sampled < self.gas_samples:
                            sample.append(outcome)
                            sampled += 1
                    else:
                        unsure.append(outcome)
            self._settling += len(unsure)
        if unsure or sample:
            try:
                receipts = self.rpc.batch([("eth_getTransactionReceipt", [o.tx_hash]) for o in unsure + sample])
            except (NodeUnreachable, RpcError):
                with self._lock:  # read them again on the next pass
                    for outcome in unsure:
                        outcome.status = OpStatus.PENDING
                        self._in_flight[outcome.tx_hash] = outcome
                        self._by_address[outcome.sender].pending += 1  # released again when re-read
                    self._settling -= len(unsure)
                raise
            with self._lock:
                for outcome, raw in zip(unsure + sample, receipts, strict=True):
                    outcome.gas_used = hexint(raw["gasUsed"])
                    if hexint(raw["status"]) == 1:
                        outcome.status = OpStatus.CONFIRMED
                    else:
                        outcome.status = OpStatus.REVERTED
                        outcome.error = TransactionError(f"transaction {outcome.tx_hash} reverted")
                self._settling -= len(unsure)
        with self._lock:
            if self._idle():
                self._all_done.notify_all()

    def _idle(self) -> bool:
        return not self._unsent and not self._in_flight and not self._settling

    def _poll_receipts(self) -> None:
        with self._lock:
            hashes = list(self._in_flight)
        for start in range(0, len(hashes), 1000):
            part = hashes[start : start + 1000]
            answers = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in part], raise_errors=False)
            self._settle([a for a in answers if isinstance(a, dict) and a.get("blockNumber")])

    def _settle(self, receipts: Iterable[dict[str, Any]]) -> None:
        now = time.monotonic()
        with self._lock:
            for raw in receipts:
                self.stats.receipts_seen += 1
                outcome = self._in_flight.pop(raw["transactionHash"], None)
                if outcome is None:
                    continue
                self._release(outcome)
                outcome.block_number = hexint(raw["blockNumber"])
                outcome.gas_used = hexint(raw["gasUsed"])
                outcome.confirmed_at = now
                if hexint(raw["status"]) == 1:
                    outcome.status = OpStatus.CONFIRMED
                else:
                    outcome.status = OpStatus.REVERTED
                    outcome.error = TransactionError(f"transaction {outcome.tx_hash} reverted")
                if self.keep_logs:
                    outcome.logs = raw.get("logs", [])
            if self._idle():
                self._all_done.notify_all()

    def _rebroadcast(self) -> None:
        now = time.monotonic()
        with self._lock:
            overdue = [o for o in self._in_flight.values() if now - o._last_sent > self.rebroadcast_after]
        for part in self._parts(overdue):
            answers = self.rpc.batch(
                [("eth_sendRawTransaction", ["0x" + o._raw.hex()]) for o in part], raise_errors=False
            )
            suspects = []
            with self._lock:
                for outcome, answer in zip(part, answers, strict=True):
                    outcome._last_sent = now
                    outcome.rebroadcasts += 1
                    self.stats.rebroadcasts += 1
                    if isinstance(answer, RpcError) and classify_refusal(answer.rpc_message) is Refusal.NONCE_USED:
                        suspects.append(outcome)
            if suspects:
                self._check_replaced(suspects)

    def _parts(self, outcomes: list[OpOutcome]) -> Iterable[list[OpOutcome]]:
        part: list[OpOutcome] = []
        size = 0
        for outcome in outcomes:
            if part and (len(part) >= self.send_batch or size >= self.max_request_bytes):
                yield part
                part, size = [], 0
            part.append(outcome)
            size += len(outcome._raw)
        if part:
            yield part

    def _check_replaced(self, suspects: list[OpOutcome]) -> None:
        """A rebroadcast met "nonce too low": mined (its receipt will come), or its nonce went
        to another transaction — then, and only then, send the operation again."""
        # The count first, then the receipt: once a mined transaction holds the nonce (count >
        # nonce, final), a missing receipt proves ours is not that one and never will be mined.
        # (The other order races with a block mined between the two reads: a duplicate.)
        counts = self.rpc.batch([("eth_getTransactionCount", [o.sender, "latest"]) for o in suspects])
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [o.tx_hash]) for o in suspects], raise_errors=False)
        again = []
        mined: list[dict[str, Any]] = []
        with self._lock:
            for outcome, receipt, count in zip(suspects, receipts, counts, strict=True):
                if isinstance(receipt, dict) and receipt.get("blockNumber"):
                    mined.append(receipt)  # mined (in a block already read, or about to be)
                    continue
                if hexint(count) > outcome.nonce:  # the nonce is used by a mined transaction that is not ours
                    self._in_flight.pop(outcome.tx_hash, None)
                    self._unsent += 1
                    again.append(outcome)
        self._settle(mined)
        if again:
            self.stats.resyncs += 1
            senders = {s.address: s for s in self._senders}
            self._seed_nonces([senders[a] for a in {o.sender for o in again}], force=True)
            for outcome in again:
                self._resign(outcome)
                self._send_queue.put(outcome)


def _retrying(read: Any, attempts: int = 6, delay: float = 0.1) -> Any:
    """An idempotent read, asked again with backoff while the node does not answer."""
    for attempt in range(attempts):
        try:
            return read()
        except (NodeUnreachable, RpcError) as exc:
            if attempt == attempts - 1 or (isinstance(exc, RpcError) and exc.method != "batch"):
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _unsupported(error: RpcError) -> bool:
    message = error.rpc_message.lower()
    return error.code == -32601 or "not found" in message or "not supported" in message


def senders_needed(rate_tx_per_s: float, block_time: float, max_pending_per_sender: int) -> int:
    """How many sender accounts (a member's key and its delegates) carry ``rate_tx_per_s``
    transactions a second on a node that keeps at most ``max_pending_per_sender`` pending per
    sender, with two blocks of transactions in flight (one being built, one waiting)."""
    if max_pending_per_sender < 1 or block_time <= 0:
        raise ConfigurationError("the pending cap must be at least 1 and the block time positive")
    return max(1, math.ceil(rate_tx_per_s * 2 * block_time / max_pending_per_sender))


def latency_percentiles(outcomes: Iterable[OpOutcome], points: Sequence[float] = (50, 95, 99)) -> dict[float, float]:
    """Latency percentiles in milliseconds over the mined outcomes (nearest rank)."""
    values = sorted(o.latency for o in outcomes if o.latency is not None)
    if not values:
        return {p: 0.0 for p in points}
    return {p: 1000 * values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))] for p in points}
