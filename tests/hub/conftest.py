"""Hub fixtures: the index fixtures (a store, PostgreSQL, the members as clients) reused."""

from __future__ import annotations

from tests.index.conftest import members, pg_store, postgres_url, store  # noqa: F401
