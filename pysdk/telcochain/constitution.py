"""``client.constitution``: members, actions, permissions, proposals and votes.

Everything a member does goes through the Constitution's ``executeAction(action, params,
ref)`` (the seed's executeAction). Its outcome is read from the receipt's events:

- executed at once → :class:`ActionResult` with ``status="executed"``;
- put to a vote → ``status="pending_vote"`` and the ``proposal_id``;
- denied (suspended, no grant, outside the permission window, an internal action...) → the
  transaction is still sent, so the attempt is on record, and
  :class:`~telcochain.errors.PermissionDenied` is raised with the reason (unless
  ``refuse_denied_locally`` is set, as the CLI does: then ``canExecute`` is asked first and a
  denied call is refused without being sent);
- not a member → the Constitution reverts (``ConstitutionNotMember``: outsiders leave no
  record), nothing is sent, and :class:`~telcochain.errors.PermissionDenied` is raised too,
  with ``tx_hash`` None;
- a business failure → its decoded custom error (raised before anything is sent). A proposal
  is checked when it opens (built-in params decoded, a module action dry-run): a proposal that
  could not execute now raises its error instead of being opened.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from telcochain.actions import BUILTIN_ACTIONS, action_id, encode_params
from telcochain.contract import Event
from telcochain.errors import (
    ActionNotFound,
    ConfigurationError,
    ContractRevert,
    PermissionDenied,
    ProposalNotFound,
    TelcochainError,
    decode_revert,
)
from telcochain.tx import Receipt, batch_gas
from telcochain.types import Ref, to_address, to_ref

if TYPE_CHECKING:
    from telcochain.contract import Contract
    from telcochain.session import Session

#: Records read per paged view call.
PAGE_SIZE = 100


# -- enums mirroring IConstitution ----------------------------------------------------------


class MemberStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class Scope(IntEnum):
    PUBLIC = 0
    INTERNAL = 1


class Voters(IntEnum):
    ANY = 0
    SPECIFIC = 1
    ALL = 2


class ProposalStatus(IntEnum):
    NONE = 0
    OPEN = 1
    EXECUTED = 2
    REJECTED = 3
    EXPIRED = 4
    SUPERSEDED = 5


class Ballot(IntEnum):
    NONE = 0
    APPROVE = 1
    REJECT = 2


class DenyReason(IntEnum):
    NONE = 0
    NOT_MEMBER = 1
    MEMBER_SUSPENDED = 2
    UNKNOWN_ACTION = 3
    ACTION_DISABLED = 4
    INTERNAL_ACTION = 5
    NO_PERMISSION = 6
    PERMISSION_NOT_YET_VALID = 7
    PERMISSION_EXPIRED = 8

    @property
    def text(self) -> str:
        return _DENY_TEXT[self]


_DENY_TEXT = {
    DenyReason.NONE: "allowed",
    DenyReason.NOT_MEMBER: "not a member of the consortium",
    DenyReason.MEMBER_SUSPENDED: "the member is suspended",
    DenyReason.UNKNOWN_ACTION: "no such action in the constitution",
    DenyReason.ACTION_DISABLED: "the action is disabled",
    DenyReason.INTERNAL_ACTION: "the action is internal (only modules may run it)",
    DenyReason.NO_PERMISSION: "no permission for this action",
    DenyReason.PERMISSION_NOT_YET_VALID: "the permission is not valid yet",
    DenyReason.PERMISSION_EXPIRED: "the permission has expired",
}


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A consortium member."""

    address: str
    name: str
    trust_key: bytes
    status: MemberStatus
    joined_at: int

    @classmethod
    def from_tuple(cls, raw: tuple[Any, ...]) -> Member:
        account, status, joined_at, trust_key, name = raw
        return cls(to_address(account), name, bytes(trust_key), MemberStatus(status), int(joined_at))

    @property
    def active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


@dataclass(frozen=True)
class Permission:
    """A member's right to execute an action, optionally within a window (0 = open)."""

    account: str
    can_execute: bool = True
    valid_from: int = 0
    valid_until: int = 0

    def to_tuple(self) -> tuple[str, bool, int, int]:
        return (to_address(self.account), self.can_execute, self.valid_from, self.valid_until)


