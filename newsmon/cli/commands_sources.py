"""``newsmon sources``: add a site to the config, list the sources, check one.

``sources add`` discovers what a URL offers (``crawler.discover``) and appends a
``[[sources]]`` entry to the config file, leaving the rest of the file as it was
(the file is created if missing, and never written unless the result parses).
``sources check`` fetches a source's start pages once and shows what the crawler
would find: the way to debug a source.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from newsmon.cli.context import AppContext, WorkFailed, pass_app
from newsmon.cli.exitcodes import EXIT_ERRORS
from newsmon.cli.output import emit_records, format_options, terminal_safe
from newsmon.config import (
    Config,
    ConfigError,
    load_config,
    parse_config,
)

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
_HOST_PREFIXES = ("www.", "m.", "wap.", "news.")
# Seconds all fetches of `sources add` / `sources check` may take together: each read
# has the config's download_timeout, but a server trickling bytes never trips that.
MAX_TIME = 60.0
_max_time_option = click.option(
    "--max-time", "max_time", type=click.FloatRange(min=0.1), default=MAX_TIME,
    show_default=True, metavar="SECONDS",
    help="Give up when all fetches together take longer (a server may send a byte at a time).")


@click.group("sources")
def command() -> None:
    """Add, list and check the sites newsmon crawls.

    \b
    Example:
      newsmon --config sites.toml sources add https://www.dzwww.com/xinwen/
      newsmon --config sites.toml sources list --json
      newsmon --config sites.toml sources check dzwww
    """


# --- add -------------------------------------------------------------------------------
def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (quotes, backslashes and controls escaped)."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(toml_string(item) for item in items) + "]"


def source_entry(name: str, *, lists: Sequence[str], feeds: Sequence[str],
                 sitemaps: Sequence[str], timezone: str, allowed_domains: Sequence[str],
                 comment: str | None = None) -> str:
    """One ``[[sources]]`` table (see README, "Configuration")."""
    lines = [f"# {comment}"] if comment else []
    lines += ["[[sources]]", f"name = {toml_string(name)}", f"timezone = {toml_string(timezone)}"]
    for key, urls in (("lists", lists), ("feeds", feeds), ("sitemaps", sitemaps)):
        if urls:
            lines.append(f"{key} = {toml_list(urls)}")
    if allowed_domains:
        lines.append(f"allowed_domains = {toml_list(allowed_domains)}")
    return "\n".join(lines) + "\n"


def suggested_name(url: str, taken: set[str]) -> str:
    """A source name from the URL: ``www.dzwww.com`` -> ``dzwww``; on an IP address or
    localhost, the first directory (``/bandao/`` -> ``bandao``); made unique."""
    parts = urlsplit(url)
    host = (parts.hostname or "source").lower()
    first_dir = next((s for s in parts.path.split("/")[:-1] if s), "")
    if host.replace(".", "").isdigit() or host == "localhost" or ":" in host:
        base = first_dir or host
    else:
        for prefix in _HOST_PREFIXES:
            host = host.removeprefix(prefix)
        base = host.split(".")[0]
    base = _NAME_CHARS.sub("-", base).strip("-.") or "source"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def _existing(path: Path) -> tuple[str, Config | None]:
    if not path.exists():
        return "", None
    try:
        return path.read_text(encoding="utf-8"), load_config(path)
    except (ConfigError, OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{exc}") from None


def _url_key(url: str) -> str:
    from newsmon.crawler.canonical import UrlError, canonicalize

    try:
        return canonicalize(url)
    except UrlError:
        return url


def _refuse_if_configured(path: Path, config: Config, urls: Sequence[str]) -> None:
    """Exit 1 naming the source that already crawls one of ``urls``: a second source
    on the same start pages would crawl every page twice."""
    wanted = {_url_key(url): url for url in urls}
    for source in config.sources:
        for start in (*source.lists, *source.feeds, *source.sitemaps):
            if _url_key(start) in wanted:
                click.echo(f"{path}:{source.line}: {wanted[_url_key(start)]} is already "
                           f"configured as source {source.name!r}; nothing added "
                           "(--force adds a second source)", err=True)
                sys.exit(EXIT_ERRORS)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@command.command("add")
@click.argument("url")
@click.option("--name", metavar="NAME", help="Source name (default: from the host name).")
@click.option("--timezone", metavar="TZ", help="The site's time zone [default: the config's].")
@click.option("--dry-run", is_flag=True, help="Print the entry; do not write the config.")
@click.option("--force", is_flag=True,
              help="Add it even if a configured source already crawls this URL.")
@_max_time_option
@pass_app
def add(app: AppContext, url: str, name: str | None, timezone: str | None,
        dry_run: bool, force: bool, max_time: float) -> None:
    """Discover a site's list page, feeds and sitemaps and add it as a source.

    URL is a list page (or a feed or sitemap). Feeds come from the page's
    <link rel="alternate">, sitemaps from robots.txt (Sitemap:) and /sitemap.xml.
    The entry is appended to the --config file (created if missing); the rest of
    the file is kept as it is.

    \b
    Example:
      newsmon --config sites.toml sources add https://www.dzwww.com/xinwen/index.htm
      newsmon --config sites.toml sources add https://news.example.cn/rss.xml --name example
    """
    from newsmon.crawler.discover import FetchError, discover_source

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL")
    path = app.config_path
    text, config = _existing(path)
    settings = (config or Config()).settings
    taken = {s.name for s in config.sources} if config else set()
    if name is not None and name in taken:
        assert config is not None
        line = config.source(name).line
        raise click.UsageError(f"{path}:{line}: a source named {name!r} exists already")
    if config is not None and not force:
        _refuse_if_configured(path, config, [url])
    try:
        found = discover_source(url, user_agent=settings.user_agent,
                                timeout=settings.download_timeout, max_time=max_time)
    except FetchError as exc:
        raise WorkFailed(str(exc)) from None
    if config is not None and not force:  # a feed or sitemap found for it may be known
        _refuse_if_configured(path, config, [*found.lists, *found.feeds, *found.sitemaps])
    chosen = name or suggested_name(url, taken)
    entry = source_entry(chosen, lists=found.lists, feeds=found.feeds, sitemaps=found.sitemaps,
                         timezone=timezone or settings.timezone,
                         allowed_domains=found.allowed_domains,
                         comment=f"added by `newsmon sources add {url}`")
    separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n")
                                                               else "\n\n")
    updated = text + separator + entry
    try:
        parse_config(updated, path)  # never write a config that would not load
    except ConfigError as exc:
        raise click.UsageError(f"the new entry would not load: {exc}") from None
    for note in found.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(entry, nl=False)
    if dry_run:
        return
    _write_atomically(path, updated)
    click.echo(f"added source {chosen!r} to {path}: {len(found.lists)} list page(s) "
               f"({found.article_links} article links on it), {len(found.feeds)} feed(s), "
               f"{len(found.sitemaps)} sitemap(s)", err=True)


# --- remove ----------------------------------------------------------------------------
_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([^\]\s]+)\s*\]")
_COMMENT = re.compile(r"^\s*#")


class EntryNotFound(click.ClickException):
    """The source's entry cannot be cut out of the file safely."""


