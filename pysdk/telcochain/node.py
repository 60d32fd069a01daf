"""The embedded local chain: an anvil node with its state persisted in a data directory.

``anvil --state FILE`` loads the chain at start and dumps it at exit (and every
``state_interval`` seconds), so a stopped and restarted node keeps its contracts, blocks,
logs and balances. Defaults mimic a consortium chain: the Berlin hardfork (GoQuorum's EVM),
gas price 0 and no base fee.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from telcochain.errors import NodeError, TelcochainError
from telcochain.rpc import Rpc

#: anvil's well-known development mnemonic (accounts 0..9 are funded): local use only.
DEV_MNEMONIC = "test test test test test test test test test test test junk"


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
    state_interval: int = 5
    persist: bool = True

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "anvil.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "anvil.log"

    def command(self) -> list[str]:
        cmd = [
            find_anvil(),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--hardfork", self.hardfork,
            "--gas-price", str(self.gas_price),
            "--accounts", str(self.accounts),
            "--mnemonic", DEV_MNEMONIC,
        ]  # fmt: skip
        if self.gas_price == 0:
            cmd += ["--block-base-fee-per-gas", "0"]
        if self.block_time:
            cmd += ["--block-time", f"{self.block_time:g}"]
        if self.gas_limit:
            cmd += ["--gas-limit", str(self.gas_limit)]
        if self.persist:
            cmd += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        return cmd


class LocalNode:
    """Start, find and stop the project's anvil node."""

    def __init__(self, config: NodeConfig | None = None) -> None:
        self.config = config or NodeConfig()
        self.process: subprocess.Popen[bytes] | None = None

    # -- status -------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of a running node started from this data directory, if any."""
        try:
            pid = int(self.config.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if _is_anvil(pid):
            return pid
        self.config.pid_file.unlink(missing_ok=True)  # stale: the node died
        return None

    def is_serving(self) -> bool:
        try:
            Rpc(self.config.rpc_url, timeout=1.0).call("eth_chainId")
        except TelcochainError:
            return False
        return True

    # -- start / stop -------------------------------------------------------------------

    def start(self, *, detach: bool = False, timeout: float = 20.0) -> subprocess.Popen[bytes]:
        """Start anvil and wait until it answers. Detached, it outlives this process."""
        if self.pid() is not None:
            raise NodeError(f"a node is already running from {self.config.data_dir} (pid {self.pid()})")
        if not _port_free(self.config.host, self.config.port):
            raise NodeError(f"port {self.config.port} on {self.config.host} is already in use: choose another port")
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        log_start = self.config.log_file.stat().st_size if self.config.log_file.exists() else 0
        log = open(self.config.log_file, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            self.config.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=detach,
        )
        log.close()
        self.config.pid_file.write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + timeout
        while not self.is_serving():
            if self.process.poll() is not None:
                self.config.pid_file.unlink(missing_ok=True)
                with open(self.config.log_file, "rb") as logged:
                    logged.seek(log_start)
                    tail = logged.read().decode(errors="replace").strip().splitlines()[-3:]
                raise NodeError("anvil exited at start: " + (" / ".join(tail) or f"code {self.process.returncode}"))
            if time.monotonic() > deadline:
                self.stop()
                raise NodeError(f"anvil did not answer on {self.config.rpc_url} within {timeout:g} s")
            time.sleep(0.1)
        self._keep_time_monotonic()
        return self.process

    def _keep_time_monotonic(self) -> None:
        """anvil restores blocks from its state file but not a clock moved by ``evm_increaseTime``:
        the next block would be older than the last (invoices due again, windows reopened). Start
        the clock again from the newest block when that block is ahead of the wall clock."""
        rpc = Rpc(self.config.rpc_url, timeout=5.0)
        latest = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        if latest > time.time():
            rpc.call("evm_setTime", [latest])

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the node gracefully (anvil dumps its state on SIGTERM). False if none ran."""
        pid = self.process.pid if self.process and self.process.poll() is None else self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid, self.process):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        self.config.pid_file.unlink(missing_ok=True)
        return True

    def wait(self) -> int:
        """Block until the node started in the foreground exits; stop it on Ctrl-C."""
        assert self.process is not None
        try:
            return self.process.wait()
        except KeyboardInterrupt:
            self.stop()
            return 0
        finally:
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


def _alive(pid: int, process: subprocess.Popen[bytes] | None) -> bool:
    if process is not None and process.pid == pid:
        return process.poll() is None
    return _is_anvil(pid)


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
