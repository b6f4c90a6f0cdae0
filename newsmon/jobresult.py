"""What a job's child process tells the service that started it: a JSON result file.

``newsmon run`` starts each crawl and digest as a child ``newsmon`` process with the
hidden option ``--result-file PATH``. Before it exits, the child writes how the run
went to that file as JSON; the service reads the file, never the child's printed
text, so the wording people read can change without the service noticing. A child
that dies before writing leaves no file: the service then has no result (and says
why from the exit status and any traceback).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, ValidationError

RESULT_VERSION = 1


@dataclass(frozen=True, slots=True)
class CrawlResult:
    """The totals of one ``newsmon crawl``."""

    pages: int
    new_articles: int
    errors: int
    skipped_known: int
    new_matches: int | None = None  # None: topics were not matched (the crawl was stopped)
    flagged: int = 0
    stopped_by: str = "interrupted"  # why topics were not matched, when they were not
    kind: Literal["crawl"] = "crawl"  # the result file's tag (see :data:`JobReport`)

    def summary(self) -> str:
        """``14 pages, 7 new articles, 0 errors, 3 known links skipped; …``."""
        matching = (f"topics not matched ({self.stopped_by})" if self.new_matches is None else
                    f"{self.new_matches} new topic matches ({self.flagged} flagged for the "
                    "digest)")
        return (f"{self.pages} pages, {self.new_articles} new articles, {self.errors} errors, "
                f"{self.skipped_known} known links skipped; {matching}")


@dataclass(frozen=True, slots=True)
class DigestResult:
    """What became of one subscription's digest (see ``newsmon.app.digests``)."""

    subscription: str
    status: str  # sent, empty, held, failed, busy, dry-run
    matches: int
    channel: str
    format: str
    error: str | None = None

    def summary(self) -> str:
        """One line, the same in ``newsmon digest``'s output and the service's log."""
        name, matches = self.subscription, f"{self.matches} match" + "es" * (self.matches != 1)
        if self.status == "sent":
            return f"digest {name}: sent {matches} to {self.channel} ({self.format})"
        if self.status == "dry-run":
            return (f"digest {name}: dry run, {matches} would go to {self.channel} "
                    f"({self.format}); nothing sent or marked")
        if self.status == "empty":
            return f"digest {name}: nothing new; not sent (heartbeat off)"
        if self.status == "held":
            return f"digest {name}: quiet hours; {matches} held"
        if self.status == "busy":
            return f"digest {name}: not sent, {self.error}; try again later"
        stay = "stays" if self.matches == 1 else "stay"
        return (f"digest {name}: FAILED: {self.error}; {matches} {stay} pending for the "
                "next digest")


@dataclass(frozen=True, slots=True)
class DigestResults:
    """The digests one ``newsmon digest`` sent (one per subscription it ran)."""

    subscriptions: tuple[DigestResult, ...]
    kind: Literal["digest"] = "digest"

    def summary(self) -> str:
        return "; ".join(result.summary() for result in self.subscriptions)


@dataclass(frozen=True, slots=True)
class RevisitResult:
    """The totals of one ``newsmon revisit``: articles looked at, by outcome."""

    due: int
    enrolled: int
    outcomes: dict[str, int]
    new_matches: int = 0
    kind: Literal["revisit"] = "revisit"

    def summary(self) -> str:
        """``7 re-visits: 2 edited, 1 taken_down, 4 unchanged; 3 newly watched``."""
        parts = ", ".join(f"{count} {name}" for name, count in sorted(self.outcomes.items()))
        return (f"{self.due} re-visits" + (f": {parts}" if parts else "")
                + f"; {self.enrolled} newly watched; {self.new_matches} new topic matches")


JobReport = Annotated[CrawlResult | DigestResults | RevisitResult,
                      Field(discriminator="kind")]
# Checks a result file's fields and types, and reads it back into the dataclasses.
_REPORT: TypeAdapter[JobReport] = TypeAdapter(JobReport)


class ResultFileError(ValueError):
    """A result file that is not what a ``newsmon`` child writes."""


def write_result(path: Path, report: JobReport) -> None:
    """Write ``report`` to ``path`` whole or not at all (a reader never sees half)."""
    payload = {"version": RESULT_VERSION, "report": _REPORT.dump_python(report, mode="json")}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def read_result(path: Path) -> JobReport | None:
    """The report a child wrote to ``path``; None when it wrote none.

    Raises :class:`ResultFileError` for a file that is there but unreadable as one.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ResultFileError(f"{path}: {exc.strerror or exc}") from None
    try:
        payload = json.loads(text)
        if not isinstance(payload, dict) or payload.get("version") != RESULT_VERSION:
            raise ValueError(f"expected a JSON object of version {RESULT_VERSION}")
        return _REPORT.validate_python(payload.get("report"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the report"
        raise ResultFileError(f"{path}: not a newsmon result: {where}: {first['msg']}"
                              ) from None
    except ValueError as exc:
        raise ResultFileError(f"{path}: not a newsmon result: {exc}") from None
