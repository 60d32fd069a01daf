"""DetailsVault: disclosures carried in events, recipients checked against the Constitution,
access granted later by the discloser only, and clear errors for every malformed call."""

from __future__ import annotations

import pytest
from eth_abi import encode
from gas_figures import gas_figures

from tests.support.dryrun import named, reverts_with, send
from tests.support.encoding import (
    REFRESH_TRUST_KEYS,
    SUSPEND_MEMBER,
    VOTE_FOR,
    action_id,
    ref,
    refresh_params,
    vote_params,
)
from tests.support.events import GAS_REPORT, opened_id
from tests.support.visibility import (
    MAX_CIPHERTEXT,
    MAX_RECIPIENTS,
    MAX_WRAPPED_KEY,
    commitment,
    disclose_params,
    disclosure_id,
    grant_params,
    sid,
    wrapped,
)

ZERO32 = b"\x00" * 32


def _key_of(dv, member) -> bytes:
    return bytes(dv.constitution.getMember(member).trustKey)


def _readers(receipts) -> dict[bytes, set[str]]:
    """Per disclosure id: the members a key was wrapped for (what each member's filter on
    ``KeyWrapped.recipient`` finds)."""
    out: dict[bytes, set[str]] = {}
    for receipt in receipts:
        for log in named(receipt, "KeyWrapped"):
            out.setdefault(bytes(log.disclosure), set()).add(log.recipient.lower())
    return out


def test_constants_are_the_documented_bounds(dv):
    assert dv.vault.MAX_RECIPIENTS() == MAX_RECIPIENTS
    assert dv.vault.MAX_CIPHERTEXT() == MAX_CIPHERTEXT
    assert dv.vault.MAX_WRAPPED_KEY() == MAX_WRAPPED_KEY
    assert dv.vault.CONSTITUTION() == dv.constitution.address


def test_disclose_emits_the_ciphertext_once_and_a_wrapped_key_per_recipient(dv):
    ciphertext = bytes(range(256)) * 3
    receipt = dv.disclose("d1", [dv.m1, dv.m2], ciphertext=ciphertext, keys=[wrapped(1), wrapped(2)])
    [disclosed] = named(receipt, "Disclosed")
    assert bytes(disclosed.disclosure) == dv.id("d1") and bytes(disclosed.ref) == ref("d1")
    assert bytes(disclosed.subject) == sid("S")
    assert disclosed.discloser == dv.m1.address
    assert bytes(disclosed.detailsHash) == commitment("d1")
    assert disclosed.recipients == 2
    assert bytes(disclosed.ciphertext) == ciphertext
    keys = named(receipt, "KeyWrapped")
    assert [(k.recipient, bytes(k.wrappedKey)) for k in keys] == [
        (dv.m1.address, wrapped(1)),
        (dv.m2.address, wrapped(2)),
    ]
    for k, member in zip(keys, (dv.m1, dv.m2), strict=True):
        assert bytes(k.disclosure) == dv.id("d1") and bytes(k.ref) == ref("d1")
        assert bytes(k.trustKey) == _key_of(dv, member)  # the hint: which of its keys opens it
    record = dv.record("d1")
    assert (record.discloser, bytes(record.subject), bytes(record.detailsHash)) == (
        dv.m1.address,
        sid("S"),
        commitment("d1"),
    )
    assert record.blockNumber == receipt.block_number
    assert [e.event_name for e in receipt.events][-1] == "ActionExecuted"


def test_an_unknown_disclosure_reads_as_zero(dv):
    record = dv.vault.disclosure(ref("nothing"))
    assert record.discloser == "0x" + "00" * 20 and record.blockNumber == 0


def test_a_disclosure_id_is_the_hash_of_its_discloser_and_ref(dv):
    dv.disclose("d1", [dv.m1])
    ids = {dv.vault.disclosureId(m, ref("d1")) for m in (dv.m1, dv.m2, dv.m3)}
    assert ids == {disclosure_id(m, ref("d1")) for m in (dv.m1, dv.m2, dv.m3)} and len(ids) == 3
    assert dv.vault.disclosureId(dv.m1, ref("d1")) == dv.id("d1")
    assert dv.vault.disclosureId(dv.m1, ref("d2")) != dv.id("d1")
    assert dv.vault.disclosure(ref("d1")).discloser == "0x" + "00" * 20  # the ref alone names nothing
    assert dv.record("d1").discloser == dv.m1.address


