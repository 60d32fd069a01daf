"""client.customers against the example consortium (deployed by the real deploy script): a
retail customer without a node orders through its operator with an EIP-712 consent signed by a
standard wallet; consent replay and expiry; bilateral price lists committed on chain and
delivered encrypted; order status reaching the order's customer and vendors (issue 14 part A)."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from eth_utils import keccak
from nacl.public import PrivateKey
from telcochain import Client
from telcochain.agreement import InvoiceStatus
from telcochain.assets import asset_id
from telcochain.customers import (
    Consent,
    ConsentError,
    consent_digest,
    list_subject,
    open_price_list,
    price_list_commitment,
    recover_consent_signer,
    seal_price_list,
    terms_subject,
)
from telcochain.errors import (
    AgreementBilateralTerms,
    CustomerConsentExpired,
    CustomerConsentInvalidSignature,
    CustomerConsentReplayed,
    CustomerUnauthorized,
)
from telcochain.notifications import NotificationStream
from telcochain.orders import DeviceLine

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)
TSD = 10**6
RETAIL = Account.from_key(keccak(text="sdk retail wallet"))  # a customer without a node
PRICES = {
    "currency": "TSD",
    "installation": 120,
    "move": 30,
    "add": 15,
    "change": 10,
    "delete": -5,
    "disconnect": 20,
    "monthly": {"FTTH-1G": 39},
}


@pytest.fixture
def team(local_node, deployment_path, dev_accounts):
    return [Client.connect(local_node.rpc_url, a, deployment=deployment_path) for a in dev_accounts[:4]]


def twin(team, asset: str) -> None:
    """A twin supplied by Acme with its serial agreed (operator + vendor vote), no customer yet."""
    op, acme = team[OPERATOR], team[ACME]
    op.assets.register(asset, "ONT", vendor=acme.address)
    opened = acme.assets.bind_serial(asset, f"SN-{asset}")
    op.constitution.vote(opened.proposal_id, approve=True)


def wallet_sign(op: Client, consent: Consent) -> bytes:
    """What any EIP-712 wallet does with the typed data (eth_signTypedData_v4), without the SDK's helper."""
    typed = op.customers.typed_data(consent)
    types = {k: v for k, v in typed["types"].items() if k != "EIP712Domain"}
    return bytes(RETAIL.sign_typed_data(typed["domain"], types, typed["message"]).signature)


def test_retail_customer_without_a_node_orders_with_a_signed_consent(team):
    op = team[OPERATOR]
    op.customers.add(RETAIL.address, signer=RETAIL.address)
    c = op.customers.get(RETAIL.address)
    assert (c.operator, c.signer, c.member) == (op.address, RETAIL.address, False)
    assert RETAIL.address in [x.address for x in op.customers.list(op.address)]

    twin(team, "ONT-R1")
    consent = op.customers.request_consent(
        "requestInstallation", "ONT-R1", customer=RETAIL.address, max_charge=120 * TSD
    )
    signature = wallet_sign(op, consent)
    assert (
        recover_consent_signer(consent, signature, op.customers.chain_id, op.customers.contract.address)
        == RETAIL.address
    )
    assert op.customers.digest(consent) == consent_digest(consent, op.customers.chain_id, op.customers.contract.address)
    assert op.customers.verify(consent, signature) == (True, f"signed by {RETAIL.address}")

    flow = op.customers.request_installation("ONT-R1", RETAIL.address, 120 * TSD, consent=consent, signature=signature)
    invoice = op.escrow.invoice(flow.invoice_id)
    assert (invoice.payer, invoice.payee, invoice.amount, invoice.status) == (
        RETAIL.address,
        op.address,
        120 * TSD,
        InvoiceStatus.ISSUED,
    )
    requested = next(e for e in flow.events if e.name == "InstallationRequested")
    assert requested["requester"] == RETAIL.address  # the customer's own request, filed by its operator
    service = op.agreement.service("ONT-R1")
    assert (service.customer, service.operator, service.bilateral) == (RETAIL.address, op.address, True)
    assert op.customers.nonce_used(RETAIL.address, consent.nonce)
    ok, reason = op.customers.verify(consent, signature)
    assert not ok and "already used" in reason
    # the plain entry points refuse a customer on bilateral terms
    acme_twin = "ONT-R2"
    twin(team, acme_twin)
    with pytest.raises(AgreementBilateralTerms):
        op.agreement.request_installation(acme_twin, RETAIL.address)


