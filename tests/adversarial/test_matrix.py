"""Every entry point, from every role, on objects that belong to others: nothing is written.

- executeAction of every public action aimed at another party's twin, line, invoice, disclosure
  or at governance (attacks.py), from every role that is not one of that object's parties;
- every Internal action through executeAction, from every role;
- every module entry point called directly (not through the Constitution), from every role,
  impersonating the object's rightful party in the `caller` argument;
- the Constitution's privileged entry points and the token's owner functions, from every role;
- executeBatch loops of all of a role's attacks, each repeated;
- the admitted rogue module asking for every Internal action of the other modules.
"""

from __future__ import annotations

import pytest
from eth_utils import function_signature_to_4byte_selector

from tests.support.chain import revert

from .asserts import assert_denial_on_record, assert_nothing_written, is_active_member, may_execute
from .attacks import ATTACKS, INERT, INTERNAL, ROLES
from .client import action_id, enc, ref
from .world import INV_REFUNDED, RETAIL, ZERO, World, disclosure_id, oid

MATRIX = [(a, r) for a in ATTACKS for r in ROLES if r not in a.owners]
#: An action definition a genesis call would make (refused: genesis is sealed).
_ROGUE_POLICY = ("billAccount", 0, "0x" + "00" * 20, b"\x00" * 4, True, 0, 0, 0, [], [], [])
MODULES = (
    "AssetRegistry",
    "OrderBook",
    "DetailsVault",
    "OperatorAgreement",
    "EscrowPayment",
    "SettlementToken",
    "VendorSettlement",
    "CustomerRegistry",
)
#: The modules' state-changing functions that are not Constitution actions, each attacked by a
#: test of its own below (a new one fails test_every_module_entry_point_is_covered).
OTHER_ENTRY_POINTS = {
    ("EscrowPayment", "reclaim"): "test_direct_reclaim_by_anyone_but_the_payer_writes_nothing",
    ("EscrowPayment", "pay"): "test_direct_pay_moves_only_the_senders_own_tokens",
    ("EscrowPayment", "openDispute"): "test_direct_dispute_by_anyone_but_the_payer_writes_nothing",
    ("EscrowPayment", "requestPayout"): "test_direct_payout_of_another_partys_credit_writes_nothing",
    ("SettlementToken", "transfer"): "ERC-20: moves only the sender's own tokens",
    ("SettlementToken", "transferFrom"): "ERC-20: needs the owner's allowance",
    ("SettlementToken", "approve"): "ERC-20: the sender's own allowance",
}


@pytest.mark.parametrize(("attack", "role"), MATRIX, ids=[f"{a}-by-{r}" for a, r in MATRIX])
def test_public_action_on_another_partys_object_writes_nothing(world: World, attack, role: str) -> None:
    params = attack.params(world, role)
    granted = may_execute(world, attack.action, role)
    sent = world.c.execute(world.accounts[role], attack.action, params, attack.ref_label)
    what = f"{role} → {attack.action} ({attack.name})"
    assert_nothing_written(world, sent, what)
    if not granted and is_active_member(world, role):
        assert_denial_on_record(sent, attack.action, world.addr(role), what)


LIVE = [a for a in ATTACKS if a.live_as]


@pytest.mark.parametrize("attack", LIVE, ids=[a.name for a in LIVE])
def test_the_rightful_partys_own_call_takes_effect(world: World, attack) -> None:
    """The control of the matrix: the same params, sent by the object's rightful party, are not
    refused — so the attacks above fail because of who sends them."""
    sent = world.c.execute(
        world.accounts[attack.live_as], attack.action, attack.params(world, attack.live_as), attack.ref_label
    )
    refused = [lg.event for lg in sent.logs if lg.event in ("ActionDenied", "ActionReverted")]
    assert sent.ok and not refused, f"{attack.live_as} → {attack.action} ({attack.name}) was refused: {refused}"
    assert sent.storage_writes() or len(sent.logs) > 1, f"{attack.name}: the rightful call had no effect"


