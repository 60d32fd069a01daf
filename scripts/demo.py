"""`make demo`: start the local chain, deploy the example consortium, tell the story.

Runs twice without trouble: a node already running from .telcochain/node is reused, and a
deployment that is still on the chain is not made again. The node this script starts is
stopped at the end; its state stays, so `telcochain node --detach` brings it all back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from eth_account import Account
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from telcochain import Client, PermissionDenied, TelcochainError, trustkeys
from telcochain.agreement import InvoiceStatus
from telcochain.cli.orders import order_tree
from telcochain.consortium import load_consortium
from telcochain.deployment import Deployment
from telcochain.errors import (
    AgreementNotOverdue,
    AssetSerialRequired,
    ConstitutionInvalidTrustKey,
    NodeError,
    NotDisclosedToYou,
    OrderProjectNotFound,
)
from telcochain.node import DEV_MNEMONIC, LocalNode, NodeConfig
from telcochain.orders import ChangePolicy, DeviceLine, Revision
from telcochain.trustkeys import KeyRing, dev_keyring, dev_trust_key
from telcochain.types import show_bytes32

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8545  # `telcochain node`'s default
PORT = int(os.environ.get("TELCOCHAIN_DEMO_PORT", str(DEFAULT_PORT)))
#: Where the demo keeps its chain, deployment and key file (.telcochain/, deployments/): the
#: project folder, or TELCOCHAIN_DEMO_DIR (the README tour's test runs the demo in a temp folder).
HOME = Path(os.environ.get("TELCOCHAIN_DEMO_DIR") or ROOT).resolve()
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def step(title: str) -> None:
    console.print()
    console.rule(f"[bold]{title}", align="left")


def dev_account(index: int):  # type: ignore[no-untyped-def]
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def ensure_node() -> tuple[LocalNode, bool]:
    node = LocalNode(NodeConfig(data_dir=HOME / ".telcochain" / "node", port=PORT))
    if node.pid() is not None and node.is_serving():
        console.print(f"reusing the local chain already running at {node.config.rpc_url} (pid {node.pid()})")
        return node, False
    restored = node.config.has_saved_chain()
    try:
        node.start(detach=True)
    except NodeError as exc:
        raise SystemExit(f"demo: {exc} (e.g. make demo TELCOCHAIN_DEMO_PORT=8555)") from None
    what = "restored from" if restored else "new, saved to"
    console.print(f"anvil at {node.config.rpc_url}: berlin, gas price 0 — state {what} {node.config.data_dir}")
    return node, True


def ensure_deployment(rpc_url: str) -> Deployment:
    manifest = HOME / "deployments" / "local.json"
    config_hash = load_consortium(ROOT / "consortium.yaml").source_hash
    if manifest.exists():
        try:
            client = Client.connect(rpc_url, deployment=manifest)
            if client.deployment.consortium.get("config_hash") == config_hash:
                console.print(f"the consortium is already deployed (block {client.deployment.start_block}): reusing it")
                return client.deployment
            console.print("[yellow]consortium.yaml changed since the last deployment: deploying again")
        except TelcochainError as exc:
            console.print(f"[yellow]the saved deployment does not fit this chain ({exc}); deploying again")
    console.print("ape run deploy --network ethereum:local:foundry")
    started = time.monotonic()
    env = dict(os.environ, APE_FOUNDRY_HOST=rpc_url, TELCOCHAIN_DEPLOYMENTS_DIR=str(HOME / "deployments"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ape"), "run", "deploy", "--network", "ethereum:local:foundry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        console.print(result.stdout[-2000:], result.stderr[-2000:])
        raise SystemExit("deploy failed")
    console.print(f"deployed in {time.monotonic() - started:.1f} s → deployments/local.json")
    return Deployment.load(manifest)


DEMO_KEY_FILE = HOME / ".telcochain" / "demo" / "initech.trustkeys"
DEMO_KEY_PASSWORD = "demo only: a real member keeps this secret"


def initech_keyring() -> KeyRing:
    """Initech's key file: created on the first run from its development key, rotated on each."""
    if DEMO_KEY_FILE.exists():
        return trustkeys.load(DEMO_KEY_FILE, DEMO_KEY_PASSWORD)
    ring = KeyRing.from_private_keys(dev_trust_key(bytes(dev_account(3).key)))
    ring.save(DEMO_KEY_FILE, password=DEMO_KEY_PASSWORD, kdf=trustkeys.KdfParams.interactive())
    return trustkeys.load(DEMO_KEY_FILE, DEMO_KEY_PASSWORD)


def demo_run(operator: Client) -> int:
    """This run's number: every run tells the story again with fresh ids (PRJ-INITECH-1, -2, ...)."""
    n = 1
    while True:
        try:
            operator.orders.project(f"PRJ-INITECH-{n}", with_orders=False)
        except OrderProjectNotFound:
            return n
        n += 1


def show_order(client: Client, order: str) -> None:
    names = client.constitution.member_names()
    console.print(order_tree(client.orders.get(order), names))


