"""Regression tests for issue 12, one per finding (items 1-11), each an attack through the raw
client followed by an assertion on the OUTCOME — what was charged, written, moved, paid back —
never on a particular error, so they hold for whichever fix lands. Set-up steps that must work
go through ``World.act`` (they raise if refused); the attack steps are sent raw and judged only
by their effect.
"""

from __future__ import annotations

from eth_utils import keccak

from .asserts import assert_nothing_written
from .client import action_id, enc, ref
from .world import (
    ACTIVE,
    DELETE,
    DELIVERED,
    INACTIVE,
    INV_FUNDED,
    INV_ISSUED,
    INV_RELEASED,
    LINE_SPEC,
    MOVE,
    PENDING_CHANGE,
    PENDING_DISCONNECT,
    PENDING_INSTALLATION,
    PERMISSION,
    PLANNED,
    POLICY,
    REGISTRATION,
    TERMS,
    ZERO,
    World,
    disclosure_id,
    oid,
    serial,
    twin_customer,
)

PENDING_CHANGE_OP = 2  # IOperatorAgreement.Pending.Change

B32x2 = ["bytes32", "bytes32"]
DAY = 86_400


def verb(asset: str) -> bytes:
    return enc(B32x2, oid(asset), ZERO)


def send(w: World, role: str, action: str, params: bytes, label: str = "attack"):  # type: ignore[no-untyped-def]
    return w.c.execute(w.accounts[role], action, params, label)


def credit_notes(w: World) -> int:
    return int(w.c["EscrowPayment"].view("creditNoteCount"))


# --- 1. Unlimited credit ---------------------------------------------------------------------


def test_f1_disconnect_request_cancel_loop_creates_no_credit(world: World) -> None:
    w = world
    balance, credit, notes = w.account_balance("initech"), w.credit("initech"), credit_notes(w)
    loop = [("requestDisconnect", verb("T_I"), "loop"), ("cancelDisconnect", verb("T_I"), "loop")] * 5
    w.c.batch(w.accounts["initech"], loop)
    assert w.account_balance("initech") >= balance, "the loop left the customer's account below what it was charged"
    send(w, "northwind", "billAccount", enc(["address", "bytes32"], w.addr("initech"), ZERO))
    assert credit_notes(w) == notes, "billAccount turned the loop into a credit note"
    assert w.credit("initech") == credit


def test_f1_cancel_change_gives_back_exactly_what_was_charged_once(world: World) -> None:
    """cancelChange (new): the open change on T_HC is cancelled once, for exactly its recorded
    charge; a second cancel, a cancel by the operator after it, a confirm of the cancelled change
    and an order/cancel loop in one batch give back nothing more."""
    w = world
    balance = w.account_balance("hooli")
    charge = int(w.service("T_HC")[6])
    assert charge > 0 and int(w.service("T_HC")[4]) == PENDING_CHANGE_OP
    w.act("hooli", "cancelChange", verb("T_HC"))
    assert w.account_balance("hooli") == balance - charge
    assert w.state("T_HC") == ACTIVE
    for role, action in (("hooli", "cancelChange"), ("northwind", "cancelChange"), ("northwind", "confirmChange")):
        assert_nothing_written(w, send(w, role, action, verb("T_HC")), f"{role} {action} after the cancel")
    order = ("orderChange", enc(["uint8", "bytes32", "bytes32"], MOVE, oid("T_HC"), ZERO), "loop")
    cancel = ("cancelChange", verb("T_HC"), "loop")
    w.c.batch(w.accounts["hooli"], [order, cancel, cancel] * 5)
    assert w.account_balance("hooli") == balance - charge, "the order/cancel loop changed the account"
    assert w.state("T_HC") == ACTIVE


# --- 2. Change without charge ----------------------------------------------------------------


