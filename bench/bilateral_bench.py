"""MACD with per-customer terms (issue 14): orders of a registered customer through ``actFor``.

    python bench/bilateral_bench.py            # 500 twins per path, batches of 100: 10,000 single
                                               # operations per single path, 50,000 per bulk path
    python bench/bilateral_bench.py --quick    # 150 twins, batches of 25: 900 / 3,600 (a smoke run)

A registered customer (a wallet that is not a member, registered by the operator in the
CustomerRegistry) is served on bilateral terms: each MACD order states its charge and goes
through ``OperatorAgreement.actFor`` — by the operator alone, or with the customer's EIP-712
consent (the ``useConsent`` Internal call: signature, nonce, deadline). Its confirmation is the
plain ``confirmChange`` / ``confirmChanges`` (the operator confirms either kind of service).
Its bulk order is ``actFor`` op 4: one MACD kind on up to 256 of its services at the
operator's stated unit charge, the total accrued once, by the operator alone or with one
consent over the whole list (``orderChanges`` refuses a bilateral service:
``AgreementBilateralTerms``); the older bulk form, the Constitution's ``executeBatch`` of
``actFor`` op 1 calls, is measured too. Confirmations go in bulk through ``confirmChanges``.
The member customer on the default terms (Initech Enterprise) runs the same operations on its
own twins in the same run, for comparison:

| path | one order | one confirmation |
| --- | --- | --- |
| ``default/single`` | ``orderChange`` (tariff) | ``confirmChange`` |
| ``operator/single`` | ``actFor`` op 1, no consent | ``confirmChange`` |
| ``consent/single`` | ``actFor`` op 1 + consent | ``confirmChange`` |
| ``default/bulk`` | ``orderChanges`` of B | ``confirmChanges`` of B |
| ``operator/bulk`` | ``actFor`` op 4 of B | ``confirmChanges`` of B |
| ``consent/bulk`` | ``actFor`` op 4 of B + one consent over the list | ``confirmChanges`` of B |
| ``default/batch`` | ``executeBatch`` of B ``orderChange`` | ``confirmChanges`` of B |
| ``operator/batch`` | ``executeBatch`` of B ``actFor`` | ``confirmChanges`` of B |
| ``consent/batch`` | ``executeBatch`` of B ``actFor`` + consents | ``confirmChanges`` of B |

Method (saturation, not the knee of bench/run.py): one path at a time, every transaction of
the path (order all its twins, confirm them, ``rounds`` times; ``bulk_rounds`` for the bulk and
batch paths) is signed by the SDK's ``Pipeline`` (the operator's key) and submitted at once to
anvil mining a block every second (the default profile); ops/s = operations / (last
confirmation - first submission), so a path must run several blocks for the figure to mean
anything (the quick sizes do not: a smoke run); outcomes are read from the blocks' transaction
lists and logs (``receipts="logs"``, as bench/run.py: anvil's block receipts cost time quadratic
in the block's size); gas per operation = the receipt ``gasUsed`` of a sample of each kind's
transactions (up to 40) over the operations each carries. The customer's consents are signed
before the clock starts (its wallet signs them off line, before the operator files them);
signing time is reported apart. Then every path is checked on chain: each order executed once
(``ActionExecuted`` per ref, none reverted), the running account moved by exactly the charges
stated, every twin Active again.

Results go into ``bench/results/latest.json`` under ``bilateral_macd`` (bench/run.py's
``merge_results``; the other benchmarks' keys stay). docs/throughput.md and docs/agreement.md
report the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402  (bench/run.py: deployment, merge_results, dev accounts)
from eth_abi import encode  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_utils import keccak  # noqa: E402
from telcochain import Client  # noqa: E402
from telcochain.actions import action_id  # noqa: E402
from telcochain.agreement import MacdKind  # noqa: E402
from telcochain.batch import Batch, encode_execute_action, encode_execute_batch  # noqa: E402
from telcochain.customers import Consent, list_subject, sign_consent  # noqa: E402
from telcochain.node import LocalNode, NodeConfig, free_port  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.throughput import Operation, OpStatus, Pipeline  # noqa: E402
from telcochain.tx import hexint, probe_chain  # noqa: E402
from workload import (  # noqa: E402
    ACTION_EXECUTED,
    DETAILS,
    MACD_KINDS,
    BenchEnv,
    MacdWorkload,
    _check,
    _chunks,
    install_assets,
    register_supplied,
)

#: The registered customer's wallet (not a member; it only signs its consents).
RETAIL = Account.from_key(keccak(text="telcochain bench: registered customer wallet"))
#: The charges the operator states for the registered customer (bilateral; move, add, change), units.
BILATERAL_CHARGES = {0: 61_000_000, 1: 33_000_000, 2: 19_000_000}
ACTION_REVERTED = "0x" + keccak(text="ActionReverted(bytes32,bytes32,address,uint256,bytes)").hex()
PATHS = (
    "default/single",
    "operator/single",
    "consent/single",
    "default/bulk",
    "operator/bulk",
    "consent/bulk",
    "default/batch",
    "operator/batch",
    "consent/batch",
)
#: the top-level actions of an order (ActionExecuted's action topic)
ORDER_ACTIONS = {"0x" + action_id(a).hex() for a in ("orderChange", "orderChanges", "actFor")}
GAS_SAMPLES = 40  # receipts read per operation kind and path, for the gas per operation
GAS_SINGLE = 2_000_000  # a transaction's gas limit (gas is free; the limit only caps)
GAS_PER_BATCHED_OP = 400_000


@dataclass
class PathResult:
    """One path's measurement."""

    name: str
    ops: int = 0
    transactions: int = 0
    confirmed: int = 0
    failed: int = 0
    seconds: float = 0.0
    gas: dict[str, list[float]] = field(default_factory=dict)  # op kind -> gas per op, per sampled transaction
    sign_consents_s: float = 0.0
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        """Every transaction confirmed, every order executed once (none reverted inside a batch),
        the account moved by exactly the charges stated, the twins Active again."""
        c = self.checks
        return (
            self.failed == 0
            and c["balance_matches_charges"]
            and c["order_calls_executed_once"] == c["order_calls"]
            and c["reverted_in_batch"] == 0
            and c["sampled_twin_states"] == ["ACTIVE"]
        )

    def summary(self) -> dict[str, Any]:
        gas = {k: round(statistics.fmean(v)) for k, v in self.gas.items() if v}
        both = [g for v in self.gas.values() for g in v]
        return {
            "ops": self.ops,
            "transactions": self.transactions,
            "ops_per_s": round(self.ops_per_s, 1),
            "seconds": round(self.seconds, 2),
            "gas_per_op": gas,
            "gas_per_op_mean": round(statistics.fmean(both)) if both else 0,
            "failed": self.failed,
            "sign_consents_s": round(self.sign_consents_s, 2),
            "checks": self.checks,
        }


