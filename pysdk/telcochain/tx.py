"""Sending transactions: local nonces, fast signing, the right fee fields, receipts.

- **Signing**, the **fee rule**, the **nonce allocator** and the **"node refused" classifier** are
  those of :mod:`telcochain.signing`, shared with the throughput pipeline
  (:mod:`telcochain.throughput`): one way to build, sign and send a transaction.
- **Nonces** are allocated locally (seeded once from the pending count), so sending
  never waits for a round trip; when the chain says the local count is wrong ("nonce too
  low" for a transaction that did not land, "nonce too high", or a send whose fate is
  unknown) the sender re-reads the pending count.
- **Faults**: a request that gets no answer (dropped, refused connection, HTTP 503, not
  JSON) is retried with the *same signed bytes* with backoff — the same hash, so it can
  only be mined once. If no answer ever comes the operation's fate is unknown:
  :class:`~telcochain.errors.TransactionUnknown` carries its hash; :meth:`TxSender.resolve`
  and :meth:`TxSender.resume` settle it by hash and rebroadcast it if the node lost it. An
  operation is never signed again unless the chain proves the first transaction can no
  longer be mined (its nonce went to another transaction).
- **Fees**: EIP-1559 fields where the chain has a base fee (London and later), legacy
  ``gasPrice`` otherwise (Berlin chains such as GoQuorum); gas price 0 on free-gas chains.
- **Errors**: a call that would revert is caught at gas estimation, before anything is
  sent, and raised as the decoded custom error; a transaction that reverts once mined is
  replayed with ``eth_call`` to recover the same error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from telcochain.errors import (
    NodeUnreachable,
    RpcError,
    TransactionError,
    TransactionTimeout,
    TransactionUnknown,
    decode_revert,
)
from telcochain.rpc import Rpc
from telcochain.signing import ChainInfo as ChainInfo  # re-exported: telcochain.tx.ChainInfo, FeeMode
from telcochain.signing import FastSigner, Nonces, Refusal, classify_refusal, fee_fields
from telcochain.signing import FeeMode as FeeMode

#: Extra gas over the node's estimate (estimates are exact for the state they ran on).
GAS_HEADROOM = 1.25
#: Sends of the same signed bytes before a transaction's fate is called unknown, and the first
#: pause between them (doubling: 0.2 + 0.4 + ... ≈ 6 s in all).
SEND_ATTEMPTS = 6
SEND_BACKOFF = 0.2
#: First pause between receipt polls (s), growing 1.5x up to 1 s: anvil mines a transaction
#: milliseconds after accepting it; a QBFT chain's 1-2 s blocks cost a dozen polls a block at most.
RECEIPT_POLL = 0.01
#: Seconds a transaction may be missing from the node (pool lost in a restart) before a wait
#: sends its same signed bytes again.
REBROADCAST_AFTER = 3.0


@dataclass(frozen=True)
class SentTransaction:
    """A signed transaction this sender sent and has not seen mined yet."""

    tx_hash: str
    raw: str
    nonce: int


def hexint(value: str | int | None) -> int:
    """A JSON-RPC quantity (``"0x1a"``) as an int."""
    if value is None:
        return 0
    return value if isinstance(value, int) else int(value, 16)


def probe_chain(rpc: Rpc) -> ChainInfo:
    """Chain id, fee model and gas price in one batched round trip."""
    chain_id, block, gas_price = rpc.batch(
        [("eth_chainId", []), ("eth_getBlockByNumber", ["latest", False]), ("eth_gasPrice", [])]
    )
    base_fee = block.get("baseFeePerGas") if block else None
    if base_fee is not None:
        return ChainInfo(hexint(chain_id), FeeMode.EIP1559, hexint(base_fee), hexint(block["number"]))
    return ChainInfo(hexint(chain_id), FeeMode.LEGACY, hexint(gas_price), hexint(block["number"]) if block else 0)


@dataclass(frozen=True)
class Log:
    """An event log as the node returns it, with quantities as ints."""

    address: str
    topics: tuple[str, ...]
    data: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> Log:
        return cls(
            address=raw["address"],
            topics=tuple(raw["topics"]),
            data=raw["data"],
            block_number=hexint(raw["blockNumber"]),
            block_hash=raw["blockHash"],
            tx_hash=raw["transactionHash"],
            log_index=hexint(raw["logIndex"]),
        )


@dataclass(frozen=True)
class Receipt:
    """A mined transaction."""

    tx_hash: str
    block_number: int
    block_hash: str
    status: int
    gas_used: int
    contract_address: str | None
    logs: tuple[Log, ...] = field(default=())

    @property
    def succeeded(self) -> bool:
        return self.status == 1

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> Receipt:
        return cls(
            tx_hash=raw["transactionHash"],
            block_number=hexint(raw["blockNumber"]),
            block_hash=raw["blockHash"],
            status=hexint(raw["status"]),
            gas_used=hexint(raw["gasUsed"]),
            contract_address=to_checksum_address(raw["contractAddress"]) if raw.get("contractAddress") else None,
            logs=tuple(Log.from_rpc(log) for log in raw.get("logs", [])),
        )


class TxSender:
    """Signs and sends transactions for one account; safe to share between threads."""

    def __init__(
        self,
        rpc: Rpc,
        account: LocalAccount,
        chain: ChainInfo,
        *,
        poll_interval: float = RECEIPT_POLL,
        attempts: int = SEND_ATTEMPTS,
        backoff: float = SEND_BACKOFF,
    ) -> None:
        self.rpc = rpc
        self.account = account
        self.chain = chain
        self.poll_interval = poll_interval
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._lock = threading.Lock()
        self.signer = FastSigner.for_account(account, chain)
        self.nonces = Nonces()
        self._unresolved: dict[str, SentTransaction] = {}  # sent, not yet seen mined or dropped

    @property
    def address(self) -> str:
        return str(self.account.address)

    # -- nonces -------------------------------------------------------------------------

    def allocate_nonce(self) -> int:
        """The next nonce of this account, allocated locally (for callers that pre-sign transactions)."""
        with self._lock:
            if not self.nonces.seeded:
                self.nonces.seed(hexint(self._read("eth_getTransactionCount", [self.address, "pending"])))
            return self.nonces.allocate()

    def resync_nonce(self) -> None:
        """Forget the local nonce; the next transaction re-reads the pending count."""
        self.nonces.forget()

    # -- building and signing -----------------------------------------------------------

    def estimate_gas(self, to: str, data: str, value: int = 0) -> int:
        """Gas for this call; raises the decoded custom error if it would revert."""
        call = {"from": self.address, "to": to, "data": data, "value": hex(value)}
        try:
            return hexint(self._read("eth_estimateGas", [call]))
        except RpcError as exc:
            raise _revert_from_rpc_error(exc) from None

    def build(self, to: str | None, data: str, *, gas: int, nonce: int, value: int = 0) -> dict[str, Any]:
        """The transaction fields for this chain's fee model."""
        tx: dict[str, Any] = {
            "chainId": self.chain.chain_id,
            "nonce": nonce,
            "gas": gas,
            "value": value,
            "data": data,
        }
        if to is not None:
            tx["to"] = to
        tx.update(fee_fields(self.chain))
        if self.chain.fee_mode is FeeMode.EIP1559:
            tx["type"] = 2
        return tx

    def sign(self, tx: dict[str, Any]) -> tuple[str, str]:
        """(raw transaction hex, transaction hash), signed by :attr:`signer` (the
        :class:`~telcochain.signing.FastSigner` the throughput pipeline uses too)."""
        return self.signer.sign_fields(tx)

    # -- sending ------------------------------------------------------------------------

    def send(self, to: str | None, data: str, *, gas: int | None = None, value: int = 0) -> str:
        """Estimate (unless ``gas`` is given), sign and send; returns the transaction hash.

        Raises :class:`TransactionUnknown` if the node never answered (the transaction may be
        mined yet: :meth:`resolve` it by hash), :class:`TransactionError` if it was refused.
        """
        if gas is None:
            if to is None:
                raise TransactionError("contract creation needs an explicit gas limit")
            gas = int(self.estimate_gas(to, data, value) * GAS_HEADROOM)
        for _ in range(3):
            nonce = self.allocate_nonce()
            raw, tx_hash = self.sign(self.build(to, data, gas=gas, nonce=nonce, value=value))
            sent = SentTransaction(tx_hash, raw, nonce)
            with self._lock:
                self._unresolved[tx_hash] = sent
            try:
                self._broadcast(sent)
                return tx_hash
            except TransactionUnknown:
                self.resync_nonce()  # the pending count tells whether the node has it
                raise
            except RpcError as exc:
                refusal = classify_refusal(exc.rpc_message)
                try:
                    if refusal is Refusal.NONCE_USED and self._landed(tx_hash):
                        return tx_hash  # an earlier attempt of these very bytes got through
                except TransactionUnknown:
                    self.resync_nonce()
                    raise
                self._forget(tx_hash)  # refused: this transaction can never run
                self.resync_nonce()
                if refusal in (Refusal.NONCE_USED, Refusal.NONCE_AHEAD):
                    continue  # the local nonce was wrong: sign again under the chain's count
                raise TransactionError(f"the node refused the transaction: {exc.rpc_message}") from None
        raise TransactionError("the node kept refusing this account's nonces (another client is using it)")

    def _read(self, method: str, params: Sequence[Any]) -> Any:
        """A read (idempotent): asked again with backoff while the node does not answer."""
        delay = self.backoff
        for attempt in range(self.attempts):
            try:
                return self.rpc.call(method, params)
            except NodeUnreachable:
                if attempt == self.attempts - 1:
                    raise
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _broadcast(self, sent: SentTransaction) -> None:
        """Send the signed bytes, again with backoff while no answer comes; the node has them on return."""
        delay = self.backoff
        reason = "no answer"
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(delay)
                delay *= 2
            try:
                self.rpc.call("eth_sendRawTransaction", [sent.raw])
                return
            except NodeUnreachable as exc:
                reason = exc.reason
            except RpcError as exc:
                if classify_refusal(exc.rpc_message) is Refusal.KNOWN:
                    return  # the node has these bytes already
                raise
        raise TransactionUnknown(sent.tx_hash, sent.nonce, f"{self.attempts} sends without an answer ({reason})")

    def _landed(self, tx_hash: str) -> bool:
        """Is this transaction mined? Never guessed: no answer raises :class:`TransactionUnknown`."""
        try:
            receipt = self._read("eth_getTransactionReceipt", [tx_hash])
        except NodeUnreachable as exc:
            with self._lock:
                sent = self._unresolved.get(tx_hash)
            raise TransactionUnknown(tx_hash, sent.nonce if sent else -1, exc.reason) from None
        return bool(receipt and receipt.get("blockNumber"))

    def _forget(self, tx_hash: str) -> None:
        with self._lock:
            self._unresolved.pop(tx_hash, None)

    @property
    def unresolved(self) -> list[SentTransaction]:
        """Transactions sent and not yet seen mined or proven dropped (kept for :meth:`resume`)."""
        with self._lock:
            return list(self._unresolved.values())

    def resolve(self, tx_hash: str) -> str:
        """What became of a transaction, by its hash: ``"confirmed"``, ``"reverted"`` (mined),
        ``"pending"`` (in the node's pool), ``"dropped"`` (its nonce went to another transaction:
        it can never be mined), or ``"unknown"`` (the node does not have it; :meth:`resume`
        sends it again). Raises :class:`NodeUnreachable` if the node does not answer."""
        receipt = self._read("eth_getTransactionReceipt", [tx_hash])
        if receipt and receipt.get("blockNumber"):
            self._forget(tx_hash)
            return "confirmed" if hexint(receipt["status"]) == 1 else "reverted"
        if self._read("eth_getTransactionByHash", [tx_hash]) is not None:
            return "pending"
        with self._lock:
            sent = self._unresolved.get(tx_hash)
        count = hexint(self._read("eth_getTransactionCount", [self.address, "latest"]))
        if sent is not None and count > sent.nonce:
            if self._landed(tx_hash):  # mined between the two reads
                return self.resolve(tx_hash)
            self._forget(tx_hash)
            return "dropped"
        return "unknown"

    def resume(self) -> dict[str, str]:
        """Resolve every unresolved transaction by hash and send the ones the node lost again
        (the same signed bytes); returns each hash's status after that."""
        statuses: dict[str, str] = {}
        for sent in self.unresolved:
            status = self.resolve(sent.tx_hash)
            if status == "unknown":
                try:
                    self._broadcast(sent)
                    status = "pending"
                except RpcError as exc:  # refused now: resolve tells whether it can still run
                    status = (
                        self.resolve(sent.tx_hash)
                        if classify_refusal(exc.rpc_message) is Refusal.NONCE_USED
                        else "unknown"
                    )
            statuses[sent.tx_hash] = status
        self.resync_nonce()
        return statuses

    def transact(
        self, to: str, data: str, *, gas: int | None = None, value: int = 0, timeout: float = 120.0
    ) -> Receipt:
        """Send and wait for the receipt; a revert raises its decoded custom error."""
        tx_hash = self.send(to, data, gas=gas, value=value)
        receipt = self.wait(tx_hash, timeout=timeout)
        if not receipt.succeeded:
            raise self.replay_revert(to, data, receipt, value=value)
        return receipt

    # -- receipts -----------------------------------------------------------------------

    def wait(self, tx_hash: str, timeout: float = 120.0) -> Receipt:
        """Poll until the transaction is mined."""
        return self.wait_many([tx_hash], timeout=timeout)[0]

    def wait_many(self, tx_hashes: Sequence[str], timeout: float = 120.0) -> list[Receipt]:
        """Receipts for many transactions, polled in JSON-RPC batches; in input order.

        A node that stops answering is waited for (with backoff) until ``timeout``; a
        transaction the node no longer has (its pool was lost in a restart) is sent again,
        the same signed bytes, every :data:`REBROADCAST_AFTER` seconds.
        """
        found: dict[str, Receipt] = {}
        deadline = time.monotonic() + timeout
        interval = self.poll_interval
        next_check = time.monotonic() + REBROADCAST_AFTER
        while True:
            missing = [h for h in tx_hashes if h not in found]
            if not missing:
                return [found[h] for h in tx_hashes]
            try:
                answers = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in missing])
                for tx_hash, raw in zip(missing, answers, strict=True):
                    if raw is not None and raw.get("blockNumber") is not None:
                        found[tx_hash] = Receipt.from_rpc(raw)
                        self._forget(tx_hash)
                if time.monotonic() >= next_check:
                    self._rebroadcast_lost([h for h in missing if h not in found])
                    next_check = time.monotonic() + REBROADCAST_AFTER
            except NodeUnreachable:
                interval = max(interval, 0.2)  # the node is away (restarting?): keep waiting
            still_pending = [h for h in missing if h not in found]
            if still_pending:
                if time.monotonic() > deadline:
                    raise TransactionTimeout(still_pending[0], timeout)
                time.sleep(interval)
                interval = min(interval * 1.5, 1.0)

    def _rebroadcast_lost(self, tx_hashes: Sequence[str]) -> None:
        with self._lock:
            ours = [self._unresolved[h] for h in tx_hashes if h in self._unresolved]
        if not ours:
            return
        known = self.rpc.batch([("eth_getTransactionByHash", [s.tx_hash]) for s in ours], raise_errors=False)
        lost = [s for s, k in zip(ours, known, strict=True) if k is None]
        if lost:
            self.rpc.batch([("eth_sendRawTransaction", [s.raw]) for s in lost], raise_errors=False)

    def replay_revert(self, to: str, data: str, receipt: Receipt, value: int = 0) -> TransactionError:
        """Re-run a mined, reverted transaction with ``eth_call`` to recover its error."""
        call = {
            "from": self.address,
            "to": to,
            "data": data,
            "value": hex(value),
            "gas": hex(receipt.gas_used * 2),
        }
        try:
            self.rpc.call("eth_call", [call, hex(receipt.block_number - 1)])
        except RpcError as exc:
            error = _revert_from_rpc_error(exc)
            if hasattr(error, "tx_hash"):
                error.tx_hash = receipt.tx_hash
            return error
        return TransactionError(f"transaction {receipt.tx_hash} reverted (out of gas or unknown reason)")


