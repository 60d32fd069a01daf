"""client.agreement and client.escrow against the example consortium: every flow end to end
through the SDK, token balances checked to the unit, the sum of balances never changing."""

from __future__ import annotations

import pytest
from telcochain import Client, PermissionDenied
from telcochain.agreement import InvoiceStatus, MacdKind
from telcochain.assets import AssetState
from telcochain.errors import (
    AgreementDuplicateInstallation,
    AgreementNotFunded,
    AgreementNotOverdue,
    ConfigurationError,
    EscrowNotPayer,
    EscrowReclaimTooEarly,
    EscrowUnknownInvoice,
)

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)
TSD = 10**6  # the example token has 6 decimals
DAY = 86_400


@pytest.fixture
def team(local_node, deployment_path, dev_accounts):
    return [Client.connect(local_node.rpc_url, a, deployment=deployment_path) for a in dev_accounts[:4]]


class Ledger:
    """Balances of the operator, the customer and the escrow; their sum must never move."""

    def __init__(self, team):
        self.escrow = team[OPERATOR].escrow
        self.who = {
            "operator": team[OPERATOR].address,
            "customer": team[CUSTOMER].address,
            "escrow": self.escrow.contract.address,
        }
        self.start = self.now()
        self.total = sum(self.start.values())

    def now(self) -> dict[str, int]:
        values = self.escrow.balances(list(self.who.values()))
        return {k: values[a] for k, a in self.who.items()}

    def moved(self) -> dict[str, int]:
        now = self.now()
        assert sum(now.values()) == self.total, "tokens appeared or vanished"
        return {k: now[k] - self.start[k] for k in now}


def install(team, asset: str) -> int:
    """Register, request, deliver, fund, confirm; returns the installation invoice."""
    op, acme, customer = team[OPERATOR], team[ACME], team[CUSTOMER]
    plan(team, asset)
    requested = customer.agreement.request_installation(asset, ref=f"INST-{asset}")
    acme.assets.deliver(asset)
    customer.escrow.fund(requested.invoice_id)
    op.agreement.confirm_installation(asset)
    return requested.invoice_id


def plan(team, asset: str) -> None:
    """The operator registers a twin for the customer, supplied by Acme; its serial is agreed by
    the vote of operator and vendor that consortium.yaml asks for."""
    op, acme, customer = team[OPERATOR], team[ACME], team[CUSTOMER]
    op.assets.register(asset, "ONT", customer=customer.address, vendor=acme.address)
    opened = acme.assets.bind_serial(asset, f"SN-{asset}")
    op.constitution.vote(opened.proposal_id, approve=True)


def advance(client: Client, seconds: int) -> None:
    client.rpc.call("evm_increaseTime", [seconds])
    client.rpc.call("evm_mine")


def test_terms_come_from_consortium_yaml(client):
    terms = client.agreement.terms()
    assert terms.token == client.escrow.settlement_token
    assert (terms.payment_days, terms.installation, terms.tariff("move"), terms.tariff("delete")) == (
        30,
        250 * TSD,
        80 * TSD,
        -10 * TSD,
    )
    assert terms.tariff("change") == 25 * TSD
    assert client.escrow.format(terms.installation) == "250.00 TSD"
    assert client.agreement.operator == client.address


