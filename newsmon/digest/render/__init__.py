"""Digest formats: plain text, Markdown, HTML (inline CSS), JSON and Atom (one feed per
topic). Each is a pure function of a :class:`newsmon.digest.Digest`."""

from __future__ import annotations

import json

from newsmon.digest import Digest
from newsmon.digest.render.atom import render_atom, render_atom_feeds
from newsmon.digest.render.data import digest_as_json
from newsmon.digest.render.html import render_html
from newsmon.digest.render.markdown import render_markdown
from newsmon.digest.render.text import render_text

FORMATS = ("text", "markdown", "html", "json", "atom")

__all__ = [
    "FORMATS",
    "digest_as_json",
    "render",
    "render_atom",
    "render_atom_feeds",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
]


def render_json(digest: Digest) -> str:
    return json.dumps(digest_as_json(digest), ensure_ascii=False, indent=2) + "\n"


def render(digest: Digest, fmt: str) -> str:
    """``digest`` as one document in ``fmt``; Atom gives the topics' feeds one after
    another (use :func:`render_atom_feeds` for one document per topic)."""
    if fmt == "text":
        return render_text(digest)
    if fmt == "markdown":
        return render_markdown(digest)
    if fmt == "html":
        return render_html(digest)
    if fmt == "json":
        return render_json(digest)
    if fmt == "atom":
        return "\n".join(render_atom_feeds(digest).values())
    raise ValueError(f"unknown digest format {fmt!r} (expected {', '.join(FORMATS)})")
