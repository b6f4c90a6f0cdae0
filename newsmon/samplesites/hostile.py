"""The "hostile" sample site: a news site that tries to reach past its own pages.

A crawler follows the URLs a site hands it and stores the text it serves, so a
hostile site attacks through both. :class:`HostileSite` runs three servers on
127.0.0.1, each on its own port 0:

- the **hostile site** itself (``/hostile/``), whose lists, feeds, sitemaps and
  redirects point everywhere but at itself, and whose articles carry text meant to
  break the archive and the terminal;
- a **canary**: "another host" (another port on 127.0.0.1, also reachable as
  ``localhost``) that answers anything and counts every connection and request; a
  crawler that obeys its source's origins never touches it;
- an **FTP-like listener** (plain TCP) that records every connection, for the
  ``ftp://`` URLs the site hands out.

What the site serves (``H`` the site, ``C`` the canary on 127.0.0.1, ``Cl`` the canary
as ``localhost``, ``F`` the FTP listener):

==============================  ======================================================
``index.html``                  links to the articles, to ``C`` (also with userinfo:
                                ``http://H@C/``), ``Cl`` and ``http://2130706433:port``;
                                ``rel=next`` to ``C``; a 400-character ETag
``list-file.html`` …            one list page per non-HTTP ``rel=next``: ``file:///etc
``list-data.html``              /passwd``, ``file:///dev/zero``, ``ftp://F/x``, ``data:``
``list-etag.html``              no links, and a 400-character ETag
``feed.xml`` / ``atom.xml`` /   RSS, Atom and JSON Feed items to ``C``, ``Cl`` (also
``feed.json``                   ``LOCALHOST``, ``127.0.0.1.``), ``file:``, ``ftp:``, ``data:``
``sitemap.xml``                 a urlset with entries to ``C``, ``Cl``, ``file:``
``sitemap-index.xml``           children ``C``, ``Cl``, ``file:`` (twice), ``ftp:``, ``data:``
``go/*.html``                   302 to ``C``, ``Cl``, ``//C`` (protocol-relative),
                                ``ftp://F/``, ``file:///etc/passwd``
``a/ok.html``                   an ordinary article (the crawl must still store it)
``a/nul.html``                  NUL in JSON-LD headline/author/publisher/keywords/body,
                                and a raw NUL byte in a paragraph
``a/surrogate.html``            lone surrogates (``\\ud800``, ``\\udfff``) in JSON-LD
``a/controls.html``             ESC, BEL, C1 controls and bidi overrides in JSON-LD;
                                ``&#1;``, ``&#xFFFF;``, ``&#27;``, ``&#x202E;`` in the page
``a/terminal.html``             raw terminal escapes in title and body (clear screen,
                                OSC 0 window title, OSC 52 clipboard, OSC 8 link); a
                                Content-Type header full of control characters
``a/charset.html``              a 64-character charset label in Content-Type
``a/long.html``                 a 100,000-character title, a 250-character publisher
                                and author
``a/hijack-*.html``             ``rel=canonical``/``og:url`` naming another source's
                                article (``victims``: same registrable domain, another
                                port, or ``localhost``)
``/robots.txt``                 bytes no robots.txt parser understands (NUL, invalid
                                UTF-8, escapes) and a ``Sitemap:`` line to ``C``
==============================  ======================================================

Every hostile article carries :data:`MARKER` in its body, so a test can search for them.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from newsmon.samplesites import feeds
from newsmon.samplesites.catalog import SampleArticle, articles_for
from newsmon.samplesites.pages import esc, joined, rfc822, w3c

NAME = "hostile"
PREFIX = "/hostile/"
# Searchable in every hostile article's body ("hostile test").
MARKER = "敌意测试"
# Which links of the list pages are articles: the article pages and the redirecting ones.
ARTICLE_PATTERN = "/hostile/(a|go)/"

ESC = "\x1b"
BEL = "\x07"
# What a terminal would obey if the text reached it unescaped.
TERMINAL_ESCAPES = (
    f"{ESC}[2J{ESC}[H",  # clear the screen, cursor home
    f"{ESC}]0;pwned by a news site{BEL}",  # OSC 0: set the window title
    f"{ESC}]52;c;cm0gLXJmIH4K{BEL}",  # OSC 52: write "rm -rf ~" to the clipboard
    f"{ESC}]8;;http://127.0.0.1:1/phish{ESC}\\点这里{ESC}]8;;{ESC}\\",  # OSC 8 hyperlink
    f"{ESC}[31m红色{ESC}[0m",
)
# JSON-LD strings a careless archive stores as they come (json.loads decodes them).
NUL_TEXT = "空字符\u0000截断"
SURROGATE_TEXT = "孤立代理\ud800项\udfff"
CONTROL_TEXT = "控制\u001b[2J字符\u0007\u0085\u009b31m\u202e反向\u202c\u2066隔离\u2069"
# Character references to code points no archive or terminal wants.
ENTITY_TEXT = "实体&#1;引用&#xFFFF;与&#27;[2J和&#x202E;反向&#x9b;"
# A Content-Type header with controls and line-ish junk (no CR/LF: those would end it).
HOSTILE_CONTENT_TYPE = "text/html;\x0b charset=utf-8;\x0c x=\x1b[2J\x1c\x1d\x1e\x85\x7f;\tjunk"
LONG_CHARSET = "x-" + "hostile" * 9 + "-8"  # 67 characters: no codec has that name
LONG_ETAG = '"' + "e" * 400 + '"'
LONG_TITLE_CHARS = 100_000
LONG_NAME_CHARS = 250

# Bytes of a robots.txt no parser can make sense of.
ROBOTS_GARBAGE = (
    b"\xef\xbb\xbf\x00\xff\xfe\x00U\x00s\x00e\x00r\x00-\x00a\x00g\x00e\x00n\x00t"
    b"\x00\n\x1b[2J\xc3\x28 Disallow \xa0\x00: \xff /hostile/\x00\n"
    b"User-agent\x00 *\r\rDisallow:: :: *\x85\n%s\n" + b"\x80" * 300 + b"\n"
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One canned answer of the hostile site."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class HostileContext:
    """The addresses the hostile pages point at."""

    base_url: str  # http://127.0.0.1:PORT of the hostile site
    canary_port: int
    ftp_port: int
    victims: tuple[str, ...] = ()  # article URLs of another source, for canonical hijacks

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def canary(self) -> str:
        return f"http://127.0.0.1:{self.canary_port}"

    @property
    def canary_localhost(self) -> str:
        return f"http://localhost:{self.canary_port}"

    @property
    def ftp(self) -> str:
        return f"ftp://127.0.0.1:{self.ftp_port}"

    @property
    def netloc(self) -> str:
        return self.base_url.split("://", 1)[1]


# --- the site's pages -------------------------------------------------------------------
# The list pages whose rel=next leads astray; each also links some of the articles.
LURE_LISTS = ("index.html", "list-file.html", "list-zero.html", "list-ftp.html", "list-data.html")
# A list page with no links at all, so the crawl keeps its (over-long) ETag.
QUIET_LIST = "list-etag.html"
LIST_PAGES = (*LURE_LISTS, QUIET_LIST)
FEEDS = ("feed.xml", "atom.xml", "feed.json")
SITEMAPS = ("sitemap.xml", "sitemap-index.xml")
HIJACKS = ("hijack-canonical", "hijack-ogurl", "hijack-localhost")


def redirects(ctx: HostileContext) -> dict[str, str]:
    """``go/<name>.html`` -> where it redirects (302)."""
    return {
        "canary": ctx.canary + "/hostile/a/redirected.html",
        "localhost": ctx.canary_localhost + "/hostile/a/redirected-localhost.html",
        "protocol-relative": f"//127.0.0.1:{ctx.canary_port}/hostile/a/redirected-pr.html",
        "ftp": ctx.ftp + "/x",
        "file": "file:///etc/passwd",
    }


def next_pages(ctx: HostileContext) -> dict[str, str]:
    """Each list page's ``rel=next``: never this site."""
    return {
        "index.html": ctx.canary + "/hostile/index-2.html",
        "list-file.html": "file:///etc/passwd",
        "list-zero.html": "file:///dev/zero",
        "list-ftp.html": ctx.ftp + "/x",
        "list-data.html": f'data:text/html,<a href="{ctx.canary}/hostile/a/data.html">x</a>',
    }


