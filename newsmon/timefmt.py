"""How a person reads a time or a duration, the same in every command and digest.

Machine output (``--json``, ``--jsonl``, CSV, the Atom feed) keeps UTC ISO 8601;
everything a person reads goes through :func:`local_time` and :func:`format_duration`.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo


def _zone(zone: str | tzinfo | None) -> tzinfo | None:
    # None: the machine's own zone (astimezone() without an argument)
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def local_time(
    value: datetime | None,
    zone: str | tzinfo | None = None,
    *,
    seconds: bool = False,
    missing: str = "time unknown",
) -> str:
    """``2020-01-13 08:46 CST``: ``value`` in ``zone`` with the zone's abbreviation.

    ``seconds`` adds them (second-level schedules); ``missing`` is shown for None.
    """
    if value is None:
        return missing
    local = value.astimezone(_zone(zone))
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local:%Y-%m-%d} {clock} {local.tzname()}"


def format_duration(seconds: float) -> str:
    """``3.3s``, ``4m 05s``, ``2h 03m``: one way to print how long something took."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