def test_f2_no_twin_reaches_pending_change_without_a_charge(world: World) -> None:
    w = world
    balance = w.account_balance("initech")
    send(w, "initech", "requestChange", verb("T_I"))
    if w.state("T_I") == PENDING_CHANGE:
        assert w.account_balance("initech") > balance, "T_I is PendingChange with nothing charged"
    confirmed = send(w, "northwind", "confirmChange", verb("T_I"))
    if any(lg.event == "ChangeConfirmed" for lg in confirmed.logs):
        assert w.account_balance("initech") > balance, "a change was confirmed that nobody was charged for"


# --- 3. Claiming someone else's twin ---------------------------------------------------------


def test_f3_a_customer_cannot_claim_a_twin_planned_for_another_customer(world: World) -> None:
    w = world
    invoices = int(w.c["EscrowPayment"].view("payerInvoiceCount", w.addr("initech")))
    send(
        w,
        "initech",
        "requestInstallation",
        enc(["bytes32", "address", "bytes32"], oid("T_HL"), w.addr("initech"), ZERO),
    )
    assert w.service("T_HL")[0].lower() != w.addr("initech").lower(), "Initech became the customer of Hooli's twin"
    assert int(w.c["EscrowPayment"].view("payerInvoiceCount", w.addr("initech"))) == invoices
    send(w, "initech", "withdrawInstallation", verb("T_HL"))
    assert w.state("T_HL") == PENDING_INSTALLATION, "Initech moved Hooli's twin off its order line"


def test_f3_a_former_customer_cannot_move_its_old_twin_once_replanned_for_another(world: World) -> None:
    w = world
    w.act("initech", "orderDisconnect", enc(["bytes32", "uint256", "bytes32"], oid("T_I"), 0, ZERO))
    w.act("northwind", "confirmDisconnect", verb("T_I"))
    assert w.state("T_I") == INACTIVE
    # re-planned for Hooli on Globex's line: PendingInstallation
    spec = (oid("L_REPLAN"), oid("S_H"), oid("T_I"), w.addr("globex"), b"ONT-G".ljust(16, b"\0"), 1, 1)
    w.act("northwind", "addDeviceLine", enc(["bytes32", LINE_SPEC, "bytes32"], oid("O_H"), spec, ZERO))
    assert w.state("T_I") == PENDING_INSTALLATION
    invoices = int(w.c["EscrowPayment"].view("payerInvoiceCount", w.addr("initech")))
    send(w, "initech", "withdrawInstallation", verb("T_I"))
    assert w.state("T_I") == PENDING_INSTALLATION, "the former customer moved a twin re-planned for Hooli"
    request = enc(["bytes32", "address", "bytes32"], oid("T_I"), w.addr("initech"), ZERO)
    send(w, "initech", "requestInstallation", request)
    assert int(w.c["EscrowPayment"].view("payerInvoiceCount", w.addr("initech"))) == invoices, (
        "the former customer put a twin re-planned for Hooli under its own installation"
    )


# --- 4. Lifecycle verbs ignore ownership -----------------------------------------------------


def test_f4_a_vendor_cannot_deliver_another_vendors_line_twin(world: World) -> None:
    w = world
    send(w, "acme", "deliver", verb("T_HL"))
    send(w, "acme", "bulkTransition", enc(["uint8", "bytes32[]", "bytes32"], 2, [oid("T_HL")], ZERO))
    assert w.state("T_HL") == PENDING_INSTALLATION, "Acme delivered Globex's twin"
    delivered = send(w, "globex", "deliverLine", enc(["bytes32", "uint32", "bytes32"], oid("L_HL"), 1, ZERO))
    assert delivered.ok and any(lg.event == "LineDelivered" for lg in delivered.logs), (
        "Globex can no longer deliver its line"
    )
    assert w.state("T_HL") == 3  # Delivered, by its own vendor


