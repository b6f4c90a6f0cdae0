"""Run the Alembic migrations programmatically.

They live in the repository's ``alembic/`` folder, which is ``newsmon/migrations`` inside
the package (a link in a checkout, a copy in the wheel), so an installed newsmon can
create its schema from any directory.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError as SQLDatabaseError
from sqlalchemy.exc import OperationalError

from newsmon.storage.engine import DatabaseError

# Not resolved: in a checkout newsmon/storage and newsmon/migrations are links, and the
# path must go through newsmon/ to reach the migrations in the wheel layout as well.
MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"
# Alembic runs env.py through module-level proxies (``alembic.context``): two threads
# upgrading at once (the crawlers of one process, each on its database thread) would
# unset each other's. One upgrade at a time per process.
_UPGRADING = threading.Lock()


def alembic_config(engine: Engine | None = None) -> AlembicConfig:
    """An Alembic config for our migrations; ``env.py`` runs them on ``engine``."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "alembic/versions holds no migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database (None when empty)."""
    # Opening is where a corrupt file shows ("file is not a database" is not an
    # OperationalError), so any database error here means "cannot open".
    with _reporting_connection_errors(engine, SQLDatabaseError), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> bool:
    """Upgrade if behind; returns True when migrations ran."""
    if current_revision(engine) == head_revision():
        return False
    # Any database error, not only a lost connection: a read-only database fails here
    # with InternalError ("read-only transaction").
    with _UPGRADING, _reporting_connection_errors(engine, SQLDatabaseError):
        command.upgrade(alembic_config(engine), "head")
    return True


@contextmanager
def _reporting_connection_errors(engine: Engine,
                                 errors: type[SQLDatabaseError] = OperationalError
                                 ) -> Iterator[None]:
    try:
        yield
    except errors as exc:
        shown = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"cannot open database {shown}: "
                            f"{str(exc.orig or exc).strip().splitlines()[0]}") from None


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
