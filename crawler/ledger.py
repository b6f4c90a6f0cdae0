"""One crawl's view of the URL ledger: known URLs, failures, start-page validators and
conditional-GET trust, for one source.

The crawl's :class:`~crawler.store.CrawlStore` owns one :class:`CrawlLedger`; the
spider, the conditional-GET middleware and the pipelines reach it through the store,
and run its database methods on the store's database thread (``store.call``), never on
the reactor thread. Only :meth:`CrawlLedger.key`, :meth:`CrawlLedger.taint` and
:meth:`CrawlLedger.remember_start_page` touch no database. Each database call is its
own short transaction, so a crawl killed at any moment leaves the ledger consistent
with the articles table.

Start-page validators are the exception: they are kept in memory and written only
when the crawl finishes normally, and only for pages none of whose article links
failed. A crawl killed halfway therefore fetches its start pages in full next time
and finds every article it had not stored yet.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from newsmon.crawler.canonical import UrlError, canonicalize, origin
from newsmon.sanitise import ETAG_MAX, LAST_MODIFIED_MAX, header_value
from newsmon.storage.articles import ensure_source
from newsmon.storage.engine import Database, Session
from newsmon.storage.urls import (
    StartPage,
    Trust,
    UrlState,
    failed_article_urls,
    known_urls,
    read_in_full,
    record_check,
    record_trusted_304,
    record_url_outcome,
    save_start_page,
    start_page,
    touch_start_page,
    trust_of,
)

log = logging.getLogger(__name__)


def links_digest(urls: Iterable[str]) -> str:
    """A hash of the set of links a start page led to: equal iff the set is."""
    joined = "\n".join(sorted(set(urls)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


@dataclass
class _Pending:
    page: StartPage
    status: int


@dataclass
class CrawlLedger:
    """The URL ledger for one source during one crawl."""

    database: Database
    source: str
    host_aliases: dict[str, str] = field(default_factory=dict)
    source_id: int = 0
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _tainted: set[str] = field(default_factory=set)

    def open(self) -> None:
        with self.database.session() as session, session.begin():
            self._source_id(session)

    def _source_id(self, session: Session) -> int:
        if not self.source_id:
            self.source_id = ensure_source(session, self.source)
        return self.source_id

    def close(self, reason: str, now: datetime) -> int:
        """Write the validators of start pages whose links were all handled (only when
        the crawl finished normally); returns how many were written."""
        written = 0
        if reason == "finished":
            with self.database.session() as session, session.begin():
                for url, pending in self._pending.items():
                    if url in self._tainted:
                        continue
                    save_start_page(session, pending.page, source_id=self._source_id(session),
                                    status=pending.status, now=now)
                    written += 1
        return written

    # --- URLs ---------------------------------------------------------------------
    def key(self, url: str) -> str | None:
        """The canonical form the ledger files ``url`` under (None if unusable)."""
        try:
            return canonicalize(url, self.host_aliases)
        except UrlError:
            return None

    def known(self, keys: Iterable[str]) -> set[str]:
        with self.database.session() as session:
            return known_urls(session, keys)

    def failed_articles(self) -> list[str]:
        """Article URLs of this source that failed on an earlier run, to retry by
        themselves (see :data:`storage.urls.RETRY_FAILED_RUNS`)."""
        with self.database.session() as session:
            return failed_article_urls(session, self._source_id(session))

    def record_failure(self, url: str, *, status: int | None, kind: str, now: datetime,
                       found_on: str | None = None) -> None:
        """An article request failed: ``gone`` for 404/410, ``forbidden`` when robots.txt
        disallows it (neither is requested again), else retried next run.

        For a retried one, the start page it was found on keeps no validators, so the
        next run reads it in full and meets the link again.
        """
        key = self.key(url)
        if kind == "robots":
            state = UrlState.FORBIDDEN
        else:
            state = UrlState.GONE if status in (404, 410) else UrlState.FAILED
        if found_on and state is UrlState.FAILED:
            self.taint(found_on)
        if key is None:
            return
        with self.database.session() as session, session.begin():
            record_url_outcome(session, key, source_id=self._source_id(session), state=state,
                               now=now, status=status, error=kind)

    # --- start pages ---------------------------------------------------------------
    def start_page(self, url: str) -> StartPage | None:
        key = self.key(url)
        if key is None:
            return None
        with self.database.session() as session:
            return start_page(session, key)

    def read_in_full(self, url: str) -> bool:
        """Whether a finished crawl read this start page with every link handled."""
        key = self.key(url)
        if key is None:
            return False
        with self.database.session() as session:
            return read_in_full(session, key)

    def remember_start_page(self, url: str, *, kind: str, etag: str | None,
                            last_modified: str | None, links: Iterable[str],
                            status: int) -> None:
        key = self.key(url)
        if key is not None:
            # validators are the server's: kept only if they fit their columns verbatim
            page = StartPage(key, kind, header_value(etag, ETAG_MAX),
                             header_value(last_modified, LAST_MODIFIED_MAX),
                             links_digest(links))
            self._pending[key] = _Pending(page, status)

    def taint(self, url: str) -> None:
        """Do not keep validators for this start page this run."""
        key = self.key(url)
        if key is not None:
            self._tainted.add(key)
            self._tainted.add(url)

    def start_page_not_modified(self, url: str, now: datetime) -> None:
        key = self.key(url)
        if key is not None:
            with self.database.session() as session, session.begin():
                touch_start_page(session, key, status=304, now=now)

    # --- conditional-GET trust ---------------------------------------------------------
    def trust(self, url: str) -> Trust:
        with self.database.session() as session:
            return trust_of(session, self._source_id(session), origin(url))

    def record_check(self, url: str, *, honest: bool, now: datetime) -> Trust:
        with self.database.session() as session, session.begin():
            return record_check(session, self._source_id(session), origin(url), honest=honest,
                                now=now)

    def record_trusted_304(self, url: str) -> None:
        with self.database.session() as session, session.begin():
            record_trusted_304(session, self._source_id(session), origin(url))
