"""The typed application configuration, read from one TOML file.

The file is parsed once at the entry point (the ``newsmon`` command or the scheduler)
into frozen dataclasses that are passed down; library code never reads the file or the
environment itself. Every problem is reported as a :class:`ConfigError` whose message
starts with ``FILE:LINE:`` so an editor can jump to it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from newsmon.tomlerrors import explain_toml_error

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon/newsmon; polite news monitor)"


# The allowed range of every numeric setting: name -> (minimum, maximum, unit), both
# ends included. Outside them a crawl misbehaves instead of failing: concurrency 0 hangs
# Scrapy forever, a size cap of 0 turns the cap off, a negative timeout fails every
# request. README "Configuration" lists the same table.
NUMBER_RANGES: dict[str, tuple[float, float, str]] = {
    "download_delay": (0, 3600, "seconds"),
    "concurrency_per_domain": (1, 64, "requests at once"),
    "download_timeout": (1, 3600, "seconds"),
    "max_response_bytes": (1024, 1024**3, "bytes"),
    "max_list_pages": (1, 1000, "pages"),
    "politeness.download_delay": (0, 3600, "seconds"),
    "politeness.concurrency": (1, 64, "requests at once"),
    "file_mode": (0o000, 0o777, "permission bits"),
    "revisit_batch": (1, 100000, "re-visits per run"),
    "revisit_unreachable_after": (1, 100, "failed re-visits in a row"),
    "revisit_after": (0, 365 * 86400, "seconds after first seen"),
}
WATCH_MODES = ("matched", "all", "off")
MAX_REVISITS = 20


def range_problem(name: str, value: float) -> str | None:
    """Why ``value`` is outside NUMBER_RANGES[name], or None when it is inside."""
    low, high, unit = NUMBER_RANGES[name]
    if low <= value <= high:
        return None
    if name == "file_mode":
        return f"{value:o} is not a permission mode (use e.g. \"0644\")"
    return f"must be from {low:g} to {high:g} {unit}, got {value!r}"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class ExtractOverrides:
    """Per-source selectors that win over the generic extractor.

    Each selector is ``css:…`` or ``xpath:…`` (a bare string is CSS).
    """

    title: str | None = None
    body: str | None = None
    published: str | None = None
    byline: str | None = None
    noise: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Politeness:
    """Per-source overrides of the crawl politeness settings (None = global default)."""

    download_delay: float | None = None
    concurrency: int | None = None
    obey_robots: bool | None = None


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One monitored site: where its article links are found and how to read it."""

    name: str
    lists: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    timezone: str = DEFAULT_TIMEZONE
    allowed_domains: tuple[str, ...] = ()
    article_pattern: str | None = None
    max_list_pages: int = 5
    schedule: str | None = None  # cron expression for `newsmon run`
    host_aliases: Mapping[str, str] = field(default_factory=dict)
    extract: ExtractOverrides = field(default_factory=ExtractOverrides)
    politeness: Politeness = field(default_factory=Politeness)
    # Which of its articles are re-visited for edits and takedowns: those that
    # matched a topic, all, or none (newsmon/versions.py).
    watch: str = "matched"
    line: int = 0  # where the entry starts in the config file, for messages

    @property
    def start_urls(self) -> tuple[str, ...]:
        return self.lists + self.feeds + self.sitemaps


@dataclass(frozen=True, slots=True)
class SubscriptionConfig:
    """Who gets which topics' digests, how, and when.

    ``channel`` names where the digest goes: ``stdout``, ``file:PATH``,
    ``smtp://host:port`` / ``smtps://host:port`` (email; credentials from the
    environment), ``webhook:https://…`` (JSON POST), or any Apprise URL
    (``wecombot://…``, ``dingtalk://…``, ``feishu://…``, ``tgram://…`` …).
    """

    name: str
    topics: tuple[str, ...] = ()  # empty: every topic
    channel: str = "stdout"
    format: str = "text"  # text | markdown | html | json | atom
    schedule: str | None = None  # cron expression for `newsmon run`
    timezone: str = DEFAULT_TIMEZONE
    quiet_hours: str | None = None  # "22:00-07:00" in `timezone`: hold digests until after
    heartbeat: bool = False  # send even when there is nothing new
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    # The digest footer names a crawled source with no new article for this long
    # ("went silent"); a duration such as "48h", or "off".
    silent_after: str = "48h"
    file_mode: int | None = None  # permission bits of a new file:PATH digest (None: 0644)
    line: int = 0

    @property
    def silent_window(self) -> timedelta | None:
        return parse_duration(self.silent_after)