def test_f4_after_a_foreign_delivery_attempt_the_order_can_still_drop_the_line(world: World) -> None:
    w = world
    send(w, "acme", "deliver", verb("T_HL"))
    line = (oid("L_HL"), ZERO, ZERO, w.addr("globex"), b"\0" * 16, 0, 0)
    revision = enc(
        ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"], oid("O_H"), [], [(2, line)], ZERO
    )
    send(w, "northwind", "reviseOrder", revision)
    assert int(w.c["OrderBook"].view("getLine", oid("L_HL"))[8]) == 6, "the revision could not remove the line"
    assert w.state("T_HL") == PLANNED, "the undelivered line's twin did not go back to Planned"


def test_f4_a_customer_cannot_disconnect_or_change_another_customers_twin(world: World) -> None:
    w = world
    for action in ("requestDisconnect", "requestChange"):
        sent = send(w, "initech", action, verb("T_H"))
        assert_nothing_written(w, sent, f"Initech {action} on Hooli's twin")
    assert w.state("T_H") == ACTIVE


# --- 5. Payment gate bypass ------------------------------------------------------------------


def test_f5_no_twin_becomes_active_while_its_installation_invoice_is_unpaid(world: World) -> None:
    w = world
    invoice = w["INV_U"]
    send(w, "northwind", "commission", verb("T_U"))
    send(w, "northwind", "bulkTransition", enc(["uint8", "bytes32[]", "bytes32"], 3, [oid("T_U")], ZERO))
    if w.state("T_U") == ACTIVE:
        assert w.invoice_status(invoice) in (INV_FUNDED, INV_RELEASED), "T_U is Active, its installation unpaid"


# --- 6. Escrow -------------------------------------------------------------------------------


def _give_initech_credit(w: World) -> int:
    """A MACD delete (a negative tariff) billed: a credit note for Initech."""
    w.act("initech", "orderChange", enc(["uint8", "bytes32", "bytes32"], DELETE, oid("T_I"), ZERO))
    w.act("northwind", "billAccount", enc(["address", "bytes32"], w.addr("initech"), ZERO))
    credit = w.credit("initech")
    assert credit > 0
    return credit


def test_f6_reclaim_gives_back_the_credit_applied_to_the_invoice(world: World) -> None:
    w = world
    _give_initech_credit(w)
    tokens, credit = w.tokens("initech"), w.credit("initech")
    invoice = w.request_installation("initech", "T_S")
    assert int(w.invoice(invoice)[5]) > 0, "the credit was applied to the new invoice"
    w.fund("initech", invoice)
    w.c.chain.increase_time(31 * DAY)
    reclaimed = send(w, "initech", "reclaimInvoice", enc(["uint256"], invoice))
    assert reclaimed.ok
    assert (w.tokens("initech"), w.credit("initech")) == (tokens, credit), "the payer lost the credit it had applied"


def test_f6_direct_reclaim_gives_back_the_credit_applied_to_the_invoice(world: World) -> None:
    """The same through the direct EscrowPayment.reclaim(invoiceId) (no Constitution)."""
    w = world
    tokens, credit = w.tokens("initech"), w.credit("initech")
    invoice = w.request_installation("initech", "T_S")
    assert int(w.invoice(invoice)[5]) > 0, "the scenario's credit was applied to the new invoice"
    w.fund("initech", invoice)
    w.c.chain.increase_time(31 * DAY)
    assert w.c["EscrowPayment"].send(w.accounts["initech"], "reclaim", invoice).ok
    assert (w.tokens("initech"), w.credit("initech")) == (tokens, credit), "the payer lost the credit it had applied"


def test_f6_a_suspended_payer_gets_its_funded_escrow_back_after_the_window(world: World) -> None:
    w = world
    tokens = w.tokens("initech")
    invoice = w.request_installation("initech", "T_S")
    w.fund("initech", invoice)
    assert w.tokens("initech") < tokens
    w.suspend("initech", ["acme", "globex"])
    assert w.member_status(w.addr("initech")) == 2
    w.c.chain.increase_time(31 * DAY)
    send(w, "initech", "reclaimInvoice", enc(["uint256"], invoice))
    if w.tokens("initech") != tokens:  # the action is denied to a suspended member: the direct exit
        w.c["EscrowPayment"].send(w.accounts["initech"], "reclaim", invoice)
    assert w.tokens("initech") == tokens, "the suspended payer's escrow is stuck"


