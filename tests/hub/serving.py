"""A real gateway for the hub tests: uvicorn on a free port in a thread, with a bearer token."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from telcochain import Client
from telcochain.gateway import GatewaySettings, TokenStore, create_app
from telcochain.index import IndexStore
from telcochain.node import free_port


class Gateway:
    """``create_app`` for ``client``'s member over ``store``, served by uvicorn in a thread."""

    def __init__(self, client: Client, store: IndexStore, tmp: Path, hub: dict[str, Any] | None = None) -> None:
        tokens = tmp / f"tokens-{client.address[:8]}.yaml"
        self.token = TokenStore(tokens).add("tests")
        self.port = free_port()
        settings = GatewaySettings(
            rpc_url=client.rpc.url,
            tokens_file=tokens,
            port=self.port,
            follow_interval=0.1,
            hub=hub or {},
        )
        self.app = create_app(settings, client=client, store=store, extensions=["telcochain.gateway.hub"])
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def __enter__(self) -> Gateway:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            assert time.time() < deadline, "the gateway did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: Any) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(30)
