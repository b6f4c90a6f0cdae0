"""A small archive for search tests, and the brute-force reference to compare against.

The archive is the bundled sample-site articles (``newsmon/samplesites/data``, texts
from the corpus and the seed page, see its PROVENANCE.md) stored through the real
storage path, plus hand-made articles for the edge cases: Latin word boundaries,
Traditional script, punctuation-only text, kana/hangul/emoji, an article too long to
index, and publish times that tie, are missing or predate 1970.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsmon.query import Plan
from newsmon.storage.articles import ensure_source, upsert_article
from newsmon.storage.engine import Database, Session
from newsmon.storage.models import Article
from newsmon.textnorm import MAX_INDEXED_CHARS, normalize
from newsmon.values import ExtractedArticle, NormalizedArticle
from tests.conftest import PG_BASE_URL, _pg_admin_execute

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sample:
    site: str
    title: str
    body: str
    source: str | None
    published_at: datetime | None
    slug: str = ""  # names the URL; default: the position in the list stored


def sample_site_articles() -> list[Sample]:
    """The 40 sample-site articles, spread over time (a few share a publish second)."""
    data = json.loads(resources.files("newsmon.samplesites.data")
                      .joinpath("articles.json").read_text(encoding="utf-8"))
    samples = []
    for index, entry in enumerate(data):
        body = "\n".join(text for _kind, text in entry["body"])
        published = None if index % 9 == 4 else T0 - timedelta(hours=index // 3)
        samples.append(Sample(entry["site"], entry["title"], body, entry["source"], published))
    return samples


LONG_BODY = "这是一篇很长的文章。" * (MAX_INDEXED_CHARS // 10) + "独一无二的长文标记 LongMarker"

EDGE_CASES = [
    Sample("edge", "AI-driven ports", "The AI-driven port. MAIL sorting, 5G and 15G; foo_bar "
           "and café in Zürich. iPhone手机用5G网络", "Reuters", T0 + timedelta(seconds=1)),
    Sample("edge", "臺灣與青島的經濟", "臺灣裏面著名的青島啤酒，經濟發展。上合峰會在青島舉行。",
           "新華社", T0 + timedelta(seconds=1, microseconds=500)),
    Sample("edge", "……！！", "...??? —— ！！ ……", None, None),
    Sample("edge", "東京タワーと서울", "🔥热搜：東京タワー、서울、Москва и Zürich", "共同社",
           datetime(1965, 3, 1, tzinfo=UTC)),
    Sample("edge", "很长的文章", LONG_BODY, "人民网", T0 - timedelta(days=400)),
    Sample("edge", "港口 title only 烟台", "正文没有那个词。", "大众网", T0 + timedelta(seconds=1)),
]


def store(database: Database, samples: list[Sample]) -> list[int]:
    """Store samples through ``upsert_article``; returns their ids in order."""
    ids = []
    with database.session() as session, session.begin():
        for index, sample in enumerate(samples):
            source_id = ensure_source(session, sample.site)
            url = f"http://{sample.site}.example.cn/a/{sample.slug or index}.html"
            article = ExtractedArticle(url=url, canonical_url=url, title=sample.title,
                                       body=sample.body, published_at=sample.published_at,
                                       source=sample.source, tags=("t",))
            item = NormalizedArticle(article, normalize(sample.title), normalize(sample.body),
                                     f"hash-{index}-{len(sample.body)}", T0)
            ids.append(upsert_article(session, source_id, item).article_id)
    return ids


def build_archive(database: Database) -> list[int]:
    return store(database, [*sample_site_articles(), *EDGE_CASES])


def newest_first(published_at: datetime | None, article_id: int) -> tuple[Any, ...]:
    """Sort key (descending) of the search order: publish time, then id; undated last."""
    if published_at is None:
        return (0, article_id)
    return (1, published_at, article_id)


def brute_force(session: Session, plan: Plan) -> list[int]:
    """Ids of every article :meth:`Plan.matches` accepts, newest first: the reference."""
    rows = session.execute(select(Article.id, Article.title_norm, Article.body_norm,
                                  Article.source, Article.published_at)).all()
    hits = [row for row in rows
            if plan.matches({"title": row.title_norm, "body": row.body_norm,
                             "source": row.source or ""})]
    return [row.id for row in sorted(hits, key=lambda r: newest_first(r.published_at, r.id),
                                     reverse=True)]


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Database]:
    """The archive, built once per test module and backend; tests must only read it."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('archive')) / 'archive.db'}"
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        try:
            _pg_admin_execute(f'CREATE SCHEMA "{schema}"')
        except Exception as exc:
            pytest.fail(f"PostgreSQL at {PG_BASE_URL} is required (CI starts it): {exc}")
        url = f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    database = Database(url)
    build_archive(database)
    yield database
    database.dispose()
    if schema is not None:
        _pg_admin_execute(f'DROP SCHEMA "{schema}" CASCADE')