# --- 7. Governance ---------------------------------------------------------------------------


def test_f7_a_unanimous_vote_is_not_unblocked_by_suspending_the_dissenter(world: World) -> None:
    w = world
    selector = bytes.fromhex("00000001")
    policy = ("bypass", 0, w.rogue, selector, True, 0, 0, 0, [], [], [])
    params = enc([POLICY, f"{PERMISSION}[]"], policy, [(w.addr("northwind"), True, 0, 0)])
    first = w.proposal_of(w.act("northwind", "amendConstitution", params, "amend-1"))
    for role in ("acme", "globex", "hooli"):
        w.c.vote(w.accounts[role], first)
    w.c.vote(w.accounts["initech"], first, approve=False)
    assert int(w.c["Constitution"].view("policyIdOf", action_id("bypass"))) == 0
    # the majority suspends the dissenter and proposes again
    suspend = send(w, "northwind", "suspendMember", enc(["address"], w.addr("initech")), "suspend")
    for lg in suspend.logs:
        if lg.event == "ProposalOpened":
            for role in ("acme", "globex"):
                w.c.vote(w.accounts[role], int(lg.args["proposalId"]))
    again = send(w, "northwind", "amendConstitution", params, "amend-2")
    for lg in again.logs:
        if lg.event == "ProposalOpened":
            for role in ("acme", "globex", "hooli"):
                w.c.vote(w.accounts[role], int(lg.args["proposalId"]))
    assert int(w.c["Constitution"].view("policyIdOf", action_id("bypass"))) == 0, "the rejected amendment passed"


def test_f7_proposal_params_are_bounded_garbage_is_not_stored(world: World) -> None:
    w = world
    count = int(w.c["Constitution"].view("proposalCount"))
    garbage = bytes(range(256)) * 96  # 24 KiB that decode to nothing; gas enough to store it all
    sent = w.c["Constitution"].send(
        w.accounts["acme"], "executeAction", action_id("addMember"), garbage, ref("junk"), gas=29_000_000
    )
    assert int(w.c["Constitution"].view("proposalCount")) == count, "24 KiB of garbage became a proposal"
    assert_nothing_written(w, sent, "addMember proposal with 24 KiB of garbage params")


def test_f7_member_names_are_unique_case_insensitively(world: World) -> None:
    w = world
    newcomer = w.accounts["spare"].address
    count = int(w.c["Constitution"].view("proposalCount"))
    send(w, "northwind", "addMember", enc(["address", "bytes32", "string"], newcomer, oid("imposter"), "ACME NETWORKS"))
    if int(w.c["Constitution"].view("proposalCount")) > count:
        for role in ("acme", "globex", "initech", "hooli"):
            w.c.vote(w.accounts[role], count + 1)
    assert w.member_status(newcomer) == 0, '"ACME NETWORKS" was admitted next to "Acme Networks"'


# --- 8. Money supply -------------------------------------------------------------------------


def test_f8_the_deployer_cannot_mint_without_a_vote_and_the_vote_mints(world: World) -> None:
    """Northwind deployed the token (it was its owner): the old mint selector, mintSettlement
    called directly and mintSettlement through executeAction before the vote create nothing;
    the control: the majority's votes make the same mint take effect."""
    w = world
    token = w.c["SettlementToken"]
    supply, amount = int(token.view("totalSupply")), 10**12
    northwind = w.addr("northwind")
    mint = keccak(text="mint(address,uint256)")[:4] + enc(["address", "uint256"], northwind, amount)
    assert_nothing_written(w, w.c.send(w.accounts["northwind"], token.address, mint), "the deployer's mint")
    params = enc(["address", "uint256"], northwind, amount)
    direct = token.send(w.accounts["northwind"], "mintSettlement", northwind, ref("mint"), params)
    assert_nothing_written(w, direct, "mintSettlement called directly")
    proposal = w.proposal_of(w.act("northwind", "mintSettlement", params, "mint-vote"))
    assert int(token.view("totalSupply")) == supply, "the operator minted money with no vote"
    for role in ("acme", "globex", "initech"):  # until the majority is reached (the vote then closes)
        if int(token.view("totalSupply")) == supply:
            w.must(w.c.vote(w.accounts[role], proposal), f"{role} votes the mint")
    assert int(token.view("totalSupply")) == supply + amount, "the majority's vote did not mint"
    assert w.tokens("northwind") >= amount


