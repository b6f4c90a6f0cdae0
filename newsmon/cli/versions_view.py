"""The version history of a watched article, as ``newsmon show`` prints it."""

from __future__ import annotations

from newsmon.app.reading import History
from newsmon.cli.output import local_time
from newsmon.storage.watch import VersionRecord
from newsmon.versions import diff_versions, readable_diff


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
