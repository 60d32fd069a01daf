"""`telcochain serve token ...` and the config errors of `telcochain serve` (no chain needed)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from telcochain.cli import main
from telcochain.gateway import GatewaySettings, TokenStore
from telcochain.gateway.auth import hash_token


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``run(*args, cwd=folder)``: the CLI in-process (stdout and stderr apart, like a shell)."""
    runner = CliRunner(mix_stderr=False)

    def invoke(*args: str, cwd: Path) -> Any:
        monkeypatch.chdir(cwd)
        result = runner.invoke(main, list(args), catch_exceptions=False)
        result.returncode = result.exit_code
        return result

    return invoke


def test_token_add_prints_the_token_once_and_stores_only_its_hash(tmp_path: Path, run: Any) -> None:
    (tmp_path / "gateway.yaml").write_text("tokens_file: secrets/tokens.yaml\n")
    added = run("serve", "token", "add", "oss-prod", "--config", "gateway.yaml", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token.startswith("tcg_") and len(token) > 40
    stored = (tmp_path / "secrets" / "tokens.yaml").read_text()
    assert token not in stored and hash_token(token) in stored
    assert (tmp_path / "secrets" / "tokens.yaml").stat().st_mode & 0o077 == 0  # owner only
    assert TokenStore(tmp_path / "secrets" / "tokens.yaml").verify(token) == "oss-prod"

    again = run("serve", "token", "add", "oss-prod", "--config", "gateway.yaml", cwd=tmp_path)
    assert again.returncode == 1 and "exists already" in again.stderr and "Traceback" not in again.stderr
    replaced = run("serve", "token", "add", "oss-prod", "--config", "gateway.yaml", "--replace", cwd=tmp_path)
    assert replaced.returncode == 0
    store = TokenStore(tmp_path / "secrets" / "tokens.yaml")
    assert store.verify(token) is None and store.verify(replaced.stdout.strip()) == "oss-prod"

    listed = run("serve", "token", "list", "--config", "gateway.yaml", "--json", cwd=tmp_path)
    assert [e["name"] for e in yaml.safe_load(listed.stdout)] == ["oss-prod"]
    assert run("serve", "token", "revoke", "oss-prod", "--config", "gateway.yaml", cwd=tmp_path).returncode == 0
    gone = run("serve", "token", "revoke", "oss-prod", "--config", "gateway.yaml", cwd=tmp_path)
    assert gone.returncode == 1 and "no token named" in gone.stderr


def test_a_bad_config_is_one_clear_line(tmp_path: Path, run: Any) -> None:
    (tmp_path / "bad.yaml").write_text("port: 99999\n")
    result = run("serve", "--config", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "port" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "typo.yaml").write_text("rpc_ulr: http://x\n")
    assert "rpc_ulr" in run("serve", "--config", "typo.yaml", cwd=tmp_path).stderr
    missing = run("serve", "--config", "nowhere.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_a_busy_port_is_one_clear_line_before_anything_starts(tmp_path: Path, run: Any) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # no node at this URL either: the port is checked first, so its error is the one shown
        (tmp_path / "gateway.yaml").write_text(f"rpc_url: http://127.0.0.1:1\nport: {port}\n")
        result = run("serve", "--config", "gateway.yaml", cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0], result.stderr


def test_relative_paths_in_the_config_are_resolved_against_its_folder(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "gateway.yaml").write_text(
        yaml.safe_dump(
            {
                "account": {"keystore": "northwind", "password_file": "pw.txt", "keystore_dir": "keys"},
                "index_db": "sqlite:///data/index.sqlite",
                "tokens_file": "tokens.yaml",
                "tls": {"certfile": "tls/cert.pem", "keyfile": "/etc/key.pem"},
            }
        )
    )
    settings = GatewaySettings.load(tmp_path / "conf" / "gateway.yaml")
    base = (tmp_path / "conf").resolve()
    assert settings.tokens_file == base / "tokens.yaml"
    assert settings.account is not None and settings.account.password_file == base / "pw.txt"
    assert settings.index_db == f"sqlite:///{base / 'data' / 'index.sqlite'}"
    assert settings.tls is not None and settings.tls.keyfile == Path("/etc/key.pem")


def test_a_broken_tokens_file_is_the_servers_fault_not_the_clients(tmp_path: Path) -> None:
    """A tokens file that stops parsing (half-edited by hand) answers 500, logged, without its
    path: not a 400 telling the client its request was bad."""
    from types import SimpleNamespace

    from fastapi.testclient import TestClient
    from telcochain.gateway import create_app
    from telcochain.index import IndexStore
    from telcochain.index.schema import metadata

    tokens = tmp_path / "tokens.yaml"
    token = TokenStore(tokens).add("oss")
    store = IndexStore(f"sqlite:///{tmp_path / 'index.sqlite'}")
    metadata.create_all(store.engine)
    app = create_app(
        GatewaySettings(tokens_file=tokens), client=SimpleNamespace(address=None), store=store,  # type: ignore[arg-type]
        extensions=[], follow=False,
    )  # fmt: skip
    try:
        with TestClient(app) as http:
            headers = {"Authorization": f"Bearer {token}"}
            assert http.get("/resourceInventoryManagement/v4/resource", headers=headers).status_code == 200
            tokens.write_text("tokens: [oops\n")
            broken = http.get("/resourceInventoryManagement/v4/resource", headers=headers)
    finally:
        store.dispose()
    assert broken.status_code == 500, broken.text
    assert broken.json()["code"] == "INTERNAL" and str(tokens) not in broken.text
