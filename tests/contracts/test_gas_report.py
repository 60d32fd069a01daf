"""Gas used by the main paths, reported as a table in the pytest terminal summary.

Loose sanity bounds only: this is a report, not a benchmark; the bounds catch a path that
suddenly loops or writes far more storage than it should.
"""

from __future__ import annotations

from gas_figures import gas_figures
from telcochain.constitution import Voters

from tests.support.encoding import (
    RECORD,
    REFRESH_TRUST_KEYS,
    VOTE_FOR,
    action_id,
    grant,
    policy,
    ref,
    refresh_params,
    selector,
    trust_key,
    uint_params,
    vote_params,
)
from tests.support.events import GAS_REPORT, opened_id

BATCH_SIZE = 50


def test_gas_report(project, deployer, founders, alice, bob, carol, stranger, chain, accounts):
    c = project.Constitution.deploy(founders, sender=deployer)
    deploy_gas = chain.get_receipt(c.txn_hash).gas_used
    m = project.MockModule.deploy(c.address, sender=deployer)
    sel = selector("record(address,bytes32,bytes)")
    c.genesisDefineAction(policy("record", module=m, selector_=sel), [grant(alice)], sender=deployer)
    c.genesisDefineAction(
        policy(
            "recordPair",
            module=m,
            selector_=sel,
            voters=Voters.SPECIFIC,
            margin=2,
            period=3600,
            voter_list=[alice, bob],
        ),
        [grant(alice)],
        sender=deployer,
    )
    c.sealGenesis(sender=deployer)
    c.executeAction(RECORD, uint_params(1), ref("warm"), sender=alice)  # module slots non-zero

    direct = c.executeAction(RECORD, uint_params(2), ref("direct"), sender=alice).gas_used
    builtin = c.executeAction(REFRESH_TRUST_KEYS, refresh_params(trust_key(8)), ref("k"), sender=alice).gas_used
    denied = c.executeAction(RECORD, uint_params(2), ref("denied"), sender=carol).gas_used
    # a non-member is reverted (ConstitutionNotMember): the gas of the failed transaction
    outsider = c.executeAction(
        RECORD, uint_params(2), ref("o"), sender=stranger, gas=200_000, raise_on_revert=False
    ).gas_used
    stranger_calls = [(RECORD, uint_params(1), ref(f"o{i}")) for i in range(400)]
    outsider_batch = c.executeBatch(stranger_calls, sender=stranger, gas=5_000_000, raise_on_revert=False).gas_used
    opening = c.executeAction(action_id("recordPair"), uint_params(3), ref("p"), sender=alice)
    pid = opened_id(opening)
    deciding = c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v"), sender=bob)
    assert [e.event_name for e in deciding.events].count("ProposalExecuted") == 1
    calls = [(RECORD, uint_params(i), ref(f"b{i}")) for i in range(BATCH_SIZE)]
    batch = c.executeBatch(calls, sender=alice).gas_used
    assert m.calls() == 3 + BATCH_SIZE
    key = accounts[6]  # alice's delegate key
    c.addDelegate(key, ref("key"), sender=alice)
    as_delegate = c.executeAction(RECORD, uint_params(2), ref("by-key"), sender=key).gas_used

    rows = [
        ("deploy", "deploy (3 founders)", deploy_gas, "constructor + 7 built-ins"),
        ("module_action", "executeAction, module action, no vote", direct, "warm module storage"),
        (
            "delegate",
            "executeAction, module action, by a delegate",
            as_delegate,
            f"{as_delegate - direct:+,} vs the member",
        ),
        ("builtin", "executeAction, built-in refreshTrustKeys", builtin, ""),
        ("denied", "executeAction, denied (member without grant)", denied, "ActionDenied only"),
        ("non_member", "executeAction, non-member (reverted, no log)", outsider, "reverted, nothing recorded"),
        (
            "batch_non_member",
            "executeBatch of 400 calls, non-member (reverted before the first call)",
            outsider_batch,
            "calldata",
        ),
        (
            "opens_proposal",
            "executeAction, opens a proposal (2 voters; the dry run of the module call)",
            opening.gas_used,
            "",
        ),
        ("vote_executes", "voteFor that executes the proposal", deciding.gas_used, "incl. module call"),
        (
            "batch_per_action",
            f"executeBatch of {BATCH_SIZE} module actions, per action",
            batch // BATCH_SIZE,
            f"{batch:,} in all",
        ),
    ]
    with gas_figures() as gas:
        for key, label, used, _ in rows:
            gas(f"constitution.{key}", used, label)
    GAS_REPORT.extend((label, used, note) for _, label, used, note in rows)

    assert 21_000 < outsider < denied < direct < 150_000
    assert outsider_batch < 1_000_000  # mostly calldata; was ~3,000,000 with one denial log per call
    assert builtin < 80_000
    assert opening.gas_used < 300_000
    assert deciding.gas_used < 200_000
    # batching amortises the 21k transaction base cost
    assert batch < BATCH_SIZE * direct
    assert deploy_gas < 8_000_000
    assert direct < as_delegate < direct + 5_000  # two more cold reads: delegateOf, the member