@dataclass(frozen=True)
class ActionPolicy:
    """An action's definition: scope, implementation and voting schema."""

    name: str
    scope: Scope = Scope.PUBLIC
    module: str = "0x0000000000000000000000000000000000000000"
    selector: bytes = b"\0\0\0\0"
    enabled: bool = True
    voters: Voters = Voters.ANY
    margin: int = 0
    voting_period: int = 0
    voter_list: tuple[str, ...] = ()
    veto_list: tuple[str, ...] = ()
    #: For an Internal action: the modules allowed to call it (``executeInternal``).
    callers: tuple[str, ...] = ()
    #: First 28 bytes of the module's code hash pinned by the current definition (read from the
    #: chain by :meth:`ConstitutionAPI.policy`; not part of a definition one sends).
    code_hash: bytes = field(default=b"", compare=False)

    @property
    def id(self) -> bytes:
        return action_id(self.name)

    @property
    def builtin(self) -> bool:
        return int(self.module, 16) == 0

    @property
    def needs_vote(self) -> bool:
        return self.voters is not Voters.ANY

    def to_tuple(self) -> tuple[Any, ...]:
        return (
            self.name,
            int(self.scope),
            to_address(self.module),
            self.selector,
            self.enabled,
            int(self.voters),
            self.margin,
            self.voting_period,
            [to_address(a) for a in self.voter_list],
            [to_address(a) for a in self.veto_list],
            [to_address(a) for a in self.callers],
        )

    @classmethod
    def from_tuple(cls, raw: tuple[Any, ...]) -> ActionPolicy:
        name, scope, module, selector, enabled, voters, margin, period, voter_list, veto_list, callers = raw
        return cls(
            name=name,
            scope=Scope(scope),
            module=to_address(module),
            selector=bytes(selector),
            enabled=bool(enabled),
            voters=Voters(voters),
            margin=int(margin),
            voting_period=int(period),
            voter_list=tuple(to_address(a) for a in voter_list),
            veto_list=tuple(to_address(a) for a in veto_list),
            callers=tuple(to_address(a) for a in callers),
        )


@dataclass(frozen=True)
class Proposal:
    """An action waiting for (or decided by) a vote."""

    id: int
    action: bytes
    action_name: str
    ref: bytes
    proposer: str
    policy_id: int
    status: ProposalStatus
    opened_at: int
    deadline: int
    voter_count: int
    required: int
    approvals: int
    rejections: int
    params: bytes

    @classmethod
    def from_tuple(cls, proposal_id: int, raw: tuple[Any, ...], names: dict[bytes, str]) -> Proposal:
        action, ref, proposer, policy_id, status, opened, deadline, voters, required, yes, no, params = raw
        return cls(
            id=proposal_id,
            action=bytes(action),
            action_name=names.get(bytes(action), "0x" + bytes(action).hex()),
            ref=bytes(ref),
            proposer=to_address(proposer),
            policy_id=int(policy_id),
            status=ProposalStatus(status),
            opened_at=int(opened),
            deadline=int(deadline),
            voter_count=int(voters),
            required=int(required),
            approvals=int(yes),
            rejections=int(no),
            params=bytes(params),
        )


@dataclass(frozen=True)
class ActionResult:
    """The outcome of an action that was not denied."""

    action: str
    ref: bytes
    status: Literal["executed", "pending_vote"]
    receipt: Receipt
    proposal_id: int = 0
    events: tuple[Event, ...] = field(default=(), repr=False)

    @property
    def executed(self) -> bool:
        return self.status == "executed"


@dataclass(frozen=True)
class VoteResult:
    """A vote and the proposal's state after it."""

    proposal: Proposal
    approve: bool
    receipt: Receipt


@dataclass(frozen=True)
class CallOutcome:
    """One call of :meth:`ConstitutionAPI.execute_batch`."""

    action: str
    ref: bytes
    status: Literal["executed", "pending_vote", "denied", "reverted"]
    proposal_id: int = 0
    deny_reason: DenyReason = DenyReason.NONE
    error: TelcochainError | None = None


@dataclass(frozen=True)
class ActionCall:
    """One action for :meth:`ConstitutionAPI.execute_batch`."""

    name: str
    params: bytes | Sequence[Any] = b""
    ref: Ref = None


def _timestamp(value: int | datetime | None) -> int:
    if value is None:
        return 0
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


