"""Source health for ``newsmon status``: the last run of each source and what looks
wrong (pure functions; "now" is passed in).

A source is flagged

* ``never run`` — configured but no crawl has recorded a run yet;
* ``failed`` — its last run ended without finishing (crashed, killed, timed out) or
  fetched nothing but errors; ``failed N runs in a row`` when it keeps happening;
* ``interrupted`` — its last run was stopped on purpose (Ctrl-C, the service stopping
  it): worth knowing, not a failure, so ``status`` does not exit 1 for it;
* ``errors`` — its last run finished but some requests failed;
* ``stale`` — its newest run is still marked running after six hours: the crawl
  process died without closing it (a kill, a reboot);
* ``quiet`` — nothing new for longer than usual: at least two runs since the last
  new article, and either more time since then than twice the usual gap between runs
  that found something (the median gap, when there are at least two), or, without
  that history, three or more runs in a row that found nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise, takewhile
from statistics import median
from typing import Any

QUIET_MIN_RUNS = 2
QUIET_WITHOUT_HISTORY = 3
# A run still marked running after this long died without closing its row.
STALE_RUNNING = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One crawl run of one source, as the run ledger holds it."""

    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | finished | interrupted (or a scheduler's closing status)
    finish_reason: str | None = None
    pages: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    unchanged_articles: int = 0
    skipped_known: int = 0
    not_modified: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)
    outcomes: Mapping[str, int] = field(default_factory=dict)  # per linked page

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    @property
    def interrupted(self) -> bool:
        """Stopped on purpose (a signal from the user or the service), not broken."""
        return self.status == "interrupted"

    @property
    def failed(self) -> bool:
        if self.status == "running" or self.interrupted:
            return False
        unfinished = self.status != "finished" or (self.finish_reason or "finished") != "finished"
        return unfinished or (self.pages == 0 and self.error_count > 0)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source's line in ``newsmon status``."""

    source: str
    last: RunRecord | None
    last_new_at: datetime | None
    flags: tuple[str, ...]
    runs: int = 0


def source_status(source: str, runs: Sequence[RunRecord], now: datetime) -> SourceStatus:
    """The status of ``source`` from its runs (newest first)."""
    if not runs:
        return SourceStatus(source, None, None, ("never run",), 0)
    done = [r for r in runs if r.status != "running"]
    with_new = [r for r in done if r.new_articles > 0]
    last_new_at = with_new[0].started_at if with_new else None
    flags: list[str] = []
    if runs[0].status == "running" and now - runs[0].started_at > STALE_RUNNING:
        flags.append("stale")
    if done and done[0].interrupted:
        flags.append("interrupted")
    failing = _leading([r for r in done if not r.interrupted], lambda r: r.failed)
    if failing:
        flags.append("failed" if failing == 1 else f"failed {failing} runs in a row")
    elif done and done[0].error_count:
        flags.append("errors")
    if _quiet(done, with_new, now):
        flags.append("quiet")
    return SourceStatus(source, runs[0], last_new_at, tuple(flags), len(runs))


def _leading(runs: Sequence[RunRecord], test: Callable[[RunRecord], bool]) -> int:
    """How many runs, newest first, pass ``test`` before the first that does not."""
    return sum(1 for _ in takewhile(test, runs))


def _quiet(done: Sequence[RunRecord], with_new: Sequence[RunRecord], now: datetime) -> bool:
    since_new = _leading(done, lambda r: r.new_articles == 0)
    if since_new < QUIET_MIN_RUNS:
        return False
    if len(with_new) >= 2:
        starts = [r.started_at for r in with_new]
        usual = median((a - b).total_seconds() for a, b in pairwise(starts))
        return (now - starts[0]).total_seconds() > 2 * usual
    return since_new >= QUIET_WITHOUT_HISTORY


def status_record(status: SourceStatus) -> dict[str, Any]:
    """The JSON-ready shape of one source's status (times in UTC ISO 8601)."""
    last = status.last
    record: dict[str, Any] = {"source": status.source, "flags": list(status.flags),
                              "last_new_at": _iso(status.last_new_at), "runs": status.runs}
    if last is None:
        record["last_run"] = None
        return record
    duration = last.duration
    record["last_run"] = {
        "started_at": _iso(last.started_at),
        "finished_at": _iso(last.finished_at),
        "duration_seconds": None if duration is None else round(duration.total_seconds(), 1),
        "status": last.status,
        "finish_reason": last.finish_reason,
        "pages": last.pages,
        "new": last.new_articles,
        "updated": last.updated_articles,
        "unchanged": last.unchanged_articles,
        "skipped_known": last.skipped_known,
        "not_modified": last.not_modified,
        "errors": dict(sorted(last.errors.items())),
        "outcomes": dict(last.outcomes),  # per linked page: new, known, not_article …
    }
    return record


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
