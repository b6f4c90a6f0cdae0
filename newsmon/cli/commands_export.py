"""``newsmon export``: write every article, or a filtered set, as JSON lines or CSV.

Streams: articles are read a batch at a time and written as they come, so exporting
the whole archive takes the same memory as exporting a hundred articles.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click

from newsmon.app.reading import (
    EXPORT_COLUMNS,
    SearchRequest,
    export_record,
    parse_search_query,
    search_filters,
)
from newsmon.cli.commands_search import filter_options
from newsmon.cli.context import AppContext, WorkFailed, pass_app
from newsmon.cli.output import cell_text, dumps
from newsmon.cli.queryarg import QueryCommand, query_argument
from newsmon.storage.search import FoundArticle, iter_search

PROGRESS_EVERY = 1000
# Excel takes a CSV without it for the local code page and garbles Chinese.
UTF8_BOM = "\ufeff"


def check_output_path(path: str) -> None:
    """Refuse, before anything is written, an --output that cannot become a file."""
    target = Path(path)
    if target.is_dir():
        raise WorkFailed(f"{path}: is a directory; give a file name")
    if not target.parent.is_dir():
        raise WorkFailed(f"{path}: directory {target.parent} does not exist")
    if target.exists() and not target.is_file():
        raise WorkFailed(f"{path}: not a regular file (a device or pipe); write to stdout "
                         "and redirect instead")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise WorkFailed(f"{path}: directory {target.parent} is not writable")


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """stdout, or a temporary file beside ``path`` renamed onto it once complete: an
    export that fails midway (disk full) leaves no partial file."""
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                         dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 is not what `>` would give
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@click.command("export", cls=QueryCommand)
@query_argument(required=False)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="JSON lines (one article per line) or CSV.")
@filter_options
@click.option("-o", "--output", "output", metavar="FILE",
              help="Write to FILE instead of stdout.")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Start CSV with a UTF-8 byte-order mark, so Excel reads Chinese right.")
@pass_app
def command(app: AppContext, query: str | None, fmt: str, since: str | None,
            until: str | None, sources: tuple[str, ...], topics: tuple[str, ...],
            new_only: bool, output: str | None, bom: bool) -> None:
    """Export articles with their full text, newest first, streaming.

    Without QUERY every stored article is exported (within the filters); QUERY is
    the search query language. CSV cells hold the text as stored; tags are
    space-separated; CSV starts with a UTF-8 byte-order mark (--no-bom: without).
    A count goes to stderr at the end, naming the file written.

    \b
    Example:
      newsmon export -o archive.jsonl
      newsmon export '上合 -峰会' --since 30d --format csv -o report.csv
      newsmon export '-广告 青岛' -o qingdao.jsonl
      newsmon export --source dzwww --topic qingdao | gzip > qingdao.jsonl.gz
    """
    if output and output != "-":
        check_output_path(output)
    with app.database.session() as session:
        plan = None if query is None else parse_search_query(session, query)
        filters = search_filters(session, SearchRequest(
            sources=sources, topics=topics, since=since, until=until, new_only=new_only))
        try:
            with _output(output) as stream:
                if fmt == "csv" and bom:
                    stream.write(UTF8_BOM)
                written = _write(stream, fmt, iter_search(session, plan, filters))
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, like other Unix tools.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        except OSError as exc:
            to_file = bool(output and output != "-")
            raise WorkFailed(f"{output if to_file else 'stdout'}: export failed: "
                             f"{exc.strerror or exc}"
                             + ("; no partial file left" if to_file else "")) from None
    where = f" to {output}" if output and output != "-" else ""
    click.echo(f"exported {written} article{'s' if written != 1 else ''}{where}", err=True)


def _write(stream: IO[str], fmt: str, articles: Iterator[FoundArticle]) -> int:
    writer = csv.writer(stream) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_COLUMNS)
    progress = sys.stderr.isatty()
    written = 0
    for article in articles:
        record = export_record(article)
        if writer is not None:
            writer.writerow([cell_text(record[column]) for column in EXPORT_COLUMNS])
        else:
            stream.write(dumps(record, indent=None) + "\n")
        written += 1
        if progress and written % PROGRESS_EVERY == 0:
            click.echo(f"\rexported {written}…", err=True, nl=False)
    if progress and written >= PROGRESS_EVERY:
        click.echo("", err=True)
    stream.flush()
    return written
