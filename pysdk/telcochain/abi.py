"""The contract ABIs shipped with the SDK, their hashes, and revert-data decoding."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from telcochain.errors import ContractRevert, contract_error_class

ABI = list[dict[str, Any]]

#: Selector of Solidity's built-in ``Error(string)`` (require with a message).
_ERROR_STRING = "0x08c379a0"
#: Selector of Solidity's built-in ``Panic(uint256)`` (assert, overflow, ...).
_PANIC = "0x4e487b71"


@cache
def shipped_abis() -> dict[str, ABI]:
    """Every ABI in ``telcochain/abi/``, by contract name."""
    folder = resources.files("telcochain").joinpath("abi")
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text())
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


def load_abi(contract: str) -> ABI:
    """The shipped ABI of ``contract`` (KeyError if the SDK does not ship it)."""
    return shipped_abis()[contract]


def abi_hash(abi: ABI) -> str:
    """A stable fingerprint of an ABI: sha256 over its canonical JSON."""
    canonical = json.dumps(abi, sort_keys=True, separators=(",", ":"))
    return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


def canonical_type(param: dict[str, Any]) -> str:
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@cache
def _error_registry() -> dict[str, tuple[str, list[str], list[str]]]:
    """selector (0x + 8 hex) -> (name, argument names, argument types), over all shipped ABIs."""
    registry: dict[str, tuple[str, list[str], list[str]]] = {}
    for abi in shipped_abis().values():
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [canonical_type(i) for i in item.get("inputs", [])]
            names = [i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", []))]
            signature = f"{item['name']}({','.join(types)})"
            selector = "0x" + function_signature_to_4byte_selector(signature).hex()
            registry[selector] = (item["name"], names, types)
    return registry


def error_names() -> set[str]:
    """Names of every custom error declared in the shipped ABIs."""
    return {name for name, _, _ in _error_registry().values()}


def decode_revert(data: str | bytes | None, tx_hash: str | None = None) -> ContractRevert:
    """Turn revert data into the matching :class:`ContractRevert` subclass."""
    if isinstance(data, bytes | bytearray):
        data = "0x" + bytes(data).hex()
    data = (data or "0x").lower()
    selector, body = data[:10], bytes.fromhex(data[10:]) if len(data) > 10 else b""
    if len(data) < 10:
        return ContractRevert("UnknownRevert", {}, data, tx_hash)
    try:
        if selector == _ERROR_STRING:
            (message,) = abi_decode(["string"], body)
            return contract_error_class("Error")("Error", {"message": message}, data, tx_hash)
        if selector == _PANIC:
            (code,) = abi_decode(["uint256"], body)
            return contract_error_class("Panic")("Panic", {"code": hex(code)}, data, tx_hash)
        known = _error_registry().get(selector)
        if known is not None:
            name, names, types = known
            values = [
                to_checksum_address(v) if t == "address" else v
                for t, v in zip(types, abi_decode(types, body), strict=True)
            ]
            return contract_error_class(name)(name, dict(zip(names, values, strict=True)), data, tx_hash)
    except Exception:  # malformed revert data: fall through to the raw form
        pass
    return ContractRevert(f"UnknownError[{selector}]", {}, data, tx_hash)
