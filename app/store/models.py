"""Tables: installations, repositories, deliveries (every webhook received), analyses (one per
judged commit and context), findings (stored as changes along each lineage of analyses: see
FindingRow), the lineages' latest analyses, the file-result cache keyed by (blob id,
path kind, digest of the rules for that kind) shared by every branch and repository, the config
files seen (by blob id), the bookkeeping of superseding (the newest judging delivery per subject
and one claim per judged (commit, context)), and waivers (findings accepted as risk)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Installation(Base):
    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(255))
    suspended: Mapped[bool] = mapped_column(default=False)
    # set when the App is uninstalled; the rows stay, so history survives a re-install
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="RESTRICT"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # set when the repository is removed from the installation; its analyses and waivers stay
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # as the latest delivery that said so; NULL: not known yet (the badge treats it as private)
    private: Mapped[bool | None] = mapped_column()
    default_branch: Mapped[str | None] = mapped_column(String(255))


class Delivery(Base):
    """A webhook delivery: stored before it is acknowledged, so nothing accepted is lost."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # X-GitHub-Delivery
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    repository: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)
    # accepted -> running -> done | failed | ignored | superseded | duplicate | rate_limited
    # | retrying (GitHub was unavailable: run again at `retry_at`)
    status: Mapped[str] = mapped_column(String(16), index=True, default="accepted")
    error: Mapped[str | None] = mapped_column(Text)
    # rate_limited: GitHub's quota resets then; retrying: the next try after an outage; the
    # delivery is run again from that time
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # retrying: when GitHub's outage first stopped this delivery (its retries end a while after)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Analysis(Base):
    """One judged commit in one context. `lineage` names the sequence of analyses its findings
    are stored along (its branch's, pull request's or commit's: the job's lock); NULL for an
    analysis recorded before 0007, whose findings are all rows of its own."""

    __tablename__ = "analyses"
    # a commit can be judged in several contexts (its branch, a pull request, a merge group)
    __table_args__ = (Index("ix_analyses_repository_id_sha", "repository_id", "sha"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="RESTRICT"), index=True
    )
    sha: Mapped[str] = mapped_column(String(40))
    ruleset_digest: Mapped[str] = mapped_column(String(64))
    score: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(1))
    verdict: Mapped[str | None] = mapped_column(String(32))
    check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    delivery_id: Mapped[str | None] = mapped_column(ForeignKey("deliveries.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lineage: Mapped[str | None] = mapped_column(String(200), index=True)


class FindingRow(Base):
    """One finding as it is (rule, severity, stop-ship, path, line, message) through a run of
    analyses of one lineage: from `analysis_id`, the first that had it, up to the analysis
    `ended_analysis_id` that no longer has it so (NULL: the lineage's latest analysis has it).
    A push that changes one file adds rows for what changed in it, not for every finding of the
    repository. The findings of an analysis are its lineage's rows with `analysis_id` <= its id
    and no end, or an end after it (app/store/findings.py); a row with no lineage (recorded
    before 0007) belongs to its analysis alone."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_lineage_ended", "lineage", "ended_analysis_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("analyses.id", ondelete="RESTRICT"), index=True
    )
    lineage: Mapped[str | None] = mapped_column(String(200))
    ended_analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey("analyses.id", ondelete="RESTRICT")
    )
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    stop_ship: Mapped[bool] = mapped_column(default=False)
    path: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FindingLineage(Base):
    """The latest analysis of each lineage: the one whose findings the lineage's open rows (no
    end) are. Moved only from the analysis it names (a compare-and-set), so two jobs can never
    both extend a lineage from the same analysis."""

    __tablename__ = "finding_lineages"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="RESTRICT"), index=True
    )
    head_analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="RESTRICT"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class FileResult(Base):
    """The engine's per-file result (JSON), by (blob id, path kind, ruleset digest)."""

    __tablename__ = "file_results"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WaiverRow(Base):
    """A finding of a repository accepted as a documented risk by `/production waive`: who, why,
    until when (inclusive; NULL for no end date), and where it was asked. `/production unwaive`
    revokes it (the row stays, with who revoked it and when, as the audit trail)."""

    __tablename__ = "waivers"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="RESTRICT"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str | None] = mapped_column(String(16))
    path: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    until: Mapped[date | None] = mapped_column(Date)
    pull_request: Mapped[int | None] = mapped_column(Integer)
    comment_url: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AttestationRow(Base):
    """What a person confirmed about a repository with `/production confirm ITEM evidence`
    (backups restored, on-call, ...): who, with what evidence, until when (inclusive; NULL for no
    end date), and where it was asked. `/production unconfirm` revokes it (the row stays, with
    who revoked it and when, as the audit trail)."""

    __tablename__ = "attestations"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="RESTRICT"), index=True
    )
    item: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    until: Mapped[date | None] = mapped_column(Date)
    pull_request: Mapped[int | None] = mapped_column(Integer)
    comment_url: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConfigBlob(Base):
    """`.github/stopship.yml` as it was at one blob id: a commit whose tree names a config blob
    seen before needs no request to read it."""

    __tablename__ = "config_blobs"

    blob_sha: Mapped[str] = mapped_column(String(40), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SupersedeMark(Base):
    """One row per accepted delivery that asks for a verdict on a subject (a branch, a pull
    request); the row with the highest id for a key is the newest, and every older job for that
    key is superseded. Written in the transaction that accepts the delivery."""

    __tablename__ = "supersede_marks"
    __table_args__ = (Index("ix_supersede_marks_key_id", "key", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    sha: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AnalysisClaim(Base):
    """The first job to judge a commit in a context claims it, so two deliveries for the same
    commit (a push and its check_suite) produce one analysis. A job that fails or runs out of
    API quota releases its claim (and names the check run it could not close, for the next try)."""

    __tablename__ = "analysis_claims"

    repository_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sha: Mapped[str] = mapped_column(String(40), primary_key=True)
    context: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64))
    # running -> done | released
    state: Mapped[str] = mapped_column(String(16))
    open_check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class GitHubToken(Base):
    """githubkit's token cache shared by every process of the App (installation tokens and the
    App's JWT): the key is a digest of githubkit's cache key, the value is encrypted with a key
    derived from the App's private key (see app/github/token_cache.py)."""

    __tablename__ = "github_tokens"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TaskLease(Base):
    """A periodic task's lease: the process whose `holder` is written here, until `expires_at`,
    is the only one running it (SQLite and PostgreSQL alike; a process that dies lets it lapse)."""

    __tablename__ = "task_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RedeliveryRequest(Base):
    """A webhook delivery (by GitHub's GUID, our `deliveries.id`) that never reached the
    `deliveries` table and that the App asked GitHub to deliver again: asked once, never twice."""

    __tablename__ = "redelivery_requests"

    guid: Mapped[str] = mapped_column(String(64), primary_key=True)
    hook_delivery_id: Mapped[int] = mapped_column(BigInteger)  # the attempt asked to be redone
    event: Mapped[str] = mapped_column(String(64))
    # accepted (GitHub queued the redelivery) | refused (GitHub answered 4xx: never again)
    outcome: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
