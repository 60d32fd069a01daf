"""Fixtures of the OperatorAgreement / EscrowPayment tests; the world and helpers are
tests/support/agreement.py.

The consortium is package-scoped (deployed once; ape's isolation snapshots the chain around every
module and test).

A package so that its ``conftest`` does not shadow tests/contracts/conftest.py.
"""

from __future__ import annotations

import pytest

from tests.support.agreement import Deal, deploy_deal


@pytest.fixture(scope="package")
def roles(accounts):
    return {
        "operator": accounts[1],
        "vendor": accounts[2],
        "customer": accounts[3],
        "customer2": accounts[4],
        "stranger": accounts[9],
    }


@pytest.fixture(scope="package")
def deal(accounts, roles) -> Deal:
    return deploy_deal(accounts[0], roles)
