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
from telcochain.events import get_logs
from telcochain.trustkeys import KdfParams, KeyRing, dev_keyring
from telcochain.visibility import seal, wrap_key

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


def readable(api: DetailsAPI, disclosure: bytes) -> bool:
    try:
        api.read(disclosure)
    except NotDisclosedToYou:
        return False
    return True


def test_the_seed_scenario_m1_m2_m3_on_one_subject(members):
    m1, m2, m3, m4 = members

    # M1 acts and lets M2 see it (M3 cannot)
    h1, r1, _ = m1.disclose(SUBJECT, {"step": 1, "site": "12 Leeds Rd", "by": "M1"}, to=["Acme Networks"])
    # M2 acts on the same subject and lets M3 see its change (M1 cannot)
    h2, r2, _ = m2.disclose(SUBJECT, {"step": 2, "device": "ONT-X200", "by": "M2"}, to=[m3.client.address])
    # M3 acts and lets M1 and M2 see it
    h3, r3, _ = m3.disclose(
        SUBJECT, {"step": 3, "installed": True, "by": "M3"}, to=["Northwind Telecom", "acme networks"]
    )

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
    for disclosure, visible in expected.items():
        assert [readable(m, disclosure) for m in members] == visible, disclosure
    with pytest.raises(NotDisclosedToYou, match="was not disclosed to"):
        m3.read(r1)
    with pytest.raises(NotDisclosedToYou):
        m1.read(r2)

    # the public record: one subject, three disclosures, recipients visible to all, no plaintext
    listed = m4.disclosures(SUBJECT)
    assert [d.id for d in listed] == [r1, r2, r3]
    assert [d.details_hash for d in listed] == [h1, h2, h3]
    assert [d.discloser for d in listed] == [m.client.address for m in (m1, m2, m3)]
    assert listed[0].recipients == (m1.client.address, m2.client.address)
    assert set(listed[2].recipients) == {m1.client.address, m2.client.address, m3.client.address}

    # M1 later grants M3 access to its first payload: now M3 can read it; M1 still cannot read M2's
    m1.grant_access(r1, "Globex Optical")
    assert m3.read(r1) == {"step": 1, "site": "12 Leeds Rd", "by": "M1"}
    assert not readable(m1, r2) and not readable(m4, r1)
    assert m4.disclosure(r1).recipients == (m1.client.address, m2.client.address, m3.client.address)
    assert [d.id for d in m3.shared_with_me()] == [r2, r3, r1]


def test_only_the_discloser_may_grant_and_only_to_active_members(members):
    m1, m2, m3, _ = members
    disclosed = m1.disclose(SUBJECT, {"quote": 1200}, to=["Acme Networks"])
    with pytest.raises(VaultNotDiscloser):
        m2.grant_access(disclosed, "Globex Optical")  # a recipient cannot grant in the discloser's name
    with pytest.raises(MemberNotFound):
        m1.grant_access(disclosed, "Umbrella Corp")
    with pytest.raises(DisclosureNotFound):
        m1.grant_access(b"no-such-disclosure", "Globex Optical")
    with pytest.raises(DisclosureNotFound, match="give its discloser"):
        m1.grant_access(disclosed.ref, "Globex Optical")  # a ref is not an id
    # a raw grant to a non-member is refused by the contract too
    raw = ActionCall("grantAccess", (disclosed.id, "0x" + "12" * 20, b"\x01" * 80), "raw-grant")
    [outcome] = m1.constitution.execute_batch([raw])
    assert outcome.status == "reverted" and isinstance(outcome.error, VaultRecipientNotMember)
    assert not readable(m3, disclosed.id)


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
    assert members[1].read(prepared) == {"serial": "SN-9", "site": "Leeds"}
    assert m1.disclosure(prepared.id).subject == subject_id("ONT-0001")


