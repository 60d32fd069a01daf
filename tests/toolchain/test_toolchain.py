"""The offline toolchain: one pinned solc, reached through the npm bridge, honouring berlin."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.paths import ROOT

PACKAGE = json.loads((ROOT / "package.json").read_text())
APE_CONFIG = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
SOLC_VERSION = PACKAGE["dependencies"]["solc"]
BRIDGE = Path(os.environ["SOLCX_BINARY_PATH"]) / f"solc-v{SOLC_VERSION}"

PUSH0 = 0x5F


def opcodes(bytecode_hex: str) -> list[int]:
    """The opcodes of EVM bytecode, skipping PUSH1..PUSH32 immediates and solc's CBOR metadata
    trailer (its length is the last two bytes)."""
    code = bytes.fromhex(bytecode_hex.removeprefix("0x"))
    if len(code) > 2:
        code = code[: -(int.from_bytes(code[-2:], "big") + 2)]
    out, i = [], 0
    while i < len(code):
        op = code[i]
        out.append(op)
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return out


def compile_with_bridge(evm_version: str) -> dict:
    source = (
        'pragma solidity 0.8.28;\nimport {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";\n'
        "contract Store { uint256 public x; function set(uint256 v) external { x = v + 0; } }\n"
    )
    request = {
        "language": "Solidity",
        "sources": {"Store.sol": {"content": source}},
        "settings": {
            "evmVersion": evm_version,
            "optimizer": {"enabled": True, "runs": 200},
            "remappings": ["@openzeppelin/contracts=node_modules/@openzeppelin/contracts"],
            "outputSelection": {"*": {"*": ["evm.deployedBytecode.object"]}},
        },
    }
    result = subprocess.run(
        [str(BRIDGE), "--standard-json", "--base-path", str(ROOT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


def test_solc_version_is_pinned_once_across_package_json_and_ape_config():
    assert str(APE_CONFIG["solidity"]["version"]) == SOLC_VERSION


def test_contracts_compile_for_berlin_with_the_optimizer():
    assert APE_CONFIG["solidity"]["evm_version"] == "berlin"
    assert APE_CONFIG["foundry"]["evm_version"] == "berlin"
    assert APE_CONFIG["ethereum"]["local"]["default_transaction_type"] == 0


def test_bridge_answers_like_native_solc():
    out = subprocess.run([str(BRIDGE), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {SOLC_VERSION}+commit." in out


def test_py_solc_x_finds_the_bridge_without_downloading():
    import solcx

    assert str(SOLC_VERSION) in {str(v) for v in solcx.get_installed_solc_versions()}


def test_bridge_resolves_openzeppelin_imports_and_honours_the_evm_version():
    berlin = compile_with_bridge("berlin")
    assert not [e for e in berlin.get("errors", []) if e["severity"] == "error"], berlin.get("errors")
    code = berlin["contracts"]["Store.sol"]["Store"]["evm"]["deployedBytecode"]["object"]
    assert code and PUSH0 not in opcodes(code)
    # The same source for shanghai does use PUSH0: the setting really reaches the compiler.
    shanghai = compile_with_bridge("shanghai")
    code = shanghai["contracts"]["Store.sol"]["Store"]["evm"]["deployedBytecode"]["object"]
    assert PUSH0 in opcodes(code)


@pytest.mark.parametrize(
    "name",
    [
        "Constitution",
        "AssetRegistry",
        "OrderBook",
        "OperatorAgreement",
        "CustomerRegistry",
        "EscrowPayment",
        "VendorSettlement",
    ],
)
def test_deployable_contracts_fit_the_eip170_size_limit(name):
    build = json.loads((ROOT / ".build" / "__local__.json").read_text())
    runtime = build["contractTypes"][name]["runtimeBytecode"]["bytecode"]
    size = len(runtime.removeprefix("0x")) // 2
    assert 0 < size <= 24_576, f"{name} runtime is {size} bytes"


def test_the_project_build_was_compiled_for_berlin_with_the_optimizer():
    # (PUSH0 cannot be searched for in a large runtime: data sections follow the code. That the
    # code runs on a berlin chain is shown by every SDK test, which deploys on anvil --hardfork berlin.)
    build = json.loads((ROOT / ".build" / "__local__.json").read_text())
    for compiler in build["compilers"]:
        assert compiler["settings"]["evmVersion"] == "berlin"
        assert compiler["settings"]["optimizer"]["enabled"] is True
        assert compiler["version"].startswith(SOLC_VERSION + "+")


def test_node_tools_are_pinned_exactly():
    for name, version in PACKAGE["dependencies"].items():
        assert version[0].isdigit(), f"{name} is not pinned to an exact version: {version}"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == PACKAGE["dependencies"]
