"""Judge slither's findings against the triage file (`make audit`).

    python audit/check_slither.py .build/audit/slither.json audit/slither-triage.yaml

Each finding gets a stable key — ``detector:Contract.function`` (or ``...function.local`` for a
local variable, ``detector:Contract.variable`` for a state variable, ``detector:Contract`` for a
contract-wide finding) — built from slither's first element, never from line numbers, so the
triage survives unrelated edits. Exit status: 1 when a High or Medium finding has no entry in
the triage file (each printed on its own line), 2 when slither produced no usable report,
0 otherwise. Triage entries that match nothing any more are reported (not fatal): delete them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

BLOCKING = ("High", "Medium")


def _parent(element: dict[str, Any]) -> dict[str, Any]:
    return element.get("type_specific_fields", {}).get("parent", {}) or {}


def _owner(element: dict[str, Any]) -> str:
    """``Contract.function`` for a function, ``Contract`` for a contract-level element."""
    parent = _parent(element)
    if element.get("type") == "function":
        return f"{parent.get('name', '?')}.{element['name']}"
    if element.get("type") == "contract":
        return str(element["name"])
    return "?"


def finding_key(result: dict[str, Any]) -> str:
    """The stable key of one slither result (see the module docstring)."""
    check = result["check"]
    elements = result.get("elements") or []
    if not elements:
        return check
    e = elements[0]
    kind = e.get("type")
    parent = _parent(e)
    if kind in ("function", "contract"):
        return f"{check}:{_owner(e)}"
    if kind == "variable":
        if parent.get("type") == "function":
            return f"{check}:{_owner(parent)}.{e['name']}"
        return f"{check}:{parent.get('name', '?')}.{e['name']}"
    if kind == "node" and parent.get("type") == "function":
        return f"{check}:{_owner(parent)}"
    return f"{check}:{parent.get('name', '?')}.{e.get('name', '?')}"


def _location(result: dict[str, Any]) -> str:
    for e in result.get("elements") or []:
        sm = e.get("source_mapping") or {}
        if sm.get("filename_relative"):
            lines = sm.get("lines") or [0]
            return f"{sm['filename_relative']}#{lines[0]}"
    return "?"


def _is_vendored(result: dict[str, Any]) -> bool:
    """A finding inside a dependency (OpenZeppelin), not in the project's contracts."""
    for e in result.get("elements") or []:
        sm = e.get("source_mapping") or {}
        name = sm.get("filename_relative") or ""
        if name:
            return name.startswith("node_modules/") or name.startswith("@")
    return False


def load_triage(path: Path) -> dict[str, str]:
    """``key → reason`` from the triage file (every entry needs a non-empty reason)."""
    data = yaml.safe_load(path.read_text()) or {}
    triage: dict[str, str] = {}
    for entry in data.get("findings", []):
        key, reason = entry.get("key"), (entry.get("reason") or "").strip()
        if not key or not reason:
            raise SystemExit(f"{path}: every finding needs a key and a reason: {entry!r}")
        triage[key] = reason
    return triage


def judge(report: dict[str, Any], triage: dict[str, str]) -> tuple[list[str], list[str], Counter[str]]:
    """(untriaged blocking findings as printable lines, stale triage keys, counts by impact)."""
    results = [r for r in report.get("results", {}).get("detectors", []) if not _is_vendored(r)]
    counts: Counter[str] = Counter(r["impact"] for r in results)
    seen: set[str] = set()
    untriaged: list[str] = []
    for r in results:
        key = finding_key(r)
        seen.add(key)
        if r["impact"] in BLOCKING and key not in triage:
            first_line = r["description"].strip().splitlines()[0]
            untriaged.append(f"{r['impact']:<6} {key}  ({_location(r)}) {first_line}")
    stale = sorted(k for k in triage if k not in seen)
    return sorted(set(untriaged)), stale, counts


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    report_path, triage_path = Path(argv[1]), Path(argv[2])
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError) as exc:
        print(f"audit: no slither report ({exc}); see {report_path.with_suffix('.txt')}", file=sys.stderr)
        return 2
    if not report.get("success", False):
        print(f"audit: slither failed: {report.get('error')}", file=sys.stderr)
        return 2
    untriaged, stale, counts = judge(report, load_triage(triage_path))
    summary = ", ".join(f"{counts[i]} {i}" for i in ("High", "Medium", "Low", "Informational", "Optimization"))
    print(f"slither: {summary} (contracts/, tests and dependencies excluded)", file=sys.stderr)
    for key in stale:
        print(f"audit: triage entry matches no finding any more (delete it): {key}", file=sys.stderr)
    if untriaged:
        print(
            f"audit: {len(untriaged)} untriaged High/Medium finding(s) — fix them or judge them in {triage_path}:",
            file=sys.stderr,
        )
        for line in untriaged:
            print(line)
        return 1
    print("audit: every High/Medium finding is triaged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