def multi_site_order(op: Client, acme: Client, globex: Client, customer: Client, run: int) -> str:
    """A project with a multi-site order: one service per site, a device line per device."""
    project, order = f"PRJ-INITECH-{run}", f"CRM-{run}-SITES"
    op.orders.create_project(project, customer.address, ref=f"PRJ-{run}")
    op.orders.create_order(order, project, ref=f"CRM-{run}")
    sites = [
        ("HQ-FIBRE", DeviceLine(f"{run}-HQ-ONT", "HQ-FIBRE", acme.address, "ONT-XGS", 1, asset=f"ONT-HQ-{run}")),
        ("BR1-FIBRE", DeviceLine(f"{run}-BR1-ONT", "BR1-FIBRE", acme.address, "ONT-XGS", 1, asset=f"ONT-BR1-{run}")),
        ("BR2-SDWAN", DeviceLine(f"{run}-BR2-RTR", "BR2-SDWAN", globex.address, "SDWAN-E1", 1, asset=f"RTR-BR2-{run}")),
    ]
    for service, line in sites:
        op.assets.register(str(line.asset), "CPE", root_id=project, order_id=order)
        op.orders.add_service(order, service)
        op.orders.add_device_line(order, line)
    console.print(
        f"Northwind opens project {project} for Initech and order {order}: three sites, a service item and a "
        "managed device each (each line holds its twin: Initech is the twin's customer, the line's vendor its "
        "supplier, and the twin moves to PendingInstallation as the line is ordered)"
    )
    suppliers = {acme.address: acme, globex.address: globex}
    for service, line in sites:
        if service != "HQ-FIBRE":  # HQ's serial is agreed later, at its installation
            agree_serial(suppliers[line.vendor], (op, acme), str(line.asset), f"SN-{line.asset}")
    console.print(
        "the serials of the two branch devices are bound: each proposed by its vendor, agreed by the vote of "
        "Northwind and Acme that the constitution asks for (no serial reaches a twin around that vote)"
    )
    show_order(customer, order)
    return order


def agree_serial(proposer: Client, voters: tuple[Client, ...], twin: str, serial: str) -> int:
    """bindSerial as consortium.yaml has it: a vote of operator and vendor; returns the proposal id."""
    opened = proposer.assets.bind_serial(twin, serial, ref=f"SERIAL-{twin}")
    for voter in voters:
        proposal = voter.constitution.proposal(opened.proposal_id)
        if proposal.status.name != "OPEN" or voter.constitution.has_voted(opened.proposal_id, voter.address or ""):
            continue
        voter.constitution.vote(opened.proposal_id, approve=True)
    return opened.proposal_id


def site_details(op: Client, acme: Client, globex: Client, customer: Client, order: str) -> None:
    """Seed 001's visibility constraints, M1 → M2 → M3, on the order: each sees only what it was shown."""
    run = order.split("-")[1]  # CRM-<run>-SITES; M1's ref SITE-<run> names it in the README's tour
    m1 = op.details.disclose(
        order,
        {"site": "Initech HQ, 12 Leeds Rd, floor 3", "access": "badge 4471"},
        ["Acme Networks"],
        ref=f"SITE-{run}",
    )
    m2 = acme.details.disclose(order, {"ont_model": "XGS-PON ONT X200", "firmware": "4.2.1"}, ["Initech Enterprise"])
    m3 = customer.details.disclose(
        order, {"acceptance": "install window Tue 9-12"}, ["Northwind Telecom", "Acme Networks"]
    )
    readers = {"Northwind": op, "Acme": acme, "Globex": globex, "Initech": customer}
    grid = Table(title=f"encrypted details on {order}: who can read what", title_justify="left")
    grid.add_column("disclosure", no_wrap=True)
    for name in readers:
        grid.add_column(name, no_wrap=True)
    for label, disclosed in (
        ("M1 Northwind: site address", m1),
        ("M2 Acme: device model", m2),
        ("M3 Initech: acceptance", m3),
    ):
        row = [label]
        for reader in readers.values():
            try:
                reader.details.read(disclosed)
                row.append("[green]reads it")
            except NotDisclosedToYou:
                row.append("[dim]hidden")
        grid.add_row(*row)
    console.print(grid)
    console.print(
        f"on chain: ciphertext, a key wrapped per reader, and only the commitment "
        f"0x{m1.details_hash.hex()[:16]}… (keccak of salt + details); each reader checks the plaintext against it"
    )


