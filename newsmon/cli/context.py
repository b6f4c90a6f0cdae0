"""Shared state of one ``newsmon`` invocation: global options, config, database.

Errors a user can fix without reading a traceback are raised here as one-line
:class:`click.ClickException` subclasses with designed exit codes
(:mod:`newsmon.cli.exitcodes`); ``newsmon.cli`` prints them as ``newsmon: error: …``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from newsmon.app.reading import QueryError, ReadingError
from newsmon.cli.exitcodes import EXIT_ERRORS, EXIT_UNAVAILABLE, EXIT_USAGE
from newsmon.config import (
    Config,
    ConfigError,
    default_config_path,
    is_default_location,
    load_config,
    resolve_database_url,
)
from newsmon.jobresult import JobReport, write_result
from newsmon.storage.engine import Database, DatabaseError, check_database_target

F = TypeVar("F", bound=Callable[..., Any])


def global_options(func: F) -> F:
    """``--db``, ``--config`` and ``-v``, shared by the group."""
    func = click.option("-v", "--verbose", count=True,
                        help="More log output on stderr: -v newsmon's debug lines, -vv "
                        "Scrapy's too.")(func)
    func = click.option("--config", "config", envvar="NEWSMON_CONFIG", metavar="PATH",
                        help="Sources/settings TOML file [env NEWSMON_CONFIG; default "
                        f"{default_config_path()} if it exists].")(func)
    func = click.option("--db", "db", envvar="NEWSMON_DB", metavar="URL",
                        help="SQLAlchemy database URL [env NEWSMON_DB; default a SQLite "
                        "file in the per-user data directory].")(func)
    return func


def late_global_options() -> list[click.Option]:
    """The global options again, for after a command's name (hidden from its help: the
    group's help documents them). Their values go into the :class:`AppContext` the group
    made, the later one winning, as with any repeated option."""
    return [
        click.Option(["--db"], metavar="URL", hidden=True, expose_value=False,
                     callback=_store_global("db_option")),
        click.Option(["--config"], metavar="PATH", hidden=True, expose_value=False,
                     callback=_store_global("config_option")),
        click.Option(["-v", "--verbose"], count=True, hidden=True, expose_value=False,
                     callback=_add_verbosity),
    ]


def _store_global(attribute: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        app = ctx.find_object(AppContext)
        if value is not None and app is not None:
            setattr(app, attribute, value)
    return store


def _add_verbosity(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    app = ctx.find_object(AppContext)
    if value and app is not None:
        app.verbose += value


class UserError(click.ClickException):
    """Input that cannot be used — a config file, a query, an unknown name: one line,
    exit 2, and no usage block (the command line itself was fine)."""

    exit_code = EXIT_USAGE


class WorkFailed(click.ClickException):
    """The command ran but its work failed (a fetch, a lookup): one line, exit 1."""

    exit_code = EXIT_ERRORS


def write_result_file(path: Path | None, report: JobReport) -> None:
    """Write ``report`` where ``newsmon run`` asked for it (``--result-file``), if it did."""
    if path is None:
        return
    try:
        write_result(path, report)
    except OSError as exc:
        raise WorkFailed(f"{path}: {exc.strerror or exc}") from None


class DatabaseUnavailable(click.ClickException):
    """The database cannot be opened or migrated."""

    exit_code = EXIT_UNAVAILABLE


class ConfigUnavailable(click.ClickException):
    """The config file named by ``--config`` is missing or cannot be read."""

    exit_code = EXIT_UNAVAILABLE


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

    def open_database(self, *, create: bool = False, migrate: bool = True) -> Database:
        """The database, migrated on first use when ``migrate`` (exit 3 if it cannot be
        used).

        A SQLite file may be created, but its directory only when ``create`` is set
        or for the default location: a mistyped path is an error, not a new archive.
        """
        url = self.database_url
        check_database_target(url, create=create or is_default_location(url))
        return Database(url, auto_upgrade=migrate)

    @property
    def database(self) -> Database:
        """The database, migrated to the current schema (exit 3 if unusable)."""
        if self._database is None:
            database = self.open_database()
            database.ensure_schema()
            self._database = database
        return self._database

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = self._load_config()
        return self._config

    @property
    def config_path(self) -> Path:
        """``--config``, else the default location (which need not exist)."""
        return Path(self.config_option) if self.config_option else default_config_path()

    def _load_config(self) -> Config:
        path = self.config_path
        if not self.config_option and not path.exists():
            return Config()
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "does not exist"
            raise ConfigUnavailable(f"{path}: config file {what}")
        try:
            return load_config(path)
        except OSError as exc:
            raise ConfigUnavailable(f"{path}: cannot read the config file: "
                                    f"{exc.strerror or exc}") from None


def pass_app(func: F) -> F:
    """Hand the command the :class:`AppContext` as its first argument.

    Errors of the command body that a user can fix become one-line errors, so no
    command writes the translation again: a plain :class:`click.UsageError`, a config
    error or input the use-cases reject (a query, with its caret; an unknown name) is a
    :class:`UserError`, exit 2 (the usage block is for mistakes in the command line's
    shape, which click's parser reports itself); a database that cannot be opened or
    migrated is :class:`DatabaseUnavailable`, exit 3.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = click.get_current_context().find_object(AppContext)
        assert app is not None, "newsmon commands run under the newsmon group"
        try:
            return func(app, *args, **kwargs)
        except click.UsageError as exc:
            if type(exc) is not click.UsageError:
                raise
            raise UserError(exc.message) from None
        except QueryError as exc:
            raise UserError(f"{exc}\n{exc.caret}") from None
        except (ConfigError, ReadingError) as exc:
            raise UserError(str(exc)) from None
        except DatabaseError as exc:
            raise DatabaseUnavailable(str(exc)) from None

    return wrapper  # type: ignore[return-value]
