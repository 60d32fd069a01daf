"""One source per rule: every copy of an enum, a parameter list, the MACD kinds or a docs table is
checked against the source it copies (scripts/gen_rule_docs.py names the sources).

These tests need no chain: they read contracts/*.sol, the shipped ABIs, consortium.yaml and docs/.
(The transition tables are checked against the deployed contracts in tests/sdk/test_assets.py and
tests/sdk/test_orders.py, and against the docs in tests/contracts/{assets,orders}.)
"""

from __future__ import annotations

import re
import sys
from enum import IntEnum
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import gen_rule_docs
from gen_rule_docs import (
    CONTRACTS,
    MACD_CHARGE,
    MissingNatSpec,
    ParamsMismatch,
    SolidityTypes,
    _split_top,
    entry_point_params,
    generated_files,
    macd_kinds_constant,
    render_actions,
    solidity_enums,
    upper_snake,
)
from telcochain.abi import shipped_abis
from telcochain.actions import ACTION_PARAMS, BUILTIN_ACTIONS, ENTRY_TYPE, POLICY_TYPE
from telcochain.agreement import TERMS_TYPE, InvoiceStatus, MacdKind, Pending
from telcochain.assets import VERBS, AssetState, ChangeKind
from telcochain.billing import VENDOR_TERMS_TYPE, ChargeKind, DisputeStatus
from telcochain.consortium import TARIFF_KINDS, load_consortium
from telcochain.constitution import Ballot, DenyReason, MemberStatus, ProposalStatus, Scope, Voters
from telcochain.customers import CONSENT_FIELDS, CONSENT_TUPLE
from telcochain.macd_kinds import MACD_KINDS, MACD_LINE
from telcochain.orders import ChangePolicy, ItemAction, OrderState
from telcochain.render import _enums as rendered_enums

from tests.support.paths import ROOT

#: Every Solidity enum → the SDK enum mirroring it (the one Python copy; tests import it).
SDK_ENUMS: dict[str, type[IntEnum]] = {
    "AssetLifecycle.State": AssetState,
    "AssetHistory.ChangeKind": ChangeKind,
    "OrderLifecycle.State": OrderState,
    "OrderLifecycle.ItemAction": ItemAction,
    "OrderLifecycle.ChangePolicy": ChangePolicy,
    "IConstitution.MemberStatus": MemberStatus,
    "IConstitution.Scope": Scope,
    "IConstitution.Voters": Voters,
    "IConstitution.ProposalStatus": ProposalStatus,
    "IConstitution.DenyReason": DenyReason,
    "IConstitution.Ballot": Ballot,
    "IOperatorAgreement.MacdKind": MacdKind,
    "IOperatorAgreement.Pending": Pending,
    "IEscrowPayment.Status": InvoiceStatus,
    "IAgreementBilling.ChargeKind": ChargeKind,
    "IEscrowBilling.DisputeStatus": DisputeStatus,
}
#: Enums with no SDK class, and what stands for them.
NOT_MIRRORED = {
    "AssetLifecycle.Verb": "telcochain.assets.VERBS (the action names, in the enum's order)",
    "IAssetRegistry.PartyOp": "Internal to the flows (assignParties): no member sends it",
}


def test_every_solidity_enum_has_one_sdk_mirror_or_a_reason():
    assert set(solidity_enums()) == set(SDK_ENUMS) | set(NOT_MIRRORED)


@pytest.mark.parametrize("name", sorted(set(SDK_ENUMS) - {"IAgreementBilling.ChargeKind"}))  # its own test below
def test_the_sdk_enum_has_the_solidity_members_in_order(name):
    members = solidity_enums()[name]
    assert [(m.name, m.value) for m in SDK_ENUMS[name]] == [(upper_snake(m), i) for i, m in enumerate(members)]


def test_the_verbs_are_the_solidity_verb_enum_in_order():
    assert [upper_snake(v) for v in solidity_enums()["AssetLifecycle.Verb"]] == [upper_snake(v) for v in VERBS]


def test_the_renderer_names_each_abi_enum_by_its_mirror():
    for internal_type, enum in rendered_enums().items():
        assert SDK_ENUMS[internal_type.removeprefix("enum ")] is enum, internal_type


