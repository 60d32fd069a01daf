"""The high-throughput path (telcochain.throughput): correctness, not speed.

Each test module node is its own anvil (interval mining, like the benchmark); no deployment is
needed: operations are value transfers and calls to a two-opcode contract that always reverts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from telcochain.errors import ConfigurationError
from telcochain.node import LocalNode, NodeConfig, free_port
from telcochain.rpc import Rpc
from telcochain.throughput import FastSigner, Operation, OpStatus, Pipeline, latency_percentiles, senders_needed
from telcochain.tx import FeeMode, TxSender, hexint, probe_chain

from tests.support.paths import ROOT

#: Creation code whose runtime is PUSH1 0 PUSH1 0 REVERT: every call reverts.
REVERTER_INITCODE = "0x600580600b6000396000f360006000fd"
#: Creation code whose runtime is PUSH1 0 PUSH1 0 LOG0 STOP: every call emits one empty log.
LOGGER_INITCODE = "0x600680600b6000396000f360006000a000"


def _node(tmp_path: Path, block_time: float | None) -> Iterator[Rpc]:
    node = LocalNode(NodeConfig(data_dir=tmp_path, port=free_port(), block_time=block_time, persist=False))
    node.start()
    try:
        yield Rpc(node.config.rpc_url)
    finally:
        node.stop()


@pytest.fixture(scope="module")
def interval_rpc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rpc]:
    """An anvil mining a block every second (the benchmark's mode)."""
    yield from _node(tmp_path_factory.mktemp("interval"), 1)


@pytest.fixture
def manual_rpc(tmp_path: Path) -> Iterator[Rpc]:
    """An anvil that mines only when told (evm_mine)."""
    for rpc in _node(tmp_path, None):
        rpc.call("evm_setAutomine", [False])
        yield rpc


def _transfers(n: int, sink: str) -> list[Operation]:
    return [Operation(sink, b"", 21_000, value=i + 1) for i in range(n)]


def test_fast_signer_matches_eth_account(dev_accounts: list[LocalAccount]) -> None:
    account = dev_accounts[0]
    for mode, price in ((FeeMode.LEGACY, 0), (FeeMode.LEGACY, 7 * 10**9), (FeeMode.EIP1559, 10**9)):
        signer = FastSigner(bytes(account.key), 31337, mode, price)
        assert signer.address == account.address
        for nonce, to, data in ((0, bytes(20), b""), (300, bytes.fromhex("11" * 20), b"\1" * 300), (1, None, b"\xab")):
            tx = {"chainId": 31337, "nonce": nonce, "gas": 90_000, "value": 0, "data": data}
            if to is not None:
                tx["to"] = "0x" + to.hex()
            if mode is FeeMode.LEGACY:
                tx["gasPrice"] = price
            else:
                tx.update(type=2, maxPriorityFeePerGas=10**9, maxFeePerGas=2 * price + 10**9)
            expected = account.sign_transaction(tx)
            assert signer.sign(nonce, to, data, 90_000) == (bytes(expected.raw_transaction), bytes(expected.hash))


def test_many_ops_over_senders_confirmed_exactly_once(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    senders = dev_accounts[4:7]
    sink = Account.create().address
    n = 900
    with Pipeline(interval_rpc, senders, send_batch=200) as pipe:
        outcomes = pipe.submit(_transfers(n // 2, sink))
        outcomes += pipe.submit(_transfers(n - n // 2, sink))
        pipe.drain(timeout=60)
    assert [o.status for o in outcomes] == [OpStatus.CONFIRMED] * n
    assert Counter(o.sender for o in outcomes) == {s.address: n // 3 for s in senders}
    assert len({o.tx_hash for o in outcomes}) == n
    assert all(o.gas_used == 21_000 and o.block_number and o.latency and o.latency > 0 for o in outcomes)
    # on chain exactly once: every hash is in a block, and the sink got every value once
    blocks = sorted({o.block_number for o in outcomes if o.block_number})
    mined = Counter(
        h for b in blocks for h in interval_rpc.call("eth_getBlockByNumber", [hex(b), False])["transactions"]
    )
    assert all(mined[o.tx_hash] == 1 for o in outcomes)
    balance = hexint(interval_rpc.call("eth_getBalance", [sink, "latest"]))
    assert balance == sum(range(1, n // 2 + 1)) + sum(range(1, n - n // 2 + 1))
    assert latency_percentiles(outcomes)[50] > 0


def test_a_pending_cap_per_sender_spreads_the_load_and_is_kept(
    interval_rpc: Rpc, dev_accounts: list[LocalAccount]
) -> None:
    """max_pending_per_sender: submit waits for room instead of piling a sender's transactions
    up (no block holds more than the cap from one sender), the load goes to the sender with
    the fewest pending, and senders_used counts the accounts that carried operations."""
    sink = Account.create().address
    cap, senders, n = 20, dev_accounts[4:7], 150  # 150 > 3 x 20: without the cap, one block
    with Pipeline(interval_rpc, senders, receipts="inclusion", max_pending_per_sender=cap) as pipe:
        outcomes = pipe.submit(_transfers(n, sink))
        pipe.drain(timeout=60)
        assert pipe.senders_used == 3
        assert pipe.pending_by_sender() == {s.address: 0 for s in senders}
    assert [o.status for o in outcomes] == [OpStatus.CONFIRMED] * n
    per_block = Counter((o.block_number, o.sender) for o in outcomes)
    assert max(per_block.values()) <= cap
    assert len({o.block_number for o in outcomes}) >= n // (cap * 3)
    assert set(Counter(o.sender for o in outcomes)) == {s.address for s in senders}
    with Pipeline(interval_rpc, dev_accounts[4:9], receipts="inclusion", max_pending_per_sender=cap) as pipe:
        pipe.run(_transfers(2, sink), timeout=30)
        assert pipe.senders_used == 2  # two operations: the two least-loaded senders, not five


def test_senders_needed_keeps_two_blocks_under_the_cap() -> None:
    # Besu-like: 2 s blocks, 200 pending per sender; two blocks in flight: 50 transactions/s a key
    assert senders_needed(50, 2, 200) == 1
    assert senders_needed(51, 2, 200) == 2
    assert senders_needed(1_500, 2, 200) == 30
    assert senders_needed(0, 2, 200) == 1
    with pytest.raises(ConfigurationError):
        senders_needed(100, 2, 0)


def test_outcomes_include_a_reverting_op(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    deployer = TxSender(interval_rpc, dev_accounts[7], probe_chain(interval_rpc))
    reverter = deployer.wait(deployer.send(None, REVERTER_INITCODE, gas=100_000), timeout=30).contract_address
    assert reverter
    sink = Account.create().address
    ops = [Operation(sink, b"", 21_000, value=1), Operation(reverter, b"\1\2", 50_000, tag="boom")]
    ops.append(Operation(sink, b"", 21_000, value=2))
    with Pipeline(interval_rpc, [dev_accounts[7]]) as pipe:
        ok1, bad, ok2 = pipe.run(ops, timeout=30)
    assert ok1.status is OpStatus.CONFIRMED and ok2.status is OpStatus.CONFIRMED
    assert bad.status is OpStatus.REVERTED and bad.tag == "boom"
    assert bad.block_number and 21_000 < bad.gas_used < 50_000 and bad.error is not None
    assert [ok1.nonce + 1, ok1.nonce + 2] == [bad.nonce, ok2.nonce]


def test_outcomes_from_block_lists_and_logs_are_exact(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    """receipts="logs": a log → confirmed; no log → the receipt decides (reverted, or a success
    the filter did not cover); gas is read for a sample."""
    deployer = TxSender(interval_rpc, dev_accounts[6], probe_chain(interval_rpc))
    logger, reverter = (
        deployer.wait(deployer.send(None, code, gas=100_000), timeout=30).contract_address
        for code in (LOGGER_INITCODE, REVERTER_INITCODE)
    )
    assert logger and reverter
    ops = [Operation(logger, b"", 50_000) for _ in range(5)]
    ops += [Operation(reverter, b"", 50_000), Operation(Account.create().address, b"", 21_000, value=1)]
    with Pipeline(interval_rpc, [dev_accounts[6]], receipts="logs", success_logs={"address": logger}) as pipe:
        outcomes = pipe.run(ops, timeout=30)
    assert [o.status for o in outcomes] == [OpStatus.CONFIRMED] * 5 + [OpStatus.REVERTED, OpStatus.CONFIRMED]
    assert all(o.block_number for o in outcomes)
    assert outcomes[-1].gas_used == 21_000 and outcomes[-2].gas_used > 21_000  # receipts read
    assert 1 <= sum(1 for o in outcomes[:5] if o.gas_used) <= 5  # a sample


def test_refused_op_is_reported_and_its_nonce_filled(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    sink = Account.create().address
    ops = [Operation(sink, b"", 21_000, value=1), Operation(sink, b"", 20_000, value=2)]  # intrinsic gas too low
    ops.append(Operation(sink, b"", 21_000, value=4))
    with Pipeline(interval_rpc, [dev_accounts[8]]) as pipe:
        first, refused, last = pipe.run(ops, timeout=30)
        assert pipe.stats.fillers == 1
    assert refused.status is OpStatus.REFUSED and "refused" in str(refused.error)
    assert first.status is OpStatus.CONFIRMED and last.status is OpStatus.CONFIRMED  # not stuck behind the gap
    assert hexint(interval_rpc.call("eth_getBalance", [sink, "latest"])) == 5


def test_nonce_resync_after_a_stale_nonce(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    account = dev_accounts[9]
    sink = Account.create().address
    with Pipeline(interval_rpc, [account]) as pipe:
        pipe.run(_transfers(3, sink), timeout=30)
        # the same account sends behind the pipeline's back: its local nonces are now stale
        other = TxSender(interval_rpc, account, probe_chain(interval_rpc))
        for _ in range(2):
            other.wait(other.send(sink, "0x", gas=21_000, value=1000), timeout=30)
        outcomes = pipe.run(_transfers(5, sink), timeout=30)
        assert pipe.stats.resyncs >= 1
    assert all(o.status is OpStatus.CONFIRMED for o in outcomes)
    assert sum(o.resigned for o in outcomes) == 2  # the two ops whose nonces were taken
    assert hexint(interval_rpc.call("eth_getBalance", [sink, "latest"])) == 6 + 2000 + 15


def test_dropped_transaction_is_rebroadcast(manual_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    sink = Account.create().address
    with Pipeline(manual_rpc, [dev_accounts[1]], rebroadcast_after=0.3) as pipe:
        (outcome,) = pipe.submit([Operation(sink, b"", 21_000, value=7)])
        deadline = time.monotonic() + 10
        while not outcome.sent_at and time.monotonic() < deadline:
            time.sleep(0.02)
        assert manual_rpc.call("eth_getTransactionByHash", [outcome.tx_hash]) is not None
        manual_rpc.call("anvil_dropTransaction", [outcome.tx_hash])
        assert manual_rpc.call("eth_getTransactionByHash", [outcome.tx_hash]) is None
        while outcome.rebroadcasts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert manual_rpc.call("eth_getTransactionByHash", [outcome.tx_hash]) is not None  # back in the pool
        manual_rpc.call("evm_mine")
        pipe.drain(timeout=10)
    assert outcome.status is OpStatus.CONFIRMED and outcome.rebroadcasts >= 1
    assert hexint(manual_rpc.call("eth_getBalance", [sink, "latest"])) == 7


def test_unmined_op_is_lost_after_the_deadline(manual_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    with Pipeline(manual_rpc, [dev_accounts[2]]) as pipe:
        (outcome,) = pipe.run([Operation(Account.create().address, b"", 21_000)], timeout=0.5)
    assert outcome.status is OpStatus.LOST and outcome.error is not None


def test_receipts_by_transaction_fallback(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    with Pipeline(interval_rpc, dev_accounts[4:6], receipts="tx") as pipe:
        outcomes = pipe.run(_transfers(50, Account.create().address), timeout=30)
    assert all(o.status is OpStatus.CONFIRMED for o in outcomes)


@pytest.mark.slow
def test_inclusion_receipts_settle_transfers(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    """receipts="inclusion": a mined transfer is confirmed from the block's list alone, gas sampled."""
    sink = Account.create().address
    with Pipeline(interval_rpc, dev_accounts[4:6], receipts="inclusion") as pipe:
        outcomes = pipe.run(_transfers(200, sink), timeout=60)
    assert [o.status for o in outcomes] == [OpStatus.CONFIRMED] * 200
    assert all(o.block_number for o in outcomes)
    assert {o.gas_used for o in outcomes} <= {0, 21_000} and any(o.gas_used == 21_000 for o in outcomes)
    assert hexint(interval_rpc.call("eth_getBalance", [sink, "latest"])) == sum(range(1, 201))


def _knee_module() -> object:
    sys.path.insert(0, str(ROOT / "bench"))
    import knee  # bench/knee.py

    return knee


def test_knee_rule_on_synthetic_steps() -> None:
    """The knee: the highest offer confirmed >= 95 %, p95 <= 2 block times, nothing lost; a
    growing backlog (latency rising with the schedule) gives the capacity, not the offer."""
    knee = _knee_module()
    step_cls, record = knee.Step, knee.StepRecord  # type: ignore[attr-defined]

    def step(offered: float, capacity: float, base: float = 0.5, lost: int = 0) -> object:
        s = step_cls("t/single", "t", "single", offered, 10, 1, 1.0)
        s.started = 0.0
        n = int(offered * 10)
        for i in range(n):
            t = i / offered
            done = max(t, i / capacity) + base  # served at the capacity's pace once behind
            s.records.append(record(bytes(8) + i.to_bytes(8, "big"), t, done, "confirmed"))
        s.lost = lost
        return s

    easy, edge, over = step(100, 1000), step(800, 1000), step(2000, 1000)
    assert easy.ok and edge.ok and not over.ok
    assert abs(easy.confirmed_ops_per_s - 100) < 1
    assert abs(over.confirmed_ops_per_s - 1000) < 50  # capacity, from the latency drift
    assert knee.knee([easy, edge, over]) is edge  # type: ignore[attr-defined]
    slow = step(400, 1000, base=2.5)  # p95 beyond 2 block times
    assert not slow.ok and knee.knee([easy, slow]) is easy  # type: ignore[attr-defined]
    leaky = step(400, 1000, lost=1)
    assert not leaky.ok and knee.should_stop([easy, leaky])  # type: ignore[attr-defined]
    assert knee.should_stop([easy, edge]) is False  # type: ignore[attr-defined]
    assert knee.should_stop([edge, over])  # p95 past 3 block times  # type: ignore[attr-defined]
    # a step that grew < 5 % over the previous one stops the series (840 = 1.05 x 800)
    assert knee.should_stop([edge, step(900, 1000)]) is False and knee.should_stop([edge, step(820, 1000)])  # type: ignore[attr-defined]


def test_open_loop_step_keeps_the_pending_cap(interval_rpc: Rpc, dev_accounts: list[LocalAccount]) -> None:
    """A capped profile: never more than the cap pending per sender; the client-side backlog
    shows as latency, and the confirmed rate is what the cap lets through, not the offer."""
    knee = _knee_module()
    sink = Account.create().address
    cap, senders = 25, 2

    def make() -> tuple[Operation, tuple[bytes, ...]]:
        return Operation(sink, b"", 21_000, value=1), ()

    with Pipeline(interval_rpc, dev_accounts[6:8], receipts="inclusion") as pipe:
        step = knee.run_step(  # type: ignore[attr-defined]
            knee.Step("t/transfer", "t", "transfer", 100, 2, 1, 1.0), pipe, make, senders, cap, drain_timeout=60
        )
    assert len(step.records) == 200 and len(step.confirmed) == 200
    assert step.notes["peak_pending_per_sender"] <= cap and step.notes["senders_used"] == senders
    assert step.notes["max_txs_per_block"] <= cap * senders
    assert 25 <= step.confirmed_ops_per_s <= 75  # ~50/s: 2 senders x 25 per 1 s block, not the offered 100
    assert not step.ok


def test_bench_smoke(tmp_path: Path) -> None:
    """bench/run.py end to end in its short mode (BENCH_STEP_SECONDS, BENCH_MAX_STEPS: two one-second
    steps per series) in about half a minute: every key of latest.json, both profiles' curves, the
    Besu-like pending cap kept, nothing lost or duplicated, every charge recorded as the tariff says."""
    import json

    out = tmp_path / "results"
    env = dict(
        os.environ,
        BENCH_STEP_SECONDS="1",
        BENCH_MAX_STEPS="2",
        BENCH_ASSETS="300",
        BENCH_BASELINE_SECONDS="0",
        BENCH_RESULTS_DIR=str(out),
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py")], env=env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 90
    data = json.loads((out / "latest.json").read_text())
    for key in (
        "knee_single_ops_per_s",
        "knee_bulk_ops_per_s",
        "knee_single_besu_profile_ops_per_s",
        "knee_bulk_besu_profile_ops_per_s",
        "raw_transfer_ops_per_s",
        "single_vs_raw",
        "senders_used",
        "curve",
        "gas_per_op_single",
        "gas_per_op_bulk",
        "ops_sent",
        "ops_confirmed",
        "ops_lost",
    ):
        assert key in data, key
    assert (out / "latest.png").stat().st_size > 0
    assert data["workload"].startswith("macd")
    curve = data["curve"]
    series = ("default/single", "default/bulk", "default/transfer", "besu/single", "besu/bulk", "besu/transfer")
    assert set(curve) == set(series)
    for name in series:
        steps = curve[name]
        assert 1 <= len(steps) <= 2, name
        assert [s["offered_ops_per_s"] for s in steps] == sorted(s["offered_ops_per_s"] for s in steps), name
        for s in steps:
            assert s["lost"] == 0 and s["duplicated"] == 0 and s["confirmed"] == s["ops"] > 0, (name, s)
            if name.startswith("besu/"):  # the Besu-like pool: never more than 200 pending per sender
                assert 0 < s["peak_pending_per_sender"] <= 200, (name, s)
        # the knee is one of the offered rates that met the rule, or 0 when none did
        knee_keys = {
            "default/single": "knee_single_ops_per_s",
            "default/bulk": "knee_bulk_ops_per_s",
            "besu/single": "knee_single_besu_profile_ops_per_s",
            "besu/bulk": "knee_bulk_besu_profile_ops_per_s",
            "default/transfer": "raw_transfer_ops_per_s",
        }
        if name in knee_keys:
            within = [s for s in steps if s["within_knee"]]
            top = max(within, key=lambda s: s["offered_ops_per_s"])["confirmed_ops_per_s"] if within else 0.0
            assert data[knee_keys[name]] == top, name
        assert data["senders_used"][name] >= 1
    assert data["senders_used"]["besu/transfer"] > 1  # transfers spread over several accounts
    assert data["ops_lost"] == 0 and data["ops_duplicated"] == 0
    assert data["ops_confirmed"] == data["ops_sent"] > 0
    assert data["gas_per_op_single"] > data["gas_per_op_bulk"] > 0
    checks = data["on_chain_checks"]  # every charge as the tariff says, and the running account adds up
    assert checks["charge_errors"] == 0 and checks["action_vs_module_event_mismatches"] == 0
    assert checks["balance_matches_charges"] and checks["charged_on_chain"] > 0


@pytest.mark.slow
def test_bilateral_bench_smoke(tmp_path: Path) -> None:
    """bench/bilateral_bench.py (issue 14: MACD of a registered customer through actFor, single,
    bulk (op 4) and executeBatch) end to end
    at tiny sizes: every path measured, its operations all confirmed and checked on chain (each
    order executed once, the running account moved by exactly the charges stated), gas per order
    and confirmation reported, merged into latest.json next to what was there."""
    import json

    out = tmp_path / "results"
    out.mkdir()
    (out / "latest.json").write_text(json.dumps({"knee_single_ops_per_s": 1.0}))
    args = ["--twins", "4", "--batch", "2", "--rounds", "1", "--bulk-rounds", "1", "--results-dir", str(out)]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bilateral_bench.py"), *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "latest.json").read_text())
    assert data["knee_single_ops_per_s"] == 1.0  # the other benchmarks' keys stay
    bench = data["bilateral_macd"]
    assert bench["all_checks_ok"] and bench["bulk_order_for_registered_customers"] is True
    paths = bench["paths"]
    assert set(paths) == {
        "default/single",
        "operator/single",
        "consent/single",
        "default/bulk",
        "operator/bulk",
        "consent/bulk",
        "default/batch",
        "operator/batch",
        "consent/batch",
    }
    for name, p in paths.items():
        assert p["ops"] == 8 and p["failed"] == 0 and p["ops_per_s"] > 0, (name, p)
        assert p["gas_per_op"]["order"] > 0 and p["gas_per_op"]["confirm"] > 0, (name, p)
        c = p["checks"]
        assert c["balance_matches_charges"] and c["charges_stated"] > 0, (name, c)
        assert c["order_calls_executed_once"] == c["order_calls"] > 0 and c["reverted_in_batch"] == 0, (name, c)
    # a consent costs gas on top of the operator's own request, which costs more than the tariff's
    single = {k: paths[f"{k}/single"]["gas_per_op"]["order"] for k in ("default", "operator", "consent")}
    assert single["consent"] > single["operator"] > single["default"]
    assert paths["default/bulk"]["gas_per_op"]["order"] < single["default"]
    # a registered customer's bulk order (actFor op 4) costs less per asset than its executeBatch
    for who in ("operator", "consent"):
        assert paths[f"{who}/bulk"]["gas_per_op"]["order"] < paths[f"{who}/batch"]["gas_per_op"]["order"], who