def render(ctx: HostileContext) -> dict[str, Reply]:
    """Every page of the hostile site, keyed by path."""
    bodies = _borrowed_articles()
    out: dict[str, Reply] = {}
    for index, name in enumerate(LIST_PAGES):
        out[PREFIX + name] = _list_page(ctx, name, index)
    out[PREFIX + "feed.xml"] = _xml(_rss(ctx), "application/rss+xml")
    out[PREFIX + "atom.xml"] = _xml(_atom(ctx), "application/atom+xml")
    out[PREFIX + "feed.json"] = Reply(
        200, (("Content-Type", "application/feed+json"),), _json_feed(ctx).encode("utf-8")
    )
    out[PREFIX + "sitemap.xml"] = _xml(_sitemap(ctx), "application/xml")
    out[PREFIX + "sitemap-index.xml"] = _xml(_sitemap_index(ctx), "application/xml")
    for name, target in redirects(ctx).items():
        out[f"{PREFIX}go/{name}.html"] = Reply(
            302,
            (("Location", target), ("Content-Type", "text/html; charset=utf-8")),
            f'<a href="{esc(target)}">moved</a>'.encode(),
        )
    for (name, build), article in zip(ARTICLES.items(), bodies, strict=False):
        out[f"{PREFIX}a/{name}.html"] = build(ctx, article)
    for name, victim, article in zip(HIJACKS, ctx.victims, bodies[len(ARTICLES) :], strict=False):
        out[f"{PREFIX}a/{name}.html"] = _hijack(ctx, name, victim, article)
    out["/robots.txt"] = Reply(
        200,
        (("Content-Type", "text/plain"),),
        ROBOTS_GARBAGE % f"Sitemap: {ctx.canary}/sitemap.xml".encode(),
    )
    return out


