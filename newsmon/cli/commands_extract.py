"""``newsmon extract``: run the article extractor on one file or URL.

The same :func:`crawler.extract.extract_article` the crawl pipeline runs; the input
is raw bytes (a file, or a URL fetched once), so encodings are handled exactly as
in a crawl.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from newsmon.cli.context import WorkFailed
from newsmon.config import DEFAULT_TIMEZONE, DEFAULT_USER_AGENT
from newsmon.crawler.discover import FetchError, fetch
from newsmon.crawler.extract import ExtractionFailed, extract_article
from newsmon.values import ExtractedArticle


@click.command("extract")
@click.argument("path_or_url")
@click.option("--url", "original_url", metavar="URL",
              help="The page's original URL (resolves canonical links; dates in URLs).")
@click.option("--timezone", "timezone", default=DEFAULT_TIMEZONE, show_default=True,
              metavar="TZ", help="Site-local zone for times written without an offset.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(path_or_url: str, original_url: str | None, timezone: str, as_json: bool) -> None:
    """Extract headline, times, source, people, tags and body from one page.

    \b
    Example:
      newsmon extract page.html --url https://www.dzwww.com/a.htm --json
      newsmon extract https://news.example.cn/2024/0501/a.html --timezone Asia/Shanghai
    """
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {timezone!r} (e.g. Asia/Taipei)",
                                 param_hint="--timezone") from None
    fetched_at = datetime.now(UTC)
    try:
        raw, content_type, fetched_url = read_input(path_or_url)
    except FetchError as exc:
        raise WorkFailed(str(exc)) from None
    url = original_url or fetched_url
    try:
        article = extract_article(raw, url=url, content_type=content_type,
                                  fetched_at=fetched_at, timezone=timezone)
    except ExtractionFailed as exc:
        raise WorkFailed(f"{url}: {exc}") from None
    if as_json:
        click.echo(json.dumps(article_json(article), ensure_ascii=False, indent=1))
    else:
        click.echo(render_summary(article))
    for warning in article.warnings:
        click.echo(f"warning: {warning}", err=True)


def read_input(path_or_url: str) -> tuple[bytes, str | None, str]:
    """Bytes, HTTP content type (if fetched) and URL of a file path or http(s) URL."""
    if path_or_url.startswith(("http://", "https://")):
        page = fetch(path_or_url, user_agent=DEFAULT_USER_AGENT)
        return page.body, page.content_type, page.url
    path = Path(path_or_url)
    try:
        return path.read_bytes(), None, path.resolve().as_uri()
    except OSError as exc:
        raise FetchError(f"{path}: {exc.strerror or exc}") from None


def article_json(article: ExtractedArticle) -> dict[str, Any]:
    """The documented ``--json`` shape."""
    return {
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "published_at": _iso(article.published_at),
        "published_source": article.published_source,
        "updated_at": _iso(article.updated_at),
        "source": article.source,
        "author": article.author,
        "editor": article.editor,
        "tags": list(article.tags),
        "body": article.body,
        "script": article.script,
        "encoding": {"declared": article.encoding_declared, "used": article.encoding_used},
        "is_article": article.is_article,
    }


def render_summary(article: ExtractedArticle) -> str:
    """A readable multi-line summary for a terminal."""
    rows = [
        ("title", article.title),
        ("url", article.canonical_url),
        ("published", _iso(article.published_at) or "-"),
        ("dated by", article.published_source or "-"),
        ("updated", _iso(article.updated_at) or "-"),
        ("source", article.source or "-"),
        ("author", article.author or "-"),
        ("editor", article.editor or "-"),
        ("tags", ", ".join(article.tags) or "-"),
        ("script", article.script),
        ("encoding", f"{article.encoding_used} (declared {article.encoding_declared or '-'})"),
        ("article", "yes" if article.is_article else f"no: {article.not_article_reason}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
    if article.body:
        lines += ["", article.body]
    return "\n".join(lines)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
