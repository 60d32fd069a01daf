"""The follower: every event once, projections equal to the chain's views, deterministic
rebuilds, reorg rollback, tolerance of events it does not know."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from telcochain.index import Follower, IndexStore
from telcochain.index import schema as s
from telcochain.index.projections import Ev, Projector
from telcochain.index.queries import Queries
from telcochain.index.verify import verify
from telcochain.tx import hexint

from tests.index.flows import Members, normal_flow
from tests.support.chain import revert


def dump(store: IndexStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the checkpoint, in key order."""
    with store.engine.connect() as db:
        return {
            t.name: sorted(tuple(_text(v) for v in row) for row in db.execute(select(t)).all())
            for t in s.metadata.sorted_tables
            if t.name != "meta"
        }


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)


def chain_logs(members: Members) -> set[tuple[int, int]]:
    rpc = members.op.rpc
    head = hexint(rpc.call("eth_blockNumber"))
    addresses = [c.address for c in members.op.deployment.contracts.values()]
    logs = rpc.call("eth_getLogs", [{"address": addresses, "fromBlock": "0x0", "toBlock": hex(head)}])
    return {(hexint(x["blockNumber"]), hexint(x["logIndex"])) for x in logs}


def test_every_event_is_indexed_once_and_the_rows_match_the_views(members: Members, store: IndexStore) -> None:
    flow = normal_flow(members)
    follower = Follower.for_client(store, members.op)
    written = follower.catch_up()
    with store.engine.connect() as db:
        indexed = {(b, i) for b, i in db.execute(select(s.events.c.block_number, s.events.c.log_index)).all()}
    assert indexed == chain_logs(members)
    assert written == len(indexed)
    assert follower.catch_up() == 0  # nothing twice
    report = verify(follower)
    assert report.ok, [str(m) for m in report.mismatches]
    assert report.checked["assets"] == 2 and report.checked["invoices"] == 3
    q = Queries(store)
    twins = q.assets(customer="Initech Enterprise")
    assert sorted(a.name for a in twins) == sorted([flow["hq"], flow["br1"]])
    assert {a.vendor for a in twins} == {members.acme.address}
    assert [r.asset for r in q.macd_pending()] == [flow["br1"]]
    assert [a.name for a in q.assets(state="PendingChange")] == [flow["br1"]]


def test_a_service_that_ends_clears_the_twins_customer_in_the_index_too(members: Members, store: IndexStore) -> None:
    flow = normal_flow(members)
    members.customer.agreement.request_disconnect(flow["hq"])
    members.op.agreement.confirm_disconnect(flow["hq"])  # the service ends: the registry clears the customer
    follower = Follower.for_client(store, members.op)
    follower.catch_up()
    report = verify(follower)
    assert report.ok, [str(m) for m in report.mismatches]
    assert [a.name for a in Queries(store).assets(customer="Initech Enterprise")] == [flow["br1"]]
    # and every twin's history, served steps included, still verifies with the SDK
    for twin in (flow["hq"], flow["br1"]):
        assert members.op.assets.verify_history(twin).verified


def test_a_rebuild_from_block_zero_gives_the_same_rows(members: Members, tmp_path) -> None:  # type: ignore[no-untyped-def]
    normal_flow(members)
    one_go = IndexStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    Follower.for_client(one_go, members.op).catch_up()
    small_steps = IndexStore(f"sqlite:///{tmp_path / 'b.sqlite'}")
    Follower.for_client(small_steps, members.op, max_span=3).catch_up()
    assert dump(one_go) == dump(small_steps)
    follower = Follower.for_client(one_go, members.op)
    block, _ = follower.checkpoint()
    with one_go.engine.begin() as db:
        follower.replay(db, refresh_block=block)
    assert dump(one_go) == dump(small_steps)


def test_a_reorganisation_rolls_the_index_back_and_follows_the_new_branch(
    members: Members,
    store: IndexStore,
    local_node,
    deployment_path,
    dev_accounts,  # type: ignore[no-untyped-def]
) -> None:
    flow = normal_flow(members)
    rpc = members.op.rpc
    fork = rpc.call("evm_snapshot")
    members.op.agreement.confirm_change(flow["br1"], ref="ON-THE-OLD-BRANCH")
    follower = Follower.for_client(store, members.op)
    follower.catch_up()
    assert Queries(store).macd_pending().items == []
    revert(rpc.call, fork)  # the confirmation is gone; another branch grows instead
    members = Members.connect(local_node.rpc_url, deployment_path, dev_accounts)  # nonces as the new branch has them
    members.op.agreement.request_change("change", flow["hq"], ref="ON-THE-NEW-BRANCH")
    members.op.assets.register("ONT-NEW-BRANCH", "CPE")
    result = follower.step()
    assert result.rolled_back_to is not None
    follower.catch_up()
    with store.engine.connect() as db:
        refs = {r for (r,) in db.execute(select(s.calls.c.ref)).all()}
    assert "0x" + b"ON-THE-OLD-BRANCH".ljust(32, b"\0").hex() not in refs
    assert "0x" + b"ON-THE-NEW-BRANCH".ljust(32, b"\0").hex() in refs
    assert sorted(r.asset for r in Queries(store).macd_pending()) == sorted([flow["br1"], flow["hq"]])
    assert verify(follower).ok


