"""Taking an anvil chain back to a snapshot, for tests that share a node or simulate a reorg.

``evm_revert`` takes back the state, not the transaction pool, and anvil takes a mined
transaction out of its pool a moment *after* its receipt is visible — by its nonce marker. Two
ways a plain revert then breaks the next send of the same account (the SDK's
:class:`~telcochain.tx.TxSender`, the adversarial raw client), each a loaded machine's flake:

- the mined transaction is still pooled when the next ``pending`` nonce is read: it is counted,
  the client signs one nonce ahead and waits for a block that never includes it;
- it is taken out *after* the revert: the new transaction at the same nonce goes with it,
  dropped unmined.

:func:`revert` first waits until anvil has taken every mined transaction out of its pool, then
reverts and empties the pool. (ape's own ``chain.restore`` on the contract tests' chain is not
affected: ape reads nonces at ``latest``, and a dropped transaction would fail its wait loudly.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: ``rpc.call`` of the SDK's Rpc or ``chain.rpc`` of the raw client: (method, params) → result.
Call = Callable[[str, list[Any]], Any]


def revert(call: Call, snapshot: Any, timeout: float = 10.0) -> None:
    """Revert the chain to ``snapshot`` once anvil has finished with the blocks it mined, and
    drop every pooled transaction: afterwards the chain is the snapshot's, each account's pending
    nonce its latest, and nothing of the dropped branch can still touch the pool."""
    deadline = time.monotonic() + timeout
    while any(call("eth_getTransactionReceipt", [tx_hash]) for tx_hash in _pooled(call)):
        assert time.monotonic() < deadline, f"anvil kept mined transactions in its pool for {timeout:g} s"
        time.sleep(0.002)
    assert call("evm_revert", [snapshot]), f"could not revert the chain to snapshot {snapshot}"
    call("anvil_dropAllTransactions", [])


def _pooled(call: Call) -> list[str]:
    """The hashes of every transaction in anvil's pool (ready or queued)."""
    content = call("txpool_content", [])
    return [tx["hash"] for part in content.values() for by_nonce in part.values() for tx in by_nonce.values()]
