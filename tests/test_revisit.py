"""Edits and takedowns: crawl day one, switch to day three, re-visit, classify.

Real parts throughout: the sample sites over HTTP, the real ``newsmon`` command in
child processes (crawl, revisit, digest, show, search, status), SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsmon.samplesites import SampleSites
from newsmon.samplesites.catalog import find_article
from newsmon.samplesites.daythree import CHANGES, NEW_TITLE, TRACK_TERMS
from newsmon.storage.engine import Database
from newsmon.storage.models import (
    Article,
    ArticleCheck,
    ArticleVersion,
    ArticleWatch,
    Match,
    RevisitRun,
)
from newsmon.web.app import WebSettings, create_app
from tests.conftest import Newsmon, with_settings

# What each day-three change must be classified as (the outcome of its check).
EXPECTED = {
    "retitled": "edited",
    "edited": "edited",
    "script": "cosmetic",
    "gone": "taken_down",
    "home": "taken_down",
    "soft404": "taken_down",
    "unavailable": "failed",
}
TRACKING_QUERY = " OR ".join(TRACK_TERMS.values())


def _config(sites: SampleSites, tmp_path: Path) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"',
                                  'revisit_after = ["0m", "30d"]'), encoding="utf-8")
    return path


def _paths_by_key() -> dict[str, str]:
    return {key: find_article(*key.split("/", 1)).path for key in CHANGES}


def _checks_by_path(db_url: str) -> dict[str, ArticleCheck]:
    database = Database(db_url)
    try:
        with database.session() as session:
            rows = session.execute(select(Article.canonical_url, ArticleCheck)
                                   .join(ArticleCheck, ArticleCheck.article_id == Article.id)
                                   ).all()
            session.expunge_all()
    finally:
        database.dispose()
    return {urlsplit(url).path: check for url, check in rows}


@pytest.fixture
def day_three(sites: SampleSites, tmp_path: Path, db_url: str) -> Newsmon:
    """Day one crawled with the seven articles tracked (and 青島), then day three."""
    run = Newsmon(db_url, _config(sites, tmp_path), home=tmp_path / "home")
    run("topics", "add", "tracked", TRACKING_QUERY)
    run("topics", "add", "qingdao", "青島")
    run("crawl")
    sites.set_day(3)
    return run


def test_day_three_changes_are_classified_exactly(day_three: Newsmon, db_url: str) -> None:
    result = day_three("revisit")
    checks = _checks_by_path(db_url)
    paths = _paths_by_key()
    for key, change in CHANGES.items():
        check = checks.get(paths[key])
        assert check is not None, f"{key} ({change}) was not re-visited: {result.stdout}"
        assert check.outcome == EXPECTED[change], (key, change, check.outcome, check.evidence)
    assert checks[paths["qingdaonews/21011876"]].status == 404
    assert "redirected to" in (checks[paths["qingdaonews/21011650"]].evidence or "")
    assert "soft 404" in (checks[paths["dzwww/t20200112_4711873"]].evidence or "")
    assert checks[paths["wenweipo/AP5e1a6f3c"]].status == 503
    # the script-only change is a version but not an edit, nor an event
    script = checks[paths["bandao/368530"]]
    assert script.event is None and script.version_seq == 2
    assert checks[paths["wenweipo/AP5e1a6f3c"]].event is None  # a 503 is no takedown
    events = {path: c.event for path, c in checks.items() if c.event}
    assert events == {paths[k]: ("edited" if EXPECTED[c] == "edited" else "taken_down")
                      for k, c in CHANGES.items() if EXPECTED[c] in ("edited", "taken_down")}
    # every other watched article is unchanged
    others = {p: c.outcome for p, c in checks.items() if p not in paths.values()}
    assert others and set(others.values()) <= {"unchanged", "not_modified"}, others


def test_the_first_revisit_sends_the_validators_the_crawl_kept(
        sites: SampleSites, tmp_path: Path, db_url: str) -> None:
    """An unchanged article's first re-visit is a 304, not a second full fetch."""
    run = Newsmon(db_url, _config(sites, tmp_path), home=tmp_path / "home")
    run("topics", "add", "tracked", TRACKING_QUERY)
    run("crawl")
    sites.requests.clear()
    run("revisit")
    checks = _checks_by_path(db_url)
    assert len(checks) >= len(CHANGES)
    assert {(c.outcome, c.status) for c in checks.values()} == {("not_modified", 304)}
    revisits = [r for r in sites.requests.entries() if urlsplit(r.path).path in checks]
    assert sorted(urlsplit(r.path).path for r in revisits) == sorted(checks)
    assert all(r.status == 304 and "If-None-Match" in r.headers for r in revisits), revisits


