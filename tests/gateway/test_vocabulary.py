"""The TMF vocabularies have one source, telcochain.gateway.vocabulary: each is the published
specification's value set, each chain → TMF table covers its SDK enum and yields only TMF values,
the gateway writes no TMF state anywhere else, and the docs' tables are generated from the tables.

No chain needed.
"""

from __future__ import annotations

import ast
import re
import sys
from enum import Enum, StrEnum
from pathlib import Path

import pytest
from telcochain.agreement import MacdKind
from telcochain.assets import AssetState
from telcochain.billing import InvoiceStatus
from telcochain.gateway import outbox
from telcochain.gateway import vocabulary as v
from telcochain.index.schema import RequestStatus
from telcochain.orders import ItemAction, OrderState

from tests.support.paths import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

import gen_tmf_docs

# -- the published value sets ------------------------------------------------------------------
# Read from the TM Forum's own OpenAPI documents (github.com/tmforum-apis/<repository>, the file
# named), in the order they list them. Written out here on purpose: a change to a vocabulary must
# be a change to this test, with the specification open.

SPEC: dict[type[StrEnum], list[str]] = {
    # TMF641_ServiceOrder / TMF641-Service_Ordering-v4.0.0.swagger.json: ServiceOrderStateType
    v.ServiceOrderState: [
        "acknowledged", "rejected", "pending", "held", "inProgress", "cancelled", "completed", "failed", "partial",
        "assessingCancellation", "pendingCancellation",
    ],
    # same file: OrderItemActionType
    v.OrderItemAction: ["add", "modify", "delete", "noChange"],
    # same file: TaskStateType (the state of CancelServiceOrder)
    v.TaskState: ["accepted", "terminatedWithError", "inProgress", "done"],
    # TMF638_ServiceInventory / TMF638-ServiceInventory-v4.0.0.swagger.json: ServiceStateType
    v.ServiceState: ["feasibilityChecked", "designed", "reserved", "inactive", "active", "terminated"],
    # TMF639_ResourceInventory / TMF639-ResourceInventory-v4.0.0.swagger.json: ResourceStatusType,
    # ResourceOperationalStateType, ResourceAdministrativeStateType, ResourceUsageStateType
    v.ResourceStatus: ["standby", "alarm", "available", "reserved", "unknown", "suspended"],
    v.OperationalState: ["enable", "disable"],
    v.AdministrativeState: ["locked", "unlocked", "shutdown"],
    v.UsageState: ["idle", "active", "busy"],
    # TMF678_CustomerBill / TMF678-CustomerBill-v4.0.0.swagger.json: stateValue (CustomerBill.state)
    v.CustomerBillState: ["new", "onHold", "validated", "sent", "partiallyPaid", "settled"],
    # same file: StateValues (CustomerBillOnDemand.state)
    v.BillTaskState: ["inProgress", "rejected", "done", "terminatedWithError"],
}  # fmt: skip
# TMF641 4.0.0: ServiceOrderItemStateType (the same set as ServiceOrderStateType, another order)
SPEC_ITEM_STATES = [
    "acknowledged", "rejected", "pending", "held", "inProgress", "cancelled", "completed", "failed",
    "assessingCancellation", "pendingCancellation", "partial",
]  # fmt: skip
# The notification event types of each API (the documents' *Event definitions, payloads aside).
SPEC_EVENTS: dict[str, list[str]] = {
    # TMF641-Service_Ordering-v4.0.0.swagger.json
    "serviceOrdering": [
        "CancelServiceOrderCreateEvent", "CancelServiceOrderInformationRequiredEvent",
        "CancelServiceOrderStateChangeEvent", "ServiceOrderAttributeValueChangeEvent", "ServiceOrderCreateEvent",
        "ServiceOrderDeleteEvent", "ServiceOrderInformationRequiredEvent", "ServiceOrderStateChangeEvent",
    ],
    # TMF638-ServiceInventory-v4.0.0.swagger.json
    "serviceInventory": [
        "ServiceAttributeValueChangeEvent", "ServiceCreateEvent", "ServiceDeleteEvent", "ServiceStateChangeEvent",
    ],
    # TMF639-ResourceInventory-v4.0.0.swagger.json
    "resourceInventoryManagement": [
        "PhysicalResourceAttributeValueChangeEvent", "PhysicalResourceCreateEvent", "PhysicalResourceDeleteEvent",
        "PhysicalResourceStateChangeEvent", "ResourceAttributeValueChangeEvent", "ResourceCreateEvent",
        "ResourceDeleteEvent", "ResourceStateChangeEvent",
    ],
    # TMF678-CustomerBill-v5.0.0.oas.yaml (the 4.0.0 document defines no event)
    "customerBillManagement": [
        "CustomerBillCreateEvent", "CustomerBillOnDemandCreateEvent", "CustomerBillOnDemandStateChangeEvent",
        "CustomerBillStateChangeEvent",
    ],
}  # fmt: skip

