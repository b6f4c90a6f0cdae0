"""Turn the raw bytes of a fetched page into text, whatever the site claims.

Order of evidence: a byte-order mark, the HTTP ``Content-Type`` charset, then the
page's own ``<meta charset>`` / ``http-equiv`` / XML declaration. Chinese sites
often lie: pages declared GB2312 were re-saved as UTF-8, GB2312 pages use GBK or
GB18030 characters, Big5 pages carry stray bytes of another encoding. So the
declared charset is only a first guess: when its decode shows replacement
characters or implausible CJK, the other usual encodings are tried and the
cleanest, most plausible text wins. GB2312/GBK are always read as GB18030 (a
superset) and Big5 as Big5-HKSCS, so no valid character is lost.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import re
from dataclasses import dataclass

# How far into the page a <meta charset> is looked for; browsers use 1024 bytes,
# but old Chinese pages put long comments and scripts first.
_SNIFF_BYTES = 16384

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.\-]+)""")
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)

# Superset codecs: decoding with these never loses characters the subset has.
_SUPERSET = {
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "hz": "hz",
    "big5": "big5hkscs", "big5hkscs": "big5hkscs", "cp950": "big5hkscs",
    "ascii": "utf-8", "utf-8": "utf-8", "latin-1": "cp1252", "iso8859-1": "cp1252",
    "cp1252": "cp1252",
}
_FALLBACKS = ("utf-8", "gb18030", "big5hkscs")
_MIN_SAMPLE = 20  # CJK characters needed before plausibility is judged
# The characters plausibility is judged on: CJK ideographs (extension A, unified,
# compatibility, beyond the BMP) and the private use area, where mis-decodes land.
_JUDGED_CJK = re.compile("[\u3400-\u9fff\ue000-\ufaff\U00010000-\U0010ffff]+")
_CONTROL_BYTES = bytes((*range(0, 9), *range(14, 32)))  # not tab, LF, VT, FF, CR
_BEYOND_TWO_BYTES = re.compile("[\u0800-\U0010ffff]")  # 3- and 4-byte UTF-8 sequences
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class DecodedPage:
    """The page as text, with the charset it declared and the one actually used."""

    text: str
    declared: str | None
    used: str
    warnings: tuple[str, ...] = ()


def decode_html(raw: bytes, content_type: str | None = None) -> DecodedPage:
    """Decode page bytes to text; never raises (undecodable bytes become U+FFFD)."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return DecodedPage(raw[len(bom):].decode(codec, "replace"),
                               declared=codec, used=codec)
    declared = declared_charset(raw, content_type)
    first = canonical_codec(declared) if declared else None
    if first == "utf-16":  # a <meta> cannot truthfully say this in an ASCII-readable page
        first = None
    if first is not None and not raw.isascii():
        first_text, first_bad = _decode_counting(raw, first)
        if first_bad == 0 and first != "utf-8" and _looks_like_utf8(raw):
            # GB/Big5 byte pairs can accidentally cover UTF-8 sequences; valid UTF-8
            # with multibyte runs is almost never a legacy encoding.
            return _choose(raw, declared, ("utf-8", first), "declared charset is wrong")
        if first_bad == 0 and _implausibility(first_text) == 0:
            return DecodedPage(first_text, declared=declared, used=first)
        return _choose(raw, declared, (first, *_FALLBACKS), "declared charset is wrong")
    if first is not None:
        return DecodedPage(raw.decode(first, "replace"), declared=declared, used=first)
    return _choose(raw, declared, _FALLBACKS, None)


def looks_binary(raw: bytes) -> bool:
    """Control bytes that no text page contains (images, archives, PDFs)."""
    head = raw[:8192]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return bool(head) and controls * 100 > len(head)


def declared_charset(raw: bytes, content_type: str | None = None) -> str | None:
    """The charset named by the HTTP header, else the XML declaration or <meta>."""
    if content_type:
        header = _HEADER_CHARSET.search(content_type)
        if header:
            return header.group(1).lower()
    head = raw[:_SNIFF_BYTES]
    found = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if found:
        return found.group(1).decode("ascii", "replace").lower()
    return None


@functools.lru_cache(maxsize=64)
def canonical_codec(label: str) -> str | None:
    """Python codec for a charset label, widened to its superset; None if unknown."""
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        aliases = {"x-gbk": "gbk", "gb_2312-80": "gb2312", "x-big5": "big5",
                   "big5-hkscs": "big5hkscs", "unicode": "utf-8", "utf8": "utf-8"}
        alias = aliases.get(label.strip().lower())
        if alias is None:
            return None
        name = codecs.lookup(alias).name
    return _SUPERSET.get(name, name)


def _decode_counting(raw: bytes, codec: str) -> tuple[str, int]:
    try:
        return raw.decode(codec), 0
    except UnicodeDecodeError:
        text = raw.decode(codec, "replace")
        return text, text.count("\ufffd")
    except LookupError:
        return raw.decode("utf-8", "replace"), len(raw)


def _looks_like_utf8(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    wide = _BEYOND_TWO_BYTES.finditer(text)
    return next(wide, None) is not None and next(wide, None) is not None


def _choose(raw: bytes, declared: str | None, codecs_to_try: tuple[str, ...],
            reason: str | None) -> DecodedPage:
    """Decode with each candidate and keep the cleanest, most plausible text."""
    best: tuple[float, str, str] | None = None
    seen: set[str] = set()
    for codec in codecs_to_try:
        if codec in seen:
            continue
        seen.add(codec)
        text, bad = _decode_counting(raw, codec)
        score = bad * 10 + _implausibility(text) + (0 if codec == codecs_to_try[0] else 1)
        if best is None or score < best[0]:
            best = (score, codec, text)
        if bad == 0 and score <= 1:
            break
    assert best is not None
    _score, used, text = best
    warnings: tuple[str, ...] = ()
    declared_codec = canonical_codec(declared) if declared else None
    if reason and used != declared_codec:
        warnings = (f"{reason}: declared {declared}, decoded as {used}",)
    if "\ufffd" in text:
        warnings += (f"{text.count(chr(0xFFFD))} undecodable byte sequences replaced",)
    return DecodedPage(text, declared=declared, used=used, warnings=warnings)


def _implausibility(text: str) -> float:
    """How many CJK characters of a sample are outside the common ones, beyond a margin.

    Mis-decoded bytes land on rare characters (and in the private use area); real
    Chinese text is overwhelmingly made of the few thousand common ones. Counted with
    regular expressions: a loop over every character of a page costs milliseconds.
    """
    judged = "".join(_JUDGED_CJK.findall(text, 0, 200000))
    total = len(judged)
    if total < _MIN_SAMPLE:
        return 0.0  # too little text to tell a rare word from a mis-decode
    rare = len(_common_cjk_re().sub("", judged))
    excess = rare / total - 0.12
    return max(0.0, excess) * 100


@functools.cache
def _common_cjk_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(sorted(_common_cjk())) + "]+")


@functools.cache
def _common_cjk() -> frozenset[str]:
    """GB2312 level 1+2 and Big5 frequent characters: the everyday Han repertoire."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):  # GB2312 level 1: the 3755 frequent hanzi
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode("gb2312"))
    for lead in range(0xA4, 0xC7):  # Big5 level 1: the 5401 frequent hanzi
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode("big5"))
    return frozenset(chars)
