"""How `make test` spreads the suite over its pytest-xdist workers (tests/conftest.py's
``pytest_collection_modifyitems`` applies it)."""

from __future__ import annotations

from pathlib import Path

#: The groups that take longest, longest first (measured with ``--durations``): pytest-xdist hands
#: the groups to free workers in collection order, so these start first and no long one is left
#: to run alone at the end. A scheduling hint only: a group not named here runs after them, in
#: collection order, and nothing depends on the order.
LONGEST_FIRST = (  # seconds on a quiet 2-core machine, three workers (2026-11-30)
    "tests/sdk/test_throughput.py",  # 77
    "tests/cli/test_readme_tour.py",  # 50
    "tests/faults/test_node_faults.py",  # 50
    "tests/adversarial/test_matrix.py",  # 45
    "tests/cli/test_cli_bad_input.py",  # 41
    "tests/contracts",  # 41 (its top-level files)
    "tests/e2e/test_node_restart.py",  # 34
    "tests/contracts/orders",  # 32
    "tests/console/test_console_browser.py",  # 28
    "tests/gateway/test_fuzz.py",  # 26
    "tests/contracts/assets",  # 20
    "tests/contracts/agreement",  # 20
    "tests/index/test_cli_index.py",  # 17
    "tests/contracts/invariants",  # 16
    "tests/gateway/test_gateway_http.py",  # 11
    "tests/adversarial/test_delegates.py",  # 11
    "tests/faults/test_sender_faults.py",  # 10
)


def xdist_group_of(path: Path) -> str:
    """The pytest-xdist group of a test file: a package of tests/contracts (or its top-level
    files together), else the file itself."""
    parts = path.parts
    if parts[:2] == ("tests", "contracts"):
        return "/".join(parts[:3]) if len(parts) > 3 else "tests/contracts"
    return path.as_posix()
