"""Fixtures of the DetailsVault tests; the world and helpers are tests/support/visibility.py.

The consortium is package-scoped (deployed once; ape's isolation snapshots the chain around every
module and test).

This directory is a package so that its ``conftest`` does not shadow the Constitution tests'.
"""

from __future__ import annotations

import pytest

from tests.support.visibility import Vault, deploy_vault


@pytest.fixture(scope="package")
def roles(accounts):
    return {"m1": accounts[1], "m2": accounts[2], "m3": accounts[3], "m4": accounts[4], "stranger": accounts[9]}


@pytest.fixture(scope="package")
def dv(accounts, roles) -> Vault:
    return deploy_vault(accounts[0], roles)
