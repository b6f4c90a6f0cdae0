"""Canonical ownership: which URL a source may store an article under, and whose it is.

A page chooses its own ``rel=canonical``. Believed blindly, a page of source B could
name source A's article and overwrite it (title, body, match flags) while A keeps the
attribution. Two rules stop that (README, "Safety"):

* a declared canonical is believed only on an origin the source crawls (its gate
  origins, or the origin the page itself was fetched from); otherwise the fetched
  URL is the article's key;
* an article belongs to the source that first stored it: only that source updates
  it. Another source naming it stores its own article under its own fetched URL
  (the story groups the two), or nothing. ``storage.articles.upsert_article``
  enforces this one (``UpsertStatus.FOREIGN``).
"""

from __future__ import annotations

from newsmon.crawler.canonical import origin
from newsmon.crawler.gate import Origins, gate_reason


def believed_canonical(fetched_key: str, claimed: str, origins: Origins) -> str:
    """``claimed`` when the source crawls its origin, else ``fetched_key``.

    ``fetched_key`` is the canonical form of the URL the page was fetched from; its
    origin counts as crawled even when host aliases moved it off the start URLs.
    """
    if claimed == fetched_key or origin(claimed) == origin(fetched_key):
        return claimed
    return claimed if gate_reason(claimed, origins) is None else fetched_key