def test_every_abi_enum_type_is_a_solidity_enum_of_the_sources():
    """An ABI's ``internalType: enum X.Y`` names an enum this test knows (no enum outside contracts/)."""
    found = set()
    for abi in shipped_abis().values():
        stack = list(abi)
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if str(item.get("internalType", "")).startswith("enum "):
                    found.add(item["internalType"].removeprefix("enum "))
                stack.extend(item.get("inputs", []) + item.get("outputs", []) + item.get("components", []))
    assert found and found <= set(solidity_enums())


# --------------------------------------------------------------------------------------------
# Action parameter types: the entry points' abi.decode is the source
# --------------------------------------------------------------------------------------------


def _entry_points() -> set[str]:
    return {
        m.group(1)
        for path in gen_rule_docs._sources()
        for m in gen_rule_docs._ENTRY.finditer(gen_rule_docs._code(path))
    }


def test_the_sdk_encodes_each_action_as_its_entry_point_decodes_it():
    """Every entry point, struct-decoding ones included: the SDK registers none by hand."""
    decoded = entry_point_params()
    assert len(decoded) > 70  # the parser still reads the contracts (78 entry points today)
    assert set(decoded) == _entry_points()
    assert {name: ACTION_PARAMS[name] for name in decoded} == decoded


def test_the_struct_decoding_actions_take_the_sdk_s_struct_types():
    """The SDK builds these params with its struct types: they are what the contracts decode."""
    assert ACTION_PARAMS["setTerms"] == [TERMS_TYPE]
    assert ACTION_PARAMS["setVendorTerms"][2] == VENDOR_TERMS_TYPE
    assert ACTION_PARAMS["useConsent"][0] == CONSENT_TUPLE
    # register decodes a static struct (Registration): its NatSpec lists the fields, the SDK too
    registration = SolidityTypes().abi("Registration", CONTRACTS / "AssetRegistry.sol")
    assert "(" + ",".join(ACTION_PARAMS["register"]) + ")" == registration


def test_the_solidity_structs_resolve_as_the_compiler_lays_them_out():
    """The generator's reading of the struct declarations (fixed arrays, enums, nested structs)
    against every struct of the compiled ABIs: a struct that changes stays resolved."""
    types, files = SolidityTypes(), SolidityTypes().container_file
    structs = _abi_structs()
    assert len(structs) > 15
    for name, abi in structs.items():
        container, _, _ = name.partition(".")
        assert types.abi(name, files[container]) == abi, name


def test_static_structs_and_fixed_arrays_encode_as_their_fields():
    flat = gen_rule_docs._flat
    assert flat(["(bytes32,(uint8,address))", "int96[3]"]) == ["bytes32", "uint8", "address"] + ["int96"] * 3
    assert flat(["(bytes32,bytes)", "(uint8,uint8)[]", "bytes[2]"]) == [
        "(bytes32,bytes)",
        "(uint8,uint8)[]",
        "bytes[2]",
    ]


def _natspec_changed(monkeypatch, action: str, tag: str, text: str | None) -> None:
    """The interfaces' NatSpec as read by the generator, with one tag of one entry point changed."""
    real = gen_rule_docs._natspec_blocks

    def blocks(path):
        found = real(path)
        if action in found:
            found[action] = dict(found[action])
            if text is None:
                found[action].pop(tag, None)
            else:
                found[action][tag] = text
        return found

    monkeypatch.setattr(gen_rule_docs, "_natspec_blocks", blocks)


def test_a_natspec_params_line_that_disagrees_with_abi_decode_stops_the_generator(monkeypatch):
    _natspec_changed(
        monkeypatch, "link", "param params", "`abi.encode(bytes32 assetId, bytes32 rootId, bytes32 detailsHash)`."
    )
    with pytest.raises(ParamsMismatch, match="link"):
        entry_point_params()


@pytest.mark.parametrize(
    ("module", "action", "tag"),
    [
        ("DetailsVault", "grantAccess", "custom:who"),
        ("OperatorAgreement", "orderChange", "custom:who"),
        ("OperatorAgreement", "setMonthlyCharge", "custom:who"),  # IAgreementBilling's
        ("EscrowPayment", "settleCredit", "param params"),  # IEscrowBilling's, an Internal action
        ("VendorSettlement", "invoiceLine", "custom:who"),
        ("SettlementToken", "mintSettlement", "custom:who"),  # no interface: the contract's NatSpec
    ],
)
def test_an_entry_point_without_its_who_stops_the_actions_table(monkeypatch, module, action, tag):
    render_actions([module])  # complete as it is
    _natspec_changed(monkeypatch, action, tag, None)
    with pytest.raises(MissingNatSpec, match=action):
        render_actions([module])