def installations(op: Client, acme: Client, globex: Client, customer: Client, run: int) -> None:
    """The three sites installed under the operator agreement, paid through escrow."""
    vendors = {f"{run}-HQ-ONT": acme, f"{run}-BR1-ONT": acme, f"{run}-BR2-RTR": globex}
    twins = {f"{run}-HQ-ONT": f"ONT-HQ-{run}", f"{run}-BR1-ONT": f"ONT-BR1-{run}", f"{run}-BR2-RTR": f"RTR-BR2-{run}"}
    grid = Table(title="installations under the operator agreement", title_justify="left")
    for column in ("twin", "invoice", "amount", "paid by Initech", "state", "invoice now"):
        grid.add_column(column, no_wrap=True)
    for line, twin in twins.items():
        vendors[line].orders.deliver(line, ref=f"DLV-{twin}")  # the order line: twin Delivered
        requested = customer.agreement.request_installation(twin, ref=f"INST-{twin}")
        invoice = customer.escrow.invoice(requested.invoice_id)
        customer.escrow.fund(invoice.id, ref=f"PAY-{twin}")
        if twin.startswith("ONT-HQ"):
            try:
                op.agreement.confirm_installation(twin)
            except AssetSerialRequired:
                console.print(f"[red]confirmation refused[/red]: {twin} has no serial yet — no Active twin without one")
            bind = acme.assets.bind_serial(twin, f"ACME-ONT-{run:04d}-XK", ref=f"SERIAL-{twin}")
            vote = op.constitution.vote(bind.proposal_id, approve=True)
            console.print(
                f"Acme proposes the serial of {twin} (only its salted hash on chain): proposal #{bind.proposal_id}; "
                f"Northwind approves → {vote.proposal.status.name.lower()}"
            )
        op.agreement.confirm_installation(twin, ref=f"DONE-{twin}")
        after = customer.escrow.invoice(invoice.id)
        grid.add_row(
            twin,
            f"#{invoice.id}",
            customer.escrow.format(invoice.amount),
            "into escrow",
            op.assets.get(twin).state.label,
            f"{after.status.label} to Northwind",
        )
    console.print(grid)


def macd_and_billing(op: Client, customer: Client, run: int) -> None:
    """MACD changes accrue on Initech's running account; the period is billed as one invoice."""
    hq, br1 = f"ONT-HQ-{run}", f"ONT-BR1-{run}"
    upgrade = customer.agreement.request_change("change", hq, ref=f"UPGRADE-{run}")[0]
    console.print(
        f"Initech orders a bandwidth change on {hq}: PendingChange, "
        f"{customer.escrow.format(upgrade.charge)} accrued on its account"
    )
    op.agreement.confirm_change(hq, ref=f"UPGRADE-DONE-{run}")
    move = op.agreement.request_change("move", br1, ref=f"MOVE-{run}")[0]
    op.agreement.confirm_change(br1)
    console.print(
        f"Northwind moves {br1} to another rack: {customer.escrow.format(move.charge)} accrued; both Active again"
    )
    account = op.agreement.account(customer.address)
    billed = op.agreement.bill(customer.address, ref=f"BILL-{run}")
    customer.escrow.fund(billed.invoice_id, ref=f"PAY-BILL-{run}")
    console.print(
        f"period {account.period} closed: {account.lines} charges, {customer.escrow.format(account.balance)} → "
        f"invoice #{billed.invoice_id}, paid by Initech straight to Northwind"
    )


def non_payment(op: Client, customer: Client, run: int) -> None:
    """An unpaid bill: disconnect refused until the invoice is overdue, allowed after."""
    twin = f"RTR-BR2-{run}"
    op.agreement.request_change("add", twin, ref=f"ADD-{run}")
    op.agreement.confirm_change(twin)
    unpaid = op.agreement.bill(customer.address, ref=f"BILL2-{run}").invoice_id
    invoice = op.escrow.invoice(unpaid)
    console.print(
        f"Northwind bills an add-on on {twin}: invoice #{unpaid}, {op.escrow.format(invoice.amount)}, "
        "due in 30 days — Initech does not pay"
    )
    try:
        op.agreement.request_disconnect(twin, overdue_invoice=unpaid)
    except AgreementNotOverdue:
        console.print(
            "[red]disconnect for non-payment refused[/red]: the contract checks the invoice is overdue — not yet"
        )
    op.rpc.call("evm_increaseTime", [31 * 86_400])
    op.rpc.call("evm_mine")
    console.print("[dim]… 31 days later (time travel on the local chain)[/dim]")
    op.agreement.request_disconnect(twin, overdue_invoice=unpaid, ref=f"NONPAY-{run}")
    final = op.agreement.confirm_disconnect(twin, ref=f"NONPAY-DONE-{run}")
    console.print(
        f"disconnect for non-payment ordered and confirmed: {twin} is {op.assets.get(twin).state.label}; "
        f"final charges on invoice #{final.invoice_id}; every party was notified by events"
    )


