"""Try a query on the archive without saving anything (``newsmon topics test``).

Runs the same matcher a topic would use, so what the user sees is what the topic
would match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsmon.matching import ArticleText, Matcher, TopicSpec
from newsmon.storage.articles import iter_article_batches
from newsmon.storage.engine import Database

TRIAL_TOPIC_ID = 0


@dataclass(frozen=True, slots=True)
class SampleHit:
    article_id: int
    title: str
    published: datetime | None
    snippet: str
    variants: tuple[str, ...]


@dataclass
class TrialResult:
    query: str
    scanned: int = 0
    matched: int = 0
    sample: list[SampleHit] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query, "scanned": self.scanned, "matched": self.matched,
            "sample": [
                {"id": s.article_id, "title": s.title,
                 "published_at": s.published.isoformat() if s.published else None,
                 "snippet": s.snippet, "matched": list(s.variants)}
                for s in self.sample
            ],
        }


def try_query(database: Database, query: str, aliases: Mapping[str, str], *,
              since: datetime | None = None, sample: int = 10) -> TrialResult:
    """Count the stored articles ``query`` matches; keep the newest ``sample`` of them."""
    matcher = Matcher([TopicSpec(TRIAL_TOPIC_ID, "(trial)", query)], aliases=aliases)
    result = TrialResult(query)
    found: list[tuple[datetime | None, SampleHit]] = []
    with database.session() as session:
        for batch in iter_article_batches(session, published_since=since):
            for article in batch:
                result.scanned += 1
                matches = matcher.match(ArticleText(
                    id=article.id, title=article.title, body=article.body,
                    source=article.source or "", title_norm=article.title_norm,
                    body_norm=article.body_norm))
                if not matches:
                    continue
                result.matched += 1
                hit = matches[0]
                variants = tuple(dict.fromkeys(h.variant for h in hit.hits))
                found.append((article.published_at, SampleHit(
                    article.id, article.title, article.published_at, hit.snippet.text,
                    variants)))
    found.sort(key=lambda pair: pair[0].timestamp() if pair[0] else float("-inf"),
               reverse=True)
    result.sample = [hit for _, hit in found[:sample]]
    return result
