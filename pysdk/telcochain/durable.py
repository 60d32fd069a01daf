"""The durable embedded node: anvil behind a supervisor that never loses a confirmed block.

``telcochain node`` (and :class:`telcochain.node.LocalNode` with ``persist=True``) runs this
module as its own process, the *supervisor*. It starts anvil on a private port with mining
off (``--no-mining``) and serves the public RPC port itself, through a small JSON-RPC proxy:

- **The supervisor mines.** A block is mined (``evm_mine``) when transactions wait in the
  pool, or every ``block_time`` seconds. Before any client can see it, the block's raw
  transactions, number, hash and timestamp are appended to a **write-ahead log** (one line
  per block with a CRC) and fsynced. While a block is being mined and logged the proxy holds
  back every request that could read it (sends go through): a client never observes a
  block that is not in the log, so nothing the SDK calls confirmed can be lost by a crash.
- **Dumps** (``anvil_dumpState``) are written atomically: a temporary file, fsync, rename to
  ``dumps/state-<block>-<sha256>.json``, directory fsync; the previous dump is kept. A new
  log segment starts at every dump, so ``dump N + segments ≥ N`` always rebuilds the chain.
- **Start**: the newest dump whose content matches the hash in its name is loaded (a torn or
  corrupt one is skipped, the older one used), then the log is replayed deterministically:
  the same transactions in the same order with the same timestamp, and each block's hash is
  checked against the one logged (a mismatch is reported in ``node.json``).
- **Stop** (SIGTERM, SIGINT, SIGHUP): the proxy closes, the transactions still in the pool
  are mined and logged, mining stops, a final dump is written and read back, and only then
  does ``node.json`` say ``"state_kept": true``. anvil runs with a parent-death signal, so a
  killed supervisor never leaves an orphan serving; the data directory's lock is an
  ``flock`` the kernel releases with the process, so a stale pid file never blocks a start.
- **Disk errors**: a log write that fails (disk full, read-only) stops the node with one
  clear message; the block that could not be logged was never shown to anyone. A dump that
  fails is reported and retried later: the log still holds every block.

State-changing anvil cheat codes (``anvil_setBalance``...) are logged and replayed in order;
``evm_mine``/``anvil_mine`` go through the supervisor's miner, which also honours the mining
switches (``evm_setAutomine``, ``evm_setIntervalMining``); rewinding methods
(``evm_revert``, ``anvil_reset``...) are refused, since they would undo confirmed blocks.
Over a websocket on the same port, ``eth_subscribe("newHeads")`` announces logged blocks only
(log subscriptions are refused: poll ``eth_getLogs``); ``telcochain_durableBlock`` returns the
newest logged block.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import fcntl
import hashlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from telcochain.errors import NodeError

#: Status file of the supervisor (state, ports, pids, replay and stop reports).
STATUS_FILE = "node.json"
STATUS_SIZE = 8192
LOCK_FILE = "node.lock"
PID_FILE = "node.pid"
ANVIL_PID_FILE = "anvil.pid"
#: Private ports tried before the supervisor gives up (another process may take one first).
_PORT_TRIES = 3
#: Environment marker set on the supervisor's anvil (to recognise an orphan of this data dir).
DIR_MARKER = "TELCOCHAIN_NODE_DIR"

_DUMP_NAME = re.compile(r"^state-(\d{12})-([0-9a-f]{64})\.json$")
_SEGMENT_NAME = re.compile(r"^(\d{12})\.log$")

#: Methods that would undo or bypass the log: refused by the proxy.
REFUSED = {
    "evm_revert": "a revert would undo confirmed blocks",
    "evm_snapshot": "snapshots are for reverts, which would undo confirmed blocks",
    "anvil_revert": "a revert would undo confirmed blocks",
    "anvil_snapshot": "snapshots are for reverts, which would undo confirmed blocks",
    "anvil_reset": "a reset would drop the chain",
    "hardhat_reset": "a reset would drop the chain",
    "anvil_rollback": "a rollback would undo confirmed blocks",
    "anvil_loadState": "loading a state would bypass the write-ahead log",
}
#: Cheat codes that change nothing a block or a later replay depends on: forwarded as they are.
PASSTHROUGH = {
    "anvil_nodeInfo", "anvil_metadata", "hardhat_metadata", "anvil_dumpState", "anvil_getAutomine",
    "hardhat_getAutomine", "anvil_getIntervalMining", "anvil_setLoggingEnabled", "anvil_enableTraces",
    "evm_increaseTime", "evm_setTime", "anvil_setTime", "evm_setNextBlockTimestamp",
    "anvil_setNextBlockTimestamp", "anvil_increaseTime", "anvil_setBlockTimestampInterval",
    "anvil_removeBlockTimestampInterval",
}  # fmt: skip
#: Attempts at mining a replayed block in the logged second when that second is its parent's.
_SAME_SECOND_TRIES = 5
MINE_METHODS = {"evm_mine", "anvil_mine", "hardhat_mine"}
#: Mining switches: honoured by the supervisor's miner (anvil itself never mines on its own).
MINING_SWITCHES = {"evm_setAutomine", "anvil_setAutomine", "evm_setIntervalMining", "anvil_setIntervalMining"}
TRACE = os.environ.get("TELCOCHAIN_NODE_TRACE", "")
_SPECIAL = (b'"evm_', b'"anvil_', b'"hardhat_', b'"telcochain_')


class DiskError(NodeError):
    """The data directory cannot be written (full, read-only): the node stops, nothing is lost."""


def disk_reason(exc: OSError) -> str:
    """An OSError of a write, in words (full, read-only...)."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the file system is read-only",
        errno.EDQUOT: "quota exceeded",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


