"""A hostile site cannot reach past its own pages (issue 20).

The hostile sample site (:mod:`newsmon.samplesites.hostile`) hands the crawler URLs of
another host (a canary server on another port of 127.0.0.1, also named ``localhost``),
``file:``/``ftp:``/``data:`` URLs and redirects to both, and serves articles whose text
is built to break the archive (NUL, lone surrogates, controls, terminal escapes,
over-long values) or to take over another source's articles (``rel=canonical``).

Each backend gets one real crawl (``newsmon crawl`` in a child process): first the
``bandao`` sample source (the victim), then the hostile source with Scrapy's request
log (``-vv``). The tests below each check one promise against that crawl; the archive
is then read back with the real ``export``, ``show`` and ``search`` commands.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from newsmon.cli import cli
from newsmon.samplesites import SampleSites
from newsmon.samplesites.hostile import LURE_LISTS, MARKER, PREFIX, HostileSite
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, CrawlRun, Source, UrlRecord
from tests.conftest import PG_BASE_URL, Newsmon, _pg_admin_execute, with_settings

VICTIM = "bandao"
HOSTILE = "hostile"

# What the gate must drop, by reason; every lure has a URL of its own, so none is
# deduplicated away (see the table in newsmon.samplesites.hostile).
EXPECTED_GATE_DROPS = {
    # canary on 127.0.0.1 (allowed_domains names that host; only the port differs):
    # a list link, the same with userinfo (http://H@C/), rel=next, one RSS, Atom and
    # JSON Feed item, a sitemap entry, a sitemap-index child = 8; canary as
    # localhost/LOCALHOST/127.0.0.1. in RSS, Atom, JSON Feed, sitemap, sitemap index = 5.
    # (The list links to localhost and 2130706433 never become requests: list links
    # are kept to allowed_domains first. Feed entries with file:/ftp:/data: have no
    # http(s) identity and are never requested either.)
    "gate_offsite": 13,
    # rel=next of four list pages (file:///etc/passwd, file:///dev/zero, ftp:, data:)
    # and four sitemap-index children of the same schemes
    "gate_scheme": 8,
    # 302 to the canary, to localhost:<canary port>, to //127.0.0.1:<canary port>/
    "gate_redirect_offsite": 3,
    # 302 to ftp://127.0.0.1:<ftp port>/x and to file:///etc/passwd
    "gate_redirect_scheme": 2,
}
# A request Scrapy made, as its DEBUG log shows it: "Crawled (200) <GET http://...>".
REQUEST_LOG = re.compile(r"<(?:GET|HEAD|POST) ([a-zA-Z][a-zA-Z0-9+.-]*):")
# What a terminal obeys: C0 controls but tab and newline, DEL, C1 controls.
TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass(frozen=True)
class Stored:
    """One stored article, as the tests compare them."""

    id: int
    source: str
    url: str
    canonical_url: str
    title: str
    body: str


@dataclass
class HostileCrawl:
    """One backend's crawl: what was stored before and after, and what was seen."""

    db_url: str
    hostile: HostileSite
    before: dict[int, Stored]  # the victim's articles after its own crawl
    after: dict[int, Stored]  # every article after the hostile crawl
    run: CrawlRun  # the hostile source's run
    ledger: dict[str, str | None]  # the hostile source's URL-ledger rows: url -> ETag
    stdout: str
    stderr: str
    canary: tuple[int, int]  # (connections, requests) the canary saw during the crawl
    ftp: tuple[int, int]
    tmp: Path


def _stored(db_url: str) -> dict[int, Stored]:
    database = Database(db_url)
    with database.session() as session:
        rows = session.execute(
            select(Article, Source.name).join(Source, Source.id == Article.source_id)
        ).all()
        found = {
            a.id: Stored(a.id, name, a.url, a.canonical_url, a.title, a.body) for a, name in rows
        }
    database.dispose()
    return found


def _ledger(db_url: str) -> dict[str, str | None]:
    database = Database(db_url)
    with database.session() as session:
        rows = session.execute(
            select(UrlRecord.url, UrlRecord.etag)
            .join(Source, Source.id == UrlRecord.source_id)
            .where(Source.name == HOSTILE)
        ).all()
    database.dispose()
    return {url: etag for url, etag in rows}


