"""Fixtures of the AssetRegistry tests; the world and helpers are tests/support/assets.py.

The consortium is package-scoped (deployed once; ape's isolation snapshots the chain around
every module and test, so each test starts from the sealed, empty registry).

This directory is a package so that its ``conftest`` does not shadow the Constitution tests'.
"""

from __future__ import annotations

import pytest

from tests.support.assets import Consortium, deploy_consortium


@pytest.fixture(scope="package")
def roles(accounts):
    return {"operator": accounts[1], "vendor": accounts[2], "customer": accounts[3], "stranger": accounts[9]}


@pytest.fixture(scope="package")
def consortium(accounts, roles) -> Consortium:
    return deploy_consortium(accounts[0], roles)


@pytest.fixture(scope="package")
def registry(consortium):
    return consortium.registry
