"""The docs' gas figures come from docs/gas.json (scripts/gen_gas_docs.py), and the contract
tests hold docs/gas.json against fresh measurements (tests/contracts/gas_figures.py): here, that
the docs are rendered from the file, that every test recording figures is one the generator
runs, that the comparison fails outside the tolerance, and that no page types a gas figure by
hand outside the markers, the history paragraphs and the benchmark page — nor a contract size
outside the generated sizes table."""

from __future__ import annotations

import re
import sys

import pytest

from tests.support.paths import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "contracts"))

from gas_figures import GasFigures
from gen_gas_docs import GAS_TESTS, INLINE, TABLE, doc_pages, generated_docs, load


def test_the_docs_gas_figures_are_rendered_from_docs_gas_json():
    stale = [str(path.relative_to(ROOT)) for path, text in generated_docs().items() if path.read_text() != text]
    assert stale == [], f"stale: {stale}; run python scripts/gen_gas_docs.py"


def test_each_figure_names_the_test_that_measures_it():
    figures = load()["figures"]
    assert figures
    for key, figure in figures.items():
        path = figure["test"].split("::")[0]
        assert any(t.split("::")[0] == path for t in GAS_TESTS), (key, path)
        assert (ROOT / path).exists(), (key, path)
        assert isinstance(figure["gas"], int) and figure["gas"] > 0, key


def test_every_test_recording_gas_figures_is_run_by_the_generator():
    users = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "tests" / "contracts").rglob("test_*.py")
        if "gas_figures()" in p.read_text()
    }
    assert users == {t.split("::")[0] for t in GAS_TESTS}


def test_a_measurement_outside_the_tolerance_fails_and_inside_passes():
    data = {"tolerance": 0.005, "figures": {"a.x": {"gas": 100_000}, "a.y": {"gas": 50_000}}}
    figures = GasFigures()
    figures("a.x", 100_499, "x")  # +0.499 %
    figures("a.y", 50_300, "y")  # +0.6 %
    figures("a.z", 1, "z")  # not in the file
    wrong = figures.mismatches(data)
    assert len(wrong) == 2
    assert wrong[0].startswith("a.y: measured 50,300, docs/gas.json says 50,000 (+300)")
    assert "a.z" in wrong[1]


# Numbers that are rules of the EVM's fee schedule or limits, not measurements of this code.
RULES = {"2,100", "2,600", "2,800", "2,900", "3,155", "5,000", "20,000", "21,000", "24,576", "30,000,000"}
#: A figure: 104,463 or ~104k; not a target (≤ 60k) nor a size in bytes.
FIGURE = re.compile(r"(?<![≤≥] )(?<![\w.,≤≥])(?:\d{1,3}(?:,\d{3})+(?![\d,])|~?\d+(?:\.\d)?k\b)(?! bytes)")
#: Pages of measurements of benchmark runs (each names its run), not figures of one call.
BENCH_PAGES = {"throughput.md", "analytics.md", "tmf.md", "tmf-hub.md", "cli.md", "json.md"}


#: How a page marks a figure as history: a "Gas history" section, a paragraph starting "History",
#: a "(History: ...)" / "(history: ...)" / "(... : history)" / "(history)" aside.
HISTORY = re.compile(r"History:|History \(|\(history[:)]|: history\)|Gas history")
ASIDE = re.compile(r"\([^()]*\)")
SENTENCE = re.compile(r"(?<=[.;])\s+")


def _paragraphs_about_gas(text: str) -> list[str]:
    """The paragraphs (and table rows) that mention gas, without the generated tables, the inline
    figures, what is marked as history (``HISTORY``) and the paragraphs quoting a benchmark run
    (naming its ``bench/`` script: measurements under load, not one call's gas)."""
    text = INLINE.sub("", TABLE.sub("", text))
    out, history = [], False
    for block in re.split(r"\n\s*\n", text):
        if block.startswith("#"):
            history = bool(HISTORY.search(block.splitlines()[0]))
        if history or block.startswith("History") or "bench/" in block:
            continue
        block = ASIDE.sub(lambda m: "" if HISTORY.search(m.group(0)) else m.group(0), block)
        pieces = block.splitlines() if block.lstrip().startswith("|") else SENTENCE.split(block)
        out += [p for p in pieces if "gas" in p.lower() and not HISTORY.search(p)]
    return out


