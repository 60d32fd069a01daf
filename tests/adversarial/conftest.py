"""Fixtures of the adversarial tests: the raw client on the session's deployed example
consortium, and the scenario (world.py) built once for the package — reverted when the package
is done, so the rest of the suite sees the freshly deployed consortium again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from tests.support.chain import revert

from .client import Client
from .world import World, build

ROLES = {"northwind": 0, "acme": 1, "globex": 2, "initech": 3, "hooli": 4, "suspended": 5, "spare": 6, "outsider": 9}
#: Delegate keys (issue 20): Northwind's live delegate, Northwind's revoked one, Vandelay's
#: (registered before its suspension). Dev 10 is derived from the same mnemonic (gas is free).
DELEGATES = {"nw_delegate": 7, "revoked_delegate": 8, "suspended_delegate": 10}


def _dev_key(index: int, dev_accounts: list[LocalAccount]) -> LocalAccount:
    if index < len(dev_accounts):
        return dev_accounts[index]
    from eth_account import Account
    from telcochain.node import DEV_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


@pytest.fixture(scope="package")
def world(local_node, deployment_path: Path, dev_accounts: list[LocalAccount]) -> Iterator[World]:  # type: ignore[no-untyped-def]
    client = Client(local_node.rpc_url, deployment_path)
    snapshot = client.chain.rpc("evm_snapshot")
    try:
        yield build(client, {role: _dev_key(i, dev_accounts) for role, i in {**ROLES, **DELEGATES}.items()})
    finally:
        revert(client.chain.rpc, snapshot)
