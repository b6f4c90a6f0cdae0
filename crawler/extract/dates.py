"""Read publish times the way Chinese news pages write them.

Handles ISO 8601 (meta tags, JSON-LD), 年月日 with 时/時/点/點 and 分, slashes and
dots, 上午/下午/晚上, full-width digits (normalised with NFKC first), ROC years
(民國113年, 113/05/01) and relative times (刚刚, 3小时前, 昨天 08:30) against the
fetch time passed in. Times without an offset are site-local in the zone given.
Pure functions: no clock is read here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?")

_CN_YEAR = r"(?<![\d.])(?:(?:中華民國|中华民国|民國|民国)\s*(\d{2,3})|(\d{4})|(\d{2,3})(?=[/年]))"
_DATE = re.compile(
    _CN_YEAR + r"\s*(?:年\s*|[-/.])(\d{1,2})\s*(?:月\s*|[-/.])(\d{1,2})(?!\d)\s*[日号號]?"
    r"(?:\s*(?:[(（]?(?:星期|周|週|礼拜|禮拜)[一二三四五六日天][)）]?)?\s*,?\s*"
    r"(上午|下午|晚上|晚間|晚间|凌晨|早上|中午|傍晚|AM|PM|am|pm)?\s*"
    r"(\d{1,2})\s*[:：时時点點]\s*(\d{1,2})\s*分?(?:\s*[:：]\s*(\d{1,2})\s*秒?)?"
    r"(?:\s*(AM|PM|am|pm))?)?")
_US_DATE = re.compile(  # "7/5/2005 9:23:57 PM": month first, as US-made CMSs print it
    r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})(?!\d)"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM|am|pm)?)?")
_MONTH_DAY = re.compile(  # "6月29日 19:35" without a year: completed from the fetch time
    r"(?<![\d年/-])(\d{1,2})月(\d{1,2})[日号號]\s*(\d{1,2})[:：时時点點](\d{1,2})")
_RELATIVE = re.compile(
    r"(刚刚|剛剛|刚才|剛才|(\d+)\s*(秒|分钟|分鐘|分|小时|小時|个小时|個小時|天|日)前"
    r"|(今天|今日|昨天|昨日|前天)\s*(\d{1,2})[:：](\d{2}))")
_EN_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_EN_DATE = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})"
    r"(?:[\s,]+(?:at\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM|am|pm)?)?")


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A date read off a string: when, whether it carried a time, where it started."""

    when: datetime
    has_time: bool
    start: int


def normalise(text: str) -> str:
    """NFKC (full-width digits and colons to ASCII) and no-break spaces to spaces."""
    return unicodedata.normalize("NFKC", text)


def parse_iso(value: str, tz: tzinfo) -> FoundDate | None:
    """An ISO 8601 / RFC 3339-ish timestamp, or a plain date, from metadata."""
    text = normalise(value).strip()
    match = _ISO.search(text)
    if match:
        y, mo, d, h, mi, s, off = match.groups()
        when = _make(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tz)
        if when is None:
            return None
        if off:
            offset = off.replace("Z", "+00:00")
            if ":" not in offset:
                offset = offset[:3] + ":" + offset[3:]
            try:
                aware = datetime.fromisoformat(when.replace(tzinfo=None).isoformat() + offset)
            except ValueError:
                return FoundDate(when, True, match.start())
            when = aware.astimezone(tz)
        return FoundDate(when, True, match.start())
    return find_date(text, tz)


def find_date(text: str, tz: tzinfo, fetched_at: datetime | None = None, *,
              relative: bool = True) -> FoundDate | None:
    """The first plausible date (with time if written) in a line of visible text;
    ``relative=False`` skips 今日/昨天/N分钟前 (they count only in the byline)."""
    found = find_dates(text, tz, fetched_at, limit=1, relative=relative)
    return found[0] if found else None


def find_dates(text: str, tz: tzinfo, fetched_at: datetime | None = None,
               limit: int = 20, *, relative: bool = True) -> list[FoundDate]:
    """Every plausible date in ``text``, in order of appearance (at most ``limit``)."""
    text = normalise(text)
    out: list[FoundDate] = []
    for match in _DATE.finditer(text):
        found = _from_date_match(match, tz, fetched_at)
        if found is not None:
            out.append(found)
            if len(out) >= limit:
                return out
    if not out:
        out.extend(_english_dates(text, tz))
    if not out:
        out.extend(_us_dates(text, tz))
    if fetched_at is not None:
        if relative:
            out.extend(_relative_dates(text, tz, fetched_at))
        out.extend(_month_day_dates(text, tz, fetched_at))
    out.sort(key=lambda f: f.start)
    return out[:limit]


def _from_date_match(match: re.Match[str], tz: tzinfo,
                     fetched_at: datetime | None) -> FoundDate | None:
    roc, year4, short, mo, d, ampm, h, mi, s, ampm2 = match.groups()
    if year4:
        year = int(year4)
    elif roc:
        year = int(roc) + 1911
    else:
        value = int(short)
        if len(short) == 3 or (len(short) == 2 and value > 30 and "年" not in match.group(0)):
            year = value + 1911  # 113/05/01 is an ROC date; 2-digit ROC years are rare
        elif len(short) == 2:
            year = 2000 + value if value < 50 else 1900 + value
        else:
            return None
    if not 1990 <= year <= 2100:
        return None
    if h is not None:
        hour = _hour_24(int(h), ampm or ampm2)
        when = _make(year, int(mo), int(d), hour, int(mi), int(s or 0), tz)
        if when is not None:
            if fetched_at is not None and when > fetched_at.astimezone(tz) + timedelta(days=2):
                return None  # a "date" in the future is an ID or a typo, not a publish time
            return FoundDate(when, True, match.start())
    # no time, or one that is not a time of day (25:70): the date alone
    when = _make(year, int(mo), int(d), 0, 0, 0, tz)
    return None if when is None else FoundDate(when, False, match.start())


