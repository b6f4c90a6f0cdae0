"""The one sanitiser, the field bounds, and the values that used to lose an article."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from click.testing import CliRunner
from sqlalchemy import String, Table, select

from newsmon import sanitise
from newsmon.cli import cli
from newsmon.crawler.ledger import CrawlLedger
from newsmon.sanitise import (
    ETAG_MAX,
    SOURCE_MAX,
    TITLE_MAX,
    bound,
    clean_line,
    clean_text,
    header_value,
    sanitise_article,
)
from newsmon.storage.articles import ensure_source, upsert_article
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, Story, UrlRecord
from newsmon.textnorm import normalize
from newsmon.values import ExtractedArticle, NormalizedArticle
from tests.sanitise_support import PARAGRAPHS, extract, hostile_page, store_page

# What must never be left in stored or printed crawled text.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0010fffe\U0010ffff\u202a-\u202e\u2066-\u2069]"
)
NASTY = (
    "\x00\x01\x1b[31m红\x1b[0m\x1b]0;pwned\x07\x1b]8;;http://x\x1b\\\ud800\udfff"
    "\ufdd0\ufffe\U0001ffff\u202eevil\u2066\u2069\x85\x9b2J\r\n"
)


def test_clean_text_removes_controls_and_escape_sequences_whole() -> None:
    assert clean_text("a\x00b\x01c\x7fd\x85e") == "abcde"
    assert clean_text("\x1b[1;31m红\x1b[0m") == "红"  # the parameters go too
    assert clean_text("x\x1b]0;new title\x07y") == "xy"  # OSC to BEL
    assert clean_text("x\x1b]8;;http://evil\x1b\\link") == "xlink"  # OSC to ST
    assert clean_text("x\x9b2Jy") == "xy"  # 8-bit CSI
    assert clean_text("x\x1b(By\x1bcz") == "xyz"  # charset and reset escapes
    assert clean_text("\ud800a\udfffb") == "ab"
    assert clean_text("\ufdd0a\ufffe\uffff\U0010fffeb") == "ab"
    assert clean_text("\u202eevil\u202c \u2066x\u2069") == "evil x"
    assert clean_text("one\r\ntwo\rthree\tfour\n") == "one\ntwo\nthree\tfour\n"


def test_clean_text_keeps_ordinary_text() -> None:
    text = "青島 港口 — “引號” ﬁ 😀 \u200d\u00a0 tab\there\nline"
    assert clean_text(text) == text


def test_clean_line_makes_one_line() -> None:
    assert clean_line("  a\n\n b\tc \r\n") == "a b c"


def test_bound_cuts_and_says_so() -> None:
    assert bound("abc", 3) == ("abc", False)
    assert bound("abcdef", 3) == ("abc", True)


def test_header_value_keeps_only_verbatim_values_that_fit() -> None:
    assert header_value('"abc"', ETAG_MAX) == '"abc"'
    assert header_value(None, ETAG_MAX) is None
    assert header_value("x" * (ETAG_MAX + 1), ETAG_MAX) is None
    assert header_value('"a\x00b"', ETAG_MAX) is None


def test_sanitise_article_cleans_every_field_and_records_cuts() -> None:
    article = ExtractedArticle(
        url="http://a.cn/1",
        canonical_url="http://a.cn/1\x00",
        title=NASTY + "t" * 5000,
        body=NASTY + "正文",
        source="来源" * 300,
        author=NASTY,
        editor="\x1b[2J编辑",
        tags=(NASTY, "", "t" * 500, *(f"tag{i}" for i in range(30))),
        encoding_declared="x" * 100,
        warnings=(NASTY,),
    )
    cleaned = sanitise_article(article)
    for value in (
        cleaned.url,
        cleaned.canonical_url,
        cleaned.title,
        cleaned.body,
        cleaned.source,
        cleaned.author,
        cleaned.editor,
        *cleaned.tags,
        cleaned.encoding_declared,
        *cleaned.warnings,
    ):
        assert value is not None and not FORBIDDEN.search(value), repr(value)
    assert len(cleaned.title) <= TITLE_MAX and cleaned.source is not None
    assert len(cleaned.source) == SOURCE_MAX
    assert cleaned.editor == "编辑" and cleaned.canonical_url == "http://a.cn/1"
    assert len(cleaned.tags) == sanitise.TAGS_MAX and "" not in cleaned.tags
    assert all(len(t) <= sanitise.TAG_MAX for t in cleaned.tags)
    assert set(cleaned.truncated) == {"title", "source", "tags", "encoding_declared"}
    assert any("title too long" in w for w in cleaned.warnings)


def test_an_untouched_article_records_no_cut() -> None:
    article = ExtractedArticle(
        url="http://a.cn/1",
        canonical_url="http://a.cn/1",
        title="标题",
        body="正文",
        source="新华社",
        tags=("港口",),
    )
    assert sanitise_article(article) == article


def test_extraction_cleans_entities_attributes_and_json_ld() -> None:
    """&#1; &#27; &#xFFFF; &#xD800; in text and attributes, \\u0000 in JSON-LD."""
    article = extract(hostile_page(NASTY, frozenset({"entity", "json"})))
    assert article.is_article, article.warnings
    assert article.title.startswith("港口新闻") and article.source
    values = [
        article.title,
        article.body,
        article.source,
        article.author or "",
        article.editor or "",
        article.canonical_url,
        *article.tags,
    ]
    assert not any(FORBIDDEN.search(v) for v in values), values
    assert "evil" in article.title and PARAGRAPHS[1] in article.body