def test_every_attack_with_rightful_parties_is_live_or_explained() -> None:
    registry_verbs = {
        "scheduleInstallation",
        "cancelInstallation",
        "deliver",
        "commission",
        "requestChange",
        "completeChange",
        "completeDeletion",
        "requestDisconnect",
        "withdrawDisconnect",
        "completeDisconnect",
        "recover",
        "decommission",
        "bulkTransition",
    }
    unexplained = [
        a.name for a in ATTACKS if a.owners and not a.live_as and a.name not in INERT and a.action not in registry_verbs
    ]
    assert unexplained == []


INTERNAL_MATRIX = [(name, r) for name in INTERNAL for r in ROLES]


@pytest.mark.parametrize(("action", "role"), INTERNAL_MATRIX, ids=[f"{a}-by-{r}" for a, r in INTERNAL_MATRIX])
def test_internal_action_sent_by_a_member_or_outsider_writes_nothing(world: World, action: str, role: str) -> None:
    sent = world.c.execute(world.accounts[role], action, INTERNAL[action](world), f"internal-{action}")
    what = f"{role} → Internal {action}"
    assert_nothing_written(world, sent, what)
    if is_active_member(world, role):
        assert_denial_on_record(sent, action, world.addr(role), what)


def _entry_points() -> list[tuple[str, str]]:
    from .client import Abis

    abis = Abis()
    out = []
    for contract in MODULES:
        for item in abis.by_name[contract]:
            types = [i["type"] for i in item.get("inputs", [])]
            if (
                item["type"] == "function"
                and item["stateMutability"] == "nonpayable"
                and types == ["address", "bytes32", "bytes"]
            ):
                out.append((contract, item["name"]))
    return out


ENTRY_POINTS = _entry_points()
DIRECT = [(c, f, r) for c, f in ENTRY_POINTS for r in ROLES]
PARAMS_BY_ACTION = {a.action: a for a in reversed(ATTACKS)}


def _victim_params(world: World, function: str) -> tuple[str, bytes]:
    """The rightful party to impersonate and harmful params for a module entry point."""
    if function in INTERNAL:
        return world.addr("northwind"), INTERNAL[function](world)
    attack = PARAMS_BY_ACTION.get(function)
    if attack is None:
        return world.addr("northwind"), b""
    owner = sorted(attack.owners)[0] if attack.owners else "northwind"
    return world.addr(owner), attack.params(world, owner)


def test_every_module_entry_point_is_covered() -> None:
    from .client import Abis

    assert len(ENTRY_POINTS) >= 55
    names = {f for _, f in ENTRY_POINTS}
    for new in (
        "setParties",
        "assignParties",
        "cancelChange",
        "payOutCredit",
        "mintSettlement",
        # issue 14 part B
        "payInvoice",
        "disputeInvoice",
        "resolveDispute",
        "decideDispute",
        "requestCreditPayout",
        "settleCredit",
        "accrueRecurring",
        "invoiceLine",
        "creditReturns",
        "addCustomer",
        "setSigner",
        "acceptTerms",
        "useConsent",
        "actFor",
        "createOrderFor",
    ):
        assert new in names, f"{new} is not a module entry point any more: update the attacks"
    missing = [f for _, f in ENTRY_POINTS if f not in INTERNAL and f not in PARAMS_BY_ACTION]
    assert missing == [], f"entry points without attack params: {missing}"
    abis = Abis()
    others = {
        (c, item["name"])
        for c in MODULES
        for item in abis.by_name[c]
        if item["type"] == "function"
        and item["stateMutability"] in ("nonpayable", "payable")
        and [i["type"] for i in item.get("inputs", [])] != ["address", "bytes32", "bytes"]
    }
    unattacked = others - set(OTHER_ENTRY_POINTS)
    assert others == set(OTHER_ENTRY_POINTS), f"state-changing functions not attacked: {unattacked}"


