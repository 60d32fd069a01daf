"""Every entry point, from every role, on objects that belong to others: nothing is written.

- executeAction of every public action aimed at another party's twin, line, invoice, disclosure
  or at governance (attacks.py), from every role that is not one of that object's parties;
- every Internal action through executeAction, from every role;
- every module entry point called directly (not through the Constitution), from every role,
  impersonating the object's rightful party in the `caller` argument;
- the Constitution's privileged entry points and the token's owner functions, from every role;
- executeBatch loops of all of a role's attacks, each repeated;
- the admitted rogue module asking for every Internal action of the other modules.
"""

from __future__ import annotations

import pytest

from .asserts import assert_denial_on_record, assert_nothing_written, is_active_member, may_execute
from .attacks import ATTACKS, INERT, INTERNAL, ROLES
from .client import action_id, enc, ref
from .world import World

MATRIX = [(a, r) for a in ATTACKS for r in ROLES if r not in a.owners]
MODULES = ("AssetRegistry", "OrderBook", "DetailsVault", "OperatorAgreement", "EscrowPayment")


@pytest.mark.parametrize(("attack", "role"), MATRIX, ids=[f"{a}-by-{r}" for a, r in MATRIX])
def test_public_action_on_another_partys_object_writes_nothing(world: World, attack, role: str) -> None:
    params = attack.params(world, role)
    granted = may_execute(world, attack.action, role)
    sent = world.c.execute(world.accounts[role], attack.action, params, attack.ref_label)
    what = f"{role} → {attack.action} ({attack.name})"
    assert_nothing_written(world, sent, what)
    if not granted and is_active_member(world, role):
        assert_denial_on_record(sent, attack.action, world.addr(role), what)


LIVE = [a for a in ATTACKS if a.live_as]


@pytest.mark.parametrize("attack", LIVE, ids=[a.name for a in LIVE])
def test_the_rightful_partys_own_call_takes_effect(world: World, attack) -> None:
    """The control of the matrix: the same params, sent by the object's rightful party, are not
    refused — so the attacks above fail because of who sends them."""
    sent = world.c.execute(
        world.accounts[attack.live_as], attack.action, attack.params(world, attack.live_as), attack.ref_label
    )
    refused = [lg.event for lg in sent.logs if lg.event in ("ActionDenied", "ActionReverted")]
    assert sent.ok and not refused, f"{attack.live_as} → {attack.action} ({attack.name}) was refused: {refused}"
    assert sent.storage_writes() or len(sent.logs) > 1, f"{attack.name}: the rightful call had no effect"


def test_every_attack_with_rightful_parties_is_live_or_explained() -> None:
    registry_verbs = {
        "scheduleInstallation",
        "cancelInstallation",
        "deliver",
        "commission",
        "requestChange",
        "completeChange",
        "completeDeletion",
        "requestDisconnect",
        "withdrawDisconnect",
        "completeDisconnect",
        "recover",
        "decommission",
        "bulkTransition",
    }
    unexplained = [
        a.name for a in ATTACKS if a.owners and not a.live_as and a.name not in INERT and a.action not in registry_verbs
    ]
    assert unexplained == []


INTERNAL_MATRIX = [(name, r) for name in INTERNAL for r in ROLES]


@pytest.mark.parametrize(("action", "role"), INTERNAL_MATRIX, ids=[f"{a}-by-{r}" for a, r in INTERNAL_MATRIX])
def test_internal_action_sent_by_a_member_or_outsider_writes_nothing(world: World, action: str, role: str) -> None:
    sent = world.c.execute(world.accounts[role], action, INTERNAL[action](world), f"internal-{action}")
    what = f"{role} → Internal {action}"
    assert_nothing_written(world, sent, what)
    if is_active_member(world, role):
        assert_denial_on_record(sent, action, world.addr(role), what)


def _entry_points() -> list[tuple[str, str]]:
    from .client import Abis

    abis = Abis()
    out = []
    for contract in MODULES:
        for item in abis.by_name[contract]:
            types = [i["type"] for i in item.get("inputs", [])]
            if (
                item["type"] == "function"
                and item["stateMutability"] == "nonpayable"
                and types == ["address", "bytes32", "bytes"]
            ):
                out.append((contract, item["name"]))
    return out


