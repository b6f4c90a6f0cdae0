"""The words for what became of each linked page of a crawl (see ``crawler.outcomes``)."""

from __future__ import annotations

from collections.abc import Mapping

# In the order the summary shows them, with the words it uses.
OUTCOME_LABELS: dict[str, str] = {
    "new": "new",
    "updated": "updated",
    "unchanged": "unchanged",
    "duplicate": "same page at another URL",
    "canonical_foreign": "another source's article, not stored",
    "known": "already known, not fetched",
    "not_article": "not an article",
    "not_html": "not HTML",
    "empty": "no text found",
    "document": "document, not fetched",
    "forbidden": "forbidden (robots.txt)",
    "refused": "refused (off-site or not http)",
    "error": "failed",
    "unfinished": "unfinished (crawl stopped)",
}


def describe_outcomes(counts: Mapping[str, int]) -> str:
    """``12 new, 20 already known, not fetched, 1 forbidden (robots.txt)`` — for the summary."""
    return ", ".join(f"{count} {OUTCOME_LABELS.get(outcome, outcome)}"
                     for outcome, count in counts.items()) or "none"
