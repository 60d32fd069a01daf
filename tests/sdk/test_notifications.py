"""getNotification: a member's durable, reorg-safe notification stream."""

from __future__ import annotations

import time

import pytest
from telcochain import ActionCall, Client
from telcochain.notifications import Checkpoint, NotificationStream

from tests.support.chain import revert


@pytest.fixture
def operator(local_node, deployment_path, dev_accounts):
    return Client.connect(local_node.rpc_url, dev_accounts[0], deployment=deployment_path)


@pytest.fixture
def vendor(local_node, deployment_path, dev_accounts):
    return Client.connect(local_node.rpc_url, dev_accounts[1], deployment=deployment_path)


def drain(stream: NotificationStream, limit: int | None = None) -> list:
    """Consume like a back-end: handle each notification, then acknowledge it."""
    taken = []
    for notification in stream.poll():
        if limit is not None and len(taken) == limit:
            break
        taken.append(notification)
        stream.ack(notification)
    return taken


def test_a_member_receives_what_concerns_it_and_only_that(operator, vendor, dev_accounts, tmp_path):
    stream = NotificationStream(vendor, tmp_path / "vendor.json")
    drain(stream)  # the deployment's own history
    operator.constitution.rotate_trust_key(b"\x01" * 32, ref="OP-ONLY")
    opened = operator.constitution.add_member(dev_accounts[5].address, b"\x05" * 32, "Umbrella Fibre", ref="JOIN")
    names = [n.name for n in drain(stream)]
    assert "VoteRequested" in names  # the vendor is asked to vote
    assert "TrustKeyRefreshed" not in names  # the operator's key is not the vendor's business
    vendor.constitution.vote(opened.proposal_id, approve=True, ref="MY-VOTE")
    mine = drain(stream)
    assert {n.name for n in mine} >= {"VoteCast", "ActionExecuted"}
    assert all(n.id == f"{n.block_hash}:{n.log_index}" for n in mine)


def test_a_listener_killed_mid_stream_resumes_without_gap_or_duplicate(operator, tmp_path):
    checkpoint = tmp_path / "operator.json"
    NotificationStream(operator, checkpoint).ack_through(operator.block_number())  # start from now
    for wave in range(10):  # 1,000 key rotations in 10 blocks: 2,000 notifications, 200 per block
        calls = [ActionCall("refreshTrustKeys", ((wave * 100 + n + 1).to_bytes(32, "big"),)) for n in range(100)]
        assert {o.status for o in operator.constitution.execute_batch(calls)} == {"executed"}

    seen: list[str] = []
    first = NotificationStream(operator, checkpoint)
    seen += [n.id for n in drain(first, limit=337)]  # killed in the middle of a block
    second = NotificationStream(operator, checkpoint)
    seen += [n.id for n in drain(second, limit=1000)]
    third = NotificationStream(operator, checkpoint)
    seen += [n.id for n in drain(third)]
    assert len(seen) == 2000
    assert len(set(seen)) == 2000
    assert NotificationStream(operator, checkpoint).poll() == []


def test_a_reorganisation_below_the_checkpoint_delivers_the_new_branch(operator, tmp_path):
    stream = NotificationStream(operator, tmp_path / "cp.json")
    drain(stream)
    fork = operator.rpc.call("evm_snapshot")
    operator.constitution.rotate_trust_key(b"\xaa" * 32, ref="OLD-BRANCH")
    old = drain(stream)
    stream.ack_through(operator.block_number())
    assert {n.args.get("ref") for n in old} == {b"OLD-BRANCH".ljust(32, b"\0")}

    revert(operator.rpc.call, fork)  # the chain drops the block we delivered
    operator.sender.resync_nonce()
    operator.constitution.rotate_trust_key(b"\xbb" * 32, ref="NEW-BRANCH")
    resumed = NotificationStream(operator, tmp_path / "cp.json")
    new = drain(resumed)
    assert {n.args.get("ref") for n in new} == {b"NEW-BRANCH".ljust(32, b"\0")}
    assert not {n.id for n in new} & {n.id for n in old}


