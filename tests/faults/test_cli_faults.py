"""Disk and file errors reach the command line as one line, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from telcochain.cli import main


@pytest.fixture
def cli(local_node, deployment_path, monkeypatch, dev_accounts):
    monkeypatch.setenv("TELCOCHAIN_RPC_URL", local_node.rpc_url)
    monkeypatch.setenv("TELCOCHAIN_DEPLOYMENT", str(deployment_path))
    monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", dev_accounts[0].key.hex())
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.strip().splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_watch_with_a_damaged_checkpoint_is_one_line(cli, tmp_path):
    checkpoint = tmp_path / "cp.json"
    checkpoint.write_text('{"block": 3, "partial": [')
    assert "is damaged" in one_line_error(cli("watch", "--once", "--checkpoint", str(checkpoint)))


def test_watch_with_a_checkpoint_in_a_folder_it_cannot_create_is_one_line(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = one_line_error(cli("watch", "--once", "--checkpoint", str(blocker / "cp.json")))
    assert "checkpoint" in line


def test_keys_rotate_with_an_unreadable_key_file_is_one_line(cli, tmp_path):
    key_file = tmp_path / "member.trustkeys"
    key_file.write_text("{ torn")
    password = tmp_path / "password"
    password.write_text("secret")
    line = one_line_error(
        cli("keys", "rotate", "--trust-keys", str(key_file), "--trust-keys-password-file", str(password))
    )
    assert "trust key file" in line or "key file" in line
