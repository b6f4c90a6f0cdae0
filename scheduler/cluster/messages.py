"""Job messages between the runner and the workers, and the broker's queue names.

A message is a plain JSON object (never a pickle: workers must not run code a broker
hands them). It names the job (kind and target), the time limit the runner gives it,
the slot it is for, whether it makes up for a slot missed while no runner was up, and
when and by which runner it was sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from newsmon.scheduler.schedules import JobKind, JobSpec

TASK_NAME = "newsmon.run_job"


def queue_name(prefix: str, kind: JobKind) -> str:
    """``newsmon.crawl``: one queue per job kind, so a worker can take only some kinds."""
    return f"{prefix}.{kind.value}"


def all_queue_names(prefix: str) -> list[str]:
    return [queue_name(prefix, kind) for kind in JobKind]


@dataclass(frozen=True, slots=True)
class JobRequest:
    kind: str
    target: str
    timeout_seconds: float
    scheduled_for: str | None  # ISO 8601, UTC
    catch_up: bool
    sent_at: str
    runner: str  # the holder id of the `newsmon run` that sent it
    # True once the message was redelivered or put back to wait for a lease: it must
    # run (it is no duplicate of a run already going).
    insist: bool = False

    @property
    def job_id(self) -> str:
        return f"{self.kind}:{self.target}"

    @classmethod
    def for_spec(cls, spec: JobSpec, *, scheduled_for: datetime | None, catch_up: bool,
                 sent_at: datetime, runner: str) -> JobRequest:
        return cls(spec.kind.value, spec.target, spec.timeout.total_seconds(),
                   scheduled_for.isoformat() if scheduled_for else None, catch_up,
                   sent_at.isoformat(), runner)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> JobRequest:
        """The message as sent; ValueError naming what is wrong with a malformed one."""
        if not isinstance(data, dict):
            raise ValueError(f"job message is not an object: {type(data).__name__}")
        try:
            request = cls(**data)
        except TypeError as exc:
            raise ValueError(f"job message has wrong fields: {exc}") from None
        if request.kind not in {kind.value for kind in JobKind}:
            raise ValueError(f"job message has an unknown job kind: {request.kind!r}")
        if not 0 < float(request.timeout_seconds) <= 7 * 86400:
            raise ValueError(f"job message time limit out of range: {request.timeout_seconds}")
        return request

    def insisting(self) -> JobRequest:
        return replace(self, insist=True)

    def scheduled_time(self) -> datetime | None:
        return datetime.fromisoformat(self.scheduled_for) if self.scheduled_for else None
