"""Where the gas of one MACD operation goes (issue 20): measured from the node's own trace.

    python bench/gas_profile.py            # prints the tables; BENCH_RESULTS_DIR/gas_profile.json

Own anvil (automine), the bench's deployment and MACD preparation (bench/run.py,
bench/workload.py), then four transactions from the operator: ``orderChange`` and
``confirmChange`` of one twin (``executeAction``), ``orderChanges`` / ``confirmChanges`` of
``BENCH_BATCH`` (100) twins. Each is traced twice with ``debug_traceTransaction``: the
``callTracer`` (the call frames, each with its gas) and the opcode logger (every step's gas,
depth). Every opcode's gas is charged to the frame it ran in (the contract and function) and to
a category:

- ``storage read`` (SLOAD: 2,100 cold / 100 warm), ``storage write`` (SSTORE),
- ``event`` (LOG0-4: 375 + 375 per topic + 8 per data byte, plus its memory),
- ``call`` (CALL/STATICCALL/DELEGATECALL: the cold account access and the value/transfer part;
  not the gas the callee used, which is its own frame's),
- ``hashing`` (KECCAK256), ``compute`` (everything else: ABI decoding, checks, jumps, memory),

and the transaction's intrinsic gas (21,000 + calldata) apart. Frames are named by the
deployment's addresses and the 4-byte selectors of the ABIs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import run as bench  # noqa: E402
from eth_utils import keccak  # noqa: E402
from telcochain import Client  # noqa: E402
from telcochain.abi import load_abi  # noqa: E402
from telcochain.batch import encode_execute_action  # noqa: E402
from telcochain.node import LocalNode, NodeConfig, free_port  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.throughput import Operation, Pipeline  # noqa: E402
from telcochain.tx import hexint, probe_chain  # noqa: E402
from workload import BenchEnv, MacdWorkload  # noqa: E402

MODULES = ("Constitution", "AssetRegistry", "OperatorAgreement", "EscrowPayment", "OrderBook", "DetailsVault")
CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}


def selectors() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in MODULES:
        for item in load_abi(name):
            if item.get("type") == "function":
                args = ",".join(i["type"] if not i["type"].startswith("tuple") else _tuple(i) for i in item["inputs"])
                sig = f"{item['name']}({args})"
                out["0x" + keccak(text=sig)[:4].hex()] = item["name"]
    return out


def _tuple(item: dict[str, Any]) -> str:
    inner = ",".join(c["type"] if not c["type"].startswith("tuple") else _tuple(c) for c in item["components"])
    return f"({inner}){item['type'][5:]}"


def category(op: str) -> str:
    if op == "SLOAD":
        return "storage read"
    if op == "SSTORE":
        return "storage write"
    if op.startswith("LOG"):
        return "event"
    if op in CALLS:
        return "call"
    if op in ("KECCAK256", "SHA3"):
        return "hashing"
    return "compute"


def profile(rpc: Rpc, tx_hash: str, names: dict[str, str], sels: dict[str, str]) -> dict[str, Any]:
    calls = rpc.call("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
    frames: list[dict[str, Any]] = []

    def walk(frame: dict[str, Any]) -> None:
        frames.append(frame)
        for child in frame.get("calls", []) or []:
            walk(child)

    walk(calls)
    trace = rpc.call("debug_traceTransaction", [tx_hash, {"disableStorage": True, "enableMemory": False}])
    logs = trace["structLogs"]
    receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
    tx = rpc.call("eth_getTransactionByHash", [tx_hash])
    data = bytes.fromhex(tx["input"][2:])
    intrinsic = 21_000 + sum(16 if b else 4 for b in data)

    def label(frame: dict[str, Any]) -> str:
        contract = names.get(frame["to"].lower(), frame["to"][:10])
        return f"{contract}.{sels.get(frame['input'][:10], frame['input'][:10])}"

    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    stack: list[dict[str, Any]] = []
    next_frame = 0
    prev_depth = 0
    child_of: dict[int, dict[str, Any]] = {}  # struct log index of a call op → the frame it opened
    for i, step in enumerate(logs):
        depth = step["depth"]
        if depth > prev_depth:
            stack.append(frames[next_frame])
            if i > 0 and logs[i - 1]["op"] in CALLS:
                child_of[i - 1] = frames[next_frame]
            next_frame += 1
        elif depth < prev_depth:
            for _ in range(prev_depth - depth):
                stack.pop()
        prev_depth = depth
    stack.clear()
    next_frame = 0
    prev_depth = 0
    for i, step in enumerate(logs):
        depth = step["depth"]
        if depth > prev_depth:
            stack.append(frames[next_frame])
            next_frame += 1
        elif depth < prev_depth:
            for _ in range(prev_depth - depth):
                stack.pop()
        prev_depth = depth
        op = step["op"]
        cost = step["gasCost"]
        if op in CALLS:
            # the gas left before the call minus the gas left after it returned, less the callee's own
            after = next((s for s in logs[i + 1 :] if s["depth"] == depth), None)
            callee = child_of.get(i)
            used_by_callee = hexint(callee["gasUsed"]) if callee else 0
            cost = (step["gas"] - after["gas"] - used_by_callee) if after else cost
        table[label(stack[-1])][category(op)] += cost
    total = hexint(receipt["gasUsed"])
    executed = sum(sum(v.values()) for v in table.values())
    return {
        "tx": tx_hash,
        "gas_used": total,
        "intrinsic": intrinsic,
        "refund_and_rounding": total - intrinsic - executed,
        "frames": {k: dict(v) for k, v in table.items()},
        "call_frames": [
            {"frame": label(f), "gas_used": hexint(f["gasUsed"])} for f in frames
        ],  # each includes its callees
    }


class TracingNode(NodeConfig):
    """anvil records opcode steps only with ``--steps-tracing``."""

    def command(self) -> list[str]:
        return [*super().command(), "--steps-tracing"]


def main() -> int:
    os.chdir(ROOT)
    batch = int(os.environ.get("BENCH_BATCH", 100))
    accounts = bench.dev_accounts(10)
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-gas-"))
    node = LocalNode(TracingNode(data_dir=workdir, port=free_port(), gas_limit=bench.GAS_LIMIT, persist=False))
    node.start()
    os.environ["APE_FOUNDRY_HOST"] = node.config.rpc_url
    try:
        from ape import networks
        from ape.logging import logger

        logger.set_level("WARNING")
        with networks.parse_network_choice("ethereum:local:foundry"):
            return _profile(node.config.rpc_url, accounts, batch, workdir)
    finally:
        node.stop()


def _profile(url: str, accounts: list[Any], batch: int, workdir: Path) -> int:
    rpc = Rpc(url, timeout=120)
    workload = MacdWorkload({"sdk_single": 1, "sdk_bulk": batch}, bulk_size=batch)  # one twin: order, then confirm
    deployment = bench.deploy(bench.bench_consortium([], workload.actions, workdir, workload.configure))
    chain = probe_chain(rpc)
    operator = Client(rpc, chain, deployment, accounts[0])
    vendor = Client(rpc, chain, deployment, accounts[1])
    customer = Client(rpc, chain, deployment, accounts[3])
    lanes = [("sdk_single", 0), ("sdk_bulk", 0)]
    workload.prepare(BenchEnv(rpc, operator, {"vendor": vendor, "customer": customer}, [accounts[0]]), lanes)
    constitution = deployment.address("Constitution")
    names = {deployment.address(m).lower(): m for m in MODULES}
    sels = selectors()
    calls = [
        ("orderChange (single)", workload.next_call(("sdk_single", 0)), 1),
        ("confirmChange (single)", workload.next_call(("sdk_single", 0)), 1),
        (f"orderChanges ({batch})", workload.next_bulk_call(("sdk_bulk", 0), batch), batch),
        (f"confirmChanges ({batch})", workload.next_bulk_call(("sdk_bulk", 0), batch), batch),
    ]
    out: dict[str, Any] = {}
    with Pipeline(rpc, [accounts[0]], chain, receipts="tx") as pipe:
        for what, call, n in calls:
            data = encode_execute_action(call.action, call.params, call.ref)
            (outcome,) = pipe.run([Operation(constitution, data, 30_000_000)], timeout=60)
            assert outcome.status.value == "confirmed", (what, outcome)
            result = profile(rpc, outcome.tx_hash, names, sels)
            result["operations"] = n
            out[what] = result
    for what, r in out.items():
        n = r["operations"]
        print(f"\n== {what}: {r['gas_used']:,} gas, {r['gas_used'] / n:,.0f} per operation")
        print(f"   intrinsic (21,000 + calldata) {r['intrinsic']:,}; refunds/rounding {r['refund_and_rounding']:,}")
        cats = ("storage read", "storage write", "event", "call", "hashing", "compute")
        print(f"   {'frame':<44}" + "".join(f"{c:>14}" for c in cats) + f"{'total':>10}")
        for frame, v in r["frames"].items():
            print(f"   {frame:<44}" + "".join(f"{v.get(c, 0):>14,}" for c in cats) + f"{sum(v.values()):>10,}")
        print("   call frames (with their callees): " + "; ".join(
            f"{f['frame']} {f['gas_used']:,}" for f in r["call_frames"]))  # fmt: skip
    results = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
    results.mkdir(parents=True, exist_ok=True)
    (results / "gas_profile.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwritten to {results / 'gas_profile.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