def _modules_with_actions() -> dict[str, set[str]]:
    """consortium.yaml's modules (the Constitution's built-in actions aside: they are no module
    entry points, docs/constitution.md lists them) → their actions there."""
    found: dict[str, set[str]] = {}
    for action in load_consortium(ROOT / "consortium.yaml").actions:
        if action.module:
            found.setdefault(action.module, set()).add(action.name)
    return found


def _module_entry_points(module: str) -> set[str]:
    """The ``name(address,bytes32,bytes)`` entry points the module's contract implements."""
    code = gen_rule_docs._code(gen_rule_docs._module_file(module))
    return {m.group(1) for m in gen_rule_docs._ENTRY.finditer(code)}


def test_the_consortium_s_modules_are_those_with_entry_points():
    modules = _modules_with_actions()
    assert {"AssetRegistry", "OperatorAgreement", "EscrowPayment", "SettlementToken"} <= set(modules)
    for module, actions in modules.items():
        assert actions <= _module_entry_points(module), module


@pytest.mark.parametrize("module", sorted(_modules_with_actions()))
def test_each_actions_table_lists_every_entry_point_of_its_module(module):
    """The table of a module has one row per entry point its contract implements (an entry point
    no interface declares, or one without its NatSpec, fails here)."""
    table = render_actions([module])
    assert {name for name in re.findall(r"^\| `(\w+)`", table, re.M)} == _module_entry_points(module)


def test_every_module_with_actions_has_a_generated_actions_table_in_the_docs():
    """Every entry point of every module of consortium.yaml is a row of a generated actions table
    (``<!-- generated:actions Module -->`` or ``Module.action``) of some docs page."""
    covered: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "docs").glob("*.md")):
        for match in gen_rule_docs._ACTIONS.finditer(path.read_text()):
            for item in match.group(2).split(","):
                module, _, only = item.partition(".")
                covered |= {(module, name) for name in _module_entry_points(module) if not only or name == only}
    missing = sorted(
        f"{module}.{name}"
        for module in _modules_with_actions()
        for name in _module_entry_points(module)
        if (module, name) not in covered
    )
    assert missing == [], "no generated actions table (<!-- generated:actions ... -->) in docs/ lists these"


def test_the_sdk_knows_the_params_of_every_public_action_of_the_consortium():
    config = load_consortium(ROOT / "consortium.yaml")
    public = {a.name for a in config.actions if a.scope == "public"} | set(BUILTIN_ACTIONS)
    assert sorted(public - set(ACTION_PARAMS)) == []


def _abi_structs() -> dict[str, str]:
    """Every struct of the shipped ABIs (``IOperatorAgreement.Terms``) → its ABI tuple type."""

    def abi_type(p: dict) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(abi_type(c) for c in p["components"]) + ")" + p["type"][5:]
        return p["type"]

    found: dict[str, str] = {}

    def walk(p: dict) -> None:
        internal = p.get("internalType", "")
        if internal.startswith("struct "):
            arrays = p["type"].removeprefix("tuple")  # "[]" for a list of the struct
            whole = abi_type(p)
            found.setdefault(internal.removeprefix("struct ").split("[")[0], whole[: len(whole) - len(arrays)])
        for c in p.get("components", []):
            walk(c)

    for abi in shipped_abis().values():
        for item in abi:
            for p in item.get("inputs", []) + item.get("outputs", []):
                walk(p)
    return found


def test_the_sdk_struct_types_are_the_abi_structs():
    """The tuple types the SDK encodes struct params with (policies, permissions, terms)."""
    structs = _abi_structs()
    assert structs["IConstitution.ActionPolicy"] == POLICY_TYPE
    assert structs["IConstitution.PermissionEntry"] == ENTRY_TYPE
    assert structs["IOperatorAgreement.Terms"] == TERMS_TYPE
    assert structs["IVendorSettlement.VendorTerms"] == VENDOR_TERMS_TYPE
    assert structs["ICustomerRegistry.Consent"] == CONSENT_TUPLE


