"""A registered customer's bulk MACD order (issue 14): ``actFor`` op 4 orders one MACD kind on a
list of the customer's bilateral services at the operator's stated unit charge, by the operator
alone or with the customer's EIP-712 consent over the whole list (action ``orderChanges``,
subject ``keccak256(abi.encodePacked(assetIds))``, ceiling per asset). Balances and account
lines to the unit; the bulk confirmation is the plain ``confirmChanges``."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from gas_figures import gas_figures
from telcochain.agreement import Pending
from telcochain.assets import AssetState
from telcochain.customers import list_subject

from tests.support.agreement import UNIT, Kind, asset_id, details
from tests.support.dryrun import named, reverts_with

from .test_customers import (
    MOVE,
    OTHER_KEY,
    RETAIL,
    ZERO32,
    act_for,
    add_customer,
    consent,
    install_inner,
    sign,
)

MAX_BATCH = 256


@pytest.fixture(scope="module")
def retail(deal):
    """RETAIL registered by the operator with its own wallet as signing key."""
    add_customer(deal, RETAIL.address, RETAIL.address)
    return RETAIL


def bulk_inner(kind, labels, detail=ZERO32):
    return encode(["uint8", "bytes32[]", "bytes32"], [int(kind), [asset_id(x) for x in labels], detail])


def subject(labels) -> bytes:
    return keccak(b"".join(asset_id(x) for x in labels))


def list_consent(d, kind, labels, ceiling, nonce, **kw):
    return consent(d, "orderChanges", subject(labels), kind=kind, max_charge=ceiling, nonce=nonce, **kw)


def installed_bilateral(d, labels, customer=None):
    """Twins installed (Active) for a registered customer by its operator alone (free)."""
    d._batched(lambda x: d.register(x), labels, 50)
    d._batched(lambda x: act_for(d, 0, install_inner(x, customer), 0), labels, 50)
    d._batched(d.deliver, labels, 50)
    d._batched(d.confirm_installation, labels, 50)
    assert {d.state(x) for x in labels} == {AssetState.ACTIVE}


def test_sdk_list_subject_is_the_contracts(deal):
    labels = ["s1", "s2", "s3"]
    assert list_subject([asset_id(x) for x in labels]) == subject(labels)


def test_bulk_order_with_consent_accrues_the_total_once_to_the_unit(deal, retail):
    d = deal
    labels = [f"bk{i}" for i in range(3)]
    installed_bilateral(d, labels)
    before = d.agreement.accountOf(RETAIL.address)
    c = list_consent(d, Kind.MOVE, labels, MOVE, nonce=501)
    receipt = act_for(d, 4, bulk_inner(Kind.MOVE, labels, details("bulk")), MOVE - 1, c, sign(d, c))
    ev = named(receipt, "ChangesOrdered")
    assert len(ev) == 1
    ev = ev[0]
    assert (ev.customer, ev.requester, ev.kind, ev.charge) == (
        RETAIL.address,
        RETAIL.address,
        Kind.MOVE,
        3 * (MOVE - 1),
    )
    assert [bytes(a) for a in ev.assetIds] == [asset_id(x) for x in labels]
    assert len(named(receipt, "ConsentUsed")) == 1
    after = d.agreement.accountOf(RETAIL.address)
    assert after.balance - before.balance == 3 * (MOVE - 1) == ev.balance - before.balance
    assert after.lines - before.lines == 3
    for x in labels:
        s = d.agreement.serviceOf(asset_id(x))
        assert (Pending(s.pending), s.kind, s.charge, s.bilateral) == (Pending.CHANGE, Kind.MOVE, MOVE - 1, True)
        assert d.state(x) is AssetState.PENDING_CHANGE
    assert d.customers.nonceUsed(RETAIL.address, 501)
    # one withdrawn change gives back exactly its unit charge; the rest confirmed in bulk
    d.cancel_change(labels[0])
    assert d.agreement.accountOf(RETAIL.address).balance - before.balance == 2 * (MOVE - 1)
    receipt = d.confirm_changes(False, labels[1:])
    assert len(named(receipt, "ChangesConfirmed")) == 1
    assert {d.state(x) for x in labels} == {AssetState.ACTIVE}
    assert all(Pending(d.agreement.serviceOf(asset_id(x)).pending) is Pending.NONE for x in labels)


def test_bulk_deletions_confirmed_in_bulk_end_the_bilateral_services(deal, retail):
    d = deal
    labels = ["bd0", "bd1"]
    installed_bilateral(d, labels)
    services = d.agreement.serviceCount(RETAIL.address)
    act_for(d, 4, bulk_inner(Kind.DELETE, labels), 3 * UNIT)  # the operator alone
    with reverts_with("AgreementDeletionMismatch", assetId=asset_id("bd0"), pendingDelete=True):
        d.confirm_changes(False, labels)
    with reverts_with("AgreementUnauthorized", account=d.customer2.address):
        d.confirm_changes(True, labels, sender=d.customer2)
    d.confirm_changes(True, labels)
    assert {d.state(x) for x in labels} == {AssetState.INACTIVE}
    assert d.agreement.serviceCount(RETAIL.address) == services - 2
    assert d.agreement.serviceOf(asset_id("bd0")).customer == "0x" + "00" * 20


def test_bulk_consent_replay_expiry_and_other_list_are_refused(deal, retail):
    d = deal
    labels = ["br0", "br1", "br2"]
    installed_bilateral(d, labels)
    inner = bulk_inner(Kind.ADD, labels)
    c = list_consent(d, Kind.ADD, labels, 5 * UNIT, nonce=601)
    sig = sign(d, c)
    # another list (a subset, another order), another kind or a larger ceiling: does not verify
    for other in (labels[:2], [labels[1], labels[0], labels[2]]):
        with reverts_with("CustomerConsentInvalidSignature", customer=RETAIL.address):
            act_for(d, 4, bulk_inner(Kind.ADD, other), 5 * UNIT, c, sig)
    with reverts_with("CustomerConsentInvalidSignature", customer=RETAIL.address):
        act_for(d, 4, bulk_inner(Kind.CHANGE, labels), 5 * UNIT, c, sig)
    bigger = list_consent(d, Kind.ADD, labels, 6 * UNIT, nonce=601)
    with reverts_with("CustomerConsentInvalidSignature", customer=RETAIL.address):
        act_for(d, 4, inner, 6 * UNIT, bigger, sig)
    # the ceiling is per asset
    with reverts_with("AgreementChargeAboveConsent", charge=5 * UNIT + 1, maxCharge=5 * UNIT):
        act_for(d, 4, inner, 5 * UNIT + 1, c, sig)
    # a single-asset consent does not cover a list of that one asset (its subject is the id)
    one = consent(d, "orderChange", asset_id("br0"), kind=Kind.ADD, max_charge=5 * UNIT, nonce=602)
    with reverts_with("CustomerConsentInvalidSignature", customer=RETAIL.address):
        act_for(d, 4, bulk_inner(Kind.ADD, ["br0"]), 5 * UNIT, one, sign(d, one))
    before = d.agreement.accountOf(RETAIL.address).balance
    act_for(d, 4, inner, 5 * UNIT, c, sig)
    assert d.agreement.accountOf(RETAIL.address).balance == before + 15 * UNIT
    d.confirm_changes(False, labels)
    with reverts_with("CustomerConsentReplayed", customer=RETAIL.address, nonce=601):
        act_for(d, 4, inner, 5 * UNIT, c, sig)
    late = list_consent(d, Kind.ADD, labels, 5 * UNIT, nonce=603, deadline=1)
    with reverts_with("CustomerConsentExpired", deadline=1):
        act_for(d, 4, inner, 5 * UNIT, late, sign(d, late))
    # a consent is the customer's operator's to file
    with reverts_with("CustomerUnauthorized", account=d.customer2.address, customer=RETAIL.address):
        act_for(d, 4, inner, 5 * UNIT, c, sig, sender=d.customer2)


def test_bulk_order_refuses_mixed_customers_and_default_terms_services(deal, retail):
    d = deal
    installed_bilateral(d, ["mx0", "mx1"])
    add_customer(d, OTHER_KEY.address, OTHER_KEY.address)  # a second registered customer
    installed_bilateral(d, ["mx2"], OTHER_KEY.address)
    with reverts_with("AgreementMixedCustomers", assetId=asset_id("mx2"), customer=OTHER_KEY.address):
        act_for(d, 4, bulk_inner(Kind.MOVE, ["mx0", "mx2", "mx1"]), MOVE)
    # a service on the public default terms, first or later in the list
    d.installed("dt0")  # the member customer's, default terms
    with reverts_with("AgreementInvalidCustomer", customer=d.customer.address):
        act_for(d, 4, bulk_inner(Kind.MOVE, ["dt0"]), MOVE)
    add_customer(d, d.customer.address)  # now registered: its new services are bilateral
    installed_bilateral(d, ["dt1"], d.customer.address)
    with reverts_with("AgreementInvalidCustomer", customer=d.customer.address):
        act_for(d, 4, bulk_inner(Kind.MOVE, ["dt1", "dt0"]), MOVE)
    # and the plain bulk order still refuses the bilateral one
    with reverts_with("AgreementBilateralTerms", customer=d.customer.address):
        d.order_changes(Kind.MOVE, ["dt0", "dt1"], sender=d.customer)
    for x in ("mx0", "mx1", "mx2", "dt0", "dt1"):
        assert Pending(d.agreement.serviceOf(asset_id(x)).pending) is Pending.NONE


def test_bulk_order_checks_size_kind_charge_caller_and_open_operations(deal, retail):
    d = deal
    labels = ["ck0", "ck1"]
    installed_bilateral(d, labels)
    too_long = [f"nx{i}" for i in range(MAX_BATCH + 1)]
    with reverts_with("AgreementBatchInvalidSize", count=MAX_BATCH + 1, max=MAX_BATCH):
        act_for(d, 4, bulk_inner(Kind.MOVE, too_long), MOVE)
    with reverts_with("AgreementBatchInvalidSize", count=0, max=MAX_BATCH):
        act_for(d, 4, bulk_inner(Kind.MOVE, []), MOVE)
    beyond = len(Kind)  # the first number that is no MACD kind
    with reverts_with("AgreementUnknownKind", kind=beyond):
        act_for(d, 4, bulk_inner(beyond, labels), MOVE)
    with reverts_with("AgreementUnknownKind", kind=beyond):  # the single path checks it too
        act_for(d, 1, encode(["uint8", "bytes32", "bytes32"], [beyond, asset_id("ck0"), ZERO32]), MOVE)
    with reverts_with("AgreementInvalidTerm", value=2**71):
        act_for(d, 4, bulk_inner(Kind.MOVE, labels), 2**71)
    with reverts_with("AgreementUnknownService", assetId=asset_id("nobody")):
        act_for(d, 4, bulk_inner(Kind.MOVE, ["nobody"]), MOVE)
    # without a consent: only the customer or its operator
    with reverts_with("AgreementUnauthorized", account=d.customer2.address):
        act_for(d, 4, bulk_inner(Kind.MOVE, labels), MOVE, sender=d.customer2)
    # the operator states a credit (negative unit charge)
    before = d.agreement.accountOf(RETAIL.address).balance
    receipt = act_for(d, 4, bulk_inner(Kind.DELETE, ["ck0"]), -2 * UNIT)
    assert named(receipt, "ChangesOrdered")[0].requester == d.operator.address
    assert d.agreement.accountOf(RETAIL.address).balance == before - 2 * UNIT
    # something open on one asset: nothing is ordered
    with reverts_with("AgreementInvalidPending", assetId=asset_id("ck0")):
        act_for(d, 4, bulk_inner(Kind.MOVE, ["ck1", "ck0"]), MOVE)
    assert Pending(d.agreement.serviceOf(asset_id("ck1")).pending) is Pending.NONE
    assert d.agreement.accountOf(RETAIL.address).balance == before - 2 * UNIT


def test_a_member_customer_on_bilateral_terms_orders_in_bulk_but_states_no_credit(deal):
    d = deal
    add_customer(d, d.customer.address)
    installed_bilateral(d, ["mc0", "mc1"], d.customer.address)
    with reverts_with("AgreementInvalidTerm", value=-1):
        act_for(d, 4, bulk_inner(Kind.CHANGE, ["mc0", "mc1"]), -1, sender=d.customer)
    receipt = act_for(d, 4, bulk_inner(Kind.CHANGE, ["mc0", "mc1"]), 4 * UNIT, sender=d.customer)
    ev = named(receipt, "ChangesOrdered")[0]
    assert (ev.requester, ev.charge, ev.balance) == (d.customer.address, 8 * UNIT, 8 * UNIT)
    # the customer's operator (not the default one here: the same, registered it) confirms in bulk
    d.confirm_changes(False, ["mc0", "mc1"])
    assert {d.state(x) for x in ("mc0", "mc1")} == {AssetState.ACTIVE}


def test_gas_of_a_bulk_order_of_100_for_a_registered_customer(deal, retail, capsys):
    """The key figure (docs/agreement.md): gas per asset of actFor op 4 on 100 services, by the
    operator alone and with the customer's consent, against orderChanges on the default terms."""
    d = deal
    n = 100
    labels = [f"g{i}" for i in range(n)]
    installed_bilateral(d, labels)
    rows = {}
    rows["actFor op 4, operator alone"] = act_for(d, 4, bulk_inner(Kind.MOVE, labels), MOVE).gas_used
    rows["confirmChanges (bilateral)"] = d.confirm_changes(False, labels).gas_used
    c = list_consent(d, Kind.ADD, labels, MOVE, nonce=901)
    rows["actFor op 4, with consent"] = act_for(d, 4, bulk_inner(Kind.ADD, labels), MOVE, c, sign(d, c)).gas_used
    d.confirm_changes(False, labels)
    plain = [f"p{i}" for i in range(n)]
    d.installed_many(plain)
    rows["orderChanges (default terms)"] = d.order_changes(Kind.MOVE, plain).gas_used
    with gas_figures() as gas:
        for key, name in (
            ("actFor_op4_operator", "actFor op 4, operator alone"),
            ("actFor_op4_consent", "actFor op 4, with consent"),
            ("confirmChanges_bilateral", "confirmChanges (bilateral)"),
            ("orderChanges_default", "orderChanges (default terms)"),
        ):
            gas(f"bilateral_bulk.{key}", rows[name] / n, f"{name}, of {n}, per asset")
    with capsys.disabled():
        print(f"\n| bulk MACD of {n} (whole tx) | gas | per asset |\n| --- | ---: | ---: |")
        for name, used in rows.items():
            print(f"| {name} | {used:,} | {used / n:,.0f} |")
    assert rows["actFor op 4, operator alone"] / n < 25_000
    assert rows["actFor op 4, with consent"] / n < 26_000
