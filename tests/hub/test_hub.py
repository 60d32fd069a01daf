"""The TMF688 hub against a real chain and a local callback receiver: what is delivered, to
whom, how it is signed, and what happens on failures, restarts, rebuilds and bad input."""

from __future__ import annotations

import json
import time
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from telcochain.assets import AssetState
from telcochain.gateway import outbox
from telcochain.gateway.delivery import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    Deliverer,
    HubSettings,
    verify_signature,
)
from telcochain.index import Follower, IndexStore
from telcochain.index import schema as s
from telcochain.index.queries import show_id
from telcochain.orders import OrderState

from tests.hub.receiver import Receiver
from tests.hub.serving import Gateway
from tests.index.flows import Members, normal_flow

FAST = {"poll_interval": 0.05, "retry_base": 0.2, "retry_cap": 1.0, "http_timeout": 2.0, "lease_seconds": 40.0}


def chain_events(store: IndexStore, *names: str) -> list[tuple[str, dict[str, Any]]]:
    """The named events as indexed from the chain, in chain order."""
    e = s.events.c
    with store.engine.connect() as db:
        rows = db.execute(select(e.name, e.args).where(e.name.in_(names)).order_by(e.block_number, e.log_index)).all()
    return [(n, a if isinstance(a, dict) else json.loads(a)) for n, a in rows]


def settle(deliverer: Deliverer, follower: Follower, receiver: Receiver, rounds: int = 3) -> None:
    follower.catch_up()
    for _ in range(rounds):
        deliverer.tick()