def test_versions_keep_the_first_and_the_article_shows_the_newest(
        day_three: Newsmon, db_url: str) -> None:
    day_three("revisit")
    retitled = find_article("bandao", "368812")
    database = Database(db_url)
    try:
        with database.session() as session:
            article = session.scalars(select(Article).where(
                Article.canonical_url.like(f"%{retitled.path}"))).one()
            versions = session.scalars(select(ArticleVersion).where(
                ArticleVersion.article_id == article.id).order_by(ArticleVersion.seq)).all()
            assert [v.seq for v in versions] == [1, 2]
            assert versions[0].title == retitled.title and versions[1].title == NEW_TITLE
            assert versions[0].content_hash != versions[1].content_hash
            assert article.title == NEW_TITLE
            assert [c["field"] for c in versions[1].changes] == ["title"]
            article_id = article.id
    finally:
        database.dispose()
    # the search index follows the newest version
    found = json.loads(day_three("search", "title:实力已不允许", "--json").stdout)
    assert [r["id"] for r in found["results"]] == [article_id] if isinstance(found, dict) \
        else [r["id"] for r in found] == [article_id]
    shown = day_three("show", str(article_id)).stdout
    assert "version 1" in shown and "version 2" in shown and f"- {retitled.title}" in shown
    # …and the web view's article page shows the same history, the old title struck out
    web = TestClient(create_app(WebSettings(Database(db_url))))
    page = web.get(f"/articles/{article_id}")
    assert page.status_code == 200
    versions_part = page.text.split("<h2>Edits and takedowns</h2>", 1)[1].split("<h2>Text</h2>")[0]
    assert "version 1" in versions_part and "version 2" in versions_part
    assert f"<del>{retitled.title}</del>" in versions_part
    assert f"<ins>{NEW_TITLE}</ins>" in versions_part


def test_an_edit_that_adds_a_topic_term_flags_the_article_then(
        day_three: Newsmon, db_url: str) -> None:
    edited = find_article("bandao", "368790")
    assert "青岛" not in edited.body_text and "青島" not in edited.body_text
    database = Database(db_url)
    try:
        with database.session() as session:
            before = session.scalars(select(Match).join(Article).where(
                Article.canonical_url.like(f"%{edited.path}"))).all()
        assert len(before) == 1  # only the tracking topic
        day_three("revisit")
        with database.session() as session:
            after = session.scalars(select(Match).join(Article).where(
                Article.canonical_url.like(f"%{edited.path}"))).all()
            assert len(after) == 2 and all(m.is_new for m in after)
    finally:
        database.dispose()


def test_a_digest_lists_edits_and_takedowns_once(day_three: Newsmon) -> None:
    day_three("digest")  # day one's matches go out first
    day_three("revisit")
    first = day_three("digest").stdout
    assert "Edits and takedowns" in first
    assert f"retitled: {find_article('bandao', '368812').title} → {NEW_TITLE}" in first
    assert first.count("taken down") == 3, first
    assert "h after publication" in first or "d after publication" in first
    assert "宇航员" not in first.split("Edits and takedowns")[1]  # script-only: no event
    second = day_three("digest").stdout
    assert "Edits and takedowns" not in second and "retitled" not in second


