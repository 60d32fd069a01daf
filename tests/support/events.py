"""Receipt events, and the strict ``reverts_with`` of ape transactions (the Constitution tests).

The module packages check reverts by ``eth_call`` instead (:mod:`tests.support.dryrun`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ape
from ape.exceptions import ContractLogicError

from tests.support.dryrun import decode_error


def events(receipt: Any, name: str) -> list[Any]:
    return [log for log in receipt.events if log.event_name == name]


def event_names(receipt: Any) -> list[str]:
    return [log.event_name for log in receipt.events]


def the_event(receipt: Any, name: str) -> Any:
    found = events(receipt, name)
    assert len(found) == 1, f"expected one {name}, got {event_names(receipt)}"
    return found[0]


def opened_id(receipt: Any) -> int:
    return int(the_event(receipt, "ProposalOpened").proposalId)


#: (name, inputs) of a revert: ape decodes most; deployments come back as raw data.
decode_revert = decode_error


@contextmanager
def reverts_with(error_name: str, **inputs: Any) -> Iterator[Any]:
    """Like ``ape.reverts`` but strict: the revert must be the named custom error, with the
    given inputs."""
    with ape.reverts() as info:
        yield info
    err = info.value
    assert isinstance(err, ContractLogicError)
    name, actual_inputs = decode_revert(err)
    assert name == error_name, f"reverted with {name}: {err}"
    for key, expected in inputs.items():
        actual = actual_inputs[key]
        if isinstance(expected, str) and isinstance(actual, str):
            assert actual.lower() == expected.lower(), (key, actual, expected)
        else:
            assert actual == expected, (key, actual, expected)


#: The gas report's rows (operation, gas, note): filled by tests/contracts/test_gas_report.py,
#: printed in the terminal summary by tests/contracts/conftest.py.
GAS_REPORT: list[tuple[str, int, str]] = []
