"""``client.assets``: digital twins of network devices, their lifecycle, serials and history.

Every change is an action of the Constitution (its own permission, possibly a vote), run by
the AssetRegistry module. Each change emits an event and advances the asset's history head
``bytes24(keccak256(abi.encode(prev, assetId, change, version, ref, actor, detailsHash,
w0..w3)))``, so :meth:`AssetsAPI.verify_history` can prove an off-chain copy of the history
complete and untampered (docs/assets.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from telcochain.constitution import constitution_of
from telcochain.contract import Event
from telcochain.errors import AssetNotFound, ConfigurationError, PermissionDenied
from telcochain.events import block_timestamps, get_logs
from telcochain.types import ZERO_ADDRESS, Ref, show_bytes32, to_address, to_bytes32

if TYPE_CHECKING:
    from telcochain.constitution import ActionResult, CallOutcome
    from telcochain.session import Session


class AssetState(IntEnum):
    """Mirrors ``AssetLifecycle.State``."""

    NONE = 0
    PLANNED = 1
    PENDING_INSTALLATION = 2
    DELIVERED = 3
    ACTIVE = 4
    PENDING_CHANGE = 5
    PENDING_DISCONNECT = 6
    INACTIVE = 7
    RECOVERING = 8
    DECOMMISSIONED = 9

    @property
    def label(self) -> str:
        return "".join(w.capitalize() for w in self.name.split("_"))  # as in Solidity: PendingChange


class ChangeKind(IntEnum):
    """Mirrors ``AssetHistory.ChangeKind``."""

    REGISTER = 0
    TRANSITION = 1
    SERIAL_BIND = 2
    LINK = 3
    CUSTODY_TRANSFER = 4
    PARTIES = 5


S = AssetState
#: The lifecycle, one place in Python (mirrors ``AssetLifecycle.rule``; a test keeps them equal):
#: verb → (the states it starts from, the state it leads to).
TRANSITIONS: dict[str, tuple[frozenset[AssetState], AssetState]] = {
    "scheduleInstallation": (frozenset({S.PLANNED, S.INACTIVE}), S.PENDING_INSTALLATION),
    "cancelInstallation": (frozenset({S.PENDING_INSTALLATION}), S.PLANNED),
    "deliver": (frozenset({S.PENDING_INSTALLATION}), S.DELIVERED),
    "commission": (frozenset({S.DELIVERED}), S.ACTIVE),
    "requestChange": (frozenset({S.ACTIVE}), S.PENDING_CHANGE),
    "completeChange": (frozenset({S.PENDING_CHANGE}), S.ACTIVE),
    "completeDeletion": (frozenset({S.PENDING_CHANGE}), S.INACTIVE),
    "requestDisconnect": (frozenset({S.ACTIVE}), S.PENDING_DISCONNECT),
    "withdrawDisconnect": (frozenset({S.PENDING_DISCONNECT}), S.ACTIVE),
    "completeDisconnect": (frozenset({S.PENDING_DISCONNECT}), S.INACTIVE),
    "recover": (frozenset({S.DELIVERED, S.INACTIVE}), S.RECOVERING),
    "decommission": (frozenset({S.PLANNED, S.RECOVERING}), S.DECOMMISSIONED),
}
VERBS = tuple(TRANSITIONS)

#: Most assets one bulkTransition may move (AssetRegistry.MAX_BULK).
MAX_BULK = 256

ZERO32 = b"\0" * 32
_CHANGE_EVENTS = {
    "AssetRegistered": ChangeKind.REGISTER,
    "AssetTransitioned": ChangeKind.TRANSITION,
    "AssetSerialBound": ChangeKind.SERIAL_BIND,
    "AssetLinked": ChangeKind.LINK,
    "AssetCustodyTransferred": ChangeKind.CUSTODY_TRANSFER,
    "AssetPartiesChanged": ChangeKind.PARTIES,
}


def asset_id(value: str | bytes) -> bytes:
    """An asset id: text up to 32 bytes (e.g. ``"ONT-0001"``) or 0x-hex, as bytes32."""
    raw = to_bytes32(value, "asset id")
    if raw == ZERO32:
        raise ConfigurationError("the zero asset id is reserved")
    return raw


def serial_hash(serial: str, salt: bytes) -> bytes:
    """The on-chain commitment to a device serial: HMAC-SHA256 keyed with the consortium salt.

    The serial is normalised (surrounding space removed, upper case) so that the same device
    always gets the same hash; the salt keeps serials from being guessed from their hashes.
    """
    normalised = serial.strip().upper()
    if not normalised:
        raise ConfigurationError("a serial number cannot be empty")
    return hmac.new(salt, normalised.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Asset:
    """A digital twin as the chain holds it."""

    id: bytes
    state: AssetState
    kind: str
    serial_hash: bytes | None
    version: int
    history_head: bytes
    custodian: str
    customer: str | None = None  # the customer it serves (None: none now)
    vendor: str | None = None  # the vendor that supplies it (None: not named)
    on_line: bool = False  # an open order line holds it (the OrderBook moves it)
    served: bool = False  # the agreement serves its customer: only the agreement's flows release it

    @property
    def name(self) -> str:
        return show_bytes32(self.id)

    @property
    def held_by_flow(self) -> bool:
        """Whether only a flow (the agreement or an order line) may move it."""
        return self.on_line or self.served or self.customer is not None


@dataclass(frozen=True)
class AssetChange:
    """One step of an asset's history, decoded from its event."""

    kind: ChangeKind
    asset_id: bytes
    version: int
    ref: bytes
    actor: str
    details_hash: bytes
    words: tuple[bytes, bytes, bytes, bytes]
    head: bytes
    block_number: int
    log_index: int
    tx_hash: str
    timestamp: int = 0
    from_state: AssetState | None = None
    to_state: AssetState | None = None
    args: dict[str, Any] | None = None

    def describe(self) -> str:
        a = self.args or {}
        if self.kind is ChangeKind.TRANSITION and self.from_state is not None and self.to_state is not None:
            return f"{self.from_state.label} → {self.to_state.label}"
        if self.kind is ChangeKind.REGISTER:
            kind = bytes(a.get("kind", b"")).rstrip(b"\0").decode(errors="replace")
            return f"registered ({kind})" + (" with serial" if a.get("serialHash") != ZERO32 else "")
        if self.kind is ChangeKind.SERIAL_BIND:
            return "serial bound " + "0x" + bytes(a.get("serialHash", b"")).hex()[:12] + "…"
        if self.kind is ChangeKind.LINK:
            parts = [f"{k} {show_bytes32(a[k])}" for k in ("rootId", "orderId") if a.get(k) not in (None, ZERO32)]
            return "linked to " + ", ".join(parts)
        if self.kind is ChangeKind.PARTIES:
            customer = a.get("customer") if a.get("customer") != ZERO_ADDRESS else "none"
            vendor = a.get("vendor") if a.get("vendor") != ZERO_ADDRESS else "none"
            held = (", on an order line" if a.get("onLine") else "") + (
                ", served by the agreement" if a.get("served") else ""
            )
            return f"parties: customer {customer}, vendor {vendor}" + held
        return f"custody {a.get('from')} → {a.get('to')}"