def test_status_shows_the_watch_queue_and_the_run(day_three: Newsmon, db_url: str) -> None:
    before = json.loads(day_three("status", "--json", check=False).stdout)
    assert before["watch"][0]["due_now"] == 0  # nothing watched before the first re-visit
    day_three("revisit")
    after = json.loads(day_three("status", "--json", check=False).stdout)
    watch = after["watch"][0]
    assert watch["due_now"] == 0 and watch["due_later"] >= 7 and watch["taken_down"] == 3
    run = watch["last_run"]
    assert run["status"] == "finished"
    assert run["outcomes"]["edited"] == 2 and run["outcomes"]["taken_down"] == 3
    assert run["outcomes"]["cosmetic"] == 1 and run["outcomes"]["failed"] == 1
    text = day_three("status", check=False).stdout
    assert "watch queue" in text.lower()
    database = Database(db_url)
    try:
        with database.session() as session:
            assert session.scalar(select(RevisitRun.status)) == "finished"
            assert all(w.due_at is not None for w in session.scalars(select(ArticleWatch)))
    finally:
        database.dispose()


def test_search_filters_changed_and_taken_down(day_three: Newsmon) -> None:
    day_three("revisit")
    changed = day_three("search", TRACKING_QUERY, "--changed", "--json").stdout
    gone = day_three("search", TRACKING_QUERY, "--taken-down", "--json").stdout
    assert "368812" in changed and "368790" in changed and "368530" not in changed
    assert "21011876" in gone and "21011650" in gone and "t20200112_4711873" in gone
    assert "AP5e1a6f3c" not in gone


def _count_checks(db_url: str) -> int:
    path = db_url.removeprefix("sqlite:///")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                                timeout=5)) as connection:
            return int(connection.execute("SELECT count(*) FROM article_checks").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_a_revisit_killed_midway_loses_and_doubles_nothing(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    config = _config(sites, tmp_path)
    run = Newsmon(sqlite_url, config, home=tmp_path / "home")
    run("topics", "add", "tracked", TRACKING_QUERY)
    run("crawl")
    sites.set_day(3)
    # A polite delay makes the re-visit take long enough to kill: each source's crawler
    # (they run side by side) answers its first article at once and the next ones 3 s
    # apart, and the recorder commits what it holds at most every 2 s, so a kill right
    # after the first commit lands before the last article. (With 1 s, a loaded machine
    # could commit all seven answers at once.)
    slow = tmp_path / "slow.toml"
    slow.write_text(config.read_text(encoding="utf-8")
                    .replace("download_delay = 0.0", "download_delay = 3.0"), encoding="utf-8")
    killed = Newsmon(sqlite_url, slow, home=tmp_path / "home")
    child = subprocess.Popen([sys.executable, "-m", "newsmon", "--db", sqlite_url,
                              "--config", str(slow), "revisit"], env=killed.env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _count_checks(sqlite_url) < 1 and child.poll() is None:
            assert time.monotonic() < deadline, "the re-visit recorded nothing in two minutes"
            time.sleep(0.05)
        assert child.poll() is None, "the re-visit ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
    done_before = _count_checks(sqlite_url)
    run("revisit")
    database = Database(sqlite_url)
    try:
        with database.session() as session:
            watched = session.scalars(select(ArticleWatch.article_id)).all()
            checks = session.execute(select(ArticleCheck.article_id, ArticleCheck.step)).all()
            versions = session.execute(select(ArticleVersion.article_id, ArticleVersion.seq)
                                       ).all()
            runs = session.scalars(select(RevisitRun.status).order_by(RevisitRun.id)).all()
    finally:
        database.dispose()
    assert 0 < done_before < len(watched), "killed midway"
    assert sorted(a for a, _ in checks) == sorted(watched)  # each re-visited exactly once
    assert {s for _, s in checks} == {0}
    assert len(versions) == len(set(versions)) == 2 * 3  # three changed texts, 2 versions each
    assert runs == ["running", "finished"]  # the killed run's row stays open
