"""`make audit`: the slither input covers the project's contracts (tests excluded), and the triage
check fails on an untriaged High/Medium finding, keyed without line numbers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import ROOT


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "audit" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


standard_json = _load("standard_json")
check = _load("check_slither")


def _finding(check_name: str, impact: str, contract: str, function: str, line: int, path: str) -> dict[str, Any]:
    parent = {"type": "contract", "name": contract}
    fn = {
        "type": "function",
        "name": function,
        "source_mapping": {"filename_relative": path, "lines": [line]},
        "type_specific_fields": {"parent": parent, "signature": f"{function}()"},
    }
    return {
        "check": check_name,
        "impact": impact,
        "confidence": "Medium",
        "description": f"{contract}.{function} x",
        "elements": [fn],
    }


def _report(*findings: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "error": None, "results": {"detectors": list(findings)}}


def test_input_has_every_contract_but_the_test_doubles_and_the_imported_openzeppelin_files() -> None:
    data = standard_json.standard_json()
    names = set(data["sources"])
    project = {p.relative_to(ROOT).as_posix() for p in (ROOT / "contracts").rglob("*.sol")}
    assert {n for n in project if not n.startswith("contracts/test/")} <= names
    assert not any(n.startswith("contracts/test/") for n in names)
    assert "node_modules/@openzeppelin/contracts/utils/ReentrancyGuard.sol" in names
    settings = data["settings"]
    assert settings["optimizer"]["enabled"] is True
    assert settings["evmVersion"] == "berlin"
    assert settings["remappings"] == ["@openzeppelin/contracts=node_modules/@openzeppelin/contracts"]


def test_untriaged_medium_fails_and_is_printed_one_per_line(tmp_path: Path, capsys: Any) -> None:
    report = tmp_path / "slither.json"
    report.write_text(
        json.dumps(
            _report(
                _finding("reentrancy-no-eth", "Medium", "Book", "cancel", 10, "contracts/Book.sol"),
                _finding("arbitrary-send-erc20", "High", "Pay", "fund", 20, "contracts/Pay.sol"),
                _finding("timestamp", "Low", "Pay", "reclaim", 30, "contracts/Pay.sol"),
            )
        )
    )
    triage = tmp_path / "triage.yaml"
    triage.write_text(yaml.safe_dump({"findings": [{"key": "arbitrary-send-erc20:Pay.fund", "reason": "payer only"}]}))
    assert check.main(["check", str(report), str(triage)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "reentrancy-no-eth:Book.cancel" in out[0]


def test_triage_keys_ignore_line_numbers_and_dependencies(tmp_path: Path) -> None:
    triage = tmp_path / "triage.yaml"
    triage.write_text(yaml.safe_dump({"findings": [{"key": "reentrancy-no-eth:Book.cancel", "reason": "trusted"}]}))
    report = tmp_path / "slither.json"
    report.write_text(
        json.dumps(
            _report(
                _finding("reentrancy-no-eth", "Medium", "Book", "cancel", 999, "contracts/Book.sol"),
                _finding(
                    "incorrect-equality", "Medium", "ERC20", "x", 1, "node_modules/@openzeppelin/contracts/ERC20.sol"
                ),
            )
        )
    )
    assert check.main(["check", str(report), str(triage)]) == 0


def test_a_failed_slither_run_is_not_a_pass(tmp_path: Path) -> None:
    triage = tmp_path / "triage.yaml"
    triage.write_text("findings: []\n")
    assert check.main(["check", str(tmp_path / "missing.json"), str(triage)]) == 2
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps({"success": False, "error": "compilation failed", "results": {}}))
    assert check.main(["check", str(failed), str(triage)]) == 2


def test_every_triage_entry_has_a_reason() -> None:
    entries = check.load_triage(ROOT / "audit" / "slither-triage.yaml")
    assert entries and all(len(reason) > 20 for reason in entries.values())