def test_rotation_new_payloads_use_the_new_key_old_ones_stay_readable(members, tmp_path):
    m1, m2, _, _ = members
    ring = KeyRing(m2.keyring.keys)
    ring.save(tmp_path / "acme.trustkeys", password="pw", kdf=KdfParams.interactive())
    m2.keyring = ring
    _, old_ref, _ = m1.disclose(SUBJECT, {"v": "before rotation"}, to=["Acme Networks"])
    old_public = ring.public_key

    m2.rotate_trust_key(password="pw")  # file saved first, then refreshTrustKeys
    new_public = ring.public_key
    assert new_public != old_public
    assert m2.constitution.member(m2.client.address).trust_key == new_public
    _, new_ref, _ = m1.disclose(SUBJECT, {"v": "after rotation"}, to=["Acme Networks"])

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
    _, ref, _ = m1.disclose(SUBJECT, {"secret": True}, to=["Acme Networks"])
    stranger_ring = DetailsAPI(m2.client, KeyRing.generate())
    with pytest.raises(WrongTrustKey):
        stranger_ring.read(ref)
    with pytest.raises(ConfigurationError, match="no key ring"):
        DetailsAPI(m2.client).read(ref)
    with pytest.raises(ConfigurationError, match="not in your key ring"):
        stranger_ring.disclose(SUBJECT, {"x": 1})  # could not read its own disclosure
    with pytest.raises(DisclosureNotFound):
        m2.read("never-disclosed")


def _raw_disclose(
    api: DetailsAPI,
    ref: str,
    ciphertext: bytes,
    details_hash: bytes,
    to: list[DetailsAPI],
    *,
    key: bytes | None = None,
    wrapped: list[bytes] | None = None,
) -> bytes:
    """A disclosure sent by hand (as a faulty or malicious discloser could): ``key`` wrapped for
    each of ``to`` (or the given ``wrapped`` keys); returns its id."""
    recipients = [m.client.address for m in to]
    if wrapped is None:
        wrapped = [wrap_key(key, m.keyring.public_key) for m in to]
    params = (subject_id(SUBJECT), details_hash, ciphertext, recipients, wrapped)
    api.constitution.execute_action("disclose", params, ref)
    return api.disclosure_id(ref)


def test_truncated_and_tampered_ciphertexts_and_a_mismatching_commitment_are_refused(members):
    m1, m2, _, _ = members
    honest = seal({"price": 100}, m1.disclosure_id("CUT"))
    truncated = _raw_disclose(m1, "CUT", honest.ciphertext[:-5], honest.details_hash, [m1, m2], key=honest.key)
    honest = seal({"price": 100}, m1.disclosure_id("FLIP"))
    flipped = bytearray(honest.ciphertext)
    flipped[-3] ^= 1
    tampered = _raw_disclose(m1, "FLIP", bytes(flipped), honest.details_hash, [m1, m2], key=honest.key)
    honest = seal({"price": 100}, m1.disclosure_id("LIE"))
    lying = seal({"price": 999}, m1.disclosure_id("LIE"), key=honest.key)  # valid, but not the committed one
    mismatch = _raw_disclose(m1, "LIE", lying.ciphertext, honest.details_hash, [m1, m2], key=honest.key)
    for reader in (m1, m2):
        with pytest.raises(CiphertextInvalid, match="does not authenticate"):
            reader.read(truncated)
        with pytest.raises(CiphertextInvalid):
            reader.read(tampered)
        with pytest.raises(CommitmentMismatch, match="does not match its commitment"):
            reader.read(mismatch)
    with pytest.raises(CommitmentMismatch):
        m1.grant_access(mismatch, "Globex Optical")  # nothing unverified is re-shared


