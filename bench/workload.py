"""Pluggable benchmark workloads: what one business operation is.

The benchmark drives every path (SDK pipeline, SDK batches, ape, web3.py) with the same
operations. An operation is one Constitution action call — ``(action id, params, ref)`` —
so encoding is generic: ``executeAction`` for one operation per transaction, ``executeBatch``
for many (fast encoders in :mod:`telcochain.batch`). A workload says:

- :meth:`Workload.prepare`: create what the operations need (assets, agreements...), once,
  on a fresh deployment (automine, before the clock starts);
- :meth:`Workload.next_call`: the next operation of a *lane*. A lane is ``(phase, sender)``:
  the benchmark sends a lane's operations from one account, so they run in submission order
  (nonce order); lanes must not depend on each other (give each its own objects);
- :meth:`Workload.count_on_chain`: how many times each operation key (its ref, or ref + asset
  for a bulk call) was executed on chain in a block range (default: the Constitution's
  ``ActionExecuted`` events, one per executed action);
- optionally :meth:`Workload.next_bulk_call` (a module's own bulk entry point: one call, many
  operations), ``sender_accounts`` (who the lanes send from) and :meth:`Workload.configure`
  (the bench consortium).

:class:`MacdWorkload` (the default) is issue 8's operation: OperatorAgreement's MACD change
request with its charge; :class:`AssetChangeWorkload` the earlier stand-in
(``BENCH_WORKLOAD=assets``). See docs/throughput.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from telcochain.actions import action_id
from telcochain.agreement import MacdKind
from telcochain.assets import ZERO32, AssetState, serial_hash
from telcochain.batch import Batch
from telcochain.tx import hexint
from telcochain.types import ZERO_ADDRESS

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from telcochain.client import Client
    from telcochain.rpc import Rpc

#: A lane: (phase name, sender index). One lane's operations run in order.
Lane = tuple[str, int]

#: ``keccak256("ActionExecuted(bytes32,bytes32,address,uint256)")``.
ACTION_EXECUTED = "0x" + keccak(text="ActionExecuted(bytes32,bytes32,address,uint256)").hex()


@dataclass(frozen=True, slots=True)
class Call:
    """One operation: a Constitution action call."""

    action: bytes  # keccak256(action name)
    params: bytes  # ABI-encoded parameters
    ref: bytes  # 32 bytes, unique per call: how the operation is found on chain
    #: the operations this call carries, as the on-chain count keys them: ``(ref,)`` when
    #: empty (one operation); a module bulk call: ``ref + assetId`` per asset
    keys: tuple[bytes, ...] = ()

    @property
    def op_keys(self) -> tuple[bytes, ...]:
        return self.keys or (self.ref,)


@dataclass
class BenchEnv:
    """What a workload gets to prepare itself."""

    rpc: Rpc
    operator: Client  # dev account 0 (Northwind Telecom, the operator): holds the grants
    clients: dict[str, Client]  # other member clients by role name ("vendor", ...)
    senders: Sequence[LocalAccount]  # the pipeline's sender accounts (members with the op's grants)
    extra: dict[str, Any] = field(default_factory=dict)


def make_ref(phase_code: int, seq: int) -> bytes:
    """A unique ref: b"TB", the phase, the sequence number."""
    return (b"TB" + bytes((phase_code,)) + seq.to_bytes(8, "big")).ljust(32, b"\0")


class Workload(ABC):
    """The interface every benchmark workload implements."""

    #: Shown in the results.
    name: str = "workload"
    #: Action names the operations use (for the default on-chain count).
    actions: tuple[str, ...] = ()
    #: Dev account indices the SDK lanes send from; None: the bench's own sender accounts
    #: (dev accounts 4.., added as members holding ``actions``).
    sender_accounts: tuple[int, ...] | None = None
    #: Extra results of the on-chain check (charges, consistency), filled by count_on_chain.
    checks: dict[str, Any]

    @staticmethod
    def configure(config: dict[str, Any]) -> None:
        """Adjust the bench's copy of consortium.yaml (a dict) before deployment."""
        del config  # an optional hook: nothing by default

    def next_bulk_call(self, lane: Lane, n: int) -> Call:
        """One module-level bulk call carrying ``n`` operations (``Call.keys``), if the
        workload has one."""
        raise NotImplementedError(f"{self.name}: no module-level bulk call")

    def __init__(self) -> None:
        self._seq: dict[str, int] = {}
        self.phase_codes: dict[str, int] = {}
        self.checks = {}

    @abstractmethod
    def prepare(self, env: BenchEnv, lanes: Sequence[Lane]) -> None:
        """Create what the operations of every lane need (called once, before timing)."""

    @abstractmethod
    def next_call(self, lane: Lane) -> Call:
        """The next operation of ``lane`` (use :meth:`new_ref` for its ref)."""

    def new_ref(self, phase: str) -> bytes:
        code = self.phase_codes.setdefault(phase, len(self.phase_codes) + 1)
        seq = self._seq.get(phase, 0)
        self._seq[phase] = seq + 1
        return make_ref(code, seq)

    def count_on_chain(self, rpc: Rpc, constitution: str, from_block: int, to_block: int) -> Counter[bytes]:
        """How many times each ref was executed in blocks ``from_block..to_block``."""
        found: Counter[bytes] = Counter()
        topic_actions = ["0x" + action_id(a).hex() for a in self.actions] or None
        step = 4
        for start in range(from_block, to_block + 1, step):
            end = min(to_block, start + step - 1)
            logs = rpc.call(
                "eth_getLogs",
                [
                    {
                        "address": constitution,
                        "fromBlock": hex(start),
                        "toBlock": hex(end),
                        "topics": [ACTION_EXECUTED, None, topic_actions],
                    }
                ],
            )
            found.update(bytes.fromhex(log["topics"][1][2:]) for log in logs)
        return found


