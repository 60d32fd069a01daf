"""`telcochain customer|terms|consent`: a retail customer registered by its operator, a price list
proposed with a sealed copy for the customer, accepted with the customer's consent signed
offline with its own key (issue 14 part A)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak
from nacl.public import PrivateKey
from telcochain.cli import main
from telcochain.customers import open_price_list

OPERATOR, GLOBEX = 0, 2
WALLET = Account.from_key(keccak(text="cli retail wallet"))
PRICES = {"currency": "TSD", "installation": 0, "move": 30, "disconnect": 20}


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_register_propose_sign_verify_accept(as_member, dev_accounts, tmp_path):
    operator = dev_accounts[OPERATOR].address
    added = json.loads(ok(as_member(OPERATOR, "customer", "add", WALLET.address, "--name", "Jane Doe", "--json")))
    assert added["signer"] == WALLET.address and added["name_hash"] != "0x" + "00" * 32
    listed = json.loads(ok(as_member(OPERATOR, "customer", "list", "--operator", "Northwind Telecom", "--json")))
    assert [c["customer"] for c in listed] == [WALLET.address]
    shown = ok(as_member(OPERATOR, "customer", "show", WALLET.address))
    assert operator in shown and "no (its operator submits its requests with its consent)" in shown

    box = PrivateKey(keccak(text="cli retail box"))
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(PRICES))
    proposed = json.loads(
        ok(
            as_member(
                OPERATOR,
                "terms",
                "propose",
                WALLET.address,
                str(prices),
                "--seal-for",
                "0x" + bytes(box.public_key).hex(),
                "--json",
            )
        )
    )
    commitment = proposed["commitment"]
    opened, _ = open_price_list((tmp_path / "prices.sealed").read_bytes(), bytes(box), bytes.fromhex(commitment[2:]))
    assert opened == PRICES
    terms = json.loads(ok(as_member(OPERATOR, "terms", "show", WALLET.address, "--json")))
    assert (terms["proposed"], terms["proposer"], terms["current"]) == (commitment, operator, None)

    # the customer signs offline with its own key (here from the environment)
    consent = tmp_path / "consent.json"
    signed = CliRunner().invoke(
        main,
        [
            "consent",
            "sign",
            "--action",
            "acceptTerms",
            "--subject",
            commitment,
            "--customer",
            WALLET.address,
            "--operator",
            operator,
            "--out",
            str(consent),
        ],
        env={"TELCOCHAIN_PRIVATE_KEY": WALLET.key.hex()},
    )
    assert signed.exit_code == 0, signed.output
    assert f"signed by {WALLET.address}" in ok(as_member(OPERATOR, "consent", "verify", str(consent)))
    ok(as_member(OPERATOR, "terms", "accept", WALLET.address, commitment, "--consent", str(consent)))
    terms = json.loads(ok(as_member(OPERATOR, "terms", "show", WALLET.address, "--json")))
    assert (terms["current"], terms["version"], terms["proposed"]) == (commitment, 1, None)
    # spent: the same consent no longer verifies, in one line
    again = as_member(OPERATOR, "consent", "verify", str(consent))
    assert again.exit_code == 1 and "already used" in again.output and len(again.output.strip().splitlines()) == 1


PAYING_WALLET = Account.from_key(keccak(text="cli retail wallet that pays"))


def test_a_non_member_pays_its_bill_directly(as_member, local_node, deployment_path, dev_accounts, tmp_path):
    """`terms monthly` with the customer's offline-signed consent; `invoice pay --direct`: the
    customer's own wallet (no membership) pays its bill in parts."""
    from telcochain import Client

    op, acme, initech = (
        Client.connect(local_node.rpc_url, dev_accounts[i], deployment=deployment_path) for i in (0, 1, 3)
    )
    op.customers.add(PAYING_WALLET.address, signer=PAYING_WALLET.address)
    initech.escrow.token().transact("transfer", PAYING_WALLET.address, 100 * 10**6)
    op.assets.register("ONT-CLI-W", "ONT", vendor=acme.address)
    op.constitution.vote(acme.assets.bind_serial("ONT-CLI-W", "SN-CLI-W").proposal_id, approve=True)
    ask = op.customers.request_consent("requestInstallation", "ONT-CLI-W", customer=PAYING_WALLET.address)
    op.customers.request_installation(
        "ONT-CLI-W", PAYING_WALLET.address, 0, consent=ask, signature=op.customers.sign(ask, PAYING_WALLET)
    )
    acme.assets.deliver("ONT-CLI-W")
    op.agreement.confirm_installation("ONT-CLI-W")
    move = op.customers.request_consent("orderChange", "ONT-CLI-W", kind="move", max_charge=30 * 10**6)
    op.customers.order_change(
        "move", "ONT-CLI-W", 30 * 10**6, consent=move, signature=op.customers.sign(move, PAYING_WALLET)
    )
    # her monthly charge: she signs the consent offline, her operator files it (`terms monthly`)
    signed = tmp_path / "monthly.json"
    env = {"TELCOCHAIN_PRIVATE_KEY": PAYING_WALLET.key.hex()}
    args = ["consent", "sign", "--action", "recurringCharge", "--subject", "ONT-CLI-W"]
    args += ["--customer", PAYING_WALLET.address, "--operator", op.address, "--max-charge", str(39 * 10**6)]
    assert CliRunner().invoke(main, [*args, "--out", str(signed)], env=env).exit_code == 0
    too_much = as_member(0, "terms", "monthly", "ONT-CLI-W", str(40 * 10**6), "--consent", str(signed))
    assert too_much.exit_code == 1 and "ceiling" in too_much.output
    ok(as_member(0, "terms", "monthly", "ONT-CLI-W", str(39 * 10**6), "--consent", str(signed)))
    assert op.agreement.recurring("ONT-CLI-W").monthly == 39 * 10**6
    bill = op.agreement.bill(PAYING_WALLET.address).invoice_id

    runner = CliRunner()
    part = runner.invoke(main, ["invoice", "pay", str(bill), "--direct", "--amount", "12", "--json"], env=env)
    assert part.exit_code == 0, part.output
    assert json.loads(part.output)["outstanding"] == 18 * 10**6
    rest = runner.invoke(main, ["invoice", "pay", str(bill), "--direct"], env=env)
    assert rest.exit_code == 0, rest.output
    assert f"invoice #{bill} paid directly: released" in rest.output
    again = runner.invoke(main, ["invoice", "pay", str(bill), "--direct"], env=env)
    assert again.exit_code == 1 and len(again.output.strip().splitlines()) == 1  # one line, no traceback


