"""The matching engine: every topic against an article in one pass over its text.

Topics are compiled once into a :class:`Matcher`:

* every term of every topic becomes one pattern of a single Aho-Corasick automaton
  (terms with the same key share a pattern), so an article's normalised title, body and
  source are each scanned once, however many topics there are;
* hits of patterns whose ends are Latin letters or digits are kept only on word
  boundaries (``AI`` is not found in "mail");
* the hits give the set of (pattern, field) pairs present; each topic is indexed under a
  few *trigger* pairs, at least one of which is present whenever the topic can match
  (for ``青岛 自贸区`` one of the two terms; for ``A OR B`` both), so only topics with a
  required term present are evaluated;
* a topic's boolean query is compiled to a small predicate over that set.

A match carries the hits of the topic's required terms as written in the original
field, with offsets into the original field (via :func:`newsmon.textnorm.align`), and a
snippet around the first hit.  Everything here is pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import ahocorasick_rs

from newsmon.query import (
    FIELDS,
    And,
    Field,
    Node,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    is_word_char,
    parse_query,
    positive_terms,
)
from newsmon.textnorm import Alignment, align, normalize

__all__ = [
    "ArticleText",
    "Hit",
    "Matcher",
    "Snippet",
    "TopicMatch",
    "TopicSpec",
    "make_snippet",
]

# A (pattern, field) pair present in an article is encoded as pattern * 4 + field code.
_ANY: Final = 0  # title or body: where an unscoped term is looked for
_FIELD_CODES: Final[dict[Field, int]] = {"title": 1, "body": 2, "source": 3}
_CODE_FIELDS: Final[dict[int, Field]] = {code: name for name, code in _FIELD_CODES.items()}


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic as the user wrote it."""

    id: int
    name: str
    query: str


@dataclass(frozen=True, slots=True)
class ArticleText:
    """The text of one article, as extracted (original script and spelling).

    The ``*_norm`` fields may carry ``normalize(field)`` when the caller already has it
    (storage keeps it), to save normalising twice; they must be exactly that.
    """

    id: int
    title: str
    body: str
    source: str = ""
    title_norm: str | None = None
    body_norm: str | None = None
    source_norm: str | None = None

    def original(self, name: Field) -> str:
        """The original text of a field."""
        return {"title": self.title, "body": self.body, "source": self.source}[name]

    def key(self, name: Field) -> str:
        """The normalised text of a field."""
        given = {"title": self.title_norm, "body": self.body_norm, "source": self.source_norm}
        norm = given[name]
        return norm if norm is not None else normalize(self.original(name))


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a topic term: ``variant`` is ``field``'s original text at
    ``[start, end)`` (so 青島 may be the variant of the term 青岛)."""

    term: str
    variant: str
    field: Field
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Snippet:
    """A one-line excerpt; the hit is ``text[hit_start:hit_end]`` (for highlighting)."""

    text: str
    hit_start: int
    hit_end: int
    field: Field = "body"


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A topic that matched an article, with the evidence."""

    topic_id: int
    topic_name: str
    article_id: int
    hits: tuple[Hit, ...]
    snippet: Snippet


_Present = set[int]
_Predicate = Callable[[_Present], bool]


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    spec: TopicSpec
    test: _Predicate
    # (term as typed, pattern, field code) of each required term, for reporting hits
    reported: tuple[tuple[str, int, int], ...]


@dataclass(slots=True)
class _ArticleScan:
    """What one article's scan found, with the per-field lookups made on demand."""

    article: ArticleText
    found: dict[int, list[tuple[int, int, int]]]  # field code -> (pattern, start, end)
    _by_pattern: dict[int, dict[int, list[tuple[int, int]]]] = field(default_factory=dict)
    _alignments: dict[int, Alignment] = field(default_factory=dict)
    _hits: dict[tuple[str, int, int], tuple[Hit, ...]] = field(default_factory=dict)

    def hits(self, term_text: str, pattern: int, code: int) -> tuple[Hit, ...]:
        """The hits of one term in one field, as written in the original."""
        cache_key = (term_text, pattern, code)
        cached = self._hits.get(cache_key)
        if cached is None:
            spans = self._spans(code).get(pattern, [])
            cached = tuple(self._hit(term_text, code, start, end) for start, end in spans)
            self._hits[cache_key] = cached
        return cached

    def _spans(self, code: int) -> dict[int, list[tuple[int, int]]]:
        spans = self._by_pattern.get(code)
        if spans is None:
            spans = {}
            for pattern, start, end in self.found.get(code, ()):
                spans.setdefault(pattern, []).append((start, end))
            self._by_pattern[code] = spans
        return spans

    def _hit(self, term_text: str, code: int, start: int, end: int) -> Hit:
        name = _CODE_FIELDS[code]
        original = self.article.original(name)
        alignment = self._alignments.get(code)
        if alignment is None:
            alignment = self._alignments[code] = align(original)
        first, last = alignment.original_span(start, end)
        first, last = min(first, len(original)), min(last, len(original))
        return Hit(term_text, original[first:last], name, first, last)


