"""Shared fixtures: real databases (a SQLite file and the local PostgreSQL server).

PostgreSQL tests never skip: if the server is unreachable they fail, because CI
starts it (``.ci/run``). Each test gets its own PostgreSQL schema, dropped afterwards,
so tests cannot see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.engine import Database

PG_BASE_URL = os.environ.get("NEWSMON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin_execute(sql: str) -> None:
    import psycopg

    conninfo = PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newsmon.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the local PostgreSQL server, selected through search_path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        _pg_admin_execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # any connection failure becomes one clear test failure
        pytest.fail(f"PostgreSQL at {PG_BASE_URL} is required (CI starts it): {exc}")
    yield f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    _pg_admin_execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    db.ensure_schema()
    yield db
    db.dispose()
