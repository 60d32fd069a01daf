"""The CLI over the index, and the no-gap / no-duplicate guarantee under kill -9."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from telcochain.cli import main
from telcochain.index import Follower, IndexStore
from telcochain.index import schema as s

from tests.index.flows import Members, normal_flow
from tests.index.test_follower import chain_logs, dump


@pytest.fixture
def cli(local_node, deployment_path, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TELCOCHAIN_RPC_URL", local_node.rpc_url)
    monkeypatch.setenv("TELCOCHAIN_DEPLOYMENT", str(deployment_path))
    monkeypatch.setenv("TELCOCHAIN_INDEX_DB", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_index_then_lists_reports_and_alerts(cli, members: Members, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flow = normal_flow(members)
    summary = json.loads(cli("index", "--once", "--json"))
    assert summary["events"] > 100
    assert "; 0 mismatch(es)" in " ".join(cli("index", "verify").split())
    twins = json.loads(cli("asset", "list", "--customer", "Initech Enterprise", "--json"))
    assert sorted(t["name"] for t in twins["items"]) == sorted([flow["hq"], flow["br1"]])
    first = json.loads(cli("asset", "list", "--limit", "1", "--json"))
    second = json.loads(cli("asset", "list", "--limit", "1", "--after", first["next"], "--json"))
    assert [first["items"][0]["name"], second["items"][0]["name"]] == sorted([flow["hq"], flow["br1"]])
    pending = list(csv.DictReader(io.StringIO(cli("macd", "pending", "--csv"))))
    assert [(r["asset"], r["kind"]) for r in pending] == [(flow["br1"], "move")]
    assert "inProgress" in cli("order", "list", "--customer", "Initech Enterprise")
    assert "ONT-XGS" in cli("stock", "outstanding", "--vendor", "Acme Networks")
    from_index = json.loads(cli("invoice", "list", "--from-index", "--json"))
    from_chain = json.loads(cli("invoice", "list", "--json"))  # the chain-reading command is unchanged
    assert [i["invoice_id"] for i in from_index["items"]] == [i["id"] for i in from_chain]
    assert json.loads(cli("invoice", "list", "--overdue", "--json"))["items"] == []
    activity = json.loads(cli("member", "activity", "--json"))["items"]
    assert {a["name"] for a in activity} == {"Northwind Telecom", "Initech Enterprise", "Acme Networks"}
    assert json.loads(cli("denials", "--json"))["items"] == []
    report = json.loads(cli("report", "--json"))
    assert {r["kind"] for r in report["cycle_times"]} == {"installation", "change"}
    page = tmp_path / "report.html"
    cli("report", "--html", str(page), "--csv", str(tmp_path / "csv"), "--charts", str(tmp_path / "png"))
    assert page.read_text().count("data:image/png;base64,") >= 4
    assert (tmp_path / "csv" / "money.csv").read_text().startswith("period,customer,charged")
    assert (tmp_path / "png" / "cycle_times.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(cli("alerts", "--json")) == []


def test_verify_exits_1_on_drift(cli, members: Members) -> None:  # type: ignore[no-untyped-def]
    normal_flow(members)
    cli("index", "--once")
    store = IndexStore(os.environ["TELCOCHAIN_INDEX_DB"])
    with store.engine.begin() as db:
        db.execute(s.invoices.update().values(status=4))
    out = cli("index", "verify", code=1)
    assert "invoices 1: status indexed 4, on chain 3" in out


@pytest.mark.slow
def test_a_killed_indexer_resumes_without_gap_or_duplicate(
    members: Members,
    local_node,
    deployment_path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(8):  # many small blocks: a kill lands in the middle of the work
        normal_flow(members, f"K{n}")
    url = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    env = dict(os.environ, TELCOCHAIN_RPC_URL=local_node.rpc_url, TELCOCHAIN_DEPLOYMENT=str(deployment_path))
    command = [sys.executable, "-m", "telcochain.cli", "index", "--db", url, "--max-blocks", "1", "--poll", "0.05"]
    rng = random.Random(17)
    head = int(members.op.rpc.call("eth_blockNumber"), 16)
    last_target = head - 50  # the kills land before the last 50 blocks: work is always left
    store = IndexStore(url)
    probe = Follower.for_client(store, members.op)
    kills = 0
    for round_ in range(4):  # kill -9 at random points of the work, each run resuming the last
        done, _ = probe.checkpoint()
        target = rng.randint(done + 5, done + (last_target - done) // (4 - round_))
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while probe.checkpoint()[0] < target and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.02))  # somewhere inside the next transaction, or between two
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    before, _ = Follower.for_client(store, members.op).checkpoint()
    Follower.for_client(store, members.op).catch_up()
    after, _ = Follower.for_client(store, members.op).checkpoint()
    with store.engine.connect() as db:
        keys = db.execute(select(s.events.c.block_number, s.events.c.log_index)).all()
        calls = db.execute(select(func.count()).select_from(s.calls)).scalar()
    assert kills == 4 and 0 < before < after  # it was killed while it had work done and work left
    assert len(keys) == len(set(keys))
    assert set(keys) == chain_logs(members)
    clean = IndexStore(f"sqlite:///{tmp_path / 'clean.sqlite'}")
    Follower.for_client(clean, members.op).catch_up()
    assert dump(store) == dump(clean)
    assert calls == len(dump(clean)["calls"])