SELF_SERVICE_WALLET = Account.from_key(keccak(text="cli retail wallet that asks its operator"))
TSD = 10**6


def test_an_operator_files_its_retail_customers_requests_with_their_signed_consents(
    as_member, local_node, deployment_path, dev_accounts, tmp_path
):
    """`customer request install|move|disconnect` with consents the customer signed offline with
    its wallet key (`consent sign`): each checked before sending (ceiling, asset, kind, replay,
    the twin's state; refusals are one line and send nothing), filed by the operator, confirmed
    by it; the bill shows the line, the customer disputes it itself (`invoice dispute --direct`)
    and the operator resolves it. To the unit."""
    from telcochain import Client

    wallet = SELF_SERVICE_WALLET
    op, acme, initech = (
        Client.connect(local_node.rpc_url, dev_accounts[i], deployment=deployment_path) for i in (0, 1, 3)
    )
    operator = op.address
    env = {"TELCOCHAIN_PRIVATE_KEY": wallet.key.hex()}
    runner = CliRunner()

    def sign(action: str, subject: str, name: str, *extra: str) -> str:
        out = tmp_path / f"{name}.json"
        args = ["consent", "sign", "--action", action, "--subject", subject, "--customer", wallet.address]
        signed = runner.invoke(main, [*args, "--operator", operator, *extra, "--out", str(out)], env=env)
        assert signed.exit_code == 0, signed.output
        return str(out)

    def refused(result, *words: str) -> None:
        assert result.exit_code != 0, result.output
        text = result.output.strip()
        assert len(text.splitlines()) == 1 and "Traceback" not in text, text
        for word in words:
            assert word in text, text

    def sent() -> int:
        return int(op.rpc.call("eth_getTransactionCount", [operator, "latest"]), 16)

    ok(as_member(OPERATOR, "customer", "add", wallet.address, "--name", "Self Service"))
    initech.escrow.token().transact("transfer", wallet.address, 200 * TSD)
    for twin in ("ONT-CLI-R1", "ONT-CLI-R2"):
        op.assets.register(twin, "ONT", vendor=acme.address)
        op.constitution.vote(acme.assets.bind_serial(twin, f"SN-{twin}").proposal_id, approve=True)

    # the installation, with her consent up to 80 TSD
    install = sign("requestInstallation", "ONT-CLI-R1", "install", "--max-charge", str(80 * TSD))
    nonce = sent()
    refused(
        as_member(
            OPERATOR,
            "customer",
            "request",
            "install",
            "ONT-CLI-R1",
            "--customer",
            wallet.address,
            "--charge",
            str(80 * TSD + 1),
            "--consent",
            install,
        ),
        "exceeds the consented ceiling",
    )
    refused(
        as_member(
            OPERATOR, "customer", "request", "install", "ONT-CLI-R2", "--customer", wallet.address, "--consent", install
        ),
        "not ONT-CLI-R2",
    )
    stranger = Account.from_key(keccak(text="cli nobody's wallet")).address
    refused(
        as_member(OPERATOR, "customer", "request", "install", "ONT-CLI-R1", "--customer", stranger, "--charge", "0"),
        "not a registered customer",
        "customer add",
    )
    refused(
        as_member(
            GLOBEX, "customer", "request", "install", "ONT-CLI-R1", "--customer", wallet.address, "--consent", install
        ),
        "only its operator",  # Globex, another member: not her operator
    )
    assert sent() == nonce  # every refusal above sent nothing
    filed = json.loads(
        ok(
            as_member(
                OPERATOR,
                "customer",
                "request",
                "install",
                "ONT-CLI-R1",
                "--customer",
                wallet.address,
                "--consent",
                install,
                "--json",
            )
        )
    )
    assert filed["invoice_amount"] == 80 * TSD and "InstallationRequested" in filed["events"]
    assert op.agreement.service("ONT-CLI-R1").bilateral
    refused(
        as_member(
            OPERATOR, "customer", "request", "install", "ONT-CLI-R1", "--customer", wallet.address, "--consent", install
        ),
        "already used",  # a consent is spent once
    )
    refused(
        as_member(
            OPERATOR, "customer", "request", "install", "ONT-CLI-R1", "--customer", wallet.address, "--charge", "0"
        ),
        "open installation already",
    )
    paid = runner.invoke(main, ["invoice", "pay", str(filed["invoice_id"]), "--direct"], env=env)
    assert paid.exit_code == 0, paid.output
    acme.assets.deliver("ONT-CLI-R1")
    ok(as_member(OPERATOR, "install", "confirm", "ONT-CLI-R1"))

    # a move she consented to (up to 30): the ceiling, the kind and the replay checked first
    move = sign("orderChange", "ONT-CLI-R1", "move", "--kind", "move", "--max-charge", str(30 * TSD))
    refused(as_member(OPERATOR, "customer", "request", "add", "ONT-CLI-R1", "--consent", move), "not an add")
    refused(
        as_member(OPERATOR, "customer", "request", "move", "ONT-CLI-R1", "--consent", move, "--charge", str(31 * TSD)),
        "ceiling",
    )
    ordered = json.loads(
        ok(
            as_member(
                OPERATOR,
                "customer",
                "request",
                "move",
                "ONT-CLI-R1",
                "--consent",
                move,
                "--charge",
                str(25 * TSD),
                "--json",
            )
        )
    )
    assert ordered["charge"] == 25 * TSD and "ChangeOrdered" in ordered["events"]
    refused(
        as_member(OPERATOR, "customer", "request", "move", "ONT-CLI-R1", "--consent", move, "--charge", "0"),
        "PendingChange",
    )
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-CLI-R1"))
    refused(as_member(OPERATOR, "customer", "request", "move", "ONT-CLI-R1", "--consent", move), "already used")

    # the bill shows the line; she disputes it herself, the operator credits part of it
    bill = json.loads(ok(as_member(OPERATOR, "invoice", "bill", wallet.address, "--json")))["invoice_id"]
    shown = json.loads(ok(as_member(OPERATOR, "invoice", "show", str(bill), "--json")))
    assert [(x["kind"], x["amount"]) for x in shown["lines"]] == [("move", 25 * TSD)] and shown["lines_verified"]
    assert shown["amount"] == 25 * TSD and shown["payer"] == wallet.address
    too_much = runner.invoke(
        main, ["invoice", "dispute", str(bill), "--amount", "26", "--reason", "x", "--direct"], env=env
    )
    refused(too_much, "outstanding")
    disputed = runner.invoke(
        main,
        [
            "invoice",
            "dispute",
            str(bill),
            "--amount",
            "10",
            "--line",
            "1",
            "--reason",
            "moved the wrong day",
            "--direct",
            "--json",
        ],
        env=env,
    )
    assert disputed.exit_code == 0, disputed.output
    opened = json.loads(disputed.output)
    assert (opened["amount"], opened["line"], opened["direct"]) == (10 * TSD, shown["lines"][0]["line_ref"], True)
    ok(as_member(OPERATOR, "invoice", "resolve", str(opened["dispute"]), "--credit", "4"))
    rest = runner.invoke(main, ["invoice", "pay", str(bill), "--direct"], env=env)
    assert rest.exit_code == 0 and "released" in rest.output, rest.output
    assert op.escrow.receipt(bill).amount == 21 * TSD

    # a credit the operator states on its own (a change credited), billed: she asks for it herself
    ok(as_member(OPERATOR, "customer", "request", "change", "ONT-CLI-R1", "--charge", str(-3 * TSD)))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-CLI-R1"))
    ok(as_member(OPERATOR, "invoice", "bill", wallet.address))
    assert op.escrow.credit(wallet.address, operator) == 3 * TSD
    payout = ["invoice", "payout", "--payee", "Northwind Telecom", "--direct"]
    refused(runner.invoke(main, [*payout, "--amount", "4"], env=env), "your credit")
    token = op.escrow.token()
    token.transact("approve", op.escrow.contract.address, 0)  # no allowance: the request is recorded
    before = int(token.call("balanceOf", wallet.address))
    asked = runner.invoke(main, [*payout, "--amount", "2", "--json"], env=env)
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["action"] == "requestCreditPayout"
    assert op.escrow.payout_requested(wallet.address, operator) == 2 * TSD
    op.escrow.pay_out_credit(wallet.address, 2 * TSD)  # the operator pays what she asked for
    assert int(token.call("balanceOf", wallet.address)) - before == 2 * TSD
    assert op.escrow.credit(wallet.address, operator) == 1 * TSD

    # a disconnect: without her consent only for non-payment (nothing is overdue); with it, hers
    refused(as_member(OPERATOR, "customer", "request", "disconnect", "ONT-CLI-R1", "--charge", "0"), "overdue")
    leave = sign("orderDisconnect", "ONT-CLI-R1", "leave", "--max-charge", str(20 * TSD))
    gone = json.loads(
        ok(as_member(OPERATOR, "customer", "request", "disconnect", "ONT-CLI-R1", "--consent", leave, "--json"))
    )
    assert gone["charge"] == 20 * TSD and "DisconnectOrdered" in gone["events"]
    final = json.loads(ok(as_member(OPERATOR, "disconnect", "ONT-CLI-R1", "--confirm", "--json")))
    assert op.escrow.invoice(final["invoice_id"]).amount == 20 * TSD
    assert op.agreement.service_count(wallet.address) == 0


