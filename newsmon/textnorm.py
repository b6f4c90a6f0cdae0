"""Traditional/Simplified conversion and the script-blind matching key.

Three jobs live here: conversion, the matching key, and the index tokens a key is
stored under in the full-text index (the last section: :func:`document_tokens`,
:func:`term_tokens`).

**Conversion** -- :func:`to_simplified` and :func:`to_traditional` return exactly what
opencc-python-reimplemented (the design card's package) returns from
``OpenCC('t2s').convert`` / ``OpenCC('s2t').convert``, only faster (about 40x and 12x
on the corpus pages, see ``bench/matching.py``).  They are
built from that package's own config and dictionary files, read from its installed
directory on first use, and reproduce its algorithm, quirks included:

* the text is split on the package's separator regex (whitespace, ASCII and CJK
  punctuation); separators are copied, never converted;
* within each piece the phrase dictionary is applied first, *longest match anywhere,
  leftmost among equals*, then again to the text left and right of that match -- not a
  left-to-right greedy scan: with phrases ``AB`` and ``BCD`` in ``ABCD`` it takes ``BCD``;
* what no phrase covered goes through the character dictionary, one character at a time;
* a dictionary value listing several candidates ("干 乾") contributes its first one;
* a dictionary key that contains a separator can never match (the split removes it).

Here the phrase occurrences come from one Aho-Corasick pass over the whole text (a key
without separators cannot straddle two pieces, so pieces need not be cut out), the
"longest anywhere, then recurse" choice is made by taking occurrences in order of
(length desc, start) and keeping those that overlap nothing kept -- which picks the same
set -- and the character dictionary is one ``str.translate``.

**The matching key** -- :func:`normalize` turns any text, article or query, into the
form topics and search compare.  It is a per-character map followed by one rule:

1. every whitespace character becomes a space, and runs of spaces become one space;
2. format characters (zero-width space, soft hyphen, BOM, bidi marks), variation
   selectors and combining accents are dropped, so "Zu\u0308rich" = "Zürich" = "Zurich";
3. compatibility forms are unfolded as NFKC/NFKD does: full-width Ａ１（ become ``a1(``,
   ``…`` becomes ``...``, CJK compatibility ideographs become unified ideographs;
4. letters are case-folded (``AI`` = ``ai``; ``ß`` = ``ss``);
5. Traditional and Simplified forms of a character become one *representative*, the
   Simplified form (青島 → 青岛, 裏/裡/里 → 里, 著/着 → 着).  The forms of a character
   are its *variant class*: characters that the package's own t2s or s2t conversion
   turns into each other anywhere -- a character-table entry, or a phrase-table entry
   position by position (计划→計畫 puts 划 and 畫 in one class; 畫→画 adds 画) -- plus
   the Taiwan and Hong Kong forms in :data:`VARIANT_FOLDS` that no entry links;
6. lone surrogates become U+FFFD, so the key always encodes as UTF-8.

Why classes rather than simply the t2s output: conversion depends on context (t2s keeps
乾 in 乾隆 but makes it 干 in 乾燥; s2t writes 计划 as 計畫), so a term typed alone
could get another key than the same word inside an article.  Here every character is
mapped on its own, and the key of a text survives conversion in either direction::

    normalize(to_simplified(x)) == normalize(x) == normalize(to_traditional(x))

for every string (both conversions keep lengths, and every pair they exchange is one
class).  Every character of a key maps to itself, so ``normalize`` is idempotent and
*closed under substrings*: a piece cut from a key is its own key, so a term cut from an
article matches it, in either script.  The price: a few pairs of common characters that
some phrase exchanges share a key (画/划 from 計畫, 炼/链 from 項鍊, 沈/沉, 坐/座,
呆/待, 具/俱, 庇/蔽, 熏/薰), which only a one-character term can notice.

:func:`align` / :func:`normalize_with_offsets` also report, for each character of the key,
which character of the original it came from, so hits can be shown as written.
"""

from __future__ import annotations

import json
import operator
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ahocorasick_rs
import opencc

