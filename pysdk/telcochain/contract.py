"""A thin, fast contract binding: ABI encoding with eth-abi, calls over :class:`Rpc`.

Deliberately smaller than web3.py's ``Contract``: no per-call validation layers on the hot
path (the throughput work sends thousands of calls a second). Arguments are plain Python
values of the ABI types (``bytes`` for ``bytesN``, checksum or lower-case hex ``str`` for
``address``, tuples for structs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, to_checksum_address

from telcochain.abi import ABI, canonical_type, load_abi
from telcochain.errors import ConfigurationError, RpcError
from telcochain.rpc import Rpc
from telcochain.tx import Log, Receipt, TxSender, _revert_from_rpc_error


@dataclass(frozen=True)
class Event:
    """A decoded contract event."""

    name: str
    args: dict[str, Any]
    log: Log

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


def _types(params: Iterable[dict[str, Any]]) -> list[str]:
    return [canonical_type(p) for p in params]


class Contract:
    """One deployed contract, bound to an RPC endpoint and optionally to a sender."""

    def __init__(
        self,
        name: str,
        address: str,
        rpc: Rpc,
        sender: TxSender | None = None,
        abi: ABI | None = None,
    ) -> None:
        self.name = name
        self.address = to_checksum_address(address)
        self.rpc = rpc
        self.sender = sender
        self.abi = abi if abi is not None else load_abi(name)
        self._functions = {i["name"]: i for i in self.abi if i.get("type") == "function"}
        self._events = {"0x" + event_abi_to_log_topic(i).hex(): i for i in self.abi if i.get("type") == "event"}  # type: ignore[arg-type]
        self._selectors = {
            name: "0x" + function_abi_to_4byte_selector(fn).hex()  # type: ignore[arg-type]
            for name, fn in self._functions.items()
        }

    def _function(self, fn: str) -> dict[str, Any]:
        try:
            return self._functions[fn]
        except KeyError:
            raise ConfigurationError(f"{self.name} has no function {fn!r}") from None

    def encode(self, fn: str, *args: Any) -> str:
        """Calldata for ``fn(*args)``."""
        abi = self._function(fn)
        types = _types(abi["inputs"])
        if len(args) != len(types):
            raise ConfigurationError(f"{self.name}.{fn} takes {len(types)} arguments, got {len(args)}")
        return self._selectors[fn] + abi_encode(types, list(args)).hex()

    def decode_output(self, fn: str, data: str) -> Any:
        """The return value(s) of ``fn`` from raw return data (one value unwrapped)."""
        types = _types(self._function(fn)["outputs"])
        values = abi_decode(types, bytes.fromhex(data[2:]))
        return values[0] if len(values) == 1 else values

    def call(self, fn: str, *args: Any, block: str | int = "latest") -> Any:
        """Read ``fn(*args)`` with ``eth_call``; a revert raises its decoded custom error."""
        tag = block if isinstance(block, str) else hex(block)
        try:
            data = self.rpc.call("eth_call", [{"to": self.address, "data": self.encode(fn, *args)}, tag])
        except RpcError as exc:
            raise _revert_from_rpc_error(exc) from None
        return self.decode_output(fn, data)

    def call_many(self, fn: str, arg_lists: Iterable[tuple[Any, ...]], block: str | int = "latest") -> list[Any]:
        """Many reads of ``fn`` in one JSON-RPC batch (one HTTP round trip)."""
        tag = block if isinstance(block, str) else hex(block)
        requests = [("eth_call", [{"to": self.address, "data": self.encode(fn, *args)}, tag]) for args in arg_lists]
        try:
            answers = self.rpc.batch(requests)
        except RpcError as exc:
            raise _revert_from_rpc_error(exc) from None
        return [self.decode_output(fn, data) for data in answers]

    def transact(self, fn: str, *args: Any, gas: int | None = None) -> Receipt:
        """Send ``fn(*args)`` from the bound account and wait for it to be mined."""
        if self.sender is None:
            raise ConfigurationError("this client has no account: connect with an account to send transactions")
        return self.sender.transact(self.address, self.encode(fn, *args), gas=gas)

    # -- events -------------------------------------------------------------------------

    def topic(self, event: str) -> str:
        """topic0 of ``event``."""
        for topic, abi in self._events.items():
            if abi["name"] == event:
                return topic
        raise ConfigurationError(f"{self.name} has no event {event!r}")

    def decode_log(self, log: Log) -> Event | None:
        """The event in ``log`` if this contract emitted it and knows it, else None."""
        if log.address.lower() != self.address.lower() or not log.topics:
            return None
        abi = self._events.get(log.topics[0].lower())
        if abi is None:
            return None
        indexed = [i for i in abi["inputs"] if i.get("indexed")]
        plain = [i for i in abi["inputs"] if not i.get("indexed")]
        args: dict[str, Any] = {}
        for param, topic in zip(indexed, log.topics[1:], strict=True):
            kind = canonical_type(param)
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                args[param["name"]] = bytes.fromhex(topic[2:])  # hashed: the value is not recoverable
            else:
                (args[param["name"]],) = abi_decode([kind], bytes.fromhex(topic[2:]))
        values = abi_decode(_types(plain), bytes.fromhex(log.data[2:])) if plain else ()
        args.update({p["name"]: v for p, v in zip(plain, values, strict=True)})
        for param in abi["inputs"]:
            if canonical_type(param) == "address" and isinstance(args.get(param["name"]), str):
                args[param["name"]] = to_checksum_address(args[param["name"]])
        return Event(abi["name"], args, log)

    def events(self, logs: Receipt | Iterable[Log], name: str | None = None) -> list[Event]:
        """Decode this contract's events from a receipt or a list of logs."""
        source = logs.logs if isinstance(logs, Receipt) else logs
        decoded = (self.decode_log(log) for log in source)
        return [e for e in decoded if e is not None and (name is None or e.name == name)]
