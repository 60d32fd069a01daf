"""Issue 12 regressions on the flows: each test is an attack that worked on the wave-1 contracts
(the finding it reproduces is named) and must now change nothing — or only exactly what the flow
accounts for. Balances are checked to the unit."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from telcochain.assets import AssetState

from tests.support.agreement import DAY, TARIFF, UNIT, WINDOW, Kind, Status, asset_id, details, send, terms_tuple
from tests.support.dryrun import named, reverts_with

ZERO = "0x" + "00" * 20


def selector_of(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def raw_verb(d, verb: str, label: str, sender):
    return d.act(verb, encode(["bytes32", "bytes32"], [asset_id(label), details(verb)]), sender=sender)


def test_finding_1_no_credit_from_a_disconnect_that_was_never_charged(deal):
    d = deal
    d.installed("loop")
    # the registry verb that charged nothing: the customer is no party to it, the operator's is
    # refused on a served twin
    with reverts_with("AssetNotParty", assetId=asset_id("loop"), account=d.customer.address):
        raw_verb(d, "requestDisconnect", "loop", d.customer)
    with reverts_with("AssetHeldByFlow", assetId=asset_id("loop"), customer=d.customer.address):
        raw_verb(d, "requestDisconnect", "loop", d.operator)
    with reverts_with("AgreementInvalidPending", assetId=asset_id("loop"), expected=3, actual=0):
        d.cancel_disconnect("loop", sender=d.customer)  # nothing ordered, nothing to give back
    for _ in range(5):  # the real flow: ordered (+100) then cancelled (-100), exactly
        ordered = named(d.order_disconnect("loop"), "DisconnectOrdered")[0]
        cancelled = named(d.cancel_disconnect("loop", sender=d.customer), "DisconnectCancelled")[0]
        assert (ordered.charge, cancelled.charge) == (TARIFF["disconnect"], -TARIFF["disconnect"])
        assert cancelled.balance == 0
    assert d.agreement.accountOf(d.customer).balance == 0
    with reverts_with("AgreementNothingToBill"):
        d.bill()  # no credit note to spend on the next installation


def test_finding_2_no_change_without_its_charge(deal):
    d = deal
    d.installed("chg")
    with reverts_with("AssetNotParty", assetId=asset_id("chg"), account=d.customer.address):
        raw_verb(d, "requestChange", "chg", d.customer)
    with reverts_with("AssetHeldByFlow", assetId=asset_id("chg"), customer=d.customer.address):
        raw_verb(d, "requestChange", "chg", d.operator)
    with reverts_with("AgreementInvalidPending", assetId=asset_id("chg"), expected=2, actual=0):
        d.confirm_change("chg")
    assert d.state("chg") is AssetState.ACTIVE and d.agreement.accountOf(d.customer).balance == 0


def test_a_cancelled_change_gives_back_exactly_its_charge_even_after_new_terms(deal):
    d = deal
    d.installed("cc")
    d.order_change(Kind.MOVE, "cc", sender=d.customer)
    assert d.agreement.serviceOf(asset_id("cc")).charge == TARIFF[Kind.MOVE]
    ev = named(d.cancel_change("cc", sender=d.customer), "ChangeCancelled")[0]
    assert (ev.credit, ev.balance) == (-TARIFF[Kind.MOVE], 0)
    assert d.state("cc") is AssetState.ACTIVE
    with reverts_with("AgreementInvalidPending"):
        d.cancel_change("cc", sender=d.customer)  # once only
    with reverts_with("AgreementUnauthorized", account=d.customer2.address):
        d.order_change(Kind.MOVE, "cc", sender=d.customer2)  # not its twin


def test_finding_3_a_customer_cannot_claim_or_free_someone_elses_twin(deal):
    d = deal
    d.register("mine", customer=d.customer)  # the operator plans it for customer
    d.register("free")  # no customer yet
    before = d.balances()
    with reverts_with("AgreementNotCustomerAsset", assetId=asset_id("mine"), customer=d.customer2.address):
        d.request_installation("mine", customer=d.customer2, sender=d.customer2)
    with reverts_with("AgreementNotCustomerAsset", assetId=asset_id("mine"), customer=d.customer2.address):
        d.request_installation("mine", customer=d.customer2)  # not even the operator re-assigns it
    with reverts_with("AgreementNotCustomerAsset", assetId=asset_id("free"), customer=d.customer2.address):
        d.request_installation("free", customer=d.customer2, sender=d.customer2)  # unassigned: the operator decides
    with reverts_with("AgreementUnknownService"):
        d.withdraw_installation("free", sender=d.customer2)  # nothing open: nothing to withdraw
    assert d.state("mine") is AssetState.PLANNED and d.state("free") is AssetState.PLANNED
    d.request_installation("mine", customer=d.customer, sender=d.customer)  # its own twin: fine
    assert d.state("mine") is AssetState.PENDING_INSTALLATION
    with reverts_with("AgreementUnauthorized", account=d.customer2.address):
        d.withdraw_installation("mine", sender=d.customer2)
    assert d.balances() == before


def test_finding_3_a_former_customer_loses_its_hold_after_disconnection(deal, chain):
    d = deal
    d.installed("moving")
    d.order_disconnect("moving")
    d.confirm_disconnect("moving")
    twin = d.registry.getAsset(asset_id("moving"))
    assert twin.state == AssetState.INACTIVE and twin.customer == ZERO
    with reverts_with("AgreementUnknownService"):
        d.order_change(Kind.MOVE, "moving", sender=d.customer)
    # re-planned for customer2: the former customer cannot touch it
    d.request_installation("moving", customer=d.customer2)
    assert d.registry.getAsset(asset_id("moving")).customer == d.customer2.address
    with reverts_with("AgreementUnauthorized", account=d.customer.address):
        d.withdraw_installation("moving", sender=d.customer)
    with reverts_with("AgreementDuplicateInstallation", assetId=asset_id("moving")):
        d.request_installation("moving", customer=d.customer, sender=d.customer)


def test_finding_4_the_lifecycle_verbs_check_the_callers_relation(deal):
    d = deal
    d.register("nov", vendor=False)  # no vendor named
    d.act("scheduleInstallation", encode(["bytes32", "bytes32"], [asset_id("nov"), details("s")]))
    with reverts_with("AssetNotParty", assetId=asset_id("nov"), account=d.vendor.address):
        d.deliver("nov")  # the vendor delivers only twins it supplies
    d.installed("served")
    with reverts_with("AssetHeldByFlow"):
        raw_verb(d, "recover", "served", d.vendor)  # an Active customer's twin is not recovered
    assert d.state("nov") is AssetState.PENDING_INSTALLATION and d.state("served") is AssetState.ACTIVE


def test_finding_5_no_activation_around_the_unpaid_invoice(deal):
    d = deal
    d.register("gate")
    d.request_installation("gate")
    d.deliver("gate")
    with reverts_with("AssetHeldByFlow", assetId=asset_id("gate")):
        raw_verb(d, "commission", "gate", d.operator)
    inv = d.agreement.serviceOf(asset_id("gate")).installInvoice
    with reverts_with("AgreementNotFunded", invoiceId=inv, status=int(Status.ISSUED)):
        d.confirm_installation("gate")
    assert d.state("gate") is AssetState.DELIVERED


def test_an_installation_paid_by_an_early_release_is_still_confirmable(deal):
    d = deal
    d.register("early")
    d.request_installation("early")
    inv = d.agreement.serviceOf(asset_id("early")).installInvoice
    d.fund(inv)
    d.release(inv)  # the customer pays the operator before the work is confirmed
    d.deliver("early")
    r = d.confirm_installation("early")
    assert named(r, "InstallationConfirmed")[0].invoiceId == inv
    assert d.state("early") is AssetState.ACTIVE and d.status(inv) is Status.RELEASED


def test_finding_6_reclaim_gives_the_applied_credit_back(deal, chain):
    d = deal
    d.installed("cr")
    d.order_change(Kind.DELETE, "cr")  # -20 credit
    d.confirm_change("cr")
    d.bill()
    assert d.escrow.creditOf(d.customer, d.operator, d.token) == 20 * UNIT
    d.register("cr2")
    d.request_installation("cr2")
    inv = d.agreement.serviceOf(asset_id("cr2")).installInvoice
    assert d.escrow.invoice(inv).credited == 20 * UNIT
    before = d.balances()
    d.fund(inv)
    chain.mine(timestamp=d.escrow.reclaimableAt(inv))
    r = d.reclaim(inv)
    assert named(r, "CreditRestored")[0].amount == 20 * UNIT
    assert d.escrow.creditOf(d.customer, d.operator, d.token) == 20 * UNIT
    assert d.balances() == before


def test_finding_6_the_payer_exits_directly_without_the_constitution(deal, chain):
    d = deal
    inv = d.issue_direct(d.token, 500 * UNIT)
    before = d.balances()
    d.fund(inv)
    with reverts_with("EscrowReclaimTooEarly", invoiceId=inv):
        send(d.escrow.reclaim, inv, sender=d.customer)
    chain.mine(timestamp=d.escrow.reclaimableAt(inv))
    with reverts_with("EscrowNotPayer", invoiceId=inv, account=d.operator.address):
        send(d.escrow.reclaim, inv, sender=d.operator)
    d.escrow.reclaim(inv, sender=d.customer)  # no executeAction: works for a suspended or former member too
    assert d.status(inv) is Status.REFUNDED and d.balances() == before


def test_credit_is_paid_out_in_tokens_by_the_payee_and_only_once(deal):
    d = deal
    d.installed("po")
    d.order_change(Kind.DELETE, "po")
    d.confirm_change("po")
    d.bill()
    d.token.transfer(d.operator, 50 * UNIT, sender=d.customer2)
    d.token.approve(d.escrow, 20 * UNIT, sender=d.operator)
    before = d.balances()
    with reverts_with("EscrowInsufficientCredit", amount=21 * UNIT, available=20 * UNIT):
        d.pay_out_credit(d.customer, 21 * UNIT)
    with reverts_with("EscrowInsufficientCredit"):
        d.pay_out_credit(d.operator, 1, sender=d.customer)  # the customer is owed, it does not owe
    ev = named(d.pay_out_credit(d.customer, 20 * UNIT), "CreditPaidOut")[0]
    assert ev.amount == 20 * UNIT
    after = d.balances()
    assert (after["customer"] - before["customer"], after["operator"] - before["operator"]) == (20 * UNIT, -20 * UNIT)
    assert d.escrow.creditOf(d.customer, d.operator, d.token) == 0


def test_finding_8_nobody_mints_settlement_tokens_outside_the_governed_action(deal, accounts):
    d = deal
    assert not any(
        abi.name in ("mint", "transferOwnership", "owner") for abi in d.token.contract_type.abi if hasattr(abi, "name")
    )
    supply = d.token.totalSupply()
    with reverts_with("ModuleUnauthorizedCaller"):
        d.token.mintSettlement(
            d.operator, b"\0" * 32, encode(["address", "uint256"], [d.operator.address, 10**12]), sender=d.operator
        )
    assert d.token.totalSupply() == supply


def _deploy_agreement(project, d, terms, sender):
    """A second OperatorAgreement next to the deal's, with ``terms``: the constructor checks them."""
    return project.OperatorAgreement.deploy(
        d.constitution.address,
        d.registry.address,
        d.escrow.address,
        d.customers.address,
        d.operator.address,
        terms,
        sender=sender,
    )