__all__ = [
    "ALL_MARK",
    "MAX_INDEXED_CHARS",
    "MAX_TERM_TOKENS",
    "MAX_WORD_CHARS",
    "PG_SEPARATOR_RANGES",
    "SEPARATOR_RANGES",
    "TITLE_MARK",
    "UNINDEXED_MARK",
    "VARIANT_FOLDS",
    "Alignment",
    "align",
    "document_tokens",
    "field_tokens",
    "is_gram_character",
    "normalize",
    "normalize_with_offsets",
    "term_tokens",
    "to_simplified",
    "to_traditional",
]

_OPENCC_DIR = Path(opencc.__file__).resolve().parent

#: Regional variant forms that no t2s/s2t dictionary entry pairs with their standard
#: form, so the derived variant classes (see the module docstring) would miss them.
#: Taken from the package's TWVariants/HKVariants tables (Taiwan and Hong Kong standard
#: forms) and the non-first candidates of STCharacters; each key is compared as its value.
VARIANT_FOLDS: dict[str, str] = {
    "祇": "只",  # STCharacters lists 祇 as a Traditional form of 只 (祇是)
    "牠": "它",  # Taiwan's animal "it"
    "簷": "檐",  # Taiwan 屋簷
    "痺": "痹",  # Taiwan 麻痺
    "睪": "睾",  # Taiwan 睪丸
    "衞": "衛",  # Hong Kong 保衞 (then 卫)
    "粧": "妝",  # Hong Kong 化粧 (then 妆)
    "敍": "敘",  # Hong Kong 敍述 (then 叙)
    "枱": "檯",  # Hong Kong 枱 (then 台)
    "糭": "糉",  # Hong Kong 糭子 (then 粽)
}

# Combining accents and selectors that carry no meaning for matching; a per-character
# map cannot compose "e" + U+0301 into "é", so accents are dropped on both sides instead.
_DROPPED_MARK_RANGES: tuple[tuple[int, int], ...] = (
    (0x0300, 0x036F),  # combining diacritical marks
    (0x1AB0, 0x1AFF),  # … extended
    (0x1DC0, 0x1DFF),  # … supplement
    (0x20D0, 0x20FF),  # … for symbols
    (0xFE20, 0xFE2F),  # combining half marks
    (0xFE00, 0xFE0F),  # variation selectors (emoji/CJK glyph choice)
    (0xE0100, 0xE01EF),  # ideographic variation selectors
    (0x180B, 0x180F),  # Mongolian free variation selectors
)

_SPACE_RUN_RE = re.compile(" {2,}")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


# --------------------------------------------------------------------------------------
# The package's dictionaries


def _read_opencc_dictionary(name: str) -> dict[str, list[str]]:
    """Key -> candidates, parsed the way the package parses (later duplicates win)."""
    mapping: dict[str, list[str]] = {}
    with (_OPENCC_DIR / "dictionary" / name).open(encoding="utf-8") as lines:
        for line in lines:
            key, value = line.strip().split("\t")
            mapping[key] = value.split(" ")
    return mapping


def _config_dictionaries(config_name: str) -> list[str]:
    """The dictionary files of a one-group conversion chain, in the order applied."""
    path = _OPENCC_DIR / "config" / f"{config_name}.json"
    chain = json.loads(path.read_text(encoding="utf-8"))["conversion_chain"]
    if len(chain) != 1 or chain[0]["dict"].get("type") != "group":
        raise ValueError(f"{path}: only a single dictionary group is supported")
    files = [entry["file"] for entry in chain[0]["dict"]["dicts"]]
    if len(files) != 2:
        raise ValueError(f"{path}: expected a phrase and a character dictionary, got {files}")
    return files


@cache
def _separator_re() -> re.Pattern[str]:
    """The package's own piece separator regex (its instances build it in __init__)."""
    pattern: re.Pattern[str] = opencc.OpenCC().split_chars_re
    return pattern


def _holds_separator(key: str) -> bool:
    return _separator_re().search(key) is not None


# --------------------------------------------------------------------------------------
# Conversion identical to OpenCC(config).convert


