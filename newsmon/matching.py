"""The matching engine: every topic against an article in one pass over its text.

Topics are compiled once into a :class:`Matcher`:

* every term of every topic becomes one pattern (terms with the same key share one) of a
  single Hyperscan literal database, so an article's normalised title, body and source
  are each scanned once, however many topics there are.  The scan reports which patterns
  occur, each once, not every occurrence: deciding needs no more;
* patterns whose ends are Latin letters or digits count only on word boundaries (``AI``
  is not found in "mail"), so their occurrences are confirmed with the plan's
  :func:`newsmon.query.term_spans`;
* the scan gives the set of (pattern, field) keys present.  Each topic is indexed under
  the two rarest of its plan's requirements: for ``青岛 自贸区`` the pair (青岛, 自贸区),
  for ``青岛 (港口 OR 码头)`` the pairs (青岛, 港口) and (青岛, 码头), for ``A OR B`` the
  single keys A and B.  Only topics whose index entry is fully present are evaluated; a
  query that requires no term at all is refused by the parser, so nothing is missed;
* a topic's boolean query is its plan's predicate over the present keys.

Everything a query means comes from its :class:`newsmon.query.Plan`; this module only
decides how to look for it fast.

:meth:`Matcher.match` then gathers the evidence for the topics that matched, and only
for them: where their required terms occur (``str.find`` over the field's key,
overlapping occurrences included), mapped back to the original text with
:func:`newsmon.textnorm.align` (once per field), and a snippet around the first hit; an
article's topics share hits and snippets.  :meth:`Matcher.match_ids` only decides, for
counting.  Everything here is pure: values in, values out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Final, NamedTuple

import hyperscan

from newsmon.query import (
    And,
    Field,
    Node,
    Not,
    Plan,
    QuerySyntaxError,
    Term,
    parse_query,
    term_spans,
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
_SNIPPET_WIDTH: Final = 60  # characters


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
        given = (self.title_norm if name == "title" else
                 self.body_norm if name == "body" else self.source_norm)
        return given if given is not None else normalize(self.original(name))


class Hit(NamedTuple):
    """One occurrence of a topic term: ``variant`` is ``field``'s original text at
    ``[start, end)`` (so 青島 may be the variant of the term 青岛).

    This and the other records an article's matches are made of are named tuples, not
    frozen dataclasses: a match job makes tens of them per article, and a named tuple is
    made in well under half the time.
    """

    term: str
    variant: str
    field: Field
    start: int
    end: int

    def as_dict(self) -> dict[str, str | int]:
        """The hit as a plain dict, for JSON, keys in field order (as stored)."""
        return self._asdict()


class Snippet(NamedTuple):
    """A one-line excerpt; the hit is ``text[hit_start:hit_end]`` (for highlighting)."""

    text: str
    hit_start: int
    hit_end: int
    field: Field = "body"


class TopicMatch(NamedTuple):
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
    id: int
    name: str
    test: _Predicate
    reported: tuple[int, ...]  # the required terms, for reporting hits: see Matcher._terms


_Order = tuple[int, int, int, str]  # how hits of several terms are listed: field, start, end, term
_Term = tuple[str, int, int]  # a required term: as typed, its pattern, its field code
_TITLE: Final = _FIELD_CODES["title"]
_BODY: Final = _FIELD_CODES["body"]


class _Evidence:
    """The hits and snippets of one article, made on demand and shared by its topics.

    The scan only says which patterns occur in which field; where they occur is looked
    up here, with ``str.find``, for the terms of the topics that matched, and mapped back
    to the original text once per field.  Topics reporting the same present terms share
    one (hits, snippet) pair: with thousands of topics an article's ten matches come from
    a handful of terms, and the per-match work is then a lookup and a tuple.
    """

    __slots__ = (
        "_alignments", "_article", "_found", "_hits", "_keys", "_ordered", "_pattern_terms",
        "_present", "_snippets", "_spans", "_term_keys", "_terms",
    )  # fmt: skip

    def __init__(
        self,
        article: ArticleText,
        keys: dict[int, str],
        present: _Present,
        spans: dict[tuple[int, int], list[tuple[int, int]]],
        matcher: Matcher,
    ) -> None:
        self._article = article
        self._keys = keys  # field code -> normalised text of the fields scanned
        self._present = present
        self._spans = spans  # (pattern, code) -> key spans, as far as looked up
        self._terms = matcher._terms
        self._term_keys = matcher._term_keys
        self._pattern_terms = matcher._pattern_terms
        self._alignments: dict[int, Alignment] = {}
        self._hits: dict[int, tuple[Hit, ...]] = {}  # term -> its hits
        self._ordered: dict[int, list[tuple[_Order, Hit]]] = {}
        self._found: dict[tuple[int, ...], tuple[tuple[Hit, ...], Snippet]] = {}
        self._snippets: dict[tuple[Field, int, int], Snippet] = {}

    def report(self, topics: Sequence[_CompiledTopic]) -> list[TopicMatch]:
        """The matches of ``topics``, whose queries hold: their terms' hits, and a snippet."""
        article_id = self._article.id
        present, term_keys, found_by = self._present, self._term_keys, self._found
        matches = []
        for topic in topics:
            reported = topic.reported
            if len(reported) > 1:  # often only one of them occurs (A OR B)
                reported = tuple([term for term in reported if term_keys[term] in present])
            found = found_by.get(reported)
            if found is None:
                found = found_by[reported] = self._evidence(reported)
            matches.append(TopicMatch(topic.id, topic.name, article_id, *found))
        return matches

    def _evidence(self, reported: tuple[int, ...]) -> tuple[tuple[Hit, ...], Snippet]:
        if len(reported) == 1:  # one term's hits are already in field and text order
            hits = self._term_hits(reported[0])
        else:
            hits = self._merged_hits(reported) if reported else ()
        return hits, self._snippet(hits)

    def _term_hits(self, term: int) -> tuple[Hit, ...]:
        """The hits of one term, as written: in its field, or in the title then the body."""
        hits = self._hits.get(term)
        if hits is None:
            text, pattern, code = self._terms[term]
            present, key = self._present, self._term_keys[term]
            if code == _ANY:  # looked for in the title and the body: their keys
                unscoped = key - _ANY
                hits = (self._field_hits(text, pattern, _TITLE)
                        if unscoped + _TITLE in present else ())
                if unscoped + _BODY in present:
                    hits += self._field_hits(text, pattern, _BODY)
            elif key in present:
                hits = self._field_hits(text, pattern, code)
            else:
                hits = ()
            self._hits[term] = hits
        return hits

    def _merged_hits(self, terms: tuple[int, ...]) -> tuple[Hit, ...]:
        """The hits of several terms, in field and text order."""
        ordered: list[tuple[_Order, Hit]] = []
        for term in terms:
            ordered += self._ordered_hits(term)
        ordered.sort(key=itemgetter(0))  # by _Order only: that is the listed order
        return tuple([hit for _, hit in ordered])

    def _ordered_hits(self, term: int) -> list[tuple[_Order, Hit]]:
        """:meth:`_term_hits`, each with its place in a list of several terms' hits."""
        ordered = self._ordered.get(term)
        if ordered is None:
            ordered = self._ordered[term] = [
                ((_FIELD_CODES[hit.field], hit.start, hit.end, hit.term), hit)
                for hit in self._term_hits(term)
            ]
        return ordered

    def _field_hits(self, term_text: str, pattern: int, code: int) -> tuple[Hit, ...]:
        """The hits of a pattern the scan found in field ``code``."""
        spans = self._spans.get((pattern, code))
        if spans is None:
            spans = term_spans(self._pattern_terms[pattern], self._keys[code])
            self._spans[pattern, code] = spans
        name = _CODE_FIELDS[code]
        original = self._article.original(name)
        alignment = self._alignments.get(code)
        if alignment is None:
            alignment = self._alignments[code] = align(original, self._keys[code])
        if alignment.one_to_one:
            return tuple(
                [Hit(term_text, original[start:end], name, start, end) for start, end in spans]
            )
        hits = []
        index, size = alignment.original_index, len(original)
        for start, end in spans:  # patterns are never empty: end > start
            first, last = min(index(start), size), min(index(end - 1) + 1, size)
            hits.append(Hit(term_text, original[first:last], name, first, last))
        return tuple(hits)

    def _snippet(self, hits: tuple[Hit, ...]) -> Snippet:
        """Around the first hit in the body, else the first hit at all; topics sharing
        that hit share the snippet."""
        if not hits:  # cannot happen for a valid query; an excerpt of the body then
            return make_snippet(self._article.body, 0, 0)
        first = hits[0]
        if first.field != "body":
            first = next((hit for hit in hits if hit.field == "body"), first)
        cache_key = (first.field, first.start, first.end)
        snippet = self._snippets.get(cache_key)
        if snippet is None:
            text = self._article.original(first.field)
            excerpt, hit_start, hit_end = _excerpt(text, first.start, first.end, _SNIPPET_WIDTH)
            snippet = Snippet(excerpt, hit_start, hit_end, first.field)
            self._snippets[cache_key] = snippet
        return snippet


