"""Visibility constraints against the example consortium (real deployment, dev trust keys):
the seed's M1 → M2 → M3 scenario on one shared subject, later grants, key rotation, and clear
errors for wrong keys, truncated or tampered payloads."""

from __future__ import annotations

import pytest
from eth_abi import encode
from telcochain import ActionCall, Client, PermissionDenied
from telcochain.details import DetailsAPI, subject_id
from telcochain.errors import (
    CiphertextInvalid,
    CommitmentMismatch,
    ConfigurationError,
    DisclosureNotFound,
    MemberNotFound,
    NotDisclosedToYou,
    VaultDisclosureExists,
    VaultNotDiscloser,
    VaultRecipientNotMember,
    WrongTrustKey,
)
from telcochain.trustkeys import KdfParams, KeyRing, dev_keyring
from telcochain.visibility import seal

SUBJECT = "SITE-LEEDS-01"  # the one shared object all three members act on
NAMES = ["Northwind Telecom", "Acme Networks", "Globex Optical", "Initech Enterprise"]


@pytest.fixture
def members(local_node, deployment_path, dev_accounts) -> list[DetailsAPI]:
    """The four founders, each with its own client and development key ring."""
    out = []
    for account in dev_accounts[:4]:
        client = Client.connect(local_node.rpc_url, account, deployment=deployment_path)
        out.append(DetailsAPI(client, dev_keyring(account)))
    return out


def readable(api: DetailsAPI, ref: bytes) -> bool:
    try:
        api.read(ref)
    except NotDisclosedToYou:
        return False
    return True


def test_the_seed_scenario_m1_m2_m3_on_one_subject(members):
    m1, m2, m3, m4 = members

    # M1 acts and lets M2 see it (M3 cannot)
    h1, r1 = m1.disclose(SUBJECT, {"step": 1, "site": "12 Leeds Rd", "by": "M1"}, to=["Acme Networks"])
    # M2 acts on the same subject and lets M3 see its change (M1 cannot)
    h2, r2 = m2.disclose(SUBJECT, {"step": 2, "device": "ONT-X200", "by": "M2"}, to=[m3.client.address])
    # M3 acts and lets M1 and M2 see it
    h3, r3 = m3.disclose(SUBJECT, {"step": 3, "installed": True, "by": "M3"}, to=["Northwind Telecom", "acme networks"])

    assert m2.read(r1) == {"step": 1, "site": "12 Leeds Rd", "by": "M1"}
    assert m3.read(r2) == {"step": 2, "device": "ONT-X200", "by": "M2"}
    for reader in (m1, m2, m3):
        assert reader.read(r3) == {"step": 3, "installed": True, "by": "M3"}
    # everyone can read what it disclosed itself
    assert m1.read(r1)["by"] == "M1" and m2.read(r2)["by"] == "M2"

    # the two earlier transactions stay hidden from whom they were hidden
    expected = {
        r1: [True, True, False, False],
        r2: [False, True, True, False],
        r3: [True, True, True, False],
    }
    for ref, visible in expected.items():
        assert [readable(m, ref) for m in members] == visible, ref
    with pytest.raises(NotDisclosedToYou, match="was not disclosed to"):
        m3.read(r1)
    with pytest.raises(NotDisclosedToYou):
        m1.read(r2)

    # the public record: one subject, three disclosures, recipients visible to all, no plaintext
    listed = m4.disclosures(SUBJECT)
    assert [d.ref for d in listed] == [r1, r2, r3]
    assert [d.details_hash for d in listed] == [h1, h2, h3]
    assert [d.discloser for d in listed] == [m.client.address for m in (m1, m2, m3)]
    assert listed[0].recipients == (m1.client.address, m2.client.address)
    assert set(listed[2].recipients) == {m1.client.address, m2.client.address, m3.client.address}

    # M1 later grants M3 access to its first payload: now M3 can read it; M1 still cannot read M2's
    m1.grant_access(r1, "Globex Optical")
    assert m3.read(r1) == {"step": 1, "site": "12 Leeds Rd", "by": "M1"}
    assert not readable(m1, r2) and not readable(m4, r1)
    assert m4.disclosure(r1).recipients == (m1.client.address, m2.client.address, m3.client.address)
    assert [d.ref for d in m3.shared_with_me()] == [r2, r3, r1]


