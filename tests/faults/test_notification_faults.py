"""The notification stream under faults: rollbacks, killed consumers, broken checkpoint files.

Delivery is at-least-once with a stable id; exactly-once when the consumer acknowledges in its
own database transaction (``consume`` + ``SqliteCheckpoint``).
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from telcochain import ActionCall, Client
from telcochain.errors import CheckpointError, TelcochainError
from telcochain.notifications import Checkpoint, NotificationStream, SqliteCheckpoint

from tests.support.chain import revert


@pytest.fixture
def operator(local_node, deployment_path, dev_accounts):
    return Client.connect(local_node.rpc_url, dev_accounts[0], deployment=deployment_path)


def refs(notifications) -> set[bytes]:
    return {bytes(n.args["ref"]).rstrip(b"\0") for n in notifications if n.name == "TrustKeyRefreshed"}


def rotate(client: Client, *names: str) -> None:
    for name in names:
        client.constitution.rotate_trust_key(name.encode().ljust(32, b"k"), ref=name)


def test_a_poll_after_a_rollback_does_not_acknowledge_through_its_stale_head(operator, tmp_path):
    """The old bug: a poll that found nothing kept the previous head, and follow() acknowledged
    through it — past blocks the node no longer had — so the new branch's events were skipped."""
    checkpoint = tmp_path / "cp.json"
    stream = NotificationStream(operator, checkpoint)
    list(stream.follow(until_caught_up=True))
    fork = operator.rpc.call("evm_snapshot")
    rotate(operator, "OLD-1", "OLD-2", "OLD-3")
    assert refs(stream.follow(until_caught_up=True)) == {b"OLD-1", b"OLD-2", b"OLD-3"}

    revert(operator.rpc.call, fork)
    operator.sender.resync_nonce()
    assert list(stream.follow(until_caught_up=True)) == []  # nothing on the shorter chain yet
    head = operator.block_number()
    assert stream.state.block <= head, "acknowledged a block the node does not have"

    rotate(operator, "NEW-1", "NEW-2", "NEW-3", "NEW-4")
    assert refs(stream.follow(until_caught_up=True)) == {b"NEW-1", b"NEW-2", b"NEW-3", b"NEW-4"}
    assert refs(NotificationStream(operator, checkpoint).follow(until_caught_up=True)) == set()


def test_acknowledging_through_a_block_the_node_lacks_is_refused(operator, tmp_path):
    stream = NotificationStream(operator, tmp_path / "cp.json")
    list(stream.follow(until_caught_up=True))
    before = stream.state.block
    assert stream.ack_through(operator.block_number() + 5) is False
    assert stream.state.block == before
    operator.rpc.call("evm_mine")
    head = operator.rpc.call("eth_getBlockByNumber", ["latest", False])
    assert stream.ack_through(int(head["number"], 16), "0x" + "00" * 32) is False  # wrong hash
    assert stream.ack_through(int(head["number"], 16), head["hash"]) is True


def test_a_consumer_killed_before_its_ack_gets_the_notification_again_with_the_same_id(operator, tmp_path):
    checkpoint = tmp_path / "cp.json"
    list(NotificationStream(operator, checkpoint).follow(until_caught_up=True))
    rotate(operator, "AGAIN")
    first = NotificationStream(operator, checkpoint)
    seen = next(n for n in first.follow(until_caught_up=True) if n.name == "TrustKeyRefreshed")
    # the consumer dies here: the generator never resumes, so the notification is not acknowledged
    again = [n for n in NotificationStream(operator, checkpoint).follow(until_caught_up=True)]
    assert seen.id in {n.id for n in again}


def test_a_transactional_consumer_is_exactly_once_across_crashes(operator, tmp_path):
    database = tmp_path / "backend.db"
    rotate(operator, *[f"TX-{n}" for n in range(6)])

    def open_backend() -> tuple[sqlite3.Connection, NotificationStream]:
        conn = sqlite3.connect(database)
        conn.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT, ref BLOB)")
        conn.commit()
        return conn, NotificationStream(operator, SqliteCheckpoint(conn), from_block=0)

    crashes = 0
    for _attempt in range(20):
        conn, stream = open_backend()

        def handle(batch, checkpoint, conn=conn):
            nonlocal crashes
            with conn:  # one transaction: the rows and the checkpoint, or neither
                for n in batch:
                    conn.execute("INSERT INTO seen VALUES (?, ?)", (n.id, n.args.get("ref", b"")))
                SqliteCheckpoint(conn).save(checkpoint)
                if batch and crashes < 3:
                    crashes += 1
                    raise RuntimeError("killed mid-transaction")

        try:
            stream.consume(handle, until_caught_up=True)
            break
        except RuntimeError:
            conn.close()
    ids = [row[0] for row in conn.execute("SELECT id FROM seen")]
    assert crashes == 3
    assert len(ids) == len(set(ids)), "a notification was stored twice"
    assert {f"TX-{n}".encode() for n in range(6)} <= {
        bytes(r[0]).rstrip(b"\0") for r in conn.execute("SELECT ref FROM seen")
    }
    fresh = NotificationStream(operator, SqliteCheckpoint(conn))
    assert fresh.poll() == []


def test_a_damaged_checkpoint_is_a_typed_error(operator, tmp_path):
    checkpoint = tmp_path / "cp.json"
    checkpoint.write_text('{"block": 12, "partial": [1, 2')  # torn by an old, non-atomic writer
    with pytest.raises(CheckpointError, match="damaged"):
        NotificationStream(operator, checkpoint)
    checkpoint.write_text(json.dumps({"partial": []}))
    with pytest.raises(CheckpointError):
        NotificationStream(operator, checkpoint)
    assert issubclass(CheckpointError, TelcochainError)


def test_a_checkpoint_that_cannot_be_saved_is_a_typed_error_and_the_old_one_stays(operator, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    checkpoint = folder / "cp.json"
    Checkpoint(block=3).save(checkpoint)
    folder.chmod(0o500)
    try:
        probe = folder / "probe"
        try:
            probe.write_text("x")  # root ignores the mode: no read-only folder to test with
            probe.unlink()
            pytest.skip("running as root: a 0500 folder is writable (the tmpfs tests cover a read-only disk)")
        except OSError:
            pass
        with pytest.raises(CheckpointError, match="cannot save"):
            Checkpoint(block=9).save(checkpoint)
        assert Checkpoint.load(checkpoint).block == 3
    finally:
        folder.chmod(0o700)


def test_many_batches_and_heads_never_leave_the_chain(operator, tmp_path):
    """A stream following busy blocks acknowledges only blocks the node has, by hash."""
    stream = NotificationStream(operator, tmp_path / "cp.json")
    list(stream.follow(until_caught_up=True))
    calls = [ActionCall("refreshTrustKeys", ((n + 1).to_bytes(32, "big"),)) for n in range(50)]
    operator.constitution.execute_batch(calls)
    got = list(stream.follow(until_caught_up=True))
    assert len(got) >= 50
    for number, block_hash in stream.state.hashes.items():
        assert operator.rpc.call("eth_getBlockByNumber", [hex(number), False])["hash"] == block_hash
