"""Delegate keys (issue 20) attacked with the raw client: a delegate acts exactly as its
member, for module actions that run at once — nothing more.

- Northwind's delegate sends every attack on objects that are not Northwind's: nothing is
  written (and a denial names Northwind when Northwind holds no grant) — a delegate of member A
  acting on member B's objects is A acting on them;
- the controls: each of Northwind's live attacks, sent by its delegate, takes effect when it is a
  module action that runs at once, and writes nothing when it is a built-in or needs a vote
  (a delegate never proposes);
- Northwind's revoked delegate and Vandelay's delegate (Vandelay is suspended) send every attack
  of their member: nothing written; the suspended member's denials are on record;
- a delegate votes on nothing, manages no delegates; nobody but the member manages its
  delegates (the Constitution's two new entry points, from every role, with the member's own
  call as the control).
"""

from __future__ import annotations

import pytest

from .asserts import assert_denial_on_record, assert_nothing_written, may_execute
from .attacks import ATTACKS, ROLES
from .client import action_id, enc, ref
from .world import World

FOREIGN = [a for a in ATTACKS if "northwind" not in a.owners]
NORTHWIND_LIVE = [a for a in ATTACKS if a.live_as == "northwind"]
ZERO = "0x" + "00" * 20


def _runs_at_once(world: World, action: str) -> bool:
    """A module action with no vote: the only kind a delegate may send."""
    policy = world.c["Constitution"].view("action", action_id(action))
    module, voters = policy[2], policy[5]
    return int(module, 16) != 0 and int(voters) == 0


@pytest.mark.parametrize("attack", FOREIGN, ids=[a.name for a in FOREIGN])
def test_a_delegate_on_another_members_objects_writes_nothing(world: World, attack) -> None:
    params = attack.params(world, "northwind")
    sent = world.c.execute(world.accounts["nw_delegate"], attack.action, params, attack.ref_label)
    what = f"Northwind's delegate → {attack.action} ({attack.name})"
    assert_nothing_written(world, sent, what)
    if not may_execute(world, attack.action, "northwind"):
        assert_denial_on_record(sent, attack.action, world.addr("northwind"), what)


@pytest.mark.parametrize("attack", NORTHWIND_LIVE, ids=[a.name for a in NORTHWIND_LIVE])
def test_a_delegate_does_what_its_member_may_and_proposes_nothing(world: World, attack) -> None:
    """The control: Northwind's own live calls, sent by its delegate."""
    sent = world.c.execute(
        world.accounts["nw_delegate"], attack.action, attack.params(world, "northwind"), attack.ref_label
    )
    what = f"Northwind's delegate → {attack.action} ({attack.name})"
    if not _runs_at_once(world, attack.action):  # a built-in or a voted action: refused outright
        assert not sent.ok, f"{what}: a delegate's proposal or built-in went through"
        assert_nothing_written(world, sent, what)
        return
    refused = [lg.event for lg in sent.logs if lg.event in ("ActionDenied", "ActionReverted")]
    assert sent.ok and not refused, f"{what} was refused: {refused} {sent.revert_reason()}"
    assert sent.storage_writes(), f"{what}: no effect"
    executed = [lg for lg in sent.logs if lg.event == "ActionExecuted"]
    assert executed and {lg.args["caller"].lower() for lg in executed} == {world.addr("northwind").lower()}


@pytest.mark.parametrize("attack", NORTHWIND_LIVE, ids=[a.name for a in NORTHWIND_LIVE])
def test_a_revoked_delegate_writes_nothing(world: World, attack) -> None:
    params = attack.params(world, "northwind")
    key = world.accounts["revoked_delegate"]
    for sent in (
        world.c.execute(key, attack.action, params, attack.ref_label),
        world.c.batch(key, [(attack.action, params, attack.ref_label)] * 2),
    ):
        assert not sent.ok, f"revoked delegate → {attack.name}: accepted"
        assert_nothing_written(world, sent, f"revoked delegate → {attack.action} ({attack.name})")


SUSPENDED = list(ATTACKS)


