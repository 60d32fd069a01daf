"""The TMF gateway over real HTTP (httpx → uvicorn → FastAPI → SDK → anvil), one chain for the
module: a customer order created and revised as in the seed, MACD modify and delete with their
charges (micro-batched), a bill paid by the customer's own gateway, and the error contract
(401 / 403 / 400 / 404 / 409 as TMF error objects, never a 500 for bad input)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from telcochain.assets import AssetState

from tests.index.flows import Members, paid_installation
from tests.support.gateway import CUSTOMER, OPERATOR, Gateway, start_gateway, wait_until

ORDERS = "/serviceOrdering/v4/serviceOrder"
CANCEL = "/serviceOrdering/v4/cancelServiceOrder"
RESOURCES = "/resourceInventoryManagement/v4/resource"
SERVICES = "/serviceInventory/v4/service"
BILLS = "/customerBillManagement/v4/customerBill"
PAY = "/customerBillManagement/v4/payCustomerBill"


@pytest.fixture(scope="module")
def gateway(gw_chain, dev_accounts, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The operator's gateway, with a wide MACD window so concurrent items share one call."""
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-op"), gw_chain, dev_accounts[OPERATOR], "northwind", macd_window_ms=400
    )
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def customer_gateway(gw_chain, dev_accounts, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Initech Enterprise's own gateway (another member, its own key and index)."""
    gw = start_gateway(tmp_path_factory.mktemp("gw-cust"), gw_chain, dev_accounts[CUSTOMER], "initech")
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def m(members) -> Members:  # type: ignore[no-untyped-def]
    return Members(*members)


def tmf_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status"] == str(status) and body["@type"] == "Error", body
    assert body["reason"]
    return body


def char(item: dict[str, Any], name: str) -> Any:
    return {c["name"]: c.get("value") for c in item["service"]["serviceCharacteristic"]}[name]


def line(ident: str, vendor: str, sku: str, quantity: int = 1, asset: str | None = None, **extra: Any) -> dict:
    chars = [{"name": "vendor", "value": vendor}, {"name": "sku", "value": sku}]
    chars += [{"name": k, "value": v} for k, v in extra.items()]
    service: dict[str, Any] = {"serviceCharacteristic": chars}
    if asset:
        service["supportingResource"] = [{"id": asset}]
    return {"id": ident, "action": "add", "quantity": quantity, "service": service}


# -- auth and errors -------------------------------------------------------------------------------


def test_no_token_or_a_wrong_one_is_401_with_a_tmf_error(gateway: Gateway) -> None:
    with gateway.client(token=None) as anonymous:
        body = tmf_error(anonymous.get(RESOURCES), 401, "UNAUTHORIZED")
        assert anonymous.get(RESOURCES).headers["www-authenticate"] == "Bearer"
        assert "Bearer" in body["message"]
    with gateway.client(token="tcg_" + "x" * 43) as forged:
        tmf_error(forged.get(ORDERS), 401, "UNAUTHORIZED")
        tmf_error(forged.post(ORDERS, json={}), 401, "UNAUTHORIZED")  # auth before validation


def test_tokens_are_stored_hashed_and_a_revoked_one_stops_working(gateway: Gateway) -> None:
    from telcochain.gateway import TokenStore

    store = TokenStore(gateway.settings.tokens_file)
    token = store.add("short-lived")
    text = gateway.settings.tokens_file.read_text()
    assert token not in text and "short-lived" in text
    with gateway.client(token=token) as c:
        assert c.get(RESOURCES).status_code == 200
        assert store.revoke("short-lived")
        tmf_error(c.get(RESOURCES), 401, "UNAUTHORIZED")


def test_bad_input_is_400_and_unknown_ids_404_never_500(api: httpx.Client) -> None:
    tmf_error(api.get(RESOURCES, params={"limit": 0}), 400, "BAD_REQUEST")
    tmf_error(api.get(RESOURCES, params={"resourceStatus": "broken"}), 400, "BAD_REQUEST")
    tmf_error(api.get(ORDERS, params={"state": "sleeping"}), 400, "BAD_REQUEST")
    tmf_error(api.post(ORDERS, content=b"{not json", headers={"content-type": "application/json"}), 400, "BAD_REQUEST")
    tmf_error(api.post(ORDERS, json={"serviceOrderItem": "A"}), 400, "BAD_REQUEST")
    tmf_error(api.post(ORDERS, json={"serviceOrderItem": [{"id": "A", "action": "explode"}]}), 400, "BAD_REQUEST")
    tmf_error(api.post(ORDERS, json={"serviceOrderItem": [{"id": "A", "action": "add"}]}), 400, "BAD_REQUEST")
    too_long = "X" * 40
    tmf_error(api.get(f"{RESOURCES}/{too_long}"), 400, "BAD_REQUEST")
    tmf_error(api.get(f"{RESOURCES}/NO-SUCH-TWIN"), 404, "NOT_FOUND")
    tmf_error(api.get(f"{ORDERS}/NO-SUCH-ORDER"), 404, "NOT_FOUND")
    tmf_error(api.get(f"{ORDERS}/MACD-0000"), 404, "NOT_FOUND")
    tmf_error(api.get(f"{BILLS}/999999"), 404, "NOT_FOUND")
    tmf_error(api.get(f"{BILLS}/not-a-number"), 404, "NOT_FOUND")
    tmf_error(api.get(f"{SERVICES}/NOPE:A"), 404, "NOT_FOUND")
    tmf_error(api.patch(f"{ORDERS}/NO-SUCH-ORDER", json={"state": "inProgress"}), 404, "NOT_FOUND")
    tmf_error(api.post(CANCEL, json={"serviceOrder": {"id": "NO-SUCH-ORDER"}}), 404, "NOT_FOUND")
    tmf_error(api.get("/no/such/path"), 404, "NOT_FOUND")
    tmf_error(api.delete(RESOURCES), 405, "METHOD_NOT_ALLOWED")


# -- TMF641: the seed's order and its revision ---------------------------------------------------


def seed_order(m: Members) -> dict[str, Any]:
    acme, globex, customer = m.acme.address, m.globex.address, m.customer.address
    return {
        "externalId": "ORD-1",
        "description": "five services A-E; devices A1, D1, D2",
        "externalReference": [{"externalReferenceType": "project", "name": "PRJ-NORTH"}],
        "relatedParty": [{"id": customer, "role": "customer"}],
        "serviceOrderItem": [
            {"id": "A", "action": "add", "service": {"id": "A"},
             "serviceOrderItem": [line("A1", acme, "ONT-X", asset="ONT-A1")]},
            {"id": "B", "action": "add", "service": {"id": "B"}},
            {"id": "C", "action": "add", "service": {"id": "C"}},
            {"id": "D", "action": "add", "service": {"id": "D"},
             "serviceOrderItem": [line("D1", "Globex Optical", "CABLE-Y", 10),
                                  line("D2", globex, "ROUTER-Y", asset="RTR-D2")]},
            {"id": "E", "action": "add", "service": {"id": "E"}},
        ],
    }  # fmt: skip


def test_create_an_order_then_revise_it_as_the_seed_does(api: httpx.Client, m: Members) -> None:
    for twin in ("ONT-A1", "RTR-D2", "RTR-C1"):
        m.op.assets.register(twin, "CPE")
    created = api.post(ORDERS, json=seed_order(m))
    assert created.status_code == 201, created.text
    order = created.json()
    assert created.headers["location"] == order["href"] and order["href"].endswith(f"{ORDERS}/ORD-1")
    assert (order["id"], order["@type"], order["state"], order["category"]) == (
        "ORD-1", "ServiceOrder", "acknowledged", "crm",
    )  # fmt: skip
    assert [i["id"] for i in order["serviceOrderItem"]] == list("ABCDE")
    assert order["relatedParty"] == [
        {"id": m.customer.address, "name": "Initech Enterprise", "role": "customer", "@referredType": "Organization"}
    ]
    # the chain agrees (read through the SDK, not the gateway)
    on_chain = m.customer.orders.get("ORD-1")
    assert {ln.name for ln in on_chain.lines} == {"A1", "D1", "D2"}
    assert m.op.assets.get("ONT-A1").state is AssetState.PENDING_INSTALLATION
    tmf_error(api.post(ORDERS, json=seed_order(m)), 409, "CONFLICT")  # the same order again

    # deliveries as in the seed: A1 and D2 delivered, D1 4/10 delivered, 2 used
    m.acme.orders.deliver("A1")
    m.globex.orders.deliver("D2")
    m.globex.orders.deliver("D1", 4)
    m.op.orders.consume("D1", m.globex.address, "CABLE-Y", 2)

    # A → A', B, C → C', D, no E; devices (A1, D1, D2) → (C1, D1); D1 paused, C1 auto-corrected
    revision = {
        "serviceOrderItem": [
            {"id": "A", "action": "modify", "service": {"serviceCharacteristic": [{"name": "version", "value": 2}]},
             "serviceOrderItem": [{"id": "A1", "action": "delete"}]},
            {"id": "B", "action": "noChange"},
            {"id": "C", "action": "modify", "service": {"serviceCharacteristic": [{"name": "version", "value": 2}]},
             "serviceOrderItem": [line("C1", "Acme Networks", "ROUTER-X", asset="RTR-C1",
                                       changePolicy="autoCorrect")]},
            {"id": "D", "action": "noChange", "serviceOrderItem": [
                {"id": "D2", "action": "delete"},
                {"id": "D1", "action": "noChange",
                 "service": {"serviceCharacteristic": [{"name": "changePolicy", "value": "pause"}]}}]},
            {"id": "E", "action": "delete"},
        ]
    }  # fmt: skip
    patched = api.patch(f"{ORDERS}/ORD-1", json=revision, headers={"content-type": "application/merge-patch+json"})
    assert patched.status_code == 200, patched.text
    order = patched.json()
    assert (order["state"], order["revision"]) == ("held", 1)
    items = {i["id"]: i for i in order["serviceOrderItem"]}
    assert [(items[s]["action"], char(items[s], "version")) for s in "ABCD"] == [
        ("modify", 2), ("noChange", 1), ("modify", 2), ("noChange", 1),
    ]  # fmt: skip
    assert (items["E"]["action"], items["E"]["state"]) == ("delete", "cancelled")
    lines = {ln["id"]: ln for i in order["serviceOrderItem"] for ln in i.get("serviceOrderItem", [])}
    assert {k: (v["state"], char(v, "changePolicy")) for k, v in lines.items()} == {
        "A1": ("cancelled", "autoCorrect"),
        "D2": ("cancelled", "autoCorrect"),
        "D1": ("held", "pause"),
        "C1": ("acknowledged", "autoCorrect"),
    }
    assert lines["A1"]["action"] == "delete" and lines["C1"]["action"] == "add"
    assert (char(lines["D1"], "delivered"), char(lines["D1"], "consumed")) == (4, 2)

    # the twins follow (TMF639): a delivered, removed device is recovering
    twin = api.get(f"{RESOURCES}/ONT-A1").json()
    assert (twin["resourceStatus"], twin["operationalState"], twin["administrativeState"]) == (
        "suspended", "disable", "locked",
    )  # fmt: skip
    assert {c["name"]: c["value"] for c in twin["resourceCharacteristic"]}["lifecycleState"] == "Recovering"
    assert m.op.assets.get("RTR-C1").state is AssetState.PENDING_INSTALLATION  # auto-corrected: ordered at once


def test_order_lists_filter_page_and_count_like_tmf(api: httpx.Client, m: Members) -> None:
    for n in range(3):
        body = {
            "externalId": f"ORD-LIST-{n}",
            "externalReference": [{"externalReferenceType": "project", "name": "PRJ-LIST"}],
            "relatedParty": [{"id": "Initech Enterprise", "role": "customer"}],
            "serviceOrderItem": [{"id": "S", "action": "add"}],
        }
        assert api.post(ORDERS, json=body).status_code == 201
    acknowledged = api.get(ORDERS, params={"state": "acknowledged", "category": "crm"})
    ids = [o["id"] for o in acknowledged.json()]
    assert {"ORD-LIST-0", "ORD-LIST-1", "ORD-LIST-2"} <= set(ids)
    assert all(o["state"] == "acknowledged" for o in acknowledged.json())
    assert acknowledged.headers["x-total-count"] == str(len(ids)) == acknowledged.headers["x-result-count"]
    paged = api.get(ORDERS, params={"state": "acknowledged", "category": "crm", "offset": 1, "limit": 1})
    assert [o["id"] for o in paged.json()] == ids[1:2]
    assert (paged.headers["x-total-count"], paged.headers["x-result-count"]) == (str(len(ids)), "1")
    slim = api.get(f"{ORDERS}/ORD-LIST-1", params={"fields": "state"}).json()
    assert set(slim) == {"id", "href", "@type", "state"}


def test_a_member_without_the_permission_gets_403_with_the_constitutions_reason(
    customer_gateway: Gateway, m: Members
) -> None:
    body = {
        "externalId": "ORD-BY-CUSTOMER",
        "externalReference": [{"externalReferenceType": "project", "name": "PRJ-NORTH"}],
        "serviceOrderItem": [{"id": "S", "action": "add"}],
    }
    with customer_gateway.client() as initech:
        denied = tmf_error(initech.post(ORDERS, json=body), 403, "PERMISSION_DENIED")
    assert denied["reason"] == "no permission" or "permission" in denied["reason"]
    assert m.customer.address in denied["message"]
    with pytest.raises(Exception, match=r"OrderNotFound|no order"):
        m.op.orders.get("ORD-BY-CUSTOMER")  # nothing was created


def test_service_inventory_lists_completed_service_items(api: httpx.Client, m: Members) -> None:
    body = {
        "externalId": "ORD-SVC",
        "externalReference": [{"externalReferenceType": "project", "name": "PRJ-SVC"}],
        "relatedParty": [{"id": m.customer.address, "role": "customer"}],
        "serviceOrderItem": [{"id": "FIBRE", "action": "add"}, {"id": "VOICE", "action": "add"}],
    }
    assert api.post(ORDERS, json=body).status_code == 201
    assert api.get(SERVICES, params={"serviceOrder.id": "ORD-SVC"}).json() == []
    for step in ("inProgress", "completed"):
        moved = api.patch(
            f"{ORDERS}/ORD-SVC", json={"serviceOrderItem": [{"id": "FIBRE", "action": "noChange", "state": step}]}
        )
        assert moved.status_code == 200, moved.text
    services = api.get(SERVICES, params={"serviceOrder.id": "ORD-SVC"})
    assert [(s["id"], s["state"], s["@type"]) for s in services.json()] == [("ORD-SVC:FIBRE", "active", "Service")]
    one = api.get(f"{SERVICES}/ORD-SVC:FIBRE").json()
    assert one["relatedParty"][0]["id"] == m.customer.address
    tmf_error(api.get(f"{SERVICES}/ORD-SVC:VOICE"), 404, "NOT_FOUND")  # still acknowledged


# -- MACD through TMF order items --------------------------------------------------------------------


def active_twin(m: Members, twin: str, run: str) -> None:
    paid_installation(m, twin, run)
    m.op.agreement.confirm_installation(twin)
    assert m.op.assets.get(twin).state is AssetState.ACTIVE


def macd_order(kind: str, *twins: str, action: str = "modify") -> dict[str, Any]:
    service: dict[str, Any] = {"supportingResource": [{"id": t} for t in twins]}
    if action == "modify":
        service["serviceCharacteristic"] = [{"name": "macdKind", "value": kind}]
    return {"serviceOrderItem": [{"id": "1", "action": action, "service": service}]}


def test_macd_modify_and_delete_run_the_agreements_flow_with_its_charge(api: httpx.Client, m: Members) -> None:
    for twin in ("ONT-M1", "ONT-M2"):
        active_twin(m, twin, "MACD")
    terms = m.op.agreement.terms()
    before = m.op.agreement.account(m.customer.address).balance

    moved = api.post(ORDERS, json=macd_order("move", "ONT-M1"))
    assert moved.status_code == 201, moved.text
    order = moved.json()
    assert order["id"].startswith("MACD-") and (order["category"], order["state"]) == ("macd", "inProgress")
    item = order["serviceOrderItem"][0]
    assert (item["action"], char(item, "macdKind"), int(char(item, "charge"))) == (
        "modify",
        "move",
        terms.tariff("move"),
    )
    assert m.op.assets.get("ONT-M1").state is AssetState.PENDING_CHANGE
    assert api.get(f"{RESOURCES}/ONT-M1").json()["usageState"] == "busy"
    assert m.op.agreement.account(m.customer.address).balance == before + terms.tariff("move")
    tmf_error(api.post(ORDERS, json=macd_order("change", "ONT-M1")), 409, "CONFLICT")  # already changing

    done = api.patch(f"{ORDERS}/{order['id']}", json={"state": "completed"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "completed" and done.json()["completionDate"]
    assert m.op.assets.get("ONT-M1").state is AssetState.ACTIVE

    deleted = api.post(ORDERS, json=macd_order("delete", "ONT-M2", action="delete")).json()
    assert deleted["serviceOrderItem"][0]["action"] == "delete"
    assert int(char(deleted["serviceOrderItem"][0], "charge")) == terms.tariff("delete")
    assert api.patch(f"{ORDERS}/{deleted['id']}", json={"state": "completed"}).json()["state"] == "completed"
    assert m.op.assets.get("ONT-M2").state is AssetState.INACTIVE
    twin = api.get(f"{RESOURCES}/ONT-M2").json()
    assert (twin["resourceStatus"], twin["operationalState"]) == ("standby", "disable")
    assert [o["id"] for o in api.get(ORDERS, params={"category": "macd", "state": "completed"}).json()] == [
        x for x in sorted([order["id"], deleted["id"]])
    ]

    tmf_error(api.post(ORDERS, json=macd_order("move", "NO-SUCH-TWIN")), 400, "BAD_REQUEST")
    tmf_error(api.post(ORDERS, json=macd_order("teleport", "ONT-M1")), 400, "BAD_REQUEST")
    tmf_error(api.post(ORDERS, json=macd_order("move", "ONT-M2")), 409, "CONFLICT")  # Inactive now


def test_concurrent_macd_items_share_one_bulk_call_and_can_be_cancelled(
    gateway: Gateway, api: httpx.Client, m: Members
) -> None:
    twins = [f"ONT-B{n}" for n in range(4)]
    for twin in twins:
        active_twin(m, twin, "BATCH")
    with ThreadPoolExecutor(len(twins)) as pool:
        answers = list(pool.map(lambda t: api.post(ORDERS, json=macd_order("change", t)), twins))
    assert [a.status_code for a in answers] == [201] * len(twins), [a.text for a in answers]
    orders = [a.json() for a in answers]
    refs = {char(o["serviceOrderItem"][0], "ref") for o in orders}
    assert len(refs) < len(twins)  # micro-batched: fewer on-chain calls than orders
    assert all(m.op.assets.get(t).state is AssetState.PENDING_CHANGE for t in twins)

    cancelled = api.post(CANCEL, json={"serviceOrder": {"id": orders[0]["id"]}, "cancellationReason": "no longer"})
    assert cancelled.status_code == 201, cancelled.text
    assert (cancelled.json()["state"], cancelled.json()["serviceOrder"]["id"]) == ("done", orders[0]["id"])
    assert api.get(f"{ORDERS}/{orders[0]['id']}").json()["state"] == "cancelled"
    assert m.op.assets.get(twins[0]).state is AssetState.ACTIVE
    tmf_error(api.post(CANCEL, json={"serviceOrder": {"id": orders[0]["id"]}}), 409, "CONFLICT")


def test_a_multi_item_macd_order_goes_into_the_bulk_path_in_one_go(api: httpx.Client, m: Members) -> None:
    twins = [f"ONT-X{n}" for n in range(3)]
    for twin in twins:
        active_twin(m, twin, "MULTI")
    terms = m.op.agreement.terms()
    body = {
        "externalId": "OSS-JOB-7",
        "serviceOrderItem": [
            {"id": str(n + 1), "action": "modify", "service": {
                "supportingResource": [{"id": twin}], "serviceCharacteristic": [{"name": "macdKind", "value": kind}]}}
            for n, (twin, kind) in enumerate(zip(twins, ("move", "add", "move"), strict=True))
        ],
    }  # fmt: skip
    answer = api.post(ORDERS, json=body)
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert (order["state"], order["externalId"], order["relatedParty"][0]["id"]) == (
        "inProgress", "OSS-JOB-7", m.customer.address,
    )  # fmt: skip
    items = order["serviceOrderItem"]
    assert [(i["id"], i["state"], char(i, "macdKind"), int(char(i, "charge"))) for i in items] == [
        ("1", "inProgress", "move", terms.tariff("move")), ("2", "inProgress", "add", terms.tariff("add")),
        ("3", "inProgress", "move", terms.tariff("move")),
    ]  # fmt: skip
    assert char(items[0], "ref") == char(items[2], "ref") != char(items[1], "ref")  # one bulk call per kind
    assert all(m.op.assets.get(t).state is AssetState.PENDING_CHANGE for t in twins)
    # read-your-writes: answered from the receipts, the order reads back the same at once
    again = api.get(f"{ORDERS}/{order['id']}").json()
    assert {k: again[k] for k in ("id", "state", "serviceOrderItem")} == {
        k: order[k] for k in ("id", "state", "serviceOrderItem")
    }
    tmf_error(api.post(ORDERS, json=body), 409, "CONFLICT")  # changing now: nothing sent twice


# -- TMF678: a bill paid by the customer's gateway -------------------------------------------------


def test_the_customer_pays_its_bill_through_its_own_gateway(
    api: httpx.Client, customer_gateway: Gateway, m: Members
) -> None:
    active_twin(m, "ONT-BILL", "BILL")
    m.op.agreement.request_change("change", "ONT-BILL")
    m.op.agreement.confirm_change("ONT-BILL")
    billed = m.op.agreement.bill(m.customer.address)
    bill_id = str(billed.invoice_id)
    with customer_gateway.client() as initech:
        bill = wait_until(lambda: initech.get(f"{BILLS}/{bill_id}").json() if initech.get(
            f"{BILLS}/{bill_id}").status_code == 200 else None)  # fmt: skip
        assert (bill["state"], bill["escrowStatus"], bill["@type"]) == ("sent", "issued", "CustomerBill")
        assert bill["amountDue"]["baseUnits"] == str(billed.invoiced) == bill["remainingAmount"]["baseUnits"]
        assert bill["paymentDueDate"] > bill["billDate"]
        assert {p["role"]: p["id"] for p in bill["relatedParty"]} == {
            "customer": m.customer.address, "billingProvider": m.op.address,
        }  # fmt: skip
        due = initech.get(BILLS, params={"state": "sent", "relatedParty.id": m.customer.address}).json()
        assert bill_id in {b["id"] for b in due}

        # the operator's gateway may not pay the customer's bill (once its own index has the bill)
        wait_until(lambda: api.get(f"{BILLS}/{bill_id}").status_code == 200 or None)
        tmf_error(api.post(PAY, json={"customerBill": {"id": bill_id}}), 403, "PERMISSION_DENIED")
        paid = initech.post(PAY, json={"customerBill": {"id": bill_id}})
        assert paid.status_code == 201, paid.text
        assert paid.json()["state"] == "done" and paid.json()["transactionHash"].startswith("0x")
        after = initech.get(f"{BILLS}/{bill_id}").json()
        on_chain = m.op.escrow.invoice(int(bill_id)).status.label
        assert on_chain in ("funded", "released")  # a period bill is not held: paid straight to the operator
        assert (after["state"], after["escrowStatus"], after["remainingAmount"]["baseUnits"]) == (
            "settled", on_chain, "0",
        )  # fmt: skip
        tmf_error(initech.post(PAY, json={"customerBill": {"id": bill_id}}), 409, "CONFLICT")  # paid already


def test_resource_list_filters_by_tmf_states_and_party(api: httpx.Client, m: Members) -> None:
    active = api.get(RESOURCES, params={"resourceStatus": "available", "limit": 1000})
    assert active.status_code == 200
    names = {r["id"] for r in active.json()}
    assert {"ONT-M1", "ONT-B1"} <= names and "ONT-M2" not in names
    assert all(r["resourceStatus"] == "available" for r in active.json())
    mine = api.get(RESOURCES, params={"relatedParty.id": m.customer.address, "fields": "id,resourceStatus"})
    assert mine.json() and all(set(r) <= {"id", "href", "@type", "resourceStatus"} for r in mine.json())
    history = api.get(f"{RESOURCES}/ONT-M1/history").json()
    assert [h["version"] for h in history] == sorted(h["version"] for h in history)
    twin = m.op.assets.get("ONT-M1")
    assert history[-1]["version"] == twin.version
    assert history[-1]["historyHead"] == "0x" + twin.history_head.hex()  # the chain's head: nothing missing