def test_each_state_change_is_delivered_in_chain_order_signed_with_a_stable_event_id(
    members: Members, store: IndexStore, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with Receiver() as rx, Gateway(members.op, store, tmp_path, FAST) as gw:
        secrets = {}
        for api in ("serviceOrdering", "resourceInventoryManagement", "customerBillManagement", "serviceInventory"):
            answer = gw.http.post(f"/{api}/v4/hub", json={"callback": rx.url(f"/{api}")})
            assert answer.status_code == 201, answer.text
            body = answer.json()
            assert body["callback"] == rx.url(f"/{api}") and body["@type"] == "EventSubscription"
            assert answer.headers["Location"].endswith(f"/{api}/v4/hub/{body['id']}")
            secrets[api] = body["secret"]
            again = gw.http.get(f"/{api}/v4/hub/{body['id']}").json()
            assert again["id"] == body["id"] and "secret" not in again  # shown once
        completed = gw.http.post(
            "/hub",
            json={"callback": rx.url("/completed"), "query": "eventType=ServiceOrderStateChangeEvent"
                  "&event.serviceOrder.state=inProgress"},
        )  # fmt: skip
        assert completed.status_code == 201, completed.text
        flow = normal_flow(members)
        members.op.orders.transition_service(flow["order"], "HQ-FIBRE", "inProgress")  # (lines open: no further)
        head = int(members.op.rpc.call("eth_blockNumber"), 16)
        assert gw.app.state.gateway.follower.wait_for(head, 30)

        store_events = lambda *n: chain_events(store, *n)  # noqa: E731
        orders = store_events("OrderCreated", "OrderStateChanged", "OrderRevised")
        transitions = store_events("AssetTransitioned")
        bills = store_events("InvoiceIssued", "InvoiceFunded", "InvoiceReleased", "InvoiceRefunded")
        resource_total = len(store_events(*[n for n in outbox.SOURCE_EVENTS if n.startswith("Asset")]))
        services = store_events("ServiceStateChanged")

        def complete() -> bool:
            return (
                len(rx.on("/serviceOrdering")) >= len(orders) > 0
                and len(rx.on("/customerBillManagement")) >= len(bills) > 0
                and len(rx.on("/resourceInventoryManagement")) >= resource_total > 0
                and len(rx.on("/completed")) >= 1
                and len(rx.on("/serviceInventory")) >= len(services) > 0
            )

        rx.wait_for(complete)
        time.sleep(0.5)  # nothing more arrives

    got = {path: [r.event for r in rx.on(f"/{path}")] for path in secrets}
    expected_orders = [
        ("ServiceOrderCreateEvent", show_id(a["orderId"]), "acknowledged")
        if n == "OrderCreated"
        else ("ServiceOrderStateChangeEvent", show_id(a["orderId"]), OrderState(int(a["to"])).label)
        for n, a in orders
    ]
    assert [(e["eventType"], e["event"]["serviceOrder"]["id"], e["event"]["serviceOrder"]["state"])
            for e in got["serviceOrdering"]] == expected_orders  # fmt: skip
    states = [e for e in got["resourceInventoryManagement"] if e["eventType"] == "ResourceStateChangeEvent"]
    assert [(e["event"]["resource"]["id"], e["event"]["resource"]["lifecycleState"]) for e in states] == [
        (show_id(a["assetId"]), AssetState(int(a["to"])).label) for _, a in transitions
    ]
    assert len(got["resourceInventoryManagement"]) == resource_total
    expected_bills = [
        ("CustomerBillCreateEvent" if n == "InvoiceIssued" else "CustomerBillStateChangeEvent", str(a["invoiceId"]))
        for n, a in bills
    ]
    assert [(e["eventType"], e["event"]["customerBill"]["id"]) for e in got["customerBillManagement"]] == expected_bills
    assert {e["event"]["customerBill"]["state"] for e in got["customerBillManagement"]} >= {"sent", "settled"}
    assert [(e["event"]["service"]["id"], e["event"]["service"]["serviceOrderItem"][0]["itemState"])
            for e in got["serviceInventory"]] == [
        (f"{show_id(a['orderId'])}:{show_id(a['serviceId'])}", OrderState(int(a["to"])).label) for _, a in services
    ]  # fmt: skip
    assert [e["event"]["service"]["state"] for e in got["serviceInventory"]][-1] == "reserved"  # inProgress
    in_progress = [r.event for r in rx.on("/completed")]
    assert [(e["eventType"], e["event"]["serviceOrder"]["state"]) for e in in_progress] == [
        ("ServiceOrderStateChangeEvent", "inProgress")
    ]
    for path, secret in secrets.items():
        received = rx.on(f"/{path}")
        assert all(verify_signature(secret, r.headers, r.body) for r in received)
        assert not verify_signature(secret, received[0].headers, received[0].body + b" ")
        assert not any(verify_signature("0" * 64, r.headers, r.body) for r in received)
        assert all(r.headers[EVENT_ID_HEADER] == r.event["eventId"] for r in received)
        assert all(r.headers[ATTEMPT_HEADER] == "1" for r in received)
    ids = [r.event["eventId"] for r in rx.received]
    assert len(ids) == len(set(ids)) + len(in_progress)  # the generic hub repeats one, same id


def test_a_subscriber_receives_only_what_its_member_may_see(members: Members, store: IndexStore) -> None:
    with Receiver() as rx:
        subs = {
            who: outbox.register(store, getattr(members, who).address, "", rx.url(f"/{who}"), None)
            for who in ("op", "acme", "globex", "customer")
        }
        normal_flow(members)
        members.op.assets.register("ONT-OPERATOR-ONLY", "CPE")
        follower = Follower.for_client(store, members.op)
        deliverer = Deliverer(store, HubSettings(**FAST))
        try:
            settle(deliverer, follower, rx)
        finally:
            deliverer.stop()
    seen = {who: [r.event for r in rx.on(f"/{who}")] for who in subs}
    assert seen["globex"] == []  # a vendor with no line, no twin, no invoice in the flow
    assert seen["op"] and seen["acme"] and seen["customer"]
    private = [e for e in seen["op"] if e["event"].get("resource", {}).get("id") == "ONT-OPERATOR-ONLY"]
    assert private  # the operator sees its own twin ...
    for who in ("acme", "customer"):  # ... nobody else does
        assert not [e for e in seen[who] if e["event"].get("resource", {}).get("id") == "ONT-OPERATOR-ONLY"]
    assert not [e for e in seen["acme"] if e["eventType"].startswith("CustomerBill")]  # invoices: payer, payee
    bills_op = {e["eventId"] for e in seen["op"] if e["eventType"].startswith("CustomerBill")}
    bills_customer = {e["eventId"] for e in seen["customer"] if e["eventType"].startswith("CustomerBill")}
    assert bills_op == bills_customer and bills_op
    with store.engine.connect() as db:  # every delivery row names a party of its event
        rows = db.execute(
            select(s.hub_subscriptions.c.member, s.hub_outbox.c.parties).select_from(
                s.hub_deliveries.join(s.hub_outbox, s.hub_outbox.c.event_id == s.hub_deliveries.c.event_id).join(
                    s.hub_subscriptions, s.hub_subscriptions.c.id == s.hub_deliveries.c.subscription_id
                )
            )
        ).all()
    assert rows and all(member in (p if isinstance(p, list) else json.loads(p)) for member, p in rows)


def test_a_failing_callback_is_retried_with_backoff_and_holds_its_later_events(
    members: Members, store: IndexStore
) -> None:
    failures: dict[str, int] = {}

    def flaky(got: Any) -> int:  # the first event fails twice, then succeeds
        eid = got.event["eventId"]
        if not failures or eid in failures:
            failures[eid] = failures.get(eid, 0) + 1
            return 503 if failures[eid] <= 2 else 200
        return 200

    with Receiver(flaky) as rx:
        outbox.register(store, members.op.address, "resourceInventoryManagement", rx.url("/r"), None)
        members.op.assets.register("ONT-RETRY-1", "CPE")
        members.op.assets.register("ONT-RETRY-2", "CPE")
        follower = Follower.for_client(store, members.op)
        follower.catch_up()
        deliverer = Deliverer(store, HubSettings(**FAST)).start()
        try:
            rx.wait_for(lambda: len({r.event["eventId"] for r in rx.received}) >= 2, timeout=20)
        finally:
            deliverer.stop()
    first = [r for r in rx.received if r.event["eventId"] == next(iter(failures))]
    assert [r.headers[ATTEMPT_HEADER] for r in first] == ["1", "2", "3"]
    assert len({r.body for r in first}) == 1  # the same bytes on every attempt
    gaps = [b.at - a.at for a, b in pairwise(first)]
    assert gaps[0] >= 0.2 * 0.9 and gaps[1] >= 0.4 * 0.9  # retry_base, then doubled
    later = [r for r in rx.received if r.event["eventId"] != first[0].event["eventId"]]
    assert later and min(r.at for r in later) >= first[-1].at  # held back until the first succeeded
    assert first[0].event["event"]["resource"]["id"] == "ONT-RETRY-1"


def test_a_rebuilt_index_delivers_nothing_twice(members: Members, store: IndexStore) -> None:
    with Receiver() as rx:
        outbox.register(store, members.op.address, "", rx.url("/all"), None)
        normal_flow(members)
        follower = Follower.for_client(store, members.op)
        deliverer = Deliverer(store, HubSettings(**FAST))
        try:
            settle(deliverer, follower, rx)
            before = len(rx.received)
            with store.engine.connect() as db:
                outboxed = db.execute(select(func.count()).select_from(s.hub_outbox)).scalar_one()
            store.reset()  # everything indexed is forgotten; the hub tables stay
            assert Follower.for_client(store, members.op).checkpoint()[1] is None
            settle(deliverer, Follower.for_client(store, members.op), rx)
            with store.engine.connect() as db:
                again = db.execute(select(func.count()).select_from(s.hub_outbox)).scalar_one()
        finally:
            deliverer.stop()
    assert before > 0 and len(rx.received) == before
    assert again == outboxed  # re-derived with the same ids


BAD_REGISTRATIONS: list[Any] = [
    {},
    {"query": "eventType=ResourceStateChangeEvent"},
    {"callback": "not a url"},
    {"callback": "ftp://example.com/x"},
    {"callback": 12},
    {"callback": None},
    {"callback": "http://127.0.0.1:9/x", "query": "eventType=NoSuchEvent"},
    {"callback": "http://127.0.0.1:9/x", "query": "eventType=CustomerBillCreateEvent"},  # another API's
    {"callback": "http://127.0.0.1:9/x", "query": "state=completed"},
    {"callback": "http://127.0.0.1:9/x", "query": "eventType="},
    {"callback": "http://127.0.0.1:9/x", "query": "event..state=x"},
    {"callback": "http://127.0.0.1:9/x", "query": 5},
    {"callback": "http://" + "a" * 2100},
    {"callback": "http://127.0.0.1:9/x\u0000"},
    {"callback": "http://127.0.0.1:99999/x"},
    {"callback": "http://[::1/x"},
    {"callback": "http://127.0.0.1:9/x", "query": "eventType=ServiceOrderCreateEvent\n"},
    [],
    "callback",
]


def test_a_bad_registration_is_a_tmf_400_never_a_500(members: Members, store: IndexStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Gateway(members.op, store, tmp_path, {"enabled": False}) as gw:
        for body in BAD_REGISTRATIONS:
            answer = gw.http.post("/serviceOrdering/v4/hub", json=body)
            assert answer.status_code == 400, (body, answer.text)
            error = answer.json()
            assert error["code"] == "BAD_REQUEST" and error["status"] == "400" and error["reason"], body
        raw = gw.http.post("/hub", content=b"{not json", headers={"Content-Type": "application/json"})
        assert raw.status_code == 400
        for bad_id in ("x" * 65, "not-a-uuid", "%00", "1' OR '1'='1"):
            assert gw.http.get(f"/hub/{bad_id}").status_code in (400, 404), bad_id
            assert gw.http.delete(f"/serviceOrdering/v4/hub/{bad_id}").status_code in (400, 404), bad_id
    assert outbox.list_subscriptions(store) == []


def test_unknown_or_foreign_subscriptions_are_404_and_auth_is_required(
    members: Members, store: IndexStore, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    foreign, _ = outbox.register(store, members.acme.address, "serviceOrdering", "http://127.0.0.1:9/x", None)
    with Gateway(members.op, store, tmp_path, {"enabled": False}) as gw:
        assert gw.http.get(f"/serviceOrdering/v4/hub/{foreign.id}").status_code == 404  # acme's
        assert gw.http.delete(f"/serviceOrdering/v4/hub/{foreign.id}").status_code == 404
        mine = gw.http.post("/serviceOrdering/v4/hub", json={"callback": "http://127.0.0.1:9/y"}).json()
        assert gw.http.get(f"/resourceInventoryManagement/v4/hub/{mine['id']}").status_code == 404  # other API
        assert gw.http.delete(f"/serviceOrdering/v4/hub/{mine['id']}").status_code == 204
        assert gw.http.get(f"/serviceOrdering/v4/hub/{mine['id']}").status_code == 404
        assert gw.http.delete(f"/serviceOrdering/v4/hub/{mine['id']}").status_code == 404
        anonymous = gw.http.post(
            "/serviceOrdering/v4/hub", json={"callback": "http://127.0.0.1:9/z"}, headers={"Authorization": ""}
        )
        assert anonymous.status_code == 401
    assert [s.id for s in outbox.list_subscriptions(store)] == [foreign.id]
