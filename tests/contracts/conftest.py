"""Fixtures of the Constitution contract tests; the helpers are in tests/support
(:mod:`tests.support.encoding`, :mod:`tests.support.events`).

Deployments are module-scoped: ape's isolation snapshots the chain around every test, so each
test starts from the freshly deployed (and, for ``constitution``, sealed) state.

Cast: ``deployer`` (genesis authority, not a member), founders ``alice``, ``bob``, ``carol``,
a candidate ``dave``, a second candidate ``erin``, and a ``stranger``.
"""

from __future__ import annotations

import pytest

from tests.support.ape_speed import fast_ape
from tests.support.encoding import trust_key
from tests.support.events import GAS_REPORT
from tests.support.worlds import Deployed, check_roles, deploy_world, load_world

#: The founders' member names (``founders``, tests/support/worlds/constitution.yaml).
FOUNDER_NAMES = {"alice": "Alice Telecom", "bob": "Bob Networks", "carol": "Carol Devices"}


@pytest.fixture(scope="session", autouse=True)
def _fast_ape():
    """ape's per-call costs these tests do not need, patched for the session (tests/support/ape_speed.py)."""
    with fast_ape():
        yield


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
        (alice.address, trust_key(1), FOUNDER_NAMES["alice"]),
        (bob.address, trust_key(2), FOUNDER_NAMES["bob"]),
        (carol.address, trust_key(3), FOUNDER_NAMES["carol"]),
    ]


@pytest.fixture(scope="module")
def genesis_constitution(project, deployer, founders):
    """A Constitution just deployed: built-in defaults, genesis still open."""
    return project.Constitution.deploy(founders, sender=deployer)


@pytest.fixture(scope="module")
def mock_world(deployer, alice, bob, carol) -> Deployed:
    """The world of tests/support/worlds/constitution.yaml (the founders, and the MockModule's
    actions defined at genesis, then sealed), deployed through scripts/deploy.py."""
    config = load_world("constitution")
    check_roles(config, FOUNDER_NAMES, {"alice": alice, "bob": bob, "carol": carol})
    return deploy_world(config, deployer)


@pytest.fixture(scope="module")
def module(mock_world):
    """The world's MockModule (test_genesis.py has its own, for ``genesis_constitution``)."""
    return mock_world.contracts["MockModule"]


@pytest.fixture(scope="module")
def constitution(mock_world):
    """The Constitution after a genesis that defines the mock module's actions, then sealed
    (tests/support/worlds/constitution.yaml):

    - record: Public, Any; granted to alice and bob.
    - fail: Public, Any; granted to alice (always reverts MockModuleFailed(code)).
    - callInternal: Public, Any; granted to alice (calls an internal action).
    - internalRecord: Internal (no grant needed); callers: the mock module only.
    - reenter: Public, Any; granted to alice (tries to re-enter executeAction).
    """
    return mock_world.constitution


# --------------------------------------------------------------------------------------------
# Gas report (filled by test_gas_report.py, printed in the terminal summary)
# --------------------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter):
    if not GAS_REPORT:
        return
    terminalreporter.section("Constitution gas report (berlin, legacy tx)")
    width = max(len(row[0]) for row in GAS_REPORT)
    terminalreporter.write_line(f"{'operation':<{width}}  {'gas':>10}  note")
    for operation, gas, note in GAS_REPORT:
        terminalreporter.write_line(f"{operation:<{width}}  {gas:>10,}  {note}")
