"""Outcome assertions from the state diff (anvil's prestateTracer, diff mode)."""

from __future__ import annotations

from typing import Any

from .client import Sent, action_id
from .world import World

DENY_NONE = 0


def describe(w: World, changes: dict[str, Any]) -> str:
    names = dict(w.c.names)
    names[w.rogue.lower()] = "RogueModule"
    return "; ".join(
        f"{names.get(addr, addr)}: {len(c.get('storage', {}))} slot(s) {sorted(set(c) - {'storage'})}"
        for addr, c in changes.items()
    )


#: The only events a refused attack may leave: the Constitution's record of a denial, and
#: executeBatch's record of a call that reverted (its effects undone).
REFUSAL_EVENTS = ("ActionDenied", "ActionReverted")


def assert_nothing_written(w: World, sent: Sent, what: str, allow: tuple[str, ...] = ()) -> None:
    """No account changed but the sender's nonce (addresses in ``allow`` excepted), and no event
    but a refusal: some effects live in events only (a wrapped key, a vote request)."""
    allowed = {x.lower() for x in allow}
    changes = {a: c for a, c in sent.other_changes().items() if a not in allowed}
    assert not changes, f"{what}: the transaction changed state: {describe(w, changes)}"
    effects = [
        f"{lg.contract}.{lg.event}" for lg in sent.logs if lg.event not in REFUSAL_EVENTS and lg.address not in allowed
    ]
    assert not effects, f"{what}: the transaction emitted {effects}"


def assert_denial_on_record(sent: Sent, action: str, caller: str, what: str) -> None:
    """Misuse by a member is on record: an ActionDenied event for this caller and action."""
    aid = action_id(action)
    denied = [
        lg
        for lg in sent.logs
        if lg.event == "ActionDenied"
        and lg.args.get("action") == aid
        and lg.args.get("caller", "").lower() == caller.lower()
    ]
    assert sent.ok and denied, (
        f"{what}: no ActionDenied on record (ok={sent.ok}, logs={[lg.event for lg in sent.logs]})"
    )


def may_execute(w: World, action: str, role: str) -> bool:
    return int(w.c["Constitution"].view("canExecute", action_id(action), w.addr(role))) == DENY_NONE


def is_active_member(w: World, role: str) -> bool:
    return w.member_status(w.addr(role)) == 1
