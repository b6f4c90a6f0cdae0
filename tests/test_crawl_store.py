"""One owner per crawl for the database (``crawler/store.py``): a crawl of N sources in
one process uses N database engines, one per crawler, and the reactor thread runs no
SQL at all. Real crawls of the sample sites over HTTP on 127.0.0.1, on SQLite and
PostgreSQL, watched by a SQLAlchemy ``before_cursor_execute`` listener in the crawl
process (``tests/crawl_store_probe.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.models import CrawlRun
from tests.conftest import Newsmon, with_settings

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("dzwww", "broken")  # a good site and one whose pages fail in every way


def _probe(newsmon: Newsmon) -> dict[str, Any]:
    """Crawl SOURCES in one child process; what its database calls were."""
    assert newsmon.config is not None
    done = subprocess.run([sys.executable, "-m", "tests.crawl_store_probe", str(newsmon.config),
                           newsmon.db_url, *SOURCES], capture_output=True, text=True,
                          timeout=300, check=False, cwd=ROOT, env=newsmon.env())
    assert done.returncode == 0, done.stderr
    probe: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return probe


def _check_one_engine_per_crawl_off_the_reactor(probe: dict[str, Any]) -> None:
    statements = probe["statements"]
    assert len(statements) > 50, "the listener saw the crawl's SQL"
    on_reactor = [s["sql"] for s in statements if s["reactor_thread"] or s["main_thread"]]
    assert on_reactor == []
    assert probe["engines"] == len(SOURCES)
    threads_of: dict[int, set[str]] = defaultdict(set)
    engines_of: dict[str, set[int]] = defaultdict(set)
    for statement in statements:
        threads_of[statement["engine"]].add(statement["thread"])
        engines_of[statement["thread"]].add(statement["engine"])
    # each crawl: one engine, used from one database thread of its own
    assert all(len(threads) == 1 for threads in threads_of.values()), threads_of
    assert all(len(engines) == 1 for engines in engines_of.values()), engines_of


def test_each_crawl_has_one_engine_and_the_reactor_thread_runs_no_sql(
        sites: SampleSites, tmp_path: Path, db_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(with_settings(sites.config_toml(include_broken=True),
                                    'backfill_window = "off"'), encoding="utf-8")
    newsmon = Newsmon(db_url, config, home=tmp_path / "home")

    first = _probe(newsmon)
    _check_one_engine_per_crawl_off_the_reactor(first)
    results = {r["source"]: r for r in first["results"]}
    assert results["dzwww"]["new_articles"] > 0
    assert results["broken"]["errors"], "the broken site's failures were recorded"

    # again: known links, conditional GETs and retried failures read the ledger
    second = _probe(newsmon)
    _check_one_engine_per_crawl_off_the_reactor(second)
    results = {r["source"]: r for r in second["results"]}
    assert results["dzwww"]["new_articles"] == 0
    assert results["dzwww"]["skipped_known"] + results["dzwww"]["not_modified"] > 0

    # the run rows were written before each crawl's engine was disposed
    database = Database(db_url)
    with database.session() as session:
        statuses = list(session.scalars(select(CrawlRun.status)))
    database.dispose()
    assert statuses == ["finished"] * 2 * len(SOURCES)
