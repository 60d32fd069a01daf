"""The analytics sink: every telcochain event in a database, current-state tables, queries,
reports and misuse detection.

>>> from telcochain import Client
>>> from telcochain.index import IndexStore, Follower, Queries
>>> client = Client.connect("http://127.0.0.1:8545")                 # doctest: +SKIP
>>> store = IndexStore()                     # .telcochain/index.sqlite; or "postgresql://..."
>>> Follower.for_client(store, client).catch_up()                    # doctest: +SKIP
>>> Queries(store).assets(customer="0x...", state="Active").items    # doctest: +SKIP

See docs/analytics.md for the schema, the guarantees and the misuse rules.
"""

from __future__ import annotations

from telcochain.index.follower import Follower, IndexMismatch, StepResult
from telcochain.index.store import IndexStore

__all__ = ["Follower", "IndexMismatch", "IndexStore", "StepResult"]