def test_f11_a_copied_ref_neither_blocks_nor_takes_the_original_disclosure(dv):
    """Finding 11: m2 sends a disclose with m1's ref first (a copy of m1's pending transaction,
    mined before it); m1's disclose with the same ref still succeeds, under an id of its own,
    and each disclosure carries its own discloser's payload and keys."""
    squat = dv.disclose(
        "m1-next",
        [dv.m2, dv.m3],
        sender=dv.m2,
        details_hash=commitment("squat"),
        ciphertext=b"\x0b" * 64,
        keys=[wrapped(21), wrapped(22)],
    )
    mine = dv.disclose(
        "m1-next",
        [dv.m1, dv.m3],
        sender=dv.m1,
        details_hash=commitment("mine"),
        ciphertext=b"\x0a" * 64,
        keys=[wrapped(11), wrapped(12)],
    )
    [theirs_event], [mine_event] = named(squat, "Disclosed"), named(mine, "Disclosed")
    assert bytes(mine_event.ref) == bytes(theirs_event.ref) == ref("m1-next")
    assert bytes(mine_event.disclosure) == dv.id("m1-next", dv.m1) != bytes(theirs_event.disclosure)
    assert bytes(theirs_event.disclosure) == dv.id("m1-next", dv.m2)
    assert (mine_event.discloser, bytes(mine_event.ciphertext)) == (dv.m1.address, b"\x0a" * 64)
    assert (dv.record("m1-next", dv.m1).discloser, bytes(dv.record("m1-next", dv.m1).detailsHash)) == (
        dv.m1.address,
        commitment("mine"),
    )
    assert bytes(dv.record("m1-next", dv.m2).detailsHash) == commitment("squat")
    # each reader's key is filed under the disclosure it opens: m3 reads both, each with its own key
    keys = {
        (bytes(k.disclosure), k.recipient): bytes(k.wrappedKey) for r in (squat, mine) for k in named(r, "KeyWrapped")
    }
    assert keys == {
        (dv.id("m1-next", dv.m2), dv.m2.address): wrapped(21),
        (dv.id("m1-next", dv.m2), dv.m3.address): wrapped(22),
        (dv.id("m1-next", dv.m1), dv.m1.address): wrapped(11),
        (dv.id("m1-next", dv.m1), dv.m3.address): wrapped(12),
    }
    # the copier cannot grant access to m1's disclosure; m1 can
    with reverts_with("VaultNotDiscloser", disclosure=dv.id("m1-next", dv.m1), caller=dv.m2.address):
        dv.grant("m1-next", dv.m4, sender=dv.m2, discloser=dv.m1)
    [k] = named(dv.grant("m1-next", dv.m2, sender=dv.m1), "KeyWrapped")
    assert bytes(k.disclosure) == dv.id("m1-next", dv.m1)


def test_the_seed_scenario_only_the_chosen_members_get_a_key(dv):
    """M1 → M2 (not M3); M2 → M3 (not M1); M3 → M1 and M2; then M1 grants M3 its first."""
    m1, m2, m3 = dv.m1.address.lower(), dv.m2.address.lower(), dv.m3.address.lower()
    r1 = dv.disclose("m1-acts", [dv.m1, dv.m2], sender=dv.m1)
    r2 = dv.disclose("m2-acts", [dv.m2, dv.m3], sender=dv.m2)
    r3 = dv.disclose("m3-acts", [dv.m3, dv.m1, dv.m2], sender=dv.m3)
    d1, d2, d3 = dv.id("m1-acts", dv.m1), dv.id("m2-acts", dv.m2), dv.id("m3-acts", dv.m3)
    readers = _readers([r1, r2, r3])
    assert readers == {d1: {m1, m2}, d2: {m2, m3}, d3: {m1, m2, m3}}
    g = dv.grant("m1-acts", dv.m3, sender=dv.m1, grant_label="m1-grants-m3")
    [k] = named(g, "KeyWrapped")
    assert (k.recipient.lower(), bytes(k.disclosure), bytes(k.ref)) == (m3, d1, ref("m1-grants-m3"))
    assert _readers([r1, r2, r3, g])[d2] == {m2, m3}  # the others stay as they were
    assert named(g, "Disclosed") == []


def test_only_the_discloser_may_grant_access(dv):
    dv.disclose("d1", [dv.m1, dv.m2], sender=dv.m1)
    for other in (dv.m2, dv.m3):
        with reverts_with("VaultNotDiscloser", disclosure=dv.id("d1"), caller=other.address):
            dv.grant("d1", dv.m3, sender=other, discloser=dv.m1)
    with reverts_with("VaultUnknownDisclosure", disclosure=dv.id("never")):
        dv.grant("never", dv.m3)
    with reverts_with("VaultUnknownDisclosure", disclosure=ref("d1")):  # a ref is not an id
        dv.act("grantAccess", grant_params(ref("d1"), dv.m3, wrapped(1)), dv.m1, ref("g"))


def test_a_grant_can_be_repeated_to_rewrap_for_a_rotated_trust_key(dv):
    dv.disclose("d1", [dv.m1, dv.m2])
    new_key = (0xBEEF).to_bytes(32, "big")
    dv.constitution.executeAction(REFRESH_TRUST_KEYS, refresh_params(new_key), ref("rotate"), sender=dv.m2)
    receipt = dv.grant("d1", dv.m2, key=wrapped(7))
    [k] = named(receipt, "KeyWrapped")
    assert bytes(k.trustKey) == new_key and bytes(k.wrappedKey) == wrapped(7)