def _disk_error(what: str, exc: OSError) -> DiskError:
    return DiskError(f"cannot write {what}: {disk_reason(exc)}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- dumps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dump:
    path: Path
    block: int
    sha256: str

    def valid(self) -> bool:
        """The content still hashes to the name's hash (a torn or altered file does not)."""
        digest = hashlib.sha256()
        try:
            with open(self.path, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
        except OSError:
            return False
        return digest.hexdigest() == self.sha256


class DumpStore:
    """``dumps/state-<block>-<sha256>.json``: anvil's state JSON, written atomically, newest two kept."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def dumps(self) -> list[Dump]:
        """Every complete dump by name, newest first (not yet validated)."""
        found = []
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                match = _DUMP_NAME.match(path.name)
                if match:
                    found.append(Dump(path, int(match.group(1)), match.group(2)))
        return sorted(found, key=lambda d: d.block, reverse=True)

    def newest_valid(self) -> tuple[Dump | None, list[Dump]]:
        """The newest dump whose content matches its hash, and the invalid ones met on the way."""
        bad: list[Dump] = []
        for dump in self.dumps():
            if dump.valid():
                return dump, bad
            bad.append(dump)
        return None, bad

    def write(self, gzipped: bytes, block: int) -> Dump:
        """Decompress anvil's gzipped dump into a temporary file, fsync, rename, fsync the folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f"state-{block:012d}.json.tmp"
        digest = hashlib.sha256()
        try:
            with open(tmp, "wb") as out:
                inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                for start in range(0, len(gzipped), 1 << 20):
                    chunk = inflate.decompress(gzipped[start : start + (1 << 20)])
                    digest.update(chunk)
                    out.write(chunk)
                tail = inflate.flush()
                digest.update(tail)
                out.write(tail)
                if not inflate.eof:
                    raise NodeError("anvil_dumpState returned a truncated gzip stream")
                out.flush()
                os.fsync(out.fileno())
            dump = Dump(self.directory / f"state-{block:012d}-{digest.hexdigest()}.json", block, digest.hexdigest())
            os.replace(tmp, dump.path)
            _fsync_dir(self.directory)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise _disk_error(f"a state dump in {self.directory}", exc) from None
        return dump

    def prune(self, keep: int = 2) -> Dump | None:
        """Delete all but the ``keep`` newest valid dumps (and leftovers); returns the oldest kept."""
        kept: list[Dump] = []
        for dump in self.dumps():
            if len(kept) < keep and dump.valid():
                kept.append(dump)
            else:
                dump.path.unlink(missing_ok=True)
        for leftover in self.directory.glob("*.tmp"):
            leftover.unlink(missing_ok=True)
        return kept[-1] if kept else None


# -- the write-ahead log -------------------------------------------------------------------------


def encode_record(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, separators=(",", ":")).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def decode_records(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """The records of one segment and the length of its valid prefix (a torn tail is cut)."""
    records: list[dict[str, Any]] = []
    offset = 0
    while offset < len(data):
        end = data.find(b"\n", offset)
        if end < 0:
            break
        line = data[offset:end]
        if len(line) < 10 or line[8:9] != b" " or int(line[:8] or b"0", 16) != zlib.crc32(line[9:]):
            break
        records.append(json.loads(line[9:]))
        offset = end + 1
    return records, offset


class Wal:
    """``wal/<block>.log`` segments: every record after the dump of ``<block>``, fsynced per append."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.file: Any = None
        self.segment: int | None = None
        self.bytes_written = 0

    def segments(self) -> list[tuple[int, Path]]:
        found = []
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                match = _SEGMENT_NAME.match(path.name)
                if match:
                    found.append((int(match.group(1)), path))
        return sorted(found)

    def open(self, segment: int) -> None:
        """Append to segment ``segment`` (created if new)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self.file is not None:
                self.file.close()
            path = self.directory / f"{segment:012d}.log"
            created = not path.exists()
            self.file = open(path, "ab", buffering=0)  # noqa: SIM115 - kept open for appends
            if created:
                _fsync_dir(self.directory)
        except OSError as exc:
            raise _disk_error(f"the write-ahead log in {self.directory}", exc) from None
        self.segment = segment
        self.bytes_written = 0

    def append(self, record: dict[str, Any]) -> None:
        """Append one record and fsync; on an error the file is cut back to where it was, so a
        half-written record never sits before a later one."""
        data = encode_record(record)
        fd = self.file.fileno()
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:  # a write on a nearly full disk may be partial before it fails
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
                os.fsync(fd)
            raise _disk_error(f"the write-ahead log in {self.directory}", exc) from None
        self.bytes_written += len(data)

    def prune(self, oldest_dump_block: int) -> None:
        """Delete segments entirely before the oldest kept dump."""
        segments = self.segments()
        for (start, path), nxt in itertools.pairwise(segments):
            if nxt[0] <= oldest_dump_block and start < oldest_dump_block:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None


# -- the supervisor ------------------------------------------------------------------------------


@dataclass
class Settings:
    """What the supervisor needs (a JSON object on its command line)."""

    data_dir: str
    anvil_command: list[str]  # anvil and its chain options; port and state options are added here
    host: str = "127.0.0.1"
    port: int = 8545
    block_time: float | None = None
    dump_interval: float = 60.0
    dump_wal_bytes: int = 64 << 20


@dataclass
class Report:
    replayed_blocks: int = 0
    replayed_calls: int = 0
    hash_mismatches: list[int] = field(default_factory=list)
    dump_block: int | None = None
    skipped_dumps: list[str] = field(default_factory=list)


def _set_pdeathsig() -> None:
    """In the child before exec: die with SIGKILL when the supervisor dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serves_port(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the listening TCP socket of ``port`` (Linux: ``/proc``).

    A port found free can be taken by another process before a node binds it: the node then
    exits ("Address already in use") while whatever took the port answers in its place. A node
    is only ready when *its* process listens. None where ``/proc`` cannot tell (not Linux)."""
    inodes: set[str] = set()
    readable = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])  # 0A: LISTEN
    if not readable:
        return None
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return False  # gone
    except OSError:
        return None
    for fd in fds:
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    return False


#: How anvil says its port is taken when it exits at start.
ADDRESS_IN_USE = "Address already in use"


class _PortTaken(NodeError):
    """The private anvil's port was taken before anvil bound it (start again on another)."""


def find_orphan_anvil(data_dir: Path) -> int | None:
    """An anvil started for ``data_dir`` whose supervisor is gone (only possible off Linux or
    when the parent-death signal was lost): its pid, recognised by the environment marker."""
    try:
        pid = int((data_dir / ANVIL_PID_FILE).read_text().strip())
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (OSError, ValueError):
        return None
    marker = f"{DIR_MARKER}={data_dir.resolve()}".encode()
    return pid if marker in environ.split(b"\0") and stat != "Z" else None


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.data_dir = Path(settings.data_dir).resolve()
        self.dumps = DumpStore(self.data_dir / "dumps")
        self.wal = Wal(self.data_dir / "wal")
        self.report = Report()
        self.anvil: subprocess.Popen[bytes] | None = None
        self.upstream_port = 0  # the private anvil's port, once started
        self.status: dict[str, Any] = {}
        self.durable_block = -1
        self.durable_hash = ""
        self._lock_fd: int | None = None
        self._stopping = False
        self._fatal: str | None = None

    # -- status --------------------------------------------------------------------------------

    def write_status(self, **fields: Any) -> None:
        """Rewrite ``node.json`` in place, padded to a fixed size allocated at the first write, so
        that it can still say "failed: the disk is full" on a disk that is full."""
        self.status.update(fields, pid=os.getpid(), updated=time.time())
        data = json.dumps(self.status, indent=1).encode()
        data += b" " * max(0, STATUS_SIZE - len(data))
        try:
            fd = os.open(self.data_dir / STATUS_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                os.pwrite(fd, data, 0)
                os.ftruncate(fd, len(data))  # drop a longer former content (shrinking needs no space)
            finally:
                os.close(fd)
        except OSError:
            pass  # read-only: the exit code and stderr still tell

    def say(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # -- start ---------------------------------------------------------------------------------

    def lock(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _disk_error(f"the data directory {self.data_dir}", exc) from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise NodeError(f"a node is already running from {self.data_dir}") from None
        orphan = find_orphan_anvil(self.data_dir)
        if orphan is not None:
            self.say(f"stopping an orphan anvil of this data directory (pid {orphan})")
            os.kill(orphan, signal.SIGKILL)
        try:
            (self.data_dir / PID_FILE).write_text(f"{os.getpid()}\n")
        except OSError as exc:
            raise _disk_error(f"the data directory {self.data_dir}", exc) from None

    def genesis_timestamp(self) -> int:
        """The genesis time of this data directory (fixed at its first start, so a chain rebuilt
        from the log alone has the same genesis block, hence the same block hashes)."""
        path = self.data_dir / "genesis.json"
        try:
            return int(json.loads(path.read_text())["timestamp"])
        except (OSError, ValueError, KeyError):
            timestamp = int(time.time())
            try:
                tmp = path.with_suffix(".tmp")
                with open(tmp, "w") as out:
                    out.write(json.dumps({"timestamp": timestamp}))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
                _fsync_dir(self.data_dir)
            except OSError as exc:
                raise _disk_error(f"the data directory {self.data_dir}", exc) from None
            return timestamp

    @property
    def upstream(self) -> str:
        """The private anvil's URL ("" before it is started)."""
        return f"http://127.0.0.1:{self.upstream_port}" if self.upstream_port else ""

    def start_anvil(self, load: Path | None, genesis: int | None = None) -> None:
        port = _free_port("127.0.0.1")
        cmd = [
            *self.s.anvil_command,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-mining",
            "--order",
            "fifo",
            "--quiet",
        ]  # fmt: skip - a log line per transaction would fill the data disk
        if load is not None:
            cmd += ["--load-state", str(load)]
        if genesis is not None:
            cmd += ["--timestamp", str(genesis)]
        log = open(self.data_dir / "anvil.log", "ab")  # noqa: SIM115 - handed to the child
        env = dict(os.environ, **{DIR_MARKER: str(self.data_dir)})
        self.anvil = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, preexec_fn=_set_pdeathsig
        )
        log.close()
        (self.data_dir / ANVIL_PID_FILE).write_text(f"{self.anvil.pid}\n")
        self.upstream_port = port

    async def wait_anvil(self, rpc: _Upstream, timeout: float = 60.0) -> None:
        """Until the anvil just started answers on its port — itself, not another process that
        took the port first (:func:`serves_port`); :class:`_PortTaken` if that happened."""
        assert self.anvil is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                await rpc.call("eth_chainId")
                if serves_port(self.anvil.pid, self.upstream_port) is not False:
                    return
            except (OSError, asyncio.TimeoutError, _UpstreamError):
                pass
            if self.anvil.poll() is not None:
                with open(self.data_dir / "anvil.log", "rb") as logged:
                    tail = logged.read().decode(errors="replace").strip().splitlines()[-2:]
                if any(ADDRESS_IN_USE in line for line in tail):
                    raise _PortTaken(f"port {self.upstream_port} was taken before anvil bound it")
                raise NodeError("anvil exited at start: " + " / ".join(tail))
            if time.monotonic() > deadline:
                raise NodeError(f"anvil did not answer within {timeout:g} s")
            await asyncio.sleep(0.05)

    async def replay(self, rpc: _Upstream, dump_block: int) -> None:
        """Replay every log record after ``dump_block``: blocks with their transactions and time."""
        head = int(await rpc.call("eth_blockNumber"), 16)
        segments = [(start, path) for start, path in self.wal.segments() if start >= dump_block]
        last_segment = dump_block
        for n, (start, path) in enumerate(segments):
            data = path.read_bytes()
            records, valid = decode_records(data)
            if valid < len(data):
                if n != len(segments) - 1 or b"\n" in data[valid:]:
                    raise NodeError(f"write-ahead log segment {path.name} is damaged in the middle of the log")
                self.say(f"cutting a torn record at the end of {path.name} (a block never shown to anyone)")
                with open(path, "r+b") as f:
                    f.truncate(valid)
                    os.fsync(f.fileno())
            for record in records:
                if "rpc" in record:
                    if head >= dump_block:  # in order with the blocks around it
                        with contextlib.suppress(_UpstreamError):
                            await rpc.call(record["rpc"], record.get("p", []))
                        self.report.replayed_calls += 1
                    continue
                number = record["n"]
                if number <= head:
                    continue
                if number != head + 1:
                    raise NodeError(f"write-ahead log gap: block {head + 1} missing before {number}")
                block = await self._replay_block(rpc, number, record)
                if int(block["number"], 16) != number or len(block["transactions"]) != len(record["tx"]):
                    raise NodeError(f"replaying block {number} gave a different block: the log does not fit the dump")
                if block["hash"] != record["h"]:
                    self.report.hash_mismatches.append(number)
                head = number
                self.report.replayed_blocks += 1
            last_segment = start
        self.wal.open(last_segment if segments else head)

    async def _replay_block(self, rpc: _Upstream, number: int, record: dict[str, Any]) -> dict[str, Any]:
        """Sends the block's logged transactions and mines them at the logged time; the new block."""
        for attempt in range(_SAME_SECOND_TRIES):
            snapshot = await rpc.call("evm_snapshot")
            for raw in record["tx"]:  # one by one: anvil runs a batch's calls concurrently (any order)
                try:
                    await rpc.call("eth_sendRawTransaction", [raw])
                except _UpstreamError as exc:  # e.g. an impersonated account's unsigned transaction
                    raise NodeError(
                        f"replaying block {number}: anvil refused one of its logged transactions "
                        f"({exc.error.get('message')}); the log and the dumps are kept as they are"
                    ) from None
            try:
                await rpc.call("evm_mine", [{"timestamp": record["t"]}])
            except _UpstreamError:
                # anvil refuses an explicit timestamp equal to the previous block's, which its
                # own clock produces when it mines twice in one second: use the clock, set back
                await rpc.call("evm_setTime", [record["t"]])
                await rpc.call("evm_mine")
            block = dict(await rpc.call("eth_getBlockByNumber", ["latest", False]))
            if int(block["timestamp"], 16) == record["t"] or attempt == _SAME_SECOND_TRIES - 1:
                return block
            # a busy machine let that clock pass into the next second before the block was mined
            # (another time, hence another block id): take the block back and mine it again
            await rpc.call("evm_revert", [snapshot])
        raise AssertionError("unreachable")  # pragma: no cover

    async def prepare(self, rpc_factory: type[_Upstream]) -> _Upstream:
        dump, bad = self.dumps.newest_valid()
        for invalid in bad:
            self.say(f"skipping the damaged dump {invalid.path.name} (its content does not match its hash)")
            self.report.skipped_dumps.append(invalid.path.name)
        legacy = self.data_dir / "state.json"
        load = dump.path if dump else (legacy if legacy.exists() and not self.wal.segments() else None)
        if dump is None and self.wal.segments() and not self.wal.segments()[0][0] == 0:
            raise NodeError(f"no usable state dump in {self.dumps.directory} and the log does not start at genesis")
        genesis = None if load else self.genesis_timestamp()
        for attempt in range(_PORT_TRIES):
            self.start_anvil(load, genesis=genesis)
            rpc = rpc_factory(self.upstream)
            try:
                await self.wait_anvil(rpc)
                break
            except _PortTaken as taken:
                await rpc.close()
                if attempt == _PORT_TRIES - 1:
                    raise NodeError(f"anvil could not bind a private port: {taken}") from None
                self.say(f"{taken}: starting anvil on another port")
        dump_block = dump.block if dump else int(await rpc.call("eth_blockNumber"), 16)
        self.report.dump_block = dump.block if dump else None
        await self.replay(rpc, dump_block)
        block = await rpc.call("eth_getBlockByNumber", ["latest", False])
        self.durable_block, self.durable_hash = int(block["number"], 16), block["hash"]
        if int(block["timestamp"], 16) > time.time():  # a clock moved by evm_increaseTime: keep it
            await rpc.call("evm_setTime", [int(block["timestamp"], 16)])
        if self.report.hash_mismatches:
            self.say(
                f"replay: {len(self.report.hash_mismatches)} block(s) got another hash than logged "
                f"(first {self.report.hash_mismatches[0]}): same transactions, new block ids"
            )
        return rpc


class _Stopping(Exception):
    """The node stops: a request waiting for the gate is answered 503, never let through."""


class _UpstreamError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        self.error = error
        super().__init__(str(error))


class _Upstream:
    """A minimal async JSON-RPC client to the private anvil (aiohttp, keep-alive pool)."""

    def __init__(self, url: str) -> None:
        import aiohttp

        self.url = url
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=64, force_close=False),
            timeout=aiohttp.ClientTimeout(total=600),
            headers={"Content-Type": "application/json"},
        )
        self._ids = iter(range(1, 1 << 62))

    async def post(self, body: bytes) -> bytes:
        async with self.session.post(self.url, data=body) as response:
            return await response.read()

    async def call(self, method: str, params: Any = ()) -> Any:
        answer = json.loads(
            await self.post(
                json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}).encode()
            )
        )
        if answer.get("error"):
            raise _UpstreamError(answer["error"])
        return answer.get("result")

    async def batch(self, calls: list[tuple[str, Any]]) -> list[Any]:
        if not calls:
            return []
        payload = [{"jsonrpc": "2.0", "id": n, "method": m, "params": list(p)} for n, (m, p) in enumerate(calls)]
        answers = json.loads(await self.post(json.dumps(payload).encode()))
        if isinstance(answers, dict):
            raise _UpstreamError(answers.get("error") or {"message": "batch refused"})
        by_id = {a.get("id"): a for a in answers}
        results = []
        for n in range(len(calls)):
            answer = by_id.get(n) or {}
            if answer.get("error"):
                raise _UpstreamError(answer["error"])
            results.append(answer.get("result"))
        return results

    async def close(self) -> None:
        await self.session.close()


