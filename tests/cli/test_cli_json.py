"""`--json` outputs match docs/json.md (generated from telcochain.cli.json_schemas).

One scenario runs every command that has ``--json`` (the consortium from the session
deployment: members, a vote, twins installed and changed, an order with a line, invoices,
details, the index); each output's key paths and JSON types are compared with the command's
documented schema both ways: a key printed but not documented fails, a documented key that is
not printed fails (unless documented as optional), a type that differs fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from telcochain.agreement import MacdKind
from telcochain.cli.json_schemas import FREEFORM, JSON_OUTPUT, NOTES, Schema, key_paths, render, schemas

from tests.cli.test_cli_agreement import installed
from tests.support.paths import ROOT

OPERATOR, ACME, GLOBEX, CUSTOMER = range(4)


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def run_everything(as_member, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Every command with --json, on a small but complete consortium; {command: [outputs]}."""
    monkeypatch.setenv("TELCOCHAIN_KEYSTORE_DIR", str(tmp_path / "keystores"))
    monkeypatch.setenv("TELCOCHAIN_INDEX_DB", f"sqlite:///{tmp_path / 'index.sqlite'}")
    password = tmp_path / "password"
    password.write_text("json schema test\n")
    seen: dict[str, list[Any]] = {}

    def j(n: int, *args: str) -> Any:
        result = as_member(n, *args, "--json")
        assert result.exit_code == 0, f"{args}: {result.output}"
        stdout = result.stdout if hasattr(result, "stdout") else result.output
        text = stdout.strip()
        value = [json.loads(x) for x in text.splitlines()] if args[0] == "watch" else json.loads(text)
        seen.setdefault(_command_of(args), []).append(value)
        return value

    j(OPERATOR, "info")
    j(OPERATOR, "member", "list")
    j(OPERATOR, "action", "list")
    j(OPERATOR, "action", "show", "addMember")
    added = j(OPERATOR, "member", "add", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "--name", "Soylent",
              "--trust-key", "0x" + "11" * 32)  # fmt: skip
    j(OPERATOR, "proposal", "list")
    j(OPERATOR, "proposal", "show", str(added["proposal_id"]))
    j(ACME, "vote", str(added["proposal_id"]), "--approve")
    ok(as_member(GLOBEX, "vote", str(added["proposal_id"]), "--approve"))  # admitted
    suspended = j(OPERATOR, "member", "suspend", "Soylent")
    for voter in (ACME, GLOBEX):
        ok(as_member(voter, "vote", str(suspended["proposal_id"]), "--approve"))
    j(OPERATOR, "action", "grant", "consumeStock", "Acme Networks")
    j(OPERATOR, "action", "revoke", "consumeStock", "Northwind Telecom")
    amend = tmp_path / "amend.yaml"
    amend.write_text("actions:\n  consumeStock: {module: OrderBook, grants: [Northwind Telecom]}\n")
    j(OPERATOR, "action", "amend", str(amend))
    j(OPERATOR, "action", "exec", "suspendMember", "--params", SUSPEND_GLOBEX)
    j(OPERATOR, "asset", "register", "ONT-J0", "--kind", "ONT", "--vendor", "Acme Networks")
    j(OPERATOR, "asset", "parties", "ONT-J0", "--vendor", "Globex Optical")
    j(OPERATOR, "asset", "link", "ONT-J0", "--project", "PRJ-J", "--order", "ORD-J0")
    ok(as_member(OPERATOR, "asset", "register", "ONT-JB", "--kind", "ONT"))
    j(OPERATOR, "asset", "transition", "ONT-J0", "decommission")
    j(OPERATOR, "asset", "bulk", "decommission", "ONT-JB")
    installed(as_member, "ONT-J1")
    installed(as_member, "ONT-J2")
    j(OPERATOR, "asset", "show", "ONT-J1")
    j(OPERATOR, "asset", "history", "ONT-J1", "--verify")
    j(OPERATOR, "macd", "move", "ONT-J1", "--details", '{"window": "Tue"}')
    j(OPERATOR, "macd", "cancel", "ONT-J1")
    j(CUSTOMER, "macd", "add", "ONT-J1", "ONT-J2")
    j(OPERATOR, "macd", "confirm", "ONT-J1", "ONT-J2")
    j(CUSTOMER, "macd", "change", "ONT-J1")
    j(OPERATOR, "macd", "confirm", "ONT-J1")
    j(CUSTOMER, "macd", "delete", "ONT-J2")
    j(OPERATOR, "macd", "confirm", "ONT-J2")
    for kind in MacdKind:  # a kind not run above (one added since): ordered, then cancelled
        if f"macd {kind.label}" not in seen:
            j(CUSTOMER, "macd", kind.label, "ONT-J1")
            ok(as_member(OPERATOR, "macd", "cancel", "ONT-J1"))
    j(OPERATOR, "invoice", "account", "Initech Enterprise")
    bill = j(OPERATOR, "invoice", "bill", "Initech Enterprise")
    j(OPERATOR, "invoice", "list")
    j(OPERATOR, "invoice", "show", str(bill["invoice_id"]))
    j(CUSTOMER, "invoice", "pay", str(bill["invoice_id"]))
    j(CUSTOMER, "disconnect", "ONT-J1")
    j(CUSTOMER, "disconnect", "ONT-J1", "--cancel")
    ok(as_member(OPERATOR, "asset", "register", "ONT-J3", "--kind", "ONT", "--vendor", "Acme Networks"))
    bind = j(ACME, "asset", "bind-serial", "ONT-J3", "SN-J3")
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    request = j(OPERATOR, "install", "request", "ONT-J3", "--customer", "Initech Enterprise")
    j(OPERATOR, "install", "withdraw", "ONT-J3")
    request = j(OPERATOR, "install", "request", "ONT-J3", "--customer", "Initech Enterprise")
    ok(as_member(ACME, "asset", "transition", "ONT-J3", "deliver"))
    j(CUSTOMER, "invoice", "pay", str(request["invoice_id"]))
    j(OPERATOR, "install", "confirm", "ONT-J3")
    ok(as_member(OPERATOR, "asset", "register", "ONT-J4", "--kind", "ONT", "--vendor", "Acme Networks"))
    bind = json.loads(ok(as_member(ACME, "asset", "bind-serial", "ONT-J4", "SN-J4", "--json")))
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    request = json.loads(ok(as_member(OPERATOR, "install", "request", "ONT-J4", "--customer", "Initech Enterprise",
                                      "--json")))  # fmt: skip
    j(CUSTOMER, "invoice", "pay", str(request["invoice_id"]))
    j(OPERATOR, "invoice", "refund", str(request["invoice_id"]))
    j(CUSTOMER, "invoice", "release", str(paid_installation(as_member, "ONT-J5")))
    unconfirmed = paid_installation(as_member, "ONT-J6")
    from telcochain import Client

    reader = Client.connect(os.environ["TELCOCHAIN_RPC_URL"], deployment=os.environ["TELCOCHAIN_DEPLOYMENT"])
    wait = reader.escrow.reclaimable_at(unconfirmed) - int(
        reader.rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16
    )
    reader.rpc.call("evm_increaseTime", [max(wait, 0) + 60])
    reader.rpc.call("evm_mine")
    j(CUSTOMER, "invoice", "reclaim", str(unconfirmed))
    # orders and stock
    j(OPERATOR, "order", "create", "ORD-J", "--project", "PRJ-JO", "--customer", "Initech Enterprise",
      "--service", "A")  # fmt: skip
    j(OPERATOR, "order", "add-service", "ORD-J", "B")
    ok(as_member(OPERATOR, "asset", "register", "RTR-J", "--kind", "CPE"))
    j(OPERATOR, "order", "add-line", "ORD-J", "LJ1", "--service", "A", "--vendor", "Acme Networks", "--sku", "RTR-X",
      "--asset", "RTR-J")  # fmt: skip
    j(OPERATOR, "order", "add-line", "ORD-J", "LJ2", "--service", "B", "--vendor", "Globex Optical", "--sku",
      "CABLE", "--quantity", "5")  # fmt: skip
    j(GLOBEX, "stock", "deliver", "LJ2", "--quantity", "3")
    j(OPERATOR, "stock", "consume", "LJ2", "--vendor", "Globex Optical", "--sku", "CABLE")
    revision = tmp_path / "revision.yaml"
    revision.write_text("lines:\n  keep: {LJ2: pause}\n")
    j(OPERATOR, "order", "revise", "ORD-J", "--file", str(revision))
    j(OPERATOR, "order", "resume", "ORD-J", "LJ2")
    j(OPERATOR, "order", "show", "ORD-J")
    j(OPERATOR, "stock", "show", "Globex Optical", "CABLE")
    j(OPERATOR, "stock", "reconcile", "--order", "ORD-J")
    j(OPERATOR, "order", "transition", "ORD-J", "held")
    j(OPERATOR, "order", "cancel", "ORD-J", "--line", "LJ2")
    j(GLOBEX, "stock", "return", "LJ2", "--quantity", "1")  # 1 of 2 still out: one line outstanding
    denied_by_chain(as_member)
    issue14(j, as_member, tmp_path, seen)
    # details, keys, accounts, node
    disclosed = j(OPERATOR, "details", "disclose", "ORD-J", "--set", "site=HQ", "--to", "Acme Networks")
    j(ACME, "details", "show", disclosed["id"])
    j(ACME, "details", "list", "ORD-J")
    j(OPERATOR, "details", "grant", disclosed["id"], "Globex Optical")
    j(ACME, "keys", "new", str(tmp_path / "acme.trustkeys"), "--password-file", str(password))
    j(ACME, "keys", "rotate", "0x" + "22" * 32)
    j(OPERATOR, "account", "new", "j-new", "--password-file", str(password))
    j(OPERATOR, "account", "import", "j-imported", "--password-file", str(password))
    j(OPERATOR, "account", "list")
    j(OPERATOR, "node", "status", "--data-dir", str(tmp_path / "no-node"))
    j(OPERATOR, "watch", "--all", "--once", "--from-block", "0")
    # the index and what reads it
    ok(as_member(OPERATOR, "index", "--once"))
    j(OPERATOR, "index", "verify")
    j(OPERATOR, "asset", "list")
    j(OPERATOR, "order", "list")
    j(OPERATOR, "macd", "pending")
    j(OPERATOR, "stock", "outstanding")
    j(OPERATOR, "member", "activity")
    j(OPERATOR, "denials")
    j(OPERATOR, "report")
    j(OPERATOR, "alerts")
    j(OPERATOR, "member", "reinstate", "Soylent")
    delegate = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # anvil's account 6: not a member
    j(OPERATOR, "member", "delegate", "add", delegate)
    j(OPERATOR, "member", "delegate", "list")
    j(OPERATOR, "member", "delegate", "remove", delegate)
    tokens = str(tmp_path / "gateway-tokens.yaml")
    j(OPERATOR, "serve", "token", "add", "schema-test", "--tokens-file", tokens)
    j(OPERATOR, "serve", "token", "list", "--tokens-file", tokens)
    return seen


