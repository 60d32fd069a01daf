"""The gateway's MACD service orders: which order asked for which twin's change, in which call.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_macd_items",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=66), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "item_id", "asset_id", name=op.f("pk_gateway_macd_items")),
    )
    with op.batch_alter_table("gateway_macd_items", schema=None) as batch_op:
        batch_op.create_index("ix_gateway_macd_items_asset", ["asset_id", "ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_macd_items", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_macd_items_asset")
    op.drop_table("gateway_macd_items")
