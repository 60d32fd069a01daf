"""Customers as parties (issue 14 part A): the CustomerRegistry, EIP-712 consents verified on
chain (replay, expiry, wrong signer, wrong action / object / kind / ceiling), non-member customers
served through their operator, several operators in one deployment, bilateral price-list
commitments with an effective date. Balances checked to the unit."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from gas_figures import gas_figures
from telcochain.assets import AssetState
from telcochain.customers import Consent, consent_digest, sign_consent

from tests.support.agreement import TARIFF, UNIT, Kind, Status, asset_id, details
from tests.support.dryrun import named, reverts_with
from tests.support.encoding import ref
from tests.support.orders import oid

ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
RETAIL = Account.from_key(keccak(text="retail customer wallet"))  # never sends a transaction
OTHER_KEY = Account.from_key(keccak(text="someone else"))
INSTALL, MOVE, DISCONNECT = 600 * UNIT, 35 * UNIT, 40 * UNIT  # the bilateral price list (off chain)
PRICE_LIST = keccak(text="price list v1 commitment")


def chain_id() -> int:
    from ape import chain

    return chain.chain_id


def now() -> int:
    from ape import chain

    return chain.pending_timestamp


def add_customer(d, customer, signer=None, sender=None, name=b"n"):
    params = encode(
        ["address", "address", "bytes32", "bytes32"],
        [customer, signer or ZERO, keccak(name), ZERO32],
    )
    return d.act("addCustomer", params, sender=sender or d.operator, ref_=ref(f"add:{customer}:{name!r}"))


def consent(d, action, subject, *, customer=None, operator=None, kind=0, max_charge=0, nonce=1, deadline=None):
    return Consent(
        customer or RETAIL.address,
        operator or d.operator.address,
        action,
        subject,
        int(kind),
        max_charge,
        nonce,
        deadline if deadline is not None else now() + 3600,
    )


def sign(d, c: Consent, key=RETAIL) -> bytes:
    return sign_consent(c, key, chain_id(), d.customers.address)


def act_for(d, op, inner, charge, c: Consent | None = None, sig=b"", sender=None, **kw):
    params = encode(
        ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"],
        [op, inner, charge, c.max_charge if c else 0, c.nonce if c else 0, c.deadline if c else 0, sig],
    )
    return d.act("actFor", params, sender=sender or d.operator, **kw)


def install_inner(label, customer=None):
    return encode(["bytes32", "address", "bytes32"], [asset_id(label), customer or RETAIL.address, details(label)])


def change_inner(kind, label):
    return encode(["uint8", "bytes32", "bytes32"], [int(kind), asset_id(label), ZERO32])


def disconnect_inner(label, overdue=0):
    return encode(["bytes32", "uint256", "bytes32"], [asset_id(label), overdue, ZERO32])


@pytest.fixture(scope="module")
def retail(deal):
    """RETAIL registered by the operator with its own wallet as signing key (module-scoped: the
    registry state stays across this module's tests; ape snapshots around each test anyway)."""
    add_customer(deal, RETAIL.address, RETAIL.address)
    return RETAIL


def installed_for_retail(d, label, charge=0):
    """A twin installed (Active) for RETAIL with its consent, charge 0 (no invoice to fund:
    a non-member pays through part B's direct payment path)."""
    d.register(label)
    c = consent(
        d,
        "requestInstallation",
        asset_id(label),
        max_charge=charge,
        nonce=int.from_bytes(keccak(text=label)[:8], "big"),
    )
    act_for(d, 0, install_inner(label), charge, c, sign(d, c))
    d.deliver(label)
    d.confirm_installation(label)
    assert d.state(label) is AssetState.ACTIVE


# --- the registry ---------------------------------------------------------------------------------


def test_operator_registers_a_non_member_customer(deal, retail):
    d = deal
    v = d.customers.customerOf(RETAIL.address)
    assert (v.operator, v.signer, v.member) == (d.operator.address, RETAIL.address, False)
    assert v.nameHash == keccak(b"n") and v.addedAt > 0
    assert d.customers.operatorOf(RETAIL.address) == d.operator.address
    assert d.agreement.operatorOf(RETAIL.address) == d.operator.address
    # an unregistered member customer keeps the default operator
    assert d.agreement.operatorOf(d.customer.address) == d.operator.address
    with reverts_with("CustomerExists", customer=RETAIL.address, operator=d.operator.address):
        add_customer(d, RETAIL.address, sender=d.customer2)
    with reverts_with("CustomerInvalidAccount", customer=ZERO):
        add_customer(d, ZERO)
    with reverts_with("CustomerInvalidAccount", customer=d.operator.address):
        add_customer(d, d.operator.address)


def test_sdk_digest_equals_the_registry_digest(deal, retail):
    d = deal
    c = consent(d, "orderChange", asset_id("x"), kind=Kind.MOVE, max_charge=-5, nonce=2**200 + 7)
    assert d.customers.consentDigest(c.as_tuple()) == consent_digest(c, chain_id(), d.customers.address)
    assert d.customers.checkConsent(c.as_tuple(), sign(d, c))
    assert not d.customers.checkConsent(c.as_tuple(), sign(d, c, OTHER_KEY))


def test_only_the_operator_updates_a_customer(deal, retail):
    d = deal
    params = encode(["address", "bytes32", "bytes32"], [RETAIL.address, keccak(b"new"), ZERO32])
    with reverts_with("CustomerUnauthorized", account=d.vendor.address, customer=RETAIL.address):
        d.act("updateCustomer", params, sender=d.vendor)
    receipt = d.act("updateCustomer", params)
    assert named(receipt, "CustomerUpdated")[0].nameHash == keccak(b"new")
    assert d.customers.customerOf(RETAIL.address).nameHash == keccak(b"new")


# --- consented requests ---------------------------------------------------------------------------


def test_retail_customer_installation_with_consent_invoices_the_stated_charge(deal, retail):
    d = deal
    d.register("r1")
    c = consent(d, "requestInstallation", asset_id("r1"), max_charge=INSTALL, nonce=11)
    receipt = act_for(d, 0, install_inner("r1"), INSTALL, c, sign(d, c))
    ev = named(receipt, "InstallationRequested")[0]
    assert (ev.customer, ev.requester, ev.charge) == (RETAIL.address, RETAIL.address, INSTALL)
    used = named(receipt, "ConsentUsed")[0]
    assert (used.customer, used.operator, used.nonce, used.maxCharge) == (
        RETAIL.address,
        d.operator.address,
        11,
        INSTALL,
    )
    assert used.action == keccak(text="requestInstallation") and used.subject == asset_id("r1")
    inv = d.escrow.invoice(ev.invoiceId)
    assert (inv.payer, inv.payee, inv.amount, inv.hold) == (RETAIL.address, d.operator.address, INSTALL, True)
    s = d.agreement.serviceOf(asset_id("r1"))
    assert (s.customer, s.operator, s.bilateral, s.pending) == (RETAIL.address, d.operator.address, True, 1)
    assert d.registry.getAsset(asset_id("r1")).customer == RETAIL.address
    assert d.customers.nonceUsed(RETAIL.address, 11)


def test_consent_cannot_be_replayed(deal, retail):
    d = deal
    d.register("rp1")
    d.register("rp2")
    c = consent(d, "requestInstallation", asset_id("rp1"), nonce=21)
    sig = sign(d, c)
    act_for(d, 0, install_inner("rp1"), 0, c, sig)
    with reverts_with("CustomerConsentReplayed", customer=RETAIL.address, nonce=21):
        act_for(d, 0, install_inner("rp1"), 0, c, sig)
    # the same nonce for another object: still spent
    c2 = consent(d, "requestInstallation", asset_id("rp2"), nonce=21)
    with reverts_with("CustomerConsentReplayed", customer=RETAIL.address, nonce=21):
        act_for(d, 0, install_inner("rp2"), 0, c2, sign(d, c2))


def test_expired_consent_is_refused(deal, retail):
    d = deal
    d.register("ex")
    deadline = now() - 1
    c = consent(d, "requestInstallation", asset_id("ex"), nonce=31, deadline=deadline)
    with reverts_with("CustomerConsentExpired", deadline=deadline):
        act_for(d, 0, install_inner("ex"), 0, c, sign(d, c))
    assert not d.customers.nonceUsed(RETAIL.address, 31)
    assert d.agreement.serviceOf(asset_id("ex")).customer == ZERO


def test_consent_signed_by_another_key_is_refused(deal, retail):
    d = deal
    d.register("ws")
    c = consent(d, "requestInstallation", asset_id("ws"), nonce=41)
    with reverts_with("CustomerConsentInvalidSignature", customer=RETAIL.address, signer=RETAIL.address):
        act_for(d, 0, install_inner("ws"), 0, c, sign(d, c, OTHER_KEY))
    with reverts_with("CustomerConsentInvalidSignature", customer=RETAIL.address, signer=RETAIL.address):
        act_for(d, 0, install_inner("ws"), 0, c, b"\x01" * 65)


def test_consent_for_another_action_object_kind_or_ceiling_does_not_verify(deal, retail):
    d = deal
    installed_for_retail(d, "wa")
    installed_for_retail(d, "wb")
    # signed for a disconnect, submitted as a change
    c = consent(d, "orderDisconnect", asset_id("wa"), max_charge=MOVE, nonce=51)
    with reverts_with("CustomerConsentInvalidSignature"):
        act_for(
            d,
            1,
            change_inner(Kind.MOVE, "wa"),
            MOVE,
            consent(d, "orderChange", asset_id("wa"), max_charge=MOVE, nonce=51),
            sign(d, c),
        )
    # signed for asset wa, submitted for wb
    c = consent(d, "orderChange", asset_id("wa"), kind=Kind.MOVE, max_charge=MOVE, nonce=52)
    with reverts_with("CustomerConsentInvalidSignature"):
        act_for(d, 1, change_inner(Kind.MOVE, "wb"), MOVE, c, sign(d, c))
    # signed for a move, submitted as an add
    with reverts_with("CustomerConsentInvalidSignature"):
        act_for(d, 1, change_inner(Kind.ADD, "wa"), MOVE, c, sign(d, c))
    # the ceiling raised after signing
    sig = sign(d, c)
    raised = Consent(c.customer, c.operator, c.action, c.subject, c.kind, MOVE * 2, c.nonce, c.deadline)
    with reverts_with("CustomerConsentInvalidSignature"):
        act_for(d, 1, change_inner(Kind.MOVE, "wa"), MOVE * 2, raised, sig)
    # a charge above the signed ceiling
    with reverts_with("AgreementChargeAboveConsent", charge=MOVE + 1, maxCharge=MOVE):
        act_for(d, 1, change_inner(Kind.MOVE, "wa"), MOVE + 1, c, sig)
    # nothing was spent by the refusals: the genuine request still goes through
    receipt = act_for(d, 1, change_inner(Kind.MOVE, "wa"), MOVE, c, sig)
    ev = named(receipt, "ChangeOrdered")[0]
    assert (ev.requester, ev.charge, ev.balance) == (RETAIL.address, MOVE, MOVE)


def test_consent_submitted_by_another_member_is_refused(deal, retail):
    d = deal
    d.register("om")
    c = consent(d, "requestInstallation", asset_id("om"), nonce=61, operator=d.customer2.address)
    with reverts_with("CustomerUnauthorized", account=d.customer2.address, customer=RETAIL.address):
        act_for(d, 0, install_inner("om"), 0, c, sign(d, c), sender=d.customer2)


def test_plain_entry_points_refuse_a_registered_customer(deal, retail):
    d = deal
    d.register("pl")
    with reverts_with("AgreementBilateralTerms", customer=RETAIL.address):
        d.request_installation("pl", customer=RETAIL.address)
    installed_for_retail(d, "pl2")
    with reverts_with("AgreementBilateralTerms", customer=RETAIL.address):
        d.order_change(Kind.MOVE, "pl2")
    with reverts_with("AgreementBilateralTerms", customer=RETAIL.address):
        d.order_changes(Kind.MOVE, ["pl2"])
    with reverts_with("AgreementBilateralTerms", customer=RETAIL.address):
        d.order_disconnect("pl2", sender=d.operator)


def test_act_for_checks_operation_charge_and_customer(deal, retail):
    d = deal
    d.register("cx")
    with reverts_with("AgreementUnknownOperation", op=5):
        act_for(d, 5, install_inner("cx"), 0)
    with reverts_with("AgreementInvalidTerm"):
        act_for(d, 0, install_inner("cx"), -1)
    with reverts_with("AgreementInvalidTerm"):
        act_for(d, 0, install_inner("cx"), 2**71)
    # an unregistered (member) customer uses the plain entry points
    with reverts_with("AgreementInvalidCustomer", customer=d.customer.address):
        act_for(d, 0, install_inner("cx", d.customer.address), 0)
    # without a consent only the customer or its operator
    with reverts_with("AgreementUnauthorized", account=d.customer2.address):
        act_for(d, 0, install_inner("cx"), 0, sender=d.customer2)


def test_macd_and_disconnect_with_consent_bill_to_the_unit(deal, retail):
    d = deal
    installed_for_retail(d, "md")
    c = consent(d, "orderChange", asset_id("md"), kind=Kind.MOVE, max_charge=MOVE, nonce=71)
    act_for(d, 1, change_inner(Kind.MOVE, "md"), MOVE, c, sign(d, c))
    d.confirm_change("md")
    # a change the customer withdrew is given back exactly
    c = consent(d, "orderChange", asset_id("md"), kind=Kind.ADD, max_charge=10 * UNIT, nonce=72)
    act_for(d, 1, change_inner(Kind.ADD, "md"), 7 * UNIT, c, sign(d, c))
    assert d.agreement.accountOf(RETAIL.address).balance == MOVE + 7 * UNIT
    d.cancel_change("md")
    assert d.agreement.accountOf(RETAIL.address).balance == MOVE
    # the disconnect the customer asked for, filed by the operator with the consent
    c = consent(d, "orderDisconnect", asset_id("md"), max_charge=DISCONNECT, nonce=73)
    receipt = act_for(d, 2, disconnect_inner("md"), DISCONNECT, c, sign(d, c))
    ev = named(receipt, "DisconnectOrdered")[0]
    assert (ev.requester, ev.nonPayment, ev.charge, ev.balance) == (
        RETAIL.address,
        False,
        DISCONNECT,
        MOVE + DISCONNECT,
    )
    assert d.state("md") is AssetState.PENDING_DISCONNECT
    receipt = d.confirm_disconnect("md")
    inv_id = named(receipt, "DisconnectConfirmed")[0].invoiceId
    inv = d.escrow.invoice(inv_id)
    assert (inv.payer, inv.payee, inv.amount) == (RETAIL.address, d.operator.address, MOVE + DISCONNECT)
    assert d.status(inv_id) is Status.ISSUED
    assert d.agreement.serviceOf(asset_id("md")).customer == ZERO
    assert d.registry.getAsset(asset_id("md")).customer == ZERO


def test_operator_disconnect_without_consent_needs_an_overdue_invoice(deal, retail):
    d = deal
    installed_for_retail(d, "np")
    with reverts_with("AgreementNotOverdue", invoiceId=0, customer=RETAIL.address):
        act_for(d, 2, disconnect_inner("np"), DISCONNECT)


# --- several operators ----------------------------------------------------------------------------


def test_second_operator_serves_its_member_customer_and_is_paid_to_the_unit(deal):
    d = deal
    second = d.customer2  # a second operator in this deployment
    add_customer(d, d.customer.address, sender=second)
    assert d.agreement.operatorOf(d.customer.address) == second.address
    d.register("so")
    before = d.balances()
    # a customer asking for itself only gets a twin assigned to it: its operator picks one
    with reverts_with("AgreementNotCustomerAsset"):
        act_for(d, 0, install_inner("so", d.customer.address), 300 * UNIT, sender=d.customer)
    receipt = act_for(d, 0, install_inner("so", d.customer.address), 300 * UNIT, sender=second)
    inv_id = named(receipt, "InstallationRequested")[0].invoiceId
    assert d.escrow.invoice(inv_id).payee == second.address
    d.fund(inv_id, sender=d.customer)
    d.deliver("so")
    # the default operator does not serve this customer
    with reverts_with("AgreementUnauthorized", account=d.operator.address):
        d.confirm_installation("so")
    d.confirm_installation("so", sender=second)
    after = d.balances()
    assert after["customer2"] == before["customer2"] + 300 * UNIT
    assert after["customer"] == before["customer"] - 300 * UNIT
    assert after["operator"] == before["operator"] and after["escrow"] == before["escrow"]
    # the customer itself orders a change at its stated price; only its operator confirms and bills
    act_for(d, 1, change_inner(Kind.CHANGE, "so"), 12 * UNIT, sender=d.customer)
    with reverts_with("AgreementUnauthorized", account=d.operator.address):
        d.confirm_change("so")
    d.confirm_change("so", sender=second)
    with reverts_with("AgreementUnauthorized", account=d.operator.address):
        d.bill(d.customer)
    receipt = d.bill(d.customer, sender=second)
    bill = named(receipt, "AccountBilled")[0]
    assert bill.balance == 12 * UNIT
    inv = d.escrow.invoice(bill.invoiceId)
    assert (inv.payer, inv.payee, inv.amount) == (d.customer.address, second.address, 12 * UNIT)
    d.fund(bill.invoiceId, sender=d.customer)  # not held: paid straight to the second operator
    final = d.balances()
    assert final["customer2"] == after["customer2"] + 12 * UNIT
    assert final["customer"] == after["customer"] - 12 * UNIT
    assert sum(final.values()) == sum(before.values())


def test_another_operator_registering_a_served_customer_neither_bills_nor_serves_it(deal):
    """A member customer with a service on the default terms, registered afterwards by a second
    operator: the charges already on its running account stay the default operator's (the second
    one cannot bill them to itself), and the second operator cannot open services on that same
    account until the default ones have ended and been billed."""
    d = deal
    second = d.customer2  # a second operator in this deployment
    d.installed("mixed")
    d.order_change(Kind.MOVE, "mixed", sender=d.customer)  # accrued for the default operator
    add_customer(d, d.customer.address, sender=second)
    assert d.agreement.operatorOf(d.customer.address) == d.operator.address
    with reverts_with("AgreementUnauthorized", account=second.address):
        d.bill(d.customer, sender=second)
    d.register("mixed2")
    with reverts_with("AgreementInvalidCustomer", customer=d.customer.address):
        act_for(d, 0, install_inner("mixed2", d.customer.address), 0, sender=second)
    bill = named(d.bill(d.customer), "AccountBilled")[0]
    inv = d.escrow.invoice(bill.invoiceId)
    assert (inv.payer, inv.payee, inv.amount) == (d.customer.address, d.operator.address, TARIFF[Kind.MOVE])
    # the default service ends and is billed: the account is free for the second operator
    d.confirm_change("mixed")
    d.order_disconnect("mixed", sender=d.customer)
    d.confirm_disconnect("mixed")
    assert d.agreement.accountOf(d.customer.address).balance == 0
    act_for(d, 0, install_inner("mixed2", d.customer.address), 0, sender=second)
    assert d.agreement.operatorOf(d.customer.address) == second.address
    with reverts_with("AgreementUnauthorized", account=d.operator.address):
        d.bill(d.customer)


def test_a_customer_cannot_state_a_credit_for_itself(deal):
    """A member customer on bilateral terms states its own charges (checked by its operator's
    confirmation): never a credit — a credit is the operator's to state."""
    d = deal
    add_customer(d, d.customer.address)
    d.register("cr")
    act_for(d, 0, install_inner("cr", d.customer.address), 0)  # its operator installs it (free)
    d.deliver("cr")
    d.confirm_installation("cr")
    with reverts_with("AgreementInvalidTerm", value=-5 * UNIT):
        act_for(d, 1, change_inner(Kind.DELETE, "cr"), -5 * UNIT, sender=d.customer)
    receipt = act_for(d, 1, change_inner(Kind.DELETE, "cr"), -5 * UNIT)  # the operator may credit it
    assert named(receipt, "ChangeOrdered")[0].balance == -5 * UNIT
    d.cancel_change("cr", sender=d.customer)
    act_for(d, 1, change_inner(Kind.CHANGE, "cr"), 9 * UNIT, sender=d.customer)  # a charge: fine
    assert d.agreement.accountOf(d.customer.address).balance == 9 * UNIT


def test_a_service_opened_on_default_terms_stays_on_them(deal):
    """Registering a member customer later does not let anyone restate the charges of a
    service it already has on the public default tariff."""
    d = deal
    d.installed("legacy")
    add_customer(d, d.customer.address)  # now bilateral for its future services
    with reverts_with("AgreementInvalidCustomer", customer=d.customer.address):
        act_for(d, 1, change_inner(Kind.MOVE, "legacy"), 0)
    with reverts_with("AgreementInvalidCustomer", customer=d.customer.address):
        act_for(d, 1, change_inner(Kind.MOVE, "legacy"), 0, sender=d.customer)
    receipt = d.order_change(Kind.MOVE, "legacy", sender=d.customer)  # the plain path, the tariff
    assert named(receipt, "ChangeOrdered")[0].charge == TARIFF[Kind.MOVE]


# --- signing keys ---------------------------------------------------------------------------------


def test_operator_rotates_a_key_only_with_the_current_keys_consent(deal, retail):
    d = deal
    new = OTHER_KEY.address
    subject = bytes(12) + bytes.fromhex(new[2:])

    def params(c=None, sig=b""):
        return encode(
            ["address", "address", "uint256", "uint64", "bytes"],
            [RETAIL.address, new, c.nonce if c else 0, c.deadline if c else 0, sig],
        )

    with reverts_with("CustomerUnauthorized", account=d.operator.address):  # no consent at all
        d.act("setSigner", params())
    c = consent(d, "setSigner", subject, nonce=81)
    with reverts_with("CustomerConsentInvalidSignature"):
        d.act("setSigner", params(c, sign(d, c, OTHER_KEY)))  # the new key cannot sign itself in
    receipt = d.act("setSigner", params(c, sign(d, c)))
    ev = named(receipt, "CustomerSignerChanged")[0]
    assert (ev.previous, ev.signer) == (RETAIL.address, new)
    assert d.customers.customerOf(RETAIL.address).signer == new
    # the old key's consents no longer verify
    d.register("rot")
    c = consent(d, "requestInstallation", asset_id("rot"), nonce=82)
    with reverts_with("CustomerConsentInvalidSignature", signer=new):
        act_for(d, 0, install_inner("rot"), 0, c, sign(d, c))


# --- price lists ----------------------------------------------------------------------------------


def propose(d, customer, commitment, effective_from, sender):
    params = encode(["address", "bytes32", "uint64", "bytes32"], [customer, commitment, effective_from, ZERO32])
    return d.act("proposeTerms", params, sender=sender)


def accept(d, customer, commitment, effective_from, sender, c=None, sig=b""):
    params = encode(
        ["address", "bytes32", "uint64", "uint256", "uint64", "bytes"],
        [customer, commitment, effective_from, c.nonce if c else 0, c.deadline if c else 0, sig],
    )
    return d.act("acceptTerms", params, sender=sender)


def test_price_list_agreed_with_a_non_members_consent(deal, retail):
    d = deal
    receipt = propose(d, RETAIL.address, PRICE_LIST, 0, d.operator)
    assert named(receipt, "TermsProposed")[0].proposer == d.operator.address
    t = d.customers.termsOf(RETAIL.address)
    assert (t.proposed, t.proposer, t.current, t.version) == (PRICE_LIST, d.operator.address, ZERO32, 0)
    # the operator cannot accept its own proposal without the customer's consent
    with reverts_with("CustomerUnauthorized", account=d.operator.address):
        accept(d, RETAIL.address, PRICE_LIST, 0, d.operator)
    c = consent(d, "acceptTerms", PRICE_LIST, nonce=91)
    with reverts_with("TermsNoProposal"):
        accept(d, RETAIL.address, keccak(b"other"), 0, d.operator, c, sign(d, c))
    receipt = accept(d, RETAIL.address, PRICE_LIST, 0, d.operator, c, sign(d, c))
    ev = named(receipt, "TermsAgreed")[0]
    assert (ev.commitment, ev.version) == (PRICE_LIST, 1)
    t = d.customers.termsOf(RETAIL.address)
    assert (t.current, t.version, t.proposed) == (PRICE_LIST, 1, ZERO32)
    assert d.customers.termsAt(RETAIL.address, now()) == PRICE_LIST


def test_member_customer_and_operator_agree_a_list_from_a_future_date(deal):
    from ape import chain

    d = deal
    add_customer(d, d.customer.address)
    v1, v2 = keccak(b"v1"), keccak(b"v2")
    propose(d, d.customer.address, v1, 0, d.customer)
    with reverts_with("CustomerUnauthorized", account=d.customer.address):
        accept(d, d.customer.address, v1, 0, d.customer)  # the proposer cannot accept
    with reverts_with("CustomerUnauthorized", account=d.vendor.address):
        accept(d, d.customer.address, v1, 0, d.vendor)
    accept(d, d.customer.address, v1, 0, d.operator)
    start = now() + 30 * 86_400
    propose(d, d.customer.address, v2, start, d.operator)
    accept(d, d.customer.address, v2, start, d.customer)
    t = d.customers.termsOf(d.customer.address)
    assert (t.current, t.next, t.nextFrom, t.version) == (v1, v2, start, 2)
    assert d.customers.termsAt(d.customer.address, start - 1) == v1
    assert d.customers.termsAt(d.customer.address, start) == v2
    chain.pending_timestamp = start + 1
    chain.mine()
    assert d.customers.termsOf(d.customer.address).current == v2


# --- gas ------------------------------------------------------------------------------------------

GAS_BOUNDS = {  # loose sanity bounds; the figures go in docs/gas.json (docs/agreement.md quotes them)
    "addCustomer": 150_000,
    "proposeTerms": 120_000,
    "acceptTerms": 160_000,
    # + service count, period digest and the operator's own slot (issue 14 B)
    "actFor_installation": 600_000,
    "actFor_orderChange": 170_000,
    "confirmChange_bilateral": 110_000,
    "actFor_orderChange_operator": 130_000,
    "orderChange_default": 110_000,
    "actFor_orderDisconnect": 180_000,
    "createOrder": 150_000,
    "createOrderFor": 220_000,
}
#: A consent nonce far from the others: a fresh word of the customer's nonce bitmap, as a wallet's
#: random 64-bit nonce is (nonces in one word of 256 share its first write).
FRESH_WORD_NONCE = 0x9E3779B97F4A7C15


def test_gas_of_customer_operations(deal, retail):
    d = deal
    other = OTHER_KEY.address
    with gas_figures() as gas:

        def measure(key, label, receipt):
            return gas(f"customers.{key}", receipt.gas_used, label)

        measure("addCustomer", "addCustomer", add_customer(d, other, other))
        measure("proposeTerms", "proposeTerms", propose(d, RETAIL.address, PRICE_LIST, 0, d.operator))
        c = consent(d, "acceptTerms", PRICE_LIST, nonce=1001)
        accepted = accept(d, RETAIL.address, PRICE_LIST, 0, d.operator, c, sign(d, c))
        measure("acceptTerms", "acceptTerms (the operator, with the customer's consent)", accepted)
        d.register("gas")
        c = consent(d, "requestInstallation", asset_id("gas"), max_charge=INSTALL, nonce=1002)
        r = act_for(d, 0, install_inner("gas"), INSTALL, c, sign(d, c))
        measure("actFor_installation", "actFor installation (consent, held invoice issued)", r)
        installed_for_retail(d, "gas2")
        c = consent(d, "orderChange", asset_id("gas2"), kind=Kind.MOVE, max_charge=MOVE, nonce=1003)
        r = act_for(d, 1, change_inner(Kind.MOVE, "gas2"), MOVE, c, sign(d, c))
        measure("actFor_orderChange", "actFor orderChange (consent)", r)
        measure("confirmChange_bilateral", "confirmChange of a bilateral service", d.confirm_change("gas2"))
        r = act_for(d, 1, change_inner(Kind.MOVE, "gas2"), MOVE)
        measure("actFor_orderChange_operator", "actFor orderChange, the operator alone (no consent)", r)
        d.confirm_change("gas2")
        d.installed("gas3")
        r = d.order_change(Kind.MOVE, "gas3")
        measure("orderChange_default", "plain orderChange, default terms (same run, for comparison)", r)
        c = consent(d, "orderDisconnect", asset_id("gas2"), max_charge=DISCONNECT, nonce=1004)
        r = act_for(d, 2, disconnect_inner("gas2"), DISCONNECT, c, sign(d, c))
        measure("actFor_orderDisconnect", "actFor orderDisconnect (consent)", r)
        project, first, second = oid("P-GAS"), oid("O-GAS-1"), oid("O-GAS-2")
        d.act("createProject", encode(["bytes32", "address", "bytes32"], [project, RETAIL.address, details("P-GAS")]))
        r = d.act("createOrder", encode(["bytes32", "bytes32", "bytes32"], [first, project, details("O-GAS-1")]))
        measure("createOrder", "createOrder (the operator's own record of the customer's order)", r)
        c = consent(d, "createOrder", second, nonce=FRESH_WORD_NONCE)
        params = encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "uint64", "bytes"],
            [second, project, details("O-GAS-2"), c.nonce, c.deadline, sign(d, c)],
        )
        measure(
            "createOrderFor",
            "createOrderFor (with the customer's consent, a fresh nonce word)",
            d.act("createOrderFor", params),
        )
    print("\n| customer operation (whole tx) | gas |\n| --- | ---: |")
    for key, (used, label) in gas.measured.items():
        print(f"| {label} | {used:,} |")
        assert used < GAS_BOUNDS[key.split(".", 1)[1]], (key, used)
