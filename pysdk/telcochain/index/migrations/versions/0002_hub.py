"""The TMF688 event hub: subscriptions, the outbox and the deliveries (see telcochain.gateway.outbox).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:12:13.095916
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_deliveries",
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("subscription_id", "event_id", name=op.f("pk_hub_deliveries")),
    )
    with op.batch_alter_table("hub_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_hub_deliveries_due", ["status", "subscription_id", "position"], unique=False)

    op.create_table(
        "hub_outbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("api", sa.String(length=48), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column(
            "parties", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("derived_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_hub_outbox")),
    )
    with op.batch_alter_table("hub_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_hub_outbox_position", ["position"], unique=False)

    op.create_table(
        "hub_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("member", sa.String(length=42), nullable=False),
        sa.Column("api", sa.String(length=48), nullable=False),
        sa.Column("callback", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("after_position", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_subscriptions")),
    )


def downgrade() -> None:
    op.drop_table("hub_subscriptions")
    with op.batch_alter_table("hub_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_outbox_position")

    op.drop_table("hub_outbox")
    with op.batch_alter_table("hub_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_deliveries_due")

    op.drop_table("hub_deliveries")
