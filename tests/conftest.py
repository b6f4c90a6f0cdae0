"""Shared fixtures: real databases (a SQLite file and the local PostgreSQL server).

PostgreSQL tests never skip: if the server is unreachable they fail, because CI
starts it (``.ci/run``). Each test gets its own PostgreSQL schema, dropped afterwards,
so tests cannot see each other's rows.

``scripts/test`` runs the suite on several pytest-xdist workers (``--dist loadgroup``),
so every test must be safe beside any other: servers on port 0, files under
``tmp_path``, a schema of its own. A module whose tests share a module-scoped fixture
runs on one worker, so the fixture is built once (tests/xdist_schedule.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database

# The size of the terminal the suite runs in must not change what tests see: newsmon
# sizes its tables from COLUMNS, and xdist workers start with COLUMNS=80 LINES=24,
# which child processes would inherit (a table then cuts "robots_unparseable×1").
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

PG_BASE_URL = os.environ.get("NEWSMON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin_execute(sql: str) -> None:
    import psycopg

    conninfo = PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.encode())


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # a pytest-xdist hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup`` (scripts/test): see tests/xdist_schedule.py."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.xdist_schedule import ModuleFixtureScheduling

    return ModuleFixtureScheduling(config, log)


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


def with_settings(config_toml: str, *lines: str) -> str:
    """``config_toml`` with extra lines in its ``[settings]`` table."""
    assert "[settings]\n" in config_toml
    return config_toml.replace("[settings]\n", "[settings]\n" + "".join(f"{x}\n" for x in lines), 1)


@pytest.fixture
def sites() -> Iterator[SampleSites]:
    """The bundled sample news sites on a fresh localhost port, day one."""
    with SampleSites(day=1) as running:
        yield running


@pytest.fixture(autouse=True)
def _user_dirs_of_its_own(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every command it starts) gets empty XDG data/config dirs, so a test
    that uses the default database never reads or writes the user's, nor another
    test's running beside it."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@dataclass
class Newsmon:
    """Runs the real ``newsmon`` command in a child process (a crawl needs its own
    Twisted reactor), against one database and config."""

    db_url: str  # "": no --db, so the default database (in ``home``)
    config: Path | None = None
    home: Path | None = None  # XDG data/config dirs, so tests never touch the user's

    def __call__(self, *args: str, check: bool = True, timeout: float = 300
                 ) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "newsmon"]
        if self.db_url:
            cmd += ["--db", self.db_url]
        if self.config is not None:
            cmd += ["--config", str(self.config)]
        result = subprocess.run([*cmd, *args], capture_output=True, text=True,
                                timeout=timeout, check=False, env=self.env())
        if check and result.returncode != 0:
            raise AssertionError(f"newsmon {' '.join(args)} exited {result.returncode}\n"
                                 f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result


    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
        env["PYTHONIOENCODING"] = "utf-8"
        if self.home is not None:
            env["XDG_DATA_HOME"] = str(self.home / "data")
            env["XDG_CONFIG_HOME"] = str(self.home / "config")
        return env


@pytest.fixture
def newsmon(sites: SampleSites, tmp_path: Path, sqlite_url: str) -> Newsmon:
    """``newsmon`` wired to the sample sites' config and a fresh SQLite file.

    The sample pages are years old, so the backfill window is off: every match is
    flagged (tests of the window write their own config).
    """
    config = tmp_path / "sites.toml"
    config.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"'),
                      encoding="utf-8")
    return Newsmon(sqlite_url, config, home=tmp_path / "home")
