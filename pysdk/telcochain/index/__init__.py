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
"""

from __future__ import annotations

from telcochain.index.alerts import Alert, detect, follow_alerts, load_config
from telcochain.index.follower import Follower, IndexMismatch, StepResult
from telcochain.index.queries import Page, Queries
from telcochain.index.reports import Report, build_report
from telcochain.index.store import IndexStore

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
