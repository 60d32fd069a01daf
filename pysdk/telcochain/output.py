"""Terminal output for the CLI: rich tables for people, JSON for scripts (on stdout)."""

from __future__ import annotations

import dataclasses
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

# Piped output is not cut to 80 columns: addresses and hashes must stay whole.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
# A confirmation line carries a transaction hash: never wrapped when stderr is not a terminal.
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 1000, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, bytes and paths as plain JSON values (bytes as 0x-hex)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return str(getattr(value, "json_name", value.name.lower()))  # json_name: as the CLI's input spells it
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    click.echo(json.dumps(to_jsonable(value), indent=2))


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, no_wrap=True)
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    console.print(grid)


def pairs(title: str | None, items: list[tuple[str, Any]]) -> None:
    grid = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2, 0, 0))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in items:
        grid.add_row(key, str(value))
    console.print(grid)


def done(message: str) -> None:
    """A confirmation line (stderr, so stdout stays clean for --json)."""
    err_console.print(f"[green]✓[/green] {message}")
