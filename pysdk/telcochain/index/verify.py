"""``index verify``: every indexed current-state row against the contracts' own views, and every
twin's indexed history against its on-chain head (the hash chain recomputed link by link).

Views are read at the index's checkpoint block, so a follower that is still catching up is
compared with the chain as it was where the index stands, not with a later state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak
from sqlalchemy import select

from telcochain.assets import ChangeKind
from telcochain.constitution import MemberStatus, ProposalStatus
from telcochain.contract import Contract
from telcochain.index import schema as s
from telcochain.index.follower import Follower

CHUNK = 500
#: AssetRegistry change kinds by event (as :data:`telcochain.assets._CHANGE_EVENTS`).
CHANGE_KIND = {
    "AssetRegistered": int(ChangeKind.REGISTER),
    "AssetTransitioned": int(ChangeKind.TRANSITION),
    "AssetSerialBound": int(ChangeKind.SERIAL_BIND),
    "AssetLinked": int(ChangeKind.LINK),
    "AssetCustodyTransferred": int(ChangeKind.CUSTODY_TRANSFER),
}
_P = ProposalStatus
PROPOSAL_STATUS = {  # expiry is not an event
    "open": {int(_P.OPEN), int(_P.EXPIRED), int(_P.SUPERSEDED)},
    "executed": {int(_P.EXECUTED)},
    "rejected": {int(_P.REJECTED)},
}
MEMBER_STATUS = {"active": int(MemberStatus.ACTIVE), "suspended": int(MemberStatus.SUSPENDED)}


@dataclass(frozen=True)
class Mismatch:
    """One difference between the index and the chain."""

    table: str
    key: str
    field: str
    indexed: Any
    on_chain: Any

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.field} indexed {self.indexed!r}, on chain {self.on_chain!r}"


@dataclass
class VerifyReport:
    block: int
    checked: dict[str, int]
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _b32(hex_value: str) -> bytes:
    return bytes.fromhex(hex_value[2:])


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for n in range(0, len(items), CHUNK):
        yield items[n : n + CHUNK]


def _views(contract: Contract, fn: str, args: Sequence[tuple[Any, ...]], block: int) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(args):
        out.extend(contract.call_many(fn, chunk, block=block))
    return out


def _named(contract: Contract, fn: str, value: Any) -> dict[str, Any]:
    """A struct returned by ``fn`` as a dict by component name (tolerates added fields)."""
    outputs = contract._function(fn)["outputs"]
    if len(outputs) == 1 and outputs[0]["type"] == "tuple":
        return {c["name"]: v for c, v in zip(outputs[0]["components"], value, strict=False)}
    return {o["name"] or f"_{i}": v for i, (o, v) in enumerate(zip(outputs, value, strict=False))}


def verify(follower: Follower) -> VerifyReport:
    """Compare the index with the chain at the index's checkpoint."""
    block, _ = follower.checkpoint()
    report = VerifyReport(block, {}, [])
    if block < follower.start_block:
        return report
    c = follower.bindings
    with follower.store.engine.connect() as db:
        if "Constitution" in c:
            _members(db, c["Constitution"], block, report)
            _permissions(db, c["Constitution"], block, report)
            _proposals(db, c["Constitution"], block, report)
        if "AssetRegistry" in c:
            _assets(db, c["AssetRegistry"], block, report)
        if "OrderBook" in c:
            _orders(db, c["OrderBook"], block, report)
        if "EscrowPayment" in c:
            _invoices(db, c["EscrowPayment"], block, report)
        if "OperatorAgreement" in c:
            _accounts(db, c["OperatorAgreement"], block, report)
    return report


def _compare(report: VerifyReport, table: str, key: str, pairs: Iterable[tuple[str, Any, Any]]) -> None:
    for field, indexed, on_chain in pairs:
        if isinstance(indexed, str) and isinstance(on_chain, str) and len(indexed) == 42 == len(on_chain):
            indexed, on_chain = indexed.lower(), on_chain.lower()  # addresses: checksum or not
        if indexed != on_chain:
            report.mismatches.append(Mismatch(table, key, field, indexed, on_chain))