def test_retail_customer_order_is_created_with_its_consent(team):
    op = team[OPERATOR]
    op.customers.add(RETAIL.address, signer=RETAIL.address)
    op.orders.create_project("PRJ-RETAIL", RETAIL.address)
    consent = op.customers.order_consent("ORD-RETAIL-1", RETAIL.address)
    signature = wallet_sign(op, consent)
    result = op.customers.create_order("ORD-RETAIL-1", "PRJ-RETAIL", consent=consent, signature=signature)
    created = next(e for e in op.orders.contract.events(result.receipt) if e.name == "OrderCreated")
    assert created["actor"] == RETAIL.address  # the customer's own order, filed by its operator
    assert op.orders.get("ORD-RETAIL-1").state.label == "acknowledged"
    with pytest.raises(CustomerConsentReplayed):
        op.customers.create_order("ORD-RETAIL-1", "PRJ-RETAIL", consent=consent, signature=signature)
    # a consent to another order id does not create this one
    other = op.customers.order_consent("ORD-RETAIL-2", RETAIL.address)
    with pytest.raises(CustomerConsentInvalidSignature):
        op.customers.create_order("ORD-RETAIL-3", "PRJ-RETAIL", consent=other, signature=wallet_sign(op, other))


def test_consent_replay_expiry_and_wrong_key_are_refused(team):
    op = team[OPERATOR]
    op.customers.add(RETAIL.address, signer=RETAIL.address)
    for asset in ("ONT-C1", "ONT-C2", "ONT-C3"):
        twin(team, asset)
    consent = op.customers.request_consent("requestInstallation", "ONT-C1", customer=RETAIL.address, nonce=7)
    signature = op.customers.sign(consent, RETAIL)
    op.customers.request_installation("ONT-C1", RETAIL.address, 0, consent=consent, signature=signature)
    with pytest.raises(CustomerConsentReplayed):
        op.customers.request_installation("ONT-C1", RETAIL.address, 0, consent=consent, signature=signature)

    expired = op.customers.request_consent(
        "requestInstallation", "ONT-C2", customer=RETAIL.address, deadline=int(time.time()) - 3600
    )
    signed = op.customers.sign(expired, RETAIL)
    ok, reason = op.customers.verify(expired, signed)
    assert not ok and reason.startswith("expired")
    with pytest.raises(CustomerConsentExpired):
        op.customers.request_installation("ONT-C2", RETAIL.address, 0, consent=expired, signature=signed)

    stranger = Account.create()
    other = op.customers.request_consent("requestInstallation", "ONT-C3", customer=RETAIL.address)
    bad = op.customers.sign(other, stranger)
    ok, reason = op.customers.verify(other, bad)
    assert not ok and stranger.address in reason
    with pytest.raises(CustomerConsentInvalidSignature):
        op.customers.request_installation("ONT-C3", RETAIL.address, 0, consent=other, signature=bad)
    # a charge above the ceiling is refused before anything is sent
    with pytest.raises(ConsentError):
        op.customers.request_installation("ONT-C3", RETAIL.address, 1, consent=other, signature=bad)


