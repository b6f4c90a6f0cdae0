"""Engines and sessions: SQLite (WAL) by default, PostgreSQL by URL.

:class:`Database` is built once at the entry point from a URL and passed down. It
applies pending migrations on first use, so a fresh database just works.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from newsmon.storage.fts import register_search_functions

__all__ = ["Database", "DatabaseError", "Session", "check_database_target", "create_db_engine",
           "normalize_url"]

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


class DatabaseError(RuntimeError):
    """The database named by a URL cannot be opened or migrated."""


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs by picking the installed psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {url!r} (e.g. sqlite:///news.db or "
                            "postgresql://localhost/news)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def check_database_target(url: str, *, create: bool = False) -> None:
    """Refuse a SQLite URL that would quietly give the user a database they did not mean.

    An in-memory database (``sqlite://``, ``sqlite:///``) keeps nothing after the
    command; a file that exists must be a SQLite database; a new file's directory must
    exist unless ``create`` (then it is made). PostgreSQL URLs pass: the server says.
    """
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    if database in ("", ":memory:"):
        raise DatabaseError(f"{url}: an in-memory SQLite database keeps nothing after the "
                            "command; give a file, e.g. sqlite:///news.db")
    if database.startswith("file:"):
        return  # a SQLite URI filename: its options are the user's business
    path = Path(database).expanduser()
    if path.exists():
        _check_sqlite_file(path)
    elif create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise DatabaseError(f"{path}: directory {path.parent} does not exist (a mistyped "
                            "path? `newsmon --db URL db upgrade` creates it)")


def _check_sqlite_file(path: Path) -> None:
    if path.is_dir():
        raise DatabaseError(f"{path}: is a directory, not a SQLite database file")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if header and header != SQLITE_HEADER:  # an empty file is a new database to SQLite
        raise DatabaseError(f"{path}: not a SQLite database (the file holds something else)")


PG_CONNECT_TIMEOUT_SECONDS = 10


def create_db_engine(url: str) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
        if "connect_timeout" not in parsed.query:
            # A server that does not answer (host gone, packets dropped) fails a
            # connection after this long instead of the OS's minutes: a crawl worker
            # then fails its job with the reason rather than hanging.
            kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {parsed!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (search, digest) run while a crawl writes; foreign keys are off
    # by default in SQLite and the cascades depend on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    register_search_functions(dbapi_connection)  # the search index triggers call it


class Database:
    """A database URL with its engine and session factory, migrated on first use."""

    def __init__(self, url: str, *, auto_upgrade: bool = True) -> None:
        self.url = normalize_url(url)
        self.engine = create_db_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._auto_upgrade = auto_upgrade
        self._checked = False

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def ensure_schema(self) -> None:
        """Apply pending migrations once per process (idempotent, safe to race)."""
        if self._checked:
            return
        from newsmon.storage.migrate import upgrade_to_head  # migrate imports this module

        upgrade_to_head(self.engine)
        self._checked = True

    def check_writable(self) -> None:
        """Raise :class:`DatabaseError` unless the database accepts writes.

        A read-only database (a file or mount opened read-only, a PostgreSQL role or
        transaction that is read-only) would otherwise be noticed only when the first
        article is stored, after every page was fetched. The probe rewrites the
        migration marker with itself and rolls back, so nothing changes.
        """
        self.ensure_schema()
        try:
            with self.engine.connect() as connection, connection.begin() as transaction:
                connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
                transaction.rollback()
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise DatabaseError(f"{self.display_url}: cannot write to the database: "
                                f"{reason}") from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session; the caller owns the transaction (``with session.begin():``)."""
        if self._auto_upgrade:
            self.ensure_schema()
        with self._sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


# What "the database went away" looks like from SQLAlchemy (connection lost, schema
# dropped, server shut down), as opposed to a constraint error on one row.
_DATABASE_LOST = (OperationalError, ProgrammingError, InterfaceError, InternalError)


def database_lost(exc: BaseException | None) -> str | None:
    """The first line of the database's own message, when ``exc`` means the database is
    unavailable; None for any other error."""
    if not isinstance(exc, _DATABASE_LOST):
        return None
    message = str(exc.orig or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
