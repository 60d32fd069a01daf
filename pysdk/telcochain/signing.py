"""Signing one account's transactions, the one way every sender does it.

- :class:`FeeMode` / :class:`ChainInfo`: what a chain charges for gas, learnt when connecting.
- :func:`fee_fields`: **the fee rule** — legacy ``gasPrice`` on Berlin chains (GoQuorum, Besu
  with a free-gas genesis: price 0), EIP-1559 fields where the chain has a base fee.
- :class:`FastSigner`: **the signer** — hand-written RLP and coincurve, byte-identical to
  eth-account (a test checks it), ~10x faster. :class:`~telcochain.tx.TxSender` and the
  throughput :class:`~telcochain.throughput.Pipeline` both sign with it.
- :class:`Nonces`: **the nonce allocator** — local nonces per account, seeded from the chain's
  pending count, allocated without a round trip, resynchronised when the chain says so.
- :func:`classify_refusal`: **the "node refused" classifier** — what a node's refusal of
  ``eth_sendRawTransaction`` means (anvil's, geth's and Besu's wordings), so every sender reacts
  the same way to the same answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum
from typing import Any

from coincurve import PrivateKey
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from telcochain.errors import ConfigurationError

#: The priority fee (tip) on an EIP-1559 chain whose gas is not free, in wei.
PRIORITY_FEE = 10**9


class FeeMode(str, Enum):
    """How a chain prices gas."""

    LEGACY = "legacy"  # type 0, gasPrice (Berlin: GoQuorum, Besu with a free-gas genesis)
    EIP1559 = "eip1559"  # type 2, maxFeePerGas / maxPriorityFeePerGas


@dataclass(frozen=True)
class ChainInfo:
    """What the SDK learns about a chain when it connects."""

    chain_id: int
    fee_mode: FeeMode
    gas_price: int  # legacy price, or the base fee under EIP-1559
    block_number: int

    @property
    def free_gas(self) -> bool:
        return self.gas_price == 0


def fee_fields(chain: ChainInfo) -> dict[str, int]:
    """The fee fields of a transaction on ``chain``: ``gasPrice`` (legacy, type 0) or
    ``maxPriorityFeePerGas`` / ``maxFeePerGas`` (EIP-1559, type 2: twice the base fee plus the
    tip, so a transaction survives a few fuller blocks). No tip on a free-gas chain."""
    if chain.fee_mode is FeeMode.EIP1559:
        tip = 0 if chain.free_gas else PRIORITY_FEE
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * chain.gas_price + tip}
    return {"gasPrice": chain.gas_price}


def _rlp_item(b: bytes) -> bytes:
    n = len(b)
    if n == 1 and b[0] < 0x80:
        return b
    if n < 56:
        return bytes((0x80 + n,)) + b
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(ln),)) + ln + b


def _rlp_list(payload: bytes) -> bytes:
    n = len(payload)
    if n < 56:
        return bytes((0xC0 + n,)) + payload
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(ln),)) + ln + payload


def _uint(value: int) -> bytes:
    return _rlp_item(value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b"")


class FastSigner:
    """Signs transactions for one key with coincurve and a hand-written RLP encoder.

    Produces exactly what eth-account produces (a test checks it), for legacy (type 0,
    EIP-155) and EIP-1559 (type 2) transactions, about ten times faster.
    """

    def __init__(self, private_key: bytes, chain_id: int, fee_mode: FeeMode, gas_price: int) -> None:
        self._key = PrivateKey(bytes(private_key))
        self.private_key = bytes(private_key)
        self.chain_id = chain_id
        self.fee_mode = fee_mode
        self.gas_price = gas_price
        pub = self._key.public_key.format(compressed=False)[1:]
        self.address: str = to_checksum_address(keccak(pub)[-20:])
        #: The fee fields every transaction of this signer carries (:func:`fee_fields`).
        self.fees = fee_fields(ChainInfo(chain_id, fee_mode, gas_price, 0))
        self._fees = b"".join(_uint(v) for v in self.fees.values())  # in RLP order
        self._eip155_tail = _uint(chain_id) + b"\x80\x80"

    @classmethod
    def for_account(cls, account: LocalAccount | bytes, chain: ChainInfo) -> FastSigner:
        key = account if isinstance(account, bytes | bytearray) else bytes(account.key)
        return cls(bytes(key), chain.chain_id, chain.fee_mode, chain.gas_price)

    def sign(self, nonce: int, to: bytes | None, data: bytes, gas: int, value: int = 0) -> tuple[bytes, bytes]:
        """(raw signed transaction, transaction hash)."""
        to_item = _rlp_item(to or b"")
        if self.fee_mode is FeeMode.EIP1559:
            body = (
                _uint(self.chain_id) + _uint(nonce) + self._fees + _uint(gas) + to_item + _uint(value) + _rlp_item(data)
            ) + b"\xc0"  # empty access list
            sig = self._key.sign_recoverable(keccak(b"\x02" + _rlp_list(body)), hasher=None)
            r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")
            raw = b"\x02" + _rlp_list(body + _uint(sig[64]) + _uint(r) + _uint(s))
        else:
            body = _uint(nonce) + self._fees + _uint(gas) + to_item + _uint(value) + _rlp_item(data)
            sig = self._key.sign_recoverable(keccak(_rlp_list(body + self._eip155_tail)), hasher=None)
            v = sig[64] + 35 + 2 * self.chain_id
            raw = _rlp_list(
                body + _uint(v) + _uint(int.from_bytes(sig[:32], "big")) + _uint(int.from_bytes(sig[32:64], "big"))
            )
        return raw, keccak(raw)

    def sign_fields(self, tx: dict[str, Any]) -> tuple[str, str]:
        """Sign a transaction given as fields (``chainId``, ``nonce``, ``gas``, ``to``, ``value``,
        ``data`` and this signer's fee fields, as :meth:`TxSender.build
        <telcochain.tx.TxSender.build>` makes them); returns (raw hex, hash hex)."""
        fees = {k: tx[k] for k in ("gasPrice", "maxPriorityFeePerGas", "maxFeePerGas") if k in tx}
        if fees != self.fees or tx.get("chainId", self.chain_id) != self.chain_id:
            raise ConfigurationError(
                f"this signer signs for chain {self.chain_id} with fees {self.fees}, "
                f"not chain {tx.get('chainId')} with {fees}"
            )
        data = tx.get("data") or b""
        payload = data if isinstance(data, bytes) else bytes.fromhex(str(data).removeprefix("0x"))
        to = bytes.fromhex(tx["to"][2:]) if tx.get("to") else None
        raw, tx_hash = self.sign(int(tx["nonce"]), to, payload, int(tx["gas"]), int(tx.get("value", 0)))
        return "0x" + raw.hex(), "0x" + tx_hash.hex()


# -- nonces -----------------------------------------------------------------------------------------


class Nonces:
    """One account's nonces, allocated locally: seeded once from the chain's pending count, then
    handed out without a round trip; :meth:`forget` makes the next allocation re-read the chain
    (after the chain said the local count is wrong). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: int | None = None

    @property
    def seeded(self) -> bool:
        return self._next is not None

    def seed(self, pending_count: int, *, never_lower: bool = False) -> None:
        """Take the chain's count; with ``never_lower`` keep a higher local count (nonces already
        handed out for transactions still on their way)."""
        with self._lock:
            self._next = max(self._next or 0, pending_count) if never_lower else pending_count

    def reserve_through(self, nonce: int) -> None:
        """Never hand out ``nonce`` or a lower one again (they belong to transactions resumed)."""
        with self._lock:
            self._next = max(self._next or 0, nonce + 1)

    def allocate(self) -> int:
        """The next nonce (the allocator must be seeded)."""
        with self._lock:
            if self._next is None:
                raise ConfigurationError("the nonce allocator is not seeded: read the pending count first")
            nonce = self._next
            self._next += 1
            return nonce

    def forget(self) -> None:
        """Drop the local count: the next allocation needs a fresh seed from the chain."""
        with self._lock:
            self._next = None


# -- the node's refusals ----------------------------------------------------------------------------


class Refusal(str, Enum):
    """What a node's refusal of ``eth_sendRawTransaction`` means for that transaction."""

    #: The node has these very bytes already (a retry of a send whose answer was lost): sent.
    KNOWN = "known"
    #: Its nonce is taken — mined (by this transaction or another one) or held in the pool by
    #: another transaction of the sender: this transaction can only run if it is the one mined.
    NONCE_USED = "nonce_used"
    #: Its nonce is beyond what the node accepts for the sender (a gap): the local count is ahead.
    NONCE_AHEAD = "nonce_ahead"
    #: Anything else (funds, gas limit, signature, chain id, permissioning...): it will never run.
    REFUSED = "refused"


#: Lower-case fragments of the refusal messages, by meaning. Checked in this order.
_REFUSALS: tuple[tuple[Refusal, tuple[str, ...]], ...] = (
    # anvil "transaction already imported", geth "already known", Besu "Known transaction"
    (
        Refusal.KNOWN,
        ("already imported", "already known", "known transaction", "already in the pool", "already exists"),
    ),
    # anvil/geth "nonce too low", Besu "Nonce too low", OpenEthereum "Transaction nonce is too low";
    # "replacement transaction underpriced": another transaction holds the nonce in the pool
    (Refusal.NONCE_USED, ("nonce too low", "nonce is too low", "replacement transaction underpriced")),
    # geth/Besu "nonce too high", Besu "Transaction nonce is too distant from current sender nonce"
    (Refusal.NONCE_AHEAD, ("nonce too high", "nonce gap", "future nonce", "too distant from current sender nonce")),
)


def classify_refusal(message: str) -> Refusal:
    """The meaning of a node's refusal message (the JSON-RPC error's ``message``)."""
    text = message.lower()
    for refusal, fragments in _REFUSALS:
        if any(fragment in text for fragment in fragments):
            return refusal
    return Refusal.REFUSED
