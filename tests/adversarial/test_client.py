"""The raw client's own waiting: a transaction the node does not mine fails the test with what
the node held (its pool, the nonces), not with a bare timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from .client import Chain


@pytest.fixture
def node_url(tmp_path: Path) -> Iterator[str]:
    from telcochain.node import LocalNode, NodeConfig, free_port

    node = LocalNode(NodeConfig(data_dir=tmp_path, port=free_port(), persist=False))
    node.start()
    try:
        yield node.config.rpc_url
    finally:
        node.stop()


def test_a_transaction_the_node_cannot_mine_fails_with_what_the_node_held(node_url: str) -> None:
    chain = Chain(node_url)
    account = Account.create()
    tx_hash = chain.submit(account, account.address, b"", gas=21_000, nonce=1)  # nonce 0 never comes: a gap
    with pytest.raises(AssertionError) as failed:
        chain.receipt(tx_hash, timeout=0.3)
    assert str(failed.value).startswith(
        f"{tx_hash} was never mined: in the pool, nonce 1, its sender's 0 (a gap: was the chain reverted"
    )
    assert "pool {'pending': 0, 'queued': 1}; automine True" in str(failed.value)