class Server:
    """The public JSON-RPC endpoint, the miner and the dumper (one asyncio loop)."""

    def __init__(self, sup: Supervisor, rpc: _Upstream) -> None:
        self.sup = sup
        self.rpc = rpc
        self.gate = asyncio.Event()  # set: reads may go to anvil
        self.gate.set()
        self.idle = asyncio.Condition()
        self.reading = 0
        self.mine_lock = asyncio.Lock()
        self.pending = asyncio.Event()
        self.stop_event = asyncio.Event()
        self.last_dump = time.monotonic()  # -inf: dump at the dumper's next look
        self.dumped_block: int | None = None
        self.dump_failed: str | None = None
        self.raws: dict[str, tuple[str, float]] = {}  # tx hash → (signed tx, when sent)
        self.heads: dict[Any, str] = {}  # websocket → its newHeads subscription id
        self.block_time = sup.s.block_time  # seconds between blocks; None: mine on arrival
        self.automine = True  # without a block time: mine when transactions arrive (else only evm_mine)
        self.wake = asyncio.Event()  # the mining mode changed

    # -- the proxy -----------------------------------------------------------------------------

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        try:
            return await self._handle(request)
        except _Stopping:
            return web.Response(status=503, text="the node is stopping")

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.read()
        if TRACE == "2":
            self.sup.say("rpc " + body[:300].decode(errors="replace"))
        if self.sup._fatal or self.stop_event.is_set():
            return web.Response(status=503, text="the node is stopping")
        if any(marker in body for marker in _SPECIAL):
            answer = await self.special(body)
            return web.Response(body=answer, content_type="application/json")
        calls = body.count(b'"method"')
        sends = body.count(b'"eth_sendRawTransaction"') + body.count(b'"eth_sendTransaction"')
        if sends and sends == calls:
            self.remember_raws(body)
            answer = await self.rpc.post(body)  # nothing to read: no need to wait for the miner
            self.pending.set()
            return web.Response(body=answer, content_type="application/json")
        if sends:
            self.remember_raws(body)
        answer = await self.gated(body)
        if sends:
            self.pending.set()
        return web.Response(body=answer, content_type="application/json")

    def remember_raws(self, body: bytes) -> None:
        """Keep the signed bytes of the transactions sent (by hash), for the block's log record:
        asking anvil for them afterwards (``eth_getRawTransactionByHash``) is ~0.5 ms each."""
        try:
            request = json.loads(body)
        except ValueError:
            return
        now = time.monotonic()
        for call in request if isinstance(request, list) else [request]:
            if isinstance(call, dict) and call.get("method") == "eth_sendRawTransaction" and call.get("params"):
                raw = call["params"][0]
                if isinstance(raw, str) and raw.startswith("0x"):
                    with contextlib.suppress(ValueError):
                        self.raws["0x" + keccak(bytes.fromhex(raw[2:])).hex()] = (raw, now)
        if len(self.raws) > 200_000:  # refused or long-queued ones: fetched from anvil if ever mined
            cutoff = now - 600
            self.raws = {h: v for h, v in self.raws.items() if v[1] > cutoff}

    async def gated(self, body: bytes) -> bytes:
        while not self.gate.is_set():  # a block is being logged: wait, unless the node stops
            opened = asyncio.ensure_future(self.gate.wait())
            stopping = asyncio.ensure_future(self.stop_event.wait())
            await asyncio.wait([opened, stopping], return_when=asyncio.FIRST_COMPLETED)
            opened.cancel()
            stopping.cancel()
            if not self.gate.is_set() and self.stop_event.is_set():
                raise _Stopping  # e.g. a failed log write keeps the gate shut for good
        self.reading += 1
        try:
            return await self.rpc.post(body)
        finally:
            self.reading -= 1
            if self.reading == 0:
                async with self.idle:
                    self.idle.notify_all()

    async def special(self, body: bytes) -> bytes:
        try:
            request = json.loads(body)
        except ValueError:
            return json.dumps(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
            ).encode()
        if isinstance(request, list):
            answers = [await self.one(r) for r in request]
            return json.dumps(answers).encode()
        return json.dumps(await self.one(request)).encode()

    async def one(self, request: dict[str, Any]) -> dict[str, Any]:
        method, params, rid = request.get("method", ""), request.get("params") or [], request.get("id")

        def ok(result: Any) -> dict[str, Any]:
            return {"jsonrpc": "2.0", "id": rid, "result": result}

        def error(code: int, message: str) -> dict[str, Any]:
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}

        if method == "telcochain_durableBlock":
            return ok(hex(self.sup.durable_block))
        if method in ("anvil_getAutomine", "hardhat_getAutomine"):
            return ok(self.automine and not self.block_time)  # every transaction mined at once
        if method in MINING_SWITCHES:
            value = params[0] if params else None
            if method.endswith("Automine"):
                self.automine = bool(value)
                if self.automine:
                    self.block_time = None
            else:
                seconds = int(value, 16) if isinstance(value, str) else float(value or 0)
                self.block_time = float(seconds) or None
            self.wake.set()
            return ok(None)
        if method in REFUSED:
            return error(-32601, f"{method} is not available on a durable telcochain node: {REFUSED[method]}")
        if method in MINE_METHODS:
            blocks, timestamp = 1, None
            if method == "evm_mine" and params:
                first = params[0]
                if isinstance(first, dict):
                    blocks = int(first.get("blocks", 1) or 1)
                    timestamp = first.get("timestamp")
                else:
                    timestamp = first
            elif params:
                blocks = int(params[0], 16) if isinstance(params[0], str) else int(params[0])
            try:
                async with self.mine_lock:
                    for n in range(blocks):
                        await self.mine_one(timestamp if n == 0 else None)
            except _UpstreamError as exc:
                return {"jsonrpc": "2.0", "id": rid, "error": exc.error}
            return ok("0x0")
        if method in PASSTHROUGH or not method.startswith(("evm_", "anvil_", "hardhat_")):
            body = json.dumps(request).encode()
            sends = method in ("eth_sendRawTransaction", "eth_sendTransaction")
            if sends:
                self.remember_raws(body)
            answer = json.loads(await self.gated(body))
            if sends:
                self.pending.set()
            return dict(answer)
        # a state-changing cheat code: applied and logged under the miner's lock, hidden until logged
        async with self.mine_lock:
            await self.close_gate()
            try:
                answer = json.loads(await self.rpc.post(json.dumps(request).encode()))
                if not answer.get("error"):
                    await asyncio.to_thread(self.sup.wal.append, {"rpc": method, "p": params})
            except NodeError as exc:
                await self.fatal(str(exc))
                return error(-32000, str(exc))
            finally:
                if not self.sup._fatal:
                    self.gate.set()
        return dict(answer)

    # -- mining --------------------------------------------------------------------------------

    async def close_gate(self) -> None:
        self.gate.clear()
        async with self.idle:
            await self.idle.wait_for(lambda: self.reading == 0)

    async def mine_one(self, timestamp: Any = None) -> None:
        """Mine a block, log it (fsync), then let readers see it. Call under ``mine_lock``."""
        t0 = time.perf_counter()
        await self.close_gate()
        try:
            t1 = time.perf_counter()
            await self.rpc.call("evm_mine", [] if timestamp is None else [timestamp])
            t2 = time.perf_counter()
            block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
            hashes = block["transactions"]
            known = [self.raws.pop(h, None) for h in hashes]
            missing = [h for h, k in zip(hashes, known, strict=True) if k is None]
            fetched = iter(await self.rpc.batch([("eth_getRawTransactionByHash", [h]) for h in missing]))
            raws = [k[0] if k is not None else next(fetched) for k in known]
            record = {"n": int(block["number"], 16), "h": block["hash"], "t": int(block["timestamp"], 16), "tx": raws}
            t3 = time.perf_counter()
            try:
                await asyncio.to_thread(self.sup.wal.append, record)
                if TRACE:
                    t4 = time.perf_counter()
                    self.sup.say(
                        f"block {record['n']}: {len(raws)} txs, gate {t1 - t0:.3f} mine {t2 - t1:.3f} "
                        f"fetch {t3 - t2:.3f} wal {t4 - t3:.3f}"
                    )
            except NodeError as exc:
                await self.fatal(str(exc))
                raise
            self.sup.durable_block, self.sup.durable_hash = record["n"], record["h"]
        finally:
            if not self.sup._fatal:
                self.gate.set()
        if self.heads:
            self.announce(block)

    # -- websocket: newHeads of logged blocks only ------------------------------------------------

    def announce(self, block: dict[str, Any]) -> None:
        """Tell the ``newHeads`` subscribers about a block that is in the log."""
        header = {k: v for k, v in block.items() if k != "transactions"}
        for ws, subscription in list(self.heads.items()):
            message = {
                "jsonrpc": "2.0",
                "method": "eth_subscription",
                "params": {"subscription": subscription, "result": header},
            }
            task = asyncio.ensure_future(ws.send_str(json.dumps(message)))
            task.add_done_callback(lambda t: t.exception())  # a closed socket: dropped below

    async def websocket(self, request: Any) -> Any:
        """``eth_subscribe("newHeads")`` announces logged blocks; other calls go through the
        gated HTTP path (so nothing not yet logged is ever read); log subscriptions are refused."""
        from aiohttp import WSMsgType, web

        ws = web.WebSocketResponse(max_msg_size=256 << 20)
        await ws.prepare(request)
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    call = json.loads(message.data)
                except ValueError:
                    continue
                method, rid = call.get("method"), call.get("id")
                if method == "eth_subscribe":
                    if (call.get("params") or [None])[0] != "newHeads":
                        refused = "the durable node offers newHeads subscriptions only (logs: poll eth_getLogs)"
                        answer: Any = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": refused}}
                    else:
                        subscription = "0x" + os.urandom(16).hex()
                        self.heads[ws] = subscription
                        answer = {"jsonrpc": "2.0", "id": rid, "result": subscription}
                elif method == "eth_unsubscribe":
                    self.heads.pop(ws, None)
                    answer = {"jsonrpc": "2.0", "id": rid, "result": True}
                else:
                    answer = json.loads(await self.special(message.data.encode()))
                await ws.send_str(json.dumps(answer))
        except _Stopping:
            await ws.close()
        finally:
            self.heads.pop(ws, None)
        return ws

    async def pool_size(self) -> int:
        status = await self.rpc.call("txpool_status")
        return int(status.get("pending", "0x0"), 16)  # queued ones wait for a nonce gap: not minable

    async def miner(self) -> None:
        while not self.stop_event.is_set():
            try:
                await self._mine_loop()
            except _UpstreamError as exc:  # anvil refused (e.g. a block over the gas limit): go on
                self.sup.say(f"mining: anvil answered {exc}")
                await asyncio.sleep(0.1)
            except NodeError:
                return  # fatal() already stopped the node
            except Exception as exc:  # anvil gone: its exit is handled by the supervisor
                self.sup.say(f"mining stopped: {exc!r}")
                await asyncio.sleep(0.5)

    async def _mine_loop(self) -> None:
        next_tick = time.monotonic() + (self.block_time or 0)
        while not self.stop_event.is_set():
            self.wake.clear()
            block_time = self.block_time
            if block_time:
                wait_for: Any = self.wake.wait()
                timeout = max(0.0, next_tick - time.monotonic())
            else:
                wait_for = self.pending.wait() if self.automine else self.wake.wait()
                timeout = 1.0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wait_for, timeout)
            if self.stop_event.is_set():
                return
            if self.wake.is_set():  # the mode changed: start over with it
                next_tick = time.monotonic() + (self.block_time or 0)
                continue
            if block_time:
                next_tick = max(next_tick + block_time, time.monotonic())
                async with self.mine_lock:
                    await self.mine_one()
                continue
            if not self.automine:
                continue
            self.pending.clear()
            async with self.mine_lock:
                if await self.pool_size() > 0:
                    await self.mine_one()
                    if await self.pool_size() > 0:
                        self.pending.set()

    # -- dumps ---------------------------------------------------------------------------------

    async def dump(self) -> Dump:
        """Dump at the current head, start a new log segment there, write the file atomically."""
        async with self.mine_lock:
            state = await self.rpc.call("anvil_dumpState")
            block = self.sup.durable_block
            await asyncio.to_thread(self.sup.wal.open, block)
        dump = await asyncio.to_thread(self.sup.dumps.write, bytes.fromhex(state[2:]), block)
        oldest = await asyncio.to_thread(self.sup.dumps.prune)
        if oldest is not None:
            await asyncio.to_thread(self.sup.wal.prune, oldest.block)
        self.last_dump = time.monotonic()
        self.dumped_block = block
        self.sup.write_status(dump_block=block, dump=dump.path.name)
        return dump

    async def dumper(self) -> None:
        while not self.stop_event.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), 1.0)
            if self.stop_event.is_set():
                return
            due = time.monotonic() - self.last_dump >= self.sup.s.dump_interval
            changed = self.sup.wal.bytes_written > 0 or self.dumped_block != self.sup.durable_block
            if changed and (due or self.sup.wal.bytes_written >= self.sup.s.dump_wal_bytes):
                try:
                    await self.dump()
                    self.dump_failed = None
                except (DiskError, _UpstreamError) as exc:  # the log still holds every block: retry later
                    self.dump_failed = str(exc)
                    self.last_dump = time.monotonic()
                    self.sup.say(f"{exc} (the write-ahead log still holds every block; retrying later)")
                    self.sup.write_status(dump_error=str(exc))

    async def fatal(self, message: str) -> None:
        if self.sup._fatal is None:
            self.sup._fatal = message
            self.sup.say(f"stopping: {message}; every block shown to clients is in the write-ahead log")
            self.sup.write_status(state="failed", error=message)
            self.stop_event.set()


