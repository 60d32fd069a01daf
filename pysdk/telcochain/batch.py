"""Many actions in few transactions: :class:`Batch` (``with client.batch() as b: ...``).

::

    with Batch(client) as b:                    # client.batch() returns one
        first = b.add("requestChange", asset_id("ONT-1"), ZERO32)
        b.add("requestChange", asset_id("ONT-2"), ZERO32, ref="order-42/2")
    first.outcome.status                        # "executed" | "pending_vote" | "denied" | "reverted"
    b.outcomes                                  # one CallOutcome per add(), in order

Calls are collected and, when the block ends without an exception, sent as
``Constitution.executeBatch`` transactions of ``chunk`` calls each (default 100). Every call is
checked on its own: a denied call is recorded and the others go on; a call that reverts is
undone alone (its custom error decoded in the outcome).

All chunks are signed ahead and sent together (one JSON-RPC batch), then their receipts are
awaited together. Each chunk's gas limit is its estimate against the current state times
``gas_headroom``; with ``pipelined=False`` chunks go one after another instead, each estimated
after the previous one is mined — for batches whose later calls depend on earlier ones in a
way that changes their gas.

The module also has the fast calldata encoders for ``executeAction`` / ``executeBatch`` used on
the high-throughput path (no eth-abi on the hot path; tests check them against eth-abi).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from telcochain.actions import action_id, encode_params
from telcochain.constitution import CallOutcome, _outcome
from telcochain.errors import ConfigurationError, RpcError, TransactionError
from telcochain.rpc import Rpc
from telcochain.signing import Refusal, classify_refusal
from telcochain.tx import Receipt
from telcochain.tx import batch_gas as batch_gas  # re-exported: the gas rule lives with the sender
from telcochain.types import Ref, to_ref

if TYPE_CHECKING:
    from telcochain.session import Session

#: Calls per executeBatch transaction by default.
DEFAULT_CHUNK = 100

SELECTOR_EXECUTE_ACTION = keccak(text="executeAction(bytes32,bytes,bytes32)")[:4]
SELECTOR_EXECUTE_BATCH = keccak(text="executeBatch((bytes32,bytes,bytes32)[])")[:4]


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 32)


def encode_execute_action(action: bytes, params: bytes, ref: bytes) -> bytes:
    """Calldata of ``Constitution.executeAction(action, params, ref)``."""
    return SELECTOR_EXECUTE_ACTION + action + _word(0x60) + ref + _word(len(params)) + _padded(params)


def encode_execute_batch(calls: Sequence[tuple[bytes, bytes, bytes]]) -> bytes:
    """Calldata of ``Constitution.executeBatch([(action, params, ref), ...])``."""
    heads = []
    tails = []
    offset = 32 * len(calls)
    for action, params, ref in calls:
        heads.append(_word(offset))
        tail = action + _word(0x60) + ref + _word(len(params)) + _padded(params)
        tails.append(tail)
        offset += len(tail)
    return SELECTOR_EXECUTE_BATCH + _word(0x20) + _word(len(calls)) + b"".join(heads) + b"".join(tails)


@dataclass
class BatchEntry:
    """One call added to a :class:`Batch`; its ``outcome`` once the batch is sent."""

    index: int
    action: str
    ref: bytes
    params: bytes
    _outcome: CallOutcome | None = None
    tx_hash: str | None = None

    @property
    def outcome(self) -> CallOutcome:
        if self._outcome is None:
            raise TransactionError("the batch has not been sent yet")
        return self._outcome

    @property
    def sent(self) -> bool:
        return self._outcome is not None


class Batch:
    """Collects actions and sends them as ``executeBatch`` transactions of ``chunk`` calls.

    :param client: a client with an account (the caller of every action).
    :param chunk: calls per transaction (1 to 1,000; 100 by default).
    :param pipelined: sign and send all chunks at once (default), or one after another.
    :param gas_headroom: gas limit = estimate times this (estimates ran on the state before the batch).
    :param timeout: seconds to wait for the receipts.
    """

    def __init__(
        self,
        client: Session,
        chunk: int = DEFAULT_CHUNK,
        *,
        pipelined: bool = True,
        gas_headroom: float = 1.5,
        timeout: float = 120.0,
    ) -> None:
        if client.sender is None:
            raise ConfigurationError("a batch needs a client with an account")
        if not 1 <= chunk <= 1000:
            raise ConfigurationError("chunk must be 1 to 1000 calls per transaction")
        self.client = client
        self.chunk = chunk
        self.pipelined = pipelined
        self.gas_headroom = gas_headroom
        self.timeout = timeout
        self.entries: list[BatchEntry] = []
        self.receipts: list[Receipt] = []
        self._refs: set[bytes] = set()
        self._sent = False

    # -- collecting --------------------------------------------------------------------------

    def add(self, action: str, *args: Any, ref: Ref = None, params: bytes | None = None) -> BatchEntry:
        """Queue ``action`` with its arguments (plain values, encoded with the action's types)
        or with ``params=`` already ABI-encoded; returns the entry that will hold its outcome."""
        if self._sent:
            raise ConfigurationError("this batch was sent already: start a new one")
        if params is not None and args:
            raise ConfigurationError("give the action's arguments or params=, not both")
        encoded = encode_params(action, params if params is not None else args)
        ref_bytes = to_ref(ref)
        if ref_bytes in self._refs:
            raise ConfigurationError(f"ref 0x{ref_bytes.hex()} is used twice in this batch")
        self._refs.add(ref_bytes)
        action_id(action)  # a clear error for a bad name now, not at sending
        entry = BatchEntry(len(self.entries), action, ref_bytes, encoded)
        self.entries.append(entry)
        return entry

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def outcomes(self) -> list[CallOutcome]:
        """One outcome per call, in the order they were added (after sending)."""
        return [e.outcome for e in self.entries]

    # -- sending -------------------------------------------------------------------------------

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None and not self._sent:
            self.send()

    def send(self) -> list[CallOutcome]:
        """Send every collected call now (done on leaving the ``with`` block); the outcomes."""
        if self._sent:
            raise ConfigurationError("this batch was sent already")
        self._sent = True
        if not self.entries:
            return []
        chunks = [self.entries[i : i + self.chunk] for i in range(0, len(self.entries), self.chunk)]
        if self.pipelined:
            self._send_chunks(chunks)
        else:
            for chunk in chunks:
                self._send_chunks([chunk])
        return self.outcomes

    def _send_wave(self, to: str, datas: list[str], gases: list[int]) -> list[Receipt]:
        """Sign and send transactions that fit in one block together; wait for their receipts."""
        sender = self.client.sender
        assert sender is not None
        raws, hashes = [], []
        for data, gas in zip(datas, gases, strict=True):
            raw, tx_hash = sender.sign(sender.build(to, data, gas=gas, nonce=sender.allocate_nonce()))
            raws.append(raw)
            hashes.append(tx_hash)
        answers = self.client.rpc.batch([("eth_sendRawTransaction", [raw]) for raw in raws], raise_errors=False)
        for answer in answers:
            if isinstance(answer, RpcError) and classify_refusal(answer.rpc_message) is not Refusal.KNOWN:
                sender.resync_nonce()
                raise TransactionError(f"the node refused a batch transaction: {answer}")
        return sender.wait_many(hashes, timeout=self.timeout)

    def _send_chunks(self, chunks: list[list[BatchEntry]]) -> None:
        sender = self.client.sender
        assert sender is not None
        constitution = self.client.contract("Constitution")
        to = constitution.address
        datas = [
            "0x" + encode_execute_batch([(action_id(e.action), e.params, e.ref) for e in chunk]).hex()
            for chunk in chunks
        ]
        gases = [batch_gas(self.client.rpc, sender.address, to, d, self.gas_headroom) for d in datas]
        receipts: list[Receipt] = []
        for wave in _waves(gases, _block_gas_limit(self.client.rpc)):
            receipts += self._send_wave(to, [datas[i] for i in wave], [gases[i] for i in wave])
        self.receipts.extend(receipts)
        for chunk, data, receipt in zip(chunks, datas, receipts, strict=True):
            if not receipt.succeeded:
                error = sender.replay_revert(to, data, receipt)
                for entry in chunk:
                    entry.tx_hash = receipt.tx_hash
                    entry._outcome = CallOutcome(entry.action, entry.ref, "reverted", error=error)
                continue
            events = constitution.events(receipt)
            for position, entry in enumerate(chunk):
                entry.tx_hash = receipt.tx_hash
                entry._outcome = _outcome(events, entry.action, entry.ref, position, receipt.tx_hash)


def _block_gas_limit(rpc: Rpc) -> int:
    """The latest block's gas limit (what one block can hold)."""
    block = rpc.call("eth_getBlockByNumber", ["latest", False])
    return int(block["gasLimit"], 16)


def _waves(gases: Sequence[int], block_gas_limit: int) -> list[list[int]]:
    """Indexes of ``gases`` grouped so that each group's gas limits fit in one block.

    Transactions beyond a block's capacity wait for the next block anyway; on a node that mines
    one block per arriving transaction (anvil's automine) they would wait for a transaction that
    never comes, so a pipelined batch sends one block's worth at a time.
    """
    waves: list[list[int]] = []
    total = 0
    for i, gas in enumerate(gases):
        if waves and total + gas <= block_gas_limit:
            waves[-1].append(i)
            total += gas
        else:
            waves.append([i])
            total = gas
    return waves