class _OpenccConverter:
    """``OpenCC(config).convert`` for configs made of a phrase and a character table."""

    def __init__(self, config_name: str) -> None:
        phrase_file, char_file = _config_dictionaries(config_name)
        phrases = {
            key: values[0]
            for key, values in _read_opencc_dictionary(phrase_file).items()
            if not _holds_separator(key)  # such a key can never reach the lookup
        }
        chars = {
            key: values[0]
            for key, values in _read_opencc_dictionary(char_file).items()
            if not _holds_separator(key)
        }
        if any(len(key) != 1 or len(value) != 1 for key, value in chars.items()):
            raise ValueError(f"{char_file}: expected single characters on both sides")
        self._phrase_values = list(phrases.values())
        self._phrases = ahocorasick_rs.AhoCorasick(list(phrases)) if phrases else None
        self.char_table = _char_table(chars)

    def convert(self, text: str) -> str:
        """The package's convert(): phrases longest-first, then characters."""
        translated = text.translate(self.char_table)  # keeps length: 1 char -> 1 char
        if self._phrases is None:
            return translated
        chosen = _longest_first(_find_overlapping(self._phrases, text))
        if not chosen:
            return translated
        pieces: list[str] = []
        done = 0
        for pattern, start, end in chosen:
            pieces.append(translated[done:start])
            pieces.append(self._phrase_values[pattern])
            done = end
        pieces.append(translated[done:])
        return "".join(pieces)


def _char_table(chars: dict[str, str]) -> list[int | str]:
    """A ``str.translate`` table indexed by code point (faster than a dict).

    Code points past the end raise IndexError, which translate treats as "unchanged".
    """
    table: list[int | str] = list(range(max(map(ord, chars), default=-1) + 1))
    for key, value in chars.items():
        table[ord(key)] = value
    return table


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _find_overlapping(
    automaton: ahocorasick_rs.AhoCorasick, text: str
) -> list[tuple[int, int, int]]:
    """Every occurrence of every pattern; text with lone surrogates is searched too."""
    try:
        return automaton.find_matches_as_indexes(text, overlapping=True)
    except UnicodeEncodeError:
        # Lone surrogates cannot cross into Rust; NUL is in no pattern, so swapping them
        # for it keeps every position and every match.
        return automaton.find_matches_as_indexes(_SURROGATE_RE.sub("\x00", text), overlapping=True)