def billing_and_vendors(op: Client, acme: Client, globex: Client, customer: Client, run: int) -> None:
    """Issue 14: a monthly charge prorated to the second at disconnect, the bill's line items
    verified against its on-chain commitment, a disputed line resolved with a partial credit, and
    a vendor paid on delivery through the escrow (a return becoming credit)."""
    fmt = op.escrow.format
    if op.agreement.monthly_charge(customer.address) == 0:
        opened = op.agreement.propose_monthly_charge(30 * 10**6, ref=f"MONTHLY-{run}")
        customer.constitution.vote(opened.proposal_id, approve=True)
        console.print("Northwind and Initech agree a monthly charge of 30.00 TSD per service (a vote of both)")
    twin = f"ONT-MRC-{run}"
    op.assets.register(twin, "ONT", customer=customer.address, vendor=acme.address)
    bind = acme.assets.bind_serial(twin, f"ACME-MRC-{run:04d}")
    op.constitution.vote(bind.proposal_id, approve=True)
    requested = customer.agreement.request_installation(twin, ref=f"INST-{twin}")
    acme.assets.deliver(twin)
    customer.escrow.fund(requested.invoice_id)
    op.agreement.confirm_installation(twin, ref=f"DONE-{twin}")
    op.rpc.call("evm_increaseTime", [12 * 86_400 + 3_661])
    op.rpc.call("evm_mine")
    console.print(f"[dim]… {twin} installed; 12 days, 1 hour, 1 minute and 1 second later[/dim]")
    customer.agreement.request_disconnect(twin, ref=f"BYE-{twin}")
    final = op.agreement.confirm_disconnect(twin, ref=f"BYE-DONE-{twin}")
    invoice = customer.escrow.invoice(final.invoice_id)
    verdict = customer.agreement.verify_bill(invoice)
    grid = Table(title=f"invoice #{invoice.id}: its line items", title_justify="left")
    for column in ("asset", "charge", "period", "amount"):
        grid.add_column(column, no_wrap=True)
    for line in verdict.lines:
        period = f"{line.end - line.start:,} s" if line.end else "-"
        grid.add_row(show_bytes32(line.asset)[:22], line.kind.label, period, fmt(line.amount))
    console.print(grid)
    state = "[green]match[/green]" if verdict.ok else "[red]do NOT match[/red]"
    console.print(
        f"the lines {state} the bill's on-chain commitment (its subject is the digest of exactly these lines)"
    )
    recurring = next(x for x in verdict.lines if x.kind.label == "recurring")
    disputed = next(x for x in verdict.lines if x.kind.label == "disconnect")
    customer.escrow.pay(invoice.id, recurring.amount, ref=f"PART-{run}")
    dispute = customer.escrow.dispute(
        invoice.id, disputed.amount, line=disputed.ref, reason="the engineer never came to collect the ONT"
    )
    left = customer.escrow.billing(invoice.id)
    console.print(
        f"Initech pays {fmt(recurring.amount)} and disputes the disconnect line ({fmt(disputed.amount)}): "
        f"dispute #{dispute.id}; outstanding {fmt(left.outstanding)}, not overdue while disputed"
    )
    credit = disputed.amount // 2
    op.escrow.resolve(dispute.id, credit, ref=f"RESOLVE-{run}")
    customer.escrow.pay(invoice.id)
    console.print(
        f"Northwind resolves it with a partial credit of {fmt(credit)}; Initech pays the rest: invoice "
        f"#{invoice.id} {customer.escrow.invoice(invoice.id).status.label}, "
        f"receipt {fmt(customer.escrow.receipt(invoice.id).amount)}"
    )

    sku = f"SFP-{run}"
    opened = op.vendors.propose_terms(acme.address, sku, 12 * 10**6, payment_days=30)
    for voter in (acme, globex):
        voter.constitution.vote(opened.proposal_id, approve=True)
    order, line = f"PO-{run}", f"PO-{run}-L1"
    op.orders.create_project(f"PRJ-SUPPLY-{run}", customer.address)
    op.orders.create_order(order, f"PRJ-SUPPLY-{run}")
    op.orders.add_service(order, "OPTICS")
    op.orders.add_device_line(order, DeviceLine(line, "OPTICS", acme.address, sku, 4))
    acme.orders.deliver(line, 3)
    before = op.escrow.balance(acme.address)
    vendor_invoice = acme.vendors.invoice(line, 3, vendor_ref=f"ACME-INV-{run}")
    op.vendors.settle(vendor_invoice)
    console.print(
        f"purchase line {line}: 4 {sku} reserved, 3 delivered; Acme invoices 3 x 12.00 TSD (invoice "
        f"#{vendor_invoice}, matched on chain against the line); Northwind pays through the escrow: "
        f"Acme +{fmt(op.escrow.balance(acme.address) - before)}"
    )
    acme.orders.return_stock(line, 1)
    credited = op.vendors.credit_returns(line)
    console.print(
        f"one unit comes back: {fmt(credited)} credited to Northwind, applied to Acme's next invoice "
        f"(credit now {fmt(op.escrow.credit(op.address, acme.address))})"
    )


