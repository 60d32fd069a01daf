"""Gateway fixtures: one chain per test module (its own anvil + the real deploy script), the
gateway served by uvicorn on a free port in a thread, and httpx clients with bearer tokens.

The gateway signs as the operator (Northwind, dev account 0) from an encrypted keystore and
a password file, as a member would run it; a second gateway can be started for another member.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from eth_account.signers.local import LocalAccount
from telcochain import Client
from telcochain.gateway import GatewaySettings, TokenStore, create_app
from telcochain.keystore import Keystore
from telcochain.node import LocalNode, NodeConfig, free_port

from tests.conftest import ape_deploy

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)


@dataclass
class Chain:
    rpc_url: str
    deployment: Path


@pytest.fixture(scope="module")
def gw_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """An anvil node with the example consortium, for one test module."""
    data_dir = tmp_path_factory.mktemp("gw-node")
    node = LocalNode(NodeConfig(data_dir=data_dir, port=free_port(), persist=False))
    node.start()
    try:
        manifest = ape_deploy(node.config.rpc_url, tmp_path_factory.mktemp("gw-deployments"))
        yield Chain(node.config.rpc_url, manifest)
    finally:
        node.stop()


@pytest.fixture(scope="module")
def members(gw_chain: Chain, dev_accounts: list[LocalAccount]) -> list[Client]:
    """SDK clients of the four founding members (operator, Acme, Globex, customer)."""
    return [Client.connect(gw_chain.rpc_url, a, deployment=gw_chain.deployment) for a in dev_accounts[:4]]


@dataclass
class Gateway:
    url: str
    token: str
    settings: GatewaySettings
    app: Any
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, token: str | None = "default", **kw: Any) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {self.token if token == 'default' else token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_gateway(
    tmp: Path, chain: Chain, account: LocalAccount, name: str, extensions: list[str] | None = None, **extra: Any
) -> Gateway:
    """Write a config like a member would (keystore + password file + tokens file), serve it."""
    keystores = tmp / "keystores"
    Keystore(keystores).save(name, account.key, "gw-secret")
    (tmp / "password").write_text("gw-secret\n")
    port = free_port()
    config = {
        "rpc_url": chain.rpc_url,
        "deployment": str(chain.deployment),
        "account": {"keystore": name, "password_file": "password", "keystore_dir": "keystores"},
        "index_db": "sqlite:///index.sqlite",
        "tokens_file": "tokens.yaml",
        "host": "127.0.0.1",
        "port": port,
        "follow_interval": 0.1,
        **extra,
    }
    (tmp / "gateway.yaml").write_text(yaml.safe_dump(config))
    settings = GatewaySettings.load(tmp / "gateway.yaml")
    token = TokenStore(settings.tokens_file).add("tests")
    app = create_app(settings, extensions=extensions if extensions is not None else [])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    return Gateway(f"http://127.0.0.1:{port}", token, settings, app, server, thread)


@pytest.fixture(scope="module")
def gateway(
    gw_chain: Chain, dev_accounts: list[LocalAccount], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """The operator's gateway (Northwind Telecom)."""
    gw = start_gateway(tmp_path_factory.mktemp("gw-operator"), gw_chain, dev_accounts[OPERATOR], "northwind")
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def api(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client() as client:
        yield client


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)
