"""Throughput benchmark (issue 8): the SDK pipeline, SDK batches, and the naive paths, same run.

    make bench                                   # or: python bench/run.py
    BENCH_SECONDS=10 BENCH_ASSETS=400 python bench/run.py
    BENCH_WORKLOAD=assets python bench/run.py    # the earlier stand-in (AssetRegistry transitions)

The operation (default ``BENCH_WORKLOAD=macd``, bench/workload.py ``MacdWorkload``): one MACD
change request with its charge — OperatorAgreement ``orderChange`` (the tariff accrued on the
customer's running account) — or its ``confirmChange``, alternating per twin.

1. Starts its own anvil (berlin, gas price 0, a large block gas limit), automine at first.
2. Deploys the consortium with the real deploy code (ape, in this process) from a copy of
   consortium.yaml the workload adjusts (MACD: free installation, MACD tariffs kept). Senders:
   the workload's ``sender_accounts`` (MACD: the operator, dev account 0 — confirmations are
   operator-only), else extra operator members (dev accounts 4..) granted the workload's actions.
3. Prepares the workload (MACD: register N twins, requestInstallation for the customer,
   deliver, confirmInstallation: Active and served by the agreement).
4. Baselines, each for ``BENCH_BASELINE_SECONDS``: ape ``contract.executeAction(...,
   sender=...)`` in a loop and web3.py ``functions.executeAction(...).transact()`` +
   ``wait_for_transaction_receipt`` — in automine (their best case) and, after the switch to
   interval mining, on the 1-second-block chain the pipeline uses. Same operation.
5. Switches to interval mining (``evm_setIntervalMining 1``: a QBFT-like block period) and
   drives sustained load for ``BENCH_SECONDS`` each through the SDK :class:`Pipeline`: one
   operation per transaction (``executeAction``); ``BENCH_BATCH`` single-operation calls per
   ``executeBatch`` (the generic batching path); and, when the workload has one, the module's
   own bulk call (MACD: ``orderChanges``/``confirmChanges`` of ``BENCH_BATCH`` twins, one
   executeAction) — ``batched_ops_per_s`` is the better of the two, named in ``batched_path``.
6. Checks every operation on chain exactly once (MACD: ChangeOrdered with the right charge /
   ChangeConfirmed per ref, ChangesOrdered / ChangesConfirmed per (ref, asset); ActionExecuted
   per ref agreeing; the running account's balance = the charges), prints a table, writes
   ``bench/results/latest.json`` and ``latest.png`` (ops/s and latency over time).

Environment: BENCH_SECONDS (60), BENCH_WORKLOAD (macd | assets), BENCH_ASSETS (2000),
BENCH_SENDERS (4; assets workload only), BENCH_BATCH (100), BENCH_BASELINE_SECONDS
(min(10, BENCH_SECONDS)), BENCH_WINDOW (in-flight operations, single: 4000),
BENCH_BATCH_WINDOW (in-flight operations, batched and bulk: 40000), BENCH_SEND_THREADS (2),
BENCH_SIGN_PROCESSES (0), BENCH_RECEIPTS (default: "logs"; or block / tx), BENCH_RESULTS_DIR
(bench/results).
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import keccak  # noqa: E402
from telcochain import Client  # noqa: E402
from telcochain.batch import batch_gas, encode_execute_action, encode_execute_batch  # noqa: E402
from telcochain.node import DEV_MNEMONIC, LocalNode, NodeConfig, free_port  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.throughput import Operation, OpOutcome, OpStatus, Pipeline  # noqa: E402
from telcochain.tx import hexint, probe_chain  # noqa: E402
from workload import ACTION_EXECUTED, AssetChangeWorkload, BenchEnv, Call, MacdWorkload, Workload  # noqa: E402

GAS_LIMIT = 100_000_000_000  # per block: never the limit here (anvil executes what it is given)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Config:
    seconds: float = 60
    assets: int = 2000
    senders: int = 4
    batch: int = 100
    baseline_seconds: float = 10
    window: int = 4000
    send_threads: int = 2
    batch_window: int = 40_000
    sign_processes: int = 0
    workload: str = "macd"
    results_dir: Path = ROOT / "bench" / "results"

    @classmethod
    def from_env(cls) -> Config:
        seconds = float(os.environ.get("BENCH_SECONDS", 60))
        return cls(
            seconds=seconds,
            assets=_env_int("BENCH_ASSETS", 2000),
            senders=_env_int("BENCH_SENDERS", 4),
            batch=_env_int("BENCH_BATCH", 100),
            baseline_seconds=float(os.environ.get("BENCH_BASELINE_SECONDS", min(10.0, seconds))),
            window=_env_int("BENCH_WINDOW", 4000),
            send_threads=_env_int("BENCH_SEND_THREADS", 2),
            batch_window=_env_int("BENCH_BATCH_WINDOW", 40_000),
            sign_processes=_env_int("BENCH_SIGN_PROCESSES", 0),
            workload=os.environ.get("BENCH_WORKLOAD", "macd"),
            results_dir=Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results")),
        )


@dataclass
class OpRecord:
    """One business operation as the benchmark saw it."""

    ref: bytes  # its key on chain: the ref, or ref + assetId for one asset of a module bulk call
    submitted: float
    confirmed: float | None = None
    status: str = "pending"
    gas: float = 0.0  # its share of its transaction's gas


@dataclass
class Phase:
    name: str
    ops_per_tx: int
    kind: str = "single"  # single (executeAction) | batch (executeBatch of calls) | bulk (a module's bulk call)
    records: list[OpRecord] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    from_block: int = 0
    to_block: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def confirmed(self) -> list[OpRecord]:
        return [r for r in self.records if r.status == "confirmed"]

    @property
    def ops_per_s(self) -> float:
        done = self.confirmed
        if not done:
            return 0.0
        last = max(r.confirmed or 0 for r in done)
        return len(done) / max(last - self.started, 1e-9)

    def latency_ms(self, p: float) -> float:
        values = sorted((r.confirmed - r.submitted) * 1000 for r in self.confirmed if r.confirmed)
        if not values:
            return 0.0
        return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]

    @property
    def gas_per_op(self) -> float:
        measured = [r.gas for r in self.confirmed if r.gas]  # receipts="logs" reads gas for a sample
        return statistics.fmean(measured) if measured else 0.0


def dev_accounts(n: int = 10) -> list[LocalAccount]:
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)]


# -- deployment ---------------------------------------------------------------------------------


def bench_consortium(
    senders: Sequence[LocalAccount], actions: Sequence[str], folder: Path, configure: Callable[[dict[str, Any]], None]
) -> Path:
    """consortium.yaml plus the sender accounts as operator members holding ``actions``
    (none when the workload sends from existing members), adjusted by the workload."""
    config = yaml.safe_load((ROOT / "consortium.yaml").read_text())
    # the bench registers twins with their serials: bindSerial without the vote (not what is measured),
    # so that the registry accepts a serial at registration
    config["actions"]["bindSerial"] = {"module": "AssetRegistry", "grants": "all"}
    configure(config)
    operator = next(m["name"] for m in config["members"] if m.get("role") == "operator")
    names = []
    for n, account in enumerate(senders):
        name = f"Bench Sender {n}"
        names.append(name)
        key = "0x" + keccak(text=name).hex()
        config["members"].append({"name": name, "role": "operator", "address": account.address, "trust_key": key})
    for action in actions:
        entry = config["actions"][action]
        grants = entry.get("grants", [])
        if grants != "all":
            entry["grants"] = [*(grants if isinstance(grants, list) else [operator]), *names]
    path = folder / "bench-consortium.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def deploy(consortium: Path) -> Any:
    """The real deploy code (scripts/deploy.py) through ape, in this process."""
    import deploy as deploy_script  # scripts/deploy.py
    from ape import accounts
    from telcochain.consortium import load_consortium

    return deploy_script.deploy(load_consortium(consortium), accounts.test_accounts[0])


# -- baselines ---------------------------------------------------------------------------------


def run_loop(phase: Phase, workload: Workload, seconds: float, send_one: Callable[[Call], None]) -> Phase:
    """One operation at a time, each waiting for its receipt, for ``seconds``."""
    lane = (phase.name, 0)
    phase.started = time.monotonic()
    deadline = phase.started + seconds
    while time.monotonic() < deadline:
        call = workload.next_call(lane)
        record = OpRecord(call.ref, time.monotonic())
        phase.records.append(record)
        try:
            send_one(call)
            record.status = "confirmed"
        except Exception as exc:  # a naive path's failure is a result, not a crash
            record.status = "failed"
            phase.notes.setdefault("errors", []).append(repr(exc)[:200])
        record.confirmed = time.monotonic()
    phase.ended = time.monotonic()
    return phase


def ape_sender(constitution_address: str) -> Callable[[Call], None]:
    from ape import accounts, project

    constitution = project.Constitution.at(constitution_address)
    account = accounts.test_accounts[0]

    def send(call: Call) -> None:
        receipt = constitution.executeAction(call.action, call.params, call.ref, sender=account)
        if receipt.failed:
            raise RuntimeError("reverted")

    return send


def web3_sender(url: str, constitution_address: str, account: str) -> Callable[[Call], None]:
    from telcochain.abi import load_abi
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url))
    contract = w3.eth.contract(address=constitution_address, abi=load_abi("Constitution"))

    def send(call: Call) -> None:
        tx = contract.functions.executeAction(call.action, call.params, call.ref).transact(
            {"from": account, "gasPrice": 0}
        )
        receipt = w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.05)
        if receipt["status"] != 1:
            raise RuntimeError("reverted")

    return send


# -- the SDK pipeline ------------------------------------------------------------------------------


def run_pipeline(
    phase: Phase,
    workload: Workload,
    pipe: Pipeline,
    to: str,
    senders: int,
    seconds: float,
    window_ops: int,
) -> Phase:
    """Sustained load: keep ``window_ops`` operations in flight for ``seconds``, then drain."""
    per_tx = phase.ops_per_tx
    window = max(1, window_ops // per_tx)
    lanes = itertools.cycle(range(senders))
    chunk = max(1, min(200, 2000 // per_tx))

    def make(n: int) -> list[Operation]:
        ops = []
        for _ in range(n):
            sender = next(lanes)
            lane = (phase.name, sender)
            if phase.kind == "bulk":  # one module call carrying per_tx operations
                calls = [workload.next_bulk_call(lane, per_tx)]
            else:
                calls = [workload.next_call(lane) for _ in range(per_tx)]
            if len(calls) == 1:
                data = encode_execute_action(calls[0].action, calls[0].params, calls[0].ref)
            else:
                data = encode_execute_batch([(c.action, c.params, c.ref) for c in calls])
            ops.append(Operation(to, data, gas, sender=sender, tag=[k for c in calls for k in c.op_keys]))
        return ops

    # the gas limit: what the first transaction needs, with headroom (gas is free; the limit only caps)
    gas = 0
    first = make(1)
    gas = batch_gas(pipe.rpc, pipe.addresses[0], to, "0x" + bytes(first[0].data).hex(), headroom=1.3) + 20_000
    first = [Operation(to, first[0].data, gas, sender=0, tag=first[0].tag)]
    phase.notes["gas_limit_per_tx"] = gas

    outcomes: list[OpOutcome] = []
    phase.from_block = hexint(pipe.rpc.call("eth_blockNumber")) + 1
    phase.started = time.monotonic()
    deadline = phase.started + seconds
    outcomes += pipe.submit(first)
    while time.monotonic() < deadline:
        room = window - pipe.in_flight
        if room <= 0:
            time.sleep(0.005)
            continue
        outcomes += pipe.submit(make(min(room, chunk)))
    phase.ended = time.monotonic()
    pipe.drain(timeout=180)
    phase.to_block = hexint(pipe.rpc.call("eth_blockNumber"))
    for o in outcomes:
        refs: list[bytes] = o.tag
        status = {OpStatus.CONFIRMED: "confirmed", OpStatus.REVERTED: "reverted"}.get(o.status, o.status.value)
        for ref in refs:
            phase.records.append(OpRecord(ref, o.submitted_at, o.confirmed_at or None, status, o.gas_used / len(refs)))
    phase.notes["transactions"] = len(outcomes)
    phase.notes["rebroadcasts"] = pipe.stats.rebroadcasts
    phase.notes["resyncs"] = pipe.stats.resyncs
    phase.notes["sign_s"] = round(pipe.stats.sign_seconds, 2)
    phase.notes["send_s"] = round(pipe.stats.send_seconds, 2)
    phase.notes["collect_s"] = round(pipe.stats.collect_seconds, 2)
    blocks = Counter(o.block_number for o in outcomes if o.block_number)
    phase.notes["blocks"] = len(blocks)
    phase.notes["ops_rebroadcast"] = sum(1 for o in outcomes if o.rebroadcasts)
    phase.notes["ops_resigned"] = sum(1 for o in outcomes if o.resigned)
    phase.notes["max_latency_ms"] = round(1000 * max((o.latency or 0) for o in outcomes), 1) if outcomes else 0
    phase.notes["max_txs_per_block"] = max(blocks.values(), default=0)
    return phase


# -- results ------------------------------------------------------------------------------------


def verify(
    phases: Sequence[Phase], workload: Workload, rpc: Rpc, constitution: str, first_block: int
) -> dict[str, dict[str, int]]:
    """Every operation on chain exactly once (by its ref), over the benchmark's blocks.

    An operation not found on chain is marked lost (also on the baselines, whose client may
    have thought otherwise). Totals: the SDK phases, and the baselines apart.
    """
    last = hexint(rpc.call("eth_blockNumber"))
    found = workload.count_on_chain(rpc, constitution, first_block, last)
    sdk: Counter[str] = Counter()
    baselines: Counter[str] = Counter()
    for phase in phases:
        totals = sdk if phase.name.startswith("sdk") else baselines
        lost = dup = 0
        for record in phase.records:
            if found[record.ref] == 0:
                lost += 1
                record.status = "lost"
            elif found[record.ref] > 1:
                dup += 1
        phase.notes["ops_lost"] = lost
        phase.notes["ops_duplicated"] = dup
        totals["ops_sent"] += len(phase.records)
        totals["ops_confirmed"] += len(phase.records) - lost - dup
        totals["ops_lost"] += lost
        totals["ops_duplicated"] += dup
    known = {r.ref for p in phases for r in p.records}
    sdk["ops_unexpected"] = sum(n for ref, n in found.items() if ref not in known and ref.startswith(b"TB"))
    return {"sdk": dict(sdk), "baselines": dict(baselines)}


def series(phase: Phase) -> tuple[list[float], list[int], list[float], list[float]]:
    """Per second since the phase started: confirmed ops, p50 and p95 latency (ms) of those."""
    buckets: dict[int, list[float]] = {}
    for r in phase.confirmed:
        if r.confirmed:
            buckets.setdefault(int(r.confirmed - phase.started), []).append((r.confirmed - r.submitted) * 1000)
    xs = list(range(max(buckets) + 1)) if buckets else []
    counts = [len(buckets.get(x, ())) for x in xs]
    p50 = [sorted(buckets[x])[len(buckets[x]) // 2] if x in buckets else float("nan") for x in xs]
    p95 = [
        sorted(buckets[x])[min(len(buckets[x]) - 1, int(0.95 * len(buckets[x])))] if x in buckets else float("nan")
        for x in xs
    ]
    return [float(x) for x in xs], counts, p50, p95


def chart(phases: Sequence[Phase], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for phase in phases:
        xs, counts, p50, p95 = series(phase)
        top.step(xs, counts, where="post", label=f"{phase.name} ({phase.ops_per_s:,.0f} ops/s overall)")
        bottom.plot(xs, p50, marker=".", label=f"{phase.name} p50")
        bottom.plot(xs, p95, linestyle="--", label=f"{phase.name} p95")
    top.set_ylabel("operations confirmed / s")
    top.set_title("telcochain SDK throughput (anvil, 1 s blocks)")
    top.legend()
    top.grid(alpha=0.3)
    bottom.set_ylabel("latency, submit → receipt (ms)")
    bottom.set_xlabel("seconds since the phase started")
    bottom.legend()
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def make_workload(cfg: Config) -> Workload:
    """BENCH_WORKLOAD: ``macd`` (default; issue 8's operation) or ``assets`` (the stand-in)."""
    lanes_of = 1 if cfg.workload == "macd" else cfg.senders
    per_lane = max(4, cfg.assets // 2 // lanes_of)
    sizes = {"ape": 8, "web3": 8, "ape_interval": 4, "web3_interval": 4, "sdk_single": per_lane}
    if cfg.workload == "macd":
        # executeBatch of single calls and the module's bulk call: a quarter of the twins each,
        # the bulk lane in whole groups of BENCH_BATCH
        sizes["sdk_batched"] = max(4, cfg.assets // 4)
        sizes["sdk_bulk"] = cfg.batch * max(1, cfg.assets // 4 // cfg.batch)
        return MacdWorkload(sizes, bulk_size=cfg.batch)
    if cfg.workload == "assets":
        return AssetChangeWorkload({**sizes, "sdk_batched": per_lane})
    raise SystemExit(f"BENCH_WORKLOAD: macd or assets, not {cfg.workload!r}")


def main() -> int:
    cfg = Config.from_env()
    os.chdir(ROOT)  # ape finds the project from the working directory
    accounts = dev_accounts(10)
    workload = make_workload(cfg)
    if workload.sender_accounts is not None:  # e.g. MACD: the operator (confirmations are operator-only)
        senders = [accounts[i] for i in workload.sender_accounts]
        cfg.senders = len(senders)
    else:
        senders = accounts[4 : 4 + cfg.senders]
        if not 1 <= cfg.senders <= 6:
            raise SystemExit("BENCH_SENDERS: 1 to 6 (dev accounts 4..9)")
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-bench-"))
    node = LocalNode(NodeConfig(data_dir=workdir, port=free_port(), gas_limit=GAS_LIMIT, persist=False))
    t_start = time.monotonic()
    node.start()
    url = node.config.rpc_url
    os.environ["APE_FOUNDRY_HOST"] = url
    try:
        from ape import networks
        from ape.logging import logger

        logger.set_level("WARNING")
        with networks.parse_network_choice("ethereum:local:foundry"):
            return _bench(cfg, url, accounts, senders, workload, workdir, t_start)
    finally:
        node.stop()


def _bench(
    cfg: Config,
    url: str,
    accounts: list[LocalAccount],
    senders: list[LocalAccount],
    workload: Workload,
    workdir: Path,
    t_start: float,
) -> int:
    rpc = Rpc(url, timeout=120)
    bulk = "sdk_bulk" in workload.assets_per_lane  # type: ignore[attr-defined]
    print(f"==> anvil on {url}; deploying (ape) ...", flush=True)
    own_senders = senders if workload.sender_accounts is None else []
    deployment = deploy(bench_consortium(own_senders, workload.actions, workdir, workload.configure))
    # Client(...) rather than Client.connect(): the bench deploys what .build holds right now,
    # which may be ahead of the SDK's shipped ABIs while a module is being worked on.
    chain = probe_chain(rpc)
    operator = Client(rpc, chain, deployment, accounts[0])
    vendor = Client(rpc, chain, deployment, accounts[1])
    customer = Client(rpc, chain, deployment, accounts[3])  # Initech Enterprise
    constitution = deployment.address("Constitution")
    lanes = [("ape", 0), ("web3", 0), ("ape_interval", 0), ("web3_interval", 0)]
    lanes += [("sdk_single", i) for i in range(cfg.senders)] + [("sdk_batched", i) for i in range(cfg.senders)]
    if bulk:
        lanes += [("sdk_bulk", i) for i in range(cfg.senders)]
    t0 = time.monotonic()
    workload.prepare(BenchEnv(rpc, operator, {"vendor": vendor, "customer": customer}, senders), lanes)
    print(f"==> {workload.name}: {sum(workload.assets_per_lane[lane[0]] for lane in lanes)} twins "  # type: ignore[attr-defined]
          f"ready (Active) in {time.monotonic() - t0:.1f} s; SDK senders: "
          f"{', '.join(a.address[:10] for a in senders)}", flush=True)  # fmt: skip
    first_block = hexint(rpc.call("eth_blockNumber")) + 1

    phases: list[Phase] = []
    ape_send = ape_sender(constitution)
    web3_send = web3_sender(url, constitution, accounts[0].address)
    for name, send in (("ape", ape_send), ("web3", web3_send)):
        print(f"==> baseline {name} (automine) {cfg.baseline_seconds:g} s", flush=True)
        phases.append(run_loop(Phase(name, 1), workload, cfg.baseline_seconds, send))

    # interval mining from here on: a block a second, like a QBFT block period
    rpc.call("evm_setAutomine", [False])
    rpc.call("evm_setIntervalMining", [1])
    for name, send in (("ape_interval", ape_send), ("web3_interval", web3_send)):
        print(f"==> baseline {name} (1 s blocks) {cfg.baseline_seconds:g} s", flush=True)
        phases.append(run_loop(Phase(name, 1), workload, cfg.baseline_seconds, send))

    # Outcomes from block transaction lists + eth_getLogs: anvil's receipts cost time quadratic
    # in the block size (docs/throughput.md); every executed op emits ActionExecuted.
    reading = {"receipts": "logs", "success_logs": {"address": constitution, "topics": [ACTION_EXECUTED]}}
    if os.environ.get("BENCH_RECEIPTS"):
        reading = {"receipts": os.environ["BENCH_RECEIPTS"]}
    tuning = {"sign_processes": cfg.sign_processes, "send_threads": cfg.send_threads}
    with Pipeline(rpc, senders, operator.chain, **tuning, **reading) as pipe:  # type: ignore[arg-type]
        print(f"==> SDK pipeline, 1 op/tx, {cfg.senders} senders, {cfg.seconds:g} s", flush=True)
        single = run_pipeline(
            Phase("sdk_single", 1), workload, pipe, constitution, cfg.senders, cfg.seconds, cfg.window
        )
    phases.append(single)
    with Pipeline(rpc, senders, operator.chain, send_batch=50, **tuning, **reading) as pipe:  # type: ignore[arg-type]
        print(f"==> SDK pipeline, {cfg.batch} ops/tx (executeBatch), {cfg.seconds:g} s", flush=True)
        batched = run_pipeline(
            Phase("sdk_batched", cfg.batch, "batch"),
            workload,
            pipe,
            constitution,
            cfg.senders,
            cfg.seconds,
            cfg.batch_window,
        )
    phases.append(batched)
    sdk_phases = [single, batched]
    if bulk:
        with Pipeline(rpc, senders, operator.chain, send_batch=50, **tuning, **reading) as pipe:  # type: ignore[arg-type]
            print(f"==> SDK pipeline, {cfg.batch} ops/tx (module bulk call), {cfg.seconds:g} s", flush=True)
            bulk_phase = run_pipeline(
                Phase("sdk_bulk", cfg.batch, "bulk"),
                workload,
                pipe,
                constitution,
                cfg.senders,
                cfg.seconds,
                cfg.batch_window,
            )
        phases.append(bulk_phase)
        sdk_phases.append(bulk_phase)
    best = max(sdk_phases[1:], key=lambda p: p.ops_per_s)

    print("==> verifying every operation on chain ...", flush=True)
    t0 = time.monotonic()
    checked = verify(phases, workload, rpc, constitution, first_block)
    totals = checked["sdk"]
    verify_s = time.monotonic() - t0
    by_name = {p.name: p for p in phases}
    ape_rate = by_name["ape"].ops_per_s
    results: dict[str, Any] = {
        "workload": workload.name,
        "single_ops_per_s": round(single.ops_per_s, 1),
        "batched_ops_per_s": round(best.ops_per_s, 1),  # the best batched path:
        "batched_path": best.name,
        "execute_batch_ops_per_s": round(batched.ops_per_s, 1),
        "bulk_ops_per_s": round(bulk_phase.ops_per_s, 1) if bulk else None,
        "ape_baseline_ops_per_s": round(ape_rate, 2),
        "web3_baseline_ops_per_s": round(by_name["web3"].ops_per_s, 2),
        "ape_baseline_interval_ops_per_s": round(by_name["ape_interval"].ops_per_s, 2),
        "web3_baseline_interval_ops_per_s": round(by_name["web3_interval"].ops_per_s, 2),
        "single_vs_ape": round(single.ops_per_s / ape_rate, 1) if ape_rate else None,
        "batched_vs_ape": round(best.ops_per_s / ape_rate, 1) if ape_rate else None,
        "p50_ms": round(single.latency_ms(50), 1),
        "p95_ms": round(single.latency_ms(95), 1),
        "p99_ms": round(single.latency_ms(99), 1),
        "batched_p50_ms": round(best.latency_ms(50), 1),
        "batched_p95_ms": round(best.latency_ms(95), 1),
        "batched_p99_ms": round(best.latency_ms(99), 1),
        "gas_per_op_single": round(single.gas_per_op),
        "gas_per_op_batched": round(best.gas_per_op),  # of batched_path
        "gas_per_op_execute_batch": round(batched.gas_per_op),
        "gas_per_op_bulk": round(bulk_phase.gas_per_op) if bulk else None,
        **totals,  # the SDK paths (single + batched + bulk): every op sent, found on chain exactly once?
        "baselines_checked": checked["baselines"],
        "on_chain_checks": workload.checks,
        "sdk_senders": [a.address for a in senders],
        "phases": {
            p.name: {
                "ops_per_tx": p.ops_per_tx,
                "ops": len(p.records),
                "confirmed": len(p.confirmed),
                "ops_per_s": round(p.ops_per_s, 2),
                "seconds": round(p.ended - p.started, 2),
                "p50_ms": round(p.latency_ms(50), 1),
                "p95_ms": round(p.latency_ms(95), 1),
                "gas_per_op": round(p.gas_per_op),
                **{k: v for k, v in p.notes.items() if k != "errors"},
                "errors": p.notes.get("errors", [])[:3],
            }
            for p in phases
        },
        "config": {
            "seconds": cfg.seconds,
            "assets": cfg.assets,
            "senders": cfg.senders,
            "batch": cfg.batch,
            "baseline_seconds": cfg.baseline_seconds,
            "window_ops": cfg.window,
            "batch_window_ops": cfg.batch_window,
            "sign_processes": cfg.sign_processes,
            "send_threads": cfg.send_threads,
            "receipts": reading["receipts"],
            "workload": cfg.workload,
            "block_time_s": 1,
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "verify_seconds": round(verify_s, 1),
        "total_seconds": round(time.monotonic() - t_start, 1),
    }
    cfg.results_dir.mkdir(parents=True, exist_ok=True)
    (cfg.results_dir / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(sdk_phases, cfg.results_dir / "latest.png")

    print()
    print(f"{'path':<16} {'ops/tx':>6} {'ops':>8} {'ops/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'gas/op':>8} {'lost':>5}")
    for p in phases:
        print(
            f"{p.name:<16} {p.ops_per_tx:>6} {len(p.records):>8} {p.ops_per_s:>10,.1f} {p.latency_ms(50):>8.0f} "
            f"{p.latency_ms(95):>8.0f} {p.gas_per_op:>8,.0f} {p.notes.get('ops_lost', 0):>5}"
        )
    print(
        f"\nsent {totals['ops_sent']:,}, on chain exactly once {totals['ops_confirmed']:,}, "
        f"lost {totals['ops_lost']}, duplicated {totals['ops_duplicated']}; "
        f"single {results['single_vs_ape']}x ape, batched ({best.name}) {results['batched_vs_ape']}x ape"
    )
    if workload.checks:
        print(f"on-chain checks: {workload.checks}")
    print(f"written to {cfg.results_dir / 'latest.json'} and latest.png")
    if checked["baselines"].get("ops_lost"):
        print(f"(baselines: {checked['baselines']['ops_lost']} ops the naive clients sent never reached the chain)")
    bad_checks = workload.checks.get("charge_errors") or workload.checks.get("action_vs_module_event_mismatches")
    bad_checks = bad_checks or workload.checks.get("balance_matches_charges") is False
    return 0 if totals["ops_lost"] == 0 and totals["ops_duplicated"] == 0 and not bad_checks else 1


if __name__ == "__main__":
    sys.exit(main())
