"""半岛网 (bandao.cn), Simplified script, UTF-8, a modern HTML5 template.

Served under ``/bandao/``. It has all three kinds of start page: a list paginated ten
to a page (``news/index.html``, ``news/index_2.html`` — page 2 appears on day two), an
RSS feed whose links carry ``utm_`` tracking parameters, and a sitemap index pointing
at a Google News sitemap and at a sitemap of channel pages (which are not articles).
Articles carry Open Graph, ``article:published_time`` and JSON-LD metadata; one
article's ``rel=canonical`` itself carries tracking parameters. The "hot" sidebar
links articles with ``?spm=`` parameters.
"""

from __future__ import annotations

import json
from typing import Any

from newsmon.samplesites import feeds
from newsmon.samplesites.catalog import SampleArticle
from newsmon.samplesites.pages import (
    RenderContext,
    Resource,
    SitePages,
    SiteSpec,
    blocks_html,
    esc,
    fill,
    joined,
    paragraphs_html,
    tracking_script,
    w3c,
)

SPEC = SiteSpec(
    name="bandao",
    display_name="半岛网",
    timezone="Asia/Shanghai",
    charset="utf-8",
    list_path="/bandao/news/index.html",
    feeds=("/bandao/rss/news.xml",),
    sitemaps=("/bandao/sitemap.xml",),
    max_list_pages=5,
    robots_disallow=("/bandao/user/",),
)

PAGE_SIZE = 10
CHANNELS = {"guonei": "国内", "guoji": "国际", "gangao": "港澳", "caijing": "财经",
            "keji": "科技", "wenhua": "文化", "pinglun": "评论"}
CANONICAL_TRACKING = "?utm_source=wechat&utm_medium=social&from=timeline"
FEED_TRACKING = "?utm_source=rss&utm_medium=feed&utm_campaign=news"


def list_page_path(number: int) -> str:
    return "/bandao/news/index.html" if number == 1 else f"/bandao/news/index_{number}.html"


def published_text(a: SampleArticle) -> str:
    when = a.published
    return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"


def canonical_url(ctx: RenderContext, a: SampleArticle) -> str:
    return ctx.url(a.path) + (CANONICAL_TRACKING if a.canonical_tracking else "")