class _PatternScanner:
    """Which patterns occur in a text, each reported once: Hyperscan over UTF-8.

    Hyperscan's literal matcher finds the distinct patterns of a 5 KB article about
    four times faster than an Aho-Corasick automaton lists every occurrence (see
    bench/matching.py), and the engine needs only the distinct patterns to decide.

    The binding passes literals to C as NUL-terminated strings, so a pattern holding a
    NUL is looked for by its longest NUL-free piece (or reported always, if it has none);
    :attr:`approximate` lists those, whose reports the caller must confirm.  Scratch
    space may not be shared by threads scanning at once, so each thread gets its own.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        literals: list[bytes] = []
        ids: list[int] = []
        self._always: list[int] = []
        for pattern, text in enumerate(patterns):
            piece = max(text.split("\x00"), key=len)
            if piece:
                literals.append(_utf8(piece))
                ids.append(pattern)
            else:
                self._always.append(pattern)
        self.approximate = frozenset(
            pattern for pattern, text in enumerate(patterns) if "\x00" in text
        )
        self._database: hyperscan.Database | None = None
        if literals:
            self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._database.compile(
                expressions=literals,
                ids=ids,
                elements=len(literals),
                flags=hyperscan.HS_FLAG_SINGLEMATCH,
                literal=True,
            )
        self._local = threading.local()

    def found(self, text: str) -> list[int]:
        """The patterns occurring in ``text`` (or maybe, see :attr:`approximate`), unordered."""
        found = self._always.copy()

        def on_match(pattern: int, start: int, end: int, flags: int, context: object) -> None:
            found.append(pattern)  # and return None: a true result would stop the scan

        if self._database is not None:
            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                scratch = self._local.scratch = hyperscan.Scratch(self._database)
            self._database.scan(_utf8(text), match_event_handler=on_match, scratch=scratch)
        return found


def _utf8(text: str) -> bytes:
    # A lone surrogate (only in a key that is not normalize()'s output) is kept as bytes
    # that no pattern holds, rather than failing the whole article.
    return text.encode("utf-8", "surrogatepass")


class Matcher:
    """All topics compiled into one pattern scanner; :meth:`match` runs them on an article."""

    def __init__(self, topics: Sequence[TopicSpec], aliases: Mapping[str, str] | None = None):
        """Compile ``topics``; a topic may use another topic's query as ``@name``.

        ``aliases`` adds (or overrides) names usable as ``@name``.  Raises
        :class:`QuerySyntaxError` whose message starts with the topic's id and name.
        """
        known = {topic.name: topic.query for topic in topics} | dict(aliases or {})
        self._patterns: dict[str, int] = {}
        self._pattern_terms: list[Term] = []  # pattern -> a term with its text (key)
        self._topics: list[_CompiledTopic] = []
        self._terms: list[_Term] = []  # the required terms of all topics, for reporting
        self._term_ids: dict[_Term, int] = {}
        self._term_keys: list[int] = []  # term -> its (pattern, field) key
        self._tests: list[_Predicate | None] = []  # by index; None: candidates all match
        # Candidate index: a topic is evaluated only when its trigger keys are present --
        # one of a set for single-requirement topics, one of each of two sets otherwise.
        self._by_key: dict[int, list[int]] = {}
        self._by_pair: dict[int, dict[int, list[int]]] = {}
        for topic in topics:
            try:
                plan = parse_query(topic.query, known, name=topic.name)
            except QuerySyntaxError as error:
                raise error.with_label(f"topic {topic.id} {topic.name!r}") from None
            self._add_topic(topic, plan)
        texts = [term.norm for term in self._pattern_terms]
        self._scanner = _PatternScanner(texts) if texts else None
        # Patterns whose reported presence term_spans confirms: those on word boundaries,
        # and those the scanner only approximates.
        self._confirmed = frozenset(
            pattern for pattern, term in enumerate(self._pattern_terms) if term.bounded
        ) | (self._scanner.approximate if self._scanner is not None else frozenset())
        self._pairs = {
            key: (frozenset(seconds), {second: tuple(found) for second, found in seconds.items()})
            for key, seconds in self._by_pair.items()
        }
        self._triggers = frozenset(self._by_key) | frozenset(self._by_pair)
        self._by_pair.clear()  # now held, frozen, in self._pairs

    @property
    def pattern_count(self) -> int:
        """How many distinct term keys the scanner looks for."""
        return len(self._patterns)

    def _add_topic(self, topic: TopicSpec, plan: Plan) -> None:
        index = len(self._topics)
        reported = tuple(self._term(term) for term in plan.positive)
        test = plan.predicate(self._key)
        self._topics.append(_CompiledTopic(topic.id, topic.name, test, reported))
        requirements = [frozenset(map(self._key, terms)) for terms in plan.requirements]
        # A term, terms ORed, or two terms ANDed hold exactly when the index finds them.
        self._tests.append(None if _indexed_exactly(plan.root) else test)
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
            self._pattern_terms.append(term)
        return pattern

    def _term(self, term: Term) -> int:
        """The id of a required term, as reported in hits (its text as typed)."""
        entry = (term.text, self._pattern(term), _code(term))
        number = self._term_ids.get(entry)
        if number is None:
            number = self._term_ids[entry] = len(self._terms)
            self._terms.append(entry)
            self._term_keys.append(self._key(term))
        return number

    def _key(self, term: Term) -> int:
        return self._pattern(term) * 4 + _code(term)

    def match(self, article: ArticleText) -> list[TopicMatch]:
        """The topics that match ``article`` with their evidence, in the topics' order."""
        keys, present, spans = self._scan(article)
        if not present:
            return []
        chosen = self._decide(present)
        if not chosen:
            return []
        topics = self._topics
        return _Evidence(article, keys, present, spans, self).report(
            [topics[index] for index in chosen]
        )

    def match_ids(self, article: ArticleText) -> list[int]:
        """Only the ids of the matching topics (no hits, no snippets): for counting."""
        _, present, _ = self._scan(article)
        return [self._topics[index].id for index in self._decide(present)] if present else []

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
        chosen = [index for index in candidates if (test := tests[index]) is None or test(present)]
        chosen.sort()
        return chosen

    def _scan(
        self, article: ArticleText
    ) -> tuple[dict[int, str], _Present, dict[tuple[int, int], list[tuple[int, int]]]]:
        """One scan per non-empty field: the keys scanned and the present (pattern, field)
        keys, plus the spans already found while checking word boundaries."""
        keys: dict[int, str] = {}
        present: _Present = set()
        spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
        if self._scanner is None:
            return keys, present, spans
        for name, code in _FIELD_CODES.items():
            key = keys[code] = article.key(name)
            if not key:
                continue
            patterns = self._scanner.found(key)
            if not patterns:
                continue
            if not self._confirmed.isdisjoint(patterns):  # e.g. Latin terms: on word boundaries
                holds = self._confirmed_in
                patterns = [pattern for pattern in patterns if holds(key, pattern, code, spans)]
            present.update([pattern * 4 + code for pattern in patterns])
            if code != _FIELD_CODES["source"]:  # the keys of unscoped terms: pattern * 4 + _ANY
                present.update([pattern * 4 for pattern in patterns])
        return keys, present, spans

    def _confirmed_in(
        self,
        key: str,
        pattern: int,
        code: int,
        spans: dict[tuple[int, int], list[tuple[int, int]]],
    ) -> bool:
        """Whether ``pattern`` really occurs in ``key`` -- on the word boundaries it needs,
        or at all for one the scanner only approximates."""
        if pattern not in self._confirmed:
            return True
        found = spans[pattern, code] = term_spans(self._pattern_terms[pattern], key)
        return bool(found)


