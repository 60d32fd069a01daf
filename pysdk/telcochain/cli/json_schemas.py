"""The ``--json`` output of every command: one source for docs/json.md and its test.

A schema maps *key paths* to JSON types. A path names a key from the top: ``a.b`` for key
``b`` inside object ``a``, ``a[]`` for the items of list ``a`` (``[]`` alone: the items of a
top-level list), ``a.*`` for the values of an object whose keys are data (e.g. contract names).
A type is ``str``, ``int``, ``float``, ``bool``, ``null``, ``list`` or ``object``, several
joined by ``|``; a trailing ``?`` marks a key that is not always printed. The keys under a
:data:`FREEFORM` path are data (the details a member disclosed, an event's arguments) and are
not listed. ``tests/cli/test_cli_json.py`` runs every command and fails when an output and its
schema differ either way; ``python scripts/gen_cli_docs.py`` writes docs/json.md from here.
"""

from __future__ import annotations

from typing import Any

from telcochain.agreement import MacdKind

Schema = dict[str, str]

#: Paths whose keys are data, not part of the schema.
FREEFORM: tuple[str, ...] = ("details", "[].args")
#: Objects whose keys are data (names, addresses): their values are documented as ``path.*``.
DATA_KEYED: tuple[str, ...] = ("contracts", "voted")


def key_paths(value: Any, path: str = "") -> dict[str, set[str]]:
    """Every key path of ``value`` with the JSON type(s) seen there."""
    found: dict[str, set[str]] = {}

    def add(p: str, t: str) -> None:
        found.setdefault(p, set()).add(t)

    def walk(v: Any, p: str) -> None:
        if isinstance(v, dict):
            if p:
                add(p, "object")
            if p in FREEFORM:
                return
            for key, item in v.items():
                walk(item, f"{p}.*" if p in DATA_KEYED else f"{p}.{key}" if p else str(key))
        elif isinstance(v, list):
            if p:
                add(p, "list")
            for item in v:
                walk(item, f"{p}[]")
        else:
            add(p, _type(v))

    walk(value, path)
    return found


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def _under(prefix: str, schema: Schema) -> Schema:
    """``schema`` nested under ``prefix`` (``[]`` for the items of a top-level list)."""
    if prefix == "[]":
        return {"[]": "object", **{f"[].{k}": v for k, v in schema.items()}}
    return {f"{prefix}.{k}": v for k, v in schema.items()}


