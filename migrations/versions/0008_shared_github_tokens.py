"""githubkit's token cache in the database, so that every worker of the App shares one
installation token per installation (values encrypted with a key derived from the App's key).

Revision ID: 0008_shared_github_tokens
Revises: 0007_findings_as_changes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_shared_github_tokens"
down_revision = "0007_findings_as_changes"


def upgrade() -> None:
    op.create_table(
        "github_tokens",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_github_tokens_expires_at", "github_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_github_tokens_expires_at", table_name="github_tokens")
    op.drop_table("github_tokens")
