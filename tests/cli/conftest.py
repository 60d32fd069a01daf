"""CLI fixtures: run `telcochain` in-process as one of the founding members."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from telcochain.cli import main


@pytest.fixture
def as_member(local_node, deployment_path, monkeypatch, dev_accounts):
    """``as_member(n, *args)``: the CLI as anvil dev account n (0 operator, 1-2 vendors, 3 customer),
    its key in TELCOCHAIN_PRIVATE_KEY, against the session node and deployment."""
    monkeypatch.setenv("TELCOCHAIN_RPC_URL", local_node.rpc_url)
    monkeypatch.setenv("TELCOCHAIN_DEPLOYMENT", str(deployment_path))
    runner = CliRunner()

    def invoke(n: int, *args: str):
        monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[n].key.hex())
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke
