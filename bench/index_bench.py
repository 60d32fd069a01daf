"""Index benchmark (issue 17): catch-up speed, lag under load, query latency.

    make bench                                  # runs bench/run.py, then this
    python bench/index_bench.py                 # this alone
    BENCH_INDEX_EVENTS=20000 python bench/index_bench.py   # a smaller chain to iterate

1. Starts its own anvil (1-second blocks once loaded, like a QBFT block period), deploys the
   bench consortium (bench/run.py's code) and prepares BENCH_INDEX_ASSETS Active twins.
2. **Lag under sustained load**, ``telcochain index`` following in another process, head -
   checkpoint sampled every 0.25 s: BENCH_INDEX_LAG_SECONDS (20) of the MACD workload one
   operation per transaction (bench/run.py's ``sdk_single`` path), then the module's bulk
   calls (orderChanges / confirmChanges of 100 twins, ``sdk_bulk``) until the chain holds
   BENCH_INDEX_EVENTS events → ``index_lag_blocks`` (the max over both),
   ``index_lag_blocks_single``, ``index_lag_blocks_bulk``.
3. **Catch-up from block 0**: a fresh SQLite file, then a fresh PostgreSQL database (a
   throwaway cluster, Debian's binaries; skipped when absent) → ``index_events_per_s``.
   Each is verified against the chain (``index verify``: 0 mismatches expected).
4. **Queries over ≥ 100,000 twins**: BENCH_QUERY_TWINS synthetic twins (20 customers, 10
   vendors, a tenth with a pending MACD change) projected through the same Projector into
   fresh databases; ``asset list --customer X`` and ``macd pending`` (first page of 50) run
   200 times each → ``query_p95_ms``.

Results are merged into bench/results/latest.json (keys ``index_*`` and ``query_*``).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from run import GAS_LIMIT, Phase, bench_consortium, deploy, dev_accounts, merge_results, run_pipeline  # noqa: E402
from telcochain import Client  # noqa: E402
from telcochain.index import Follower, IndexStore  # noqa: E402
from telcochain.index.projections import Ev, Projector  # noqa: E402
from telcochain.index.queries import Queries  # noqa: E402
from telcochain.index.verify import verify  # noqa: E402
from telcochain.node import LocalNode, NodeConfig, free_port  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.throughput import Pipeline  # noqa: E402
from telcochain.tx import hexint, probe_chain  # noqa: E402
from workload import ACTION_EXECUTED, BenchEnv, MacdWorkload  # noqa: E402

EVENTS = int(os.environ.get("BENCH_INDEX_EVENTS", 210_000))
ASSETS = int(os.environ.get("BENCH_INDEX_ASSETS", 1600))
TWINS = int(os.environ.get("BENCH_QUERY_TWINS", 100_000))
SINGLE_ASSETS = 400  # + ASSETS: at most ~2,000 twins per set-up batch (anvil refuses bigger JSON-RPC batches)
LAG_SECONDS = float(os.environ.get("BENCH_INDEX_LAG_SECONDS", 20))
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))


def count_events(rpc: Rpc, addresses: list[str], head: int) -> int:
    total = 0
    for start in range(0, head + 1, 1000):
        logs = rpc.call(
            "eth_getLogs", [{"address": addresses, "fromBlock": hex(start), "toBlock": hex(min(head, start + 999))}]
        )
        total += len(logs)
    return total


# -- PostgreSQL ---------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway cluster on a free port (None when the binaries are absent)."""
    import glob

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    initdb = bins[0] if bins else shutil.which("initdb")
    if not initdb:
        yield None
        return
    bindir = Path(initdb).parent
    root = Path(tempfile.mkdtemp(prefix="telcochain-pg-bench-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    port = free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(root / "data"),
         "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
         "-l", str(root / "log"), "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def fresh_pg(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + f"/{name}"


# -- phases -------------------------------------------------------------------------------------


def catch_up(url: str, client: Client) -> dict[str, Any]:
    store = IndexStore(url)
    follower = Follower.for_client(store, client)
    t0 = time.perf_counter()
    events = follower.catch_up()
    seconds = time.perf_counter() - t0
    report = verify(follower)
    store.dispose()
    return {
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds, 1),
        "verify_mismatches": len(report.mismatches),
    }


def synthetic_twins(url: str, n: int) -> dict[str, Any]:
    """``n`` twins through the Projector: registered, installed for one of 20 customers, a vendor
    of 10; a tenth with a MACD change pending."""
    store = IndexStore(url)
    customers = [f"0x{c:040x}" for c in range(1, 21)]
    vendors = [f"0x{v:040x}" for v in range(101, 111)]
    zero = "0x" + "00" * 32
    rng = random.Random(7)
    t0 = time.perf_counter()
    block = 1
    with store.engine.begin() as db:
        projector = Projector(db)
        for i in range(n):
            asset = "0x" + f"{i:064x}"
            customer, vendor = rng.choice(customers), rng.choice(vendors)
            args = {"assetId": asset, "ref": zero, "actor": vendor, "kind": "0x" + b"ONT".ljust(12, b"\0").hex(),
                    "serialHash": zero, "rootId": zero, "orderId": zero, "detailsHash": zero, "version": 1,
                    "head": "0x" + "01" * 24}  # fmt: skip
            projector.apply(Ev(block, 0, "0x", 1_700_000_000 + block, "AssetRegistry", "AssetRegistered", args))
            projector.apply(Ev(block, 1, "0x", 1_700_000_000 + block, "AssetRegistry", "AssetPartiesChanged",
                               {"assetId": asset, "ref": zero, "customer": customer, "vendor": vendor}))  # fmt: skip
            projector.apply(Ev(block, 2, "0x", 1_700_000_000 + block, "AssetRegistry", "AssetTransitioned",
                               {**args, "from": 1, "to": 4, "version": 2}))  # fmt: skip
            if i % 10 == 0:
                projector.apply(Ev(block, 3, "0x", 1_700_000_000 + block, "OperatorAgreement", "ChangeOrdered",
                                   {"assetId": asset, "customer": customer, "ref": zero, "requester": customer,
                                    "kind": 2, "charge": 25, "balance": 25}))  # fmt: skip
            block += 1
            if i % 20_000 == 19_999:
                projector.flush()
        projector.flush()
    load_s = time.perf_counter() - t0
    q = Queries(store)
    q.member_names = lambda: {}  # type: ignore[method-assign]  # synthetic parties are not members
    q.member = lambda x: x  # type: ignore[method-assign]
    timings: dict[str, list[float]] = {"asset_list_customer": [], "macd_pending": []}
    for _ in range(200):
        customer = rng.choice(customers)
        t = time.perf_counter()
        page = q.assets(customer=customer, limit=50)
        timings["asset_list_customer"].append((time.perf_counter() - t) * 1000)
        assert len(page.items) == 50
        t = time.perf_counter()
        pending = q.macd_pending(limit=50)
        timings["macd_pending"].append((time.perf_counter() - t) * 1000)
        assert len(pending.items) == 50
    store.dispose()

    def p95(values: list[float]) -> float:
        return round(sorted(values)[int(0.95 * len(values)) - 1], 2)

    return {
        "twins": n,
        "load_s": round(load_s, 1),
        "asset_list_customer_p95_ms": p95(timings["asset_list_customer"]),
        "asset_list_customer_p50_ms": round(statistics.median(timings["asset_list_customer"]), 2),
        "macd_pending_p95_ms": p95(timings["macd_pending"]),
        "macd_pending_p50_ms": round(statistics.median(timings["macd_pending"]), 2),
    }


def load_with_live_index(url: str, deployment_path: Path, workdir: Path) -> dict[str, Any]:
    """Sustained MACD load until the chain holds EVENTS events, `telcochain index` following."""
    accounts = dev_accounts(10)
    rpc = Rpc(url, timeout=120)
    workload = MacdWorkload({"sdk_single": SINGLE_ASSETS, "sdk_bulk": ASSETS}, bulk_size=100)
    from telcochain.deployment import Deployment

    deployment = Deployment.load(deployment_path)
    chain = probe_chain(rpc)
    operator = Client(rpc, chain, deployment, accounts[0])
    vendor = Client(rpc, chain, deployment, accounts[1])
    customer = Client(rpc, chain, deployment, accounts[3])
    lanes = [("sdk_single", 0), ("sdk_bulk", 0)]
    t0 = time.monotonic()
    workload.prepare(BenchEnv(rpc, operator, {"vendor": vendor, "customer": customer}, [accounts[0]]), lanes)
    print(f"==> {ASSETS + SINGLE_ASSETS} twins Active in {time.monotonic() - t0:.1f} s", flush=True)
    addresses = [c.address for c in deployment.contracts.values()]
    live_db = f"sqlite:///{workdir / 'live.sqlite'}"
    env = dict(os.environ, TELCOCHAIN_RPC_URL=url, TELCOCHAIN_DEPLOYMENT=str(deployment_path))
    follower = subprocess.Popen(
        [sys.executable, "-m", "telcochain.cli", "index", "--db", live_db, "--poll", "0.2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    probe = IndexStore(live_db)

    def indexed() -> int:
        with probe.engine.connect() as db:
            return int(probe.meta(db).get("checkpoint_block", 0))

    def drain(timeout: float) -> None:
        head, deadline = hexint(rpc.call("eth_blockNumber")), time.monotonic() + timeout
        while indexed() < head and time.monotonic() < deadline:
            time.sleep(0.2)

    constitution = deployment.address("Constitution")
    reading = {"receipts": "logs", "success_logs": {"address": constitution, "topics": [ACTION_EXECUTED]}}

    def sustained(kind: str, seconds: float) -> list[int]:
        """``seconds`` of MACD load (one operation per transaction, or the module's bulk calls),
        sampling head - checkpoint of the live index every 0.25 s."""
        lags: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                head = hexint(rpc.call("eth_blockNumber"))
                lags.append(head - indexed())
                time.sleep(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            if kind == "single":
                with Pipeline(rpc, [accounts[0]], chain, **reading) as pipe:  # type: ignore[arg-type]
                    run_pipeline(Phase("sdk_single", 1), workload, pipe, constitution, 1, seconds, 4000)
            else:
                with Pipeline(rpc, [accounts[0]], chain, send_batch=50, **reading) as pipe:  # type: ignore[arg-type]
                    run_pipeline(Phase("sdk_bulk", 100, "bulk"), workload, pipe, constitution, 1, seconds, 40_000)
        finally:
            stop.set()
            sampler.join()
        return lags

    def summary(lags: list[int]) -> dict[str, int]:
        ordered = sorted(lags) or [0]
        return {"max": ordered[-1], "p95": ordered[max(0, int(0.95 * len(ordered)) - 1)], "samples": len(lags)}

    result: dict[str, Any] = {}
    try:
        drain(120)  # the follower has caught up with the set-up before the clock starts
        rpc.call("evm_setAutomine", [False])
        rpc.call("evm_setIntervalMining", [1])
        print(f"==> {LAG_SECONDS:g} s of single-operation MACD load, `telcochain index` following", flush=True)
        t = time.monotonic()
        single = sustained("single", LAG_SECONDS)
        single_s = time.monotonic() - t
        single_events = count_events(rpc, addresses, hexint(rpc.call("eth_blockNumber")))
        drain(120)
        result["lag_single"] = summary(single)
        print(f"    lag {result['lag_single']}", flush=True)
        events = single_events
        bulk: list[int] = []
        t = time.monotonic()
        while events < EVENTS:
            print("==> module bulk MACD load (100 twins per call), `telcochain index` following", flush=True)
            bulk += sustained("bulk", max(5.0, min(30.0, (EVENTS - events) / 15_000)))
            events = count_events(rpc, addresses, hexint(rpc.call("eth_blockNumber")))
            print(f"    the chain holds {events:,} events", flush=True)
        bulk_s = time.monotonic() - t
        drain(300)
        result["lag_bulk"] = summary(bulk)
        print(f"    lag {result['lag_bulk']}", flush=True)
    finally:
        follower.terminate()
        follower.wait(timeout=30)
        rpc.call("evm_setIntervalMining", [0])
        rpc.call("evm_setAutomine", [True])
    result.update(
        events=events,
        blocks=hexint(rpc.call("eth_blockNumber")),
        single_load_seconds=round(single_s, 1),
        bulk_load_seconds=round(bulk_s, 1),
    )
    return result


def main() -> int:
    os.chdir(ROOT)
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-index-bench-"))
    node = LocalNode(NodeConfig(data_dir=workdir / "node", port=free_port(), gas_limit=GAS_LIMIT, persist=False))
    node.start()
    url = node.config.rpc_url
    os.environ["APE_FOUNDRY_HOST"] = url
    results: dict[str, Any] = {}
    try:
        from ape import networks
        from ape.logging import logger

        logger.set_level("WARNING")
        with networks.parse_network_choice("ethereum:local:foundry"):
            deployment = deploy(bench_consortium([], MacdWorkload.actions, workdir, MacdWorkload.configure))
        deployment_path = workdir / "deployment.json"
        deployment.save(deployment_path)
        print(f"==> anvil on {url}; deployed; loading the chain to {EVENTS:,} events", flush=True)
        live = load_with_live_index(url, deployment_path, workdir)
        results["index_lag_blocks"] = max(
            live["lag_single"]["max"], live["lag_bulk"]["max"] if live.get("lag_bulk") else 0
        )
        results["index_lag_blocks_single"] = live["lag_single"]["max"]
        results["index_lag_blocks_bulk"] = live["lag_bulk"]["max"] if live.get("lag_bulk") else None
        results["index_chain"] = live
        client = Client.connect(url, deployment=deployment_path)
        print("==> catch-up from block 0 into SQLite", flush=True)
        lite = catch_up(f"sqlite:///{workdir / 'catchup.sqlite'}", client)
        results["index_events_per_s"] = lite["events_per_s"]
        results["index_sqlite"] = lite
        print(f"    {lite}", flush=True)
        with postgres() as pg:
            if pg is None:
                results["index_postgresql"] = {"skipped": "PostgreSQL binaries not installed"}
            else:
                print("==> catch-up from block 0 into PostgreSQL", flush=True)
                results["index_postgresql"] = catch_up(fresh_pg(pg, "catchup"), client)
                results["index_events_per_s_postgresql"] = results["index_postgresql"]["events_per_s"]
                print(f"    {results['index_postgresql']}", flush=True)
                print(f"==> queries over {TWINS:,} twins (PostgreSQL)", flush=True)
                results["query_postgresql"] = synthetic_twins(fresh_pg(pg, "queries"), TWINS)
                print(f"    {results['query_postgresql']}", flush=True)
        print(f"==> queries over {TWINS:,} twins (SQLite)", flush=True)
        results["query_sqlite"] = synthetic_twins(f"sqlite:///{workdir / 'queries.sqlite'}", TWINS)
        print(f"    {results['query_sqlite']}", flush=True)
        q = [results["query_sqlite"]] + ([results["query_postgresql"]] if "query_postgresql" in results else [])
        results["query_p95_ms"] = {
            "asset_list_customer": max(x["asset_list_customer_p95_ms"] for x in q),
            "macd_pending": max(x["macd_pending_p95_ms"] for x in q),
        }
        results["index_machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg": os.getloadavg(),
        }
    finally:
        node.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    latest = merge_results(results, RESULTS)
    print(json.dumps({k: v for k, v in results.items() if not isinstance(v, dict) or k == "query_p95_ms"}, indent=2))
    print(f"merged into {latest}")
    return 0 if lite["verify_mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
