"""Current-state tables as projections of named events.

:class:`Projector` turns decoded events (the JSON form of :mod:`telcochain.index.decode`)
into row operations on a :class:`~telcochain.index.writer.Writer`. It is deliberately
tolerant: an event it has no handler for is only kept in the raw ``events`` table; a handler
reads arguments by name and skips what an event lacks; an AssetRegistry event that carries
``assetId``, ``version`` and ``head`` advances the twin's history whatever its name, so new
history-changing events are followed without code. Facts no event carries (a device line's
state after a consumption completed it) are read from the contracts' views at the window's
last block (:meth:`Projector.refresh`), so the rows stay a function of the chain alone.

The projector keeps two small caches (a project's customer, a twin's open requests) so that
every update targets rows by primary key; they are rebuilt from the database on a miss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from telcochain.agreement import InvoiceStatus, MacdKind
from telcochain.assets import AssetState
from telcochain.billing import DisputeStatus
from telcochain.errors import TelcochainError
from telcochain.index import schema as s
from telcochain.index.schema import RequestStatus as RS
from telcochain.index.writer import Writer
from telcochain.orders import Line, OrderState
from telcochain.types import ZERO_ADDRESS

if TYPE_CHECKING:
    from telcochain.contract import Contract

ZERO32 = "0x" + "00" * 32
MACD_KINDS = {int(k): k.name.lower() for k in MacdKind}
_O = OrderState
#: OrderBook states after which an order is closed (TMF622 terminal states).
ORDER_CLOSED = {int(s) for s in (_O.REJECTED, _O.CANCELLED, _O.COMPLETED, _O.FAILED)}
#: AssetState values.
PLANNED, ACTIVE = int(AssetState.PLANNED), int(AssetState.ACTIVE)
#: OrderState values used by the line projection.
HELD, IN_PROGRESS, CANCELLED = int(_O.HELD), int(_O.IN_PROGRESS), int(_O.CANCELLED)
#: InvoiceStatus values.
_I = InvoiceStatus
ISSUED, FUNDED, RELEASED, REFUNDED = int(_I.ISSUED), int(_I.FUNDED), int(_I.RELEASED), int(_I.REFUNDED)
INVOICE_CANCELLED = int(_I.CANCELLED)

_MISSING = object()
_HISTORY_COMMON = frozenset(("assetId", "ref", "actor", "version", "head", "detailsHash"))


@dataclass(frozen=True, slots=True)
class Ev:
    """One decoded event as projections see it."""

    block: int
    log_index: int
    tx_hash: str
    at: int  # block timestamp
    contract: str
    name: str
    args: dict[str, Any]


def text_of(hex_value: str) -> str:
    """A ``bytesN`` (0x-hex) as text when it is printable padded text, else the hex."""
    raw = bytes.fromhex(hex_value[2:]).rstrip(b"\0")
    if raw and all(32 <= b < 127 for b in raw):
        return raw.decode()
    return hex_value


class Projector:
    """Maps named events to row operations (see the module docstring)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.writer = Writer()
        self.project_customer: dict[str, str | None] = {}
        self.open_requests: dict[tuple[str, str], Any] = {}  # (asset, flow) → request PK, or None
        self.stale_lines: set[str] = set()
        self.policy_of: dict[str, Any] = {}  # action → its policy id
        self.handlers: dict[str, Callable[[Ev], None]] = {
            name[3:]: getattr(self, name) for name in dir(self) if name.startswith("on_")
        }

    # -- driving -------------------------------------------------------------------------

    def apply(self, ev: Ev) -> None:
        handler = self.handlers.get(ev.name)
        if handler is not None:
            handler(ev)
        elif ev.contract == "AssetRegistry" and {"assetId", "version", "head"} <= ev.args.keys():
            self._history(ev)  # a new history-changing event: follow version and head

    def flush(self) -> None:
        self.writer.flush(self.connection)

    def refresh(self, contracts: dict[str, Contract], block: int) -> None:
        """Read the facts events do not carry from the views, as of ``block``."""
        if self.stale_lines and "OrderBook" in contracts:
            ids = sorted(self.stale_lines)
            args = [(bytes.fromhex(i[2:]),) for i in ids]
            try:
                views = contracts["OrderBook"].call_many("getLine", args, block=block)
            except TelcochainError:  # a pruned node (Besu Bonsai) has no state that old: read the newest;
                views = contracts["OrderBook"].call_many("getLine", args)  # equal by the last indexed block
            for line_id, v in zip(ids, views, strict=True):
                line = Line.from_view(v)  # the LineView struct, read field by field as the SDK does
                self.writer.update(
                    s.lines,
                    {"line_id": line_id},
                    {
                        "policy": int(line.policy),  # a revision that keeps the line sets it (Pause holds it)
                        "state": int(line.state),
                        "reserved": line.reserved,
                        "released": line.released,
                        "delivered": line.delivered,
                        "consumed": line.consumed,
                        "returned": line.returned,
                    },
                )
            self.stale_lines.clear()
            self.flush()

    # -- governance ---------------------------------------------------------------------

    def on_MemberAdded(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.members,
            {
                "address": a["account"],
                "name": a.get("name", ""),
                "trust_key": a.get("trustKey", ZERO32),
                "status": "active",
                "joined_block": ev.block,
                "joined_at": ev.at,
                "updated_block": ev.block,
            },
            ["address"],
        )

    def _member_status(self, ev: Ev, status: str) -> None:
        self.writer.update(s.members, {"address": ev.args["account"]}, {"status": status, "updated_block": ev.block})

    def on_MemberSuspended(self, ev: Ev) -> None:
        self._member_status(ev, "suspended")

    def on_MemberReinstated(self, ev: Ev) -> None:
        self._member_status(ev, "active")

    def on_TrustKeyRefreshed(self, ev: Ev) -> None:
        self.writer.update(
            s.members, {"address": ev.args["account"]}, {"trust_key": ev.args["trustKey"], "updated_block": ev.block}
        )

    def on_ActionDefined(self, ev: Ev) -> None:
        p = ev.args.get("policy") or {}
        action, policy_id = ev.args["action"], int(ev.args.get("policyId", 0))
        known = self.policy_of.get(action, _MISSING)
        if known is _MISSING:
            known = self.connection.execute(select(s.actions.c.policy_id).where(s.actions.c.action == action)).scalar()
        if known is not None and known != policy_id:  # a new policy starts with no permission
            self.writer.update_where(
                s.permissions,
                {"action": action},
                {"can_execute": False, "valid_from": 0, "valid_until": 0, "ever_granted": False}
                | {"updated_block": ev.block},
            )
        self.policy_of[action] = policy_id
        self.writer.upsert(
            s.actions,
            {
                "action": ev.args["action"],
                "name": str(p.get("name", "")),
                "policy_id": int(ev.args.get("policyId", 0)),
                "scope": int(p.get("scope", 0)),
                "module": p.get("module", ZERO_ADDRESS),
                "enabled": bool(p.get("enabled", True)),
                "voters": int(p.get("voters", 0)),
                "margin": int(p.get("margin", 0)),
                "voting_period": int(p.get("votingPeriod", 0)),
                "defined_block": ev.block,
            },
            ["action"],
        )

    def on_PermissionSet(self, ev: Ev) -> None:
        a = ev.args
        row = {
            "action": a["action"],
            "account": a["account"],
            "can_execute": bool(a["canExecute"]),
            "valid_from": int(a.get("validFrom", 0)),
            "valid_until": int(a.get("validUntil", 0)),
            "ever_granted": bool(a["canExecute"]),
            "updated_block": ev.block,
        }
        self.writer.upsert(
            s.permissions, row, ["action", "account"], ["can_execute", "valid_from", "valid_until", "updated_block"]
        )
        if row["can_execute"]:
            self.writer.update(s.permissions, {"action": a["action"], "account": a["account"]}, {"ever_granted": True})

    def on_ProposalOpened(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.proposals,
            {
                "proposal_id": int(a["proposalId"]),
                "action": a["action"],
                "ref": a["ref"],
                "proposer": a.get("proposer", ZERO_ADDRESS),
                "policy_id": int(a.get("policyId", 0)),
                "voter_count": int(a.get("voterCount", 0)),
                "required": int(a.get("required", 0)),
                "deadline": int(a.get("deadline", 0)),
                "status": "open",
                "approvals": 0,
                "rejections": 0,
                "opened_block": ev.block,
                "opened_at": ev.at,
                "decided_at": None,
            },
            ["proposal_id"],
        )

    def on_VoteCast(self, ev: Ev) -> None:
        a = ev.args
        pid = int(a["proposalId"])
        self.writer.upsert(
            s.votes,
            {
                "proposal_id": pid,
                "voter": a["voter"],
                "approve": bool(a.get("approve")),
                "veto": bool(a.get("veto")),
                "block_number": ev.block,
                "cast_at": ev.at,
            },
            ["proposal_id", "voter"],
        )
        self.writer.update(
            s.proposals,
            {"proposal_id": pid},
            {"approvals": int(a.get("approvals", 0)), "rejections": int(a.get("rejections", 0))},
        )

    def on_ProposalExecuted(self, ev: Ev) -> None:
        self.writer.update(
            s.proposals, {"proposal_id": int(ev.args["proposalId"])}, {"status": "executed", "decided_at": ev.at}
        )

    def on_ProposalRejected(self, ev: Ev) -> None:
        self.writer.update(
            s.proposals, {"proposal_id": int(ev.args["proposalId"])}, {"status": "rejected", "decided_at": ev.at}
        )

    def _call(self, ev: Ev, outcome: str, **extra: Any) -> None:
        a = ev.args
        row = {
            "block_number": ev.block,
            "log_index": ev.log_index,
            "at": ev.at,
            "caller": a["caller"],
            "action": a["action"],
            "ref": a["ref"],
            "outcome": outcome,
            "reason": None,
            "error": None,
            "proposal_id": None,
        }
        row.update(extra)
        self.writer.insert(s.calls, row)

    def on_ActionExecuted(self, ev: Ev) -> None:
        self._call(ev, "executed", proposal_id=int(ev.args.get("proposalId", 0)) or None)

    def on_ActionDenied(self, ev: Ev) -> None:
        self._call(ev, "denied", reason=int(ev.args.get("reason", 0)))

    def on_ActionReverted(self, ev: Ev) -> None:
        data = str(ev.args.get("revertData", "0x"))
        self._call(ev, "reverted", error=data[:10] if len(data) >= 10 else None)

    # -- twins -------------------------------------------------------------------------

    def _history(self, ev: Ev, **asset_values: Any) -> None:
        a = ev.args
        if ev.name == "AssetTransitioned":  # the hot path: skip the generic copy
            data: dict[str, Any] = {"from": a["from"], "to": a["to"]}
        else:
            data = {k: v for k, v in a.items() if k not in _HISTORY_COMMON}
        self.writer.insert(
            s.asset_history,
            {
                "block_number": ev.block,
                "log_index": ev.log_index,
                "asset_id": a["assetId"],
                "version": int(a["version"]),
                "change": ev.name,
                "actor": a.get("actor", ZERO_ADDRESS),
                "ref": a.get("ref", ZERO32),
                "head": a["head"],
                "details_hash": a.get("detailsHash", ZERO32),
                "at": ev.at,
                "data": data,
            },
        )
        values = {"version": int(a["version"]), "head": a["head"], "updated_block": ev.block, **asset_values}
        self.writer.update(s.assets, {"asset_id": a["assetId"]}, values)

    def on_AssetRegistered(self, ev: Ev) -> None:
        a = ev.args
        root, order = a.get("rootId", ZERO32), a.get("orderId", ZERO32)
        self.writer.upsert(
            s.assets,
            {
                "asset_id": a["assetId"],
                "kind": text_of(a.get("kind", "0x")),
                "state": PLANNED,
                "version": int(a["version"]),
                "head": a["head"],
                "serial_hash": a.get("serialHash", ZERO32),
                "custodian": a.get("actor", ZERO_ADDRESS),
                "customer": a.get("customer") if a.get("customer") != ZERO_ADDRESS else None,
                "vendor": a.get("vendor") if a.get("vendor") != ZERO_ADDRESS else None,
                "project_id": root if root != ZERO32 else None,
                "order_id": order if order != ZERO32 else None,
                "registered_block": ev.block,
                "registered_at": ev.at,
                "updated_block": ev.block,
            },
            ["asset_id"],
        )
        self._history(ev)

    def on_AssetTransitioned(self, ev: Ev) -> None:
        self._history(ev, state=int(ev.args["to"]))

    def on_AssetSerialBound(self, ev: Ev) -> None:
        self._history(ev, serial_hash=ev.args["serialHash"])

    def on_AssetLinked(self, ev: Ev) -> None:
        links = {}
        if ev.args.get("rootId", ZERO32) != ZERO32:
            links["project_id"] = ev.args["rootId"]
        if ev.args.get("orderId", ZERO32) != ZERO32:
            links["order_id"] = ev.args["orderId"]
        self._history(ev, **links)

    def on_AssetCustodyTransferred(self, ev: Ev) -> None:
        self._history(ev, custodian=ev.args["to"])

    def on_AssetPartiesChanged(self, ev: Ev) -> None:
        # the zero address is "no party" (a customer cleared when its service ended)
        parties: dict[str, Any] = {
            k: None if int(str(ev.args[k]), 16) == 0 else ev.args[k] for k in ("customer", "vendor") if k in ev.args
        }
        if {"version", "head"} <= ev.args.keys():
            self._history(ev, **parties)
        elif parties:
            self.writer.update(s.assets, {"asset_id": ev.args["assetId"]}, {**parties, "updated_block": ev.block})

    def _party(self, asset_id: str, **party: str) -> None:
        if asset_id != ZERO32:
            self.writer.update(s.assets, {"asset_id": asset_id}, party)

    # -- orders and stock ------------------------------------------------------------------

    def on_ProjectCreated(self, ev: Ev) -> None:
        a = ev.args
        self.project_customer[a["projectId"]] = a["customer"]
        self.writer.upsert(
            s.projects,
            {
                "project_id": a["projectId"],
                "customer": a["customer"],
                "ref": a["ref"],
                "actor": a.get("actor", ZERO_ADDRESS),
                "created_block": ev.block,
                "created_at": ev.at,
            },
            ["project_id"],
        )

    def _customer_of_project(self, project_id: str) -> str | None:
        found = self.project_customer.get(project_id, _MISSING)
        if found is _MISSING:
            found = self.connection.execute(
                select(s.projects.c.customer).where(s.projects.c.project_id == project_id)
            ).scalar()
            self.project_customer[project_id] = found
        return found  # type: ignore[return-value]

    def on_OrderCreated(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.orders,
            {
                "order_id": a["orderId"],
                "project_id": a["projectId"],
                "customer": self._customer_of_project(a["projectId"]),
                "state": int(_O.ACKNOWLEDGED),
                "revision": 0,
                "created_block": ev.block,
                "created_at": ev.at,
                "closed_at": None,
                "updated_block": ev.block,
            },
            ["order_id"],
        )

    def on_OrderRevised(self, ev: Ev) -> None:
        self.writer.update(
            s.orders,
            {"order_id": ev.args["orderId"]},
            {"revision": int(ev.args["revision"]), "updated_block": ev.block},
        )

    def on_OrderStateChanged(self, ev: Ev) -> None:
        to = int(ev.args["to"])
        values: dict[str, Any] = {"state": to, "updated_block": ev.block}
        if to in ORDER_CLOSED:
            values["closed_at"] = ev.at
        self.writer.update(s.orders, {"order_id": ev.args["orderId"]}, values)

    def on_ServiceItemChanged(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.services,
            {
                "order_id": a["orderId"],
                "service_id": a["serviceId"],
                "state": int(a["state"]),
                "action": int(a["action"]),
                "version": int(a["version"]),
                "updated_block": ev.block,
            },
            ["order_id", "service_id"],
        )

    def on_ServiceStateChanged(self, ev: Ev) -> None:
        a = ev.args
        self.writer.update(
            s.services,
            {"order_id": a["orderId"], "service_id": a["serviceId"]},
            {"state": int(a["to"]), "updated_block": ev.block},
        )

    def _move(self, ev: Ev, move: str, quantity: int) -> None:
        a = ev.args
        self.writer.insert(
            s.stock_moves,
            {
                "block_number": ev.block,
                "log_index": ev.log_index,
                "vendor": a["vendor"],
                "line_id": a["lineId"],
                "order_id": a["orderId"],
                "sku": text_of(a["sku"]) if "sku" in a else None,
                "move": move,
                "quantity": quantity,
                "ref": a["ref"],
                "at": ev.at,
            },
        )
        self.stale_lines.add(a["lineId"])

    def on_LineAdded(self, ev: Ev) -> None:
        a = ev.args
        row = {
            "line_id": a["lineId"],
            "order_id": a["orderId"],
            "service_id": a["serviceId"],
            "asset_id": a["assetId"],
            "vendor": a["vendor"],
            "sku": text_of(a["sku"]),
            "quantity": int(a["quantity"]),
            "policy": int(a["policy"]),
            "state": int(a["state"]),
            "reserved": int(a["reserved"]),
            "released": 0,
            "delivered": 0,
            "consumed": 0,
            "returned": 0,
            "added_at": ev.at,
            "last_delivered_at": None,
            "updated_block": ev.block,
        }
        update = ["service_id", "asset_id", "quantity", "policy", "state", "reserved", "updated_block"]
        self.writer.upsert(s.lines, row, ["line_id"], update)
        self._move(ev, "reserved", int(a["reserved"]))
        self._party(a["assetId"], vendor=a["vendor"])

    def on_LineDelivered(self, ev: Ev) -> None:
        a = ev.args
        self.writer.update(
            s.lines,
            {"line_id": a["lineId"]},
            {"delivered": int(a["delivered"]), "last_delivered_at": ev.at, "updated_block": ev.block},
        )
        self._move(ev, "delivered", int(a["quantity"]))

    def on_StockConsumed(self, ev: Ev) -> None:
        a = ev.args
        self.writer.update(
            s.lines, {"line_id": a["lineId"]}, {"consumed": int(a["consumed"]), "updated_block": ev.block}
        )
        self._move(ev, "consumed", int(a["quantity"]))

    def on_StockReturned(self, ev: Ev) -> None:
        a = ev.args
        self.writer.update(
            s.lines, {"line_id": a["lineId"]}, {"returned": int(a["returned"]), "updated_block": ev.block}
        )
        self._move(ev, "returned", int(a["quantity"]))

    def on_LineRemoved(self, ev: Ev) -> None:
        self.writer.update(s.lines, {"line_id": ev.args["lineId"]}, {"state": CANCELLED, "updated_block": ev.block})
        self._move(ev, "released", int(ev.args.get("released", 0)))

    def on_LineReplanning(self, ev: Ev) -> None:
        self.stale_lines.add(ev.args["lineId"])

    def on_LineResumed(self, ev: Ev) -> None:
        a = ev.args
        self.writer.update(
            s.lines,
            {"line_id": a["lineId"]},
            {"state": int(a["state"]), "reserved": int(a["reserved"]), "updated_block": ev.block},
        )
        self.stale_lines.add(a["lineId"])

    # -- the agreement: requests, charges, accounts -----------------------------------------

    def _open(self, ev: Ev, asset_id: str, seq: int, flow: str, kind: str, charge: int) -> None:
        a = ev.args
        self.writer.insert(
            s.requests,
            {
                "block_number": ev.block,
                "log_index": ev.log_index,
                "seq": seq,
                "asset_id": asset_id,
                "customer": a["customer"],
                "flow": flow,
                "kind": kind,
                "ref": a["ref"],
                "requester": a.get("requester"),
                "charge": str(charge),
                "status": RS.PENDING,
                "requested_at": ev.at,
                "closed_at": None,
                "closed_block": None,
            },
        )
        self.open_requests[(asset_id, flow)] = (ev.block, ev.log_index, seq)

    def _close(self, ev: Ev, asset_id: str, flow: str, status: RS) -> None:
        key = (asset_id, flow)
        pk = self.open_requests.get(key, _MISSING)
        if pk is _MISSING:
            r = s.requests.c
            row = self.connection.execute(
                select(r.block_number, r.log_index, r.seq)
                .where(r.asset_id == asset_id, r.flow == flow, r.status == RS.PENDING)
                .order_by(r.block_number.desc(), r.log_index.desc(), r.seq.desc())
                .limit(1)
            ).first()
            pk = tuple(row) if row else None
        if pk is None:
            return  # nothing open (indexing started after the request)
        self.open_requests[key] = None
        block, log_index, seq = pk
        self.writer.update(
            s.requests,
            {"block_number": block, "log_index": log_index, "seq": seq},
            {"status": status, "closed_at": ev.at, "closed_block": ev.block},
        )

    def _charge(self, ev: Ev, kind: str, amount: int, assets: int = 1) -> None:
        self.writer.insert(
            s.charges,
            {
                "block_number": ev.block,
                "log_index": ev.log_index,
                "customer": ev.args["customer"],
                "kind": kind,
                "amount": str(amount),
                "assets": assets,
                "ref": ev.args["ref"],
                "at": ev.at,
            },
        )

    def _balance(self, ev: Ev, balance: int) -> None:
        self.writer.upsert(
            s.accounts,
            {
                "customer": ev.args["customer"],
                "balance": str(balance),
                "period": 1,
                "last_invoice": None,
                "updated_block": ev.block,
            },
            ["customer"],
            ["balance", "updated_block"],
        )

    def on_InstallationRequested(self, ev: Ev) -> None:
        a = ev.args
        self._open(ev, a["assetId"], 0, "installation", "installation", int(a.get("charge", 0)))
        self._charge(ev, "installation", int(a.get("charge", 0)))
        self._party(a["assetId"], customer=a["customer"])
        self.writer.upsert(
            s.accounts,
            {"customer": a["customer"], "balance": "0", "period": 1, "last_invoice": None, "updated_block": ev.block},
            ["customer"],
            (),
        )

    def on_InstallationConfirmed(self, ev: Ev) -> None:
        self._close(ev, ev.args["assetId"], "installation", RS.DONE)

    def on_InstallationWithdrawn(self, ev: Ev) -> None:
        self._close(ev, ev.args["assetId"], "installation", RS.WITHDRAWN)

    def on_ChangeOrdered(self, ev: Ev) -> None:
        a = ev.args
        kind = MACD_KINDS.get(int(a["kind"]), str(a["kind"]))
        self._open(ev, a["assetId"], 0, "macd", kind, int(a["charge"]))
        self._charge(ev, kind, int(a["charge"]))
        self._balance(ev, int(a["balance"]))

    def on_ChangesOrdered(self, ev: Ev) -> None:
        a = ev.args
        kind = MACD_KINDS.get(int(a["kind"]), str(a["kind"]))
        ids = list(a["assetIds"])
        each = int(a["charge"]) // len(ids) if ids else 0
        for seq, asset_id in enumerate(ids):
            self._open(ev, asset_id, seq, "macd", kind, each)
        self._charge(ev, kind, int(a["charge"]), len(ids))
        self._balance(ev, int(a["balance"]))

    def on_ChangeConfirmed(self, ev: Ev) -> None:
        self._close(ev, ev.args["assetId"], "macd", RS.DONE)

    def on_ChangesConfirmed(self, ev: Ev) -> None:
        for asset_id in ev.args["assetIds"]:
            self._close(ev, asset_id, "macd", RS.DONE)

    def on_ChangeCancelled(self, ev: Ev) -> None:
        self._close(ev, ev.args["assetId"], "macd", RS.CANCELLED)

    def on_DisconnectOrdered(self, ev: Ev) -> None:
        a = ev.args
        self._open(ev, a["assetId"], 0, "disconnect", "disconnect", int(a.get("charge", 0)))

    def on_DisconnectConfirmed(self, ev: Ev) -> None:
        self._close(ev, ev.args["assetId"], "disconnect", RS.DONE)
        self._charge(ev, "disconnect", int(ev.args.get("amount", 0)))

    def on_DisconnectCancelled(self, ev: Ev) -> None:
        self._close(ev, ev.args["assetId"], "disconnect", RS.CANCELLED)

    def on_AccountBilled(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.accounts,
            {
                "customer": a["customer"],
                "balance": "0",
                "period": int(a["period"]) + 1,
                "last_invoice": int(a.get("invoiceId", 0)) or None,
                "updated_block": ev.block,
            },
            ["customer"],
        )

    # -- escrow ---------------------------------------------------------------------------

    def on_InvoiceIssued(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.invoices,
            {
                "invoice_id": int(a["invoiceId"]),
                "payer": a["payer"],
                "payee": a["payee"],
                "token": a["token"],
                "amount": str(a["amount"]),
                "credited": str(a.get("credited", 0)),
                "due_date": int(a.get("dueDate", 0)),
                "hold": bool(a.get("hold", False)),
                "subject": a.get("subject", ZERO32),
                "ref": a["ref"],
                "status": ISSUED,
                "issued_at": ev.at,
                "funded_at": None,
                "settled_at": None,
                "reclaimed": False,
                "updated_block": ev.block,
                "paid": "0",
            },
            ["invoice_id"],
        )

    def _invoice(self, ev: Ev, **values: Any) -> None:
        self.writer.update(s.invoices, {"invoice_id": int(ev.args["invoiceId"])}, {**values, "updated_block": ev.block})

    def on_InvoiceFunded(self, ev: Ev) -> None:
        self._invoice(ev, status=FUNDED, funded_at=ev.at)

    def on_InvoiceReleased(self, ev: Ev) -> None:
        self._invoice(ev, status=RELEASED, settled_at=ev.at)

    def on_InvoiceRefunded(self, ev: Ev) -> None:
        self._invoice(ev, status=REFUNDED, settled_at=ev.at, reclaimed=bool(ev.args.get("reclaimed", False)))

    def on_InvoiceCancelled(self, ev: Ev) -> None:
        self._invoice(ev, status=INVOICE_CANCELLED, settled_at=ev.at)

    # -- billing (issue 14) ------------------------------------------------------------------

    def on_InvoicePaid(self, ev: Ev) -> None:
        self._invoice(ev, paid=str(ev.args["paid"]))

    def on_InvoiceDisputed(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.disputes,
            {
                "dispute_id": int(a["disputeId"]),
                "invoice_id": int(a["invoiceId"]),
                "payer": a["payer"],
                "payee": a["payee"],
                "line": a["line"],
                "amount": str(a["amount"]),
                "reason": a["reason"],
                "credit": "0",
                "status": int(DisputeStatus.OPEN),
                "by_vote": False,
                "opened_at": ev.at,
                "resolved_at": None,
                "ref": a["ref"],
            },
            ["dispute_id"],
        )

    def on_DisputeResolved(self, ev: Ev) -> None:
        a = ev.args
        self.writer.update(
            s.disputes,
            {"dispute_id": int(a["disputeId"])},
            {"credit": str(a["credit"]), "status": 2, "by_vote": bool(a["byVote"]), "resolved_at": ev.at},
        )

    def on_RecurringAccrued(self, ev: Ev) -> None:
        self._charge(ev, "recurring", int(ev.args["amount"]))
        self._balance(ev, int(ev.args["balance"]))

    def on_ReceiptIssued(self, ev: Ev) -> None:
        a = ev.args
        self._invoice(ev, paid=str(a["amount"]))
        self.writer.upsert(
            s.receipts,
            {
                "invoice_id": int(a["invoiceId"]),
                "payer": a["payer"],
                "payee": a["payee"],
                "token": a["token"],
                "amount": str(a["amount"]),
                "ref": a["ref"],
                "paid_at": ev.at,
            },
            ["invoice_id"],
        )

    def on_CreditNoteIssued(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.credit_notes,
            {
                "note_id": int(a["noteId"]),
                "payer": a["payer"],
                "payee": a["payee"],
                "token": a["token"],
                "amount": str(a["amount"]),
                "subject": a.get("subject", ZERO32),
                "ref": a["ref"],
                "issued_at": ev.at,
            },
            ["note_id"],
        )

    # -- details vault (metadata only) ------------------------------------------------------

    def on_Disclosed(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.disclosures,
            {
                # the disclosure's id, keccak256(abi.encode(discloser, ref)): the action's own ref is
                # unique per discloser only (KeyWrapped.disclosure joins on it)
                "ref": a["disclosure"],
                "subject": a["subject"],
                "discloser": a["discloser"],
                "details_hash": a.get("detailsHash", ZERO32),
                "recipients": int(a.get("recipients", 0)),
                "disclosed_at": ev.at,
            },
            ["ref"],
        )

    def on_KeyWrapped(self, ev: Ev) -> None:
        a = ev.args
        self.writer.upsert(
            s.disclosure_keys,
            {"disclosure": a["disclosure"], "recipient": a["recipient"], "ref": a["ref"], "granted_at": ev.at},
            ["disclosure", "recipient"],
        )