def test_recipients_must_be_active_members(dv):
    with reverts_with("VaultRecipientNotMember", recipient=dv.stranger.address):
        dv.disclose("d1", [dv.m1, dv.stranger])
    dv.disclose("d2", [dv.m1])
    with reverts_with("VaultRecipientNotMember", recipient=dv.stranger.address):
        dv.grant("d2", dv.stranger)
    c = dv.constitution
    pid = opened_id(c.executeAction(SUSPEND_MEMBER, encode(["address"], [dv.m4.address]), ref("s"), sender=dv.m1))
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v2"), sender=dv.m2)
    c.executeAction(VOTE_FOR, vote_params(pid, True), ref("v3"), sender=dv.m3)
    assert not c.isActiveMember(dv.m4)
    with reverts_with("VaultRecipientNotMember", recipient=dv.m4.address):
        dv.disclose("d3", [dv.m1, dv.m4])
    with reverts_with("VaultRecipientNotMember", recipient=dv.m4.address):
        dv.grant("d2", dv.m4)


def test_the_recipient_list_is_bounded_distinct_and_matches_the_keys(dv):
    with reverts_with("VaultInvalidRecipients", count=0, keys=0, max=MAX_RECIPIENTS):
        dv.disclose("d1", [])
    with reverts_with("VaultInvalidRecipients", count=2, keys=1, max=MAX_RECIPIENTS):
        dv.disclose("d1", [dv.m1, dv.m2], keys=[wrapped(1)])
    too_many = [dv.m1] * (MAX_RECIPIENTS + 1)
    with reverts_with("VaultInvalidRecipients", count=MAX_RECIPIENTS + 1, max=MAX_RECIPIENTS):
        dv.disclose("d1", too_many)
    with reverts_with("VaultDuplicateRecipient", recipient=dv.m2.address):
        dv.disclose("d1", [dv.m2, dv.m1, dv.m2])


def test_ids_ciphertext_and_wrapped_keys_are_checked(dv):
    with reverts_with("VaultInvalidId"):
        dv.disclose("d1", [dv.m1], subject=ZERO32)
    with reverts_with("VaultInvalidId"):
        dv.disclose("d1", [dv.m1], details_hash=ZERO32)
    with reverts_with("VaultInvalidCiphertext", length=0, max=MAX_CIPHERTEXT):
        dv.disclose("d1", [dv.m1], ciphertext=b"")
    with reverts_with("VaultInvalidCiphertext", length=MAX_CIPHERTEXT + 1, max=MAX_CIPHERTEXT):
        dv.disclose("d1", [dv.m1], ciphertext=b"\x01" * (MAX_CIPHERTEXT + 1))
    for bad in (b"", b"\x01" * (MAX_WRAPPED_KEY + 1)):
        with reverts_with("VaultInvalidWrappedKey", recipient=dv.m2.address, length=len(bad)):
            dv.disclose("d1", [dv.m1, dv.m2], keys=[wrapped(1), bad])
    dv.disclose("d1", [dv.m1], keys=[b"\x01" * MAX_WRAPPED_KEY], ciphertext=b"\x02" * MAX_CIPHERTEXT)
    with reverts_with("VaultDisclosureExists", disclosure=dv.id("d1")):
        dv.disclose("d1", [dv.m2])  # a discloser never reuses a ref
    dv.disclose("d1", [dv.m2], sender=dv.m2)  # another member's ref is its own business
    with reverts_with("VaultInvalidWrappedKey", recipient=dv.m2.address, length=0):
        dv.grant("d1", dv.m2, key=b"")


def test_a_zero_ref_cannot_name_a_disclosure(dv):
    params = disclose_params(sid("S"), commitment("z"), b"\x01", [dv.m1], [wrapped(1)])
    with reverts_with("VaultInvalidId"):
        send(dv.constitution.executeAction, action_id("disclose"), params, ZERO32, sender=dv.m1)


def test_entry_points_run_only_as_actions(dv):
    with reverts_with("ModuleUnauthorizedCaller", caller=dv.m1.address):
        send(dv.vault.grantAccess, dv.m1.address, ref("x"), grant_params(ref("x"), dv.m2, wrapped(1)), sender=dv.m1)


def test_a_stranger_is_reverted_by_the_constitution(dv):
    with reverts_with("ConstitutionNotMember", account=dv.stranger.address):
        dv.disclose("d1", [dv.m1], sender=dv.stranger)
    assert dv.record("d1", dv.stranger).discloser == "0x" + "00" * 20


@pytest.mark.parametrize("recipients,size", [(1, 200), (3, 1024), (4, 4096)])
def test_gas_of_a_disclosure(dv, recipients, size):
    members = [dv.m1, dv.m2, dv.m3, dv.m4][:recipients]
    receipt = dv.disclose(f"gas-{recipients}", members, ciphertext=b"\x05" * size)
    label = f"disclose, {recipients} recipient{'s' if recipients > 1 else ''}, {size:,} bytes of ciphertext"
    with gas_figures() as gas:
        used = gas(f"vault.disclose_{recipients}_{size}", receipt.gas_used, label)
    GAS_REPORT.append((f"DetailsVault.disclose {recipients} recipients, {size} B", used, "via executeAction"))
    assert used < 250_000 + 110 * size
