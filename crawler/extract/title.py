"""Pick the headline: the visible heading that the document title agrees with.

``<title>`` carries the headline plus site and channel names; ``<h1>`` is sometimes
the site logo; ``og:title`` is sometimes the site name. So each visible heading
candidate is scored by how well it is confirmed by the document / meta titles, by
tag, and by length; when no heading is confirmed, the longest segment of the
document title (split at the usual `` - ``, ``_``, ``|`` separators) is used.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from newsmon.crawler.extract.blocks import HEADING_TAGS, Block

_SEPARATORS = re.compile(r"\s+[-–—|｜_·:]+\s+|\s*[|｜_]+\s*|--+|——|\s+-\s*|\s*-\s+|\s*»\s*")
_TITLE_HINT = re.compile(r"title|headline|tit\b|tit_|_tit|biaoti|bt\b|subject|heading|topic",
                         re.IGNORECASE)
_TAG_BONUS = {"h1": 30.0, "h2": 18.0, "h3": 10.0, "h4": 4.0, "h5": 2.0, "h6": 1.0}


@dataclass(frozen=True, slots=True)
class TitleChoice:
    """The headline text and the block it was read from (None if from metadata)."""

    text: str
    block: Block | None
    confirmed: bool = False  # a visible heading that the document/meta titles agree with


def squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def choose_title(blocks: list[Block], document_title: str, meta_titles: list[str],
                 site_names: tuple[str, ...] = ()) -> TitleChoice:
    """The headline, from visible headings confirmed by the document or meta titles.

    ``site_names`` (og:site_name, the JSON-LD publisher) are the site's brand: a logo
    block reading so is not the headline, nor is that part of a ``headline - site`` title.
    """
    references = [squash(t) for t in [document_title, *meta_titles] if t and t.strip()]
    brands = {squash(n) for n in site_names if n and n.strip()}
    best: tuple[float, Block] | None = None
    for block in blocks:
        if not 2 <= block.chars <= 120 or squash(block.text) in brands:
            continue
        score = _candidate_score(block, references)
        if score > 0 and (best is None or score > best[0]):
            best = (score, block)
    if best is not None:
        return TitleChoice(best[1].text, best[1], confirmed=best[1].chars >= 6)
    for title in (*meta_titles, document_title):
        cleaned = strip_site_name(title, site_names)
        if cleaned and squash(cleaned) not in brands:
            return TitleChoice(cleaned, None)
    return TitleChoice("", None)


def strip_site_name(title: str, site_names: tuple[str, ...] = ()) -> str:
    """The headline part of a ``headline - channel - site`` document title: the longest
    part that is not one of ``site_names``."""
    title = " ".join(title.split())
    brands = {squash(n) for n in site_names if n and n.strip()}
    parts = [p.strip() for p in _SEPARATORS.split(title) if p and p.strip()]
    parts = [p for p in parts if squash(p) not in brands] or parts
    if not parts:
        return title
    return max(parts, key=lambda p: len(squash(p)))


def _candidate_score(block: Block, references: list[str]) -> float:
    text = squash(block.text)
    if len(text) < 2:
        return 0.0
    confirmed = 0.0
    for ref in references:
        if not ref:
            continue
        if text == ref:
            confirmed = max(confirmed, 60.0)
        elif text in ref:
            coverage = len(text) / len(ref)
            confirmed = max(confirmed, 20.0 + 40.0 * coverage if len(text) >= 4 else 5.0)
        elif len(ref) >= 6 and ref in text and len(text) <= len(ref) * 2:
            confirmed = max(confirmed, 35.0)
    if confirmed == 0.0:
        return 0.0
    bonus = _TAG_BONUS.get(block.tag, 0.0)
    owner = block.owner
    hint = f"{owner.get('class', '')} {owner.get('id', '')}"
    if bonus == 0.0 and _TITLE_HINT.search(hint):
        bonus = 12.0
    if block.tag not in HEADING_TAGS and block.link_density > 0.8:
        bonus -= 10.0
    return confirmed + bonus + min(len(text), 40) * 0.5


def fallback_title(blocks: list[Block], body_start: int, current: TitleChoice,
                   site_names: tuple[str, ...] = ()) -> TitleChoice:
    """A headline-looking block just above the body when no heading was confirmed.

    Blogs and forums often title the page with the site name only; the post's own
    title is then the short, unpunctuated line right before the text (never the
    site's own name, a logo line).
    """
    brands = {squash(n) for n in site_names if n and n.strip()}
    for block in reversed(blocks[max(0, body_start - 4):body_start + 1]):
        text = block.text
        if not 4 <= block.chars <= 60 or block.link_density > 0.5 or squash(text) in brands:
            continue
        if _DATE_OR_LABEL.search(text) or text.endswith(("。", "：", ":")):
            continue
        if block.tag in HEADING_TAGS or block.punct <= 3:
            return TitleChoice(text, block)
    return current


_DATE_OR_LABEL = re.compile(
    r"\d{4}\s*[-/年.]\s*\d{1,2}|\d{1,2}:\d{2}|[:：]\s*$|发表|發表|来源|來源|作者")
