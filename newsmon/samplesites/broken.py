"""The "broken" site: pages that go wrong the ways real sites do, for crawler tests.

Served under ``/broken/``; its list page ``/broken/index.html`` links every case, so a
crawl of the ``broken`` source meets each one once. The cases:

==========================  ==========================================================
``ok.html``                 a normal article (the crawl must still store it)
``moved.html``              301 to ``ok.html`` (the same article under a second URL)
``gone.html``               404
``error.html``              500
``busy.html``               503 with ``Retry-After: 1`` on every odd-numbered request,
                            the article on every even-numbered one
``slow.html?delay=S``       sends nothing for S seconds (default 5, at most 120)
``loop-a.html``             302 to ``loop-b.html``, which 302s back: a redirect loop
``wrong-charset.html``      GBK bytes declared as UTF-8 (header and ``<meta>``)
``huge.html?mb=N``          an N MB HTML page (default 20) generated while sending;
                            ``&nolength=1`` omits Content-Length
``report.pdf``              a binary (PDF) linked like an article
``private/secret.html``     disallowed by robots.txt
``feed.xml``                a malformed RSS feed (unescaped ``&``, unclosed tags)
==========================  ==========================================================

The static bodies are rendered here; the server module implements the statuses,
delays and streaming.
"""

from __future__ import annotations

from collections.abc import Iterator

from newsmon.samplesites.catalog import SampleArticle, find_article
from newsmon.samplesites.pages import (
    STATIC_MODIFIED,
    RenderContext,
    Resource,
    SiteSpec,
    esc,
    html_resource,
    joined,
    paragraphs_html,
)

SPEC = SiteSpec(
    name="broken",
    display_name="故障测试站",
    timezone="Asia/Shanghai",
    charset="utf-8",
    list_path="/broken/index.html",
    feeds=("/broken/feed.xml",),
    max_list_pages=1,
    robots_disallow=("/broken/private/",),
)

SLOW_DEFAULT_SECONDS = 5.0
SLOW_MAX_SECONDS = 120.0
HUGE_DEFAULT_MB = 20
HUGE_MAX_MB = 200
# The delay the list page asks for: longer than the timeout the generated config sets.
LISTED_SLOW_SECONDS = 4
CONFIG_TIMEOUT_SECONDS = 2.0

LINKS = (
    ("ok.html", "马克龙星期一在莫斯科与普京会面"),
    ("moved.html", "马克龙会面普京（旧地址）"),
    ("gone.html", "已删除的新闻"),
    ("error.html", "服务器出错的新闻"),
    ("busy.html", "繁忙时段的新闻"),
    (f"slow.html?delay={LISTED_SLOW_SECONDS}", "加载很慢的新闻"),
    ("loop-a.html", "循环跳转的新闻"),
    ("wrong-charset.html", "谁来为无序拆房“埋单”？"),
    ("huge.html", "超大页面"),
    ("huge.html?nolength=1", "超大页面（不报长度）"),
    ("report.pdf", "年度报告（PDF）"),
    ("private/secret.html", "内部资料"),
)

# A small but well-formed PDF: a crawler must notice it is not HTML and move on.
PDF_BYTES = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000015 00000 n \n0000000064 00000 n \n"
    b"0000000121 00000 n \ntrailer << /Size 4 /Root 1 0 R >>\nstartxref\n190\n%%EOF\n"
)


def render(ctx: RenderContext) -> dict[str, Resource]:
    ok = find_article("broken", "ok")
    wrong = find_article("broken", "wrong-charset")
    return {
        "/broken/index.html": html_resource(_index(), "utf-8", "utf-8", STATIC_MODIFIED),
        "/broken/ok.html": html_resource(_article_page(ok, "utf-8"), "utf-8", "utf-8",
                                         ok.published),
        "/broken/busy.html": html_resource(_article_page(ok, "utf-8"), "utf-8", "utf-8",
                                           ok.published),
        # The lie: GBK bytes, and both the header and the <meta> say UTF-8.
        "/broken/wrong-charset.html": Resource(
            _article_page(wrong, "utf-8").encode("gbk", errors="xmlcharrefreplace"),
            "text/html; charset=utf-8", wrong.published),
        "/broken/private/secret.html": html_resource(
            _page("内部资料", "<p>本页面仅供内部使用，robots.txt 不允许抓取。</p>", "utf-8"),
            "utf-8", "utf-8", STATIC_MODIFIED),
        "/broken/report.pdf": Resource(PDF_BYTES, "application/pdf", STATIC_MODIFIED),
        "/broken/feed.xml": Resource(_malformed_feed(ctx).encode("utf-8"),
                                     "application/rss+xml; charset=utf-8", STATIC_MODIFIED),
    }


def error_page(status: int, reason: str, path: str) -> bytes:
    """The body of a 404/500/503 answer; it names the path, as a helpful server does."""
    return _page(f"{status} {reason}", f"<h1>{status} {esc(reason)}</h1><p>{esc(path)}</p>",
                 "utf-8").encode("utf-8")


def huge_chunks(total_bytes: int, chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    """``total_bytes`` of HTML, produced piece by piece so nothing big is held in memory."""
    head = _page("超大页面", "", "utf-8").split("</body>")[0].encode("utf-8")
    filler_text = "<p>" + "超大页面的填充内容，用来测试响应大小上限。" * 40 + "</p>\n"
    filler = filler_text.encode("utf-8")
    block = filler * max(1, chunk_bytes // len(filler))
    sent = 0
    first = head[:total_bytes]
    yield first
    sent += len(first)
    while sent < total_bytes:
        piece = block[: total_bytes - sent]
        yield piece
        sent += len(piece)


def _index() -> str:
    items = joined(f'<li><a href="{href}">{esc(title)}</a></li>' for href, title in LINKS)
    content = f'<h1>新闻列表</h1><ul class="news">\n{items}\n</ul>'
    return _page("故障测试站 新闻列表", content, "utf-8")


def _article_page(a: SampleArticle, charset: str) -> str:
    body = paragraphs_html(a.lead) + "\n" + paragraphs_html(b.text for b in a.body)
    content = (f"<h1>{esc(a.title)}</h1>\n<p class=\"meta\">{a.published:%Y-%m-%d %H:%M}"
               f"　来源：{esc(a.source)}</p>\n<div class=\"content\">\n{body}\n</div>")
    return _page(a.title, content, charset)


def _page(title: str, content: str, charset: str) -> str:
    return f"""<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>{esc(title)}</title></head>
<body>
<p class="nav"><a href="/broken/index.html">首页</a></p>
{content}
</body></html>
"""


def _malformed_feed(ctx: RenderContext) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>故障测试站 & 新闻</title>
<link>{ctx.url("/broken/index.html")}</link>
<item><title>马克龙星期一在莫斯科与普京会面</title><link>{ctx.url("/broken/ok.html")}</link>
<pubDate>Mon, 13 Jan 2020 13:48:00 +0800</pubDate></item>
<item><title>已删除的新闻</title><link>{ctx.url("/broken/gone.html")}</link><pubDate>yesterday</pubDate>
<item><title>未闭合的条目 <b>粗体
"""
