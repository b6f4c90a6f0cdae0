"""The matching engine: every topic against an article in one pass over its text.

Topics are compiled once into a :class:`Matcher`:

* every term of every topic becomes one pattern of a single Aho-Corasick automaton
  (terms with the same key share a pattern), so an article's normalised title, body and
  source are each scanned once, however many topics there are;
* hits of patterns whose ends are Latin letters or digits are kept only on word
  boundaries (``AI`` is not found in "mail");
* the hits give the set of (pattern, field) keys present.  Each topic is indexed under
  what it requires: for ``青岛 自贸区`` the pair (青岛, 自贸区), for ``青岛 (港口 OR 码头)``
  the pairs (青岛, 港口) and (青岛, 码头), for ``A OR B`` the single keys A and B.  Only
  topics whose index entry is fully present are evaluated; a query that requires no
  term at all is refused by the parser, so nothing is missed;
* a topic's boolean query is compiled to a small predicate over the present keys.

:meth:`Matcher.match` reports each match with the hits of the topic's required terms as
written in the original field (offsets into it, via :func:`newsmon.textnorm.align`) and
a snippet around the first hit; :meth:`Matcher.match_ids` only decides, for counting.
Everything here is pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import ahocorasick_rs

from newsmon.query import (
    And,
    Field,
    Node,
    Not,
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
        return self.title if name == "title" else self.body if name == "body" else self.source

    def key(self, name: Field) -> str:
        """The normalised text of a field."""
        if name == "title":
            given, original = self.title_norm, self.title
        elif name == "body":
            given, original = self.body_norm, self.body
        else:
            given, original = self.source_norm, self.source
        return given if given is not None else normalize(original)


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
    _snippets: dict[tuple[Field, int, int], Snippet] = field(default_factory=dict)

    def snippet(self, first: Hit) -> Snippet:
        """The snippet around a hit; topics sharing a first hit share it."""
        cache_key = (first.field, first.start, first.end)
        cached = self._snippets.get(cache_key)
        if cached is None:
            text = self.article.original(first.field)
            made = make_snippet(text, first.start, first.end)
            cached = Snippet(made.text, made.hit_start, made.hit_end, first.field)
            self._snippets[cache_key] = cached
        return cached

    def hits(self, term_text: str, pattern: int, code: int) -> tuple[Hit, ...]:
        """The hits of one term in one field (title and body for _ANY), as written."""
        cache_key = (term_text, pattern, code)
        cached = self._hits.get(cache_key)
        if cached is None:
            if code == _ANY:
                cached = self.hits(term_text, pattern, 1) + self.hits(term_text, pattern, 2)
            else:
                spans = self._spans(code).get(pattern)
                cached = self._make_hits(term_text, code, spans) if spans else ()
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

    def _make_hits(
        self, term_text: str, code: int, spans: list[tuple[int, int]]
    ) -> tuple[Hit, ...]:
        name = _CODE_FIELDS[code]
        original = self.article.original(name)
        alignment = self._alignments.get(code)
        if alignment is None:
            alignment = self._alignments[code] = align(original, self.article.key(name))
        if alignment.one_to_one:
            return tuple(
                Hit(term_text, original[start:end], name, start, end) for start, end in spans
            )
        hits = []
        for start, end in spans:
            first, last = alignment.original_span(start, end)
            first, last = min(first, len(original)), min(last, len(original))
            hits.append(Hit(term_text, original[first:last], name, first, last))
        return tuple(hits)


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
        self._tests: list[_Predicate] = []  # the topics' predicates, by index
        # Candidate index: a topic is evaluated only when its trigger keys are present --
        # one of a set for single-requirement topics, one of each of two sets otherwise.
        self._by_key: dict[int, list[int]] = {}
        self._by_pair: dict[int, dict[int, list[int]]] = {}
        for topic in topics:
            try:
                node = parse_query(topic.query, known, name=topic.name)
            except QuerySyntaxError as error:
                raise error.with_label(f"topic {topic.id} {topic.name!r}") from None
            self._add_topic(topic, node)
        patterns = sorted(self._patterns, key=self._patterns.__getitem__)
        self._automaton = ahocorasick_rs.AhoCorasick(patterns) if patterns else None
        self._pairs = {
            key: (frozenset(seconds), {second: tuple(found) for second, found in seconds.items()})
            for key, seconds in self._by_pair.items()
        }
        self._triggers = frozenset(self._by_key) | frozenset(self._by_pair)
        self._bounded = frozenset(self._boundaries)
        self._by_pair.clear()  # now held, frozen, in self._pairs

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
        self._tests.append(self._topics[-1].test)
        requirements = sorted(set(self._requirements(node)), key=self._rarity)
        if not requirements:  # e.g. NOT (NOT a): fall back on every required-polarity term
            requirements = [frozenset(self._key(term) for term in positive_terms(node))]
        if len(requirements) == 1:
            for key in requirements[0]:
                self._by_key.setdefault(key, []).append(index)
            return
        for key in requirements[0]:
            seconds = self._by_pair.setdefault(key, {})
            for second in requirements[1]:
                seconds.setdefault(second, []).append(index)

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

    def _requirements(self, node: Node) -> list[frozenset[int]]:
        """Key sets such that ``node`` holds only if each set has a present key."""
        if isinstance(node, Term):
            return [frozenset((self._key(node),))]
        if isinstance(node, Not):
            return []  # an exclusion requires nothing to be present
        options = [self._requirements(child) for child in node.children]
        if isinstance(node, And):
            return [requirement for option in options for requirement in option]
        if not all(options):  # an OR with a branch that requires nothing
            return []
        # An OR holds only if a branch does, so the union of the branches' best sets.
        return [frozenset().union(*(min(option, key=self._rarity) for option in options))]

    def _rarity(self, keys: frozenset[int]) -> tuple[int, int, tuple[int, ...]]:
        """Sort key preferring few keys, then long (likely rare) terms; deterministic."""
        return len(keys), -min(self._lengths[key // 4] for key in keys), tuple(sorted(keys))

    def match(self, article: ArticleText) -> list[TopicMatch]:
        """The topics that match ``article`` with their evidence, in the topics' order."""
        found, present = self._scan(article)
        if not present:
            return []
        scan = _ArticleScan(article, found)
        return [self._report(self._topics[index], scan) for index in self._decide(present)]

    def match_ids(self, article: ArticleText) -> list[int]:
        """Only the ids of the matching topics (no hits, no snippets): for counting."""
        _, present = self._scan(article)
        return [self._topics[index].spec.id for index in self._decide(present)] if present else []

    def _decide(self, present: _Present) -> list[int]:
        """Indexes of the topics whose query holds, given the present keys."""
        candidates: set[int] = set()
        by_key, pairs = self._by_key, self._pairs
        for key in present & self._triggers:
            topics = by_key.get(key)
            if topics is not None:
                candidates.update(topics)
            paired = pairs.get(key)
            if paired is not None:
                seconds, by_second = paired
                for second in seconds & present:
                    candidates.update(by_second[second])
        tests = self._tests
        return sorted(index for index in candidates if tests[index](present))

    def _scan(self, article: ArticleText) -> tuple[dict[int, list[tuple[int, int, int]]], _Present]:
        """One automaton pass per non-empty field: the hits and the present keys."""
        found: dict[int, list[tuple[int, int, int]]] = {}
        present: _Present = set()
        if self._automaton is None:
            return found, present
        for name, code in _FIELD_CODES.items():
            key = article.key(name)
            if not key:
                continue
            hits = self._automaton.find_matches_as_indexes(key, overlapping=True)
            if not hits:
                continue
            patterns = {hit[0] for hit in hits}
            if not self._bounded.isdisjoint(patterns):  # Latin hits: keep those on word bounds
                hits = [hit for hit in hits if self._on_boundaries(key, *hit)]
                patterns = {hit[0] for hit in hits}
            found[code] = hits
            present.update([pattern * 4 + code for pattern in patterns])
            if code != _FIELD_CODES["source"]:  # the keys of unscoped terms: pattern * 4 + _ANY
                present.update([pattern * 4 for pattern in patterns])
        return found, present

    def _on_boundaries(self, key: str, pattern: int, start: int, end: int) -> bool:
        checks = self._boundaries.get(pattern)
        if checks is None:
            return True
        left, right = checks
        if left and start > 0 and is_word_char(key[start - 1]):
            return False
        return not (right and end < len(key) and is_word_char(key[end]))

    def _report(self, topic: _CompiledTopic, scan: _ArticleScan) -> TopicMatch:
        if len(topic.reported) == 1:  # one term's hits are already in field and text order
            hits = scan.hits(*topic.reported[0])
        else:
            hits = tuple(
                sorted(
                    (hit for reported in topic.reported for hit in scan.hits(*reported)),
                    key=lambda hit: (_FIELD_CODES[hit.field], hit.start, hit.end, hit.term),
                )
            )
        return TopicMatch(
            topic.spec.id, topic.spec.name, scan.article.id, hits, _snippet(scan, hits)
        )


