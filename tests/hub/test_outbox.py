"""The outbox's parts on their own: queries, settings, and a reorganisation of the chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from telcochain.errors import ConfigurationError
from telcochain.gateway import outbox
from telcochain.gateway.delivery import Deliverer, HubSettings, sign, verify_signature
from telcochain.gateway.outbox import Query
from telcochain.index import Follower, IndexStore

from tests.hub.receiver import Receiver
from tests.index.flows import Members
from tests.support.chain import revert


def test_a_query_holds_when_every_condition_holds() -> None:
    text = "eventType=ServiceOrderStateChangeEvent&event.serviceOrder.state=completed,failed"
    q = Query.parse(text, "serviceOrdering")
    event = {"eventType": "ServiceOrderStateChangeEvent", "event": {"serviceOrder": {"state": "failed"}}}
    assert q.matches(event)
    assert not q.matches({**event, "event": {"serviceOrder": {"state": "inProgress"}}})
    assert not q.matches({**event, "eventType": "ServiceOrderCreateEvent"})
    assert not q.matches({"eventType": "ServiceOrderStateChangeEvent"})  # the path is absent
    assert Query.parse(None, "").matches(event) and Query.parse("  ", "").matches(event)
    assert Query.parse("eventType=CustomerBillCreateEvent", "").conditions  # the generic hub takes any type


@pytest.mark.parametrize(
    "text",
    ["eventType=CustomerBillCreateEvent", "eventType=Nope", "state=completed", "eventType=", "event.=x", "a&b", "="],
)
def test_a_query_the_hub_cannot_evaluate_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        Query.parse(text, "serviceOrdering")


@pytest.mark.parametrize(
    "section",
    [{"nope": 1}, {"enabled": "false"}, {"http_timeout": "x"}, {"lease_seconds": 5, "http_timeout": 5},
     {"max_attempts": 0}, {"poll_interval": 0}],
)  # fmt: skip
def test_bad_hub_settings_are_configuration_errors(section: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        HubSettings.from_dict(section)


def test_the_signature_covers_the_timestamp_and_the_body() -> None:
    body, secret = b'{"eventId":"x"}', "k" * 64
    headers = {"X-Telcochain-Timestamp": "1000", "X-Telcochain-Signature": sign(secret, 1000, body)}
    assert verify_signature(secret, headers, body, now=1000)
    assert not verify_signature(secret, headers, body, now=1000 + 301)  # a replayed old delivery
    assert not verify_signature(secret, {**headers, "X-Telcochain-Timestamp": "1001"}, body, now=1000)
    assert not verify_signature(secret, headers, body + b" ", now=1000)


def test_a_reorganised_block_is_followed_by_its_replacement(
    members: Members, store: IndexStore, local_node: Any, deployment_path: Path, dev_accounts: list[Any]
) -> None:
    with Receiver() as rx:
        outbox.register(store, members.op.address, "", rx.url("/all"), None)
        members.op.assets.register("ONT-BEFORE", "CPE")
        fork = members.op.rpc.call("evm_snapshot")
        members.op.assets.register("ONT-ORPHAN", "CPE")
        follower = Follower.for_client(store, members.op)
        deliverer = Deliverer(store, HubSettings(poll_interval=0.05))
        try:
            follower.catch_up()
            deliverer.tick()
            assert [r.event["event"]["resource"]["id"] for r in rx.received] == ["ONT-BEFORE", "ONT-ORPHAN"]
            revert(members.op.rpc.call, fork)
            again = Members.connect(local_node.rpc_url, deployment_path, dev_accounts)
            again.op.assets.register("ONT-BRANCH", "CPE")
            again.op.rpc.call("evm_mine", [])
            follower.catch_up()
            deliverer.tick()
        finally:
            deliverer.stop()
    names = [r.event["event"]["resource"]["id"] for r in rx.received]
    assert names == ["ONT-BEFORE", "ONT-ORPHAN", "ONT-BRANCH"]  # sent once each; the orphan cannot be unsent
    assert len({r.event["eventId"] for r in rx.received}) == 3
