"""The hub's durability: a gateway process killed mid-delivery resumes without losing an
event, and two replicas on one PostgreSQL index never deliver an event twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select
from telcochain.gateway import TokenStore, outbox
from telcochain.gateway.delivery import ATTEMPT_HEADER, Deliverer, HubSettings
from telcochain.index import Follower, IndexStore
from telcochain.index import schema as s
from telcochain.node import free_port

from tests.hub.receiver import Received, Receiver
from tests.index.flows import Members, normal_flow


def _serve(config: Path, key: str, log: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("telcochain") or str(Path(sys.executable).parent / "telcochain")
    env = dict(os.environ, TELCOCHAIN_PRIVATE_KEY=key)
    with open(log, "ab") as out:
        return subprocess.Popen([exe, "serve", "--config", str(config), "--log-level", "warning"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip


def _wait_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the gateway did not start:\n" + log.read_text()[-3000:])


def test_a_gateway_killed_mid_delivery_resumes_and_loses_nothing(
    members: Members, deployment_path: Path, dev_accounts: list[Any], tmp_path: Path
) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold_the_first(got: Received) -> int:
        if not held.is_set():
            held.set()
            release.wait(30)  # the gateway is killed while this POST is in flight
        return 200

    port = free_port()
    db = tmp_path / "index.sqlite"
    tokens = tmp_path / "tokens.yaml"
    token = TokenStore(tokens).add("tests")
    config = tmp_path / "gateway.yaml"
    hub = {"replica": "gw-a", "http_timeout": 20.0, "lease_seconds": 60.0, "poll_interval": 0.05}
    config.write_text(yaml.safe_dump({
        "rpc_url": members.op.rpc.url, "deployment": str(deployment_path), "index_db": f"sqlite:///{db}",
        "tokens_file": str(tokens), "port": port, "follow_interval": 0.1, "hub": hub,
    }))  # fmt: skip
    key = dev_accounts[0].key.hex()
    log = tmp_path / "gateway.log"
    with Receiver(hold_the_first) as rx:
        first = _serve(config, key, log)
        try:
            _wait_up(port, first, log)
            answer = httpx.post(
                f"http://127.0.0.1:{port}/resourceInventoryManagement/v4/hub",
                json={"callback": rx.url("/r")},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 201, answer.text
            for n in range(3):
                members.op.assets.register(f"ONT-KILL-{n}", "CPE")
            assert held.wait(30), "the first event never arrived"
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        members.op.assets.register("ONT-WHILE-DOWN", "CPE")  # mined while no gateway runs
        release.set()
        second = _serve(config, key, log)
        try:
            _wait_up(port, second, log)
            rx.wait_for(lambda: len({r.event["eventId"] for r in rx.received}) >= 4, timeout=60)
            time.sleep(1.0)  # let any duplicate arrive
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    ids = Counter(r.event["eventId"] for r in rx.received)
    names = {r.event["eventId"]: r.event["event"]["resource"]["id"] for r in rx.received}
    assert sorted(names.values()) == ["ONT-KILL-0", "ONT-KILL-1", "ONT-KILL-2", "ONT-WHILE-DOWN"]
    in_flight = rx.received[0].event["eventId"]
    assert names[in_flight] == "ONT-KILL-0"
    assert ids[in_flight] == 2  # the one in flight at the kill: sent again, as documented
    assert all(count == 1 for eid, count in ids.items() if eid != in_flight)
    resent = [r for r in rx.received if r.event["eventId"] == in_flight]
    assert len({r.body for r in resent}) == 1  # same bytes
    assert [r.headers[ATTEMPT_HEADER] for r in resent] == ["1", "2"]  # the cut-short attempt counted
    store = IndexStore(f"sqlite:///{db}")
    with store.engine.connect() as conn:
        statuses = conn.execute(select(s.hub_deliveries.c.status, func.count()).group_by(s.hub_deliveries.c.status))
        assert dict(statuses.all()) == {"delivered": 4}
    store.dispose()


def test_two_replicas_on_postgresql_share_the_outbox_without_double_delivery(
    members: Members, pg_store: IndexStore
) -> None:
    def slow(_: Received) -> int:
        time.sleep(0.01)
        return 200

    with Receiver(slow) as rx:
        paths = []
        for who in ("op", "customer", "acme"):
            for api in ("", *outbox.APIS):
                path = f"/{who}/{api or 'all'}"
                outbox.register(pg_store, getattr(members, who).address, api, rx.url(path), None)
                paths.append(path)
        normal_flow(members)
        follower = Follower.for_client(pg_store, members.op)
        follower.catch_up()
        settings = HubSettings(poll_interval=0.02, batch=2, concurrency=2)
        outbox.derive(pg_store)
        with pg_store.engine.connect() as conn:
            expected = conn.execute(select(func.count()).select_from(s.hub_deliveries)).scalar_one()
        url = pg_store.engine.url.render_as_string(hide_password=False)
        stores = [IndexStore(url), IndexStore(url)]  # two processes' worth of engines
        replicas = [Deliverer(st, settings, owner=f"replica-{n}").start() for n, st in enumerate(stores)]
        try:
            rx.wait_for(lambda: len(rx.received) >= expected, timeout=60)
            time.sleep(0.5)
        finally:
            for r in replicas:
                r.stop()
            for st in stores:
                st.dispose()
    assert expected > 50
    per_subscription = Counter((r.path, r.event["eventId"]) for r in rx.received)
    assert len(per_subscription) == expected
    assert max(per_subscription.values()) == 1  # no event delivered twice to a subscription
    assert all(r.delivered > 0 for r in replicas)  # both replicas took part
    assert sum(r.delivered for r in replicas) == expected
    for path in paths:  # each subscription in chain order, whichever replica sent it
        positions = [r.event["source"]["blockNumber"] * 10_000 + r.event["source"]["logIndex"] for r in rx.on(path)]
        assert positions == sorted(positions)
