"""Generic, fast decoding of any telcochain log with the ABIs the SDK ships.

Every event of every ABI in ``telcochain/abi/*.json`` is known by its topic0, so a contract
that gains an event is indexed as soon as the SDK ships the new ABI, with no code change: the
row gets the event's name and its arguments as JSON. A log no ABI knows is kept raw.

JSON form of the arguments (what projections and queries read): ``bytesN``/``bytes`` as
``0x``-hex, addresses checksummed, integers as ints, booleans, structs as objects by component
name, arrays as lists. Static arguments are sliced straight from the data words (the common
case, ~10x faster than a generic decoder); dynamic ones go through eth-abi.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, to_checksum_address

from telcochain.abi import ABI, canonical_type, shipped_abis

_CHECKSUMS: dict[str, str] = {}


def checksum(address: str) -> str:
    """A checksummed address (cached: the same few addresses recur in every block)."""
    found = _CHECKSUMS.get(address)
    if found is None:
        found = _CHECKSUMS[address] = to_checksum_address(address)
    return found


def _word_decoder(kind: str) -> Callable[[str], Any] | None:
    """How to read a static elementary value from one 64-hex-digit word (None: not static)."""
    if kind == "address":
        return lambda w: checksum("0x" + w[24:])
    if kind == "bool":
        return lambda w: int(w, 16) != 0
    if kind.startswith("uint"):
        return lambda w: int(w, 16)
    if kind.startswith("int"):
        bits = 256

        def signed(w: str) -> int:
            v = int(w, 16)
            return v - (1 << bits) if v >> (bits - 1) else v

        return signed
    if kind.startswith("bytes") and kind != "bytes" and not kind.endswith("]"):
        n = int(kind[5:])
        return lambda w: "0x" + w[: 2 * n]
    return None


def to_json(value: Any, param: dict[str, Any]) -> Any:
    """An eth-abi decoded value in the index's JSON form."""
    kind = param["type"]
    if kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return [to_json(v, inner) for v in value]
    if kind == "tuple":
        return {
            c.get("name") or f"_{i}": to_json(v, c)
            for i, (c, v) in enumerate(zip(param["components"], value, strict=True))
        }
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if kind == "address":
        return checksum(value)
    return value


@dataclass(frozen=True)
class EventSpec:
    """One event of one ABI, ready to decode."""

    contract: str
    name: str
    topic0: str
    indexed: list[tuple[str, Callable[[str], Any]]]
    plain: list[dict[str, Any]]
    fast: list[tuple[str, Callable[[str], Any]]] | None  # every plain argument static

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, read), topic in zip(self.indexed, topics[1:], strict=False):
            args[name] = read(topic[2:])
        if self.fast is not None:
            body = data[2:]
            for n, (name, read) in enumerate(self.fast):
                args[name] = read(body[64 * n : 64 * n + 64])
        elif self.plain:
            values = abi_decode([canonical_type(p) for p in self.plain], bytes.fromhex(data[2:]))
            for param, value in zip(self.plain, values, strict=True):
                args[param["name"]] = to_json(value, param)
        return args


def _spec(contract: str, item: dict[str, Any]) -> EventSpec:
    indexed = []
    for n, param in enumerate(i for i in item["inputs"] if i.get("indexed")):
        kind = canonical_type(param)
        read = _word_decoder(kind)
        if read is None:  # hashed dynamic value: only its topic is recoverable
            read = lambda w: "0x" + w  # noqa: E731
        indexed.append((param.get("name") or f"_{n}", read))
    plain = [i for i in item["inputs"] if not i.get("indexed")]
    readers = [(p.get("name") or f"_{n}", _word_decoder(canonical_type(p))) for n, p in enumerate(plain)]
    fast = [(name, read) for name, read in readers if read is not None]
    topic0 = "0x" + event_abi_to_log_topic(item).hex()  # type: ignore[arg-type]
    return EventSpec(contract, item["name"], topic0, indexed, plain, fast if len(fast) == len(plain) else None)


class Decoder:
    """Decodes the logs of a deployment's contracts (by address) with the shipped ABIs."""

    def __init__(self, contracts: dict[str, str], abis: dict[str, ABI] | None = None) -> None:
        """``contracts``: deployment name → address."""
        abis = abis if abis is not None else shipped_abis()
        self.names = {address.lower(): name for name, address in contracts.items()}
        self.specs: dict[tuple[str, str], EventSpec] = {}
        anywhere: dict[str, EventSpec] = {}
        for name, abi in abis.items():
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    spec = _spec(name, item)
                    anywhere.setdefault(spec.topic0, spec)
                    for address, deployed in self.names.items():
                        if deployed == name:
                            self.specs[(address, spec.topic0)] = spec
        self._anywhere = anywhere  # a contract deployed under another name still decodes

    def decode(self, address: str, topics: list[str]) -> EventSpec | None:
        if not topics:
            return None
        key = (address.lower(), topics[0].lower())
        spec = self.specs.get(key)
        if spec is None:
            spec = self._anywhere.get(key[1])
        return spec

    def contract_name(self, address: str) -> str:
        return self.names.get(address.lower(), "unknown")

    @property
    def addresses(self) -> list[str]:
        return list(self.names)


def topics_of(names: Iterable[str]) -> list[str]:
    """topic0 of the named events over all shipped ABIs."""
    wanted = set(names)
    found = []
    for abi in shipped_abis().values():
        for item in abi:
            if item.get("type") == "event" and item["name"] in wanted:
                found.append("0x" + event_abi_to_log_topic(item).hex())  # type: ignore[arg-type]
    return found
