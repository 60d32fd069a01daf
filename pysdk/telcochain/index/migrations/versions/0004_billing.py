"""Issue 14 part B (billing): invoices.paid (partial payments) and the disputes table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("paid", sa.String(length=80), server_default="0", nullable=False))
    op.create_table(
        "disputes",
        sa.Column("dispute_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("payer", sa.String(length=42), nullable=False),
        sa.Column("payee", sa.String(length=42), nullable=False),
        sa.Column("line", sa.String(length=66), nullable=False),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=66), nullable=False),
        sa.Column("credit", sa.String(length=80), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("by_vote", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("ref", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("dispute_id", name=op.f("pk_disputes")),
    )
    op.create_index("ix_disputes_invoice", "disputes", ["invoice_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_disputes_invoice", table_name="disputes")
    op.drop_table("disputes")
    op.drop_column("invoices", "paid")
