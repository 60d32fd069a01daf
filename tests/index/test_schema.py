"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from telcochain.index import IndexStore
from telcochain.index.reports import percentile, period_of
from telcochain.index.schema import metadata


def test_the_migrations_match_the_declared_schema(tmp_path: Path) -> None:
    store = IndexStore(f"sqlite:///{tmp_path / 'm.sqlite'}")
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_opening_twice_migrates_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite'}"
    IndexStore(url).dispose()
    store = IndexStore(url)
    with store.engine.connect() as connection:
        # 0002 hub, 0003 gateway, 0004 (issue 14 billing): invoices.paid, disputes
        assert MigrationContext.configure(connection).get_current_revision() == "0004"


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (50.0, 95.0, 100.0)
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 95) == 7.0


def test_periods_are_utc_days_iso_weeks_and_months() -> None:
    t = 1_795_953_600  # 2026-11-29 12:00 UTC, a Sunday
    assert (period_of(t, "day"), period_of(t, "week"), period_of(t, "month")) == ("2026-11-29", "2026-W48", "2026-11")