async def _serve(settings: Settings) -> int:
    from aiohttp import web

    sup = Supervisor(settings)
    sup.lock()
    sup.write_status(state="starting", host=settings.host, port=settings.port, error=None, state_kept=None)
    loop = asyncio.get_running_loop()
    stop_signals = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop_signals.set)
    rpc: _Upstream | None = None
    runner: Any = None
    server: Server | None = None
    try:
        rpc = await sup.prepare(_Upstream)
        server = Server(sup, rpc)
        app = web.Application(client_max_size=256 << 20)
        app.router.add_post("/", server.handle)
        app.router.add_get("/", server.websocket)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=10.0)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            raise NodeError(f"port {settings.port} on {settings.host} is already in use: choose another port") from exc
        replay = {
            "blocks": sup.report.replayed_blocks,
            "calls": sup.report.replayed_calls,
            "hash_mismatches": sup.report.hash_mismatches,
            "from_dump": sup.report.dump_block,
            "skipped_dumps": sup.report.skipped_dumps,
        }
        sup.write_status(
            state="serving", anvil_pid=sup.anvil.pid if sup.anvil else None, upstream=sup.upstream, replay=replay
        )
        sup.say(f"serving on http://{settings.host}:{settings.port} (head {sup.durable_block}, replayed {replay})")
        if sup.report.replayed_blocks or sup.report.dump_block is None:
            server.last_dump = -float("inf")  # dump soon: the next start needs no replay
        tasks = [asyncio.create_task(server.miner()), asyncio.create_task(server.dumper())]
        anvil_exit = asyncio.create_task(asyncio.to_thread(sup.anvil.wait)) if sup.anvil else None
        waiters: list[asyncio.Task[Any]] = [
            asyncio.create_task(stop_signals.wait()),
            asyncio.create_task(server.stop_event.wait()),
        ]
        if anvil_exit is not None:
            waiters.append(anvil_exit)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if anvil_exit is not None and anvil_exit.done():
            await server.fatal(f"anvil exited unexpectedly (code {sup.anvil.returncode if sup.anvil else '?'})")
        # graceful stop: no new requests, mine what was accepted, stop mining, final dump, verify
        await runner.cleanup()
        runner = None
        server.stop_event.set()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if sup._fatal:
            return 1
        async with server.mine_lock:
            if await server.pool_size() > 0:
                await server.mine_one()
        try:
            dump = await server.dump()
        except DiskError as exc:
            sup.say(f"final dump failed: {exc}; the chain is kept in the previous dump and the write-ahead log")
            sup.write_status(state="stopped", state_kept=True, final_dump=None, dump_error=str(exc),
                             block=sup.durable_block)  # fmt: skip
            return 0
        verified = await asyncio.to_thread(dump.valid)
        sup.write_status(state="stopped", state_kept=True, final_dump=dump.path.name, verified=verified,
                         block=sup.durable_block)  # fmt: skip
        sup.say(f"stopped at block {sup.durable_block}; final dump {dump.path.name} verified={verified}")
        return 0
    except NodeError as exc:
        sup.say(str(exc))
        sup.write_status(state="failed", error=str(exc))
        return 1
    except OSError as exc:  # a disk error outside the log and the dumps (pid file, anvil's log...)
        message = f"cannot write to the data directory {sup.data_dir}: {disk_reason(exc)}"
        sup.say(message)
        sup.write_status(state="failed", error=message)
        return 1
    finally:
        if runner is not None:
            await runner.cleanup()
        if rpc is not None:
            await rpc.close()
        sup.wal.close()
        if sup.anvil is not None and sup.anvil.poll() is None:
            sup.anvil.terminate()
            try:
                await asyncio.to_thread(sup.anvil.wait, 10)
            except subprocess.TimeoutExpired:
                sup.anvil.kill()
        (sup.data_dir / ANVIL_PID_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m telcochain.durable '<settings json>'``: run the supervisor until stopped."""
    args = sys.argv[1:] if argv is None else argv
    settings = Settings(**json.loads(args[0]))
    try:
        return asyncio.run(_serve(settings))
    except NodeError as exc:  # before the loop could report it (lock, data dir)
        print(str(exc), file=sys.stderr, flush=True)
        if "already running" in str(exc):
            return 3  # the running node's status file is not ours to touch
        with contextlib.suppress(OSError):
            status = Path(settings.data_dir) / STATUS_FILE
            status.write_text(json.dumps({"state": "failed", "error": str(exc), "pid": os.getpid()}))
        return 1


def iter_wal_blocks(data_dir: Path) -> Iterator[dict[str, Any]]:
    """Every block record in the log of ``data_dir`` (for tests and diagnosis)."""
    for _, path in Wal(data_dir / "wal").segments():
        records, _ = decode_records(path.read_bytes())
        yield from (r for r in records if "n" in r)


if __name__ == "__main__":
    sys.exit(main())
