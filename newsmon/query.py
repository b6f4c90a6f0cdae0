"""The query language shared by topics and search.

Grammar (``NOT`` binds tighter than AND, AND tighter than OR)::

    query   := or
    or      := and (("OR" | "|") and)*
    and     := unary (["AND"] unary)*          -- juxtaposition is AND
    unary   := ("NOT" | "-") unary | primary   -- "-" must touch what it negates: -房产
    primary := "(" or ")" | FIELD ":" primary | "topic:" NAME | "@" NAME | WORD | PHRASE
    FIELD   := title | body | source

* A WORD is a run of characters up to whitespace or one of ``( ) " | “``; Chinese needs
  no spaces, so ``青岛自贸区`` is one term and ``青岛 自贸区`` two.  ``OR``, ``AND`` and
  ``NOT`` are operators only in capitals; ``or`` is a word.
* A PHRASE is ``"…"`` or ``“…”``: its text is matched literally, spaces and punctuation
  included.
* Terms and phrases are compared through :func:`newsmon.textnorm.normalize`, so script
  (青島 = 青岛), width and case do not matter.  A CJK term matches as a substring; an
  end of a term that is a Latin letter or digit must sit on a word boundary, so ``AI``
  matches "AI" and "ai-driven" but not "MAIL", and ``5G`` not "15G".
* Without a field a term is looked for in the title and the body; ``title:``, ``body:``
  and ``source:`` restrict it (also a group: ``title:(青岛 OR 烟台)``; the innermost
  scope wins).  A word like ``12:30`` or ``http://x`` is an ordinary term.
* ``topic:NAME`` (``topic:"name with spaces"``) or ``@NAME`` stands for the query of the
  topic NAME, taken from the aliases mapping; an unknown name or a cycle is an error.
* A query must require at least one term to be present.  ``NOT 房产`` or
  ``青岛 OR -房产`` would match nearly every article, so they are rejected; this also lets
  the matching engine skip every topic none of whose required terms occur.

A malformed query raises :class:`QuerySyntaxError` carrying the 0-based ``position`` in
the query and what was ``expected`` there.

:func:`parse_query` compiles a query once into a :class:`Plan`, the only statement of
what a query means: its terms with their keys, word-boundary needs and index tokens, the
compiled boolean test, the terms it requires, and the full-text index condition.  The
reference matcher (:meth:`Plan.matches`), the Hyperscan matcher
(:mod:`newsmon.matching`) and search with its SQL renderers (:mod:`newsmon.storage.search`,
:mod:`newsmon.storage.fts`) all read it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from newsmon.textnorm import TITLE_MARK, normalize, term_tokens

__all__ = [
    "DEFAULT_FIELDS",
    "EVERYTHING",
    "FIELDS",
    "AllOf",
    "And",
    "AnyOf",
    "Both",
    "Everything",
    "Field",
    "IndexCondition",
    "Node",
    "Not",
    "Or",
    "Plan",
    "QuerySyntaxError",
    "Term",
    "evaluate",
    "find_term",
    "is_word_char",
    "parse_query",
    "term_spans",
]

Field = Literal["title", "body", "source"]
FIELDS: tuple[Field, ...] = ("title", "body", "source")
DEFAULT_FIELDS: tuple[Field, ...] = ("title", "body")  # where an unscoped term is looked for

_SPECIAL = frozenset('()"|“')
_CLOSING_QUOTE = {'"': '"', "“": "”"}


# Limits on one query's shape. Deeper nesting overflows Python's recursion and SQLite's
# parser stack (a NOT in SQL is one level each); a real topic needs far less of either.
MAX_NESTING = 10  # levels of '(' and NOT/'-' inside one another
MAX_TERMS = 200  # words and phrases, counted after topic aliases are expanded


class QuerySyntaxError(ValueError):
    """A query that cannot be used; names the position and what was expected there."""

    def __init__(
        self, query: str, position: int, expected: str, detail: str = "", label: str = ""
    ) -> None:
        self.query = query
        self.position = position
        self.expected = expected
        self.detail = detail
        self.label = label  # e.g. "topic 3 'qingdao'" when the query belongs to a topic
        message = f"query position {position}: expected {expected}"
        if detail:
            message += f" ({detail})"
        super().__init__(f"{label}: {message}" if label else message)

    def with_label(self, label: str) -> QuerySyntaxError:
        """The same error, its message prefixed by ``label`` (which query it was)."""
        return QuerySyntaxError(self.query, self.position, self.expected, self.detail, label)

    def caret_lines(self) -> str:
        """The query and a caret under the failing position (wide CJK columns counted)."""
        line = self.query.replace("\n", " ").replace("\t", " ")
        column = sum(_display_width(char) for char in line[: self.position])
        return f"{line}\n{' ' * column}^"


def _display_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


# --------------------------------------------------------------------------------------
# The syntax tree and the compiled plan


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase, compiled: ``norm`` is what is matched, ``text`` as typed.

    ``left``/``right``: that end of ``norm`` is a word character, so it must sit on a
    word boundary (``AI`` is not in "mail").
    """

    text: str
    norm: str
    field: Field | None = None  # None: title or body
    phrase: bool = False
    latin: bool = False  # has Latin letters/digits
    left: bool = False
    right: bool = False

    @classmethod
    def of(cls, text: str, field: Field | None = None, phrase: bool = False) -> Term:
        """A term for ``text`` with its key and facts computed."""
        norm = normalize(text)
        return cls(text, norm, field, phrase, any(map(is_word_char, norm)),
                   is_word_char(norm[:1]), is_word_char(norm[-1:]))

    @property
    def scope(self) -> tuple[Field, ...]:
        """The fields the term is looked for in."""
        return DEFAULT_FIELDS if self.field is None else (self.field,)

    @property
    def bounded(self) -> bool:
        """Whether a substring occurrence still needs a word-boundary check."""
        return self.left or self.right


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Term | And | Or | Not


