"""The typed application configuration, read from one TOML file.

The file is parsed once at the entry point (the ``newsmon`` command or the scheduler)
into frozen models that are passed down; library code never reads the file or the
environment itself. Every problem is reported as a :class:`ConfigError` whose message
starts with ``FILE:LINE:`` (the line of the key at fault) so an editor can jump to it.

The models below are the schema. **Adding a setting is one field declaration** in the
model of its table, with its type and default; the type does the checking::

    executor: Literal["local", "celery"] = "local"          # [settings]
    watch: Literal["matched", "all", "off"] = "matched"     # [[sources]]
    revisit_after: Duration = timedelta(hours=6)            # "6h", "2d" or "off"
    workers: Annotated[StrictInt, Range(1, 64, "processes")] = 4

Unknown keys are refused (every table forbids extras), numbers outside their
:class:`Range` are refused (:data:`NUMBER_RANGES` is read off the declarations), and
the parsed types (``Zone``, ``Duration``, ``Regex``, the entries' ``schedule``, built
into an APScheduler trigger by :func:`newsmon.cron.parse_cron`) are checked at load, so
every command reports a bad config, not only the one that would use the value.
:func:`_describe` turns pydantic's error (its ``loc``, the path into the TOML
document) into ``FILE:LINE: setting 'x' must be …, got …``.

Why pydantic (v2) rather than msgspec or attrs+cattrs: every rule here fits in the
declaration (strict types, ``Annotated`` validators, ``Literal``), its errors carry the
path into the document, which is all the line lookup needs, and it is the most widely
kept of the three. msgspec decodes faster but has no per-field validators (a config is
read once, so speed does not matter); cattrs would need the error paths collected by
hand.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import CoreSchema, ErrorDetails, core_schema

from newsmon.cron import ScheduleError, parse_cron
from newsmon.tomlerrors import explain_toml_error

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon/newsmon; polite news monitor)"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Range:
    """The allowed values of a number, both ends included.

    Outside them a crawl misbehaves instead of failing: concurrency 0 hangs Scrapy
    forever, a size cap of 0 turns the cap off, a negative timeout fails every request.
    """

    low: float
    high: float
    unit: str
    octal: bool = False  # permission bits are written and shown in octal, as chmod takes them

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler
                                     ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: float) -> float:
        if self.low <= value <= self.high:
            return value
        if self.octal:
            raise ValueError(f"must be from {int(self.low):o} to {int(self.high):o} "
                             f"{self.unit}, got {int(value):o}")
        raise ValueError(f"must be from {self.low:g} to {self.high:g} {self.unit}, "
                         f"got {value!r}")


_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def _checked(test: Any, problem: str) -> AfterValidator:
    """A validator that refuses a value for which ``test`` is false."""
    def check(value: Any) -> Any:
        if not test(value):
            raise ValueError(problem.format(value=value))
        return value
    return AfterValidator(check)


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value  # lists = "https://…" is one URL


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (e.g. Asia/Shanghai)") from None
    return name


def _duration(value: Any) -> timedelta | None:
    if value is None or isinstance(value, timedelta):  # already parsed (built in code)
        return value
    if not isinstance(value, str):
        raise ValueError(f'must be a duration such as "48h" or "off", got {value!r}')
    return parse_duration(value)


def _regex(value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ValueError(f"must be a regular expression in a string, got {value!r}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


MAX_REVISITS = 20


def _revisit_offsets(value: Any) -> tuple[str, ...]:
    """1 to MAX_REVISITS durations after first seen, each later than the one before."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value) \
            or not 1 <= len(value) <= MAX_REVISITS:
        raise ValueError(f'must be a list of 1 to {MAX_REVISITS} durations such as '
                         f'["1h", "6h", "1d"], got {value!r}')
    last = None
    for text in value:
        span = parse_duration(text)
        if span is None or not timedelta(0) <= span <= timedelta(days=365):
            raise ValueError(f"must be from 0 to 365 days after first seen, got {text!r}")
        if last is not None and span <= last:
            raise ValueError(f"must grow: {text!r} is not later than the offset before it")
        last = span
    return tuple(value)


def _octal(value: Any) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"0?o?[0-7]{1,4}", value):
        raise ValueError(f'must be an octal string such as "0644", got {value!r}')
    return int(value.replace("o", ""), 8)


def _without_credentials(channel: str) -> bool:
    """No password in a channel URL, unless it is a ``${VARIABLE}`` from the environment."""
    password = urlsplit(channel.removeprefix("webhook:")).password
    return not password or _ENV_REFERENCE.fullmatch(password) is not None


BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def broker_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a Celery broker URL, or None (the message hides credentials)."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in BROKER_SCHEMES:
        return (f"must be amqp://… (RabbitMQ) or redis://…, got "
                f"{url.split('@')[-1]!r}")
    return None


