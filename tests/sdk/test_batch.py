"""telcochain.batch: `with Batch(client) as b: b.add(...)` — chunking, per-call outcomes,
gas limits that hold for executeBatch, and the fast executeAction/executeBatch encoders."""

from __future__ import annotations

import os

import pytest
from eth_abi import encode
from telcochain import Client
from telcochain.assets import ZERO32, AssetState, asset_id, serial_hash
from telcochain.batch import (
    SELECTOR_EXECUTE_ACTION,
    SELECTOR_EXECUTE_BATCH,
    Batch,
    encode_execute_action,
    encode_execute_batch,
)
from telcochain.errors import AssetInvalidTransition, ConfigurationError, TransactionError
from telcochain.types import ZERO_ADDRESS


def test_encoders_match_eth_abi() -> None:
    calls = [(os.urandom(32), os.urandom(n), os.urandom(32)) for n in (0, 1, 31, 32, 33, 64, 200)]
    assert encode_execute_batch(calls) == SELECTOR_EXECUTE_BATCH + encode(["(bytes32,bytes,bytes32)[]"], [calls])
    assert encode_execute_batch([]) == SELECTOR_EXECUTE_BATCH + encode(["(bytes32,bytes,bytes32)[]"], [[]])
    for action, params, ref in calls:
        expected = SELECTOR_EXECUTE_ACTION + encode(["bytes32", "bytes", "bytes32"], [action, params, ref])
        assert encode_execute_action(action, params, ref) == expected


@pytest.fixture
def vendor(local_node, deployment_path, dev_accounts) -> Client:  # type: ignore[no-untyped-def]
    return Client.connect(local_node.rpc_url, dev_accounts[1], deployment=deployment_path)


def _active(client: Client, vendor: Client, names: list[str]) -> list[bytes]:
    """Register ``names`` with the vendor named (in a Batch), bind their serials by the vote of
    operator (who proposes) and vendor (a Batch of voteFor), and commission them (bulk verbs)."""
    salt = client.assets.serial_salt
    ids = [asset_id(n) for n in names]
    with Batch(client, chunk=30) as b:  # 10 twins a transaction: a proposal (with its dry run) is ~300k gas
        for name, key in zip(names, ids, strict=True):
            b.add("register", key, b"ONT".ljust(12, b"\0"), ZERO32, ZERO32, ZERO32, ZERO32)
            b.add("setParties", key, ZERO_ADDRESS, vendor.address, ZERO32)
            b.add("bindSerial", key, serial_hash(name, salt), ZERO32)
    assert {o.status for o in b.outcomes} == {"executed", "pending_vote"}
    proposals = [o.proposal_id for o in b.outcomes if o.status == "pending_vote"]
    with Batch(vendor, chunk=50) as votes:
        for proposal_id in proposals:
            votes.add("voteFor", proposal_id, True)
    assert {o.status for o in votes.outcomes} == {"executed"}
    client.assets.bulk_transition("scheduleInstallation", ids)
    vendor.assets.bulk_transition("deliver", ids)
    client.assets.bulk_transition("commission", ids)
    return ids


def test_calls_go_in_chunks_with_an_outcome_each(client: Client, vendor: Client) -> None:
    ids = _active(client, vendor, [f"BATCH-{i}" for i in range(25)])
    with Batch(client, chunk=10) as b:
        entries = [b.add("requestChange", key, ZERO32, ref=f"req-{n}") for n, key in enumerate(ids)]
        assert not entries[0].sent
    assert len(b.receipts) == 3  # 10 + 10 + 5
    assert [len({e.tx_hash for e in entries[i : i + 10]}) for i in (0, 10, 20)] == [1, 1, 1]
    assert len({e.tx_hash for e in entries}) == 3
    assert [o.status for o in b.outcomes] == ["executed"] * 25
    assert entries[3].outcome.ref == b"req-3".ljust(32, b"\0")
    states = {client.assets.get(key).state for key in ids}
    assert states == {AssetState.PENDING_CHANGE}


