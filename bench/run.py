"""Throughput benchmark (issues 8 and 20): capacity under open-loop load, per chain profile.

    make bench                                   # or: python bench/run.py
    BENCH_STEP_SECONDS=3 BENCH_MAX_STEPS=2 python bench/run.py      # the short mode (smoke test)
    BENCH_PROFILES=besu BENCH_RATES_SINGLE_BESU=50,100,200 python bench/run.py

The operation (default ``BENCH_WORKLOAD=macd``, bench/workload.py ``MacdWorkload``): one MACD
change request with its charge — OperatorAgreement ``orderChange`` (the tariff accrued on the
customer's running account) — or its ``confirmChange``, alternating per twin; in bulk,
``orderChanges``/``confirmChanges`` of ``BENCH_BATCH`` twins (one operation per twin).

1. Starts its own anvil (berlin, gas price 0; alone, not behind the durable proxy unless
   ``BENCH_DURABLE=1``), deploys the consortium with the real deploy code and prepares the
   twins (automine), then runs the naive ape / web3.py baselines (``BENCH_BASELINE_SECONDS``;
   0 skips them).
2. Per chain profile — ``default``: the embedded node, 1 s blocks, 100G block gas limit, no cap
   on a sender's pending transactions; ``besu``: 2 s blocks (docs/besu.md's block period),
   the block gas limit of docs/besu.md's genesis, at most ``BENCH_BESU_PENDING_PER_SENDER``
   (200: Besu's pool per sender) pending per sender — a *series* of open-loop steps
   (bench/knee.py) for single MACD, bulk MACD and plain value transfers (the physical limit:
   21,000 gas, pre-signed, spread over as many funded accounts as the capped profile needs).
   Each step offers a fixed rate for ``BENCH_STEP_SECONDS``; a series stops when the confirmed
   rate stops growing, p95 passes 3 block times or an operation is lost.
3. Checks every MACD operation on chain exactly once (ChangeOrdered with the right charge /
   ChangeConfirmed per ref, ChangesOrdered / ChangesConfirmed per (ref, asset); ActionExecuted
   per ref agreeing; the running account's balance = the charges), prints the curve, writes
   ``bench/results/latest.json`` (the knees, ``single_vs_raw``, ``senders_used``, ``curve``)
   and ``latest.png`` (confirmed rate and p95 against the offered rate, knees marked).

The knee of a series: the highest offered rate whose step confirmed >= 95 % of it with p95 <= 2
block times and nothing lost or duplicated (docs/throughput.md).

Environment: BENCH_STEP_SECONDS (10), BENCH_MAX_STEPS (0: whole ladders), BENCH_RATES_SINGLE,
BENCH_RATES_BULK, BENCH_RATES_RAW (default profile), BENCH_RATES_SINGLE_BESU,
BENCH_RATES_BULK_BESU, BENCH_RATES_RAW_BESU (comma-separated ops/s), BENCH_PROFILES
(default,besu), BENCH_BESU_PENDING_PER_SENDER (200), BENCH_RAW_SENDERS (0: as many as needed),
BENCH_WORKLOAD (macd | bilateral | bilateral-consent | assets), BENCH_ASSETS (800), BENCH_BATCH
(100), BENCH_BASELINE_SECONDS (min(5, step)), BENCH_SEND_THREADS (2), BENCH_SIGN_PROCESSES (0), BENCH_RESULTS_DIR
(bench/results), BENCH_DURABLE (1: through the durable node of ``telcochain node``).
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

import knee  # noqa: E402
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
from workload import (  # noqa: E402
    ACTION_EXECUTED,
    AssetChangeWorkload,
    BenchEnv,
    BilateralMacdWorkload,
    Call,
    MacdWorkload,
    Workload,
)

GAS_LIMIT = 100_000_000_000  # per block: never the limit here (anvil executes what it is given)
#: docs/besu.md's genesis "gasLimit" 0x1fffffffffffff (free gas: the block period, not gas, bounds a block)
BESU_GAS_LIMIT = 0x1FFFFFFFFFFFFF


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_rates(name: str, default: str) -> list[float]:
    return [float(x) for x in os.environ.get(name, default).replace(" ", "").split(",") if x]


@dataclass
class Profile:
    """A chain profile: the block period, the block gas limit, the pending cap per sender."""

    name: str
    block_time: int
    gas_limit: int
    max_pending_per_sender: int | None
    single_rates: list[float]
    bulk_rates: list[float]
    raw_rates: list[float] = field(default_factory=list)
    #: MACD sender accounts per series (the operator, then its delegates); 0: as many as the
    #: profile's cap needs for the ladder's top rate (knee.senders_needed), 1 without a cap
    senders_single: int = 0
    senders_bulk: int = 0

    def senders(self, kind: str, batch: int) -> int:
        """The MACD senders of a series: the configured number, or as many as its top rate needs."""
        configured = self.senders_single if kind == "single" else self.senders_bulk
        if configured:
            return configured
        rates = self.single_rates if kind == "single" else self.bulk_rates
        if not self.max_pending_per_sender or not rates:
            return 1
        per_tx = 1 if kind == "single" else batch
        return knee.senders_needed(max(rates) / per_tx, self.block_time, self.max_pending_per_sender)


@dataclass
class Config:
    step_seconds: float = 10
    max_steps: int = 0  # 0: the whole ladder (until the series stops)
    assets: int = 2000
    batch: int = 100
    baseline_seconds: float = 5
    send_threads: int = 2
    sign_processes: int = 0
    workload: str = "macd"
    raw_senders: int = 0  # 0: as many as the capped profiles need (knee.senders_needed)
    profiles: list[Profile] = field(default_factory=list)
    results_dir: Path = ROOT / "bench" / "results"

    @classmethod
    def from_env(cls) -> Config:
        step = float(os.environ.get("BENCH_STEP_SECONDS", 10))
        max_steps = _env_int("BENCH_MAX_STEPS", 0)

        def ladder(name: str, default: str) -> list[float]:
            rates = _env_rates(name, default)
            return rates[:max_steps] if max_steps else rates

        profiles = [
            Profile(
                "default",
                1,
                GAS_LIMIT,
                None,
                ladder("BENCH_RATES_SINGLE", "500,1000,1500,2000,2500,3000,4000,6000,8000"),
                ladder("BENCH_RATES_BULK", "5000,10000,20000,25000,30000,40000,60000,80000"),
                ladder("BENCH_RATES_RAW", "1000,2000,3000,4000,5000,6000,8000,16000"),
                _env_int("BENCH_SENDERS_SINGLE", 1),
                _env_int("BENCH_SENDERS_BULK", 1),
            ),
            Profile(
                "besu",
                2,
                BESU_GAS_LIMIT,
                _env_int("BENCH_BESU_PENDING_PER_SENDER", 200),
                ladder("BENCH_RATES_SINGLE_BESU", "100,200,400,800,1200,1500,2000,2500"),
                ladder("BENCH_RATES_BULK_BESU", "2500,5000,10000,15000,20000,30000,40000"),
                ladder("BENCH_RATES_RAW_BESU", "1000,2000,3000,4000,6000"),
                _env_int("BENCH_SENDERS_SINGLE_BESU", 0),
                _env_int("BENCH_SENDERS_BULK_BESU", 0),
            ),
        ]
        only = os.environ.get("BENCH_PROFILES")
        if only:
            profiles = [p for p in profiles if p.name in only.split(",")]
        return cls(
            step_seconds=step,
            max_steps=max_steps,
            assets=_env_int("BENCH_ASSETS", 800),
            batch=_env_int("BENCH_BATCH", 100),
            baseline_seconds=float(os.environ.get("BENCH_BASELINE_SECONDS", min(5.0, step))),
            send_threads=_env_int("BENCH_SEND_THREADS", 2),
            sign_processes=_env_int("BENCH_SIGN_PROCESSES", 0),
            workload=os.environ.get("BENCH_WORKLOAD", "macd"),
            raw_senders=_env_int("BENCH_RAW_SENDERS", 0),
            profiles=profiles,
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


def merge_results(results: dict[str, Any], results_dir: Path) -> Path:
    """Merge ``results`` into ``results_dir/latest.json`` (the other benchmarks' keys stay); its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    latest = results_dir / "latest.json"
    merged = json.loads(latest.read_text()) if latest.exists() else {}
    merged.update(results)
    latest.write_text(json.dumps(merged, indent=2) + "\n")
    return latest


def dev_accounts(n: int = 10) -> list[LocalAccount]:
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)]


