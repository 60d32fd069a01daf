"""A test that never touches ape's chain runs without ape's snapshot/revert
(tests/support/ape_setup.py); one that asks for ape's chain keeps it."""

from __future__ import annotations


def test_a_test_off_apes_chain_gets_no_isolation_fixtures(request):
    assert not [name for name in request.fixturenames if name.endswith("_isolation")]


def test_a_test_that_asks_for_apes_chain_keeps_its_isolation(request, chain):
    assert "_function_isolation" in request.fixturenames