def article_paths(ctx: HostileContext) -> list[str]:
    """The paths of the article pages served (hijacks only with victims to name)."""
    hijacks = [f"{PREFIX}a/{name}.html" for name, _ in zip(HIJACKS, ctx.victims, strict=False)]
    return [f"{PREFIX}a/{name}.html" for name in ARTICLES] + hijacks


def config_toml(ctx: HostileContext) -> str:
    """A newsmon ``[[sources]]`` entry for the hostile site.

    ``allowed_domains`` names 127.0.0.1, as the other sample sources do: the canary's
    host is then "allowed", so only the port tells it apart from the site.
    """

    def strings(paths: Iterable[str]) -> str:
        return "[" + ", ".join(json.dumps(ctx.url(PREFIX + p)) for p in paths) + "]"

    return joined(
        [
            "",
            "[[sources]]",
            f'name = "{NAME}"',
            'timezone = "Asia/Shanghai"',
            f"lists = {strings(LIST_PAGES)}",
            f"feeds = {strings(FEEDS)}",
            f"sitemaps = {strings(SITEMAPS)}",
            'allowed_domains = ["127.0.0.1"]',
            f'article_pattern = "{ARTICLE_PATTERN}"',
            f"max_list_pages = {len(LIST_PAGES)}",
            "",
            "[sources.politeness]",
            "obey_robots = true",
            "download_delay = 0.0",
            "",
        ]
    )


def _borrowed_articles() -> list[SampleArticle]:
    """Real article texts for the hostile pages: the extractor must see an article.

    qingdaonews and wenweipo texts, so none repeats a text of bandao (the victim the
    tests crawl) and no two hostile pages share one."""
    texts = [
        a
        for site in ("qingdaonews", "wenweipo")
        for a in articles_for(site, 1)
        if a.republished_from is None
    ]
    return texts[: len(ARTICLES) + len(HIJACKS)]


