"""Search through the index returns exactly what a brute-force scan returns.

Every test runs on a SQLite file and on PostgreSQL (the ``database`` fixture): the
index differs (FTS5 vs an expression GIN index), the results must not.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsmon.query import EVERYTHING, parse_query
from newsmon.storage import search
from newsmon.storage.engine import Database
from newsmon.storage.matches import record_matches
from newsmon.storage.search import (
    SearchFilters,
    count_matches,
    iter_search,
    relevance,
    search_articles,
)
from newsmon.storage.topics import add_topic
from newsmon.textnorm import normalize, to_traditional
from newsmon.values import NewMatch
from tests.search_support import (
    EDGE_CASES,
    T0,
    archive,
    brute_force,
    build_archive,
    sample_site_articles,
)

__all__ = ["archive"]  # a fixture: imported so pytest finds it

QUERIES = [
    # one character, two characters, longer CJK
    "岛", "的", "青", "疫",
    "青岛", "上合", "新冠", "经济",
    "青岛市", "自贸试验区", "顶层设计", "独一无二的长文标记",
    # Latin words, word boundaries, mixed
    "ai", "AI", "mail", "5g", "15g", "foo", "foo_bar", "bar", "café", "zurich", "zürich",
    "iphone手机", "5G网络", "longmarker", "москва",
    # phrases
    '"上合 峰会"', '"AI-driven"', '"……"', '"5G and 15G"', "“青岛 啤酒”",
    # boolean logic and field scopes
    "青岛 OR 烟台", "青岛 -经济", "青岛 NOT (经济 OR 啤酒)", "(青岛 | 烟台) 港口",
    "的 -ai", "the -mail", "的 -(title:的 OR source:新华社)", "的 -\"...\"",
    "title:青岛", "body:青岛", "title:港口", "title:(青岛 OR 烟台) 港口",
    "source:新华社", "source:新华社 青岛", "source:reuters OR 东京",
    # Traditional input finds Simplified text and back
    "青島", "臺灣", "經濟發展", "上合峰會", "東京タワー",
    # nothing to narrow on: only separators
    "...", '"!!"',
]


@pytest.mark.parametrize("query", QUERIES)
def test_search_equals_the_brute_force_scan(archive: Database, query: str) -> None:
    plan = parse_query(query)
    with archive.session() as session:
        expected = brute_force(session, plan)
        assert [a.id for a in iter_search(session, plan)] == expected
        assert count_matches(session, plan) == len(expected)


WAYS = ["walk", "walk, then index", "index"]


def take_the_way(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    """Tiny windows and batches, and thresholds that force one of the WAYS."""
    monkeypatch.setattr(search, "MIN_BATCH", 2)
    monkeypatch.setattr(search, "MAX_BATCH", 5)
    monkeypatch.setattr(search, "FIRST_WINDOW", 3)
    monkeypatch.setattr(search, "WALK_BUDGET", 10**9 if way == "walk" else 9)
    monkeypatch.setattr(search, "MIN_THRESHOLD", 10**9 if way == "index" else 1)
    monkeypatch.setattr(search, "WALK_VS_INDEX", 1e-9)
    monkeypatch.setattr(search, "PG_WALK_VS_INDEX", 0.0 if way == "walk" else 4.0)


@pytest.mark.parametrize("way", WAYS)
def test_both_ways_to_the_newest_candidates_give_the_same_results(
        archive: Database, way: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny windows and batches, so that every query pages, and walks (reading the newest
    articles in order) or turns from walking to the index part-way, or only uses the index
    (PostgreSQL always walks first, SQLite chooses by the candidate count)."""
    take_the_way(monkeypatch, way)
    for query in QUERIES:
        plan = parse_query(query)
        with archive.session() as session:
            expected = brute_force(session, plan)
            assert [a.id for a in iter_search(session, plan, first=2)] == expected, query
            assert [a.id for a in search_articles(session, plan, limit=3, offset=2)] == \
                expected[2:5], query


def test_a_postgresql_walk_turns_to_the_index_when_the_share_found_is_small() -> None:
    """After a window that did not fill the page, PostgreSQL weighs the rows still to walk
    against the candidates the index would order, both estimated from the share found."""
    plan = search._Strategy(EVERYTHING, None, SearchFilters(), True, [], articles=200_000)
    assert search._walk_on(plan, walked=250, found=6, wanted=20)  # 2.4%: ~580 rows more
    assert not search._walk_on(plan, walked=250, found=2, wanted=20)  # 0.8%: 1,600 candidates
    assert not search._walk_on(plan, walked=250, found=0, wanted=20)  # rarer still
    assert not search._walk_on(plan, walked=search.WALK_BUDGET, found=19, wanted=20)
    # SQLite chose up front: walks on
    sqlite_plan = search._Strategy(EVERYTHING, None, SearchFilters(), True, [])
    assert search._walk_on(sqlite_plan, walked=250, found=0, wanted=20)


def test_the_sample_queries_are_not_vacuous(archive: Database) -> None:
    """Most sample queries find something, and some find nothing: both sides tested."""
    with archive.session() as session:
        found = {q: len(brute_force(session, parse_query(q))) for q in QUERIES}
    assert sum(1 for n in found.values() if n) >= len(QUERIES) * 3 // 4
    assert found["15g"] == 1 and found["5g"] >= 2 and found["mail"] == 2  # Daily Mail, MAIL
    assert found["bar"] == 0  # foo_bar is one word: no boundary before "bar"
    assert found["独一无二的长文标记"] == 1  # in the article too long to index
    assert found["青島"] == found["青岛"] > 2