def test_installation_paid_through_escrow(team):
    op, acme, customer = team[OPERATOR], team[ACME], team[CUSTOMER]
    ledger = Ledger(team)
    plan(team, "ONT-I1")

    requested = customer.agreement.request_installation("ONT-I1", ref="INST-1")
    assert requested.charge == 250 * TSD
    invoice = customer.escrow.invoice(requested.invoice_id)
    assert (invoice.payer, invoice.payee, invoice.amount, invoice.hold, invoice.status) == (
        customer.address,
        op.address,
        250 * TSD,
        True,
        InvoiceStatus.ISSUED,
    )
    assert op.assets.get("ONT-I1").state is AssetState.PENDING_INSTALLATION
    with pytest.raises(AgreementDuplicateInstallation):
        op.agreement.request_installation("ONT-I1", customer.address)  # one request per twin

    acme.assets.deliver("ONT-I1")
    with pytest.raises(AgreementNotFunded):
        op.agreement.confirm_installation("ONT-I1")  # no money, no activation
    customer.escrow.fund(requested.invoice_id)
    assert ledger.moved() == {"operator": 0, "customer": -250 * TSD, "escrow": 250 * TSD}

    confirmed = op.agreement.confirm_installation("ONT-I1", ref="INST-1-OK")
    twin = op.assets.get("ONT-I1")
    assert (twin.customer, twin.vendor, twin.served) == (customer.address, acme.address, True)
    assert op.assets.verify_history("ONT-I1").verified  # the parties' steps (served included) are in the chain
    assert {e.name for e in confirmed.events} >= {"InstallationConfirmed", "InvoiceReleased", "ReceiptIssued"}
    assert op.assets.get("ONT-I1").state is AssetState.ACTIVE
    assert customer.escrow.invoice(requested.invoice_id).status is InvoiceStatus.RELEASED
    receipt = customer.escrow.receipt(requested.invoice_id)
    assert receipt is not None and receipt.amount == 250 * TSD
    assert ledger.moved() == {"operator": 250 * TSD, "customer": -250 * TSD, "escrow": 0}
    assert [i.id for i in customer.escrow.invoices(payer=customer.address)] == [requested.invoice_id]
    assert [i.id for i in op.escrow.invoices(payee=op.address, status="released")] == [requested.invoice_id]


def test_macd_accrues_on_the_running_account_and_is_billed_once(team):
    op, customer = team[OPERATOR], team[CUSTOMER]
    for n in range(4):
        install(team, f"ONT-M{n}")
    ledger = Ledger(team)

    single = op.agreement.request_change(MacdKind.CHANGE, "ONT-M0", ref="MACD-1")
    assert single[0].charge == 25 * TSD
    assert op.assets.get("ONT-M0").state is AssetState.PENDING_CHANGE
    op.agreement.confirm_change("ONT-M0")
    assert op.assets.get("ONT-M0").state is AssetState.ACTIVE

    batch = op.agreement.request_change("move", ["ONT-M1", "ONT-M2"], ref="MACD-MOVE")
    assert batch[0].charge == 160 * TSD
    op.agreement.confirm_change(["ONT-M1", "ONT-M2"])
    op.agreement.request_change("delete", "ONT-M3")  # a credit of 10
    op.agreement.confirm_change("ONT-M3")
    assert op.assets.get("ONT-M3").state is AssetState.INACTIVE

    account = op.agreement.account(customer.address)
    assert (account.balance, account.lines) == (175 * TSD, 4)  # 25 + 2 x 80 - 10
    assert ledger.moved() == {"operator": 0, "customer": 0, "escrow": 0}  # nothing paid yet: accrued

    billed = op.agreement.bill(customer.address, ref="BILL-1")
    invoice = customer.escrow.invoice(billed.invoice_id)
    assert (invoice.amount, invoice.hold) == (175 * TSD, False)
    assert op.agreement.account(customer.address).balance == 0
    customer.escrow.fund(billed.invoice_id)  # not held: paid through to the operator
    assert customer.escrow.invoice(billed.invoice_id).status is InvoiceStatus.RELEASED
    assert ledger.moved() == {"operator": 175 * TSD, "customer": -175 * TSD, "escrow": 0}


def test_customer_disconnect_is_billed_as_the_final_charge(team):
    op, customer = team[OPERATOR], team[CUSTOMER]
    install(team, "ONT-D1")
    ledger = Ledger(team)
    customer.agreement.request_disconnect("ONT-D1", ref="BYE")
    assert op.assets.get("ONT-D1").state is AssetState.PENDING_DISCONNECT
    final = op.agreement.confirm_disconnect("ONT-D1")
    assert op.assets.get("ONT-D1").state is AssetState.INACTIVE
    invoice = customer.escrow.invoice(final.invoice_id)
    assert invoice.amount == 50 * TSD and invoice.status is InvoiceStatus.ISSUED
    customer.escrow.fund(final.invoice_id)
    assert ledger.moved() == {"operator": 50 * TSD, "customer": -50 * TSD, "escrow": 0}