# --- 9. Modules ------------------------------------------------------------------------------


def test_f9_an_admitted_module_cannot_release_another_payers_escrow_or_issue_credit(world: World) -> None:
    w = world
    escrow = w.c.deployment.addresses["EscrowPayment"]
    held, credit = w.tokens(escrow), w.credit("acme")
    for action, inner in (
        ("confirmInvoice", enc(["uint256"], w["INV_H2"])),
        ("voidInvoice", enc(["uint256"], w["INV_H2"])),
        (
            "issueCreditNote",
            enc(
                ["address", "address", "address", "uint256", "bytes32"],
                w.addr("acme"),
                w.addr("northwind"),
                w.c.deployment.addresses["SettlementToken"],
                10**12,
                ZERO,
            ),
        ),
        ("transition", enc(["bytes32", "uint8", "bytes32"], oid("T_H"), PENDING_CHANGE, ZERO)),
    ):
        send(w, "acme", "rogueCall", enc(["bytes32", "bytes"], action_id(action), inner))
    assert w.invoice_status(w["INV_H2"]) == INV_FUNDED and w.tokens(escrow) == held, (
        "the rogue module moved Hooli's escrow"
    )
    assert w.credit("acme") == credit, "the rogue module created credit"
    assert w.state("T_H") == ACTIVE, "the rogue module moved Hooli's twin"


# --- 10. Serials -----------------------------------------------------------------------------


def test_f10_register_with_a_serial_does_not_bypass_the_bind_serial_vote(world: World) -> None:
    w = world
    s = serial("T_R")
    send(w, "northwind", "register", enc([REGISTRATION], (oid("T_R"), b"ONT" + b"\0" * 9, s, oid("P_I"), ZERO, ZERO)))
    assert w.c["AssetRegistry"].view("assetOfSerial", s) == b"\0" * 32, "a serial was bound without the bindSerial vote"


# --- 11. Low ---------------------------------------------------------------------------------


def test_f11_payment_days_out_of_bounds_are_refused(world: World) -> None:
    w = world
    terms = w.c["OperatorAgreement"].view("terms")
    for days in (0, 2**32 - 1):
        proposed = send(w, "northwind", "setTerms", enc([TERMS], (terms[0], days, *terms[2:])), f"terms-{days}")
        for lg in proposed.logs:
            if lg.event == "ProposalOpened":
                w.c.vote(w.accounts["initech"], int(lg.args["proposalId"]))
        assert int(w.c["OperatorAgreement"].view("terms")[1]) == terms[1], f"payment days {days} accepted"


def test_f11_a_confirmation_window_out_of_bounds_is_refused_at_deploy(world: World) -> None:
    import json

    from .client import ROOT

    manifest = json.loads((ROOT / ".build" / "__local__.json").read_text())
    code = bytes.fromhex(manifest["contractTypes"]["EscrowPayment"]["deploymentBytecode"]["bytecode"][2:])
    constitution = world.c.deployment.addresses["Constitution"]
    for window in (0, 2**64 - 1):
        sent = world.c.send(world.accounts["outsider"], None, code + enc(["address", "uint64"], constitution, window))
        address = sent.receipt.get("contractAddress")
        assert not (sent.ok and address and world.c.chain.code(address)), f"an escrow with window {window} was deployed"