def test_a_hundred_thousand_character_title_is_cut() -> None:
    article = extract(hostile_page("题" * 100_000, frozenset({"node", "attr"})))
    assert len(article.title) <= TITLE_MAX
    assert "title" in article.truncated


def test_model_columns_equal_the_bounds() -> None:
    """Every String(n) column that takes crawled text has the sanitiser's bound."""

    def length(table: object, column: str) -> int | None:
        return cast(String, cast(Table, table).c[column].type).length

    assert length(Article.__table__, "source") == sanitise.SOURCE_MAX
    assert length(Article.__table__, "author") == sanitise.AUTHOR_MAX
    assert length(Article.__table__, "editor") == sanitise.EDITOR_MAX
    assert length(Article.__table__, "encoding_declared") == sanitise.ENCODING_MAX
    assert length(Article.__table__, "published_source") == sanitise.PUBLISHED_SOURCE_MAX
    assert length(Story.__table__, "origin") == sanitise.SOURCE_MAX
    assert length(UrlRecord.__table__, "etag") == sanitise.ETAG_MAX
    assert length(UrlRecord.__table__, "last_modified") == sanitise.LAST_MODIFIED_MAX


def test_a_long_publisher_and_a_hostile_page_store(database: Database) -> None:
    """A 来源 over 200 characters lost the article on PostgreSQL; now it is cut."""
    raw = hostile_page("社" * 500 + NASTY, frozenset({"json", "entity"}))
    article_id = store_page(database, raw, "http://news.example.cn/a/long.html")
    assert article_id is not None
    with database.session() as session:
        row = session.scalars(select(Article).where(Article.id == article_id)).one()
        assert row.source is not None and len(row.source) <= SOURCE_MAX
        story = session.get(Story, row.story_id)
        assert story is not None and story.origin == row.source
        assert not FORBIDDEN.search(row.title + row.body + row.source)


def test_a_long_etag_no_longer_fails_the_ledger_close(database: Database) -> None:
    """An ETag over 300 characters failed the whole URL-ledger close on PostgreSQL."""
    ledger = CrawlLedger(database, "hostile")
    ledger.open()
    now = datetime(2024, 5, 1, tzinfo=UTC)
    ledger.remember_start_page(
        "http://news.example.cn/list",
        kind="list",
        etag='"' + "e" * 400 + '"',
        last_modified="x" * 150,
        links=["http://news.example.cn/a/1.html"],
        status=200,
    )
    ledger.remember_start_page(
        "http://news.example.cn/list2",
        kind="list",
        etag='"ok"',
        last_modified="Wed, 01 May 2024 08:00:00 GMT",
        links=[],
        status=200,
    )
    assert ledger.close("finished", now) == 2
    ledger = CrawlLedger(database, "hostile")
    ledger.open()
    long_one, short_one = (
        ledger.start_page("http://news.example.cn/list"),
        ledger.start_page("http://news.example.cn/list2"),
    )
    ledger.close("shutdown", now)
    assert long_one is not None and long_one.etag is None and long_one.last_modified is None
    assert short_one is not None and short_one.etag == '"ok"'


@pytest.mark.parametrize("text", ["\x1b[2J\x1b]0;x\x07标题\u202e", "ok"])
def test_terminal_safe_is_the_sanitiser(text: str) -> None:
    from newsmon.cli.output import terminal_safe

    assert not FORBIDDEN.search(terminal_safe(text))


def test_show_and_search_strip_controls_from_rows_stored_before_the_sanitiser(
    sqlite_url: str, tmp_path: Path
) -> None:
    """An archive written before the sanitiser may hold escape sequences; the terminal
    views print none of them (``--json`` keeps the stored value, escaped by JSON)."""
    database = Database(sqlite_url)
    database.ensure_schema()
    dirty = "港口\x1b]0;pwned\x07\x1b[2J\u202e新闻\x9b31m"
    article = ExtractedArticle(
        url="http://a.cn/1",
        canonical_url="http://a.cn/1",
        title=dirty,
        body=dirty + PARAGRAPHS[0],
        source=dirty,
        tags=(dirty,),
    )
    with database.session() as session, session.begin():
        source_id = ensure_source(session, "legacy")
        article_id = upsert_article(
            session,
            source_id,
            NormalizedArticle(
                article, normalize(dirty), normalize(article.body), "h", datetime.now(UTC)
            ),
        ).article_id
    database.dispose()
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "NEWSMON_CONFIG": ""}
    for args in (["show", str(article_id)], ["search", "港口"]):
        result = CliRunner().invoke(cli, ["--db", sqlite_url, *args], env=env)
        assert result.exit_code == 0, result.output
        assert "港口新闻" in result.stdout
        assert not FORBIDDEN.search(result.stdout.replace("\n", "")), result.stdout