# -- the mappings ------------------------------------------------------------------------------
#: Each chain → TMF table of the vocabulary module: (its name, the SDK enum it covers, what it yields).
MAPPINGS: list[tuple[str, type[Enum], tuple[type[StrEnum], ...]]] = [
    ("ORDER_STATE", OrderState, (v.ServiceOrderState,)),
    ("ITEM_ACTION", ItemAction, (v.OrderItemAction,)),
    ("LINE_ACTION", OrderState, (v.OrderItemAction,)),
    ("MACD_ACTION", MacdKind, (v.OrderItemAction,)),
    ("SERVICE_STATE", OrderState, (v.ServiceState,)),
    ("REQUEST_STATE", RequestStatus, (v.ServiceOrderState,)),
    ("RESOURCE_STATES", AssetState, (v.ResourceStatus, v.OperationalState, v.AdministrativeState, v.UsageState)),
    ("BILL_STATE", InvoiceStatus, (v.CustomerBillState,)),
]


def _vocabularies() -> list[type[StrEnum]]:
    return [
        x for x in vars(v).values() if isinstance(x, type) and issubclass(x, StrEnum) and x.__module__ == v.__name__
    ]


def test_each_vocabulary_is_the_published_value_set() -> None:
    assert set(_vocabularies()) == set(SPEC) | {v.EventType}, "a vocabulary without its specification in SPEC"
    for vocabulary, published in SPEC.items():
        assert [m.value for m in vocabulary] == published, vocabulary.__name__
    assert set(SPEC_ITEM_STATES) == {m.value for m in v.ServiceOrderState}  # items share the order's states


def test_each_event_type_is_a_notification_of_its_api() -> None:
    assert set(v.EVENT_API) == set(v.EventType)
    for event_type, api in v.EVENT_API.items():
        assert event_type.value in SPEC_EVENTS[api], f"{event_type.value} is not a {api} event"
    assert tuple(e.value for e in v.EventType) == outbox.ALL_EVENT_TYPES