@dataclass
class Settings:
    twins: int  # per path
    batch: int
    rounds: int
    bulk_rounds: int

    @classmethod
    def parse(cls, argv: Sequence[str] | None = None) -> tuple[Settings, list[str], Path]:
        p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        p.add_argument("--quick", action="store_true", help="small sizes (150 twins, batches of 25, 3/12 rounds)")
        p.add_argument("--twins", type=int, help="twins per path (default 500; --quick 150)")
        p.add_argument("--batch", type=int, help="operations per bulk/batch transaction (100; --quick 25)")
        p.add_argument("--rounds", type=int, help="order+confirm rounds per twin, single paths (10; --quick 3)")
        p.add_argument("--bulk-rounds", type=int, help="the same for bulk/batch paths (50; --quick 12)")
        p.add_argument("--paths", default=",".join(PATHS), help="comma-separated subset of " + ", ".join(PATHS))
        p.add_argument("--results-dir", type=Path, default=os.environ.get("BENCH_RESULTS_DIR") or None)
        a = p.parse_args(argv)
        twins = a.twins or (150 if a.quick else 500)
        batch = min(a.batch or (25 if a.quick else 100), twins)
        paths = [x for x in a.paths.split(",") if x]
        unknown = set(paths) - set(PATHS)
        if unknown:
            p.error(f"unknown path(s): {', '.join(sorted(unknown))}")
        results = Path(a.results_dir) if a.results_dir else ROOT / "bench" / "results"
        rounds, bulk_rounds = a.rounds or (3 if a.quick else 10), a.bulk_rounds or (12 if a.quick else 50)
        return cls(twins, batch, rounds, bulk_rounds), paths, results