@pytest.mark.parametrize(("contract", "function", "role"), DIRECT, ids=[f"{c}.{f}-by-{r}" for c, f, r in DIRECT])
def test_module_entry_point_called_directly_writes_nothing(
    world: World, contract: str, function: str, role: str
) -> None:
    victim, params = _victim_params(world, function)
    sent = world.c[contract].send(world.accounts[role], function, victim, ref("direct"), params)
    assert_nothing_written(world, sent, f"{role} → {contract}.{function} directly")


@pytest.mark.parametrize("role", ROLES)
def test_constitution_privileged_entry_points_write_nothing(world: World, role: str) -> None:
    const = world.c["Constitution"]
    account = world.accounts[role]
    victim = world.addr("hooli") if role != "hooli" else world.addr("initech")
    attempts = [
        const.send(account, "executeInternal", action_id("transition"), ref("x"), INTERNAL["transition"](world)),
        const.send(
            account, "executeInternal", action_id("issueCreditNote"), ref("x"), INTERNAL["issueCreditNote"](world)
        ),
        const.send(
            account, "executeActionAs", victim, action_id("releaseInvoice"), enc(["uint256"], world["INV_H2"]), ref("x")
        ),
        const.send(account, "sealGenesis"),
        const.send(account, "genesisSetPermissions", action_id("billAccount"), [(account.address, True, 0, 0)]),
        const.send(
            account, "simulateAction", victim, action_id("releaseInvoice"), enc(["uint256"], world["INV_H2"]), ref("x")
        ),
        const.send(account, "genesisDefineAction", _ROGUE_POLICY, [(account.address, True, 0, 0)]),
    ]
    for name, sent in zip(
        (
            "executeInternal/transition",
            "executeInternal/issueCreditNote",
            "executeActionAs",
            "sealGenesis",
            "genesisSetPermissions",
            "simulateAction",
            "genesisDefineAction",
        ),
        attempts,
        strict=True,
    ):
        assert_nothing_written(world, sent, f"{role} → Constitution.{name}")


#: Every state-changing function of the Constitution, with the test that attacks it from every
#: role (a new one fails test_every_constitution_entry_point_is_covered).
CONSTITUTION_ENTRY_POINTS = {
    "executeAction": "test_public_action_on_another_partys_object_writes_nothing (and the Internal matrix)",
    "executeBatch": "test_batch_loop_of_every_attack_writes_nothing",
    "voteFor": "the voteFor rows of ATTACKS; test_delegates.test_a_delegate_votes_on_nothing",
    "executeInternal": "test_constitution_privileged_entry_points_write_nothing; the rogue module",
    "executeActionAs": "test_constitution_privileged_entry_points_write_nothing",
    "simulateAction": "test_constitution_privileged_entry_points_write_nothing",
    "genesisDefineAction": "test_constitution_privileged_entry_points_write_nothing",
    "genesisSetPermissions": "test_constitution_privileged_entry_points_write_nothing",
    "sealGenesis": "test_constitution_privileged_entry_points_write_nothing",
    "addDelegate": "test_delegates.test_only_the_member_manages_its_delegates",
    "removeDelegate": "test_delegates.test_only_the_member_manages_its_delegates",
}


def test_every_constitution_entry_point_is_covered() -> None:
    from .client import Abis

    functions = {
        item["name"]
        for item in Abis().by_name["Constitution"]
        if item["type"] == "function" and item["stateMutability"] in ("nonpayable", "payable")
    }
    assert functions == set(CONSTITUTION_ENTRY_POINTS), functions ^ set(CONSTITUTION_ENTRY_POINTS)


def _raw(world: World, role: str, to: str, signature: str, types: list[str], *args: object):  # type: ignore[no-untyped-def]
    """A call by selector, whether or not any shipped ABI still has the function."""
    data = function_signature_to_4byte_selector(signature) + enc(types, *args)
    return world.c.send(world.accounts[role], to, data)


