"""Alembic environment: runs migrations on the engine newsmon hands over.

``newsmon db upgrade`` (and every first use) passes its engine through
``config.attributes["engine"]``. Run by hand (``alembic upgrade head`` from the repo
root), the URL comes from ``NEWSMON_DB`` or ``sqlalchemy.url`` in alembic.ini.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, Engine, text

from newsmon.storage.engine import create_db_engine
from newsmon.storage.fts import include_in_schema_compare
from newsmon.storage.models import Base, UTCDateTime

target_metadata = Base.metadata


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine  # type: ignore[no-any-return]
    url = os.environ.get("NEWSMON_DB") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set NEWSMON_DB or sqlalchemy.url to the database to migrate")
    return create_db_engine(url)


def _render_item(kind: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes UTCDateTime as the plain DateTime it stores, so migrations
    never import application code."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        include_name=include_in_schema_compare,  # the search index is not in the models
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes starting on a fresh schema must not both create its tables; the
            # lock is per schema, so separate schemas (e.g. parallel tests) do not wait.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema()))"))
        context.run_migrations()


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        _run(connection)
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