def _list_page(ctx: HostileContext, name: str, index: int) -> Reply:
    links = _list_links(ctx) if name == "index.html" else []
    # Each lure list links articles of its own, so every rel=next is reached.
    own = [path for i, path in enumerate(article_paths(ctx)) if i % len(LURE_LISTS) == index]
    if name != QUIET_LIST:
        links += [
            (ctx.url(path), f"敌意测试站的新闻第{i + 1}条，标题足够长")
            for i, path in enumerate(own)
        ]
    items = joined(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for href, text in links)
    nxt = next_pages(ctx).get(name)
    next_link = f'<link rel="next" href="{esc(nxt)}">' if nxt else ""
    html = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>敌意测试站 新闻列表</title>{next_link}</head>\n<body><h1>新闻列表</h1>"
        f'<ul class="news">\n{items}\n</ul></body></html>\n'
    )
    headers = [("Content-Type", "text/html; charset=utf-8")]
    # Two lists send an over-long ETag; the others a plain one, which the crawl must
    # keep although their links are refused (a refused link is no failed article).
    headers.append(("ETag", LONG_ETAG if name in ("index.html", QUIET_LIST) else f'"{name}"'))
    return Reply(200, tuple(headers), html.encode("utf-8"))


def _list_links(ctx: HostileContext) -> list[tuple[str, str]]:
    """The start page's offsite and redirecting links (headline-like texts)."""
    links = [
        (ctx.canary + "/hostile/a/list-canary.html", "另一台主机上的新闻标题足够长"),
        (ctx.canary_localhost + "/hostile/a/list-localhost.html", "本机别名上的新闻标题足够长"),
        (
            f"http://{ctx.netloc}@127.0.0.1:{ctx.canary_port}/hostile/a/userinfo.html",
            "带用户信息的链接新闻标题足够长",
        ),
        (
            f"http://2130706433:{ctx.canary_port}/hostile/a/decimal.html",
            "十进制地址上的新闻标题足够长",
        ),
    ]
    links += [
        (ctx.url(f"{PREFIX}go/{name}.html"), f"跳转到别处的新闻{name}标题足够长")
        for name in redirects(ctx)
    ]
    return links


def _xml(text: str, content_type: str) -> Reply:
    return Reply(200, (("Content-Type", f"{content_type}; charset=utf-8"),), text.encode("utf-8"))


def _feed_targets(ctx: HostileContext, kind: str) -> list[str]:
    """Where a feed's items point: another host, other names for it, other schemes."""
    canary = f"{ctx.canary}/hostile/a/{kind}.html"
    if kind == "rss":
        return [
            canary,
            f"{ctx.canary_localhost}/hostile/a/rss-localhost.html",
            "file:///etc/passwd",
            ctx.ftp + "/rss",
            f"data:text/html,<a href='{canary}'>x</a>",
        ]
    if kind == "atom":
        return [
            canary,
            f"http://LOCALHOST:{ctx.canary_port}/hostile/a/atom-upper.html",
            "file:///dev/zero",
        ]
    return [
        canary,
        f"http://127.0.0.1.:{ctx.canary_port}/hostile/a/json-dot.html",
        ctx.ftp + "/json",
        f"data:text/html,<a href='{canary}'>x</a>",
    ]


def _rss(ctx: HostileContext) -> str:
    when = rfc822(_borrowed_articles()[0].published)
    items = joined(
        f"<item><title>订阅源里的新闻第{i}条</title><link>{esc(url)}</link>"
        f"<pubDate>{when}</pubDate></item>"
        for i, url in enumerate(_feed_targets(ctx, "rss"))
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>敌意测试站</title><link>{esc(ctx.url(PREFIX))}</link>\n{items}\n"
        "</channel></rss>\n"
    )