def test_only_the_discloser_may_grant_and_only_to_active_members(members):
    m1, m2, m3, _ = members
    _, ref = m1.disclose(SUBJECT, {"quote": 1200}, to=["Acme Networks"])
    with pytest.raises(VaultNotDiscloser):
        m2.grant_access(ref, "Globex Optical")  # a recipient cannot grant in the discloser's name
    with pytest.raises(MemberNotFound):
        m1.grant_access(ref, "Umbrella Corp")
    with pytest.raises(DisclosureNotFound):
        m1.grant_access(b"no-such-disclosure", "Globex Optical")
    # a raw grant to a non-member is refused by the contract too
    raw = ActionCall("grantAccess", (ref, "0x" + "12" * 20, b"\x01" * 80), "raw-grant")
    [outcome] = m1.constitution.execute_batch([raw])
    assert outcome.status == "reverted" and isinstance(outcome.error, VaultRecipientNotMember)
    assert not readable(m3, ref)


def test_details_travel_with_an_action_in_one_batch(members, dev_accounts):
    m1 = members[0]
    prepared = m1.prepare("ONT-0001", {"serial": "SN-9", "site": "Leeds"}, to=["Acme Networks"])
    register = ActionCall(
        "register",
        (
            b"ONT-0001".ljust(32, b"\0"),
            b"ONT".ljust(12, b"\0"),
            b"\0" * 32,
            b"\0" * 32,
            b"\0" * 32,
            prepared.details_hash,
        ),
    )
    outcomes = m1.constitution.execute_batch([prepared.call, register])
    assert [o.status for o in outcomes] == ["executed", "executed"]
    history = m1.client.assets.history("ONT-0001")
    assert history[0].details_hash == prepared.details_hash  # the action commits to the disclosed details
    assert members[1].read(prepared.ref) == {"serial": "SN-9", "site": "Leeds"}
    assert m1.disclosure(prepared.ref).subject == subject_id("ONT-0001")


def test_rotation_new_payloads_use_the_new_key_old_ones_stay_readable(members, tmp_path):
    m1, m2, _, _ = members
    ring = KeyRing(m2.keyring.keys)
    ring.save(tmp_path / "acme.trustkeys", password="pw", kdf=KdfParams.interactive())
    m2.keyring = ring
    _, old_ref = m1.disclose(SUBJECT, {"v": "before rotation"}, to=["Acme Networks"])
    old_public = ring.public_key

    m2.rotate_trust_key(password="pw")  # file saved first, then refreshTrustKeys
    new_public = ring.public_key
    assert new_public != old_public
    assert m2.constitution.member(m2.client.address).trust_key == new_public
    _, new_ref = m1.disclose(SUBJECT, {"v": "after rotation"}, to=["Acme Networks"])

    # the new payload is wrapped to the new key: the old key alone cannot open it
    only_old = DetailsAPI(m2.client, KeyRing.from_private_keys(ring.private_key_for(old_public)))
    with pytest.raises(WrongTrustKey):
        only_old.read(new_ref)
    assert only_old.read(old_ref) == {"v": "before rotation"}
    # the rotated ring (as reloaded from its file) reads both
    from telcochain import trustkeys

    m2.keyring = trustkeys.load(tmp_path / "acme.trustkeys", "pw")
    assert m2.read(old_ref) == {"v": "before rotation"}
    assert m2.read(new_ref) == {"v": "after rotation"}
    # a ring that lost the old key cannot read the old payload: a clear error, not garbage
    only_new = DetailsAPI(m2.client, KeyRing.from_private_keys(ring.private_key_for(new_public)))
    with pytest.raises(WrongTrustKey, match="none of the 1 trust key"):
        only_new.read(old_ref)
    # ...until the discloser re-wraps it for the new key
    m1.grant_access(old_ref, "Acme Networks")
    assert only_new.read(old_ref) == {"v": "before rotation"}


def test_a_wrong_key_ring_gets_a_clear_error(members):
    m1, m2, _, _ = members
    _, ref = m1.disclose(SUBJECT, {"secret": True}, to=["Acme Networks"])
    stranger_ring = DetailsAPI(m2.client, KeyRing.generate())
    with pytest.raises(WrongTrustKey):
        stranger_ring.read(ref)
    with pytest.raises(ConfigurationError, match="no key ring"):
        DetailsAPI(m2.client).read(ref)
    with pytest.raises(ConfigurationError, match="not in your key ring"):
        stranger_ring.disclose(SUBJECT, {"x": 1})  # could not read its own disclosure
    with pytest.raises(DisclosureNotFound):
        m2.read("never-disclosed")


def _raw_disclose(api: DetailsAPI, ref: str, ciphertext: bytes, details_hash: bytes, key: bytes, to: list[DetailsAPI]):
    """A disclosure sent by hand (as a faulty or malicious discloser could)."""
    recipients = [m.client.address for m in to]
    wrapped = [seal({}, key=key).wrap_for(m.keyring.public_key) for m in to]
    params = (subject_id(SUBJECT), details_hash, ciphertext, recipients, wrapped)
    api.constitution.execute_action("disclose", params, ref)
    return ref.encode().ljust(32, b"\0")


