"""Pluggable benchmark workloads: what one business operation is.

The benchmark drives every path (SDK pipeline, SDK batches, ape, web3.py) with the same
operations. An operation is one Constitution action call — ``(action id, params, ref)`` —
so encoding is generic: ``executeAction`` for one operation per transaction, ``executeBatch``
for many (fast encoders in :mod:`telcochain.batch`). A workload says:

- :meth:`Workload.prepare`: create what the operations need (assets, agreements...), once,
  on a fresh deployment (automine, before the clock starts);
- :meth:`Workload.next_call`: the next operation of a *lane*. A lane is ``(phase, sender)``:
  the benchmark sends a lane's operations from one account, so they run in submission order
  (nonce order); lanes must not depend on each other (give each its own objects);
- :meth:`Workload.count_on_chain`: how many times each ref was executed on chain in a block
  range (default: the Constitution's ``ActionExecuted`` events, one per executed action).

The MACD workload (OperatorAgreement's change request with its charge) implements the same
three methods; see docs/throughput.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from telcochain.actions import action_id
from telcochain.assets import ZERO32, AssetState, serial_hash
from telcochain.batch import Batch
from telcochain.tx import hexint

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from telcochain.client import Client
    from telcochain.rpc import Rpc

#: A lane: (phase name, sender index). One lane's operations run in order.
Lane = tuple[str, int]

#: ``keccak256("ActionExecuted(bytes32,bytes32,address,uint256)")``.
ACTION_EXECUTED = "0x" + keccak(text="ActionExecuted(bytes32,bytes32,address,uint256)").hex()


@dataclass(frozen=True, slots=True)
class Call:
    """One operation: a Constitution action call."""

    action: bytes  # keccak256(action name)
    params: bytes  # ABI-encoded parameters
    ref: bytes  # 32 bytes, unique per operation: how the operation is found on chain


@dataclass
class BenchEnv:
    """What a workload gets to prepare itself."""

    rpc: Rpc
    operator: Client  # dev account 0 (Northwind Telecom, the operator): holds the grants
    clients: dict[str, Client]  # other member clients by role name ("vendor", ...)
    senders: Sequence[LocalAccount]  # the pipeline's sender accounts (members with the op's grants)
    extra: dict[str, Any] = field(default_factory=dict)


def make_ref(phase_code: int, seq: int) -> bytes:
    """A unique ref: b"TB", the phase, the sequence number."""
    return (b"TB" + bytes((phase_code,)) + seq.to_bytes(8, "big")).ljust(32, b"\0")


class Workload(ABC):
    """The interface every benchmark workload implements."""

    #: Shown in the results.
    name: str = "workload"
    #: Action names the operations use (for the default on-chain count).
    actions: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._seq: dict[str, int] = {}
        self.phase_codes: dict[str, int] = {}

    @abstractmethod
    def prepare(self, env: BenchEnv, lanes: Sequence[Lane]) -> None:
        """Create what the operations of every lane need (called once, before timing)."""

    @abstractmethod
    def next_call(self, lane: Lane) -> Call:
        """The next operation of ``lane`` (use :meth:`new_ref` for its ref)."""

    def new_ref(self, phase: str) -> bytes:
        code = self.phase_codes.setdefault(phase, len(self.phase_codes) + 1)
        seq = self._seq.get(phase, 0)
        self._seq[phase] = seq + 1
        return make_ref(code, seq)

    def count_on_chain(self, rpc: Rpc, constitution: str, from_block: int, to_block: int) -> Counter[bytes]:
        """How many times each ref was executed in blocks ``from_block..to_block``."""
        found: Counter[bytes] = Counter()
        topic_actions = ["0x" + action_id(a).hex() for a in self.actions] or None
        step = 4
        for start in range(from_block, to_block + 1, step):
            end = min(to_block, start + step - 1)
            logs = rpc.call(
                "eth_getLogs",
                [
                    {
                        "address": constitution,
                        "fromBlock": hex(start),
                        "toBlock": hex(end),
                        "topics": [ACTION_EXECUTED, None, topic_actions],
                    }
                ],
            )
            found.update(bytes.fromhex(log["topics"][1][2:]) for log in logs)
        return found


class AssetChangeWorkload(Workload):
    """Stand-in until OperatorAgreement exists: MACD on digital twins without the charge.

    Each lane owns its own Active twins and cycles them ``requestChange`` (Active →
    PendingChange) / ``completeChange`` (PendingChange → Active); one operation is one
    transition through ``executeAction`` (the operator's grants, docs/assets.md).
    """

    name = "asset-change (requestChange/completeChange)"
    actions = ("requestChange", "completeChange")

    def __init__(self, assets_per_lane: dict[str, int]) -> None:
        super().__init__()
        self.assets_per_lane = assets_per_lane  # phase → twins per sender lane
        self._lanes: dict[Lane, list[bytes]] = {}
        self._cursor: dict[Lane, int] = {}
        self._state: dict[bytes, AssetState] = {}
        self._request = action_id("requestChange")
        self._complete = action_id("completeChange")

    def prepare(self, env: BenchEnv, lanes: Sequence[Lane]) -> None:
        ids = []
        for lane in lanes:
            count = self.assets_per_lane[lane[0]]
            mine = [f"BENCH-{lane[0]}-{lane[1]}-{i}".encode().ljust(32, b"\0") for i in range(count)]
            self._lanes[lane] = mine
            self._cursor[lane] = 0
            ids += mine
        commission_assets(env, ids)
        self._state.update({a: AssetState.ACTIVE for a in ids})

    def next_call(self, lane: Lane) -> Call:
        assets = self._lanes[lane]
        n = self._cursor[lane]
        self._cursor[lane] = n + 1
        asset = assets[n % len(assets)]
        if self._state[asset] is AssetState.ACTIVE:
            self._state[asset] = AssetState.PENDING_CHANGE
            action = self._request
        else:
            self._state[asset] = AssetState.ACTIVE
            action = self._complete
        return Call(action, asset + ZERO32, self.new_ref(lane[0]))


def commission_assets(env: BenchEnv, ids: Sequence[bytes]) -> None:
    """Register ``ids`` with a serial each and take them to Active (register in batches of 100,
    then bulkTransition scheduleInstallation / deliver (vendor) / commission, 256 a call)."""
    operator, vendor = env.operator, env.clients["vendor"]
    salt = operator.assets.serial_salt
    with Batch(operator, chunk=100) as b:
        for asset in ids:
            b.add("register", asset, b"ONT".ljust(12, b"\0"), serial_hash(asset.hex(), salt), ZERO32, ZERO32, ZERO32)
    _check(b.outcomes, "register")
    for verb_index, client in ((0, operator), (2, vendor), (3, operator)):  # schedule, deliver, commission
        with Batch(client, chunk=8) as b:
            for part in _chunks(ids, 256):
                b.add("bulkTransition", verb_index, list(part), ZERO32)
        _check(b.outcomes, f"bulkTransition {verb_index}")


def _chunks(items: Sequence[bytes], size: int) -> Iterable[Sequence[bytes]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _check(outcomes: Sequence[Any], what: str) -> None:
    bad = [o for o in outcomes if o.status != "executed"]
    if bad:
        raise RuntimeError(f"{what}: {len(bad)} calls not executed, first: {bad[0]}")


def block_number(rpc: Rpc) -> int:
    return hexint(rpc.call("eth_blockNumber"))
