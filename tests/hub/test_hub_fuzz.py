"""Property-based fuzzing of the hub's routes (schemathesis, from the served OpenAPI document):
whatever the input, no 5xx, and every answer as documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from telcochain.index import IndexStore

from tests.hub.serving import Gateway
from tests.index.flows import Members

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def hub_gateway(local_node, deployment_path, dev_accounts, tmp_path_factory) -> Iterator[Gateway]:  # type: ignore[no-untyped-def]
    tmp: Path = tmp_path_factory.mktemp("hub-fuzz")
    members = Members.connect(local_node.rpc_url, deployment_path, dev_accounts)
    store = IndexStore(f"sqlite:///{tmp / 'index.sqlite'}")
    with Gateway(members.op, store, tmp, {"enabled": False}) as gw:  # routes only: no POSTs to fuzzed URLs
        yield gw
    store.dispose()


@pytest.fixture(scope="module")
def hub_schema(hub_gateway: Gateway) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"http://127.0.0.1:{hub_gateway.port}/openapi.json")


schema = schemathesis.pytest.from_fixture("hub_schema").include(tag="TMF688 Event hub")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_hub_never_fails_and_always_answers_as_documented(case: schemathesis.Case, hub_gateway: Gateway) -> None:
    case.call_and_validate(
        base_url=f"http://127.0.0.1:{hub_gateway.port}",
        headers={"Authorization": f"Bearer {hub_gateway.token}"},
        checks=CHECKS,
        timeout=60,
    )
