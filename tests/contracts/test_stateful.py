"""Stateful property test: random sequences of grants, revocations, direct actions, proposals
(module actions, a unanimous module action, member additions, suspensions and
reinstatements), votes and time jumps, run against the Constitution and against a small Python
model of the rules; after every step chain and model must agree on members, permissions
outcomes, proposals, tallies and module effects.

Rules of wave 2 in the model: a non-member is reverted (``ConstitutionNotMember``), not denied;
a built-in proposal is checked when it opens (it reverts then, not at its last vote); a
unanimous vote of All counts every member admitted before it opened, and a suspended member
keeps its vote on it.

The Constitution is deployed once per test; every Hypothesis example runs from a chain
snapshot of that deployment and reverts to it at teardown.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field

from ape.exceptions import ContractLogicError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from telcochain.constitution import DenyReason, MemberStatus, ProposalStatus, Voters

from tests.support.encoding import (
    ADD_MEMBER,
    REINSTATE_MEMBER,
    SUSPEND_MEMBER,
    UPDATE_PERMISSIONS,
    VOTE_FOR,
    action_id,
    add_member_params,
    grant,
    policy,
    ref,
    revoke,
    selector,
    suspend_params,
    trust_key,
    uint_params,
    update_params,
    vote_params,
)
from tests.support.events import decode_revert

REC = action_id("record")  # Any
REC_TRIO = action_id("recordTrio")  # Specific A, B, C; margin 2; veto C
REC_ALL = action_id("recordAll")  # All; majority
REC_UNANIMOUS = action_id("recordUnanimous")  # All; margin all (suspended members keep their voice)
PERIOD = 100
GRANTABLE = [REC, REC_TRIO, REC_ALL, REC_UNANIMOUS, SUSPEND_MEMBER, REINSTATE_MEMBER, ADD_MEMBER, VOTE_FOR]
PROPOSABLE = [REC_TRIO, REC_ALL, REC_UNANIMOUS]


class Revert(Exception):
    """The model predicts that the transaction reverts with this custom error."""


@dataclass
class Proposal:
    action: bytes
    proposer: str
    effect: tuple
    voter_list: list | None  # None: All
    veto: set
    voter_count: int
    required: int
    deadline: int
    snapshot: int
    unanimous: bool = False
    approvals: int = 0
    rejections: int = 0
    status: ProposalStatus = ProposalStatus.OPEN
    ballots: dict = field(default_factory=dict)


@dataclass
class Model:
    founders: list
    now: int
    members: dict = field(default_factory=dict)  # address -> [status, seq]
    perms: dict = field(default_factory=dict)  # (action, address) -> (from, until)
    proposals: list = field(default_factory=list)
    calls: int = 0
    total: int = 0

    # -- rules of the Constitution ------------------------------------------------------------

    def active_count(self) -> int:
        return sum(1 for status, _ in self.members.values() if status == MemberStatus.ACTIVE)

    def deny(self, action: bytes, who: str, pid: int = 0) -> DenyReason:
        """The denial of ``action`` (for voteFor: on proposal ``pid``)."""
        if who not in self.members:
            return DenyReason.NOT_MEMBER
        if self.members[who][0] == MemberStatus.SUSPENDED:
            unanimous = action == VOTE_FOR and 1 <= pid <= len(self.proposals) and self.proposals[pid - 1].unanimous
            if not unanimous:
                return DenyReason.MEMBER_SUSPENDED
        if (action, who) not in self.perms:
            return DenyReason.NO_PERMISSION
        valid_from, valid_until = self.perms[(action, who)]
        if valid_from and self.now < valid_from:
            return DenyReason.PERMISSION_NOT_YET_VALID
        if valid_until and self.now > valid_until:
            return DenyReason.PERMISSION_EXPIRED
        return DenyReason.NONE

    def status(self, p: Proposal) -> ProposalStatus:
        if p.status == ProposalStatus.OPEN and self.now > p.deadline:
            return ProposalStatus.EXPIRED
        return p.status

    def eligible(self, p: Proposal, who: str) -> bool:
        if p.voter_list is not None:
            return who in p.voter_list
        member = self.members.get(who)
        if member is None or member[1] > p.snapshot:
            return False
        return p.unanimous or member[0] == MemberStatus.ACTIVE

    def check(self, effect: tuple) -> None:
        """Raises the revert that applying ``effect`` now would raise (also run at opening)."""
        kind, target = effect[0], effect[1]
        if kind in ("suspend", "reinstate"):
            if target not in self.members:
                raise Revert("ConstitutionNotMember")
            suspended = self.members[target][0] == MemberStatus.SUSPENDED
            if kind == "suspend" and suspended:
                raise Revert("ConstitutionMemberSuspended")
            if kind == "reinstate" and not suspended:
                raise Revert("ConstitutionMemberNotSuspended")
        elif kind == "add" and target in self.members:
            raise Revert("ConstitutionMemberExists")

    def apply(self, effect: tuple) -> None:
        self.check(effect)
        kind = effect[0]
        if kind == "record":
            self.calls += 1
            self.total += effect[1]
        elif kind == "suspend":
            self.members[effect[1]][0] = MemberStatus.SUSPENDED
        elif kind == "reinstate":
            self.members[effect[1]][0] = MemberStatus.ACTIVE
        elif kind == "add":
            account = effect[1]
            self.members[account] = [MemberStatus.ACTIVE, len(self.members) + 1]
            self.perms[(VOTE_FOR, account)] = (0, 0)
            self.perms[(action_id("refreshTrustKeys"), account)] = (0, 0)

    def open(self, action: bytes, proposer: str, effect: tuple) -> int:
        self.check(effect)  # a proposal that could not execute now is never opened
        unanimous = action == REC_UNANIMOUS
        if action == REC_TRIO:
            voter_list, veto, margin = self.founders[:3], {self.founders[2]}, 2
        else:
            voter_list, veto, margin = None, set(), 0
        if unanimous:
            count = required = len(self.members)
        else:
            count = len(voter_list) if voter_list is not None else self.active_count()
            required = count // 2 + 1 if margin == 0 else min(margin, count)
        p = Proposal(
            action, proposer, effect, voter_list, veto, count, required, self.now + PERIOD, len(self.members), unanimous
        )
        self.proposals.append(p)
        if self.eligible(p, proposer) and self.deny(VOTE_FOR, proposer) == DenyReason.NONE:
            self.cast(p, proposer, True)
        return len(self.proposals)

    def cast(self, p: Proposal, who: str, approve: bool) -> None:
        p.ballots[who] = approve
        veto = False
        if approve:
            p.approvals += 1
        else:
            p.rejections += 1
            veto = who in p.veto
        if not veto and p.approvals >= p.required:
            p.status = ProposalStatus.EXECUTED
            self.apply(p.effect)
        elif veto or p.voter_count - p.rejections < p.required:
            p.status = ProposalStatus.REJECTED

    def vote(self, who: str, pid: int, approve: bool) -> None:
        if pid < 1 or pid > len(self.proposals):
            raise Revert("ConstitutionUnknownProposal")
        p = self.proposals[pid - 1]
        status = self.status(p)
        if status == ProposalStatus.EXPIRED:
            raise Revert("ConstitutionProposalExpired")
        if status != ProposalStatus.OPEN:
            raise Revert("ConstitutionProposalNotOpen")
        if not self.eligible(p, who):
            raise Revert("ConstitutionNotVoter")
        if who in p.ballots:
            raise Revert("ConstitutionAlreadyVoted")
        self.cast(p, who, approve)


def _abi(contract) -> list[dict]:
    return [item.model_dump(mode="json", by_alias=True) for item in contract.contract_type.abi]


def test_constitution_agrees_with_its_model(project, chain, accounts, deployer):
    people = [accounts[i].address for i in (1, 2, 3, 4, 5, 9)]  # A B C founders, D E, stranger
    by_address = {a.address: a for a in accounts[:10]}
    a, b, c_ = people[:3]

    founders = [(addr, trust_key(i), f"Founder {i}") for i, addr in enumerate(people[:3])]
    con = project.Constitution.deploy(founders, sender=deployer)
    mock = project.MockModule.deploy(con.address, sender=deployer)
    rec_sel = selector("record(address,bytes32,bytes)")
    con.genesisDefineAction(policy("record", module=mock, selector_=rec_sel), [grant(a)], sender=deployer)
    con.genesisDefineAction(
        policy(
            "recordTrio",
            module=mock,
            selector_=rec_sel,
            voters=Voters.SPECIFIC,
            margin=2,
            period=PERIOD,
            voter_list=[a, b, c_],
            veto_list=[c_],
        ),
        [grant(x) for x in (a, b, c_)],
        sender=deployer,
    )
    con.genesisDefineAction(
        policy("recordAll", module=mock, selector_=rec_sel, voters=Voters.ALL, period=PERIOD),
        [grant(x) for x in (a, b, c_)],
        sender=deployer,
    )
    con.genesisDefineAction(
        policy("recordUnanimous", module=mock, selector_=rec_sel, voters=Voters.ALL, margin=255, period=PERIOD),
        [grant(x) for x in (a, b, c_)],
        sender=deployer,
    )
    for name in ("suspendMember", "reinstateMember", "addMember"):
        con.genesisDefineAction(
            policy(name, voters=Voters.ALL, period=PERIOD), [grant(x) for x in (a, b, c_)], sender=deployer
        )
    con.genesisDefineAction(policy("updatePermissions"), [grant(a), grant(b)], sender=deployer)
    con.sealGenesis(sender=deployer)

    initial_perms = {
        (act, x): (0, 0)
        for act in (REC_TRIO, REC_ALL, REC_UNANIMOUS, SUSPEND_MEMBER, REINSTATE_MEMBER, ADD_MEMBER, VOTE_FOR)
        for x in (a, b, c_)
    }
    initial_perms[(REC, a)] = (0, 0)
    for x in (a, b):
        initial_perms[(UPDATE_PERMISSIONS, x)] = (0, 0)
    for x in (a, b, c_):
        initial_perms[(action_id("refreshTrustKeys"), x)] = (0, 0)

    # founders are drawn more often than candidates and the stranger, so that more calls pass
    person = st.sampled_from(people[:3] * 3 + people[3:])
    seen: Counter = Counter()  # what the examples exercised (printed with -s)

    def event(label: str) -> None:
        seen[label] += 1

    w3 = chain.provider.web3
    lens = w3.eth.contract(address=con.address, abi=_abi(con))
    mock_lens = w3.eth.contract(address=mock.address, abi=_abi(mock))

    class ConstitutionMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.model = Model(founders=[a, b, c_], now=chain.blocks.head.timestamp)
            self.model.members = {x: [MemberStatus.ACTIVE, i + 1] for i, x in enumerate((a, b, c_))}
            self.model.perms = dict(initial_perms)
            self.steps = 0

        def teardown(self):
            chain.restore(self.snapshot)

        # -- plumbing -----------------------------------------------------------------------

        def send(self, sender: str, action: bytes, params: bytes, predict, pid: int = 0):
            """Sends executeAction; ``predict`` mutates the model (or raises Revert)."""
            self.model.now += 1
            chain.pending_timestamp = self.model.now
            before = copy.deepcopy(self.model)
            expected_deny = self.model.deny(action, sender, pid)
            expected_error = None
            if expected_deny == DenyReason.NOT_MEMBER:  # outsiders are reverted, not denied
                expected_deny, expected_error = DenyReason.NONE, "ConstitutionNotMember"
            elif expected_deny == DenyReason.NONE:
                try:
                    predict()
                except Revert as revert:
                    expected_error = str(revert)
                    now = self.model.now
                    self.model = before
                    self.model.now = now
            tag = ref(f"step{self.steps}")
            self.steps += 1
            try:
                receipt = con.executeAction(action, params, tag, sender=by_address[sender])
            except ContractLogicError as err:
                name, _ = decode_revert(err)
                assert expected_error == name, f"chain reverted {name}, model {expected_error}"
                event(f"reverted {name}")
                return None
            assert expected_error is None, f"model expected {expected_error}, chain succeeded"
            names = [e.event_name for e in receipt.events]
            event("denied" if expected_deny else "ok")
            for interesting in (
                "ProposalExecuted",
                "ProposalRejected",
                "MemberSuspended",
                "MemberReinstated",
                "MemberAdded",
            ):
                if interesting in names:
                    event(interesting)
            denied = [e for e in receipt.events if e.event_name == "ActionDenied"]
            if expected_deny != DenyReason.NONE:
                assert [e.reason for e in denied] == [expected_deny]
                assert len(receipt.events) == 1
            else:
                assert denied == []
            return receipt

        # -- rules --------------------------------------------------------------------------

        @rule(
            granter=person,
            action=st.sampled_from(GRANTABLE),
            account=person,
            window=st.sampled_from(["open", "future", "past", "now"]),
            give=st.booleans(),
        )
        def set_permission(self, granter, action, account, window, give):
            now = self.model.now + 1
            bounds = {
                "open": (0, 0),
                "future": (now + 30, now + 500),
                "past": (1, now - 1),
                "now": (now - 5, now + 60),
            }[window]
            entry = grant(account, *bounds) if give else revoke(account)

            def predict():
                if give:
                    self.model.perms[(action, account)] = bounds
                else:
                    self.model.perms.pop((action, account), None)

            self.send(granter, UPDATE_PERMISSIONS, update_params(action, [entry]), predict)

        @rule(caller=person, value=st.integers(1, 1000))
        def record_directly(self, caller, value):
            self.send(caller, REC, uint_params(value), lambda: self.model.apply(("record", value)))

        @rule(proposer=person, action=st.sampled_from(PROPOSABLE), value=st.integers(1, 1000))
        def propose_record(self, proposer, action, value):
            receipt = self.send(
                proposer, action, uint_params(value), lambda: self.model.open(action, proposer, ("record", value))
            )
            self._check_opened(receipt)

        @rule(proposer=person, suspect=person)
        def propose_suspension(self, proposer, suspect):
            receipt = self.send(
                proposer,
                SUSPEND_MEMBER,
                suspend_params(suspect),
                lambda: self.model.open(SUSPEND_MEMBER, proposer, ("suspend", suspect)),
            )
            self._check_opened(receipt)

        @rule(proposer=person, member=person)
        def propose_reinstatement(self, proposer, member):
            receipt = self.send(
                proposer,
                REINSTATE_MEMBER,
                suspend_params(member),
                lambda: self.model.open(REINSTATE_MEMBER, proposer, ("reinstate", member)),
            )
            self._check_opened(receipt)

        @rule(proposer=person, candidate=st.sampled_from(people[3:5]))
        def propose_admission(self, proposer, candidate):
            params = add_member_params(candidate, trust_key(7), f"Candidate {people.index(candidate)}")
            receipt = self.send(
                proposer, ADD_MEMBER, params, lambda: self.model.open(ADD_MEMBER, proposer, ("add", candidate))
            )
            self._check_opened(receipt)

        @precondition(lambda self: self.model.proposals)
        @rule(voter=person, pick=st.integers(0, 1000), approve=st.booleans())
        def vote(self, voter, pick, approve):
            pid = 1 + pick % len(self.model.proposals)
            self.send(voter, VOTE_FOR, vote_params(pid, approve), lambda: self.model.vote(voter, pid, approve), pid)

        @precondition(lambda self: self.open_ids())
        @rule(voter=person, pick=st.integers(0, 1000), approve=st.booleans())
        def vote_on_an_open_proposal(self, voter, pick, approve):
            open_ids = self.open_ids()
            pid = open_ids[pick % len(open_ids)]
            self.send(voter, VOTE_FOR, vote_params(pid, approve), lambda: self.model.vote(voter, pid, approve), pid)

        def open_ids(self) -> list[int]:
            return [
                i for i, p in enumerate(self.model.proposals, start=1) if self.model.status(p) == ProposalStatus.OPEN
            ]

        @rule(seconds=st.sampled_from([1, 20, 60, 99, 100, 101, 150]))
        def time_passes(self, seconds):
            self.model.now += seconds
            chain.mine(timestamp=self.model.now)

        def _check_opened(self, receipt):
            if receipt is None:
                return
            opened = [e for e in receipt.events if e.event_name == "ProposalOpened"]
            if opened:
                assert opened[0].proposalId == len(self.model.proposals)

        # -- invariants (one JSON-RPC batch per step keeps the test fast) -------------------

        @invariant()
        def chain_agrees_with_model(self):
            model = self.model
            pids = range(1, len(model.proposals) + 1)
            with w3.batch_requests() as batch:
                batch.add(lens.functions.members(0, 10))
                batch.add(lens.functions.activeMemberCount())
                batch.add(lens.functions.proposalCount())
                batch.add(mock_lens.functions.calls())
                batch.add(mock_lens.functions.total())
                for pid in pids:
                    batch.add(lens.functions.proposal(pid))
                for x in people:
                    for act in (REC, REC_TRIO, VOTE_FOR):
                        batch.add(lens.functions.canExecute(act, x))
                results = iter(batch.execute())
            members, active, count, calls, total = (next(results) for _ in range(5))

            assert w3.eth.get_block("latest")["timestamp"] == model.now
            statuses = {m[0]: m[1] for m in members}
            for x in people:
                assert statuses.get(x, MemberStatus.NONE) == model.members.get(x, [0])[0], x
            assert active == model.active_count()
            assert (calls, total) == (model.calls, model.total)
            assert count == len(model.proposals)
            for pid, p in zip(pids, model.proposals, strict=True):
                view = next(results)
                # ProposalView: status 4, voterCount 7, required 8, approvals 9, rejections 10
                assert (view[4], view[9], view[10]) == (model.status(p), p.approvals, p.rejections), pid
                assert (view[7], view[8]) == (p.voter_count, p.required), pid
            for x in people:
                for act in (REC, REC_TRIO, VOTE_FOR):
                    assert next(results) == model.deny(act, x), (act, x)

    ConstitutionMachine.TestCase.settings = settings(
        max_examples=12,
        stateful_step_count=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    ConstitutionMachine.TestCase().runTest()
    print("\nstateful outcomes:", dict(sorted(seen.items())))
    # a degenerate run (say, everything denied) would prove little
    assert seen["ok"] and seen["denied"], seen
