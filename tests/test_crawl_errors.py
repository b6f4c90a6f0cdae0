"""Issue 20's smaller points: each failure is one line naming what failed, not a
traceback. Real local HTTP servers (127.0.0.1, port 0) and the real ``newsmon`` CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from newsmon.storage.engine import Database
from newsmon.storage.models import UrlRecord
from tests.conftest import Newsmon, _pg_admin_execute
from tests.crawl_errors_support import (
    LocalSite,
    article_html,
    gzip_transfer_encoded,
    list_html,
    redirect,
    serving,
    slow,
    trickle,
)
from tests.local_http import Answer, send

ROBOTS_ALLOW = send(200, b"User-agent: *\nAllow: /\n", "text/plain")


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "WARNING" in line or "ERROR" in line]


# -- 3. Transfer-Encoding gzip (a gzip bomb's carrier) --------------------------------------

def test_transfer_encoding_gzip_is_one_named_error_and_the_crawl_goes_on(
        tmp_path: Path, sqlite_url: str) -> None:
    routes = {"/robots.txt": ROBOTS_ALLOW,
              "/list.html": send(200, list_html("/news/a.html", "/news/bomb.html")),
              "/news/a.html": send(200, article_html()),
              "/news/bomb.html": gzip_transfer_encoded(50_000_000)}
    with serving(routes) as site:
        newsmon = Newsmon(sqlite_url, site.config(tmp_path / "c.toml", lists=["/list.html"]),
                          home=tmp_path / "home")
        result = newsmon("crawl", check=False)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    bomb = site.url("/news/bomb.html")
    assert [line.split("WARNING: ", 1)[1] for line in _error_lines(result.stderr)] == [
        f"local: transfer_encoding {bomb}: unsupported Transfer-Encoding 'gzip' (only "
        "chunked is understood): response not read"]
    assert "local: 2 linked pages: 1 new, 1 failed" in result.stdout


# -- 4. a redirect to another scheme --------------------------------------------------------

def test_a_redirect_to_another_scheme_is_named_so_in_the_log_and_outcome(
        tmp_path: Path, sqlite_url: str) -> None:
    routes = {"/robots.txt": ROBOTS_ALLOW,
              "/list.html": send(200, list_html("/news/a.html", "/news/ftp.html")),
              "/news/a.html": send(200, article_html()),
              "/news/ftp.html": redirect("ftp://127.0.0.1:21/x")}
    with serving(routes) as site:
        newsmon = Newsmon(sqlite_url, site.config(tmp_path / "c.toml", lists=["/list.html"]),
                          home=tmp_path / "home")
        result = newsmon("crawl", check=False)
    url = site.url("/news/ftp.html")
    assert [line.split("WARNING: ", 1)[1] for line in _error_lines(result.stderr)] == [
        f"local: gate_redirect_scheme {url}: redirect to another scheme ('ftp') not "
        f"followed: '{url}' -> 'ftp://127.0.0.1:21/x'"]
    assert "http_302" not in result.stdout + result.stderr
    assert "local: 2 linked pages: 1 new, 1 refused (off-site or not http)" in result.stdout
    database = Database(sqlite_url)
    with database.session() as session:
        errors = {r.url: r.error for r in session.scalars(select(UrlRecord))}
    database.dispose()
    # A refused page is no URL of the source: no ledger row (it would be refused again
    # without a request), unlike a failed download that is retried.
    assert url not in errors and site.url("/news/a.html") in errors


# -- 7. export to a place that cannot hold it -----------------------------------------------

@pytest.mark.parametrize(("where", "message"), [
    ("/dev/full", "/dev/full: not a regular file (a device or pipe); write to stdout and "
                  "redirect instead"),
    ("{tmp}/missing/out.jsonl", "{tmp}/missing/out.jsonl: directory {tmp}/missing does not "
                                "exist"),
    ("{tmp}", "{tmp}: is a directory; give a file name"),
])
def test_export_refuses_an_output_it_cannot_write_before_writing(
        tmp_path: Path, sqlite_url: str, where: str, message: str) -> None:
    newsmon = Newsmon(sqlite_url, home=tmp_path / "home")
    newsmon("db", "upgrade")
    before = sorted(tmp_path.rglob("*"))
    result = newsmon("export", "-o", where.format(tmp=tmp_path), check=False)
    assert (result.returncode, result.stderr) == (
        1, f"newsmon: error: {message.format(tmp=tmp_path)}\n")
    assert sorted(tmp_path.rglob("*")) == before  # not even a 0-byte file


def test_export_failing_midway_is_one_line(tmp_path: Path, sqlite_url: str) -> None:
    routes = {"/robots.txt": ROBOTS_ALLOW, "/list.html": send(200, list_html("/news/a.html")),
              "/news/a.html": send(200, article_html())}
    with serving(routes) as site:
        newsmon = Newsmon(sqlite_url, site.config(tmp_path / "c.toml", lists=["/list.html"]),
                          home=tmp_path / "home")
        newsmon("crawl")
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "newsmon", "--db", sqlite_url,
                                 "export"], stdout=full, stderr=subprocess.PIPE, text=True,
                                env=newsmon.env(), check=False, timeout=120)
    assert (result.returncode, result.stderr) == (
        1, "newsmon: error: stdout: export failed: No space left on device\n")


def test_export_to_a_file_is_complete_and_leaves_no_temporary(tmp_path: Path,
                                                             sqlite_url: str) -> None:
    newsmon = Newsmon(sqlite_url, home=tmp_path / "home")
    newsmon("db", "upgrade")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    result = newsmon("export", "-o", str(out))
    assert result.stderr == f"exported 0 articles to {out}\n"
    assert out.read_text(encoding="utf-8") == ""
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# -- 6. a read-only database is noticed before any page is fetched --------------------------

def _read_only(url: str, backend: str) -> str:
    if backend == "sqlite":  # root may write any file: ask SQLite itself for read-only
        return f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return url.replace("options=", "options=-cdefault_transaction_read_only%3Don%20")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
def test_a_read_only_database_stops_the_crawl_before_any_fetch(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url"))
    Newsmon(url, home=tmp_path / "home")("db", "upgrade")
    read_only = _read_only(url, backend)
    routes = {"/robots.txt": ROBOTS_ALLOW, "/list.html": send(200, list_html("/news/a.html")),
              "/news/a.html": send(200, article_html())}
    with serving(routes) as site:
        newsmon = Newsmon(read_only, site.config(tmp_path / "c.toml", lists=["/list.html"]),
                          home=tmp_path / "home")
        result = newsmon("crawl", check=False)
    shown = Database(read_only).display_url
    reason = ("attempt to write a readonly database" if backend == "sqlite"
              else "cannot execute UPDATE in a read-only transaction")
    assert (result.returncode, result.stderr) == (
        3, f"newsmon: error: {shown}: cannot write to the database: {reason}; nothing "
           "crawled\n")
    assert site.requests == []


# -- 5. the database lost mid-crawl ----------------------------------------------------------

@pytest.mark.postgres
def test_a_database_lost_mid_crawl_is_one_line_the_summary_and_exit_3(
        tmp_path: Path, pg_url: str) -> None:
    schema = pg_url.rsplit("%3D", 1)[1]
    links = [f"/news/{n}.html" for n in range(6)]
    routes = {"/robots.txt": ROBOTS_ALLOW, "/list.html": send(200, list_html(*links))}
    routes |= {link: slow(1.0, send(200, article_html(f"第{n}則新聞標題")))
               for n, link in enumerate(links)}
    with serving(routes) as site:
        newsmon = Newsmon(pg_url, site.config(tmp_path / "c.toml", lists=["/list.html"]),
                          home=tmp_path / "home")
        newsmon("db", "upgrade")
        crawl = subprocess.Popen([sys.executable, "-m", "newsmon", "--db", pg_url, "--config",
                                  str(newsmon.config), "crawl"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=newsmon.env())
        try:
            while not any(path.startswith("/news/") for path in site.requests):
                if crawl.poll() is not None:
                    break
                time.sleep(0.05)
            _pg_admin_execute(f'DROP SCHEMA "{schema}" CASCADE')  # the crawl's tables go
            stdout, stderr = crawl.communicate(timeout=300)
        finally:
            crawl.kill()
            _pg_admin_execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')  # for the fixture
    assert (crawl.returncode, stderr) == (
        3, 'newsmon: error: database unavailable during crawl: relation "sources" does not '
           "exist\n")
    assert "topics not matched (database unavailable)" in stdout


# -- 1. a server that sends a byte a second cannot hold `sources add` / `sources check` ------

def test_sources_add_and_check_give_up_at_max_time(tmp_path: Path, sqlite_url: str) -> None:
    routes = {"/robots.txt": ROBOTS_ALLOW, "/list.html": trickle(every=0.5)}
    with serving(routes) as site:
        url = site.url("/list.html")
        config = site.config(tmp_path / "c.toml", lists=["/list.html"])
        newsmon = Newsmon(sqlite_url, tmp_path / "new.toml", home=tmp_path / "home")
        added = newsmon("sources", "add", url, "--max-time", "2", check=False)
        newsmon.config = config
        checked = newsmon("sources", "check", "local", "--max-time", "2", check=False)
    expected = (f"newsmon: error: {url}: not fetched within the 2 s limit for all fetches "
                "(--max-time)\n")
    assert (added.returncode, added.stderr) == (1, expected)
    assert not (tmp_path / "new.toml").exists()
    assert (checked.returncode, checked.stderr) == (1, expected)


# -- 2. robots.txt that cannot be read (RFC 9309 §2.3.1) -------------------------------------

def _crawl_with_robots(tmp_path: Path, sqlite_url: str, robots: Answer
                       ) -> tuple[subprocess.CompletedProcess[str], LocalSite]:
    routes = {"/robots.txt": robots, "/list.html": send(200, list_html("/news/a.html")),
              "/news/a.html": send(200, article_html())}
    with serving(routes) as site:
        newsmon = Newsmon(sqlite_url, site.config(tmp_path / "c.toml", lists=["/list.html"]),
                          home=tmp_path / "home")
        return newsmon("crawl", check=False), site


def test_robots_txt_answering_5xx_disallows_the_host_for_this_run(
        tmp_path: Path, sqlite_url: str) -> None:
    result, site = _crawl_with_robots(tmp_path, sqlite_url, send(500, b"oops"))
    assert site.requests == ["/robots.txt"] * 3  # with its retries; no page fetched
    netloc = site.base.removeprefix("http://")
    assert [line.split("WARNING: ", 1)[1] for line in _error_lines(result.stderr)] == [
        f"local: robots.txt unreachable {site.url('/robots.txt')}: HTTP 500; nothing on "
        f"{netloc} is fetched this run",
        f"local: robots_unreachable {site.url('/list.html')}: robots.txt unreachable "
        "(HTTP 500): not fetched this run"]
    assert result.returncode == 1


def test_robots_txt_answering_404_allows_everything(tmp_path: Path, sqlite_url: str) -> None:
    result, site = _crawl_with_robots(tmp_path, sqlite_url, send(404, b"Disallow: /"))
    assert (result.returncode, _error_lines(result.stderr)) == (0, [])
    assert "/news/a.html" in site.requests


def test_unparseable_robots_txt_allows_everything_but_is_counted(
        tmp_path: Path, sqlite_url: str) -> None:
    garbage = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe"
    result, site = _crawl_with_robots(tmp_path, sqlite_url, send(200, garbage, "text/plain"))
    assert [line.split("WARNING: ", 1)[1] for line in _error_lines(result.stderr)] == [
        f"local: robots_unparseable {site.url('/robots.txt')}: not UTF-8 text; no rules "
        "read, everything may be fetched"]
    assert "/news/a.html" in site.requests
    assert "robots_unparseable×1" in result.stdout
    assert result.returncode == 1