SUBSCRIPTION_FORMATS = ("text", "markdown", "html", "json", "atom")


@dataclass(frozen=True, slots=True)
class Settings:
    """Global settings from the ``[settings]`` table."""

    timezone: str = DEFAULT_TIMEZONE
    # Matches of articles published longer ago than this (when first matched) are stored
    # but not flagged new, so a first crawl or an old page surfacing does not alert.
    # A duration such as "48h" or "2d", or "off" to flag every match.
    backfill_window: str = "48h"
    user_agent: str = DEFAULT_USER_AGENT
    download_delay: float = 0.25
    concurrency_per_domain: int = 4
    download_timeout: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    obey_robots: bool = True
    # Re-visits of watched articles: offsets after first seen, at most this many per
    # run, "unreachable" after this many failures in a row, cron for `newsmon run`.
    revisit_after: tuple[str, ...] = ("1h", "6h", "1d", "3d", "7d")
    revisit_batch: int = 200
    revisit_unreachable_after: int = 3
    revisit_schedule: str | None = None

    @property
    def backfill(self) -> timedelta | None:
        return parse_duration(self.backfill_window)

    @property
    def revisit_offsets(self) -> tuple[timedelta, ...]:
        return tuple(parse_duration(text) or timedelta(0) for text in self.revisit_after)


@dataclass(frozen=True, slots=True)
class Config:
    """Everything read from one config file (or the empty default)."""

    path: Path | None = None
    settings: Settings = field(default_factory=Settings)
    sources: tuple[SourceConfig, ...] = ()
    subscriptions: tuple[SubscriptionConfig, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    def subscription(self, name: str) -> SubscriptionConfig:
        for sub in self.subscriptions:
            if sub.name == name:
                return sub
        known = ", ".join(s.name for s in self.subscriptions) or "none configured"
        raise ConfigError(f"{self.path or '<no config>'}: unknown subscription {name!r} "
                          f"(known: {known})")

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"{self.path or '<no config>'}: unknown source {name!r} (known: {known})")


def default_data_dir() -> Path:
    """Where newsmon keeps its database and logs unless told otherwise."""
    return Path(platformdirs.user_data_dir("newsmon", appauthor=False))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("newsmon", appauthor=False)) / "config.toml"


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'newsmon.db'}"


def demo_database_url() -> str:
    """The demo's own SQLite file, beside the default database."""
    return f"sqlite:///{default_data_dir() / 'demo.db'}"


def is_default_location(url: str) -> bool:
    """One of the databases newsmon itself names (its directory may be created: on a
    fresh machine the data directory does not exist yet)."""
    return url in (default_database_url(), demo_database_url())


def resolve_database_url(cli_value: str | None, env: Mapping[str, str] = os.environ) -> str:
    """``--db`` wins over ``NEWSMON_DB``, which wins over the per-user SQLite file."""
    return cli_value or env.get("NEWSMON_DB") or default_database_url()


def load_config(path: Path | None) -> Config:
    """Read and validate a config file; ``None`` or a missing default file gives defaults."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(explain_toml_error(path, text, exc)) from None
    locator = _Locator(path, text)
    unknown = set(data) - {"settings", "sources", "subscriptions"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{locator.key(key)}: unknown top-level key {key!r} "
                          "(expected settings, sources, subscriptions)")
    settings = _parse_settings(_table(data, "settings", locator), locator)
    sources = _parse_sources(data.get("sources", []), locator, settings)
    subscriptions = _parse_subscriptions(data.get("subscriptions", []), locator, settings)
    return Config(path=path, settings=settings, sources=sources,
                  subscriptions=subscriptions, raw=data)


class _Locator:
    """Finds the line of a key or of the n-th ``[[table]]`` for error messages.

    tomllib returns plain dicts without positions, so we search the text; this is
    good enough to point a user at the right entry.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def key(self, key: str, after: int = 0) -> str:
        pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\b")
        for number, line in enumerate(self.lines[after:], start=after + 1):
            if pattern.match(line):
                return f"{self.path}:{number}"
        return f"{self.path}:{max(after, 1)}"

    def array_table(self, name: str, index: int) -> int:
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
        seen = -1
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                seen += 1
                if seen == index:
                    return number
        return 1


def _table(data: Mapping[str, Any], key: str, locator: _Locator) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{locator.key(key)}: {key!r} must be a table")
    return value