@dataclass(frozen=True)
class HistoryVerdict:
    """The outcome of :meth:`AssetsAPI.verify_history`."""

    verified: bool
    changes: int
    head: bytes
    first_bad: int | None = None  # index of the first change that does not fit
    reason: str = ""

    def __str__(self) -> str:
        if self.verified:
            return f"verified: {self.changes} changes, head 0x{self.head.hex()}"
        return f"NOT verified: change #{(self.first_bad or 0) + 1}: {self.reason}"


def next_head(prev: bytes, change: AssetChange) -> bytes:
    """The history head after ``change`` (docs/assets.md, "History and its head")."""
    encoded = abi_encode(
        ["bytes24", "bytes32", "uint8", "uint32", "bytes32", "address", "bytes32", "bytes32[4]"],
        [
            prev,
            change.asset_id,
            int(change.kind),
            change.version,
            change.ref,
            change.actor,
            change.details_hash,
            list(change.words),
        ],
    )
    return keccak(encoded)[:24]


def _word(value: Any, abi_type: str) -> bytes:
    return abi_encode([abi_type], [value])


def change_from_event(event: Event) -> AssetChange:
    """The history step an AssetRegistry event records."""
    a = event.args
    kind = _CHANGE_EVENTS[event.name]
    from_state = to_state = None
    if kind is ChangeKind.REGISTER:
        words = (_word(a["kind"], "bytes12"), a["serialHash"], a["rootId"], a["orderId"])
    elif kind is ChangeKind.TRANSITION:
        from_state, to_state = AssetState(a["from"]), AssetState(a["to"])
        words = (_word(a["from"], "uint8"), _word(a["to"], "uint8"), ZERO32, ZERO32)
    elif kind is ChangeKind.SERIAL_BIND:
        words = (a["serialHash"], ZERO32, ZERO32, ZERO32)
    elif kind is ChangeKind.LINK:
        words = (a["rootId"], a["orderId"], ZERO32, ZERO32)
    elif kind is ChangeKind.PARTIES:
        words = (
            _word(a["customer"], "address"),
            _word(a["vendor"], "address"),
            _word(bool(a["onLine"]), "bool"),
            _word(bool(a["served"]), "bool"),
        )
    else:
        words = (_word(a["from"], "address"), _word(a["to"], "address"), ZERO32, ZERO32)
    return AssetChange(
        kind=kind,
        asset_id=a["assetId"],
        version=int(a["version"]),
        ref=a["ref"],
        actor=a["actor"],
        details_hash=a["detailsHash"],
        words=(bytes(words[0]), bytes(words[1]), bytes(words[2]), bytes(words[3])),
        head=bytes(a["head"]),
        block_number=event.log.block_number,
        log_index=event.log.log_index,
        tx_hash=event.log.tx_hash,
        from_state=from_state,
        to_state=to_state,
        args=dict(a),
    )