class ConstitutionAPI:
    """Members, actions, permissions, proposals and votes."""

    def __init__(self, contract: Contract, from_block: int = 0) -> None:
        self.contract = contract
        #: The Constitution's deployment block: where event scans (:meth:`delegates`) start.
        self.from_block = from_block
        #: When True, :meth:`execute_action` asks ``canExecute`` first and raises
        #: :class:`~telcochain.errors.PermissionDenied` without sending a denied call (by default
        #: a denied call is sent, and the Constitution records the denial on chain).
        self.refuse_denied_locally = False

    @property
    def address(self) -> str:
        return self.contract.address

    # -- members -----------------------------------------------------------------------------

    def member_count(self) -> int:
        return int(self.contract.call("memberCount"))

    def members(self) -> list[Member]:
        """Every member, in admission order (paged reads in one batch)."""
        total = self.member_count()
        pages = self.contract.call_many("members", [(o, PAGE_SIZE) for o in range(0, total, PAGE_SIZE)])
        return [Member.from_tuple(raw) for page in pages for raw in page]

    def member_names(self) -> dict[str, str]:
        """Member name by checksummed address (for showing addresses to people)."""
        return {m.address: m.name for m in self.members()}

    def member(self, address: str) -> Member | None:
        """The member at ``address``, or None if it is not a member."""
        record = Member.from_tuple(self.contract.call("getMember", to_address(address)))
        return None if record.status is MemberStatus.NONE else record

    def is_active_member(self, address: str) -> bool:
        return bool(self.contract.call("isActiveMember", to_address(address)))

    def add_member(self, address: str, trust_key: bytes, name: str, ref: Ref = None) -> ActionResult:
        """Propose (or, if the policy allows, perform) the admission of a member."""
        _check_key(trust_key)
        return self.execute_action("addMember", (to_address(address), trust_key, name), ref)

    def suspend_member(self, address: str, ref: Ref = None) -> ActionResult:
        """Propose suspending a member (it keeps its vote on unanimous votes of All only)."""
        return self.execute_action("suspendMember", (to_address(address),), ref)

    def reinstate_member(self, address: str, ref: Ref = None) -> ActionResult:
        """Propose reinstating a suspended member (reinstateMember): it becomes active again."""
        return self.execute_action("reinstateMember", (to_address(address),), ref)

    def rotate_trust_key(self, trust_key: bytes, ref: Ref = None) -> ActionResult:
        """Replace this account's trust key (the seed's refreshTrustKeys)."""
        _check_key(trust_key)
        return self.execute_action("refreshTrustKeys", (trust_key,), ref)

    # -- delegates ------------------------------------------------------------------------------

    def add_delegate(self, delegate: str, ref: Ref = None) -> Receipt:
        """Register ``delegate`` as a signing key of this client's member (no vote).

        From then on the delegate's ``executeAction`` / ``executeBatch`` run as the member's
        own (modules see the member as the caller) — for module actions that run at once;
        a delegate never votes, proposes, runs a built-in or manages delegates. Use delegates
        to spread a member's load over more senders (:class:`telcochain.throughput.Pipeline`).
        Raises ``ConstitutionInvalidDelegate`` (zero, the Constitution, a member),
        ``ConstitutionDelegateTaken``, ``ConstitutionTooManyDelegates`` (at most
        :meth:`max_delegates`), ``ConstitutionNotMember`` / ``ConstitutionMemberSuspended``.
        """
        return self.contract.transact("addDelegate", to_address(delegate), to_ref(ref))

    def remove_delegate(self, delegate: str, ref: Ref = None) -> Receipt:
        """Revoke one of this member's delegates (``ConstitutionNotDelegate`` if it is not one);
        a suspended member may revoke."""
        return self.contract.transact("removeDelegate", to_address(delegate), to_ref(ref))

    def delegate_of(self, account: str) -> str | None:
        """The member ``account`` is a delegate of, or None."""
        member = to_address(self.contract.call("delegateOf", to_address(account)))
        return None if int(member, 16) == 0 else member

    def principal(self, account: str) -> str | None:
        """The member a transaction from ``account`` acts as: the account itself when it is a
        member, its member when it is a delegate, otherwise None."""
        if self.member(account) is not None:
            return to_address(account)
        return self.delegate_of(account)

    def delegate_count(self, member: str) -> int:
        """How many delegates ``member`` holds now."""
        return int(self.contract.call("delegateCount", to_address(member)))

    def max_delegates(self) -> int:
        """The most delegates a member may hold at once."""
        return int(self.contract.call("MAX_DELEGATES"))

    def delegates(self, member: str) -> list[str]:
        """``member``'s current delegates, in the order they were added (from the
        ``DelegateAdded`` / ``DelegateRemoved`` events, each checked against ``delegateOf``)."""
        from telcochain.events import get_logs

        who = to_address(member)
        topic = "0x" + bytes(12).hex() + who[2:].lower()
        added, removed = self.contract.topic("DelegateAdded"), self.contract.topic("DelegateRemoved")
        logs = get_logs(self.contract.rpc, self.contract.address, [[added, removed], topic], self.from_block)
        current: dict[str, None] = {}
        for event in self.contract.events(logs):
            delegate = to_address(event["delegate"])
            if event.name == "DelegateAdded":
                current[delegate] = None
            else:
                current.pop(delegate, None)
        found = list(current)
        owners = self.contract.call_many("delegateOf", [(d,) for d in found]) if found else []
        return [d for d, owner in zip(found, owners, strict=True) if to_address(owner) == who]

    # -- actions and permissions -------------------------------------------------------------

    def actions(self) -> list[ActionPolicy]:
        """Every action defined in the constitution."""
        total = int(self.contract.call("actionCount"))
        pages = self.contract.call_many("actions", [(o, PAGE_SIZE) for o in range(0, total, PAGE_SIZE)])
        return [ActionPolicy.from_tuple(raw) for _, policies in pages for raw in policies]

    def policy(self, name: str) -> ActionPolicy:
        """The definition of ``name`` with its pinned code hash; :class:`ActionNotFound` if
        there is none."""
        policy = ActionPolicy.from_tuple(self.contract.call("action", action_id(name)))
        if not policy.name:
            raise ActionNotFound(name)
        return policy if policy.builtin else replace(policy, code_hash=self.code_hash(name))

    def code_hash(self, name: str) -> bytes:
        """The first 28 bytes of the code hash of ``name``'s module, pinned when the action was
        (re)defined; the Constitution refuses the module once its code no longer matches.
        Empty for a built-in."""
        pinned = bytes(self.contract.call("pinnedCodeHash", action_id(name)))
        return b"" if pinned == bytes(28) else pinned

    def permission(self, name: str, account: str) -> Permission:
        can, valid_from, valid_until = self.contract.call("permission", action_id(name), to_address(account))
        return Permission(to_address(account), bool(can), int(valid_from), int(valid_until))

    def permissions(self, name: str, accounts: Sequence[str]) -> list[Permission]:
        """Each account's permission on ``name``, read in one batch."""
        addresses = [to_address(a) for a in accounts]
        raws = self.contract.call_many("permission", [(action_id(name), a) for a in addresses])
        return [Permission(a, bool(c), int(f), int(u)) for a, (c, f, u) in zip(addresses, raws, strict=True)]

    def deny_reasons(self, name: str, accounts: Sequence[str]) -> list[DenyReason]:
        """:meth:`can_execute` for many accounts, in one batch."""
        raws = self.contract.call_many("canExecute", [(action_id(name), to_address(a)) for a in accounts])
        return [DenyReason(r) for r in raws]

    def can_execute(self, name: str, account: str) -> DenyReason:
        """Why ``account`` may not run ``name`` now (``DenyReason.NONE``: it may)."""
        return DenyReason(self.contract.call("canExecute", action_id(name), to_address(account)))

    def grant(
        self,
        name: str,
        account: str,
        *,
        valid_from: int | datetime | None = None,
        valid_until: int | datetime | None = None,
        ref: Ref = None,
    ) -> ActionResult:
        """Give ``account`` the right to run ``name`` (optionally within a window)."""
        entry = Permission(account, True, _timestamp(valid_from), _timestamp(valid_until))
        if entry.valid_from and entry.valid_until and entry.valid_from > entry.valid_until:
            raise ConfigurationError("valid_from is after valid_until")
        return self.execute_action("updatePermissions", (action_id(name), [entry.to_tuple()]), ref)

    def revoke(self, name: str, account: str, ref: Ref = None) -> ActionResult:
        """Take away ``account``'s right to run ``name``."""
        return self.execute_action("updatePermissions", (action_id(name), [Permission(account, False).to_tuple()]), ref)

    def amend(self, policy: ActionPolicy, permissions: Sequence[Permission] = (), ref: Ref = None) -> ActionResult:
        """Define or replace a whole action (amendConstitution): policy and permission list."""
        return self.execute_action("amendConstitution", (policy.to_tuple(), [p.to_tuple() for p in permissions]), ref)

    # -- the generic executeAction ---------------------------------------------------------

    def execute_action(self, name: str, params: bytes | Sequence[Any] = b"", ref: Ref = None) -> ActionResult:
        """The seed's executeAction: run (or put to a vote) the action ``name``.

        ``params`` are ABI-encoded bytes, or plain values for actions the SDK knows
        (:data:`telcochain.actions.ACTION_PARAMS`). Raises
        :class:`~telcochain.errors.PermissionDenied` when the constitution refuses.
        """
        ref_bytes = to_ref(ref)
        data = encode_params(name, params)
        sender = self.contract.sender.address if self.contract.sender is not None else None
        if self.refuse_denied_locally and sender:
            reason = self.can_execute(name, self.principal(sender) or sender)
            if reason is not DenyReason.NONE:
                raise PermissionDenied(name, sender, f"{reason.text} (nothing was sent)")
        with _outsider_denied(name, self.contract):
            receipt = self.contract.transact("executeAction", action_id(name), data, ref_bytes)
        return self._result(name, ref_bytes, receipt)

    propose = execute_action  # a voted action opens a proposal: same call, status "pending_vote"

    def execute_batch(self, calls: Sequence[ActionCall]) -> list[CallOutcome]:
        """Many actions in one transaction, each checked on its own.

        A denied call is recorded and the others go on; a call that reverts is undone alone
        (its error decoded in the outcome). Refs must be distinct (fresh ones are made).
        """
        prepared = [(c.name, to_ref(c.ref), encode_params(c.name, c.params)) for c in calls]
        refs = [ref for _, ref, _ in prepared]
        if len(set(refs)) != len(refs):
            raise ConfigurationError("every call of a batch needs its own ref")
        batch = [(action_id(n), d, r) for n, r, d in prepared]
        gas = None
        with _outsider_denied("executeBatch", self.contract):
            if self.contract.sender is not None and self.contract.sender.address:
                # eth_estimateGas under-estimates executeBatch (it catches inner out-of-gas failures)
                data = self.contract.encode("executeBatch", batch)
                gas = batch_gas(self.contract.rpc, self.contract.sender.address, self.contract.address, data)
            receipt = self.contract.transact("executeBatch", batch, gas=gas)
        events = self.contract.events(receipt)
        return [_outcome(events, name, ref, index, receipt.tx_hash) for index, (name, ref, _) in enumerate(prepared)]

    def _result(self, name: str, ref: bytes, receipt: Receipt) -> ActionResult:
        events = self.contract.events(receipt)
        outcome = _outcome(events, name, ref, None, receipt.tx_hash)
        if outcome.status == "denied":
            caller = next(e["caller"] for e in events if e.name == "ActionDenied" and e["ref"] == ref)
            raise PermissionDenied(name, caller, outcome.deny_reason.text, receipt.tx_hash)
        status: Literal["executed", "pending_vote"] = "pending_vote" if outcome.status == "pending_vote" else "executed"
        return ActionResult(name, ref, status, receipt, outcome.proposal_id, tuple(events))

    # -- proposals and votes -----------------------------------------------------------------

    def _action_names(self) -> dict[bytes, str]:
        names = {action_id(n): n for n in BUILTIN_ACTIONS}
        names.update({p.id: p.name for p in self.actions()})
        return names

    def proposal_count(self) -> int:
        return int(self.contract.call("proposalCount"))

    def proposal(self, proposal_id: int) -> Proposal:
        """One proposal with its tally; :class:`ProposalNotFound` if there is no such id."""
        raw = self.contract.call("proposal", proposal_id)
        if ProposalStatus(raw[4]) is ProposalStatus.NONE:
            raise ProposalNotFound(proposal_id)
        action = bytes(raw[0])
        name = ActionPolicy.from_tuple(self.contract.call("action", action)).name
        return Proposal.from_tuple(proposal_id, raw, {action: name} if name else {})

    def proposals(self, status: ProposalStatus | None = None) -> list[Proposal]:
        """Every proposal (newest first), optionally only those with ``status``; one batched read."""
        ids = list(range(self.proposal_count(), 0, -1))
        names = self._action_names()
        raws = self.contract.call_many("proposal", [(i,) for i in ids])
        found = [Proposal.from_tuple(i, raw, names) for i, raw in zip(ids, raws, strict=True)]
        return [p for p in found if status is None or p.status is status]

    def has_voted(self, proposal_id: int, voter: str) -> bool:
        return bool(self.contract.call("hasVoted", proposal_id, to_address(voter)))

    def voted(self, proposal_id: int, voters: Sequence[str]) -> list[bool]:
        """:meth:`has_voted` for many accounts, in one batch."""
        return [bool(v) for v in self.contract.call_many("hasVoted", [(proposal_id, to_address(a)) for a in voters])]

    def vote(self, proposal_id: int, approve: bool, ref: Ref = None) -> VoteResult:
        """Vote on a proposal; the deciding vote executes (or rejects) it in the same transaction."""
        self.proposal(proposal_id)  # a clear ProposalNotFound before sending
        ref_bytes = to_ref(ref)
        with _outsider_denied("voteFor", self.contract):
            receipt = self.contract.transact("voteFor", proposal_id, approve, ref_bytes)
        for event in self.contract.events(receipt, "ActionDenied"):
            if event["ref"] == ref_bytes:
                raise PermissionDenied("voteFor", event["caller"], DenyReason(event["reason"]).text, receipt.tx_hash)
        return VoteResult(self.proposal(proposal_id), approve, receipt)


