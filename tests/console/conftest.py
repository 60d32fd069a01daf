"""Console fixtures: one chain per test module with a demo-like story on it, the index, the
console served by uvicorn on a free port (acting as Initech Enterprise, the customer), and a
real headless Chromium (Debian's `chromium`, driven by Python playwright).

The module's tests share the chain and run in file order; each sets up what it needs itself.

The helpers are tests/support/console.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from telcochain import Client
from telcochain.index import Follower, IndexStore
from telcochain.node import LocalNode, NodeConfig, free_port

from tests.index.flows import Members
from tests.support.console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TOKEN_NAME,
    ConsoleEnv,
    demo_story,
    login,
)
from tests.support.deploy import ConsortiumImage


@pytest.fixture(scope="module")
def console_env(
    tmp_path_factory: pytest.TempPathFactory, dev_accounts: list[LocalAccount], consortium_image: ConsortiumImage
) -> Iterator[ConsoleEnv]:
    """The story on a chain of the module's own, then ``telcochain serve``'s app (the gateway with
    the console extension) for Initech Enterprise, served by uvicorn on a free port."""
    import uvicorn
    from telcochain.gateway.app import create_app
    from telcochain.gateway.auth import TokenStore
    from telcochain.gateway.settings import GatewaySettings

    root = tmp_path_factory.mktemp("console")
    node = LocalNode(NodeConfig(data_dir=root / "node", port=free_port(), persist=False))
    node.start()
    server: Any = None
    thread: threading.Thread | None = None
    store: IndexStore | None = None
    try:
        deployment = consortium_image.load_into(node.config.rpc_url, root / "deployments")
        members = Members.connect(node.config.rpc_url, deployment, dev_accounts)
        story = demo_story(members)
        store = IndexStore(f"sqlite:///{root / 'index.sqlite'}")
        me = Client.connect(node.config.rpc_url, dev_accounts[3], deployment=deployment)
        Follower.for_client(store, me).catch_up()
        settings = GatewaySettings(
            rpc_url=node.config.rpc_url,
            deployment=deployment,
            tokens_file=root / "tokens.yaml",
            follow_interval=0.3,
            console={"session_hours": 1},  # trust keys: anvil's development keys for account 3
        )
        token = TokenStore(settings.tokens_file).add(TOKEN_NAME)
        app = create_app(settings, client=me, store=store, extensions=["telcochain.console"])
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
        )
        thread = threading.Thread(target=server.run, name="console-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the console server did not start"
            time.sleep(0.05)
        yield ConsoleEnv(
            f"http://127.0.0.1:{port}/console", token, members, me, store, story, dev_accounts, deployment,
            node.config.rpc_url, settings.tokens_file,
        )  # fmt: skip
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=15)
        if store is not None:
            store.dispose()
        node.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # an action is a transaction: the shared 2-core machine can be slow
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any, console_env: ConsoleEnv) -> Any:
    """A browser tab logged in to the console (on the dashboard)."""
    tab = context.new_page()
    login(tab, console_env)
    tab.wait_for_url(console_env.url + "/")
    return tab