def test_the_token_has_no_owner_and_no_mint_outside_the_vote() -> None:
    from .client import Abis

    functions = {i["name"] for i in Abis().by_name["SettlementToken"] if i["type"] == "function"}
    assert not functions & {"mint", "owner", "transferOwnership", "renounceOwnership"}, functions


@pytest.mark.parametrize("role", ROLES)
def test_token_owner_functions_write_nothing(world: World, role: str) -> None:
    """The former owner functions, by selector, from every role (the deployer, Northwind, too)."""
    token = world.c["SettlementToken"].address
    supply = int(world.c["SettlementToken"].view("totalSupply"))
    who = world.accounts[role].address
    for signature, types, args in (
        ("mint(address,uint256)", ["address", "uint256"], (who, 10**15)),
        ("transferOwnership(address)", ["address"], (who,)),
        ("renounceOwnership()", [], ()),
    ):
        assert_nothing_written(world, _raw(world, role, token, signature, types, *args), f"{role} → {signature}")
    assert int(world.c["SettlementToken"].view("totalSupply")) == supply


@pytest.mark.parametrize("role", ROLES)
def test_mint_settlement_without_a_vote_creates_no_money(world: World, role: str) -> None:
    """mintSettlement through executeAction (a member's call only opens the vote), through a
    batch, and directly: the supply and every balance stay as they were; a non-member's or the
    suspended member's call writes nothing; a member's writes only the Constitution's proposal."""
    token = world.c["SettlementToken"]
    supply, mine = int(token.view("totalSupply")), world.tokens(world.accounts[role].address)
    params = enc(["address", "uint256"], world.accounts[role].address, 10**15)
    attempts = [
        world.c.execute(world.accounts[role], "mintSettlement", params, f"mint-{role}"),
        world.c.batch(world.accounts[role], [("mintSettlement", params, f"mint-batch-{role}")] * 3),
        token.send(world.accounts[role], "mintSettlement", world.accounts[role].address, ref("mint"), params),
    ]
    constitution = world.c.deployment.addresses["Constitution"].lower()
    for sent in attempts[:2] if is_active_member(world, role) else []:
        assert token.address.lower() not in sent.written, f"{role}'s mintSettlement wrote the token"
        assert set(sent.other_changes()) <= {constitution}, f"{role}: {sent.other_changes()}"
        assert not [lg for lg in sent.logs if lg.event in ("SettlementMinted", "Transfer")]
    for sent in attempts[2:] if is_active_member(world, role) else attempts:
        assert_nothing_written(world, sent, f"{role} → mintSettlement")
    assert any(lg.event == "ProposalOpened" for lg in attempts[0].logs) or not is_active_member(world, role), (
        f"{role}'s mintSettlement neither minted nor opened the vote"
    )
    assert (int(token.view("totalSupply")), world.tokens(world.accounts[role].address)) == (supply, mine)


def test_rogue_module_cannot_mint_settlement(world: World) -> None:
    """mintSettlement is a voted public action, not an Internal one: an admitted module asking
    the Constitution for it mints nothing."""
    token = world.c["SettlementToken"]
    supply = int(token.view("totalSupply"))
    inner = enc(["address", "uint256"], world.rogue, 10**15)
    sent = world.c.execute(
        world.accounts["acme"], "rogueCall", enc(["bytes32", "bytes"], action_id("mintSettlement"), inner), "rogue-mint"
    )
    assert_nothing_written(world, sent, "rogue module → mintSettlement", allow=(world.rogue,))
    assert int(token.view("totalSupply")) == supply


