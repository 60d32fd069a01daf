"""The AssetRegistry tests' world and helpers (tests/contracts/assets).

The consortium (tests/support/worlds/assets.yaml):

- ``operator`` (alice): registers, schedules, commissions, changes, disconnects, decommissions;
- ``vendor`` (bob): delivers and recovers devices; with the operator, binds serials, links and
  hands over custody;
- ``customer`` (carol): a member holding no asset permission;
- ``stranger``: not a member.

``transition`` is Internal; the test module ``MockModule`` plays "another module" calling it
through ``callInternal`` (granted to the operator).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from telcochain.assets import TRANSITIONS, AssetState, ChangeKind

from tests.support.dryrun import execute_action, send
from tests.support.encoding import ZERO32, ZERO_ADDRESS, action_id, asset_id, details, ref  # noqa: F401  (the tests import them from here)
from tests.support.worlds import check_roles, deploy_world, granted, load_world

ZERO24 = b"\x00" * 24

# --------------------------------------------------------------------------------------------
# The Solidity types and THE transition table (contracts/libraries/AssetLifecycle.sol), as the SDK
# mirrors them (test_lifecycle.py checks the table against the chain and the docs)
# --------------------------------------------------------------------------------------------


State = AssetState
Change = ChangeKind
S = State
# verb (action name) -> (from states, to state), in the order of the Solidity enum Verb
TABLE = TRANSITIONS
VERBS = list(TABLE)
EDGES: set[tuple[State, State]] = {(f, to) for froms, to in TABLE.values() for f in froms}
LIVE_STATES = [s for s in State if s not in (S.NONE, S.DECOMMISSIONED)]


def verb_of(from_: State, to: State) -> str | None:
    """The verb labelling the edge from_ -> to, if any (each edge has exactly one)."""
    found = [v for v, (froms, target) in TABLE.items() if target == to and from_ in froms]
    assert len(found) <= 1
    return found[0] if found else None


# --------------------------------------------------------------------------------------------
# Actions, permissions and ABI encodings (what the SDK must produce)
# --------------------------------------------------------------------------------------------

#: The world's members by role (tests/support/worlds/assets.yaml); ``stranger`` is not a member.
MEMBERS = {"operator": "Alice Telecom", "vendor": "Bob Devices", "customer": "Carol Enterprise"}
#: AssetRegistry action -> roles granted, in the file's order (the first one acts by default)
PERMISSIONS: dict[str, tuple[str, ...]] = granted("assets", MEMBERS, "AssetRegistry")
VERB_INDEX = {verb: i for i, verb in enumerate(VERBS)}  # the Solidity enum Verb
MAX_BULK = 256
PUBLIC_ACTIONS = list(PERMISSIONS)
TRANSITION = action_id("transition")
CALL_INTERNAL = action_id("callInternal")


def serial_hash(serial: str, salt: str = "consortium-salt") -> bytes:
    """The SDK hashes serials with a consortium-wide salt; only the hash goes on chain."""
    return keccak(text=f"{salt}:{serial}")


def kind_code(kind: str) -> bytes:
    raw = kind.encode()
    assert len(raw) <= 12
    return raw.ljust(12, b"\x00")


def register_params(asset, kind="ONT", serial=ZERO32, root=ZERO32, order=ZERO32, details_=ZERO32) -> bytes:
    return encode(
        ["bytes32", "bytes12", "bytes32", "bytes32", "bytes32", "bytes32"],
        [asset, kind_code(kind), serial, root, order, details_],
    )


def _address(who) -> str:
    if who is None:
        return ZERO_ADDRESS
    return who if isinstance(who, str) else who.address


def parties_params(asset, customer=None, vendor=None, details_=ZERO32) -> bytes:
    return encode(["bytes32", "address", "address", "bytes32"], [asset, _address(customer), _address(vendor), details_])


def verb_params(asset, details_=ZERO32) -> bytes:
    return encode(["bytes32", "bytes32"], [asset, details_])


def bind_params(asset, serial, details_=ZERO32) -> bytes:
    return encode(["bytes32", "bytes32", "bytes32"], [asset, serial, details_])


def link_params(asset, root=ZERO32, order=ZERO32, details_=ZERO32) -> bytes:
    return encode(["bytes32", "bytes32", "bytes32", "bytes32"], [asset, root, order, details_])


def custody_params(asset, custodian, details_=ZERO32) -> bytes:
    address = custodian if isinstance(custodian, str) else custodian.address
    return encode(["bytes32", "address", "bytes32"], [asset, address, details_])


def transition_params(asset, to: int, details_=ZERO32) -> bytes:
    return encode(["bytes32", "uint8", "bytes32"], [asset, int(to), details_])


def bulk_params(verb: str | int, assets, details_=ZERO32) -> bytes:
    code = VERB_INDEX[verb] if isinstance(verb, str) else verb
    return encode(["uint8", "bytes32[]", "bytes32"], [code, list(assets), details_])


def call_internal_params(action: bytes, inner: bytes) -> bytes:
    return encode(["bytes32", "bytes"], [action, inner])


# --------------------------------------------------------------------------------------------
# The history head (contracts/libraries/AssetHistory.sol), recomputed from events
# --------------------------------------------------------------------------------------------

HEAD_TYPES = ["bytes24", "bytes32", "uint8", "uint32", "bytes32", "address", "bytes32", "bytes32[4]"]


def _word(value: Any) -> bytes:
    if isinstance(value, int):
        return value.to_bytes(32, "big")
    if isinstance(value, str):  # an address
        return bytes.fromhex(value.removeprefix("0x").lower()).rjust(32, b"\x00")
    return bytes(value).ljust(32, b"\x00")  # bytesN: left-aligned


def next_head(prev, asset, change: Change, version: int, ref_, actor: str, details_, fields) -> bytes:
    words = [_word(f) for f in fields] + [ZERO32] * (4 - len(fields))
    preimage = encode(HEAD_TYPES, [bytes(prev), asset, int(change), version, ref_, actor, details_, words])
    assert len(preimage) == 11 * 32
    return keccak(preimage)[:24]


HISTORY_EVENTS = (
    "AssetRegistered",
    "AssetTransitioned",
    "AssetSerialBound",
    "AssetLinked",
    "AssetCustodyTransferred",
    "AssetPartiesChanged",
)


def change_of(log) -> tuple[Change, list]:
    """The change kind and data fields of a history event."""
    name, args = log.event_name, log.event_arguments
    if name == "AssetRegistered":
        return Change.REGISTER, [args["kind"], args["serialHash"], args["rootId"], args["orderId"]]
    if name == "AssetTransitioned":
        return Change.TRANSITION, [int(args["from"]), int(args["to"])]
    if name == "AssetSerialBound":
        return Change.SERIAL_BIND, [args["serialHash"]]
    if name == "AssetLinked":
        return Change.LINK, [args["rootId"], args["orderId"]]
    if name == "AssetPartiesChanged":
        return Change.PARTIES, [args["customer"], args["vendor"], int(bool(args["onLine"])), int(bool(args["served"]))]
    assert name == "AssetCustodyTransferred", name
    return Change.CUSTODY_TRANSFER, [args["from"], args["to"]]


def replay_head(logs: Iterable) -> bytes:
    """Recomputes an asset's head from its history events (in chain order), checking each
    event's version and head on the way."""
    head = ZERO24
    for n, log in enumerate(logs, start=1):
        change, fields = change_of(log)
        assert log.version == n, (log.event_name, log.version, n)
        head = next_head(head, log.assetId, change, n, log.ref, log.actor, log.detailsHash, fields)
        assert bytes(log.head) == head, f"change {n} ({log.event_name}) does not fit"
    return head