def test_macd_and_the_disconnect_the_customer_asked_for(team):
    op, acme = team[OPERATOR], team[ACME]
    op.customers.add(RETAIL.address, signer=RETAIL.address)
    twin(team, "ONT-M1")
    c = op.customers.request_consent("requestInstallation", "ONT-M1", customer=RETAIL.address)
    op.customers.request_installation("ONT-M1", RETAIL.address, 0, consent=c, signature=op.customers.sign(c, RETAIL))
    acme.assets.deliver("ONT-M1")
    op.agreement.confirm_installation("ONT-M1")

    c = op.customers.request_consent("orderChange", "ONT-M1", kind="move", max_charge=30 * TSD)
    flow = op.customers.order_change("move", "ONT-M1", 30 * TSD, consent=c, signature=op.customers.sign(c, RETAIL))
    assert flow.charge == 30 * TSD
    op.agreement.confirm_change("ONT-M1")
    c = op.customers.request_consent("orderDisconnect", "ONT-M1", max_charge=20 * TSD)
    flow = op.customers.order_disconnect("ONT-M1", 20 * TSD, consent=c, signature=op.customers.sign(c, RETAIL))
    ordered = next(e for e in flow.events if e.name == "DisconnectOrdered")
    assert (ordered["requester"], ordered["nonPayment"], ordered["balance"]) == (RETAIL.address, False, 50 * TSD)
    final = op.agreement.confirm_disconnect("ONT-M1")
    invoice = op.escrow.invoice(final.invoice_id)
    assert (invoice.payer, invoice.payee, invoice.amount) == (RETAIL.address, op.address, 50 * TSD)
    assert op.agreement.service("ONT-M1").customer is None


def test_a_registered_customers_bulk_macd_order_with_one_consent_for_the_list(team):
    """``order_changes``: one MACD kind on a list of a registered customer's services in one call
    (actFor op 4), its consent covering exactly that list (subject ``list_subject``), the ceiling
    per asset; the total accrues once; checked before sending."""
    op, acme = team[OPERATOR], team[ACME]
    op.customers.add(RETAIL.address, signer=RETAIL.address)
    assets = ["ONT-B1", "ONT-B2", "ONT-B3"]
    for asset in assets:
        twin(team, asset)
        op.customers.request_installation(asset, RETAIL.address, 0)  # the operator alone, free
        acme.assets.deliver(asset)
        op.agreement.confirm_installation(asset)

    c = op.customers.request_consent("orderChanges", assets, kind="add", max_charge=15 * TSD)
    assert (c.customer, c.action, c.kind, c.subject) == (RETAIL.address, "orderChanges", 1, list_subject(assets))
    assert c.subject == keccak(b"".join(asset_id(a) for a in assets))
    signature = wallet_sign(op, c)  # any EIP-712 wallet signs the same typed data
    ok, reason = op.customers.verify(c, signature)
    assert ok, reason
    # refused before sending: another list, order or kind, a charge above the per-asset
    # ceiling, an asset twice, no asset or too many, one asset instead of a list
    for bad in (
        lambda: op.customers.order_changes("add", assets[:2], 15 * TSD, consent=c, signature=signature),
        lambda: op.customers.order_changes("add", assets[::-1], 15 * TSD, consent=c, signature=signature),
        lambda: op.customers.order_changes("move", assets, 15 * TSD, consent=c, signature=signature),
        lambda: op.customers.order_changes("add", assets, 15 * TSD + 1, consent=c, signature=signature),
        lambda: op.customers.order_changes("add", [*assets, assets[0]], 1),
        lambda: op.customers.order_changes("add", [], 1),
        lambda: op.customers.order_changes("add", [f"X{i}" for i in range(257)], 1),
        lambda: op.customers.order_changes("add", "ONT-B1", 1),  # type: ignore[arg-type]
        lambda: op.customers.request_consent("orderChanges", "ONT-B1"),
    ):
        with pytest.raises(ConsentError):
            bad()
    before = op.agreement.account(RETAIL.address)
    flow = op.customers.order_changes("add", assets, 15 * TSD, consent=c, signature=signature)
    ordered = next(e for e in flow.events if e.name == "ChangesOrdered")
    assert (ordered["requester"], ordered["charge"], flow.charge) == (RETAIL.address, 45 * TSD, 45 * TSD)
    after = op.agreement.account(RETAIL.address)
    assert (after.balance - before.balance, after.lines - before.lines) == (45 * TSD, 3)
    assert all(op.agreement.service(a).charge == 15 * TSD for a in assets)
    op.agreement.confirm_change(assets)  # confirmChanges, bilateral services
    assert {op.assets.get(a).state.name for a in assets} == {"ACTIVE"}
    with pytest.raises(CustomerConsentReplayed):
        op.customers.order_changes("add", assets, 15 * TSD, consent=c, signature=signature)
    # the operator alone (no consent): its own order at its stated charge
    flow = op.customers.order_changes("move", assets, 30 * TSD)
    assert next(e for e in flow.events if e.name == "ChangesOrdered")["requester"] == op.address
    assert op.agreement.account(RETAIL.address).balance - after.balance == 90 * TSD


