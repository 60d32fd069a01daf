"""The embedded local chain: an anvil node with its state persisted in a data directory.

With ``persist=True`` (``telcochain node``) anvil runs behind the durable supervisor of
:mod:`telcochain.durable`: every block is in an fsynced write-ahead log before any client
can see it, dumps are written atomically with the previous one kept, and a restart replays
the log after the newest good dump — a crash never loses a block a client has seen. With
``persist=False`` (tests, benchmarks) anvil runs alone, mining each transaction at once.
Defaults mimic a consortium chain: the Berlin hardfork (GoQuorum's EVM), gas price 0 and no
base fee.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from telcochain.durable import ADDRESS_IN_USE, disk_reason, find_orphan_anvil, serves_port
from telcochain.errors import NodeError, TelcochainError
from telcochain.rpc import Rpc

#: anvil's well-known development mnemonic (accounts 0..9 are funded): local use only.
DEV_MNEMONIC = "test test test test test test test test test test test junk"

#: anvil keeps the state of its ~500 newest blocks in memory and, by default, writes the state of
#: every older block to ``~/.foundry/anvil/tmp`` — a whole state per block, never removed when the
#: node is killed: a day of tests left 82 GB there and filled the disk. The durable node keeps no
#: old state at all (nothing reads state older than a few blocks: reverts are explained at the
#: parent block; a call at an older block answers "block out of range"); an in-memory node keeps
#: them in its own data directory (``states/``, removed when it stops) — tracing a transaction
#: needs its parent block's state, which a long run of snapshot/revert tests pushes out of memory.
KEEP_NO_STATES_ON_DISK = ("--max-persisted-states", "0")


def find_anvil() -> str:
    """``$TELCOCHAIN_ANVIL``, else ``node_modules/.bin/anvil`` in this or a parent folder, else PATH."""
    explicit = os.environ.get("TELCOCHAIN_ANVIL")
    if explicit:
        return explicit
    for folder in [Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents]:
        candidate = folder / "node_modules" / ".bin" / "anvil"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("anvil")
    if found:
        return found
    raise NodeError("anvil not found: run `npm ci` in the project (or set TELCOCHAIN_ANVIL)")


@dataclass
class NodeConfig:
    """How to run the local node."""

    data_dir: Path = Path(".telcochain/node")
    host: str = "127.0.0.1"
    port: int = 8545
    chain_id: int = 31337
    hardfork: str = "berlin"
    gas_price: int = 0
    block_time: float | None = None  # None: mine each transaction at once
    gas_limit: int | None = None  # block gas limit (anvil's default: 30M)
    accounts: int = 10
    state_interval: float = 60.0  # seconds between dumps of a durable node (the log covers the rest)
    persist: bool = True

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state_file(self) -> Path:
        """The legacy state file (``anvil --state``), loaded once if no dump exists yet."""
        return self.data_dir / "state.json"

    @property
    def dumps_dir(self) -> Path:
        return self.data_dir / "dumps"

    @property
    def wal_dir(self) -> Path:
        return self.data_dir / "wal"

    @property
    def pid_file(self) -> Path:
        """anvil's pid (an ephemeral node, or the anvil of a durable one)."""
        return self.data_dir / "anvil.pid"

    @property
    def supervisor_pid_file(self) -> Path:
        return self.data_dir / "node.pid"

    @property
    def status_file(self) -> Path:
        return self.data_dir / "node.json"

    @property
    def log_file(self) -> Path:
        return self.data_dir / ("node.log" if self.persist else "anvil.log")

    def has_saved_chain(self) -> bool:
        """True if the data directory holds a chain to restore (dumps, a log, or a legacy state file)."""
        return (
            self.state_file.exists()
            or any(self.dumps_dir.glob("state-*.json"))
            or any(p.stat().st_size > 0 for p in self.wal_dir.glob("*.log"))
        )

    def discard_saved_chain(self) -> None:
        """Delete the saved chain (``--fresh``)."""
        self.state_file.unlink(missing_ok=True)
        for folder in (self.dumps_dir, self.wal_dir):
            shutil.rmtree(folder, ignore_errors=True)
        (self.data_dir / "genesis.json").unlink(missing_ok=True)

    def anvil_command(self) -> list[str]:
        """anvil with the chain's options (no host, port or state: the supervisor adds those)."""
        cmd = [
            find_anvil(),
            "--chain-id", str(self.chain_id),
            "--hardfork", self.hardfork,
            "--gas-price", str(self.gas_price),
            "--accounts", str(self.accounts),
            "--mnemonic", DEV_MNEMONIC,
        ]  # fmt: skip
        if self.gas_price == 0:
            cmd += ["--block-base-fee-per-gas", "0"]
        if self.gas_limit:
            cmd += ["--gas-limit", str(self.gas_limit)]
        return cmd

    def supervisor_command(self) -> list[str]:
        settings = {
            "data_dir": str(self.data_dir),
            "anvil_command": [*self.anvil_command(), *KEEP_NO_STATES_ON_DISK],
            "host": self.host,
            "port": self.port,
            "block_time": self.block_time,
            "dump_interval": self.state_interval,
        }
        return [sys.executable, "-m", "telcochain.durable", json.dumps(settings)]

    @property
    def states_dir(self) -> Path:
        """Where an in-memory node keeps the states of its older blocks (removed at stop)."""
        return self.data_dir / "states"

    def command(self) -> list[str]:
        """anvil serving on this host and port, the chain in memory only (``persist=False``)."""
        cmd = [*self.anvil_command(), "--host", self.host, "--port", str(self.port)]
        cmd += ["--cache-path", str(self.states_dir)]
        if self.block_time:
            cmd += ["--block-time", f"{self.block_time:g}"]
        return cmd