def history_logs(registry, receipts) -> list:
    """The history events of ``receipts``, in chain order."""
    logs = []
    for receipt in receipts:
        for log in receipt.events:
            if log.event_name in HISTORY_EVENTS and log.contract_address == registry.address:
                logs.append(log)
    return logs


# --------------------------------------------------------------------------------------------
# The consortium under test
# --------------------------------------------------------------------------------------------


@dataclass
class Consortium:
    """The Constitution with the AssetRegistry's actions, and shortcuts to drive assets."""

    constitution: Any
    registry: Any
    mock: Any
    roles: dict[str, Any]

    @property
    def operator(self):
        return self.roles["operator"]

    @property
    def vendor(self):
        return self.roles["vendor"]

    @property
    def customer(self):
        return self.roles["customer"]

    @property
    def stranger(self):
        return self.roles["stranger"]

    def holder(self, action: str):
        return self.roles[PERMISSIONS[action][0]]

    def act(self, action: str, params: bytes, sender=None, ref_: bytes | None = None):
        """executeAction(keccak256(action), params, ref) by ``sender`` (default: a holder)."""
        return execute_action(self.constitution, action, params, sender=sender or self.holder(action), ref_=ref_)

    def register(self, asset, sender=None, ref_=None, **kw):
        return self.act("register", register_params(asset, **kw), sender, ref_)

    def verb(self, verb: str, asset, details_=ZERO32, sender=None, ref_=None):
        return self.act(verb, verb_params(asset, details_), sender, ref_)

    def bulk(self, verb: str, assets, details_=ZERO32, sender=None, ref_=None):
        return self.act("bulkTransition", bulk_params(verb, assets, details_), sender or self.holder(verb), ref_)

    def bind(self, asset, serial, details_=ZERO32, sender=None, ref_=None):
        return self.act("bindSerial", bind_params(asset, serial, details_), sender, ref_)

    def link(self, asset, root=ZERO32, order=ZERO32, details_=ZERO32, sender=None, ref_=None):
        return self.act("link", link_params(asset, root, order, details_), sender, ref_)

    def parties(self, asset, customer=None, vendor=None, details_=ZERO32, sender=None, ref_=None):
        return self.act("setParties", parties_params(asset, customer, vendor, details_), sender, ref_)

    def transfer(self, asset, custodian, details_=ZERO32, sender=None, ref_=None):
        return self.act("transferCustody", custody_params(asset, custodian, details_), sender, ref_)

    def internal_transition(self, asset, to: int, details_=ZERO32, sender=None, ref_=None):
        """Another module (the mock) calls the Internal ``transition`` for the operator."""
        inner = transition_params(asset, to, details_)
        return send(
            self.constitution.executeAction,
            CALL_INTERNAL,
            call_internal_params(TRANSITION, inner),
            ref_ if ref_ is not None else ref("internal"),
            sender=sender or self.operator,
        )

    def drive(self, asset, state: State, serial: bytes | None = None):
        """Registers ``asset`` and moves it to ``state`` along the usual path. A serial is
        bound at registration when the path goes through Active (or when given)."""
        path = PATHS[state]
        if serial is None and "commission" in path:
            serial = serial_hash(f"serial-of-{bytes(asset).hex()}")
        receipts = [self.register(asset, serial=serial or ZERO32)]
        # the vendor is named the twin's supplier, so that its verbs (deliver, recover) apply
        receipts.append(self.parties(asset, vendor=self.vendor))
        receipts += [self.verb(v, asset) for v in path]
        assert self.state(asset) == state
        return receipts

    def state(self, asset) -> State:
        return State(self.registry.stateOf(asset))

    def snapshot(self, asset) -> tuple:
        view = self.registry.getAsset(asset)
        return (
            view.state,
            bytes(view.kind),
            bytes(view.serialHash),
            view.version,
            bytes(view.historyHead),
            view.custodian,
            view.exists,
        )