#: What a key means: its unit, its encoding (one note per key name, wherever it appears).
NOTES: dict[str, str] = {
    # actions and transactions
    "action": "the constitution action run (its name, e.g. `orderChange`); in a proposal: its action id (0x-hex)",
    "status": "outcome or state, by name: `executed` / `pending_vote` for an action; `issued`, `funded`, "
    "`released`... for an invoice; `active`, `suspended` for a member; `open`, `executed`, `rejected`... "
    "for a proposal; `executed`/`reverted`... for an indexed call",
    "proposal_id": "the proposal the action opened (null: executed at once)",
    "ref": "correlation id, as text (printable bytes32) or 0x-hex when not printable",
    "tx_hash": "transaction hash (0x-hex)",
    "block": "block number",
    "block_number": "block number",
    "gas_used": "gas the transaction used",
    "events": "names of the events the transaction emitted, in order",
    "calls": "one action result per transaction sent",
    # money: base units (int) and the same in words
    "charge": "charge accrued on the customer's running account, in token base units (negative: credit)",
    "charge_text": "`charge` in whole tokens with the symbol, e.g. `25.00 TSD`",
    "invoice_id": "the invoice the action issued or touched (null: none)",
    "invoice_amount": "amount of the invoice the action issued, in token base units (0: none)",
    "invoice_amount_text": "`invoice_amount` in whole tokens with the symbol",
    "credit_note": "amount of the credit note the action issued, in token base units (0: none)",
    "credit_note_text": "`credit_note` in whole tokens with the symbol",
    "amount": "amount in token base units (the token's decimals: `info`, TSD has 6)",
    "credited": "credit applied to the invoice, in token base units",
    "to_fund": "what the payer still pays (amount - credited), in token base units",
    "balance": "running-account balance in token base units (what `invoice bill` would invoice; negative: credit)",
    "balance_text": "`balance` in whole tokens with the symbol",
    "charged": "charges in the period, token base units",
    "paid": "payments in the period, token base units",
    "charges": "number of charges",
    "payments": "number of payments",
    "token": "the invoice's ERC-20 token (address)",
    "bearer_token": "a new gateway bearer token (shown once; the tokens file keeps only its SHA-256)",
    "tokens_file": "the gateway's tokens file (path)",
    "created": "when the token was added (UTC, ISO 8601)",
    "delegate": "a delegate key (address) acting as its member",
    "delegates": "the member's delegate keys (addresses)",
    "due_date": "due date (unix seconds, UTC)",
    "overdue": "issued and past its due date",
    "hold": "held in escrow until the installation is confirmed",
    "receipt": "the payment (null: not paid): `amount` (base units), `paid_at` (unix seconds)",
    "paid_at": "when it was paid (unix seconds)",
    "payer": "who pays (address)",
    "payee": "who is paid (address)",
    "subject": "what it is about (a twin, an order...), as text",
    "customer": "the customer (address; in chunk reports and index rows: its name)",
    "lines": "number of charges in the period; in reconciliation / order views: the device lines; in "
    "`invoice show`: the bill's line items, read from the agreement's events",
    "period": "billing period number; in reports: the period's label",
    "opened_at": "when it opened (unix seconds)",
    # chunks (macd ... on many twins)
    "chunks": "one report per transaction (twins grouped per customer, at most 256 each)",
    "chunk": "the chunk's number, from 1",
    "twins": "the twins of the chunk, as given; of a `customer request` change (one, or a bulk order's "
    "list) and of an orderChanges consent: the assets, in order",
    "resubmit": "the twins NOT sent (a chunk failed): send them again",
    "error": "why the chunk was not sent (one line)",
    "details_id": "the disclosure of the --details (0x-hex; `telcochain details show ID`); null without --details",
    "line": "the order line (its name)",
    "line_units_used": "units of the order line used by this installation (same transaction)",
    "kept_in_service": "twins of the order that stay installed (Active) under the agreement",
    # members, actions, proposals
    "address": "account address (EIP-55 checksummed)",
    "name": "name (member, action, account, twin or order id as text)",
    "role": "the member's role in consortium.yaml (operator, vendor, customer...; null: none recorded)",
    "joined_at": "when the member joined (unix seconds)",
    "trust_key": "the member's public X25519 trust key (0x-hex)",
    "public_key": "public X25519 trust key (0x-hex)",
    "path": "file path",
    "callers": "who may call the action directly (names or addresses)",
    "code_hash": "pinned code hash of the module (0x-hex, zero for a built-in)",
    "enabled": "whether the action is enabled",
    "margin": "votes margin (255: all)",
    "module": "the module contract implementing the action (name or address)",
    "scope": "who may execute it: `open`, `members`, `listed`... by name",
    "selector": "the module function's 4-byte selector (0x-hex)",
    "veto_list": "members holding a veto",
    "voter_list": "the voters when `voters` is `listed`",
    "voters": "who votes, by name (`none`, `all`, `listed`...)",
    "voting_period": "seconds a proposal stays open",
    "permissions": "the accounts holding the action",
    "account": "account address",
    "can_execute": "the permission is valid now",
    "valid_from": "permission valid from (unix seconds, 0: always)",
    "valid_until": "permission valid until (unix seconds, 0: no end)",
    "policy": "the action's policy (as in `action list`)",
    "proposal": "the proposal (as in `proposal list`)",
    "action_name": "the proposal's action by name",
    "approvals": "approvals so far",
    "rejections": "rejections so far",
    "required": "approvals needed",
    "voter_count": "voters when the proposal opened (its frozen quorum)",
    "deadline": "when the vote closes (unix seconds)",
    "id": "identifier (number for proposals and invoices; 0x-hex for disclosures; text for twins and alerts)",
    "params": "the action's ABI-encoded parameters (0x-hex)",
    "policy_id": "version of the policy the proposal was opened under",
    "proposer": "who opened it (address)",
    "voted": "per voter address: whether it has voted",
    "approve": "the vote cast: true approve, false reject",
    "*": "one entry per name or address",
    # twins
    "asset": "the twin (its id as text)",
    "asset_id": "the twin's id (bytes32, 0x-hex)",
    "kind": "device kind (text); for MACD: " + ", ".join(k.label for k in MacdKind),
    "state": "state by name (twins: Planned, Delivered, Active...; orders and lines: TMF labels, inProgress...)",
    "version": "version (twin history length; service item version)",
    "custodian": "who holds the twin's record (address; in index rows: also a name)",
    "vendor": "the vendor (address; in index and stock rows as recorded there)",
    "serial_hash": "salted hash of the serial (0x-hex; null: no serial bound)",
    "serial_bound": "a serial is bound",
    "history_head": "head of the twin's history hash chain (0x-hex)",
    "on_order_line": "an open order line holds the twin",
    "changes": "the twin's history, oldest first",
    "change": "the change in words (from → to)",
    "actor": "who made the change (address)",
    "time": "when (unix seconds)",
    "verified": "the history (or the details) checks against the chain's hash chain (commitment)",
    "first_bad": "index of the first change that does not verify (null: none)",
    "reason": "why (words)",
    "order": "order id, as text",
    "project": "project (root identifier), as text",
    "updated_block": "block of the last change",
    # orders and stock
    "revision": "the order's revision number",
    "held_lines": "lines held by a revision (Pause), waiting for `order resume`",
    "services": "the order's service items",
    "service": "service item id, as text",
    "policy_name": "revision policy",
    "quantity": "units ordered",
    "reserved": "units reserved",
    "released": "units released (not delivered, freed)",
    "delivered": "units delivered",
    "consumed": "units used for the line",
    "returned": "units taken back by the vendor",
    "still_out": "delivered, neither used nor returned",
    "open_reservation": "reserved, not yet delivered nor released",
    "sku": "stock-keeping unit, as text",
    "totals": "the sums over the lines",
    "closed_at": "when the order closed (unix seconds; null: open)",
    "created_at": "when it was created (unix seconds)",
    "order_id": "the order's id (bytes32, 0x-hex)",
    "line_id": "the line's id (bytes32, 0x-hex)",
    "age_s": "seconds since the delivery",
    # details
    "discloser": "who disclosed it (address)",
    "recipients": "who may read it (addresses)",
    "readable_by_me": "the --account may read it (null: no account given)",
    "details_hash": "the commitment: keccak of salt + details (0x-hex)",
    "details": "the decrypted details (the JSON object disclosed)",
    # accounts, node, info
    "data_dir": "the node's data directory",
    "durable_block": "newest block in the node's write-ahead log (null: not answering / no log)",
    "pid": "the node's process id (null: not running)",
    "rpc_url": "JSON-RPC URL",
    "serving": "the node answers",
    "chain_id": "chain id",
    "fee_mode": "transaction type used (legacy or eip1559)",
    "gas_price": "gas price in wei (0: free gas)",
    "network": "the deployment's network name",
    "manifest": "the deployment manifest file",
    "deployed_at": "when the consortium was deployed (ISO 8601)",
    "consortium": "the consortium's name",
    "members": "number of members",
    "contracts": "per contract name: `address` and deployment `block`",
    # watch (one JSON object per line)
    "args": "the event's arguments, raw (integers, 0x-hex bytes, enum numbers) as the contract emitted them",
    "block_hash": "block hash (0x-hex)",
    "contract": "the emitting contract's name",
    "log_index": "position of the log in its block",
    # index
    "items": "the page's rows",
    "next": "cursor of the next page (`--after`); null: last page",
    "checked": "rows checked per table",
    "mismatches": "rows that differ from the contracts' views (empty: none)",
    "accounts": "running accounts checked",
    "asset_history": "twin history rows checked",
    "assets": "twins checked",
    "invoices": "invoices checked",
    "orders": "orders checked",
    "proposals": "proposals checked; in reports: per action, opened/executed/rejected/open and turnaround",
    "requested_at": "when the change was ordered (unix seconds)",
    "requester": "who ordered it (address)",
    "flow": "the agreement flow (installation, change, disconnect)",
    "denied": "calls denied",
    "executed": "calls executed",
    "reverted": "calls reverted",
    "last_at": "time of the last call (unix seconds)",
    "member": "the account (address)",
    "top_actions": "most used actions: [name, count] pairs",
    "at": "chain time (unix seconds)",
    "caller": "who called (address)",
    "caller_name": "the caller's member name (null: not a member)",
    "chain_time": "chain time of the report (unix seconds)",
    "cycle_times": "per twin kind and vendor: order-to-active seconds (count, p50/p90/p95/max)",
    "count": "how many",
    "max_s": "maximum, seconds",
    "p50_s": "median, seconds",
    "p90_s": "90th percentile, seconds",
    "p95_s": "95th percentile, seconds",
    "denial_reasons": "denied calls per reason",
    "denials": "per account: calls, denied, denial_rate",
    "denial_rate": "denied / calls",
    "macd_volume": "MACD requests per period and kind",
    "requests": "how many requests",
    "money": "per customer and period: charged, charges, paid, payments (base units)",
    "opened": "proposals opened",
    "open": "proposals still open",
    "rejected": "proposals rejected",
    "turnaround_max_s": "longest open-to-decision time, seconds",
    "turnaround_p50_s": "median open-to-decision time, seconds",
    "stock": "per vendor and SKU: the ledger figures and the ages of what is still out",
    "out_le_7d": "units still out for at most 7 days",
    "out_le_30d": "units still out for 8 to 30 days",
    "out_older": "units still out for more than 30 days",
    "rule": "the misuse rule that fired",
    "subject_name": "the subject's member name (null: none)",
    "first_block": "first block of the evidence",
    "last_block": "last block of the evidence",
    "message": "the alert in words",
    "events_indexed": "events indexed",
    # issue 14: customers, consents, bilateral price lists
    "consent": "the consent (EIP-712 `Consent`): customer, operator, action, subject, kind, maxCharge, nonce, deadline",
    "maxCharge": "the consent's ceiling: the most the request may charge, token base units",
    "nonce": "the consent's nonce (each is spent once per customer)",
    "registry": "the CustomerRegistry address (the EIP-712 verifying contract)",
    "signature": "the customer's EIP-712 signature (0x-hex)",
    "operator": "the customer's operator (its payee and confirmer)",
    "valid": "whether the consent verifies now (key, deadline, unused nonce)",
    "signer": "the customer's signing key (the address its consents must be signed by)",
    "name_hash": "salted hash of the customer's name (the name itself stays off chain)",
    "name_salt": "the salt of `name_hash`, to keep off chain with the name (null: no name)",
    "added_at": "when the customer was registered (unix seconds)",
    "terms": "the customer's agreed price-list commitment and its version",
    "current": "the agreed price list's commitment (0x-hex; null: none)",
    "current_from": "when the current price list took effect (unix seconds)",
    "next_from": "when the scheduled price list takes effect (unix seconds; 0: none)",
    "proposed": "the open proposal's commitment (null: none)",
    "proposed_from": "the open proposal's effective date (unix seconds)",
    "commitment": "a price list's commitment (0x-hex): only this is on chain",
    "sealed": "the file with the price list sealed for the customer's key (null: not sealed)",
    # issue 14: billing and vendor settlement
    "accrued": "recurring charges accrued, token base units",
    "txs": "the transactions sent",
    "dispute": "the dispute's id",
    "direct": "whether the payer called the escrow directly (no membership) rather than through an action",
    "invoice": "the invoice's id",
    "disputed": "under open disputes (not payable, not overdue), token base units",
    "disputes": "the invoice's disputes; in `index verify`: the disputes checked",
    "credit": "what a dispute's resolution wrote off, token base units",
    "written_off": "credited by resolved disputes (no longer owed), token base units",
    "outstanding": "still owed and not disputed, token base units",
    "overdue_amount": "the part of `outstanding` past its due date (instalments one by one), token base units",
    "instalments": "number of instalments (0: one payment at the due date)",
    "interval_days": "days between instalments",
    "lines_verified": "whether the line items fold into the bill's on-chain commitment (null: not a period bill)",
    "line_ref": "a line item's ref (what a dispute of that line names)",
    "from": "first second a recurring line covers (null: a one-off charge)",
    "to": "last second a recurring line covers (null: a one-off charge)",
    "tx": "the transaction that told the line (0x-hex)",
    "amount_text": "`amount` in whole tokens with the symbol (negative: a credit)",
    "unit_price": "the vendor's unit price for the SKU, token base units",
    "payment_days": "days the operator has to pay a vendor invoice",
    "on_consumption": "billable on consumption (else on delivery less returns)",
    "billable": "units billable now (delivered - returned, or consumed)",
    "invoiced": "units already invoiced",
    "invoiceable": "units the vendor may invoice now",
}

