"""The PostgreSQL path: the same code into a real server (a throwaway cluster) gives the same rows."""

from __future__ import annotations

from pathlib import Path

from telcochain.index import Follower, IndexStore
from telcochain.index.queries import Queries
from telcochain.index.verify import verify

from tests.index.flows import Members, normal_flow
from tests.index.test_follower import dump
from tests.support.chain import revert


def test_postgresql_holds_the_same_rows_as_sqlite(members: Members, pg_store: IndexStore, tmp_path: Path) -> None:
    assert pg_store.dialect == "postgresql"
    flow = normal_flow(members)
    follower = Follower.for_client(pg_store, members.op, max_span=5)
    follower.catch_up()
    report = verify(follower)
    assert report.ok, [str(m) for m in report.mismatches]
    lite = IndexStore(f"sqlite:///{tmp_path / 'same.sqlite'}")
    Follower.for_client(lite, members.op).catch_up()
    assert dump(pg_store) == dump(lite)
    assert [r.asset for r in Queries(pg_store).macd_pending(customer="Initech Enterprise")] == [flow["br1"]]


def test_postgresql_rolls_back_a_reorganisation(
    members: Members,
    pg_store: IndexStore,
    local_node,
    deployment_path,
    dev_accounts,  # type: ignore[no-untyped-def]
) -> None:
    flow = normal_flow(members)
    fork = members.op.rpc.call("evm_snapshot")
    members.op.agreement.confirm_change(flow["br1"])
    follower = Follower.for_client(pg_store, members.op)
    follower.catch_up()
    revert(members.op.rpc.call, fork)
    again = Members.connect(local_node.rpc_url, deployment_path, dev_accounts)
    again.op.assets.register("ONT-PG-BRANCH", "CPE")
    follower.catch_up()
    assert verify(follower).ok
    assert [r.asset for r in Queries(pg_store).macd_pending()] == [flow["br1"]]
