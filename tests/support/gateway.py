"""The gateway tests' helpers (tests/gateway): a member's gateway started like a member runs it,
the chain it serves, and a wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from eth_account.signers.local import LocalAccount
from telcochain.gateway import GatewaySettings, TokenStore, create_app
from telcochain.keystore import Keystore
from telcochain.node import free_port

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)


@dataclass
class Chain:
    rpc_url: str
    deployment: Path


@dataclass
class Gateway:
    url: str
    token: str
    settings: GatewaySettings
    app: Any
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, token: str | None = "default", **kw: Any) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {self.token if token == 'default' else token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_gateway(
    tmp: Path, chain: Chain, account: LocalAccount, name: str, extensions: list[str] | None = None, **extra: Any
) -> Gateway:
    """Write a config like a member would (keystore + password file + tokens file), serve it."""
    keystores = tmp / "keystores"
    Keystore(keystores).save(name, account.key, "gw-secret")
    (tmp / "password").write_text("gw-secret\n")
    port = free_port()
    config = {
        "rpc_url": chain.rpc_url,
        "deployment": str(chain.deployment),
        "account": {"keystore": name, "password_file": "password", "keystore_dir": "keystores"},
        "index_db": "sqlite:///index.sqlite",
        "tokens_file": "tokens.yaml",
        "host": "127.0.0.1",
        "port": port,
        "follow_interval": 0.1,
        **extra,
    }
    (tmp / "gateway.yaml").write_text(yaml.safe_dump(config))
    settings = GatewaySettings.load(tmp / "gateway.yaml")
    token = TokenStore(settings.tokens_file).add("tests")
    app = create_app(settings, extensions=extensions if extensions is not None else [])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    return Gateway(f"http://127.0.0.1:{port}", token, settings, app, server, thread)


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)
