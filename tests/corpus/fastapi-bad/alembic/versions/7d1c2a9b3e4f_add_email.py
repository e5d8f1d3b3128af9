"""add email to users

Revision ID: 7d1c2a9b3e4f
Revises: 3a9f0c1d2b7e
"""
import sqlalchemy as sa
from alembic import op

revision = "7d1c2a9b3e4f"
down_revision = "3a9f0c1d2b7e"


def upgrade():
    op.add_column("users", sa.Column("email", sa.String(255), nullable=False))
    op.create_index("ix_users_email", "users", ["email"])
    op.drop_column("users", "legacy_login")


def downgrade():
    pass