class Matcher:
    """All topics compiled into one automaton; :meth:`match` runs them on an article."""

    def __init__(self, topics: Sequence[TopicSpec], aliases: Mapping[str, str] | None = None):
        """Compile ``topics``; a topic may use another topic's query as ``@name``.

        ``aliases`` adds (or overrides) names usable as ``@name``.  Raises
        :class:`QuerySyntaxError` whose message starts with the topic's id and name.
        """
        known = {topic.name: topic.query for topic in topics} | dict(aliases or {})
        self._patterns: dict[str, int] = {}
        self._lengths: list[int] = []  # pattern -> length of its text
        self._boundaries: dict[int, tuple[bool, bool]] = {}  # pattern -> (left, right)
        self._topics: list[_CompiledTopic] = []
        self._by_trigger: dict[int, list[int]] = {}
        for topic in topics:
            try:
                node = parse_query(topic.query, known, name=topic.name)
            except QuerySyntaxError as error:
                raise error.with_label(f"topic {topic.id} {topic.name!r}") from None
            self._add_topic(topic, node)
        patterns = sorted(self._patterns, key=self._patterns.__getitem__)
        self._automaton = ahocorasick_rs.AhoCorasick(patterns) if patterns else None

    @property
    def pattern_count(self) -> int:
        """How many distinct term keys the automaton holds."""
        return len(self._patterns)

    def _add_topic(self, topic: TopicSpec, node: Node) -> None:
        index = len(self._topics)
        reported = tuple(
            (term.text, self._pattern(term), _code(term)) for term in _ordered(positive_terms(node))
        )
        self._topics.append(_CompiledTopic(topic, self._compile(node), reported))
        for key in self._triggers(node) or {self._key(term) for term in positive_terms(node)}:
            self._by_trigger.setdefault(key, []).append(index)

    def _pattern(self, term: Term) -> int:
        pattern = self._patterns.get(term.norm)
        if pattern is None:
            pattern = self._patterns[term.norm] = len(self._patterns)
            self._lengths.append(len(term.norm))
            left = term.latin and is_word_char(term.norm[0])
            right = term.latin and is_word_char(term.norm[-1])
            if left or right:
                self._boundaries[pattern] = (left, right)
        return pattern

    def _key(self, term: Term) -> int:
        return self._pattern(term) * 4 + _code(term)

    def _compile(self, node: Node) -> _Predicate:
        """The query as a predicate over the present (pattern, field) keys."""
        if isinstance(node, Term):
            key = self._key(node)
            return lambda present: key in present
        if isinstance(node, Not):
            inner = self._compile(node.child)
            return lambda present: not inner(present)
        terms = [child for child in node.children if isinstance(child, Term)]
        if len(terms) == len(node.children):  # the common flat case: one set operation
            keys = frozenset(self._key(term) for term in terms)
            if isinstance(node, And):
                return lambda present: keys <= present
            return lambda present: not keys.isdisjoint(present)
        parts = tuple(self._compile(child) for child in node.children)
        if isinstance(node, And):
            return lambda present: all(part(present) for part in parts)
        return lambda present: any(part(present) for part in parts)

    def _triggers(self, node: Node) -> frozenset[int] | None:
        """Keys at least one of which is present whenever ``node`` is true, or None."""
        if isinstance(node, Term):
            return frozenset((self._key(node),))
        if isinstance(node, Not):
            return None
        options = [self._triggers(child) for child in node.children]
        if isinstance(node, Or):
            if any(option is None for option in options):
                return None
            return frozenset().union(*(option for option in options if option is not None))
        usable = [option for option in options if option is not None]
        # For AND any one child's triggers will do: prefer few keys, then long (rare) terms.
        return min(usable, key=lambda keys: (len(keys), -self._shortest(keys)), default=None)

    def _shortest(self, keys: frozenset[int]) -> int:
        return min(self._lengths[key // 4] for key in keys)

    def match(self, article: ArticleText) -> list[TopicMatch]:
        """The topics that match ``article``, in the order the topics were given."""
        if self._automaton is None:
            return []
        scan, present = self._scan(article)
        candidates: set[int] = set()
        for key in present:
            topics = self._by_trigger.get(key)
            if topics is not None:
                candidates.update(topics)
        matched = sorted(index for index in candidates if self._topics[index].test(present))
        return [self._report(self._topics[index], scan) for index in matched]

    def _scan(self, article: ArticleText) -> tuple[_ArticleScan, _Present]:
        assert self._automaton is not None
        found: dict[int, list[tuple[int, int, int]]] = {}
        present: _Present = set()
        for name in FIELDS:
            key = article.key(name)
            if not key:
                continue
            code = _FIELD_CODES[name]
            hits = self._automaton.find_matches_as_indexes(key, overlapping=True)
            if self._boundaries:
                hits = [hit for hit in hits if self._on_boundaries(key, *hit)]
            if not hits:
                continue
            found[code] = hits
            patterns = {hit[0] * 4 for hit in hits}
            present.update(pattern + code for pattern in patterns)
            if code != _FIELD_CODES["source"]:
                present.update(patterns)  # + _ANY
        return _ArticleScan(article, found), present

    def _on_boundaries(self, key: str, pattern: int, start: int, end: int) -> bool:
        checks = self._boundaries.get(pattern)
        if checks is None:
            return True
        left, right = checks
        if left and start > 0 and is_word_char(key[start - 1]):
            return False
        return not (right and end < len(key) and is_word_char(key[end]))

    def _report(self, topic: _CompiledTopic, scan: _ArticleScan) -> TopicMatch:
        hits: list[Hit] = []
        for term_text, pattern, code in topic.reported:
            for field_code in (1, 2) if code == _ANY else (code,):
                hits.extend(scan.hits(term_text, pattern, field_code))
        hits.sort(key=lambda hit: (_FIELD_CODES[hit.field], hit.start, hit.end, hit.term))
        return TopicMatch(
            topic.spec.id, topic.spec.name, scan.article.id, tuple(hits), _snippet(scan, hits)
        )


def _snippet(scan: _ArticleScan, hits: list[Hit]) -> Snippet:
    """Around the first hit in the body, else the first hit at all."""
    first = next((hit for hit in hits if hit.field == "body"), hits[0] if hits else None)
    if first is None:  # cannot happen for a valid query; an excerpt of the body then
        return make_snippet(scan.article.body, 0, 0)
    snippet = make_snippet(scan.article.original(first.field), first.start, first.end)
    return Snippet(snippet.text, snippet.hit_start, snippet.hit_end, first.field)


def _code(term: Term) -> int:
    return _ANY if term.field is None else _FIELD_CODES[term.field]


def _ordered(terms: frozenset[Term]) -> list[Term]:
    return sorted(terms, key=lambda term: (term.norm, term.text, term.field or ""))


# --------------------------------------------------------------------------------------
# Snippets

_SENTENCE_ENDS = frozenset("。！？!?；;\n")
_SOFT_BREAKS = frozenset("，、,：: \t\u3000")
_ELLIPSIS = "…"
_WHITESPACE_RUN_RE = re.compile(r"\s+")


def make_snippet(text: str, start: int, end: int, width: int = 60) -> Snippet:
    """About ``width`` characters of ``text`` around ``[start, end)``, on one line.

    The excerpt starts at a sentence start, or after a comma or space, when one is near,
    and ends after a sentence end or before a comma or space; "…" marks where it cuts
    mid-sentence.  Whitespace runs become single spaces.
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    room = max(width - (end - start), 0)
    before = min(start, room * 2 // 5)
    after = min(len(text) - end, room - before)
    before = min(start, room - after)  # give the left what the right could not use
    left_at, left_cut = _left_edge(text, start - before, start)
    right_at, right_cut = _right_edge(text, end, end + after)
    left = _one_line(text[left_at:start]).lstrip()
    hit = _one_line(text[start:end])
    right = _one_line(text[end:right_at]).rstrip()
    prefix = _ELLIPSIS if left_cut else ""
    suffix = _ELLIPSIS if right_cut else ""
    hit_start = len(prefix) + len(left)
    return Snippet(prefix + left + hit + right + suffix, hit_start, hit_start + len(hit))


def _left_edge(text: str, lowest: int, start: int) -> tuple[int, bool]:
    """Where the excerpt begins, and whether that cuts a sentence."""
    if lowest <= 0:
        return 0, False
    window = text[lowest - 1 : start]  # includes the character before, to see a sentence end
    for offset, char in enumerate(window):
        if char in _SENTENCE_ENDS:
            return lowest + offset, False
    for offset, char in enumerate(window):
        if char in _SOFT_BREAKS:
            return lowest + offset, True
    return lowest, True


def _right_edge(text: str, end: int, highest: int) -> tuple[int, bool]:
    """Where the excerpt ends, and whether that cuts a sentence."""
    if highest >= len(text):
        return len(text), False
    window = text[end:highest]
    for offset in range(len(window) - 1, -1, -1):
        if window[offset] in _SENTENCE_ENDS:
            return end + offset + 1, False
    for offset in range(len(window) - 1, -1, -1):
        if window[offset] in _SOFT_BREAKS:
            return end + offset, True
    return highest, True


def _one_line(text: str) -> str:
    return _WHITESPACE_RUN_RE.sub(" ", text)