def _atom(ctx: HostileContext) -> str:
    when = w3c(_borrowed_articles()[0].published)
    entries = joined(
        f'<entry><title>原子源里的新闻第{i}条</title><link href="{esc(url)}"/>'
        f"<id>urn:hostile:{i}</id><updated>{when}</updated></entry>"
        for i, url in enumerate(_feed_targets(ctx, "atom"))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>敌意测试站</title>'
        f"<id>urn:hostile</id><updated>{when}</updated>\n{entries}\n</feed>\n"
    )


def _json_feed(ctx: HostileContext) -> str:
    items = [
        {"id": str(i), "url": url, "title": f"JSON源里的新闻第{i}条"}
        for i, url in enumerate(_feed_targets(ctx, "json"))
    ]
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "敌意测试站", "items": items},
        ensure_ascii=False,
    )


def _sitemap(ctx: HostileContext) -> str:
    targets = [
        f"{ctx.canary}/hostile/a/sitemap.html",
        f"{ctx.canary_localhost}/hostile/a/sitemap-localhost.html",
        "file:///etc/passwd",
    ]
    return feeds.urlset(feeds.SitemapEntry(url, None) for url in targets)


def sitemap_children(ctx: HostileContext) -> list[str]:
    return [
        f"{ctx.canary}/sitemap.xml",
        f"{ctx.canary_localhost}/sitemap.xml",
        "file:///etc/passwd",
        "file:///dev/zero",
        ctx.ftp + "/sitemap.xml",
        "data:text/xml,<urlset><url><loc>" + ctx.canary + "/x</loc></url></urlset>",
    ]


def _sitemap_index(ctx: HostileContext) -> str:
    return feeds.sitemap_index(feeds.SitemapEntry(url, None) for url in sitemap_children(ctx))


# --- the article pages ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Page:
    """What an article page is made of; every string goes in as given."""

    title: str  # <title>
    heading: str | None  # visible <h1>, raw HTML (None: no heading)
    paragraphs: Sequence[str]  # raw HTML paragraphs
    ld: dict[str, Any] | None = None
    head_extra: str = ""
    content_type: str = "text/html; charset=utf-8"
    extra_bytes: bytes = b""  # appended inside the body, not decoded first


def _article_reply(page: _Page) -> Reply:
    ld = ""
    if page.ld is not None:
        # ensure_ascii: NUL and lone surrogates travel as \u escapes, as a CMS sends them
        text = json.dumps(page.ld, ensure_ascii=True).replace("</", "<\\/")
        ld = f'<script type="application/ld+json">{text}</script>'
    heading = f"<h1>{page.heading}</h1>\n" if page.heading is not None else ""
    body = joined(f"<p>{p}</p>" for p in page.paragraphs)
    html = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{page.title}</title>'
        f'{page.head_extra}{ld}</head>\n<body>\n<div class="article">\n{heading}'
        f'<div class="content">\n{body}\n'
    )
    raw = html.encode("utf-8", errors="surrogatepass") + page.extra_bytes
    raw += b"\n</div></div>\n</body></html>\n"
    return Reply(200, (("Content-Type", page.content_type),), raw)


def _text(article: SampleArticle) -> list[str]:
    """The borrowed article's paragraphs, escaped, with the marker in the first."""
    paragraphs = [esc(p) for p in article.paragraphs] or [esc(article.body_text)]
    return [f"{MARKER}：{paragraphs[0]}", *paragraphs[1:]]


def _ld(
    article: SampleArticle, headline: str, name: str, body: str, keywords: list[str]
) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": headline,
        "datePublished": w3c(article.published),
        "author": {"@type": "Person", "name": name},
        "publisher": {"@type": "Organization", "name": name},
        "keywords": keywords,
        "articleBody": body,
    }


def _ok(ctx: HostileContext, a: SampleArticle) -> Reply:
    return _article_reply(
        _Page(
            esc(a.title),
            esc(a.title),
            _text(a),
            _ld(a, a.title, "敌意测试站", a.body_text, ["测试"]),
        )
    )


