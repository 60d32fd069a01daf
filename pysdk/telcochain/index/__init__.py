"""The analytics sink: every telcochain event in a database, current-state tables, queries,
reports and misuse detection.

>>> from telcochain import Client
>>> from telcochain.index import IndexStore, Follower, Queries
>>> client = Client.connect("http://127.0.0.1:8545")                 # doctest: +SKIP
>>> store = IndexStore()                     # .telcochain/index.sqlite; or "postgresql://..."
>>> Follower.for_client(store, client).catch_up()                    # doctest: +SKIP
>>> Queries(store).assets(customer="Initech Enterprise", state="Active").items  # doctest: +SKIP
>>> for alert in follow_alerts(store, follower.catch_up): print(alert)  # doctest: +SKIP

See docs/analytics.md for the schema, the guarantees and the misuse rules.

The names are loaded on first use (PEP 562): importing a submodule such as
:mod:`telcochain.index.periods` does not load SQLAlchemy, so the CLI's commands that do not read
the index start without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telcochain.index.alerts import Alert, detect, follow_alerts, load_config
    from telcochain.index.follower import Follower, IndexMismatch, StepResult
    from telcochain.index.queries import Page, Queries
    from telcochain.index.reports import Report, build_report
    from telcochain.index.store import IndexStore

#: Each exported name → the submodule that defines it.
_HOMES = {
    "Alert": "alerts",
    "detect": "alerts",
    "follow_alerts": "alerts",
    "load_config": "alerts",
    "Follower": "follower",
    "IndexMismatch": "follower",
    "StepResult": "follower",
    "Page": "queries",
    "Queries": "queries",
    "Report": "reports",
    "build_report": "reports",
    "IndexStore": "store",
}

__all__ = [
    "Alert",
    "Follower",
    "IndexMismatch",
    "IndexStore",
    "Page",
    "Queries",
    "Report",
    "StepResult",
    "build_report",
    "detect",
    "follow_alerts",
    "load_config",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
