"""Dedup and stories: fingerprints (pure) and story assignment in real databases,
in both failure directions, across processes.

Texts are real: the sample sites' articles (the seed and its republication) and
corpus pages about the same places (``tests/data/corpus``, see its PROVENANCE.md).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from newsmon.crawler.dedup import (
    SAME_STORY,
    band_keys,
    fingerprint,
    shingle_hashes,
    signature_of,
    similarity,
)
from newsmon.crawler.extract import extract_article
from newsmon.samplesites.catalog import find_article
from newsmon.storage.articles import ensure_source, upsert_article
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, ArticleFingerprint, Story, StoryBand
from newsmon.storage.stories import (
    StoryPrint,
    assign_story,
    find_match,
    lock_stories,
    story_members,
)
from newsmon.textnorm import normalize
from newsmon.values import ExtractedArticle, NormalizedArticle

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
T0 = datetime(2020, 1, 14, 2, 0, tzinfo=UTC)
# Pairs of different stories about the same place (Hong Kong; Taipei city politics).
SAME_PLACE = [
    ("ayltai__hknews/articles/headline_realtime_details.html",
     "ayltai__hknews/articles/singtao_details.html"),
    ("ayltai__hknews/articles/headline_realtime_details.html",
     "ayltai__hknews/articles/rthk.html"),
    ("lulalala__taiwanese_news_parser/html/china_times_s2.html",
     "lulalala__taiwanese_news_parser/html/liberty_times_s2.html"),
]


@cache
def _corpus_body(case_id: str) -> str:
    raw = gzip.decompress((CORPUS / "pages" / f"{case_id}.gz").read_bytes())
    return extract_article(raw, url="https://example.hk/a.html", fetched_at=T0,
                           timezone="Asia/Hong_Kong").body


def _sample_body(key: str) -> str:
    site, slug = key.split("/")
    return find_article(site, slug).body_text


# --- fingerprints (pure) ---------------------------------------------------------------
def test_a_republication_in_either_script_is_the_same_story() -> None:
    seed = _sample_body("dzwww/t20200113_4712345")  # Traditional, as 大衆網 printed it
    simplified = normalize(seed)
    assert fingerprint(normalize(seed)).body_hash == fingerprint(simplified).body_hash
    # another outlet adds its own lead and drops the last paragraphs: still the story
    lines = seed.splitlines()
    edited = "\n".join(["（來源：大衆網）本報綜合報道", *lines[: int(len(lines) * 0.8)]])
    assert similarity(fingerprint(normalize(seed)).signature,
                      fingerprint(normalize(edited)).signature) >= SAME_STORY


@pytest.mark.parametrize(("first", "second"), SAME_PLACE)
def test_different_stories_about_the_same_place_are_apart(first: str, second: str) -> None:
    a, b = fingerprint(normalize(_corpus_body(first))), fingerprint(normalize(_corpus_body(second)))
    assert a.signature and b.signature
    assert similarity(a.signature, b.signature) < SAME_STORY / 2
    assert not set(a.bands) & set(b.bands) or similarity(a.signature, b.signature) < SAME_STORY


def test_fingerprints_are_stable_and_ignore_spacing_and_punctuation() -> None:
    text = normalize(_sample_body("qingdaonews/21012345"))
    spaced = text.replace("，", " , ").replace("\n", "\n\n  ")
    assert fingerprint(text).body_hash == fingerprint(spaced).body_hash
    assert fingerprint(text) == fingerprint(text)  # same process: same values
    hashes = shingle_hashes("abcdefg")
    assert len(hashes) == 3 and hashes.dtype.name == "uint32"
    signature = signature_of(hashes)
    assert len(signature) == 4 * 128 and len(band_keys(signature)) == 32
    assert similarity(signature, signature) == 1.0
    assert fingerprint("太短").signature == b"" and fingerprint("太短").bands == ()


# --- stories in the database -----------------------------------------------------------
def _item(url: str, body: str, source: str | None, title: str = "標題",
          fetched_at: datetime = T0) -> NormalizedArticle:
    article = ExtractedArticle(url=url, canonical_url=url, title=title, body=body,
                               source=source, published_at=fetched_at, encoding_used="utf-8")
    return NormalizedArticle(article=article, title_norm=normalize(title),
                             body_norm=normalize(body),
                             content_hash=fingerprint(title + "\n" + body).body_hash,
                             fetched_at=fetched_at)


def store(database: Database, site: str, item: NormalizedArticle) -> int:
    """What the store stage does for one new article (lock, upsert, story)."""
    fp = fingerprint(item.body_norm)
    story_print = StoryPrint(fp.body_hash, fp.signature, fp.bands)
    with database.session() as session, session.begin():
        lock_stories(session)
        source_id = ensure_source(session, site)
        match = find_match(session, story_print, source_id=source_id,
                           canonical_url=item.article.canonical_url, similarity=similarity)
        outcome = upsert_article(session, source_id, item)
        assign_story(session, outcome.article_id, story_print, origin=item.article.source,
                     now=item.fetched_at, match=match)
        return outcome.article_id


def _story_of(database: Database, article_id: int) -> int | None:
    with database.session() as session:
        return session.scalar(select(Article.story_id).where(Article.id == article_id))


def test_the_republished_seed_joins_its_story_with_the_origin_named(
        database: Database) -> None:
    seed = _sample_body("dzwww/t20200113_4712345")
    first = store(database, "dzwww", _item("http://dzwww/seed.htm", seed, "大衆網"))
    copy = store(database, "wenweipo", _item("http://wenweipo/copy.html", seed + "\n（完）",
                                             "大衆網", fetched_at=T0 + timedelta(days=1)))
    other = store(database, "dzwww", _item("http://dzwww/other.htm",
                                           _sample_body("dzwww/t20200112_4711873"), "中央社"))
    story_id = _story_of(database, first)
    assert story_id is not None and _story_of(database, copy) == story_id
    assert _story_of(database, other) not in (None, story_id)
    with database.session() as session:
        story = session.get(Story, story_id)
        assert story is not None and story.origin == "大衆網" and story.first_seen == T0
        assert [a.id for a in story_members(session, story_id)] == [first, copy]


@pytest.mark.parametrize(("first", "second"), SAME_PLACE[:2])
def test_two_stories_about_one_place_get_two_stories(database: Database, first: str,
                                                      second: str) -> None:
    a = store(database, "headline", _item("http://a/1.html", _corpus_body(first), "星島"))
    b = store(database, "rthk", _item("http://b/1.html", _corpus_body(second), "香港電台"))
    assert _story_of(database, a) != _story_of(database, b)


def test_a_second_process_finds_the_stories_of_the_first(db_url: str) -> None:
    body = _sample_body("bandao/368530")
    first_process = Database(db_url)
    article = store(first_process, "bandao", _item("http://bandao/a/1.html", body, "网易科学人"))
    first_process.dispose()
    later_process = Database(db_url)  # a new engine: nothing shared but the database
    copy = store(later_process, "portal", _item("http://portal/x/9.html",
                                                "网易科学人消息\n" + body, "网易科学人"))
    assert _story_of(later_process, copy) == _story_of(later_process, article)
    with later_process.session() as session:
        assert session.scalar(select(func.count()).select_from(StoryBand)) == 64
        assert session.scalar(select(func.count()).select_from(ArticleFingerprint)) == 2
    later_process.dispose()


def _race(db_url: str, site: str, pairs: list[tuple[str, str]], barrier: Any) -> None:
    database = Database(db_url)
    for url, body in pairs:
        barrier.wait(timeout=60)
        store(database, site, _item(url, body, "中新社"))
    database.dispose()


RACE_KEYS = ["qingdaonews/21012345", "qingdaonews/21012207", "qingdaonews/21011876",
             "bandao/368812", "bandao/368790", "bandao/368655", "wenweipo/AP5e1a6f3c",
             "dzwww/t20200112_4711650"]


def test_two_processes_storing_copies_at_once_make_one_story_each(db_url: str) -> None:
    Database(db_url).ensure_schema()
    bodies = [_sample_body(key) for key in RACE_KEYS]
    left = [(f"http://left/{i}.html", body) for i, body in enumerate(bodies)]
    right = [(f"http://right/{i}.html", body + "\n（責任編輯：王明）")
             for i, body in enumerate(bodies)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_race, args=(db_url, site, pairs, barrier))
               for site, pairs in (("left", left), ("right", right))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    database = Database(db_url)
    with database.session() as session:
        rows = session.execute(select(Article.canonical_url, Article.story_id)).all()
        stories = session.scalar(select(func.count()).select_from(Story))
    database.dispose()
    story = {url: story_id for url, story_id in rows}
    assert len(story) == 2 * len(bodies)
    for i in range(len(bodies)):
        assert story[f"http://left/{i}.html"] == story[f"http://right/{i}.html"] is not None
    assert stories == len(bodies)


def test_an_updated_article_keeps_its_story(database: Database) -> None:
    body = _sample_body("qingdaonews/21012207")
    article = store(database, "qingdaonews", _item("http://q/1.htm", body, "新华日报"))
    story_id = _story_of(database, article)
    changed = replace(_item("http://q/1.htm", body + "\n更正：本文標題有誤。", "新华日报"),
                      fetched_at=T0 + timedelta(hours=3))
    fp = fingerprint(changed.body_norm)
    with database.session() as session, session.begin():
        lock_stories(session)
        source_id = ensure_source(session, "qingdaonews")
        outcome = upsert_article(session, source_id, changed)
        kept = assign_story(session, outcome.article_id,
                            StoryPrint(fp.body_hash, fp.signature, fp.bands), origin="新华日报",
                            now=changed.fetched_at, is_new=False)
    assert outcome.article_id == article and kept.how == "kept" and kept.story_id == story_id
    with database.session() as session:
        stored = session.get(ArticleFingerprint, article)
        assert stored is not None and stored.body_hash == fp.body_hash


def test_corpus_texts_used_here_are_real_pages() -> None:
    cases = {c["id"] for c in json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))}
    assert {case for pair in SAME_PLACE for case in pair} <= cases