def test_the_adversarial_suite_s_own_copies_agree_with_the_contracts():
    """tests/adversarial does not use the SDK on purpose (it must not trust its checks): its
    constants are its own, so they are checked here instead."""
    from tests.adversarial import asserts, attacks, test_findings, world

    states = solidity_enums()["AssetLifecycle.State"]
    for name in ("PLANNED", "PENDING_INSTALLATION", "DELIVERED", "ACTIVE", "INACTIVE", "RECOVERING"):
        assert getattr(world, name) == [upper_snake(m) for m in states].index(name), name
    assert states.index("Decommissioned") == world.DECOMMISSIONED
    statuses = [upper_snake(m) for m in solidity_enums()["IEscrowPayment.Status"]]
    assert [statuses.index(n) for n in ("ISSUED", "FUNDED", "RELEASED", "REFUNDED", "CANCELLED")] == [
        world.INV_ISSUED,
        world.INV_FUNDED,
        world.INV_RELEASED,
        world.INV_REFUNDED,
        world.INV_CANCELLED,
    ]
    for name in ("MOVE", "ADD", "CHANGE", "DELETE"):  # the kinds the suite uses (not every kind there is)
        assert getattr(world, name) == MacdKind[name], name
    structs = _abi_structs()
    assert structs["IConstitution.ActionPolicy"] == world.POLICY
    assert structs["IConstitution.PermissionEntry"] == world.PERMISSION
    assert structs["IOperatorAgreement.Terms"] == world.TERMS
    assert structs["IVendorSettlement.VendorTerms"] == world.VENDOR_TERMS
    assert "(" + ",".join(ACTION_PARAMS["register"]) + ")" == world.REGISTRATION
    assert world.CONSENT_FIELDS == CONSENT_FIELDS
    assert ACTION_PARAMS["actFor"] == world.ACT_FOR
    assert ACTION_PARAMS["setParties"] == attacks.PARTIES
    assert ACTION_PARAMS["addCustomer"] == attacks.CUSTOMER
    assert solidity_enums()["IConstitution.DenyReason"].index("None") == asserts.DENY_NONE
    assert solidity_enums()["IOperatorAgreement.Pending"].index("Change") == test_findings.PENDING_CHANGE_OP


def _doc_types(cell: str) -> list[str] | None:
    """``(bytes32 assetId, (uint8 a, bytes32 b)[] list)`` → ``["bytes32", "(uint8,bytes32)[]"]``;
    None when a part is a named struct (``LineSpec line``)."""
    types = []
    for part in _split_top(cell[1:-1]):
        nested = re.fullmatch(r"(\(.*\))((?:\[\])*)\s*\w*", part)
        if nested:
            inner = _doc_types(nested.group(1))
            if inner is None:
                return None
            types.append("(" + ",".join(inner) + ")" + nested.group(2))
            continue
        kind = part.split()[0]
        if not re.fullmatch(r"(address|bool|bytes\d*|u?int\d*|string)(\[\])*", kind):
            return None
        types.append(kind)
    return types


def test_the_docs_give_each_action_the_params_the_sdk_encodes():
    checked = 0
    for path in sorted((ROOT / "docs").glob("*.md")):
        for line in path.read_text().splitlines():
            row = re.match(r"^\| `(\w+)` \|(.*)\|\s*$", line)
            if not row or row.group(1) not in ACTION_PARAMS:
                continue
            cells = re.findall(r"`(\((?:address|bool|bytes|u?int|string|\().*?\))`", row.group(2))
            types = _doc_types(cells[0]) if cells else None
            if types is None:
                continue
            assert types == ACTION_PARAMS[row.group(1)], f"{path.name}: {row.group(1)}"
            checked += 1
    assert checked >= 20  # 24 rows today (assets, constitution, customers, orders, visibility)


def _section(page: str, heading: str) -> str:
    text = (ROOT / "docs" / page).read_text()
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def _numbered(text: str) -> dict[int, str]:
    """``| 3 | `Delivered` |`` and ``(0 `scheduleInstallation`, 1 ...)``: number → name."""
    return {int(n): name for n, name in re.findall(r"(\d+) \|? ?`(\w+)`", text)}


