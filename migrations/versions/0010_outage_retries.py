"""Deliveries stopped by a GitHub outage (a 5xx, a timeout, a lost connection) are run again with
back-off until a deadline: `deliveries.failing_since` is when the outage first stopped it.

Revision ID: 0010_outage_retries
Revises: 0009_redelivery
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_outage_retries"
down_revision = "0009_redelivery"


def upgrade() -> None:
    # a nullable column without a default: a metadata-only change on PostgreSQL, no rewrite
    op.add_column("deliveries", sa.Column("failing_since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("failing_since")