def _snippet(scan: _ArticleScan, hits: tuple[Hit, ...]) -> Snippet:
    """Around the first hit in the body, else the first hit at all."""
    first = next((hit for hit in hits if hit.field == "body"), hits[0] if hits else None)
    if first is None:  # cannot happen for a valid query; an excerpt of the body then
        return make_snippet(scan.article.body, 0, 0)
    return scan.snippet(first)


def _code(term: Term) -> int:
    return _ANY if term.field is None else _FIELD_CODES[term.field]


def _ordered(terms: frozenset[Term]) -> list[Term]:
    return sorted(terms, key=lambda term: (term.norm, term.text, term.field or ""))


# --------------------------------------------------------------------------------------
# Snippets

_SENTENCE_END_RE = re.compile("[。！？!?；;\n]")
_SOFT_BREAK_RE = re.compile("[，、,：: \t\u3000]")
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
    # From the character before ``lowest``, so that a sentence ending there is seen.
    sentence_end = _SENTENCE_END_RE.search(text, lowest - 1, start)
    if sentence_end is not None:
        return sentence_end.end(), False
    soft_break = _SOFT_BREAK_RE.search(text, lowest - 1, start)
    return (soft_break.end() if soft_break is not None else lowest), True


def _right_edge(text: str, end: int, highest: int) -> tuple[int, bool]:
    """Where the excerpt ends, and whether that cuts a sentence."""
    if highest >= len(text):
        return len(text), False
    backwards = text[end:highest][::-1]  # the last boundary is the first one backwards
    sentence_end = _SENTENCE_END_RE.search(backwards)
    if sentence_end is not None:
        return highest - sentence_end.start(), False
    soft_break = _SOFT_BREAK_RE.search(backwards)
    return (highest - soft_break.end() if soft_break is not None else highest), True


def _one_line(text: str) -> str:
    return _WHITESPACE_RUN_RE.sub(" ", text)
