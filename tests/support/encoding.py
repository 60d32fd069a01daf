"""Ids and ABI encodings the contract tests send (the same encodings the SDK must produce).

The Solidity enums are the SDK's (telcochain.constitution; tests/toolchain/test_rules.py checks
them against the sources).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from telcochain.constitution import (  # noqa: F401  (the tests import the enums from here)
    Ballot,
    DenyReason,
    MemberStatus,
    ProposalStatus,
    Scope,
    Voters,
)

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
DAY = 86_400
DEFAULT_VOTING_PERIOD = 7 * DAY


def action_id(name: str) -> bytes:
    """keccak256(bytes(name)): the id of an action."""
    return keccak(text=name)


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def entry_selector(name: str) -> bytes:
    """The selector of a module entry point ``name(address,bytes32,bytes)``."""
    return selector(f"{name}(address,bytes32,bytes)")


def ref(label: str) -> bytes:
    """A deterministic correlation id."""
    return keccak(text=f"ref:{label}")


def trust_key(n: int) -> bytes:
    return (n + 1).to_bytes(32, "big")


def asset_id(label: str) -> bytes:
    """A twin's id from a label (the asset and agreement tests' scheme)."""
    return keccak(text=f"asset:{label}")


def details(label: str) -> bytes:
    """A details commitment from a label."""
    return keccak(text=f"details:{label}")


def address_of(account: Any) -> str:
    """An account's (or a contract's) address; an address stays as it is."""
    return account if isinstance(account, str) else account.address


ADD_MEMBER = action_id("addMember")
SUSPEND_MEMBER = action_id("suspendMember")
REINSTATE_MEMBER = action_id("reinstateMember")
AMEND_CONSTITUTION = action_id("amendConstitution")
UPDATE_PERMISSIONS = action_id("updatePermissions")
REFRESH_TRUST_KEYS = action_id("refreshTrustKeys")
VOTE_FOR = action_id("voteFor")
BUILTINS = {
    "addMember": ADD_MEMBER,
    "suspendMember": SUSPEND_MEMBER,
    "reinstateMember": REINSTATE_MEMBER,
    "amendConstitution": AMEND_CONSTITUTION,
    "updatePermissions": UPDATE_PERMISSIONS,
    "refreshTrustKeys": REFRESH_TRUST_KEYS,
    "voteFor": VOTE_FOR,
}

POLICY_TYPE = "(string,uint8,address,bytes4,bool,uint8,uint8,uint32,address[],address[],address[])"
ENTRY_TYPE = "(address,bool,uint64,uint64)"

# the test module's actions (contracts/test/MockModule.sol)
RECORD = action_id("record")
FAIL = action_id("fail")
CALL_INTERNAL = action_id("callInternal")
INTERNAL_RECORD = action_id("internalRecord")
REENTER = action_id("reenter")


def policy(
    name: str,
    *,
    scope: Scope = Scope.PUBLIC,
    module: Any = ZERO_ADDRESS,
    selector_: bytes = b"\x00" * 4,
    enabled: bool = True,
    voters: Voters = Voters.ANY,
    margin: int = 0,
    period: int = 0,
    voter_list: Any = (),
    veto_list: Any = (),
    callers: Any = (),
) -> tuple[Any, ...]:
    """An ActionPolicy tuple (``callers``: the modules allowed to call an Internal action)."""
    return (
        name,
        int(scope),
        address_of(module),
        selector_,
        enabled,
        int(voters),
        margin,
        period,
        [address_of(a) for a in voter_list],
        [address_of(a) for a in veto_list],
        [address_of(a) for a in callers],
    )


def grant(account: Any, valid_from: int = 0, valid_until: int = 0) -> tuple[Any, ...]:
    return (address_of(account), True, valid_from, valid_until)


def revoke(account: Any) -> tuple[Any, ...]:
    return (address_of(account), False, 0, 0)


def add_member_params(account: Any, key: bytes, name: str) -> bytes:
    return encode(["address", "bytes32", "string"], [address_of(account), key, name])


def suspend_params(account: Any) -> bytes:
    return encode(["address"], [address_of(account)])


def amend_params(policy_: tuple[Any, ...], permissions: Any = ()) -> bytes:
    return encode([POLICY_TYPE, ENTRY_TYPE + "[]"], [policy_, list(permissions)])


def update_params(action: bytes, entries: Any) -> bytes:
    return encode(["bytes32", ENTRY_TYPE + "[]"], [action, list(entries)])


def refresh_params(key: bytes) -> bytes:
    return encode(["bytes32"], [key])


def vote_params(proposal_id: int, approve: bool) -> bytes:
    return encode(["uint256", "bool"], [proposal_id, approve])


def uint_params(value: int) -> bytes:
    return encode(["uint256"], [value])


PolicyView = namedtuple(
    "PolicyView",
    "name scope module selector enabled voters margin votingPeriod voterList vetoList callers",
)


def policy_view(raw: Any) -> PolicyView:
    """An ActionPolicy as returned inside ``actions()`` (ape gives nested structs as tuples)."""
    return PolicyView(*raw)