def delegate_keys(n: int) -> list[LocalAccount]:
    """Keys for the operator's delegates (derived dev keys 200, 201, …; gas is free)."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{200 + i}") for i in range(max(0, n))]


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


# -- the SDK under a fixed in-flight window (index_bench) --------------------------------------------


def run_pipeline(
    phase: Phase,
    workload: Workload,
    pipe: Pipeline,
    to: str,
    senders: int,
    seconds: float,
    window_ops: int,
) -> Phase:
    """Sustained closed-loop load: keep ``window_ops`` operations in flight for ``seconds``, then drain
    (issue 8's phases; bench/index_bench.py still uses it to generate load while it measures the index)."""
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


# -- the SDK under open-loop load steps ---------------------------------------------------------------


def macd_tx_maker(workload: Workload, kind: str, to: str, gas: int, senders: int, per_tx: int) -> knee.MakeTx:
    """The workload's next operation as a transaction: a lane per sender, taken in turn."""
    lanes = itertools.cycle(range(senders))
    phase = "sdk_bulk" if kind == "bulk" else "sdk_single"

    def make() -> tuple[Operation, Sequence[bytes]]:
        sender = next(lanes)
        lane = (phase, sender)
        call = workload.next_bulk_call(lane, per_tx) if kind == "bulk" else workload.next_call(lane)
        data = encode_execute_action(call.action, call.params, call.ref)
        return Operation(to, data, gas, sender=sender), call.op_keys

    return make


def transfer_tx_maker(sink: str) -> knee.MakeTx:
    """A plain value transfer of 1 wei (21,000 gas): the cheapest transaction there is."""

    def make() -> tuple[Operation, Sequence[bytes]]:
        return Operation(sink, b"", 21_000, value=1), ()

    return make


def tx_gas(rpc: Rpc, sender: str, to: str, op: Operation) -> int:
    """The gas limit of a workload transaction: what it needs, with headroom (gas is free)."""
    data = "0x" + bytes(op.data).hex() if isinstance(op.data, bytes) else op.data
    return batch_gas(rpc, sender, to, data, headroom=1.3) + 20_000


def set_profile(rpc: Rpc, profile: Profile) -> None:
    """Interval mining at the profile's block period, its block gas limit."""
    rpc.call("evm_setAutomine", [False])
    rpc.call("evm_setIntervalMining", [profile.block_time])
    rpc.call("evm_setBlockGasLimit", [hex(profile.gas_limit)])


def verify_steps(steps: Sequence[knee.Step], workload: Workload, rpc: Rpc, constitution: str, first: int) -> None:
    """Every workload operation on chain exactly once (by its key), over the steps' blocks:
    found 0 times → lost, more than once → duplicated."""
    last = hexint(rpc.call("eth_blockNumber"))
    found = workload.count_on_chain(rpc, constitution, first, last)
    for step in steps:
        step.lost = sum(1 for r in step.records if found[r.key] == 0)
        step.duplicated = sum(1 for r in step.records if found[r.key] > 1)
        for r in step.records:
            if found[r.key] == 0:
                r.status = "lost"


def provisional(step: knee.Step) -> None:
    """Before the chain check at the end: an operation the pipeline did not see mined is lost."""
    step.lost = sum(1 for r in step.records if r.status not in ("confirmed", "reverted"))


def verify_baselines(
    phases: Sequence[Phase], workload: Workload, rpc: Rpc, constitution: str, first: int
) -> dict[str, int]:
    last = hexint(rpc.call("eth_blockNumber"))
    found = workload.count_on_chain(rpc, constitution, first, last)
    totals: Counter[str] = Counter()
    for phase in phases:
        lost = sum(1 for r in phase.records if found[r.ref] == 0)
        phase.notes["ops_lost"] = lost
        totals["ops_sent"] += len(phase.records)
        totals["ops_lost"] += lost
    return dict(totals)


def make_workload(cfg: Config, single_lanes: int = 1, bulk_lanes: int = 1) -> Workload:
    """BENCH_WORKLOAD: ``macd`` (default; issue 8's operation), ``bilateral`` / ``bilateral-consent``
    (issue 14: the same MACD for a registered customer through ``actFor``, by the operator alone /
    with the customer's consent; single only: its bulk order, ``actFor`` op 4, is measured by
    bench/bilateral_bench.py) or ``assets`` (the
    stand-in, single only).

    MACD: ``BENCH_ASSETS`` twins shared out between the lanes (one lane per sender): a quarter
    for the single series, the rest in groups of ``BENCH_BATCH`` for the bulk series (at least
    one group per bulk lane)."""
    single_total = max(8, cfg.assets // 4)
    sizes = {"ape": 8, "web3": 8, "ape_interval": 4, "web3_interval": 4, "sdk_single": max(8, cfg.assets // 4)}
    if cfg.workload == "macd":
        sizes["sdk_single"] = max(4, single_total // single_lanes)
        groups = max(1, (cfg.assets - single_total) // cfg.batch)
        sizes["sdk_bulk"] = cfg.batch * max(1, groups // bulk_lanes)
        return MacdWorkload(sizes, bulk_size=cfg.batch)
    if cfg.workload in ("bilateral", "bilateral-consent"):  # issue 14: a registered customer, single only
        sizes["sdk_single"] = max(4, single_total // single_lanes)
        return BilateralMacdWorkload(sizes, consent=cfg.workload == "bilateral-consent")
    if cfg.workload == "assets":
        return AssetChangeWorkload(sizes)
    raise SystemExit(f"BENCH_WORKLOAD: macd, bilateral, bilateral-consent or assets, not {cfg.workload!r}")


def main() -> int:
    cfg = Config.from_env()
    os.chdir(ROOT)  # ape finds the project from the working directory
    accounts = dev_accounts(10)
    single_lanes = max([p.senders("single", cfg.batch) for p in cfg.profiles] or [1])
    bulk_lanes = max([p.senders("bulk", cfg.batch) for p in cfg.profiles] or [1])
    workload = make_workload(cfg, single_lanes, bulk_lanes)
    # MACD: the operator (confirmations are operator-only) and as many delegate keys of the
    # operator as the profiles need (registered after the deployment); the stand-in: its own members
    ids = workload.sender_accounts if workload.sender_accounts is not None else (4, 5, 6, 7)
    senders = [accounts[i] for i in ids]
    if workload.sender_accounts is not None:
        senders += delegate_keys(max(single_lanes, bulk_lanes) - len(senders))
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-bench-"))
    # BENCH_DURABLE=1: through the durable node of `telcochain node` (write-ahead log, proxy);
    # by default anvil alone (persist=False): the node's own capacity
    durable = os.environ.get("BENCH_DURABLE") == "1"
    node = LocalNode(
        NodeConfig(data_dir=workdir, port=free_port(), gas_limit=GAS_LIMIT, persist=durable, state_interval=3600)
    )
    t_start = time.monotonic()
    node.start()
    url = node.config.rpc_url
    os.environ["APE_FOUNDRY_HOST"] = url
    try:
        from ape import networks
        from ape.logging import logger

        logger.set_level("WARNING")
        with networks.parse_network_choice("ethereum:local:foundry"):
            return _bench(cfg, url, accounts, senders, workload, workdir, t_start, durable)
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
    durable: bool,
) -> int:
    rpc = Rpc(url, timeout=120)
    bulk = "sdk_bulk" in workload.assets_per_lane  # type: ignore[attr-defined]
    print(f"==> anvil on {url}; deploying (ape) ...", flush=True)
    own_senders = senders if workload.sender_accounts is None else []
    deployment = deploy(bench_consortium(own_senders, workload.actions, workdir, workload.configure))
    chain = probe_chain(rpc)
    operator = Client(rpc, chain, deployment, accounts[0])
    vendor = Client(rpc, chain, deployment, accounts[1])
    customer = Client(rpc, chain, deployment, accounts[3])  # Initech Enterprise
    constitution = deployment.address("Constitution")
    # the operator's delegate keys (issue 20): each acts as the operator, so it may confirm
    delegates = [s for s in senders if s.address != operator.address] if workload.sender_accounts else []
    for key in delegates:
        operator.constitution.add_delegate(key.address, ref=f"bench-{key.address[2:10]}")
    if delegates:
        print(f"==> {len(delegates)} delegate keys of the operator registered", flush=True)
    single_lanes = max(p.senders("single", cfg.batch) for p in cfg.profiles)
    bulk_lanes = max(p.senders("bulk", cfg.batch) for p in cfg.profiles)
    if workload.sender_accounts is None:  # the stand-in: one lane per own member
        single_lanes = bulk_lanes = len(senders)
    lanes = [("ape", 0), ("web3", 0), ("ape_interval", 0), ("web3_interval", 0)]
    lanes += [("sdk_single", i) for i in range(single_lanes)]
    if bulk:
        lanes += [("sdk_bulk", i) for i in range(bulk_lanes)]
    t0 = time.monotonic()
    workload.prepare(BenchEnv(rpc, operator, {"vendor": vendor, "customer": customer}, senders), lanes)
    twins = sum(workload.assets_per_lane[lane[0]] for lane in lanes)  # type: ignore[attr-defined]
    print(f"==> {workload.name}: {twins} twins ready (Active) in {time.monotonic() - t0:.1f} s", flush=True)
    first_block = hexint(rpc.call("eth_blockNumber")) + 1

    baselines: list[Phase] = []
    if cfg.baseline_seconds > 0:
        ape_send = ape_sender(constitution)
        web3_send = web3_sender(url, constitution, accounts[0].address)
        for name, send in (("ape", ape_send), ("web3", web3_send)):
            print(f"==> baseline {name} (automine) {cfg.baseline_seconds:g} s", flush=True)
            baselines.append(run_loop(Phase(name, 1), workload, cfg.baseline_seconds, send))

    # the raw-transfer senders: derived dev keys, funded (each transfer moves 1 wei); as many as
    # the fastest capped step needs (two blocks of transactions in flight, at most the cap each)
    n_raw = cfg.raw_senders or max(
        [16]
        + [
            knee.senders_needed(max(p.raw_rates), p.block_time, p.max_pending_per_sender)
            for p in cfg.profiles
            if p.raw_rates and p.max_pending_per_sender
        ]
    )
    Account.enable_unaudited_hdwallet_features()
    raw = [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{100 + i}") for i in range(n_raw)]
    for a in raw:
        rpc.call("anvil_setBalance", [a.address, hex(10**24)])
    sink = accounts[9].address

    reading = {"receipts": "logs", "success_logs": {"address": constitution, "topics": [ACTION_EXECUTED]}}
    tuning = {"sign_processes": cfg.sign_processes, "send_threads": cfg.send_threads}
    series: dict[str, list[knee.Step]] = {}
    macd_steps: list[knee.Step] = []
    senders_used: dict[str, int] = {}
    gas_limits: dict[str, int] = {}
    for profile in cfg.profiles:
        set_profile(rpc, profile)
        if profile.name == "default" and cfg.baseline_seconds > 0:
            ape_send, web3_send = ape_sender(constitution), web3_sender(url, constitution, accounts[0].address)
            for name, send in (("ape_interval", ape_send), ("web3_interval", web3_send)):
                print(f"==> baseline {name} (1 s blocks) {cfg.baseline_seconds:g} s", flush=True)
                baselines.append(run_loop(Phase(name, 1), workload, cfg.baseline_seconds, send))
        cap = profile.max_pending_per_sender
        print(f"==> profile {profile.name}: {profile.block_time} s blocks, block gas limit {profile.gas_limit:,}, "
              f"pending per sender {cap or 'unbounded'}; {cfg.step_seconds:g} s per step", flush=True)  # fmt: skip
        kinds = [("single", 1, profile.single_rates)] + ([("bulk", cfg.batch, profile.bulk_rates)] if bulk else [])
        for kind, per_tx, rates in kinds:
            name = f"{profile.name}/{kind}"
            n = min(len(senders), single_lanes if kind == "single" else bulk_lanes, profile.senders(kind, cfg.batch))
            if workload.sender_accounts is None:
                n = len(senders)
            series_senders = senders[:n]
            print(f"--> {name}: {n} sender(s) (the operator + {n - 1} delegate key(s))", flush=True)
            batch_size = 50 if per_tx > 1 else 500
            with Pipeline(rpc, series_senders, chain, send_batch=batch_size, **tuning, **reading) as pipe:  # type: ignore[arg-type]
                probe = macd_tx_maker(workload, kind, constitution, 0, n, per_tx)
                key = f"{kind}"
                if key not in gas_limits:  # measured on the first operation, which is then sent
                    op, _ = probe()
                    gas_limits[key] = tx_gas(rpc, senders[0].address, constitution, op)
                    first = Operation(constitution, op.data, gas_limits[key], sender=op.sender)
                    pipe.run([first], timeout=60)
                make = macd_tx_maker(workload, kind, constitution, gas_limits[key], n, per_tx)
                steps = knee.run_series(name, profile.name, kind, rates, cfg.step_seconds, per_tx, profile.block_time,
                                        pipe, make, n, cap, after_step=provisional)  # fmt: skip
            series[name] = steps
            macd_steps += steps
            senders_used[name] = max((s.notes["senders_used"] for s in steps), default=0)
        if profile.raw_rates:
            name = f"{profile.name}/transfer"
            transfer_reading = {"receipts": "inclusion"}
            with Pipeline(rpc, raw, chain, **tuning, **transfer_reading) as pipe:  # type: ignore[arg-type]
                steps = knee.run_series(name, profile.name, "transfer", profile.raw_rates, cfg.step_seconds, 1,
                                        profile.block_time, pipe, transfer_tx_maker(sink), len(raw), cap,
                                        after_step=provisional)  # fmt: skip
            series[name] = steps
            senders_used[name] = max((s.notes["senders_used"] for s in steps), default=0)

    print("==> verifying every operation on chain ...", flush=True)
    t0 = time.monotonic()
    verify_steps(macd_steps, workload, rpc, constitution, first_block)
    baselines_checked = verify_baselines(baselines, workload, rpc, constitution, first_block) if baselines else {}
    verify_s = time.monotonic() - t0
    for steps in series.values():  # transfers: a hash is mined at most once; not mined = lost
        for s in steps:
            if s.kind == "transfer":
                s.duplicated = 0

    def knee_rate(name: str) -> float | None:
        k = knee.knee(series.get(name, []))
        return round(k.confirmed_ops_per_s, 1) if k else (0.0 if series.get(name) else None)

    def knee_step(name: str) -> knee.Step | None:
        return knee.knee(series.get(name, []))

    single_knee, bulk_knee = knee_rate("default/single"), knee_rate("default/bulk")
    raw_knee = knee_rate("default/transfer")
    all_steps = [s for steps in series.values() for s in steps if s.kind != "transfer"]
    ops_sent = sum(len(s.records) for s in all_steps)
    ops_lost = sum(s.lost for s in all_steps)
    ops_dup = sum(s.duplicated for s in all_steps)
    ks, kb = knee_step("default/single"), knee_step("default/bulk")
    peak = {name: round(max((s.confirmed_ops_per_s for s in steps), default=0.0), 1) for name, steps in series.items()}
    results: dict[str, Any] = {
        "workload": workload.name,
        "knee_single_ops_per_s": single_knee,
        "knee_bulk_ops_per_s": bulk_knee,
        "knee_single_besu_profile_ops_per_s": knee_rate("besu/single"),
        "knee_bulk_besu_profile_ops_per_s": knee_rate("besu/bulk"),
        "raw_transfer_ops_per_s": raw_knee,
        "single_vs_raw": round(single_knee / raw_knee, 3) if single_knee and raw_knee else None,
        "senders_used": senders_used,
        "peak_confirmed_ops_per_s": peak,  # the best confirmed rate of any step, within the knee or not
        # the issue-8 names, now the knees (the old sustained figures were capped by an in-flight window)
        "single_ops_per_s": single_knee,
        "bulk_ops_per_s": bulk_knee,
        "batched_ops_per_s": bulk_knee,
        "batched_path": "sdk_bulk" if bulk else None,
        "p50_ms": round(ks.latency_ms(50), 1) if ks else None,
        "p95_ms": round(ks.latency_ms(95), 1) if ks else None,
        "p99_ms": round(ks.latency_ms(99), 1) if ks else None,
        "batched_p95_ms": round(kb.latency_ms(95), 1) if kb else None,
        "gas_per_op_single": round(_gas(series.get("default/single", []))),
        "gas_per_op_bulk": round(_gas(series.get("default/bulk", []))) if bulk else None,
        "gas_per_op_batched": round(_gas(series.get("default/bulk", []))) if bulk else None,
        "ops_sent": ops_sent,
        "ops_confirmed": sum(len(s.confirmed) for s in all_steps) - ops_dup,
        "ops_lost": ops_lost,
        "ops_duplicated": ops_dup,
        "lost_or_duplicated_up_to_knee": sum(
            s.lost + s.duplicated for steps in series.values() for s in steps if s.offered <= _knee_offer(steps)
        ),
        "ape_baseline_ops_per_s": round(baselines[0].ops_per_s, 2) if baselines else None,
        "web3_baseline_ops_per_s": round(baselines[1].ops_per_s, 2) if baselines else None,
        "baselines": {
            p.name: {"ops_per_s": round(p.ops_per_s, 2), "ops": len(p.records), **p.notes} for p in baselines
        },
        "baselines_checked": baselines_checked,
        "on_chain_checks": workload.checks,
        "sdk_senders": [a.address for a in senders],
        "sdk_delegates": len(delegates),
        "senders_per_series": {
            f"{p.name}/{k}": p.senders(k, cfg.batch) if workload.sender_accounts is not None else len(senders)
            for p in cfg.profiles
            for k in ("single", "bulk")
        },
        "raw_transfer_senders": len(raw),
        "curve": {name: [s.summary() for s in steps] for name, steps in series.items()},
        "profiles": {
            p.name: {
                "block_time_s": p.block_time,
                "block_gas_limit": p.gas_limit,
                "max_pending_per_sender": p.max_pending_per_sender,
                "rates_single": p.single_rates,
                "rates_bulk": p.bulk_rates,
                "rates_raw_transfer": p.raw_rates,
            }
            for p in cfg.profiles
        },
        "config": {
            "step_seconds": cfg.step_seconds,
            "max_steps": cfg.max_steps,
            "assets": cfg.assets,
            "batch": cfg.batch,
            "baseline_seconds": cfg.baseline_seconds,
            "send_threads": cfg.send_threads,
            "sign_processes": cfg.sign_processes,
            "workload": cfg.workload,
            "gas_limit_per_tx": gas_limits,
            "durable_node": durable,
            "knee_rule": "confirmed >= 95% of offered, p95 <= 2 block times, nothing lost or duplicated",
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "verify_seconds": round(verify_s, 1),
        "total_seconds": round(time.monotonic() - t_start, 1),
    }
    cfg.results_dir.mkdir(parents=True, exist_ok=True)
    (cfg.results_dir / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    knee.chart(series, cfg.results_dir / "latest.png")

    print()
    columns = ("offered", 9), ("confirmed", 10), ("p50 ms", 8), ("p95 ms", 8), ("gas/op", 8), ("lost", 5), ("dup", 4)
    print(f"{'series':<18}" + "".join(f" {c:>{w}}" for c, w in columns))
    for name, steps in series.items():
        for s in steps:
            print(
                f"{name:<18} {s.offered:>9,.0f} {s.confirmed_ops_per_s:>10,.0f} {s.latency_ms(50):>8.0f} "
                f"{s.latency_ms(95):>8.0f} {s.gas_per_op:>8,.0f} {s.lost:>5} {s.duplicated:>4}{'  *' if s.ok else ''}"
            )
    print("(* within the knee)")
    for key in [k for k in results if k.startswith("knee_")] + [
        "raw_transfer_ops_per_s",
        "single_vs_raw",
        "senders_used",
    ]:
        print(f"{key}: {results[key]}")
    if workload.checks:
        print(f"on-chain checks: {workload.checks}")
    print(f"load average {os.getloadavg()}; written to {cfg.results_dir / 'latest.json'} and latest.png")
    bad_checks = workload.checks.get("charge_errors") or workload.checks.get("action_vs_module_event_mismatches")
    bad_checks = bad_checks or workload.checks.get("balance_matches_charges") is False
    return 0 if results["lost_or_duplicated_up_to_knee"] == 0 and not bad_checks else 1


def _knee_offer(steps: Sequence[knee.Step]) -> float:
    k = knee.knee(steps)
    return k.offered if k else (steps[0].offered if steps else 0.0)


def _gas(steps: Sequence[knee.Step]) -> float:
    measured = [s.gas_per_op for s in steps if s.gas_per_op]
    return statistics.fmean(measured) if measured else 0.0


if __name__ == "__main__":
    sys.exit(main())
