"""An archive filled by a real crawl of the sample sites, and ``newsmon serve``'s app
running in uvicorn on a free localhost port, for the API and MCP tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from newsmon.config import load_config
from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.web.access import Access
from newsmon.web.app import WebSettings, create_app
from tests.conftest import PG_BASE_URL, _pg_admin_execute, with_settings

TOKEN = "test-token-0123456789"


@dataclass
class Archive:
    db_url: str
    config: Path

    def newsmon(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The real ``newsmon`` command on this archive."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
        env["PYTHONIOENCODING"] = "utf-8"
        result = subprocess.run([sys.executable, "-m", "newsmon", "--db", self.db_url,
                                 "--config", str(self.config), *args],
                                capture_output=True, text=True, timeout=600, env=env,
                                check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"newsmon {' '.join(args)} exited {result.returncode}\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


@contextmanager
def crawled_archive(kind: str, folder: Path) -> Iterator[Archive]:
    """The sample sites crawled into a fresh SQLite file or PostgreSQL schema, with the
    topic ``qingdao`` (青島) matched against them."""
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'newsmon.db'}"
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        _pg_admin_execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    try:
        with SampleSites(day=1) as sites:
            config = folder / "sites.toml"
            config.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"'),
                              encoding="utf-8")
            archive = Archive(url, config)
            archive.newsmon("crawl")
            archive.newsmon("topics", "add", "qingdao", "青島")
        yield archive
    finally:
        if schema is not None:
            _pg_admin_execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class RunningServer:
    base: str  # http://127.0.0.1:PORT
    database: Database


@contextmanager
def serve(archive: Archive, token: str | None = TOKEN, read_only: bool = False
          ) -> Iterator[RunningServer]:
    """The app in uvicorn on port 0 (a thread of this process), until the block ends."""
    database = Database(archive.db_url)
    settings = WebSettings(database, load_config(archive.config), Access(token, read_only))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", database)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        database.dispose()
