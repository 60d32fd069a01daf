"""Write the solc standard-json input that slither analyses (`make audit`).

Every ``contracts/**/*.sol`` except ``contracts/test/`` (test doubles, never deployed), plus
the OpenZeppelin files they import, remapped as in ape-config.yaml, with the project's
compiler settings (optimizer on, evmVersion berlin). slither compiles it through the project's
solc bridge (docs/toolchain.md): ``slither input.json --compile-force-framework solc-json
--solc .solcx/solc-v0.8.28``.

    python audit/standard_json.py > .build/slither-input.json
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXCLUDED = ("contracts/test/",)
_IMPORT = re.compile(r"""^\s*import\s+(?:[^;]*?\s+from\s+)?["']([^"']+)["']\s*;""", re.MULTILINE)


def remappings() -> list[tuple[str, str]]:
    """The import remappings of ape-config.yaml, as (prefix, target) pairs."""
    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
    pairs = []
    for entry in config.get("solidity", {}).get("import_remapping", []):
        prefix, target = entry.split("=", 1)
        pairs.append((prefix, target))
    return pairs


def resolve(importer: str, path: str, remaps: list[tuple[str, str]]) -> str:
    """The source unit name of ``path`` imported from ``importer`` (solc's own rules)."""
    if path.startswith("."):
        path = posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    for prefix, target in remaps:
        if path.startswith(prefix):
            return target + path[len(prefix) :]
    return path


def sources() -> dict[str, dict[str, str]]:
    """The project's contracts (tests excluded) and the closure of their imports."""
    remaps = remappings()
    pending = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "contracts").rglob("*.sol")
        if not p.relative_to(ROOT).as_posix().startswith(EXCLUDED)
    )
    out: dict[str, dict[str, str]] = {}
    while pending:
        name = pending.pop()
        if name in out:
            continue
        text = (ROOT / name).read_text()
        out[name] = {"content": text}
        pending.extend(resolve(name, imp, remaps) for imp in _IMPORT.findall(text))
    return dict(sorted(out.items()))


def standard_json() -> dict[str, object]:
    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
    solidity = config.get("solidity", {})
    return {
        "language": "Solidity",
        "sources": sources(),
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": solidity.get("evm_version", "berlin"),
            "viaIR": bool(solidity.get("via_ir", False)),
            "remappings": [f"{p}={t}" for p, t in remappings()],
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "userdoc", "devdoc"], "": ["ast"]}
            },
        },
    }


if __name__ == "__main__":
    json.dump(standard_json(), sys.stdout, indent=1)
    sys.stdout.write("\n")
