"""Test deployments made the way a real one is: one deploy path.

A world is a consortium description, ``tests/support/worlds/<name>.yaml`` (the format of
consortium.yaml, validated by the same schema, ``telcochain.consortium``), deployed by
scripts/deploy.py's own code: ``deploy_contracts`` (the Constitution, the modules the world's
actions name, the agreement's token, escrow and contracts) and ``genesis`` (every action defined
from the file, then sealed). Only the modules a world's actions name are deployed, plus the test
contracts they name (:data:`TEST_MODULES`: ``MockModule``, which the schema accepts as a module of
a test world, see :func:`entry_points`).

A variant of a world lays changed action keys over the file (:func:`load_world`'s ``changes``),
e.g. a vote on ``bindSerial``; anything else a package needs after sealing (approvals, a second
token) is done by its own ``deploy_*`` in ``tests/support/<package>.py``.

The tests name members by role (``operator``, ``vendor``...): each world module maps its roles
to the file's member names, and :func:`check_roles` checks them against ape's test accounts.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from telcochain.consortium import ConsortiumConfig, parse_consortium, shipped_entry_points

from tests.support.paths import ROOT

WORLDS = Path(__file__).resolve().parent / "worlds"

#: Test contracts (contracts/test/) a world's actions may name as their module.
TEST_MODULES = ("MockModule",)


@cache
def deploy_script() -> ModuleType:
    """scripts/deploy.py, imported (its ``main`` runs only under ``ape run deploy``)."""
    spec = importlib.util.spec_from_file_location("telcochain_deploy_script", ROOT / "scripts" / "deploy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def entry_points() -> dict[str, frozenset[str]]:
    """The modules a world's actions may name: the SDK's shipped ones and the test contracts."""
    from ape import project

    found = dict(shipped_entry_points())
    args = ["address", "bytes32", "bytes"]
    for name in TEST_MODULES:
        abi = getattr(project, name).contract_type.abi
        found[name] = frozenset(
            m.name for m in abi if m.type == "function" and [i.canonical_type for i in m.inputs] == args
        )
    return found


@cache
def world_text(name: str) -> str:
    return (WORLDS / f"{name}.yaml").read_text()


def world_data(name: str) -> dict[str, Any]:
    """The world's file, parsed (a fresh copy)."""
    data: dict[str, Any] = yaml.safe_load(world_text(name))
    return data


def load_world(
    name: str,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
    agreement: Mapping[str, Any] | None = None,
) -> ConsortiumConfig:
    """tests/support/worlds/<name>.yaml, validated like consortium.yaml; ``changes`` (action →
    keys) are laid over the file's ``actions`` first, and ``agreement`` (keys) over its
    ``agreement`` section (the tariff comes from the tests' ``TARIFF``, tests/support/agreement.py)."""
    data = world_data(name)
    for action, keys in (changes or {}).items():
        data["actions"][action] = {**(data["actions"].get(action) or {}), **keys}
    if agreement:
        data["agreement"] = {**data["agreement"], **agreement}
    laid = {"actions": dict(changes or {}), "agreement": dict(agreement or {})}
    source = world_text(name) + yaml.safe_dump(laid)
    digest = "0x" + hashlib.sha256(source.encode()).hexdigest()
    return parse_consortium(data, WORLDS / f"{name}.yaml", digest, entry_points())


def granted(name: str, members: Mapping[str, str], module: str | None = None) -> dict[str, tuple[str, ...]]:
    """The public actions of a world (of ``module`` only, if given) → the roles granted, in the
    file's order; ``members`` maps roles to the file's member names (``all``: every role there)."""
    by_name = {member: role for role, member in members.items()}
    out: dict[str, tuple[str, ...]] = {}
    for action, entry in world_data(name)["actions"].items():
        entry = entry or {}
        if entry.get("scope", "public") != "public" or (module is not None and entry.get("module") != module):
            continue
        grants = entry.get("grants", "all")
        if grants == "all":
            out[action] = tuple(members)
        elif grants in ("none", None):
            out[action] = ()
        else:
            out[action] = tuple(by_name[g if isinstance(g, str) else g["member"]] for g in grants)
    return out


def check_roles(config: ConsortiumConfig, members: Mapping[str, str], roles: Mapping[str, Any]) -> None:
    """Each role's account is the member the world's file names for it."""
    for role, member in members.items():
        assert config.member(member).address == roles[role].address, (
            f"{config.path}: member {member!r} ({role}) is not at {roles[role].address}"
        )


@dataclass
class Deployed:
    """A world on chain: the sealed Constitution and every contract by name."""

    config: ConsortiumConfig
    constitution: Any
    contracts: dict[str, Any] = field(default_factory=dict)


def modules_named(config: ConsortiumConfig) -> tuple[str, ...]:
    """The business modules (scripts/deploy.py ``MODULES``, in order) the world needs: named by
    an action (as module or caller), or needed by the agreement."""
    named = {a.module for a in config.actions} | {c for a in config.actions for c in a.callers}
    if config.agreement is not None:
        named |= {"AssetRegistry", "CustomerRegistry"}
    return tuple(m for m in deploy_script().MODULES if m in named)


def deploy_world(config: ConsortiumConfig, deployer: Any) -> Deployed:
    """Deploys ``config`` through scripts/deploy.py (``deploy_contracts`` then ``genesis``): the
    modules it names, the test contracts its actions name (before genesis: their addresses go
    into policies and ``callers``), every action defined, genesis sealed."""
    from ape import project

    script = deploy_script()
    constitution, contracts = script.deploy_contracts(config, deployer, modules_named(config))
    named = {a.module for a in config.actions} | {c for a in config.actions for c in a.callers}
    for name in TEST_MODULES:
        if name in named:
            contracts[name] = getattr(project, name).deploy(constitution.address, sender=deployer)
    script.genesis(constitution, config, contracts, deployer)
    return Deployed(config, constitution, contracts)