def _broker_url(url: str) -> str:
    if url and (problem := broker_url_problem(url)):
        raise ValueError(problem)
    return url


# The parsed types a field can have, beyond pydantic's strict scalars.
Name = Annotated[StrictStr, _checked(_NAME.match, "must be letters, digits, '.', '_' or '-', "
                                                  "got {value!r}")]
Zone = Annotated[StrictStr, AfterValidator(_zone)]  # an IANA name, as every consumer takes it
Duration = Annotated[timedelta | None, BeforeValidator(_duration)]  # None: "off"
Regex = Annotated[re.Pattern[str], BeforeValidator(_regex)]
Strings = Annotated[tuple[StrictStr, ...], BeforeValidator(_one_or_many)]
Url = Annotated[StrictStr, _checked(_URL.match, "{value!r} is not an http(s) URL")]
Urls = Annotated[tuple[Url, ...], BeforeValidator(_one_or_many)]
FileMode = Annotated[int, BeforeValidator(_octal), Range(0, 0o777, "(octal permission bits)",
                                                         octal=True)]
Format = Literal["text", "markdown", "html", "json", "atom"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtractOverrides(_Table):
    """Per-source selectors that win over the generic extractor.

    Each selector is ``css:…`` or ``xpath:…`` (a bare string is CSS).
    """

    title: StrictStr | None = None
    body: StrictStr | None = None
    published: StrictStr | None = None
    byline: StrictStr | None = None
    noise: Strings = ()


class Politeness(_Table):
    """Per-source overrides of the crawl politeness settings (None = global default)."""

    download_delay: Annotated[StrictFloat, Range(0, 3600, "seconds")] | None = None
    concurrency: Annotated[StrictInt, Range(1, 64, "requests at once")] | None = None
    obey_robots: StrictBool | None = None


class _Entry(_Table):
    """What sources and subscriptions share: a name, a zone, a cron schedule."""

    name: Name
    timezone: Zone = DEFAULT_TIMEZONE  # [settings] timezone when not given (see _File)
    schedule: StrictStr | None = None  # cron expression for `newsmon run`
    _line: int = PrivateAttr(0)  # where the entry starts in the config file, for messages

    @property
    def line(self) -> int:
        return self._line

    @field_validator("schedule")
    @classmethod
    def _cron(cls, schedule: str | None, info: ValidationInfo) -> str | None:
        """Build the APScheduler trigger now: ``0 25 * * *`` fails at load."""
        if schedule is not None and "timezone" in info.data:
            try:
                parse_cron(schedule, info.data["timezone"])
            except ScheduleError as exc:  # the key is named already: "'schedule': 'x' has…"
                raise ValueError(str(exc).removeprefix("schedule ")) from None
        return schedule


class SourceConfig(_Entry):
    """One monitored site: where its article links are found and how to read it."""

    lists: Urls = ()
    feeds: Urls = ()
    sitemaps: Urls = ()
    allowed_domains: Strings = ()
    article_pattern: Regex | None = None
    max_list_pages: Annotated[StrictInt, Range(1, 1000, "pages")] = 5
    host_aliases: dict[str, StrictStr] = {}
    extract: ExtractOverrides = ExtractOverrides()
    politeness: Politeness = Politeness()
    # Which of its articles are re-visited for edits and takedowns: those that matched
    # a topic, all, or none (newsmon/versions.py).
    watch: Literal["matched", "all", "off"] = "matched"

    @property
    def start_urls(self) -> tuple[str, ...]:
        return self.lists + self.feeds + self.sitemaps

    @model_validator(mode="after")
    def _has_a_start_url(self) -> SourceConfig:
        if not self.start_urls:
            raise ValueError("give at least one URL in 'lists', 'feeds' or 'sitemaps'")
        return self


class SubscriptionConfig(_Entry):
    """Who gets which topics' digests, how, and when.

    ``channel`` names where the digest goes: ``stdout``, ``file:PATH``,
    ``smtp://host:port`` / ``smtps://host:port`` (email; credentials from the
    environment), ``webhook:https://…`` (JSON POST), or any Apprise URL
    (``wecombot://…``, ``dingtalk://…``, ``feishu://…``, ``tgram://…`` …).
    """

    topics: Strings = ()  # empty: every topic
    channel: Annotated[
        StrictStr, _checked(bool, 'must be a channel such as "stdout"'),
        _checked(_without_credentials, "credentials never go in the config file; set them "
                                       "in the environment (see README, 'Delivery')")
    ] = "stdout"
    format: Format = "text"
    # "22:00-07:00" in `timezone`: hold digests until after
    quiet_hours: Annotated[StrictStr, _checked(_QUIET_HOURS.match, 'must look like '
                                               '"22:00-07:00", got {value!r}')] | None = None
    heartbeat: StrictBool = False  # send even when there is nothing new
    email_to: Strings = ()
    email_from: StrictStr | None = None
    # The digest footer names a crawled source with no new article for this long
    # ("went silent"); None: "off".
    silent_after: Duration = timedelta(hours=48)
    file_mode: FileMode | None = None  # permission bits of a new file:PATH digest (None: 0644)


class Settings(_Table):
    """Global settings from the ``[settings]`` table."""

    timezone: Zone = DEFAULT_TIMEZONE
    # Matches of articles published longer ago than this (when first matched) are stored
    # but not flagged new, so a first crawl or an old page surfacing does not alert.
    # None ("off") flags every match.
    backfill_window: Duration = timedelta(hours=48)
    user_agent: StrictStr = DEFAULT_USER_AGENT
    download_delay: Annotated[StrictFloat, Range(0, 3600, "seconds")] = 0.25
    concurrency_per_domain: Annotated[StrictInt, Range(1, 64, "requests at once")] = 4
    download_timeout: Annotated[StrictFloat, Range(1, 3600, "seconds")] = 30.0
    max_response_bytes: Annotated[StrictInt, Range(1024, 1024**3, "bytes")] = 10 * 1024 * 1024
    obey_robots: StrictBool = True
    # How `newsmon run` runs its jobs: "local" (child processes of the runner) or
    # "celery" (tasks on a broker, run by `newsmon worker` processes on any machine).
    executor: Literal["local", "celery"] = "local"
    # amqp://… or redis://…; NEWSMON_BROKER_URL wins over it
    broker_url: Annotated[StrictStr, AfterValidator(_broker_url)] = ""
    # prefix of the broker queues: newsmon.crawl, newsmon.digest …
    queue: Annotated[StrictStr, _checked(_QUEUE_NAME.match, "must be 1-100 letters, digits, "
                                         "'.', '_' or '-', got {value!r}")] = "newsmon"
    # Re-visits of watched articles (newsmon/versions.py): offsets after first seen, at
    # most this many per run, "unreachable" after this many failures in a row, and the
    # cron of the re-visit job under `newsmon run`.
    revisit_after: Annotated[tuple[str, ...], BeforeValidator(_revisit_offsets)] = (
        "1h", "6h", "1d", "3d", "7d")
    revisit_batch: Annotated[StrictInt, Range(1, 100000, "re-visits per run")] = 200
    revisit_unreachable_after: Annotated[StrictInt,
                                         Range(1, 100, "failed re-visits in a row")] = 3
    revisit_schedule: StrictStr | None = None

    @field_validator("revisit_schedule")
    @classmethod
    def _revisit_cron(cls, schedule: str | None, info: ValidationInfo) -> str | None:
        if schedule is not None:
            try:
                parse_cron(schedule, info.data.get("timezone", DEFAULT_TIMEZONE))
            except ScheduleError as exc:
                raise ValueError(str(exc).removeprefix("schedule ")) from None
        return schedule

    @property
    def revisit_offsets(self) -> tuple[timedelta, ...]:
        return tuple(parse_duration(text) or timedelta(0) for text in self.revisit_after)


class _File(_Table):
    """The whole document."""

    settings: Settings = Settings()
    sources: tuple[SourceConfig, ...] = ()
    subscriptions: tuple[SubscriptionConfig, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _inherit_timezone(cls, data: Any) -> Any:
        """An entry without its own ``timezone`` takes the one of ``[settings]``."""
        if not isinstance(data, dict):
            return data
        settings = data.get("settings")
        zone = settings.get("timezone", DEFAULT_TIMEZONE) if isinstance(settings, dict) else (
            DEFAULT_TIMEZONE)
        inherited = {key: [{"timezone": zone} | entry if isinstance(entry, dict) else entry
                           for entry in data[key]]
                     for key in ("sources", "subscriptions") if isinstance(data.get(key), list)}
        return data | inherited


def _ranges(model: type[BaseModel], prefix: str = "") -> dict[str, tuple[float, float, str]]:
    found = {}
    for name, info in model.model_fields.items():
        for item in [*info.metadata, *(meta for arg in get_args(info.annotation)
                                       for meta in getattr(arg, "__metadata__", ()))]:
            if isinstance(item, Range):
                found[prefix + name] = (item.low, item.high, item.unit)
    return found


# Every numeric setting's (minimum, maximum, unit), read off the declarations above;
# README "Configuration" lists the same table.
NUMBER_RANGES: dict[str, tuple[float, float, str]] = (
    _ranges(Settings) | _ranges(SourceConfig) | _ranges(Politeness, "politeness.")
    | _ranges(SubscriptionConfig))


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
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], data, locator)) from None
    for kind, entries in (("sources", parsed.sources), ("subscriptions", parsed.subscriptions)):
        for index, entry in enumerate(entries):
            entry._line = locator.entry_line(kind, index)
            if any(other.name == entry.name for other in entries[:index]):
                raise ConfigError(f"{path}:{entry.line}: duplicate {kind[:-1]} name "
                                  f"{entry.name!r}")
    return Config(path=path, settings=parsed.settings, sources=parsed.sources,
                  subscriptions=parsed.subscriptions, raw=data)