@pytest.mark.parametrize("attack", SUSPENDED, ids=[a.name for a in SUSPENDED])
def test_a_suspended_members_delegate_writes_nothing(world: World, attack) -> None:
    params = attack.params(world, "suspended")
    sent = world.c.execute(world.accounts["suspended_delegate"], attack.action, params, attack.ref_label)
    what = f"Vandelay's delegate → {attack.action} ({attack.name})"
    assert_nothing_written(world, sent, what)
    if sent.ok:  # refused as Vandelay is: a denial in Vandelay's name
        assert_denial_on_record(sent, attack.action, world.addr("suspended"), what)


def test_a_delegate_votes_on_nothing(world: World) -> None:
    key = world.accounts["nw_delegate"]
    pid = world["P_OPEN"]
    for sent in (
        world.c.vote(key, pid, True),
        world.c.vote(key, pid, False),
        world.c.execute(key, "voteFor", enc(["uint256", "bool"], pid, True), "delegate-vote"),
        world.c.batch(key, [("voteFor", enc(["uint256", "bool"], pid, False), "delegate-vote-b")]),
    ):
        assert_nothing_written(world, sent, "Northwind's delegate votes")
    # the control: a member's own vote is counted (Hooli has not voted on P_OPEN)
    assert world.c.vote(world.accounts["hooli"], pid, True).storage_writes()


def test_delegates_manage_no_delegates(world: World) -> None:
    const = world.c["Constitution"]
    for role in ("nw_delegate", "revoked_delegate", "suspended_delegate"):
        key = world.accounts[role]
        for sent in (
            const.send(key, "addDelegate", world.addr("outsider"), ref("d")),
            const.send(key, "removeDelegate", world.addr("nw_delegate"), ref("d")),
            const.send(key, "addDelegate", key.address, ref("d")),
        ):
            assert_nothing_written(world, sent, f"{role} manages delegates")
    assert const.view("delegateOf", world.addr("nw_delegate")).lower() == world.addr("northwind").lower()


@pytest.mark.parametrize("role", ROLES)
def test_only_the_member_manages_its_delegates(world: World, role: str) -> None:
    """addDelegate / removeDelegate from every role on Northwind's delegate (and Vandelay's):
    nothing written — a key already taken is refused to everyone, Northwind included; the
    suspended member and the outsider register nothing at all."""
    const = world.c["Constitution"]
    account = world.accounts[role]
    attempts = [
        const.send(account, "addDelegate", world.addr("nw_delegate"), ref("take")),
        const.send(account, "addDelegate", world.addr("suspended_delegate"), ref("take")),
    ]
    if role != "northwind":
        attempts.append(const.send(account, "removeDelegate", world.addr("nw_delegate"), ref("drop")))
    if role != "suspended":
        attempts.append(const.send(account, "removeDelegate", world.addr("suspended_delegate"), ref("drop")))
    if role in ("suspended", "outsider"):
        attempts.append(const.send(account, "addDelegate", world.addr("revoked_delegate"), ref("new")))
    for sent in attempts:
        assert_nothing_written(world, sent, f"{role} → Constitution delegates")
    assert const.view("delegateOf", world.addr("nw_delegate")).lower() == world.addr("northwind").lower()


def test_the_members_own_delegate_management_takes_effect(world: World) -> None:
    """The control of the two tests above."""
    const = world.c["Constitution"]
    dropped = const.send(world.accounts["northwind"], "removeDelegate", world.addr("nw_delegate"), ref("drop"))
    assert dropped.ok and dropped.storage_writes()
    assert int(const.view("delegateOf", world.addr("nw_delegate")), 16) == 0
    # the suspended member may revoke its delegate (it may not add one)
    revoked = const.send(world.accounts["suspended"], "removeDelegate", world.addr("suspended_delegate"), ref("x"))
    assert revoked.ok and revoked.storage_writes()
    added = const.send(world.accounts["hooli"], "addDelegate", world.addr("revoked_delegate"), ref("hooli-key"))
    assert added.ok and [lg.event for lg in added.logs] == ["DelegateAdded"]
