"""TMF688 hub benchmark (issue 18): from a block being mined to the callback receiving its event.

    make bench                                  # runs bench/run.py, bench/index_bench.py, then this
    python bench/hub_bench.py                   # this alone
    BENCH_HUB_EVENTS=100 BENCH_HUB_BLOCK_TIME=1 python bench/hub_bench.py

1. Starts its own anvil, deploys the example consortium (the real deploy code), then mines
   each transaction at once, or ``BENCH_HUB_BLOCK_TIME`` second blocks like a QBFT block period.
2. Starts ``telcochain serve`` (a separate process, SQLite index, the operator's key; the
   gateway's own index follower and hub worker, default settings) and registers one listener
   on ``/resourceInventoryManagement/v4/hub`` pointing at a local HTTP receiver.
3. Sends ``BENCH_HUB_EVENTS`` twin registrations at ``BENCH_HUB_RATE`` per second while a
   watcher polls ``eth_blockNumber`` every 5 ms and records when each block first appears
   (its *mined* time, at most 5 ms late). For every ``ResourceCreateEvent`` the receiver
   gets: latency = arrival - its block's mined time.

Results merged into bench/results/latest.json: ``hub_delivery_p95_ms`` (target ≤ 1,500 ms),
and ``hub_delivery`` (p50/p95/max, counts, settings).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from rest_bench import start_gateway, stop_gateway  # noqa: E402
from run import bench_consortium, deploy, dev_accounts, merge_results  # noqa: E402
from telcochain import Client  # noqa: E402
from telcochain.index.reports import percentile  # noqa: E402
from telcochain.node import LocalNode, NodeConfig, free_port  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.tx import hexint  # noqa: E402

EVENTS = int(os.environ.get("BENCH_HUB_EVENTS", 300))
RATE = float(os.environ.get("BENCH_HUB_RATE", 20))
BLOCK_TIME = int(os.environ["BENCH_HUB_BLOCK_TIME"]) if os.environ.get("BENCH_HUB_BLOCK_TIME") else None
TARGET_MS = 1_500
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))


class BlockWatcher(threading.Thread):
    """Records the wall time each block number is first seen."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.rpc = Rpc(url)
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        last = hexint(self.rpc.call("eth_blockNumber"))
        while not self.stop.is_set():
            head = hexint(self.rpc.call("eth_blockNumber"))
            now = time.time()
            for n in range(last + 1, head + 1):
                self.seen.setdefault(n, now)
            last = max(last, head)
            time.sleep(0.005)


class Listener:
    """The subscriber: records (event, arrival time) of every POST."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got: list[tuple[dict[str, Any], float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.got.append((json.loads(body), time.time()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> int:
    os.chdir(ROOT)
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-hub-bench-"))
    node = LocalNode(NodeConfig(data_dir=workdir / "node", port=free_port(), persist=False))
    node.start()
    url = node.config.rpc_url
    os.environ["APE_FOUNDRY_HOST"] = url
    gateway: subprocess.Popen[bytes] | None = None
    results: dict[str, Any] = {}
    try:
        from ape import networks
        from ape.logging import logger

        logger.set_level("WARNING")
        with networks.parse_network_choice("ethereum:local:foundry"):
            deployment = deploy(bench_consortium([], [], workdir, lambda _config: None))
        deployment_path = workdir / "deployment.json"
        deployment.save(deployment_path)
        if BLOCK_TIME:  # deployed instantly; from now on a block every BLOCK_TIME seconds
            Rpc(url).call("evm_setAutomine", [False])
            Rpc(url).call("evm_setIntervalMining", [max(1, round(BLOCK_TIME))])  # whole seconds
        operator = dev_accounts(1)[0]
        gateway, base, token = start_gateway(workdir, url, deployment_path, operator.key.hex())
        listener = Listener()
        answer = httpx.post(
            f"{base}/resourceInventoryManagement/v4/hub",
            json={"callback": f"http://127.0.0.1:{listener.port}/hub", "query": "eventType=ResourceCreateEvent"},
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        print(f"==> anvil on {url} (block time {BLOCK_TIME or 'instant'}); gateway on {base}; "
              f"{EVENTS} twin registrations at {RATE:g}/s", flush=True)  # fmt: skip
        watcher = BlockWatcher(url)
        watcher.start()
        client = Client.connect(url, operator, deployment=deployment_path)
        sent_by_block = threading.Semaphore(0)
        started = time.monotonic()

        def send(n: int) -> None:
            client.assets.register(f"HUB-BENCH-{n}", "CPE")
            sent_by_block.release()

        threads = []
        for n in range(EVENTS):
            pause = started + n / RATE - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if BLOCK_TIME:  # several in one block: send without waiting for each receipt
                t = threading.Thread(target=send, args=(n,))
                t.start()
                threads.append(t)
                if len(threads) >= 8:
                    threads.pop(0).join()
            else:
                send(n)
        for t in threads:
            t.join()
        deadline = time.time() + 60
        while len(listener.got) < EVENTS and time.time() < deadline:
            time.sleep(0.05)
        watcher.stop.set()
        latencies = []
        for event, arrived in listener.got:
            mined = watcher.seen.get(event["source"]["blockNumber"])
            if mined is not None:
                latencies.append((arrived - mined) * 1000)
        ids = [event["eventId"] for event, _ in listener.got]
        p95 = round(percentile(latencies, 95), 1)
        results["hub_delivery_p95_ms"] = p95
        results["hub_delivery"] = {
            "events_sent": EVENTS,
            "events_received": len(listener.got),
            "duplicates": len(ids) - len(set(ids)),
            "measured": len(latencies),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": p95,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "target_p95_ms": TARGET_MS,
            "block_time_s": BLOCK_TIME,
            "rate_per_s": RATE,
            "index": "sqlite",
            "gateway": "telcochain serve (defaults: follow_interval 0.2 s, hub poll 0.1 s)",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        }
        print(json.dumps(results["hub_delivery"], indent=2), flush=True)
    finally:
        stop_gateway(gateway)
        node.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    latest = merge_results(results, RESULTS)
    print(f"hub_delivery_p95_ms = {results['hub_delivery_p95_ms']} (target ≤ {TARGET_MS:,}); merged into {latest}")
    ok = results["hub_delivery"]["events_received"] >= EVENTS and results["hub_delivery_p95_ms"] <= TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
