"""`telcochain node`: the embedded chain keeps contracts, members and events across a restart."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from telcochain import Client, NodeUnreachable
from telcochain.node import LocalNode, NodeConfig, free_port
from telcochain.rpc import Rpc
from telcochain.tx import Log
from telcochain.types import show_bytes32

from tests.support.deploy import ape_deploy

pytestmark = pytest.mark.slow


def telcochain(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "telcochain.cli", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_a_restarted_node_keeps_the_deployed_contracts_and_their_history(tmp_path, dev_accounts):
    data_dir, port = tmp_path / "node", free_port()
    node_args = ["--data-dir", str(data_dir), "--port", str(port)]
    started = telcochain("node", *node_args, "--detach")
    assert started.returncode == 0, started.stderr
    rpc_url = started.stdout.strip()
    assert rpc_url == f"http://127.0.0.1:{port}"
    try:
        manifest = ape_deploy(rpc_url, tmp_path / "deployments")
        client = Client.connect(rpc_url, dev_accounts[0], deployment=manifest)
        receipt = client.constitution.rotate_trust_key(b"\x77" * 32, ref="before-restart").receipt
        assert telcochain("node", "status", *node_args).returncode == 0
    finally:
        stopped = telcochain("node", "stop", *node_args)
    assert stopped.returncode == 0, stopped.stderr
    assert LocalNode(NodeConfig(data_dir=data_dir)).config.has_saved_chain()
    with pytest.raises(NodeUnreachable):
        Client.connect(rpc_url, deployment=manifest)
    assert telcochain("node", "status", *node_args).returncode == 1

    restarted = telcochain("node", *node_args, "--detach")
    assert restarted.returncode == 0, restarted.stderr
    assert "restored" in restarted.stderr
    try:
        again = Client.connect(rpc_url, deployment=manifest)  # code still at the manifest's addresses
        assert again.constitution.members()[0].name == "Northwind Telecom"
        assert again.constitution.member(dev_accounts[0].address).trust_key == b"\x77" * 32
        logs = again.rpc.call(
            "eth_getLogs", [{"fromBlock": hex(receipt.block_number), "toBlock": hex(receipt.block_number)}]
        )
        events = again.contract("Constitution").events([Log.from_rpc(x) for x in logs])
        assert [show_bytes32(e["ref"]) for e in events if e.name == "TrustKeyRefreshed"] == ["before-restart"]
        assert events[0].log.block_hash == receipt.block_hash
    finally:
        assert telcochain("node", "stop", *node_args).returncode == 0


def test_time_travel_survives_a_restart(tmp_path):
    """Blocks mined after a restart are never older than those before it (anvil restores the
    blocks of a state file, not a clock moved by evm_increaseTime)."""
    node = LocalNode(NodeConfig(data_dir=tmp_path / "node", port=free_port()))
    node.start()
    try:
        rpc = Rpc(node.config.rpc_url)
        rpc.call("evm_increaseTime", [31 * 86_400])
        rpc.call("evm_mine")
        before = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    finally:
        node.stop()
    node.start()
    try:
        rpc.call("evm_mine")
        after = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    finally:
        node.stop()
    assert after >= before > time.time() + 30 * 86_400


def test_a_second_node_on_the_same_data_dir_is_refused(tmp_path):
    data_dir, port = tmp_path / "node", free_port()
    node_args = ["--data-dir", str(data_dir), "--port", str(port)]
    assert telcochain("node", *node_args, "--detach").returncode == 0
    try:
        second = telcochain("node", *node_args, "--detach")
        assert second.returncode == 1
        assert "already running" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        telcochain("node", "stop", *node_args)


def test_stopping_when_no_node_runs_is_a_clear_error(tmp_path):
    result = telcochain("node", "stop", "--data-dir", str(tmp_path / "none"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: no node is running from {tmp_path / 'none'}"


def test_fresh_discards_the_saved_chain(tmp_path):
    data_dir, port = tmp_path / "node", free_port()
    node_args = ["--data-dir", str(data_dir), "--port", str(port)]
    assert telcochain("node", *node_args, "--detach").returncode == 0
    telcochain("node", "stop", *node_args)
    assert LocalNode(NodeConfig(data_dir=data_dir)).config.has_saved_chain()
    fresh = telcochain("node", *node_args, "--detach", "--fresh")
    try:
        assert fresh.returncode == 0
        assert "new chain" in fresh.stderr
    finally:
        telcochain("node", "stop", *node_args)


def test_a_port_taken_by_another_program_is_one_clear_line(tmp_path):
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = telcochain("node", "--data-dir", str(tmp_path / "node"), "--port", str(port), "--detach")
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: port {port} on 127.0.0.1 is already in use: choose another port"


def test_a_detached_node_is_found_without_rpc_url_or_port(tmp_path):
    """The node records its URL in its data directory: `node status|stop` and every command find
    it there when no --port / --rpc-url is given (run from the directory holding .telcochain/)."""
    port = free_port()
    env_free = {"cwd": tmp_path}
    started = telcochain("node", "--port", str(port), "--detach", **env_free)
    assert started.returncode == 0, started.stderr
    try:
        assert (tmp_path / ".telcochain/node/rpc_url").read_text().strip() == f"http://127.0.0.1:{port}"
        status = telcochain("node", "status", "--json", **env_free)
        assert status.returncode == 0 and f'"rpc_url": "http://127.0.0.1:{port}"' in status.stdout
        assert '"serving": true' in status.stdout
        info = telcochain("info", **env_free)  # no deployment here: it reached the node and says so
        assert info.returncode == 1 and "no telcochain deployment for chain 31337" in info.stderr, info.stderr
    finally:
        stopped = telcochain("node", "stop", **env_free)
    assert stopped.returncode == 0, stopped.stderr
    assert not (tmp_path / ".telcochain/node/rpc_url").exists()