def _same_name(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def test_the_docs_number_the_asset_states_as_the_contract():
    documented = _numbered(_section("assets.md", "## States"))
    members = solidity_enums()["AssetLifecycle.State"]
    assert sorted(documented) == list(range(len(members)))
    assert all(_same_name(documented[i], m) for i, m in enumerate(members)), documented


def test_the_docs_number_the_order_states_as_the_contract():
    documented = _numbered(_section("orders.md", "## States"))
    members = solidity_enums()["OrderLifecycle.State"]
    assert sorted(documented) == list(range(len(members)))
    assert all(_same_name(documented[i], m) for i, m in enumerate(members)), documented


def test_the_docs_number_the_bulk_verbs_as_the_contract():
    paragraph = _section("assets.md", "`verb` numbers the verbs").split("another value", 1)[0]
    documented = _numbered(paragraph)
    assert [documented[i] for i in sorted(documented)] == list(VERBS)
    assert [upper_snake(v) for v in solidity_enums()["AssetLifecycle.Verb"]] == [upper_snake(v) for v in VERBS]


# --------------------------------------------------------------------------------------------
# The MACD kinds
# --------------------------------------------------------------------------------------------


def test_macd_kinds_is_the_number_of_macd_kinds_and_of_terms_tariffs():
    """IOperatorAgreement's ``MACD_KINDS`` (the ``Terms.macd`` array's length) counts the enum's values."""
    kinds = solidity_enums()["IOperatorAgreement.MacdKind"]
    (constructor,) = [i for i in shipped_abis()["OperatorAgreement"] if i["type"] == "constructor"]
    terms = next(p for p in constructor["inputs"] if p["internalType"] == "struct IOperatorAgreement.Terms")
    (array,) = [c for c in terms["components"] if c["type"].endswith("]")]
    assert macd_kinds_constant() == len(kinds) == int(array["type"].split("[")[1].rstrip("]")) == len(MacdKind)
    assert len(kinds) == MACD_KINDS


def test_the_charge_kinds_are_the_solidity_ones_then_one_per_macd_kind():
    """``ChargeKind``: the members before ``Macd`` keep their numbers; MACD kind k is ``Macd + k``."""
    members = solidity_enums()["IAgreementBilling.ChargeKind"]
    assert members[-1] == MACD_CHARGE, "Macd must stay the last ChargeKind (the MACD line kinds follow it)"
    base = len(members) - 1
    own = [(upper_snake(m), i) for i, m in enumerate(members[:-1])]
    macd = [(k.name, base + k.value) for k in MacdKind]
    assert [(k.name, k.value) for k in ChargeKind] == own + macd
    assert base == MACD_LINE
    assert all(ChargeKind.of_macd(k).macd is k and ChargeKind.of_macd(k).label == k.label for k in MacdKind)
    assert all(ChargeKind(v).macd is None for _, v in own)


def test_the_sdk_has_one_copy_of_the_macd_kinds():
    """The public names are the generated module's (no hand-written enum left beside it)."""
    from telcochain import agreement, billing, consortium, macd_kinds

    assert agreement.MacdKind is macd_kinds.MacdKind and billing.ChargeKind is macd_kinds.ChargeKind
    assert agreement.TERMS_TYPE is macd_kinds.TERMS_TYPE and consortium.TARIFF_KINDS is macd_kinds.TARIFF_KINDS
    sdk = ROOT / "pysdk" / "telcochain"
    hand = [
        p
        for p in sdk.rglob("*.py")
        if p.name != "macd_kinds.py" and re.search(r"class (MacdKind|ChargeKind)\b", p.read_text())
    ]
    assert hand == []


def test_the_tariff_lines_are_the_terms_struct_of_the_contract():
    """consortium.yaml's ``tariff:`` keys follow ``IOperatorAgreement.Terms`` (after token and paymentDays):
    its own int96 tariffs, then one key per MACD kind for the ``macd`` array."""
    (constructor,) = [i for i in shipped_abis()["OperatorAgreement"] if i["type"] == "constructor"]
    terms = next(p for p in constructor["inputs"] if p["internalType"] == "struct IOperatorAgreement.Terms")
    fields = [c["name"] for c in terms["components"]][2:]
    assert fields[-1] == "macd"
    assert list(TARIFF_KINDS) == fields[:-1] + [k.label for k in MacdKind]
    assert set(load_consortium(ROOT / "consortium.yaml").agreement.tariff) == set(TARIFF_KINDS)


# --------------------------------------------------------------------------------------------
# Generated docs tables
# --------------------------------------------------------------------------------------------


def test_the_generated_files_match_their_sources():
    """docs tables (grants, tariff, line kinds) and the SDK's generated modules (action_params.py,
    macd_kinds.py) are what the script writes now."""
    files = generated_files()
    assert len(files) >= 2, "no docs page holds a generated table"
    stale = [str(p.relative_to(ROOT)) for p, text in files.items() if not p.exists() or p.read_text() != text]
    assert stale == [], f"stale: {stale}; run python scripts/gen_rule_docs.py"
