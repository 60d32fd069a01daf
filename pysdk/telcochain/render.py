"""Errors in plain words: the one layer that turns any error into the single line the CLI prints.

A decoded contract revert (:class:`~telcochain.errors.ContractRevert`) is rendered from its ABI
declaration: every parameter is shown by its type, not by a hand list per error —

* ``enum`` parameters (the ABI's ``internalType``) by the SDK enum's name: ``from=Planned``;
* ``address`` parameters by the member's or the contract's name when a client is at hand;
* ``bytes32`` ids as text when they are text (``'ONT-7'``), else 0x-hex;
* amounts (``amount``, ``balance``, ``needed``...) with the token's decimals and symbol;
* timestamps (``deadline``, ``dueDate``...) as UTC dates, windows as days;

followed, where one is known, by what it means and the next step:
``AssetInvalidTransition(assetId='ONT-7', from=PendingInstallation, to=Active): ONT-7 is
PendingInstallation: the vendor must deliver it first``.

Other errors (SDK errors, files, the operating system) are one line too; :func:`render` never
raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from enum import IntEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from telcochain.errors import ContractRevert, PermissionDenied, TelcochainError

if TYPE_CHECKING:
    from telcochain.client import Client


def _enums() -> dict[str, type[IntEnum]]:
    """ABI ``internalType`` of an enum -> the SDK enum mirroring it."""
    from telcochain.agreement import InvoiceStatus, MacdKind, Pending
    from telcochain.assets import AssetState
    from telcochain.constitution import DenyReason, ProposalStatus
    from telcochain.orders import ChangePolicy, ItemAction, OrderState

    return {
        "enum AssetLifecycle.State": AssetState,
        "enum OrderLifecycle.State": OrderState,
        "enum IConstitution.DenyReason": DenyReason,
        "enum IConstitution.ProposalStatus": ProposalStatus,
        "enum IEscrowPayment.Status": InvoiceStatus,
        "enum IOperatorAgreement.Pending": Pending,
        "enum IOperatorAgreement.MacdKind": MacdKind,
        "enum OrderLifecycle.ChangePolicy": ChangePolicy,
        "enum OrderLifecycle.ItemAction": ItemAction,
    }


#: ``uint8`` parameters the contracts declare without their enum type: (error, parameter) -> enum type.
_UNTYPED_ENUMS = {
    ("AgreementDuplicateInstallation", "state"): "enum AssetLifecycle.State",
    ("AgreementInvalidAssetState", "state"): "enum AssetLifecycle.State",
    ("AgreementNotFunded", "status"): "enum IEscrowPayment.Status",
    ("AgreementUnknownKind", "kind"): "enum IOperatorAgreement.MacdKind",
    ("ChangeOrdered", "kind"): "enum IOperatorAgreement.MacdKind",
    ("ChangesOrdered", "kind"): "enum IOperatorAgreement.MacdKind",
    ("InstallationWithdrawn", "state"): "enum AssetLifecycle.State",
}

#: Integer parameters holding token amounts (base units).
_AMOUNTS = {"amount", "balance", "needed", "allowance", "available", "charge", "credit", "credited", "reclaimed"}
#: Integer parameters holding unix timestamps.
_TIMES = {"deadline", "dueDate", "reclaimableAt", "dueAt", "validFrom", "validUntil", "fundedAt", "paidAt"}
#: Integer parameters holding durations in seconds.
_DURATIONS = {"window"}


@cache
def error_inputs() -> dict[str, list[dict[str, Any]]]:
    """Solidity error name -> its ABI inputs (name, type, internalType), over the shipped ABIs."""
    from telcochain.abi import shipped_abis

    found: dict[str, list[dict[str, Any]]] = {}
    for abi in shipped_abis().values():
        for item in abi:
            if item.get("type") == "error":
                found.setdefault(item["name"], list(item.get("inputs", [])))
    return found


def _term_name(field: object) -> str:
    """An ``AgreementInvalidTerm`` field in words: ``macd<k>`` names MACD kind k's tariff."""
    from telcochain.agreement import MacdKind

    raw = field if isinstance(field, bytes) else str(field).encode()
    name = raw.rstrip(b"\0").decode(errors="replace")
    if name.startswith("macd") and name[4:].isdigit():
        k = int(name[4:])
        return f"{MacdKind(k).name.lower()} tariff" if k < len(MacdKind) else f"MACD kind {k} tariff"
    return name


