"""The durable embedded node under crashes: SIGKILL at random moments (mid-dump included),
graceful stops under load, signals to the wrapper, damaged dumps, full and read-only disks.
Every operation the SDK called confirmed is on the chain afterwards, once."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from telcochain.durable import DIR_MARKER, find_orphan_anvil
from telcochain.errors import NodeError, NodeUnreachable, RpcError
from telcochain.node import find_anvil, free_port
from telcochain.rpc import Rpc

from .harness import Figures, Load, anvil_gone, chain_of, count_applied, crash_cycle, durable_node, kill_supervisor

pytestmark = pytest.mark.slow


def test_sigkill_under_load_loses_no_confirmed_operation(tmp_path, dev_accounts):
    node = durable_node(tmp_path / "node", dump_interval=0.3)  # dumps all the time: kills land mid-dump
    node.start()
    figures = Figures()
    load = Load(node.config.rpc_url, dev_accounts[4:7], chain_of(node.config.rpc_url)).start()
    try:
        rng = random.Random(11)
        for n in range(4):
            crash_cycle(node, load, figures, rng, mid_dump=n % 2 == 1)
        load.finish(timeout=60)
        rpc = Rpc(node.config.rpc_url)
        once, twice, never = count_applied(rpc, load.sinks)
    finally:
        node.stop()
    assert figures.kills == 4 and figures.restarts == 4 and figures.chain_lost == 0
    assert figures.kills_mid_dump >= 1, "no kill landed while a dump was being written"
    assert figures.confirmed_lost == 0
    assert twice == 0 and never == 0 and once == len(load.outcomes) > 0
    assert figures.replayed_blocks > 0  # the log carried blocks the dumps did not have
    assert figures.hash_mismatches == 0  # replayed blocks are the same blocks: same ids for every event
    assert not figures.notes, figures.notes


def test_graceful_stop_under_load_keeps_every_block_and_verifies_its_dump(tmp_path, dev_accounts):
    node = durable_node(tmp_path / "node", dump_interval=60)
    node.start()
    figures = Figures()
    load = Load(node.config.rpc_url, dev_accounts[4:7], chain_of(node.config.rpc_url)).start()
    try:
        rng = random.Random(3)
        for _ in range(2):
            head_before = int(Rpc(node.config.rpc_url).call("eth_blockNumber"), 16)
            crash_cycle(node, load, figures, rng, graceful=True)
            replay = node.status().get("replay") or {}
            assert replay.get("blocks") == 0, "a graceful stop leaves nothing to replay"
            assert int(Rpc(node.config.rpc_url).call("eth_blockNumber"), 16) >= head_before
        load.finish(timeout=60)
        _once, twice, never = count_applied(Rpc(node.config.rpc_url), load.sinks)
    finally:
        node.stop()
    assert figures.confirmed_lost == 0 and twice == 0 and never == 0


def test_a_torn_or_damaged_newest_dump_falls_back_to_the_previous_one_and_the_log(tmp_path, dev_accounts):
    node = durable_node(tmp_path / "node", dump_interval=0.2)
    node.start()
    load = Load(node.config.rpc_url, dev_accounts[4:5], chain_of(node.config.rpc_url), wave=50).start()
    time.sleep(2.0)
    load.finish(timeout=30)
    Rpc(node.config.rpc_url).call("evm_mine")  # one more block: one more dump
    time.sleep(1.5)
    confirmed = load.confirmed()
    kill_supervisor(node)
    dumps = sorted(node.config.dumps_dir.glob("state-*.json"))
    assert len(dumps) == 2, "the previous dump is kept"
    newest = dumps[-1]
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 3])  # what a kill in the middle of a plain write leaves
    (node.config.dumps_dir / "state-000000000999.json.tmp").write_bytes(data[:100])
    node.start()
    try:
        status = node.status()
        assert newest.name in status["replay"]["skipped_dumps"]
        from .harness import missing_confirmed

        assert missing_confirmed(Rpc(node.config.rpc_url), confirmed) == 0
        assert count_applied(Rpc(node.config.rpc_url), load.sinks)[0] == len(load.sinks)
    finally:
        node.stop()


def test_cheat_codes_and_time_travel_survive_a_kill(tmp_path):
    """State changed outside transactions is logged and replayed; the moved clock is kept."""
    node = durable_node(tmp_path / "node", dump_interval=3600)
    node.start()
    rpc = Rpc(node.config.rpc_url)
    rich = "0x" + "ab" * 20
    rpc.call("anvil_setBalance", [rich, hex(12345)])
    rpc.call("evm_increaseTime", [40 * 86_400])
    rpc.call("evm_mine")
    moved = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    with pytest.raises(RpcError, match="not available on a durable telcochain node"):
        rpc.call("evm_snapshot")
    kill_supervisor(node)
    node.start()
    try:
        assert int(rpc.call("eth_getBalance", [rich, "latest"]), 16) == 12345
        assert node.status()["replay"]["calls"] == 1
        rpc.call("evm_mine")
        assert int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16) >= moved
    finally:
        node.stop()


def test_sigkill_of_the_wrapper_leaves_no_anvil_and_no_lock_behind(tmp_path):
    node = durable_node(tmp_path / "node")
    node.start(detach=True)
    kill_supervisor(node)
    assert anvil_gone(node), "anvil outlived its supervisor"
    assert node.pid() is None  # the lock died with the process: a stale pid file blocks nothing
    node.start()
    assert node.is_serving()
    report = node.stop()
    assert report is not None and report.state_kept and report.verified


def test_sigterm_and_sighup_stop_the_node_cleanly(tmp_path):
    for signum in (signal.SIGTERM, signal.SIGHUP):
        node = durable_node(tmp_path / f"node-{signum}")
        node.start(detach=True)
        anvil_pid = node.status()["anvil_pid"]
        os.kill(node.pid(), signum)
        deadline = time.monotonic() + 30
        while node.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert node.status()["state"] == "stopped" and node.status()["state_kept"] is True
        assert not Path(f"/proc/{anvil_pid}").exists() or "Z" in Path(f"/proc/{anvil_pid}/stat").read_text()


def test_sigterm_to_the_foreground_cli_is_forwarded_and_orphans_nothing(tmp_path):
    data_dir, port = tmp_path / "node", free_port()
    cli = subprocess.Popen(
        [sys.executable, "-m", "telcochain.cli", "node", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    node = durable_node(data_dir, port)
    deadline = time.monotonic() + 30
    while not node.is_serving() and time.monotonic() < deadline:
        time.sleep(0.1)
    anvil_pid = node.status()["anvil_pid"]
    cli.send_signal(signal.SIGTERM)
    try:
        _out, err = cli.communicate(timeout=60)
    finally:
        node.stop()  # a node left behind by a failure here must not outlive the test
    assert cli.returncode == 0, err
    assert "state kept" in err
    assert node.pid() is None
    assert not Path(f"/proc/{anvil_pid}").exists() or "Z" in Path(f"/proc/{anvil_pid}/stat").read_text()


def test_an_orphan_anvil_of_the_data_dir_is_found_and_stopped(tmp_path):
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    port = free_port()
    orphan = subprocess.Popen(
        [find_anvil(), "--port", str(port)],
        env=dict(os.environ, **{DIR_MARKER: str(data_dir.resolve())}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # an orphan has been running for a while: wait until this one serves (until it has
        # exec'd, /proc/<pid>/environ is still this test's environment, without the marker)
        rpc, deadline = Rpc(f"http://127.0.0.1:{port}", timeout=1), time.monotonic() + 20
        while True:
            try:
                rpc.call("eth_chainId")
                break
            except NodeUnreachable:
                assert time.monotonic() < deadline, "the orphan anvil never answered"
                time.sleep(0.05)
        (data_dir / "anvil.pid").write_text(f"{orphan.pid}\n")
        assert find_orphan_anvil(data_dir) == orphan.pid
        node = durable_node(data_dir)
        node.start()
        assert orphan.wait(timeout=10) is not None  # stopped by the new supervisor
        node.stop()
    finally:
        if orphan.poll() is None:
            orphan.kill()


# -- full and read-only disks (a small tmpfs: needs root) --------------------------------------


def _mount_tmpfs(path: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs (a full or read-only disk cannot be simulated otherwise)")
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_stops_the_node_with_one_clear_error_and_loses_nothing_confirmed(tmp_path, dev_accounts):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "1m")
    try:
        node = durable_node(disk / "node", dump_interval=0.5)
        node.start()
        load = Load(node.config.rpc_url, dev_accounts[4:6], chain_of(node.config.rpc_url), wave=100).start()
        deadline = time.monotonic() + 60
        while node.status().get("state") == "serving" and time.monotonic() < deadline:
            time.sleep(0.2)
        status = node.status()
        assert status.get("state") == "failed", status
        assert "the disk is full" in status.get("error", "")
        confirmed = load.confirmed()
        load._stop.set()
        load.pipe.close()
        assert confirmed, "the disk filled before anything was confirmed"
        deadline = time.monotonic() + 20
        while node.pid() is not None and time.monotonic() < deadline:  # the node stops by itself
            time.sleep(0.1)
        assert node.pid() is None and anvil_gone(node)
        # free space: move the data directory to a real disk and start there
        target = tmp_path / "moved"
        shutil.copytree(disk / "node", target)
    finally:
        _umount(disk)
    node = durable_node(target)
    node.start()
    try:
        from .harness import missing_confirmed

        assert missing_confirmed(Rpc(node.config.rpc_url), confirmed) == 0
    finally:
        node.stop()


def test_a_read_only_disk_is_one_clear_error_and_the_chain_survives(tmp_path, dev_accounts):
    """(A disk turning read-only under a running node takes the same path as a full one: a log
    write fails, the node stops. A busy tmpfs cannot be remounted read-only, so this starts on one.)"""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "64m")
    try:
        node = durable_node(disk / "node")
        node.start()
        load = Load(node.config.rpc_url, dev_accounts[4:5], chain_of(node.config.rpc_url), wave=20).start()
        time.sleep(1.0)
        load.finish(timeout=30)
        confirmed = load.confirmed()
        assert node.stop().state_kept
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(NodeError, match="read-only"):
            node.start()
        cli = subprocess.run(
            [sys.executable, "-m", "telcochain.cli", "node", "--data-dir", str(disk / "node"), "--detach",
             "--port", str(free_port())],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert cli.returncode == 1 and "Traceback" not in cli.stderr
        assert len(cli.stderr.strip().splitlines()) == 1 and "read-only" in cli.stderr.lower(), cli.stderr
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        node.start()
        try:
            from .harness import missing_confirmed

            assert confirmed and missing_confirmed(Rpc(node.config.rpc_url), confirmed) == 0
        finally:
            node.stop()
    finally:
        _umount(disk)


def test_the_durable_node_announces_logged_blocks_over_websocket(tmp_path, dev_accounts):
    from telcochain.notifications import HeadWaiter
    from telcochain.tx import TxSender, probe_chain

    node = durable_node(tmp_path / "node")
    node.start()
    try:
        waiter = HeadWaiter(node.config.rpc_url.replace("http://", "ws://"))
        assert waiter.wait(0.2) is False and waiter.connected  # subscribed, nothing new yet
        rpc = Rpc(node.config.rpc_url)
        sender = TxSender(rpc, dev_accounts[6], probe_chain(rpc))
        sender.send(dev_accounts[6].address, "0x", gas=21_000)
        assert waiter.wait(10) is True  # woken by the block, once it was logged
        assert int(rpc.call("telcochain_durableBlock"), 16) == int(rpc.call("eth_blockNumber"), 16)
        waiter.close()
    finally:
        node.stop()
