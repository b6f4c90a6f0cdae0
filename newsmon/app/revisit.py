"""Re-visit jobs: decide what each re-fetch means, store it, match new versions.

``newsmon revisit`` (and the scheduler's ``revisit`` job, which runs that command)
plans a run here — enrol the articles the sources' ``watch`` modes ask for, take the
due re-visits up to the batch limit — lets the edge fetch them (``crawler/revisit.py``)
and records each answer with :class:`RevisitRecorder`: classification in the pure core
(``newsmon/versions.py``), one transaction per article (``storage/watch.py``), and
topic matching of every new version, so an edit that adds 青島 flags the article
then. The run is a row of the re-visit run ledger with counts per outcome.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from newsmon.app.matching import build_matcher, new_match
from newsmon.config import Config, SourceConfig
from newsmon.matching import ArticleText, Matcher
from newsmon.storage.engine import Database, Session
from newsmon.storage.matches import record_matches
from newsmon.storage.topics import list_topics
from newsmon.storage.watch import (
    CheckWrite,
    WatchTarget,
    due_watches,
    enrol_watches,
    finish_revisit_run,
    record_check,
    start_revisit_run,
)
from newsmon.textnorm import normalize
from newsmon.versions import FetchEvidence, article_content_hash, classify_fetch

# Answers written per transaction, or what arrived in this time (as the crawl's store).
BATCH = 25
BATCH_SECONDS = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RevisitPlan:
    run_id: int
    enrolled: int
    batches: tuple[tuple[SourceConfig, tuple[WatchTarget, ...]], ...]

    @property
    def due(self) -> int:
        return sum(len(batch) for _, batch in self.batches)


def plan_revisits(database: Database, config: Config, now: datetime, *, limit: int,
                  sources: Sequence[str] | None = None) -> RevisitPlan:
    """Enrol new watches, open a run row and pick the due re-visits (oldest first)."""
    chosen = [s for s in config.sources if not sources or s.name in sources]
    modes = {source.name: source.watch for source in chosen}
    offsets = config.settings.revisit_offsets
    with database.session() as session, session.begin():
        enrolled = enrol_watches(session, modes, offsets, now)
    watched = [name for name, mode in modes.items() if mode != "off"]
    with database.session() as session:
        due = due_watches(session, now, limit, watched) if watched else []
    by_source = {source.name: source for source in chosen}
    batches = tuple((by_source[name], tuple(t for t in due if t.source == name))
                    for name in dict.fromkeys(t.source for t in due))
    with database.session() as session, session.begin():
        run_id = start_revisit_run(session, now, ",".join(sources) if sources else None,
                                   len(due), os.getpid())
    return RevisitPlan(run_id, enrolled, batches)


class RevisitRecorder:
    """Records each re-visit as its answer arrives (called from the fetch loop)."""

    def __init__(self, database: Database, config: Config, run_id: int) -> None:
        self.database = database
        self.config = config
        self.run_id = run_id
        self.outcomes: Counter[str] = Counter()
        self.new_matches = 0
        self._lock = threading.Lock()
        self._starts = {s.name: s.start_urls for s in config.sources}
        self._pending: list[tuple[WatchTarget, FetchEvidence, datetime]] = []
        self._flushed = time.monotonic()
        with database.session() as session:
            self.matcher: Matcher = build_matcher(list_topics(session))

    def __call__(self, target: WatchTarget, evidence: FetchEvidence) -> None:
        """Take one answer; written with the others of its batch (see :meth:`flush`)."""
        self._pending.append((target, evidence, utc_now()))
        if len(self._pending) >= BATCH or time.monotonic() - self._flushed >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the answers taken since the last flush, in one transaction: a commit
        per answer would hold the fetch loop on the disk (a 304 costs less than an
        fsync). Each answer is still all or nothing; a kill before the commit leaves
        those re-visits due, to be done by the next run."""
        batch, self._pending = self._pending, []
        self._flushed = time.monotonic()
        if not batch:
            return
        with self.database.session() as session, session.begin():
            for target, evidence, seen in batch:
                self._record_in(session, target, evidence, seen)

    def _record_in(self, session: Session, target: WatchTarget, evidence: FetchEvidence,
                   now: datetime) -> str:
        """Decide, store and match one answer (``already`` when another run recorded
        this step first)."""
        verdict = classify_fetch(evidence, target.stored, self._starts.get(target.source, ()))
        snapshot = verdict.snapshot
        title_norm = normalize(snapshot.title) if snapshot else ""
        body_norm = normalize(snapshot.body) if snapshot else ""
        settings = self.config.settings
        write = CheckWrite(
            target, verdict, evidence.status, now, self.run_id, settings.revisit_offsets,
            settings.revisit_unreachable_after, etag=evidence.etag,
            last_modified=evidence.last_modified, page_hash=evidence.page_hash,
            title_norm=title_norm, body_norm=body_norm,
            content_hash=article_content_hash(title_norm, body_norm))
        inserted = 0
        # One answer is all or nothing with its batch: a failure rolls the batch back.
        result = record_check(session, write)
        if result is not None and result.text_changed and snapshot is not None:
            found = self.matcher.match(ArticleText(
                id=target.article_id, title=snapshot.title, body=snapshot.body,
                source=snapshot.source or "", title_norm=title_norm, body_norm=body_norm))
            # The edit is the news: a topic the new version matches is flagged now,
            # however old the article is (the backfill window judges publication).
            inserted = record_matches(session, [new_match(m, True) for m in found], now)
        outcome = result.outcome if result is not None else "already"
        with self._lock:
            self.outcomes[outcome] += 1
            self.new_matches += inserted
        return outcome


def finish_run(database: Database, run_id: int, status: str, outcomes: Counter[str],
               now: datetime) -> None:
    with database.session() as session, session.begin():
        finish_revisit_run(session, run_id, now, status, dict(outcomes))
