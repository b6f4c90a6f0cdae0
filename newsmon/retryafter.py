"""``Retry-After`` (RFC 9110, section 10.2.3), read the same way by the crawler and the
digest webhook: delta-seconds or an HTTP date."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait that ``value`` asks for, counted from ``now`` (aware).

    ``"120"`` is 120 s; ``"Wed, 21 Oct 2015 07:28:00 GMT"`` is the time until then (0
    when it has passed). None when there is no header or it is neither form: the
    caller then falls back to its own backoff.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" or no zone: HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