def _hostile_run(db_url: str) -> CrawlRun:
    database = Database(db_url)
    with database.session() as session:
        run = session.scalars(
            select(CrawlRun)
            .join(Source, Source.id == CrawlRun.source_id)
            .where(Source.name == HOSTILE)
            .order_by(CrawlRun.id.desc())
            .limit(1)
        ).one()
    database.dispose()
    return run


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SampleSites, HostileSite]]:
    """The sample sites (the victim source) and the hostile site, whose hijacking
    pages name three of the victim's articles as their canonical URL."""
    with SampleSites(day=1) as sites:
        victims = [sites.url(a.path) for a in sites.articles(VICTIM)[:3]]
        with HostileSite(victims) as hostile:
            yield sites, hostile


@pytest.fixture(scope="module")
def crawl_on(
    servers: tuple[SampleSites, HostileSite], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], HostileCrawl]]:
    """``crawl_on("sqlite" | "postgresql")``: that backend's crawl, run once per module."""
    sites, hostile = servers
    done: dict[str, HostileCrawl] = {}
    schemas: list[str] = []

    def crawl(backend: str) -> HostileCrawl:
        if backend not in done:
            tmp = tmp_path_factory.mktemp(backend)
            if backend == "sqlite":
                db_url = f"sqlite:///{tmp / 'newsmon.db'}"
            else:
                schema = f"t_{uuid.uuid4().hex[:12]}"
                _pg_admin_execute(f'CREATE SCHEMA "{schema}"')
                schemas.append(schema)
                db_url = f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
            done[backend] = _crawl(sites, hostile, db_url, tmp)
        return done[backend]

    yield crawl
    for schema in schemas:
        _pg_admin_execute(f'DROP SCHEMA "{schema}" CASCADE')


def _crawl(sites: SampleSites, hostile: HostileSite, db_url: str, tmp: Path) -> HostileCrawl:
    config = tmp / "sites.toml"
    text = with_settings(sites.config_toml(), 'backfill_window = "off"') + hostile.config_toml()
    config.write_text(text, encoding="utf-8")
    newsmon = Newsmon(db_url, config, home=tmp / "home")
    newsmon("crawl", "--source", VICTIM)
    before = _stored(db_url)
    canary, ftp = hostile.canary_hits.counts(), hostile.ftp_hits.counts()
    result = newsmon("-vv", "crawl", "--source", HOSTILE, check=False)
    seen = hostile.canary_hits.counts(), hostile.ftp_hits.counts()
    return HostileCrawl(
        db_url=db_url,
        hostile=hostile,
        before=before,
        after=_stored(db_url),
        run=_hostile_run(db_url),
        ledger=_ledger(db_url),
        stdout=result.stdout,
        stderr=result.stderr,
        canary=(seen[0][0] - canary[0], seen[0][1] - canary[1]),
        ftp=(seen[1][0] - ftp[0], seen[1][1] - ftp[1]),
        tmp=tmp,
    )


def _cli(crawl: HostileCrawl, *args: str) -> Result:
    """A read-back command, in process (click's CliRunner) on the crawl's database."""
    env = {
        "COLUMNS": "120",
        "XDG_CONFIG_HOME": str(crawl.tmp / "config"),
        "XDG_DATA_HOME": str(crawl.tmp / "data"),
        "NEWSMON_CONFIG": "",
    }
    return CliRunner().invoke(cli, ["--db", crawl.db_url, *args], env=env)


def _failure(result: Result) -> str:
    """The output and the exception of a failed command, for the assertion message."""
    return f"exit {result.exit_code}: {result.output[-2000:]!r} {result.exception!r}"


