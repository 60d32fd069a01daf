"""Encrypted details of actions, readable only by chosen members (visibility constraints).

:class:`DetailsAPI` discloses a JSON-able dict about a shared subject (an asset, an order, a
line...) to some members through the DetailsVault module, reads what was disclosed to this
member, and lets the discloser grant one more member access later. The cryptography is in
:mod:`telcochain.visibility`, the member's keys in :mod:`telcochain.trustkeys`; the model and
its limits in docs/visibility.md::

    api = DetailsAPI(client, trustkeys.load("northwind.trustkeys", password))
    disclosed = api.disclose("ORD-2026-0001", {"site": "12 Leeds Rd"}, to=["Acme Networks"])
    api.read(disclosed.id)               # as Northwind or Acme: the dict; as anyone else: NotDisclosedToYou
    api.grant_access(disclosed, "Globex Optical")   # the Disclosed itself does too

A disclosure's **id** is ``keccak256(abi.encode(discloser, ref))`` (:func:`disclosure_id`), ``ref``
being the one of its ``disclose`` action: unique per discloser, so nobody can take another
member's id by sending its ref first. Every method naming a disclosure takes the id (bytes or
0x-hex), or anything that carries it (:class:`Disclosed`, :class:`PreparedDisclosure`,
:class:`Disclosure`), or a ref with ``discloser=`` (a member name or address).

To pass details with any action, batch the disclosure with the action, which commits to the
same ``details_hash``::

    prepared = api.prepare("ORD-2026-0001", details, to=["Acme Networks"])
    order_call = ActionCall("createOrder", (order, project, prepared.details_hash))
    client.constitution.execute_batch([prepared.call, order_call])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from telcochain.action_params import ENTRY_POINT_PARAMS
from telcochain.constitution import ActionCall, CallOutcome, Member, constitution_of
from telcochain.contract import Event
from telcochain.errors import (
    ConfigurationError,
    DisclosureNotFound,
    MemberNotFound,
    NotDisclosedToYou,
    PermissionDenied,
    WrongTrustKey,
    contract_error_class,
)
from telcochain.events import get_logs
from telcochain.trustkeys import KeyRing
from telcochain.types import ZERO_ADDRESS, Ref, to_address, to_bytes32, to_ref
from telcochain.visibility import MAX_RECIPIENTS, Envelope, OpenedDetails, open_payload, seal, unwrap_key, wrap_key

if TYPE_CHECKING:
    from telcochain.constitution import ActionResult
    from telcochain.session import Session

#: The DetailsVault's actions and their parameter types (IDetailsVault).
DISCLOSE_PARAMS = list(ENTRY_POINT_PARAMS["disclose"])
GRANT_PARAMS = list(ENTRY_POINT_PARAMS["grantAccess"])

ZERO32 = b"\0" * 32
_TOPIC_CHUNK = 50  # disclosure ids per OR-list in one eth_getLogs filter

Who = str | Member


def subject_id(value: str | bytes) -> bytes:
    """A subject id: text up to 32 bytes (``"ORD-2026-0001"``) or 0x-hex, as a non-zero bytes32."""
    raw = to_bytes32(value, "subject")
    if raw == ZERO32:
        raise ConfigurationError("the zero subject id is reserved")
    return raw


def disclosure_id(discloser: str, ref: Ref) -> bytes:
    """The id of the disclosure ``discloser`` (an address) makes with a ``disclose`` action of ref
    ``ref``: ``keccak256(abi.encode(discloser, ref))``, as DetailsVault.disclosureId computes it."""
    if ref is None:
        raise ConfigurationError("a disclosure id needs the ref of its disclose action")
    return bytes(keccak(abi_encode(["address", "bytes32"], [to_address(discloser), to_ref(ref)])))


class Disclosed(NamedTuple):
    """What :meth:`DetailsAPI.disclose` returns: the commitment, the disclosure's id (what
    :meth:`DetailsAPI.read` and the others take; so does this tuple) and its action's ref."""

    details_hash: bytes
    id: bytes
    ref: bytes


@dataclass(frozen=True)
class PreparedDisclosure:
    """A disclosure ready to send: ``call`` goes into ``execute_batch`` (or ``execute_action``).
    ``id`` is the disclosure's id once this member sends ``call`` (``ref`` is the call's ref)."""

    call: ActionCall
    id: bytes
    ref: bytes
    subject: bytes
    details_hash: bytes
    recipients: tuple[str, ...]
    envelope: Envelope = field(repr=False)


