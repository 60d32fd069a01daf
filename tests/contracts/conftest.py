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


@pytest.fixture(scope="session", autouse=True)
def _fast_ape():
    """Three of ape's per-call costs that these tests do not need, patched for the session:

    - a custom error that the called contract does not declare (a module's error bubbling up
      through the Constitution) is explained by fetching and walking the transaction's whole
      trace — a quarter of the contract tests' time; these tests decode revert data against
      every custom error of the project themselves (``dryrun.decode_error``), so ape looks at
      the called contract's ABI only and anything else reaches the tests as raw revert data;
    - every call and transaction first asks the node for the contract's code (is it a
      contract?) — asked once per address here (code at an address never goes away on anvil
      except by a revert to before its deployment, after which the tests never call it);
    - every call and transaction asks for the latest block to read the block gas limit
      (``gas_limit: max``) — anvil's limit is fixed for the session, read once;
    - every call and transaction rebuilds the ecosystem's custom networks (the consortium
      network of ape-config.yaml) to find the default transaction type — the type is read once
      per network.
    """
    from ape.api.address import BaseAddress
    from ape_ethereum.ecosystem import Ethereum
    from ape_foundry.provider import FoundryProvider

    original_decode = Ethereum.decode_custom_error
    original_is_contract = BaseAddress.is_contract
    original_max_gas = FoundryProvider.max_gas
    original_tx_type = Ethereum.default_transaction_type
    tx_types: dict[tuple[int, str], object] = {}
    contracts: set[str] = set()
    max_gas: dict[int, int] = {}

    def called_contract_only(self, data, address, **kwargs):
        kwargs.pop("txn", None)  # without the transaction, ape never looks for its trace
        return original_decode(self, data, address, **kwargs)

    def is_contract(self) -> bool:
        if self.address in contracts:
            return True
        found = original_is_contract.fget(self)
        if found:
            contracts.add(self.address)
        return found

    def fixed_max_gas(self) -> int:
        key = id(self)
        if key not in max_gas:
            max_gas[key] = original_max_gas.fget(self)
        return max_gas[key]

    def default_transaction_type(self):
        provider = self.network_manager.active_provider
        key = (id(self), provider.network.name if provider else "")
        if key not in tx_types:
            tx_types[key] = original_tx_type.fget(self)
        return tx_types[key]

    patch = pytest.MonkeyPatch()
    patch.setattr(Ethereum, "default_transaction_type", property(default_transaction_type))
    patch.setattr(Ethereum, "decode_custom_error", called_contract_only)
    patch.setattr(BaseAddress, "is_contract", property(is_contract))
    patch.setattr(FoundryProvider, "max_gas", property(fixed_max_gas))
    yield
    patch.undo()


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
