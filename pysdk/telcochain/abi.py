"""The contract ABIs shipped with the SDK, their hashes, and the registry of their custom errors.

The bottom of the SDK: it imports no other telcochain module (revert data is decoded into
exceptions by :func:`telcochain.errors.decode_revert`)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from eth_utils import function_signature_to_4byte_selector

ABI = list[dict[str, Any]]


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
def error_registry() -> dict[str, tuple[str, list[str], list[str]]]:
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
    return {name for name, _, _ in error_registry().values()}
