"""The TM Forum vocabularies the gateway speaks, and every chain → TMF state mapping.

One place: each TMF value set the gateway writes (or takes) is a :class:`~enum.StrEnum` here,
with the published specification it comes from; each mapping from a chain state (the SDK's
enums, themselves checked against the contracts) to a TMF one is a table keyed by the SDK enum.
The API modules, the hub's outbox and the docs tables (``scripts/gen_tmf_docs.py``) use these;
tests/gateway/test_vocabulary.py checks that each table covers its chain enum, that the value
sets are the specifications', and that no TMF state is written as a literal anywhere else.

Specifications (tmforum-apis on GitHub):

- TMF641 Service Ordering 4.0.0 (``TMF641-Service_Ordering-v4.0.0.swagger.json``);
- TMF639 Resource Inventory Management 4.0.0 (``TMF639-ResourceInventory-v4.0.0.swagger.json``);
- TMF638 Service Inventory Management 4.0.0 (``TMF638-ServiceInventory-v4.0.0.swagger.json``);
- TMF678 Customer Bill Management 4.0.0 (``TMF678-CustomerBill-v4.0.0.swagger.json``), and
  5.0.0 (``TMF678-CustomerBill-v5.0.0.oas.yaml``) for its events, which 4.0.0's document lacks.

The event types are those of each API's notifications, delivered by the TMF688 hub.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from telcochain.assets import AssetState
from telcochain.billing import InvoiceStatus
from telcochain.index.schema import RequestStatus
from telcochain.macd_kinds import MacdKind
from telcochain.orders import ItemAction, OrderState

# -- TMF641 Service Ordering 4.0.0 ------------------------------------------------------------


class ServiceOrderState(StrEnum):
    """TMF641 4.0.0 ``ServiceOrderStateType`` (``ServiceOrderItemStateType`` has the same values):
    the state of a ``ServiceOrder`` and of a ``ServiceOrderItem``."""

    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    PENDING = "pending"
    HELD = "held"
    IN_PROGRESS = "inProgress"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL = "partial"
    ASSESSING_CANCELLATION = "assessingCancellation"
    PENDING_CANCELLATION = "pendingCancellation"


class OrderItemAction(StrEnum):
    """TMF641 4.0.0 ``OrderItemActionType``: the ``action`` of a ``ServiceOrderItem``."""

    ADD = "add"
    MODIFY = "modify"
    DELETE = "delete"
    NO_CHANGE = "noChange"


class TaskState(StrEnum):
    """TMF641 4.0.0 ``TaskStateType``: the ``state`` of a ``CancelServiceOrder`` task."""

    ACCEPTED = "accepted"
    TERMINATED_WITH_ERROR = "terminatedWithError"
    IN_PROGRESS = "inProgress"
    DONE = "done"


# -- TMF638 Service Inventory 4.0.0 -----------------------------------------------------------


class ServiceState(StrEnum):
    """TMF638 4.0.0 ``ServiceStateType`` (TMF641's ``ServiceStateType`` is the same):
    the ``state`` of a ``Service``."""

    FEASIBILITY_CHECKED = "feasibilityChecked"
    DESIGNED = "designed"
    RESERVED = "reserved"
    INACTIVE = "inactive"
    ACTIVE = "active"
    TERMINATED = "terminated"


# -- TMF639 Resource Inventory 4.0.0 ----------------------------------------------------------


class ResourceStatus(StrEnum):
    """TMF639 4.0.0 ``ResourceStatusType``: a ``Resource``'s ``resourceStatus``."""

    STANDBY = "standby"
    ALARM = "alarm"
    AVAILABLE = "available"
    RESERVED = "reserved"
    UNKNOWN = "unknown"
    SUSPENDED = "suspended"


class OperationalState(StrEnum):
    """TMF639 4.0.0 ``ResourceOperationalStateType``: a ``Resource``'s ``operationalState``."""

    ENABLE = "enable"
    DISABLE = "disable"


class AdministrativeState(StrEnum):
    """TMF639 4.0.0 ``ResourceAdministrativeStateType``: a ``Resource``'s ``administrativeState``."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    SHUTDOWN = "shutdown"


class UsageState(StrEnum):
    """TMF639 4.0.0 ``ResourceUsageStateType``: a ``Resource``'s ``usageState``."""

    IDLE = "idle"
    ACTIVE = "active"
    BUSY = "busy"


# -- TMF678 Customer Bill 4.0.0 ---------------------------------------------------------------


class CustomerBillState(StrEnum):
    """TMF678 4.0.0 ``stateValue`` (5.0.0 ``CustomerBillStateType``, same values): a
    ``CustomerBill``'s ``state``."""

    NEW = "new"
    ON_HOLD = "onHold"
    VALIDATED = "validated"
    SENT = "sent"
    PARTIALLY_PAID = "partiallyPaid"
    SETTLED = "settled"


class BillTaskState(StrEnum):
    """TMF678 4.0.0 ``StateValues`` (the ``CustomerBillOnDemand`` task's states; 5.0.0
    ``CustomerBillOnDemandStateType``): the ``state`` of the gateway's ``PayCustomerBill`` task."""

    IN_PROGRESS = "inProgress"
    REJECTED = "rejected"
    DONE = "done"
    TERMINATED_WITH_ERROR = "terminatedWithError"


# -- events (each API's notifications, TMF688 hub) --------------------------------------------


class EventType(StrEnum):
    """The event types the hub delivers, each one of its API's notifications: TMF641 4.0.0,
    TMF639 4.0.0, TMF638 4.0.0, TMF678 5.0.0 (see :data:`EVENT_API`)."""

    SERVICE_ORDER_CREATE = "ServiceOrderCreateEvent"
    SERVICE_ORDER_STATE_CHANGE = "ServiceOrderStateChangeEvent"
    SERVICE_ORDER_ATTRIBUTE_VALUE_CHANGE = "ServiceOrderAttributeValueChangeEvent"
    SERVICE_STATE_CHANGE = "ServiceStateChangeEvent"
    RESOURCE_CREATE = "ResourceCreateEvent"
    RESOURCE_STATE_CHANGE = "ResourceStateChangeEvent"
    RESOURCE_ATTRIBUTE_VALUE_CHANGE = "ResourceAttributeValueChangeEvent"
    CUSTOMER_BILL_CREATE = "CustomerBillCreateEvent"
    CUSTOMER_BILL_STATE_CHANGE = "CustomerBillStateChangeEvent"


E = EventType
#: The API (its path prefix, as the hub serves it) each event type belongs to.
EVENT_API: dict[EventType, str] = {
    E.SERVICE_ORDER_CREATE: "serviceOrdering",
    E.SERVICE_ORDER_STATE_CHANGE: "serviceOrdering",
    E.SERVICE_ORDER_ATTRIBUTE_VALUE_CHANGE: "serviceOrdering",
    E.SERVICE_STATE_CHANGE: "serviceInventory",
    E.RESOURCE_CREATE: "resourceInventoryManagement",
    E.RESOURCE_STATE_CHANGE: "resourceInventoryManagement",
    E.RESOURCE_ATTRIBUTE_VALUE_CHANGE: "resourceInventoryManagement",
    E.CUSTOMER_BILL_CREATE: "customerBillManagement",
    E.CUSTOMER_BILL_STATE_CHANGE: "customerBillManagement",
}

# -- chain → TMF: the mappings ----------------------------------------------------------------
#
# Each table is keyed by every member of its SDK enum but ``NONE``, where the enum has one (the
# contracts' "does not exist", never a stored or emitted state); tests/gateway/test_vocabulary.py
# enforces it.

OS, SO = OrderState, ServiceOrderState
#: An order's, a service item's and a device line's OrderBook state as TMF641's (the OrderBook's
#: states are TMF641's, one for one).
ORDER_STATE: dict[OrderState, ServiceOrderState] = {
    OS.ACKNOWLEDGED: SO.ACKNOWLEDGED,
    OS.REJECTED: SO.REJECTED,
    OS.PENDING: SO.PENDING,
    OS.HELD: SO.HELD,
    OS.IN_PROGRESS: SO.IN_PROGRESS,
    OS.CANCELLED: SO.CANCELLED,
    OS.COMPLETED: SO.COMPLETED,
    OS.FAILED: SO.FAILED,
    OS.PARTIAL: SO.PARTIAL,
    OS.ASSESSING_CANCELLATION: SO.ASSESSING_CANCELLATION,
    OS.PENDING_CANCELLATION: SO.PENDING_CANCELLATION,
}
#: TMF641 state → the OrderBook's (what ``PATCH {"state": ...}`` and ``?state=`` name).
ORDER_STATE_OF: dict[ServiceOrderState, OrderState] = {tmf: chain for chain, tmf in ORDER_STATE.items()}
#: The order states a ``PATCH`` may not move to: cancelling is the ``cancelServiceOrder`` task.
CANCELLATION_STATES = frozenset({SO.CANCELLED, SO.ASSESSING_CANCELLATION, SO.PENDING_CANCELLATION})
#: The order states with nothing left to cancel.
CLOSED_STATES = frozenset({SO.CANCELLED, SO.COMPLETED, SO.REJECTED, SO.FAILED, SO.PARTIAL})

A = OrderItemAction
#: A service item's revision action as TMF641's item ``action``.
ITEM_ACTION: dict[ItemAction, OrderItemAction] = {
    ItemAction.ADD: A.ADD,
    ItemAction.MODIFY: A.MODIFY,
    ItemAction.DELETE: A.DELETE,
    ItemAction.NO_CHANGE: A.NO_CHANGE,
}
#: A device line's ``action`` by its state: ``delete`` once cancelled, ``add`` otherwise.
LINE_ACTION: dict[OrderState, OrderItemAction] = {
    state: A.DELETE if state is OS.CANCELLED else A.ADD for state in ORDER_STATE
}

#: A MACD kind as the ``action`` of its order item: ``delete`` for the MACD delete, ``modify``
#: (with the characteristic ``macdKind``) for every other kind.
MACD_ACTION: dict[MacdKind, OrderItemAction] = {
    kind: A.DELETE if kind is MacdKind.DELETE else A.MODIFY for kind in MacdKind
}

SV = ServiceState
#: A service item's OrderBook state as the TMF638 state of its service (the service API lists the
#: ``active`` ones; the hub's ServiceStateChangeEvent carries every one).
SERVICE_STATE: dict[OrderState, ServiceState] = {
    OS.ACKNOWLEDGED: SV.DESIGNED,
    OS.REJECTED: SV.TERMINATED,
    OS.PENDING: SV.DESIGNED,
    OS.HELD: SV.DESIGNED,
    OS.IN_PROGRESS: SV.RESERVED,
    OS.CANCELLED: SV.TERMINATED,
    OS.COMPLETED: SV.ACTIVE,
    OS.FAILED: SV.TERMINATED,
    OS.PARTIAL: SV.RESERVED,
    OS.ASSESSING_CANCELLATION: SV.DESIGNED,
    OS.PENDING_CANCELLATION: SV.DESIGNED,
}

RS = RequestStatus
#: A MACD request's status (the index's ``requests.status``) as the TMF641 state of its twin's
#: part of a MACD order; a request not indexed yet is :data:`MACD_NOT_INDEXED`.
REQUEST_STATE: dict[RequestStatus, ServiceOrderState] = {
    RS.PENDING: SO.IN_PROGRESS,
    RS.DONE: SO.COMPLETED,
    RS.CANCELLED: SO.CANCELLED,
    RS.WITHDRAWN: SO.CANCELLED,
}
MACD_NOT_INDEXED = SO.ACKNOWLEDGED


def macd_state(states: list[ServiceOrderState]) -> ServiceOrderState:
    """A MACD item's (or order's) state from its twins' (docs/tmf.md, "States")."""
    found = set(states)
    if found == {SO.COMPLETED}:
        return SO.COMPLETED
    if found == {SO.CANCELLED}:
        return SO.CANCELLED
    if SO.IN_PROGRESS in found:
        return SO.IN_PROGRESS
    if found == {MACD_NOT_INDEXED}:
        return MACD_NOT_INDEXED
    if found <= {SO.COMPLETED, SO.CANCELLED}:
        return SO.PARTIAL
    return SO.IN_PROGRESS


class ResourceStates(NamedTuple):
    """The four TMF639 states of a twin."""

    resourceStatus: ResourceStatus
    operationalState: OperationalState
    administrativeState: AdministrativeState
    usageState: UsageState


AS, R, OP, AD, U = AssetState, ResourceStatus, OperationalState, AdministrativeState, UsageState
#: A twin's lifecycle state as its TMF639 states (the table in docs/tmf.md).
RESOURCE_STATES: dict[AssetState, ResourceStates] = {
    AS.PLANNED: ResourceStates(R.STANDBY, OP.DISABLE, AD.LOCKED, U.IDLE),
    AS.PENDING_INSTALLATION: ResourceStates(R.RESERVED, OP.DISABLE, AD.LOCKED, U.IDLE),
    AS.DELIVERED: ResourceStates(R.RESERVED, OP.DISABLE, AD.UNLOCKED, U.IDLE),
    AS.ACTIVE: ResourceStates(R.AVAILABLE, OP.ENABLE, AD.UNLOCKED, U.ACTIVE),
    AS.PENDING_CHANGE: ResourceStates(R.AVAILABLE, OP.ENABLE, AD.UNLOCKED, U.BUSY),
    AS.PENDING_DISCONNECT: ResourceStates(R.AVAILABLE, OP.ENABLE, AD.SHUTDOWN, U.ACTIVE),
    AS.INACTIVE: ResourceStates(R.STANDBY, OP.DISABLE, AD.LOCKED, U.IDLE),
    AS.RECOVERING: ResourceStates(R.SUSPENDED, OP.DISABLE, AD.LOCKED, U.IDLE),
    AS.DECOMMISSIONED: ResourceStates(R.UNKNOWN, OP.DISABLE, AD.LOCKED, U.IDLE),
}
#: The states shown for a lifecycle state :data:`RESOURCE_STATES` does not name (``NONE``).
UNMAPPED = ResourceStates(R.UNKNOWN, OP.DISABLE, AD.LOCKED, U.IDLE)

IS, CB = InvoiceStatus, CustomerBillState
#: An escrow invoice's status as its TMF678 bill state (``escrowStatus`` keeps the exact one).
BILL_STATE: dict[InvoiceStatus, CustomerBillState] = {
    IS.ISSUED: CB.SENT,
    IS.FUNDED: CB.SETTLED,
    IS.RELEASED: CB.SETTLED,
    IS.REFUNDED: CB.SETTLED,
    IS.CANCELLED: CB.ON_HOLD,
}
#: The bill state shown for a status :data:`BILL_STATE` does not name (``NONE``).
BILL_UNMAPPED = CB.NEW