@pytest.mark.parametrize("role", [r for r in ROLES if r != "hooli"])
def test_direct_reclaim_by_anyone_but_the_payer_writes_nothing(world: World, role: str) -> None:
    """EscrowPayment.reclaim(invoiceId) needs no Constitution: after the confirmation window,
    anyone but Hooli (INV_H2's payer) calling it writes nothing — then Hooli's own call refunds
    (the control: the refusal is about who calls)."""
    escrow = world.c["EscrowPayment"]
    invoice = world["INV_H2"]
    before = escrow.send(world.accounts["hooli"], "reclaim", invoice)
    assert_nothing_written(world, before, "Hooli's reclaim before the window")
    world.c.chain.increase_time(int(escrow.view("CONFIRMATION_WINDOW")) + 1)
    sent = escrow.send(world.accounts[role], "reclaim", invoice)
    assert_nothing_written(world, sent, f"{role} → EscrowPayment.reclaim(INV_H2)")
    tokens = world.tokens("hooli")
    paid = escrow.send(world.accounts["hooli"], "reclaim", invoice)
    assert paid.ok and world.invoice_status(invoice) == INV_REFUNDED
    assert world.tokens("hooli") > tokens, "the payer's own reclaim gave nothing back"


@pytest.mark.parametrize("role", ROLES)
def test_direct_pay_moves_only_the_senders_own_tokens(world: World, role: str) -> None:
    """EscrowPayment.pay(invoiceId, amount) needs no Constitution (a customer that is not a member
    pays its bill): whoever calls it pays from its own tokens only — more than is outstanding
    writes nothing; within it, the sender's balance goes down and the payee's up by exactly the
    amount, nobody else's moves, and the invoice keeps its payer. Run in a snapshot of its own."""
    escrow = world.c["EscrowPayment"]
    invoice = world["INV_HB"]
    snapshot = world.c.chain.rpc("evm_snapshot")
    try:
        outstanding = int(escrow.view("billingOf", invoice)[3])
        over = escrow.send(world.accounts[role], "pay", invoice, outstanding + 1)
        assert_nothing_written(world, over, f"{role} → EscrowPayment.pay(INV_HB, outstanding + 1)")
        before = {r: world.tokens(r) for r in ROLES}
        sent = escrow.send(world.accounts[role], "pay", invoice, 1)
        if before[role] == 0 or not sent.ok:  # no tokens or no allowance of its own: nothing moves
            assert_nothing_written(world, sent, f"{role} → EscrowPayment.pay(INV_HB, 1) without funds")
            return
        after = {r: world.tokens(r) for r in ROLES}
        moved = {r: after[r] - before[r] for r in ROLES if after[r] != before[r]}
        expected = {} if role == "northwind" else {role: -1, "northwind": 1}
        assert moved == expected, f"{role} paid 1 unit of Hooli's bill: balances moved {moved}"
        assert world.invoice(invoice)[1].lower() == world.addr("hooli").lower(), "the payer changed"
    finally:
        revert(world.c.chain.rpc, snapshot)


#: Who attacks a payer's direct entry points: every role (a member on someone else's invoice,
#: the payee, the suspended member, an outsider) and another wallet (the retail customer's, a
#: registered non-member customer of the same operator; it sends at gas price 0).
DIRECT_SENDERS = (*ROLES, "retail")


def _sender(world: World, role: str):  # type: ignore[no-untyped-def]
    return RETAIL if role == "retail" else world.accounts[role]


