"""What differs between the backends: which one a session uses, and its INSERT … ON
CONFLICT, so writes are idempotent on both."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_for(session: Session, table: Any) -> Any:
    """``INSERT`` for the session's backend; both support ``on_conflict_do_*``."""
    if is_postgresql(session):
        return postgresql.insert(table)
    return sqlite.insert(table)
