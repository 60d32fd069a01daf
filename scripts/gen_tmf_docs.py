"""The TMF gateway's state tables in docs/tmf.md and docs/tmf-hub.md, written from their one source,
:mod:`telcochain.gateway.vocabulary` (the TM Forum vocabularies and the chain → TMF mappings).

Each table sits between ``<!-- generated:tmf-NAME -->`` and ``<!-- /generated:tmf-NAME -->``;
tests/gateway/test_vocabulary.py fails when one is stale.

python scripts/gen_tmf_docs.py          # rewrite the tables
python scripts/gen_tmf_docs.py --check  # exit 1 if one is stale
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from telcochain.gateway.outbox import APIS
from telcochain.gateway.vocabulary import (
    BILL_STATE,
    LINE_ACTION,
    ORDER_STATE,
    REQUEST_STATE,
    RESOURCE_STATES,
    SERVICE_STATE,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "tmf.md", ROOT / "docs" / "tmf-hub.md")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _camel(name: str) -> str:
    """``IN_PROGRESS`` → ``InProgress``: an SDK enum member as its Solidity enum writes it."""
    return "".join(word.capitalize() for word in name.split("_"))


def order_states() -> str:
    return _table(
        ["OrderBook state", "order / item / line `state` (TMF641)", "line item `action`", "service `state` (TMF638)"],
        [
            [_camel(chain.name), f"`{tmf}`", f"`{LINE_ACTION[chain]}`", f"`{SERVICE_STATE[chain]}`"]
            for chain, tmf in ORDER_STATE.items()
        ],
    )


def request_states() -> str:
    return _table(
        ["a twin's MACD request", "its part's `state` (TMF641)"],
        [[status.value, f"`{tmf}`"] for status, tmf in REQUEST_STATE.items()],
    )


def resource_states() -> str:
    return _table(
        ["lifecycle state", "`resourceStatus`", "`operationalState`", "`administrativeState`", "`usageState`"],
        [[chain.label, *map(str, states)] for chain, states in RESOURCE_STATES.items()],
    )


def bill_states() -> str:
    return _table(["escrow status", "`state` (TMF678)"], [[s.label, str(tmf)] for s, tmf in BILL_STATE.items()])


def hubs() -> str:
    rows = [[f"`/{api}/v4/hub`", ", ".join(f"`{t}`" for t in types)] for api, types in APIS.items()]
    return _table(["hub", "event types"], [*rows, ["`/hub`", "all of the above"]])


TABLES: dict[str, Callable[[], str]] = {
    "order-states": order_states,
    "request-states": request_states,
    "resource-states": resource_states,
    "bill-states": bill_states,
    "hubs": hubs,
}
_MARKED = re.compile(r"(<!-- generated:tmf-([\w-]+) -->\n)(.*?)(<!-- /generated:tmf-\2 -->)", re.S)


def render_doc(text: str) -> str:
    """``text`` with every marked table written again (an unknown name is a KeyError)."""
    return _MARKED.sub(lambda m: m.group(1) + TABLES[m.group(2)]() + m.group(4), text)


def main(argv: list[str]) -> int:
    stale = []
    for path in DOCS:
        text = path.read_text()
        fresh = render_doc(text)
        if fresh != text:
            stale.append(path.relative_to(ROOT))
            if "--check" not in argv:
                path.write_text(fresh)
    if "--check" in argv and stale:
        print(f"stale TMF tables in {', '.join(map(str, stale))}: run python scripts/gen_tmf_docs.py")
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