def _constitution_api(session: Session) -> ConstitutionAPI:
    return ConstitutionAPI(session.contract("Constitution"), session.deployment.start_block)


def constitution_of(session: Session) -> ConstitutionAPI:
    """The session's :class:`ConstitutionAPI` (one per session: ``client.constitution``); the
    other domain APIs send their actions through it."""
    return session.api(_constitution_api)


def _outcome(events: Sequence[Event], name: str, ref: bytes, index: int | None, tx_hash: str) -> CallOutcome:
    """What became of the action ``name`` sent with ``ref`` (the ``index``-th call of a batch),
    read from the Constitution's events: denied, reverted (batches only), put to a vote, or executed."""
    target = action_id(name)
    mine = [e for e in events if e.args.get("ref") == ref and e.args.get("action") == target]
    denied = next((e for e in mine if e.name == "ActionDenied"), None)
    if denied is not None:
        return CallOutcome(name, ref, "denied", deny_reason=DenyReason(denied["reason"]))
    if index is not None:
        reverted = next((e for e in events if e.name == "ActionReverted" and e["index"] == index), None)
        if reverted is not None:
            return CallOutcome(name, ref, "reverted", error=decode_revert(reverted["revertData"], tx_hash))
    opened = next((e for e in mine if e.name == "ProposalOpened"), None)
    if opened is not None:
        pid = int(opened["proposalId"])
        done = any(e.name == "ActionExecuted" and e["proposalId"] == pid for e in mine)
        return CallOutcome(name, ref, "executed" if done else "pending_vote", proposal_id=pid)
    return CallOutcome(name, ref, "executed")


@contextmanager
def _outsider_denied(action: str, contract: Contract) -> Iterator[None]:
    """A non-member's call is reverted by the Constitution (``ConstitutionNotMember`` for the
    sender): raise it as the :class:`PermissionDenied` every other refusal is (nothing sent)."""
    try:
        yield
    except ContractRevert as err:
        sender = contract.sender.address if contract.sender is not None else None
        if err.error_name == "ConstitutionNotMember" and err.error_args.get("account") == sender:
            raise PermissionDenied(action, str(sender), DenyReason.NOT_MEMBER.text, None) from err
        raise


def _check_key(trust_key: bytes) -> None:
    if not isinstance(trust_key, bytes) or len(trust_key) != 32:
        raise ConfigurationError("a trust key is a 32-byte public key")


__all__ = [
    "ActionCall",
    "ActionPolicy",
    "ActionResult",
    "Ballot",
    "CallOutcome",
    "ConstitutionAPI",
    "DenyReason",
    "Member",
    "MemberStatus",
    "Permission",
    "Proposal",
    "ProposalStatus",
    "Scope",
    "VoteResult",
    "Voters",
]