@dataclass(frozen=True)
class StopReport:
    """How a node stopped: ``state_kept`` only once the final dump was written and read back
    (or, if it could not be written, when the write-ahead log holds every block)."""

    pid: int
    state_kept: bool
    verified: bool
    block: int | None
    message: str


class LocalNode:
    """Start, find and stop the project's node (durable supervisor, or anvil alone)."""

    def __init__(self, config: NodeConfig | None = None) -> None:
        self.config = config or NodeConfig()
        self.process: subprocess.Popen[bytes] | None = None

    # -- status -------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of a running node of this data directory (its supervisor, or its lone anvil)."""
        supervisor = self._supervisor_pid()
        if supervisor is not None:
            return supervisor
        try:
            pid = int(self.config.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _is_anvil(pid):
            self.config.pid_file.unlink(missing_ok=True)  # stale: the node died
            return None
        if (self.config.data_dir / "node.lock").exists() or find_orphan_anvil(self.config.data_dir) == pid:
            # a durable data directory whose supervisor is gone: its anvil is an orphan (the next
            # start stops it) or belongs to another directory this one was copied from
            return None
        return pid  # an ephemeral node (anvil alone)

    def _supervisor_pid(self) -> int | None:
        """The supervisor holding the data directory's lock (the kernel drops a dead one's lock)."""
        lock = self.config.data_dir / "node.lock"
        if not lock.exists():
            return None
        try:
            fd = os.open(lock, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            try:
                return int(self.config.supervisor_pid_file.read_text().strip())
            except (OSError, ValueError):
                return -1  # locked while starting, pid not written yet
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def status(self) -> dict[str, object]:
        """The durable supervisor's status file (state, head, replay report...), if any."""
        try:
            return dict(json.loads(self.config.status_file.read_text()))
        except (OSError, ValueError):
            return {}

    def is_serving(self) -> bool:
        try:
            Rpc(self.config.rpc_url, timeout=1.0).call("eth_chainId")
        except TelcochainError:
            return False
        return True

    # -- start / stop -------------------------------------------------------------------

    def start(self, *, detach: bool = False, timeout: float = 120.0) -> subprocess.Popen[bytes]:
        """Start the node and wait until it answers. Detached, it outlives this process."""
        running = self.pid()
        if running is not None:
            raise NodeError(f"a node is already running from {self.config.data_dir} (pid {running})")
        if not _port_free(self.config.host, self.config.port):
            raise self._port_in_use()
        try:
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            log_start = self.config.log_file.stat().st_size if self.config.log_file.exists() else 0
            log = open(self.config.log_file, "ab")  # noqa: SIM115 - handed to the child
        except OSError as exc:
            raise NodeError(f"cannot use the data directory {self.config.data_dir}: {disk_reason(exc)}") from None
        if self.config.persist:
            self.config.status_file.unlink(missing_ok=True)
        command = self.config.supervisor_command() if self.config.persist else self.config.command()
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=detach,
        )
        log.close()
        if not self.config.persist:
            self.config.pid_file.write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None:
                if self.config.persist and self.status().get("state") == "stopped":
                    return self.process  # stopped by a signal while starting, cleanly: nothing to report
                if not self.config.persist:
                    self.config.pid_file.unlink(missing_ok=True)
                error = self.status().get("error") if self.config.persist else None
                if not error:
                    with open(self.config.log_file, "rb") as logged:
                        logged.seek(log_start)
                        lines = logged.read().decode(errors="replace").strip().splitlines()
                    error = " / ".join(lines[-3:]) or f"code {self.process.returncode}"
                if ADDRESS_IN_USE in str(error):  # taken since the check above
                    raise self._port_in_use()
                what = "the node" if self.config.persist else "anvil"
                raise NodeError(f"{what} exited at start: {error}")
            if time.monotonic() > deadline:
                self.stop()
                raise NodeError(f"the node did not answer on {self.config.rpc_url} within {timeout:g} s")
            time.sleep(0.05)
        if not self.config.persist:
            self._keep_time_monotonic()  # the supervisor does this itself after its replay
        return self.process

    def _port_in_use(self) -> NodeError:
        return NodeError(f"port {self.config.port} on {self.config.host} is already in use: choose another port")

    def _ready(self) -> bool:
        if self.config.persist:  # the supervisor reports "serving" once its own socket listens
            return self.status().get("state") == "serving" and self.is_serving()
        # an ephemeral anvil is ready when it answers on its port itself: another process may
        # have taken the port between the check above and anvil's bind (anvil then exits)
        assert self.process is not None
        return self.is_serving() and serves_port(self.process.pid, self.config.port) is not False

    def _keep_time_monotonic(self) -> None:
        """A clock moved by ``evm_increaseTime`` is not restored with the blocks: start the clock
        again from the newest block when that block is ahead of the wall clock."""
        rpc = Rpc(self.config.rpc_url, timeout=5.0)
        latest = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        if latest > time.time():
            rpc.call("evm_setTime", [latest])

    def stop(self, timeout: float = 300.0) -> StopReport | None:
        """Stop the node gracefully; None if none ran.

        A durable node mines what it accepted, stops mining, writes its final dump and reads it
        back; the report says whether the state was kept. After ``timeout`` the node is killed
        (the write-ahead log still holds every block a client saw).
        """
        pid = self.process.pid if self.process and self.process.poll() is None else self.pid()
        if pid is None:
            return None
        if pid == -1:  # starting: wait for its pid
            time.sleep(0.5)
            pid = self.pid() or -1
            if pid == -1:
                return None
        own_child = self.process is not None and self.process.pid == pid
        durable = (own_child and self.config.persist) or (not own_child and self._supervisor_pid() == pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        killed = False
        while self._alive(pid, durable):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.05)
        if self.process is not None and self.process.pid == pid:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        if not durable:
            self.config.pid_file.unlink(missing_ok=True)
            shutil.rmtree(self.config.states_dir, ignore_errors=True)
            return StopReport(pid, self.config.persist, False, None, "stopped")
        status = self.status()
        if killed:
            return StopReport(
                pid, True, False, None, f"killed after {timeout:g} s; the write-ahead log keeps the chain"
            )
        kept = bool(status.get("state_kept"))
        block = status.get("block")
        if status.get("state") == "failed":
            return StopReport(pid, False, False, None, f"the node had failed: {status.get('error')}")
        if status.get("final_dump"):
            message = (
                f"final dump {status['final_dump']} verified" if status.get("verified") else "final dump unverified"
            )
        else:
            message = f"final dump failed ({status.get('dump_error')}); the write-ahead log keeps the chain"
        return StopReport(
            pid, kept, bool(status.get("verified")), int(block) if isinstance(block, int) else None, message
        )

    def _alive(self, pid: int, durable: bool) -> bool:
        if self.process is not None and self.process.pid == pid:
            return self.process.poll() is None
        if durable:
            return self._supervisor_pid() is not None
        return _is_anvil(pid)

    def forward_signals(self) -> None:
        """SIGTERM/SIGHUP to this (foreground) process stop the node gracefully instead of
        leaving it behind. For the command line; call from the main thread."""

        def forward(signum: int, _frame: object) -> None:
            if self.process is None:
                raise SystemExit(128 + signum)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)

        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, forward)

    def wait(self) -> int:
        """Block until the node started in the foreground exits; stop it on Ctrl-C."""
        assert self.process is not None
        self.forward_signals()
        try:
            while True:
                try:
                    return self.process.wait()
                except KeyboardInterrupt:  # the node got the SIGINT too and is stopping: wait for it
                    if not self.config.persist:
                        self.stop()
                        return 0
        finally:
            if not self.config.persist:
                self.config.pid_file.unlink(missing_ok=True)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for a node of one's own: tests, benchmarks)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _is_anvil(pid: int) -> bool:
    """True if ``pid`` is a live anvil process (never signal a recycled pid)."""
    if sys.platform.startswith("linux"):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            return False
        return b"anvil" in cmdline and status != "Z"
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
