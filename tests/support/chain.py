"""Taking an anvil chain back to a snapshot, for tests that share a node or simulate a reorg.

``evm_revert`` takes back the state, not the transaction pool, and anvil removes a mined
transaction from its pool a moment *after* its receipt is visible. A client that reads its nonce
as ``pending`` right after a revert (the SDK's :class:`~telcochain.tx.TxSender`, the adversarial
raw client) can count a transaction of the dropped branch still in the pool, sign a nonce one
ahead of its account's and wait for a block that never includes it: on a loaded machine, a test
run's flake. :func:`revert` empties the pool with the state. (ape's own ``chain.restore`` on the
contract tests' chain is not affected: ape reads nonces at ``latest``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``rpc.call`` of the SDK's Rpc or ``chain.rpc`` of the raw client: (method, params) → result.
Call = Callable[[str, list[Any]], Any]


def revert(call: Call, snapshot: Any) -> None:
    """Revert the chain to ``snapshot`` and drop every pooled transaction: afterwards the chain is
    the snapshot's and each account's pending nonce its latest."""
    assert call("evm_revert", [snapshot]), f"could not revert the chain to snapshot {snapshot}"
    call("anvil_dropAllTransactions", [])