def batch_gas(rpc: Rpc, sender: str, to: str, data: str, headroom: float = 1.25, block: str = "latest") -> int:
    """A gas limit for an ``executeBatch`` transaction that runs every call as it would with
    unlimited gas.

    ``eth_estimateGas`` alone is wrong here: executeBatch catches each call's failure, so the
    node's search finds the least gas at which the *transaction* succeeds — with the inner
    calls running out of gas and caught. So: run the batch with ``eth_call`` at the block gas
    limit, then find a limit (estimate x ``headroom``, raised by x ``headroom`` as needed) that
    returns the same outcomes. (Raising gently matters: a limit far above the need fills a
    block with fewer transactions — on an automining anvil, transactions that do not fit the
    block of their burst wait for the next transaction to be mined.)
    """
    call = {"from": sender, "to": to, "data": data}
    try:
        estimate = hexint(rpc.call("eth_estimateGas", [call]))
    except RpcError as exc:  # the whole transaction would fail (not one call)
        raise _revert_from_rpc_error(exc) from None
    latest = rpc.call("eth_getBlockByNumber", [block, False])
    cap = hexint(latest["gasLimit"]) if latest else 30_000_000
    reference = rpc.call("eth_call", [dict(call, gas=hex(cap)), block])
    gas = min(cap, int(estimate * headroom))
    while gas < cap:
        if rpc.call("eth_call", [dict(call, gas=hex(gas)), block]) == reference:
            return gas
        gas = min(cap, max(gas + 1, int(gas * headroom)))
    return cap


def _revert_from_rpc_error(exc: RpcError) -> TransactionError:
    """An ``execution reverted`` answer as the decoded custom error; anything else as is."""
    data = exc.data
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."} or {"result": ...}
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        return decode_revert(data)
    if "revert" in exc.rpc_message.lower():
        return decode_revert("0x")
    return TransactionError(f"{exc.method} failed: {exc.rpc_message}")
