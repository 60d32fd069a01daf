"""Action ids and parameter encodings: the seed's generic ``executeAction(name, params, ref)``.

An action is ``keccak256(name)``; its ``params`` are the ABI encoding of the arguments its
implementation decodes. :data:`ACTION_PARAMS` knows the built-ins and every module entry point
(:mod:`telcochain.action_params`, generated from the contracts' ``abi.decode``, structs
included), so callers can pass plain Python values instead of bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from telcochain.action_params import ENTRY_POINT_PARAMS
from telcochain.errors import ConfigurationError

#: ABI type of ``IConstitution.ActionPolicy``.
POLICY_TYPE = "(string,uint8,address,bytes4,bool,uint8,uint8,uint32,address[],address[],address[])"
#: ABI type of ``IConstitution.PermissionEntry``.
ENTRY_TYPE = "(address,bool,uint64,uint64)"

#: Argument types of the Constitution's own actions (implemented inside it, no module).
_BUILTIN_PARAMS: dict[str, list[str]] = {
    "addMember": ["address", "bytes32", "string"],
    "suspendMember": ["address"],
    "reinstateMember": ["address"],
    "amendConstitution": [POLICY_TYPE, ENTRY_TYPE + "[]"],
    "updatePermissions": ["bytes32", ENTRY_TYPE + "[]"],
    "refreshTrustKeys": ["bytes32"],
    "voteFor": ["uint256", "bool"],
}

#: The Constitution's own actions (implemented inside it, no module).
BUILTIN_ACTIONS = tuple(_BUILTIN_PARAMS)

#: Argument types of every action the SDK knows, by name.
ACTION_PARAMS: dict[str, list[str]] = {
    **_BUILTIN_PARAMS,
    **{name: list(types) for name, types in ENTRY_POINT_PARAMS.items()},
}

#: The largest ``params`` a proposal may hold (``Constitution._MAX_PROPOSAL_PARAMS``), in bytes.
MAX_PROPOSAL_PARAMS = 8192


def action_id(name: str) -> bytes:
    """``keccak256(bytes(name))``, the id an action is registered under."""
    if not name or len(name.encode()) > 64:
        raise ConfigurationError(f"action name {name!r} must be 1 to 64 bytes")
    return keccak(text=name)


def encode_params(name: str, params: bytes | Sequence[Any]) -> bytes:
    """``params`` as bytes: raw bytes pass through; values are encoded with the action's types."""
    if isinstance(params, bytes | bytearray):
        return bytes(params)
    types = ACTION_PARAMS.get(name)
    if types is None:
        raise ConfigurationError(f"the SDK does not know the parameters of {name!r}: pass them ABI-encoded (bytes)")
    if len(params) != len(types):
        raise ConfigurationError(f"{name} takes {len(types)} parameters ({', '.join(types)}), got {len(params)}")
    try:
        return abi_encode(types, list(params))
    except Exception as exc:  # eth_abi raises several types for bad values
        raise ConfigurationError(f"bad parameters for {name}: {exc}") from None


def register_action_params(name: str, types: list[str]) -> None:
    """Teach the SDK the parameter types of the action of a module outside this repository (the
    repository's own modules are known from :mod:`telcochain.action_params`)."""
    ACTION_PARAMS[name] = list(types)