@st.composite
def cut_queries(draw: st.DrawFn, texts: list[str]) -> str:
    """A query made of pieces cut from stored text, 1-6 characters, combined."""
    def piece() -> str:
        text = draw(st.sampled_from(texts))
        start = draw(st.integers(0, max(0, len(text) - 1)))
        cut = text[start:start + draw(st.integers(1, 6))].replace('"', "")
        if draw(st.booleans()):
            cut = to_traditional(cut)
        return f'"{cut}"' if cut.strip() else "青岛"

    first = piece()
    shape = draw(st.sampled_from(["{a}", "{a} {b}", "{a} OR {b}", "{a} -{b}", "title:{a}",
                                  "({a} OR {b}) {c}", "body:{a} OR title:{b}"]))
    return shape.format(a=first, b=piece(), c=piece())


TEXTS = [s.title + "\n" + s.body[:3000] for s in [*sample_site_articles(), *EDGE_CASES]]


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_generated_queries_equal_the_brute_force_scan(archive: Database, data: st.DataObject
                                                      ) -> None:
    query = data.draw(cut_queries(TEXTS))
    plan = parse_query(query)
    with archive.session() as session:
        assert [a.id for a in iter_search(session, plan)] == brute_force(session, plan), query


@pytest.mark.parametrize("way", WAYS)
def test_filters_by_time_source_topic_and_new(database: Database, way: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Each way applies the filters itself (PostgreSQL's index way on the keys it reads
    off the index hits, not on the table's columns)."""
    build_archive(database)
    take_the_way(monkeypatch, way)
    plan = parse_query("的")
    with database.session() as session, session.begin():
        everything = {a.id: a for a in iter_search(session, plan)}
        qingdao = add_topic(session, "qingdao", "青岛", T0)
        other = add_topic(session, "other", "经济", T0)
        some = list(everything)[:6]
        record_matches(session, [NewMatch(qingdao.id, some[0], True, [], ""),
                                 NewMatch(qingdao.id, some[1], False, [], ""),
                                 NewMatch(other.id, some[2], True, [], "")], T0)
    since, until = T0 - timedelta(hours=5), T0 - timedelta(hours=1)

    def found(filters: SearchFilters) -> set[int]:
        with database.session() as session:
            return {a.id for a in iter_search(session, plan, filters)}

    assert found(SearchFilters(since=since, until=until)) == {
        i for i, a in everything.items()
        if a.published_at is not None and since <= a.published_at < until}
    assert found(SearchFilters(sources=["edge"])) == {
        i for i, a in everything.items() if a.site == "edge"}
    assert found(SearchFilters(topics=["qingdao"])) == {some[0], some[1]}
    assert found(SearchFilters(topics=["qingdao"], new_only=True)) == {some[0]}
    assert found(SearchFilters(new_only=True)) == {some[0], some[2]}
    assert found(SearchFilters(topics=["qingdao", "other"], sources=["nowhere"])) == set()


def test_an_article_without_a_publish_time_is_outside_any_time_filter(archive: Database) -> None:
    plan = parse_query('的 OR "..."')
    with archive.session() as session:
        undated = {a.id for a in iter_search(session, plan) if a.published_at is None}
        dated = {a.id for a in iter_search(session, plan, SearchFilters(since=T0 - timedelta(
            days=9999), until=T0 + timedelta(days=1)))}
    assert len(undated) >= 3
    assert dated and not dated & undated


def test_pages_are_consecutive_slices_of_one_order(archive: Database) -> None:
    plan = parse_query("的 OR 是")
    with archive.session() as session:
        everything = [a.id for a in iter_search(session, plan)]
        pages = [[a.id for a in search_articles(session, plan, limit=7, offset=offset)]
                 for offset in range(0, len(everything) + 7, 7)]
    assert len(everything) > 30
    assert [i for page in pages for i in page] == everything


def test_relevance_ranks_title_hits_and_repetition_first(archive: Database) -> None:
    plan = parse_query("青岛")
    with archive.session() as session:
        ranked = search_articles(session, plan, limit=100, sort="relevance")
        newest = [a.id for a in iter_search(session, plan)]
    assert sorted(a.id for a in ranked) == sorted(newest)  # same set, other order
    scores = [relevance(plan, normalize(a.title), normalize(a.body)) for a in ranked]
    assert scores == sorted(scores, reverse=True)
    assert "青岛" in normalize(ranked[0].title)
    assert relevance(plan, "青岛", "") > relevance(plan, "", "青岛")
    assert relevance(plan, "", "青岛" * 5) > relevance(plan, "", "青岛")


def test_relevance_paging_and_limits(archive: Database) -> None:
    plan = parse_query("的")
    with archive.session() as session:
        whole = [a.id for a in search_articles(session, plan, limit=1000, sort="relevance")]
        page = [a.id for a in search_articles(session, plan, limit=5, offset=5,
                                              sort="relevance")]
    assert page == whole[5:10]
