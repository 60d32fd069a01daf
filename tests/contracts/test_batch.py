"""executeBatch: each call checked on its own, outcomes reported per call."""

from __future__ import annotations

from eth_abi import encode
from telcochain.constitution import DenyReason

from tests.support.encoding import (
    ADD_MEMBER,
    FAIL,
    RECORD,
    REENTER,
    REFRESH_TRUST_KEYS,
    action_id,
    add_member_params,
    ref,
    refresh_params,
    selector,
    trust_key,
    uint_params,
)
from tests.support.events import events, reverts_with

MOCK_FAILED = selector("MockModuleFailed(uint256)")
INVALID_KEY = selector("ConstitutionInvalidTrustKey()")


def test_mixed_batch_reports_each_outcome_and_keeps_the_good_calls(constitution, module, alice, dave):
    c = constitution
    calls = [
        (RECORD, uint_params(1), ref("ok-1")),
        (action_id("nope"), b"", ref("denied")),
        (FAIL, uint_params(5), ref("reverted")),
        (ADD_MEMBER, add_member_params(dave, trust_key(4), "Dave"), ref("proposed")),
        (REFRESH_TRUST_KEYS, refresh_params(b"\x00" * 32), ref("bad-key")),
        (RECORD, uint_params(2), ref("ok-2")),
    ]
    outcomes = c.executeBatch.call(calls, sender=alice)
    assert [(o.ok, o.reverted, o.proposalId) for o in outcomes] == [
        (True, False, 0),
        (False, False, 0),
        (False, True, 0),
        (True, False, 1),
        (False, True, 0),
        (True, False, 0),
    ]
    assert outcomes[2].revertData == MOCK_FAILED + encode(["uint256"], [5])
    assert outcomes[4].revertData == INVALID_KEY

    receipt = c.executeBatch(calls, sender=alice)
    # the good calls applied, the reverted ones left no trace
    assert (module.calls(), module.total()) == (2, 3)
    assert c.getMember(alice).trustKey == trust_key(1)
    assert c.proposalCount() == 1
    denied = events(receipt, "ActionDenied")
    assert [(d.ref, d.reason) for d in denied] == [(ref("denied"), DenyReason.UNKNOWN_ACTION)]
    reverted = events(receipt, "ActionReverted")
    assert [(r.index, r.ref, r.action, r.caller) for r in reverted] == [
        (2, ref("reverted"), FAIL, alice.address),
        (4, ref("bad-key"), REFRESH_TRUST_KEYS, alice.address),
    ]
    assert reverted[0].revertData == MOCK_FAILED + encode(["uint256"], [5])
    executed = events(receipt, "ActionExecuted")
    assert [e.ref for e in executed] == [ref("ok-1"), ref("ok-2")]
    assert events(receipt, "ProposalOpened")[0].ref == ref("proposed")


def test_a_stranger_batch_reverts_at_once(constitution, module, stranger):
    """Finding 11: a non-member's batch of denied calls was mined for free with one denial log
    per call; now it reverts before the first call (nothing recorded, nothing changed)."""
    calls = [(RECORD, uint_params(1), ref(f"s{i}")) for i in range(400)]
    with reverts_with("ConstitutionNotMember", account=stranger.address):
        constitution.executeBatch(calls, sender=stranger)
    assert module.calls() == 0


def test_an_empty_batch_does_nothing(constitution, alice):
    assert constitution.executeBatch.call([], sender=alice) == []


def test_a_batch_runs_its_calls_in_order(constitution, module, alice, bob):
    calls = [(RECORD, uint_params(i), ref(f"r{i}")) for i in range(1, 6)]
    receipt = constitution.executeBatch(calls, sender=bob)
    assert [e.value for e in events(receipt, "Recorded")] == [1, 2, 3, 4, 5]
    assert all(e.caller == bob.address for e in events(receipt, "Recorded"))
    assert module.calls() == 5


def test_a_call_that_reenters_is_reported_as_reverted(constitution, module, alice):
    # The mock module re-enters executeAction: the reentrancy guard reverts that call alone.
    params = encode(["bytes32", "bytes"], [RECORD, uint_params(1)])
    calls = [(REENTER, params, ref("r")), (RECORD, uint_params(4), ref("ok"))]
    outcomes = constitution.executeBatch.call(calls, sender=alice)
    assert outcomes[0].reverted is True
    assert outcomes[0].revertData == selector("ConstitutionReentrantCall()")
    assert outcomes[1].ok is True
    constitution.executeBatch(calls, sender=alice)
    assert (module.calls(), module.total()) == (1, 4)
