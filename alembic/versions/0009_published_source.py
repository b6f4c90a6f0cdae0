"""articles.published_source: which evidence gave the publish time

json-ld, meta, byline, script, url, feed, sitemap, http-last-modified … (see
``crawler.extract.article._Extraction._date_candidates``); NULL for articles stored
before this revision and for articles without a publish time.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both dialects: a batch copy of ``articles`` on SQLite
    # would drop the search index's triggers (migration 0003).
    op.add_column("articles", sa.Column("published_source", sa.String(length=40),
                                        nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a plain column in place, keeping the triggers
    op.drop_column("articles", "published_source")