def without_source(text: str, config: Config, name: str) -> str:
    """``text`` without the ``[[sources]]`` entry called ``name``; every other byte kept.

    The entry runs from its header (with the comment lines right above it, such as
    the one ``sources add`` writes) to the next table that is not one of its own
    ``[sources.*]`` sub-tables, less the comment lines right above that table (they
    belong to it). The result must parse to the same config minus that source, or
    nothing is cut.
    """
    lines = text.splitlines(keepends=True)
    start = config.source(name).line - 1
    while start > 0 and _COMMENT.match(lines[start - 1]):
        start -= 1
    end = config.source(name).line
    while end < len(lines) and not _starts_other_table(lines[end]):
        end += 1
    while end < len(lines) and end > start and _COMMENT.match(lines[end - 1]):
        end -= 1
    updated = "".join(lines[:start] + lines[end:])
    expected = dict(config.raw)
    expected["sources"] = [s for s in config.raw.get("sources", [])
                           if s.get("name") != name]
    if not expected["sources"]:
        del expected["sources"]
    try:
        parsed = parse_config(updated, config.path or Path("config.toml"))
    except ConfigError:
        parsed = None
    if parsed is None or dict(parsed.raw) != expected:
        where = f"{config.path}:{config.source(name).line}"
        raise EntryNotFound(f"{where}: cannot remove source {name!r} without touching the "
                            "rest of the file; remove its [[sources]] entry by hand")
    return updated


def _starts_other_table(line: str) -> bool:
    header = _TABLE_HEADER.match(line)
    return header is not None and not header.group(1).startswith("sources.")


@command.command("remove")
@click.argument("name")
@click.option("--purge", is_flag=True,
              help="Also delete its articles, matches, URL ledger, crawl runs and story "
              "memberships from the database.")