def test_f11_a_member_cannot_take_another_members_disclosure_id_first(world: World) -> None:
    """Globex discloses first with the ref Acme is about to use: Acme's disclose with that ref
    still takes effect, the disclosure it made is Acme's, and it stays Acme's when Globex tries
    the same ref again. Globex's own disclosure, if it made one, is Globex's."""
    w = world
    vault = w.c["DetailsVault"]
    params = enc(
        ["bytes32", "bytes32", "bytes", "address[]", "bytes[]"],
        oid("O_I"),
        oid("d"),
        b"\x05" * 64,
        [w.addr("northwind")],
        [b"\x06" * 48],
    )
    squat = send(w, "globex", "disclose", params, "acme-next-disclosure")  # Globex takes Acme's next ref
    mine = send(w, "acme", "disclose", params, "acme-next-disclosure")
    assert mine.ok and any(
        lg.event == "Disclosed" and lg.args.get("discloser", "").lower() == w.addr("acme").lower() for lg in mine.logs
    ), "Globex's disclose with Acme's ref prevented Acme's"
    acme_id = disclosure_id(mine)
    record = vault.view("disclosure", acme_id)
    assert str(record[0]).lower() == w.addr("acme").lower(), "Acme's disclosure is not Acme's"
    if any(lg.event == "Disclosed" for lg in squat.logs):
        globex_id = disclosure_id(squat)
        assert globex_id != acme_id
        assert str(vault.view("disclosure", globex_id)[0]).lower() == w.addr("globex").lower()
    send(w, "globex", "disclose", params, "acme-next-disclosure")
    assert vault.view("disclosure", acme_id) == record, "Globex changed Acme's disclosure"


def test_f11_a_non_members_batch_of_denied_calls_leaves_no_logs(world: World) -> None:
    w = world
    calls = [("register", b"", "probe")] * 400
    sent = w.c.batch(w.accounts["outsider"], calls, gas=29_000_000)
    assert len(sent.receipt["logs"]) == 0, (
        f"a non-member's 400 denied calls were mined with {len(sent.receipt['logs'])} logs"
    )
    assert_nothing_written(w, sent, "outsider batch")


def test_f11_an_order_cannot_end_rejected_with_its_reservations_still_open(world: World) -> None:
    w = world
    w.act("northwind", "createOrder", enc(["bytes32"] * 3, oid("O_R"), oid("P_I"), ZERO))
    w.act("northwind", "addService", enc(["bytes32", "bytes32", "uint32", "bytes32"], oid("O_R"), oid("S_R"), 1, ZERO))
    spec = (oid("L_R"), oid("S_R"), ZERO, w.addr("acme"), b"SFP".ljust(16, b"\0"), 5, 1)
    w.act("northwind", "addDeviceLine", enc(["bytes32", LINE_SPEC, "bytes32"], oid("O_R"), spec, ZERO))
    for terminal in (2, 8, 9):  # Rejected, Failed, Partial
        send(w, "northwind", "transitionOrder", enc(["bytes32", "uint8", "bytes32"], oid("O_R"), terminal, ZERO))
    order = w.c["OrderBook"].view("getOrder", oid("O_R"))
    line = w.c["OrderBook"].view("getLine", oid("L_R"))
    open_reservation = int(line[9]) - int(line[10]) - int(line[11])  # reserved - released - delivered
    assert not (int(order[1]) in (2, 8, 9) and open_reservation), "the order ended with its reservation never released"


def test_f11_an_early_release_by_the_customer_does_not_make_the_installation_unconfirmable(world: World) -> None:
    w = world
    send(w, "hooli", "releaseInvoice", enc(["uint256"], w["INV_H2"]))
    w.deliver_line("globex", "L_H2")
    send(w, "northwind", "confirmInstallation", verb("T_H2"))
    assert w.state("T_H2") == ACTIVE, "the installation can no longer be confirmed"