def test_f11_a_member_sending_anothers_ref_first_neither_blocks_nor_takes_its_disclosure(members):
    """Finding 11: Acme (B) sends a disclose with Northwind's (A) ref first (a copy of A's
    pending transaction mined before it). A's disclose with the same ref still succeeds; the
    two disclosures have different ids; each reader decrypts the payload of the one it names."""
    a, b, c, d = members
    squat = b.disclose(SUBJECT, {"by": "Acme", "fake": True}, to=["Globex Optical"], ref="NW-NEXT")
    mine = a.disclose(SUBJECT, {"by": "Northwind", "site": "12 Leeds Rd"}, to=["Globex Optical"], ref="NW-NEXT")
    assert mine.ref == squat.ref == b"NW-NEXT".ljust(32, b"\0")
    assert mine.id != squat.id
    assert mine.id == a.disclosure_id("NW-NEXT") == b.disclosure_id("NW-NEXT", "Northwind Telecom")
    assert mine.id == bytes(a.contract.call("disclosureId", a.client.address, mine.ref))  # as the vault computes it
    assert a.disclosure(mine).discloser == a.client.address and b.disclosure(squat).discloser == b.client.address
    # each reader gets the payload of the disclosure it names, never the other's
    assert a.read(mine) == c.read(mine.id) == {"by": "Northwind", "site": "12 Leeds Rd"}
    assert b.read(squat) == c.read(squat.id) == {"by": "Acme", "fake": True}
    assert c.read("NW-NEXT", discloser="Northwind Telecom")["by"] == "Northwind"  # by ref, with its discloser
    assert c.read("NW-NEXT", discloser=b.client.address)["by"] == "Acme"
    assert not readable(a, squat.id) and not readable(b, mine.id) and not readable(d, mine.id)
    # the copier cannot grant access to A's disclosure; A can
    with pytest.raises(VaultNotDiscloser):
        b.grant_access(mine, "Initech Enterprise")
    a.grant_access("NW-NEXT", "Initech Enterprise", discloser=a.client.address)
    assert d.read(mine) == {"by": "Northwind", "site": "12 Leeds Rd"}
    # a discloser still never reuses its own ref
    with pytest.raises(VaultDisclosureExists):
        a.disclose(SUBJECT, {"again": 1}, ref="NW-NEXT")


def test_a_replayed_ciphertext_does_not_open_in_someone_elses_disclosure(members):
    """Ciphertexts and wrapped keys are public: Acme copies Northwind's ciphertext, commitment
    and Globex's wrapped key into a disclosure of its own. Globex does not open Northwind's
    payload as Acme's: the ciphertext is sealed to Northwind's disclosure id."""
    a, b, c, _ = members
    original = a.disclose(SUBJECT, {"quote": 1200}, to=["Globex Optical"])
    record = a.disclosure(original)
    logs = get_logs(
        a.client.rpc, a.contract.address, [a.contract.topic("KeyWrapped"), None, "0x" + original.id.hex()], 0
    )
    keys = {e["recipient"]: bytes(e["wrappedKey"]) for e in a.contract.events(logs, "KeyWrapped")}
    replay = _raw_disclose(b, "REPLAY", record.ciphertext, record.details_hash, [c], wrapped=[keys[c.client.address]])
    with pytest.raises(CiphertextInvalid, match="another disclosure"):
        c.read(replay)
    assert c.read(original) == {"quote": 1200}


def test_disclosure_ids_are_unique_and_recipients_must_be_members(members):
    m1 = members[0]
    m1.disclose(SUBJECT, {"a": 1}, ref="DISC-1")
    with pytest.raises(VaultDisclosureExists):
        m1.disclose(SUBJECT, {"b": 2}, ref="DISC-1")
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
    disclosed = m1.disclose(SUBJECT, {"note": "for M2"}, to=["Acme Networks"])
    wrapped = [[n for n in s.poll() if n.name == "KeyWrapped"] for s in streams]
    assert [n.args["disclosure"] for n in wrapped[0]] == [disclosed.id]  # M2 learns a payload is waiting for it
    assert wrapped[1] == []  # M3 is not told


def test_details_go_with_any_action_in_one_transaction(members):
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
    assert m2.read(disclosed) == details  # Acme reads what the order commits to
    assert disclosed.id == m1.disclosure_id(disclosed.ref)
    with pytest.raises(NotDisclosedToYou):
        m3.read(disclosed.id)
    with pytest.raises(PermissionDenied):  # the customer may not create orders: refused, loudly
        m4.act("createOrder", lambda h: (b"CRM-NO".ljust(32, b"\0"), b"PRJ-VIS".ljust(32, b"\0"), h), "CRM-NO", details)