def test_a_reverting_and_a_denied_call_do_not_stop_the_others(client: Client, vendor: Client) -> None:
    ids = _active(client, vendor, ["BATCH-R1", "BATCH-R2"])
    with Batch(client) as b:
        ok = b.add("requestChange", ids[0], ZERO32)
        bad = b.add("completeChange", ids[1], ZERO32)  # Active → Active: not an edge
        denied = b.add("deliver", ids[1], ZERO32)  # the vendor's verb: the operator holds no grant
        after = b.add("requestChange", ids[1], ZERO32)
    assert ok.outcome.status == "executed" and after.outcome.status == "executed"
    assert bad.outcome.status == "reverted" and isinstance(bad.outcome.error, AssetInvalidTransition)
    assert denied.outcome.status == "denied"
    assert {client.assets.get(k).state for k in ids} == {AssetState.PENDING_CHANGE}


def test_gas_limits_hold_for_many_calls_in_one_transaction(client: Client, vendor: Client) -> None:
    """eth_estimateGas alone under-estimates executeBatch (its try/catch swallows the inner
    out-of-gas); batch_gas checks the outcomes, so no call fails for lack of gas."""
    ids = _active(client, vendor, [f"BATCH-G{i}" for i in range(100)])
    with Batch(client, chunk=100) as b:
        for key in ids:
            b.add("requestChange", key, ZERO32)
    assert [o.status for o in b.outcomes] == ["executed"] * 100
    assert b.receipts[0].gas_used / 100 < 40_000


def test_sequential_chunks_see_each_others_effects(client: Client, vendor: Client) -> None:
    (key,) = _active(client, vendor, ["BATCH-SEQ"])
    with Batch(client, chunk=1, pipelined=False) as b:
        b.add("requestChange", key, ZERO32)
        b.add("completeChange", key, ZERO32)
        b.add("requestChange", key, ZERO32)
    assert [o.status for o in b.outcomes] == ["executed"] * 3
    assert client.assets.get(key).state is AssetState.PENDING_CHANGE


def test_an_exception_in_the_block_sends_nothing(client: Client, vendor: Client) -> None:
    (key,) = _active(client, vendor, ["BATCH-EXC"])
    with pytest.raises(RuntimeError), Batch(client) as b:
        entry = b.add("requestChange", key, ZERO32)
        raise RuntimeError("changed my mind")
    assert not entry.sent and not b.receipts
    with pytest.raises(TransactionError):
        _ = entry.outcome
    assert client.assets.get(key).state is AssetState.ACTIVE


def test_bad_input_is_refused_before_sending(client: Client) -> None:
    b = Batch(client)
    b.add("refreshTrustKeys", b"\1" * 32, ref="same")
    with pytest.raises(ConfigurationError):
        b.add("refreshTrustKeys", b"\2" * 32, ref="same")  # a ref twice
    with pytest.raises(ConfigurationError):
        b.add("noSuchActionTheSdkKnows", 1)  # values for an action whose types are unknown
    with pytest.raises(ConfigurationError):
        b.add("refreshTrustKeys", b"\1" * 32, params=b"")  # both values and params=
    raw = b.add("refreshTrustKeys", params=encode(["bytes32"], [b"\3" * 32]))
    assert raw.params == encode(["bytes32"], [b"\3" * 32])
    assert b.send()[0].status == "executed" and len(b) == 2
    with pytest.raises(ConfigurationError):
        b.send()
    with pytest.raises(ConfigurationError):
        Batch(client, chunk=0)


def test_pipelined_chunks_are_sent_one_block_at_a_time() -> None:
    """A burst whose gas limits exceed a block would leave transactions waiting for a block that
    anvil's automine never mines (it mines one block per arriving transaction)."""
    from telcochain.batch import _waves

    assert _waves([6_000_000] * 10, 30_000_000) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert _waves([40_000_000, 1, 2], 30_000_000) == [[0], [1, 2]]  # too big alone: its own wave
    assert _waves([10, 20, 30], 30) == [[0, 1], [2]]
    assert _waves([], 30) == []