def _parse_settings(raw: dict[str, Any], locator: _Locator) -> Settings:
    defaults = Settings()
    values: dict[str, Any] = _parse_revisit_settings(raw, locator)
    for key, value in raw.items():
        if key in values:
            continue
        if not hasattr(defaults, key):
            raise ConfigError(f"{locator.key(key)}: unknown setting {key!r}")
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{locator.key(key)}: setting {key!r} must be "
                              f"{expected.__name__}, got {value!r}")
        problem = range_problem(key, value) if key in NUMBER_RANGES else None
        if problem:
            raise ConfigError(f"{locator.key(key)}: setting {key!r} {problem}")
        values[key] = value
    settings = Settings(**values)
    _check_timezone(settings.timezone, locator.key("timezone"))
    try:
        settings.backfill  # noqa: B018 - validate now, not at first match
    except ValueError as exc:
        raise ConfigError(f"{locator.key('backfill_window')}: backfill_window: {exc}") from None
    return settings


def _parse_revisit_settings(raw: dict[str, Any], locator: _Locator) -> dict[str, Any]:
    """``revisit_after`` (a list of durations) and ``revisit_schedule`` (cron): the
    settings the generic loop below cannot type-check."""
    values: dict[str, Any] = {}
    if "revisit_after" in raw:
        where = locator.key("revisit_after")
        offsets = raw["revisit_after"]
        if not isinstance(offsets, list) or not all(isinstance(o, str) for o in offsets) \
                or not 1 <= len(offsets) <= MAX_REVISITS:
            raise ConfigError(f"{where}: 'revisit_after' must be a list of 1 to "
                              f"{MAX_REVISITS} durations such as [\"1h\", \"6h\", \"1d\"]")
        seconds: list[float] = []
        for text in offsets:
            try:
                span = parse_duration(text)
            except ValueError as exc:
                raise ConfigError(f"{where}: 'revisit_after': {exc}") from None
            if span is None:
                raise ConfigError(f"{where}: 'revisit_after': {text!r} is not a duration")
            problem = range_problem("revisit_after", span.total_seconds())
            if problem:
                raise ConfigError(f"{where}: 'revisit_after' {text!r} {problem}")
            if seconds and span.total_seconds() <= seconds[-1]:
                raise ConfigError(f"{where}: 'revisit_after' must grow: {text!r} is not "
                                  "later than the offset before it")
            seconds.append(span.total_seconds())
        values["revisit_after"] = tuple(offsets)
    if "revisit_schedule" in raw:
        schedule = raw["revisit_schedule"]
        where = locator.key("revisit_schedule")
        if not isinstance(schedule, str) or len(schedule.split()) not in (5, 6):
            raise ConfigError(f"{where}: 'revisit_schedule' must be a 5-field cron "
                              "expression (or 6 fields with seconds first)")
        _check_cron(schedule, str(raw.get("timezone", DEFAULT_TIMEZONE)), where)
        values["revisit_schedule"] = schedule
    return values


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta | None:
    """``"90m"``, ``"48h"``, ``"30d"``, ``"2w"`` -> timedelta; ``"off"`` -> None.

    Raises ValueError naming the text when it is neither.
    """
    if text.strip().lower() in {"off", "none", "never"}:
        return None
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90m, 48h, 30d, 2w or off)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])