#: ``action_json``: what every command that runs one constitution action prints.
ACTION: Schema = {
    "action": "str",
    "status": "str",
    "proposal_id": "int|null",
    "ref": "str",
    "tx_hash": "str",
    "block": "int",
}
#: An agreement flow (install, macd, disconnect, bill): the action and the money it moved.
FLOW: Schema = {
    **ACTION,
    "invoice_id": "int|null",
    "charge": "int",
    "charge_text": "str",
    "invoice_amount": "int",
    "invoice_amount_text": "str",
    "credit_note": "int",
    "credit_note_text": "str",
    "events": "list",
    "events[]": "str",
}
#: ``macd ...`` on several twins (or --file): a report per chunk.
CHUNKS: Schema = {
    "chunks": "list",
    **_under("chunks[]", {"chunk": "int", "customer": "str", "twins": "list", "twins[]": "str"}),
    "chunks[]": "object",
    **{f"chunks[].{k}": v + "?" if not v.endswith("?") else v for k, v in FLOW.items()},
    "chunks[].error": "str?",
    "resubmit": "list",
    "resubmit[]": "str",
}
#: ``customer list`` rows and ``customer show``.
CUSTOMER: Schema = {
    "customer": "str",
    "operator": "str",
    "signer": "str|null",
    "added_at": "int",
    "member": "bool",
    "name_hash": "str",
}
CONSENT: Schema = {
    "consent": "object",
    "consent.customer": "str",
    "consent.operator": "str",
    "consent.action": "str",
    "consent.subject": "str",
    "consent.kind": "int",
    "consent.maxCharge": "int",
    "consent.nonce": "int",
    "consent.deadline": "int",
}
#: ``invoice show``'s billing side (issue 14).
INVOICE_BILLING: Schema = {
    "paid": "int",
    "disputed": "int",
    "written_off": "int",
    "outstanding": "int",
    "overdue_amount": "int",
    "instalments": "int",
    "interval_days": "int",
    "lines": "list",
    "lines[]": "object",
    "lines[].asset": "str",
    "lines[].assets": "list",
    "lines[].assets[]": "str",
    "lines[].kind": "str",
    "lines[].from": "int|null",
    "lines[].to": "int|null",
    "lines[].amount": "int",
    "lines[].amount_text": "str",
    "lines[].line_ref": "str",
    "lines[].tx": "str",
    "lines_verified": "bool|null",
    "disputes": "list",
    "disputes[]": "object",
    "disputes[].id": "int",
    "disputes[].amount": "int",
    "disputes[].credit": "int",
    "disputes[].status": "str",
    "disputes[].line": "str",
}
INVOICE: Schema = {
    "id": "int",
    "payer": "str",
    "payee": "str",
    "token": "str",
    "amount": "int",
    "credited": "int",
    "to_fund": "int",
    "due_date": "int",
    "overdue": "bool",
    "status": "str",
    "hold": "bool",
    "subject": "str",
    "ref": "str",
}
POLICY: Schema = {
    "name": "str",
    "module": "str",
    "selector": "str",
    "code_hash": "str",
    "scope": "str",
    "callers": "list",
    "callers[]": "str",
    "voters": "str",
    "voter_list": "list",
    "voter_list[]": "str",
    "veto_list": "list",
    "veto_list[]": "str",
    "margin": "int",
    "voting_period": "int",
    "enabled": "bool",
}
PROPOSAL: Schema = {
    "id": "int",
    "action": "str",
    "action_name": "str",
    "policy_id": "int",
    "proposer": "str",
    "ref": "str",
    "status": "str",
    "approvals": "int",
    "rejections": "int",
    "required": "int",
    "voter_count": "int",
    "opened_at": "int",
    "deadline": "int",
    "params": "str",
}
LINE: Schema = {
    "line": "str",
    "vendor": "str",
    "sku": "str",
    "asset": "str|null",
    "quantity": "int",
    "policy": "str",
    "state": "str",
    "reserved": "int",
    "released": "int",
    "delivered": "int",
    "consumed": "int",
    "returned": "int",
    "still_out": "int",
}
STOCK: Schema = {
    "reserved": "int",
    "released": "int",
    "delivered": "int",
    "consumed": "int",
    "returned": "int",
    "still_out": "int",
    "open_reservation": "int",
}
KEYSTORE: Schema = {"name": "str", "address": "str", "path": "str"}


