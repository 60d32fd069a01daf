"""Gateway fixtures: one chain per test module (its own anvil + the real deploy script), the
gateway served by uvicorn on a free port in a thread, and httpx clients with bearer tokens.

The gateway signs as the operator (Northwind, dev account 0) from an encrypted keystore and
a password file, as a member would run it; a second gateway can be started for another member.

The helpers are tests/support/gateway.py."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from telcochain import Client
from telcochain.node import LocalNode, NodeConfig, free_port

from tests.support.deploy import ConsortiumImage
from tests.support.gateway import OPERATOR, Chain, Gateway, start_gateway


@pytest.fixture(scope="module")
def gw_chain(tmp_path_factory: pytest.TempPathFactory, consortium_image: ConsortiumImage) -> Iterator[Chain]:
    """An anvil node with the example consortium, for one test module."""
    data_dir = tmp_path_factory.mktemp("gw-node")
    node = LocalNode(NodeConfig(data_dir=data_dir, port=free_port(), persist=False))
    node.start()
    try:
        manifest = consortium_image.load_into(node.config.rpc_url, tmp_path_factory.mktemp("gw-deployments"))
        yield Chain(node.config.rpc_url, manifest)
    finally:
        node.stop()


@pytest.fixture(scope="module")
def members(gw_chain: Chain, dev_accounts: list[LocalAccount]) -> list[Client]:
    """SDK clients of the four founding members (operator, Acme, Globex, customer)."""
    return [Client.connect(gw_chain.rpc_url, a, deployment=gw_chain.deployment) for a in dev_accounts[:4]]


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
