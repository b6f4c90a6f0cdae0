"""One sanitiser for crawled strings, and the field bounds the archive keeps (pure).

Every string a crawled page hands newsmon (text nodes, attributes, entities such as
``&#1;``, JSON-LD) passes :func:`clean_text` once, where the extracted article is
assembled (:func:`sanitise_article`). It removes what no article text contains and
what could corrupt a database row or a terminal: NUL and other C0/C1 controls (tab
and newline stay; CR becomes a newline), lone surrogates (unencodable as UTF-8),
Unicode noncharacters, bidi override/embedding/isolate controls (which reorder what
a reader sees), and terminal escape sequences, removed whole.

Field bounds equal the database columns' lengths (``storage/models.py`` uses these
constants), so a long value is cut here and recorded in ``truncated`` rather than
failing the row on PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import replace

from newsmon.values import ExtractedArticle

# Column lengths (String(n)) and the bounds of unbounded text columns.
SOURCE_MAX = 200  # articles.source, stories.origin
AUTHOR_MAX = 200
EDITOR_MAX = 200
ENCODING_MAX = 40  # articles.encoding_declared: the label the page itself declares
PUBLISHED_SOURCE_MAX = 40
ETAG_MAX = 300  # url_ledger.etag
LAST_MODIFIED_MAX = 100  # url_ledger.last_modified
TITLE_MAX = 1000  # a headline; a 100,000-character "title" is an attack, not a headline
BODY_MAX = 1_000_000
TAG_MAX = 100  # one tag
TAGS_MAX = 20  # tags per article
# URLs: the unique indexes on articles.canonical_url and url_ledger.url are btree
# indexes, whose entries PostgreSQL caps at about 2,700 bytes.
URL_MAX = 2048

# Escape sequences, removed whole: CSI (ESC [ or 8-bit U+009B) parameters and final
# byte; OSC / DCS / SOS / PM / APC strings up to BEL or ST; other two- and
# three-character escapes (ESC ( B, ESC c …).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)
_NONCHARACTERS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (not tab, newline), DEL, C1
    "\ud800-\udfff"  # lone surrogates
    "\ufdd0-\ufdef"
    + _NONCHARACTERS  # noncharacters
    + "\u202a-\u202e\u2066-\u2069]"
)  # bidi embedding, override and isolate controls
_LINE_BREAKS = re.compile(r"\s*[\n\t]\s*")


def clean_text(text: str) -> str:
    """``text`` without control characters, escape sequences, lone surrogates,
    noncharacters or bidi controls; CR and CRLF become LF; tab and LF stay."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWANTED.sub("", _ESCAPES.sub("", text))


def clean_line(text: str) -> str:
    """:func:`clean_text` for a one-line field: line breaks and tabs become one space."""
    return _LINE_BREAKS.sub(" ", clean_text(text)).strip()


def bound(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip(), True


def header_value(value: str | None, limit: int) -> str | None:
    """A response header kept to be sent back (an ETag, a Last-Modified), or None.

    A validator is only useful verbatim, so one that is too long or holds control
    characters is not kept (the next request is simply unconditional) rather than cut.
    """
    if value is None or len(value) > limit or clean_line(value) != value:
        return None
    return value


class _Bounds:
    """Cuts fields to their bounds and remembers which were cut."""

    def __init__(self) -> None:
        self.truncated: list[str] = []

    def line(self, name: str, value: str, limit: int) -> str:
        cut, was_cut = bound(clean_line(value), limit)
        if was_cut and name not in self.truncated:
            self.truncated.append(name)
        return cut

    def optional(self, name: str, value: str | None, limit: int) -> str | None:
        if value is None:
            return None
        return self.line(name, value, limit) or None


def sanitise_article(article: ExtractedArticle) -> ExtractedArticle:
    """The article with every string cleaned (:func:`clean_text`) and bounded.

    ``truncated`` names the fields that were cut; each also gets a warning. A declared
    canonical URL over :data:`URL_MAX` is not believed (the page's URL is used).
    """
    bounds = _Bounds()
    url = bounds.line("url", article.url, URL_MAX)
    canonical = clean_line(article.canonical_url)
    if len(canonical) > URL_MAX:
        canonical = url
        bounds.truncated.append("canonical_url")
    body, body_cut = bound(clean_text(article.body), BODY_MAX)
    if body_cut:
        bounds.truncated.append("body")
    tags = tuple(t for t in (bounds.line("tags", tag, TAG_MAX) for tag in article.tags) if t)
    if len(tags) > TAGS_MAX:
        tags = tags[:TAGS_MAX]
        if "tags" not in bounds.truncated:
            bounds.truncated.append("tags")
    cleaned = replace(
        article,
        url=url,
        canonical_url=canonical,
        title=bounds.line("title", article.title, TITLE_MAX),
        body=body,
        published_source=bounds.optional(
            "published_source", article.published_source, PUBLISHED_SOURCE_MAX
        ),
        source=bounds.optional("source", article.source, SOURCE_MAX),
        author=bounds.optional("author", article.author, AUTHOR_MAX),
        editor=bounds.optional("editor", article.editor, EDITOR_MAX),
        tags=tags,
        encoding_declared=bounds.optional(
            "encoding_declared", article.encoding_declared, ENCODING_MAX
        ),
        warnings=tuple(clean_line(w) for w in article.warnings),
    )
    if not bounds.truncated:
        return cleaned
    notes = tuple(f"{name} too long: truncated" for name in bounds.truncated)
    return replace(
        cleaned,
        truncated=(*article.truncated, *bounds.truncated),
        warnings=cleaned.warnings + notes,
    )
