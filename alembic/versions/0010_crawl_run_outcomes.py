"""crawl_runs.outcomes: what became of every page the crawl was linked to

One JSON object per run, ``{outcome: pages}`` (``new``, ``known``, ``not_article``,
``forbidden``, ``error``, ``unfinished`` …; see ``crawler/outcomes.py``). Older runs
have none (NULL): they were not counted this way.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 11:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.add_column(sa.Column("outcomes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.drop_column("outcomes")