# --- the crawl stays on the site -----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_canary_host_receives_no_connection(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    assert crawl.canary == (0, 0)
    # The lures were there to follow: the site served its list, feeds and redirects.
    served = crawl.hostile.requests.requests
    for path in (
        "/hostile/index.html",
        "/hostile/feed.xml",
        "/hostile/atom.xml",
        "/hostile/feed.json",
        "/hostile/sitemap-index.xml",
        "/hostile/go/canary.html",
    ):
        assert f"GET {path}" in served


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_file_ftp_or_data_url_is_fetched(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    schemes = Counter(REQUEST_LOG.findall(crawl.stderr))
    # Scrapy logged the requests it made (so the check below can fail) ...
    assert schemes["http"] >= len(crawl.hostile.article_urls())
    # ... and none of them had another scheme.
    assert set(schemes) == {"http"}
    assert crawl.ftp == (0, 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_gate_drop_is_counted_by_reason(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    errors = crawl.run.errors or {}
    ledger = {kind: count for kind, count in errors.items() if kind.startswith("gate_")}
    assert ledger == EXPECTED_GATE_DROPS
    # One log line per drop, naming the reason and the URL.
    logged = Counter(re.findall(r"\bhostile: (gate_[a-z_]+) \S+: ", crawl.stderr))
    assert logged == EXPECTED_GATE_DROPS
    # The summary's error count includes them.
    row = next(line for line in crawl.stdout.splitlines() if line.startswith("hostile "))
    assert int(row.split()[7]) == sum(errors.values()) >= sum(EXPECTED_GATE_DROPS.values())


# --- the archive survives what the site served -------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_nothing_but_the_gate_drops_and_the_robots_file_is_an_error(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    errors = crawl.run.errors or {}
    # The site's robots.txt is binary garbage: read as "allow all" (RFC 9309) but
    # counted once, so the user learns the site's rules could not be read.
    assert {kind: n for kind, n in errors.items() if not kind.startswith("gate_")} == {
        "robots_unparseable": 1}
    assert crawl.run.status == "finished"
    assert "Traceback" not in crawl.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_over_long_etag_does_not_cost_the_start_pages_validators(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    # list-etag.html links nothing, so nothing taints it: the crawl keeps it in the
    # URL ledger, with its 402-character ETag cut to the column (300) or dropped.
    quiet = crawl.hostile.url("/hostile/list-etag.html")
    assert quiet in crawl.ledger
    assert len(crawl.ledger[quiet] or "") <= 300


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_refused_link_is_no_url_of_the_source(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    own = urlsplit(crawl.hostile.url("/")).netloc
    assert sorted(url for url in crawl.ledger if urlsplit(url).netloc != own) == []
    # The start pages whose links were refused keep their validators all the same.
    plain = [name for name in LURE_LISTS if name != "index.html"]
    assert plain
    kept = {name: crawl.ledger.get(crawl.hostile.url(PREFIX + name)) for name in plain}
    assert kept == {name: f'"{name}"' for name in plain}


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_hostile_article_is_stored_under_its_own_url(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    hostile = [a for a in crawl.after.values() if a.source == HOSTILE]
    stored = {urlsplit(a.url).path for a in hostile}
    served = {urlsplit(url).path for url in crawl.hostile.article_urls()}
    assert served - stored == set()  # nothing lost
    assert stored == served
    assert [a.url for a in hostile if a.canonical_url != a.url] == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_article_of_the_other_source_changed(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    # The victims the hijacking pages name were stored by their own source first.
    assert set(crawl.hostile.victims) <= {a.url for a in crawl.before.values()}
    assert {i: crawl.after.get(i) for i in crawl.before} == crawl.before


@pytest.mark.parametrize("backend", BACKENDS)
def test_export_show_and_search_read_the_archive_back(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    jsonl = _cli(crawl, "export", "--format", "jsonl")
    assert jsonl.exit_code == 0, _failure(jsonl)
    # One article a line; not splitlines(): U+0085 and U+2028 in the text are no line ends.
    exported = [json.loads(line) for line in jsonl.stdout.split("\n") if line]
    assert len(exported) == len(crawl.after)
    table = _cli(crawl, "export", "--format", "csv")
    assert table.exit_code == 0, _failure(table)
    assert len(list(csv.DictReader(io.StringIO(table.stdout)))) == len(crawl.after)
    for article_id in sorted(crawl.after):
        shown = _cli(crawl, "show", str(article_id))
        assert shown.exit_code == 0, f"show {article_id}: {_failure(shown)}"
    found = _cli(crawl, "search", MARKER, "--json")
    assert found.exit_code == 0, _failure(found)
    assert MARKER in found.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_terminal_output_carries_no_control_characters(
    crawl_on: Callable[[str], HostileCrawl], backend: str
) -> None:
    crawl = crawl_on(backend)
    outputs = {"crawl summary": crawl.stdout, "crawl log": crawl.stderr}
    for article_id in sorted(crawl.after):
        outputs[f"show {article_id}"] = _cli(crawl, "show", str(article_id)).output
    outputs[f"search {MARKER}"] = _cli(crawl, "search", MARKER).output
    leaked = {
        name: sorted(set(TERMINAL_CONTROLS.findall(text)))
        for name, text in outputs.items()
        if TERMINAL_CONTROLS.search(text)
    }
    assert leaked == {}


@pytest.mark.postgres
def test_postgresql_stores_what_sqlite_stores(crawl_on: Callable[[str], HostileCrawl]) -> None:
    def articles(crawl: HostileCrawl) -> set[tuple[str, str, str, str, str]]:
        return {(a.source, a.url, a.canonical_url, a.title, a.body) for a in crawl.after.values()}

    on_sqlite, on_postgresql = articles(crawl_on("sqlite")), articles(crawl_on("postgresql"))
    assert {a[1] for a in on_sqlite - on_postgresql} == set()  # nothing lost on PostgreSQL
    assert on_postgresql == on_sqlite
