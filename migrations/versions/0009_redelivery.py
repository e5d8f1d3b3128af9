"""Missed webhook deliveries: the leases of periodic tasks (one process at a time runs each) and
the deliveries the App asked GitHub to redeliver (each asked once).

Revision ID: 0009_redelivery
Revises: 0008_shared_github_tokens
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_redelivery"
down_revision = "0008_shared_github_tokens"


def upgrade() -> None:
    op.create_table(
        "task_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "redelivery_requests",
        sa.Column("guid", sa.String(64), primary_key=True),
        sa.Column("hook_delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_redelivery_requests_asked_at", "redelivery_requests", ["asked_at"])


def downgrade() -> None:
    op.drop_index("ix_redelivery_requests_asked_at", table_name="redelivery_requests")
    op.drop_table("redelivery_requests")
    op.drop_table("task_leases")
