"""Shared fixtures: a local anvil node (berlin, gas price 0) and a consortium deployed on it
with the real deploy script (`ape run deploy`), for the SDK, CLI and end-to-end tests.

Contract-level tests (tests/contracts/) use ape's own fixtures (`project`, `accounts`,
`chain`) and the anvil that ape-foundry starts for the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from telcochain.node import free_port

from tests.support.ape_setup import prepare_ape
from tests.support.chain import revert
from tests.support.deploy import ConsortiumImage, RunningNode, ape_deploy
from tests.support.paths import BIN, ROOT
from tests.support.scheduling import LONGEST_FIRST, xdist_group_of

# The project-local toolchain, also when pytest is run without `make`.
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
os.environ["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(BIN), os.environ.get("PATH", "")])
prepare_ape()


@pytest.fixture(scope="session")
def dev_accounts() -> list[LocalAccount]:
    """anvil's funded development accounts 0-9 (the example consortium is 0-3)."""
    from telcochain.node import DEV_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(10)]


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
    the chain is snapshotted before the test and reverted after it, its transaction pool emptied
    (tests.support.chain.revert: a pooled transaction of the test would skew the next test's
    pending nonces)."""
    if "local_node" not in request.fixturenames:
        yield
        return
    node: RunningNode = request.getfixturevalue("local_node")
    request.getfixturevalue("deployment_path")  # deploy before the first snapshot
    from telcochain.rpc import Rpc

    rpc = Rpc(node.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    yield
    revert(rpc.call, snapshot)


@pytest.fixture
def client(local_node: RunningNode, deployment_path: Path, dev_accounts: list[LocalAccount]):  # type: ignore[no-untyped-def]
    """An SDK client acting as the operator (dev account 0)."""
    from telcochain import Client

    return Client.connect(local_node.rpc_url, dev_accounts[0], deployment=deployment_path)


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