def retail_customer(op: Client, acme: Client, payer: Client, run: int) -> None:
    """A retail customer without a node: its operator registers its wallet, they agree a price
    list that only they can read, and the operator files the customer's orders with the
    customer's EIP-712 consent (signed by the wallet, verified and spent on chain)."""
    from eth_utils import keccak
    from nacl.public import PrivateKey
    from telcochain.billing import ChargeKind
    from telcochain.customers import name_commitment, new_salt, open_price_list, price_list_commitment, seal_price_list
    from telcochain.errors import CustomerConsentReplayed

    step("10b. A retail customer without a node orders with a signed consent (issue 14)")
    wallet = Account.from_key(keccak(text=f"demo retail customer {run}"))  # her phone's wallet
    box_key = PrivateKey(keccak(text=f"demo retail box {run}"))  # her wallet's encryption key
    op.customers.add(wallet.address, signer=wallet.address, name_hash=name_commitment("Jane Doe", new_salt()))
    prices = {"currency": "TSD", "installation": 0, "move": 30, "change": 12, "disconnect": 20, "FTTH-1G monthly": 39}
    salt = new_salt()
    commitment = price_list_commitment(prices, salt)
    sealed = seal_price_list(prices, salt, bytes(box_key.public_key))  # handed over by the operator's app
    op.customers.propose_terms(wallet.address, commitment, ref=f"TERMS-{run}")
    opened, _ = open_price_list(sealed, bytes(box_key), expected=commitment)
    consent = op.customers.terms_consent(wallet.address, commitment)
    op.customers.accept_terms(wallet.address, commitment, consent=consent, signature=op.customers.sign(consent, wallet))
    console.print(
        f"Northwind registers customer {wallet.address[:10]}… (no node, name only as a salted hash); its price list "
        f"({len(opened)} items, sealed for her key) is agreed with her signed consent: on chain only "
        f"{show_bytes32(commitment)[:18]}…"
    )
    twin = f"ONT-RTL-{run}"
    op.assets.register(twin, "ONT", vendor=acme.address, ref=f"REG-{twin}")
    agree_serial(acme, (op,), twin, f"ACME-ONT-{run:04d}-RT")
    ask = op.customers.request_consent("requestInstallation", twin, customer=wallet.address, max_charge=0)
    signature = op.customers.sign(ask, wallet)  # what her wallet does with eth_signTypedData_v4
    _, why = op.customers.verify(ask, signature)
    flow = op.customers.request_installation(
        twin, wallet.address, 0, consent=ask, signature=signature, ref=f"RTL-{run}"
    )
    console.print(f"her consent to install {twin} ({why}) → {flow.result.status}; the request is on record as hers")
    try:
        op.customers.request_installation(twin, wallet.address, 0, consent=ask, signature=signature)
    except CustomerConsentReplayed as exc:
        console.print(f"[red]refused[/red]: the same consent again — {exc}")
    acme.assets.deliver(twin, ref=f"DLV-{twin}")
    op.agreement.confirm_installation(twin, ref=f"DONE-{twin}")
    move = op.customers.request_consent("orderChange", twin, kind="move", max_charge=30 * 10**6)
    op.customers.order_change("move", twin, 30 * 10**6, consent=move, signature=op.customers.sign(move, wallet))
    op.agreement.confirm_change(twin)
    account = op.agreement.account(wallet.address)
    console.print(
        f"{twin} Active; a move she consented to (ceiling 30 TSD) charged {op.escrow.format(account.balance)} on her "
        "running account — billed like any customer's"
    )
    monthly = op.customers.request_consent("recurringCharge", twin, max_charge=39 * 10**6)
    op.customers.agree_monthly_charge(
        twin, 39 * 10**6, consent=monthly, signature=op.customers.sign(monthly, wallet), ref=f"MRC-{twin}"
    )
    agreed = op.escrow.format(op.agreement.recurring(twin).monthly)
    console.print(
        f"her monthly charge for {twin} from her price list, agreed with her signed consent "
        f"(a registered customer's rate is never the public one): {agreed}"
    )
    bill = op.agreement.bill(wallet.address, ref=f"BILL-RTL-{run}")
    her = Client.connect(op.rpc.url, wallet, deployment=op.deployment)  # her wallet: no member, no node
    payer.escrow.token().transact("transfer", wallet.address, 100 * 10**6)  # Initech tops up her wallet
    her.escrow.pay_direct(bill.invoice_id, 10 * 10**6)
    lines = her.agreement.line_items(her.escrow.invoice(bill.invoice_id))
    moved = next(line for line in lines if line.kind is ChargeKind.MOVE)
    # she disputes part of the move line herself: her wallet calls the escrow directly (openDispute)
    disputed = her.escrow.dispute(bill.invoice_id, 6 * 10**6, line=moved.ref, reason="the move came a day late")
    op.escrow.resolve(disputed.id, 4 * 10**6, ref=f"RESOLVE-RTL-{run}")  # 4 credited, 2 owed again
    her.escrow.pay_direct(bill.invoice_id)
    receipt = her.escrow.receipt(bill.invoice_id)
    console.print(
        f"the bill (invoice #{bill.invoice_id}, {op.escrow.format(account.balance)}): 10 TSD paid from her own wallet "
        f"straight to the escrow; she disputes 6 TSD of its move line herself (dispute #{disputed.id}, no membership "
        f"needed), Northwind credits 4 TSD and she pays the rest: {her.escrow.invoice(bill.invoice_id).status.label}, "
        f"receipt {op.escrow.format(receipt.amount if receipt else 0)}"
    )