def test_truncated_and_tampered_ciphertexts_and_a_mismatching_commitment_are_refused(members):
    m1, m2, _, _ = members
    honest = seal({"price": 100})
    truncated = _raw_disclose(m1, "CUT", honest.ciphertext[:-5], honest.details_hash, honest.key, [m1, m2])
    flipped = bytearray(honest.ciphertext)
    flipped[-3] ^= 1
    tampered = _raw_disclose(m1, "FLIP", bytes(flipped), honest.details_hash, honest.key, [m1, m2])
    lying = seal({"price": 999}, key=honest.key)  # a valid payload, but not the committed one
    mismatch = _raw_disclose(m1, "LIE", lying.ciphertext, honest.details_hash, honest.key, [m1, m2])
    for reader in (m1, m2):
        with pytest.raises(CiphertextInvalid, match="does not authenticate"):
            reader.read(truncated)
        with pytest.raises(CiphertextInvalid):
            reader.read(tampered)
        with pytest.raises(CommitmentMismatch, match="does not match its commitment"):
            reader.read(mismatch)
    with pytest.raises(CommitmentMismatch):
        m1.grant_access(mismatch, "Globex Optical")  # nothing unverified is re-shared


def test_disclosure_ids_are_unique_and_recipients_must_be_members(members):
    m1, m2, _, _ = members
    m1.disclose(SUBJECT, {"a": 1}, ref="DISC-1")
    with pytest.raises(VaultDisclosureExists):
        m2.disclose(SUBJECT, {"b": 2}, ref="DISC-1")
    with pytest.raises(MemberNotFound):
        m1.disclose(SUBJECT, {"a": 1}, to=["Umbrella Corp"])
    with pytest.raises(ConfigurationError, match="zero subject"):
        m1.disclose(b"\0" * 32, {"a": 1})


def test_a_non_member_is_denied(local_node, deployment_path, dev_accounts, members):
    outsider = Client.connect(local_node.rpc_url, dev_accounts[7], deployment=deployment_path)
    api = DetailsAPI(outsider, dev_keyring(dev_accounts[7]))
    with pytest.raises(MemberNotFound):
        api.disclose(SUBJECT, {"x": 1})
    params = encode(
        ["bytes32", "bytes32", "bytes", "address[]", "bytes[]"],
        [subject_id(SUBJECT), b"\x01" * 32, b"\x01", [dev_accounts[0].address], [b"\x01" * 80]],
    )
    with pytest.raises(PermissionDenied, match="not a member"):
        outsider.constitution.execute_action("disclose", params)


def test_a_member_is_notified_of_the_keys_wrapped_for_it_only(members, tmp_path):
    from telcochain.notifications import NotificationStream

    m1, m2, m3, _ = members
    streams = [NotificationStream(api.client, tmp_path / f"{n}.json") for n, api in enumerate((m2, m3))]
    for stream in streams:
        stream.ack_through(m1.client.block_number())
    _, ref = m1.disclose(SUBJECT, {"note": "for M2"}, to=["Acme Networks"])
    wrapped = [[n for n in s.poll() if n.name == "KeyWrapped"] for s in streams]
    assert [n.args["disclosure"] for n in wrapped[0]] == [ref]  # M2 learns a payload is waiting for it
    assert wrapped[1] == []  # M3 is not told


def test_details_go_with_any_action_in_one_transaction(members):
    from telcochain.events import get_logs
    from telcochain.orders import OrderState

    m1, m2, m3, m4 = members
    m1.client.orders.create_project("PRJ-VIS", m4.client.address)
    details = {"site": "12 Leeds Rd", "price": 1200}
    disclosed, outcome = m1.act(
        "createOrder",
        lambda h: (b"CRM-VIS".ljust(32, b"\0"), b"PRJ-VIS".ljust(32, b"\0"), h),
        "CRM-VIS",
        details,
        to=["Acme Networks"],
    )
    assert outcome.status == "executed" and m1.client.orders.get("CRM-VIS").state is OrderState.ACKNOWLEDGED
    book = m1.client.orders.contract
    block = m1.client.block_number()
    (created,) = book.events(get_logs(m1.client.rpc, [book.address], [], block, block), "OrderCreated")
    assert created["detailsHash"] == disclosed.details_hash  # the order commits to the disclosed details
    assert m2.read(disclosed.ref) == details  # Acme reads what the order commits to
    with pytest.raises(NotDisclosedToYou):
        m3.read(disclosed.ref)
    with pytest.raises(PermissionDenied):  # the customer may not create orders: refused, loudly
        m4.act("createOrder", lambda h: (b"CRM-NO".ljust(32, b"\0"), b"PRJ-VIS".ljust(32, b"\0"), h), "CRM-NO", details)
