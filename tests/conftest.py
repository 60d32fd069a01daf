"""Shared fixtures: a local anvil node (berlin, gas price 0) and a consortium deployed on it
with the real deploy script (`ape run deploy`), for the SDK, CLI and end-to-end tests.

Contract-level tests (tests/contracts/) use ape's own fixtures (`project`, `accounts`,
`chain`) and the anvil that ape-foundry starts for the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from telcochain.node import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# The project-local toolchain, also when pytest is run without `make`.
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
os.environ["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(BIN), os.environ.get("PATH", "")])


def _own_ape_data_folder() -> None:
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


_own_ape_data_folder()


def _ape_anvil_lean() -> None:
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


_ape_anvil_lean()


def _ape_anvil_on_a_free_port() -> None:
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


_ape_anvil_on_a_free_port()


def _ape_anvil_leaves_no_record() -> None:
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


_ape_anvil_leaves_no_record()


@pytest.fixture(scope="session")
def dev_accounts() -> list[LocalAccount]:
    """anvil's funded development accounts 0-9 (the example consortium is 0-3)."""
    from telcochain.node import DEV_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(10)]


@dataclass
class RunningNode:
    rpc_url: str
    port: int
    data_dir: Path
    node: object


@pytest.fixture(scope="session")
def local_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A berlin, free-gas anvil for the session (stopped at the end)."""
    from telcochain.node import LocalNode, NodeConfig

    data_dir = tmp_path_factory.mktemp("node")
    port = free_port()
    node = LocalNode(NodeConfig(data_dir=data_dir, port=port, persist=False))
    node.start()
    try:
        yield RunningNode(node.config.rpc_url, port, data_dir, node)
    finally:
        node.stop()


def ape_deploy(rpc_url: str, deployments_dir: Path, consortium: Path | None = None) -> Path:
    """Run the real deploy script against ``rpc_url``; returns the manifest path."""
    env = dict(os.environ, APE_FOUNDRY_HOST=rpc_url, TELCOCHAIN_DEPLOYMENTS_DIR=str(deployments_dir))
    if consortium is not None:
        env["TELCOCHAIN_CONSORTIUM"] = str(consortium)
    result = subprocess.run(
        [str(BIN / "ape"), "run", "deploy", "--network", "ethereum:local:foundry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"deploy failed:\n{result.stdout}\n{result.stderr}"
    return deployments_dir / "local.json"


@dataclass(frozen=True)
class ConsortiumImage:
    """The example consortium as the real deploy script left it: anvil's state dump (blocks,
    logs, code, storage and nonces, block hashes included) and the deployment manifest."""

    state: str
    manifest: Path

    def load_into(self, rpc_url: str, deployments_dir: Path) -> Path:
        """Put the image's chain on the fresh node at ``rpc_url`` (``anvil_loadState``) and a copy
        of its manifest in ``deployments_dir``; returns the copy's path, as :func:`ape_deploy` does."""
        from telcochain.rpc import Rpc

        rpc = Rpc(rpc_url)
        assert int(rpc.call("eth_blockNumber"), 16) == 0, "a consortium image goes on a fresh node"
        assert rpc.call("anvil_loadState", [self.state]), "anvil refused the consortium image"
        deployments_dir.mkdir(parents=True, exist_ok=True)
        copy = deployments_dir / self.manifest.name
        shutil.copyfile(self.manifest, copy)
        return copy


