"""The extractor against the sample sites' ground truth, fetched over real HTTP.

The sample sites (:mod:`newsmon.samplesites`) serve corpus articles re-templated into
four regional-news layouts, and know each article's truth: title, publish time,
来源, author, editor, tags and body. That makes them a second check, independent of
the corpus pages: the same content under templates the extractor was not tuned on.
Every other page of the sites (lists, tag pages, about, search) must come out as "not
an article".

Field rules (what "right" means here):

- title: equal once whitespace is ignored;
- published_at: timezone-aware and equal to the minute;
- source: equal; author / editor: the same set of names (the extractor always joins
  several names with a space, pages use spaces or 、); an author the truth leaves
  empty may only be a reporter credited inside the article text itself;
- tags: the page's visible tags, or its ``<meta name="keywords">`` when it has none;
- body: character-bigram F1 (the corpus scorer's measure) against the truth text
  without picture captions (the extractor drops captions on purpose) of at least
  ``BODY_F1_FLOOR``, and none of the page's own furniture: the lines printed above
  and below the text (kickers, bylines, 原标题, copyright notes), editor credits,
  share bars, related-article headlines.
"""

from __future__ import annotations

import collections
import importlib
import re
import unicodedata
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from newsmon.crawler.extract import extract_article
from newsmon.samplesites import SampleArticle, SampleSites
from newsmon.samplesites.catalog import SITE_TIMEZONES, articles_for
from newsmon.samplesites.pages import RenderContext
from newsmon.values import ExtractedArticle

FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
BODY_F1_FLOOR = 0.9
SITES = ("dzwww", "qingdaonews", "bandao", "wenweipo")
ARTICLES = [a for site in SITES for a in articles_for(site, 2)]
# Site furniture no article text here contains (checked against the truth below).
FURNITURE = ("责任编辑", "責任編輯", "责编", "責編", "编辑：", "編輯：", "分享到", "版权所有",
             "版權所有", "ICP", "我要评论", "字号", "相关新闻", "相關新聞", "相关阅读",
             "热门排行", "X-POWER-BY", "【打印】", "【纠错】", "原标题")
NAME_SEPARATORS = re.compile(r"[\s、,，;；/]+")


@dataclass(frozen=True, slots=True)
class Fetched:
    article: SampleArticle
    url: str
    raw: bytes
    extracted: ExtractedArticle

    @property
    def has_meta_keywords(self) -> bool:
        return bool(re.search(rb"<meta\s+name=[\"']?keywords", self.raw, re.IGNORECASE))


@pytest.fixture(scope="module")
def sites() -> Iterator[SampleSites]:
    with SampleSites(day=2) as running:
        yield running


@pytest.fixture(scope="module")
def fetched(sites: SampleSites) -> dict[str, Fetched]:
    """Every day-two sample article, fetched once over HTTP and extracted."""
    assert sorted(a.key for a in sites.articles()) == sorted(a.key for a in ARTICLES)
    out = {}
    for article in ARTICLES:
        url = sites.url(article.path)
        raw, content_type = _get(url)
        out[article.key] = Fetched(article, url, raw, extract_article(
            raw, url=url, content_type=content_type, fetched_at=FETCHED_AT,
            timezone=SITE_TIMEZONES[article.site]))
    return out


