"""The index's tables (SQLAlchemy Core metadata; Alembic migrations in ``migrations/``).

Two layers:

- **raw**: ``events`` holds every log of every telcochain contract, decoded with the ABIs the
  SDK ships (name + arguments as JSON, the indexed topics as columns); a log no shipped ABI
  knows is kept too, with ``name`` NULL and its raw topics and data. ``blocks`` keeps the hash
  and time of each block that has events (and of the checkpoint block), for reorg detection
  and for time-based reports; ``meta`` holds the checkpoint.
- **current state**: projections of named events (:mod:`telcochain.index.projections`):
  members, permissions, actions, proposals, votes, calls (every executed / denied / reverted
  action), twins with their parties and history, projects, orders, services, lines, stock
  moves, service requests (installation, MACD, disconnect), charges, running accounts,
  invoices, receipts, credit notes, disclosures.

Conventions: ids and hashes are ``0x``-hex strings (lower case); addresses are checksummed;
token amounts are decimal strings (uint256 does not fit a BIGINT; sums are made in Python);
times are block timestamps (UNIX seconds). Every row is a function of the chain alone, so a
rebuild from block 0 gives the same rows.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
H32 = String(66)  # 0x + 64 hex
ADDR = String(42)
AMOUNT = String(80)  # a uint256 / int256 as a decimal string

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", H32, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("tx_hash", H32, nullable=False),
    Column("contract", String(64), nullable=False),  # the deployment's name for the address
    Column("address", ADDR, nullable=False),
    Column("name", String(64)),  # NULL: no shipped ABI knows this log
    Column("topic0", H32),
    Column("key1", H32),  # the indexed arguments' raw topics
    Column("key2", H32),
    Column("key3", H32),
    Column("args", Json, nullable=False),
    Index("ix_events_name", "name"),
    # no index on key1..key3: each costs ~40 % more insert time; the projections answer by id
)

# -- governance -----------------------------------------------------------------------------

members = Table(
    "members",
    metadata,
    Column("address", ADDR, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("trust_key", H32, nullable=False),
    Column("status", String(16), nullable=False),  # active / suspended
    Column("joined_block", BigInteger, nullable=False),
    Column("joined_at", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
)

actions = Table(
    "actions",
    metadata,
    Column("action", H32, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("policy_id", BigInteger, nullable=False),
    Column("scope", Integer, nullable=False),
    Column("module", ADDR, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("voters", Integer, nullable=False),
    Column("margin", Integer, nullable=False),
    Column("voting_period", BigInteger, nullable=False),
    Column("defined_block", BigInteger, nullable=False),
)

permissions = Table(
    "permissions",
    metadata,
    Column("action", H32, primary_key=True),
    Column("account", ADDR, primary_key=True),
    Column("can_execute", Boolean, nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("ever_granted", Boolean, nullable=False),  # was canExecute true at some point
    Column("updated_block", BigInteger, nullable=False),
)

proposals = Table(
    "proposals",
    metadata,
    Column("proposal_id", BigInteger, primary_key=True, autoincrement=False),
    Column("action", H32, nullable=False),
    Column("ref", H32, nullable=False),
    Column("proposer", ADDR, nullable=False),
    Column("policy_id", BigInteger, nullable=False),
    Column("voter_count", Integer, nullable=False),
    Column("required", Integer, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # open / executed / rejected
    Column("approvals", Integer, nullable=False),
    Column("rejections", Integer, nullable=False),
    Column("opened_block", BigInteger, nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("decided_at", BigInteger),
)

votes = Table(
    "votes",
    metadata,
    Column("proposal_id", BigInteger, primary_key=True, autoincrement=False),
    Column("voter", ADDR, primary_key=True),
    Column("approve", Boolean, nullable=False),
    Column("veto", Boolean, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("cast_at", BigInteger, nullable=False),
)

calls = Table(  # every action call the Constitution judged: executed, denied, reverted (in a batch)
    "calls",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False),
    Column("caller", ADDR, nullable=False),
    Column("action", H32, nullable=False),
    Column("ref", H32, nullable=False),
    Column("outcome", String(16), nullable=False),  # executed / denied / reverted
    Column("reason", Integer),  # DenyReason for denials
    Column("error", String(10)),  # revert selector for reverts
    Column("proposal_id", BigInteger),
    Index("ix_calls_caller", "caller", "block_number"),
    Index("ix_calls_outcome", "outcome", "block_number"),
)

# -- twins ----------------------------------------------------------------------------------

assets = Table(
    "assets",
    metadata,
    Column("asset_id", H32, primary_key=True),
    Column("kind", String(26), nullable=False),
    Column("state", Integer, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("head", String(50), nullable=False),  # bytes24 history head
    Column("serial_hash", H32, nullable=False),
    Column("custodian", ADDR, nullable=False),
    Column("customer", ADDR),
    Column("vendor", ADDR),
    Column("project_id", H32),  # the latest project (root id) it is linked to
    Column("order_id", H32),  # the latest order
    Column("registered_block", BigInteger, nullable=False),
    Column("registered_at", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_assets_customer", "customer", "asset_id"),
    Index("ix_assets_vendor", "vendor", "asset_id"),
    Index("ix_assets_state", "state", "asset_id"),
    Index("ix_assets_order", "order_id"),
    Index("ix_assets_project", "project_id"),
)

asset_history = Table(
    "asset_history",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("asset_id", H32, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("change", String(32), nullable=False),  # the event name
    Column("actor", ADDR, nullable=False),
    Column("ref", H32, nullable=False),
    Column("head", String(50), nullable=False),
    Column("details_hash", H32, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("data", Json, nullable=False),
    Index("ix_asset_history_asset", "asset_id", "version"),
)

# -- orders and stock ----------------------------------------------------------------------

projects = Table(
    "projects",
    metadata,
    Column("project_id", H32, primary_key=True),
    Column("customer", ADDR, nullable=False),
    Column("ref", H32, nullable=False),
    Column("actor", ADDR, nullable=False),
    Column("created_block", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", H32, primary_key=True),
    Column("project_id", H32, nullable=False),
    Column("customer", ADDR),
    Column("state", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_block", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger),  # completed, cancelled, rejected or failed
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_orders_customer", "customer", "order_id"),
    Index("ix_orders_state", "state"),
)

services = Table(
    "services",
    metadata,
    Column("order_id", H32, primary_key=True),
    Column("service_id", H32, primary_key=True),
    Column("state", Integer, nullable=False),
    Column("action", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
)

lines = Table(
    "lines",
    metadata,
    Column("line_id", H32, primary_key=True),
    Column("order_id", H32, nullable=False),
    Column("service_id", H32, nullable=False),
    Column("asset_id", H32, nullable=False),
    Column("vendor", ADDR, nullable=False),
    Column("sku", String(34), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("policy", Integer, nullable=False),
    Column("state", Integer, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("released", BigInteger, nullable=False),
    Column("delivered", BigInteger, nullable=False),
    Column("consumed", BigInteger, nullable=False),
    Column("returned", BigInteger, nullable=False),
    Column("added_at", BigInteger, nullable=False),
    Column("last_delivered_at", BigInteger),
    Column("updated_block", BigInteger, nullable=False),
    Index("ix_lines_vendor", "vendor", "sku"),
    Index("ix_lines_order", "order_id"),
)

stock_moves = Table(
    "stock_moves",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("vendor", ADDR, nullable=False),
    Column("line_id", H32, nullable=False),
    Column("order_id", H32, nullable=False),
    Column("sku", String(34)),
    Column("move", String(16), nullable=False),  # reserved / delivered / consumed / returned / released
    Column("quantity", BigInteger, nullable=False),
    Column("ref", H32, nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_stock_moves_vendor", "vendor"),
)

# -- the agreement and the money ----------------------------------------------------------


class RequestStatus(StrEnum):
    """The ``status`` of a ``requests`` row: open, or how it closed."""

    PENDING = "pending"  # requested, not confirmed nor called off yet
    DONE = "done"  # confirmed (installed, changed, disconnected)
    WITHDRAWN = "withdrawn"  # an installation withdrawn by its requester
    CANCELLED = "cancelled"  # a MACD change or a disconnection called off


requests = Table(  # installation, MACD (move/add/change/delete) and disconnect requests, one row per twin
    "requests",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),  # position in a bulk event
    Column("asset_id", H32, nullable=False),
    Column("customer", ADDR, nullable=False),
    Column("flow", String(16), nullable=False),  # installation / macd / disconnect
    Column("kind", String(16), nullable=False),  # installation / move / add / change / delete / disconnect
    Column("ref", H32, nullable=False),
    Column("requester", ADDR),
    Column("charge", AMOUNT, nullable=False),
    Column("status", String(16), nullable=False),  # a RequestStatus
    Column("requested_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger),
    Column("closed_block", BigInteger),
    Index("ix_requests_open", "status", "flow", "block_number", "log_index", "seq"),
    Index("ix_requests_asset", "asset_id", "flow", "status"),
)

charges = Table(
    "charges",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("customer", ADDR, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", AMOUNT, nullable=False),  # signed: a credit is negative
    Column("assets", Integer, nullable=False),
    Column("ref", H32, nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_charges_customer", "customer", "at"),
)

accounts = Table(  # the customers' running accounts (OperatorAgreement)
    "accounts",
    metadata,
    Column("customer", ADDR, primary_key=True),
    Column("balance", AMOUNT, nullable=False),
    Column("period", BigInteger, nullable=False),
    Column("last_invoice", BigInteger),
    Column("updated_block", BigInteger, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", BigInteger, primary_key=True, autoincrement=False),
    Column("payer", ADDR, nullable=False),
    Column("payee", ADDR, nullable=False),
    Column("token", ADDR, nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("credited", AMOUNT, nullable=False),
    Column("due_date", BigInteger, nullable=False),
    Column("hold", Boolean, nullable=False),
    Column("subject", H32, nullable=False),
    Column("ref", H32, nullable=False),
    Column("status", Integer, nullable=False),  # InvoiceStatus
    Column("issued_at", BigInteger, nullable=False),
    Column("funded_at", BigInteger),
    Column("settled_at", BigInteger),
    Column("reclaimed", Boolean, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Column("paid", AMOUNT, nullable=False, server_default="0"),  # issue 14: paid to the payee so far
    Index("ix_invoices_payer", "payer", "status"),
    Index("ix_invoices_payee", "payee", "status"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("invoice_id", BigInteger, primary_key=True, autoincrement=False),
    Column("payer", ADDR, nullable=False),
    Column("payee", ADDR, nullable=False),
    Column("token", ADDR, nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("ref", H32, nullable=False),
    Column("paid_at", BigInteger, nullable=False),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("note_id", BigInteger, primary_key=True, autoincrement=False),
    Column("payer", ADDR, nullable=False),
    Column("payee", ADDR, nullable=False),
    Column("token", ADDR, nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("subject", H32, nullable=False),
    Column("ref", H32, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
)

disputes = Table(  # issue 14: a payer's dispute of an invoice or one of its lines, and its resolution
    "disputes",
    metadata,
    Column("dispute_id", BigInteger, primary_key=True, autoincrement=False),
    Column("invoice_id", BigInteger, nullable=False),
    Column("payer", ADDR, nullable=False),
    Column("payee", ADDR, nullable=False),
    Column("line", H32, nullable=False),  # 0x00…: the whole invoice
    Column("amount", AMOUNT, nullable=False),
    Column("reason", H32, nullable=False),
    Column("credit", AMOUNT, nullable=False),
    Column("status", Integer, nullable=False),  # 1 open, 2 resolved
    Column("by_vote", Boolean, nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger),
    Column("ref", H32, nullable=False),
    Index("ix_disputes_invoice", "invoice_id"),
)

disclosures = Table(  # metadata only: who disclosed what to how many; never the ciphertext
    "disclosures",
    metadata,
    Column("ref", H32, primary_key=True),  # the disclosure's id (DetailsVault.disclosureId), not its action's ref
    Column("subject", H32, nullable=False),
    Column("discloser", ADDR, nullable=False),
    Column("details_hash", H32, nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("disclosed_at", BigInteger, nullable=False),
)

disclosure_keys = Table(
    "disclosure_keys",
    metadata,
    Column("disclosure", H32, primary_key=True),
    Column("recipient", ADDR, primary_key=True),
    Column("ref", H32, nullable=False),
    Column("granted_at", BigInteger, nullable=False),
)

# -- the TMF688 event hub (telcochain.gateway; docs/tmf-hub.md) ---------------------------
# Not projections: subscriptions are registrations, and the outbox and deliveries record what
# was sent. A replay or a reset of the index keeps them, so a rebuild never sends twice.

hub_subscriptions = Table(
    "hub_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("member", ADDR, nullable=False),  # the gateway member that registered it (visibility)
    Column("api", String(48), nullable=False),  # serviceOrdering, ... or "" (the generic /hub)
    Column("callback", Text, nullable=False),
    Column("query", Text),
    Column("secret", String(64), nullable=False),  # HMAC key; shown once at registration
    Column("after_position", BigInteger, nullable=False),  # receives events after this chain position
    Column("created_at", BigInteger, nullable=False),  # wall clock (UNIX seconds)
)

hub_outbox = Table(  # one row per hub event, derived from the indexed events (telcochain.gateway.outbox)
    "hub_outbox",
    metadata,
    Column("event_id", String(36), primary_key=True),  # deterministic from the chain position
    Column("position", BigInteger, nullable=False),  # block << 24 | log index << 4 | seq
    Column("api", String(48), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("parties", Json, nullable=False),  # lower-case addresses that may see it
    Column("body", Text, nullable=False),  # the JSON sent, byte for byte on every attempt
    Column("derived_at", BigInteger, nullable=False),  # wall clock, milliseconds
    Index("ix_hub_outbox_position", "position"),
)


class DeliveryStatus(StrEnum):
    """The ``status`` of a ``hub_deliveries`` row (telcochain.gateway.delivery)."""

    PENDING = "pending"  # to send, or to send again
    DELIVERED = "delivered"  # the callback answered 2xx
    FAILED = "failed"  # given up after the last attempt


hub_deliveries = Table(  # one row per (subscription, event): the at-least-once state machine
    "hub_deliveries",
    metadata,
    Column("subscription_id", String(36), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),  # a DeliveryStatus
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),  # wall clock, milliseconds
    Column("lease_until", BigInteger),  # a worker holds it until then (milliseconds)
    Column("lease_owner", String(64)),
    Column("last_error", Text),
    Column("delivered_at", BigInteger),  # milliseconds
    Index("ix_hub_deliveries_due", "status", "subscription_id", "position"),
)

# -- the gateway's MACD service orders (telcochain.gateway.api.service_order; docs/tmf.md) ---
# Which TMF641 order asked for which twin's change, and in which on-chain call (its ref): a
# micro-batch carries the items of many orders in one orderChanges call. The state of each
# item is read from ``requests`` (the call's rows); this table only keeps the grouping.

gateway_macd_items = Table(
    "gateway_macd_items",
    metadata,
    Column("order_id", String(64), primary_key=True),  # the ServiceOrder id (MACD-...)
    Column("item_id", String(64), primary_key=True),  # its serviceOrderItem id
    Column("asset_id", H32, primary_key=True),
    Column("kind", String(16), nullable=False),  # move / add / change / delete
    Column("ref", H32, nullable=False),  # the on-chain call's ref (shared within a micro-batch)
    Column("external_id", String(128)),
    Column("client", String(64), nullable=False),  # the bearer token's client name
    Column("created_at", BigInteger, nullable=False),  # wall clock (UNIX seconds)
    Index("ix_gateway_macd_items_asset", "asset_id", "ref"),
)

#: Not projections (kept by a replay and by :meth:`IndexStore.reset`): the hub's tables and the gateway's MACD orders.
HUB_TABLES = [hub_subscriptions, hub_outbox, hub_deliveries, gateway_macd_items]

#: Tables rebuilt from ``events`` by a replay (everything but the raw layer and the hub).
PROJECTION_TABLES = [
    t for t in metadata.sorted_tables if t.name not in ("meta", "blocks", "events") and t not in HUB_TABLES
]
