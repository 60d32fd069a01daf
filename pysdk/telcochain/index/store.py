"""The index database: an engine with an up-to-date schema, and the checkpoint in ``meta``."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from telcochain.index import schema as s
from telcochain.index.db import make_engine, migrate, upsert


class IndexStore:
    """One index database (SQLite file or PostgreSQL), migrated on open."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.engine = engine if engine is not None else make_engine(url)
        self.url = self.engine.url.render_as_string(hide_password=True)
        migrate(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def meta(self, connection: Connection) -> dict[str, str]:
        return {k: v for k, v in connection.execute(select(s.meta.c.key, s.meta.c.value)).all()}

    def set_meta(self, connection: Connection, key: str, value: str) -> None:
        connection.execute(upsert(connection, s.meta, ["key"], ["value"]), [{"key": key, "value": value}])

    def set_checkpoint(self, connection: Connection, block: int, block_hash: str, timestamp: int | None = None) -> None:
        rows = [{"key": "checkpoint_block", "value": str(block)}, {"key": "checkpoint_hash", "value": block_hash}]
        if timestamp is not None:
            rows.append({"key": "checkpoint_time", "value": str(timestamp)})
        connection.execute(upsert(connection, s.meta, ["key"], ["value"]), rows)

    def clear_checkpoint(self, connection: Connection) -> None:
        keys = ["checkpoint_block", "checkpoint_hash", "checkpoint_time"]
        connection.execute(delete(s.meta).where(s.meta.c.key.in_(keys)))

    def chain_time(self, connection: Connection) -> int:
        """The timestamp of the last indexed block (0 before the first): the index's "now"."""
        value = connection.execute(select(s.meta.c.value).where(s.meta.c.key == "checkpoint_time")).scalar()
        return int(value) if value else 0

    def reset(self) -> None:
        """Forget everything indexed (the next run indexes from the deployment's first block).
        The hub's subscriptions, outbox and deliveries stay: re-derived events have the same
        ids, so a rebuild sends nothing twice."""
        with self.engine.begin() as connection:
            for table in reversed(s.metadata.sorted_tables):
                if table not in s.HUB_TABLES:
                    connection.execute(delete(table))

    def dispose(self) -> None:
        self.engine.dispose()