def _members(db: Any, constitution: Contract, block: int, report: VerifyReport) -> None:
    rows = db.execute(select(s.members.c.address, s.members.c.name, s.members.c.trust_key, s.members.c.status)).all()
    views = _views(constitution, "getMember", [(r.address,) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        m = _named(constitution, "getMember", v)
        _compare(
            report,
            "members",
            r.address,
            [
                ("name", r.name, m.get("name")),
                ("trust_key", r.trust_key, _hex(m.get("trustKey", b""))),
                ("status", MEMBER_STATUS.get(r.status), int(m.get("status", 0))),
            ],
        )
    count = constitution.call("memberCount", block=block)
    _compare(report, "members", "*", [("count", len(rows), int(count))])
    report.checked["members"] = len(rows)


def _permissions(db: Any, constitution: Contract, block: int, report: VerifyReport) -> None:
    p = s.permissions.c
    rows = db.execute(select(p.action, p.account, p.can_execute, p.valid_from, p.valid_until)).all()
    views = _views(constitution, "permission", [(_b32(r.action), r.account) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        _compare(
            report,
            "permissions",
            f"{r.action[:10]}…/{r.account}",
            [
                ("can_execute", r.can_execute, bool(v[0])),
                ("valid_from", r.valid_from, int(v[1])),
                ("valid_until", r.valid_until, int(v[2])),
            ],
        )
    report.checked["permissions"] = len(rows)


def _proposals(db: Any, constitution: Contract, block: int, report: VerifyReport) -> None:
    p = s.proposals.c
    rows = db.execute(select(p.proposal_id, p.status, p.approvals, p.rejections)).all()
    views = _views(constitution, "proposal", [(r.proposal_id,) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        m = _named(constitution, "proposal", v)
        status = int(m.get("status", 0))
        _compare(
            report,
            "proposals",
            str(r.proposal_id),
            [
                ("status", r.status, r.status if status in PROPOSAL_STATUS.get(r.status, set()) else status),
                ("approvals", r.approvals, int(m.get("approvals", 0))),
                ("rejections", r.rejections, int(m.get("rejections", 0))),
            ],
        )
    count = int(constitution.call("proposalCount", block=block))
    _compare(report, "proposals", "*", [("count", len(rows), count)])
    report.checked["proposals"] = len(rows)


def _assets(db: Any, registry: Contract, block: int, report: VerifyReport) -> None:
    a = s.assets.c
    rows = db.execute(
        select(a.asset_id, a.state, a.version, a.head, a.serial_hash, a.custodian, a.customer, a.vendor)
    ).all()
    views = _views(registry, "getAsset", [(_b32(r.asset_id),) for r in rows], block)
    heads: dict[str, str] = {}
    for r, v in zip(rows, views, strict=True):
        m = _named(registry, "getAsset", v)
        pairs = [
            ("exists", True, bool(m.get("exists", True))),
            ("state", r.state, int(m["state"])),
            ("version", r.version, int(m["version"])),
            ("head", r.head, _hex(m["historyHead"])),
            ("serial_hash", r.serial_hash, _hex(m["serialHash"])),
            ("custodian", r.custodian, m["custodian"]),
        ]
        for party in ("customer", "vendor"):  # parties on the twin, once the registry has them
            if party in m:
                zero = int(m[party], 16) == 0
                pairs.append((party, getattr(r, party), None if zero else m[party]))
        _compare(report, "assets", r.asset_id, pairs)
        heads[r.asset_id] = _hex(m["historyHead"])
    report.checked["assets"] = len(rows)
    _histories(db, heads, report)


def _word(value: Any, kind: str) -> bytes:
    return abi_encode([kind], [value])


def _words(change: str, data: dict[str, Any]) -> list[bytes] | None:
    z = bytes(32)
    if change == "AssetRegistered":
        return [
            _word(_b32(data["kind"]), "bytes12"),
            _b32(data["serialHash"]),
            _b32(data["rootId"]),
            _b32(data["orderId"]),
        ]
    if change == "AssetTransitioned":
        return [_word(data["from"], "uint8"), _word(data["to"], "uint8"), z, z]
    if change == "AssetSerialBound":
        return [_b32(data["serialHash"]), z, z, z]
    if change == "AssetLinked":
        return [_b32(data["rootId"]), _b32(data["orderId"]), z, z]
    if change == "AssetCustodyTransferred":
        return [_word(data["from"], "address"), _word(data["to"], "address"), z, z]
    return None


def _histories(db: Any, heads: dict[str, str], report: VerifyReport) -> None:
    """Each twin's indexed history: versions without a gap, each head recomputed from the one
    before (known change kinds), the last equal to the chain's head."""
    h = s.asset_history.c
    rows = db.execute(
        select(h.asset_id, h.version, h.change, h.actor, h.ref, h.head, h.details_hash, h.data).order_by(
            h.asset_id, h.version, h.block_number, h.log_index
        )
    ).all()
    by_asset: dict[str, list[Any]] = {}
    for r in rows:
        by_asset.setdefault(r.asset_id, []).append(r)
    for asset, on_chain in heads.items():
        changes = by_asset.get(asset, [])
        prev = bytes(24)
        expected_version = changes[0].version if changes else 0
        for r in changes:
            if r.version != expected_version:
                report.mismatches.append(Mismatch("asset_history", asset, "version", r.version, expected_version))
                break
            expected_version += 1
            words = _words(r.change, r.data)
            if words is not None:
                encoded = abi_encode(
                    ["bytes24", "bytes32", "uint8", "uint32", "bytes32", "address", "bytes32", "bytes32[4]"],
                    [
                        prev,
                        _b32(asset),
                        CHANGE_KIND[r.change],
                        r.version,
                        _b32(r.ref),
                        r.actor,
                        _b32(r.details_hash),
                        words,
                    ],
                )
                computed = "0x" + keccak(encoded)[:24].hex()
                if computed != r.head:
                    report.mismatches.append(
                        Mismatch("asset_history", asset, f"head of v{r.version}", r.head, computed)
                    )
                    break
            prev = _b32(r.head)
        last = changes[-1].head if changes else None
        if last != on_chain:
            report.mismatches.append(Mismatch("asset_history", asset, "last head", last, on_chain))
    report.checked["asset_history"] = len(rows)


def _orders(db: Any, book: Contract, block: int, report: VerifyReport) -> None:
    o = s.orders.c
    rows = db.execute(select(o.order_id, o.state, o.revision)).all()
    views = _views(book, "getOrder", [(_b32(r.order_id),) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        m = _named(book, "getOrder", v)
        _compare(
            report,
            "orders",
            r.order_id,
            [("state", r.state, int(m["state"])), ("revision", r.revision, int(m["revision"]))],
        )
    report.checked["orders"] = len(rows)
    sv = s.services.c
    rows = db.execute(select(sv.order_id, sv.service_id, sv.state, sv.action, sv.version)).all()
    views = _views(book, "getService", [(_b32(r.order_id), _b32(r.service_id)) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        m = _named(book, "getService", v)
        _compare(
            report,
            "services",
            f"{r.order_id}/{r.service_id}",
            [
                ("state", r.state, int(m["state"])),
                ("action", r.action, int(m["action"])),
                ("version", r.version, int(m["version"])),
            ],
        )
    report.checked["services"] = len(rows)
    rows = db.execute(select(s.lines)).all()
    views = _views(book, "getLine", [(_b32(r.line_id),) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        m = _named(book, "getLine", v)
        _compare(
            report,
            "lines",
            r.line_id,
            [
                (f, getattr(r, f), int(m[f]))
                for f in ("state", "quantity", "reserved", "released", "delivered", "consumed", "returned")
            ]
            + [("vendor", r.vendor, m["vendor"])],
        )
    report.checked["lines"] = len(rows)


def _invoices(db: Any, escrow: Contract, block: int, report: VerifyReport) -> None:
    i = s.invoices.c
    rows = db.execute(
        select(i.invoice_id, i.payer, i.payee, i.amount, i.credited, i.due_date, i.status, i.hold, i.paid)
    ).all()
    views = _views(escrow, "invoice", [(r.invoice_id,) for r in rows], block)
    billing = _views(escrow, "billingOf", [(r.invoice_id,) for r in rows], block)
    for r, v, b in zip(rows, views, billing, strict=True):
        m = _named(escrow, "invoice", v)
        _compare(report, "invoices", str(r.invoice_id), [("paid", r.paid, str(_named(escrow, "billingOf", b)["paid"]))])
        _compare(
            report,
            "invoices",
            str(r.invoice_id),
            [
                ("payer", r.payer, m["payer"]),
                ("payee", r.payee, m["payee"]),
                ("amount", r.amount, str(m["amount"])),
                ("credited", r.credited, str(m["credited"])),
                ("due_date", r.due_date, int(m["dueDate"])),
                ("status", r.status, int(m["status"])),
                ("hold", r.hold, bool(m["hold"])),
            ],
        )
    count = int(escrow.call("invoiceCount", block=block))
    _compare(report, "invoices", "*", [("count", len(rows), count)])
    report.checked["invoices"] = len(rows)
    _disputes(db, escrow, block, report)


def _disputes(db: Any, escrow: Contract, block: int, report: VerifyReport) -> None:
    d = s.disputes.c
    rows = db.execute(select(d.dispute_id, d.invoice_id, d.amount, d.credit, d.status, d.line, d.reason)).all()
    views = _views(escrow, "dispute", [(r.dispute_id,) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        m = _named(escrow, "dispute", v)
        _compare(
            report,
            "disputes",
            str(r.dispute_id),
            [
                ("invoice_id", r.invoice_id, int(m["invoiceId"])),
                ("amount", r.amount, str(m["amount"])),
                ("credit", r.credit, str(m["credit"])),
                ("status", r.status, int(m["status"])),
                ("line", r.line, _hex(bytes(m["line"]))),
                ("reason", r.reason, _hex(bytes(m["reason"]))),
            ],
        )
    count = int(escrow.call("disputeCount", block=block))
    _compare(report, "disputes", "*", [("count", len(rows), count)])
    report.checked["disputes"] = len(rows)


def _accounts(db: Any, agreement: Contract, block: int, report: VerifyReport) -> None:
    a = s.accounts.c
    rows = db.execute(select(a.customer, a.balance, a.period)).all()
    views = _views(agreement, "accountOf", [(r.customer,) for r in rows], block)
    for r, v in zip(rows, views, strict=True):
        m = _named(agreement, "accountOf", v)
        _compare(
            report,
            "accounts",
            r.customer,
            [("balance", r.balance, str(m["balance"])), ("period", r.period, int(m["period"]))],
        )
    report.checked["accounts"] = len(rows)