def _hand_typed(text: str) -> list[tuple[list[str], str]]:
    """Each piece of ``text`` about gas quoting figures by hand, with those figures."""
    out = []
    for piece in _paragraphs_about_gas(text):
        numbers = [n for n in FIGURE.findall(piece) if n.lstrip("~") not in RULES]
        if numbers:
            out.append((numbers, piece))
    return out


@pytest.mark.parametrize("path", [p for p in doc_pages() if p.name not in BENCH_PAGES], ids=lambda p: p.name)
def test_no_gas_figure_is_typed_by_hand(path):
    """A line about gas quotes its figures through docs/gas.json (inline markers or a generated
    table), or is marked as history; fee-schedule constants are rules, not figures."""
    hand = [f"{numbers}: {' '.join(piece.split())[:160]}" for numbers, piece in _hand_typed(path.read_text())]
    assert hand == [], "gas figures typed by hand (use <!--gas:KEY--> from docs/gas.json):\n" + "\n".join(hand)


def test_the_scan_sees_a_hand_typed_figure_but_not_markers_history_or_rules():
    text = "\n\n".join(
        [
            "An order costs <!--gas:agreement.orderChange-->104,463<!--/gas--> gas, a cold slot 2,100.",
            "A bulk order costs 19,933 gas per asset. The rest is fine.",
            "It was cheaper (History: 95,708 gas then).",
            "## Gas history",
            "orderChange 92,318 gas.",
        ]
    )
    assert [numbers for numbers, _ in _hand_typed(text)] == [["19,933"]]


SIZES_BLOCK = re.compile(r"<!-- generated:sizes -->.*?<!-- /generated:sizes -->", re.S)
SIZE_WORDS = re.compile(r"runtime|headroom|bytecode|EIP-170|contract size", re.I)
SIZE = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\d,])|\b\d+ bytes\b")


def _hand_typed_sizes(text: str) -> list[tuple[list[str], str]]:
    """Each sentence about contract size quoting a byte count by hand (not the EIP-170 limit,
    not the generated table, not history)."""
    out = []
    for block in re.split(r"\n\s*\n", SIZES_BLOCK.sub("", text)):
        block = ASIDE.sub(lambda m: "" if HISTORY.search(m.group(0)) else m.group(0), block)
        for sentence in SENTENCE.split(block):
            if SIZE_WORDS.search(sentence) and not HISTORY.search(sentence):
                numbers = [n for n in SIZE.findall(sentence) if n not in ("24,576", "24576 bytes")]
                if numbers:
                    out.append((numbers, sentence))
    return out


@pytest.mark.parametrize("path", doc_pages(), ids=lambda p: p.name)
def test_no_contract_size_is_typed_by_hand(path):
    """Contract sizes come from the generated table (docs/concepts.md, scripts/gen_rule_docs.py):
    elsewhere a sentence about runtime size or headroom quotes no byte count but the EIP-170
    limit, unless it is marked as history."""
    hand = [
        f"{numbers}: {' '.join(sentence.split())[:160]}" for numbers, sentence in _hand_typed_sizes(path.read_text())
    ]
    assert hand == [], "contract sizes typed by hand (see the generated table in docs/concepts.md):\n" + "\n".join(hand)


def test_the_size_scan_sees_a_hand_typed_size_but_not_the_table_the_limit_or_history():
    text = "\n\n".join(
        [
            "<!-- generated:sizes -->\n| Constitution | 24,499 | 77 |\n<!-- /generated:sizes -->",
            "OperatorAgreement's runtime is 22,765 bytes (EIP-170: 24,576).",
            "Its runtime shrank (History: 1,164 bytes freed then).",
        ]
    )
    assert [numbers for numbers, _ in _hand_typed_sizes(text)] == [["22,765"]]