def test_f11_credit_is_paid_out_in_tokens_once_and_conserved(world: World) -> None:
    """payOutCredit (new): Northwind pays Initech's credit out in tokens — Initech's tokens rise
    by exactly the credit, which drops to 0; paying out more than the credit, or again, moves
    nothing; no token is created."""
    w = world
    token = w.c["SettlementToken"]
    credit, supply = w.credit("initech"), int(token.view("totalSupply"))
    tokens_i, tokens_n = w.tokens("initech"), w.tokens("northwind")
    assert credit == w["CREDIT_I"] > 0
    pay = ["address", "address", "uint256"]
    t = w.c.deployment.addresses["SettlementToken"]
    too_much = send(w, "northwind", "payOutCredit", enc(pay, w.addr("initech"), t, credit + 1))
    assert_nothing_written(w, too_much, "payOutCredit of more than the credit")
    w.act("northwind", "payOutCredit", enc(pay, w.addr("initech"), t, credit))
    assert (w.tokens("initech"), w.tokens("northwind"), w.credit("initech")) == (
        tokens_i + credit,
        tokens_n - credit,
        0,
    )
    again = send(w, "northwind", "payOutCredit", enc(pay, w.addr("initech"), t, credit))
    assert_nothing_written(w, again, "a second payOutCredit of the same credit")
    assert int(token.view("totalSupply")) == supply


def test_scenario_sanity_the_rightful_parties_can_still_act(world: World) -> None:
    """The attacks above prove refusals; this proves the scenario is not refusing everything:
    the rightful parties' own actions still write."""
    w = world
    assert w.act("hooli", "orderChange", enc(["uint8", "bytes32", "bytes32"], 0, oid("T_H"), ZERO)).storage_writes()
    assert w.act("globex", "deliverLine", enc(["bytes32", "uint32", "bytes32"], oid("L_HL"), 1, ZERO)).storage_writes()
    assert w.state("T_HL") == 3 and w.state("T_H") == PENDING_CHANGE
    assert w.state("T_S") == PLANNED


def test_f3_an_installation_paid_by_one_customer_is_not_confirmed_on_a_twin_replanned_for_another(world: World) -> None:
    """Hooli funded the installation of T_H2 (INV_H2). The operator removes T_H2's undelivered
    line (the twin goes back to Planned), re-plans it for Initech (setParties), puts it on a line
    of Initech's order, the vendor delivers, the operator confirms: Hooli's escrow must not pay
    for a twin that is now Initech's, and the agreement and the registry must agree on whose
    twin it is."""
    w = world
    line = (oid("L_H2"), ZERO, ZERO, w.addr("globex"), b"\0" * 16, 0, 0)
    revision = enc(
        ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"], oid("O_H"), [], [(2, line)], ZERO
    )
    send(w, "northwind", "reviseOrder", revision, "drop-L_H2")  # T_H2 back to Planned, off the line
    send(
        w,
        "northwind",
        "setParties",
        enc(["bytes32", "address", "address", "bytes32"], oid("T_H2"), w.addr("initech"), w.addr("acme"), ZERO),
        "replan-T_H2",
    )
    spec = (oid("L_H2I"), oid("S_I"), oid("T_H2"), w.addr("acme"), b"ONT-G".ljust(16, b"\0"), 1, 1)
    send(w, "northwind", "addDeviceLine", enc(["bytes32", LINE_SPEC, "bytes32"], oid("O_I"), spec, ZERO))
    send(w, "acme", "deliverLine", enc(["bytes32", "uint32", "bytes32"], oid("L_H2I"), 1, ZERO))
    send(w, "northwind", "confirmInstallation", verb("T_H2"), "confirm-T_H2")
    twin = w.asset("T_H2")
    holder = str(twin_customer(twin)).lower()
    service_customer = str(w.service("T_H2")[0]).lower()
    # the agreement's customer, if it is not the twin's, must not be able to disconnect it
    send(w, "hooli", "orderDisconnect", enc(["bytes32", "uint256", "bytes32"], oid("T_H2"), 0, ZERO), "hooli-d")
    hooli_disconnected = w.state("T_H2") == PENDING_DISCONNECT
    assert not (holder == w.addr("initech").lower() and w.invoice_status(w["INV_H2"]) == INV_RELEASED), (
        "Hooli's escrow paid the operator for a twin that is now Initech's"
    )
    none = "0x" + "00" * 20
    assert none in (holder, service_customer) or holder == service_customer, (
        f"the registry says {holder}, the agreement {service_customer}"
    )
    assert not (hooli_disconnected and holder != w.addr("hooli").lower()), (
        "Hooli ordered the disconnect of a twin the registry says is Initech's"
    )


