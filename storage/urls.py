"""The URL ledger and conditional-GET trust: what makes a re-crawl incremental.

Every URL is recorded by its canonical form (``crawler/canonical.py``):

* an article URL whose page was stored, was not an article, is gone or is forbidden
  by robots.txt is never requested again (:func:`known_urls`); one that failed is retried
  next run, by itself for its first :data:`RETRY_FAILED_RUNS` failures
  (:func:`failed_article_urls`) and whenever a start page read links to it;
* a start page (list, feed, sitemap) keeps the validators of its last full answer
  (ETag, Last-Modified) and a digest of the links it led to, for the next
  conditional GET (:func:`start_page`, :func:`save_start_page`);
* per source and origin, whether the site's ``304 Not Modified`` answers have been
  shown honest by a sampled full fetch (:func:`trust_of`, :func:`record_check`).

All writes are upserts on unique keys, so concurrent crawl processes cannot
duplicate a row. Callers own the transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, select, update
from sqlalchemy.orm import Session

from newsmon.storage._dialect import insert_for
from newsmon.storage._records import in_chunks, record_of
from newsmon.storage.articles import known_canonical_urls
from newsmon.storage.models import ConditionalGetTrust, UrlRecord

# A failed article is requested again by itself on this many runs: a page that linked to
# it may not be read again (pagination stops at known pages, a list answers 304) once the
# link has moved. After that only a start page read that links to it retries it.
RETRY_FAILED_RUNS = 5
RETRY_FAILED_MAX = 500  # per source and run: a site down for days does not flood the next
_LEDGER = cast(Table, UrlRecord.__table__)


class UrlState(enum.StrEnum):
    STORED = "stored"            # an article was stored from this URL
    NOT_ARTICLE = "not_article"  # fetched fine, but not an article page
    GONE = "gone"                # 404 / 410
    FORBIDDEN = "forbidden"      # robots.txt forbids it (a later change is not noticed)
    FAILED = "failed"            # any other error: retried next run
    FETCHED = "fetched"          # a start page


# Links to URLs in these states are not requested as articles: their page is stored,
# is not an article, is gone, is forbidden by robots.txt, or is a start page (fetched
# as such every run).
DONE_STATES = (UrlState.STORED, UrlState.NOT_ARTICLE, UrlState.GONE, UrlState.FORBIDDEN,
               UrlState.FETCHED)


class Verdict(enum.StrEnum):
    UNPROVEN = "unproven"
    HONEST = "honest"
    DISHONEST = "dishonest"


@dataclass(frozen=True, slots=True)
class StartPage:
    """What the ledger remembers of a start page's last full answer."""

    url: str
    kind: str
    etag: str | None
    last_modified: str | None
    links_digest: str | None


@dataclass(frozen=True, slots=True)
class Trust:
    """How far a site's 304 answers are believed (see :class:`ConditionalGetTrust`)."""

    verdict: Verdict
    trusted_304s: int = 0
    honest_checks: int = 0
    dishonest_checks: int = 0