def histories(op: Client, run: int) -> None:
    grid = Table(title=f"verified histories of run {run}'s twins", title_justify="left")
    for column in ("twin", "state", "changes", "last change", "history"):
        grid.add_column(column, no_wrap=True)
    for twin in (
        f"ONT-HQ-{run}",
        f"ONT-BR1-{run}",
        f"RTR-BR2-{run}",
        f"ONT-A1-{run}",
        f"RTR-D2-{run}",
        f"RTR-C1-{run}",
    ):
        changes = op.assets.history(twin, with_times=False)
        verdict = op.assets.verify_history(twin, changes)
        grid.add_row(
            twin,
            op.assets.get(twin).state.label,
            str(len(changes)),
            changes[-1].describe() if changes else "-",
            "[green]verified" if verdict.verified else f"[red]{verdict.reason}",
        )
    console.print(grid)


def money_summary(op: Client) -> None:
    names = op.constitution.member_names()
    invoices = op.escrow.invoices()
    grid = Table(
        title="money summary (all runs): invoiced, paid, refunded, outstanding per member", title_justify="left"
    )
    for column in ("member", "invoiced to it", "paid", "refunded", "outstanding", "received", "balance"):
        grid.add_column(column, no_wrap=True, justify="right" if column != "member" else "left")
    balances = op.escrow.balances(list(names))
    for address, name in names.items():
        mine = [i for i in invoices if i.payer == address]
        paid = sum(i.to_fund for i in mine if i.status in (InvoiceStatus.RELEASED, InvoiceStatus.FUNDED))
        refunded = sum(i.to_fund for i in mine if i.status is InvoiceStatus.REFUNDED)
        outstanding = sum(i.to_fund for i in mine if i.status is InvoiceStatus.ISSUED)
        received = sum(i.to_fund for i in invoices if i.payee == address and i.status is InvoiceStatus.RELEASED)
        fmt = op.escrow.format
        grid.add_row(
            name,
            fmt(sum(i.amount for i in mine)),
            fmt(paid),
            fmt(refunded),
            fmt(outstanding),
            fmt(received),
            fmt(balances[address]),
        )
    console.print(grid)
    held = op.escrow.balance(op.escrow.contract.address)
    console.print(f"held in escrow now: {op.escrow.format(held)}")


def seed_revision(op: Client, acme: Client, globex: Client, customer: Client, run: int) -> None:
    """Seed 001, 'Test approach resiliency': services A-E, devices added late, then a redesign."""
    project, order = f"PRJ-INITECH-{run}", f"CRM-{run}-REDESIGN"
    op.orders.create_order(order, project)
    for service in "ABCDE":
        op.orders.add_service(order, service)
    lines = {
        "A1": DeviceLine(f"{run}-A1", "A", acme.address, "ONT-X", 1, asset=f"ONT-A1-{run}"),
        "D1": DeviceLine(f"{run}-D1", "D", globex.address, "CABLE-Y", 10),
        "D2": DeviceLine(f"{run}-D2", "D", globex.address, "ROUTER-Y", 1, asset=f"RTR-D2-{run}"),
    }
    for line in lines.values():
        if line.asset:
            op.assets.register(str(line.asset), "CPE", root_id=project, order_id=order)
        op.orders.add_device_line(order, line)
    acme.orders.deliver(f"{run}-A1")
    globex.orders.deliver(f"{run}-D2")
    globex.orders.deliver(f"{run}-D1", 4)
    op.orders.consume(f"{run}-D1", globex.address, "CABLE-Y", 2)
    console.print(
        "order with services A-E; late in design devices A1 (Acme), D1 (10 cables) and D2 (Globex) are ordered; "
        "A1 and D2 are delivered, 4 cables delivered and 2 used"
    )
    op.assets.register(f"RTR-C1-{run}", "CPE", root_id=project, order_id=order)
    streams = {name: c.notifications() for name, c in (("Acme Networks", acme), ("Globex Optical", globex))}
    for stream in streams.values():
        stream.start_at(op.block_number() + 1)  # each supplier's getNotification, from the revision on
    revision = (
        Revision()
        .modify_service("A", 2)
        .keep_service("B")
        .modify_service("C", 2)
        .keep_service("D")
        .delete_service("E")
        .remove_line(f"{run}-A1")
        .remove_line(f"{run}-D2")
        .keep_line(f"{run}-D1", ChangePolicy.PAUSE)
        .add_line(DeviceLine(f"{run}-C1", "C", acme.address, "ROUTER-X", 1, asset=f"RTR-C1-{run}"))
    )
    result = op.orders.revise(order, revision, ref=f"REV-{run}")
    console.print(
        f"the customer redesigns: A → A', B, C → C', D, no E; devices (A1, D1, D2) → (C1, D1) — one action "
        f"(tx {result.receipt.tx_hash[:18]}…): D1 Pause, C1 AutoCorrect"
    )
    show_order(customer, order)
    for name, stream in streams.items():
        seen = [n for n in stream.poll() if "lineId" in n.args]
        told = ", ".join(f"{n.name}({show_bytes32(n.args['lineId'])})" for n in seen)
        console.print(f"{name} is told (its own lines only): {told}")
    op.orders.resume(order, [f"{run}-D1"], ref=f"REPLAN-OK-{run}")
    console.print("the re-plan is agreed: D1 resumes; A1 and D2 were delivered, so their twins went to recovery")
    rec = op.orders.reconcile(order=order)
    t = rec.totals
    console.print(
        f"stock reconciliation of {order}: reserved {t.reserved}, released {t.released}, delivered {t.delivered}, "
        f"used {t.consumed}, returned {t.returned}, [bold]still out {t.still_out}[/bold] (A1, D2 and 2 cables "
        "to come back or be used)"
    )