def _get(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers.get("Content-Type")


def test_every_sample_site_and_article_is_checked() -> None:
    assert len(ARTICLES) == 38
    assert {a.site for a in ARTICLES} == set(SITES)


@pytest.mark.parametrize("key", [a.key for a in ARTICLES])
def test_sample_article_matches_its_truth(fetched: dict[str, Fetched], key: str) -> None:
    page = fetched[key]
    truth, got = page.article, page.extracted
    assert got.is_article, got.warnings
    problems = [*_title_problems(truth, got), *_time_problems(truth, got),
                *_people_problems(truth, got), *_tag_problems(page),
                *_body_problems(truth, got)]
    assert not problems, f"{page.url}: " + "; ".join(problems)


def _other_pages() -> list[tuple[str, str]]:
    """(site, path) of every HTML page that is not an article: lists, tags, about, search."""
    articles = {a.path for a in ARTICLES}
    pages: list[tuple[str, str]] = []
    for site in SITES:
        module = importlib.import_module(f"newsmon.samplesites.site_{site}")
        rendered = module.render(RenderContext(base_url="http://127.0.0.1:1", day=2))
        pages.extend((site, path) for path, resource in rendered.items()
                     if path not in articles and "html" in (resource.content_type or ""))
    return pages


OTHER_PAGES = _other_pages()


def test_there_are_list_pages_to_check() -> None:
    assert len(OTHER_PAGES) >= 40
    assert {site for site, _path in OTHER_PAGES} == set(SITES)


@pytest.mark.parametrize(("site", "path"), OTHER_PAGES, ids=[p for _s, p in OTHER_PAGES])
def test_a_sample_page_that_is_no_article_says_so(sites: SampleSites, site: str,
                                                  path: str) -> None:
    url = sites.url(path)
    raw, content_type = _get(url)
    got = extract_article(raw, url=url, content_type=content_type, fetched_at=FETCHED_AT,
                          timezone=SITE_TIMEZONES[site])
    assert not got.is_article, f"{url}: {got.title!r}"
    assert got.body == ""
    assert got.warnings


def test_furniture_list_is_not_article_text() -> None:
    """The strings the body must not contain are never part of a truth text."""
    for article in ARTICLES:
        text = _squash(article.body_text)
        assert not [f for f in FURNITURE if _squash(f) in text], article.key


# -- field rules ---------------------------------------------------------------------------

def _title_problems(truth: SampleArticle, got: ExtractedArticle) -> list[str]:
    if _squash(got.title) != _squash(truth.title):
        return [f"title {got.title!r} != {truth.title!r}"]
    return []


def _time_problems(truth: SampleArticle, got: ExtractedArticle) -> list[str]:
    when = got.published_at
    if when is None or when.utcoffset() is None:
        return [f"published_at {when!r} is not a timezone-aware time"]
    if _minute(when) != _minute(truth.published):
        return [f"published_at {when.isoformat()} != {truth.published.isoformat()}"]
    return []


def _people_problems(truth: SampleArticle, got: ExtractedArticle) -> list[str]:
    problems = []
    if got.source != truth.source:
        problems.append(f"source {got.source!r} != {truth.source!r}")
    if _names(got.editor) != _names(truth.editor):
        problems.append(f"editor {got.editor!r} != {truth.editor!r}")
    if truth.author is not None:
        if _names(got.author) != _names(truth.author):
            problems.append(f"author {got.author!r} != {truth.author!r}")
    elif got.author is not None and not _credited_in_text(got.author, truth):
        problems.append(f"author {got.author!r}, but the page credits no author")
    return problems


def _credited_in_text(author: str, truth: SampleArticle) -> bool:
    """Writers the page credits in its own lines (``（评论员 罗博 萧海川）`` in the text,
    ``作者︱春春`` below it) where the truth names none."""
    text = "\n".join([truth.body_text, *truth.lead, *truth.tail])
    return all(re.search(r"(?:记者|記者|评论员|評論員|通讯员|通訊員|作者)[^\n，。]{0,12}?"
                         + re.escape(name), text) for name in _names(author))


def _tag_problems(page: Fetched) -> list[str]:
    truth, got = page.article, page.extracted
    expected = truth.tags or (truth.keywords if page.has_meta_keywords else ())
    if tuple(got.tags) != tuple(expected):
        return [f"tags {got.tags!r} != {expected!r}"]
    return []


def _body_problems(truth: SampleArticle, got: ExtractedArticle) -> list[str]:
    problems = []
    text = "\n".join(b.text for b in truth.body if b.kind != "cap")
    score = _bigram_f1(got.body, text)
    if score < BODY_F1_FLOOR:
        problems.append(f"body F1 {score:.3f} < {BODY_F1_FLOOR}")
    body = _squash(got.body)
    article_text = _squash(truth.body_text)
    furniture = [*truth.lead, *truth.tail, *FURNITURE,
                 *(a.title for a in ARTICLES if a.site == truth.site and a.key != truth.key)]
    leaked = [line for line in furniture
              if _squash(line) in body and _squash(line) not in article_text]
    if leaked:
        problems.append(f"boilerplate in the body: {leaked}")
    return problems


# -- helpers -------------------------------------------------------------------------------

def _squash(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _minute(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(second=0, microsecond=0)


def _names(value: str | None) -> set[str]:
    return {n for n in NAME_SEPARATORS.split(unicodedata.normalize("NFKC", value or "")) if n}


def _bigram_f1(predicted: str, gold: str) -> float:
    def grams(text: str) -> collections.Counter[str]:
        s = _squash(text)
        return collections.Counter(s[i:i + 2] for i in range(len(s) - 1))

    p, g = grams(predicted), grams(gold)
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)
