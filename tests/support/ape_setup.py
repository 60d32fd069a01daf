"""What the whole test run changes about ape and ape-foundry, applied by tests/conftest.py when
pytest imports it — before ape's pytest plugin makes its runner and starts its anvil
(``pytest_configure``, end of collection). Each is checked by a test
(tests/contracts/test_test_node.py, tests/toolchain/test_ape_isolation.py), so that an ape
upgrade renaming what is patched fails instead of slowing the suite by minutes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from telcochain.node import free_port

from tests.support.paths import ROOT


def prepare_ape() -> None:
    """All of the below, once per process."""
    own_ape_data_folder()
    lean_anvil()
    anvil_on_a_free_port()
    anvil_leaves_no_record()
    isolation_only_on_its_chain()


def own_ape_data_folder() -> None:
    """Under pytest-xdist (`make test` runs two workers), each worker's ape keeps its own data
    folder: ape records the nodes it starts in ``<data folder>/processes/nodes.json`` with a plain
    (non-atomic) write, and two workers starting their anvil at the same moment can leave that
    file half-written — the next ape session then fails before collecting. The local network
    keeps nothing else there. Set here, before ape's pytest plugin connects (at the end of
    collection); the environment variable carries it to `ape run deploy` subprocesses."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=f"telcochain-ape-{worker}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["APE_DATA_FOLDER"] = str(folder)
    from ape.utils.basemodel import ManagerAccessMixin

    ManagerAccessMixin.config_manager.DATA_FOLDER = folder


def lean_anvil() -> None:
    """The anvil that ape-foundry starts for tests/contracts, patched here before ape's pytest
        plugin starts it at the end of collection:

        - it gets the local node's ``--max-persisted-states 0`` (see
          ``telcochain.node.KEEP_NO_STATES_ON_DISK``): left alone it writes every older block's state
          under ~/.foundry/anvil/tmp and never removes it;
        - it runs without ``--steps-tracing``, which ape-foundry always passes so that anvil records
          every EVM step of every transaction (for ape's ``show_trace``, ``--gas`` reports and
          coverage — none of which these tests use: they decode revert data themselves,
          ``tests.support.dryrun``, and measure gas from receipts). Recording the steps was most of
    X
          whole of tests/contracts 2 m 40 s → 1 m on two workers, anvil's peak 10.7 GB → 0.2 GB.
    """
    from ape_foundry.provider import FoundryProvider
    from telcochain.node import KEEP_NO_STATES_ON_DISK

    build = FoundryProvider.build_command
    if getattr(build, "lean", False):
        return

    def build_command(self: FoundryProvider) -> list[str]:
        return [*(arg for arg in build(self) if arg != "--steps-tracing"), *KEEP_NO_STATES_ON_DISK]

    build_command.lean = True  # type: ignore[attr-defined]
    FoundryProvider.build_command = build_command  # type: ignore[method-assign]


def anvil_on_a_free_port() -> None:
    """ape-foundry's ``host: auto`` tries port 8545, then a random port it never checks is free:
    with several workers, and every other test starting nodes and gateways on free ports, its
    anvil can meet a taken port, fail to bind and leave ape waiting 20 s for it (seen once as
    'Timed out waiting for successful RPC connection'). It gets a port the system says is free."""
    from ape_foundry.provider import FoundryProvider

    start = FoundryProvider._start
    if getattr(start, "free_port", False):
        return

    def _start(self: FoundryProvider) -> None:
        if self._host == "auto" and not self.is_connected:
            self._host = f"http://127.0.0.1:{free_port()}"
        start(self)

    _start.free_port = True  # type: ignore[attr-defined]
    FoundryProvider._start = _start  # type: ignore[method-assign]


def anvil_leaves_no_record() -> None:
    """ape keeps every node it starts in ~/.ape/processes/nodes.json and removes the entry at
    disconnect by matching the provider's URL — which ape-foundry clears just before, so the entry
    stays: one more per worker and run, and every later disconnect validates the settings of each
    (4.4 s per worker after a day of runs here). The entry is removed by the process id instead."""
    from ape_foundry.provider import FoundryProvider

    disconnect = FoundryProvider.disconnect
    if getattr(disconnect, "by_pid", False):
        return

    def _disconnect(self: FoundryProvider) -> None:
        pid = self.process.pid if self.process else None
        if pid is not None:
            self.network_manager.running_nodes.remove_processes(pid)
        disconnect(self)

    _disconnect.by_pid = True  # type: ignore[attr-defined]
    FoundryProvider.disconnect = _disconnect  # type: ignore[method-assign]


#: ape's fixtures on its own chain: a test that asks for one keeps ape's snapshot/revert.
APE_CHAIN_FIXTURES = frozenset({"chain", "accounts", "networks", "Contract"})


def uses_apes_chain(item: pytest.Item) -> bool:
    """Whether ape's chain isolation is for this test: the contract tests (tests/contracts), and
    any other test that asks for one of ape's chain fixtures."""
    path = Path(str(item.path)).resolve().relative_to(ROOT)
    return path.parts[:2] == ("tests", "contracts") or bool(APE_CHAIN_FIXTURES & set(getattr(item, "fixturenames", ())))


def isolation_only_on_its_chain() -> None:
    """ape's pytest plugin snapshots and reverts its own chain around every test of the run, and
    first works out which of the test's fixtures might hold chain state — for the SDK, CLI,
    gateway and other tests too, which never touch that chain (they run their own nodes): 11 ms
    a test, a quarter of tests/cli/test_cli_bad_input.py's time. Its runner's setup hook (which
    adds the isolation fixtures to a test) now runs for the tests that use ape's chain only
    (:func:`uses_apes_chain`); tests/toolchain/test_ape_isolation.py and
    tests/contracts/test_test_node.py check both sides.

    Patched on the class before ape's plugin makes its runner (in ``pytest_configure``, after
    this file is imported). Not done with ape's ``--disable-isolation`` switched on and off per
    test: ape reads that option once and keeps it (a ``cached_property``), so whichever test came
    first on a worker decided for all — contract tests included."""
    from ape.pytest.runners import PytestApeRunner

    setup = PytestApeRunner.pytest_runtest_setup
    if getattr(setup, "only_on_its_chain", False):
        return

    def pytest_runtest_setup(self: PytestApeRunner, item: pytest.Item) -> None:
        if uses_apes_chain(item):
            setup(self, item)

    pytest_runtest_setup.only_on_its_chain = True  # type: ignore[attr-defined]
    PytestApeRunner.pytest_runtest_setup = pytest_runtest_setup  # type: ignore[method-assign]
