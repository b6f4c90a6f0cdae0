"""The corpus's article pages as newsmon's extractor reads them: shared by the benchmarks
whose workloads are built from stored article text (``matching.py``, ``search.py``)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from newsmon.crawler.extract import extract_article
from newsmon.values import ExtractedArticle


def extracted_articles(corpus: Path) -> Iterator[ExtractedArticle]:
    """Every article page of ``corpus`` (``MANIFEST.tsv`` order) that the extractor reads
    as an article with a body: the title and body storage would keep."""
    fetched = datetime.now(UTC)
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        for row in csv.DictReader(manifest, delimiter="\t"):
            if row["page_type"] != "article":
                continue
            raw = (corpus / row["folder"] / row["file"]).read_bytes()
            article = extract_article(raw, url=f"http://{row['site'] or 'x.cn'}/a.html",
                                      fetched_at=fetched)
            if article.is_article and article.body:
                yield article
