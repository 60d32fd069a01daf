"""Fixtures of the adversarial tests: the raw client on the session's deployed example
consortium, and the scenario (world.py) built once for the package — reverted when the package
is done, so the rest of the suite sees the freshly deployed consortium again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from .client import Client
from .world import World, build

ROLES = {"northwind": 0, "acme": 1, "globex": 2, "initech": 3, "hooli": 4, "suspended": 5, "spare": 6, "outsider": 9}


@pytest.fixture(scope="package")
def world(local_node, deployment_path: Path, dev_accounts: list[LocalAccount]) -> Iterator[World]:  # type: ignore[no-untyped-def]
    client = Client(local_node.rpc_url, deployment_path)
    snapshot = client.chain.rpc("evm_snapshot")
    try:
        yield build(client, {role: dev_accounts[i] for role, i in ROLES.items()})
    finally:
        client.chain.rpc("evm_revert", [snapshot])
