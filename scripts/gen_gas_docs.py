"""The docs' gas figures, from their one source: docs/gas.json.

docs/gas.json holds every gas figure docs/*.md quotes: the receipt ``gasUsed`` of one call (or a
batch's figure per asset) on a fresh deployment (anvil, Berlin, gas price 0, legacy transactions),
each with its label and the test that measures it (``tests/contracts/gas_figures.py``). Those
tests fail when a fresh measurement differs from the file by more than its tolerance (0.5 %).

In docs/*.md this script writes:

- **tables** between ``<!-- generated:gas GROUP -->`` and ``<!-- /generated:gas -->``: one row per
  figure ``GROUP.name`` (label, gas; a figure ``GROUP.name.module`` fills a "module frame"
  column);
- **inline figures** between ``<!--gas:EXPR-->`` and ``<!--/gas-->``, EXPR being ``KEY``,
  ``KEY-KEY`` (a signed difference) or ``KEY/KEY`` (a ratio), with an optional format after a
  colon: none (``104,463``), ``k`` (``104.5k``), ``pct`` (a ratio as ``+0.5 %``), ``x`` (a
  ratio as ``3.0x``).

python scripts/gen_gas_docs.py            # rewrite the docs' gas tables and figures from docs/gas.json
python scripts/gen_gas_docs.py --check    # exit 1 if one is stale or names a figure the file lacks
python scripts/gen_gas_docs.py --measure  # run the gas tests, write a new docs/gas.json, then render
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DATA = DOCS / "gas.json"

#: The tests that measure the figures, in the order their figures appear in docs/gas.json.
GAS_TESTS = [
    "tests/contracts/test_gas_report.py",
    "tests/contracts/visibility/test_vault.py::test_gas_of_a_disclosure",
    "tests/contracts/assets/test_gas.py",
    "tests/contracts/agreement/test_gas.py::test_gas_report",
    "tests/contracts/agreement/test_gas.py::test_gas_report_billing",
    "tests/contracts/agreement/test_customers.py::test_gas_of_customer_operations",
    "tests/contracts/agreement/test_bulk_bilateral.py::test_gas_of_a_bulk_order_of_100_for_a_registered_customer",
    "tests/contracts/agreement/test_bilateral_billing.py::test_a_non_member_pays_its_invoices_directly",
    "tests/contracts/agreement/test_bilateral_billing.py"
    "::test_a_non_member_disputes_a_partly_paid_bill_directly_and_its_operator_resolves_it",
    "tests/contracts/agreement/test_bilateral_billing.py::test_a_non_member_takes_its_credit_out_directly",
    "tests/contracts/orders/test_gas.py",
]
MEASURE_ENV = "TELCOCHAIN_GAS_MEASURE"  # tests/contracts/gas_figures.py reads it

TABLE = re.compile(r"(<!-- generated:gas ([\w,]+) -->\n)(.*?)(<!-- /generated:gas -->)", re.S)
INLINE = re.compile(r"(<!--gas:([\w.]+)(?:([-/])([\w.]+))?(?::(\w+))?-->)(.*?)(<!--/gas-->)")


class UnknownFigure(KeyError):
    """A doc names a figure docs/gas.json does not have."""


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text())
    return data


def _gas(figures: dict[str, Any], key: str) -> int:
    if key not in figures:
        raise UnknownFigure(key)
    return int(figures[key]["gas"])


def render_table(groups: list[str], data: dict[str, Any]) -> str:
    figures = data["figures"]
    keys = [k for k in figures if k.split(".")[0] in groups and k.count(".") == 1]
    if not keys:
        raise UnknownFigure(",".join(groups))
    module = any(f"{k}.module" in figures for k in keys)
    rows = ["| operation | gas | module frame |" if module else "| operation | gas |"]
    rows.append("| --- | ---: | ---: |" if module else "| --- | ---: |")
    for key in keys:
        cells = [figures[key]["label"], f"{_gas(figures, key):,}"]
        if module:
            cells.append(f"{_gas(figures, key + '.module'):,}" if f"{key}.module" in figures else "")
        rows.append("| " + " | ".join(cells) + " |")
    tests = sorted({figures[k]["test"].split("::")[0] for k in keys})
    tolerance = float(data.get("tolerance", 0.005))
    note = (
        "Generated from [docs/gas.json](gas.json) by `python scripts/gen_gas_docs.py`; measured by "
        + ", ".join(f"`{t}`" for t in tests)
        + f" (a test fails when a figure moves by more than {tolerance * 100:.1f} %)."
    )
    return "\n".join([note, "", *rows])


def render_inline(key: str, op: str | None, other: str | None, fmt: str | None, figures: dict[str, Any]) -> str:
    value = _gas(figures, key)
    if op == "/":
        ratio = value / _gas(figures, str(other))
        if fmt == "pct":
            return f"{(ratio - 1) * 100:+.1f} %"
        return f"{ratio:.1f}x"
    if op == "-":
        diff = value - _gas(figures, str(other))
        return f"{diff / 1000:+.1f}k" if fmt == "k" else f"{diff:+,}"
    return f"{value / 1000:.1f}k" if fmt == "k" else f"{value:,}"


def render_doc(text: str, data: dict[str, Any]) -> str:
    """``text`` with every gas table and inline gas figure rewritten from ``data``."""
    figures = data["figures"]
    text = TABLE.sub(lambda m: m.group(1) + render_table(m.group(2).split(","), data) + "\n" + m.group(4), text)
    return INLINE.sub(
        lambda m: m.group(1) + render_inline(m.group(2), m.group(3), m.group(4), m.group(5), figures) + m.group(7),
        text,
    )


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))]


def generated_docs(data: dict[str, Any] | None = None) -> dict[Path, str]:
    """Each page quoting a gas figure → its text as it must be."""
    data = data or load()
    out = {}
    for path in doc_pages():
        text = path.read_text()
        if TABLE.search(text) or INLINE.search(text):
            out[path] = render_doc(text, data)
    return out


def measure() -> int:
    """Run the gas tests with ``TELCOCHAIN_GAS_MEASURE`` set, then replace docs/gas.json."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "gas.json"
        env = {**os.environ, MEASURE_ENV: str(target)}
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", *GAS_TESTS]
        done = subprocess.run(command, cwd=ROOT, env=env, check=False)
        if done.returncode != 0 or not target.exists():
            print("the gas tests failed: docs/gas.json unchanged", file=sys.stderr)
            return 1
        data = json.loads(target.read_text())
    data = {
        "about": (
            "Gas of one call (receipt gasUsed, the whole transaction unless the label says otherwise; "
            "batches per asset) on a fresh deployment: anvil, Berlin, gas price 0, legacy transactions. "
            "The one source of the gas figures in docs/*.md (python scripts/gen_gas_docs.py); each figure's "
            "test fails when a fresh measurement differs by more than the tolerance. Regenerate with "
            "python scripts/gen_gas_docs.py --measure."
        ),
        **data,
    }
    DATA.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {DATA.relative_to(ROOT)} ({len(data['figures'])} figures)")
    return 0


def main() -> int:
    if "--measure" in sys.argv and measure() != 0:
        return 1
    try:
        outputs = generated_docs()
    except UnknownFigure as e:
        print(f"docs name a gas figure docs/gas.json lacks: {e.args[0]}", file=sys.stderr)
        return 1
    if "--check" in sys.argv:
        stale = [path for path, text in outputs.items() if path.read_text() != text]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run python scripts/gen_gas_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        if path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