def _check_timezone(name: str, where: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {name!r} (e.g. Asia/Shanghai)") from None


def _check_cron(schedule: str | None, timezone: str, where: str) -> None:
    """Reject a cron expression APScheduler would refuse (``0 25 * * *``) when the
    config is read, so every command reports it, not only ``newsmon run``."""
    if schedule is None:
        return
    # The scheduler's own parser (standard cron weekdays, 6 fields with seconds);
    # imported here because the scheduler package imports this module.
    from newsmon.cron import ScheduleError, parse_cron

    try:
        parse_cron(schedule, timezone)
    except ScheduleError as exc:
        raise ConfigError(f"{where}: {exc}") from None


_SOURCE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


def _parse_sources(raw: Any, locator: _Locator, settings: Settings) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{locator.key('sources')}: use [[sources]] tables, one per site")
    sources: list[SourceConfig] = []
    names: set[str] = set()
    for index, entry in enumerate(raw):
        line = locator.array_table("sources", index)
        source = _parse_source(entry, locator, line, settings)
        if source.name in names:
            raise ConfigError(f"{locator.path}:{line}: duplicate source name {source.name!r}")
        names.add(source.name)
        sources.append(source)
    return tuple(sources)


_SOURCE_KEYS = {
    "name", "lists", "feeds", "sitemaps", "timezone", "allowed_domains", "article_pattern",
    "max_list_pages", "schedule", "host_aliases", "extract", "politeness", "watch",
}


def _parse_source(entry: Any, locator: _Locator, line: int, settings: Settings
                  ) -> SourceConfig:
    where = f"{locator.path}:{line}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: a source must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not _SOURCE_NAME.match(name):
        raise ConfigError(f"{where}: source needs a 'name' of letters, digits, '.', '_' or '-'")
    where = f"{where}: source {name!r}"
    unknown = set(entry) - _SOURCE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    urls = {kind: _url_list(entry.get(kind, []), f"{where}: {kind!r}") for kind in
            ("lists", "feeds", "sitemaps")}
    if not any(urls.values()):
        raise ConfigError(f"{where}: give at least one URL in 'lists', 'feeds' or 'sitemaps'")
    timezone = entry.get("timezone", settings.timezone)
    if not isinstance(timezone, str):
        raise ConfigError(f"{where}: 'timezone' must be a string")
    _check_timezone(timezone, where)
    pattern = entry.get("article_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError(f"{where}: 'article_pattern' is not a regular expression: {exc}"
                              ) from None
    max_pages = entry.get("max_list_pages", 5)
    if not isinstance(max_pages, int) or isinstance(max_pages, bool):
        raise ConfigError(f"{where}: 'max_list_pages' must be a whole number")
    _check_range(locator, line, name, "max_list_pages", "max_list_pages", max_pages)
    schedule = entry.get("schedule")
    # 5 cron fields, or 6 with seconds first (second-level schedules, used by tests)
    if schedule is not None and (not isinstance(schedule, str)
                                 or len(schedule.split()) not in (5, 6)):
        raise ConfigError(f"{where}: 'schedule' must be a 5-field cron expression, "
                          f"e.g. \"0 7 * * *\" (or 6 fields with seconds first)")
    _check_cron(schedule, timezone, where)
    watch = entry.get("watch", "matched")
    if watch not in WATCH_MODES:
        raise ConfigError(f"{locator.key('watch', after=line)}: source {name!r}: 'watch' must "
                          f"be one of {', '.join(repr(m) for m in WATCH_MODES)}, got {watch!r}")
    return SourceConfig(
        name=name,
        lists=urls["lists"],
        feeds=urls["feeds"],
        sitemaps=urls["sitemaps"],
        timezone=timezone,
        allowed_domains=_string_list(entry.get("allowed_domains", []),
                                     f"{where}: 'allowed_domains'"),
        article_pattern=pattern,
        max_list_pages=max_pages,
        schedule=schedule,
        host_aliases=_string_map(entry.get("host_aliases", {}), f"{where}: 'host_aliases'"),
        extract=_parse_overrides(entry.get("extract", {}), f"{where}: [extract]"),
        politeness=_parse_politeness(entry.get("politeness", {}), f"{where}: [politeness]",
                                     lambda key, value: _check_range(
                                         locator, line, name, key, f"politeness.{key}", value)),
        watch=watch,
        line=line,
    )


def _check_range(locator: _Locator, line: int, source: str, key: str, name: str,
                 value: float) -> None:
    """A source's number outside NUMBER_RANGES: the error names the key's own line."""
    problem = range_problem(name, value)
    if problem:
        raise ConfigError(f"{locator.key(key, after=line)}: source {source!r}: {key!r} "
                          f"{problem}")


def _url_list(value: Any, where: str) -> tuple[str, ...]:
    urls = _string_list(value, where)
    for url in urls:
        if not _URL.match(url):
            raise ConfigError(f"{where}: {url!r} is not an http(s) URL")
    return urls


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where} must be a table of strings")
    return dict(value)


def _parse_overrides(value: Any, where: str) -> ExtractOverrides:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    allowed = {"title", "body", "published", "byline", "noise"}
    unknown = set(value) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                          f"(expected {', '.join(sorted(allowed))})")
    single = {k: value.get(k) for k in ("title", "body", "published", "byline")}
    for key, selector in single.items():
        if selector is not None and not isinstance(selector, str):
            raise ConfigError(f"{where}: {key!r} must be a selector string")
    return ExtractOverrides(noise=_string_list(value.get("noise", []), f"{where}: 'noise'"),
                            **single)


def _parse_politeness(value: Any, where: str,
                      check_range: Callable[[str, float], None]) -> Politeness:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    delay = value.get("download_delay")
    concurrency = value.get("concurrency")
    robots = value.get("obey_robots")
    if delay is not None:
        if not isinstance(delay, int | float) or isinstance(delay, bool):
            raise ConfigError(f"{where}: 'download_delay' must be a number of seconds")
        check_range("download_delay", delay)
    if concurrency is not None:
        if not isinstance(concurrency, int) or isinstance(concurrency, bool):
            raise ConfigError(f"{where}: 'concurrency' must be a whole number")
        check_range("concurrency", concurrency)
    if robots is not None and not isinstance(robots, bool):
        raise ConfigError(f"{where}: 'obey_robots' must be true or false")
    return Politeness(download_delay=None if delay is None else float(delay),
                      concurrency=concurrency, obey_robots=robots)


