"""The report periods (``telcochain report --period``): a module of its own, so that the CLI can
offer them without loading the index's database layer."""

from __future__ import annotations

#: Money and MACD volume are summed per one of these.
PERIODS = ("day", "week", "month")
