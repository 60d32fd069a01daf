"""The ABIs the SDK ships are the ones the contract sources compile to."""

from __future__ import annotations

import sys

from tests.support.paths import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

from export_abis import compiled_abis, render
from telcochain.abi import abi_hash, load_abi, shipped_abis


def test_every_deployable_contract_has_a_shipped_abi_identical_to_the_build(project):
    project.load_contracts()  # compiles if the sources changed since the last build
    compiled = compiled_abis()
    assert set(shipped_abis()) == set(compiled), "run `make abi` and commit pysdk/telcochain/abi/"
    for name, abi in compiled.items():
        shipped = (ROOT / "pysdk" / "telcochain" / "abi" / f"{name}.json").read_text()
        assert shipped == render(abi), f"{name}.json is stale: run `make abi`"


def test_abi_hash_is_stable_and_sensitive_to_changes():
    abi = load_abi("Constitution")
    assert abi_hash(abi) == abi_hash(list(abi))
    assert abi_hash(abi) != abi_hash(abi[1:])