class AssetChangeWorkload(Workload):
    """Stand-in until OperatorAgreement exists: MACD on digital twins without the charge.

    Each lane owns its own Active twins and cycles them ``requestChange`` (Active →
    PendingChange) / ``completeChange`` (PendingChange → Active); one operation is one
    transition through ``executeAction`` (the operator's grants, docs/assets.md).
    """

    name = "asset-change (requestChange/completeChange)"
    actions = ("requestChange", "completeChange")

    def __init__(self, assets_per_lane: dict[str, int]) -> None:
        super().__init__()
        self.assets_per_lane = assets_per_lane  # phase → twins per sender lane
        self._lanes: dict[Lane, list[bytes]] = {}
        self._cursor: dict[Lane, int] = {}
        self._state: dict[bytes, AssetState] = {}
        self._request = action_id("requestChange")
        self._complete = action_id("completeChange")

    def prepare(self, env: BenchEnv, lanes: Sequence[Lane]) -> None:
        ids = []
        for lane in lanes:
            count = self.assets_per_lane[lane[0]]
            mine = [f"BENCH-{lane[0]}-{lane[1]}-{i}".encode().ljust(32, b"\0") for i in range(count)]
            self._lanes[lane] = mine
            self._cursor[lane] = 0
            ids += mine
        commission_assets(env, ids)
        self._state.update({a: AssetState.ACTIVE for a in ids})

    def next_call(self, lane: Lane) -> Call:
        assets = self._lanes[lane]
        n = self._cursor[lane]
        self._cursor[lane] = n + 1
        asset = assets[n % len(assets)]
        if self._state[asset] is AssetState.ACTIVE:
            self._state[asset] = AssetState.PENDING_CHANGE
            action = self._request
        else:
            self._state[asset] = AssetState.ACTIVE
            action = self._complete
        return Call(action, asset + ZERO32, self.new_ref(lane[0]))


def commission_assets(env: BenchEnv, ids: Sequence[bytes]) -> None:
    """Register ``ids`` with a serial each and take them to Active (register in batches of 100,
    then bulkTransition scheduleInstallation / deliver (vendor) / commission, 256 a call)."""
    operator, vendor = env.operator, env.clients["vendor"]
    register_supplied(operator, vendor.address or "", ids)
    for verb_index, client in ((0, operator), (2, vendor), (3, operator)):  # schedule, deliver, commission
        with Batch(client, chunk=8) as b:
            for part in _chunks(ids, 256):
                b.add("bulkTransition", verb_index, list(part), ZERO32)
        _check(b.outcomes, f"bulkTransition {verb_index}")