def _hour_24(hour: int, marker: str | None) -> int:
    if marker is None:
        return hour
    afternoon = marker.lower() in ("下午", "晚上", "晚間", "晚间", "傍晚", "pm")
    if afternoon and hour < 12:
        return hour + 12
    if marker in ("中午",) and hour < 6:
        return hour + 12
    if marker.lower() == "am" and hour == 12:
        return 0
    return hour


def _make(year: int, month: int, day: int, hour: int, minute: int, second: int,
          tz: tzinfo) -> datetime | None:
    try:
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=tz)
    except ValueError:
        return None


def _english_dates(text: str, tz: tzinfo) -> list[FoundDate]:
    out = []
    for match in _EN_DATE.finditer(text):
        mon, d, y, h, mi, s, ampm = match.groups()
        month = _EN_MONTHS[mon[:3].lower()]
        hour = _hour_24(int(h), ampm) if h else 0
        when = _make(int(y), month, int(d), hour, int(mi or 0), int(s or 0), tz)
        if when is not None:
            out.append(FoundDate(when, h is not None, match.start()))
    return out


def _us_dates(text: str, tz: tzinfo) -> list[FoundDate]:
    out = []
    for match in _US_DATE.finditer(text):
        first, second, y, h, mi, s, ampm = match.groups()
        month, day = int(first), int(second)
        if month > 12:  # 13/05/2005 can only be day first
            month, day = day, month
        hour = _hour_24(int(h), ampm) if h else 0
        when = _make(int(y), month, day, hour, int(mi or 0), int(s or 0), tz)
        if when is not None:
            out.append(FoundDate(when, h is not None, match.start()))
    return out


def relative_date(text: str, tz: tzinfo, fetched_at: datetime) -> FoundDate | None:
    """The first relative time (刚刚, 3小时前, 今日 15:23) in ``text``, resolved against
    ``fetched_at`` in the source's zone ``tz``."""
    found = _relative_dates(normalise(text), tz, fetched_at)
    return found[0] if found else None


def _relative_dates(text: str, tz: tzinfo, fetched_at: datetime) -> list[FoundDate]:
    now = fetched_at.astimezone(tz)
    out = []
    for match in _RELATIVE.finditer(text):
        word, amount, unit, day_word, hh, mm = match.groups()
        if word in ("刚刚", "剛剛", "刚才", "剛才"):
            out.append(FoundDate(now.replace(second=0, microsecond=0), True, match.start()))
        elif amount is not None:
            delta = _unit_delta(int(amount), unit)
            ago = (now - delta).replace(second=0, microsecond=0)
            out.append(FoundDate(ago, not unit.endswith(("天", "日")), match.start()))
        elif day_word is not None:
            back = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}[day_word]
            day = now - timedelta(days=back)
            clock = _make(day.year, day.month, day.day, int(hh), int(mm), 0, tz)
            if clock is not None:
                out.append(FoundDate(clock, True, match.start()))
    return out


def _unit_delta(amount: int, unit: str) -> timedelta:
    if unit == "秒":
        return timedelta(seconds=amount)
    if unit.startswith("分"):
        return timedelta(minutes=amount)
    if unit.endswith(("天", "日")):
        return timedelta(days=amount)
    return timedelta(hours=amount)


def _month_day_dates(text: str, tz: tzinfo, fetched_at: datetime) -> list[FoundDate]:
    now = fetched_at.astimezone(tz)
    out = []
    for match in _MONTH_DAY.finditer(text):
        mo, d, h, mi = (int(x) for x in match.groups())
        when = _make(now.year, mo, d, h, mi, 0, tz)
        if when is not None and when > now + timedelta(days=2):
            when = _make(now.year - 1, mo, d, h, mi, 0, tz)
        if when is not None:
            out.append(FoundDate(when, True, match.start()))
    return out


def date_from_url(url: str, tz: tzinfo) -> FoundDate | None:
    """A date embedded in an article URL (/2012-06/04/, /20130629/), date only."""
    match = re.search(r"(?<!\d)(19\d{2}|20\d{2})[-/_]?(\d{2})[-/_]?(\d{2})(?!\d)", url)
    if match is None:
        match = re.search(r"(?<!\d)(19\d{2}|20\d{2})[-/](\d{1,2})/(\d{1,2})(?!\d)", url)
    if match is None:
        return None
    when = _make(int(match.group(1)), int(match.group(2)), int(match.group(3)), 0, 0, 0, tz)
    return None if when is None else FoundDate(when, False, 0)


# How far past the fetch time a publish time may lie (clock skew between us and the
# site); anything later is an ID, a typo or a sidebar's clock, never stored.
FUTURE_SKEW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class DateEvidence:
    """One publish-time candidate and where it was read (``published_source``)."""

    when: datetime
    source: str


def parse_hint(value: str, tz: tzinfo) -> FoundDate | None:
    """A date the crawl saw outside the page: an RFC 2822 feed ``pubDate`` or HTTP
    ``Last-Modified``, or an ISO 8601 sitemap ``lastmod``."""
    text = value.strip()
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return parse_iso(text, tz)
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return FoundDate(when.astimezone(tz), True, 0)


def choose_published(candidates: list[DateEvidence], fetched_at: datetime) -> DateEvidence | None:
    """The first candidate (they come strongest evidence first) not later than the
    fetch time plus :data:`FUTURE_SKEW`."""
    latest = fetched_at + FUTURE_SKEW
    return next((c for c in candidates if c.when <= latest), None)
