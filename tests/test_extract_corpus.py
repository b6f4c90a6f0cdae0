"""Regression tests on real pages: every corpus page copied into ``tests/data/corpus``.

Each labelled article must keep its must-contain / must-not-contain snippets and its
per-page floor (the scores recorded by ``tests/data/corpus/refresh.py``, scored with the
corpus's own ``score.py``); every list page must come out as "not an article"; no page
may make the extractor fail.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import unicodedata
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from newsmon.crawler.extract import extract_article
from newsmon.values import ExtractedArticle

DATA = Path(__file__).resolve().parent / "data" / "corpus"
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # the same fixed time refresh.py used


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((DATA / "cases.json").read_text("utf-8"))
    return cases


FLOORS: dict[str, dict[str, float]] = json.loads((DATA / "floors.json").read_text("utf-8"))
CASES = _cases()
LABELLED = [c for c in CASES if c["truth"] and c["truth"].get("page_type") == "article"]
LISTS = [c for c in CASES if c["page_type"] == "list"]


@cache
def _scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_score", DATA / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _extract(case: dict[str, Any]) -> ExtractedArticle:
    raw = gzip.decompress((DATA / "pages" / (case["id"] + ".gz")).read_bytes())
    return extract_article(raw, url=case["url"], fetched_at=FETCHED_AT,
                           timezone=case["timezone"])


def _squash(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def test_the_data_is_complete() -> None:
    assert len(LABELLED) == len(FLOORS) == 99
    assert len(LISTS) >= 15
    assert all((DATA / "pages" / (c["id"] + ".gz")).is_file() for c in CASES)
    size = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert size < 15 * 1024 * 1024


@pytest.mark.parametrize("case", LABELLED, ids=[c["id"] for c in LABELLED])
def test_labelled_article_keeps_its_floor(case: dict[str, Any]) -> None:
    truth = case["truth"]
    article = _extract(case)
    floor = dict(FLOORS[case["id"]])
    if floor.pop("is_article"):
        assert article.is_article, article.warnings
    body = _squash(article.body)
    missing = [s for s in truth.get("body_contains", []) if _squash(s) not in body]
    leaked = [s for s in truth.get("body_not_contains", []) if _squash(s) in body]
    if "body_contains" in floor:
        allowed = round((1 - floor["body_contains"]) * len(truth["body_contains"]))
        assert len(missing) <= allowed, f"snippets missing from the body: {missing}"
    if "body_clean" in floor:
        allowed = round((1 - floor["body_clean"]) * len(truth["body_not_contains"]))
        assert len(leaked) <= allowed, f"boilerplate leaked into the body: {leaked}"
    prediction = {"title": article.title,
                  "published_at": article.published_at.isoformat() if article.published_at
                  else None,
                  "source": article.source, "author": article.author, "editor": article.editor,
                  "body": article.body}
    scores = _scorer().score_page(truth, prediction)
    worse = {field: (round(float(scores.get(field, 0.0)), 3), minimum)
             for field, minimum in floor.items() if float(scores.get(field, 0.0)) < minimum}
    assert not worse, f"fields below their floor (got, floor): {worse}; prediction {prediction}"


@pytest.mark.parametrize("case", LISTS, ids=[c["id"] for c in LISTS])
def test_list_page_is_not_an_article(case: dict[str, Any]) -> None:
    article = _extract(case)
    assert not article.is_article
    assert article.body == ""
    assert article.warnings


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_no_corpus_page_makes_the_extractor_fail(case: dict[str, Any]) -> None:
    article = _extract(case)
    assert not [w for w in article.warnings if "extraction failed" in w]
    assert article.encoding_used
    assert article.script in ("simplified", "traditional")
    if article.published_at is not None:
        assert article.published_at.utcoffset() is not None