@pass_app
def remove(app: AppContext, name: str, purge: bool) -> None:
    """Remove a source from the config file; with --purge, also everything stored for it.

    The rest of the config file is kept byte for byte. Without --purge the stored
    articles stay searchable; with it, no row of the source is left.

    \b
    Example:
      newsmon --config sites.toml sources remove bandao
      newsmon --config sites.toml sources remove bandao --purge
    """
    path = app.config_path
    text, config = _existing(path)
    configured = config is not None and name in {s.name for s in config.sources}
    if not configured and not purge:
        raise click.UsageError(f"{path}: unknown source {name!r}")
    if configured:
        assert config is not None
        _write_atomically(path, without_source(text, config, name))
        click.echo(f"removed source {name!r} from {path}", err=True)
    if purge:
        _purge(app, name)


def _purge(app: AppContext, name: str) -> None:
    from newsmon.storage.sources import purge_source

    with app.database.session() as session, session.begin():
        counts = purge_source(session, name)
    if not counts:
        click.echo(f"no stored rows of source {name!r}", err=True)
        return
    deleted = ", ".join(f"{count} {table}" for table, count in counts.items() if count)
    click.echo(f"purged source {name!r} from {app.database.display_url}: {deleted}", err=True)


# --- list ------------------------------------------------------------------------------
def source_records(config: Config, stats: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per configured source, with stored-article counts and the last run."""
    records = []
    for source in config.sources:
        known = stats.get(source.name, {})
        records.append({
            "name": source.name, "timezone": source.timezone, "lists": list(source.lists),
            "feeds": list(source.feeds), "sitemaps": list(source.sitemaps),
            "allowed_domains": list(source.allowed_domains),
            "article_pattern": source.article_pattern and source.article_pattern.pattern,
            "max_list_pages": source.max_list_pages,
            "schedule": source.schedule, "articles": known.get("articles", 0),
            "last_run": known.get("last_run"),
        })
    return records


@command.command("list")
@format_options
@pass_app
def list_(app: AppContext, fmt: str | None) -> None:
    """List the configured sources, with stored articles and the last crawl.

    \b
    Example:
      newsmon --config sites.toml sources list
      newsmon --config sites.toml sources list --json
    """
    from newsmon.storage.runs import source_summaries

    config = app.config
    with app.database.session() as session:
        stats = source_summaries(session)
    records = source_records(config, stats)
    if fmt is None:
        rows = [r | {"start pages": len(r["lists"]) + len(r["feeds"]) + len(r["sitemaps"]),
                     "last_run": r["last_run"] or "never"} for r in records]
        emit_records(rows, None, ["name", "timezone", "start pages", "articles", "last_run"])
        return
    emit_records(records, fmt, ["name", "timezone", "lists", "feeds", "sitemaps",
                                "allowed_domains", "article_pattern", "articles", "last_run"])


# --- check -----------------------------------------------------------------------------
def _echo_crawled(text: str) -> None:
    """Print a line holding crawled text (links, errors, the extracted article)."""
    click.echo(terminal_safe(text))


@command.command("check")
@click.argument("name")
@click.option("--links", "shown", default=10, show_default=True, metavar="N",
              help="How many article links to show per start page.")
@_max_time_option
@pass_app
def check(app: AppContext, name: str, shown: int, max_time: float) -> None:
    """Fetch a source's start pages; show the article links and one extracted article.

    Nothing is stored. Exits 1 when a start page fails, no article link is found or
    the article cannot be fetched.

    \b
    Example:
      newsmon --config sites.toml sources check dzwww
    """
    from newsmon.cli.commands_extract import render_summary
    from newsmon.crawler.discover import FetchError, check_source

    config = app.config
    source = config.source(name)
    try:
        report = check_source(source, user_agent=config.settings.user_agent,
                              timeout=config.settings.download_timeout, max_time=max_time)
    except FetchError as exc:  # only the --max-time limit ends the whole check
        raise WorkFailed(str(exc)) from None
    for page in report.pages:
        if page.error:
            _echo_crawled(f"{page.kind} {page.url}\n  error: {page.error}")
            continue
        extra = f", {len(page.children)} child sitemaps" if page.children else ""
        _echo_crawled(f"{page.kind} {page.url}\n  {len(page.links)} article links{extra}")
        for link in page.links[:shown]:
            _echo_crawled(f"  - {link}")
        if len(page.links) > shown:
            _echo_crawled(f"  … and {len(page.links) - shown} more")
    _echo_crawled("")
    if report.article is None:
        _echo_crawled(f"no article extracted: {report.article_error}")
    else:
        _echo_crawled(render_summary(report.article))
        if not report.article.is_article:
            _echo_crawled(f"\nnot an article: {report.article.url}: "
                          f"{report.article.not_article_reason}")
    if not report.ok:
        sys.exit(EXIT_ERRORS)