_SUBSCRIPTION_KEYS = {
    "name", "topics", "channel", "format", "schedule", "timezone", "quiet_hours",
    "heartbeat", "email_to", "email_from", "silent_after", "file_mode",
}
_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def _parse_subscriptions(raw: Any, locator: _Locator, settings: Settings
                         ) -> tuple[SubscriptionConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{locator.key('subscriptions')}: use [[subscriptions]] tables")
    subs: list[SubscriptionConfig] = []
    for index, entry in enumerate(raw):
        line = locator.array_table("subscriptions", index)
        sub = _parse_subscription(entry, f"{locator.path}:{line}", line, settings)
        if any(s.name == sub.name for s in subs):
            raise ConfigError(f"{locator.path}:{line}: duplicate subscription name {sub.name!r}")
        subs.append(sub)
    return tuple(subs)


def _parse_file_mode(value: Any, where: str) -> int | None:
    """``file_mode = "0640"``: octal permission bits, as chmod takes them."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"0?o?[0-7]{1,4}", value):
        raise ConfigError(f"{where}: 'file_mode' must be an octal string such as \"0644\"")
    mode = int(value.replace("o", ""), 8)
    problem = range_problem("file_mode", mode)
    if problem:
        raise ConfigError(f"{where}: 'file_mode' {problem}")
    return mode


def _parse_subscription(entry: Any, where: str, line: int, settings: Settings
                        ) -> SubscriptionConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: a subscription must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not _SOURCE_NAME.match(name):
        raise ConfigError(f"{where}: subscription needs a 'name' of letters, digits, '.', '_' "
                          "or '-'")
    where = f"{where}: subscription {name!r}"
    unknown = set(entry) - _SUBSCRIPTION_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    if "password" in " ".join(str(v) for v in entry.values()).lower():
        raise ConfigError(f"{where}: credentials never go in the config file; set them in "
                          "the environment (see README, 'Delivery')")
    channel = entry.get("channel", "stdout")
    fmt = entry.get("format", "text")
    if not isinstance(channel, str) or not channel:
        raise ConfigError(f"{where}: 'channel' must be a string such as \"stdout\"")
    if fmt not in SUBSCRIPTION_FORMATS:
        raise ConfigError(f"{where}: 'format' must be one of {', '.join(SUBSCRIPTION_FORMATS)}")
    schedule = entry.get("schedule")
    if schedule is not None and (not isinstance(schedule, str)
                                 or len(schedule.split()) not in (5, 6)):
        raise ConfigError(f"{where}: 'schedule' must be a 5-field cron expression "
                          "(or 6 fields with seconds first)")
    timezone = entry.get("timezone", settings.timezone)
    if not isinstance(timezone, str):
        raise ConfigError(f"{where}: 'timezone' must be a string")
    _check_timezone(timezone, where)
    _check_cron(schedule, timezone, where)
    quiet = entry.get("quiet_hours")
    if quiet is not None and (not isinstance(quiet, str) or not _QUIET_HOURS.match(quiet)):
        raise ConfigError(f"{where}: 'quiet_hours' must look like \"22:00-07:00\"")
    heartbeat = entry.get("heartbeat", False)
    if not isinstance(heartbeat, bool):
        raise ConfigError(f"{where}: 'heartbeat' must be true or false")
    email_from = entry.get("email_from")
    if email_from is not None and not isinstance(email_from, str):
        raise ConfigError(f"{where}: 'email_from' must be an address")
    silent_after = entry.get("silent_after", "48h")
    if not isinstance(silent_after, str):
        raise ConfigError(f"{where}: 'silent_after' must be a duration such as \"48h\"")
    try:
        parse_duration(silent_after)
    except ValueError as exc:
        raise ConfigError(f"{where}: 'silent_after': {exc}") from None
    return SubscriptionConfig(
        name=name,
        topics=_string_list(entry.get("topics", []), f"{where}: 'topics'"),
        channel=channel, format=fmt, schedule=schedule, timezone=timezone,
        quiet_hours=quiet, heartbeat=heartbeat,
        email_to=_string_list(entry.get("email_to", []), f"{where}: 'email_to'"),
        email_from=email_from, silent_after=silent_after,
        file_mode=_parse_file_mode(entry.get("file_mode"), where), line=line,
    )
