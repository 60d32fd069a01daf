"""Shared fixtures and helpers for the Constitution contract tests.

Deployments are module-scoped: ape's isolation snapshots the chain around every test, so each
test starts from the freshly deployed (and, for ``constitution``, sealed) state.

Cast: ``deployer`` (genesis authority, not a member), founders ``alice``, ``bob``, ``carol``,
a candidate ``dave``, a second candidate ``erin``, and a ``stranger``.
"""

from __future__ import annotations

from collections import namedtuple
from contextlib import contextmanager

import ape
import pytest
from ape.exceptions import ContractLogicError
from dryrun import decode_error
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

# The Solidity enums are the SDK's (telcochain.constitution; tests/toolchain/test_rules.py checks
# them against the sources).

# --------------------------------------------------------------------------------------------
# Ids and ABI encodings (the same encodings the SDK must produce)
# --------------------------------------------------------------------------------------------


def action_id(name: str) -> bytes:
    """keccak256(bytes(name)): the id of an action."""
    return keccak(text=name)


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def ref(label: str) -> bytes:
    """A deterministic correlation id."""
    return keccak(text=f"ref:{label}")


def trust_key(n: int) -> bytes:
    return (n + 1).to_bytes(32, "big")


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

RECORD = action_id("record")
FAIL = action_id("fail")
CALL_INTERNAL = action_id("callInternal")
INTERNAL_RECORD = action_id("internalRecord")
REENTER = action_id("reenter")


def _address(account) -> str:
    return account if isinstance(account, str) else account.address


def policy(
    name: str,
    *,
    scope: Scope = Scope.PUBLIC,
    module=ZERO_ADDRESS,
    selector_: bytes = b"\x00" * 4,
    enabled: bool = True,
    voters: Voters = Voters.ANY,
    margin: int = 0,
    period: int = 0,
    voter_list=(),
    veto_list=(),
    callers=(),
) -> tuple:
    """An ActionPolicy tuple (``callers``: the modules allowed to call an Internal action)."""
    return (
        name,
        int(scope),
        _address(module),
        selector_,
        enabled,
        int(voters),
        margin,
        period,
        [_address(a) for a in voter_list],
        [_address(a) for a in veto_list],
        [_address(a) for a in callers],
    )


def grant(account, valid_from: int = 0, valid_until: int = 0) -> tuple:
    return (_address(account), True, valid_from, valid_until)


def revoke(account) -> tuple:
    return (_address(account), False, 0, 0)


def add_member_params(account, key: bytes, name: str) -> bytes:
    return encode(["address", "bytes32", "string"], [_address(account), key, name])


def suspend_params(account) -> bytes:
    return encode(["address"], [_address(account)])


def amend_params(policy_: tuple, permissions=()) -> bytes:
    return encode([POLICY_TYPE, ENTRY_TYPE + "[]"], [policy_, list(permissions)])


def update_params(action: bytes, entries) -> bytes:
    return encode(["bytes32", ENTRY_TYPE + "[]"], [action, list(entries)])


def refresh_params(key: bytes) -> bytes:
    return encode(["bytes32"], [key])


def vote_params(proposal_id: int, approve: bool) -> bytes:
    return encode(["uint256", "bool"], [proposal_id, approve])


def uint_params(value: int) -> bytes:
    return encode(["uint256"], [value])


# --------------------------------------------------------------------------------------------
# Receipt helpers
# --------------------------------------------------------------------------------------------


PolicyView = namedtuple(
    "PolicyView",
    "name scope module selector enabled voters margin votingPeriod voterList vetoList callers",
)


def policy_view(raw) -> PolicyView:
    """An ActionPolicy as returned inside ``actions()`` (ape gives nested structs as tuples)."""
    return PolicyView(*raw)


def events(receipt, name: str) -> list:
    return [log for log in receipt.events if log.event_name == name]


def event_names(receipt) -> list[str]:
    return [log.event_name for log in receipt.events]


def the_event(receipt, name: str):
    found = events(receipt, name)
    assert len(found) == 1, f"expected one {name}, got {event_names(receipt)}"
    return found[0]


def opened_id(receipt) -> int:
    return the_event(receipt, "ProposalOpened").proposalId


#: (name, inputs) of a revert: ape decodes most; deployments come back as raw data.
decode_revert = decode_error


@contextmanager
def reverts_with(error_name: str, **inputs):
    """Like ``ape.reverts`` but strict: the revert must be the named custom error, with the
    given inputs."""
    with ape.reverts() as info:
        yield info
    err = info.value
    assert isinstance(err, ContractLogicError)
    name, actual_inputs = decode_revert(err)
    assert name == error_name, f"reverted with {name}: {err}"
    for key, expected in inputs.items():
        actual = actual_inputs[key]
        if isinstance(expected, str) and isinstance(actual, str):
            assert actual.lower() == expected.lower(), (key, actual, expected)
        else:
            assert actual == expected, (key, actual, expected)


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def dave(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def erin(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[9]


@pytest.fixture(scope="session")
def founders(alice, bob, carol):
    return [
        (alice.address, trust_key(1), "Alice Telecom"),
        (bob.address, trust_key(2), "Bob Networks"),
        (carol.address, trust_key(3), "Carol Devices"),
    ]


@pytest.fixture(scope="module")
def genesis_constitution(project, deployer, founders):
    """A Constitution just deployed: built-in defaults, genesis still open."""
    return project.Constitution.deploy(founders, sender=deployer)


@pytest.fixture(scope="module")
def module(project, deployer, genesis_constitution):
    return project.MockModule.deploy(genesis_constitution.address, sender=deployer)


@pytest.fixture(scope="module")
def constitution(genesis_constitution, module, deployer, alice, bob):
    """The Constitution after a genesis that defines the mock module's actions, then sealed.

    - record: Public, Any; granted to alice and bob.
    - fail: Public, Any; granted to alice (always reverts MockModuleFailed(code)).
    - callInternal: Public, Any; granted to alice (calls an internal action).
    - internalRecord: Internal (no grant needed); callers: the mock module only.
    - reenter: Public, Any; granted to alice (tries to re-enter executeAction).
    """
    c = genesis_constitution
    for name in ("record", "fail", "callInternal", "reenter"):
        grants = [grant(alice), grant(bob)] if name == "record" else [grant(alice)]
        c.genesisDefineAction(
            policy(name, module=module, selector_=selector(f"{name}(address,bytes32,bytes)")),
            grants,
            sender=deployer,
        )
    c.genesisDefineAction(
        policy(
            "internalRecord",
            scope=Scope.INTERNAL,
            module=module,
            selector_=selector("internalRecord(address,bytes32,bytes)"),
            callers=[module],
        ),
        [],
        sender=deployer,
    )
    c.sealGenesis(sender=deployer)
    return c


# --------------------------------------------------------------------------------------------
# Gas report (filled by test_gas_report.py, printed in the terminal summary)
# --------------------------------------------------------------------------------------------

GAS_REPORT: list[tuple[str, int, str]] = []


def pytest_terminal_summary(terminalreporter):
    if not GAS_REPORT:
        return
    terminalreporter.section("Constitution gas report (berlin, legacy tx)")
    width = max(len(row[0]) for row in GAS_REPORT)
    terminalreporter.write_line(f"{'operation':<{width}}  {'gas':>10}  note")
    for operation, gas, note in GAS_REPORT:
        terminalreporter.write_line(f"{operation:<{width}}  {gas:>10,}  {note}")