def issue14(j, as_member, tmp_path: Path, seen: dict[str, list[Any]]) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: billing (partial payment, instalments, a disputed line resolved, credit payout,
    recurring accrual), vendor settlement, and a retail customer without a node (registered,
    its price list agreed and its monthly charge with its signed consents, its requests filed by
    its operator with and without them, its bill disputed and paid and its credit asked for from
    its own wallet)."""
    from click.testing import CliRunner
    from eth_account import Account
    from eth_utils import keccak
    from telcochain import Client
    from telcochain.cli import main

    # billing
    installed(as_member, "ONT-J14")
    for verb in ("move", "add"):
        ok(as_member(OPERATOR, "macd", verb, "ONT-J14"))
        ok(as_member(OPERATOR, "macd", "confirm", "ONT-J14"))
    bill = str(j(OPERATOR, "invoice", "bill", "Initech Enterprise")["invoice_id"])
    j(OPERATOR, "invoice", "instalments", bill, "--count", "2", "--every", "30")
    j(CUSTOMER, "invoice", "pay", bill, "--amount", "30")
    dispute = j(CUSTOMER, "invoice", "dispute", bill, "--amount", "40", "--line", "2", "--reason", "never added")
    j(OPERATOR, "invoice", "show", bill)
    j(OPERATOR, "invoice", "resolve", str(dispute["dispute"]), "--credit", "10")
    j(OPERATOR, "invoice", "accrue", "ONT-J14")
    ok(as_member(OPERATOR, "macd", "move", "ONT-J14"))  # billed while open, then cancelled: a credit note
    ok(as_member(OPERATOR, "invoice", "bill", "Initech Enterprise"))
    ok(as_member(OPERATOR, "macd", "cancel", "ONT-J14"))
    ok(as_member(OPERATOR, "invoice", "bill", "Initech Enterprise"))
    j(CUSTOMER, "invoice", "payout", "--payee", "Northwind Telecom", "--amount", "1")
    # vendor settlement
    opened = j(OPERATOR, "vendor", "terms", "Acme Networks", "ONT-JV", "--price", "20.5")
    for member in (ACME, GLOBEX):
        ok(as_member(member, "vote", str(opened["proposal_id"]), "--approve"))
    j(OPERATOR, "vendor", "terms", "Acme Networks", "ONT-JV")
    ok(as_member(OPERATOR, "order", "create", "ORD-JV", "--project", "PRJ-JV", "--customer", "Initech Enterprise",
                 "--service", "SVC-JV"))  # fmt: skip
    ok(as_member(OPERATOR, "order", "add-line", "ORD-JV", "L-JV", "--service", "SVC-JV", "--vendor", "Acme Networks",
                 "--sku", "ONT-JV", "--quantity", "4"))  # fmt: skip
    ok(as_member(ACME, "stock", "deliver", "L-JV", "--quantity", "2"))
    made = j(ACME, "vendor", "invoice", "L-JV", "--quantity", "2", "--vendor-ref", "ACME-J")
    j(OPERATOR, "vendor", "settle", str(made["invoice"]))
    ok(as_member(ACME, "stock", "return", "L-JV", "--quantity", "1"))
    j(OPERATOR, "vendor", "credit", "L-JV")
    j(OPERATOR, "vendor", "show", "L-JV")
    # a retail customer without a node
    wallet = Account.from_key(keccak(text="json schema retail wallet"))
    j(OPERATOR, "customer", "add", wallet.address, "--name", "Jane Doe")
    j(OPERATOR, "customer", "list")
    j(OPERATOR, "customer", "show", wallet.address)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"currency": "TSD", "move": 30}))
    commitment = j(OPERATOR, "terms", "propose", wallet.address, str(prices))["commitment"]
    j(OPERATOR, "terms", "show", wallet.address)

    def signed(*args: str) -> Path:
        out = tmp_path / f"consent-{len(seen.get('consent sign', []))}.json"
        result = CliRunner().invoke(main, ["consent", "sign", *args, "--customer", wallet.address, "--operator",
                                           _dev_key(OPERATOR).address, "--out", str(out), "--json"],
                                    env={"TELCOCHAIN_PRIVATE_KEY": wallet.key.hex()})  # fmt: skip
        assert result.exit_code == 0, result.output
        seen.setdefault("consent sign", []).append(json.loads(result.output))
        return out

    accept = signed("--action", "acceptTerms", "--subject", commitment)
    j(OPERATOR, "consent", "verify", str(accept))
    j(OPERATOR, "terms", "accept", wallet.address, commitment, "--consent", str(accept))
    rpc_url, deployment = os.environ["TELCOCHAIN_RPC_URL"], os.environ["TELCOCHAIN_DEPLOYMENT"]
    op = Client.connect(rpc_url, _dev_key(OPERATOR), deployment=deployment)
    initech = Client.connect(rpc_url, _dev_key(CUSTOMER), deployment=deployment)
    ok(as_member(OPERATOR, "asset", "register", "ONT-JR", "--kind", "ONT", "--vendor", "Acme Networks"))
    bind = j(ACME, "asset", "bind-serial", "ONT-JR", "SN-JR")
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    ask = op.customers.request_consent("requestInstallation", "ONT-JR", customer=wallet.address)
    op.customers.request_installation(
        "ONT-JR", wallet.address, 0, consent=ask, signature=op.customers.sign(ask, wallet)
    )
    ok(as_member(ACME, "asset", "transition", "ONT-JR", "deliver"))
    ok(as_member(OPERATOR, "install", "confirm", "ONT-JR"))
    monthly = signed("--action", "recurringCharge", "--subject", "ONT-JR", "--max-charge", str(39 * 10**6))
    j(OPERATOR, "terms", "monthly", "ONT-JR", str(39 * 10**6), "--consent", str(monthly))
    move = signed("--action", "orderChange", "--subject", "ONT-JR", "--kind", "move", "--max-charge", str(30 * 10**6))
    j(OPERATOR, "customer", "request", "move", "ONT-JR", "--consent", str(move))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-JR"))
    j(OPERATOR, "customer", "request", "add", "ONT-JR", "--charge", str(5 * 10**6))  # on the operator's own
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-JR"))
    retail_bill = op.agreement.bill(wallet.address).invoice_id
    initech.escrow.token().transact("transfer", wallet.address, 100 * 10**6)

    def as_wallet(*args: str) -> None:
        result = CliRunner().invoke(main, [*args, "--json"], env={"TELCOCHAIN_PRIVATE_KEY": wallet.key.hex()})
        assert result.exit_code == 0, result.output
        seen.setdefault(_command_of(args), []).append(json.loads(result.output))

    as_wallet("invoice", "dispute", str(retail_bill), "--amount", "5", "--line", "2", "--reason", "no add", "--direct")
    as_wallet("invoice", "pay", str(retail_bill), "--direct")
    j(OPERATOR, "customer", "request", "change", "ONT-JR", "--charge", str(-2 * 10**6))  # a credit it states
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-JR"))
    ok(as_member(OPERATOR, "invoice", "bill", wallet.address))  # a credit note
    as_wallet("invoice", "payout", "--payee", "Northwind Telecom", "--amount", "1", "--direct")
    # a bulk order (actFor op 4) of two of her services with her consent to the list
    ok(as_member(OPERATOR, "asset", "register", "ONT-JR3", "--kind", "ONT", "--vendor", "Acme Networks"))
    bind = j(ACME, "asset", "bind-serial", "ONT-JR3", "SN-JR3")
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    op.customers.request_installation("ONT-JR3", wallet.address, 0)
    ok(as_member(ACME, "asset", "transition", "ONT-JR3", "deliver"))
    ok(as_member(OPERATOR, "install", "confirm", "ONT-JR3"))
    bulk = signed("--action", "orderChanges", "--asset", "ONT-JR", "--asset", "ONT-JR3", "--kind", "change")
    j(OPERATOR, "consent", "verify", str(bulk))
    j(OPERATOR, "customer", "request", "change", "ONT-JR", "ONT-JR3", "--consent", str(bulk))
    ok(as_member(OPERATOR, "macd", "confirm", "ONT-JR", "ONT-JR3"))
    leave = signed("--action", "orderDisconnect", "--subject", "ONT-JR")
    j(OPERATOR, "customer", "request", "disconnect", "ONT-JR", "--consent", str(leave))
    ok(as_member(OPERATOR, "disconnect", "ONT-JR", "--cancel"))
    for kind in MacdKind:  # a kind not run above (one added since): ordered, then cancelled
        if kind is not MacdKind.DELETE and f"customer request {kind.label}" not in seen:
            j(OPERATOR, "customer", "request", kind.label, "ONT-JR", "--charge", "0")
            ok(as_member(OPERATOR, "macd", "cancel", "ONT-JR"))
    j(OPERATOR, "customer", "request", "delete", "ONT-JR", "--charge", "0")
    ok(as_member(OPERATOR, "asset", "register", "ONT-JR2", "--kind", "ONT", "--vendor", "Acme Networks"))
    bind = j(ACME, "asset", "bind-serial", "ONT-JR2", "SN-JR2")
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    install = signed("--action", "requestInstallation", "--subject", "ONT-JR2")
    j(OPERATOR, "customer", "request", "install", "ONT-JR2", "--customer", wallet.address, "--consent", str(install))


#: suspendMember(Globex Optical)'s parameters, for `action exec`.
SUSPEND_GLOBEX = "0x" + "00" * 12 + "3c44cdddb6a900fa2b585dd299e03d12fa4293bc"


def paid_installation(as_member, twin: str) -> int:
    """A twin with a serial whose installation is requested and paid (in escrow); its invoice."""
    ok(as_member(OPERATOR, "asset", "register", twin, "--kind", "ONT", "--vendor", "Acme Networks"))
    bind = json.loads(ok(as_member(ACME, "asset", "bind-serial", twin, f"SN-{twin}", "--json")))
    ok(as_member(OPERATOR, "vote", str(bind["proposal_id"]), "--approve"))
    request = json.loads(ok(as_member(OPERATOR, "install", "request", twin, "--customer", "Initech Enterprise",
                                      "--json")))  # fmt: skip
    ok(as_member(CUSTOMER, "invoice", "pay", str(request["invoice_id"])))
    return int(request["invoice_id"])


def denied_by_chain(as_member) -> None:
    """An ActionDenied on record (the CLI refuses locally; the SDK sends): denials and alerts have rows."""
    from telcochain import Client, PermissionDenied
    from telcochain.assets import ZERO32, asset_id

    as_member(ACME, "info")  # the fixture's environment: node and deployment
    rpc_url, deployment = os.environ["TELCOCHAIN_RPC_URL"], os.environ["TELCOCHAIN_DEPLOYMENT"]
    acme = Client.connect(rpc_url, _dev_key(ACME), deployment=deployment)
    with pytest.raises(PermissionDenied):
        acme.constitution.execute_action("confirmInstallation", (asset_id("ONT-J1"), ZERO32))


def _dev_key(n: int):  # type: ignore[no-untyped-def]
    from eth_account import Account
    from telcochain.node import DEV_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{n}")


def _command_of(args: tuple[str, ...]) -> str:
    """The command path of an invocation (`macd confirm`, `info`, `watch`...)."""
    from telcochain.cli import main

    words, command = [], main
    for arg in args:
        sub = getattr(command, "commands", {}).get(arg)
        if sub is None:
            break
        words.append(arg)
        command = sub
    return " ".join(words)


def test_docs_json_md_is_generated_from_the_schemas():
    target = ROOT / "docs" / "json.md"
    assert target.read_text() == render(), "docs/json.md is stale: run python scripts/gen_cli_docs.py"


def test_every_json_command_is_documented():
    from telcochain.cli import main

    def walk(command, path):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        elif any(p.name == "as_json" for p in command.params):
            yield " ".join(path)

    with_json = set(walk(main, []))
    assert with_json == set(JSON_OUTPUT), (
        f"undocumented: {sorted(with_json - set(JSON_OUTPUT))}; gone: {sorted(set(JSON_OUTPUT) - with_json)}"
    )
    paths = {path for command in JSON_OUTPUT for schema in schemas(command) for path in schema}
    leaves = {path.split(".")[-1].removesuffix("[]").removesuffix("[]") for path in paths}
    assert not {leaf for leaf in leaves if leaf and leaf not in NOTES}, "every key needs a note in NOTES"


def test_json_outputs_match_their_documented_schemas(as_member, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = run_everything(as_member, tmp_path, monkeypatch)
    if os.environ.get("TELCOCHAIN_JSON_CAPTURE"):  # a developer's aid: print what was observed
        observed = {c: {p: sorted(t) for p, t in _merge([key_paths(v) for v in vs]).items()} for c, vs in seen.items()}
        Path(os.environ["TELCOCHAIN_JSON_CAPTURE"]).write_text(json.dumps(observed, indent=1, sort_keys=True))
    missing_runs = set(JSON_OUTPUT) - set(seen)
    assert not missing_runs, f"not exercised: {sorted(missing_runs)}"
    problems = []
    for command, outputs in seen.items():
        for value in outputs:
            found = [differences(key_paths(value), schema) for schema in schemas(command)]
            best = min(found, key=len)
            problems += [f"{command}: {p}" for p in best]
    assert not problems, "\n".join(problems)


def differences(observed: dict[str, set[str]], schema: Schema) -> list[str]:
    """How one output differs from a schema (empty: it matches)."""
    problems = []
    for path, types in observed.items():
        documented = schema.get(path)
        if documented is None:
            if not any(path.startswith(f + ".") or path.startswith(f + "[]") for f in FREEFORM):
                problems.append(f"{path} ({'|'.join(sorted(types))}) is not documented")
            continue
        allowed = set(documented.removesuffix("?").split("|"))
        if not types <= allowed:
            problems.append(f"{path} is {'|'.join(sorted(types))}, documented {documented}")
    for path, documented in schema.items():
        inside = path.rsplit("[]", 1)[0] + "[]" if "[]" in path else None
        if inside is not None and inside != path and inside not in observed:
            continue  # an empty list: its items' keys cannot show
        if inside == path and path.rsplit("[]", 1)[0] and path.rsplit("[]", 1)[0] in observed:
            continue  # the list is there, empty
        if path not in observed and not documented.endswith("?") and not (path == "[]" and not observed):
            problems.append(f"documented {path} was not printed")
    return problems


def _merge(shapes: list[dict[str, set[str]]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for shape in shapes:
        for path, types in shape.items():
            merged.setdefault(path, set()).update(types)
    return merged
