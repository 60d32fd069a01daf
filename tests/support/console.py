"""The console tests' helpers (tests/console): the console environment, the demo-like story put
on its chain, the browser login and screenshots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from telcochain import Client
from telcochain.index import IndexStore
from telcochain.orders import DeviceLine

from tests.index.flows import Members, agree_serial, normal_flow, paid_installation

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TOKEN_NAME = "initech-ops"  # the gateway token the tests log in with


@dataclass
class ConsoleEnv:
    url: str  # http://127.0.0.1:PORT/console
    token: str  # a bearer token of the gateway (`telcochain serve token add`)
    members: Members
    me: Client  # the console's member: Initech Enterprise (with its trust keys)
    store: IndexStore
    story: dict[str, Any]
    accounts: list[LocalAccount]
    deployment: Path
    rpc_url: str
    tokens_file: Path

    def block(self) -> int:
        return self.me.block_number()

    def nonce(self) -> int:
        return int(self.me.rpc.call("eth_getTransactionCount", [self.me.address, "latest"]), 16)

    def wait_indexed(self, timeout: float = 20.0) -> None:
        """Until the index has every block the chain has now."""
        head = self.block()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.store.engine.connect() as db:
                if int(self.store.meta(db).get("checkpoint_block", -1)) >= head:
                    return
            time.sleep(0.1)
        raise AssertionError(f"the index did not reach block {head} in {timeout} s")


def issued_installation(m: Members, twin: str, run: str) -> int:
    """A twin ordered and delivered, its installation requested: the invoice is issued, unpaid."""
    op, acme, customer = m.op, m.acme, m.customer
    project, order = f"PRJ-{run}", f"CRM-{run}"
    op.assets.register(twin, "CPE", root_id=project, order_id=order)
    agree_serial(m, twin)
    op.orders.add_service(order, f"S-{twin}")
    op.orders.add_device_line(order, DeviceLine(f"L-{twin}", f"S-{twin}", acme.address, "ONT-XGS", 1, asset=twin))
    acme.orders.deliver(f"L-{twin}")
    return int(customer.agreement.request_installation(twin).invoice_id)


def demo_story(m: Members) -> dict[str, Any]:
    """The demo's business in small: an order of two sites installed and paid, a MACD change
    done and one pending, a bill paid; site details disclosed to the customer; one installation
    invoice still to pay and one paid into escrow awaiting confirmation."""
    story: dict[str, Any] = normal_flow(m)
    m.op.disclose(story["order"], {"site": "12 Leeds Rd, Bradford", "contact": "Ann Smith"}, to=["Initech Enterprise"])
    story["unpaid"] = issued_installation(m, "ONT-SPARE-1", "1")
    story["funded"] = paid_installation(m, "ONT-LAB-1", "1")
    return story


def login(page: Any, env: ConsoleEnv, token: str | None = None) -> None:
    page.goto(env.url + "/login")
    page.get_by_label("Access token").fill(env.token if token is None else token)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
