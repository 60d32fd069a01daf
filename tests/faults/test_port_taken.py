"""A port found free can be taken by another process before a node binds it. The node must then
fail (ephemeral) or bind another private port (durable) — never report itself ready while a
stranger answers on the port, which would send a client's transactions to that stranger."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telcochain.durable import STATUS_FILE, serves_port
from telcochain.errors import NodeError
from telcochain.node import LocalNode, NodeConfig, free_port
from telcochain.rpc import Rpc


@pytest.fixture
def stranger(tmp_path: Path) -> Iterator[LocalNode]:
    """Another anvil, one block ahead of any fresh chain, on a port of its own."""
    node = LocalNode(NodeConfig(data_dir=tmp_path / "stranger", port=free_port(), persist=False))
    node.start()
    try:
        Rpc(node.config.rpc_url).call("evm_mine")
        yield node
    finally:
        node.stop()


def test_serves_port_tells_the_listening_process_from_any_other() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert serves_port(os.getpid(), port) is True
        assert serves_port(os.getppid(), port) is False
    assert serves_port(os.getpid(), port) is False  # closed: nobody listens


def test_an_ephemeral_node_whose_port_was_taken_fails_instead_of_using_the_stranger(
    stranger: LocalNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = stranger.config.port
    monkeypatch.setattr("telcochain.node._port_free", lambda host, port: True)  # taken after the check
    node = LocalNode(NodeConfig(data_dir=tmp_path / "ours", port=port, persist=False))
    with pytest.raises(NodeError, match=f"^port {port} on 127.0.0.1 is already in use: choose another port$"):
        node.start()
    assert node.process is not None and node.process.poll() is not None  # our anvil is gone
    assert not (tmp_path / "ours" / "anvil.pid").exists()
    assert stranger.is_serving()


#: The supervisor, its first private port being the stranger's (the race, made certain).
_SUPERVISOR = """
import sys
import telcochain.durable as durable
free = durable._free_port
taken = [int(sys.argv[2])]
durable._free_port = lambda host: taken.pop() if taken else free(host)
sys.exit(durable.main([sys.argv[1]]))
"""


def test_a_durable_node_whose_private_port_was_taken_binds_another(stranger: LocalNode, tmp_path: Path) -> None:
    config = NodeConfig(data_dir=tmp_path / "durable", port=free_port())
    config.data_dir.mkdir()
    settings = json.loads(config.supervisor_command()[-1])
    log = open(config.log_file, "ab")  # noqa: SIM115 - handed to the child
    supervisor = subprocess.Popen(
        [sys.executable, "-c", _SUPERVISOR, json.dumps(settings), str(stranger.config.port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        deadline = time.monotonic() + 60
        status: dict[str, object] = {}
        while status.get("state") not in ("serving", "failed") and time.monotonic() < deadline:
            assert supervisor.poll() is None, config.log_file.read_text()
            time.sleep(0.05)
            status_path = config.data_dir / STATUS_FILE
            status = json.loads(status_path.read_text()) if status_path.exists() else {}
        assert status.get("state") == "serving", status
        assert status["upstream"] != stranger.config.rpc_url
        assert serves_port(int(str(status["anvil_pid"])), int(str(status["upstream"]).rsplit(":", 1)[1]))
        assert f"port {stranger.config.port} was taken before anvil bound it" in config.log_file.read_text()
        assert int(Rpc(config.rpc_url).call("eth_blockNumber"), 16) == 0  # its own fresh chain
        assert int(Rpc(stranger.config.rpc_url).call("eth_blockNumber"), 16) == 1  # the stranger's untouched
    finally:
        supervisor.terminate()
        supervisor.wait(60)
