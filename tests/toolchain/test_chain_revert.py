"""Tests that share a node revert it between them, and reorg tests revert it mid-test; anvil's
``evm_revert`` takes back the state but not the transaction pool, so a client reading its nonce
as ``pending`` after a revert can count a transaction of the dropped branch (the flake this
guards against). Every revert goes through tests.support.chain.revert, which empties the pool."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from telcochain.node import LocalNode, NodeConfig, free_port
from telcochain.rpc import Rpc
from telcochain.tx import TxSender, hexint, probe_chain

from tests.support.chain import revert
from tests.support.paths import ROOT


@pytest.fixture
def rpc(tmp_path: Path) -> Iterator[Rpc]:
    node = LocalNode(NodeConfig(data_dir=tmp_path, port=free_port(), persist=False))
    node.start()
    try:
        yield Rpc(node.config.rpc_url)
    finally:
        node.stop()


def _nonces(rpc: Rpc, address: str) -> tuple[int, int]:
    """The account's (latest, pending) nonces."""
    latest, pending = (hexint(rpc.call("eth_getTransactionCount", [address, at])) for at in ("latest", "pending"))
    return latest, pending


def _pool_a_transaction(rpc: Rpc, account: LocalAccount) -> None:
    TxSender(rpc, account, probe_chain(rpc)).send(account.address, "0x", gas=21_000)


@pytest.mark.parametrize("through_the_helper", [False, True])
def test_a_revert_leaves_each_pending_nonce_at_the_latest_only_through_the_helper(
    rpc: Rpc, dev_accounts: list[LocalAccount], through_the_helper: bool
) -> None:
    account = dev_accounts[3]
    rpc.call("evm_setAutomine", [False])  # the transaction stays pooled, as a mined one does for a moment
    snapshot = rpc.call("evm_snapshot")
    _pool_a_transaction(rpc, account)
    assert _nonces(rpc, account.address) == (0, 1)
    if through_the_helper:
        revert(rpc.call, snapshot)
        assert _nonces(rpc, account.address) == (0, 0)
        assert rpc.call("txpool_status") == {"pending": "0x0", "queued": "0x0"}
    else:  # anvil's own revert: the pooled transaction survives it, and the pending nonce with it
        assert rpc.call("evm_revert", [snapshot])
        assert _nonces(rpc, account.address) == (0, 1)


def test_every_revert_in_the_tests_goes_through_the_helper() -> None:
    allowed = {Path("tests/support/chain.py"), Path("tests/toolchain/test_chain_revert.py")}
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.relative_to(ROOT) not in allowed
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"[\"']evm_revert[\"']", line)
    ]
    assert not offenders, f"evm_revert outside tests.support.chain.revert (the pool survives it): {offenders}"


def test_the_helper_reverts_only_once_anvil_has_taken_the_mined_transactions_out_of_its_pool() -> None:
    """A mined transaction still pooled at the revert would be taken out after it, with the next
    test's transaction of the same nonce: the helper waits for anvil first."""
    calls: list[str] = []
    polls_until_pruned = 3

    def node(method: str, params: list[Any]) -> Any:
        nonlocal polls_until_pruned
        calls.append(method)
        if method == "txpool_content":
            polls_until_pruned -= 1
            pooled = {} if polls_until_pruned < 0 else {"0xabc": {"0": {"hash": "0xmined"}}}
            return {"pending": pooled, "queued": {}}
        if method == "eth_getTransactionReceipt":
            return {"transactionHash": params[0], "blockNumber": "0x1"}  # mined
        return True

    revert(node, "0x1")
    assert calls == ["txpool_content", "eth_getTransactionReceipt"] * 3 + [
        "txpool_content",
        "evm_revert",
        "anvil_dropAllTransactions",
    ]
