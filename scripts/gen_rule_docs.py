"""The project's rules, each from its one source, and the docs tables generated from them.

Sources (tests/toolchain/test_rules.py checks every copy against them):

- **enums**: the Solidity ``enum`` declarations (``contracts/``); the SDK mirrors each once
  (``telcochain.render.solidity_enums``), the tests import the SDK's;
- **transition tables**: ``AssetLifecycle.rule`` / ``OrderLifecycle.targets`` on chain; the SDK's
  ``telcochain.assets.TRANSITIONS`` / ``telcochain.orders.ORDER_TRANSITIONS`` are checked against
  the deployed contracts (tests/sdk), the tests import them, the docs tables are checked;
- **action parameter types**: each module entry point's ``abi.decode(params, (...))``, struct types
  resolved from their Solidity declarations (in the form the interface's NatSpec ``@param params
  `abi.encode(...)``` writes them, checked to encode alike); this script writes them to
  ``pysdk/telcochain/action_params.py`` (the SDK's ``ACTION_PARAMS`` starts from it), the docs'
  ``(type name, ...)`` cells are checked against it;
- **the actions tables**: the tables between ``<!-- generated:actions Module,Module.action,... -->``
  and ``<!-- /generated:actions -->`` in docs/*.md are written from the entry points' NatSpec
  (``@notice``, ``@param params``, ``@custom:who``) in the interfaces the module's contract
  inherits (its own NatSpec when it inherits none) and the scope in ``consortium.yaml``;
- **default grants and votes**: ``consortium.yaml``; the tables between
  ``<!-- generated:grants Module,... -->`` and ``<!-- /generated:grants -->`` in docs/*.md are
  written from it by this script;
- **MACD kinds**: ``enum MacdKind`` (IOperatorAgreement.sol); this script writes the SDK's
  ``MacdKind``, ``ChargeKind`` (the MACD line kinds follow ``ChargeKind.Macd``), ``TERMS_TYPE`` and
  ``TARIFF_KINDS`` to ``pysdk/telcochain/macd_kinds.py`` (with the ``Terms`` struct of the shipped
  ABI), and the docs' ``<!-- generated:tariff -->`` / ``<!-- generated:line-kinds -->`` tables;
- **contract sizes**: the compiled runtime bytecode (``.build/``, ``ape compile``); the table
  between ``<!-- generated:sizes -->`` and ``<!-- /generated:sizes -->`` is written from it.

python scripts/gen_rule_docs.py          # rewrite the generated tables in docs/*.md and action_params.py
python scripts/gen_rule_docs.py --check  # exit 1 if one is stale
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
DOCS = ROOT / "docs"
CONSORTIUM = ROOT / "consortium.yaml"

# --------------------------------------------------------------------------------------------
# Solidity sources
# --------------------------------------------------------------------------------------------

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_CONTAINER = re.compile(r"^\s*(?:abstract\s+)?(?:library|interface|contract)\s+(\w+)", re.M)
_ENUM = re.compile(r"\benum\s+(\w+)\s*\{([^}]*)\}")
_ENTRY = re.compile(r"function (\w+)\(\s*address(?: \w+)?,\s*bytes32(?: \w+)?,\s*bytes calldata (\w+)\s*\)[^{;]*\{")
_FUNCTION = re.compile(r"function (\w+)\(([^)]*)\)[^{;]*\{")


def _sources(include_test: bool = False) -> list[Path]:
    return sorted(p for p in CONTRACTS.rglob("*.sol") if include_test or "test" not in p.relative_to(CONTRACTS).parts)


def _code(path: Path) -> str:
    """The source without comments (same length per line is not kept; positions are only compared)."""
    return _COMMENT.sub("", path.read_text())


def _container_at(code: str, position: int) -> str:
    name = ""
    for match in _CONTAINER.finditer(code, 0, position):
        name = match.group(1)
    return name


def solidity_enums() -> dict[str, list[str]]:
    """``"Container.Enum"`` (as in an ABI's ``internalType``) → its members, in order."""
    found: dict[str, list[str]] = {}
    for path in _sources():
        code = _code(path)
        for match in _ENUM.finditer(code):
            members = [m.strip() for m in match.group(2).split(",") if m.strip()]
            found[f"{_container_at(code, match.start())}.{match.group(1)}"] = members
    return found


def upper_snake(camel: str) -> str:
    """``PendingInstallation`` → ``PENDING_INSTALLATION`` (the SDK's member names)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).upper()


def _split_top(text: str) -> list[str]:
    """``a, (b, c)[], d`` → ``["a", "(b, c)[]", "d"]``."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


_STRUCT = re.compile(r"\bstruct\s+(\w+)\s*\{([^}]*)\}")
_ELEMENTARY = re.compile(r"^(address|bool|string|bytes\d*|u?int\d*)$")


def _structs() -> dict[Path, dict[str, list[tuple[str, str]]]]:
    """Every ``struct`` of the sources, by file: name → its fields ``(type as written, name)``."""
    found: dict[Path, dict[str, list[tuple[str, str]]]] = {}
    for path in _sources():
        for match in _STRUCT.finditer(_code(path)):
            fields = []
            for field in match.group(2).split(";"):
                words = field.split()
                if words:
                    fields.append((" ".join(words[:-1]), words[-1]))
            found.setdefault(path, {})[match.group(1)] = fields
    return found


def _containers() -> set[str]:
    return {m.group(1) for path in _sources() for m in _CONTAINER.finditer(_code(path))}


#: ``uint256 constant NAME = 4;`` (file-level or in a contract): the lengths of fixed arrays.
_CONSTANT = re.compile(r"\buint\d*\s+(?:(?:public|internal|private)\s+)?constant\s+(\w+)\s*=\s*(\d+)\s*;")


class SolidityTypes:
    """Resolves the types a contract writes (``LineSpec``, ``IOperatorAgreement.Terms``,
    ``OrderLifecycle.State``, ``int96[4]``) to ABI types, from the struct and enum declarations of
    the sources: a struct is the tuple of its fields, an enum ``uint8``, a contract ``address``.
    A name declared in several files (``Terms``) is looked up in the file of its qualifying
    container (``IOperatorAgreement.Terms``), then in the file using it, then in that module's
    interface; otherwise it must be declared in exactly one file."""

    def __init__(self) -> None:
        self.structs = _structs()
        self.enums = {name.split(".")[-1] for name in solidity_enums()}
        self.containers = _containers()
        self.container_file = {m.group(1): path for path in _sources() for m in _CONTAINER.finditer(_code(path))}
        self.constants: dict[str, set[str]] = {}  # NAME -> the values declared for it
        for path in _sources():
            for m in _CONSTANT.finditer(_code(path)):
                self.constants.setdefault(m.group(1), set()).add(m.group(2))

    def struct(self, name: str, home: Path) -> tuple[Path, list[tuple[str, str]]]:
        """The file and fields of the struct ``name`` (``X.Name`` or ``Name``) as seen from ``home``."""
        qualifier, _, bare = name.rpartition(".")
        places = [home, home.parent / "interfaces" / f"I{home.stem}.sol"]
        if qualifier in self.container_file:
            places.insert(0, self.container_file[qualifier])
        for place in places:
            if bare in self.structs.get(place, {}):
                return place, self.structs[place][bare]
        owners = [path for path, structs in self.structs.items() if bare in structs]
        if len(owners) != 1:
            raise KeyError(f"struct {name} (used in {home.name}): declared in {len(owners)} files")
        return owners[0], self.structs[owners[0]][bare]

    def constant(self, length: str) -> str:
        """An array length as a number: a literal, or a constant the sources declare
        (``int96[MACD_KINDS]`` → ``int96[4]``)."""
        if length.isdigit():
            return length
        found = self.constants.get(length, set())
        if len(found) != 1:
            raise KeyError(f"array length {length}: declared {len(found)} ways in contracts/")
        return next(iter(found))

    def is_struct(self, name: str, home: Path) -> bool:
        try:
            self.struct(name, home)
        except KeyError:
            return False
        return True

    def abi(self, written: str, home: Path) -> str:
        """The ABI type of ``written`` (a type as the source writes it) in the file ``home``."""
        words = [w for w in written.split() if w not in ("memory", "calldata", "storage", "payable")]
        text = re.sub(r"\[(\w+)\]", lambda m: f"[{self.constant(m.group(1))}]", "".join(words))
        parts = re.fullmatch(r"([\w.]+)((?:\[\d*\])*)", text)
        if parts is None:  # a mapping, a function type: not in any ABI (storage-only structs)
            raise KeyError(f"{written!r} in {home.name} has no ABI type")
        base, arrays = parts.groups()
        base = {"uint": "uint256", "int": "int256"}.get(base, base)
        if _ELEMENTARY.match(base):
            return base + arrays
        bare = base.split(".")[-1]
        if self.is_struct(base, home):
            place, fields = self.struct(base, home)
            return "(" + ",".join(self.abi(t, place) for t, _ in fields) + ")" + arrays
        if bare in self.enums:
            return "uint8" + arrays
        if bare in self.containers:
            return "address" + arrays
        raise KeyError(f"unknown type {written!r} in {home.name}")

    def fields(self, name: str, home: Path) -> list[tuple[str, str]]:
        return self.struct(name, home)[1]


def _is_static(abi_type: str) -> bool:
    if abi_type.endswith("[]"):
        return False
    fixed = re.fullmatch(r"(.*)\[(\d+)\]", abi_type)
    if fixed:
        return _is_static(fixed.group(1))
    if abi_type.startswith("("):
        return all(_is_static(t) for t in _split_top(abi_type[1:-1]))
    return abi_type not in ("bytes", "string")


def _flat(types: list[str]) -> list[str]:
    """``types`` with every static tuple and fixed array spelled out: two lists with the same
    flat form have the same ABI encoding (a static tuple is encoded in place, as its fields)."""
    out: list[str] = []
    for t in types:
        fixed = re.fullmatch(r"(.*)\[(\d+)\]", t)
        if _is_static(t) and fixed:
            out += _flat([fixed.group(1)] * int(fixed.group(2)))
        elif _is_static(t) and t.startswith("("):
            out += _flat(_split_top(t[1:-1]))
        else:
            out.append(t)
    return out


def _decoded_params() -> dict[str, tuple[Path, list[str]]]:
    """Module action → (its contract file, the types as written in its entry point's
    ``abi.decode(params, (...))``, in the entry point or the helper it hands ``params`` to)."""
    found: dict[str, tuple[Path, list[str]]] = {}
    for path in _sources():
        code = _code(path)
        bodies = {}  # every function of the file → (its bytes parameter, its body)
        functions = list(_FUNCTION.finditer(code))
        for n, match in enumerate(functions):
            end = functions[n + 1].start() if n + 1 < len(functions) else len(code)
            param = re.search(r"bytes calldata (\w+)\s*$", match.group(2).split(",")[-1] if match.group(2) else "")
            bodies[match.group(1)] = (param.group(1) if param else "", code[match.end() : end])
        for match in _ENTRY.finditer(code):
            name, param = match.group(1), match.group(2)
            body = bodies[name][1]
            decode = re.search(r"abi\.decode\(\s*" + param + r"\s*,\s*\(([^;]*?)\)\s*\)", body)
            helper = re.search(r"\b(_\w+)\([^;]*\b" + param + r"\s*\)\s*;", body)
            if decode is None and helper is not None and helper.group(1) in bodies:
                inner, helper_body = bodies[helper.group(1)]
                decode = re.search(r"abi\.decode\(\s*" + inner + r"\s*,\s*\(([^;]*?)\)\s*\)", helper_body)
            if decode is not None:
                found[name] = (path, _split_top(decode.group(1)))
    return found


_TAG = re.compile(r"@(param \w+|[\w:]+)\s+(.*?)(?=\s@(?:param|notice|dev|return|inheritdoc|custom:)|$)")


def _natspec_blocks(path: Path) -> dict[str, dict[str, str]]:
    """Every entry point ``name(address,bytes32,bytes)`` of ``path`` → its NatSpec tags
    (``notice``, ``dev``, ``param params``, ``custom:who``...), each as one line of text."""
    lines = path.read_text().splitlines()
    found: dict[str, dict[str, str]] = {}
    for n, line in enumerate(lines):
        entry = re.match(r"\s*function (\w+)\(\s*address(?: \w+)?,\s*bytes32(?: \w+)?,\s*bytes calldata \w+\s*\)", line)
        if not entry:
            continue
        start = n
        while start > 0 and lines[start - 1].strip().startswith("///"):
            start -= 1
        text = " ".join(doc.strip().removeprefix("///").strip() for doc in lines[start:n])
        tags: dict[str, str] = {}
        for tag in _TAG.finditer(text):
            tags[tag.group(1)] = tag.group(2).strip()
        found[entry.group(1)] = tags
    return found


_BASES = re.compile(r"^\s*(?:abstract\s+)?contract\s+(\w+)\s+is\s+([^{]*)\{", re.M)


def _interfaces_of(path: Path) -> list[Path]:
    """The files whose NatSpec documents the entry points of the contract in ``path``: the
    interfaces of ``contracts/interfaces/`` it inherits, in the order it names them
    (``OperatorAgreement is IOperatorAgreement, IAgreementBilling, ...``), else the file itself."""
    found = []
    for match in _BASES.finditer(_code(path)):
        if match.group(1) != path.stem:
            continue
        for base in _split_top(match.group(2)):
            interface = CONTRACTS / "interfaces" / f"{base.split('(')[0].strip()}.sol"
            if interface.exists() and interface not in found:
                found.append(interface)
    return found or [path]


def _module_natspec(path: Path) -> dict[str, tuple[Path, dict[str, str]]]:
    """Every entry point the interfaces of the contract in ``path`` declare → (the interface
    declaring it, its NatSpec tags), in declaration order, interface by interface."""
    found: dict[str, tuple[Path, dict[str, str]]] = {}
    for interface in _interfaces_of(path):
        for name, tags in _natspec_blocks(interface).items():
            found.setdefault(name, (interface, tags))
    return found


_ENCODE = re.compile(r"`abi\.encode\((.*?)\)`")


def natspec_params(tags: dict[str, str]) -> tuple[list[tuple[str, str]], str] | None:
    """The ``@param params `abi.encode(type name, ...)`...`` of an entry point: its (type, name)
    pairs and the text after it; None when the NatSpec does not spell them out."""
    match = _ENCODE.search(tags.get("param params", ""))
    if not match or match.group(1).strip() in ("", "..."):
        return None
    pairs = []
    for part in _split_top(match.group(1)):
        words = part.split()
        pairs.append((" ".join(words[:-1]), words[-1]) if len(words) > 1 else (part, ""))
    return pairs, tags["param params"][match.end() :].strip()


class ParamsMismatch(ValueError):
    """An entry point's NatSpec ``@param params`` and its ``abi.decode`` disagree."""


def entry_point_params() -> dict[str, list[str]]:
    """Module action → the ABI types of its ``params``: what its entry point decodes
    (``abi.decode(params, (...))``, structs resolved to tuples), in the form its interface's
    NatSpec writes them when it does (``@param params `abi.encode(bytes32 assetId, ...)```:
    ``register`` decodes its static ``Registration`` struct, whose encoding is the six fields its
    NatSpec lists). Raises :class:`ParamsMismatch` when the two do not encode alike."""
    types = SolidityTypes()
    found: dict[str, list[str]] = {}
    problems = []
    for name, (path, written) in sorted(_decoded_params().items()):
        decoded = [types.abi(t, path) for t in written]
        interface, tags = _module_natspec(path).get(name, (path, {}))
        documented = natspec_params(tags)
        if documented is None:
            found[name] = decoded
            continue
        stated = [types.abi(t, interface) for t, _ in documented[0]]
        if _flat(stated) != _flat(decoded):
            problems.append(f"{name}: NatSpec abi.encode({', '.join(stated)}) but abi.decode({', '.join(decoded)})")
        found[name] = stated
    if problems:
        raise ParamsMismatch("; ".join(problems))
    return found


# --------------------------------------------------------------------------------------------
# consortium.yaml: the default grants and votes
# --------------------------------------------------------------------------------------------


def _roles_of(addresses: tuple[str, ...], members: dict[str, tuple[str, str]], everyone: int) -> str:
    if not addresses:
        return "—"
    if len(addresses) == everyone and everyone > 1:
        return "all members"
    return ", ".join(f"{members[a][0]} ({members[a][1]})" if a in members else f"`{a}`" for a in addresses)


def _period(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def render_grants(modules: list[str]) -> str:
    """The table of every action of ``modules`` in consortium.yaml: scope, grants, vote."""
    from telcochain.consortium import load_consortium

    config = load_consortium(CONSORTIUM)
    members = {m.address: (m.name, m.role) for m in config.members}
    rows = ["| action | scope | granted to | vote |", "| --- | --- | --- | --- |"]
    for action in config.actions:
        if (action.module or "Constitution") not in modules:
            continue
        grants = _roles_of(tuple(g.address for g in action.grants), members, len(members))
        if action.scope == "internal":
            grants = "— (called by " + ", ".join(action.callers) + ")"
        if action.voters == "any":
            vote = "no vote"
        else:
            voters = "every member" if action.voters == "all" else _roles_of(action.voter_list, members, 0)
            margin = {0: "majority", 255: "unanimous"}.get(action.margin, f"{action.margin} approvals")
            vote = f"{voters}: {margin}, {_period(action.voting_period)}"
        rows.append(f"| `{action.name}` | {action.scope.capitalize()} | {grants} | {vote} |")
    source = "consortium.yaml"
    note = f"Generated from [`{source}`](../{source}) by `python scripts/gen_rule_docs.py`; a test fails if it drifts."
    return "\n".join([note, "", *rows])


# --------------------------------------------------------------------------------------------
# The actions tables: the entry points' NatSpec (and consortium.yaml's scope)
# --------------------------------------------------------------------------------------------


class MissingNatSpec(ValueError):
    """An entry point of a module with a docs actions table lacks the NatSpec the table needs."""


def _module_file(module: str) -> Path:
    return CONTRACTS / f"{module}.sol"


def _cell(text: str, enums: dict[str, list[str]]) -> str:
    """NatSpec text as a table cell: ``{X}`` / ``{I-x}`` references as code (one of ``enums``
    with its numbering, from the enum itself), ``|`` escaped."""

    def reference(match: re.Match[str]) -> str:
        name = match.group(1)
        members = enums.get(name)
        if members is None:
            return f"`{name}`"
        return f"`{name}` (" + ", ".join(f"{i} `{m}`" for i, m in enumerate(members)) + ")"

    text = re.sub(r"\{(?:\w+-)?(\w+)\}", reference, text).replace("``", "")
    return text.replace("|", "\\|").strip()


def _struct_names(written: list[str], types: SolidityTypes, home: Path) -> list[tuple[str, Path]]:
    """The structs named in ``written`` (and in their fields), first use first."""
    found: list[tuple[str, Path]] = []
    pending = [(t, home) for t in written]
    while pending:
        text, place = pending.pop(0)
        for word in re.findall(r"[A-Z][\w.]*", text):
            if types.is_struct(word, place) and word.split(".")[-1] not in [n for n, _ in found]:
                where, fields = types.struct(word, place)
                found.append((word.split(".")[-1], where))
                pending += [(t, where) for t, _ in fields]
    return found


def render_actions(spec: list[str]) -> str:
    """The actions table of ``spec``: modules (every entry point of the interfaces its contract
    inherits, in declaration order) and single actions (``Module.action``): scope
    (consortium.yaml), params, what it does (``@notice``) and who may (``@custom:who``), from the
    entry points' NatSpec."""
    from telcochain.consortium import load_consortium

    policies = {a.name: a for a in load_consortium(CONSORTIUM).actions}
    types = SolidityTypes()
    enums = {name.split(".")[-1]: members for name, members in solidity_enums().items()}
    entries: list[tuple[str, str, Path, dict[str, str]]] = []  # (module, action, interface, tags)
    for item in spec:
        module, _, only = item.partition(".")
        blocks = _module_natspec(_module_file(module))
        if only and only not in blocks:
            where = ", ".join(str(p.relative_to(ROOT)) for p in _interfaces_of(_module_file(module)))
            raise MissingNatSpec(f"{item}: no entry point {only} in {where}")
        entries += [(module, name, where, tags) for name, (where, tags) in blocks.items() if not only or name == only]
    rows = [
        "| action | scope | params | what it does | who (checked by the contract, on top of the grant) |",
        "| --- | --- | --- | --- | --- |",
    ]
    previous, structs = "", []
    for module, name, interface, tags in entries:
        where = f"{interface.relative_to(ROOT)}: {name}"
        documented = natspec_params(tags)
        if documented is None or "custom:who" not in tags or "notice" not in tags:
            raise MissingNatSpec(f"{where} needs @notice, @param params `abi.encode(...)` and @custom:who")
        pairs, rest = documented
        structs += [s for s in _struct_names([t for t, _ in pairs], types, interface) if s not in structs]
        params = "`(" + ", ".join(f"{t} {n}".strip() for t, n in pairs) + ")`"
        rest = rest.lstrip(";,.: ").removesuffix(".")
        if rest.startswith("(") and rest.endswith(")"):
            rest = rest[1:-1]
        cell = "same" if params == previous and not rest else params + (f" — {_cell(rest, enums)}" if rest else "")
        previous = params
        policy = policies.get(name)
        scope = "—" if policy is None else policy.scope.capitalize() + (" (vote)" if policy.voters != "any" else "")
        label = f"`{name}`" + ("" if module == spec[0].partition(".")[0] else f" ({module})")
        what, who = _cell(tags["notice"], {}), _cell(tags["custom:who"], {})
        rows.append(f"| {label} | {scope} | {cell} | {what} | {who} |")
    sources = sorted({str(interface.relative_to(ROOT)) for _, _, interface, _ in entries})
    note = (
        "Generated from the entry points' NatSpec (" + ", ".join(f"`{s}`" for s in sources) + ") and the scope in "
        "[`consortium.yaml`](../consortium.yaml) by `python scripts/gen_rule_docs.py`; a test fails if it drifts."
    )
    lines = [note, ""]
    for struct, where in structs:
        fields = ", ".join(f"{t} {n}" for t, n in types.structs[where][struct])
        lines.append(f"- `{struct}` = `({fields})` (`{where.relative_to(ROOT)}`)")
    return "\n".join([*lines, *([""] if structs else []), *rows])


_GRANTS = re.compile(r"(<!-- generated:grants ([\w,]+) -->\n)(.*?)(<!-- /generated:grants -->)", re.S)
_SIZES = re.compile(r"(<!-- generated:sizes -->\n)(.*?)(<!-- /generated:sizes -->)", re.S)
_ACTIONS = re.compile(r"(<!-- generated:actions ([\w.,]+) -->\n)(.*?)(<!-- /generated:actions -->)", re.S)

#: EIP-170: the most runtime bytecode a contract may have.
EIP170_LIMIT = 24_576
BUILD = ROOT / ".build" / "__local__.json"


def contract_sizes() -> dict[str, int]:
    """Runtime bytecode size of every deployable contract of ``contracts/*.sol`` (not the
    interfaces, libraries or test contracts), from the last ``ape compile``."""
    import json

    names = [p.stem for p in sorted(CONTRACTS.glob("*.sol"))]
    types = json.loads(BUILD.read_text())["contractTypes"]
    sizes = {}
    for name in names:
        code = ((types.get(name) or {}).get("runtimeBytecode") or {}).get("bytecode") or "0x"
        sizes[name] = (len(code) - 2) // 2
    return sizes


def render_sizes() -> str:
    rows = ["| contract | runtime bytes | headroom to EIP-170 (24,576) |", "| --- | ---: | ---: |"]
    rows += [f"| {name} | {size:,} | {EIP170_LIMIT - size:,} |" for name, size in contract_sizes().items()]
    note = "Generated from the compiled contracts by `python scripts/gen_rule_docs.py`; a test fails if it drifts."
    return "\n".join([note, "", *rows])


def render_doc(text: str) -> str:
    """``text`` with every generated table rewritten."""
    text = _GRANTS.sub(lambda m: m.group(1) + render_grants(m.group(2).split(",")) + "\n" + m.group(4), text)
    text = _ACTIONS.sub(lambda m: m.group(1) + render_actions(m.group(2).split(",")) + "\n" + m.group(4), text)
    return _SIZES.sub(lambda m: m.group(1) + render_sizes() + "\n" + m.group(3), text)


#: The SDK's table of module action parameters, generated from the entry points.
ACTION_PARAMS_MODULE = ROOT / "pysdk" / "telcochain" / "action_params.py"


def render_action_params() -> str:
    """pysdk/telcochain/action_params.py: every entry point's ``abi.decode`` types, as Python."""

    def literal(types: list[str]) -> str:
        return "(" + ", ".join(f'"{t}"' for t in types) + ("," if len(types) == 1 else "") + ")"

    def row(name: str, types: list[str]) -> str:
        line = f'    "{name}": {literal(types)},\n'
        if len(line) <= 121:
            return line
        return f'    "{name}": (\n' + "".join(f'        "{t}",\n' for t in types) + "    ),\n"  # as ruff formats it

    rows = "".join(row(name, types) for name, types in sorted(entry_point_params().items()))
    return (
        '"""The parameter types of the modules\' actions, as their entry points decode ``params``.\n\n'
        "Generated from ``abi.decode(params, (...))`` in contracts/*.sol (structs resolved from their declarations,\n"
        "in the form the interface's NatSpec ``@param params`` writes) by ``python scripts/gen_rule_docs.py``:\n"
        "do not edit (tests/toolchain/test_rules.py fails when it and the contracts differ).\n"
        '"""\n\n'
        "#: Module action name → the ABI types of its ``params``.\n"
        f"ENTRY_POINT_PARAMS: dict[str, tuple[str, ...]] = {{\n{rows}}}\n"
    )


# --------------------------------------------------------------------------------------------
# The MACD kinds: enum MacdKind is the source of the SDK's MacdKind and ChargeKind, the Terms
# tuple type, consortium.yaml's tariff keys and the docs' tariff and line-kind tables
# --------------------------------------------------------------------------------------------

#: The SDK module generated from the MACD kinds.
MACD_KINDS_MODULE = ROOT / "pysdk" / "telcochain" / "macd_kinds.py"
AGREEMENT_ABI = ROOT / "pysdk" / "telcochain" / "abi" / "OperatorAgreement.json"
#: The member of ``IAgreementBilling.ChargeKind`` after which the MACD line kinds follow.
MACD_CHARGE = "Macd"


def macd_kind_names() -> list[str]:
    """``IOperatorAgreement.MacdKind``'s members, in order (``["Move", "Add", ...]``)."""
    return solidity_enums()["IOperatorAgreement.MacdKind"]


def macd_kinds_constant() -> int:
    """The file-level ``uint256 constant MACD_KINDS = N;`` of IOperatorAgreement.sol."""
    code = _code(CONTRACTS / "interfaces" / "IOperatorAgreement.sol")
    found = re.search(r"\buint256\s+constant\s+MACD_KINDS\s*=\s*(\d+)\s*;", code)
    if found is None:
        raise SystemExit("IOperatorAgreement.sol declares no MACD_KINDS constant")
    return int(found.group(1))


def charge_kinds() -> list[tuple[str, int, str | None]]:
    """Every billing line kind: ``(name, number, its MACD kind or None)``. The members of
    ``IAgreementBilling.ChargeKind`` before ``Macd`` keep their numbers; MACD kind ``k`` is line
    kind ``Macd + k`` (``Macd`` must be the enum's last member)."""
    members = solidity_enums()["IAgreementBilling.ChargeKind"]
    if not members or members[-1] != MACD_CHARGE:
        raise SystemExit(f"IAgreementBilling.ChargeKind must end with {MACD_CHARGE} (the MACD line kinds follow it)")
    base = len(members) - 1
    out: list[tuple[str, int, str | None]] = [(m, i, None) for i, m in enumerate(members[:-1])]
    taken = {upper_snake(m) for m in members[:-1]}
    for k, kind in enumerate(macd_kind_names()):
        if upper_snake(kind) in taken:
            raise SystemExit(f"MacdKind.{kind} has the name of a ChargeKind member")
        out.append((kind, base + k, kind))
    return out


def _terms_abi() -> dict:
    import json

    (constructor,) = [i for i in json.loads(AGREEMENT_ABI.read_text()) if i["type"] == "constructor"]
    return next(p for p in constructor["inputs"] if p.get("internalType") == "struct IOperatorAgreement.Terms")


def terms_type() -> str:
    """``IOperatorAgreement.Terms`` as an ABI tuple type, from the shipped ABI."""
    return "(" + ",".join(c["type"] for c in _terms_abi()["components"]) + ")"


def tariff_keys() -> list[tuple[str, str]]:
    """consortium.yaml's ``tariff:`` keys in ``Terms`` order, each with its ``Terms`` field: the
    scalar tariffs (after token and payment days), then one key per MACD kind (its lower-case
    name) for the ``macd`` array."""
    keys = []
    for c in _terms_abi()["components"][2:]:
        if c["type"].endswith("]"):
            keys += [(k.lower(), f"{c['name']}[{n}]") for n, k in enumerate(macd_kind_names())]
        else:
            keys.append((c["name"], c["name"]))
    return keys


_MACD_KINDS_TEMPLATE = '''"""The MACD kinds and what follows from them: the billing line kinds, the ``Terms`` tuple and
consortium.yaml's ``tariff:`` keys.

Generated by ``python scripts/gen_rule_docs.py`` from ``enum MacdKind`` (IOperatorAgreement.sol),
``enum ChargeKind`` (IAgreementBilling.sol) and the ``Terms`` struct of the shipped ABI
(abi/OperatorAgreement.json): do not edit (tests/toolchain/test_rules.py fails when it is stale).
A new MACD kind is one more ``MacdKind`` value in the contract; everything here follows.
"""

from __future__ import annotations

from enum import IntEnum

from telcochain.errors import ConfigurationError

#: ``IOperatorAgreement``'s ``MACD_KINDS``: how many MACD kinds, each with its tariff in ``Terms.macd``.
MACD_KINDS = @COUNT@
#: ``IOperatorAgreement.Terms`` as an ABI tuple type (the constructor's and ``setTerms``' params).
TERMS_TYPE = "@TERMS@"
#: consortium.yaml's ``tariff:`` keys in ``Terms`` order: its own tariffs, then one per MACD kind.
TARIFF_KINDS = (
@KEYS@)
#: ``ChargeKind.Macd``: the line kind of MACD kind 0 (MACD kind ``k``'s is ``MACD_LINE + k``).
MACD_LINE = @MACD_LINE@


class MacdKind(IntEnum):
    """Mirrors ``IOperatorAgreement.MacdKind``."""

@MACD_MEMBERS@
    @property
    def label(self) -> str:
        """The kind's name in commands, consortium.yaml's ``tariff:`` and the index (``move``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | MacdKind) -> MacdKind:
        """A kind from its label (``"move"``), its number, or itself."""
        if isinstance(value, MacdKind):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.upper()]
        except KeyError:
            labels = [k.label for k in cls]
            listed = ", ".join(labels[:-1]) + " or " + labels[-1]
            raise ConfigurationError(f"unknown MACD kind {value!r} ({listed})") from None


class ChargeKind(IntEnum):
    """Mirrors ``IAgreementBilling.ChargeKind``: what a line item charges for. Its ``Macd`` member
    stands for the MACD line kinds, one per :class:`MacdKind` from ``MACD_LINE`` on."""

@CHARGE_MEMBERS@
    @property
    def label(self) -> str:
        """``change-reversal``, ``move``..."""
        return self.name.lower().replace("_", "-")

    @property
    def macd(self) -> MacdKind | None:
        """The MACD kind a MACD line charges for; None for the other kinds."""
        return MacdKind(self - MACD_LINE) if self >= MACD_LINE else None

    @classmethod
    def of_macd(cls, kind: int) -> ChargeKind:
        """The line kind of MACD kind ``kind`` (what the agreement folds into the period digest)."""
        return cls(MACD_LINE + MacdKind(kind))
'''


def render_macd_kinds() -> str:
    """pysdk/telcochain/macd_kinds.py: the SDK's MacdKind, ChargeKind, TERMS_TYPE, TARIFF_KINDS."""
    kinds = macd_kind_names()
    charges = charge_kinds()
    fields = {
        "@COUNT@": str(len(kinds)),
        "@TERMS@": terms_type(),
        "@KEYS@": "".join(f'    "{key}",\n' for key, _ in tariff_keys()),
        "@MACD_LINE@": str(next(number for _, number, macd in charges if macd is not None)),
        "@MACD_MEMBERS@": "".join(f"    {upper_snake(k)} = {i}\n" for i, k in enumerate(kinds)),
        "@CHARGE_MEMBERS@": "".join(
            f"    {upper_snake(name)} = {number}" + (f"  # Macd + MacdKind.{macd}\n" if macd else "\n")
            for name, number, macd in charges
        ),
    }
    text = _MACD_KINDS_TEMPLATE
    for key, value in fields.items():
        text = text.replace(key, value)
    return text


def _line_events() -> dict[str, str]:
    """``ChargeKind`` member → the event that tells such a line, from IAgreementBilling's NatSpec
    (``DisconnectOrdered ({ChargeKind-Disconnect})``)."""
    text = (CONTRACTS / "interfaces" / "IAgreementBilling.sol").read_text()
    prose = " ".join(line.strip().removeprefix("///") for line in text.splitlines() if line.strip().startswith("///"))
    return {kind: event for event, kind in re.findall(r"\{?(\w+)\}?\s+\(\{ChargeKind-(\w+)\}", prose)}


def render_tariff() -> str:
    """The tariff lines: consortium.yaml key, ``Terms`` field, what charges it, the example's value."""
    from telcochain.consortium import load_consortium

    config = load_consortium(CONSORTIUM).agreement
    rows = ["| `tariff:` key | `Terms` field | charged by | example (tokens) |", "| --- | --- | --- | ---: |"]
    kinds = macd_kind_names()
    for key, field in tariff_keys():
        if field.startswith("macd["):
            by = f"`orderChange` / `orderChanges` of MACD kind {field[5:-1]} (`{kinds[int(field[5:-1])]}`)"
        else:
            by = {"installation": "`requestInstallation`", "disconnect": "`orderDisconnect`"}.get(key, "—")
        value = "—" if config is None else f"{config.tariff[key] / 10**config.token.decimals:g}"
        rows.append(f"| `{key}` | `{field}` | {by} | {value} |")
    note = (
        "Generated from `IOperatorAgreement.Terms`, `enum MacdKind` and [`consortium.yaml`](../consortium.yaml) "
        "by `python scripts/gen_rule_docs.py`; a test fails if it drifts."
    )
    return "\n".join([note, "", *rows])


def render_line_kinds() -> str:
    """The billing line kinds: number, label, the event that tells such a line."""
    events = _line_events()
    rows = ["| kind | line | told by |", "| ---: | --- | --- |"]
    for name, number, macd in charge_kinds():
        told = f"`ChangeOrdered` / `ChangesOrdered` with kind `{name}`" if macd else f"`{events.get(name, '—')}`"
        rows.append(f"| {number} | `{upper_snake(name).lower().replace('_', '-')}` | {told} |")
    note = (
        "Generated from `IAgreementBilling.ChargeKind` and `IOperatorAgreement.MacdKind` by "
        "`python scripts/gen_rule_docs.py`; a test fails if it drifts."
    )
    return "\n".join([note, "", *rows])


_TARIFF = re.compile(r"(<!-- generated:tariff -->\n)(.*?)(<!-- /generated:tariff -->)", re.S)
_LINE_KINDS = re.compile(r"(<!-- generated:line-kinds -->\n)(.*?)(<!-- /generated:line-kinds -->)", re.S)


def render_macd_tables(text: str) -> str:
    """``text`` with its tariff and line-kind tables rewritten."""
    text = _TARIFF.sub(lambda m: m.group(1) + render_tariff() + "\n" + m.group(3), text)
    return _LINE_KINDS.sub(lambda m: m.group(1) + render_line_kinds() + "\n" + m.group(3), text)


def generated_docs() -> dict[Path, str]:
    """Each docs page holding a generated table → its text as it must be."""
    out = {}
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        if (
            _GRANTS.search(text)
            or _SIZES.search(text)
            or _ACTIONS.search(text)
            or _TARIFF.search(text)
            or _LINE_KINDS.search(text)
        ):
            out[path] = render_macd_tables(render_doc(text))
    return out


def generated_files() -> dict[Path, str]:
    """Every generated file (the docs tables' pages and the SDK's parameter table) → its text."""
    return {**generated_docs(), ACTION_PARAMS_MODULE: render_action_params(), MACD_KINDS_MODULE: render_macd_kinds()}


def main() -> int:
    # the MACD kinds module first: the SDK (which the docs tables load consortium.yaml with) reads
    # the tariff keys from it, and is not imported before this point
    macd = render_macd_kinds()
    if not MACD_KINDS_MODULE.exists() or MACD_KINDS_MODULE.read_text() != macd:
        if "--check" in sys.argv:
            where = MACD_KINDS_MODULE.relative_to(ROOT)
            print(f"{where} is stale: run python scripts/gen_rule_docs.py", file=sys.stderr)
            return 1
        MACD_KINDS_MODULE.write_text(macd)
        print(f"wrote {MACD_KINDS_MODULE.relative_to(ROOT)}")
    outputs = generated_files()
    if "--check" in sys.argv:
        stale = [path for path, text in outputs.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run python scripts/gen_rule_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (MissingNatSpec, ParamsMismatch) as exc:  # a contract's NatSpec to fix: one line, no traceback
        print(f"gen_rule_docs: {exc} (fix the NatSpec, then run python scripts/gen_rule_docs.py)", file=sys.stderr)
        sys.exit(1)