def closing_hint() -> list[str]:
    """How to bring the chain back for the tour: on the port this run used, from its folder."""
    port = f" --port {PORT}" if PORT != DEFAULT_PORT else ""
    where = "" if HOME == ROOT else f"cd {HOME} && "
    venv = ".venv/bin/activate" if HOME == ROOT else f"{ROOT / '.venv' / 'bin' / 'activate'}"
    lines = [f"  {where}source {venv} && telcochain node --detach{port}"]
    if port:
        lines.append(f"  (or export TELCOCHAIN_NODE_PORT={PORT} first; later commands find the node's URL themselves)")
    return lines


def main() -> int:
    console.print(
        Panel.fit(
            "[bold]telcochain[/bold] — one trusted record of customer orders, network assets and payments\n"
            "for a telecom consortium: operators, vendors, suppliers and enterprise customers.",
            border_style="cyan",
        )
    )
    step("1. The chain: an embedded anvil node, as a free-gas consortium chain runs")
    node, started_here = ensure_node()
    try:
        step("2. The consortium, deployed from consortium.yaml")
        deployment = ensure_deployment(node.config.rpc_url)
        config = load_consortium(ROOT / "consortium.yaml")
        operator = Client.connect(node.config.rpc_url, dev_account(0), deployment=deployment)
        chain = operator.chain
        console.print(
            f"chain {chain.chain_id}, {chain.fee_mode.value} transactions, gas price {chain.gas_price}; "
            f"Constitution at {deployment.address('Constitution')}"
        )
        members = operator.constitution.members()
        grid = Table(title=f"{config.name}: {len(members)} members", title_justify="left")
        for column in ("member", "role", "address", "status", "trust key"):
            grid.add_column(column, no_wrap=True)
        roles = deployment.consortium.get("roles", {})
        for m in members:
            grid.add_row(
                m.name, roles.get(m.address, "-"), m.address, m.status.name.lower(), "0x" + m.trust_key.hex()[:12] + "…"
            )
        console.print(grid)

        operator.keyring = dev_keyring(dev_account(0))
        vendor_a = Client.connect(node.config.rpc_url, dev_account(1), deployment=deployment, keyring=dev_keyring(1))
        vendor_b = Client.connect(node.config.rpc_url, dev_account(2), deployment=deployment, keyring=dev_keyring(2))
        customer = Client.connect(node.config.rpc_url, dev_account(3), deployment=deployment)
        for name, member in (
            ("Northwind Telecom", operator),
            ("Acme Networks", vendor_a),
            ("Globex Optical", vendor_b),
        ):
            if member.details.register_trust_key(ref="DEMO-DEV-KEY") is not None:  # e.g. after the README's tour
                console.print(f"[yellow]{name}: trust key changed since the last run, its development key is back")

        step("3. Governance: the operator proposes a new member; the consortium votes")
        candidate = dev_account(4)
        if operator.constitution.member(candidate.address) is None:
            result = operator.constitution.add_member(
                candidate.address, dev_keyring(4).public_key, "Umbrella Fibre", ref="JOIN-UMBRELLA"
            )
            proposal = operator.constitution.proposal(result.proposal_id)
            console.print(
                f"{members[0].name} → executeAction(addMember, Umbrella Fibre): proposal #{proposal.id} opened, "
                f"{proposal.approvals}/{proposal.required} approvals (a majority of {proposal.voter_count})"
            )
            for who, client in (("Acme Networks", vendor_a), ("Globex Optical", vendor_b)):
                vote = client.constitution.vote(result.proposal_id, approve=True, ref=f"VOTE-{who[:5].upper()}")
                state = vote.proposal.status.name.lower()
                console.print(f"{who} votes yes → {vote.proposal.approvals}/{vote.proposal.required}, {state}")
        admitted = operator.constitution.member(candidate.address)
        console.print(f"[green]member:[/green] {admitted.name if admitted else '?'} ({candidate.address})")

        step("4. A member rotates its trust key (the seed's refreshTrustKeys); old keys stay in its key file")
        customer.keyring = initech_keyring()
        result = customer.details.rotate_trust_key(password=DEMO_KEY_PASSWORD, ref="DEMO-KEY-ROTATION")
        receipt = result.receipt
        (event,) = customer.contract("Constitution").events(receipt, "TrustKeyRefreshed")
        console.print(
            f"Initech Enterprise: new X25519 key 0x{customer.keyring.public_key.hex()[:12]}… registered in tx "
            f"{receipt.tx_hash[:18]}…, {receipt.gas_used:,} gas at price 0, event TrustKeyRefreshed"
            f"(ref={show_bytes32(event['ref'])!r}); its key file ({len(customer.keyring)} keys, encrypted) keeps "
            "the old ones, so earlier details stay readable"
        )

        run = demo_run(operator)
        step(f"5. A project with a multi-site order (run {run}: every run tells the story with fresh ids)")
        order = multi_site_order(operator, vendor_a, vendor_b, customer, run)

        step("6. Visibility constraints (seed 001, M1 → M2 → M3): details encrypted for chosen members only")
        site_details(operator, vendor_a, vendor_b, customer, order)

        step("7. Installations paid through escrow; a serial agreed by a vote of operator and vendor")
        installations(operator, vendor_a, vendor_b, customer, run)

        step("8. MACD: changes charged on the customer's running account, billed once per period")
        macd_and_billing(operator, customer, run)

        step("9. Seed 001's resiliency scenario: an order redesigned mid-flight, Pause and AutoCorrect per device")
        seed_revision(operator, vendor_a, vendor_b, customer, run)

        step("10. Non-payment: the disconnect the contract allows only once an invoice is overdue")
        non_payment(operator, customer, run)

        retail_customer(operator, vendor_a, customer, run)
        step("10c. Billing a telco accepts: recurring charges, line items, a dispute; a vendor paid on delivery")
        billing_and_vendors(operator, vendor_a, vendor_b, customer, run)

        step("11. Misuse is on record: what is not permitted is refused, not silently dropped")
        try:
            overreach = vendor_a.constitution.amend(vendor_a.constitution.policy("voteFor"), ref="DEMO-OVERREACH")
            console.print(f"[yellow]Acme Networks may amend the constitution here: {overreach.status}")
        except PermissionDenied as exc:
            console.print(f"[red]denied[/red] (tx {exc.tx_hash[:18]}…, an ActionDenied event): {exc}")
        outsider = Client.connect(node.config.rpc_url, dev_account(9), deployment=deployment)
        try:
            outsider.constitution.rotate_trust_key(os.urandom(32), ref="DEMO-INTRUDER")
        except TelcochainError as exc:  # a non-member is refused before anything is mined for it
            console.print(f"[red]refused[/red]: {exc}")
        hq = f"ONT-HQ-{run}"
        try:
            vendor_b.assets.deliver(hq, ref=f"DEMO-GRAB-{run}")
        except TelcochainError as exc:
            console.print(f"[red]refused[/red]: Globex uses the registry's raw deliver on Acme's line twin {hq}: {exc}")
        try:
            customer.assets.request_disconnect(hq, ref=f"DEMO-FREE-DISCONNECT-{run}")
        except PermissionDenied as exc:
            console.print(f"[red]denied[/red]: a disconnect that skips the agreement (and its charge): {exc}")
        try:
            customer.constitution.rotate_trust_key(bytes(32))
        except ConstitutionInvalidTrustKey as exc:
            console.print(f"[red]refused before sending[/red], the contract's custom error decoded by the SDK: {exc}")

        step("12. Every twin's history verified, and the money")
        histories(operator, run)
        money_summary(operator)

        step("13. Analytics: every event in a database, verified against the chain; a report and the alerts")
        from telcochain.index.demo import demo_summary

        demo_summary(node.config.rpc_url, deployment, console=console)

        step("Done")
        console.print("Explore it yourself (see README.md, 'A five-minute tour'):")
        for line in closing_hint():
            console.print(line, soft_wrap=True)  # one line each, to copy as it is
        console.print(f"  telcochain order show CRM-{run}-SITES; telcochain invoice list")
        console.print(
            f"  telcochain asset history ONT-HQ-{run} --verify; telcochain stock reconcile --order CRM-{run}-REDESIGN"
        )
        console.print(
            '  telcochain index --once; telcochain asset list --customer "Initech Enterprise"; telcochain report'
        )
    finally:
        if started_here:
            node.stop()
            console.print(f"\nlocal chain stopped; its state is kept in {node.config.data_dir}")
    console_hint()
    return 0


#: anvil's development account 3: Initech Enterprise, the example consortium's customer.
INITECH_DEV_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"


def console_hint(port: int = 8080) -> None:
    """How to open this story in the web console (docs/console.md): the gateway serves it."""
    console.print("\n[bold]Web console[/bold] (docs/console.md), Initech Enterprise's view, by `telcochain serve`:")
    for line in closing_hint():
        console.print(line, soft_wrap=True)
    console.print("  telcochain serve token add console            # prints a sign-in token once")
    console.print(f"  TELCOCHAIN_PRIVATE_KEY={INITECH_DEV_KEY} telcochain serve --port {port}")
    console.print(f"[bold]  console: http://127.0.0.1:{port}/console/[/bold]  (sign in with the token)")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TelcochainError as exc:
        sys.exit(f"demo: {exc}")
    except KeyboardInterrupt:
        sys.exit("demo: interrupted; the chain's state is saved — `make demo` carries on with a fresh run")