def register_supplied(operator: Client, vendor: str, ids: Sequence[bytes]) -> None:
    """Register ``ids`` with a serial each (the bench consortium binds serials without a vote) and
    name ``vendor`` their supplier (setParties), so that it may deliver them."""
    salt = operator.assets.serial_salt
    with Batch(operator, chunk=100) as b:
        for asset in ids:
            b.add("register", asset, b"ONT".ljust(12, b"\0"), serial_hash(asset.hex(), salt), ZERO32, ZERO32, ZERO32)
            b.add("setParties", asset, ZERO_ADDRESS, vendor, ZERO32)
    _check(b.outcomes, "register")


def _chunks(items: Sequence[bytes], size: int) -> Iterable[Sequence[bytes]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _check(outcomes: Sequence[Any], what: str) -> None:
    bad = [o for o in outcomes if o.status != "executed"]
    if bad:
        raise RuntimeError(f"{what}: {len(bad)} calls not executed, first: {bad[0]}")


def block_number(rpc: Rpc) -> int:
    return hexint(rpc.call("eth_blockNumber"))


# -- the MACD workload (OperatorAgreement: a change request with its charge) -------------------

#: OperatorAgreement events (docs/agreement.md).
CHANGE_ORDERED = "0x" + keccak(text="ChangeOrdered(bytes32,address,bytes32,address,uint8,int256,int256)").hex()
CHANGE_CONFIRMED = "0x" + keccak(text="ChangeConfirmed(bytes32,address,bytes32,bool)").hex()
CHANGES_ORDERED = "0x" + keccak(text="ChangesOrdered(address,bytes32,uint8,address,int256,int256,bytes32[])").hex()
CHANGES_CONFIRMED = "0x" + keccak(text="ChangesConfirmed(address,bytes32,bool,bytes32[])").hex()

#: The MACD kinds the workload orders in turn (not delete: its confirmation leaves the twin Inactive).
MACD_KINDS = (MacdKind.MOVE, MacdKind.ADD, MacdKind.CHANGE)  # the kinds the load orders (a delete would end services)
#: A non-zero details hash, as a real order carries (calldata of a real one costs the same).
DETAILS = keccak(text="telcochain bench: MACD order details")


def _signed(word: str) -> int:
    value = int(word, 16)
    return value - (1 << 256) if value >> 255 else value


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


class MacdWorkload(Workload):
    """Issue 8's operation: a MACD change request with its charge (OperatorAgreement).

    Each lane owns twins installed under the agreement for the customer (Initech Enterprise)
    and alternates, per twin, ``orderChange(kind, asset, details)`` — Active → PendingChange,
    the kind's tariff accrued on the customer's running account (ChangeOrdered) — and
    ``confirmChange(asset, details)`` — back to Active (ChangeConfirmed). One operation is one
    of those. The bulk form (:meth:`next_bulk_call`): ``orderChanges(kind, group)`` /
    ``confirmChanges(false, group)`` on a lane's group of twins, one operation per
    (ref, asset).

    Senders: confirmations are operator-only, so every lane sends from the operator, dev
    account 0 (``sender_accounts``); one sender's transactions run in nonce order, so a
    lane's order always precedes its confirmation.

    ``count_on_chain`` counts an operation only when the module recorded it with the right
    charge: ChangeOrdered (charge = the kind's tariff, customer right) / ChangeConfirmed per
    ref, ChangesOrdered (charge = tariff x assets) / ChangesConfirmed per (ref, asset) from the
    events' ``assetIds``; it also checks that each ref has as many ActionExecuted as module
    events, and that the running account's balance equals the sum of the recorded charges
    (``self.checks``).
    """

    name = "macd (OperatorAgreement orderChange+charge / confirmChange)"
    actions = ("orderChange", "confirmChange", "orderChanges", "confirmChanges")
    #: dev account indices the SDK lanes send from (the operator: confirmations are operator-only)
    sender_accounts: tuple[int, ...] = (0,)

    def __init__(self, assets_per_lane: dict[str, int], bulk_size: int = 100) -> None:
        super().__init__()
        self.assets_per_lane = assets_per_lane
        self.bulk_size = bulk_size
        self._lanes: dict[Lane, list[bytes]] = {}
        self._cursor: dict[Lane, int] = {}
        self._pending: set[bytes] = set()  # twins (or group keys) with a change ordered
        self._kind_turn = 0
        self._expect: dict[bytes, tuple[str, int, int]] = {}  # ref → (what, kind, n assets)
        self.tariffs: dict[int, int] = {}
        self.customer = ""
        self.agreement = ""
        self._order = action_id("orderChange")
        self._confirm = action_id("confirmChange")
        self._orders = action_id("orderChanges")
        self._confirms = action_id("confirmChanges")

    @staticmethod
    def configure(config: dict[str, Any]) -> None:
        """The bench consortium: free installation (no invoice to fund), MACD tariffs kept."""
        tariff = config["agreement"]["tariff"]
        tariff["installation"] = 0
        assert all(tariff[k] for k in ("move", "add", "change")), "MACD tariffs must be non-zero"

    def prepare(self, env: BenchEnv, lanes: Sequence[Lane]) -> None:
        ids = []
        for lane in lanes:
            count = self.assets_per_lane[lane[0]]
            mine = [f"MACD-{lane[0]}-{lane[1]}-{i}".encode().ljust(32, b"\0") for i in range(count)]
            self._lanes[lane] = mine
            self._cursor[lane] = 0
            ids += mine
        customer = env.clients["customer"]
        assert customer.address, "the customer client needs an account"
        self.customer = customer.address
        self.agreement = env.operator.deployment.address("OperatorAgreement")
        install_assets(env, ids, self.customer)
        terms = env.operator.agreement.terms()
        self.tariffs = {int(k): terms.tariff(k) for k in MacdKind}
        self.checks["balance_before"] = env.operator.agreement.account(self.customer).balance
        self._operator = env.operator

    def _next_kind(self) -> int:
        self._kind_turn += 1
        return MACD_KINDS[self._kind_turn % len(MACD_KINDS)]

    def next_call(self, lane: Lane) -> Call:
        assets = self._lanes[lane]
        n = self._cursor[lane]
        self._cursor[lane] = n + 1
        asset = assets[n % len(assets)]
        ref = self.new_ref(lane[0])
        if asset in self._pending:
            self._pending.discard(asset)
            self._expect[ref] = ("confirm", 0, 1)
            return Call(self._confirm, asset + DETAILS, ref)
        self._pending.add(asset)
        kind = self._next_kind()
        self._expect[ref] = ("order", kind, 1)
        return Call(self._order, _word(kind) + asset + DETAILS, ref)

    def next_bulk_call(self, lane: Lane, n: int) -> Call:
        """One ``orderChanges`` / ``confirmChanges`` on the lane's next group of ``n`` twins:
        ``n`` operations, keys ``ref + asset``."""
        assets = self._lanes[lane]
        groups = max(1, len(assets) // n)
        g = self._cursor[lane] % groups
        self._cursor[lane] += 1
        group = assets[g * n : (g + 1) * n]
        tag = b"group" + group[0]
        ref = self.new_ref(lane[0])
        array = _word(len(group)) + b"".join(group)
        if tag in self._pending:
            self._pending.discard(tag)
            self._expect[ref] = ("confirms", 0, len(group))
            params = _word(0) + _word(0x60) + DETAILS + array
            return Call(self._confirms, params, ref, tuple(ref + a for a in group))
        self._pending.add(tag)
        kind = self._next_kind()
        self._expect[ref] = ("orders", kind, len(group))
        params = _word(kind) + _word(0x60) + DETAILS + array
        return Call(self._orders, params, ref, tuple(ref + a for a in group))

    def count_on_chain(self, rpc: Rpc, constitution: str, from_block: int, to_block: int) -> Counter[bytes]:
        executed = super().count_on_chain(rpc, constitution, from_block, to_block)  # ActionExecuted per ref
        found: Counter[bytes] = Counter()
        per_ref: Counter[bytes] = Counter()  # module events per ref
        bad_charge: list[str] = []
        charged = 0
        customer_topic = "0x" + bytes(12).hex() + self.customer[2:].lower()
        topics = [[CHANGE_ORDERED, CHANGE_CONFIRMED, CHANGES_ORDERED, CHANGES_CONFIRMED]]
        step = 4
        for start in range(from_block, to_block + 1, step):
            end = min(to_block, start + step - 1)
            logs = rpc.call(
                "eth_getLogs",
                [{"address": self.agreement, "fromBlock": hex(start), "toBlock": hex(end), "topics": topics}],
            )
            for log in logs:
                t = log["topics"]
                data = log["data"][2:]
                words = [data[i : i + 64] for i in range(0, len(data), 64)]
                if t[0] in (CHANGE_ORDERED, CHANGE_CONFIRMED):
                    ref = bytes.fromhex(t[3][2:])
                    ok = t[2] == customer_topic
                    if t[0] == CHANGE_ORDERED:
                        kind, charge = int(words[1], 16), _signed(words[2])
                        charged += charge
                        expected = self._expect.get(ref)
                        ok = ok and charge == self.tariffs[kind] and (expected is None or expected[1] == kind)
                    if ok:
                        found[ref] += 1
                    else:
                        bad_charge.append(ref.hex())
                    per_ref[ref] += 1
                    continue
                ref = bytes.fromhex(t[2][2:])
                ok = t[1] == customer_topic
                # data: ChangesOrdered requester, charge, balance, offset, n, ids;
                # ChangesConfirmed deleted, offset, n, ids
                first = 5 if t[0] == CHANGES_ORDERED else 3
                assets = [bytes.fromhex(w) for w in words[first : first + int(words[first - 1], 16)]]
                if t[0] == CHANGES_ORDERED:
                    charge = _signed(words[1])
                    charged += charge
                    ok = ok and charge == self.tariffs[int(t[3], 16)] * len(assets)
                if ok:
                    found.update(ref + a for a in assets)
                else:
                    bad_charge.append(ref.hex())
                per_ref[ref] += 1
        mismatched = [
            r.hex() for r in set(executed) | set(per_ref) if executed[r] != per_ref[r] and r.startswith(b"TB")
        ]
        balance = self._operator.agreement.account(self.customer).balance
        self.checks.update(
            {
                "charge_errors": len(bad_charge),
                "action_vs_module_event_mismatches": len(mismatched),
                "charged_on_chain": charged,
                "account_balance": balance,
                "balance_matches_charges": balance - self.checks["balance_before"] == charged,
                "examples": (bad_charge + mismatched)[:3],
            }
        )
        return found


def install_assets(env: BenchEnv, ids: Sequence[bytes], customer: str) -> None:
    """Register ``ids`` (with serials) and install them under the agreement for ``customer``:
    requestInstallation (operator; free in the bench consortium), deliver (vendor,
    bulkTransition), confirmInstallation (operator) — the twins end Active, served."""
    operator, vendor = env.operator, env.clients["vendor"]
    register_supplied(operator, vendor.address or "", ids)
    with Batch(operator, chunk=100) as b:
        for asset in ids:
            b.add("requestInstallation", asset, customer, ZERO32)
    _check(b.outcomes, "requestInstallation")
    with Batch(vendor, chunk=8) as b:
        for part in _chunks(ids, 256):
            b.add("bulkTransition", 2, list(part), ZERO32)  # deliver
    _check(b.outcomes, "deliver")
    with Batch(operator, chunk=100) as b:
        for asset in ids:
            b.add("confirmInstallation", asset, ZERO32)
    _check(b.outcomes, "confirmInstallation")


# -- MACD of a registered customer on bilateral terms (issue 14) ------------------------------------

#: The charges the operator states for the registered customer's MACD (move, add, change), units.
BILATERAL_CHARGES = {0: 61_000_000, 1: 33_000_000, 2: 19_000_000}


class BilateralMacdWorkload(MacdWorkload):
    """:class:`MacdWorkload` for a **registered customer on bilateral terms** (issue 14): a wallet
    that is not a member, registered by the operator in the CustomerRegistry (its own key signs
    its consents). Each order goes through ``OperatorAgreement.actFor`` (op 1) with the charge the
    operator states (:data:`BILATERAL_CHARGES`), by the operator alone, or — ``consent=True`` —
    with the customer's EIP-712 consent signed for it when the call is made (the signing is in
    the generator's time: an operator would receive consents already signed); confirmations are
    the plain ``confirmChange``. A registered customer's bulk order is ``actFor`` op 4
    (``orderChanges`` refuses a bilateral service: every charge is stated per request); this
    workload has no bulk call: bench/bilateral_bench.py measures op 4 and the ``executeBatch``
    form.

    ``count_on_chain`` checks each ChangeOrdered against the stated charge (``self.tariffs`` is
    the bilateral price list) and the customer's running account against their sum.
    """

    name = "macd-bilateral (OperatorAgreement actFor orderChange, stated charge / confirmChange)"
    actions = ("actFor", "confirmChange", "confirmChanges")

    def __init__(self, assets_per_lane: dict[str, int], consent: bool = False) -> None:
        super().__init__({k: v for k, v in assets_per_lane.items() if k != "sdk_bulk"})
        self.consent = consent
        if consent:
            self.name = self.name.replace("stated charge", "stated charge + consent")
        self._act_for = action_id("actFor")
        self._nonce = 0
        self._wallet: Any = None
        self._consent_registry = ""
        self._chain_id = 0
        self._operator_address = ""

    def prepare(self, env: BenchEnv, lanes: Sequence[Lane]) -> None:
        from eth_abi import encode
        from eth_account import Account

        self._wallet = Account.from_key(keccak(text="telcochain bench: registered customer wallet"))
        operator = env.operator
        self.customer = self._wallet.address
        self.agreement = operator.deployment.address("OperatorAgreement")
        self._consent_registry = operator.deployment.address("CustomerRegistry")
        self._chain_id = operator.chain.chain_id
        self._operator_address = operator.address or ""
        operator.customers.add(self.customer, signer=self.customer)
        ids = []
        for lane in lanes:
            count = self.assets_per_lane[lane[0]]
            mine = [f"BMACD-{lane[0]}-{lane[1]}-{i}".encode().ljust(32, b"\0") for i in range(count)]
            self._lanes[lane] = mine
            self._cursor[lane] = 0
            ids += mine
        register_supplied(operator, env.clients["vendor"].address or "", ids)
        with Batch(operator, chunk=100) as b:  # free installations the operator files for the customer
            for asset in ids:
                inner = encode(["bytes32", "address", "bytes32"], [asset, self.customer, ZERO32])
                b.add("actFor", 0, inner, 0, 0, 0, 0, b"")
        _check(b.outcomes, "actFor installation")
        with Batch(env.clients["vendor"], chunk=8) as b:
            for part in _chunks(ids, 256):
                b.add("bulkTransition", 2, list(part), ZERO32)  # deliver
        _check(b.outcomes, "deliver")
        with Batch(operator, chunk=100) as b:
            for asset in ids:
                b.add("confirmInstallation", asset, ZERO32)
        _check(b.outcomes, "confirmInstallation")
        self.tariffs = dict(BILATERAL_CHARGES)
        self.checks["balance_before"] = operator.agreement.account(self.customer).balance
        self._operator = operator

    def next_call(self, lane: Lane) -> Call:
        call = super().next_call(lane)
        if call.action != self._order:
            return call
        from eth_abi import encode

        kind = int.from_bytes(call.params[:32], "big")
        asset = call.params[32:64]
        charge = BILATERAL_CHARGES[kind]
        sig, nonce, ceiling, deadline = b"", 0, 0, 0
        if self.consent:
            from telcochain.customers import Consent, sign_consent

            self._nonce += 1
            nonce, ceiling, deadline = self._nonce, charge, 2**40
            who = (self.customer, self._operator_address)
            consent = Consent(*who, "orderChange", asset, kind, charge, nonce, deadline)
            sig = sign_consent(consent, self._wallet.key, self._chain_id, self._consent_registry)
        types = ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"]
        params = encode(types, [1, call.params, charge, ceiling, nonce, deadline, sig])
        return Call(self._act_for, params, call.ref)
