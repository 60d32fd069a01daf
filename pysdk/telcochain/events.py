"""Reading event logs from any node: bounded block ranges, fetched in JSON-RPC batches.

Besu caps one ``eth_getLogs`` at 1,000 blocks by default (``--rpc-max-logs-range``); other
nodes cap by result size. :func:`get_logs` splits the range into windows of at most
``max_range`` blocks and asks for many windows in one HTTP round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

from telcochain.rpc import Rpc
from telcochain.tx import Log, hexint

#: Blocks per eth_getLogs request (Besu's default cap).
MAX_RANGE = 1000
#: Windows per JSON-RPC batch.
WINDOWS_PER_BATCH = 20

Topics = Sequence[str | Sequence[str] | None]


def get_logs(
    rpc: Rpc,
    address: str | Sequence[str],
    topics: Topics = (),
    from_block: int = 0,
    to_block: int | None = None,
    *,
    max_range: int = MAX_RANGE,
) -> list[Log]:
    """Every log of ``address`` matching ``topics`` in ``[from_block, to_block]``, in chain order."""
    last = hexint(rpc.call("eth_blockNumber")) if to_block is None else to_block
    windows = [(start, min(start + max_range - 1, last)) for start in range(from_block, last + 1, max_range)]
    logs: list[Log] = []
    for offset in range(0, len(windows), WINDOWS_PER_BATCH):
        batch = windows[offset : offset + WINDOWS_PER_BATCH]
        answers = rpc.batch(
            [
                ("eth_getLogs", [{"address": address, "topics": list(topics), "fromBlock": hex(a), "toBlock": hex(b)}])
                for a, b in batch
            ]
        )
        for answer in answers:
            logs.extend(Log.from_rpc(raw) for raw in answer)
    logs.sort(key=lambda log: (log.block_number, log.log_index))
    return logs


def block_timestamps(rpc: Rpc, blocks: Sequence[int]) -> dict[int, int]:
    """Timestamps of ``blocks``, in one batch."""
    unique = sorted(set(blocks))
    answers = rpc.batch([("eth_getBlockByNumber", [hex(b), False]) for b in unique])
    return {b: hexint(a["timestamp"]) for b, a in zip(unique, answers, strict=True) if a}
