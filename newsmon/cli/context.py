"""Shared state of one ``newsmon`` invocation: global options, config, database."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from newsmon.config import (
    Config,
    ConfigError,
    default_config_path,
    load_config,
    resolve_database_url,
)
from storage.engine import Database, DatabaseError

F = TypeVar("F", bound=Callable[..., Any])


def global_options(func: F) -> F:
    """``--db``, ``--config`` and ``-v``, shared by the group."""
    func = click.option("-v", "--verbose", count=True,
                        help="More log output on stderr (-vv for debug).")(func)
    func = click.option("--config", "config", envvar="NEWSMON_CONFIG", metavar="PATH",
                        help="Sources/settings TOML file [env NEWSMON_CONFIG; default "
                        f"{default_config_path()} if it exists].")(func)
    func = click.option("--db", "db", envvar="NEWSMON_DB", metavar="URL",
                        help="SQLAlchemy database URL [env NEWSMON_DB; default a SQLite "
                        "file in the per-user data directory].")(func)
    return func


class DatabaseUnavailable(click.ClickException):
    """The database cannot be opened or migrated."""

    exit_code = 3


@dataclass
class AppContext:
    db_option: str | None
    config_option: str | None
    verbose: int = 0
    _config: Config | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        return resolve_database_url(self.db_option)

    @property
    def database(self) -> Database:
        """The database, migrated to the current schema (exit 3 if unusable)."""
        if self._database is None:
            try:
                database = Database(self.database_url)
                database.ensure_schema()
            except DatabaseError as exc:
                raise DatabaseUnavailable(str(exc)) from None
            self._database = database
        return self._database

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = self._load_config()
        return self._config

    def _load_config(self) -> Config:
        if self.config_option:
            path = Path(self.config_option)
        else:
            path = default_config_path()
            if not path.exists():
                return Config()
        try:
            return load_config(path)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None


def pass_app(func: F) -> F:
    """Hand the command the :class:`AppContext` as its first argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = click.get_current_context().find_object(AppContext)
        assert app is not None, "newsmon commands run under the newsmon group"
        return func(app, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
