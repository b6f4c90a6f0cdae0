"""TOML syntax errors in words a config editor understands, with ``FILE:LINE``.

tomllib reports ``Illegal character '\\n' (at line 2, column 26)`` for a missing
closing quote and ``Cannot overwrite a value`` for a key written twice; a user needs
"unterminated string" and "duplicate key 'schedule' (first at line 7)". This module
turns tomllib's message and the file's text into that (pure: text in, text out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\- "']+?)\s*=""")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]")


def explain_toml_error(path: Path, text: str, error: Exception) -> str:
    """``FILE:LINE: what is wrong`` for a :class:`tomllib.TOMLDecodeError`."""
    raw = str(error)
    found = _POSITION.search(raw)
    message = raw[: found.start()] if found else raw
    lines = text.splitlines()
    if found and found.group(1):
        line, column = int(found.group(1)), int(found.group(2))
    else:  # at the end of the document: the problem began earlier
        line, column = max(len(lines), 1), 0
    reported = line
    for pattern, explain in _EXPLANATIONS:
        match = re.fullmatch(pattern, message)
        if match:
            line, words = explain(match, lines, line)
            break
    else:
        words = message[:1].lower() + message[1:]
    # FILE:LINE:COLUMN when the column is on the line named (not for a string or array
    # whose opening line was found instead).
    where = f"{path}:{line}:{column}" if column and line == reported else f"{path}:{line}"
    return f"{where}: TOML syntax: {words}"


def _line_text(lines: list[str], line: int) -> str:
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _unterminated_string(_m: re.Match[str], lines: list[str], line: int) -> tuple[int, str]:
    return _string_start(lines, line), "unterminated string: the closing quote is missing"


def _string_start(lines: list[str], line: int) -> int:
    """The line where an unclosed string opened: the last one up to ``line`` with an odd
    number of quotes (a good guess for hand-written configs)."""
    for number in range(min(line, len(lines)), 0, -1):
        text = lines[number - 1].replace('\\"', "")
        if text.count('"') % 2 or text.count("'") % 2:
            return number
    return line


def _duplicate_key(_m: re.Match[str], lines: list[str], line: int) -> tuple[int, str]:
    text = _line_text(lines, line)
    header = _HEADER.match(text)
    if header:
        name = header.group(2)
        first = _first_definition(lines, line, name)
        return line, (f"[{header.group(1)[1:]}{name}{']' * len(header.group(1))} clashes with "
                      f"{name!r} defined {_at(first)}")
    key_match = _KEY.match(text)
    key = key_match.group(1).strip().strip("\"'") if key_match else "?"
    first = _first_key_in_table(lines, line, key)
    head = key.split(".")[0].strip()
    if head != key and first:
        return line, f"key {key!r}: {head!r} is already a value (line {first})"
    return line, f"duplicate key {key!r} ({'first ' + _at(first) if first else 'defined twice'})"


def _at(line: int | None) -> str:
    return f"at line {line}" if line else "earlier"


def _first_key_in_table(lines: list[str], line: int, key: str) -> int | None:
    """The earlier line defining ``key`` (or the table a dotted key would overwrite)
    within the same table as ``line``."""
    head = key.split(".")[0].strip().strip("\"'")
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        if _HEADER.match(text):
            return None
        found = _KEY.match(text)
        if found and found.group(1).strip().strip("\"'").split(".")[0].strip() in (key, head):
            return number
    return None


def _first_definition(lines: list[str], line: int, name: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[\[?\s*{re.escape(name)}\s*\]|{re.escape(name)}\s*=)")
    return next((number for number in range(1, line) if pattern.match(lines[number - 1])), None)


def _duplicate_table(m: re.Match[str], lines: list[str], line: int) -> tuple[int, str]:
    name = ".".join(re.findall(r"'([^']*)'", m.group(1)))
    first = _first_definition(lines, line, name)
    return line, f"duplicate table [{name}] ({'first ' + _at(first)})"


def _fixed(words: str) -> Callable[[re.Match[str], list[str], int], tuple[int, str]]:
    return lambda _m, _lines, line: (line, words)


def _illegal_character(m: re.Match[str], lines: list[str], line: int) -> tuple[int, str]:
    if m.group(1) in ("\\n", "\\r"):
        return _unterminated_string(m, lines, line)
    return line, f"character {m.group(1)} is not allowed here"


def _unclosed(kind: str, closer: str, opener: str
              ) -> Callable[[re.Match[str], list[str], int], tuple[int, str]]:
    def explain(_m: re.Match[str], lines: list[str], line: int) -> tuple[int, str]:
        opening = (number for number in range(min(line, len(lines)), 0, -1)
                   if lines[number - 1].count(opener) > lines[number - 1].count(closer))
        return next(opening, line), f"unclosed {kind}: {closer!r} is missing"
    return explain


_EXPLANATIONS: list[tuple[str, Callable[[re.Match[str], list[str], int], tuple[int, str]]]] = [
    (r"Illegal character '(.+)'", _illegal_character),
    (r"Unterminated string|Expected \"[\"']\"", _unterminated_string),
    (r"Cannot overwrite a value", _duplicate_key),
    (r"Cannot declare \((.*)\) twice", _duplicate_table),
    (r"Expected '=' after a key in a key/value pair",
     _fixed("expected '=' after the key (write key = value)")),
    (r"Invalid value",
     _fixed("not a TOML value: text needs quotes (key = \"text\"), true/false and "
            "numbers do not")),
    (r"Expected '\]' at the end of a table declaration",
     _fixed("unclosed table header: ']' is missing")),
    (r"Expected '\]\]' at the end of an array declaration",
     _fixed("unclosed array-of-tables header: ']]' is missing")),
    (r"Unclosed array", _unclosed("array", "]", "[")),
    (r"Unclosed inline table",
     _fixed("unclosed inline table: '}' is missing (an inline table must fit on one line)")),
    (r"Expected newline or end of document after a statement",
     _fixed("unexpected text after the value (one key = value per line; text needs "
            "quotes)")),
    (r"Unescaped '\\' in a string",
     _fixed("a backslash in a \"string\" starts an escape: write \\\\ or use a "
            "'literal string' (single quotes), as for regular expressions")),
]
