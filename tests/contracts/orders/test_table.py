"""THE transition table: the chain, the tests' mirror and docs/orders.md agree."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.orders import EDGES, St

DOC = Path(__file__).resolve().parents[3] / "docs" / "orders.md"
NAMES = {
    "acknowledged": St.ACKNOWLEDGED,
    "rejected": St.REJECTED,
    "pending": St.PENDING,
    "held": St.HELD,
    "inProgress": St.IN_PROGRESS,
    "cancelled": St.CANCELLED,
    "completed": St.COMPLETED,
    "failed": St.FAILED,
    "partial": St.PARTIAL,
    "assessingCancellation": St.ASSESSING_CANCELLATION,
    "pendingCancellation": St.PENDING_CANCELLATION,
}


def _doc_edges() -> set[tuple[St, St]]:
    text = DOC.read_text()
    section = text.split("## Transition table", 1)[1].split("\n## ", 1)[0]
    edges = set()
    for row in section.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        source = NAMES[cells[0].strip("`")]
        for target in re.findall(r"`(\w+)`", cells[1]):
            edges.add((source, NAMES[target]))
    return edges


def test_chain_table_equals_mirror(ob):
    chain = {(f, t) for f in St for t in St if ob.book.canTransition(int(f), int(t))}
    assert chain == EDGES


def test_docs_table_equals_mirror():
    assert _doc_edges() == EDGES


def test_cancelled_is_reached_only_from_pending_cancellation():
    assert {f for f, t in EDGES if t == St.CANCELLED} == {St.PENDING_CANCELLATION}
    terminal = {St.REJECTED, St.CANCELLED, St.COMPLETED, St.FAILED, St.PARTIAL}
    assert not {f for f, _ in EDGES} & (terminal | {St.NONE})