# How to reach each state from a registration (verbs, in order)
_TO_ACTIVE = ["scheduleInstallation", "deliver", "commission"]
PATHS: dict[State, list[str]] = {
    S.PLANNED: [],
    S.PENDING_INSTALLATION: ["scheduleInstallation"],
    S.DELIVERED: ["scheduleInstallation", "deliver"],
    S.ACTIVE: _TO_ACTIVE,
    S.PENDING_CHANGE: [*_TO_ACTIVE, "requestChange"],
    S.PENDING_DISCONNECT: [*_TO_ACTIVE, "requestDisconnect"],
    S.INACTIVE: [*_TO_ACTIVE, "requestDisconnect", "completeDisconnect"],
    S.RECOVERING: [*_TO_ACTIVE, "requestDisconnect", "completeDisconnect", "recover"],
    S.DECOMMISSIONED: ["decommission"],
}


def deploy_consortium(deployer, roles: dict[str, Any], bind_serial_vote: bool = False) -> Consortium:
    """The world of tests/support/worlds/assets.yaml (the AssetRegistry's actions defined at
    genesis, then sealed), deployed through scripts/deploy.py.

    With ``bind_serial_vote``, bindSerial needs a vote of the operator and the vendor
    (Specific voters, margin 2, one day)."""
    changes = {}
    if bind_serial_vote:
        changes["bindSerial"] = {"voters": [MEMBERS["operator"], MEMBERS["vendor"]], "margin": 2, "voting_period": "1d"}
    config = load_world("assets", changes)
    check_roles(config, MEMBERS, roles)
    world = deploy_world(config, deployer)
    return Consortium(world.constitution, world.contracts["AssetRegistry"], world.contracts["MockModule"], roles)
