"""The SDK's senders through a proxy that drops, delays and corrupts replies: every operation
ends applied once or provably not at all — never twice, never silently lost."""

from __future__ import annotations

import time

from eth_account import Account
from telcochain.errors import NodeUnreachable, PipelineStopped, TransactionError, TransactionUnknown
from telcochain.rpc import Rpc
from telcochain.throughput import Operation, OpStatus, Pipeline
from telcochain.tx import TxSender, hexint, probe_chain

from .chaosproxy import ChaosProxy


def balances(rpc: Rpc, addresses: list[str]) -> list[int]:
    return [hexint(b) for b in rpc.batch([("eth_getBalance", [a, "latest"]) for a in addresses])]


def test_txsender_under_faults_applies_each_operation_once_and_reports_it_truly(local_node, dev_accounts):
    direct = Rpc(local_node.rpc_url)
    account = dev_accounts[7]
    sinks = [Account.create().address for _ in range(30)]
    reported: dict[int, str] = {}
    with ChaosProxy(local_node.rpc_url, rate=0.3, seed=13) as proxy:
        rpc = Rpc(proxy.url, timeout=2.0)
        sender = TxSender(rpc, account, probe_chain(direct), attempts=8, backoff=0.05)
        unknown: dict[int, str] = {}
        for n, sink in enumerate(sinks):
            try:
                receipt = sender.transact(sink, "0x", gas=21_000, value=1, timeout=30)
                reported[n] = "confirmed" if receipt.succeeded else "reverted"
            except TransactionUnknown as exc:
                unknown[n] = exc.tx_hash
            except TransactionError:
                reported[n] = "refused"
            except NodeUnreachable:
                reported[n] = "not sent"  # failed before anything was sent (reads are retried first)
        proxy.enabled = False
        statuses = sender.resume()
        for n, tx_hash in unknown.items():
            status = statuses.get(tx_hash, "confirmed")
            if status == "pending":
                sender.wait(tx_hash, timeout=30)
                status = sender.resolve(tx_hash)
            reported[n] = status
    assert sum(proxy.counts[f] for f in ("drop_before", "drop_after", "http_503", "garbage")) >= 5, proxy.counts
    applied = balances(direct, sinks)
    assert max(applied) <= 1, "an operation was applied twice"
    for n, value in enumerate(applied):
        assert (reported[n] == "confirmed") == (value == 1), (n, reported[n], value)
    assert sum(applied) >= 22  # faults make ops slower, not lost
    # the local nonce agrees with the chain: the next send goes through at once
    after = TxSender(direct, account, probe_chain(direct))
    assert after.transact(sinks[0], "0x", gas=21_000, value=1, timeout=10).succeeded


def test_pipeline_under_faults_never_applies_twice_and_loses_nothing(local_node, dev_accounts):
    direct = Rpc(local_node.rpc_url)
    sinks = [Account.create().address for _ in range(300)]
    with ChaosProxy(local_node.rpc_url, rate=0.25, seed=5) as proxy:
        rpc = Rpc(proxy.url, timeout=2.0)
        with Pipeline(rpc, dev_accounts[4:7], probe_chain(direct), send_batch=25, rebroadcast_after=1.0) as pipe:
            outcomes = pipe.submit(Operation(sink, b"", 21_000, value=1) for sink in sinks)
            pipe.drain(timeout=60)
            proxy.enabled = False
            if pipe.resume():
                pipe.drain(timeout=30)
    assert sum(proxy.counts[f] for f in ("drop_before", "drop_after", "http_503", "garbage")) >= 5, proxy.counts
    applied = balances(direct, sinks)
    assert max(applied) <= 1, "an operation was applied twice"
    confirmed = [o.status is OpStatus.CONFIRMED for o in outcomes]
    assert [v == 1 for v in applied] == confirmed, "an outcome disagrees with the chain"
    assert all(confirmed), {o.status for o in outcomes}


def test_a_pipeline_whose_worker_died_refuses_new_work_and_another_resumes_its_operations(local_node, dev_accounts):
    direct = Rpc(local_node.rpc_url)
    sinks = [Account.create().address for _ in range(30)]
    account = dev_accounts[8]
    direct.call("evm_setAutomine", [False])  # nothing is mined while the worker dies
    try:
        pipe = Pipeline(direct, [account], probe_chain(direct)).start()
        outcomes = pipe.submit(Operation(sink, b"", 21_000, value=1) for sink in sinks[:20])

        def broken() -> None:
            raise RuntimeError("worker crashed")

        pipe._collect_once = broken  # type: ignore[method-assign]  # the collector thread dies
        deadline = time.monotonic() + 10
        while pipe._thread_error is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        direct.call("evm_setAutomine", [True])
    try:
        try:
            pipe.submit([Operation(sinks[20], b"", 21_000, value=1)])
            raise AssertionError("a dead pipeline accepted work")
        except PipelineStopped as exc:
            assert "worker crashed" in str(exc)
        try:
            pipe.drain(timeout=5)
            raise AssertionError("drain() of a dead pipeline returned")
        except PipelineStopped:
            pass
    finally:
        pipe.close()
    with Pipeline(direct, [account], probe_chain(direct)) as second:
        second.resume(outcomes)
        more = second.submit(Operation(sink, b"", 21_000, value=1) for sink in sinks[20:])
        second.drain(timeout=30)
    applied = balances(direct, sinks)
    assert applied == [1] * 30
    assert all(o.status is OpStatus.CONFIRMED for o in outcomes + more)


class _LosesFirstSendAnswer(Rpc):
    """The first eth_sendRawTransaction reaches the node, but its answer is lost."""

    lost = False

    def call(self, method, params=()):  # type: ignore[no-untyped-def]
        result = super().call(method, params)
        if method == "eth_sendRawTransaction" and not self.lost:
            self.lost = True
            raise NodeUnreachable(self.url, "answer lost")
        return result


def test_a_send_whose_answer_was_lost_is_not_signed_again_while_the_node_holds_it(local_node, dev_accounts):
    """The retry of the same bytes meets anvil's "transaction already imported" (Besu: "Known
    transaction"): the node has it, pending. That is the transaction sent, not a nonce taken by
    another one — signing the operation again under a new nonce would apply it twice."""
    direct = Rpc(local_node.rpc_url)
    account = dev_accounts[6]
    sink = Account.create().address
    direct.call("evm_setAutomine", [False])
    try:
        sender = TxSender(_LosesFirstSendAnswer(local_node.rpc_url), account, probe_chain(direct), backoff=0.01)
        tx_hash = sender.send(sink, "0x", gas=21_000, value=1)
        pending = direct.call("eth_getBlockByNumber", ["pending", False])["transactions"]
        direct.call("evm_mine", [])
    finally:
        direct.call("evm_setAutomine", [True])
    assert pending == [tx_hash]  # one transaction in the pool: the first one's bytes
    assert balances(direct, [sink]) == [1]  # applied once
    assert sender.wait(tx_hash, timeout=10).succeeded
