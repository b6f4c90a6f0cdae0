"""Output helpers shared by every listing command: JSON, JSON lines, CSV, tables, and
the sections of ``newsmon status``."""

from __future__ import annotations

import csv
import json
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import click

from newsmon.sanitise import clean_text
from newsmon.timefmt import local_time

__all__ = ["Section", "cell_text", "dumps", "emit_records", "format_options", "local_time",
           "render_table", "terminal_safe"]

F = TypeVar("F", bound=Callable[..., Any])


def format_options(func: F) -> F:
    """``--json`` / ``--jsonl`` / ``--csv`` on a listing command (default: a table)."""
    func = click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row.")(func)
    func = click.option("--jsonl", "fmt", flag_value="jsonl", help="One JSON object per line.")(
        func)
    func = click.option("--json", "fmt", flag_value="json", help="A JSON array.")(func)
    return func


@dataclass(frozen=True, slots=True)
class Section:
    """One part of ``newsmon status``: a JSON key, a heading, rows and the table's columns."""

    key: str
    title: str
    records: list[dict[str, Any]]  # for --json: dumps writes datetimes as ISO 8601
    rows: list[dict[str, Any]]
    columns: list[str]
    failing: bool = False


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any, indent: int | None = 2) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_default)


def emit_records(records: Sequence[Mapping[str, Any]], fmt: str | None,
                 columns: Sequence[str]) -> None:
    """Write ``records`` to stdout in the chosen format (``None`` = table)."""
    if fmt == "json":
        click.echo(dumps(list(records)))
    elif fmt == "jsonl":
        for record in records:
            click.echo(dumps(record, indent=None))
    elif fmt == "csv":
        write_csv(records, columns)
    else:
        click.echo(render_table(records, columns), nl=False)


def write_csv(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: cell_text(record.get(k)) for k in columns})


def cell_text(value: Any) -> str:
    """A value as the text of a CSV or table cell (a list space-separated)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def terminal_safe(text: str) -> str:
    """Crawled text made safe to print: no escape sequences or control characters
    (tab and newline stay), no bidi overrides, so a hostile page cannot drive the
    terminal or disguise what it shows. Rows stored before the sanitiser need it."""
    return clean_text(text)


def display_width(text: str) -> int:
    """Terminal columns taken by ``text`` (CJK characters are two wide)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def truncate(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def render_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str],
                 max_width: int | None = None) -> str:
    """A plain-text table fitted to the terminal; the widest column gives way."""
    if not records:
        return "(no results)\n"
    total = max_width or shutil.get_terminal_size((120, 24)).columns
    cells = [[" ".join(terminal_safe(cell_text(r.get(c))).split()) for c in columns]
             for r in records]
    widths = [max(display_width(c), *(display_width(row[i]) for row in cells))
              for i, c in enumerate(columns)]
    while sum(widths) + 2 * (len(widths) - 1) > total and max(widths) > 8:
        widest = widths.index(max(widths))
        widths[widest] -= 1

    def line(values: Sequence[str]) -> str:
        parts = []
        for value, width in zip(values, widths, strict=True):
            shown = truncate(value, width)
            parts.append(shown + " " * (width - display_width(shown)))
        return "  ".join(parts).rstrip()

    rows = [line(list(columns)), line(["-" * w for w in widths])]
    rows.extend(line(row) for row in cells)
    return "\n".join(rows) + "\n"