@dataclass(frozen=True)
class Disclosure:
    """A disclosure as the chain records it (no plaintext): who disclosed what commitment about
    which subject, and every member a key was wrapped for (the first recipients and later grants).
    Recipients are public metadata. ``id`` names it; ``ref`` is the ref of its disclose action."""

    id: bytes
    ref: bytes
    subject: bytes
    discloser: str
    details_hash: bytes
    recipients: tuple[str, ...]
    block_number: int
    tx_hash: str
    ciphertext: bytes = field(default=b"", repr=False)

    def readable_by(self, member: str) -> bool:
        return to_address(member) in self.recipients


#: What names a disclosure: its id (bytes or 0x-hex), or a record that carries it.
DisclosureRef = bytes | str | Disclosed | PreparedDisclosure | Disclosure


def _topic_address(address: str) -> str:
    return "0x" + "00" * 12 + to_address(address)[2:].lower()


def _topic(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _details_api(session: Session) -> DetailsAPI:
    return DetailsAPI(session, session.keyring)


def details_of(session: Session) -> DetailsAPI:
    """The session's :class:`DetailsAPI`, with the session's key ring (``client.details``)."""
    return session.api(_details_api)


class DetailsAPI:
    """Disclose, read and share encrypted details (``keyring``: this member's trust keys;
    needed to read and to grant, not to disclose)."""

    def __init__(self, client: Session, keyring: KeyRing | None = None) -> None:
        self.client = client
        self.keyring = keyring
        self.contract = client.contract("DetailsVault")
        self.constitution = constitution_of(client)

    @property
    def _from_block(self) -> int:
        return self.client.deployment.contracts["DetailsVault"].block

    def _me(self) -> str:
        if self.client.address is None:
            raise ConfigurationError("this client has no account: connect with a member's account")
        return to_address(self.client.address)

    def _ring(self) -> KeyRing:
        if self.keyring is None:
            raise ConfigurationError(
                "no key ring: pass this member's trust keys to DetailsAPI (telcochain.trustkeys.load(...))"
            )
        return self.keyring

    # -- members -------------------------------------------------------------------------------

    def _resolve(self, people: Iterable[Who], members: Sequence[Member] | None = None) -> list[Member]:
        """Members by address, name (case-insensitive) or record; each must be active."""
        everyone = list(members) if members is not None else self.constitution.members()
        by_address = {m.address.lower(): m for m in everyone}
        by_name = {m.name.casefold(): m for m in everyone}
        found: list[Member] = []
        for who in people:
            key = who.address if isinstance(who, Member) else str(who)
            member = by_address.get(key.lower()) or by_name.get(key.casefold())
            if member is None:
                raise MemberNotFound(key)
            if not member.active:
                raise ConfigurationError(
                    f"{member.name} ({member.address}) is {member.status.name.lower()}: "
                    "details can be disclosed to active members only"
                )
            if member not in found:
                found.append(member)
        return found

    def disclosure_id(self, ref: Ref, discloser: Who | None = None) -> bytes:
        """The id of the disclosure ``discloser`` (default: this member; a name or address) made
        or will make with a disclose action of ref ``ref``."""
        if discloser is None:
            address = self._me()
        elif isinstance(discloser, Member):
            address = discloser.address
        elif discloser.startswith("0x"):
            address = discloser
        else:  # a name: any member, active or not (a suspended member's disclosures stay)
            by_name = {m.name.casefold(): m for m in self.constitution.members()}
            member = by_name.get(discloser.casefold())
            if member is None:
                raise MemberNotFound(discloser)
            address = member.address
        return disclosure_id(address, ref)

    def _id(self, which: DisclosureRef | None, discloser: Who | None = None) -> bytes:
        """The id named by ``which`` (see :data:`DisclosureRef`; a ref when ``discloser`` is given)."""
        if which is None:
            raise ConfigurationError("which disclosure? pass its id")
        if isinstance(which, Disclosed | PreparedDisclosure | Disclosure):
            return which.id
        if discloser is not None:
            return self.disclosure_id(which, discloser)
        return to_bytes32(which, "disclosure id")

    # -- disclosing ----------------------------------------------------------------------------

    def prepare(
        self, subject: str | bytes, details: dict[str, Any], to: Iterable[Who] = (), *, ref: Ref = None
    ) -> PreparedDisclosure:
        """Encrypt ``details`` for this member and the members ``to`` (names or addresses), with
        their trust keys as the Constitution holds them now; nothing is sent.

        ``ref`` is the disclose action's ref (fresh when None; this member must not have used it
        for a disclosure before). The disclosure's id, ``disclosure_id(me, ref)``, is known now:
        the ciphertext is sealed to it, so it opens only as this member's disclosure.
        """
        me = self._me()
        members = self.constitution.members()
        recipients = self._resolve([me, *to], members)
        if len(recipients) > MAX_RECIPIENTS:
            raise ConfigurationError(f"a disclosure has at most {MAX_RECIPIENTS} recipients, got {len(recipients)}")
        mine = recipients[0]
        if self.keyring is not None and mine.trust_key not in self.keyring:
            raise ConfigurationError(
                f"your trust key in the Constitution (0x{mine.trust_key.hex()}) is not in your key ring: you could not "
                "read your own disclosure; register the ring's key first (DetailsAPI.register_trust_key)"
            )
        subject_bytes = subject_id(subject)
        ref_bytes = to_ref(ref)
        disclosure = disclosure_id(me, ref_bytes)
        envelope = seal(details, disclosure)
        params = (
            subject_bytes,
            envelope.details_hash,
            envelope.ciphertext,
            [m.address for m in recipients],
            [envelope.wrap_for(m.trust_key) for m in recipients],
        )
        return PreparedDisclosure(
            call=ActionCall("disclose", params, ref_bytes),
            id=disclosure,
            ref=ref_bytes,
            subject=subject_bytes,
            details_hash=envelope.details_hash,
            recipients=tuple(m.address for m in recipients),
            envelope=envelope,
        )

    def act(
        self,
        action: str,
        params: Callable[[bytes], Sequence[Any]],
        subject: str | bytes,
        details: dict[str, Any],
        to: Iterable[Who] = (),
        *,
        ref: Ref = None,
    ) -> tuple[Disclosed, CallOutcome]:
        """Run ``action`` with private ``details`` in ONE transaction: the details are disclosed
        (encrypted for this member and ``to``) and the action's parameters are built by
        ``params(details_hash)``, so the action commits to exactly what was disclosed::

            disclosed, outcome = client.details.act(
                "createOrder", lambda h: (order_id, project_id, h),
                "CRM-7", {"site": "12 Leeds Rd", "price": 1200}, to=["Acme Networks"])

        The two calls go in one executeBatch; if the action is denied or reverts, the outcome
        says so and this raises (the disclosure, alone, stays on record: it commits to nothing).
        """
        prepared = self.prepare(subject, details, to)
        call = ActionCall(action, tuple(params(prepared.details_hash)), ref)
        disclosure, outcome = self.constitution.execute_batch([prepared.call, call])
        if disclosure.status != "executed":
            raise disclosure.error or ConfigurationError(f"disclose was {disclosure.status}")
        if outcome.status == "denied":
            raise PermissionDenied(action, self._me(), outcome.deny_reason.text)
        if outcome.status == "reverted" and outcome.error is not None:
            raise outcome.error
        return Disclosed(prepared.details_hash, prepared.id, prepared.ref), outcome

    def disclose(
        self, subject: str | bytes, details: dict[str, Any], to: Iterable[Who] = (), *, ref: Ref = None
    ) -> Disclosed:
        """Disclose ``details`` about ``subject`` to this member and the members ``to``.

        Returns ``(details_hash, id, ref)``: the commitment (put it in the action the details go
        with), the disclosure's id, to :meth:`read` it (the tuple itself works too), and the
        action's ``ref`` (fresh when None). Denials and contract errors raise as for any action
        (:class:`~telcochain.errors.PermissionDenied`, ``VaultRecipientNotMember``,
        ``VaultDisclosureExists`` when this member already used ``ref``...).
        """
        prepared = self.prepare(subject, details, to, ref=ref)
        self.constitution.execute_action("disclose", prepared.call.params, prepared.ref)
        return Disclosed(prepared.details_hash, prepared.id, prepared.ref)

    def grant_access(
        self, which: DisclosureRef, member: Who, *, discloser: Who | None = None, grant_ref: Ref = None
    ) -> ActionResult:
        """Let ``member`` read disclosure ``which`` (its id, or see :data:`DisclosureRef`) too:
        this member (its discloser) unwraps the payload key, checks the payload against its
        commitment, and wraps the key for ``member``'s current trust key. Granting again re-wraps
        (e.g. after ``member`` rotated)."""
        me = self._me()
        disclosure = self._record(self._id(which, discloser))
        if disclosure.discloser != me:
            error = contract_error_class("VaultNotDiscloser")
            raise error("VaultNotDiscloser", {"disclosure": disclosure.id, "caller": me})
        [target] = self._resolve([member])
        key, _ = self._open(disclosure)
        wrapped = wrap_key(key, target.trust_key)
        return self.constitution.execute_action("grantAccess", (disclosure.id, target.address, wrapped), grant_ref)

    def register_trust_key(self, ref: Ref = None) -> ActionResult | None:
        """Make the key ring's current public key this member's trust key in the Constitution
        (refreshTrustKeys), unless it already is. Returns None when nothing had to change."""
        ring = self._ring()
        member = self.constitution.member(self._me())
        if member is not None and member.trust_key == ring.public_key:
            return None
        return self.constitution.rotate_trust_key(ring.public_key, ref)

    def rotate_trust_key(self, *, password: str | bytes | None = None, ref: Ref = None) -> ActionResult:
        """Rotate this member's trust key: a fresh key in the ring (old ones kept, so old
        disclosures stay readable), saved to the ring's file first when it has one (``password``
        needed), then registered with refreshTrustKeys. New disclosures use the new key."""
        ring = self._ring()
        if ring.path is not None and password is None:
            raise ConfigurationError(f"the key ring is saved in {ring.path}: pass its password to rotate")
        ring.rotate()
        if ring.path is not None and password is not None:
            ring.save(password=password)
        return self.constitution.rotate_trust_key(ring.public_key, ref)

    # -- reading -------------------------------------------------------------------------------

    def read(self, which: DisclosureRef, *, discloser: Who | None = None) -> dict[str, Any]:
        """The details of disclosure ``which``, decrypted and verified against their commitment.

        ``which`` is the disclosure's id (bytes or 0x-hex), or a :class:`Disclosed`,
        :class:`PreparedDisclosure` or :class:`Disclosure`; with ``discloser`` (a member's name
        or address), it is the ref of that member's disclose action instead.

        Raises :class:`~telcochain.errors.DisclosureNotFound`,
        :class:`~telcochain.errors.NotDisclosedToYou` (no key was wrapped for this member),
        :class:`~telcochain.errors.WrongTrustKey` (the ring cannot open it),
        :class:`~telcochain.errors.CiphertextInvalid` or
        :class:`~telcochain.errors.CommitmentMismatch`. Nothing unverified is returned.
        """
        return self.open(which, discloser=discloser).details

    def open(self, which: DisclosureRef, *, discloser: Who | None = None) -> OpenedDetails:
        """:meth:`read` with the salt and commitment (to prove the plaintext to someone else);
        a :class:`Disclosure` already read is used as it is."""
        record = which if isinstance(which, Disclosure) else self._record(self._id(which, discloser))
        _, opened = self._open(record)
        return opened

    def disclosure(self, which: DisclosureRef, *, discloser: Who | None = None) -> Disclosure:
        """Disclosure ``which``'s public record: id, ref, discloser, subject, commitment, recipients."""
        record = self._record(self._id(which, discloser))
        return self._with_recipients([record])[0]

    def disclosures(self, subject: str | bytes) -> list[Disclosure]:
        """Every disclosure about ``subject``, in chain order (readable or not by this member)."""
        logs = get_logs(
            self.client.rpc,
            self.contract.address,
            [self.contract.topic("Disclosed"), None, _topic(subject_id(subject))],
            from_block=self._from_block,
        )
        return self._with_recipients([_disclosure(e) for e in self.contract.events(logs, "Disclosed")])

    def shared_with_me(self, from_block: int | None = None) -> list[Disclosure]:
        """Every disclosure a key was wrapped for this member (first recipients and grants)."""
        logs = get_logs(
            self.client.rpc,
            self.contract.address,
            [self.contract.topic("KeyWrapped"), _topic_address(self._me())],
            from_block=self._from_block if from_block is None else from_block,
        )
        ids = list(dict.fromkeys(bytes(e["disclosure"]) for e in self.contract.events(logs, "KeyWrapped")))
        return self._with_recipients([self._record(i) for i in ids])

    # -- internals -----------------------------------------------------------------------------

    def _record(self, key: bytes) -> Disclosure:
        """The stored record of disclosure id ``key`` and its Disclosed event (recipients not yet
        filled in)."""
        discloser, block, _subject, _details_hash = self.contract.call("disclosure", key)
        if to_address(discloser) == to_address(ZERO_ADDRESS):
            raise DisclosureNotFound(key)
        logs = get_logs(
            self.client.rpc,
            self.contract.address,
            [self.contract.topic("Disclosed"), _topic(key)],
            from_block=int(block),
            to_block=int(block),
        )
        events = self.contract.events(logs, "Disclosed")
        if not events:
            raise DisclosureNotFound(key)  # pragma: no cover - the node pruned the logs
        return _disclosure(events[0])

    def _with_recipients(self, disclosures: list[Disclosure]) -> list[Disclosure]:
        if not disclosures:
            return []
        recipients: dict[bytes, list[str]] = {d.id: [] for d in disclosures}
        ids = list(recipients)
        for offset in range(0, len(ids), _TOPIC_CHUNK):
            chunk = ids[offset : offset + _TOPIC_CHUNK]
            logs = get_logs(
                self.client.rpc,
                self.contract.address,
                [self.contract.topic("KeyWrapped"), None, [_topic(i) for i in chunk]],
                from_block=min(d.block_number for d in disclosures),
            )
            for event in self.contract.events(logs, "KeyWrapped"):
                readers = recipients.get(bytes(event["disclosure"]))
                if readers is not None and event["recipient"] not in readers:
                    readers.append(event["recipient"])
        return [replace(d, recipients=tuple(recipients[d.id])) for d in disclosures]

    def _wrapped_for_me(self, disclosure: Disclosure) -> list[Event]:
        logs = get_logs(
            self.client.rpc,
            self.contract.address,
            [self.contract.topic("KeyWrapped"), _topic_address(self._me()), _topic(disclosure.id)],
            from_block=disclosure.block_number,
        )
        return self.contract.events(logs, "KeyWrapped")

    def _open(self, disclosure: Disclosure) -> tuple[bytes, OpenedDetails]:
        """(payload key, verified details) of a disclosure, with this member's keys."""
        ring = self._ring()
        wrapped = self._wrapped_for_me(disclosure)
        if not wrapped:
            raise NotDisclosedToYou(disclosure.id, self._me())
        last_error: WrongTrustKey | None = None
        for event in reversed(wrapped):  # the newest wrapping first (a grant after a rotation)
            try:
                key = unwrap_key(event["wrappedKey"], ring.candidates(bytes(event["trustKey"])), disclosure.id)
            except WrongTrustKey as exc:  # try an older wrapping
                last_error = exc
                continue
            return key, open_payload(disclosure.ciphertext, key, disclosure.details_hash, disclosure.id)
        assert last_error is not None
        raise last_error


def _disclosure(event: Event) -> Disclosure:
    a = event.args
    return Disclosure(
        id=bytes(a["disclosure"]),
        ref=bytes(a["ref"]),
        subject=bytes(a["subject"]),
        discloser=to_address(a["discloser"]),
        details_hash=bytes(a["detailsHash"]),
        recipients=(),
        block_number=event.log.block_number,
        tx_hash=event.log.tx_hash,
        ciphertext=bytes(a["ciphertext"]),
    )


def decode_disclose_params(params: bytes) -> tuple[bytes, bytes, bytes, list[str], list[bytes]]:
    """The values of an ABI-encoded ``disclose`` params (e.g. from a proposal)."""
    subject, details_hash, ciphertext, recipients, keys = abi_decode(DISCLOSE_PARAMS, params)
    return bytes(subject), bytes(details_hash), bytes(ciphertext), [to_address(r) for r in recipients], list(keys)


__all__ = [
    "DISCLOSE_PARAMS",
    "GRANT_PARAMS",
    "DetailsAPI",
    "Disclosed",
    "Disclosure",
    "DisclosureRef",
    "PreparedDisclosure",
    "disclosure_id",
    "subject_id",
]
