"""The reading use-cases (``newsmon.app.reading``) on the search test archive: cursor
pages add up to the whole result in order, across the dated/undated boundary, on
SQLite and PostgreSQL; cursors from elsewhere are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsmon.app import reading
from newsmon.query import parse_query
from newsmon.storage.engine import Database
from newsmon.storage.models import Article
from tests.search_support import archive, brute_force, newest_first

__all__ = ["archive"]  # the module-scoped fixture, built once per backend


def paged(database: Database, query: str, limit: int, **extra: object) -> list[int]:
    ids: list[int] = []
    cursor = None
    for _ in range(1000):
        page = reading.search(database, reading.SearchRequest(
            query=query, limit=limit, cursor=cursor, **extra))  # type: ignore[arg-type]
        ids += [hit.article.id for hit in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ran out")


@pytest.mark.parametrize("query", ["", "的", "青島 OR 的", "的 -青岛", "经济"])
@pytest.mark.parametrize("limit", [1, 3, 7])
def test_cursor_pages_add_up_to_the_whole_result(archive: Database, query: str,
                                                 limit: int) -> None:
    with archive.session() as session:
        if query:
            expected = brute_force(session, parse_query(query))
        else:  # every article, newest first, undated ones last
            rows = session.execute(select(Article.id, Article.published_at)).all()
            expected = [row.id for row in sorted(
                rows, key=lambda r: newest_first(r.published_at, r.id), reverse=True)]
    assert paged(archive, query, limit) == expected
    assert len(expected) > limit  # more than one page, or the cursor was never used


def test_relevance_pages_add_up_to_one_ranking(archive: Database) -> None:
    whole = reading.search(archive, reading.SearchRequest(query="青岛", sort="relevance",
                                                          limit=1000))
    assert paged(archive, "青岛", 4, sort="relevance") == [h.article.id for h in whole.hits]


def test_snippets_mark_the_words_as_written(archive: Database) -> None:
    page = reading.search(archive, reading.SearchRequest(query="青岛", limit=50))
    marked = {text for hit in page.hits for text, is_hit in hit.snippet.segments if is_hit}
    assert marked and marked <= {"青岛", "青島"}


def test_foreign_or_damaged_cursors_are_refused(archive: Database) -> None:
    stories = reading.id_cursor("stories", 5)
    for cursor in ("%%%", "bm90IGpzb24", stories):
        with pytest.raises(reading.BadCursor):
            reading.search(archive, reading.SearchRequest(query="青岛", cursor=cursor))


@pytest.mark.parametrize("value", ["999999999d", "99999999999999h", "1e9d", "-5d", "yesterday"])
def test_a_when_that_cannot_be_read_is_a_bad_value(value: str) -> None:
    with pytest.raises(reading.BadValue):
        reading.parse_when(value)