def test_verify_reports_a_row_that_drifted_from_the_chain(members: Members, store: IndexStore) -> None:
    flow = normal_flow(members)
    follower = Follower.for_client(store, members.op)
    follower.catch_up()
    with store.engine.begin() as db:
        db.execute(
            update(s.assets)
            .where(s.assets.c.asset_id == "0x" + flow["hq"].encode().ljust(32, b"\0").hex())
            .values(state=1)
        )
        db.execute(update(s.asset_history).where(s.asset_history.c.version == 2).values(ref="0x" + "11" * 32))
    report = verify(follower)
    fields = {(m.table, m.field) for m in report.mismatches}
    assert ("assets", "state") in fields
    assert ("asset_history", "head of v2") in fields


def test_logs_no_shipped_abi_knows_are_kept_raw(members: Members, store: IndexStore) -> None:
    normal_flow(members)
    follower = Follower.for_client(store, members.op)
    del_topic = next(t for t, spec in follower.decoder._anywhere.items() if spec.name == "AssetTransitioned")
    follower.decoder.specs = {k: v for k, v in follower.decoder.specs.items() if k[1] != del_topic}
    del follower.decoder._anywhere[del_topic]
    follower.catch_up()
    with store.engine.connect() as db:
        raw = db.execute(select(s.events.c.args).where(s.events.c.topic0 == del_topic)).all()
        named = db.execute(select(s.events.c.name).where(s.events.c.topic0 == del_topic)).scalars().all()
    assert raw and all(r.args["topics"][0] == del_topic and r.args["data"].startswith("0x") for r in raw)
    assert set(named) == {None}


def test_new_events_are_projected_by_name_or_followed_as_history(store: IndexStore) -> None:
    asset, head = "0x" + "ab" * 32, "0x" + "01" * 24
    customer, vendor = "0x" + "11" * 20, "0x" + "22" * 20
    with store.engine.begin() as db:
        p = Projector(db)
        registered = {"assetId": asset, "ref": "0x" + "00" * 32, "actor": vendor, "kind": "0x" + "00" * 12,
                      "serialHash": "0x" + "00" * 32, "rootId": "0x" + "00" * 32, "orderId": "0x" + "00" * 32,
                      "detailsHash": "0x" + "00" * 32, "version": 1, "head": head}  # fmt: skip
        p.apply(Ev(1, 0, "0x", 10, "AssetRegistry", "AssetRegistered", registered))
        p.apply(Ev(2, 0, "0x", 11, "AssetRegistry", "AssetPartiesChanged",
                   {"assetId": asset, "ref": "0x" + "00" * 32, "customer": customer, "vendor": vendor}))  # fmt: skip
        p.apply(Ev(3, 0, "0x", 12, "AssetRegistry", "AssetSomethingNew",
                   {"assetId": asset, "actor": vendor, "version": 2, "head": "0x" + "02" * 24, "note": 7}))  # fmt: skip
        p.apply(Ev(4, 0, "0x", 13, "Constitution", "MemberReinstated", {"account": vendor, "ref": "0x" + "00" * 32}))
        p.apply(Ev(5, 0, "0x", 14, "EscrowPayment", "InvoiceSomethingNew", {"invoiceId": 9}))  # no handler: raw only
        p.flush()
        row = db.execute(select(s.assets)).one()
        history = db.execute(
            select(s.asset_history.c.change, s.asset_history.c.data).order_by(s.asset_history.c.version)
        ).all()
    assert (row.customer, row.vendor, row.version, row.head) == (customer, vendor, 2, "0x" + "02" * 24)
    with store.engine.begin() as db:  # parties carried by the registration itself (a newer AssetRegistered)
        p = Projector(db)
        p.apply(Ev(6, 0, "0x", 15, "AssetRegistry", "AssetRegistered",
                   {**registered, "assetId": "0x" + "cd" * 32, "customer": customer, "vendor": vendor}))  # fmt: skip
        p.flush()
        second = db.execute(select(s.assets).where(s.assets.c.asset_id == "0x" + "cd" * 32)).one()
    assert (second.customer, second.vendor) == (customer, vendor)
    assert [h.change for h in history] == ["AssetRegistered", "AssetSomethingNew"]
    assert history[1].data == {"note": 7}