def _page(row: Schema) -> Schema:
    """An index listing: ``{"items": [...], "next": cursor}``."""
    return {"items": "list", "items[]": "object", **_under("items[]", row), "next": "str|int|null"}


#: Every command with ``--json`` → its schema, or several: the output matches one of them.
JSON_OUTPUT: dict[str, Schema | list[Schema]] = {
    "info": {
        "rpc_url": "str",
        "chain_id": "int",
        "fee_mode": "str",
        "gas_price": "int",
        "block_number": "int",
        "network": "str",
        "manifest": "str|null",
        "deployed_at": "str",
        "consortium": "str|null",
        "members": "int",
        "contracts": "object",
        "contracts.*": "object",
        "contracts.*.address": "str",
        "contracts.*.block": "int",
    },
    "member list": _under(
        "[]",
        {"address": "str", "name": "str", "status": "str", "trust_key": "str", "joined_at": "int", "role": "str|null"},
    ),
    "member add": ACTION,
    "member suspend": ACTION,
    "member reinstate": ACTION,
    "member delegate add": {"member": "str", "delegate": "str", "status": "str", "tx_hash": "str", "block": "int"},
    "member delegate remove": {"member": "str", "delegate": "str", "status": "str", "tx_hash": "str", "block": "int"},
    "member delegate list": {"member": "str", "delegates": "list", "delegates[]": "str"},
    "serve token add": {"name": "str", "bearer_token": "str", "tokens_file": "str"},
    "serve token list": _under("[]", {"name": "str", "created": "str"}),
    "member activity": _page(
        {
            "member": "str",
            "name": "str|null",
            "executed": "int",
            "denied": "int",
            "reverted": "int",
            "last_at": "int|null",
            "top_actions": "list",
            "top_actions[]": "list",
            "top_actions[][]": "str|int",
        }
    ),
    "action list": _under("[]", POLICY),
    "action show": {
        "policy": "object",
        **_under("policy", POLICY),
        "permissions": "list",
        "permissions[]": "object",
        **_under("permissions[]", {"account": "str", "can_execute": "bool", "valid_from": "int", "valid_until": "int"}),
    },
    "action grant": ACTION,
    "action revoke": ACTION,
    "action amend": [ACTION, _under("[]", ACTION)],
    "action exec": ACTION,
    "proposal list": _under("[]", PROPOSAL),
    "proposal show": {
        "proposal": "object",
        **_under("proposal", PROPOSAL),
        "voted": "object",
        "voted.*": "bool",
    },
    "vote": {"proposal": "object", **_under("proposal", PROPOSAL), "approve": "bool", "tx_hash": "str"},
    "asset register": ACTION,
    "asset parties": ACTION,
    "asset link": ACTION,
    "asset bind-serial": ACTION,
    "asset transition": ACTION,
    "asset bulk": ACTION,
    "asset show": {
        "id": "str",
        "kind": "str",
        "state": "str",
        "version": "int",
        "custodian": "str",
        "customer": "str|null",
        "vendor": "str|null",
        "serial_hash": "str|null",
        "history_head": "str",
        "on_order_line": "bool",
    },
    "asset history": {
        "asset": "str",
        "changes": "list",
        "changes[]": "object",
        **_under(
            "changes[]",
            {
                "version": "int",
                "change": "str",
                "actor": "str",
                "ref": "str",
                "block": "int",
                "tx_hash": "str",
                "time": "int|null",
            },
        ),
        "verified": "bool?",
        "reason": "str?",
        "first_bad": "int|null?",
    },
    "asset list": _page(
        {
            "asset_id": "str",
            "name": "str",
            "kind": "str",
            "state": "str",
            "version": "int",
            "custodian": "str",
            "customer": "str|null",
            "vendor": "str|null",
            "project": "str|null",
            "order": "str|null",
            "serial_bound": "bool",
            "updated_block": "int",
        }
    ),
    "watch": {
        "[]": "object",
        "[].contract": "str",
        "[].name": "str",
        "[].args": "object",
        "[].block_number": "int",
        "[].block_hash": "str",
        "[].log_index": "int",
        "[].tx_hash": "str",
    },
    "keys new": {"path": "str", "public_key": "str"},
    "keys rotate": {"public_key": "str", "tx_hash": "str", "block": "int", "gas_used": "int"},
    "account new": KEYSTORE,
    "account import": KEYSTORE,
    "account list": _under("[]", KEYSTORE),
    "node status": {
        "pid": "int|null",
        "rpc_url": "str",
        "serving": "bool",
        "data_dir": "str",
        "durable_block": "int|null",
    },
    "install request": FLOW,
    "install confirm": {**FLOW, "line": "str?", "line_units_used": "int?"},
    "install withdraw": FLOW,
    **{f"macd {kind.name.lower()}": [{**FLOW, "details_id": "str?"}, CHUNKS] for kind in MacdKind},
    "macd confirm": [FLOW, CHUNKS],
    "macd cancel": FLOW,
    "macd pending": _page(
        {
            "asset": "str",
            "asset_id": "str",
            "flow": "str",
            "kind": "str|null",
            "customer": "str|null",
            "requester": "str|null",
            "charge": "int",
            "status": "str",
            "ref": "str",
            "requested_at": "int",
            "block_number": "int",
        }
    ),
    "disconnect": FLOW,
    "invoice list": _under("[]", INVOICE),
    "invoice show": {
        **INVOICE,
        **INVOICE_BILLING,
        "receipt": "object|null",
        "receipt.amount": "int?",
        "receipt.paid_at": "int?",
    },
    "invoice pay": [
        ACTION,
        {"tx_hash": "str", "invoice_id": "int", "status": "str", "outstanding": "int"},  # --direct
    ],
    "invoice instalments": ACTION,
    "invoice payout": ACTION,
    "invoice resolve": ACTION,
    "invoice dispute": {"dispute": "int", "invoice": "int", "amount": "int", "line": "str", "direct": "bool"},
    "invoice accrue": {"assets": "int", "accrued": "int", "txs": "list", "txs[]": "str"},
    "vendor terms": [
        ACTION,
        {
            "vendor": "str",
            "sku": "str",
            "unit_price": "int",
            "token": "str",
            "payment_days": "int",
            "on_consumption": "bool",
        },
    ],
    "vendor invoice": {"invoice": "int", "line": "str", "quantity": "int", "amount": "int", "credited": "int"},
    "vendor settle": ACTION,
    "vendor credit": {"line": "str", "credited": "int"},
    "vendor show": {
        "line": "str",
        "reserved": "int",
        "billable": "int",
        "invoiced": "int",
        "credited": "int",
        "invoiceable": "int",
        "unit_price": "int",
        "on_consumption": "bool",
    },
    "customer add": {
        "customer": "str",
        "signer": "str|null",
        "name_hash": "str",
        "name_salt": "str|null",
        "tx_hash": "str",
    },
    "customer list": _under("[]", CUSTOMER),
    "customer show": {**CUSTOMER, "terms": "object", "terms.current": "str|null", "terms.version": "int"},
    "terms propose": {"customer": "str", "commitment": "str", "sealed": "str|null", "tx_hash": "str"},
    "terms show": {
        "customer": "str",
        "current": "str|null",
        "current_from": "int",
        "next": "str|null",
        "next_from": "int",
        "version": "int",
        "proposed": "str|null",
        "proposed_from": "int",
        "proposer": "str|null",
    },
    "terms accept": ACTION,
    "terms monthly": ACTION,
    **{f"customer request {verb}": FLOW for verb in ("install", "disconnect")},
    **{
        f"customer request {verb}": {**FLOW, "twins": "list", "twins[]": "str"}
        for verb in (kind.label for kind in MacdKind)
    },
    "consent sign": {
        **CONSENT,
        "signature": "str",
        "chain_id": "int",
        "registry": "str",
        "twins": "list?",
        "twins[]": "str?",
    },
    "consent verify": {
        **CONSENT,
        "valid": "bool",
        "signer": "str|null",
        "reason": "str",
        "twins": "list?",
        "twins[]": "str?",
    },
    "invoice release": ACTION,
    "invoice refund": ACTION,
    "invoice reclaim": ACTION,
    "invoice account": {
        "customer": "str",
        "balance": "int",
        "balance_text": "str",
        "period": "int",
        "lines": "int",
        "opened_at": "int",
    },
    "invoice bill": FLOW,
    "order create": _under("[]", ACTION),
    "order add-service": ACTION,
    "order add-line": ACTION,
    "order revise": ACTION,
    "order resume": ACTION,
    "order transition": ACTION,
    "order cancel": {
        "order": "str",
        "state": "str",
        "calls": "list",
        "calls[]": "object",
        **_under("calls[]", ACTION),
        "kept_in_service": "list",
        "kept_in_service[]": "str",
    },
    "order show": {
        "order": "str",
        "project": "str",
        "state": "str",
        "revision": "int",
        "held_lines": "int",
        "services": "list",
        "services[]": "object",
        **_under(
            "services[]",
            {"service": "str", "version": "int", "state": "str", "action": "str", "lines": "list", "lines[]": "object"},
        ),
        **_under("services[].lines[]", LINE),
    },
    "order list": _page(
        {
            "order_id": "str",
            "name": "str",
            "project": "str",
            "customer": "str",
            "state": "str",
            "revision": "int",
            "created_at": "int",
            "closed_at": "int|null",
        }
    ),
    "stock show": {"vendor": "str", "sku": "str", **STOCK},
    "stock reconcile": {
        "subject": "str",
        "totals": "object",
        **_under("totals", STOCK),
        "lines": "list",
        "lines[]": "object",
        **_under("lines[]", LINE),
    },
    "stock deliver": ACTION,
    "stock consume": ACTION,
    "stock return": ACTION,
    "stock outstanding": _page(
        {
            "vendor": "str",
            "sku": "str",
            "line": "str",
            "order": "str|null",
            "delivered": "int",
            "consumed": "int",
            "returned": "int",
            "still_out": "int",
            "age_s": "int",
        }
    ),
    "details disclose": {"id": "str", "ref": "str", "details_hash": "str"},
    "details show": {
        "id": "str",
        "ref": "str",
        "subject": "str",
        "discloser": "str",
        "recipients": "list",
        "recipients[]": "str",
        "details_hash": "str",
        "verified": "bool",
        "details": "object",
    },
    "details list": _under(
        "[]",
        {
            "id": "str",
            "ref": "str",
            "discloser": "str",
            "recipients": "list",
            "recipients[]": "str",
            "readable_by_me": "bool|null",
            "block": "int",
        },
    ),
    "details grant": ACTION,
    "index verify": {
        "block": "int",
        "checked": "object",
        **_under(
            "checked",
            {
                t: "int"
                for t in (
                    "members",
                    "permissions",
                    "proposals",
                    "assets",
                    "asset_history",
                    "orders",
                    "services",
                    "lines",
                    "invoices",
                    "accounts",
                    "disputes",
                )
            },
        ),
        "mismatches": "list",
        "mismatches[]": "str",
    },
    "denials": _page(
        {
            "block_number": "int",
            "at": "int",
            "caller": "str",
            "caller_name": "str|null",
            "action": "str",
            "action_name": "str|null",
            "reason": "str",
            "ref": "str",
        }
    ),
    "alerts": _under(
        "[]",
        {
            "id": "str",
            "rule": "str",
            "subject": "str",
            "subject_name": "str|null",
            "first_block": "int",
            "last_block": "int",
            "at": "int",
            "count": "int",
            "message": "str",
        },
    ),
    "report": {
        "period": "str",
        "block": "int",
        "chain_time": "int",
        "cycle_times": "list",
        "cycle_times[]": "object",
        **_under(
            "cycle_times[]",
            {
                "kind": "str",
                "vendor": "str",
                "count": "int",
                "p50_s": "float",
                "p90_s": "float",
                "p95_s": "float",
                "max_s": "float",
            },
        ),
        "stock": "list",
        "stock[]": "object",
        **_under(
            "stock[]",
            {
                "vendor": "str",
                "sku": "str",
                **{k: v for k, v in STOCK.items() if k != "open_reservation"},
                "out_le_7d": "int",
                "out_le_30d": "int",
                "out_older": "int",
            },
        ),
        "money": "list",
        "money[]": "object",
        **_under(
            "money[]",
            {"customer": "str", "period": "str", "charged": "int", "charges": "int", "paid": "int", "payments": "int"},
        ),
        "macd_volume": "list",
        "macd_volume[]": "object",
        **_under("macd_volume[]", {"period": "str", "kind": "str", "requests": "int"}),
        "denials": "list",
        "denials[]": "object",
        **_under(
            "denials[]", {"account": "str", "name": "str|null", "calls": "int", "denied": "int", "denial_rate": "float"}
        ),
        "denial_reasons": "list",
        "denial_reasons[]": "object",
        **_under("denial_reasons[]", {"reason": "str", "denials": "int"}),
        "proposals": "list",
        "proposals[]": "object",
        **_under(
            "proposals[]",
            {
                "action": "str",
                "opened": "int",
                "executed": "int",
                "rejected": "int",
                "open": "int",
                "turnaround_p50_s": "float|null",
                "turnaround_max_s": "float|null",
            },
        ),
    },
}


