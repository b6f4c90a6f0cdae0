"""What the full-text index stores and how a query becomes an index lookup (pure).

Chinese has no spaces, and the usual tokenizers either keep a whole run of hanzi as one
"word" or cut it into trigrams, which cannot serve the 1- and 2-character terms people
search for most (青岛, 上合, 疫). So the index holds, for the *normalised* title and body
(:func:`newsmon.textnorm.normalize`):

* every **character bigram** of every run of CJK-like characters (青岛市 -> 青岛 岛市),
* for 1-character terms, every **single character** of those runs (青 岛 市) on SQLite;
  on PostgreSQL only the **last character** of each run (市), see below,
* every **Latin word**, a maximal run of ``[0-9a-z]`` (cut to 64 characters),
* the same three kinds from the title again, each prefixed by :data:`TITLE_MARK`, so a
  ``title:`` scope narrows too,
* :data:`ALL_MARK` in every article, and nothing but :data:`ALL_MARK` and
  :data:`UNINDEXED_MARK` for an article longer than :data:`MAX_INDEXED_CHARS`
  (PostgreSQL caps a ``tsvector`` at 1 MB; such rare articles are always candidates).

Characters fall in three classes, defined by code point ranges so that the PostgreSQL
function created by migration ``0003`` can apply exactly the same rule without depending
on the server's locale: **word** ``[0-9a-z]``; **separator**: every other ASCII
character, Latin-1 punctuation, combining marks, general punctuation and symbols, CJK
punctuation, full-width forms, private use; **gram**: everything else (hanzi, kana,
hangul, Cyrillic, accented letters, emoji …).

The index only ever *narrows*: :func:`prefilter` turns a query into a condition that
every truly matching article satisfies, and the caller checks each candidate with the
reference matcher. This holds because a query term's tokens are always tokens of any
text that contains the term:

* a gram run of the term lies inside a gram run of the text, so its bigrams (or its one
  character) are there too;
* a word run of the term is a *whole* word of the text: inside the term it is bounded by
  non-word characters, and at an end of the term the query language's word-boundary rule
  (``find_term``: an end that is a letter or digit must not touch another) guarantees it
  -- which needs every word character here to be one for the query language too
  (``[0-9a-z]`` is; ``_`` is not a word character here, only a separator).

``NOT`` and ``source:`` narrow nothing (their truth is decided by the exact check).

**Why PostgreSQL keeps fewer single characters.** A GIN index stores a posting for every
(token, article) pair and compresses it less than FTS5's doclists; single characters were
a third of those pairs and made the index 1.5-1.7x the text it indexes. A character of a
gram run is either followed by another one of the run, so a bigram *starting* with it is
stored, or it ends the run, so it is stored alone: the prefix query ``'X':*`` (every
token starting with X) therefore finds every article holding X
(:func:`render_tsquery` asks it for a 1-character gram token). FTS5 would answer a prefix
query by merging the doclists of every bigram starting with X, which is slow for common
characters without a prefix index; SQLite's index is small enough to keep them all.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass

from newsmon.query import And, Node, Not, Term

__all__ = [
    "ALL_MARK",
    "EVERYTHING",
    "MAX_INDEXED_CHARS",
    "MAX_TERM_TOKENS",
    "MAX_WORD_CHARS",
    "TITLE_MARK",
    "UNINDEXED_MARK",
    "AllOf",
    "AnyOf",
    "Both",
    "Everything",
    "Prefilter",
    "document_tokens",
    "field_tokens",
    "prefilter",
    "render_fts5",
    "render_tsquery",
    "term_tokens",
]

# Private-use characters: a separator in the text, so no text token can contain them.
TITLE_MARK = "\ue000"
ALL_MARK = "\ue001"
UNINDEXED_MARK = "\ue002"

MAX_WORD_CHARS = 64
MAX_INDEXED_CHARS = 50_000
MAX_TERM_TOKENS = 64  # any subset of a term's tokens still narrows correctly

# The separator class as regex ranges; the PostgreSQL function in migration 0003 spells
# the same ranges (a test checks that both give the same tokens).
SEPARATOR_RANGES = (
    "\\x00-\\x2f\\x3a-\\x60\\x7b-\\xbf\\xd7\\xf7\\u02b0-\\u036f\\u2000-\\u2bff"
    "\\u2e00-\\u2e7f\\u3000-\\u3004\\u3008-\\u3020\\u3030\\u303d-\\u303f\\u30fb"
    "\\ufe10-\\ufe1f\\ufe30-\\ufe6f\\uff00-\\uffff\\ud800-\\udfff\\ue000-\\uf8ff"
)
# One pass finds both kinds of run: group 1 a word, group 2 a run of gram characters.
_RUNS = re.compile(f"([0-9a-z]+)|([^0-9a-z{SEPARATOR_RANGES}]+)")

def field_tokens(text: str, *, every_character: bool = True) -> str:
    """The index tokens of one normalised field, space-separated (repeats left in).

    ``every_character=False`` is PostgreSQL's rule: of a gram run's single characters
    only the last one. Built with C-level joins rather than a set: this runs on every
    article write, and FTS5 and ``tsvector`` ignore a repeated token anyway.
    """
    parts: list[str] = []
    for word, grams in _RUNS.findall(text):
        if word:
            parts.append(word[:MAX_WORD_CHARS])
        else:
            parts.append(" ".join(grams) if every_character else grams[-1])
            if len(grams) > 1:
                parts.append(" ".join(map(operator.add, grams, grams[1:])))
    return " ".join(parts)


def document_tokens(title_norm: str, body_norm: str, *, every_character: bool = True) -> str:
    """What the index stores for one article: space-separated tokens (deterministic).

    SQLite's index stores this with ``every_character`` (the default); PostgreSQL's
    function (migration ``0007``) computes it without.
    """
    if len(title_norm) + len(body_norm) > MAX_INDEXED_CHARS:
        return f"{ALL_MARK} {UNINDEXED_MARK}"
    title = field_tokens(title_norm, every_character=every_character)
    marked = " ".join(TITLE_MARK + token for token in title.split())
    body = field_tokens(body_norm, every_character=every_character)
    return " ".join(part for part in (ALL_MARK, body, title, marked) if part)


def term_tokens(norm: str) -> list[str]:
    """Tokens every text containing the normalised term ``norm`` has (maybe none)."""
    tokens: list[str] = []
    for word, grams in _RUNS.findall(norm):
        if word:
            tokens.append(word[:MAX_WORD_CHARS])
        elif len(grams) == 1:
            tokens.append(grams)
        else:
            tokens.extend(map(operator.add, grams, grams[1:]))
    return list(dict.fromkeys(tokens))[:MAX_TERM_TOKENS]


# --------------------------------------------------------------------------------------
# Query -> index condition


@dataclass(frozen=True, slots=True)
class Everything:
    """No narrowing possible: every article is a candidate."""


@dataclass(frozen=True, slots=True)
class AllOf:
    """Articles holding every one of these tokens."""

    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Articles satisfying at least one of the conditions."""

    children: tuple[Prefilter, ...]