def enum_label(member: IntEnum) -> str:
    """An SDK enum value as the CLI shows it (its ``label``: ``PendingInstallation``, ``inProgress``,
    ``funded``), else in CamelCase like Solidity: ``NoPermission``."""
    label = getattr(member, "label", None)  # the SDK's own spelling, as the CLI shows it elsewhere
    if isinstance(label, str) and label:
        return label
    return "".join(w.capitalize() for w in member.name.split("_"))


def show_id(value: bytes) -> str:
    """A bytes32 id as text when it is text (quoted), else 0x-hex."""
    from telcochain.types import show_bytes32

    if len(value) != 32:
        return "0x" + value.hex()
    shown = show_bytes32(value)
    return shown if shown.startswith("0x") else repr(shown)


def show_date(timestamp: int) -> str:
    if not timestamp:
        return "never"
    try:
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return str(timestamp)


class Names:
    """Address and amount lookups through a client, each read once; without a client (or when
    the node is gone) everything is shown raw."""

    def __init__(self, client: Client | None, *, with_address: bool = True) -> None:
        self.client = client
        self.with_address = with_address  # "Acme Networks (0x70997970…)" or just "Acme Networks"
        self._names: dict[str, str] | None = None

    def address(self, value: str) -> str:
        if int(value, 16) == 0:
            return "nobody"
        if self._names is None:
            self._names = {}
            if self.client is not None:
                try:
                    self._names.update({m.address.lower(): m.name for m in self.client.constitution.members()})
                    for contract, entry in (self.client.deployment.contracts or {}).items():
                        address = entry.get("address") if isinstance(entry, dict) else getattr(entry, "address", None)
                        if isinstance(address, str):
                            self._names.setdefault(address.lower(), contract)
                except Exception:  # names are a nicety: never hide the error behind another one
                    pass
        name = self._names.get(value.lower())
        if not name:
            return value
        return f"{name} ({value[:10]}…)" if self.with_address else name

    def amount(self, value: int) -> str:
        if self.client is not None:
            try:
                return self.client.escrow.format(value)
            except Exception:
                pass
        return f"{value} base units"