def schemas(command: str) -> list[Schema]:
    """The schema(s) of ``command``'s --json output (KeyError: the command has none)."""
    found = JSON_OUTPUT[command]
    return found if isinstance(found, list) else [found]


HEADER = """# JSON output

Every command that takes `--json` prints one JSON document on stdout (`watch --json`: one object
per line); confirmations and errors go to stderr. This page lists each command's keys. It is
generated from `telcochain/cli/json_schemas.py` (`python scripts/gen_cli_docs.py`), and
`tests/cli/test_cli_json.py` runs every command and fails when an output has a key this page
does not list, lacks one it lists, or has another type.

Conventions, the same in every command:

- **Amounts** are integers in the token's base units (TSD has 6 decimals: `25000000` is
  25.00 TSD); where a command reports money it moved, `*_text` repeats it in words
  (`"25.00 TSD"`). Large values stay exact integers (parse them as such, not as floats).
- **States and statuses** are names (`Active`, `PendingChange`, `inProgress`, `released`,
  `executed`), never enum numbers — except `watch --json`, which prints events raw.
- **Refs and ids** given as text are printed as text (`"CRM-7"`); a value that is not
  printable text is 0x-hex. Addresses are EIP-55 checksummed. Times are unix seconds (UTC).
- **Action results** (`action`, `status`, `proposal_id`, `ref`, `tx_hash`, `block`) are the
  same wherever a command runs one constitution action; agreement flows add the money
  (`charge`, `invoice_id`, `invoice_amount`, `credit_note`, each with `*_text`) and `events`.
- **Several twins** (`macd ...` with more than one twin, or `--file`): `{"chunks": [...],
  "resubmit": [...]}`, a report per transaction; one twin: the flow object itself.

Key paths: `a.b` is key `b` of object `a`; `a[]` the items of list `a` (`[]` alone: the
items of a top-level list); `a.*` the values of an object keyed by names or addresses. Types:
`str`, `int`, `float`, `bool`, `null`, `list`, `object`, alternatives joined by `|`; `?` marks
a key not always present.
"""


def render() -> str:
    """docs/json.md."""
    parts = [HEADER]
    for command in sorted(JSON_OUTPUT):
        parts.append(f"\n## `telcochain {command} --json`\n")
        variants = schemas(command)
        for number, schema in enumerate(variants, 1):
            if len(variants) > 1:
                parts.append(f"\n{'One twin' if number == 1 else 'Several twins (chunks)'}:\n")
            parts.append("\n| key | type | meaning |\n|---|---|---|\n")
            for path, kind in schema.items():
                leaf = path.rsplit(".", 1)[-1].removesuffix("[]").removesuffix("[]") or "[]"
                note = NOTES.get(leaf, "one item" if path.endswith("[]") else "")
                parts.append(f"| `{path}` | {kind} | {note} |\n")
    return "".join(parts)