def is_word_char(char: str) -> bool:
    """A letter or digit of a script written with spaces (Latin, Greek, Cyrillic …).

    CJK characters are not: Chinese terms match inside longer runs of text.
    """
    return (char.isalnum() or char == "_") and char < "\u2e80" and not "\u1100" <= char <= "\u11ff"


# What the full-text index can check of a query (its tokens: newsmon.textnorm), every
# match satisfying it; storage renders it for SQLite FTS5 and PostgreSQL.
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

    children: tuple[IndexCondition, ...]


@dataclass(frozen=True, slots=True)
class Both:
    """Articles satisfying all of the conditions (none of them ``AllOf``-mergeable)."""

    children: tuple[IndexCondition, ...]


IndexCondition = Everything | AllOf | AnyOf | Both
EVERYTHING = Everything()


@dataclass(frozen=True, slots=True)
class Plan:
    """A query parsed and compiled once; the matcher, search and its SQL consume this.

    ``terms`` lists every term (required or excluded), ``positive`` those whose presence
    can make the query true, both in a fixed order; the query holds only if each set of
    ``requirements`` has a present term (rare-looking terms first); ``narrowing`` is the
    full-text index condition every match satisfies.
    """

    root: Node
    positive: tuple[Term, ...]

    @classmethod
    def of(cls, root: Node) -> Plan:
        return cls(root, _ordered(_walk_terms(root, positive=True, want=True)))

    # Worked out on each call (the matcher asks for the requirements once per topic,
    # search for the index condition once per query; neither needs the other's).
    @property
    def terms(self) -> tuple[Term, ...]:
        return _ordered(_walk_terms(self.root, positive=True, want=None))

    @property
    def requirements(self) -> tuple[frozenset[Term], ...]:
        found = sorted(set(_requirements(self.root)), key=_rarity)
        return tuple(found) or (frozenset(self.positive),)

    @property
    def narrowing(self) -> IndexCondition:
        return _narrowing(self.root)

    def predicate(self, key: Callable[[Term], K]) -> Callable[[AbstractSet[K]], bool]:
        """The query as a test of which keys are present (``key`` maps a term to its)."""
        return _predicate(self.root, key)

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Brute force: does the query match an article with these fields?

        ``fields`` maps "title", "body", "source" to text, original or already
        normalised (normalising is idempotent); missing fields are empty.  This is the
        reference the matching engine and the search index are tested against.
        """
        return self.matches_keys({name: normalize(fields.get(name, "")) for name in FIELDS})

    def matches_keys(self, keys: Mapping[str, str]) -> bool:
        """:meth:`matches` on fields already normalised (every one of :data:`FIELDS`)."""
        return evaluate(self.root, lambda term: any(find_term(term, keys[name]) >= 0
                                                    for name in term.scope))


K = TypeVar("K")


def _ordered(terms: Iterable[Term]) -> tuple[Term, ...]:
    return tuple(sorted(set(terms), key=lambda term: (term.norm, term.text, term.field or "",
                                                      term.phrase)))


def _walk_terms(node: Node, positive: bool, want: bool | None) -> Iterator[Term]:
    if isinstance(node, Term):
        if want is None or want == positive:
            yield node
    elif isinstance(node, Not):
        yield from _walk_terms(node.child, not positive, want)
    else:
        for child in node.children:
            yield from _walk_terms(child, positive, want)


def _predicate(node: Node, key: Callable[[Term], K]) -> Callable[[AbstractSet[K]], bool]:
    """``node`` as a test of the present keys: :func:`evaluate` compiled for speed.

    The terms among a group's children become one set operation, and the common shapes
    avoid a generator: the matcher runs this for every candidate topic of every article
    (and its property tests compare it with :func:`evaluate`, the reference).
    """
    if isinstance(node, Term):
        one = key(node)
        return lambda present: one in present
    if isinstance(node, Not):
        inner = _predicate(node.child, key)
        return lambda present: not inner(present)
    keys = frozenset(key(child) for child in node.children if isinstance(child, Term))
    parts = tuple(_predicate(child, key) for child in node.children if not isinstance(child, Term))
    if isinstance(node, And):
        if not parts:
            return lambda present: keys <= present
        if len(parts) == 1:
            part = parts[0]
            return lambda present: keys <= present and part(present)
        return lambda present: keys <= present and all(part(present) for part in parts)
    if not parts:
        return lambda present: not keys.isdisjoint(present)
    if len(parts) == 1:
        part = parts[0]
        return lambda present: not keys.isdisjoint(present) or part(present)
    return lambda present: not keys.isdisjoint(present) or any(part(present) for part in parts)


def _requirements(node: Node) -> list[frozenset[Term]]:
    """Term sets such that ``node`` holds only if each set has a present term."""
    if isinstance(node, Term):
        return [frozenset((node,))]
    if isinstance(node, Not):
        return []  # an exclusion requires nothing to be present
    options = [_requirements(child) for child in node.children]
    if isinstance(node, And):
        return [requirement for option in options for requirement in option]
    if not all(options):  # an OR with a branch that requires nothing
        return []
    # An OR holds only if a branch does, so the union of the branches' best sets.
    return [frozenset().union(*(min(option, key=_rarity) for option in options))]


def _rarity(terms: frozenset[Term]) -> tuple[int, int, list[str]]:
    """Sort key preferring few terms, then long (likely rare) ones; deterministic."""
    names = sorted([f"{term.norm}:{term.field}" for term in terms])
    return len(names), -min([len(term.norm) for term in terms]), names


def _narrowing(node: Node) -> IndexCondition:
    """The index condition every article matching ``node`` satisfies."""
    if isinstance(node, Term):
        held = term_tokens(node.norm)  # what every text containing the term holds
        if node.field == "source" or not held:
            return EVERYTHING  # the outlet name is not indexed; "..." has no tokens
        mark = TITLE_MARK if node.field == "title" else ""
        return AllOf(tuple(mark + token for token in held))
    if isinstance(node, Not):
        return EVERYTHING  # the index cannot prove absence; the exact check does
    children = [_narrowing(child) for child in node.children]
    if isinstance(node, Or):
        if any(isinstance(child, Everything) for child in children):
            return EVERYTHING
        return AnyOf(tuple(children)) if len(children) > 1 else children[0]
    tokens = [token for child in children if isinstance(child, AllOf) for token in child.tokens]
    others: list[IndexCondition] = [c for c in children if isinstance(c, AnyOf | Both)]
    if tokens:
        others.insert(0, AllOf(tuple(dict.fromkeys(tokens))))
    if not others:
        return EVERYTHING
    return others[0] if len(others) == 1 else Both(tuple(others))


def evaluate(node: Node, present: Callable[[Term], bool]) -> bool:
    """The truth of ``node`` given which terms are present: the reference definition."""
    if isinstance(node, Term):
        return present(node)
    if isinstance(node, Not):
        return not evaluate(node.child, present)
    if isinstance(node, And):
        return all(evaluate(child, present) for child in node.children)
    return any(evaluate(child, present) for child in node.children)


def term_spans(term: Term, key: str, start: int = 0, first: bool = False
               ) -> list[tuple[int, int]]:
    """Spans of every occurrence of ``term`` in the normalised ``key`` from ``start``
    (overlapping ones included; only the first if ``first``): a plain substring search
    plus the word-boundary rule.  Loops rather than a generator: the matcher runs this
    for the hits of every match."""
    needle, left, right = term.norm, term.left, term.right
    size, spans = len(needle), []
    at = key.find(needle, start)
    if not (left or right):  # most terms (Chinese ones): every occurrence counts
        while at >= 0:
            spans.append((at, at + size))
            at = -1 if first else key.find(needle, at + 1)
        return spans
    while at >= 0:
        end = at + size
        if not ((left and at > 0 and is_word_char(key[at - 1]))
                or (right and end < len(key) and is_word_char(key[end]))):
            spans.append((at, end))
            if first:
                break
        at = key.find(needle, at + 1)
    return spans


def find_term(term: Term, key: str, start: int = 0) -> int:
    """Index of the first occurrence of ``term`` in ``key`` from ``start``, or -1."""
    found = term_spans(term, key, start, first=True)
    return found[0][0] if found else -1


# --------------------------------------------------------------------------------------
# Tokens

_Kind = Literal["word", "phrase", "lparen", "rparen", "or", "and", "not", "field", "alias"]
_OPERATORS: dict[str, _Kind] = {"OR": "or", "AND": "and", "NOT": "not"}
_PUNCTUATION: dict[str, _Kind] = {"(": "lparen", ")": "rparen", "|": "or"}
_STARTS_UNARY: frozenset[_Kind] = frozenset(("word", "phrase", "lparen", "not", "field", "alias"))


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    position: int
    text: str = ""  # the word, the phrase's content, the field or the topic name


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(query):
        char = query[index]
        if char.isspace():
            index += 1
        elif char in _PUNCTUATION:
            tokens.append(_Token(_PUNCTUATION[char], index))
            index += 1
        elif char in _CLOSING_QUOTE:
            token, index = _read_phrase(query, index)
            tokens.append(token)
        else:
            index = _read_word(query, index, tokens)
    return tokens


def _read_phrase(query: str, start: int) -> tuple[_Token, int]:
    closing = query.find(_CLOSING_QUOTE[query[start]], start + 1)
    if closing < 0:
        raise QuerySyntaxError(
            query,
            len(query),
            f"a closing {_CLOSING_QUOTE[query[start]]}",
            f"the phrase opened at position {start} is not closed",
        )
    return _Token("phrase", start, query[start + 1 : closing]), closing + 1


def _word_end(query: str, start: int) -> int:
    end = start
    while end < len(query) and not query[end].isspace() and query[end] not in _SPECIAL:
        end += 1
    return end


def _read_word(query: str, start: int, tokens: list[_Token]) -> int:
    """One word-like token (or a prefix token: -, @, field:); returns where it ends."""
    end = _word_end(query, start)
    word = query[start:end]
    if word in _OPERATORS:
        tokens.append(_Token(_OPERATORS[word], start))
        return end
    if word.startswith("-"):
        if len(query) == start + 1 or query[start + 1].isspace():
            raise QuerySyntaxError(query, start + 1, "a term right after '-'", "write -房产")
        tokens.append(_Token("not", start))
        return start + 1
    prefix, colon, _ = word.partition(":")
    if word.startswith("@") or (colon and prefix.lower() == "topic"):
        name_at = start + (1 if word.startswith("@") else len("topic:"))
        return _read_alias(query, start, name_at, tokens)
    if colon and prefix.lower() in FIELDS:
        after = start + len(prefix) + 1
        if after >= len(query) or query[after].isspace() or query[after] in "|)":
            raise QuerySyntaxError(query, after, f"a term, phrase or '(' after {prefix}:")
        tokens.append(_Token("field", start, prefix.lower()))
        return after
    tokens.append(_Token("word", start, word))
    return end


def _read_alias(query: str, start: int, name_at: int, tokens: list[_Token]) -> int:
    if name_at < len(query) and query[name_at] in _CLOSING_QUOTE:
        phrase, end = _read_phrase(query, name_at)
        name = phrase.text
    else:
        end = _word_end(query, name_at)
        name = query[name_at:end]
    if not name.strip():
        raise QuerySyntaxError(query, name_at, "a topic name", "as in topic:qingdao or @qingdao")
    tokens.append(_Token("alias", start, name))
    return end


# --------------------------------------------------------------------------------------
# The parser


def parse_query(
    text: str, aliases: Mapping[str, str] | None = None, name: str | None = None
) -> Plan:
    """Parse and compile a topic or search query; raises :class:`QuerySyntaxError` when
    malformed.

    ``aliases`` maps topic names to their queries for ``topic:NAME`` / ``@NAME``;
    ``name`` is the name of the topic being parsed, so that it cannot refer to itself.
    """
    plan = Plan.of(_Parser(text, aliases or {}, () if name is None else (name,)).parse())
    if evaluate(plan.root, lambda term: False):
        raise QuerySyntaxError(
            text,
            0,
            "at least one term that must be present",
            "a query made only of exclusions would match nearly every article",
        )
    return plan


class _Parser:
    def __init__(
        self,
        query: str,
        aliases: Mapping[str, str],
        expanding: tuple[str, ...],
        depth: int = 0,
        terms: list[int] | None = None,
    ):
        self.query = query
        self.aliases = aliases
        self.expanding = expanding  # alias names being expanded, outermost first
        self.tokens = _tokenize(query)
        self.index = 0
        self.depth = depth  # nesting levels open here (an expanded alias inherits its user's)
        self.terms = terms if terms is not None else [0]  # shared with expanded aliases

    def _enter(self, token: _Token) -> None:
        """One more level of nesting at ``token``; refused beyond MAX_NESTING."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self._error(token.position, f"at most {MAX_NESTING} nested levels",
                              "of '(' and NOT/'-'; simplify the query")

    def _error(self, position: int, expected: str, detail: str = "") -> QuerySyntaxError:
        """What to raise for this query at ``position``."""
        return QuerySyntaxError(self.query, position, expected, detail)

    def parse(self) -> Node:
        if not self.tokens:
            raise self._error(0, "a term", "the query is empty")
        node = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            detail = "this ')' closes nothing" if token.kind == "rparen" else ""
            raise self._error(token.position, "an operator or the end", detail)
        return node

    # Token helpers ------------------------------------------------------------------

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _here(self) -> int:
        token = self._peek()
        return token.position if token else len(self.query)

    def _starts_unary(self) -> bool:
        token = self._peek()
        return token is not None and token.kind in _STARTS_UNARY

    def _require_unary(self, after: str | None) -> None:
        if not self._starts_unary():
            expected = "a term or '('" + (f" after {after}" if after else "")
            raise self._error(self._here(), expected)

    # Grammar rules --------------------------------------------------------------------

    def _or(self) -> Node:
        children = [self._and()]
        while (token := self._peek()) is not None and token.kind == "or":
            self.index += 1
            self._require_unary("OR" if self.query[token.position] == "O" else "'|'")
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> Node:
        self._require_unary(None)
        children = [self._unary()]
        while True:
            token = self._peek()
            if token is not None and token.kind == "and":
                self.index += 1
                self._require_unary("AND")
            elif not self._starts_unary():
                break
            children.append(self._unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _unary(self) -> Node:
        token = self._peek()
        if token is not None and token.kind == "not":
            self.index += 1
            self._require_unary("NOT" if self.query[token.position] == "N" else "'-'")
            self._enter(token)
            child = self._unary()
            self.depth -= 1
            return Not(child)
        return self._primary()

    def _primary(self) -> Node:
        token = self._peek()
        assert token is not None  # callers check _starts_unary first
        self.index += 1
        if token.kind == "lparen":
            return self._group(token)
        if token.kind == "field":
            self._require_primary_after_field(token)
            return _scoped(self._primary(), token.text)  # type: ignore[arg-type]
        if token.kind == "alias":
            return self._expand(token)
        if token.kind == "not":
            raise self._error(token.position, "a term or '(' (not an exclusion)")
        return self._term(token)

    def _group(self, opening: _Token) -> Node:
        self._require_unary("'('")
        self._enter(opening)
        node = self._or()
        self.depth -= 1
        closing = self._peek()
        if closing is None or closing.kind != "rparen":
            raise self._error(self._here(), "')'",
                              f"to close the '(' at position {opening.position}")
        self.index += 1
        return node

    def _require_primary_after_field(self, field: _Token) -> None:
        token = self._peek()
        if token is None or token.kind not in ("word", "phrase", "lparen", "alias"):
            raise self._error(self._here(), f"a term, phrase or '(' after {field.text}:")

    def _term(self, token: _Token) -> Term:
        self.terms[0] += 1
        if self.terms[0] > MAX_TERMS:
            raise self._error(token.position, f"at most {MAX_TERMS} terms",
                              "split it into several topics")
        term = Term.of(token.text, phrase=token.kind == "phrase")
        if not term.norm.strip():
            expected = "text inside the quotes" if term.phrase else "a term with letters"
            raise self._error(token.position, expected)
        return term

    def _expand(self, token: _Token) -> Node:
        name = token.text
        if name in self.expanding:
            cycle = " -> ".join((*self.expanding[self.expanding.index(name) :], name))
            raise self._error(token.position, "a topic that does not refer back",
                              f"topic alias cycle: {cycle}")
        if name not in self.aliases:
            known = ", ".join(sorted(self.aliases)[:10]) or "none defined"
            raise self._error(token.position, "a known topic name",
                              f"unknown topic {name!r}; known: {known}")
        inner = _Parser(
            self.aliases[name], self.aliases, (*self.expanding, name), self.depth, self.terms
        )
        try:
            return inner.parse()
        except QuerySyntaxError as error:
            # Reported where the alias is used; the detail says where inside it failed.
            inner_detail = error.detail or f"expected {error.expected}"
            where = f"in topic {name!r} at position {error.position}"
            raise self._error(token.position, error.expected, f"{where}: {inner_detail}") from error


def _scoped(node: Node, field: Field) -> Node:
    """``field:`` applied to a term or group: terms without a scope of their own get it."""
    if isinstance(node, Term):
        return node if node.field is not None else replace(node, field=field)
    if isinstance(node, Not):
        return Not(_scoped(node.child, field))
    return type(node)(tuple(_scoped(child, field) for child in node.children))