def resolve_broker_url(settings: Settings, env: Mapping[str, str] = os.environ) -> str:
    """``NEWSMON_BROKER_URL`` wins over ``[settings] broker_url``; "" when neither."""
    return env.get("NEWSMON_BROKER_URL") or settings.broker_url


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


class _Locator:
    """Finds the line of a key or of the n-th ``[[table]]`` for error messages.

    tomllib returns plain dicts without positions, so we search the text; this is
    good enough to point a user at the right entry.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def entry_line(self, array: str, index: int) -> int:
        """The line of the ``index``-th ``[[array]]`` header (1 for an inline array)."""
        header = re.compile(rf"^\s*\[\[\s*{re.escape(array)}\s*\]\]")
        found = [number for number, line in enumerate(self.lines, 1) if header.match(line)]
        return found[index] if index < len(found) else 1

    def key_line(self, key: str, start: int = 1, stop: str | None = None) -> int:
        """The first line from ``start`` that sets ``key`` or opens its table, before a
        line matching ``stop``; ``start`` when there is none."""
        pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\b")
        for number in range(start, len(self.lines) + 1):
            line = self.lines[number - 1]
            if pattern.match(line):
                return number
            if stop and number > start and re.match(stop, line):
                break
        return start


_WANTED = {"int_type": "a whole number", "float_type": "a number",
           "bool_type": "true or false", "string_type": "a string", "tuple_type": "a list",
           "dict_type": "a table", "model_type": "a table", "model_attributes_type": "a table"}


def _describe(error: ErrorDetails, data: Mapping[str, Any], locator: _Locator) -> str:
    """``FILE:LINE: [entry: ]subject problem`` for a problem pydantic found."""
    loc, kind = error["loc"], error["type"]
    fields, model = _fields_along(loc)
    key = str(loc[-1]) if kind == "extra_forbidden" else fields[-1]
    section, label = str(loc[0]), ""
    if len(loc) > 1 and isinstance(loc[1], int):  # inside the loc[1]-th [[section]] entry
        start = locator.entry_line(section, loc[1])
        entry = data[section][loc[1]]
        name = entry.get("name") if isinstance(entry, dict) else None
        label = section[:-1] + (f" {name!r}" if isinstance(name, str) else "")
        keyed = len(fields) > 1 or kind == "extra_forbidden"  # else the entry as a whole
        line = locator.key_line(key, start, stop=r"\s*\[\[") if keyed else start
    else:
        keyed, line = True, locator.key_line(key, locator.key_line(section) if len(loc) > 1
                                             else 1)
    where = f"{locator.path}:{line}: " + (f"{label}: " if label else "")
    if kind == "extra_forbidden":
        noun = "setting" if model is Settings else "top-level key" if model is _File else "key"
        return f"{where}unknown {noun} {key!r} (expected {', '.join(model.model_fields)})"
    setting = "setting " if section == "settings" and len(fields) > 1 else ""
    subject, problem = f"{setting}{key!r}" if keyed else "", _problem(error, loc)
    glue = " " if problem.startswith(("must", "is ")) else ": "
    return where + (f"{subject}{glue}{problem}" if subject else problem)


def _problem(error: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "tuple_type" and len(loc) == 1:
        return f"must be [[{loc[0]}]] tables, one per entry"
    if kind in _WANTED:
        return f"must be {_WANTED[kind]}, got {error['input']!r}"
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        return f"must be one of {error.get('ctx', {})['expected']}, got {error['input']!r}"
    if kind == "value_error":
        return str(error.get("ctx", {})["error"])
    return error["msg"][:1].lower() + error["msg"][1:]


def _fields_along(loc: tuple[int | str, ...]) -> tuple[list[str], type[BaseModel]]:
    """The model fields named along ``loc`` (list indexes and table keys dropped), and the
    model of the innermost table."""
    model: type[BaseModel] = _File
    fields: list[str] = []
    for part in loc:
        if isinstance(part, str) and part in model.model_fields:
            fields.append(part)
            annotation = model.model_fields[part].annotation
            inner = [t for t in (annotation, *get_args(annotation))
                     if isinstance(t, type) and issubclass(t, BaseModel)]
            if not inner:
                break
            model = inner[0]
    return fields, model