def test_f6_an_installation_withdrawn_after_the_customer_paid_early_leaves_the_customer_whole(world: World) -> None:
    """Hooli funded INV_H2 and released it early (it trusts the operator); the operator then
    withdraws T_H2's installation instead of confirming it. Nothing was installed: Hooli must
    get its payment back, in tokens or as credit with the operator."""
    w = world
    invoice = w["INV_H2"]
    paid = int(w.invoice(invoice)[4]) - int(w.invoice(invoice)[5])  # amount - credited
    tokens, credit = w.tokens("hooli"), w.credit("hooli")
    w.act("hooli", "releaseInvoice", enc(["uint256"], invoice))
    assert w.tokens("hooli") == tokens and w.invoice_status(invoice) == INV_RELEASED
    send(w, "northwind", "withdrawInstallation", verb("T_H2"))
    if int(w.service("T_H2")[4]) == 0:  # the installation was withdrawn (nothing pending)
        assert w.tokens("hooli") + w.credit("hooli") >= tokens + credit + paid, (
            "the operator kept Hooli's early payment for an installation it withdrew"
        )


def test_f11_an_installation_whose_line_is_removed_after_delivery_can_still_be_withdrawn(world: World) -> None:
    """T_U was delivered on Acme's line L_U; Initech's installation invoice INV_U is unpaid. The
    operator removes L_U (the delivered twin goes to recovery). Then the installation must
    still be withdrawable — its invoice voided — or the removal refused: otherwise INV_U stays
    due, becomes overdue, and is a reason to disconnect Initech's other twins for non-payment."""
    w = world
    line = (oid("L_U"), ZERO, ZERO, w.addr("acme"), b"\0" * 16, 0, 0)
    revision = enc(
        ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"], oid("O_I"), [], [(2, line)], ZERO
    )
    send(w, "northwind", "reviseOrder", revision, "drop-L_U")
    if w.state("T_U") == DELIVERED:
        return  # the removal was refused while the installation is open
    for role in ("initech", "northwind"):
        send(w, role, "withdrawInstallation", verb("T_U"), f"withdraw-{role}")
    assert w.invoice_status(w["INV_U"]) != INV_ISSUED, (
        f"T_U is {w.state('T_U')} off its line, its installation can't be withdrawn and INV_U stays due"
    )


def _funded_installation_with_credit(w: World) -> tuple[int, int, int]:
    """Initech (holding CREDIT_I) requests and funds T_S's installation: the credit is applied."""
    tokens, credit = w.tokens("initech"), w.credit("initech")
    invoice = w.request_installation("initech", "T_S")
    assert int(w.invoice(invoice)[5]) == credit > 0, "the credit was applied to the invoice"
    w.fund("initech", invoice)
    assert w.tokens("initech") < tokens and w.credit("initech") == 0
    return invoice, tokens, credit


def test_f6_a_withdrawn_funded_installation_gives_back_tokens_and_the_applied_credit(world: World) -> None:
    w = world
    _, tokens, credit = _funded_installation_with_credit(w)
    w.act("initech", "withdrawInstallation", verb("T_S"))
    assert (w.tokens("initech"), w.credit("initech")) == (tokens, credit), "the withdrawal lost money or credit"


def test_f6_a_refunded_installation_gives_back_tokens_and_the_applied_credit(world: World) -> None:
    w = world
    invoice, tokens, credit = _funded_installation_with_credit(w)
    w.act("northwind", "refundInvoice", enc(["uint256"], invoice))
    assert (w.tokens("initech"), w.credit("initech")) == (tokens, credit), "the refund lost money or credit"