def test_price_list_sealed_for_a_non_member_and_agreed_with_its_consent(team):
    op = team[OPERATOR]
    op.customers.add(RETAIL.address, signer=RETAIL.address)
    customer_box = PrivateKey.generate()  # the customer's own X25519 key (its wallet app)
    salt = b"\x07" * 32
    commitment = price_list_commitment(PRICES, salt)
    sealed = seal_price_list(PRICES, salt, bytes(customer_box.public_key))
    prices, got_salt = open_price_list(sealed, bytes(customer_box), expected=commitment)
    assert prices == PRICES and got_salt == salt
    with pytest.raises(ConsentError):
        open_price_list(sealed, bytes(customer_box), expected=keccak(b"another list"))

    effective = int(time.time()) + 30 * 86_400
    op.customers.propose_terms(RETAIL.address, commitment, effective)
    consent = op.customers.terms_consent(RETAIL.address, commitment)
    op.customers.accept_terms(
        RETAIL.address, commitment, effective, consent=consent, signature=op.customers.sign(consent, RETAIL)
    )
    terms = op.customers.terms(RETAIL.address)
    assert (terms.next, terms.next_from, terms.version, terms.proposed) == (commitment, effective, 1, None)
    assert op.customers.terms_at(RETAIL.address, effective) == commitment
    assert op.customers.terms_at(RETAIL.address, effective - 1) is None


def test_member_customer_reads_its_price_list_and_accepts_it_itself(team):
    op, customer, acme = team[OPERATOR], team[CUSTOMER], team[ACME]
    op.customers.add(customer.address)
    disclosed = op.details.disclose(terms_subject(customer.address), PRICES, [customer.address])
    op.customers.propose_terms(customer.address, disclosed.details_hash)
    with pytest.raises(CustomerUnauthorized):
        op.customers.accept_terms(customer.address, disclosed.details_hash)  # the proposer itself
    customer.customers.accept_terms(customer.address, disclosed.details_hash)
    assert customer.customers.terms(customer.address).current == disclosed.details_hash
    # the list itself went encrypted to the two parties only (reading it: tests/sdk/test_visibility.py)
    record = acme.details.disclosure(disclosed)
    assert record.details_hash == disclosed.details_hash
    assert record.readable_by(customer.address) and record.readable_by(op.address)
    assert not record.readable_by(acme.address)


def test_order_status_reaches_the_orders_customer_and_vendors(team, tmp_path):
    op, acme, globex, customer = team
    streams = {
        who: NotificationStream(c, tmp_path / f"{who}.json")
        for who, c in (("customer", customer), ("acme", acme), ("globex", globex))
    }
    for s in streams.values():
        for n in s.poll():
            s.ack(n)
    op.orders.create_project("PRJ-N", customer.address)
    op.orders.create_order("ORD-N", "PRJ-N")
    op.orders.add_service("ORD-N", "S1")
    op.orders.add_device_line("ORD-N", DeviceLine("L1", "S1", acme.address, "ONT-X", 2))
    op.orders.transition("ORD-N", "inProgress")
    op.orders.transition_service("ORD-N", "S1", "inProgress")
    got = {who: [n.name for n in s.poll()] for who, s in streams.items()}
    assert "OrderStateChanged" in got["customer"] and "ServiceStateChanged" in got["customer"]
    assert got["acme"].count("OrderPartyNotified") == 2  # the order's and the service's change
    assert "OrderStateChanged" not in got["globex"] and "OrderPartyNotified" not in got["globex"]


WALLET = Account.from_key(keccak(text="sdk retail wallet that pays"))  # no node, no membership