def verify_changes(changes: Sequence[AssetChange], chain_head: bytes) -> HistoryVerdict:
    """Replay ``changes`` from a zero head; compare every step and the end with ``chain_head``."""
    head = b"\0" * 24
    for index, change in enumerate(changes):
        if change.version != index + 1:
            return HistoryVerdict(False, len(changes), head, index, f"version {change.version}, expected {index + 1}")
        head = next_head(head, change)
        if head != change.head:
            return HistoryVerdict(False, len(changes), head, index, "its recomputed head differs from the one recorded")
    if head != chain_head:
        return HistoryVerdict(
            False, len(changes), head, len(changes), "the history ends before the chain's head (changes missing)"
        )
    return HistoryVerdict(True, len(changes), head)


class AssetsAPI:
    """Register, transition, bind, link and audit digital twins."""

    def __init__(self, client: Session) -> None:
        self.client = client
        self.contract = client.contract("AssetRegistry")
        self.constitution = constitution_of(client)

    @property
    def serial_salt(self) -> bytes:
        salt = self.client.deployment.consortium.get("serial_salt")
        if not salt:
            raise ConfigurationError("the deployment has no serial_salt (consortium.yaml: serial_salt)")
        return bytes.fromhex(str(salt).removeprefix("0x"))

    # -- reads ---------------------------------------------------------------------------------

    def get(self, asset: str | bytes) -> Asset:
        """The asset; :class:`~telcochain.errors.AssetNotFound` if it was never registered."""
        key = asset_id(asset)
        state, kind, serial, version, head, custodian, exists, customer, vendor, on_line, served = self.contract.call(
            "getAsset", key
        )
        if not exists:
            raise AssetNotFound(args={"assetId": key})
        return Asset(
            id=key,
            state=AssetState(state),
            kind=bytes(kind).rstrip(b"\0").decode(errors="replace"),
            serial_hash=None if bytes(serial) == ZERO32 else bytes(serial),
            version=int(version),
            history_head=bytes(head),
            custodian=to_address(custodian),
            customer=None if to_address(customer) == ZERO_ADDRESS else to_address(customer),
            vendor=None if to_address(vendor) == ZERO_ADDRESS else to_address(vendor),
            on_line=bool(on_line),
            served=bool(served),
        )

    def asset_of_serial(self, serial: str) -> bytes | None:
        """The live asset bound to this device serial, if any."""
        found = bytes(self.contract.call("assetOfSerial", serial_hash(serial, self.serial_salt)))
        return None if found == ZERO32 else found

    def history(self, asset: str | bytes, *, with_times: bool = True) -> list[AssetChange]:
        """Every change of the asset, in chain order, read from the events."""
        key = asset_id(asset)
        logs = get_logs(
            self.client.rpc,
            self.contract.address,
            [None, "0x" + key.hex()],
            from_block=self.client.deployment.contracts["AssetRegistry"].block,
        )
        changes = [change_from_event(e) for e in self.contract.events(logs) if e.name in _CHANGE_EVENTS]
        if with_times and changes:
            times = block_timestamps(self.client.rpc, [c.block_number for c in changes])
            changes = [_with_time(c, times.get(c.block_number, 0)) for c in changes]
        return changes

    def verify_history(self, asset: str | bytes, changes: Sequence[AssetChange] | None = None) -> HistoryVerdict:
        """Recompute the head from ``changes`` (default: the chain's events) and compare with the chain."""
        current = self.get(asset)
        return verify_changes(
            self.history(asset, with_times=False) if changes is None else changes, current.history_head
        )

    # -- changes -------------------------------------------------------------------------------

    def register(
        self,
        asset: str | bytes,
        kind: str,
        *,
        serial: str | None = None,
        root_id: str | bytes | None = None,
        order_id: str | bytes | None = None,
        customer: str | None = None,
        vendor: str | None = None,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """A new twin in state Planned (a duplicate id is refused: ``AssetAlreadyExists``), with
        this member as its custodian.

        ``customer`` / ``vendor`` name its parties in the same transaction (``setParties``).
        A ``serial`` is bound at registration only where the constitution lets this member bind
        serials without a vote; where ``bindSerial`` takes a vote (seed 001: operator and vendor
        agree) this is refused before anything is sent — register, then :meth:`bind_serial`.
        """
        kind_bytes = kind.encode()
        if not 0 < len(kind_bytes) <= 12:
            raise ConfigurationError("an asset kind is 1 to 12 bytes (e.g. ONT, CPE-ROUTER)")
        if serial and self.constitution.policy("bindSerial").needs_vote:
            raise ConfigurationError(
                "binding a serial takes a vote in this consortium (bindSerial): register without "
                "the serial, then bind it with `asset bind-serial` / assets.bind_serial()"
            )
        serial_h = serial_hash(serial, self.serial_salt) if serial else ZERO32
        key = asset_id(asset)
        params = (
            key,
            kind_bytes.ljust(12, b"\0"),
            serial_h,
            to_bytes32(root_id, "root id") if root_id else ZERO32,
            to_bytes32(order_id, "order id") if order_id else ZERO32,
            details_hash,
        )
        if customer is None and vendor is None:
            return self.constitution.execute_action("register", params, ref)
        me = to_address(self.client.address or "", "custodian")
        for action in ("register", "setParties"):  # check both before sending anything
            reason = self.constitution.can_execute(action, me)
            if reason:
                raise PermissionDenied(action, me, reason.text)
        result = self.constitution.execute_action("register", params, ref)
        self.set_parties(key, customer=customer, vendor=vendor, details_hash=details_hash)
        return result

    def set_parties(
        self,
        asset: str | bytes,
        *,
        customer: str | None = None,
        vendor: str | None = None,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """As the twin's custodian, name the customer it will serve and the vendor that supplies it
        (a Planned or Inactive twin no order line holds). A customer makes the twin the
        agreement's to move; the vendor may then deliver it."""
        params = (
            asset_id(asset),
            to_address(customer) if customer else ZERO_ADDRESS,
            to_address(vendor) if vendor else ZERO_ADDRESS,
            details_hash,
        )
        return self.constitution.execute_action("setParties", params, ref)

    def bind_serial(
        self, asset: str | bytes, serial: str, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """Bind a device serial (hashed here with the consortium salt); may open a vote."""
        return self.constitution.execute_action(
            "bindSerial", (asset_id(asset), serial_hash(serial, self.serial_salt), details_hash), ref
        )

    def link(
        self,
        asset: str | bytes,
        *,
        root_id: str | bytes | None = None,
        order_id: str | bytes | None = None,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """Record that the asset belongs to a root identifier (project) and/or an order."""
        if not root_id and not order_id:
            raise ConfigurationError("link needs a root id, an order id, or both")
        params = (
            asset_id(asset),
            to_bytes32(root_id, "root id") if root_id else ZERO32,
            to_bytes32(order_id, "order id") if order_id else ZERO32,
            details_hash,
        )
        return self.constitution.execute_action("link", params, ref)

    def transfer_custody(
        self, asset: str | bytes, to: str, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        return self.constitution.execute_action("transferCustody", (asset_id(asset), to_address(to), details_hash), ref)

    def transition(
        self, asset: str | bytes, verb: str, *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """Apply a lifecycle verb (``deliver``, ``commission``...); see :data:`TRANSITIONS`."""
        if verb not in TRANSITIONS:
            raise ConfigurationError(f"unknown lifecycle verb {verb!r} (one of: {', '.join(VERBS)})")
        return self.constitution.execute_action(verb, (asset_id(asset), details_hash), ref)

    def transition_many(self, changes: Sequence[tuple[str | bytes, str]], *, ref_prefix: str = "") -> list[CallOutcome]:
        """Many (asset, verb) changes in one transaction (executeBatch); an outcome per change."""
        from telcochain.constitution import ActionCall

        calls = []
        for n, (asset, verb) in enumerate(changes):
            if verb not in TRANSITIONS:
                raise ConfigurationError(f"unknown lifecycle verb {verb!r}")
            ref = f"{ref_prefix}{n}" if ref_prefix else None
            calls.append(ActionCall(verb, (asset_id(asset), ZERO32), ref))
        return self.constitution.execute_batch(calls)

    def bulk_transition(
        self, verb: str, assets: Sequence[str | bytes], *, details_hash: bytes = ZERO32, ref: Ref = None
    ) -> ActionResult:
        """Apply one verb to many assets in one module call (~13k gas per asset for 100).

        All or nothing: one illegal asset reverts the whole call. Needs the ``bulkTransition``
        grant *and* the verb's own grant; verbs that take a vote cannot be applied in bulk.
        """
        if verb not in TRANSITIONS:
            raise ConfigurationError(f"unknown lifecycle verb {verb!r} (one of: {', '.join(VERBS)})")
        ids = [asset_id(a) for a in assets]
        if not 0 < len(ids) <= MAX_BULK:
            raise ConfigurationError(f"a bulk transition moves 1 to {MAX_BULK} assets, not {len(ids)}")
        return self.constitution.execute_action("bulkTransition", (VERBS.index(verb), ids, details_hash), ref)

    # named verbs
    def schedule_installation(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "scheduleInstallation", **kw)

    def cancel_installation(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "cancelInstallation", **kw)

    def deliver(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "deliver", **kw)

    def commission(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "commission", **kw)

    def request_change(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "requestChange", **kw)

    def complete_change(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "completeChange", **kw)

    def complete_deletion(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "completeDeletion", **kw)

    def request_disconnect(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "requestDisconnect", **kw)

    def withdraw_disconnect(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "withdrawDisconnect", **kw)

    def complete_disconnect(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "completeDisconnect", **kw)

    def recover(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "recover", **kw)

    def decommission(self, asset: str | bytes, **kw: Any) -> ActionResult:
        return self.transition(asset, "decommission", **kw)


def _with_time(change: AssetChange, timestamp: int) -> AssetChange:
    from dataclasses import replace

    return replace(change, timestamp=timestamp)