def known_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Which of the canonical ``urls`` need not be fetched again.

    Known are URLs the ledger marks stored / not an article / gone, and canonical
    URLs of stored articles (which also covers articles stored before the ledger).
    """
    wanted = list(dict.fromkeys(urls))
    found: set[str] = set()
    for chunk in in_chunks(wanted):
        found.update(session.scalars(select(UrlRecord.url).where(
            UrlRecord.url.in_(chunk), UrlRecord.state.in_([s.value for s in DONE_STATES]))))
    return found | known_canonical_urls(session, [url for url in wanted if url not in found])


def failed_article_urls(session: Session, source_id: int) -> list[str]:
    """The source's article URLs whose last request failed, fewer than
    :data:`RETRY_FAILED_RUNS` times in a row, least recently tried first."""
    return list(session.scalars(
        select(UrlRecord.url)
        .where(UrlRecord.source_id == source_id, UrlRecord.kind == "article",
               UrlRecord.state == UrlState.FAILED.value,
               UrlRecord.failures < RETRY_FAILED_RUNS)
        .order_by(UrlRecord.last_fetched, UrlRecord.id)
        .limit(RETRY_FAILED_MAX)))


def record_article_urls(session: Session, urls: Iterable[str], *, source_id: int,
                        article_id: int, now: datetime, etag: str | None = None,
                        last_modified: str | None = None) -> None:
    """Mark ``urls`` (requested, redirected-to and canonical spellings) as stored, with
    the validators of the page's answer (the article's first re-visit sends them:
    ``storage/watch.py``, :func:`enrol_watches`)."""
    rows = [{"url": url, "source_id": source_id, "kind": "article",
             "state": UrlState.STORED.value, "article_id": article_id, "status": 200,
             "error": None, "failures": 0, "first_seen": now, "last_fetched": now,
             "etag": etag, "last_modified": last_modified}
            for url in dict.fromkeys(urls)]
    if not rows:
        return
    stmt = insert_for(session, _LEDGER)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["url"],
        set_={"state": stmt.excluded.state, "article_id": stmt.excluded.article_id,
              "status": 200, "error": None, "failures": 0,
              "last_fetched": stmt.excluded.last_fetched, "etag": stmt.excluded.etag,
              "last_modified": stmt.excluded.last_modified}), rows)


def record_url_outcome(session: Session, url: str, *, source_id: int, state: UrlState,
                       now: datetime, status: int | None = None, error: str | None = None,
                       kind: str = "article") -> None:
    """Record a URL that was not stored: not an article, gone, or failed.

    A failure never overwrites a stored URL; ``failures`` counts failures in a row.
    """
    error = error[:300] if error else None
    values = {"url": url, "source_id": source_id, "kind": kind, "state": state.value,
              "status": status, "error": error, "first_seen": now, "last_fetched": now,
              "failures": 1 if state is UrlState.FAILED else 0}
    stmt = insert_for(session, UrlRecord).values(**values)
    failures = UrlRecord.failures + 1 if state is UrlState.FAILED else 0
    session.execute(stmt.on_conflict_do_update(
        index_elements=["url"],
        set_={"state": state.value, "status": status, "error": error, "last_fetched": now,
              "failures": failures},
        where=UrlRecord.state != UrlState.STORED.value))


def start_page(session: Session, url: str) -> StartPage | None:
    """The remembered validators and link digest of a start page, if any."""
    row = session.execute(select(UrlRecord.kind, UrlRecord.etag, UrlRecord.last_modified,
                                 UrlRecord.links_digest)
                          .where(UrlRecord.url == url)).one_or_none()
    return None if row is None else record_of(StartPage, row, url=url)


def read_in_full(session: Session, url: str) -> bool:
    """Whether a crawl that finished kept this start page's validators: it read the page
    and every article link on it was handled (see :func:`save_start_page`)."""
    return session.scalar(select(UrlRecord.id).where(
        UrlRecord.url == url, UrlRecord.state == UrlState.FETCHED.value)) is not None


def save_start_page(session: Session, page: StartPage, *, source_id: int, status: int,
                    now: datetime) -> None:
    """Remember a start page's validators and link digest (after a full answer)."""
    values = {"url": page.url, "source_id": source_id, "kind": page.kind,
              "state": UrlState.FETCHED.value, "etag": page.etag,
              "last_modified": page.last_modified, "links_digest": page.links_digest,
              "status": status, "failures": 0, "first_seen": now, "last_fetched": now}
    stmt = insert_for(session, UrlRecord).values(**values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["url"],
        set_={"kind": page.kind, "state": UrlState.FETCHED.value, "etag": page.etag,
              "last_modified": page.last_modified, "links_digest": page.links_digest,
              "status": status, "error": None, "failures": 0, "last_fetched": now}))


def touch_start_page(session: Session, url: str, *, status: int, now: datetime) -> None:
    """A start page answered 304 and was believed: only the fetch time changes."""
    session.execute(update(UrlRecord).where(UrlRecord.url == url)
                    .values(status=status, last_fetched=now))


def _ensure_trust_row(session: Session, source_id: int, origin: str) -> None:
    session.execute(insert_for(session, ConditionalGetTrust)
                    .values(source_id=source_id, origin=origin,
                            verdict=Verdict.UNPROVEN.value, honest_checks=0,
                            dishonest_checks=0, trusted_304s=0)
                    .on_conflict_do_nothing(index_elements=["source_id", "origin"]))


def _trust_row(source_id: int, origin: str) -> tuple[ColumnElement[bool], ...]:
    """The condition that picks one site's trust row."""
    return (ConditionalGetTrust.source_id == source_id, ConditionalGetTrust.origin == origin)


def trust_of(session: Session, source_id: int, origin: str) -> Trust:
    row = session.scalar(select(ConditionalGetTrust).where(*_trust_row(source_id, origin)))
    if row is None:
        return Trust(Verdict.UNPROVEN)
    return record_of(Trust, row, verdict=Verdict(row.verdict))


def record_check(session: Session, source_id: int, origin: str, *, honest: bool,
                 now: datetime) -> Trust:
    """Record a sampled full fetch after a 304: it showed the 304 honest or not.

    One dishonest answer withdraws trust for good (a site that lies once cannot be
    relied on to skip pages); honest checks make an unproven site honest.
    """
    _ensure_trust_row(session, source_id, origin)
    where = _trust_row(source_id, origin)
    if honest:
        session.execute(update(ConditionalGetTrust).where(*where).values(
            honest_checks=ConditionalGetTrust.honest_checks + 1, trusted_304s=0,
            checked_at=now))
        session.execute(update(ConditionalGetTrust).where(
            *where, ConditionalGetTrust.verdict == Verdict.UNPROVEN.value)
            .values(verdict=Verdict.HONEST.value))
    else:
        session.execute(update(ConditionalGetTrust).where(*where).values(
            dishonest_checks=ConditionalGetTrust.dishonest_checks + 1,
            verdict=Verdict.DISHONEST.value, trusted_304s=0, checked_at=now))
    return trust_of(session, source_id, origin)


def record_trusted_304(session: Session, source_id: int, origin: str) -> None:
    """Count a 304 that was believed without a check (the next check is due later)."""
    _ensure_trust_row(session, source_id, origin)
    session.execute(update(ConditionalGetTrust).where(*_trust_row(source_id, origin))
                    .values(trusted_304s=ConditionalGetTrust.trusted_304s + 1))
