"""Tracked topics: named queries in the query language.

Callers get :class:`TopicRecord` values, never ORM rows (which stay in ``storage``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsmon.storage._records import record_of, rowcount
from newsmon.storage.models import Match, Topic


class TopicError(ValueError):
    """A topic operation that cannot be done; the message names the topic."""


@dataclass(frozen=True, slots=True)
class TopicRecord:
    id: int
    name: str
    query: str
    created_at: datetime
    updated_at: datetime


MAX_TOPIC_NAME = 100  # the width of the topics.name column
_TOPIC_NAME = re.compile(r"[\w.-]+")  # letters of any script, digits, '_', '.', '-'


def check_topic_name(name: str) -> None:
    """Refuse a name that cannot be stored or typed back as ``@NAME`` (one-line error).

    Unlike subscription entries, names are not checked for secret words: a topic
    called ``password-leak`` is a topic, not a credential."""
    if len(name) > MAX_TOPIC_NAME:
        raise TopicError(f"topic name is {len(name)} characters long ({name[:20]!r}…); "
                         f"at most {MAX_TOPIC_NAME} are allowed")
    if not _TOPIC_NAME.fullmatch(name):
        raise TopicError(f"topic name {name!r} must be letters, digits, '.', '_' or '-'")


def _row(session: Session, name: str) -> Topic | None:
    return session.scalar(select(Topic).where(Topic.name == name))


def list_topics(session: Session) -> Sequence[TopicRecord]:
    rows = session.scalars(select(Topic).order_by(Topic.name))
    return [record_of(TopicRecord, row) for row in rows]


def get_topic(session: Session, name: str) -> TopicRecord | None:
    row = _row(session, name)
    return None if row is None else record_of(TopicRecord, row)


def add_topic(session: Session, name: str, query: str, now: datetime) -> TopicRecord:
    """Create a topic; a topic of that name must not exist yet."""
    check_topic_name(name)
    if _row(session, name) is not None:
        raise TopicError(f"topic {name!r} already exists (use `topics edit` to change it)")
    topic = Topic(name=name, query=query, created_at=now, updated_at=now)
    session.add(topic)
    try:
        session.flush()
    except IntegrityError:
        raise TopicError(f"topic {name!r} already exists") from None
    return record_of(TopicRecord, topic)


def edit_topic(session: Session, name: str, query: str, now: datetime) -> TopicRecord:
    topic = _row(session, name)
    if topic is None:
        raise TopicError(f"no topic named {name!r}")
    topic.query = query
    topic.updated_at = now
    session.flush()
    return record_of(TopicRecord, topic)


def remove_topic(session: Session, name: str) -> None:
    """Delete a topic and (by cascade) its matches and their delivery records."""
    if not rowcount(session.execute(delete(Topic).where(Topic.name == name))):
        raise TopicError(f"no topic named {name!r}")


def topic_match_counts(session: Session) -> dict[int, tuple[int, int]]:
    """``{topic_id: (matches, flagged)}`` for every topic that has matches."""
    rows = session.execute(
        select(Match.topic_id, func.count(), func.sum(case((Match.is_new, 1), else_=0)))
        .group_by(Match.topic_id))
    return {topic_id: (int(total), int(flagged or 0)) for topic_id, total, flagged in rows}
