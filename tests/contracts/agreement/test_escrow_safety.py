"""Escrow misuse: re-entrancy by a malicious token, double release, release by a stranger,
refund after release, reclaim before the deadline: each rejected with its custom error and
nothing changed. Plus the reclaim after the deadline (no funds stuck) and access control."""

from __future__ import annotations

import pytest
from eth_abi import encode
from telcochain.assets import AssetState

from tests.support.agreement import AGREEMENT_PERMISSIONS, ESCROW_PUBLIC, UNIT, WINDOW, Kind, Status, asset_id
from tests.support.dryrun import named, reverts_with
from tests.support.encoding import action_id, ref

AMOUNT = 500 * UNIT


def test_double_release_stranger_refund_after_release(deal):
    d = deal
    inv = d.issue_direct(d.token, AMOUNT)
    d.fund(inv)
    # the payee cannot release to itself; another member neither
    with reverts_with("EscrowNotPayer", invoiceId=inv, account=d.operator.address):
        d.release(inv, sender=d.operator)
    with reverts_with("EscrowNotPayer", account=d.customer2.address):
        d.release(inv, sender=d.customer2)
    # a non-member is reverted by the Constitution (nothing recorded, nothing changed)
    before = d.balances()
    with reverts_with("ConstitutionNotMember", account=d.stranger.address):
        d.release(inv, sender=d.stranger)
    assert d.status(inv) is Status.FUNDED and d.balances() == before
    d.release(inv)  # the payer releases
    after = d.balances()
    assert after["operator"] == before["operator"] + AMOUNT and after["escrow"] == before["escrow"] - AMOUNT
    with reverts_with("EscrowInvalidStatus", invoiceId=inv, status=int(Status.RELEASED)):
        d.release(inv)
    with reverts_with("EscrowInvalidStatus", invoiceId=inv, status=int(Status.RELEASED)):
        d.refund(inv)
    with reverts_with("EscrowInvalidStatus", invoiceId=inv, status=int(Status.RELEASED)):
        d.reclaim(inv)
    with reverts_with("EscrowInvalidStatus", invoiceId=inv, status=int(Status.RELEASED)):
        d.fund(inv)
    with reverts_with("EscrowUnknownInvoice", invoiceId=999):
        d.fund(999)


def test_double_confirmation_rejected(deal):
    d = deal
    d.installed("twice")
    # the installation was confirmed once: nothing is open any more (expected 1 Installation, actual 0 None)
    with reverts_with("AgreementInvalidPending", assetId=asset_id("twice"), expected=1, actual=0):
        d.confirm_installation("twice")


def test_reclaim_only_after_deadline(deal, chain):
    d = deal
    before = d.balances()
    inv = d.issue_direct(d.token, AMOUNT)
    d.fund(inv)
    at = d.escrow.reclaimableAt(inv)
    assert at == d.escrow.invoice(inv).fundedAt + WINDOW
    with reverts_with("EscrowReclaimTooEarly", invoiceId=inv, reclaimableAt=at):
        d.reclaim(inv)
    with reverts_with("EscrowNotPayee", invoiceId=inv, account=d.customer.address):
        d.refund(inv, sender=d.customer)
    chain.mine(timestamp=at)
    with reverts_with("EscrowNotPayer"):
        d.reclaim(inv, sender=d.operator)
    r = d.reclaim(inv)
    assert named(r, "InvoiceRefunded")[0].reclaimed
    assert d.status(inv) is Status.REFUNDED and d.balances() == before


def test_payee_refund_and_cancel(deal):
    d = deal
    before = d.balances()
    funded, issued = d.issue_direct(d.token, AMOUNT), d.issue_direct(d.token, AMOUNT)
    d.fund(funded)
    d.refund(funded)
    d.refund(issued)
    assert d.status(funded) is Status.REFUNDED and d.status(issued) is Status.CANCELLED
    assert d.balances() == before
    with reverts_with("EscrowInvalidStatus", invoiceId=issued, status=int(Status.CANCELLED)):
        d.fund(issued)


@pytest.mark.parametrize("step", ["fund", "release", "refund", "reclaim"])
@pytest.mark.parametrize("route", ["escrow", "constitution"])
def test_malicious_token_reentrancy(deal, chain, step, route):
    d = deal
    inv = d.issue_direct(d.evil, AMOUNT)
    if step != "fund":
        d.fund(inv)
    if step == "reclaim":
        chain.mine(timestamp=d.escrow.reclaimableAt(inv))
    other = d.issue_direct(d.evil, AMOUNT)
    # the token tries to fund/release another invoice (or the same one) while it is called
    params = encode(["uint256"], [other if step == "fund" else inv])
    if route == "escrow":
        payload = d.escrow.releaseInvoice.encode_input(d.customer, ref("evil"), params)
        error = "ReentrancyGuardReentrantCall"
    else:
        payload = d.constitution.executeAction.encode_input(action_id("releaseInvoice"), params, ref("evil"))
        error = "ConstitutionReentrantCall"
    d.evil.arm(d.constitution if route == "constitution" else d.escrow, payload, sender=d.customer)
    before = d.balances(d.evil)
    status = d.status(inv)
    action = {"fund": d.fund, "release": d.release, "refund": d.refund, "reclaim": d.reclaim}[step]
    with reverts_with(error):
        action(inv)
    assert d.balances(d.evil) == before and d.status(inv) is status


def test_access_control_every_action(deal):
    """Who may not: the Constitution denies those without the action; the contract refuses
    members acting outside their role."""
    d = deal
    d.installed("acl")
    zero = encode(["bytes32", "bytes32"], [asset_id("acl"), b"\x00" * 32])
    for name in list(AGREEMENT_PERMISSIONS) + list(ESCROW_PUBLIC):
        with reverts_with("ConstitutionNotMember", account=d.stranger.address):
            d.act(name, zero, sender=d.stranger)
    for name in ("confirmInstallation", "confirmChange", "confirmDisconnect"):
        r = d.act(name, zero, sender=d.vendor)
        assert named(r, "ActionDenied"), name
    # members granted the action but not parties to this asset
    with reverts_with("AgreementUnauthorized", account=d.customer2.address):
        d.order_change(0, "acl", sender=d.customer2)
    with reverts_with("AgreementUnauthorized", account=d.customer2.address):
        d.order_disconnect("acl", sender=d.customer2)
    with reverts_with("AgreementUnauthorized", account=d.customer.address):
        d.request_installation("x", customer=d.customer2, sender=d.customer)
    d.register("x")
    with reverts_with("AgreementInvalidCustomer", customer=d.operator.address):
        d.request_installation("x", customer=d.operator)
    with reverts_with("AgreementInvalidCustomer", customer=d.stranger.address):
        d.request_installation("x", customer=d.stranger)
    # the Internal actions are not reachable by members
    r = d.act("issueInvoice", b"", sender=d.operator)
    assert named(r, "ActionDenied")[0].reason == 5  # InternalAction
    r = d.act("transitionBatch", b"", sender=d.operator)
    assert named(r, "ActionDenied")[0].reason == 5
    with reverts_with("AgreementUnknownService", assetId=asset_id("x")):
        d.order_change(0, "x")
    with reverts_with("AgreementUnknownKind", kind=len(Kind) + 3):
        d.order_change(len(Kind) + 3, "acl")
    assert d.state("acl") is AssetState.ACTIVE
