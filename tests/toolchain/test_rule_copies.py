"""The copies of contract rules that stay written by hand in the SDK, the tests and the docs, each
checked against its source (the rest are generated or imported: see tests/toolchain/test_rules.py).

No chain needed: the sources are contracts/*.sol and the ABIs the SDK ships.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import gen_rule_docs
from gen_rule_docs import CONTRACTS, SolidityTypes, solidity_enums
from telcochain import customers, render
from telcochain.abi import shipped_abis
from telcochain.actions import _BUILTIN_PARAMS, BUILTIN_ACTIONS
from telcochain.assets import _CHANGE_EVENTS, AssetState
from telcochain.billing import InvoiceStatus
from telcochain.consortium import ENTRY_POINT_ARGS
from telcochain.errors import contract_error_class
from telcochain.gateway import outbox
from telcochain.index import alerts, verify
from telcochain.orders import ChangePolicy, DeviceLine, _line_ref, show_sku

from tests.gateway.test_vocabulary import SPEC_EVENTS
from tests.support.paths import ROOT


def _abi_items(kind: str) -> dict[str, dict]:
    """Every ``kind`` ("error", "event", "function") of the shipped ABIs by name."""
    return {i["name"]: i for abi in shipped_abis().values() for i in abi if i["type"] == kind}


def _component_names(struct: str) -> list[str]:
    """The field names of ``struct`` (``IOrderBook.LineSpec``) as the contracts declare it."""
    container, _, name = struct.partition(".")
    return [field for _, field in SolidityTypes().fields(name, SolidityTypes().container_file[container])]


def _source(relative: str) -> str:
    return (CONTRACTS / relative).read_text()


# --------------------------------------------------------------------------------------------
# Struct layouts written as ABI type strings
# --------------------------------------------------------------------------------------------

_TUPLE_LITERAL = re.compile(r"""["']\((?:address|bytes\d*|u?int\d*|bool|string|\()[^"'{}]*\)["']""")
#: Files whose tuple strings are about the checks themselves, not copies of a contract layout.
_NOT_COPIES = {"tests/toolchain/test_rules.py", "tests/toolchain/test_rule_copies.py"}


def _layouts() -> set[str]:
    """Every struct of the sources as an ABI tuple, and every function's inputs and outputs."""
    types = SolidityTypes()
    found = set()
    for path, structs in types.structs.items():
        for name in structs:
            try:
                found.add(types.abi(name, path))
            except KeyError:  # a storage-only struct (a mapping inside): no ABI copy of it can exist
                continue
    for function in _abi_items("function").values():
        for side in ("inputs", "outputs"):
            found.add("(" + ",".join(_abi_type(p) for p in function[side]) + ")")
    return found


def _abi_type(p: dict) -> str:
    if p["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in p["components"]) + ")" + p["type"][5:]
    return str(p["type"])


