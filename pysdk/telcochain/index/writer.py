"""Batched writes of projection rows: per-row merging, then one statement per shape.

Handlers queue four kinds of operation:

- ``insert``: a new row of an append-only table (history, calls, charges, ...);
- ``upsert``: insert a row, or on a key conflict set the given columns;
- ``update``: set columns of the row with the given **primary key**;
- ``update_where``: set columns of every row matching a condition (a barrier, rare).

Operations on different rows commute, so only the operations on one row need their order.
:meth:`Writer.flush` therefore first **merges** the operations of each row — an update after
an upsert or an update of the same row folds into it; an upsert after an upsert folds too —
and then sends all rows of one shape as one ``executemany``, whatever their order. (The one
sequence that does not fold, an upsert after an update of the same row, keeps both in order,
in successive rounds.) A MACD load that moves a twin twenty times in one window writes it
once. Plain inserts are bulk-loaded (:func:`telcochain.index.db.bulk_insert`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, bindparam, update
from sqlalchemy.engine import Connection

from telcochain.index.db import bulk_insert
from telcochain.index.db import upsert as upsert_statement


@dataclass
class _Entry:
    kind: str  # "upsert" | "update"
    row: dict[str, Any]  # upsert: the row to insert; update: the values to set
    keys: tuple[str, ...]
    columns: set[str] = field(default_factory=set)  # upsert: set on conflict

    def shape(self) -> tuple[Any, ...]:
        if self.kind == "upsert":
            return ("upsert", tuple(sorted(self.row)), self.keys, tuple(sorted(self.columns)))
        return ("update", self.keys, tuple(sorted(c for c in self.row if c not in self.keys)))


@dataclass
class _Barrier:
    where: dict[str, Any]
    values: dict[str, Any]


class Writer:
    """Collects one window's projection operations; :meth:`flush` writes them in one go."""

    def __init__(self) -> None:
        self._inserts: dict[Table, dict[tuple[str, ...], list[dict[str, Any]]]] = {}
        self._segments: dict[Table, list[dict[tuple[Any, ...], list[_Entry]] | _Barrier]] = {}
        self.operations = 0

    def __len__(self) -> int:
        return self.operations

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self._inserts.setdefault(table, {}).setdefault(tuple(row), []).append(row)
        self.operations += 1

    def _rows(self, table: Table) -> dict[tuple[Any, ...], list[_Entry]]:
        segments = self._segments.setdefault(table, [])
        if not segments or isinstance(segments[-1], _Barrier):
            segments.append({})
        last = segments[-1]
        assert isinstance(last, dict)
        return last

    def upsert(
        self, table: Table, row: dict[str, Any], keys: Sequence[str], columns: Sequence[str] | None = None
    ) -> None:
        """Insert ``row``; on a conflict of ``keys`` set ``columns`` (default: every non-key column
        of ``row``; ``()``: leave the existing row as it is)."""
        cols = {c for c in row if c not in keys} if columns is None else set(columns)
        key = tuple(row[k] for k in keys)
        entries = self._rows(table).setdefault(key, [])
        last = entries[-1] if entries else None
        if last is not None and last.kind == "upsert":
            last.row.update({c: row[c] for c in cols})
            last.columns |= cols
        else:
            entries.append(_Entry("upsert", dict(row), tuple(keys), cols))
        self.operations += 1

    def update(self, table: Table, where: dict[str, Any], values: dict[str, Any]) -> None:
        """Set ``values`` on the row whose primary key is ``where``."""
        key = tuple(where.values())
        entries = self._rows(table).setdefault(key, [])
        last = entries[-1] if entries else None
        if last is None:
            entries.append(_Entry("update", {**where, **values}, tuple(where)))
        elif last.kind == "update":
            last.row.update(values)
        else:  # folded into the upsert: inserted with the final values, or set on conflict
            last.row.update(values)
            last.columns |= set(values)
        self.operations += 1

    def update_where(self, table: Table, where: dict[str, Any], values: dict[str, Any]) -> None:
        """Set ``values`` on every row matching ``where`` (equality on any columns)."""
        self._segments.setdefault(table, []).append(_Barrier(where, values))
        self.operations += 1

    def flush(self, connection: Connection) -> None:
        for table, shapes in self._inserts.items():
            for rows in shapes.values():
                bulk_insert(connection, table, rows)
        for table, segments in self._segments.items():
            for segment in segments:
                if isinstance(segment, _Barrier):
                    condition = and_(*(table.c[k] == v for k, v in segment.where.items()))
                    connection.execute(update(table).where(condition).values(segment.values))
                    continue
                depth = max((len(e) for e in segment.values()), default=0)
                for round_ in range(depth):  # the n-th operation of every row, grouped by shape
                    by_shape: dict[tuple[Any, ...], list[_Entry]] = {}
                    for entries in segment.values():
                        if round_ < len(entries):
                            by_shape.setdefault(entries[round_].shape(), []).append(entries[round_])
                    for shape, group in by_shape.items():
                        self._execute(connection, table, shape, group)
        self._inserts.clear()
        self._segments.clear()
        self.operations = 0

    @staticmethod
    def _execute(connection: Connection, table: Table, shape: tuple[Any, ...], group: list[_Entry]) -> None:
        if shape[0] == "upsert":
            _, _, keys, columns = shape
            connection.execute(upsert_statement(connection, table, list(keys), list(columns)), [e.row for e in group])
            return
        _, keys, columns = shape
        condition = and_(*(table.c[k] == bindparam(f"w_{k}") for k in keys))
        stmt = update(table).where(condition).values({c: bindparam(f"v_{c}") for c in columns})
        params = [{**{f"w_{k}": e.row[k] for k in keys}, **{f"v_{c}": e.row[c] for c in columns}} for e in group]
        connection.execute(stmt, params)