def test_confirmation_depth_holds_back_the_newest_blocks(operator, tmp_path):
    stream = operator.notifications(tmp_path / "cp.json", confirmations=2)
    operator.rpc.call("evm_mine")  # two empty blocks: whatever came before is now confirmed...
    operator.rpc.call("evm_mine")
    drain(stream)  # ...and delivered
    stream.ack_through(operator.block_number() - 2)
    operator.constitution.rotate_trust_key(b"\x0c" * 32, ref="WAIT")
    assert stream.poll() == []
    operator.rpc.call("evm_mine")
    operator.rpc.call("evm_mine")
    assert {n.name for n in stream.poll()} >= {"TrustKeyRefreshed"}


def test_the_checkpoint_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "cp.json"
    Checkpoint(block=7, partial=[1, 2], hashes={7: "0xab"}).save(path)
    assert Checkpoint.load(path) == Checkpoint(7, [1, 2], {7: "0xab"})
    assert not list(tmp_path.glob("*.tmp"))


def test_the_asyncio_form_yields_the_same_notifications(operator, tmp_path):
    import asyncio

    operator.constitution.rotate_trust_key(b"\x0d" * 32, ref="ASYNC")
    expected = [n.id for n in NotificationStream(operator).poll()]

    async def collect() -> list[str]:
        got = []
        async for notification in NotificationStream(operator, tmp_path / "a.json").aiter(poll_interval=0.05):
            got.append(notification.id)
            if len(got) == len(expected):
                break
        return got

    assert asyncio.run(collect()) == expected


def _follow_in_thread(stream: NotificationStream, ws_url: str, wanted: int, poll_interval: float):
    import threading

    got: list = []
    done = threading.Event()

    def run() -> None:
        for notification in stream.follow(poll_interval=poll_interval, stop=done.is_set, ws_url=ws_url):
            got.append(notification)
            if len(got) >= wanted:
                done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return got, done, thread


def test_a_websocket_subscription_wakes_the_stream_without_waiting_for_the_poll(operator, local_node, tmp_path):
    stream = NotificationStream(operator, tmp_path / "ws.json")
    stream.ack_through(operator.block_number())
    ws_url = local_node.rpc_url.replace("http://", "ws://")
    # a poll interval of 10 minutes: only the subscription can deliver within the test's timeout
    got, done, thread = _follow_in_thread(stream, ws_url, wanted=2, poll_interval=600)
    time.sleep(0.5)  # let it subscribe
    operator.constitution.rotate_trust_key(b"\x07" * 32, ref="WS-1")
    assert done.wait(30), "the new block did not wake the stream"
    operator.rpc.call("evm_mine")  # wakes the follower once more: it sees the stop and ends
    thread.join(30)
    assert not thread.is_alive()
    assert {n.name for n in got} == {"TrustKeyRefreshed", "ActionExecuted"}
    assert all(n.args["ref"].rstrip(b"\0") == b"WS-1" for n in got)


def test_a_dropped_websocket_is_backfilled_from_the_checkpoint(operator, local_node, tmp_path):
    from telcochain.notifications import HeadWaiter

    stream = NotificationStream(operator, tmp_path / "ws.json")
    stream.ack_through(operator.block_number())
    waiter = HeadWaiter(local_node.rpc_url.replace("http://", "ws://"), reconnect_delay=0)
    assert waiter.wait(0.2) is False and waiter.connected  # subscribed, nothing new yet
    waiter.connection.close()  # the connection dies...
    operator.constitution.rotate_trust_key(b"\x08" * 32, ref="WHILE-DOWN")  # ...while a block is mined
    assert waiter.wait(5) is True and not waiter.connected  # noticed: poll now
    assert [n.name for n in stream.poll()] == ["TrustKeyRefreshed", "ActionExecuted"]  # backfilled
    assert waiter.wait(0.1) is False and waiter.connected and waiter.connects == 2  # reconnected
    waiter.close()


def test_without_a_websocket_the_stream_keeps_polling(operator, tmp_path):
    from telcochain.notifications import HeadWaiter

    waiter = HeadWaiter("ws://127.0.0.1:9")  # nothing listens there
    assert waiter.wait(0.1) is False and not waiter.connected
    stream = NotificationStream(operator, tmp_path / "poll.json")
    stream.ack_through(operator.block_number())
    operator.constitution.rotate_trust_key(b"\x09" * 32, ref="POLLED")
    got = list(stream.follow(poll_interval=0.05, until_caught_up=True, ws_url="ws://127.0.0.1:9"))
    assert [n.name for n in got] == ["TrustKeyRefreshed", "ActionExecuted"]