class _Site(SitePages):
    spec, page_size, channels = SPEC, PAGE_SIZE, CHANNELS
    home_paths = ("/bandao/", "/bandao/index.html")
    static_pages = (
        ("/bandao/about.html", "关于半岛", "半岛网是青岛市重点新闻网站，由半岛都市报主办。"),
        ("/bandao/user/center.html", "个人中心", "请先登录。"),
    )
    list_page_path = staticmethod(list_page_path)
    channel_path = "/bandao/{}/index.html"

    def extras(self) -> dict[str, Resource]:
        return {"/bandao/rss/news.xml": self.xml(self.feed(), "application/rss+xml"),
                "/bandao/sitemap.xml": self.xml(self.sitemap_index(), "application/xml"),
                "/bandao/sitemap_news.xml": self.xml(self.news_sitemap(), "application/xml"),
                "/bandao/sitemap_pages.xml": self.xml(self.pages_sitemap(), "application/xml")}

    def page(self, title: str, main: str, head: str = "", crumb: str = "") -> str:
        nav = joined(f'<a href="/bandao/{key}/index.html">{name}</a>'
                     for key, name in CHANNELS.items())
        hot = joined(f'<li><a href="{a.path}?spm=bandao.hot.{n}">{esc(a.title)}</a></li>'
                     for n, a in enumerate(self.articles[:6], start=1))
        return fill("bandao_page.html", title=esc(title), head=head, nav=nav, crumb=crumb,
                    main=main, hot=hot, tracking=tracking_script("bandao", "page"))

    def home(self) -> str:
        items = joined(f'<li><a href="{a.path}">{esc(a.title)}</a></li>' for a in self.articles[:6])
        return self.page("半岛网_青岛新闻门户",
                         f'<section class="top"><h2>头条</h2><ul>{items}</ul>'
                         f'<p><a href="/bandao/news/index.html">查看更多</a></p></section>')

    def list_page(self, chunk: list[SampleArticle], number: int) -> str:
        cards = joined(self.card(a) for a in chunk)
        pager = []
        if number > 1:
            pager.append(f'<a class="prev" href="{list_page_path(number - 1)}">上一页</a>')
        if number < self.page_count:
            pager.append(f'<a class="next" rel="next" href="{list_page_path(number + 1)}">'
                         "下一页</a>")
        main = (f'<section class="list"><h1>新闻</h1><ul class="cards">\n{cards}\n</ul>'
                f'<nav class="pager">{" ".join(pager)}</nav></section>')
        return self.page("新闻 - 半岛网", main,
                         crumb='<nav class="crumb"><a href="/bandao/">半岛网</a> / 新闻</nav>')

    def card(self, a: SampleArticle) -> str:
        url = self.ctx.url(a.path)
        thumb = f"/bandao/static/img/t_{a.slug}.jpg"
        return (f'<li class="card"><a class="thumb" href="{url}"><img src="{thumb}" alt=""></a>'
                f'<h3><a href="{url}">{esc(a.title)}</a></h3>'
                f'<p class="desc">{esc(a.summary(70))}</p>'
                f'<p class="meta"><span>{esc(a.source)}</span> '
                f'<time datetime="{w3c(a.published)}">{a.published:%m-%d %H:%M}</time> '
                f'<a class="tag" href="/bandao/{a.channel}/index.html">{CHANNELS[a.channel]}</a>'
                "</p></li>")

    def section(self, name: str, chosen: list[SampleArticle]) -> str:
        items = joined(f'<li><a href="{a.path}">{esc(a.title)}</a></li>' for a in chosen)
        return self.page(f"{name} - 半岛网", f'<section class="list"><h1>{name}</h1>'
                                            f'<ul>{items or "<li>暂无内容</li>"}</ul></section>')

    def static(self, title: str, text: str) -> str:
        return self.page(f"{title} - 半岛网",
                         f"<section><h1>{esc(title)}</h1><p>{esc(text)}</p></section>")

    def article(self, a: SampleArticle) -> str:
        canonical = canonical_url(self.ctx, a)
        ld: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": a.title,
            "datePublished": w3c(a.published), "dateModified": w3c(a.published),
            "mainEntityOfPage": canonical,
            "publisher": {"@type": "Organization", "name": "半岛网"}}
        if a.author:
            ld["author"] = [{"@type": "Person", "name": name} for name in a.author.split()]
        head = joined([
            f'<meta name="description" content="{esc(a.summary(100))}">',
            f'<link rel="canonical" href="{esc(canonical)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:title" content="{esc(a.title)}">',
            f'<meta property="og:url" content="{esc(canonical)}">',
            '<meta property="og:site_name" content="半岛网">',
            f'<meta property="article:published_time" content="{w3c(a.published)}">',
            f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>',
        ])
        meta = [f'<span class="time">{published_text(a)}</span>',
                f'<span class="source">来源：{esc(a.source)}</span>']
        if a.author:
            meta.append(f'<span class="author">作者：{esc(a.author)}</span>')
        others = [o for o in self.articles if o.slug != a.slug][:5]
        main = fill("bandao_article.html", title=esc(a.title), meta="".join(meta),
                    lead=paragraphs_html(a.lead, "lead"), body=_body(a),
                    tail=paragraphs_html(a.tail),
                    editor=esc(a.editor or "半岛网"),
                    related=joined(f'<li><a href="{o.path}">{esc(o.title)}</a></li>'
                                   for o in others))
        crumb = (f'<nav class="crumb"><a href="/bandao/">半岛网</a> / '
                 f'<a href="/bandao/{a.channel}/index.html">{CHANNELS[a.channel]}</a> / 正文</nav>')
        return self.page(f"{a.title} - 半岛网", main, head=head, crumb=crumb)

    def feed(self) -> str:
        items = [feeds.FeedItem(
            title=a.title, link=self.ctx.url(a.path) + FEED_TRACKING, description=a.summary(100),
            published=a.published, author=a.source, category=CHANNELS[a.channel],
            guid=f"bandao-{a.slug}", guid_is_permalink=False) for a in self.articles]
        return feeds.rss("半岛网 新闻", self.ctx.url("/bandao/"), "半岛网最新新闻", items, "utf-8",
                         self.modified)

    def sitemap_index(self) -> str:
        return feeds.sitemap_index([
            feeds.SitemapEntry(self.ctx.url("/bandao/sitemap_news.xml"), self.modified),
            feeds.SitemapEntry(self.ctx.url("/bandao/sitemap_pages.xml"), self.modified),
        ])

    def news_sitemap(self) -> str:
        return feeds.news_urlset(feeds.NewsEntry(
            loc=self.ctx.url(a.path), publication="半岛网", language="zh-cn",
            published=a.published, title=a.title, keywords=a.keywords) for a in self.articles)

    def pages_sitemap(self) -> str:
        paths = ["/bandao/", "/bandao/news/index.html",
                 *(f"/bandao/{key}/index.html" for key in CHANNELS), "/bandao/about.html"]
        return feeds.urlset(feeds.SitemapEntry(self.ctx.url(p), self.modified, "daily")
                           for p in paths)


def _body(a: SampleArticle) -> str:
    return joined(blocks_html(a, {
        "h": "<h3>{text}</h3>", "deck": "<h3>{text}</h3>",
        "cap": '<figure><img src="/bandao/static/img/{slug}_{number}.jpg" alt="">'
               "<figcaption>{text}</figcaption></figure>",
        "p": "<p>{text}</p>"}))


render = _Site.render
