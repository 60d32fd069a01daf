"""TMF678 Customer Bill: the escrow's invoices, and paying one (a task resource).

A bill's ``state`` is its escrow status mapped by :data:`telcochain.gateway.vocabulary.BILL_STATE`
(the table in docs/tmf.md); ``remainingAmount`` is the amount less what was credited while the
bill is issued, 0 once funded, released, refunded or cancelled.
``escrowStatus`` keeps the exact status. ``POST /customerBillManagement/v4/payCustomerBill``
pays a bill into escrow as its payer (this gateway's member; an approval of the token first if
the allowance is short).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy import func, select

from telcochain.agreement import InvoiceStatus
from telcochain.gateway.api.common import (
    BILL_PATH,
    Money,
    Out,
    Pages,
    RelatedParty,
    Tmf,
    href,
    iso,
    member_names,
    one,
    page,
)
from telcochain.gateway.auth import require_principal
from telcochain.gateway.errors import ERRORS, ApiError, bad_request, not_found
from telcochain.gateway.state import GatewayState, State
from telcochain.gateway.vocabulary import BILL_STATE, BILL_UNMAPPED, BillTaskState, CustomerBillState
from telcochain.index import schema as s
from telcochain.index.queries import show_id

PATH = BILL_PATH
PAY_PATH = "/customerBillManagement/v4/payCustomerBill"
IS = InvoiceStatus
STATES = tuple(CustomerBillState)

router = APIRouter(tags=["TMF678 Customer Bill"], dependencies=[Depends(require_principal)])


class CustomerBill(Out):
    """TMF678 ``CustomerBill``."""

    id: str
    href: str
    type_: str = Field(default="CustomerBill", alias="@type")
    billNo: str | None = None
    state: CustomerBillState | None = None
    escrowStatus: str | None = Field(default=None, description="issued|funded|released|refunded|cancelled")
    category: str | None = None
    billDate: str | None = None
    paymentDueDate: str | None = None
    overdue: bool | None = None
    amountDue: Money | None = None
    remainingAmount: Money | None = None
    taxIncludedAmount: Money | None = None
    relatedParty: list[RelatedParty] | None = None
    subject: str | None = Field(default=None, description="what the bill is for: a twin, or the billing period's ref")


class CustomerBillRef(Tmf):
    id: str = Field(min_length=1, max_length=78, pattern=r"^[0-9]+$")
    href: str | None = Field(default=None, max_length=2000)


class PayCustomerBillCreate(Tmf):
    customerBill: CustomerBillRef


class PayCustomerBill(Out):
    id: str
    type_: str = Field(default="PayCustomerBill", alias="@type")
    state: BillTaskState = Field(description="done: the bill is funded when the answer comes")
    customerBill: CustomerBillRef
    transactionHash: str | None = None
    amount: Money | None = None


def _token_meta(state: GatewayState, token: str) -> tuple[int, str]:
    cache: dict[str, tuple[int, str]] = state.components.setdefault("token_meta", {})
    if token not in cache:
        escrow = state.client.escrow
        cache[token] = (escrow.decimals(token), escrow._meta(token)[1])
    return cache[token]


def _money(state: GatewayState, token: str, amount: int) -> Money:
    decimals, symbol = _token_meta(state, token)
    return Money(unit=symbol, value=float(Decimal(amount).scaleb(-decimals)), baseUnits=str(amount))


def _bill(request: Request, state: GatewayState, r: Any, now: int, names: dict[str, str]) -> CustomerBill:
    status = InvoiceStatus(r.status)
    amount, credited = int(r.amount), int(r.credited)
    remaining = max(0, amount - credited) if status is IS.ISSUED else 0
    ident = str(r.invoice_id)
    return CustomerBill(
        id=ident,
        href=href(request, PATH, ident),
        billNo=ident,
        state=BILL_STATE.get(status, BILL_UNMAPPED),
        escrowStatus=status.label,
        category="held" if r.hold else "direct",
        billDate=iso(r.issued_at),
        paymentDueDate=iso(r.due_date),
        overdue=status is IS.ISSUED and r.due_date < now,
        amountDue=_money(state, r.token, amount),
        remainingAmount=_money(state, r.token, remaining),
        taxIncludedAmount=_money(state, r.token, amount),
        relatedParty=[
            RelatedParty(id=r.payer, name=names.get(r.payer), role="customer"),
            RelatedParty(id=r.payee, name=names.get(r.payee), role="billingProvider"),
        ],
        subject=show_id(r.subject),
    )


@router.get(PATH, response_model=list[CustomerBill], response_model_exclude_none=True, responses=ERRORS,
            summary="List customer bills (the escrow's invoices)")  # fmt: skip
async def list_bills(
    request: Request,
    response: Response,
    paging: Pages,
    state: State,
    bill_state: str | None = Query(None, alias="state", max_length=40, description="|".join(STATES)),
    party: str | None = Query(None, alias="relatedParty.id", max_length=42, description="payer or payee address"),
) -> Any:
    i = s.invoices.c
    conditions: list[Any] = []
    if bill_state is not None:
        if bill_state not in STATES:
            raise bad_request(f"state {bill_state[:40]!r} is not one of {', '.join(STATES)}")
        conditions.append(i.status.in_([int(k) for k, v in BILL_STATE.items() if v == bill_state]))
    if party is not None:
        conditions.append((i.payer == party) | (i.payee == party))
    with state.store.engine.connect() as db:
        now = state.store.chain_time(db)
        total = db.execute(select(func.count()).select_from(s.invoices).where(*conditions)).scalar_one()
        rows = db.execute(
            select(s.invoices).where(*conditions).order_by(i.invoice_id).offset(paging.offset).limit(paging.limit)
        ).all()
    names = member_names(state)
    return page(response, [_bill(request, state, r, now, names) for r in rows], total, paging)


def _row(state: GatewayState, ident: str) -> tuple[Any, int]:
    if not ident.isdigit() or len(ident) > 78:
        raise not_found("customer bill", ident)
    with state.store.engine.connect() as db:
        row = db.execute(select(s.invoices).where(s.invoices.c.invoice_id == int(ident))).first()
        now = state.store.chain_time(db)
    if row is None or int(ident) >= 2**63:
        raise not_found("customer bill", ident)
    return row, now


@router.get(PATH + "/{id}", response_model=CustomerBill, response_model_exclude_none=True, responses=ERRORS,
            summary="One customer bill")  # fmt: skip
async def get_bill(request: Request, id: str, state: State, fields: str | None = Query(None, max_length=1000)) -> Any:
    row, now = _row(state, id)
    return one(_bill(request, state, row, now, member_names(state)), fields)


@router.post(PAY_PATH, response_model=PayCustomerBill, response_model_exclude_none=True, responses=ERRORS,
             status_code=201, summary="Pay a customer bill into escrow (as its payer)")  # fmt: skip
def pay_bill(request: Request, state: State, body: PayCustomerBillCreate) -> Any:
    if int(body.customerBill.id) >= 2**63:
        raise not_found("customer bill", body.customerBill.id)
    row, _ = _row(state, body.customerBill.id)
    client = state.client
    if client.address is None or row.payer.lower() != client.address.lower():
        names = member_names(state)
        raise ApiError(
            403, "PERMISSION_DENIED", f"only the bill's payer ({names.get(row.payer, row.payer)}) may pay it",
            f"this gateway acts as {client.address}",
        )  # fmt: skip
    if InvoiceStatus(row.status) is not IS.ISSUED:
        raise ApiError(409, "CONFLICT", f"customer bill {row.invoice_id} is {InvoiceStatus(row.status).label}, not due")
    result = client.escrow.fund(int(row.invoice_id))
    state.wait_indexed(result.receipt.block_number)
    amount = max(0, int(row.amount) - int(row.credited))
    return PayCustomerBill(
        id=str(uuid.uuid4()),
        state=BillTaskState.DONE,
        customerBill=CustomerBillRef(id=str(row.invoice_id), href=href(request, PATH, row.invoice_id)),
        transactionHash=result.receipt.tx_hash,
        amount=_money(state, row.token, amount),
    )