class Bench:
    """One deployment, the twins of every path, and the paths measured one after another."""

    def __init__(self, rpc: Rpc, operator: Client, vendor: Client, customer: Client, s: Settings) -> None:
        self.rpc, self.operator, self.vendor, self.customer, self.s = rpc, operator, vendor, customer, s
        self.chain = probe_chain(rpc)
        self.constitution = operator.deployment.address("Constitution")
        self.agreement = operator.deployment.address("OperatorAgreement")
        self.registry = operator.deployment.address("CustomerRegistry")
        self.key = run.dev_accounts(1)[0]
        terms = operator.agreement.terms()
        self.tariffs = {int(k): terms.tariff(k) for k in MacdKind}
        self.twins: dict[str, list[bytes]] = {}
        self._ref = 0
        self._nonce = 1

    # -- preparation (automine, before any clock) --------------------------------------------

    def prepare(self, paths: Sequence[str]) -> None:
        self.operator.customers.add(RETAIL.address, signer=RETAIL.address)  # its wallet signs its consents
        env = BenchEnv(self.rpc, self.operator, {"vendor": self.vendor, "customer": self.customer}, [self.key])
        for path in paths:
            ids = [f"BIL-{path}-{i}".encode().ljust(32, b"\0") for i in range(self.s.twins)]
            self.twins[path] = ids
            if path.startswith("default"):
                install_assets(env, ids, self.customer.address or "")
            else:
                self._install_registered(ids)

    def _install_registered(self, ids: Sequence[bytes]) -> None:
        """The registered customer's twins: actFor installations by the operator (free: charge 0),
        the vendor's delivery, the operator's confirmation."""
        register_supplied(self.operator, self.vendor.address or "", ids)
        with Batch(self.operator, chunk=100) as b:
            for asset in ids:
                inner = encode(["bytes32", "address", "bytes32"], [asset, RETAIL.address, b"\0" * 32])
                b.add("actFor", 0, inner, 0, 0, 0, 0, b"")
        _check(b.outcomes, "actFor installation")
        with Batch(self.vendor, chunk=8) as b:
            for part in _chunks(ids, 256):
                b.add("bulkTransition", 2, list(part), b"\0" * 32)  # deliver
        _check(b.outcomes, "deliver")
        with Batch(self.operator, chunk=100) as b:
            for asset in ids:
                b.add("confirmInstallation", asset, b"\0" * 32)
        _check(b.outcomes, "confirmInstallation")

    # -- the calls ---------------------------------------------------------------------------

    def _new_ref(self, path: str) -> bytes:
        self._ref += 1
        return (b"BIL" + PATHS.index(path).to_bytes(1, "big") + self._ref.to_bytes(8, "big")).ljust(32, b"\0")

    def _order(self, path: str, asset: bytes, kind: int, deadline: int) -> tuple[bytes, bytes, bytes, int]:
        """(action, params, ref, charge) of one order of ``path`` on ``asset``."""
        ref = self._new_ref(path)
        if path.startswith("default"):
            params = encode(["uint8", "bytes32", "bytes32"], [kind, asset, DETAILS])
            return action_id("orderChange"), params, ref, self.tariffs[kind]
        charge = BILATERAL_CHARGES[kind]
        inner = encode(["uint8", "bytes32", "bytes32"], [kind, asset, DETAILS])
        sig, nonce, ceiling, until = b"", 0, 0, 0
        if path.startswith("consent"):
            nonce, ceiling, until = self._nonce, charge, deadline
            self._nonce += 1
            consent = Consent(RETAIL.address, self.key.address, "orderChange", asset, kind, ceiling, nonce, until)
            sig = sign_consent(consent, RETAIL.key, self.chain.chain_id, self.registry)
        types = ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"]
        params = encode(types, [1, inner, charge, ceiling, nonce, until, sig])
        return action_id("actFor"), params, ref, charge

    def _bulk_order(
        self, path: str, group: Sequence[bytes], kind: int, deadline: int
    ) -> tuple[bytes, bytes, bytes, int]:
        """(action, params, ref, total charge) of one bulk order of ``path`` on ``group``:
        ``orderChanges`` at the tariff, or ``actFor`` op 4 at the stated unit charge (with a
        consent over the list on the consent path: subject ``list_subject(group)``)."""
        ref = self._new_ref(path)
        inner = encode(["uint8", "bytes32[]", "bytes32"], [kind, list(group), DETAILS])
        if path == "default/bulk":
            return action_id("orderChanges"), inner, ref, self.tariffs[kind] * len(group)
        charge = BILATERAL_CHARGES[kind]
        sig, nonce, ceiling, until = b"", 0, 0, 0
        if path.startswith("consent"):
            nonce, ceiling, until = self._nonce, charge, deadline
            self._nonce += 1
            subject = list_subject(group)
            consent = Consent(RETAIL.address, self.key.address, "orderChanges", subject, kind, ceiling, nonce, until)
            sig = sign_consent(consent, RETAIL.key, self.chain.chain_id, self.registry)
        types = ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"]
        params = encode(types, [4, inner, charge, ceiling, nonce, until, sig])
        return action_id("actFor"), params, ref, charge * len(group)

    def _confirm(self, path: str, assets: Sequence[bytes]) -> tuple[bytes, bytes, bytes]:
        ref = self._new_ref(path)
        if len(assets) == 1 and path.endswith("/single"):
            return action_id("confirmChange"), encode(["bytes32", "bytes32"], [assets[0], DETAILS]), ref
        params = encode(["bool", "bytes32[]", "bytes32"], [False, list(assets), DETAILS])
        return action_id("confirmChanges"), params, ref

    def transactions(self, path: str) -> tuple[list[tuple[Operation, str, int]], int, list[bytes], float]:
        """Every transaction of ``path``: (operation, op kind, operations carried); the charges
        stated in total; the order refs; the seconds spent signing consents."""
        assets = self.twins[path]
        single = path.endswith("/single")
        deadline = int(time.time()) + 7 * 86_400
        txs: list[tuple[Operation, str, int]] = []
        charges, refs, signing, turn = 0, [], 0.0, 0
        groups = [[a] for a in assets] if single else [list(g) for g in _chunks(assets, self.s.batch)]
        for _ in range(self.s.rounds if single else self.s.bulk_rounds):
            for group in groups:  # orders first (nonce order: each precedes its confirmation)
                if path.endswith("/bulk"):
                    kind = MACD_KINDS[turn % len(MACD_KINDS)]
                    turn += 1
                    t0 = time.perf_counter()
                    action, params, ref, charge = self._bulk_order(path, group, kind, deadline)
                    signing += time.perf_counter() - t0 if path.startswith("consent") else 0.0
                    data = encode_execute_action(action, params, ref)
                    charges += charge
                    refs.append(ref)
                else:
                    calls = []
                    for asset in group:
                        kind = MACD_KINDS[turn % len(MACD_KINDS)]
                        turn += 1
                        t0 = time.perf_counter()
                        action, params, ref, charge = self._order(path, asset, kind, deadline)
                        signing += time.perf_counter() - t0 if path.startswith("consent") else 0.0
                        calls.append((action, params, ref))
                        charges += charge
                        refs.append(ref)
                    data = encode_execute_action(*calls[0]) if single else encode_execute_batch(calls)
                gas = GAS_SINGLE if single else GAS_PER_BATCHED_OP * len(group)
                txs.append((Operation(self.constitution, data, gas, sender=0), "order", len(group)))
            for group in groups:
                action, params, ref = self._confirm(path, group)
                gas = GAS_SINGLE if single else GAS_PER_BATCHED_OP * len(group)
                op = Operation(self.constitution, encode_execute_action(action, params, ref), gas, sender=0)
                txs.append((op, "confirm", len(group)))
        return txs, charges, refs, signing

    # -- one path ----------------------------------------------------------------------------

    def measure(self, path: str) -> PathResult:
        customer = self.customer.address if path.startswith("default") else RETAIL.address
        result = PathResult(path)
        txs, charges, refs, signing = self.transactions(path)
        result.sign_consents_s = signing
        balance_before = self.operator.agreement.account(customer or "").balance
        first_block = hexint(self.rpc.call("eth_blockNumber")) + 1
        reading = {"receipts": "logs", "success_logs": {"address": self.constitution, "topics": [ACTION_EXECUTED]}}
        with Pipeline(self.rpc, [self.key], self.chain, send_batch=200, **reading) as pipe:  # type: ignore[arg-type]
            started = time.monotonic()
            outcomes = pipe.run([op for op, _, _ in txs], timeout=900)
        last = max((o.confirmed_at for o in outcomes if o.confirmed_at), default=started)
        result.seconds = last - started
        result.transactions = len(txs)
        result.ops = sum(n for _, _, n in txs)
        sampled: dict[str, int] = {}
        for (_, kind, n), o in zip(txs, outcomes, strict=True):
            if o.status != OpStatus.CONFIRMED:
                result.failed += n
                result.checks.setdefault("first_error", repr(o.error)[:300])
                continue
            result.confirmed += n
            if sampled.get(kind, 0) < GAS_SAMPLES:  # the gas of a sample of each kind's transactions
                sampled[kind] = sampled.get(kind, 0) + 1
                receipt = self.rpc.call("eth_getTransactionReceipt", [o.tx_hash])
                result.gas.setdefault(kind, []).append(hexint(receipt["gasUsed"]) / n)
        last_block = hexint(self.rpc.call("eth_blockNumber"))
        result.checks |= self._check(path, customer or "", refs, charges, balance_before, first_block, last_block)
        return result

    def _check(
        self, path: str, customer: str, refs: list[bytes], charges: int, before: int, first: int, last: int
    ) -> dict[str, Any]:
        """On chain: each order executed exactly once and none reverted inside a batch, the running
        account moved by exactly the charges stated, every twin Active again."""
        executed: dict[bytes, int] = {}
        reverted, first_revert = 0, ""
        for start in range(first, last + 1, 8):
            end = min(last, start + 7)
            logs = self.rpc.call(
                "eth_getLogs",
                [
                    {
                        "address": self.constitution,
                        "fromBlock": hex(start),
                        "toBlock": hex(end),
                        "topics": [[ACTION_EXECUTED, ACTION_REVERTED]],
                    }
                ],
            )
            for log in logs:
                if log["topics"][0] == ACTION_REVERTED:
                    reverted += 1
                    first_revert = first_revert or log["data"][-200:]
                    continue
                if log["topics"][2] not in ORDER_ACTIONS:  # the Internal calls it made carry its ref too
                    continue
                ref = bytes.fromhex(log["topics"][1][2:])
                executed[ref] = executed.get(ref, 0) + 1
        orders_once = sum(1 for r in refs if executed.get(r) == 1)
        balance = self.operator.agreement.account(customer).balance
        states = {self.operator.assets.get(a).state.name for a in self.twins[path][:: max(1, self.s.twins // 20)]}
        return {
            "order_calls": len(refs),
            "order_calls_executed_once": orders_once,
            "reverted_in_batch": reverted,
            **({"first_revert": first_revert} if first_revert else {}),
            "charges_stated": charges,
            "balance_moved": balance - before,
            "balance_matches_charges": balance - before == charges,
            "sampled_twin_states": sorted(states),
        }


def main(argv: Sequence[str] | None = None) -> int:
    settings, paths, results_dir = Settings.parse(argv)
    os.chdir(ROOT)  # ape finds the project from the working directory
    accounts = run.dev_accounts(10)
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-bilateral-"))
    node = LocalNode(NodeConfig(data_dir=workdir, port=free_port(), gas_limit=run.GAS_LIMIT, persist=False))
    t_start = time.monotonic()
    node.start()
    url = node.config.rpc_url
    os.environ["APE_FOUNDRY_HOST"] = url
    try:
        from ape import networks
        from ape.logging import logger

        logger.set_level("WARNING")
        with networks.parse_network_choice("ethereum:local:foundry"):
            return _main(settings, paths, results_dir, url, accounts, workdir, t_start)
    finally:
        node.stop()


def _main(
    s: Settings, paths: list[str], results_dir: Path, url: str, accounts: list[Any], workdir: Path, t_start: float
) -> int:
    rpc = Rpc(url, timeout=120)
    print(f"==> anvil on {url}; deploying (ape) ...", flush=True)
    deployment = run.deploy(run.bench_consortium([], [], workdir, MacdWorkload.configure))
    chain = probe_chain(rpc)
    operator = Client(rpc, chain, deployment, accounts[0])
    vendor = Client(rpc, chain, deployment, accounts[1])
    customer = Client(rpc, chain, deployment, accounts[3])  # Initech Enterprise, default terms
    bench = Bench(rpc, operator, vendor, customer, s)
    t0 = time.monotonic()
    bench.prepare(paths)
    print(f"==> {s.twins} twins per path x {len(paths)} paths Active in {time.monotonic() - t0:.1f} s", flush=True)
    run.set_profile(rpc, run.Profile("default", 1, run.GAS_LIMIT, None, [], []))
    measured: dict[str, PathResult] = {}
    for path in paths:
        r = bench.measure(path)
        measured[path] = r
        g = {k: round(statistics.fmean(v)) for k, v in r.gas.items() if v}
        print(
            f"--> {path:<16} {r.ops:>6} ops in {r.transactions:>5} txs: {r.ops_per_s:>8,.1f} ops/s, "
            f"gas/op order {g.get('order', 0):>7,} confirm {g.get('confirm', 0):>7,}; "
            f"checks {'ok' if r.ok else 'FAILED'}",
            flush=True,
        )
    summary = {name: r.summary() for name, r in measured.items()}

    def ratio(a: str, b: str) -> float | None:
        x, y = measured.get(a), measured.get(b)
        return round(x.ops_per_s / y.ops_per_s, 3) if x and y and y.ops_per_s else None

    ok = all(r.ok for r in measured.values())
    results = {
        "bilateral_macd": {
            "method": "saturation: all of a path's transactions submitted at once, 1 s blocks, one sender",
            "paths": summary,
            "operator_vs_default_single": ratio("operator/single", "default/single"),
            "consent_vs_default_single": ratio("consent/single", "default/single"),
            "operator_bulk_vs_default_bulk": ratio("operator/bulk", "default/bulk"),
            "consent_bulk_vs_default_bulk": ratio("consent/bulk", "default/bulk"),
            "operator_batch_vs_default_bulk": ratio("operator/batch", "default/bulk"),
            "consent_batch_vs_default_bulk": ratio("consent/batch", "default/bulk"),
            "bulk_order_for_registered_customers": True,  # actFor op 4
            "all_checks_ok": ok,
            "config": {"twins_per_path": s.twins, "batch": s.batch, "rounds": s.rounds, "bulk_rounds": s.bulk_rounds},
            "machine": {"cpus": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]},
            "total_seconds": round(time.monotonic() - t_start, 1),
        }
    }
    latest = run.merge_results(results, results_dir)
    print(f"load average {os.getloadavg()}; merged into {latest} (bilateral_macd)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