@dataclass(frozen=True, slots=True)
class Both:
    """Articles satisfying all of the conditions (none of them ``AllOf``-mergeable)."""

    children: tuple[Prefilter, ...]


Prefilter = Everything | AllOf | AnyOf | Both
EVERYTHING = Everything()


def prefilter(node: Node) -> Prefilter:
    """An index condition every article matching ``node`` satisfies."""
    if isinstance(node, Term):
        return _term_prefilter(node)
    if isinstance(node, Not):
        return EVERYTHING  # the index cannot prove absence; the exact check does
    if isinstance(node, And):
        return _conjunction(prefilter(child) for child in node.children)
    children = [prefilter(child) for child in node.children]
    if any(isinstance(child, Everything) for child in children):
        return EVERYTHING
    return AnyOf(tuple(children)) if len(children) > 1 else children[0]


def _term_prefilter(term: Term) -> Prefilter:
    if term.field == "source":
        return EVERYTHING  # the outlet name is not indexed
    tokens = term_tokens(term.norm)
    if not tokens:
        return EVERYTHING  # only separators, e.g. "..."
    if term.field == "title":
        tokens = [TITLE_MARK + token for token in tokens]
    return AllOf(tuple(tokens))


def _conjunction(parts: Iterable[Prefilter]) -> Prefilter:
    tokens: list[str] = []
    others: list[Prefilter] = []
    for part in parts:
        if isinstance(part, AllOf):
            tokens.extend(part.tokens)
        elif not isinstance(part, Everything):
            others.append(part)
    if tokens:
        others.insert(0, AllOf(tuple(dict.fromkeys(tokens))))
    if not others:
        return EVERYTHING
    return others[0] if len(others) == 1 else Both(tuple(others))


def render_fts5(condition: Prefilter) -> str:
    """The SQLite FTS5 MATCH expression; over-long articles are always candidates."""
    if isinstance(condition, Everything):
        return _fts5_string(ALL_MARK)
    return f"({_fts5(condition)}) OR {_fts5_string(UNINDEXED_MARK)}"


def _fts5(condition: Prefilter) -> str:
    if isinstance(condition, AllOf):
        return " AND ".join(_fts5_string(token) for token in condition.tokens)
    if isinstance(condition, AnyOf | Both):
        joiner = " OR " if isinstance(condition, AnyOf) else " AND "
        return joiner.join(f"({_fts5(child)})" for child in condition.children)
    return _fts5_string(ALL_MARK)


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def render_tsquery(condition: Prefilter) -> str | None:
    """The PostgreSQL ``tsquery`` text, or None when nothing narrows (scan everything)."""
    if isinstance(condition, Everything):
        return None
    return f"({_tsquery(condition)}) | {_tsquery_lexeme(UNINDEXED_MARK)}"


def _tsquery(condition: Prefilter) -> str:
    if isinstance(condition, AllOf):
        return " & ".join(_tsquery_lexeme(token) for token in condition.tokens)
    if isinstance(condition, AnyOf | Both):
        joiner = " | " if isinstance(condition, AnyOf) else " & "
        return joiner.join(f"({_tsquery(child)})" for child in condition.children)
    return _tsquery_lexeme(ALL_MARK)


def _tsquery_lexeme(token: str) -> str:
    quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if _is_gram_character(token.removeprefix(TITLE_MARK)) else quoted


def _is_gram_character(token: str) -> bool:
    """A 1-character gram token: PostgreSQL stores it only where it ends a run, so it is
    asked as a prefix (see the module docstring)."""
    run = _RUNS.fullmatch(token) if len(token) == 1 else None
    return run is not None and run.group(2) is not None