ENTRY_POINTS = _entry_points()
DIRECT = [(c, f, r) for c, f in ENTRY_POINTS for r in ROLES]
PARAMS_BY_ACTION = {a.action: a for a in reversed(ATTACKS)}


def _victim_params(world: World, function: str) -> tuple[str, bytes]:
    """The rightful party to impersonate and harmful params for a module entry point."""
    if function in INTERNAL:
        return world.addr("northwind"), INTERNAL[function](world)
    attack = PARAMS_BY_ACTION.get(function)
    if attack is None:
        return world.addr("northwind"), b""
    owner = sorted(attack.owners)[0] if attack.owners else "northwind"
    return world.addr(owner), attack.params(world, owner)


def test_every_module_entry_point_is_covered() -> None:
    assert len(ENTRY_POINTS) >= 50
    missing = [f for _, f in ENTRY_POINTS if f not in INTERNAL and f not in PARAMS_BY_ACTION]
    assert missing == [], f"entry points without attack params: {missing}"


@pytest.mark.parametrize(("contract", "function", "role"), DIRECT, ids=[f"{c}.{f}-by-{r}" for c, f, r in DIRECT])
def test_module_entry_point_called_directly_writes_nothing(
    world: World, contract: str, function: str, role: str
) -> None:
    victim, params = _victim_params(world, function)
    sent = world.c[contract].send(world.accounts[role], function, victim, ref("direct"), params)
    assert_nothing_written(world, sent, f"{role} → {contract}.{function} directly")


@pytest.mark.parametrize("role", ROLES)
def test_constitution_privileged_entry_points_write_nothing(world: World, role: str) -> None:
    const = world.c["Constitution"]
    account = world.accounts[role]
    victim = world.addr("hooli") if role != "hooli" else world.addr("initech")
    attempts = [
        const.send(account, "executeInternal", action_id("transition"), ref("x"), INTERNAL["transition"](world)),
        const.send(
            account, "executeInternal", action_id("issueCreditNote"), ref("x"), INTERNAL["issueCreditNote"](world)
        ),
        const.send(
            account, "executeActionAs", victim, action_id("releaseInvoice"), enc(["uint256"], world["INV_H2"]), ref("x")
        ),
        const.send(account, "sealGenesis"),
        const.send(account, "genesisSetPermissions", action_id("billAccount"), [(account.address, True, 0, 0)]),
    ]
    for name, sent in zip(
        (
            "executeInternal/transition",
            "executeInternal/issueCreditNote",
            "executeActionAs",
            "sealGenesis",
            "genesisSetPermissions",
        ),
        attempts,
        strict=True,
    ):
        assert_nothing_written(world, sent, f"{role} → Constitution.{name}")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "northwind"])
def test_token_owner_functions_from_non_owners_write_nothing(world: World, role: str) -> None:
    token = world.c["SettlementToken"]
    account = world.accounts[role]
    assert_nothing_written(world, token.send(account, "mint", account.address, 10**15), f"{role} mints")
    assert_nothing_written(world, token.send(account, "transferOwnership", account.address), f"{role} takes the token")


@pytest.mark.parametrize("role", ROLES)
def test_batch_loop_of_every_attack_writes_nothing(world: World, role: str) -> None:
    calls = [(a.action, a.params(world, role), a.ref_label) for a in ATTACKS if role not in a.owners]
    calls += [(name, build(world), f"batch-internal-{name}") for name, build in INTERNAL.items()]
    sent = world.c.batch(world.accounts[role], calls * 3, gas=29_000_000)
    assert_nothing_written(world, sent, f"{role} → executeBatch of {len(calls) * 3} attacks")


@pytest.mark.parametrize("action", list(INTERNAL))
def test_rogue_module_cannot_use_other_modules_internal_actions(world: World, action: str) -> None:
    params = enc(["bytes32", "bytes"], action_id(action), INTERNAL[action](world))
    sent = world.c.execute(world.accounts["acme"], "rogueCall", params, f"rogue-{action}")
    assert_nothing_written(world, sent, f"rogue module → Internal {action}", allow=(world.rogue,))
