"""The gas figures the docs quote, measured by the gas tests and held against docs/gas.json.

docs/gas.json is the one source of every gas figure in docs/*.md: ``scripts/gen_gas_docs.py``
renders the docs' gas tables and inline figures from it, and the gas tests below measure each
figure again on their fresh deployment and fail when it moved by more than the file's
``tolerance`` (0.5 %: block timestamps, nonces and signatures change a few calldata bytes from
run to run; a code change that moves a figure moves it by more). A test records its figures
inside ``with gas_figures() as gas:``; ``gas(key, gas_used, label)`` returns the figure, so the
test's own bounds keep using it::

    with gas_figures() as gas:
        single = gas("agreement.orderChange", receipt.gas_used, "orderChange, single MACD with its charge")

``python scripts/gen_gas_docs.py --measure`` runs these tests with ``TELCOCHAIN_GAS_MEASURE``
naming a new data file: the figures are then written there instead of compared, and the script
replaces docs/gas.json with it and re-renders the docs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT

DATA = ROOT / "docs" / "gas.json"
MEASURE_ENV = "TELCOCHAIN_GAS_MEASURE"
TOLERANCE = 0.005


def _test_id() -> str:
    """The running test's file and name (``PYTEST_CURRENT_TEST`` without its phase)."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return current.rsplit(" ", 1)[0].split("[", 1)[0]


def load(path: Path = DATA) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


class GasFigures:
    """The figures one test measured: key → (gas, label)."""

    def __init__(self) -> None:
        self.measured: dict[str, tuple[int, str]] = {}

    def __call__(self, key: str, gas_used: int | float, label: str) -> int:
        value = round(gas_used)
        assert key not in self.measured, f"gas figure {key} recorded twice"
        self.measured[key] = (value, label)
        return value

    def write(self, path: Path) -> None:
        """Add the figures to the data file being measured (``--measure``)."""
        data = load(path) or {"tolerance": TOLERANCE, "figures": {}}
        test = _test_id()
        for key, (value, label) in self.measured.items():
            data["figures"][key] = {"gas": value, "label": label, "test": test}
        path.write_text(json.dumps(data, indent=1) + "\n")

    def mismatches(self, data: dict[str, Any]) -> list[str]:
        """Each figure that docs/gas.json lacks or states more than its tolerance away."""
        tolerance = float(data.get("tolerance", TOLERANCE))
        figures = data.get("figures", {})
        out = []
        for key, (value, _) in self.measured.items():
            if key not in figures:
                out.append(f"{key}: measured {value:,}, not in docs/gas.json")
                continue
            documented = int(figures[key]["gas"])
            if abs(value - documented) > tolerance * documented:
                out.append(f"{key}: measured {value:,}, docs/gas.json says {documented:,} ({value - documented:+,})")
        return out


def _node():
    """ape's connected provider (the contract tests' anvil), or None."""
    try:
        from ape import chain

        return chain.provider if chain.provider.is_connected else None
    except Exception:  # no ape session (the toolchain tests use GasFigures alone)
        return None


@contextmanager
def gas_figures() -> Iterator[GasFigures]:
    """Record a test's gas figures; on leaving, compare them with docs/gas.json (or write them
    to the file ``TELCOCHAIN_GAS_MEASURE`` names). Inside, the chain's clock is steady: each
    block one second after the last (``anvil_setBlockTimestampInterval``), so a scenario that
    charges by the second (recurring accruals) spends the same gas on every run, however busy
    the machine."""
    figures = GasFigures()
    node = _node()
    if node is not None:
        node.make_request("anvil_setBlockTimestampInterval", [1])
    try:
        yield figures
    finally:
        if node is not None:
            node.make_request("anvil_removeBlockTimestampInterval", [])
    target = os.environ.get(MEASURE_ENV)
    if target:
        figures.write(Path(target))
        return
    wrong = figures.mismatches(load())
    assert not wrong, (
        "gas figures moved (docs quote docs/gas.json): "
        + "; ".join(wrong)
        + ". If the change is intended: python scripts/gen_gas_docs.py --measure"
    )