@pytest.mark.parametrize(
    ("field", "days", "tariff_patch"),
    [
        ("paymentDays", 0, {}),
        ("paymentDays", 366, {}),
        ("installation", 14, {"installation": -1}),
        ("disconnect", 14, {"disconnect": -1}),
        ("move", 14, {Kind.MOVE: 2**71}),
    ],
)
def test_finding_11_terms_out_of_range_are_refused(project, deal, accounts, field, days, tariff_patch):
    d = deal
    tariff = {**TARIFF, **tariff_patch}
    with pytest.raises(Exception, match=selector_of("AgreementInvalidTerm(bytes32,int256)")):
        _deploy_agreement(project, d, terms_tuple(d.token, payment_days=days, tariff=tariff), accounts[0])


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.label)
def test_each_macd_tariff_is_range_checked_under_its_kind_s_name(project, deal, accounts, kind):
    """``Terms.macd`` is checked in a loop over MACD_KINDS: every kind, named ``macd<k>`` in the error."""
    d = deal
    bad = -(2**71) - 1  # one below int72
    field = f"macd{int(kind)}".encode().ljust(32, b"\0")
    revert = selector_of("AgreementInvalidTerm(bytes32,int256)") + encode(["bytes32", "int256"], [field, bad]).hex()
    with pytest.raises(Exception, match=revert):
        _deploy_agreement(project, d, terms_tuple(d.token, tariff={**TARIFF, kind: bad}), accounts[0])


@pytest.mark.parametrize("window", [0, DAY - 1, 365 * DAY + 1])
def test_finding_11_an_unusable_confirmation_window_is_refused(project, deal, accounts, window):
    with pytest.raises(Exception, match=selector_of("EscrowInvalidWindow(uint64)")):
        project.EscrowPayment.deploy(deal.constitution.address, window, sender=accounts[0])
    assert WINDOW == 30 * DAY