@pytest.fixture(scope="session")
def consortium_image(tmp_path_factory: pytest.TempPathFactory) -> ConsortiumImage:
    """The example consortium deployed by the real deploy script (`ape run deploy`) once per test
    run and kept as a :class:`ConsortiumImage`: the SDK, gateway, hub and console worlds start
    fresh nodes from it (~10 ms) instead of deploying again (~3.6 s each, ten times a run). The
    pytest-xdist workers of a run share it (made by the first, under a lock, in the run's own
    temporary folder); tests/e2e still runs the deploy script on nodes of their own."""
    import fcntl

    from telcochain.node import LocalNode, NodeConfig
    from telcochain.rpc import Rpc

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this run's, never an older run's
    folder = shared / "consortium-image"
    state_file = folder / "state.json"
    with open(shared / "consortium-image.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not state_file.exists():
            folder.mkdir(exist_ok=True)
            node = LocalNode(NodeConfig(data_dir=folder / "node", port=free_port(), persist=False))
            node.start()
            try:
                ape_deploy(node.config.rpc_url, folder / "deployments")
                state = Rpc(node.config.rpc_url).call("anvil_dumpState")
            finally:
                node.stop()
            partial = folder / "state.json.partial"
            partial.write_text(state)
            partial.replace(state_file)
    return ConsortiumImage(state_file.read_text(), folder / "deployments" / "local.json")


@pytest.fixture(scope="session")
def deployment_path(
    local_node: RunningNode, consortium_image: ConsortiumImage, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The example consortium on the session node; the manifest's path."""
    return consortium_image.load_into(local_node.rpc_url, tmp_path_factory.mktemp("deployments"))


@pytest.fixture(autouse=True)
def _isolated_chain(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that uses the session node starts from the freshly deployed consortium:
    the chain is snapshotted before the test and reverted after it (evm_snapshot/evm_revert)."""
    if "local_node" not in request.fixturenames:
        yield
        return
    node: RunningNode = request.getfixturevalue("local_node")
    request.getfixturevalue("deployment_path")  # deploy before the first snapshot
    from telcochain.rpc import Rpc

    rpc = Rpc(node.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    yield
    assert rpc.call("evm_revert", [snapshot]), "could not revert the chain after the test"


@pytest.fixture
def client(local_node: RunningNode, deployment_path: Path, dev_accounts: list[LocalAccount]):  # type: ignore[no-untyped-def]
    """An SDK client acting as the operator (dev account 0)."""
    from telcochain import Client

    return Client.connect(local_node.rpc_url, dev_accounts[0], deployment=deployment_path)


#: The groups that take longest, longest first (measured with ``--durations``): pytest-xdist hands
#: the groups to free workers in collection order, so these start first and no long one is left
#: to run alone at the end. A scheduling hint only: a group not named here runs after them, in
#: collection order, and nothing depends on the order.
LONGEST_FIRST = (  # seconds on a quiet 2-core machine, three workers (2026-11-30)
    "tests/sdk/test_throughput.py",  # 77
    "tests/cli/test_readme_tour.py",  # 50
    "tests/faults/test_node_faults.py",  # 50
    "tests/adversarial/test_matrix.py",  # 45
    "tests/cli/test_cli_bad_input.py",  # 41
    "tests/contracts",  # 41 (its top-level files)
    "tests/e2e/test_node_restart.py",  # 34
    "tests/contracts/orders",  # 32
    "tests/console/test_console_browser.py",  # 28
    "tests/gateway/test_fuzz.py",  # 26
    "tests/contracts/assets",  # 20
    "tests/contracts/agreement",  # 20
    "tests/index/test_cli_index.py",  # 17
    "tests/contracts/invariants",  # 16
    "tests/gateway/test_gateway_http.py",  # 11
    "tests/adversarial/test_delegates.py",  # 11
    "tests/faults/test_sender_faults.py",  # 10
)


def xdist_group_of(path: Path) -> str:
    """The pytest-xdist group of a test file: a package of tests/contracts (or its top-level
    files together), else the file itself."""
    parts = path.parts
    if parts[:2] == ("tests", "contracts"):
        return "/".join(parts[:3]) if len(parts) > 3 else "tests/contracts"
    return path.as_posix()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist (`make test` runs ``--dist loadgroup``): each group runs whole on
    one worker, in collection order, so its module and package fixtures are made once. A group
    is a test file, or a package of tests/contracts: ape's chain isolation (a snapshot of one
    shared chain per package, module and test) is made for one ordered pass over a package, and
    a package's files mixed among other workers' once left a module's deployments half reverted.
    Under xdist the longest groups are moved to the front ({LONGEST_FIRST}); each group's own order
    is kept.

    ``tryfirst``: pytest-xdist turns the marks into its groups in its own hook of this name; run
    after it, as this hook once did, the marks came too late and every file's tests were spread
    over both workers, each making the file's module fixtures again."""
    rank = {group: i for i, group in enumerate(LONGEST_FIRST)}
    groups: dict[pytest.Item, str] = {}
    for item in items:
        group = xdist_group_of(Path(str(item.path)).resolve().relative_to(ROOT))
        groups[item] = group
        item.add_marker(pytest.mark.xdist_group(group))
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a serial run keeps plain collection order
        items.sort(key=lambda item: rank.get(groups[item], len(rank)))


#: ape's fixtures on its own chain: a test that asks for one keeps ape's snapshot/revert.
APE_CHAIN_FIXTURES = frozenset({"chain", "accounts", "networks", "Contract"})


def uses_apes_chain(item: pytest.Item) -> bool:
    """Whether ape's chain isolation is for this test: the contract tests (tests/contracts), and
    any other test that asks for one of ape's chain fixtures."""
    path = Path(str(item.path)).resolve().relative_to(ROOT)
    return path.parts[:2] == ("tests", "contracts") or bool(APE_CHAIN_FIXTURES & set(getattr(item, "fixturenames", ())))


def _ape_isolation_only_on_its_chain() -> None:
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


_ape_isolation_only_on_its_chain()