@pytest.mark.parametrize(("name", "chain", "_"), MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_a_mapping_covers_every_member_of_its_chain_enum(name: str, chain: type[Enum], _: object) -> None:
    """A member added to the SDK enum (so to the contract's) without a row fails here."""
    table = getattr(v, name)
    expected = {m for m in chain if m.name != "NONE"}  # NONE: "does not exist", never shown
    assert set(table) == expected, f"{name}: missing {expected - set(table)}, extra {set(table) - expected}"


@pytest.mark.parametrize(("name", "_", "vocabularies"), MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_a_mapping_yields_only_members_of_its_vocabulary(
    name: str, _: object, vocabularies: tuple[type[StrEnum], ...]
) -> None:
    for chain, value in getattr(v, name).items():
        values = tuple(value) if isinstance(value, v.ResourceStates) else (value,)
        assert len(values) == len(vocabularies), (name, chain)
        for found, vocabulary in zip(values, vocabularies, strict=True):
            assert type(found) is vocabulary, f"{name}[{chain!r}] = {found!r} is not a {vocabulary.__name__}"


def test_every_chain_to_tmf_table_of_the_module_is_checked_here() -> None:
    tables = {
        name
        for name, x in vars(v).items()
        if isinstance(x, dict) and x and all(isinstance(k, Enum) and k.__class__.__module__ != v.__name__ for k in x)
    }
    assert tables == {m[0] for m in MAPPINGS}


def test_the_defaults_and_sets_are_members_of_their_vocabulary() -> None:
    assert type(v.MACD_NOT_INDEXED) is v.ServiceOrderState
    assert type(v.BILL_UNMAPPED) is v.CustomerBillState
    tmf639 = (v.ResourceStatus, v.OperationalState, v.AdministrativeState, v.UsageState)
    assert all(type(x) is t for x, t in zip(v.UNMAPPED, tmf639, strict=True))
    assert all(type(x) is v.ServiceOrderState for x in v.CANCELLATION_STATES | v.CLOSED_STATES)
    assert {tmf: chain for chain, tmf in v.ORDER_STATE.items()} == v.ORDER_STATE_OF
    assert len(v.ORDER_STATE_OF) == len(v.ORDER_STATE)  # one for one: PATCH {"state"} names one chain state
    # the OrderBook's states are TMF641's one for one (docs/tmf.md): the SDK's labels, which the CLI
    # prints and parses, are the same words
    assert {chain: chain.label for chain in v.ORDER_STATE} == v.ORDER_STATE


# -- no copy in the gateway's code -------------------------------------------------------------

GATEWAY = ROOT / "pysdk" / "telcochain" / "gateway"
#: Strings of the gateway equal to a TMF state that are not one, each with what it is.
NOT_TMF_STATES = {
    ("api/customer_bill.py", "held"): "a bill's category (paid into an escrow hold), not an order state",
}


def _tmf_state_literals(path: Path, states: set[str]) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in states
    ]


def test_no_tmf_state_or_event_type_is_written_in_the_gateway_outside_the_vocabulary() -> None:
    """``state="inProgress"``, ``("ResourceCreateEvent", ...)``: each such copy names its file and line.
    (Item actions are not scanned: ``add`` and ``delete`` are MACD kinds too.)"""
    states = {m.value for vocabulary in SPEC if vocabulary is not v.OrderItemAction for m in vocabulary}
    states |= {m.value for m in v.EventType}
    found, scanned = [], 0
    for path in sorted(GATEWAY.rglob("*.py")):
        if path.name == "vocabulary.py":
            continue
        scanned += 1
        relative = path.relative_to(GATEWAY).as_posix()
        found += [f"{relative}:{line} {text!r}" for line, text in _tmf_state_literals(path, states)
                  if (relative, text) not in NOT_TMF_STATES]  # fmt: skip
    assert scanned > 10
    assert found == [], "TMF states written outside telcochain/gateway/vocabulary.py:\n" + "\n".join(found)


def test_the_scan_finds_a_state_written_as_a_literal(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('X = {"a": "inProgress"}\ndef f():\n    return dict(state="settled", note="in progress")\n')
    assert _tmf_state_literals(module, {"inProgress", "settled"}) == [(1, "inProgress"), (3, "settled")]


# -- the docs ----------------------------------------------------------------------------------


def test_the_docs_state_tables_are_generated_from_the_vocabulary() -> None:
    marked = set()
    for path in gen_tmf_docs.DOCS:
        text = path.read_text()
        marked |= set(re.findall(r"<!-- generated:tmf-([\w-]+) -->", text))
        assert gen_tmf_docs.render_doc(text) == text, f"{path.name} is stale: run python scripts/gen_tmf_docs.py"
    assert marked == set(gen_tmf_docs.TABLES)  # every table is in a doc


def test_a_generated_table_is_the_mapping_row_for_row() -> None:
    rows = gen_tmf_docs.resource_states().splitlines()[2:]
    assert len(rows) == len(v.RESOURCE_STATES)
    assert rows[3] == "| Active | available | enable | unlocked | active |"


SO = v.ServiceOrderState
#: docs/tmf.md's "the requests of its twins" rows, each as one set of twin states it describes.
MACD_ROWS = {
    "not indexed yet": [SO.ACKNOWLEDGED, SO.ACKNOWLEDGED],
    "any pending": [SO.IN_PROGRESS, SO.COMPLETED, SO.ACKNOWLEDGED],
    "all confirmed": [SO.COMPLETED, SO.COMPLETED],
    "all cancelled": [SO.CANCELLED],
    "confirmed and cancelled": [SO.COMPLETED, SO.CANCELLED],
}


def test_the_docs_macd_state_table_is_macd_state() -> None:
    text = (ROOT / "docs" / "tmf.md").read_text()
    table = text.split("| the requests of its twins |", 1)[1].split("\n\n", 1)[0]
    rows = dict(re.findall(r"^\| ([^|`]+?) \| `(\w+)` \|$", table, re.M))
    assert rows.keys() == MACD_ROWS.keys()
    assert {row: str(v.macd_state(states)) for row, states in MACD_ROWS.items()} == rows