@pytest.mark.parametrize("role", [r for r in DIRECT_SENDERS if r != "hooli"])
def test_direct_dispute_by_anyone_but_the_payer_writes_nothing(world: World, role: str) -> None:
    """EscrowPayment.openDispute(invoiceId, amount, line, reason) needs no Constitution (a payer
    that is not a member disputes its bill): anyone but Hooli (INV_HB's payer) calling it on
    INV_HB writes nothing, nor does Hooli asking for more than is outstanding; then Hooli's own
    call opens the dispute (the control: the refusal is about who calls)."""
    escrow = world.c["EscrowPayment"]
    invoice = world["INV_HB"]
    sent = escrow.send(_sender(world, role), "openDispute", invoice, 1, ZERO, oid("not mine"))
    assert_nothing_written(world, sent, f"{role} → EscrowPayment.openDispute(INV_HB)")
    outstanding = int(escrow.view("billingOf", invoice)[3])
    over = escrow.send(world.accounts["hooli"], "openDispute", invoice, outstanding + 1, ZERO, oid("too much"))
    assert_nothing_written(world, over, "Hooli's openDispute of more than is outstanding")
    own = escrow.send(world.accounts["hooli"], "openDispute", invoice, 1, ZERO, oid("mine"))
    opened = [lg for lg in own.logs if lg.event == "InvoiceDisputed"]
    assert own.ok and len(opened) == 1 and opened[0].args["payer"].lower() == world.addr("hooli").lower()
    assert int(escrow.view("billingOf", invoice)[1]) == 1, "Hooli's own direct dispute parked nothing"


@pytest.mark.parametrize("role", [r for r in DIRECT_SENDERS if r != "initech"])
def test_direct_payout_of_another_partys_credit_writes_nothing(world: World, role: str) -> None:
    """EscrowPayment.requestPayout(payee, token, amount) needs no Constitution (a payer that is
    not a member takes its credit out): the caller is the credit's holder, so anyone but Initech
    asking Northwind for CREDIT_I (Initech's credit) writes nothing — nor does Initech asking for
    one unit more; then Initech's own request pays it exactly its credit (Northwind approved the
    escrow), nobody else's balance moving."""
    escrow = world.c["EscrowPayment"]
    token = world.c.deployment.addresses["SettlementToken"]
    credit = world["CREDIT_I"]
    sender = _sender(world, role)
    held = int(escrow.view("creditOf", sender.address, world.addr("northwind"), token))
    assert held < credit, f"{role} holds {held} of credit with Northwind: pick a larger amount"
    sent = escrow.send(sender, "requestPayout", world.addr("northwind"), token, credit)
    assert_nothing_written(world, sent, f"{role} → EscrowPayment.requestPayout(northwind, CREDIT_I)")
    over = escrow.send(world.accounts["initech"], "requestPayout", world.addr("northwind"), token, credit + 1)
    assert_nothing_written(world, over, "Initech's requestPayout of more than its credit")
    before = {r: world.tokens(r) for r in ROLES}
    own = escrow.send(world.accounts["initech"], "requestPayout", world.addr("northwind"), token, credit)
    assert own.ok and [lg.args["amount"] for lg in own.logs if lg.event == "CreditPaidOut"] == [credit]
    moved = {r: world.tokens(r) - before[r] for r in ROLES if world.tokens(r) != before[r]}
    assert moved == {"initech": credit, "northwind": -credit}, f"Initech's payout moved {moved}"
    assert world.credit("initech") == 0


def test_a_payers_delegate_is_not_the_payer_on_the_direct_entry_points(world: World) -> None:
    """A delegate key acts for its member through executeAction only: on the direct entry points
    msg.sender is the party, so Northwind's delegate neither disputes Northwind's own vendor
    invoice VINV nor asks for Northwind's credit."""
    escrow = world.c["EscrowPayment"]
    token = world.c.deployment.addresses["SettlementToken"]
    delegate = world.accounts["nw_delegate"]
    sent = escrow.send(delegate, "openDispute", world["VINV"], 1, ZERO, oid("as northwind"))
    assert_nothing_written(world, sent, "Northwind's delegate → openDispute(VINV)")
    sent = escrow.send(delegate, "requestPayout", world.addr("acme"), token, 1)
    assert_nothing_written(world, sent, "Northwind's delegate → requestPayout(acme)")


