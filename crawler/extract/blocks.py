"""Linearise a cleaned tree into text blocks: the paragraphs a reader would see.

A block is the text between two block-level boundaries (``<p>``, ``<div>``,
``<td>``, ``<br>``, …). Each remembers the element that owns it, how much of its
text sits inside links, and its index in reading order, which is all the body and
metadata heuristics need. One pass with ``iterwalk``: no recursion (broken pages
nest thousands deep) and no per-node regular expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.etree
from lxml.html import HtmlElement

BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul", "caption", "option", "frame", "frameset", "marquee",
})
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# Markup that leaked into the text as literal characters (escaped by a broken CMS),
# e.g. '<dir id="g1nl9c"></dir><ol id="g1nl9c"></ol>'.
_LEAKED_TAG = re.compile(
    r"</?[a-zA-Z][a-zA-Z0-9]{0,12}(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*"
    r"(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'<>]+))?)*\s*/?>")
_BULLET_ONLY = re.compile(r"^[\s•·●○◆◇■□▪▫►▶\-–—*]*(?:\d{1,3}[.、)])?[\s•·●○◆◇■□▪▫►▶\-–—*]*$")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
PUNCTUATION = frozenset("，。！？；：、“”「」『』,.!?;:（）()《》…—")


@dataclass(slots=True)
class Block:
    """One visible paragraph of the page, in reading order."""

    index: int
    text: str
    owner: HtmlElement
    link_chars: int
    chars: int  # non-space characters
    punct: int
    tag: str
    # What the furniture phrases say of this text (crawler.extract.body), found on first
    # use: every block is asked several times per page (both body searches, the loop
    # over the body), and the phrase regex is the costliest of them.
    furniture: int = -1

    @property
    def link_density(self) -> float:
        return self.link_chars / self.chars if self.chars else 0.0


def linearise(root: HtmlElement) -> list[Block]:
    """The page's visible text as blocks, in document order."""
    builder = _Builder()
    body = root.find("body")
    start = body if body is not None else root
    for event, el in lxml.etree.iterwalk(start, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in BLOCK_TAGS:
                builder.flush()
                builder.owners.append(el)
            if tag == "a":
                builder.link_depth += 1
            if el.text:
                builder.add(el.text)
        else:
            if tag in BLOCK_TAGS:
                builder.flush()
                builder.owners.pop()
            if tag == "a":
                builder.link_depth -= 1
            if el.tail and el is not start:
                builder.add(el.tail)
    builder.flush()
    return builder.blocks


def clean_text(text: str) -> str:
    """Whitespace-normalised text with leaked literal tags and bullets removed."""
    if "<" in text:
        text = _LEAKED_TAG.sub(" ", text)
    text = text.translate(_INVISIBLE)
    text = " ".join(text.split())
    if text and _BULLET_ONLY.match(text):
        return ""
    return text


class _Builder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.owners: list[HtmlElement] = []
        self.link_depth = 0
        self.parts: list[str] = []
        self.link_chars = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        if self.link_depth > 0:
            self.link_chars += len("".join(text.split()))

    def flush(self) -> None:
        if not self.parts:
            return
        raw = "".join(self.parts)
        self.parts = []
        links = self.link_chars
        self.link_chars = 0
        text = clean_text(raw)
        if not text or not self.owners:
            return
        chars = len(text.replace(" ", ""))
        owner = self.owners[-1]
        tag = owner.tag if isinstance(owner.tag, str) else ""
        punct = sum(1 for ch in text if ch in PUNCTUATION)
        self.blocks.append(Block(len(self.blocks), text, owner, min(links, chars), chars, punct,
                                 tag))
