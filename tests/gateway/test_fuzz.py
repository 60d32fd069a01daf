"""Property-based fuzzing of the gateway with schemathesis, against the OpenAPI document it
serves and a running server on a real chain: whatever the input, no 5xx, and every response
(status code, content type, body) matches the document. Bounded: 40 cases per
operation (about a minute in all)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.support.gateway import OPERATOR, Gateway, start_gateway

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(gw_chain, dev_accounts, tmp_path_factory) -> Iterator[Gateway]:  # type: ignore[no-untyped-def]
    gw = start_gateway(tmp_path_factory.mktemp("gw-fuzz"), gw_chain, dev_accounts[OPERATOR], "northwind")
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def served_schema(fuzzed: Gateway) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("served_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_gateway_never_fails_and_always_answers_as_documented(case: schemathesis.Case, fuzzed: Gateway) -> None:
    case.call_and_validate(
        base_url=fuzzed.url, headers={"Authorization": f"Bearer {fuzzed.token}"}, checks=CHECKS, timeout=60
    )