def _longest_first(occurrences: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The occurrences the package's parse tree keeps, sorted by start.

    The package takes the longest match anywhere in a piece (leftmost among equals) and
    repeats on the text either side.  Taking occurrences in (length desc, start) order
    and keeping each that overlaps nothing kept selects the same set; occurrences are
    first grouped into runs that overlap each other, since runs cannot interact.
    """
    occurrences.sort(key=lambda occ: (occ[1], occ[2]))
    chosen: list[tuple[int, int, int]] = []
    run: list[tuple[int, int, int]] = []
    run_end = -1
    for occ in occurrences:
        if occ[1] >= run_end:
            _keep_longest(run, chosen)
            run = [occ]
            run_end = occ[2]
        else:
            run.append(occ)
            run_end = max(run_end, occ[2])
    _keep_longest(run, chosen)
    return chosen


def _keep_longest(run: list[tuple[int, int, int]], chosen: list[tuple[int, int, int]]) -> None:
    if len(run) <= 1:
        chosen.extend(run)
        return
    starts: list[int] = []  # kept intervals, sorted and disjoint
    ends: list[int] = []
    kept: list[tuple[int, int, int]] = []
    for occ in sorted(run, key=lambda o: (o[1] - o[2], o[1])):
        _, start, end = occ
        slot = bisect_right(starts, start)
        if slot > 0 and ends[slot - 1] > start:
            continue  # overlaps the kept interval starting before it
        if slot < len(starts) and starts[slot] < end:
            continue  # overlaps the kept interval starting after it
        starts.insert(slot, start)
        ends.insert(slot, end)
        kept.insert(slot, occ)
    chosen.extend(kept)


@cache
def _converter(config_name: str) -> _OpenccConverter:
    return _OpenccConverter(config_name)


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, identical to ``opencc.OpenCC('t2s').convert(text)``."""
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    """Simplified -> Traditional, identical to ``opencc.OpenCC('s2t').convert(text)``."""
    return _converter("s2t").convert(text)


# --------------------------------------------------------------------------------------
# The matching key


def _is_dropped(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return True
    if category not in ("Mn", "Me"):  # every dropped mark and selector is one of these
        return False
    code = ord(char)
    return any(low <= code <= high for low, high in _DROPPED_MARK_RANGES)


def _fold_step(char: str, variants: dict[str, str]) -> str:
    """One round of the per-character rules (the module docstring lists them)."""
    variant = variants.get(char, char)
    if variant != char:
        return variant
    if char.isspace():
        return " "
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"
    if _is_dropped(char):
        return ""
    unfolded = unicodedata.normalize("NFKD", char.casefold())
    return "".join(part for part in unfolded if not _is_dropped(part))


def _fold_char(char: str, variants: dict[str, str]) -> str:
    """The rules applied until nothing changes, so every output character is final."""
    current = char
    for _ in range(10):
        following = "".join(_fold_step(part, variants) for part in current)
        if following == current:
            return current
        current = following
    raise RuntimeError(f"normalisation of U+{ord(char):04X} does not settle")


def _variant_representatives() -> dict[str, str]:
    """Rule 5: each character of a variant class -> the class's representative.

    Two characters are in one class when a t2s or s2t conversion turns one into the
    other: a character dictionary entry, a phrase dictionary entry position by position
    (計畫→计划 pairs 畫 with 划), or a :data:`VARIANT_FOLDS` entry; classes are closed
    under these links.  The representative is the Simplified character the t2s character
    table gives for most members (画 for 畫/畵/劃/划/画/㓰); ties go to a character that is
    not a :data:`VARIANT_FOLDS` key, then to the lowest code point.
    """
    t2s_chars = {
        key: values[0] for key, values in _read_opencc_dictionary("TSCharacters.txt").items()
    }
    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while (up := parent.get(char, char)) != char:
            parent[char] = parent.get(up, up)  # path halving keeps the chains short
            char = up
        return char

    for name in ("TSCharacters.txt", "STCharacters.txt", "TSPhrases.txt", "STPhrases.txt"):
        for key, values in _read_opencc_dictionary(name).items():
            if _holds_separator(key):
                continue  # never converted, see the conversion notes
            for before, after in zip(key, values[0], strict=True):
                parent[root(before)] = root(after)
    for before, after in VARIANT_FOLDS.items():
        parent[root(before)] = root(after)
    classes: dict[str, list[str]] = {}
    for char in {*parent, *parent.values()}:  # roots appear only as values
        classes.setdefault(root(char), []).append(char)
    representatives: dict[str, str] = {}
    for members in classes.values():
        votes = [_t2s_closure(member, t2s_chars) for member in members]
        best = min(
            set(votes), key=lambda char: (-votes.count(char), char in VARIANT_FOLDS, ord(char))
        )
        representatives.update((member, best) for member in members if member != best)
    return representatives


def _t2s_closure(char: str, t2s_chars: dict[str, str]) -> str:
    """The t2s character table applied until it stops (薴→苧→苎)."""
    seen = {char}
    while (char := t2s_chars.get(char, char)) not in seen:
        seen.add(char)
    return char


@cache
def _fold_astral(char: str) -> str:
    """Characters beyond the BMP are rare in news text: folded when first met."""
    return _fold_char(char, _fold_tables().variants)


@dataclass(frozen=True, slots=True)
class _FoldTables:
    bmp: list[int | str]  # translate table for U+0000..U+FFFF
    variants: dict[str, str]
    # Where the key stops being one character per character (see _stretches), over BMP
    # characters: the classes are kept to the BMP so that the regex engine uses a bitmap.
    # ``stretch_re`` finds the first character of a stretch -- one whose key is not
    # exactly one character, or a space-to-be followed by a widening character (one that
    # becomes a space or not exactly one character); ``widening_re`` runs to its end.
    stretch_re: re.Pattern[str]
    widening_re: re.Pattern[str]


@cache
def _fold_tables() -> _FoldTables:
    """Built once, on first use (about 0.3 s): the whole BMP is folded up front."""
    variants = _variant_representatives()
    bmp: list[int | str] = list(range(0x10000))
    irregular: list[str] = []
    spaces: list[str] = []
    for code in range(0x10000):
        char = chr(code)
        if char not in variants and _is_plain(char):
            continue
        folded = _fold_char(char, variants)
        if folded != char:
            bmp[code] = folded
        if len(folded) != 1:
            irregular.append(char)
        elif folded == " ":
            spaces.append(char)
    irregular_class, widening_class = _char_class(irregular), _char_class(irregular + spaces)
    return _FoldTables(
        bmp=bmp,
        variants=variants,
        # (a widening character that is irregular or followed by another: the plain
        # alternative "[irregular]|[spaces][widening]" is three times slower in sre)
        stretch_re=re.compile(
            f"[{widening_class}](?:(?<=[{irregular_class}])|(?=[{widening_class}]))"
        ),
        widening_re=re.compile(f"[{widening_class}]*"),
    )


def _is_plain(char: str) -> bool:
    """True for the bulk of the BMP that no rule but 5 can touch (a shortcut, not a rule)."""
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:  # CJK unified ideographs
        return True
    return (
        not char.isspace()
        and unicodedata.category(char) not in ("Cf", "Mn", "Me", "Cs")
        and char.casefold() == char
        and unicodedata.is_normalized("NFKD", char)
    )


def _char_class(chars: Iterable[str]) -> str:
    """A regex character class body listing ``chars`` as escaped ranges."""
    codes = sorted(map(ord, chars))
    parts: list[str] = []
    index = 0
    while index < len(codes):
        first = last = codes[index]
        while index + 1 < len(codes) and codes[index + 1] == last + 1:
            index += 1
            last = codes[index]
        parts.append(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}")
        index += 1
    return "".join(parts)


def _fold_chars(text: str) -> str:
    """Rules 2-6: the per-character map (whitespace becomes single spaces, not yet merged)."""
    tables = _fold_tables()
    folded = text.translate(tables.bmp)
    if _ASTRAL_RE.search(folded):
        folded = _ASTRAL_RE.sub(lambda match: _fold_astral(match.group()), folded)
    return folded


def _merge_spaces(text: str) -> str:
    return _SPACE_RUN_RE.sub(" ", text) if "  " in text else text


def normalize(text: str) -> str:
    """The matching key of ``text`` (see the module docstring); idempotent."""
    return _merge_spaces(_fold_chars(text))


@dataclass(frozen=True, slots=True)
class Alignment:
    """A normalised text and the way back to the original it came from.

    Positions are mapped through two piecewise-linear maps kept as breakpoints: key
    position -> position before spaces were merged -> original position.  Between
    breakpoints the characters correspond one to one.
    """

    text: str
    _merged_at: Sequence[int]  # breakpoints in ``text``
    _unmerged_at: Sequence[int]  # … and where each lies before spaces were merged
    _folded_at: Sequence[int]  # breakpoints in the text before spaces were merged
    _original_at: Sequence[int]  # … and where each lies in the original

    @property
    def one_to_one(self) -> bool:
        """True when every key character sits at the same index in the original."""
        return not self._folded_at and not self._merged_at

    def original_index(self, position: int) -> int:
        """Index of the original character that key character ``position`` came from."""
        # Through the two maps, each a breakpoint search: this runs for every hit reported.
        merged_at = self._merged_at
        if merged_at:
            slot = bisect_right(merged_at, position) - 1
            if slot >= 0:
                position += self._unmerged_at[slot] - merged_at[slot]
        folded_at = self._folded_at
        if folded_at:
            slot = bisect_right(folded_at, position) - 1
            if slot >= 0:
                position += self._original_at[slot] - folded_at[slot]
        return position

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span ``[start, end)`` of the key was made from (whole characters)."""
        if end <= start:
            at = self.original_index(start)
            return at, at
        return self.original_index(start), self.original_index(end - 1) + 1

    def offsets(self) -> list[int]:
        """For each key character, the index of its original character."""
        return [self.original_index(position) for position in range(len(self.text))]


def align(text: str, key: str | None = None) -> Alignment:
    """Normalise ``text`` and keep the way back to it (for hits shown as written).

    Pass ``key`` when ``normalize(text)`` is already at hand; the map back is then found
    from the few characters whose key is not one character of their own (``…``, zero-width
    spaces, runs of whitespace) without normalising again.
    """
    tables = _fold_tables()
    text_key = normalize(text) if key is None else key
    folded_at: list[int] = []  # stage 1: characters -> their keys, spaces not yet merged
    original_at: list[int] = []
    merged_at: list[int] = []  # stage 2: runs of spaces merged
    unmerged_at: list[int] = []
    shift = 0  # stage-1 position minus original position, so far
    removed = 0  # stage-1 position minus key position, so far
    stretches = _stretches(text, tables)
    for start, end in stretches:
        stretch_at = start + shift
        pieces: list[str] = []
        for index in range(start, end):
            folded = _fold_one(text[index], tables)
            if len(folded) != 1:
                for offset in range(len(folded)):  # each expanded character points at its source
                    folded_at.append(index + shift + offset)
                    original_at.append(index)
                folded_at.append(index + shift + len(folded))  # then one to one again
                original_at.append(index + 1)
                shift += len(folded) - 1
            pieces.append(folded)
        for run in _SPACE_RUN_RE.finditer("".join(pieces)):
            run_start, run_end = stretch_at + run.start(), stretch_at + run.end()
            merged_at.extend((run_start - removed, run_start - removed + 1))
            unmerged_at.extend((run_start, run_end))
            removed += run_end - run_start - 1
    return Alignment(text_key, merged_at, unmerged_at, folded_at, original_at)


def _stretches(text: str, tables: _FoldTables) -> list[tuple[int, int]]:
    """Spans whose key is not simply one character per character, in order.

    A stretch is a maximal run of *widening* characters (that become a space or not
    exactly one character) holding at least one of the latter or two of the former;
    outside the stretches the key is aligned one to one with the text.  The first
    character of a stretch is the first that either is irregular or becomes a space and
    is followed by a widening character, so one regex search finds it, without looking
    back; characters beyond the BMP are not in the regexes' classes and take the slow way.
    """
    if len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text):  # quicker than a regex
        return _stretches_beyond_bmp(text, tables)
    stretches: list[tuple[int, int]] = []
    find, widening = tables.stretch_re.search, tables.widening_re.match
    found = find(text)
    while found is not None:
        start = found.start()
        run = widening(text, start)  # always matches: at least the character found
        end = run.end() if run is not None else start + 1
        stretches.append((start, end))
        found = find(text, end)
    return stretches


def _stretches_beyond_bmp(text: str, tables: _FoldTables) -> list[tuple[int, int]]:
    """:func:`_stretches` for text with characters beyond the BMP, a character at a time
    around every such character and every BMP stretch start."""
    seeds = [match.start() for match in _ASTRAL_RE.finditer(text)]
    seeds += [match.start() for match in tables.stretch_re.finditer(text)]
    stretches: list[tuple[int, int]] = []
    for seed in sorted(seeds):
        if stretches and seed < stretches[-1][1]:
            continue
        floor = stretches[-1][1] if stretches else 0
        start, end = seed, seed + 1
        while start > floor and _widens(text[start - 1], tables):
            start -= 1
        while end < len(text) and _widens(text[end], tables):
            end += 1
        stretches.append((start, end))
    return stretches


def _widens(char: str, tables: _FoldTables) -> bool:
    folded = _fold_one(char, tables)
    return folded == " " or len(folded) != 1


def _fold_one(char: str, tables: _FoldTables) -> str:
    code = ord(char)
    if code > 0xFFFF:
        return _fold_astral(char)
    entry = tables.bmp[code]
    return chr(entry) if isinstance(entry, int) else entry


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The key of ``text`` and, for each key character, the index of its source character."""
    alignment = align(text)
    return alignment.text, alignment.offsets()


# --------------------------------------------------------------------------------------
# Index tokens: what the full-text index stores of a key, and what a term needs there
#
# Chinese has no spaces, and the usual tokenizers either keep a whole run of hanzi as one
# "word" or cut it into trigrams, which cannot serve the 1- and 2-character terms people
# search for most (青岛, 上合, 疫). So the index holds, for the normalised title and body:
#
# * every character bigram of every run of gram characters (青岛市 -> 青岛 岛市),
# * for 1-character terms, every single character of those runs on SQLite; on PostgreSQL
#   only the last character of each run (``every_character=False``): a character either
#   starts a stored bigram or ends its run, so the prefix query ``'X':*`` finds it;
# * every Latin word, a maximal run of ``[0-9a-z]`` (cut to :data:`MAX_WORD_CHARS`),
# * the same from the title again, each prefixed by :data:`TITLE_MARK` (``title:``),
# * :data:`ALL_MARK` in every article, and nothing but it and :data:`UNINDEXED_MARK` for
#   an article longer than :data:`MAX_INDEXED_CHARS` (a ``tsvector`` holds 1 MB at most).
#
# Characters fall in three classes, by code point ranges, so that the PostgreSQL function
# of migration 0003 spells the same rule without depending on the server's locale:
# word ``[0-9a-z]``; separator (:data:`SEPARATOR_RANGES`: other ASCII, Latin-1
# punctuation, combining marks, general punctuation and symbols, CJK punctuation,
# full-width forms, private use); gram: everything else (hanzi, kana, hangul, Cyrillic …).
#
# A term's tokens (:func:`term_tokens`) are tokens of every text containing the term: a
# gram run of the term lies inside one of the text; a word run of the term is a whole
# word of the text, bounded inside the term by non-word characters and at its ends by
# the query language's word-boundary rule (every ``[0-9a-z]`` is a word character there).

TITLE_MARK = "\ue000"  # private use: a separator, so no text token contains these
ALL_MARK = "\ue001"
UNINDEXED_MARK = "\ue002"
MAX_WORD_CHARS = 64
MAX_INDEXED_CHARS = 50_000
MAX_TERM_TOKENS = 64  # any subset of a term's tokens still narrows correctly

SEPARATOR_RANGES = (
    "\\x00-\\x2f\\x3a-\\x60\\x7b-\\xbf\\xd7\\xf7\\u02b0-\\u036f\\u2000-\\u2bff"
    "\\u2e00-\\u2e7f\\u3000-\\u3004\\u3008-\\u3020\\u3030\\u303d-\\u303f\\u30fb"
    "\\ufe10-\\ufe1f\\ufe30-\\ufe6f\\uff00-\\uffff\\ud800-\\udfff\\ue000-\\uf8ff"
)
# The same class for PostgreSQL's regexes: its text holds neither NUL nor surrogates.
PG_SEPARATOR_RANGES = SEPARATOR_RANGES.replace("\\x00-", "\\x01-").replace(
    "\\ud800-\\udfff", "")
# One pass finds both kinds of run: group 1 a word, group 2 a run of gram characters.
_RUNS = re.compile(f"([0-9a-z]+)|([^0-9a-z{SEPARATOR_RANGES}]+)")


def field_tokens(text: str, *, every_character: bool = True) -> str:
    """The index tokens of one normalised field, space-separated (repeats left in).

    Built with C-level joins rather than a set: this runs on every article write, and
    FTS5 and ``tsvector`` ignore a repeated token anyway.
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

    SQLite's index stores this; PostgreSQL's function (migrations 0003, 0007) computes it
    with ``every_character=False``.
    """
    if len(title_norm) + len(body_norm) > MAX_INDEXED_CHARS:
        return f"{ALL_MARK} {UNINDEXED_MARK}"
    title = field_tokens(title_norm, every_character=every_character)
    marked = " ".join(TITLE_MARK + token for token in title.split())
    body = field_tokens(body_norm, every_character=every_character)
    return " ".join(part for part in (ALL_MARK, body, title, marked) if part)


def term_tokens(norm: str) -> tuple[str, ...]:
    """Tokens every text containing the normalised term ``norm`` has (maybe none)."""
    tokens: list[str] = []
    for word, grams in _RUNS.findall(norm):
        if word:
            tokens.append(word[:MAX_WORD_CHARS])
        elif len(grams) == 1:
            tokens.append(grams)
        else:
            tokens.extend(map(operator.add, grams, grams[1:]))
    return tuple(dict.fromkeys(tokens))[:MAX_TERM_TOKENS]


def is_gram_character(token: str) -> bool:
    """Whether ``token`` is one gram character (PostgreSQL keeps it only where a run ends)."""
    run = _RUNS.fullmatch(token) if len(token) == 1 else None
    return run is not None and run.group(2) is not None
