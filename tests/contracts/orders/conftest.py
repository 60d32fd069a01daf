"""Fixtures of the OrderBook tests; the world and helpers are tests/support/orders.py.

The consortium is package-scoped (deployed once; ape's isolation snapshots the chain around
every module and test).

This directory is a package so that its ``conftest`` does not shadow the Constitution tests'.
"""

from __future__ import annotations

import pytest

from tests.support.orders import Book, deploy_book


@pytest.fixture(scope="package")
def roles(accounts):
    return {
        "operator": accounts[1],
        "vendor_x": accounts[2],
        "customer": accounts[3],
        "vendor_y": accounts[4],
        "stranger": accounts[9],
    }


@pytest.fixture(scope="package")
def ob(accounts, roles) -> Book:
    return deploy_book(accounts[0], roles)
