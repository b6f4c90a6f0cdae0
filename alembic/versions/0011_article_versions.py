"""Watching articles after publication: versions, checks, re-visit runs

``article_watch`` (one row per watched article: its re-visit schedule, state and
validators), ``article_versions`` (every version of its text, the first kept as it
was), ``article_checks`` (one row per re-visit, unique per article and step),
``revisit_runs`` (the re-visit run ledger) and ``watch_deliveries`` (edit and
takedown events sent to each subscription). See ``newsmon/versions.py``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 19:10:26.744978
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revisit_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisit_runs"))
    )
    op.create_table(
        "article_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("version_seq", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
            name=op.f("fk_article_checks_article_id_articles"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["revisit_runs.id"],
            name=op.f("fk_article_checks_run_id_revisit_runs"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_checks")),
        sa.UniqueConstraint("article_id", "step", name=op.f("uq_article_checks_article_id_step"))
    )
    with op.batch_alter_table("article_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_checks_event"), ["event"], unique=False)

    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("editor", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
            name=op.f("fk_article_versions_article_id_articles"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
        sa.UniqueConstraint("article_id", "seq", name=op.f("uq_article_versions_article_id_seq"))
    )
    op.create_table(
        "article_watch",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("page_hash", sa.String(length=64), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("last_checked", sa.DateTime(), nullable=True),
        sa.Column("last_alive", sa.DateTime(), nullable=True),
        sa.Column("taken_down_at", sa.DateTime(), nullable=True),
        sa.Column("evidence", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
            name=op.f("fk_article_watch_article_id_articles"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
            name=op.f("fk_article_watch_source_id_sources"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_watch"))
    )
    with op.batch_alter_table("article_watch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_watch_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_watch_source_id"), ["source_id"], unique=False)

    op.create_table(
        "watch_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("subscription", sa.String(length=100), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["article_checks.id"],
            name=op.f("fk_watch_deliveries_check_id_article_checks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_deliveries")),
        sa.UniqueConstraint("check_id", "subscription",
            name=op.f("uq_watch_deliveries_check_id_subscription"))
    )


def downgrade() -> None:
    op.drop_table("watch_deliveries")
    with op.batch_alter_table("article_watch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_watch_source_id"))
        batch_op.drop_index(batch_op.f("ix_article_watch_due_at"))

    op.drop_table("article_watch")
    op.drop_table("article_versions")
    with op.batch_alter_table("article_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_checks_event"))

    op.drop_table("article_checks")
    op.drop_table("revisit_runs")
