"""url ledger, conditional-GET trust, story fingerprints and bands, run counters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:07:52.196633
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conditional_get_trust",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("honest_checks", sa.Integer(), nullable=False),
        sa.Column("dishonest_checks", sa.Integer(), nullable=False),
        sa.Column("trusted_304s", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
                                name=op.f("fk_conditional_get_trust_source_id_sources"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conditional_get_trust")),
        sa.UniqueConstraint("source_id", "origin",
                            name=op.f("uq_conditional_get_trust_source_id_origin")),
    )
    op.create_table(
        "article_fingerprints",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
                                name=op.f("fk_article_fingerprints_article_id_articles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_fingerprints")),
    )
    with op.batch_alter_table("article_fingerprints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_fingerprints_body_hash"), ["body_hash"],
                              unique=False)
    op.create_table(
        "story_bands",
        sa.Column("key", sa.String(length=24), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
                                name=op.f("fk_story_bands_article_id_articles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "article_id", name=op.f("pk_story_bands")),
    )
    with op.batch_alter_table("story_bands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_bands_article_id"), ["article_id"],
                              unique=False)
    op.create_table(
        "url_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("links_digest", sa.String(length=64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_fetched", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
                                name=op.f("fk_url_ledger_article_id_articles"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
                                name=op.f("fk_url_ledger_source_id_sources"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_url_ledger")),
        sa.UniqueConstraint("url", name=op.f("uq_url_ledger_url")),
    )
    with op.batch_alter_table("url_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_url_ledger_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_url_ledger_source_id"), ["source_id"], unique=False)
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped_known", sa.Integer(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("not_modified", sa.Integer(), server_default="0",
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("not_modified")
        batch_op.drop_column("skipped_known")
    with op.batch_alter_table("url_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_url_ledger_source_id"))
        batch_op.drop_index(batch_op.f("ix_url_ledger_article_id"))
    op.drop_table("url_ledger")
    with op.batch_alter_table("story_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_bands_article_id"))
    op.drop_table("story_bands")
    with op.batch_alter_table("article_fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_fingerprints_body_hash"))
    op.drop_table("article_fingerprints")
    op.drop_table("conditional_get_trust")