def _indexed_exactly(node: Node) -> bool:
    """Whether a query holds whenever its candidate index entry is present (see
    ``Matcher._add_topic``): one term, terms ORed (indexed under each), two terms ANDed
    (indexed as a pair)."""
    if isinstance(node, Term):
        return True
    if isinstance(node, Not) or not all(isinstance(child, Term) for child in node.children):
        return False
    return not isinstance(node, And) or len(node.children) == 2


def _code(term: Term) -> int:
    return _ANY if term.field is None else _FIELD_CODES[term.field]


# --------------------------------------------------------------------------------------
# Snippets

_SENTENCE_END_RE = re.compile("[。！？!?；;\n]")
_SOFT_BREAK_RE = re.compile("[，、,：: \t\u3000]")
_ELLIPSIS = "…"
_WHITESPACE_RUN_RE = re.compile(r"\s+")
_WHITESPACE_RE = re.compile(r"\s")


def make_snippet(text: str, start: int, end: int, width: int = _SNIPPET_WIDTH) -> Snippet:
    """About ``width`` characters of ``text`` around ``[start, end)``, on one line.

    The excerpt starts at a sentence start, or after a comma or space, when one is near,
    and ends after a sentence end or before a comma or space; "…" marks where it cuts
    mid-sentence.  Whitespace runs become single spaces.
    """
    return Snippet(*_excerpt(text, start, end, width))


def _excerpt(text: str, start: int, end: int, width: int) -> tuple[str, int, int]:
    """:func:`make_snippet`'s text, and where the hit is in it."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    room = max(width - (end - start), 0)
    before = min(start, room * 2 // 5)
    after = min(len(text) - end, room - before)
    before = min(start, room - after)  # give the left what the right could not use
    left_at, left_cut = _left_edge(text, start - before, start)
    right_at, right_cut = _right_edge(text, end, end + after)
    while left_at < start and text[left_at].isspace():  # as .lstrip() below would
        left_at += 1
    while right_at > end and text[right_at - 1].isspace():  # as .rstrip() below would
        right_at -= 1
    if _WHITESPACE_RE.search(text, left_at, right_at) is None:  # most excerpts of Chinese
        left, hit, right = text[left_at:start], text[start:end], text[end:right_at]
    else:
        left = _one_line(text[left_at:start]).lstrip()
        hit = _one_line(text[start:end])
        right = _one_line(text[end:right_at]).rstrip()
    prefix = _ELLIPSIS if left_cut else ""
    suffix = _ELLIPSIS if right_cut else ""
    hit_start = len(prefix) + len(left)
    return prefix + left + hit + right + suffix, hit_start, hit_start + len(hit)


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
