"""Cron expressions as the config and the scheduler read them (pure: no I/O).

In the core so that the config is checked at load time without importing the
scheduler service: a bad schedule is a ``FILE:LINE`` error for every command.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbering
_WEEKDAY_NAMES = {name: number for number, name in enumerate(CRON_DAY_NAMES)} | {
    name: number for number, name in enumerate(
        ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"))}


class ScheduleError(ValueError):
    """A schedule that cannot be used; the message names the config entry."""


def parse_cron(expr: str, timezone: str) -> BaseTrigger:
    """A trigger for a 5- or 6-field cron expression in ``timezone``.

    Raises :class:`ScheduleError` naming the expression and the problem.
    """
    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ScheduleError(f"schedule {expr!r} has {len(fields)} fields; use 5 (minute hour "
                            "day month weekday, e.g. \"0 7 * * *\") or 6 with seconds first")
    second = fields[0] if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields[-5:]
    try:
        zone = ZoneInfo(timezone)
        days = cron_weekdays(weekday)
        common = {"second": second, "minute": minute, "hour": hour, "month": month,
                  "timezone": zone}
        if _restricted(day) and _restricted(weekday):
            # cron: either field matching is enough; APScheduler would need both.
            return OrTrigger([CronTrigger(day=day, day_of_week="*", **common),
                              CronTrigger(day="*", day_of_week=days, **common)])
        return CronTrigger(day=day, day_of_week=days, **common)
    except (ValueError, KeyError) as exc:
        raise ScheduleError(f"schedule {expr!r}: {exc}") from None


def _restricted(field: str) -> bool:
    # Vixie cron's rule: a field starting with "*" counts as unrestricted.
    return not field.startswith("*") and field != "?"


def cron_weekdays(field: str) -> str:
    """A cron day-of-week field (0/7 = Sunday, names, ranges, steps) in APScheduler's
    terms: ``*`` or a comma list of day names, which mean the same in both."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        days |= _weekday_item(item, field)
    if days == set(range(7)):
        return "*"
    return ",".join(CRON_DAY_NAMES[d] for d in sorted(days))


def _weekday_item(item: str, field: str) -> set[int]:
    span, _, step_text = item.partition("/")
    step = _weekday_number(step_text, field, as_step=True) if step_text else 1
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        start, end = span.split("-", 1)
        first, last = _weekday_number(start, field), _weekday_number(end, field)
        if first > last:
            raise ScheduleError(f"day-of-week {field!r}: range {span!r} runs backwards")
    else:
        first = _weekday_number(span, field)
        last = 6 if step_text else first  # "1/2": from Monday to Saturday, every other day
    return {day % 7 for day in range(first, last + 1, step)}


def _weekday_number(text: str, field: str, as_step: bool = False) -> int:
    if not as_step and text in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[text]
    if not text.isdigit() or not (0 <= int(text) <= 7) or (as_step and int(text) == 0):
        raise ScheduleError(f"day-of-week {field!r}: {text!r} is not a weekday "
                            "(0-7 with 0 and 7 = Sunday, or sun..sat)")
    return int(text)
