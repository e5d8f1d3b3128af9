"""Findings stored as changes along lineages: an analysis names its lineage (the branch's, pull
request's or commit's sequence of analyses), a finding row lasts from the analysis that first had
it to the one that no longer has it (`ended_analysis_id`), and `finding_lineages` names each
lineage's latest analysis. A push stores what changed instead of every finding again.

Rows recorded before this revision keep no lineage and belong to their analysis alone, so the
upgrade adds nullable columns only (no table rewrite). The downgrade writes every lineage
analysis's findings out in full, as the schema before it expects.

Revision ID: 0007_findings_as_changes
Revises: 0006_incremental
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_findings_as_changes"
down_revision = "0006_incremental"

_NOW = sa.text("CURRENT_TIMESTAMP")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COLUMNS = ("fingerprint", "rule", "severity", "stop_ship", "path", "line", "message", "created_at")


def _concurrently(create: bool, name: str, table: str, columns: list[str]) -> None:
    """An index on a table that already holds rows: on PostgreSQL built (or dropped) without
    blocking writes, which CONCURRENTLY can only do outside a transaction (ignored on SQLite)."""
    with op.get_context().autocommit_block():
        if create:
            op.create_index(name, table, columns, postgresql_concurrently=True)
        else:
            op.drop_index(name, table_name=table, postgresql_concurrently=True)


def upgrade() -> None:
    op.create_table(
        "finding_lineages",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column(
            "repository_id",
            sa.BigInteger(),
            sa.ForeignKey("repositories.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column(
            "head_analysis_id",
            _ID,
            sa.ForeignKey("analyses.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_index("ix_finding_lineages_repository_id", "finding_lineages", ["repository_id"])
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("lineage", sa.String(200), nullable=True))
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("lineage", sa.String(200), nullable=True))
        batch.add_column(
            sa.Column(
                "ended_analysis_id",
                _ID,
                sa.ForeignKey(
                    "analyses.id", ondelete="RESTRICT", name="findings_ended_analysis_id_fkey"
                ),
                nullable=True,
            )
        )
    _concurrently(True, "ix_analyses_lineage", "analyses", ["lineage"])
    _concurrently(True, "ix_findings_lineage_ended", "findings", ["lineage", "ended_analysis_id"])


def downgrade() -> None:
    # every analysis of a lineage gets its findings as rows of its own, then the changes go
    findings = sa.table(
        "findings",
        *(sa.column(c) for c in ("analysis_id", *_COLUMNS, "lineage", "ended_analysis_id")),
    )
    analyses = sa.table("analyses", sa.column("id"), sa.column("lineage"))
    f, a = findings.alias("f"), analyses.alias("a")
    held = sa.and_(
        f.c.lineage == a.c.lineage,
        f.c.analysis_id <= a.c.id,
        sa.or_(f.c.ended_analysis_id.is_(None), f.c.ended_analysis_id > a.c.id),
    )
    rows = (
        sa.select(a.c.id, *(f.c[c] for c in _COLUMNS))
        .select_from(a.join(f, held))
        .where(a.c.lineage.is_not(None))
    )
    op.execute(findings.insert().from_select(["analysis_id", *_COLUMNS], rows))
    op.execute("DELETE FROM findings WHERE lineage IS NOT NULL")
    _concurrently(False, "ix_findings_lineage_ended", "findings", ["lineage", "ended_analysis_id"])
    _concurrently(False, "ix_analyses_lineage", "analyses", ["lineage"])
    with op.batch_alter_table("findings") as batch:
        batch.drop_constraint("findings_ended_analysis_id_fkey", type_="foreignkey")
        batch.drop_column("ended_analysis_id")
        batch.drop_column("lineage")
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("lineage")
    op.drop_index("ix_finding_lineages_repository_id", table_name="finding_lineages")
    op.drop_table("finding_lineages")
