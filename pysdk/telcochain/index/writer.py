"""Batched writes of projection rows, preserving per-row order.

Handlers queue three kinds of operation: ``insert`` (a new row of an append-only table),
``upsert`` (insert, or update the given columns on a key conflict) and ``update`` (set columns
of the rows matching equality conditions). :meth:`Writer.flush` executes them with
``executemany`` while keeping the result identical to running them one by one in stream order:

- tables are independent, so each table is flushed on its own;
- within a table, plain inserts are hoisted first (they create rows no earlier operation of
  the window could have touched), then every other operation runs in stream order, with
  consecutive operations of the same shape sent as one ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, and_, bindparam, insert, update
from sqlalchemy.engine import Connection

from telcochain.index.db import upsert as upsert_statement

Shape = tuple[str, tuple[str, ...], tuple[str, ...]]


class Writer:
    """Collects one window's projection operations; :meth:`flush` writes them in one go."""

    def __init__(self) -> None:
        self._inserts: dict[Table, dict[tuple[str, ...], list[dict[str, Any]]]] = {}
        self._ordered: dict[Table, list[tuple[Shape, dict[str, Any]]]] = {}
        self.operations = 0

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self._inserts.setdefault(table, {}).setdefault(tuple(row), []).append(row)
        self.operations += 1

    def upsert(self, table: Table, row: dict[str, Any], keys: Sequence[str], columns: Sequence[str] | None = None) -> None:
        """Insert ``row``; on a conflict of ``keys`` set ``columns`` (default: every non-key column
        of ``row``; ``()``: leave the existing row as it is)."""
        cols = tuple(c for c in row if c not in keys) if columns is None else tuple(columns)
        self._ordered.setdefault(table, []).append((("upsert", tuple(row) + ("|",) + tuple(keys), cols), row))
        self.operations += 1

    def update(self, table: Table, where: dict[str, Any], values: dict[str, Any]) -> None:
        params = {f"w_{k}": v for k, v in where.items()} | {f"v_{k}": v for k, v in values.items()}
        self._ordered.setdefault(table, []).append((("update", tuple(where), tuple(values)), params))
        self.operations += 1

    def __len__(self) -> int:
        return self.operations

    def flush(self, connection: Connection) -> None:
        for table, shapes in self._inserts.items():
            for rows in shapes.values():
                connection.execute(insert(table), rows)
        for table, operations in self._ordered.items():
            run: list[dict[str, Any]] = []
            shape: Shape | None = None
            for op_shape, params in operations:
                if op_shape != shape and run:
                    self._execute(connection, table, shape, run)  # type: ignore[arg-type]
                    run = []
                shape = op_shape
                run.append(params)
            if run:
                self._execute(connection, table, shape, run)  # type: ignore[arg-type]
        self._inserts.clear()
        self._ordered.clear()
        self.operations = 0

    @staticmethod
    def _execute(connection: Connection, table: Table, shape: Shape, rows: list[dict[str, Any]]) -> None:
        kind, first, second = shape
        if kind == "upsert":
            split = first.index("|")
            keys = list(first[split + 1 :])
            stmt = upsert_statement(connection, table, keys, list(second))
            connection.execute(stmt, rows)
        else:
            condition = and_(*(table.c[k] == bindparam(f"w_{k}") for k in first))
            stmt2 = update(table).where(condition).values({k: bindparam(f"v_{k}") for k in second})
            connection.execute(stmt2, rows)
