"""Every linked page accounted for: what became of each article link of a crawl.

A page is *linked* when a list, feed or sitemap first names it in a run (a link
named twice is one page; a link to a start page is not an article page). Each linked
page then ends under exactly one outcome, counted as ``newsmon/outcomes/<outcome>``;
``newsmon/linked`` counts the pages. What is linked but never settled was still
waiting when the crawl stopped: the summary shows it as ``unfinished``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from newsmon.outcomes import OUTCOME_LABELS

log = logging.getLogger(__name__)

LINKED_KEY = "newsmon/linked"
OUTCOME_PREFIX = "newsmon/outcomes/"

# Request failures that are not errors of the page: the crawler chose not to fetch it.
# The gate's kinds are "gate_<reason>" (crawler.errors.classify_failure): a link or a
# redirect off the source's origins, or to another scheme, was refused, not failed.
_FAILURE_OUTCOMES = {"robots": "forbidden", "gate_offsite": "refused", "gate_scheme": "refused",
                     "gate_redirect_offsite": "refused", "gate_redirect_scheme": "refused"}


def failure_outcome(kind: str) -> str:
    """The outcome of an article request that failed with ``kind`` (``http_404`` …)."""
    return _FAILURE_OUTCOMES.get(kind, "error")


class PageOutcomes:
    """Links each article page once and settles it once, counting both in ``stats``."""

    def __init__(self, stats: Any) -> None:
        self.stats = stats
        self._open: set[str] = set()
        self._settled: set[str] = set()

    def link(self, key: str) -> None:
        if key in self._open or key in self._settled:
            return
        self._open.add(key)
        self.stats.inc_value(LINKED_KEY)

    def settle(self, key: str | None, outcome: str) -> None:
        """Count ``outcome`` for the page linked as ``key``; a second word is ignored."""
        if key is None or key not in self._open:
            log.debug("outcome %s for %s, which is not an open linked page", outcome, key)
            return
        self._open.discard(key)
        self._settled.add(key)
        self.stats.inc_value(OUTCOME_PREFIX + outcome)


def outcome_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """``{outcome: pages}`` from Scrapy's stats, ``unfinished`` included when any."""
    counts = {key[len(OUTCOME_PREFIX):]: int(value) for key, value in stats.items()
              if key.startswith(OUTCOME_PREFIX) and value}
    unfinished = int(stats.get(LINKED_KEY, 0)) - sum(counts.values())
    if unfinished > 0:
        counts["unfinished"] = unfinished
    return dict(sorted(counts.items(), key=lambda item: _order(item[0])))


def _order(outcome: str) -> int:
    labels = list(OUTCOME_LABELS)
    return labels.index(outcome) if outcome in labels else len(labels)
