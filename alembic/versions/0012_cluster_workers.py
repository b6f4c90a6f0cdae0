"""cluster: workers' heartbeats, the worker and task of each job run, wider lease names

``newsmon worker`` processes (Celery) on several machines share one database:

* ``workers``: one row per worker process, renewed by its heartbeat — what
  ``newsmon status`` lists (host, pid, jobs running, last heartbeat);
* ``job_runs.worker`` / ``job_runs.task_id``: which worker ran a job and which broker
  message it came from (a redelivered message keeps its task id); NULL for the local
  executor;
* ``runner_leases.name`` widened to 300 characters: besides ``runner`` it now holds the
  per-job leases (``job:crawl:NAME``, one crawl of a source at a time in the cluster)
  and per-host leases (``host:www.example.cn``, politeness across workers).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", sa.String(length=500), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("jobs_running", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("job_runs") as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("task_id", sa.String(length=200), nullable=True))
    with op.batch_alter_table("runner_leases") as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=100),
                              type_=sa.String(length=300), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("runner_leases") as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=300),
                              type_=sa.String(length=100), existing_nullable=False)
    with op.batch_alter_table("job_runs") as batch_op:
        batch_op.drop_column("task_id")
        batch_op.drop_column("worker")
    op.drop_table("workers")