def test_a_payer_cannot_dispute_again_what_a_resolution_rejected(world: World) -> None:
    """A dispute ends the argument (issue 14): once Acme rejects Northwind's dispute D_V of its
    vendor invoice VINV, Northwind re-disputing the rejected part writes nothing — through the
    disputeInvoice action, through the direct openDispute, or through its delegate — so that part
    stays owed (overdue once due). The control: Northwind may still dispute what it never disputed."""
    escrow = world.c["EscrowPayment"]
    invoice, dispute_id = world["VINV"], world["D_V"]
    world.act("acme", "resolveDispute", enc(["uint256", "uint256"], dispute_id, 0), "reject D_V")
    disputable, settled = (int(x) for x in escrow.view("disputableOf", invoice))
    outstanding = int(escrow.view("billingOf", invoice)[3])
    assert settled > 0 and disputable == outstanding - settled, (disputable, settled, outstanding)
    northwind = world.accounts["northwind"]
    params = enc(["uint256", "uint256", "bytes32", "bytes32"], invoice, disputable + 1, ZERO, oid("again"))
    for who in ("northwind", "nw_delegate"):
        sent = world.c.execute(world.accounts[who], "disputeInvoice", params, "re-dispute")
        assert_nothing_written(world, sent, f"{who} → disputeInvoice(VINV) of the rejected part")
    sent = escrow.send(northwind, "openDispute", invoice, disputable + 1, ZERO, oid("again"))
    assert_nothing_written(world, sent, "Northwind → openDispute(VINV) of the rejected part")
    assert int(escrow.view("billingOf", invoice)[1]) == 0, "a re-dispute parked part of VINV"
    if disputable:
        own = escrow.send(northwind, "openDispute", invoice, disputable, ZERO, oid("never disputed"))
        assert own.ok and [int(lg.args["amount"]) for lg in own.logs if lg.event == "InvoiceDisputed"] == [disputable]


DISCLOSERS = ["northwind", "globex", "initech", "hooli"]


@pytest.mark.parametrize("role", DISCLOSERS)
def test_a_members_disclose_with_another_members_ref_leaves_that_disclosure_alone(world: World, role: str) -> None:
    """Any member may disclose under a ref of its choosing, Acme's included: Acme's disclosure
    D_A stays Acme's — same discloser, subject, details and block — and no key is wrapped for
    it by anyone else."""
    vault = world.c["DetailsVault"]
    d_a = world["D_A"]
    before = vault.view("disclosure", d_a)
    attack = next(a for a in ATTACKS if a.name == "disclose-over-D_A")
    sent = world.c.execute(world.accounts[role], attack.action, attack.params(world, role), attack.ref_label)
    assert vault.view("disclosure", d_a) == before, f"{role}'s disclose changed Acme's disclosure"
    assert str(before[0]).lower() == world.addr("acme").lower()
    for lg in sent.logs:
        if lg.event == "KeyWrapped":
            assert bytes(lg.args["disclosure"]) != d_a, f"{role} wrapped a key for Acme's disclosure"
        if lg.event == "Disclosed":
            assert str(lg.args["discloser"]).lower() == world.addr(role).lower()
            assert disclosure_id(sent) != d_a, f"{role}'s disclosure took D_A's id"


@pytest.mark.parametrize("role", ROLES)
def test_batch_loop_of_every_attack_writes_nothing(world: World, role: str) -> None:
    calls = [(a.action, a.params(world, role), a.ref_label) for a in ATTACKS if role not in a.owners]
    calls += [(name, build(world), f"batch-internal-{name}") for name, build in INTERNAL.items()]
    sent = world.c.batch(world.accounts[role], calls * 3, gas=29_000_000)
    assert_nothing_written(world, sent, f"{role} → executeBatch of {len(calls) * 3} attacks")


@pytest.mark.parametrize("action", list(INTERNAL))
def test_rogue_module_cannot_use_other_modules_internal_actions(world: World, action: str) -> None:
    params = enc(["bytes32", "bytes"], action_id(action), INTERNAL[action](world))
    sent = world.c.execute(world.accounts["acme"], "rogueCall", params, f"rogue-{action}")
    assert_nothing_written(world, sent, f"rogue module → Internal {action}", allow=(world.rogue,))
