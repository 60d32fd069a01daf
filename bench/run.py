"""Benchmarks of the SDK's transaction path (prints measured figures; asserts nothing).

    make bench                      # or: python bench/run.py [--txs N]

Starts its own anvil (berlin, gas price 0, --block-time 1 as a QBFT-like block period),
deploys a Constitution, then sends N trust-key rotations — the built-in action
refreshTrustKeys through executeAction: a permission check, a state change and two events —
through:

1. web3.py, the naive way: `contract.functions.f(...).transact()` one after another,
   each waiting for its receipt (anvil signs: no client-side signing cost).
2. the SDK, one by one: `Client.constitution.rotate_trust_key` (estimate, sign, send,
   wait) — the path a CLI user takes.
3. the SDK, pipelined: pre-signed with local nonces, sent as JSON-RPC batches of
   `eth_sendRawTransaction`, receipts polled in batches.

Results go to stdout and bench/results/sdk_tx.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from eth_account import Account
from web3 import Web3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from telcochain import Client  # noqa: E402
from telcochain.abi import abi_hash, load_abi  # noqa: E402
from telcochain.actions import action_id  # noqa: E402
from telcochain.consortium import load_consortium  # noqa: E402
from telcochain.contract import Contract  # noqa: E402
from telcochain.deployment import DeployedContract, Deployment  # noqa: E402
from telcochain.node import DEV_MNEMONIC, LocalNode, NodeConfig, free_port  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.tx import TxSender, probe_chain  # noqa: E402


def deploy_constitution(rpc: Rpc, deployer) -> Deployment:  # type: ignore[no-untyped-def]
    """Deploy from the ape build without ape (a benchmark should not measure ape's start-up)."""
    from eth_abi import encode

    build = json.loads((ROOT / ".build" / "__local__.json").read_text())
    bytecode = build["contractTypes"]["Constitution"]["deploymentBytecode"]["bytecode"]
    config = load_consortium(ROOT / "consortium.yaml")
    founders = [(m.address, m.trust_key, m.name) for m in config.members]
    args = encode(["(address,bytes32,string)[]"], [founders]).hex()
    sender = TxSender(rpc, deployer, probe_chain(rpc))
    receipt = sender.wait(sender.send(None, bytecode + args, gas=8_000_000))
    assert receipt.contract_address, "deployment failed"
    contract = DeployedContract(
        "Constitution",
        receipt.contract_address,
        receipt.block_number,
        receipt.tx_hash,
        abi_hash(load_abi("Constitution")),
    )
    return Deployment("bench", probe_chain(rpc).chain_id, {"Constitution": contract})


def bench_web3_naive(url: str, address: str, account, n: int) -> dict:  # type: ignore[no-untyped-def]
    w3 = Web3(Web3.HTTPProvider(url))
    contract = w3.eth.contract(address=address, abi=load_abi("Constitution"))
    latencies = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        key = (i + 1).to_bytes(32, "big")
        tx = contract.functions.executeAction(action_id("refreshTrustKeys"), key, b"\0" * 32).transact(
            {"from": account.address, "gasPrice": 0}
        )
        w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.05)
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    return {"txs": n, "seconds": elapsed, "tx_per_s": n / elapsed, "p50_ms": 1000 * statistics.median(latencies)}


def bench_sdk_single(client: Client, n: int) -> dict:
    latencies = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        client.constitution.rotate_trust_key((i + 1).to_bytes(32, "big"))
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    return {"txs": n, "seconds": elapsed, "tx_per_s": n / elapsed, "p50_ms": 1000 * statistics.median(latencies)}


def bench_sdk_pipelined(client: Client, n: int, batch: int = 500) -> dict:
    sender = client.sender
    assert sender is not None
    contract: Contract = client.contract("Constitution")
    gas = 120_000
    rotate = action_id("refreshTrustKeys")
    t0 = time.perf_counter()
    raws, hashes = [], []
    first = None
    for i in range(n):
        nonce = sender.allocate_nonce()
        first = nonce if first is None else first
        data = contract.encode("executeAction", rotate, (i + 1).to_bytes(32, "big"), b"\0" * 32)
        raw, tx_hash = sender.sign(sender.build(contract.address, data, gas=gas, nonce=nonce))
        raws.append(raw)
        hashes.append(tx_hash)
    signed = time.perf_counter()
    for offset in range(0, n, batch):
        client.rpc.batch([("eth_sendRawTransaction", [raw]) for raw in raws[offset : offset + batch]])
    sent = time.perf_counter()
    receipts = sender.wait_many(hashes, timeout=600)
    done = time.perf_counter()
    ok = sum(r.succeeded for r in receipts)
    return {
        "txs": n,
        "confirmed": ok,
        "sign_per_s": n / (signed - t0),
        "send_per_s": n / (sent - signed),
        "seconds": done - t0,
        "tx_per_s": ok / (done - t0),
        "gas_per_tx": statistics.mean(r.gas_used for r in receipts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=2000, help="transactions for the pipelined run")
    parser.add_argument("--single", type=int, default=200, help="transactions for the one-by-one runs")
    args = parser.parse_args()

    Account.enable_unaudited_hdwallet_features()
    accounts = [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(4)]
    data_dir = ROOT / ".telcochain" / "bench-node"
    results: dict[str, object] = {}
    # Automine for the one-by-one paths (each waits for its own block), interval mining for the burst.
    for block_time in (None, 1.0):
        config = NodeConfig(
            data_dir=data_dir, port=free_port(), block_time=block_time, persist=False, gas_limit=300_000_000
        )
        node = LocalNode(config)
        node.start()
        try:
            rpc = Rpc(node.config.rpc_url)
            deployment = deploy_constitution(rpc, accounts[0])
            if block_time is None:
                client = Client.connect(node.config.rpc_url, accounts[1], deployment=deployment)
                results["web3_naive_transact"] = bench_web3_naive(
                    node.config.rpc_url, deployment.address("Constitution"), accounts[0], args.single
                )
                results["sdk_one_by_one"] = bench_sdk_single(client, args.single)
            else:
                client = Client.connect(node.config.rpc_url, accounts[2], deployment=deployment)
                results["sdk_pipelined_batches"] = bench_sdk_pipelined(client, args.txs)
        finally:
            node.stop()

    print(f"{'path':<24} {'txs':>6} {'tx/s':>9} {'p50 ms':>8}  notes")
    for name, r in results.items():
        assert isinstance(r, dict)
        notes = ""
        if "sign_per_s" in r:
            notes = f"signing {r['sign_per_s']:,.0f}/s, sending {r['send_per_s']:,.0f}/s, {r['gas_per_tx']:,.0f} gas/tx"
        p50 = f"{r['p50_ms']:.1f}" if "p50_ms" in r else "-"
        print(f"{name:<24} {r['txs']:>6} {r['tx_per_s']:>9,.0f} {p50:>8}  {notes}")
    out = ROOT / "bench" / "results" / "sdk_tx.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
