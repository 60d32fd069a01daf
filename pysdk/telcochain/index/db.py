"""Opening the index database: one engine URL decides SQLite or PostgreSQL.

The schema is brought up to date with Alembic (``migrations/``) every time the index is
opened, so a newer SDK migrates an older database in place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import JSON, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from telcochain.errors import ConfigurationError

_JSON = msgspec.json.Encoder()  # ~6x json.dumps, and exact for uint256
#: The embedded default, relative to the working directory (like the local node's data).
DEFAULT_PATH = Path(".telcochain") / "index.sqlite"
MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """``$TELCOCHAIN_INDEX_DB`` or the SQLite file under ``.telcochain/``."""
    return os.environ.get("TELCOCHAIN_INDEX_DB") or f"sqlite:///{DEFAULT_PATH}"


def normalise_url(url: str) -> str:
    """``postgresql://`` means the psycopg 3 driver (the one the SDK pins)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`); SQLite in WAL mode."""
    url = normalise_url(url or default_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each commit's checkpoint
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: index inserts stay in memory longer
            cursor.close()

        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported index database {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql://")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def upsert(connection: Connection, table: Table, keys: list[str], columns: list[str]) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET columns`` (``DO NOTHING`` without columns):
    both dialects have it, spelled alike."""
    name = connection.dialect.name
    if name == "postgresql":
        stmt: Any = postgresql.insert(table)
    elif name == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - make_engine refuses others
        raise ConfigurationError(f"no upsert for {name}")
    if not columns:
        done: Insert = stmt.on_conflict_do_nothing(index_elements=keys)
        return done
    result: Insert = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in columns})
    return result


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` (all with the same keys) to ``table`` inside the connection's transaction,
    the fastest way each database offers: ``COPY`` on PostgreSQL, a prepared ``executemany`` on
    SQLite. JSON columns are serialised here; values are otherwise passed as they are."""
    if not rows:
        return
    columns = list(rows[0])
    as_json = [isinstance(table.c[c].type, JSON) for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    encode = _JSON.encode
    values = [[encode(row[c]).decode() if j else row[c] for c, j in zip(columns, as_json, strict=True)] for row in rows]
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:  # type: ignore[union-attr]
            for row_values in values:
                copy.write_row(row_values)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', [tuple(v) for v in values])
