"""The version history of a watched article, as ``newsmon show`` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newsmon.cli.output import local_time
from newsmon.storage.engine import Session
from newsmon.storage.watch import (
    CheckRecord,
    VersionRecord,
    WatchState,
    article_checks,
    article_versions,
    watch_state,
)
from newsmon.versions import diff_versions, readable_diff


@dataclass(frozen=True, slots=True)
class History:
    watch: WatchState | None
    versions: list[VersionRecord]
    checks: list[CheckRecord]


def read_history(session: Session, article_id: int) -> History:
    return History(watch_state(session, article_id), article_versions(session, article_id),
                   article_checks(session, article_id))


def history_json(history: History) -> dict[str, Any]:
    watch = history.watch
    return {
        "watch": None if watch is None else {
            "state": watch.state, "due_at": watch.due_at, "last_checked": watch.last_checked,
            "last_alive": watch.last_alive, "taken_down_at": watch.taken_down_at,
            "evidence": watch.evidence},
        "versions": [{"seq": v.seq, "seen_at": v.seen_at, "kind": v.kind,
                      "content_hash": v.content_hash, "title": v.snapshot.title,
                      "body": v.snapshot.body, "source": v.snapshot.source,
                      "author": v.snapshot.author, "editor": v.snapshot.editor,
                      "published_at": v.snapshot.published_at, "changes": v.changes}
                     for v in history.versions],
        "checks": [{"checked_at": c.checked_at, "outcome": c.outcome, "status": c.status,
                    "evidence": c.evidence, "version": c.version_seq}
                   for c in history.checks],
    }


def render_history(history: History, zone: str) -> list[str]:
    """``Watched: …`` and, when the text changed, each version with a readable diff."""
    watch = history.watch
    if watch is None:
        return []
    state = watch.state + (f" since {local_time(watch.taken_down_at, zone)} ({watch.evidence})"
                           if watch.state == "taken_down" and watch.taken_down_at else "")
    due = f"next re-visit {local_time(watch.due_at, zone)}" if watch.due_at else "schedule done"
    lines = [f"Watched: {state}; {len(history.checks)} re-visits; {due}"]
    for check in history.checks:
        lines.append(f"  {local_time(check.checked_at, zone)}  {check.outcome}"
                     + (f"  ({check.evidence})" if check.evidence else ""))
    previous: VersionRecord | None = None
    for version in history.versions:
        head = f"version {version.seq} · {version.kind} · seen {local_time(version.seen_at, zone)}"
        lines.append(head + f" · {version.content_hash[:12]}")
        if previous is None:
            lines.append(f"  title: {version.snapshot.title}")
        else:
            diff = diff_versions(previous.snapshot, version.snapshot)
            lines.append(f"  {diff.summary()}")
            old, new = previous.snapshot, version.snapshot
            if old.title != new.title:
                lines += [f"  - {old.title}", f"  + {new.title}"]
            lines += [f"  {line}" for line in readable_diff(old.body, new.body)]
        previous = version
    return lines