def test_non_payment_disconnect_only_once_the_invoice_is_overdue(team):
    op, customer = team[OPERATOR], team[CUSTOMER]
    install(team, "ONT-N1")
    op.agreement.request_change("add", "ONT-N1")
    op.agreement.confirm_change("ONT-N1")
    unpaid = op.agreement.bill(customer.address).invoice_id

    assert not op.escrow.is_overdue(unpaid)
    with pytest.raises(AgreementNotOverdue):
        op.agreement.request_disconnect("ONT-N1", overdue_invoice=unpaid)
    assert op.assets.get("ONT-N1").state is AssetState.ACTIVE

    advance(op, 31 * DAY)  # past the 30 payment days
    assert op.escrow.is_overdue(unpaid)
    ordered = op.agreement.request_disconnect("ONT-N1", overdue_invoice=unpaid, ref="NONPAY")
    assert any(e.name == "DisconnectOrdered" and e["nonPayment"] for e in ordered.events)
    assert op.agreement.service("ONT-N1").non_payment
    op.agreement.confirm_disconnect("ONT-N1")
    assert op.assets.get("ONT-N1").state is AssetState.INACTIVE


def test_reclaim_after_the_confirmation_window_and_not_before(team):
    op, customer = team[OPERATOR], team[CUSTOMER]
    ledger = Ledger(team)
    plan(team, "ONT-R1")
    invoice_id = customer.agreement.request_installation("ONT-R1").invoice_id
    customer.escrow.fund(invoice_id)
    with pytest.raises(EscrowReclaimTooEarly):
        customer.escrow.reclaim(invoice_id)
    with pytest.raises(EscrowNotPayer):
        op.escrow.release(invoice_id)  # only the payer releases; the operator confirms instead
    advance(op, 31 * DAY)
    customer.escrow.reclaim(invoice_id, ref="GIVE-BACK")
    assert customer.escrow.invoice(invoice_id).status is InvoiceStatus.REFUNDED
    assert ledger.moved() == {"operator": 0, "customer": 0, "escrow": 0}  # no funds stuck


def test_misuse_is_refused(team):
    op, acme, customer = team[OPERATOR], team[ACME], team[CUSTOMER]
    install(team, "ONT-X1")
    with pytest.raises(PermissionDenied):
        acme.agreement.request_change("change", "ONT-X1")  # a vendor orders no MACD here
    with pytest.raises(PermissionDenied):
        customer.agreement.confirm_installation("ONT-X1")
    with pytest.raises(EscrowUnknownInvoice):
        op.escrow.invoice(999)
    with pytest.raises(ConfigurationError, match="MACD kind"):
        op.agreement.request_change("no-such-kind", "ONT-X1")  # (no enum member can be named so)
    assert op.assets.get("ONT-X1").state is AssetState.ACTIVE


def test_payer_and_payee_are_notified_of_their_invoices_and_nobody_else(team, tmp_path):
    from telcochain.notifications import NotificationStream

    streams = {who: NotificationStream(team[who], tmp_path / f"{who}.json") for who in (OPERATOR, GLOBEX, CUSTOMER)}
    for stream in streams.values():
        stream.ack_through(team[OPERATOR].block_number())
    invoice_id = install(team, "ONT-W1")

    def invoice_events(who: int) -> set[str]:
        return {n.name for n in streams[who].poll() if n.args.get("invoiceId") == invoice_id}

    expected = {"InvoiceIssued", "InvoiceFunded", "InvoiceReleased", "ReceiptIssued", "InstallationRequested"}
    assert invoice_events(CUSTOMER) >= expected  # the payer
    assert invoice_events(OPERATOR) >= expected - {"InstallationRequested"}  # the payee
    assert invoice_events(GLOBEX) == set()  # not a party