def _nul(ctx: HostileContext, a: SampleArticle) -> Reply:
    # No heading: the title comes from the JSON-LD headline.
    headline = f"{NUL_TEXT}{a.title}"
    ld = _ld(a, headline, f"记者{NUL_TEXT}", f"{NUL_TEXT}{a.body_text}", [NUL_TEXT, "正常"])
    return _article_reply(
        _Page(
            esc(headline.replace("\0", "")),
            None,
            _text(a),
            ld,
            extra_bytes="<p>原始空字节\x00在这里</p>".encode(),
        )
    )


def _surrogate(ctx: HostileContext, a: SampleArticle) -> Reply:
    headline = f"{SURROGATE_TEXT}{a.title}"
    ld = _ld(
        a, headline, f"记者{SURROGATE_TEXT}", f"{SURROGATE_TEXT}{a.body_text}", [SURROGATE_TEXT]
    )
    return _article_reply(_Page("敌意测试站", None, _text(a), ld))


def _controls(ctx: HostileContext, a: SampleArticle) -> Reply:
    headline = f"{CONTROL_TEXT}{a.title}"
    ld = _ld(
        a,
        headline,
        f"记者{CONTROL_TEXT}",
        f"{CONTROL_TEXT}{a.body_text}",
        [CONTROL_TEXT, "\u202e反向关键词"],
    )
    paragraphs = [f"{ENTITY_TEXT}{p}" for p in _text(a)]
    return _article_reply(
        _Page(f"{ENTITY_TEXT}{esc(a.title)}", f"{ENTITY_TEXT}{esc(a.title)}", paragraphs, ld)
    )


def _terminal(ctx: HostileContext, a: SampleArticle) -> Reply:
    escapes = "".join(TERMINAL_ESCAPES)
    title = f"{escapes}{esc(a.title)}"
    paragraphs = [f"{escapes}{p}" for p in _text(a)]
    ld = _ld(a, f"{escapes}{a.title}", f"记者{escapes}", a.body_text, [escapes])
    return _article_reply(_Page(title, title, paragraphs, ld, content_type=HOSTILE_CONTENT_TYPE))


def _charset(ctx: HostileContext, a: SampleArticle) -> Reply:
    return _article_reply(
        _Page(
            esc(a.title), esc(a.title), _text(a), content_type=f"text/html; charset={LONG_CHARSET}"
        )
    )