def test_a_non_member_pays_from_its_wallet_and_its_monthly_charge_is_agreed(team, local_node, deployment_path):
    """Issue 14 merged: the installation invoice and a bill paid by the customer's own wallet
    straight to the escrow (client.escrow.pay_direct: no membership); its monthly charge agreed
    with its consent (client.customers.agree_monthly_charge), never the public rate. To the unit."""
    op, customer = team[OPERATOR], team[CUSTOMER]
    op.customers.add(WALLET.address, signer=WALLET.address)
    her = Client.connect(local_node.rpc_url, WALLET, deployment=deployment_path)
    customer.escrow.token().transact("transfer", WALLET.address, 500 * TSD)  # a top-up of her wallet
    twin(team, "ONT-W1")
    ask = op.customers.request_consent("requestInstallation", "ONT-W1", customer=WALLET.address, max_charge=80 * TSD)
    flow = op.customers.request_installation(
        "ONT-W1", WALLET.address, 80 * TSD, consent=ask, signature=op.customers.sign(ask, WALLET)
    )
    token = her.escrow.token()
    before = int(token.call("balanceOf", WALLET.address))
    her.escrow.pay_direct(flow.invoice_id)  # a held invoice: funded whole into escrow
    assert her.escrow.invoice(flow.invoice_id).status is InvoiceStatus.FUNDED
    assert before - int(token.call("balanceOf", WALLET.address)) == 80 * TSD
    team[ACME].assets.deliver("ONT-W1")
    op.agreement.confirm_installation("ONT-W1")
    assert op.escrow.invoice(flow.invoice_id).status is InvoiceStatus.RELEASED

    # her monthly charge: both parties (the operator alone cannot set it)
    assert op.agreement.recurring("ONT-W1").monthly == 0
    with pytest.raises(ConsentError):
        op.customers.agree_monthly_charge("ONT-W1", 39 * TSD, consent=ask, signature=b"")
    monthly = op.customers.request_consent("recurringCharge", "ONT-W1", max_charge=39 * TSD)
    op.customers.agree_monthly_charge("ONT-W1", 39 * TSD, consent=monthly, signature=op.customers.sign(monthly, WALLET))
    assert op.agreement.recurring("ONT-W1").monthly == 39 * TSD

    # a move she consented to, billed, and paid from her wallet in two parts
    move = op.customers.request_consent("orderChange", "ONT-W1", kind="move", max_charge=30 * TSD)
    op.customers.order_change("move", "ONT-W1", 30 * TSD, consent=move, signature=op.customers.sign(move, WALLET))
    op.agreement.confirm_change("ONT-W1")
    bill = op.agreement.bill(WALLET.address)
    amount = op.escrow.invoice(bill.invoice_id).amount
    assert amount >= 30 * TSD  # the move plus whatever her monthly charge accrued by then
    op_before = int(token.call("balanceOf", op.address))
    her.escrow.pay_direct(bill.invoice_id, 10 * TSD)
    assert her.escrow.billing(bill.invoice_id).outstanding == amount - 10 * TSD
    her.escrow.pay_direct(bill.invoice_id)
    assert her.escrow.invoice(bill.invoice_id).status is InvoiceStatus.RELEASED
    assert int(token.call("balanceOf", op.address)) - op_before == amount


KEYLESS = Account.from_key(keccak(text="sdk wallet registered with no signer given"))


def test_add_defaults_a_non_members_key_to_its_own_address(team):
    """customers.add without ``signer``: a non-member wallet signs its own consents (so its operator
    cannot swap the key alone); a member customer acts itself and gets no key."""
    op, customer = team[OPERATOR], team[CUSTOMER]
    op.customers.add(KEYLESS.address)
    assert op.customers.get(KEYLESS.address).signer == KEYLESS.address
    with pytest.raises(CustomerUnauthorized):  # a key is set: the operator needs its consent
        op.customers.set_signer(KEYLESS.address, op.address)
    assert op.customers.get(KEYLESS.address).signer == KEYLESS.address
    op.customers.add(customer.address)
    assert op.customers.get(customer.address).signer is None
