"""Export the ABIs of the deployable contracts from ape's build into the SDK package.

The SDK ships these files (``pysdk/telcochain/abi/<Contract>.json``) so that member
backends need neither ape nor a compiler. ``tests/sdk/test_abis.py`` fails when they
drift from the sources; ``make abi`` regenerates them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_MANIFEST = ROOT / ".build" / "__local__.json"
ABI_DIR = ROOT / "pysdk" / "telcochain" / "abi"


def compiled_abis(build_manifest: Path = BUILD_MANIFEST) -> dict[str, list[dict]]:
    """ABIs of the deployable contracts, by name."""
    manifest = json.loads(build_manifest.read_text())
    abis = {}
    for name, ctype in manifest["contractTypes"].items():
        # One deployable contract per file at the top of contracts/ (interfaces/, libraries/
        # and test doubles under contracts/test/ are not shipped).
        if ctype.get("sourceId") == f"contracts/{name}.sol" and (ROOT / ctype["sourceId"]).exists():
            abis[name] = ctype["abi"]
    return abis


def render(abi: list[dict]) -> str:
    return json.dumps(abi, indent=1, sort_keys=True) + "\n"


def main() -> int:
    if not BUILD_MANIFEST.exists():
        print("export_abis: no build found; run `ape compile` first", file=sys.stderr)
        return 1
    ABI_DIR.mkdir(parents=True, exist_ok=True)
    abis = compiled_abis()
    for stale in ABI_DIR.glob("*.json"):
        if stale.stem not in abis:
            stale.unlink()
    for name, abi in sorted(abis.items()):
        target = ABI_DIR / f"{name}.json"
        text = render(abi)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            print(f"export_abis: wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
