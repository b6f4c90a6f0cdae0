"""Parse decoded HTML into an lxml tree and strip what is never article text.

Broken markup is the rule on regional sites, so parsing never fails: an empty or
unparsable document becomes an empty ``<html><body/></html>``. Cleaning removes
scripts, styles, forms controls, hidden elements and per-source ``noise``
selectors. Selectors are ``css:…``, ``xpath:…`` or bare CSS.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
from cssselect import GenericTranslator, SelectorError
from lxml.html import HtmlElement

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False,
                               default_doctype=False)

# Elements whose text is never part of an article.
DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "select", "option", "textarea", "button", "input", "map", "audio", "video", "source",
    "link", "meta", "head", "title", "base",
})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TRANSLATOR = GenericTranslator()


class SelectorSyntaxError(ValueError):
    """A per-source selector that is neither valid CSS nor valid XPath."""


def parse_html(text: str) -> HtmlElement:
    """An lxml document for ``text``; never raises."""
    text = _BAD_CHARS.sub("", _XML_DECL.sub("", text, count=1))
    if text.strip():
        try:
            root = lxml.html.document_fromstring(text, parser=_PARSER)
            if isinstance(root, HtmlElement):
                return root
        except (lxml.etree.ParserError, ValueError, lxml.etree.XMLSyntaxError):
            pass
    return lxml.html.document_fromstring("<html><body></body></html>")


def select(root: HtmlElement, selector: str) -> list[HtmlElement]:
    """Elements matching a ``css:``/``xpath:``/bare-CSS selector, in document order."""
    kind, expr = split_selector(selector)
    try:
        xpath = expr if kind == "xpath" else _TRANSLATOR.css_to_xpath(expr)
        found = root.xpath(xpath)
    except (SelectorError, lxml.etree.XPathError) as exc:
        raise SelectorSyntaxError(f"bad {kind} selector {expr!r}: {exc}") from None
    if not isinstance(found, list):
        return []
    return [el for el in found if isinstance(el, HtmlElement)]


def select_text(root: HtmlElement, selector: str) -> str | None:
    """Text of a selector: joined element text, or the string an XPath returns."""
    kind, expr = split_selector(selector)
    if kind == "xpath":
        try:
            found = root.xpath(expr)
        except lxml.etree.XPathError as exc:
            raise SelectorSyntaxError(f"bad xpath selector {expr!r}: {exc}") from None
        if isinstance(found, str):
            return found.strip() or None
        if isinstance(found, list):
            pieces = [x if isinstance(x, str) else text_of(x) for x in found
                      if isinstance(x, str | HtmlElement)]
            joined = " ".join(p.strip() for p in pieces if p and p.strip())
            return joined or None
        return None
    elements = select(root, selector)
    joined = " ".join(text_of(el) for el in elements).strip()
    return joined or None


def split_selector(selector: str) -> tuple[str, str]:
    selector = selector.strip()
    if selector.startswith("xpath:"):
        return "xpath", selector[6:].strip()
    if selector.startswith("css:"):
        return "css", selector[4:].strip()
    return "css", selector


def text_of(el: HtmlElement) -> str:
    """Whitespace-normalised text content of an element."""
    try:
        text = el.text_content()
    except ValueError:
        return ""
    return " ".join(text.split())


def clean_tree(root: HtmlElement, noise: tuple[str, ...] = ()) -> list[str]:
    """Remove non-content elements in place; returns warnings (bad noise selectors)."""
    warnings: list[str] = []
    for selector in noise:
        try:
            for el in select(root, selector):
                drop(el)
        except SelectorSyntaxError as exc:
            warnings.append(f"noise: {exc}")
    doomed = []
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):  # comments / processing instructions
            doomed.append(el)
            continue
        if tag == "script":
            _keep_printed_date(el)
        if tag in DROP_TAGS:
            doomed.append(el)
            continue
        style = el.get("style")
        if (style and _HIDDEN_STYLE.search(style)) or el.get("hidden") is not None \
                or el.get("aria-hidden") == "true":
            doomed.append(el)
    for el in doomed:
        drop(el)
    return warnings


# An inline script that only prints a date: showDate("2020/04/17 01:43:09"),
# document.write('2005-07-31 12:30'). The date is what a reader sees there.
_PRINTED_DATE = re.compile(
    r"^\s*[\w.]+\(\s*([\"'])(\d{2,4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?[\d:：\s]{0,20})\1\s*\)\s*;?\s*$")


def _keep_printed_date(script: HtmlElement) -> None:
    if script.get("src") or not script.text or len(script.text) > 120:
        return
    match = _PRINTED_DATE.match(script.text)
    if match:
        script.tail = f" {match.group(2).strip()} {script.tail or ''}"


def drop(el: lxml.etree._Element) -> None:
    """Remove an element but keep its tail text (which belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
