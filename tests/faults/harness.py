"""Load and bookkeeping for fault runs (tests/faults and ``make chaos``): value transfers of
1 wei to fresh addresses through the SDK's Pipeline, so the chain itself says how often each
operation was applied (its sink's balance), and what the SDK confirmed can be checked after
every crash."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from telcochain.errors import TelcochainError
from telcochain.node import LocalNode, NodeConfig, free_port
from telcochain.rpc import Rpc
from telcochain.throughput import Operation, OpOutcome, OpStatus, Pipeline
from telcochain.tx import ChainInfo, hexint, probe_chain


@dataclass
class Figures:
    """What a fault run measured."""

    ops: int = 0
    confirmed: int = 0
    confirmed_lost: int = 0  # confirmed by the SDK, missing from the chain after a crash
    applied_twice: int = 0
    never_applied: int = 0  # submitted, not on chain at the end
    chain_lost: int = 0  # restarts that could not bring the chain back
    kills: int = 0
    kills_mid_dump: int = 0
    restarts: int = 0
    replayed_blocks: int = 0
    hash_mismatches: int = 0
    notes: list[str] = field(default_factory=list)


class Load:
    """Operations submitted in waves from a thread; ``outcomes`` grows as it goes."""

    def __init__(self, url: str, accounts: list[LocalAccount], chain: ChainInfo, wave: int = 100) -> None:
        self.rpc = Rpc(url, timeout=2.0)
        self.pipe = Pipeline(self.rpc, accounts, chain, send_batch=100, rebroadcast_after=1.0)
        self.wave = wave
        self.outcomes: list[OpOutcome] = []
        self.sinks: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def start(self) -> Load:
        self.pipe.start()
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self.pipe.in_flight < 4 * self.wave:
                    sinks = [Account.create().address for _ in range(self.wave)]
                    outcomes = self.pipe.submit(Operation(s, b"", 21_000, value=1) for s in sinks)
                    self.sinks += sinks
                    self.outcomes += outcomes
                self._stop.wait(0.05)
        except BaseException as exc:  # surfaced by finish()
            self.error = exc

    def confirmed(self) -> list[OpOutcome]:
        return [o for o in list(self.outcomes) if o.status is OpStatus.CONFIRMED]

    def finish(self, timeout: float = 60.0) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise self.error
        self.pipe.drain(timeout)
        if self.pipe.resume():
            self.pipe.drain(timeout)
        self.pipe.close()


def missing_confirmed(rpc: Rpc, outcomes: list[OpOutcome]) -> int:
    """Confirmed operations whose transaction the chain no longer has in the block it was seen in."""
    lost = 0
    for start in range(0, len(outcomes), 500):
        part = outcomes[start : start + 500]
        receipts = rpc.batch([("eth_getTransactionReceipt", [o.tx_hash]) for o in part])
        for outcome, receipt in zip(part, receipts, strict=True):
            if not receipt or hexint(receipt["blockNumber"]) != outcome.block_number:
                lost += 1
    return lost


def count_applied(rpc: Rpc, sinks: list[str]) -> tuple[int, int, int]:
    """(applied once, applied twice or more, never applied) over the sinks."""
    once = twice = never = 0
    for start in range(0, len(sinks), 500):
        part = sinks[start : start + 500]
        for value in rpc.batch([("eth_getBalance", [s, "latest"]) for s in part]):
            v = hexint(value)
            once += v == 1
            twice += v > 1
            never += v == 0
    return once, twice, never


#: Every node made here (tests/faults/conftest.py stops the ones a failed test left running).
NODES: list[LocalNode] = []


def durable_node(data_dir: Path, port: int | None = None, dump_interval: float = 0.5) -> LocalNode:
    node = LocalNode(NodeConfig(data_dir=data_dir, port=port or free_port(), state_interval=dump_interval))
    NODES.append(node)
    return node


def kill_supervisor(node: LocalNode) -> bool:
    """SIGKILL the supervisor; True if it was writing a dump at that moment."""
    mid_dump = any(node.config.dumps_dir.glob("*.tmp"))
    pid = node.pid()
    assert pid and pid > 0
    os.kill(pid, signal.SIGKILL)
    if node.process is not None and node.process.pid == pid:
        node.process.wait()
    deadline = time.monotonic() + 10
    while node.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    return mid_dump


def anvil_gone(node: LocalNode, timeout: float = 5.0) -> bool:
    """The supervisor's anvil died with it (parent-death signal): nothing serves the chain."""
    pid = node.status().get("anvil_pid")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except (OSError, TypeError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def wait_for_dump_in_progress(node: LocalNode, timeout: float = 3.0) -> None:
    """Return as soon as a dump is being written (its temporary file exists), or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(node.config.dumps_dir.glob("*.tmp")):
            return
        time.sleep(0.0005)


def crash_cycle(
    node: LocalNode,
    load: Load,
    figures: Figures,
    rng: random.Random,
    *,
    graceful: bool = False,
    mid_dump: bool = False,
) -> None:
    """Let the load run a random while, then kill (or stop) the node, restart it, check.
    ``mid_dump``: kill at the moment a dump is being written."""
    time.sleep(rng.uniform(0.3, 1.5))
    if mid_dump:
        wait_for_dump_in_progress(node)
    before = load.confirmed()
    if graceful:
        report = node.stop()
        assert report is not None and report.state_kept and report.verified, report
    else:
        figures.kills_mid_dump += kill_supervisor(node)
        figures.kills += 1
        if not anvil_gone(node):
            figures.notes.append("an anvil outlived its supervisor")
    try:
        node.start()
    except TelcochainError as exc:
        figures.chain_lost += 1
        figures.notes.append(f"restart failed: {exc}")
        raise
    figures.restarts += 1
    replay = node.status().get("replay") or {}
    if isinstance(replay, dict):
        figures.replayed_blocks += int(replay.get("blocks", 0))
        figures.hash_mismatches += len(replay.get("hash_mismatches", []))
    figures.confirmed_lost += missing_confirmed(Rpc(node.config.rpc_url), before)


def chain_of(url: str) -> ChainInfo:
    return probe_chain(Rpc(url))
