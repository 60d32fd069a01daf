"""Bad input, command by command: every case is refused with ONE line, no traceback, exit != 0,
and leaves the chain exactly as it was (block number and the dev accounts' nonces unchanged —
nothing was mined, nothing was signed).

The cases are generated from two tables: ``COMMANDS`` (each command with otherwise valid
arguments and the slots where a bad value can go) and ``BAD`` (the bad values per kind of
slot); universal cases (dead node, broken deployment manifest, no account, a keystore that is
not one, a wrong password) are added for every command that talks to the chain or signs, and
permission / state cases are listed by hand at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner
from telcochain.cli import main
from telcochain.keystore import Keystore
from telcochain.rpc import Rpc

from tests.support.chain import revert

OPERATOR, ACME, GLOBEX, CUSTOMER = 0, 1, 2, 3
ACME_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BAD_CHECKSUM = "0x70997970c51812DC3A010C7d01b50e0d17dc79C8"
HUGE = str(2**300)
SUSPEND_GLOBEX = "0x" + "00" * 12 + "3C44CdDdB6a900fa2b585dd299e03d12FA4293BC".lower()
TRUST_KEY = "0x" + "ab" * 32
#: A retail customer registered by the operator (a wallet that signs its consents offline).
RETAIL_KEY = "0x" + "5e" * 32
RETAIL = "0x" + "00" * 20  # set from RETAIL_KEY below
UNREGISTERED = "0x1111111111111111111111111111111111111111"


def _retail_address() -> str:
    from eth_account import Account

    return Account.from_key(RETAIL_KEY).address


RETAIL = _retail_address()

#: Bad values by kind of slot: (label, value, expected text in the error or None).
BAD: dict[str, list[tuple[str, str, str | None]]] = {
    "asset": [
        ("unknown", "NOPE-404", "NOPE-404"),
        ("empty", "", None),
        ("over-long", "X" * 40, None),
        ("unicode-long", "ÖNT-🙂-ünïcødé-ïd-ëxtra-lóng-1234", None),
        ("unicode", "ÖNT-é", None),
        ("option-like", "-1", "negative number"),
    ],
    "newasset": [
        ("existing", "ONT-P", "AssetAlreadyExists"),
        ("empty", "", None),
        ("over-long", "X" * 40, None),
        ("unicode-long", "ÖNT-🙂-ünïcødé-ïd-ëxtra-lóng-1234", None),
    ],
    "neworder": [
        ("existing", "O-1", "exists already"),
        ("empty", "", None),
        ("over-long", "O" * 40, None),
    ],
    "newline": [
        ("empty", "", None),
        ("over-long", "L" * 40, None),
    ],
    "serial": [
        ("empty", "", None),
        ("blank", "   ", None),
    ],
    "id": [
        ("unknown", "999999", None),
        ("zero", "0", "out of range"),
        ("negative", "-1", "negative number"),
        ("huge", HUGE, "out of range"),
        ("text", "abc", "not a number"),
        ("empty", "", "not a number"),
    ],
    "member": [
        ("unknown", "Nobody Inc", "no member"),
        ("short-address", "0x1234", "not a valid address"),
        ("bad-checksum", BAD_CHECKSUM, "not a valid address"),
        ("empty", "", None),
        ("unicode", "Ñobody 🙂", "no member"),
    ],
    "address": [
        ("short", "0x1234", "not a valid address"),
        ("bad-checksum", BAD_CHECKSUM, "not a valid address"),
        ("not-hex", "0x" + "zz" * 20, "not a valid address"),
        ("empty", "", None),
    ],
    "order": [
        ("unknown", "NOPE-ORDER", None),
        ("empty", "", None),
        ("over-long", "O" * 40, None),
        ("unicode-long", "ÖRDER-🙂-ünïcødé-ïd-ëxtra-lóng-12", None),
    ],
    "line": [
        ("unknown", "NOPE-LINE", None),
        ("empty", "", None),
        ("over-long", "L" * 40, None),
    ],
    "action": [
        ("unknown", "noSuchAction", None),
        ("empty", "", None),
        ("over-long", "a" * 100, None),
    ],
    "quantity": [
        ("zero", "0", None),
        ("negative", "-3", None),
        ("huge", HUGE, None),
        ("text", "many", None),
    ],
    "file": [
        ("missing", "{tmp}/missing.json", None),
        ("not-json", "{tmp}/garbage.txt", None),
        ("list-json", "{tmp}/list.json", None),
        ("empty", "{tmp}/empty.json", None),
        ("directory", "{tmp}", None),
    ],
    "key": [
        ("short", "0x1234", None),
        ("not-hex", "0x" + "zz" * 32, None),
        ("empty", "", None),
    ],
    "text": [
        ("empty", "", None),
        ("over-long", "N" * 100, None),
    ],
    "details": [
        ("not-json", "not-json", "neither a JSON object nor a readable file"),
        ("empty-object", "{}", "non-empty JSON object"),
        ("list", "[1,2]", "neither a JSON object"),
        ("broken", '{"a":', "not valid JSON"),
        ("missing-file", "{tmp}/missing.json", "neither a JSON object nor a readable file"),
        ("list-file", "{tmp}/list.json", "non-empty JSON object"),
        ("directory", "{tmp}", "neither a JSON object nor a readable file"),
    ],
    "disclosure": [
        ("unknown", "0x" + "11" * 32, None),
        ("short-hex", "0x1234", None),
        ("empty", "", None),
        ("unknown-ref", "NOPE-REF", None),
    ],
    "indexmember": [
        ("unknown", "Nobody Inc", "no member"),
        ("short-address", "0x1234", "no member"),
        ("unicode", "Ñobody 🙂", "no member"),
    ],
    "charge": [
        ("huge", HUGE, "int72"),
        ("below-int72", str(-(2**71) - 1), "int72"),
        ("text", "many", None),
        ("empty", "", None),
    ],
    "cursor": [
        ("garbage", "garbage", "not a cursor"),
        ("empty", "", "not a cursor"),
        ("negative", "-1", None),
        ("short-hex", "0x1234", "not a cursor"),
    ],
}


@dataclass
class Command:
    """A command line with valid arguments; ``{slot}`` marks where a bad value of ``slots[slot]``
    goes (the others keep their valid value). ``chain``: talks to the node; ``signs``: signs."""

    args: list[str]
    slots: dict[str, tuple[str, str]] = field(default_factory=dict)  # slot -> (kind, valid value)
    account: int = OPERATOR
    chain: bool = True
    signs: bool = False
    valid: bool = True  # the line with its valid values would be accepted up to the chain


def cmd(
    line: str,
    account: int = OPERATOR,
    chain: bool = True,
    signs: bool = False,
    valid: bool = True,
    **slots: tuple[str, str],
):
    return Command(line.split(), slots, account, chain, signs, valid)


A = ("asset", "ONT-P")
COMMANDS: dict[str, Command] = {
    "info": cmd("info"),
    "member list": cmd("member list"),
    "member add": cmd(
        "member add {addr} --name {name} --trust-key {key}",
        signs=True,
        addr=("address", "0x1111111111111111111111111111111111111111"),
        name=("text", "Newco"),
        key=("key", TRUST_KEY),
    ),
    "member suspend": cmd("member suspend {who}", signs=True, who=("member", "Globex Optical")),
    "member reinstate": cmd("member reinstate {who}", signs=True, who=("member", "Globex Optical")),
    "action list": cmd("action list"),
    "action show": cmd("action show {name}", name=("action", "addMember")),
    "action grant": cmd(
        "action grant {name} {who}", signs=True, name=("action", "register"), who=("member", "Acme Networks")
    ),
    "action revoke": cmd(
        "action revoke {name} {who}", signs=True, name=("action", "register"), who=("member", "Acme Networks")
    ),
    "action amend": cmd("action amend {file}", signs=True, valid=False, file=("file", "{tmp}/absent")),
    "action exec": cmd(f"action exec {{name}} --params {SUSPEND_GLOBEX}", signs=True, name=("action", "suspendMember")),
    "proposal list": cmd("proposal list"),
    "proposal show": cmd("proposal show {id}", id=("id", "1")),
    "vote": cmd("vote {id} --approve", account=ACME, signs=True, id=("id", "1")),
    "asset register": cmd("asset register {a} --kind ONT", signs=True, a=("newasset", "ONT-NEW")),
    "asset parties": cmd("asset parties {a} --vendor {v}", signs=True, a=A, v=("member", "Acme Networks")),
    "asset show": cmd("asset show {a}", a=A),
    "asset history": cmd("asset history {a}", a=A),
    "asset bind-serial": cmd("asset bind-serial {a} {serial}", signs=True, a=A, serial=("serial", "SN-1")),
    "asset transition": cmd("asset transition {a} decommission", signs=True, a=A),
    "asset bulk": cmd("asset bulk decommission {a}", signs=True, a=A),
    "asset link": cmd("asset link {a} --order {o}", signs=True, a=A, o=("newline", "O-1")),
    "install request": cmd("install request {a} --customer {c}", signs=True, a=A, c=("member", "Initech Enterprise")),
    "install confirm": cmd("install confirm {a}", signs=True, a=("asset", "ONT-I")),
    "install withdraw": cmd("install withdraw {a}", signs=True, a=("asset", "ONT-I")),
    "macd move": cmd("macd move {a}", account=CUSTOMER, signs=True, a=A),
    "macd add": cmd("macd add {a}", account=CUSTOMER, signs=True, a=A),
    "macd change": cmd("macd change {a}", account=CUSTOMER, signs=True, a=A),
    "macd delete": cmd("macd delete {a}", account=CUSTOMER, signs=True, a=A),
    "macd confirm": cmd("macd confirm {a}", signs=True, a=A),
    "macd cancel": cmd("macd cancel {a}", signs=True, a=A),
    "disconnect": cmd("disconnect {a}", account=CUSTOMER, signs=True, a=A),
    "disconnect --invoice": cmd("disconnect ONT-I --invoice {id}", signs=True, id=("id", "1")),
    "invoice list": cmd("invoice list --payer {who}", who=("member", "Initech Enterprise")),
    "invoice show": cmd("invoice show {id}", id=("id", "1")),
    "invoice pay": cmd("invoice pay {id}", account=CUSTOMER, signs=True, id=("id", "1")),
    "invoice release": cmd("invoice release {id}", account=CUSTOMER, signs=True, id=("id", "1")),
    "invoice refund": cmd("invoice refund {id}", signs=True, id=("id", "1")),
    "invoice reclaim": cmd("invoice reclaim {id}", account=CUSTOMER, signs=True, id=("id", "1")),
    "invoice account": cmd("invoice account {who}", who=("member", "Initech Enterprise")),
    "invoice bill": cmd("invoice bill {who}", signs=True, who=("member", "Initech Enterprise")),
    "order create": cmd("order create {o} --project P-1 --service A", signs=True, o=("neworder", "O-NEW")),
    "order add-service": cmd("order add-service {o} SVC-X", signs=True, o=("order", "O-1")),
    "order add-line": cmd(
        "order add-line O-1 {l} --service A --vendor {v} --sku ONT-X --quantity {q}",
        signs=True,
        l=("newline", "L-NEW"),
        v=("member", "Acme Networks"),
        q=("quantity", "1"),
    ),
    "order show": cmd("order show {o}", o=("order", "O-1")),
    "order transition": cmd("order transition {o} completed", signs=True, o=("order", "O-1")),
    "order cancel": cmd("order cancel {o} --line NOPE-LINE", signs=True, o=("order", "O-1")),
    "order resume": cmd("order resume {o} {l}", signs=True, o=("order", "O-1"), l=("line", "NOPE-LINE")),
    "order revise": cmd(
        "order revise {o} --file {file}", signs=True, valid=False, o=("order", "O-1"), file=("file", "{tmp}/absent")
    ),
    "stock show": cmd("stock show {v} ONT-X", v=("member", "Acme Networks")),
    "stock reconcile": cmd("stock reconcile --order {o}", o=("order", "O-1")),
    "stock deliver": cmd(
        "stock deliver {l} --quantity {q}", account=ACME, signs=True, l=("line", "NOPE-LINE"), q=("quantity", "1")
    ),
    "stock consume": cmd(
        "stock consume {l} --vendor {v} --sku ONT-X --quantity {q}",
        signs=True,
        l=("line", "NOPE-LINE"),
        v=("member", "Acme Networks"),
        q=("quantity", "1"),
    ),
    "stock return": cmd("stock return {l}", account=ACME, signs=True, l=("line", "NOPE-LINE")),
    "details list": cmd("details list ONT-P"),
    "keys rotate": cmd("keys rotate {key}", signs=True, key=("key", TRUST_KEY)),
    "watch": cmd("watch --once --checkpoint {file}", valid=False, file=("file", "{tmp}/absent")),
    "account new": cmd("account new {name}", chain=False, name=("text", "alice")),
    # the groups added since: MACD notes, confirm from a file, details, the index's readers
    "macd move --details": cmd(
        "macd move ONT-A --details {d}", account=CUSTOMER, chain=False, d=("details", '{"w":1}')
    ),
    "macd confirm --file": cmd("macd confirm --file {file}", signs=True, valid=False, file=("file", "{tmp}/absent")),
    "details show": cmd(
        "details show {id}", account=ACME, signs=True, valid=False, id=("disclosure", "0x" + "11" * 32)
    ),
    "details disclose": cmd("details disclose ORD-X --set k=v --to {who}", signs=True, who=("member", "Acme Networks")),
    "details grant": cmd(
        "details grant {id} {who}",
        signs=True,
        valid=False,
        id=("disclosure", "0x" + "11" * 32),
        who=("member", "Acme Networks"),
    ),
    "asset list": cmd(
        "asset list --customer {who} --after {cur}",
        chain=False,
        who=("indexmember", "Initech Enterprise"),
        cur=("cursor", "0x" + "00" * 32),
    ),
    "order list": cmd(
        "order list --customer {who} --after {cur}",
        chain=False,
        who=("indexmember", "Initech Enterprise"),
        cur=("cursor", "0x" + "00" * 32),
    ),
    "macd pending": cmd(
        "macd pending --customer {who} --after {cur}",
        chain=False,
        who=("indexmember", "Initech Enterprise"),
        cur=("cursor", "1:0:0"),
    ),
    "stock outstanding": cmd("stock outstanding --vendor {who}", chain=False, who=("indexmember", "Acme Networks")),
    "member activity": cmd("member activity {who}", chain=False, who=("indexmember", "Acme Networks")),
    "denials": cmd("denials --account {who}", chain=False, who=("indexmember", "Acme Networks")),
    "alerts": cmd("alerts --config {file}", valid=False, file=("file", "{tmp}/absent")),
    "index verify": cmd("index verify"),
    "index": cmd("index --once"),
    "account import": cmd("account import bob --keystore-file {file}", chain=False, file=("file", "{tmp}/absent")),
    # issue 14: a retail customer's requests filed by its operator; a payer's direct dispute and payout
    "customer request install": cmd(
        "customer request install {a} --customer {c} --charge 0", signs=True, a=A, c=("address", RETAIL)
    ),
    "customer request move": cmd("customer request move {a} --charge {ch}", signs=True, a=A, ch=("charge", "0")),
    "customer request delete": cmd("customer request delete {a} --charge 0", signs=True, a=A),
    "customer request disconnect": cmd("customer request disconnect {a} --charge 0", signs=True, a=A),
    "customer request change --consent": cmd(
        "customer request change ONT-A --consent {file}", signs=True, valid=False, file=("file", "{tmp}/absent")
    ),
    # a registered customer's bulk order (several assets, or --file): actFor op 4
    "customer request move (bulk)": cmd(
        "customer request move {a} ONT-A --charge {ch}", signs=True, a=A, ch=("charge", "0")
    ),
    "customer request add --file": cmd(
        "customer request add --file {file} --charge 0", signs=True, valid=False, file=("file", "{tmp}/absent")
    ),
    "invoice dispute --direct": cmd(
        "invoice dispute {id} --amount 1 --reason x --direct", account=CUSTOMER, signs=True, id=("id", "1")
    ),
    "invoice payout --direct": cmd(
        "invoice payout --payee {who} --amount 1 --direct",
        account=CUSTOMER,
        signs=True,
        who=("member", "Northwind Telecom"),
    ),
}


def _fill(command: Command, override: tuple[str, str] | None = None) -> list[str]:
    values = {slot: valid for slot, (_, valid) in command.slots.items()}
    if override is not None:
        values[override[0]] = override[1]
    return [arg.format(**values) if "{" in arg else arg for arg in command.args]


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]
    account: int | None  # None: no account at all
    expect: str | None = None
    env: tuple[tuple[str, str], ...] = ()


def _cases() -> list[Case]:
    cases: list[Case] = []
    for name, command in COMMANDS.items():
        for slot, (kind, _) in command.slots.items():
            for label, value, expect in BAD[kind]:
                if kind == "file" and name == "watch" and label in ("missing", "empty"):
                    continue  # a missing/empty checkpoint means "start from the head": valid
                if kind == "file" and name == "alerts" and label == "empty":
                    continue  # an empty alerts config: the shipped thresholds, valid
                cases.append(Case(f"{name}/{slot}:{label}", _fill(command, (slot, value)), command.account, expect))
        if command.chain:
            base = _fill(command)
            cases += [
                Case(
                    f"{name}/dead-node",
                    [*base, "--rpc-url", "http://127.0.0.1:9"],
                    command.account,
                    "cannot reach" if command.valid else None,
                ),
                Case(f"{name}/deployment:missing", [*base, "--deployment", "{tmp}/missing.json"], command.account),
                Case(f"{name}/deployment:not-json", [*base, "--deployment", "{tmp}/garbage.txt"], command.account),
                Case(f"{name}/deployment:list", [*base, "--deployment", "{tmp}/list.json"], command.account),
                Case(
                    f"{name}/deployment:no-contracts",
                    [*base, "--deployment", "{tmp}/nocontracts.json"],
                    command.account,
                ),
            ]
        if command.signs:
            base = _fill(command)
            cases += [
                Case(f"{name}/no-account", base, None, "--account" if command.valid else None),
                Case(
                    f"{name}/account:unknown",
                    [*base, "--account", "ghost", "--password-file", "{tmp}/pw"],
                    None,
                    "no account named" if command.valid else None,
                ),
                Case(
                    f"{name}/account:not-a-keystore",
                    [*base, "--account", "{tmp}/list.json", "--password-file", "{tmp}/pw"],
                    None,
                    "not a keystore" if command.valid else None,
                ),
                Case(
                    f"{name}/account:garbage-keystore",
                    [*base, "--account", "{tmp}/garbage.json", "--password-file", "{tmp}/pw"],
                    None,
                    "not a keystore" if command.valid else None,
                ),
                Case(
                    f"{name}/key:invalid-env",
                    base,
                    None,
                    "not a valid private key" if command.valid else None,
                    (("TELCOCHAIN_PRIVATE_KEY", "0x1234"),),
                ),
            ]
    # wrong passwords (scrypt is slow: a few commands only)
    for name in ("member add", "asset register", "invoice pay", "order create"):
        cases.append(
            Case(
                f"{name}/account:wrong-password",
                [*_fill(COMMANDS[name]), "--account", "ops", "--password-file", "{tmp}/wrongpw"],
                None,
                "wrong password",
            )
        )
    cases += [
        Case(
            "account import/empty-password",
            ["account", "import", "carol", "--password-file", "{tmp}/emptypw"],
            None,
            "empty",
            (("TELCOCHAIN_PRIVATE_KEY", "0x" + "11" * 32),),
        ),
        Case(
            "account import/bad-name",
            ["account", "import", "../../etc/x", "--password-file", "{tmp}/pw"],
            None,
            "account name",
            (("TELCOCHAIN_PRIVATE_KEY", "0x" + "11" * 32),),
        ),
        Case("account new/existing", ["account", "new", "ops", "--password-file", "{tmp}/pw"], None, "exists"),
        Case("info/deployment:directory", ["info", "--deployment", "{tmp}"], OPERATOR),
        Case("keys new/directory", ["keys", "new", "{tmp}", "--password-file", "{tmp}/pw"], None, "directory"),
        Case("keys new/existing", ["keys", "new", "{tmp}/list.json", "--password-file", "{tmp}/pw"], None, "exists"),
        Case(
            "keys new/empty-password",
            ["keys", "new", "{tmp}/k.keys", "--password-file", "{tmp}/emptypw"],
            None,
            "non-empty password",
        ),
        Case("node status/no node", ["node", "status", "--data-dir", "{tmp}/no-node"], None, "no node is running"),
        Case("node stop/no node", ["node", "stop", "--data-dir", "{tmp}/no-node"], None, "no node is running"),
        Case("node status/port:zero", ["node", "status", "--port", "0"], None, "--port"),
        Case("node/port:text", ["node", "--port", "abc", "--detach"], None, "--port"),
        Case("denials/reason:unknown", ["denials", "--reason", "bogus"], None, "--reason"),
        Case("report/period:unknown", ["report", "--period", "year"], None, "--period"),
        Case("report/section:unknown", ["report", "--section", "bogus"], None, "unknown section"),
        Case("report/html:directory", ["report", "--html", "{tmp}"], None, "directory"),
        Case(
            "alerts/config:not-a-mapping", ["alerts", "--config", "{tmp}/garbage.txt"], OPERATOR, "not an alerts config"
        ),
        Case(
            "macd move/details-to without details",
            ["macd", "move", "ONT-A", "--details-to", "Acme Networks"],
            CUSTOMER,
            "pass --details too",
        ),
        Case(
            "macd move/details-to unknown",
            ["macd", "move", "ONT-A", "--details", '{"a":1}', "--details-to", "Nobody Inc"],
            CUSTOMER,
            "no member",
        ),
    ]
    # no permission: each as a member that does not hold the action
    for who, line in [
        (CUSTOMER, "action grant register Acme Networks"),
        (CUSTOMER, "asset register ONT-Z --kind ONT"),
        (CUSTOMER, "asset transition ONT-P decommission"),
        (CUSTOMER, "order create O-Z --project P-1"),
        (ACME, "invoice bill Initech Enterprise"),
        (ACME, "install request ONT-P --customer Initech Enterprise"),
        (CUSTOMER, "order add-service O-1 SVC-Z"),
        (GLOBEX, "invoice pay 1"),
        (OPERATOR, "invoice release 1"),
        (CUSTOMER, "invoice refund 1"),
    ]:
        cases.append(Case(f"permission/{line.split(' ')[0]} {line.split(' ')[1]} as {who}", _split(line), who))
    # wrong state: the twin, the invoice or the proposal is not where the command needs it
    for who, line, expect in [
        (OPERATOR, "install confirm ONT-P", "nothing is open"),
        (CUSTOMER, "macd add ONT-P", "Planned"),
        (CUSTOMER, "macd add ONT-I ONT-I", "twice"),
        (CUSTOMER, "disconnect ONT-P", "Planned"),
        (OPERATOR, "disconnect ONT-I", "PendingInstallation"),
        (OPERATOR, "disconnect ONT-I --confirm", "disconnect"),
        (OPERATOR, "disconnect ONT-I --invoice 1", "PendingInstallation"),
        (OPERATOR, "install request ONT-I --customer Initech Enterprise", "open installation"),
        (OPERATOR, "install confirm ONT-I", "PendingInstallation"),
        (OPERATOR, "macd confirm ONT-I", "open change"),
        (CUSTOMER, "invoice release 1", "issued"),
        (CUSTOMER, "invoice reclaim 1", "issued"),
        (OPERATOR, "invoice bill Initech Enterprise", "empty"),
        (OPERATOR, "vote 1 --approve", "voted"),
        (OPERATOR, "asset register ONT-P --kind ONT", "AssetAlreadyExists"),
        (OPERATOR, "order create O-1 --project P-1", "exists already"),
        (OPERATOR, "order create O-Q --project P-1 --customer Initech Enterprise", "exists already"),
        (OPERATOR, "order create O-Q --project P-NONE", "no project"),
        (OPERATOR, "order create O-Q --project P-1 --service A:0", "versions"),
        (OPERATOR, "order create O-Q --project P-1 --service A --service A", "twice"),
        (OPERATOR, "action exec addMember --params 0x1234", "do not decode"),
        (OPERATOR, "action exec addMember --params 0xzz", "not valid hex"),
        (OPERATOR, f"member add {ACME_ADDRESS} --name Dup --trust-key {TRUST_KEY}", "already a member"),
        (OPERATOR, f"member add 0x{'00' * 20} --name Zero --trust-key {TRUST_KEY}", "ConstitutionInvalidMember"),
        (OPERATOR, f"member add 0x{'22' * 20} --name ACME\0NETWORKS --trust-key {TRUST_KEY}", "ConstitutionNameTaken"),
        (OPERATOR, "asset bind-serial NOPE-404 SN-1", "no twin"),
        (ACME, "asset bind-serial ONT-A SN-AGAIN", "has a serial already"),
        (CUSTOMER, "invoice pay 2", "cancelled"),
        (OPERATOR, "disconnect ONT-A", "its customer orders the disconnect"),
        (OPERATOR, "disconnect ONT-A --invoice 999999", "EscrowUnknownInvoice"),
        (OPERATOR, "disconnect ONT-A --non-payment", "is overdue"),
        (OPERATOR, "macd confirm ONT-A", "open change"),
        (CUSTOMER, "macd cancel ONT-A", "open change"),
        (OPERATOR, "order cancel O-A", "installed and Active"),
        (OPERATOR, "order revise O-1 --file {tmp}/rev-int.yaml", "lines must be a mapping, not int"),
        (OPERATOR, "order revise O-1 --file {tmp}/rev-novendor.yaml", "lines.add[0] lacks vendor, sku"),
        (OPERATOR, "order revise O-1 --file {tmp}/rev-negative.yaml", "must be a whole number from 1"),
        (OPERATOR, "action grant register 0x1111111111111111111111111111111111111111", "not a member"),
        (OPERATOR, "action grant register Northwind Telecom", "holds register already"),
        (OPERATOR, "action revoke register Initech Enterprise", "nothing to revoke"),
        (OPERATOR, "member reinstate Acme Networks", "ConstitutionMemberNotSuspended"),
        (OPERATOR, "asset transition ONT-P explode", None),
        (OPERATOR, "proposal list --status nonsense", None),
        (OPERATOR, "invoice list --status nonsense", None),
        (OPERATOR, "invoice list --payer Acme Networks --payee Northwind Telecom", "not both"),
        # issue 14: the operator's consented requests; the payer's direct dispute and payout
        (OPERATOR, f"customer request install ONT-P --customer {UNREGISTERED} --charge 0", "customer add"),
        (GLOBEX, f"customer request install ONT-P --customer {RETAIL} --charge 0", "only its operator"),
        (OPERATOR, f"customer request install ONT-P --customer {RETAIL} --charge -1", "not negative"),
        (OPERATOR, f"customer request install ONT-P --customer {RETAIL}", "--charge"),
        (OPERATOR, f"customer request install ONT-P --customer {RETAIL} --consent {{tmp}}/c-other.json", "not ONT-P"),
        (
            OPERATOR,
            f"customer request install ONT-R --customer {RETAIL} --consent {{tmp}}/c-r5.json --charge 6",
            "ceiling",
        ),
        (OPERATOR, f"customer request install ONT-R --customer {RETAIL} --consent {{tmp}}/c-expired.json", "expired"),
        (OPERATOR, f"customer request install ONT-R --customer {RETAIL} --consent {{tmp}}/c-forged.json", "signed by"),
        (OPERATOR, f"customer request install ONT-R --customer {RETAIL} --consent {{tmp}}/c-move.json", "not"),
        (OPERATOR, "customer request move ONT-A --charge 0", "public default terms"),
        (OPERATOR, "customer request move ONT-P --charge 0", "Planned"),
        (OPERATOR, "customer request move ONT-A", "--charge"),
        (OPERATOR, "customer request disconnect ONT-I --charge 0", "PendingInstallation"),
        (OPERATOR, "customer request disconnect ONT-A --consent {tmp}/list.json --invoice 1", "not both"),
        (OPERATOR, "customer request move ONT-A --consent {tmp}/list.json", "--consent"),
        # the bulk order's shapes: refused before anything is sent (or signed)
        (OPERATOR, "customer request move ONT-A ONT-A --charge 0", "listed twice"),
        (OPERATOR, "customer request add --file {tmp}/twice.txt --charge 0", "listed twice"),
        (OPERATOR, "customer request move ONT-A ONT-P --charge 0", "public default terms"),
        (OPERATOR, "customer request move ONT-P ONT-A --charge 0", "Planned"),
        (OPERATOR, "customer request move ONT-A ONT-P", "--charge"),
        (OPERATOR, "customer request move --charge 0", "give the assets"),
        (OPERATOR, "customer request change ONT-A ONT-P --consent {tmp}/list.json", "--consent"),
        (
            OPERATOR,
            f"consent sign --action orderChanges --subject ONT-A --customer {RETAIL} --operator {RETAIL}",
            "not --subject",
        ),
        (OPERATOR, f"consent sign --action orderChanges --customer {RETAIL} --operator {RETAIL}", "--asset"),
        (
            OPERATOR,
            f"consent sign --action orderChange --asset ONT-A --customer {RETAIL} --operator {RETAIL}",
            "--subject",
        ),
        (
            OPERATOR,
            f"consent sign --action orderChanges --asset ONT-A --asset ONT-A --customer {RETAIL} --operator {RETAIL}",
            "each asset once",
        ),
        (OPERATOR, "consent verify {tmp}/c-move.json --asset ONT-R", "--asset checks"),
        (OPERATOR, "consent verify {tmp}/c-list.json", "name the bulk order's assets"),
        (OPERATOR, "consent verify {tmp}/c-list.json --asset ONT-R --asset ONT-A", "another list"),
        (OPERATOR, "customer request move ONT-A ONT-R --consent {tmp}/c-list.json", "public default terms"),
        (CUSTOMER, "invoice dispute 1 --amount 1 --reason x --direct", "waits for a confirmation"),
        (OPERATOR, "invoice dispute 1 --amount 1 --reason x --direct", "only its payer"),
        (CUSTOMER, "invoice dispute 999999 --amount 1 --reason x --direct", "EscrowUnknownInvoice"),
        (CUSTOMER, "invoice dispute 1 --amount 0 --reason x --direct", "positive amount"),
        (CUSTOMER, "invoice payout --payee Northwind Telecom --amount 1 --direct", "your credit"),
        (CUSTOMER, "invoice payout --payee Northwind Telecom --amount -1 --direct", None),
    ]:
        cases.append(Case(f"state/{line}", _split(line), who, expect))
    cases.append(
        Case("macd add/257 unknown twins", ["macd", "add", *[f"T-{n}" for n in range(257)]], CUSTOMER, "no twin")
    )
    cases.append(
        Case(
            "customer request add/257 twins",
            ["customer", "request", "add", *[f"T-{n}" for n in range(257)], "--charge", "0"],
            OPERATOR,
            "at most 256",
        )
    )
    cases.append(
        Case(
            "consent sign/257 assets",
            [
                "consent",
                "sign",
                "--action",
                "orderChanges",
                *[w for n in range(257) for w in ("--asset", f"T-{n}")],
                "--customer",
                RETAIL,
                "--operator",
                RETAIL,
            ],
            OPERATOR,
            "at most 256",
        )
    )
    return cases


def _split(line: str) -> list[str]:
    """Split a line, keeping member names with a space together."""
    for name in ("Initech Enterprise", "Acme Networks", "Globex Optical", "Northwind Telecom"):
        line = line.replace(name, name.replace(" ", "\0"))
    return [w.replace("\0", " ") for w in line.split(" ")]  # "\0" in a line: a space inside an argument


CASES = _cases()


@pytest.fixture(scope="module")
def world(local_node, deployment_path, dev_accounts, tmp_path_factory):
    """Seeded once for the module (and undone after it): a Planned twin ONT-P, a twin ONT-I with an
    open installation for Initech (invoice #1, issued), project P-1 with order O-1 and service A,
    proposal #1 (addMember, opened by the operator); invoice #2 cancelled (ONT-W's installation
    withdrawn); ONT-A installed and Active for Initech, on line LA of order O-A; bad files and a
    keystore ``ops``."""
    from telcochain import Client

    rpc = Rpc(local_node.rpc_url)
    before = rpc.call("evm_snapshot")
    operator = Client.connect(local_node.rpc_url, dev_accounts[OPERATOR], deployment=deployment_path)
    acme = dev_accounts[ACME].address
    customer = dev_accounts[CUSTOMER].address
    operator.assets.register("ONT-P", "ONT", vendor=acme)
    operator.assets.register("ONT-I", "ONT", vendor=acme)
    operator.agreement.request_installation("ONT-I", customer)
    operator.orders.create_project("P-1", customer)
    operator.orders.create_order("O-1", "P-1")
    operator.orders.add_service("O-1", "A", 1)
    operator.constitution.add_member("0x" + "33" * 20, bytes(32 * [7]), "Proposed Member")
    # invoice #2, cancelled: its installation was withdrawn
    operator.assets.register("ONT-W", "ONT", vendor=acme)
    operator.agreement.request_installation("ONT-W", customer)
    operator.agreement.withdraw_installation("ONT-W")
    # ONT-A: installed and Active for Initech (serial bound), held by line LA of order O-A
    vendor = Client.connect(local_node.rpc_url, dev_accounts[ACME], deployment=deployment_path)
    payer = Client.connect(local_node.rpc_url, dev_accounts[CUSTOMER], deployment=deployment_path)
    from telcochain.orders import DeviceLine

    operator.assets.register("ONT-A", "ONT", vendor=acme)
    operator.orders.create_order("O-A", "P-1")
    operator.orders.add_service("O-A", "A", 1)
    operator.orders.add_device_line("O-A", DeviceLine("LA", "A", acme, "ONT-X", 1, asset="ONT-A"))
    vendor.orders.deliver("LA")
    bind = vendor.assets.bind_serial("ONT-A", "SN-A")
    operator.constitution.vote(bind.proposal_id, approve=True)
    installation = payer.agreement.request_installation("ONT-A")
    payer.escrow.fund(installation.invoice_id)
    operator.agreement.confirm_installation("ONT-A")
    tmp = tmp_path_factory.mktemp("bad-input")
    # a retail customer of the operator, a twin planned for nobody (ONT-R), and consents it signed:
    # for another twin (ONT-Q), for ONT-R up to 5, expired, signed by another key, to a move
    from telcochain.customers import Consent

    operator.customers.add(RETAIL, signer=RETAIL)
    operator.assets.register("ONT-R", "ONT", vendor=acme)
    me = dev_accounts[OPERATOR].address

    def consent(name: str, action: str, subject: str, key: str = RETAIL_KEY, deadline: int = 0, **kw) -> None:  # type: ignore[no-untyped-def]
        c = Consent.make(
            customer=RETAIL,
            operator=me,
            action=action,
            subject=subject,
            deadline=deadline or operator.customers.deadline(),
            **kw,
        )
        signed = {"consent": c.to_json(), "signature": "0x" + operator.customers.sign(c, key).hex()}
        (tmp / f"c-{name}.json").write_text(json.dumps(signed))

    consent("other", "requestInstallation", "ONT-Q")
    consent("r5", "requestInstallation", "ONT-R", max_charge=5)
    consent("expired", "requestInstallation", "ONT-R", deadline=1)
    consent("forged", "requestInstallation", "ONT-R", key="0x" + "77" * 32)
    consent("move", "orderChange", "ONT-R", kind="move")
    from telcochain.customers import list_subject

    consent("list", "orderChanges", list_subject(["ONT-A", "ONT-R"]), kind="move")  # the file names no list
    (tmp / "twice.txt").write_text("ONT-A\nONT-A\n")
    (tmp / "garbage.txt").write_text("this is not JSON {")
    (tmp / "garbage.json").write_bytes(b"\xff\xfe\x00garbage")
    (tmp / "list.json").write_text("[1, 2, 3]")
    (tmp / "empty.json").write_text("")
    (tmp / "nocontracts.json").write_text(json.dumps({"version": 1, "network": "x", "chain_id": 31337}))
    (tmp / "pw").write_text("right horse battery\n")
    (tmp / "wrongpw").write_text("wrong\n")
    (tmp / "emptypw").write_text("")
    (tmp / "rev-int.yaml").write_text("lines: 5\n")
    (tmp / "rev-novendor.yaml").write_text("lines: {add: [{line: X, service: A}]}\n")
    (tmp / "rev-negative.yaml").write_text("services: {add: {Z: -1}}\n")
    keystores = tmp / "keystores"
    Keystore(keystores).save("ops", dev_accounts[OPERATOR].key, "right horse battery")
    yield {"tmp": tmp, "keystores": keystores, "rpc": rpc, "accounts": dev_accounts}
    revert(rpc.call, before)


def _fingerprint(rpc: Rpc, accounts) -> tuple:
    block = rpc.call("eth_blockNumber")
    nonces = tuple(rpc.call("eth_getTransactionCount", [a.address, "latest"]) for a in accounts[:4])
    pending = rpc.call("eth_getBlockByNumber", ["pending", False])
    return block, nonces, len(pending.get("transactions", [])) if isinstance(pending, dict) else 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_in_one_line_and_changes_nothing(
    case: Case, world, local_node, deployment_path, monkeypatch
):
    tmp = world["tmp"]
    monkeypatch.setenv("TELCOCHAIN_RPC_URL", local_node.rpc_url)
    monkeypatch.setenv("TELCOCHAIN_DEPLOYMENT", str(deployment_path))
    monkeypatch.setenv("TELCOCHAIN_KEYSTORE_DIR", str(world["keystores"]))
    monkeypatch.delenv("TELCOCHAIN_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("TELCOCHAIN_ACCOUNT", raising=False)
    monkeypatch.delenv("TELCOCHAIN_PASSWORD_FILE", raising=False)
    monkeypatch.delenv("TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("TELCOCHAIN_INDEX_DB", f"sqlite:///{tmp}/index.sqlite")  # the index's readers, here
    if case.account is not None:
        monkeypatch.setenv("TELCOCHAIN_PRIVATE_KEY", world["accounts"][case.account].key.hex())
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    args = [a.replace("{tmp}", str(tmp)) for a in case.args]
    before = _fingerprint(world["rpc"], world["accounts"])

    result = CliRunner().invoke(main, args, catch_exceptions=True)

    text = result.output.strip()
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code != 0, text
    assert "Traceback" not in text
    assert len(text.splitlines()) == 1, text
    assert text.startswith("Error: "), text
    if case.expect is not None:
        assert case.expect in text, text
    assert _fingerprint(world["rpc"], world["accounts"]) == before, f"the chain changed: {text}"