BULK_WALLET = Account.from_key(keccak(text="cli retail wallet that orders in bulk"))
OTHER_WALLET = Account.from_key(keccak(text="cli retail wallet of another household"))


def test_a_bulk_order_of_a_retail_customer_filed_with_its_consent_to_the_list(
    as_member, local_node, deployment_path, dev_accounts, tmp_path
):
    """`customer request add A B C --consent FILE` (or `--file`): one bulk order (actFor op 4) of
    the customer's bilateral services, with one consent the customer signed with its wallet key
    over exactly that list (`consent sign --action orderChanges --asset ...`, checked by `consent
    verify`); refusals (a consent for another list, a mixed customer, an asset twice, a ceiling
    too low) send nothing; the account shows the unit charge x n, `macd confirm` closes the list."""
    from telcochain import Client

    op, acme = (Client.connect(local_node.rpc_url, dev_accounts[i], deployment=deployment_path) for i in (0, 1))
    operator = op.address
    env = {"TELCOCHAIN_PRIVATE_KEY": BULK_WALLET.key.hex()}
    runner = CliRunner()
    assets = ["ONT-CLI-B1", "ONT-CLI-B2", "ONT-CLI-B3"]
    for wallet in (BULK_WALLET, OTHER_WALLET):
        op.customers.add(wallet.address, signer=wallet.address)
    for twin, wallet in [(a, BULK_WALLET) for a in assets] + [("ONT-CLI-BX", OTHER_WALLET)]:
        op.assets.register(twin, "ONT", vendor=acme.address)
        op.constitution.vote(acme.assets.bind_serial(twin, f"SN-{twin}").proposal_id, approve=True)
        op.customers.request_installation(twin, wallet.address, 0)  # the operator alone, free
        acme.assets.deliver(twin)
        op.agreement.confirm_installation(twin)

    def sign(name: str, *listed: str, kind: str = "add", ceiling: int = 15 * TSD) -> str:
        out = tmp_path / f"{name}.json"
        args = ["consent", "sign", "--action", "orderChanges", *[w for a in listed for w in ("--asset", a)]]
        args += ["--customer", BULK_WALLET.address, "--operator", operator, "--kind", kind]
        signed = runner.invoke(main, [*args, "--max-charge", str(ceiling), "--out", str(out)], env=env)
        assert signed.exit_code == 0, signed.output
        return str(out)

    def refused(result, *words: str) -> None:
        assert result.exit_code != 0, result.output
        text = result.output.strip()
        assert len(text.splitlines()) == 1 and "Traceback" not in text, text
        for word in words:
            assert word in text, text

    def sent() -> int:
        return int(op.rpc.call("eth_getTransactionCount", [operator, "latest"]), 16)

    consent = sign("list", *assets)
    signed = json.loads((tmp_path / "list.json").read_text())
    assert signed["twins"] == assets and signed["consent"]["action"] == "orderChanges"
    checked = json.loads(ok(as_member(OPERATOR, "consent", "verify", consent, "--json")))
    assert (checked["valid"], checked["signer"], checked["twins"]) == (True, BULK_WALLET.address, assets)
    refused(
        as_member(OPERATOR, "consent", "verify", consent, "--asset", assets[1], "--asset", assets[0]), "another list"
    )

    request = ["customer", "request", "add"]
    nonce = sent()
    refused(as_member(OPERATOR, *request, *assets[:2], "--consent", consent), "another list")
    refused(as_member(OPERATOR, *request, *assets[::-1], "--consent", consent), "another list")
    refused(as_member(OPERATOR, *request, *assets, "ONT-CLI-BX", "--charge", "0"), "one customer")
    refused(as_member(OPERATOR, *request, *assets, assets[0], "--consent", consent), "listed twice")
    refused(as_member(OPERATOR, "customer", "request", "move", *assets, "--consent", consent), "not a move")
    refused(as_member(OPERATOR, *request, *assets, "--consent", consent, "--charge", str(15 * TSD + 1)), "ceiling")
    refused(as_member(GLOBEX, *request, *assets, "--consent", consent), "only its operator")
    assert sent() == nonce  # every refusal above sent nothing

    listing = tmp_path / "assets.txt"
    listing.write_text("asset\n" + "\n".join(assets) + "\n")
    before = op.agreement.account(BULK_WALLET.address)
    filed = json.loads(ok(as_member(OPERATOR, *request, "--file", str(listing), "--consent", consent, "--json")))
    assert sent() == nonce + 1  # one transaction for the list
    assert filed["twins"] == assets and "ChangesOrdered" in filed["events"]
    assert filed["charge"] == 3 * 15 * TSD
    after = op.agreement.account(BULK_WALLET.address)
    assert after.balance - before.balance == 3 * 15 * TSD
    assert all(op.agreement.service(a).charge == 15 * TSD for a in assets)
    refused(as_member(OPERATOR, *request, *assets, "--consent", consent), "PendingChange")
    confirmed = json.loads(ok(as_member(OPERATOR, "macd", "confirm", *assets, "--json")))
    assert {op.assets.get(a).state.name for a in assets} == {"ACTIVE"}, confirmed
    refused(as_member(OPERATOR, *request, *assets, "--consent", consent), "already used")  # spent once
    bill = json.loads(ok(as_member(OPERATOR, "invoice", "bill", BULK_WALLET.address, "--json")))["invoice_id"]
    shown = json.loads(ok(as_member(OPERATOR, "invoice", "show", str(bill), "--json")))
    # the bill shows the bulk order as ONE line: the unit charge x n, naming the list
    assert [(x["kind"], x["amount"], x["assets"]) for x in shown["lines"]] == [("add", 3 * 15 * TSD, assets)]
    assert shown["amount"] == 3 * 15 * TSD and shown["payer"] == BULK_WALLET.address

    # the operator alone, a credit per asset on its own list: the unit x n on the account
    billed = op.agreement.account(BULK_WALLET.address).balance
    ok(as_member(OPERATOR, "customer", "request", "change", *assets[:2], "--charge", str(-2 * TSD)))
    assert op.agreement.account(BULK_WALLET.address).balance - billed == -4 * TSD
    ok(as_member(OPERATOR, "macd", "confirm", *assets[:2]))
