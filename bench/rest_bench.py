"""REST gateway benchmark (issue 18): GET latency under load and MACD items through the gateway.

    make bench                       # bench/run.py, bench/index_bench.py, then this
    python bench/rest_bench.py       # this alone

1. Starts its own anvil, deploys the bench consortium (bench/run.py's code: free installation,
   MACD tariffs kept) and installs BENCH_REST_TWINS (4,000) Active twins for the customer.
2. Starts ``telcochain serve`` in another process (the operator's key, a fresh SQLite index
   that the gateway follows itself, the TMF688 hub running) and waits until the index has the
   chain's head.
3. **GET** ``/resourceInventoryManagement/v4/resource?limit=BENCH_REST_PAGE`` (20 twins a page,
   offsets spread over the inventory) from BENCH_REST_CLIENTS (100) concurrent keep-alive
   clients, paced open-loop at BENCH_REST_RATE (500) requests/s in all for BENCH_REST_SECONDS
   (15): latency measured from each request's scheduled time, so a slow server is not hidden
   by the clients waiting → ``rest_get_p95_ms`` (and p50, p99, the achieved rate, errors).
4. **MACD** ``POST /serviceOrdering/v4/serviceOrder``, ``modify`` items on one twin each
   (``macdKind`` move/add/change in turn), closed loop until every twin of the half has its
   change ordered; each 201 answer means the changes are mined (answered from the receipts; a
   later read on the gateway waits for its index):
   - half the twins as **one-item orders** from BENCH_REST_MACD_CLIENTS (512) clients →
     ``rest_macd_single_item_orders_per_s``;
   - the other half as **orders of BENCH_REST_MULTI_ITEMS (20) items** from
     BENCH_REST_MULTI_CLIENTS (64) clients — what an OSS/BSS bulk job sends →
     ``rest_macd_ops_per_s`` (MACD items confirmed per second, the issue's figure).
   Each with the on-chain calls the micro-batching made (``macd_calls``), the CPU per twin of
   the gateway, anvil and this load generator, and the 1-minute load average before/after;
   checked afterwards against the chain (every twin PendingChange, the customer's account
   charged the sum of the tariffs). BENCH_REST_PROFILE=file: py-spy samples the gateway
   during the one-item phase (raw collapsed stacks).

Results are merged into bench/results/latest.json (keys ``rest_*``).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import yaml  # noqa: E402
from run import GAS_LIMIT, bench_consortium, deploy, dev_accounts, merge_results  # noqa: E402
from telcochain import Client  # noqa: E402
from telcochain.assets import AssetState  # noqa: E402
from telcochain.gateway.auth import TokenStore  # noqa: E402
from telcochain.index.reports import percentile  # noqa: E402
from telcochain.node import LocalNode, NodeConfig, free_port  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.tx import hexint, probe_chain  # noqa: E402
from workload import BenchEnv, MacdWorkload, install_assets  # noqa: E402

TWINS = int(os.environ.get("BENCH_REST_TWINS", 4000))
CLIENTS = int(os.environ.get("BENCH_REST_CLIENTS", 100))
RATE = float(os.environ.get("BENCH_REST_RATE", 500))
SECONDS = float(os.environ.get("BENCH_REST_SECONDS", 15))
PAGE = int(os.environ.get("BENCH_REST_PAGE", 20))
MACD_CLIENTS = int(os.environ.get("BENCH_REST_MACD_CLIENTS", 512))
MULTI_CLIENTS = int(os.environ.get("BENCH_REST_MULTI_CLIENTS", 64))
MULTI_ITEMS = int(os.environ.get("BENCH_REST_MULTI_ITEMS", 20))
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
#: A file: py-spy samples the gateway during the MACD phase and writes its top functions there.
PROFILE = os.environ.get("BENCH_REST_PROFILE")
KINDS = ("move", "add", "change")


def pct(values: list[float], p: float) -> float:
    return round(percentile(values, p), 2)


def start_gateway(
    workdir: Path, url: str, deployment: Path, key: str, **settings: Any
) -> tuple[subprocess.Popen[bytes], str, str]:
    """``telcochain serve`` in its own process, signing with ``key`` (``settings``: more of the
    gateway config); once it answers: the process, its base URL and a bearer token."""
    port = free_port()
    config = {
        "rpc_url": url,
        "deployment": str(deployment),
        "index_db": f"sqlite:///{workdir / 'gateway-index.sqlite'}",
        "tokens_file": str(workdir / "tokens.yaml"),
        "host": "127.0.0.1",
        "port": port,
        **settings,
    }
    (workdir / "gateway.yaml").write_text(yaml.safe_dump(config))
    token = TokenStore(workdir / "tokens.yaml").add("bench")
    env = dict(os.environ, TELCOCHAIN_PRIVATE_KEY=key)
    with open(workdir / "gateway.log", "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "telcochain.cli", "serve", "--config", str(workdir / "gateway.yaml"),
             "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                return proc, base, token
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the gateway exited: {(workdir / 'gateway.log').read_text()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError("the gateway did not answer in 120 s")


def stop_gateway(gateway: subprocess.Popen[bytes] | None) -> None:
    if gateway is not None and gateway.poll() is None:
        gateway.terminate()
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gateway.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): the server's cost, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_profile(pid: int) -> subprocess.Popen[bytes] | None:
    """py-spy on the gateway (all threads, native frames off) until :func:`stop_profile`."""
    if not PROFILE:
        return None
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--output", PROFILE, "--rate", "200",
         "--threads", "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop_profile(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        spy.wait(timeout=60)


def wait_indexed(base: str, token: str, twins: int) -> float:
    """Until the gateway lists every twin (its index caught up with the set-up)."""
    t0 = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() - t0 < 600:
        r = httpx.get(f"{base}/resourceInventoryManagement/v4/resource", params={"limit": 1}, headers=headers)
        if r.status_code == 200 and int(r.headers["x-total-count"]) >= twins:
            return time.monotonic() - t0
        time.sleep(0.5)
    raise RuntimeError("the gateway's index did not catch up in 600 s")


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator shares this
    machine's cores with the server, so it must cost far less per request than the server does
    (httpx costs several times more than the gateway's own ~3 ms)."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.auth = f"Authorization: Bearer {token}\r\nHost: {host}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\n{self.auth}"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def get_load(base: str, token: str, twins: int) -> dict[str, Any]:
    total = int(RATE * SECONDS)
    interval = 1 / RATE
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()

    async def client_loop() -> None:
        http = RawHttp(base, token)
        try:
            while True:
                n, scheduled = await queue.get()
                if n < 0:
                    return
                offset = (n * 37) % max(1, twins - PAGE)
                status, _ = await http.request(
                    "GET", f"/resourceInventoryManagement/v4/resource?offset={offset}&limit={PAGE}"
                )
                latencies.append((time.perf_counter() - scheduled) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            http.close()

    workers = [asyncio.create_task(client_loop()) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for n in range(total):
        scheduled = start + n * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((n, scheduled))
    for _ in workers:
        queue.put_nowait((-1, 0.0))
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    return {
        "requests": total,
        "clients": CLIENTS,
        "offered_per_s": RATE,
        "achieved_per_s": round(total / elapsed, 1),
        "page_size": PAGE,
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "p99_ms": pct(latencies, 99),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def macd_load(base: str, token: str, twins: list[str], clients: int, per_order: int) -> dict[str, Any]:
    """``clients`` closed-loop clients, each POSTing orders of ``per_order`` ``modify`` items (one
    twin each, kinds in turn) until every twin has its change ordered; a 201 means mined."""
    todo = [list(enumerate(twins))[i : i + per_order] for i in range(0, len(twins), per_order)]
    todo.reverse()
    answers: dict[int, int] = {}
    refs: set[str] = set()
    latencies: list[float] = []
    confirmed = [0]

    async def client_loop() -> None:
        http = RawHttp(base, token)
        try:
            while todo:
                chunk = todo.pop()
                body = {"serviceOrderItem": [{"id": str(k + 1), "action": "modify", "service": {
                    "supportingResource": [{"id": twin}],
                    "serviceCharacteristic": [{"name": "macdKind", "value": KINDS[n % 3]}]}}
                    for k, (n, twin) in enumerate(chunk)]}  # fmt: skip
                t0 = time.perf_counter()
                status, payload = await http.request(
                    "POST", "/serviceOrdering/v4/serviceOrder", json.dumps(body).encode()
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                answers[status] = answers.get(status, 0) + 1
                if status == 201:
                    for item in json.loads(payload)["serviceOrderItem"]:
                        chars = item["service"]["serviceCharacteristic"]
                        refs.add(next(c["value"] for c in chars if c["name"] == "ref"))
                        confirmed[0] += len(item["service"]["supportingResource"])
        finally:
            http.close()

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    ok = confirmed[0]
    return {
        "twins": len(twins),
        "confirmed": ok,
        "clients": clients,
        "items_per_order": per_order,
        "seconds": round(elapsed, 2),
        "ops_per_s": round(ok / elapsed, 1),
        "orders_per_s": round(answers.get(201, 0) / elapsed, 1),
        "macd_calls": len(refs),
        "twins_per_call": round(ok / max(1, len(refs)), 1),
        "request_p50_ms": pct(latencies, 50),
        "request_p95_ms": pct(latencies, 95),
        "statuses": {str(k): v for k, v in sorted(answers.items())},
    }


def measured_macd(
    base: str, token: str, twins: list[str], clients: int, per_order: int, pids: dict[str, int]
) -> dict[str, Any]:
    """:func:`macd_load` with the CPU each process spent per twin (gateway, anvil, this client)."""
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    load0 = os.getloadavg()[0]
    spy = start_profile(pids["gateway"]) if per_order == 1 else None
    macd = asyncio.run(macd_load(base, token, twins, clients, per_order))
    stop_profile(spy)
    for name, pid in pids.items():
        macd[f"{name}_cpu_ms_per_twin"] = round((cpu_seconds(pid) - cpu0[name]) * 1000 / max(1, macd["confirmed"]), 2)
    macd["load_avg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]  # before, after
    return macd


def main() -> int:
    os.chdir(ROOT)
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-rest-bench-"))
    node = LocalNode(NodeConfig(data_dir=workdir / "node", port=free_port(), gas_limit=GAS_LIMIT, persist=False))
    node.start()
    url = node.config.rpc_url
    os.environ["APE_FOUNDRY_HOST"] = url
    results: dict[str, Any] = {}
    gateway: subprocess.Popen[bytes] | None = None
    ok = False
    try:
        from ape import networks
        from ape.logging import logger

        logger.set_level("WARNING")
        with networks.parse_network_choice("ethereum:local:foundry"):
            deployment = deploy(bench_consortium([], MacdWorkload.actions, workdir, MacdWorkload.configure))
        deployment_path = workdir / "deployment.json"
        deployment.save(deployment_path)
        accounts = dev_accounts(4)
        rpc = Rpc(url, timeout=120)
        chain = probe_chain(rpc)
        operator = Client(rpc, chain, deployment, accounts[0])
        vendor = Client(rpc, chain, deployment, accounts[1])
        customer = Client(rpc, chain, deployment, accounts[3])
        names = [f"GW-{n}" for n in range(TWINS)]
        t0 = time.monotonic()
        env = BenchEnv(rpc, operator, {"vendor": vendor, "customer": customer}, [accounts[0]])
        ids = [n.encode().ljust(32, b"\0") for n in names]
        for start in range(0, len(ids), 1000):  # anvil refuses bigger JSON-RPC batches
            install_assets(env, ids[start : start + 1000], customer.address or "")
        print(f"==> anvil on {url}; {TWINS} twins Active in {time.monotonic() - t0:.1f} s", flush=True)
        gateway, base, token = start_gateway(
            workdir, url, deployment_path, "0x" + accounts[0].key.hex(), follow_interval=0.05
        )
        caught = wait_indexed(base, token, TWINS)
        print(f"==> telcochain serve on {base}; its index caught up in {caught:.1f} s", flush=True)

        cpu0 = cpu_seconds(gateway.pid)
        get = asyncio.run(get_load(base, token, TWINS))
        get["server_cpu_ms_per_request"] = round((cpu_seconds(gateway.pid) - cpu0) * 1000 / get["requests"], 2)
        print(f"    GET resource list: {get}", flush=True)
        results["rest_get_p95_ms"] = get["p95_ms"]
        results["rest_get"] = get

        balance_before = operator.agreement.account(customer.address or "").balance
        pids = {"gateway": gateway.pid, "anvil": node.pid() or 0, "client": os.getpid()}
        single_twins, multi_twins = names[: TWINS // 2], names[TWINS // 2 :]
        single = measured_macd(base, token, single_twins, MACD_CLIENTS, 1, pids)
        print(f"    MACD, one-item orders: {single}", flush=True)
        multi = measured_macd(base, token, multi_twins, MULTI_CLIENTS, MULTI_ITEMS, pids)
        print(f"    MACD, {MULTI_ITEMS}-item orders: {multi}", flush=True)
        pending = sum(1 for n in names if operator.assets.get(n).state is AssetState.PENDING_CHANGE)
        terms = operator.agreement.terms()
        expected = sum(terms.tariff(KINDS[n % 3]) for n in range(len(single_twins))) + sum(
            terms.tariff(KINDS[n % 3]) for n in range(len(multi_twins))
        )
        charged = operator.agreement.account(customer.address or "").balance - balance_before
        check = {"pending_change": pending, "charged": charged, "expected_charge": expected}
        ok = pending == single["confirmed"] + multi["confirmed"] == TWINS and charged == expected
        # the headline: MACD items confirmed per second as an OSS/BSS bulk job sends them (orders
        # of MULTI_ITEMS modify items); one-item orders from 512 clients reported beside it
        results["rest_macd_ops_per_s"] = multi["ops_per_s"]
        results["rest_macd_single_item_orders_per_s"] = single["ops_per_s"]
        results["rest_macd"] = {"multi_item": multi, "single_item": single, "chain_check": check}
        results["rest_machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg": os.getloadavg(),
            "chain_head": hexint(rpc.call("eth_blockNumber")),
        }
    finally:
        stop_gateway(gateway)
        node.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    latest = merge_results(results, RESULTS)
    print(json.dumps({k: v for k, v in results.items() if not isinstance(v, dict)}, indent=2))
    print(f"merged into {latest}; chain check {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