def _long(ctx: HostileContext, a: SampleArticle) -> Reply:
    title = ("超长标题" * (LONG_TITLE_CHARS // 4))[:LONG_TITLE_CHARS]
    name = ("超长的出版者名称" * LONG_NAME_CHARS)[:LONG_NAME_CHARS]
    ld = _ld(a, title, name, a.body_text, [name])
    head = f'<meta property="og:site_name" content="{name}"><meta name="author" content="{name}">'
    # The 100,000-character title is the only one: no heading to prefer over it.
    return _article_reply(_Page(title, None, _text(a), ld, head_extra=head))


def _hijack(ctx: HostileContext, name: str, victim: str, a: SampleArticle) -> Reply:
    if name == "hijack-ogurl":
        head = f'<meta property="og:url" content="{esc(victim)}">'
    elif name == "hijack-localhost":
        split = urlsplit(victim)
        claimed = split._replace(netloc=f"localhost:{split.port}").geturl()
        head = f'<link rel="canonical" href="{esc(claimed)}">'
    else:
        head = f'<link rel="canonical" href="{esc(victim)}">'
    title = f"冒名顶替：{esc(a.title)}"
    return _article_reply(_Page(title, title, _text(a), head_extra=head))


# The article pages (a/<name>.html) and what builds each, in the order they take texts.
ARTICLES = {"ok": _ok, "nul": _nul, "surrogate": _surrogate, "controls": _controls,
            "terminal": _terminal, "charset": _charset, "long": _long}


# --- the servers --------------------------------------------------------------------------
@dataclass
class Hits:
    """What a listener saw: connections, and requests as ``METHOD path`` (thread-safe)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def connection(self, peer: str) -> None:
        with self.lock:
            self.connections.append(peer)

    def request(self, line: str) -> None:
        with self.lock:
            self.requests.append(line)

    def counts(self) -> tuple[int, int]:
        """``(connections, requests)`` so far."""
        with self.lock:
            return len(self.connections), len(self.requests)

    def clear(self) -> None:
        with self.lock:
            self.connections.clear()
            self.requests.clear()


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler], hits: Hits) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.hits = hits
        self.replies: dict[str, Reply] = {}

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.hits.connection(f"{client_address[0]}:{client_address[1]}")
        return True


class _QuietHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: :class:`Hits` records what tests need."""

    def _record(self) -> None:
        self.server.hits.request(f"{self.command} {self.path}")


class _SiteHandler(_QuietHandler):
    def do_GET(self) -> None:
        self._record()
        reply = self.server.replies.get(urlsplit(self.path).path)
        if reply is None:
            reply = Reply(404, (("Content-Type", "text/plain"),), b"not found")
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


class _CanaryHandler(_QuietHandler):
    """Answers every method with 200 and a page that would lead further astray."""

    def _answer(self) -> None:
        self._record()
        body = b'<html><body><a href="/hostile/a/deeper.html">canary</a></body></html>'
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_OPTIONS = _answer


class _FtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, hits: Hits) -> None:
        super().__init__(("127.0.0.1", 0), _FtpHandler)
        self.hits = hits


class _FtpHandler(socketserver.StreamRequestHandler):
    """Greets like an FTP server and records the first line the client sends."""

    server: _FtpServer
    timeout = 2

    def handle(self) -> None:
        self.server.hits.connection(f"{self.client_address[0]}:{self.client_address[1]}")
        try:
            self.wfile.write(b"220 newsmon canary FTP\r\n")
            line = self.rfile.readline(200)
        except OSError:
            return
        if line:
            self.server.hits.request(line.decode("latin-1").strip())


class HostileSite:
    """The hostile site, its canary and its FTP listener, each on a port of 127.0.0.1.

    ``victims`` are article URLs of another source (e.g. sample bandao pages) that
    the hijacking pages claim as their canonical URL. A context manager:

    >>> with HostileSite(victims=urls) as hostile:          # doctest: +SKIP
    ...     toml = hostile.config_toml()
    ...     hostile.canary_hits.counts(), hostile.ftp_hits.counts()
    """

    def __init__(self, victims: Sequence[str] = ()) -> None:
        self.victims = tuple(victims)
        self.requests = Hits()  # the hostile site's own
        self.canary_hits = Hits()
        self.ftp_hits = Hits()
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self._ctx: HostileContext | None = None

    def start(self) -> HostileSite:
        if self._servers:
            raise RuntimeError(f"the hostile site is already running at {self.base_url}")
        site = _HttpServer(_SiteHandler, self.requests)
        canary = _HttpServer(_CanaryHandler, self.canary_hits)
        ftp = _FtpServer(self.ftp_hits)
        self._servers = [site, canary, ftp]
        self._ctx = HostileContext(
            f"http://127.0.0.1:{_port(site)}", _port(canary), _port(ftp), self.victims
        )
        site.replies = render(self._ctx)
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"hostile:{_port(server)}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads, self._ctx = [], [], None

    def __enter__(self) -> HostileSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def context(self) -> HostileContext:
        if self._ctx is None:
            raise RuntimeError(
                "the hostile site is not running: call start() or use "
                "`with HostileSite() as hostile:`"
            )
        return self._ctx

    @property
    def base_url(self) -> str:
        return self.context.base_url

    @property
    def canary_url(self) -> str:
        return self.context.canary

    @property
    def ftp_port(self) -> int:
        return self.context.ftp_port

    def url(self, path: str) -> str:
        return self.context.url(path)

    def article_urls(self) -> list[str]:
        return [self.url(path) for path in article_paths(self.context)]

    def config_toml(self) -> str:
        """The ``[[sources]]`` entry for the hostile site (append it to a config)."""
        return config_toml(self.context)


def _port(server: socketserver.BaseServer) -> int:
    address = server.server_address
    assert isinstance(address, tuple)
    return int(address[1])