def _value(error: str, param: dict[str, Any], value: Any, names: Names) -> str:
    name, kind = param.get("name", ""), param.get("type", "")
    internal = _UNTYPED_ENUMS.get((error, name), param.get("internalType", ""))
    enum = _enums().get(internal)
    if enum is not None and isinstance(value, str):  # raised by the SDK with the label already
        try:
            return enum_label(enum[value.upper()])
        except KeyError:
            return value
    if enum is not None and isinstance(value, int):
        try:
            return enum_label(enum(value))
        except ValueError:
            return str(value)
    if kind == "address" and isinstance(value, str):
        return names.address(value)
    if isinstance(value, bytes | bytearray):
        return show_id(bytes(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and kind.startswith(("uint", "int")):
        if name in _AMOUNTS:
            return names.amount(value)
        if name in _TIMES:
            return show_date(value)
        if name in _DURATIONS:
            return f"{value / 86400:g} days" if value % 3600 == 0 else f"{value} s"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _arguments(exc: ContractRevert) -> dict[str, Any]:
    return exc.error_args


def _plain(exc: ContractRevert, shown: dict[str, str]) -> str:
    """What the error means and what to do next, when known."""
    hint = _HINTS.get(exc.error_name)
    if hint is None:
        return ""
    try:
        return hint(exc.error_args, shown)
    except Exception:  # a hint never hides the error
        return ""


def _state_hint(args: dict[str, Any], shown: dict[str, str]) -> str:
    asset = shown.get("assetId", "the twin").strip("'")
    state = shown.get("from") or shown.get("state", "?")
    target = shown.get("to", "")
    step = _NEXT_STEP.get(state, "")
    wanted = f" (asked: {target})" if target else ""
    return f"{asset} is {state}{wanted}" + (f": {step}" if step else "")


_NEXT_STEP = {
    "Planned": "request its installation first (telcochain install request)",
    "PendingInstallation": "the vendor must deliver it first (telcochain asset transition ASSET deliver)",
    "Delivered": "the installation must be confirmed once its invoice is paid (telcochain install confirm)",
    "Active": "it is in service: order a change or a disconnection",
    "PendingChange": "confirm or cancel the open change first (telcochain macd confirm|cancel)",
    "PendingDisconnect": "confirm or cancel the disconnection first (telcochain disconnect)",
    "Inactive": "it is out of service: recover or decommission it",
    "Recovering": "the vendor must finish its recovery first",
    "Decommissioned": "it is gone for good: nothing more can happen to it",
}

_HINTS: dict[str, Callable[[dict[str, Any], dict[str, str]], str]] = {
    "AssetInvalidTransition": _state_hint,
    "AgreementInvalidAssetState": _state_hint,
    "AgreementDuplicateInstallation": lambda a, s: (
        f"{s['assetId'].strip(chr(39))} is {s['state']}: "
        + ("an installation is already open for it" if a.get("openInvoice") else "it cannot be installed in that state")
    ),
    "AssetNotFound": lambda a, s: "no such twin: check the id (telcochain asset show ID)",
    "AssetHeldByFlow": lambda a, s: (
        "the twin is held by "
        + (
            "an open order line: complete or remove the line first"
            if a.get("onLine")
            else f"its customer {s['customer']}"
        )
    ),
    "AssetNotParty": lambda a, s: "only the twin's custodian or vendor may do this",
    "AssetNotCustodian": lambda a, s: "only the twin's custodian may do this",
    "AssetSerialRequired": lambda a, s: "bind the device's serial first (telcochain asset bind-serial ASSET SERIAL)",
    "AssetSerialNeedsBinding": lambda a, s: (
        "register it without --serial, then bind the serial (telcochain asset bind-serial: it may need a vote)"
    ),
    "AssetSerialAlreadySet": lambda a, s: "the twin already has a serial: it cannot be bound again",
    "AgreementInvalidPending": lambda a, s: f"the open operation is {s['actual']}, this needs {s['expected']}",
    "AgreementUnknownService": lambda a, s: "the twin has no service under the agreement: request its installation",
    "AgreementNotOverdue": lambda a, s: (
        "the invoice is not overdue (or not this customer's): no disconnection for non-payment yet"
    ),
    "AgreementNothingToBill": lambda a, s: "the running account is empty: nothing to invoice",
    "AgreementNotFunded": lambda a, s: (
        f"invoice #{a['invoiceId']} is {s['status']}: the customer must pay it first (telcochain invoice pay)"
    ),
    "AgreementBilateralTerms": lambda a, s: (
        f"customer {s['customer']} is registered with its own terms: its operator orders for it"
        " (telcochain customer request KIND ASSET; SDK: customers.order_change)"
    ),
    "AgreementInvalidTerm": lambda a, s: f"the {_term_name(a['field'])} term is out of range ({a['value']})",
    "AgreementBatchInvalidSize": lambda a, s: f"at most {a['max']} twins per batch: split the list",
    "AssetBulkInvalidSize": lambda a, s: f"at most {a['max']} twins per batch: split the list",
    "EscrowInvalidStatus": lambda a, s: f"invoice #{a['invoiceId']} is {s['status']}: nothing to do in that state",
    "EscrowUnknownInvoice": lambda a, s: "no such invoice (telcochain invoice list)",
    "EscrowReclaimTooEarly": lambda a, s: f"the payer may reclaim it from {s['reclaimableAt']}",
    "EscrowNotPayer": lambda a, s: "only the invoice's payer may do this",
    "EscrowNotPayee": lambda a, s: "only the invoice's payee may do this",
    "ERC20InsufficientBalance": lambda a, s: f"the balance is {s['balance']}, {s['needed']} are needed",
    "ERC20InsufficientAllowance": lambda a, s: f"the allowance is {s['allowance']}, {s['needed']} are needed",
    "EscrowInsufficientCredit": lambda a, s: f"the credit available is {s['available']}",
    "ConstitutionProposalNotOpen": lambda a, s: f"proposal #{a['proposalId']} is {s['status']}: it takes no more votes",
    "ConstitutionProposalExpired": lambda a, s: f"proposal #{a['proposalId']} expired at {s['deadline']}",
    "ConstitutionUnknownProposal": lambda a, s: "no such proposal (telcochain proposal list)",
    "ConstitutionAlreadyVoted": lambda a, s: "this member has voted on it already",
    "ConstitutionNotVoter": lambda a, s: "this member is not among the proposal's voters",
    "ConstitutionMemberExists": lambda a, s: "already a member (telcochain member list)",
    "ConstitutionNameTaken": lambda a, s: f"the name is taken by {s['holder']} (names are case-insensitive)",
    "ConstitutionNotMember": lambda a, s: "not a member of the consortium",
    "ConstitutionMemberSuspended": lambda a, s: "the member is suspended",
    "ConstitutionUnknownAction": lambda a, s: "no such action (telcochain action list)",
    "OrderNotFound": lambda a, s: "no such order (telcochain order list)",
    "OrderExists": lambda a, s: "an order with this id exists already: choose another id",
    "OrderProjectExists": lambda a, s: "a project with this id exists already",
    "OrderServiceExists": lambda a, s: "the order has this service already (one line per service)",
    "OrderLineInvalidState": lambda a, s: f"the line is {s['state']}",
    "OrderNotOpen": lambda a, s: f"the order is {s['state']}: it takes no more changes",
    "OrderInvalidTransition": lambda a, s: f"{s['id'].strip(chr(39))} is {s['from']}, it cannot become {s['to']}",
    "OrderHasOpenItems": lambda a, s: (
        f"{a['openLines']} line(s) and {a['openServices']} service(s) are still open: close them first"
    ),
    "OrderOverDelivery": lambda a, s: f"only {a['available']} left to deliver on the line",
    "StockOverConsumption": lambda a, s: f"only {a['available']} left on the line",
}


def render_revert(exc: ContractRevert, client: Client | None = None) -> str:
    """``Name(param=value, ...)`` with typed values, then its meaning and next step (if known)."""
    if exc.error_name == "UnknownRevert":
        where = f" (tx {exc.tx_hash})" if exc.tx_hash else ""
        return f"reverted without a reason (malformed parameters, or a call the contract does not accept){where}"
    names = Names(client)
    inputs = {p.get("name", ""): p for p in error_inputs().get(exc.error_name, [])}
    shown: dict[str, str] = {}
    for key, value in _arguments(exc).items():
        try:
            shown[key] = _value(exc.error_name, inputs.get(key, {}), value, names)
        except Exception:
            shown[key] = str(value)
    call = f"{exc.error_name}({', '.join(f'{k}={v}' for k, v in shown.items())})"
    meaning = _plain(exc, shown)
    where = f" (tx {exc.tx_hash})" if exc.tx_hash else ""
    return f"reverted: {call}{': ' + meaning if meaning else ''}{where}"


@cache
def event_inputs() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(contract, event name) -> its ABI inputs, over the shipped ABIs."""
    from telcochain.abi import shipped_abis

    return {
        (contract, item["name"]): list(item.get("inputs", []))
        for contract, abi in shipped_abis().items()
        for item in abi
        if item.get("type") == "event"
    }


#: Event arguments too long or too raw for a one-line notification (kept in ``watch --json``).
_EVENT_SKIPPED = {"params", "policy", "terms", "wrappedKeys", "ciphertext", "trustKey", "assetIds"}


def render_event(
    contract: str, name: str, args: dict[str, Any], names: Names, actions: dict[bytes, str] | None = None
) -> str:
    """An event's arguments in words, as :func:`render_revert` shows an error's: enum names,
    member names, amounts with their token, dates, ids as text; zero refs and hashes left out."""
    inputs = {p.get("name", ""): p for p in event_inputs().get((contract, name), [])}
    shown = []
    for key, value in args.items():
        if key in _EVENT_SKIPPED:
            if isinstance(value, list | tuple):
                shown.append(f"{key}=[{len(value)}]")
            continue
        if isinstance(value, bytes | bytearray) and not any(value):
            continue  # a zero ref, hash or id: nothing to say
        if actions and isinstance(value, bytes | bytearray) and bytes(value) in actions:
            shown.append(f"{key}={actions[bytes(value)]}")
            continue
        try:
            text = _value(name, inputs.get(key, {}), value, names)
        except Exception:
            text = str(value)
        shown.append(f"{key}={text}")
    return f"{contract}.{name}({', '.join(shown)})"


def render(exc: BaseException, client: Client | None = None) -> str:
    """The one line shown for ``exc``; never raises, never spans lines."""
    try:
        if isinstance(exc, ContractRevert) and type(exc).__str__ is Exception.__str__:
            text = render_revert(exc, client)
        elif isinstance(exc, PermissionDenied):
            text = str(exc)
            try:
                caller = Names(client).address(exc.caller)
                text = text.replace(exc.caller, caller, 1)
            except Exception:
                pass
        elif isinstance(exc, TelcochainError):
            text = str(exc)
        elif isinstance(exc, json.JSONDecodeError):
            text = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        elif isinstance(exc, UnicodeDecodeError):
            text = "not a text file (it is not UTF-8)"
        elif isinstance(exc, OSError):
            where = f"{exc.filename}: " if exc.filename else ""
            text = f"{where}{exc.strerror or exc}"
        else:
            text = f"unexpected {type(exc).__name__}: {exc}"
    except Exception as failure:  # the last resort: still one line
        text = f"{type(exc).__name__}: {exc} (and rendering failed: {failure!r})"
    return " ".join(text.split()) or type(exc).__name__
