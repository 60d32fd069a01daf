"""The project's rules, each from its one source, and the docs tables generated from them.

Sources (tests/toolchain/test_rules.py checks every copy against them):

- **enums**: the Solidity ``enum`` declarations (``contracts/``); the SDK mirrors each once
  (``telcochain.render.solidity_enums``), the tests import the SDK's;
- **transition tables**: ``AssetLifecycle.rule`` / ``OrderLifecycle.targets`` on chain; the SDK's
  ``telcochain.assets.TRANSITIONS`` / ``telcochain.orders.ORDER_TRANSITIONS`` are checked against
  the deployed contracts (tests/sdk), the tests import them, the docs tables are checked;
- **action parameter types**: each module entry point's ``abi.decode(params, (...))``; this script
  writes them to ``pysdk/telcochain/action_params.py`` (the SDK's ``ACTION_PARAMS`` starts from it;
  the few entry points decoding a struct are registered by their SDK module and checked by the
  contract tests), the docs' ``(type name, ...)`` cells are checked against it;
- **default grants and votes**: ``consortium.yaml``; the tables between
  ``<!-- generated:grants Module,... -->`` and ``<!-- /generated:grants -->`` in docs/*.md are
  written from it by this script;
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


def entry_point_params() -> dict[str, list[str]]:
    """Module action → the types its entry point decodes ``params`` as (``abi.decode(params, (...))``).

    Only entry points that decode ``params`` themselves into elementary types (and arrays of them)
    are listed: those decoding a struct or handing ``params`` to a helper are left out (their SDK
    encoding is checked by the contract tests that send them)."""
    found: dict[str, list[str]] = {}
    elementary = re.compile(r"^(address|bool|bytes\d*|u?int\d*|string)(\[\])*$")
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
            if decode is None:
                continue
            types = _split_top(decode.group(1))
            if all(elementary.match(t) for t in types):
                found[name] = types
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


_GRANTS = re.compile(r"(<!-- generated:grants ([\w,]+) -->\n)(.*?)(<!-- /generated:grants -->)", re.S)
_SIZES = re.compile(r"(<!-- generated:sizes -->\n)(.*?)(<!-- /generated:sizes -->)", re.S)

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
    return _SIZES.sub(lambda m: m.group(1) + render_sizes() + "\n" + m.group(3), text)


#: The SDK's table of module action parameters, generated from the entry points.
ACTION_PARAMS_MODULE = ROOT / "pysdk" / "telcochain" / "action_params.py"


def render_action_params() -> str:
    """pysdk/telcochain/action_params.py: every entry point's ``abi.decode`` types, as Python."""

    def literal(types: list[str]) -> str:
        return "(" + ", ".join(f'"{t}"' for t in types) + ("," if len(types) == 1 else "") + ")"

    rows = "".join(f'    "{name}": {literal(types)},\n' for name, types in sorted(entry_point_params().items()))
    return (
        '"""The parameter types of the modules\' actions, as their entry points decode ``params``.\n\n'
        "Generated from ``abi.decode(params, (...))`` in contracts/*.sol by ``python scripts/gen_rule_docs.py``:\n"
        "do not edit (tests/toolchain/test_rules.py fails when it and the contracts differ). Entry points that\n"
        "decode a struct are not here: their module registers them (``register_action_params``).\n"
        '"""\n\n'
        "#: Module action name → the ABI types of its ``params``.\n"
        f"ENTRY_POINT_PARAMS: dict[str, tuple[str, ...]] = {{\n{rows}}}\n"
    )


def generated_docs() -> dict[Path, str]:
    """Each docs page holding a generated table → its text as it must be."""
    out = {}
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        if _GRANTS.search(text) or _SIZES.search(text):
            out[path] = render_doc(text)
    return out


def generated_files() -> dict[Path, str]:
    """Every generated file (the docs tables' pages and the SDK's parameter table) → its text."""
    return {**generated_docs(), ACTION_PARAMS_MODULE: render_action_params()}


def main() -> int:
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
    sys.exit(main())
