"""Named extraction rules, so each can be switched off and its worth measured.

Every heuristic that picks a field from a particular kind of evidence is named
here. ``bench/extraction.py --leave-one-out`` scores the corpus with and without
each rule, per source folder: a general rule must help at least two folders;
a rule that helps only one source belongs in :data:`SOURCE_OVERRIDES` (applied
only on that source's hosts) instead of running everywhere.

One exception, marked ``structural=True``: a body rule that reads only the shape of
the document (how much prose a box holds against its parent, a table right after a
line ending in 如下：) and no class name, host or site wording may run everywhere
with evidence from one site, provided it lowers no folder or site of the corpus. Pinning such a
rule to the one host where the corpus happens to show it would fit the corpus, not
the web; the bench prints these as "structural, one site" so the evidence stays
visible.

``rules_off`` turns rules off for the code run inside it (a context variable, so
concurrent extractions in other threads are unaffected).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    field: str  # the ExtractedArticle field it decides
    evidence: str  # what it reads, in a few words
    structural: bool = False  # reads document shape only (see the module docstring)


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("ld_body", "body", "JSON-LD/microdata articleBody when the DOM body is weak"),
    Rule("state_body", "body", "__NEXT_DATA__/__INITIAL_STATE__ article JSON when the DOM "
         "body is weak"),
    Rule("body_widen", "body", "an ancestor holding several times the chosen box's prose "
         "(a text split by tables) replaces the box", structural=True),
    Rule("prose_not_furniture", "body", "a furniture phrase inside running sentences "
         "(版权所有者…) does not make the paragraph furniture", structural=True),
    Rule("body_announced_table", "body", "the link-free table right after a text whose "
         "last line announces it (附：… / 如下：)", structural=True),
    Rule("ld_headline", "title", "JSON-LD/microdata headline among the title references"),
    Rule("title_not_site_name", "title",
         "og:site_name/publisher is the site's brand, not the headline"),
    Rule("source_declared", "source", "a source/publisher declared in meta or JSON-LD"),
    Rule("source_from_title", "source", "the site part of the document title as source"),
    Rule("source_reject_non_outlet", "source",
         "drop time words, bare regions and the headline offered as source"),
    Rule("author_meta", "author", "meta/JSON-LD/microdata author names"),
    Rule("author_body_head", "author", "a labelled credit in the first paragraphs"),
    Rule("author_body_end", "author", "a credit closing the text: （记者 X） 文/X 編輯：X"),
    Rule("author_tail_bracket", "author", "a bracketed name moved off the end of the text"),
    Rule("author_near_title", "author", "a name line just under the headline"),
)}

# Rules that help a single source only: host suffix -> rule names applied there.
# A rule listed here and not in RULES' general set runs only on those hosts.
SOURCE_OVERRIDES: dict[str, frozenset[str]] = {
    # a lone "（袁源）" line under the text: on the corpus it named the writer on one
    # site only, and read an excerpt mark ("（節錄）") as a name on another
    "bjmu.edu.cn": frozenset({"author_tail_bracket"}),
}
_HOST_ONLY = frozenset(name for names in SOURCE_OVERRIDES.values() for name in names)

_OFF: ContextVar[frozenset[str]] = ContextVar("newsmon_rules_off", default=frozenset())


class UnknownRuleError(ValueError):
    """A rule name that is not in :data:`RULES`."""


@contextmanager
def rules_off(names: Iterable[str]) -> Iterator[None]:
    """Run the enclosed extraction with ``names`` switched off."""
    wanted = frozenset(names)
    unknown = sorted(wanted - RULES.keys())
    if unknown:
        raise UnknownRuleError(f"unknown extraction rule(s): {', '.join(unknown)}")
    token = _OFF.set(_OFF.get() | wanted)
    try:
        yield
    finally:
        _OFF.reset(token)


def enabled(name: str, url: str = "") -> bool:
    """Whether rule ``name`` applies to a page at ``url``."""
    if name not in RULES:
        raise UnknownRuleError(f"unknown extraction rule: {name}")
    if name in _OFF.get():
        return False
    if name in _HOST_ONLY:
        host = (urlsplit(url).hostname or "").lower()
        return any((host == suffix or host.endswith("." + suffix)) and name in names
                   for suffix, names in SOURCE_OVERRIDES.items())
    return True
