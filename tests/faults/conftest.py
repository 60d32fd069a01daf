"""Fault tests start their own durable nodes: none may outlive its test, even a failed one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from .harness import NODES


@pytest.fixture(autouse=True)
def _stop_leftover_nodes() -> Iterator[None]:
    yield
    while NODES:
        node = NODES.pop()
        with contextlib.suppress(Exception):  # best effort: the test already reported what went wrong
            node.stop(timeout=30)