def test_every_tuple_type_written_in_the_code_is_a_layout_of_the_contracts():
    """A struct copied as a type string (``LINE_SPEC = "(bytes32,...)"``, in the SDK, the
    adversarial suite, the contract tests, bench or scripts) is some struct of the contracts, or
    some function's arguments or results: when a struct changes, every stale copy fails here
    (with its file and line)."""
    layouts, stale, seen = _layouts(), [], 0
    for folder in ("pysdk", "tests", "bench", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if relative in _NOT_COPIES:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                for literal in _TUPLE_LITERAL.findall(line):
                    seen += 1
                    if literal[1:-1] not in layouts:
                        stale.append(f"{relative}:{n} {literal}")
    assert seen > 20  # the scan still finds the copies (30 today)
    assert stale == []


def test_the_entry_point_arguments_are_those_of_every_module_entry_point():
    entry_points = {
        name
        for name, f in _abi_items("function").items()
        if [p["type"] for p in f["inputs"]] == ["address", "bytes32", "bytes"]
    }
    assert len(entry_points) > 70
    assert ENTRY_POINT_ARGS == "(address,bytes32,bytes)"
    assert entry_points >= set(gen_rule_docs.entry_point_params())


# --------------------------------------------------------------------------------------------
# Struct field orders the SDK builds by position
# --------------------------------------------------------------------------------------------


def test_a_device_line_spec_is_built_in_the_order_of_the_linespec_struct():
    vendor = "0x" + "11" * 20
    line = DeviceLine("L1", "S1", vendor, "ONT-X", quantity=7, policy="pause", asset="A1")
    spec = dict(zip(_component_names("IOrderBook.LineSpec"), line.spec(), strict=True))
    assert spec["lineId"].rstrip(b"\0") == b"L1" and spec["serviceId"].rstrip(b"\0") == b"S1"
    assert spec["assetId"].rstrip(b"\0") == b"A1" and spec["vendor"].lower() == vendor
    assert spec["sku"].rstrip(b"\0") == b"ONT-X" and spec["quantity"] == 7
    assert spec["policy"] == int(ChangePolicy.PAUSE)
    ref = dict(zip(_component_names("IOrderBook.LineSpec"), _line_ref("L2", "autocorrect"), strict=True))
    assert ref["lineId"].rstrip(b"\0") == b"L2" and ref["policy"] == int(ChangePolicy.AUTO_CORRECT)


def test_a_consent_is_the_consent_struct_field_by_field():
    consent = customers.Consent("0x" + "01" * 20, "0x" + "02" * 20, "orderChange", b"\x03" * 32, 2, 40, 5, 6)
    names = _component_names("ICustomerRegistry.Consent")
    assert [f["name"] for f in customers.CONSENT_FIELDS] == names
    assert list(consent.message()) == names
    on_chain = dict(zip(names, consent.as_tuple(), strict=True))
    assert on_chain["action"] == keccak(text="orderChange")  # the struct holds the action id
    assert {k: v for k, v in on_chain.items() if k != "action"} == {
        k: v for k, v in consent.message().items() if k != "action"
    }


def test_the_consent_type_string_hashes_to_the_contract_s_typehash():
    """EIP-712: the type the SDK signs must be the one the registry hashes, byte for byte."""
    literal = re.search(r'CONSENT_TYPEHASH = keccak256\(\s*"([^"]+)"', _source("CustomerRegistry.sol"))
    assert literal is not None
    fields = ",".join(f"{f['type']} {f['name']}" for f in customers.CONSENT_FIELDS)
    assert keccak(text=f"Consent({fields})") == keccak(text=literal.group(1))


def test_the_consent_domain_is_the_registry_s():
    domain = re.search(r'EIP712\("([^"]+)", "([^"]+)"\)', _source("CustomerRegistry.sol"))
    assert domain is not None
    assert domain.groups() == (customers.DOMAIN_NAME, customers.DOMAIN_VERSION)


def test_the_consented_actions_carry_the_act_for_operations_of_the_contract():
    """``actFor``'s ``op`` numbers: the SDK's CONSENTED_ACTIONS against the branches of the entry
    point (``if (a.op == N) { ... action = _NAME; }``, ``_NAME = keccak256("name")``)."""
    code = _source("OperatorAgreement.sol")
    names = dict(re.findall(r'bytes32 private constant (_\w+) = keccak256\("(\w+)"\)', code))
    body = code.split("function actFor(", 1)[1].split("revert AgreementUnknownOperation", 1)[0]
    ops = {names[constant]: int(op) for op, constant in re.findall(r"a\.op == (\d+)\) \{[^}]*?action = (_\w+);", body)}
    assert len(ops) >= 5
    assert {a: op for a, op in customers.CONSENTED_ACTIONS.items() if op is not None} == ops


def test_the_docs_number_the_act_for_operations_as_the_contract():
    """docs/customers.md: "`inner` is the params of `requestInstallation` / `orderChange` / ..."
    lists the operations in `op` order."""
    text = " ".join((ROOT / "docs" / "customers.md").read_text().split())
    listed = re.search(r"`inner` is the params of ((?:`[^`]+` / )+`\w+`)", text)
    assert listed is not None
    order = re.findall(r"`(\w+)", listed.group(1))
    ops = {op: a for a, op in customers.CONSENTED_ACTIONS.items() if op is not None}
    expected = ["abi" if ops[i] == "recurringCharge" else ops[i] for i in range(len(ops))]
    assert order == expected


# --------------------------------------------------------------------------------------------
# Error and event names the SDK keys on
# --------------------------------------------------------------------------------------------


def test_the_errors_the_sdk_explains_are_errors_of_the_contracts():
    errors = _abi_items("error")
    named = set(render._HINTS) | set(alerts.STOCK_ERRORS) | {contract_error_class("AssetNotFound").__name__}
    assert sorted(named - set(errors)) == []


def test_the_untyped_enum_parameters_are_uint8_parameters_of_those_errors_and_events():
    items = {**_abi_items("error"), **_abi_items("event")}
    for (name, param), enum in render._UNTYPED_ENUMS.items():
        inputs = {p["name"]: p["type"] for p in items[name]["inputs"]}
        assert inputs.get(param) == "uint8", (name, param)
        assert enum.removeprefix("enum ") in solidity_enums(), enum


def test_the_events_the_sdk_and_the_hub_follow_are_events_of_the_contracts():
    events = set(_abi_items("event"))
    named = set(_CHANGE_EVENTS) | set(verify.CHANGE_KIND) | set(outbox.SOURCE_EVENTS) | set(outbox.BILL_EVENT_STATE)
    assert sorted(named - events) == []
    # the index's verifier counts the same history changes as the SDK
    assert {e: int(k) for e, k in _CHANGE_EVENTS.items() if e in verify.CHANGE_KIND} == verify.CHANGE_KIND
    assert {e: InvoiceStatus(s).name for e, s in outbox.BILL_EVENT_STATE.items()} == {
        "InvoiceFunded": "FUNDED",
        "InvoiceReleased": "RELEASED",
        "InvoiceRefunded": "REFUNDED",
        "InvoiceCancelled": "CANCELLED",
    }


def test_the_next_steps_name_every_asset_state():
    assert set(render._NEXT_STEP) == {s for s in solidity_enums()["AssetLifecycle.State"] if s != "None"}
    assert {s.name for s in AssetState} >= {gen_rule_docs.upper_snake(s) for s in render._NEXT_STEP}


# --------------------------------------------------------------------------------------------
# The Constitution's built-in actions
# --------------------------------------------------------------------------------------------


def test_the_builtin_actions_are_the_constitution_s():
    declared = re.findall(r'bytes32 constant \w+ = keccak256\("(\w+)"\);', _source("libraries/BuiltinActions.sol"))
    assert sorted(declared) == sorted(BUILTIN_ACTIONS)


@pytest.mark.parametrize("name", sorted(_BUILTIN_PARAMS))
def test_each_builtin_s_params_are_decoded_by_the_constitution(name):
    """The Constitution decodes its built-ins' params in small helpers: each SDK type list is
    one of the type lists the Constitution decodes (a changed built-in leaves no match)."""
    types = SolidityTypes()
    path = CONTRACTS / "Constitution.sol"
    decoded = [
        [types.abi(t, path) for t in gen_rule_docs._split_top(found)]
        for found in re.findall(r"abi\.decode\(\s*params\s*,\s*\(([^;]*?)\)\s*\)", gen_rule_docs._code(path))
    ]
    assert _BUILTIN_PARAMS[name] in decoded


# --------------------------------------------------------------------------------------------
# Numbered enums in the docs
# --------------------------------------------------------------------------------------------


def test_the_docs_number_the_history_changes_as_the_contract():
    """docs/assets.md, "History and its head": the `change` comment and the table's first column."""
    text = (ROOT / "docs" / "assets.md").read_text().split("## History and its head", 1)[1].split("\n## ", 1)[0]
    members = solidity_enums()["AssetHistory.ChangeKind"]
    comment = re.search(r"uint8\s+change,\s*// (.*)", text)
    assert comment is not None
    assert re.findall(r"(\d+) (\w+)", comment.group(1)) == [(str(i), m) for i, m in enumerate(members)]
    rows = re.findall(r"^\| (\d+) (\w+) \| `(\w+)` \|", text, re.M)
    assert [(int(n), name) for n, name, _ in rows] == list(enumerate(members))
    # each row's event is the one the SDK reads that change from
    assert {event: name for _, name, event in rows} == {e: members[int(k)] for e, k in _CHANGE_EVENTS.items()}


# --------------------------------------------------------------------------------------------
# View structs the SDK reads by position
# --------------------------------------------------------------------------------------------


def _view_of(contract: str, function: str) -> list[dict]:
    (found,) = [i for i in shipped_abis()[contract] if i.get("type") == "function" and i["name"] == function]
    return list(found["outputs"][0]["components"])


def _sample(components: list[dict]) -> tuple[list[object], dict[str, object]]:
    """One distinct value per field of a view struct (an enum's within its members), and the
    same values by field name."""
    enums = solidity_enums()
    values: list[object] = []
    for n, c in enumerate(components):
        internal = c.get("internalType", "")
        if internal.startswith("enum "):
            values.append(min(n, len(enums[internal.removeprefix("enum ")]) - 1))
        elif c["type"] == "address":
            values.append("0x" + f"{n + 1:02x}" * 20)
        elif c["type"] == "bool":
            values.append(n % 2 == 1)
        elif c["type"].startswith("bytes"):
            values.append(bytes([n + 1]) * int(c["type"][5:] or 32))
        else:
            values.append(1000 + n)
    return values, {c["name"]: v for c, v in zip(components, values, strict=True)}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize(
    ("contract", "function", "reader", "renamed"),
    [
        ("EscrowPayment", "invoice", "billing.Invoice.from_view", {}),
        ("EscrowPayment", "dispute", "billing._dispute", {}),
        ("OrderBook", "getLine", "orders.Line.from_view", {"lineId": "id"}),
        ("VendorSettlement", "lineSettlement", "billing.LineSettlement.from_view", {}),
    ],
)
def test_the_sdk_reads_each_view_field_by_its_position_in_the_struct(contract, function, reader, renamed):
    """``Invoice.from_view(v)`` reads ``v[8]`` as the status: each attribute must be the field of
    the same name in the contract's view struct (a field added or moved fails here)."""
    import importlib

    module, _, path = reader.partition(".")
    target: object = importlib.import_module(f"telcochain.{module}")
    for part in path.split("."):
        target = getattr(target, part)
    values, by_name = _sample(_view_of(contract, function))
    record = target(tuple(values))  # type: ignore[operator]
    for field, value in by_name.items():
        got = getattr(record, renamed.get(field, _snake(field)))
        got = int(got) if isinstance(got, int) else got
        if isinstance(value, str):
            assert str(got).lower() == value, field
        elif isinstance(value, bytes) and isinstance(got, str):  # shown as text (a SKU)
            assert got == show_sku(value), field
        else:
            assert got == value, field


# --------------------------------------------------------------------------------------------
# Lists of contract names written in the code
# --------------------------------------------------------------------------------------------

_CAMEL = re.compile(r"^[A-Z][a-z0-9]+[A-Z]\w*$")
#: CamelCase names listed in the code that are not the contracts': the TMF hub's event types and
#: the TM Forum specifications' (tests/gateway/test_vocabulary.py), the exceptions ape and web3
#: raise, an event the index must ignore (tests/index/test_follower.py).
_OTHER_NAMES = {*outbox.ALL_EVENT_TYPES, *(name for names in SPEC_EVENTS.values() for name in names)}
_OTHER_NAMES |= {"ContractLogicError", "TransactionError", "AssetSomethingNew"}


def _listed_names(path: Path) -> list[tuple[int, list[str]]]:
    """Every tuple, list, set or dict-key literal of two or more CamelCase strings (not ``__all__``)."""
    import ast

    tree = ast.parse(path.read_text())
    exports = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in exports:
            continue
        items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else []
        if isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        texts = [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
        if len(texts) >= 2 and len(texts) == len(items) and all(_CAMEL.match(t) for t in texts):
            found.append((node.lineno, texts))
    return found


def test_every_list_of_event_error_or_contract_names_in_the_code_names_the_contracts():
    """Lists like ``HISTORY_EVENTS = ("AssetRegistered", ...)`` or the errors a rule watches: a
    renamed or removed event, error or contract fails here with the file and line of each copy."""
    known = {i["name"] for abi in shipped_abis().values() for i in abi if "name" in i}
    known |= {p.stem for p in CONTRACTS.rglob("*.sol")} | _OTHER_NAMES
    unknown, lists = [], 0
    for folder in ("pysdk", "tests", "bench", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, names in _listed_names(path):
                lists += 1
                unknown += [f"{path.relative_to(ROOT)}:{line} {n}" for n in names if n not in known]
    assert lists > 20  # the scan still finds the lists (32 today)
    assert unknown == []


def test_the_state_chains_in_the_docs_name_the_members_of_one_enum():
    """`Issued → Funded → Released | Refunded` (docs/agreement.md), `Active → Inactive`...: every
    name of a backquoted chain of states is a member of one Solidity enum (a renamed state fails)."""
    enums = solidity_enums()
    chains, stray = 0, []
    for path in sorted((ROOT / "docs").glob("*.md")):
        for chain in re.findall(r"`([^`\n]*→[^`\n]*)`", path.read_text()):
            names = [t for t in re.split(r"[\s→|/,()]+", chain) if t]
            if not names or not all(re.fullmatch(r"[A-Z][A-Za-z]+", t) for t in names):
                continue  # not a chain of names (code, or a sentence)
            chains += 1
            if not any(set(names) <= set(members) for members in enums.values()):
                stray.append(f"{path.name}: {chain}")
    assert chains >= 5  # 8 today (agreement, assets)
    assert stray == []


def test_the_docs_give_the_builtins_the_constructor_s_defaults():
    """docs/constitution.md, "Defaults set by the constructor": each built-in's voters and the
    voting period, as `Constitution`'s constructor defines them (`_defineBuiltin(name, voters, ...)`)."""
    code = _source("Constitution.sol")
    defined = dict(re.findall(r'_defineBuiltin\("(\w+)", Voters\.(\w+),', code))
    period = re.search(r"_DEFAULT_VOTING_PERIOD = (\d+) days;", code)
    assert period is not None and sorted(defined) == sorted(BUILTIN_ACTIONS)
    text = (ROOT / "docs" / "constitution.md").read_text().split("### Defaults set by the constructor", 1)[1]
    documented = {}
    for names, voters, days in re.findall(
        r"^\| ([\w, ]+?)\s*\| Public \| (\w+)\s*\| [^|]*\| ([^|]*?)\s*\|", text, re.M
    ):
        for name in names.split(","):
            documented[name.strip()] = voters
        assert days in ("—", f"{period.group(1)} days"), days
    assert documented == defined
