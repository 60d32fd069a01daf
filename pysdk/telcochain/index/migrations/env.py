"""Alembic environment of the index: runs on the connection :func:`telcochain.index.db.migrate` gives it."""

from __future__ import annotations

from alembic import context
from telcochain.index.schema import metadata

target_metadata = metadata
connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` command line: TELCOCHAIN_INDEX_DB or the default file
    from telcochain.index.db import make_engine

    with make_engine().begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
